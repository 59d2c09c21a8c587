"""The quarantine: held rows, their life cycle, and the audit of every decision about them.

Statuses: ``öppen`` (held), ``godkänd`` (a warning the steward accepted; the row loads),
``åtgärdad`` (the reason went away, e.g. the insats now is in the budget catalogue; the row loads),
``stängd`` (a newer delivery corrected or replaced it). Every change is written to
``steward_decision`` with who made it (the steward's login, or ``finsam`` for automatic closing).
"""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    Table,
    and_,
    delete,
    insert,
    literal,
    not_,
    select,
    update,
)

from finsam import periods
from finsam.enums import HeldStatus, Severity
from warehouse import load, models

OPEN = HeldStatus.OPEN
ACCEPTED = HeldStatus.ACCEPTED
RESOLVED = HeldStatus.RESOLVED
CLOSED = HeldStatus.CLOSED
PIPELINE = "finsam"

HELD = models.HeldRow.__table__
DECISIONS = models.StewardDecision.__table__


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def hold(connection: Connection, issues: pd.DataFrame) -> None:
    """Hold issues that carry their own ``delivery_id``, ``scope`` and ``status``."""
    if issues.empty:
        return
    now = _now()
    held = issues.rename(columns={"file": "file_name"}).assign(
        loaded=False, first_seen=now, last_seen=now)
    # a partner's free text can be arbitrarily long; the steward needs its start, not all of it
    for name, width in (("found", 512), ("expected", 512), ("rule", 128), ("column", 64)):
        held[name] = held[name].astype("string").str.slice(0, width)
    load.insert_frame(connection, HELD, held)


def _audit(connection: Connection, rows: list[dict], decision: str, after: str, note: str | None,
           who: str) -> None:
    if rows:
        connection.execute(insert(DECISIONS), [
            {"held_row_id": row["id"], "decision": decision, "status_before": row["status"],
             "status_after": after, "note": note, "decided_by": who, "decided_at": _now()}
            for row in rows])


def _close(connection: Connection, condition, note: str) -> int:
    rows = [dict(row) for row in connection.execute(
        select(HELD.c.id, HELD.c.status).where(condition)).mappings()]
    if not rows:
        return 0
    ids = [row["id"] for row in rows]
    for start in range(0, len(ids), 500):
        connection.execute(update(HELD).where(HELD.c.id.in_(ids[start:start + 500])).values(
            status=CLOSED, note=note, last_seen=_now()))
    _audit(connection, rows, "stängd automatiskt", CLOSED, note, PIPELINE)
    return len(rows)


def close_superseded(connection: Connection, source: str, scope: str, current_delivery_id: int,
                     file_name: str) -> int:
    """A newer snapshot replaces the whole scope: rows held from older snapshots are closed (if the
    mistake is still there, the newer file holds it again)."""
    condition = and_(HELD.c.source == source, HELD.c.scope == scope, HELD.c.status == OPEN,
                     HELD.c.delivery_id != current_delivery_id)
    return _close(connection, condition, f"ersatt av nyare leverans {file_name}")


def has_open_keys(connection: Connection, source: str) -> bool:
    """Whether any held row of the source could be closed by a corrected delivery."""
    return connection.execute(select(HELD.c.id).where(
        HELD.c.source == source, HELD.c.status == OPEN, HELD.c.match_key.isnot(None)).limit(1)
    ).first() is not None


def close_corrected(connection: Connection, source: str, loaded_keys: pd.Series, file_name: str,
                    delivery_ids: list[int]) -> int:
    """Rows held from earlier deliveries whose record has now arrived without the mistake."""
    keys = loaded_keys.dropna().unique().tolist()
    closed = 0
    for start in range(0, len(keys), 500):
        condition = and_(HELD.c.source == source, HELD.c.status == OPEN,
                         HELD.c.match_key.in_(keys[start:start + 500]),
                         HELD.c.delivery_id.notin_(delivery_ids))
        closed += _close(connection, condition, f"rättad i leverans {file_name}")
    return closed


