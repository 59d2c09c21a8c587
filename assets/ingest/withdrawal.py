"""Withdrawn consent: register the participant out, erase what identifies them, keep the statistics.

Runs after every load that can bring identifiable data back (consent register, insats registers,
partner deltas), so a re-delivered old file or a backfill of an old quarter can never undo an
erasure: the consent register as known now decides.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable

import pandas as pd
from sqlalchemy import Connection, Table, delete, insert, select

from finsam.consent import in_force_until
from warehouse import load, models

AVB = "AVB"
DEIDENTIFIED_KEY_PREFIX = "avidentifierad|"


def erased_people(consents: pd.DataFrame) -> pd.Index:
    """People whose every consent is withdrawn: no legal basis is left to keep them identifiable."""
    if consents.empty:
        return pd.Index([], dtype="string")
    withdrawn = consents["aterkallat"].notna().groupby(consents["pseudonym"]).all()
    return pd.Index(withdrawn.index[withdrawn.to_numpy()], dtype="string")


def withdrawal_days(consents: pd.DataFrame) -> pd.DataFrame:
    """(pseudonym, insats, withdrawn_on) for each insats whose consents have all been withdrawn."""
    if consents.empty:
        return pd.DataFrame(columns=["pseudonym", "insats", "withdrawn_on"])
    grouped = consents.groupby(["pseudonym", "insats"])["aterkallat"]
    days = grouped.max().where(grouped.count() == grouped.size())
    return days.dropna().rename("withdrawn_on").reset_index()


def register_out(spells: pd.DataFrame, days: pd.DataFrame) -> pd.DataFrame:
    """Spells open on the withdrawal day end that day with AVB; spells that ended earlier keep
    their exit. Every spell of a withdrawn insats is marked with the withdrawal day."""
    marked = spells.drop(columns=["withdrawn_on"], errors="ignore").merge(
        days, on=["pseudonym", "insats"], how="left")
    marked.index = spells.index
    day = marked["withdrawn_on"]
    exit_day = pd.to_datetime(marked["utskrivningsdatum"])
    still_open = day.notna() & (pd.to_datetime(marked["inskrivningsdatum"]) <= day) & (
        exit_day.isna() | (exit_day > day))
    marked["utskrivningsdatum"] = exit_day.mask(still_open, day)
    marked.loc[still_open, "avslutsanledning"] = AVB
    marked.loc[still_open, "forsorjning_ut"] = pd.NA
    return marked


def deidentify(spells: pd.DataFrame) -> pd.DataFrame:
    """Drop pseudonym and birth date (age at enrolment stays); one random token per person."""
    people = spells["pseudonym"].drop_duplicates()
    tokens = pd.Series([secrets.token_hex(16) for _ in range(len(people))], index=people.to_numpy())
    token = spells["pseudonym"].map(tokens)
    out = spells.assign(deidentified_person=token, pseudonym=pd.NA, birth_date=pd.NaT)
    out["record_key"] = (DEIDENTIFIED_KEY_PREFIX + token + "|" + out["insats"] + "|"
                         + pd.to_datetime(out["inskrivningsdatum"]).dt.strftime("%Y-%m-%d"))
    return out


def read_consents(connection: Connection) -> pd.DataFrame:
    table = models.Consent.__table__
    frame = pd.read_sql(select(table.c.pseudonym, table.c.insats, table.c.samtycke_fran,
                               table.c.giltigt_till, table.c.aterkallat, table.c.parter,
                               table.c.sus), connection)
    for name in ("samtycke_fran", "giltigt_till", "aterkallat"):
        frame[name] = pd.to_datetime(frame[name])
    frame["until"] = in_force_until(frame)
    return frame


def apply_withdrawals(connection: Connection, partner_tables: Iterable[Table],
                      consents: pd.DataFrame | None = None) -> dict[str, int]:
    """Apply what the consent register says now (``consents``, when the caller has just read
    it) to the spells, the vault and every partner table; returns rows changed per table (for the
    audit)."""
    consents = read_consents(connection) if consents is None else consents
    days = withdrawal_days(consents)
    if days.empty:
        return {}
    erased = erased_people(consents)
    changed: dict[str, int] = {}
    changed["spell (utskriven AVB)"] = _register_out(connection, days)
    changed["spell (avidentifierad)"] = _deidentify(connection, erased)
    changed["identity_vault"] = _delete_people(connection, models.IdentityVault.__table__, erased)
    for table in partner_tables:
        changed[table.name] = _delete_people(connection, table, erased)
    now = dt.datetime.now(dt.timezone.utc)
    audit = [{"erased_at": now, "rule": "återkallat samtycke", "table_name": name, "rows": rows}
             for name, rows in changed.items() if rows]
    if audit:
        connection.execute(insert(models.ErasureAudit), audit)
    return {name: rows for name, rows in changed.items() if rows}


def _spells_of(connection: Connection, people: pd.Index) -> pd.DataFrame:
    table = models.Spell.__table__
    frames = [pd.read_sql(select(table).where(table.c.pseudonym.in_(list(chunk))), connection)
              for chunk in _chunks(people)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _chunks(values: pd.Index, size: int = 500):
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _register_out(connection: Connection, days: pd.DataFrame) -> int:
    spells = _spells_of(connection, pd.Index(days["pseudonym"].unique()))
    if spells.empty:
        return 0
    marked = register_out(spells, days)
    exit_before = pd.to_datetime(spells["utskrivningsdatum"])
    changed = marked.loc[(exit_before != pd.to_datetime(marked["utskrivningsdatum"]))
                         | spells["withdrawn_on"].isna() & marked["withdrawn_on"].notna()]
    _rewrite(connection, changed)
    exit_after = pd.to_datetime(marked["utskrivningsdatum"])
    # NaT never equals NaT: two open spells are the same exit, not a change
    return int(((exit_before != exit_after) & ~(exit_before.isna() & exit_after.isna())).sum())


def _deidentify(connection: Connection, erased: pd.Index) -> int:
    spells = _spells_of(connection, erased)
    if spells.empty:
        return 0
    _rewrite(connection, deidentify(spells))
    return len(spells)


def _rewrite(connection: Connection, spells: pd.DataFrame) -> None:
    if spells.empty:
        return
    table = models.Spell.__table__
    ids = spells["id"].tolist()
    for chunk in _chunks(pd.Index(ids)):
        connection.execute(delete(table).where(table.c.id.in_(list(chunk))))
    load.insert_frame(connection, table, spells)


def _delete_people(connection: Connection, table, people: pd.Index) -> int:
    deleted = 0
    for chunk in _chunks(people):
        result = connection.execute(delete(table).where(table.c.pseudonym.in_(list(chunk))))
        deleted += int(result.rowcount or 0)
    return deleted

