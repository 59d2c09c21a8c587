"""The warehouse knows its keys without holding them: a check value per key role.

A check value is HMAC-SHA256 of a fixed label under the key file's bytes: the same key always
gives the same value, another key another one, and the value reveals nothing of the key (a
guessable key is refused before it gets here, see ``finsam.privacy.weakness``). The first run
stores the values; every later run compares both keys before it writes anything, and a key that
does not match is refused (``KeyMismatch``). A warehouse written before check values existed is
checked against its vault first (a few entries decrypted and pseudonymised again), so a wrong key
is not enshrined by the first run after the upgrade.
"""

from __future__ import annotations

import datetime as dt
import hmac

import pandas as pd
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Connection, Engine, insert, select, update

from finsam.errors import KeyMismatch
from finsam.privacy import PSEUDONYM_KEY_ENV, VAULT_KEY_ENV, Keys
from warehouse import models

PSEUDONYM, VAULT, ERASURE = "pseudonym", "vault", "erasure"
_LABEL = b"finsam-nyckelkontroll-v1|"
_NAMES = {PSEUDONYM: ("pseudonymnyckeln", PSEUDONYM_KEY_ENV), VAULT: ("valvnyckeln", VAULT_KEY_ENV)}
# vault entries decrypted to check the keys of a warehouse without check values
SAMPLE = 5

TABLE = models.KeyCheck.__table__


def check_value(role: str, key: bytes) -> str:
    return hmac.new(key, _LABEL + role.encode(), "sha256").hexdigest()


def stored(connection: Connection) -> dict[str, str]:
    return dict(connection.execute(select(TABLE.c.role, TABLE.c.value)).all())


def verify(engine: Engine, keys: Keys) -> Keys:
    """Refuse keys the warehouse was not written with; store the check values on first use.
    Returns the keys as runs must use them (with the tombstone key kept across rotations)."""
    with engine.begin() as connection:
        return verify_in(connection, keys)


def verify_in(connection: Connection, keys: Keys) -> Keys:
    values = stored(connection)
    given = {PSEUDONYM: check_value(PSEUDONYM, keys.pseudonymiser.master_key),
             VAULT: check_value(VAULT, keys.vault.key)}
    missing = [role for role in (PSEUDONYM, VAULT) if role not in values]
    if missing:
        _check_against_vault(connection, keys, missing)
    for role in (PSEUDONYM, VAULT):
        if role in values and not hmac.compare_digest(values[role], given[role]):
            name, env = _NAMES[role]
            raise KeyMismatch(env, name)
    now = dt.datetime.now(dt.UTC)
    for role in missing:
        connection.execute(insert(TABLE).values(role=role, value=given[role], created_at=now,
                                                changed_at=now))
    return keys.with_erasure_key(erasure_key(values, keys))


def erasure_key(values: dict[str, str], keys: Keys) -> bytes | None:
    """The tombstone domain's key kept by a rotation, decrypted with the (verified) vault key."""
    token = values.get(ERASURE)
    if token is None:
        return None
    try:
        return Fernet(keys.vault.key).decrypt(token.encode())
    except InvalidToken:
        name, env = _NAMES[VAULT]
        raise KeyMismatch(env, name) from None


def _check_against_vault(connection: Connection, keys: Keys, roles: list[str]) -> None:
    """A warehouse without check values (written before they existed): a few vault entries must
    open with the vault key and give their own pseudonyms under the pseudonym key."""
    table = models.IdentityVault.__table__
    sample = connection.execute(select(table.c.pseudonym, table.c.ciphertext)
                                .order_by(table.c.pseudonym).limit(SAMPLE)).all()
    if not sample:
        return
    fernet = Fernet(keys.vault.key)
    for pseudonym, ciphertext in sample:
        try:
            number = fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            name, env = _NAMES[VAULT]
            raise KeyMismatch(env, name) from None
        if PSEUDONYM in roles and keys.pseudonymiser.pseudonym_of(number) != pseudonym:
            name, env = _NAMES[PSEUDONYM]
            raise KeyMismatch(env, name)


def replace_values(connection: Connection, keys: Keys, erasure_token: str | None) -> None:
    """After a rotation, inside its transaction: the new keys' check values (and the kept
    tombstone key, encrypted with the new vault key)."""
    now = dt.datetime.now(dt.UTC)
    values = stored(connection)
    wanted = {PSEUDONYM: check_value(PSEUDONYM, keys.pseudonymiser.master_key),
              VAULT: check_value(VAULT, keys.vault.key)}
    if erasure_token is not None:
        wanted[ERASURE] = erasure_token
    for role, value in wanted.items():
        if role in values:
            connection.execute(update(TABLE).where(TABLE.c.role == role)
                               .values(value=value, changed_at=now))
        else:
            connection.execute(insert(TABLE).values(role=role, value=value, created_at=now,
                                                    changed_at=now))


def frame(connection: Connection) -> pd.DataFrame:
    """The stored roles and when they were set (never the values), for `finsam nycklar`."""
    return pd.read_sql(select(TABLE.c.role, TABLE.c.created_at, TABLE.c.changed_at)
                       .order_by(TABLE.c.role), connection)