def accept(connection: Connection, held_id: int, note: str, who: str | None = None) -> dict:
    """Accept a held warning; the row loads at the next run. Errors cannot be accepted."""
    row = _get(connection, held_id)
    if row["severity"] != Severity.WARNING:
        raise ValueError(f"rad {held_id} är ett fel, inte en varning: rätta källan och leverera igen")
    if row["status"] != OPEN:
        raise ValueError(f"rad {held_id} är {row['status']}, inte {OPEN}")
    if not note.strip():
        raise ValueError("ange en anteckning (--note) som förklarar varför raden godkänns")
    connection.execute(update(HELD).where(HELD.c.id == held_id).values(status=ACCEPTED, note=note))
    _audit(connection, [row], "godkänd", ACCEPTED, note, who or getpass.getuser())
    return {**row, "status": ACCEPTED, "note": note}


ALL_STATUSES = "alla"


@dataclass(frozen=True)
class HeldFilter:
    """A selection of held rows as the steward narrows it: every field left ``None`` selects all.

    ``status`` ``None`` means what still needs the steward or the next run: open rows and accepted
    or resolved rows not loaded yet; ``ALL_STATUSES`` means every status. ``period`` is a quarter
    label (``2024Q4``) of the delivery's extraction date."""

    source: str | None = None
    file_name: str | None = None
    rule: str | None = None
    severity: str | None = None
    status: str | None = None
    period: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        chosen = [HELD.c[name] == value for name, value in (
            ("source", self.source), ("file_name", self.file_name), ("rule", self.rule),
            ("severity", self.severity)) if value is not None]
        if self.status is None:
            chosen.append((HELD.c.status == OPEN) | (HELD.c.status.in_([ACCEPTED, RESOLVED])
                                                     & not_(HELD.c.loaded)))
        elif self.status != ALL_STATUSES:
            chosen.append(HELD.c.status == self.status)
        if self.period is not None:
            quarter = periods.quarter(self.period)
            deliveries = models.Delivery.__table__
            chosen.append(HELD.c.delivery_id.in_(select(deliveries.c.id).where(
                deliveries.c.extraction_date.between(periods.first_day(quarter),
                                                     periods.last_day(quarter)))))
        return chosen


def acceptable(held: HeldFilter) -> ColumnElement[bool]:
    """The open warnings of a selection: what a bulk acceptance of it would accept."""
    return and_(*held.conditions(), HELD.c.severity == Severity.WARNING, HELD.c.status == OPEN)


def accept_many(connection: Connection, held: HeldFilter, note: str, who: str) -> int:
    """Accept every open warning of ``held`` with one note, in two set-wise statements (the audit
    rows from one INSERT ... SELECT, the status from one UPDATE); returns how many.

    Both statements select the same rows only if nothing changes them in between: run this in a
    SERIALIZABLE transaction on PostgreSQL (SQLite's write lock gives that by itself)."""
    if not note.strip():
        raise ValueError("ange en anteckning som förklarar varför raderna godkänns")
    chosen = acceptable(held)
    now = _now()
    audit = select(HELD.c.id, literal("godkänd"), HELD.c.status, literal(ACCEPTED), literal(note),
                   literal(who), literal(now, DateTime(timezone=True))).where(chosen)
    connection.execute(insert(DECISIONS).from_select(
        ["held_row_id", "decision", "status_before", "status_after", "note", "decided_by",
         "decided_at"], audit))
    return connection.execute(update(HELD).where(chosen).values(status=ACCEPTED, note=note)
                              ).rowcount


def reopen(connection: Connection, held_id: int, note: str | None = None,
           who: str | None = None, *, tables: Mapping[str, Table]) -> dict:
    """Undo an acceptance: the row is held again and, if it was loaded, taken out again of its
    source's table (``tables``: source name -> table)."""
    row = _get(connection, held_id)
    if row["status"] != ACCEPTED:
        raise ValueError(f"rad {held_id} är {row['status']}: bara godkända rader kan öppnas igen")
    if row["loaded"]:
        unload(connection, tables[row["source"]], row["delivery_id"], [row["row_number"]])
    connection.execute(update(HELD).where(
        (HELD.c.delivery_id == row["delivery_id"]) & (HELD.c.row_number == row["row_number"])
        & (HELD.c.status == ACCEPTED)).values(loaded=False))
    connection.execute(update(HELD).where(HELD.c.id == held_id).values(status=OPEN, note=note))
    _audit(connection, [row], "öppnad igen", OPEN, note, who or getpass.getuser())
    return {**row, "status": OPEN}


