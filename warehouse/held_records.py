"""Held records: a held row's record as it would be loaded, kept so that nothing ever needs its
delivery file again (the landing zone can be archived once a delivery is in the manifest).

Only rows that may still load are kept: warnings the steward may accept, and rows waiting for a
code the budget catalogue does not list yet. The payload holds the target table's own columns,
already pseudonymised and keyed, as JSON; it is typed back by the table's column types.
"""

from __future__ import annotations

import json

import pandas as pd
from sqlalchemy import (
    Boolean,
    Connection,
    Date,
    DateTime,
    Float,
    Integer,
    Numeric,
    Table,
    and_,
    delete,
    or_,
    select,
)

from warehouse import load, models

HELD = models.HeldRecord.__table__


HELD_DELIVERY, HELD_ROW = "held_delivery_id", "held_row_number"   # a kept record's own keys
REVIEW = "granskning"    # a warning the steward may accept
CATALOGUE = "katalog"    # a code the budget catalogue does not list yet


def store(connection: Connection, source: str, table: Table, frame: pd.DataFrame,
          waits_for: str = REVIEW) -> int:
    """Keep ``frame``'s rows for ``table``, each under its delivery and row (``held_delivery_id``
    and ``held_row_number`` when given, else its own lineage); a row kept before under the same
    keys is replaced."""
    if frame.empty:
        return 0
    columns = [column.name for column in table.columns if column.name in frame and column.name != "id"]
    payload = frame[columns].to_json(orient="records", date_format="iso", force_ascii=False,
                                     lines=True).splitlines()
    delivery = frame[HELD_DELIVERY] if HELD_DELIVERY in frame else frame["delivery_id"]
    row = frame[HELD_ROW] if HELD_ROW in frame else frame["row_number"]
    rows = pd.DataFrame({
        "source": source,
        "delivery_id": delivery.astype("int64").to_numpy(),
        "row_number": row.astype("int64").to_numpy(),
        "pseudonym": frame["pseudonym"].to_numpy() if "pseudonym" in frame else None,
        "waits_for": waits_for,
        "payload": payload,
    })
    remove(connection, rows[["delivery_id", "row_number"]])
    return load.insert_frame(connection, HELD, rows)


def fetch(connection: Connection, source: str, table: Table, keys: pd.DataFrame,
          reason: str = REVIEW) -> pd.DataFrame:
    """The kept records of these (delivery_id, row_number) that wait for ``reason``, typed as
    ``table`` holds them, each with its own keys (``held_delivery_id``, ``held_row_number``)."""
    if keys.empty:
        return pd.DataFrame()
    found = pd.concat([pd.read_sql(select(HELD.c.delivery_id, HELD.c.row_number, HELD.c.payload)
                                   .where(HELD.c.source == source, HELD.c.waits_for == reason,
                                          _matching(chunk)), connection)
                       for chunk in _chunks(keys)], ignore_index=True)
    return _with_keys(found, table)


def waiting_for(connection: Connection, source: str, table: Table, reason: str) -> pd.DataFrame:
    """Every kept record of the source that waits for ``reason``, typed as ``table`` holds them,
    with its own keys (``held_delivery_id``, ``held_row_number``)."""
    rows = pd.read_sql(select(HELD.c.delivery_id, HELD.c.row_number, HELD.c.payload).where(
        HELD.c.source == source, HELD.c.waits_for == reason), connection)
    return _with_keys(rows, table)


def _with_keys(rows: pd.DataFrame, table: Table) -> pd.DataFrame:
    frame = _parsed(rows["payload"], table)
    if frame.empty:
        return frame
    return frame.assign(**{HELD_DELIVERY: rows["delivery_id"].astype("int64").to_numpy(),
                           HELD_ROW: rows["row_number"].astype("int64").to_numpy()})


def of_people(connection: Connection, pseudonyms: list[str]) -> pd.DataFrame:
    """id, source, waits_for, payload of the kept records of these people."""
    frames = [pd.read_sql(select(HELD.c.id, HELD.c.source, HELD.c.delivery_id, HELD.c.waits_for,
                                 HELD.c.payload).where(HELD.c.pseudonym.in_(pseudonyms[start:start + 500])),
                          connection) for start in range(0, len(pseudonyms), 500)]
    frames = [frame for frame in frames if not frame.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["id", "source", "delivery_id", "waits_for", "payload"])


def payloads(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    """The records of ``of_people`` rows, typed."""
    return _parsed(frame["payload"], table)


def _parsed(texts: pd.Series, table: Table) -> pd.DataFrame:
    if texts.empty:
        return pd.DataFrame()
    return _typed(pd.DataFrame.from_records([json.loads(text) for text in texts]), table)


def remove_delivery(connection: Connection, delivery_id: int) -> None:
    connection.execute(delete(HELD).where(HELD.c.delivery_id == delivery_id))


def remove_ids(connection: Connection, ids: list[int]) -> None:
    for start in range(0, len(ids), 500):
        connection.execute(delete(HELD).where(HELD.c.id.in_(ids[start:start + 500])))


def remove_held(connection: Connection, frame: pd.DataFrame) -> None:
    """Remove the kept records of these rows (by their own keys)."""
    remove(connection, frame[[HELD_DELIVERY, HELD_ROW]].set_axis(["delivery_id", "row_number"],
                                                                  axis=1))


def remove(connection: Connection, keys: pd.DataFrame) -> None:
    for chunk in _chunks(keys):
        connection.execute(delete(HELD).where(_matching(chunk)))


def _matching(keys: pd.DataFrame):
    return or_(*(and_(HELD.c.delivery_id == int(delivery), HELD.c.row_number.in_(
        [int(row) for row in rows["row_number"]]))
        for delivery, rows in keys.groupby("delivery_id")))


def _chunks(keys: pd.DataFrame, size: int = 500):
    keys = keys[["delivery_id", "row_number"]].drop_duplicates()
    for start in range(0, len(keys), size):
        yield keys.iloc[start:start + size]


def _typed(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    out = frame.copy()
    for column in table.columns:
        if column.name not in out:
            continue
        values = out[column.name]
        kind = column.type
        if isinstance(kind, DateTime):
            out[column.name] = pd.to_datetime(values, utc=True)
        elif isinstance(kind, Date):
            out[column.name] = pd.to_datetime(values)
        elif isinstance(kind, Boolean):
            out[column.name] = values.astype("boolean")
        elif isinstance(kind, Integer):
            out[column.name] = pd.to_numeric(values).astype("Int64")
        elif isinstance(kind, (Float, Numeric)):
            out[column.name] = pd.to_numeric(values).astype("float64")
        else:
            out[column.name] = values.astype("string")
    return out
