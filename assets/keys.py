"""Key rotation: a deliberate command (``finsam nycklar byt``) that re-keys the whole warehouse in
one transaction, never an accident of a wrong key file.

A pseudonym is HMAC(key, number): a new pseudonym key needs every person's real number, and the
only place that has it is the identity vault. So the rotation decrypts the vault with the current
vault key, computes every vault person's new pseudonym, and rewrites every pseudonym in the
warehouse (``pseudonym`` columns, and inside ``record_key``, ``spell_key`` and held records'
payloads) through that old -> new map; the vault is written again under the new pseudonyms with
the new vault key; the check values are replaced. Everything in one transaction: killed half-way,
the warehouse is as before, and the old keys still open it.

What cannot be re-keyed:

* **People not in the vault** (partner records, consents, held rows of people who are no
  participant with a number in the vault): their numbers are nowhere. The rotation refuses, saying
  how many rows in which tables, unless it is told to delete those rows (``--radera-ej-omnycklade``;
  spells among them are kept de-identified, like after a withdrawal). They come back only if the
  partner delivers them again.
* **Tombstones** of erased people (their numbers are erased on purpose): the tombstone domain's key
  of the pseudonym key in use is kept, encrypted with the vault key (``key_check`` role
  ``erasure``), and tombstones go on being computed with it; it makes tombstones only, never a
  pseudonym.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd
from cryptography.fernet import Fernet
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    bindparam,
    delete,
    func,
    select,
    update,
)

from assets.ingest.withdrawal import deidentify
from finsam import faults
from finsam.errors import ConfigurationError
from finsam.privacy import Keys
from warehouse import db, key_checks, load, models

# text columns that carry pseudonyms inside them (natural keys joined, JSON of a held record)
EMBEDDING = ("record_key", "spell_key", "payload")
_TOKEN = re.compile(r"[0-9a-f]{64}")
VAULT = models.IdentityVault.__table__
TOMBSTONES = models.ErasureTombstone.__table__
BATCH = 5000


class RotationRefused(ConfigurationError):
    def __init__(self, problem: str):
        super().__init__("finsam nycklar byt", problem)


@dataclass
class Rotation:
    """What a rotation did (or, refused, would have to do): counts only."""

    pseudonym_changed: bool
    vault_changed: bool
    people: int = 0
    rewritten: dict[str, int] = field(default_factory=dict)
    unlinkable: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    tombstones: int = 0


def _tables() -> list[Table]:
    """Every table with a pseudonym, or a pseudonym inside a text column, except the vault."""
    return [table for table in models.Base.metadata.sorted_tables
            if table is not VAULT and ("pseudonym" in table.c
                                       or any(name in table.c for name in EMBEDDING))]


def rotate(engine: Engine, old: Keys, new: Keys, *, delete_unlinkable: bool = False) -> Rotation:
    """Re-key the warehouse from ``old`` to ``new`` keys (see the module's text). The caller holds
    the warehouse's run lock."""
    old_pseudonym, new_pseudonym = old.pseudonymiser.master_key, new.pseudonymiser.master_key
    outcome = Rotation(pseudonym_changed=old_pseudonym != new_pseudonym,
                       vault_changed=old.vault.key != new.vault.key)
    if not (outcome.pseudonym_changed or outcome.vault_changed):
        raise RotationRefused("de nya nycklarna är desamma som de gamla: inget att byta")
    with engine.begin() as connection:
        old = key_checks.verify_in(connection, old)
        values = key_checks.stored(connection)
        vault = _open_vault(connection, old)
        outcome.people = len(vault)
        mapping = pd.Series(new.pseudonymiser.pseudonyms(vault["number"]).to_numpy(),
                            index=vault["pseudonym"].to_numpy())
        if outcome.pseudonym_changed:
            _rekey_tables(connection, mapping.to_dict(), outcome, delete_unlinkable)
        _rewrite_vault(connection, vault, mapping, new)
        erasure = _erasure_token(connection, values, old, new, outcome)
        key_checks.replace_values(connection, new, erasure)
        faults.point("rekey:before_commit")
    # the old pseudonyms and ciphertexts physically gone from the database files
    db.compact(engine, [VAULT.name, *(table.name for table in _tables())])
    return outcome


def _open_vault(connection: Connection, keys: Keys) -> pd.DataFrame:
    """pseudonym, ciphertext, number of every vault entry; each entry must give its own
    pseudonym again, or the vault does not belong to these keys and nothing is changed."""
    vault = pd.read_sql(select(VAULT.c.pseudonym, VAULT.c.ciphertext, VAULT.c.created_at),
                        connection)
    vault["number"] = keys.vault.decrypt(vault["ciphertext"]).to_numpy()
    again = keys.pseudonymiser.pseudonyms(vault["number"])
    wrong = int((again.to_numpy() != vault["pseudonym"].to_numpy()).sum())
    if wrong:
        raise RotationRefused(f"{wrong} poster i identitetsvalvet ger inte sin egen pseudonym med "
                              "pseudonymnyckeln: valvet och nyckeln hör inte ihop. Inget har ändrats")
    return vault


def _rekey_tables(connection: Connection, mapping: dict[str, str], outcome: Rotation,
                  delete_unlinkable: bool) -> None:
    tables = _tables()
    for table in tables:
        orphans = _orphans(connection, table, mapping)
        if orphans:
            outcome.unlinkable[table.name] = orphans
    if outcome.unlinkable and not delete_unlinkable:
        counts = ", ".join(f"{name} {count}" for name, count in outcome.unlinkable.items())
        raise RotationRefused(
            f"rader om personer som inte finns i identitetsvalvet kan inte nycklas om ({counts}). "
            "Inget har ändrats. Kör igen med --radera-ej-omnycklade för att radera dem (deltaganden "
            "behålls avidentifierade); de kommer tillbaka bara om parten levererar dem igen")
    for table in tables:
        rewritten, deleted = _rekey_table(connection, table, mapping)
        if rewritten:
            outcome.rewritten[table.name] = rewritten
        if deleted:
            outcome.deleted[table.name] = deleted


def _pseudonyms_in(row: pd.Series, columns: list[str]) -> set[str]:
    found: set[str] = set()
    for name in columns:
        value = row[name]
        if isinstance(value, str):
            found.update(_TOKEN.findall(value) if name in EMBEDDING else [value])
    return found


def _rows(connection: Connection, table: Table) -> tuple[pd.DataFrame, list[str], list[str]]:
    keys = [column.name for column in table.primary_key.columns]
    columns = [name for name in ("pseudonym", *EMBEDDING) if name in table.c]
    frame = pd.read_sql(select(*(table.c[name] for name in keys + columns)), connection)
    return frame, keys, columns


def _orphans(connection: Connection, table: Table, mapping: dict[str, str]) -> int:
    """Rows holding a pseudonym that is not a vault person's."""
    frame, _, columns = _rows(connection, table)
    if frame.empty:
        return 0
    return int(frame.apply(lambda row: not _pseudonyms_in(row, columns) <= mapping.keys(),
                           axis=1).sum())


def _replace(value, mapping: dict[str, str], embedded: bool):
    if not isinstance(value, str):
        return value
    if embedded:
        return _TOKEN.sub(lambda match: mapping.get(match.group(0), match.group(0)), value)
    return mapping.get(value, value)


def _rekey_table(connection: Connection, table: Table, mapping: dict[str, str]) -> tuple[int, int]:
    frame, keys, columns = _rows(connection, table)
    if frame.empty:
        return 0, 0
    orphan = frame.apply(lambda row: not _pseudonyms_in(row, columns) <= mapping.keys(), axis=1)
    deleted = _remove_unlinkable(connection, table, frame.loc[orphan], keys)
    kept = frame.loc[~orphan]
    new = kept.copy()
    for name in columns:
        new[name] = kept[name].map(lambda value, name=name: _replace(value, mapping,
                                                                    name in EMBEDDING))
    changed = pd.Series(False, index=kept.index)
    for name in columns:
        changed |= ~((new[name] == kept[name]) | (new[name].isna() & kept[name].isna()))
    rows = new.loc[changed]
    if rows.empty:
        return 0, deleted
    statement = update(table).where(*(table.c[name] == bindparam(f"k_{name}") for name in keys)
                                    ).values({name: bindparam(f"v_{name}") for name in columns})
    records = [{**{f"k_{name}": row[name] for name in keys},
                **{f"v_{name}": (None if pd.isna(row[name]) else row[name]) for name in columns}}
               for row in rows.to_dict("records")]
    for start in range(0, len(records), BATCH):
        connection.execute(statement, records[start:start + BATCH])
    return len(rows), deleted


def _remove_unlinkable(connection: Connection, table: Table, rows: pd.DataFrame,
                       keys: list[str]) -> int:
    """Rows of people outside the vault: deleted, except spells, kept de-identified."""
    if rows.empty:
        return 0
    if table is models.Spell.__table__:
        spells = pd.read_sql(select(table).where(table.c.id.in_(rows["id"].tolist())), connection)
        connection.execute(delete(table).where(table.c.id.in_(rows["id"].tolist())))
        load.insert_frame(connection, table, deidentify(spells))
        return len(rows)
    if table is models.HeldRow.__table__:
        decisions = models.StewardDecision.__table__
        connection.execute(delete(decisions).where(
            decisions.c.held_row_id.in_(rows["id"].tolist())))
    (key,) = keys
    for start in range(0, len(rows), BATCH):
        connection.execute(delete(table).where(
            table.c[key].in_(rows[key].iloc[start:start + BATCH].tolist())))
    return len(rows)


def _rewrite_vault(connection: Connection, vault: pd.DataFrame, mapping: pd.Series,
                   new: Keys) -> None:
    if vault.empty:
        return
    connection.execute(delete(VAULT))
    fresh = pd.DataFrame({"pseudonym": vault["pseudonym"].map(mapping).to_numpy(),
                          "ciphertext": new.vault.encrypt(vault["number"]).to_numpy(),
                          "created_at": vault["created_at"].to_numpy()})
    load.insert_frame(connection, VAULT, fresh)


def _erasure_token(connection: Connection, values: dict[str, str], old: Keys, new: Keys,
                   outcome: Rotation) -> str | None:
    """The tombstone key to keep, encrypted with the new vault key (None: none needed)."""
    outcome.tombstones = int(connection.execute(select(func.count()).select_from(TOMBSTONES)
                                                ).scalar() or 0)
    kept = key_checks.ERASURE in values
    if not kept and not (outcome.pseudonym_changed and outcome.tombstones):
        return None
    return Fernet(new.vault.key).encrypt(old.pseudonymiser.erasure_domain_key()).decode()