def _get(connection: Connection, held_id: int) -> dict:
    row = connection.execute(select(HELD).where(HELD.c.id == held_id)).mappings().first()
    if row is None:
        raise ValueError(f"det finns ingen kvarhållen rad med nummer {held_id}")
    return dict(row)


def unload(connection: Connection, table: Table, delivery_id: int, row_numbers: list[int]) -> None:
    connection.execute(delete(table).where(table.c.delivery_id == delivery_id,
                                           table.c.row_number.in_(row_numbers)))


def forget_rows(connection: Connection, delivery_id: int, *, keep_rule: str) -> None:
    """A waiting delivery is read again: its row issues are held anew, its decision row stays."""
    ids = connection.execute(select(HELD.c.id).where(
        HELD.c.delivery_id == delivery_id, HELD.c.rule != keep_rule)).scalars().all()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        connection.execute(delete(DECISIONS).where(DECISIONS.c.held_row_id.in_(chunk)))
        connection.execute(delete(HELD).where(HELD.c.id.in_(chunk)))


def mark_whole_loaded(connection: Connection, delivery_id: int, rule: str) -> None:
    """The steward's acceptance of a whole delivery has taken effect."""
    connection.execute(update(HELD).where(HELD.c.delivery_id == delivery_id, HELD.c.rule == rule,
                                          HELD.c.status == ACCEPTED).values(loaded=True))


def accepted(connection: Connection, delivery_id: int, rule: str) -> bool:
    """Whether the steward accepted the row held for a whole delivery under ``rule``."""
    return connection.execute(select(HELD.c.id).where(
        HELD.c.delivery_id == delivery_id, HELD.c.rule == rule, HELD.c.status == ACCEPTED)
    ).first() is not None


def ready_rows(connection: Connection, source: str) -> pd.DataFrame:
    """(delivery_id, row_number) with no open issue left, at least one accepted or resolved, and
    not loaded yet: rows the next load takes in."""
    held = pd.read_sql(select(HELD.c.delivery_id, HELD.c.row_number, HELD.c.status, HELD.c.loaded)
                       .where(HELD.c.source == source,
                              HELD.c.status.in_([OPEN, ACCEPTED, RESOLVED])), connection)
    if held.empty:
        return held[["delivery_id", "row_number"]]
    keys = [held["delivery_id"], held["row_number"]]
    no_open = (held["status"] != OPEN).groupby(keys).all()
    not_loaded = ~held["loaded"].astype(bool).groupby(keys).any()
    ready = no_open & not_loaded
    return ready[ready].reset_index()[["delivery_id", "row_number"]]


def open_with_rules(connection: Connection, source: str, rules: list[str]) -> pd.DataFrame:
    return pd.read_sql(select(HELD.c.id, HELD.c.delivery_id, HELD.c.row_number, HELD.c.status)
                       .where(HELD.c.source == source, HELD.c.status == OPEN,
                              HELD.c.rule.in_(rules)), connection)


def resolve(connection: Connection, held: pd.DataFrame, note: str) -> int:
    """The reason for holding these rows no longer applies; they load with the next load."""
    if held.empty:
        return 0
    ids = held["id"].astype(int).tolist()
    for start in range(0, len(ids), 500):
        connection.execute(update(HELD).where(HELD.c.id.in_(ids[start:start + 500])).values(
            status=RESOLVED, note=note, last_seen=_now()))
    _audit(connection, held[["id", "status"]].to_dict("records"), "åtgärdad automatiskt", RESOLVED,
           note, PIPELINE)
    return len(ids)


def mark_loaded(connection: Connection, delivery_id: int, row_numbers: list[int]) -> None:
    connection.execute(update(HELD).where(HELD.c.delivery_id == delivery_id,
                                          HELD.c.row_number.in_(row_numbers),
                                          HELD.c.status.in_([ACCEPTED, RESOLVED])).values(loaded=True))
