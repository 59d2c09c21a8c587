"""Secret keys, pseudonyms and the encrypted identity vault.

Pseudonym = HMAC-SHA256(purpose key, normalised 12-digit number), where the purpose key is itself
HMAC-SHA256(master key, purpose label): one key file serves several pseudonymisation domains whose
pseudonyms cannot be linked to each other. The vault holds the real number encrypted with Fernet
(AES-128-CBC + HMAC) under a separate key, and only the SUS submission adapter decrypts it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from cryptography.fernet import Fernet, InvalidToken

from finsam.errors import KeyFileError

PSEUDONYM_KEY_ENV = "FINSAM_PSEUDONYM_KEY_FILE"
VAULT_KEY_ENV = "FINSAM_VAULT_KEY_FILE"
MIN_KEY_BYTES = 32
FOLLOW_UP_PURPOSE = "finsam-uppfoljning-v1"
# Tombstones of erased people: a domain of its own, so a tombstone is never a pseudonym.
ERASURE_PURPOSE = "finsam-radering-v1"


def read_key_file(path: str | Path | None, env_var: str) -> bytes:
    """The bytes of a key file; refuses a missing, unreadable or too-short key with what to set."""
    if path is None or str(path).strip() == "":
        raise KeyFileError(env_var, None, "är inte satt")
    path = Path(path)
    try:
        key = path.read_bytes().strip()
    except FileNotFoundError:
        raise KeyFileError(env_var, path, "inte finns") from None
    except OSError as exc:
        raise KeyFileError(env_var, path, f"inte kan läsas ({exc.strerror})") from None
    if len(key) < MIN_KEY_BYTES:
        raise KeyFileError(env_var, path, f"bara har {len(key)} byte, färre än {MIN_KEY_BYTES}")
    return key


def write_new_keys(directory: Path) -> tuple[Path, Path]:
    """Make a fresh pseudonym key and vault key in ``directory`` (mode 0600). Used by `finsam demo`."""
    directory.mkdir(parents=True, exist_ok=True)
    pseudonym_key = directory / "pseudonym.key"
    vault_key = directory / "vault.key"
    for path, content in ((pseudonym_key, os.urandom(48).hex().encode()),
                          (vault_key, Fernet.generate_key())):
        if not path.exists():
            path.write_bytes(content)
            path.chmod(0o600)
    return pseudonym_key, vault_key


@dataclass(frozen=True)
class Pseudonymiser:
    """Keyed hashing of normalised identity numbers for one purpose."""

    master_key: bytes
    purpose: str = FOLLOW_UP_PURPOSE

    def _purpose_key(self) -> bytes:
        return hmac.new(self.master_key, self.purpose.encode(), hashlib.sha256).digest()

    def pseudonyms(self, pnr: pd.Series) -> pd.Series:
        """Pseudonym per row, computed once per distinct number (HMAC has no vectorised form)."""
        return self._hashes(pnr, self._purpose_key())

    def tombstones(self, pnr: pd.Series) -> pd.Series:
        """Per row, the person's tombstone: what an erased person is recognised by when a file
        about them is delivered again (another HMAC domain than the pseudonym)."""
        key = hmac.new(self.master_key, ERASURE_PURPOSE.encode(), hashlib.sha256).digest()
        return self._hashes(pnr, key)

    @staticmethod
    def _hashes(pnr: pd.Series, key: bytes) -> pd.Series:
        distinct = pnr.dropna().unique()
        # hmac.digest is the one-shot C path: the same HMAC-SHA256, without an object per value
        lookup = {value: hmac.digest(key, value.encode(), "sha256").hex() for value in distinct}
        return pnr.map(lookup).astype("string")


@dataclass(frozen=True)
class Vault:
    """Encrypts and decrypts real identity numbers for the identity vault table."""

    key: bytes

    def _fernet(self) -> Fernet:
        try:
            return Fernet(self.key)
        except ValueError:
            raise KeyFileError(VAULT_KEY_ENV, "(vault key)",
                               "inte är en Fernet-nyckel (32 byte, url-säker base64)") from None

    def encrypt(self, pnr: pd.Series) -> pd.Series:
        fernet = self._fernet()
        return pnr.map(lambda value: fernet.encrypt(value.encode()).decode()).astype("string")

    def decrypt(self, tokens: pd.Series) -> pd.Series:
        fernet = self._fernet()

        def _open(token: str) -> str:
            try:
                return fernet.decrypt(token.encode()).decode()
            except InvalidToken:
                raise KeyFileError(VAULT_KEY_ENV, "(vault key)",
                                   "inte öppnar valvet: är det nyckeln valvet skrevs med?"
                                   ) from None

        return tokens.map(_open).astype("string")


@dataclass(frozen=True)
class Keys:
    """The two secrets a run holds: the pseudonym key and the vault key, each in its own role."""

    pseudonymiser: Pseudonymiser
    vault: Vault
