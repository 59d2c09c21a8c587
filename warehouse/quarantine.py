"""The quarantine: held rows, their life cycle, and the audit of every decision about them.

Statuses: ``öppen`` (held), ``godkänd`` (a warning the steward accepted; the row loads),
``åtgärdad`` (the reason went away, e.g. the insats now is in the budget catalogue; the row loads),
``stängd`` (a newer delivery corrected or replaced it). Every change is written to
``steward_decision`` with who made it (the steward's login, or ``finsam`` for automatic closing).
"""

from __future__ import annotations

import datetime as dt
import getpass
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    and_,
    delete,
    insert,
    literal,
    not_,
    select,
    update,
)

from finsam import periods
from finsam.identity import normalise
from sources.base import SourceSpec
from validation.issues import WARNING
from warehouse import load, models

OPEN = "öppen"
ACCEPTED = "godkänd"
RESOLVED = "åtgärdad"
CLOSED = "stängd"
PIPELINE = "finsam"

HELD = models.HeldRow.__table__
DECISIONS = models.StewardDecision.__table__


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def loose_keys(raw: pd.DataFrame, spec: SourceSpec, extraction_date,
               pnr: pd.Series | None = None) -> pd.DataFrame:
    """Per raw row: its natural key as text with the identity cut to the birth-date part, once whole
    (column ``""``) and once without each key column (so a corrected value still matches).

    ``pnr`` (aligned with ``raw``), when the caller already normalised the numbers, saves doing it
    again; rows without one fall back to the digits as written."""
    columns = ["personnummer" if name == "pnr" else name for name in spec.natural_key]
    if any(name not in raw for name in columns):
        return pd.DataFrame(index=raw.index)
    parts = {}
    for name in columns:
        values = raw[name].astype("string").str.upper().fillna("")
        if name == "personnummer":
            known = normalise(raw[name], extraction_date)["pnr"] if pnr is None else pnr
            digits = values.str.replace(r"\D", "", regex=True)
            values = known.fillna(digits).str[:8].fillna("")
        parts[name] = values
    frame = pd.DataFrame(parts, index=raw.index)
    out = {"": _joined(frame, columns)}
    for left_out in columns:
        kept = [name for name in columns if name != left_out]
        out[left_out] = _joined(frame, kept) + "|-" + left_out
    return pd.DataFrame(out, index=raw.index)


def _joined(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    key = frame[columns[0]]
    for name in columns[1:]:
        key = key.str.cat(frame[name], sep="|")
    return key


def match_keys_for(issues: pd.DataFrame, raw: pd.DataFrame, keys: pd.DataFrame,
                   spec: SourceSpec) -> pd.Series:
    """The match key of each issue: the row's key without the issue's own column."""
    if keys.empty or issues.empty:
        return pd.Series(pd.NA, index=issues.index, dtype="string")
    canonical = {column.contract_name: column.name for column in spec.columns}
    by_row = keys.set_index(raw["row_number"].to_numpy())
    column = issues["column"].map(canonical).fillna("")
    column = column.where(column.isin(by_row.columns), "")
    stacked = by_row.stack()
    lookup = pd.MultiIndex.from_arrays([issues["row_number"].astype("int64"), column])
    return pd.Series(stacked.reindex(lookup).to_numpy(), index=issues.index, dtype="string")


BUDGET_SHEET_RULE = "Budget:"


def budget_keys(issues: pd.DataFrame, sheets: dict[str, pd.DataFrame]) -> pd.Series:
    """``INSATS|KOSTNADSSLAG`` for issues on the Budget sheet, so the follow-up can say which
    budget rows are missing because the steward holds them."""
    budget = sheets.get("budget")
    keys = pd.Series(pd.NA, index=issues.index, dtype="string")
    if budget is None or issues.empty:
        return keys
    by_row = (budget["insats"].astype("string").str.upper() + "|"
              + budget["kostnadsslag"].astype("string")).set_axis(budget["row_number"].to_numpy())
    on_sheet = issues["rule"].str.startswith(BUDGET_SHEET_RULE).fillna(False)
    found = issues["row_number"].astype("int64").map(by_row)
    return keys.mask(on_sheet, found)


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
    if row["severity"] != WARNING:
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
    return and_(*held.conditions(), HELD.c.severity == WARNING, HELD.c.status == OPEN)


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
           who: str | None = None) -> dict:
    """Undo an acceptance: the row is held again and, if it was loaded, taken out again."""
    row = _get(connection, held_id)
    if row["status"] != ACCEPTED:
        raise ValueError(f"rad {held_id} är {row['status']}: bara godkända rader kan öppnas igen")
    if row["loaded"]:
        unload(connection, row["source"], row["delivery_id"], [row["row_number"]])
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


TABLE_OF_SOURCE = {
    "insats": models.Spell.__table__, "samtycke": models.Consent.__table__,
    **models.DELTA_TABLES,
}


def unload(connection: Connection, source: str, delivery_id: int, row_numbers: list[int]) -> None:
    table = TABLE_OF_SOURCE[source]
    connection.execute(delete(table).where(table.c.delivery_id == delivery_id,
                                           table.c.row_number.in_(row_numbers)))


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
