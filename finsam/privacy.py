"""Secret keys, pseudonyms and the encrypted identity vault.

Pseudonym = HMAC-SHA256(purpose key, normalised 12-digit number), where the purpose key is itself
HMAC-SHA256(master key, purpose label): one key file serves several pseudonymisation domains whose
pseudonyms cannot be linked to each other. The vault holds the real number encrypted with Fernet
(AES-128-CBC + HMAC) under a separate key, and only the SUS submission adapter decrypts it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import os
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from cryptography.fernet import Fernet, InvalidToken

from finsam.errors import KeyFileError

PSEUDONYM_KEY_ENV = "FINSAM_PSEUDONYM_KEY_FILE"
VAULT_KEY_ENV = "FINSAM_VAULT_KEY_FILE"
MIN_KEY_BYTES = 32
# A key is refused as guessable below these: fewer distinct symbols than this, or an estimated
# strength (length x log2 of the distinct symbols) under this many bits. A hex key of 32 random
# bytes (README) has 16 symbols and 256+ bits; "aaaa..." or "abcabc..." have neither.
MIN_DISTINCT_SYMBOLS = 10
MIN_ESTIMATED_BITS = 100
# a Fernet key's 32 decoded bytes: random ones have about 30 distinct values
MIN_DISTINCT_VAULT_BYTES = 16
FOLLOW_UP_PURPOSE = "finsam-uppfoljning-v1"
# Tombstones of erased people: a domain of its own, so a tombstone is never a pseudonym.
ERASURE_PURPOSE = "finsam-radering-v1"


def read_key_file(path: str | Path | None, env_var: str) -> bytes:
    """The bytes of a key file; refuses a missing, unreadable, too-short or guessable key, and
    (on POSIX) a file that group or others may read, saying what to do."""
    if path is None or str(path).strip() == "":
        raise KeyFileError(env_var, None, "är inte satt")
    path = Path(path)
    try:
        key = path.read_bytes().strip()
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyFileError(env_var, path, "inte finns") from None
    except OSError as exc:
        raise KeyFileError(env_var, path, f"inte kan läsas ({exc.strerror})") from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(env_var, path, f"kan läsas av grupp eller andra (läge "
                           f"{stat.S_IMODE(mode):04o})",
                           advice=f"Gör den läsbar bara för finsams användare: chmod 600 {path}")
    if len(key) < MIN_KEY_BYTES:
        raise KeyFileError(env_var, path, f"bara har {len(key)} byte, färre än {MIN_KEY_BYTES}")
    weak = weakness(key)
    if weak is not None:
        raise KeyFileError(env_var, path, f"är lätt att gissa: den {weak}")
    return key


def weakness(key: bytes) -> str | None:
    """Why a key is guessable, or None: too few distinct symbols, a repeated pattern, or too
    little estimated strength. A screen against mistakes ("aaaa", "abcabc", a word), not a proof."""
    distinct = len(set(key))
    if distinct < MIN_DISTINCT_SYMBOLS:
        return f"har bara {distinct} olika tecken (minst {MIN_DISTINCT_SYMBOLS})"
    period = _period(key)
    if period is not None:
        return f"upprepar samma {period} tecken"
    bits = len(key) * math.log2(distinct)
    if bits < MIN_ESTIMATED_BITS:
        return f"har för lite slump (uppskattat {bits:.0f} bitar, minst {MIN_ESTIMATED_BITS})"
    return None


def _period(key: bytes) -> int | None:
    """The shortest unit the key repeats (at least twice), if it is one."""
    for unit in range(1, len(key) // 2 + 1):
        if key[unit:] == key[:-unit]:
            return unit
    return None


def read_keys(pseudonym_path: str | Path | None, vault_path: str | Path | None) -> Keys:
    """Both keys, each checked on its own (see :func:`read_key_file`), the vault key as a Fernet
    key with random bytes, and the two different: one key for both purposes would make the vault
    no safer than the pseudonyms."""
    pseudonym_key = read_key_file(pseudonym_path, PSEUDONYM_KEY_ENV)
    vault_key = read_key_file(vault_path, VAULT_KEY_ENV)
    if hmac.compare_digest(pseudonym_key, vault_key):
        raise KeyFileError(VAULT_KEY_ENV, vault_path, f"är samma nyckel som i {PSEUDONYM_KEY_ENV}",
                           advice="Varje syfte har sin egen nyckel: skapa en egen valvnyckel "
                                  "(README beskriver hur)")
    try:
        material = base64.urlsafe_b64decode(vault_key)
    except (binascii.Error, ValueError):
        material = b""
    if len(material) != 32:
        raise KeyFileError(VAULT_KEY_ENV, vault_path,
                           "inte är en Fernet-nyckel (32 byte, url-säker base64)")
    if len(set(material)) < MIN_DISTINCT_VAULT_BYTES or _period(material) is not None:
        raise KeyFileError(VAULT_KEY_ENV, vault_path,
                           "är lätt att gissa: den är inte slumpmässig",
                           advice="Skapa en ny med Fernet.generate_key() (README beskriver hur)")
    return Keys(Pseudonymiser(pseudonym_key), Vault(vault_key))


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
    # the tombstone domain's key when it is not derived from ``master_key``: kept from the first
    # pseudonym key across a key rotation (an erased person's number is gone, so their tombstone
    # cannot be computed again under a new key); see warehouse/key_checks.py
    erasure_key: bytes | None = field(default=None, repr=False)

    def _purpose_key(self) -> bytes:
        return hmac.new(self.master_key, self.purpose.encode(), hashlib.sha256).digest()

    def pseudonyms(self, pnr: pd.Series) -> pd.Series:
        """Pseudonym per row, computed once per distinct number (HMAC has no vectorised form)."""
        return self._hashes(pnr, self._purpose_key())[0]

    def tombstones(self, pnr: pd.Series) -> pd.Series:
        """Per row, the person's tombstone: what an erased person is recognised by when a file
        about them is delivered again (another HMAC domain than the pseudonym)."""
        return self._hashes(pnr, self.erasure_domain_key())[0]

    def pseudonyms_and_tombstones(self, pnr: pd.Series) -> tuple[pd.Series, pd.Series]:
        """:meth:`pseudonyms` and :meth:`tombstones` of the same numbers, the distinct numbers
        found once for both."""
        pseudonyms, tombstones = self._hashes(pnr, self._purpose_key(), self.erasure_domain_key())
        return pseudonyms, tombstones

    def erasure_domain_key(self) -> bytes:
        """The key tombstones are computed with."""
        if self.erasure_key is not None:
            return self.erasure_key
        return hmac.new(self.master_key, ERASURE_PURPOSE.encode(), hashlib.sha256).digest()

    def pseudonym_of(self, number: str) -> str:
        """One person's pseudonym (the same as :meth:`pseudonyms` gives)."""
        return hmac.digest(self._purpose_key(), number.encode(), "sha256").hex()

    @staticmethod
    def _hashes(pnr: pd.Series, *keys: bytes) -> list[pd.Series]:
        """Per key, the HMAC of each row's number (missing stays missing): each distinct number
        hashed once, spread back to the rows by its code."""
        codes, distinct = pd.factorize(pnr)
        out = []
        for key in keys:
            # hmac.digest is the one-shot C path: the same HMAC-SHA256, without an object per
            # value; a missing number's code (-1) takes the NA put last
            hashes = np.array([hmac.digest(key, value.encode(), "sha256").hex()
                               for value in distinct] + [pd.NA], dtype=object)
            out.append(pd.Series(pd.array(hashes.take(codes), dtype="string"), index=pnr.index,
                                 name=pnr.name))
        return out


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

    def with_erasure_key(self, erasure_key: bytes | None) -> Keys:
        return Keys(replace(self.pseudonymiser, erasure_key=erasure_key), self.vault)
