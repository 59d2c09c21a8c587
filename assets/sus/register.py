"""The release register: what every published SUS statistics release showed, kept in the warehouse.

A release is protected against everything in the register, and recorded in it before its files are
written: a crash in between leaves a cell recorded that nobody saw (which only costs a later
release some cells), never a published cell the register does not know. Reading the register,
protecting and recording happen under one lock, so two runs never protect against a register that
lacks the other's release.

A re-run of a period records only what it shows differently (the same cell with the same value is
one row): a reader has both the earlier values and the new ones.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Connection, delete, select

from assets.sus.disclosure import REGISTER_COLUMNS
from validation.warehouse import check_before_load
from warehouse import models
from warehouse.load import insert_frame

TABLE = models.SusReleaseCell.__table__
_KEY = list(REGISTER_COLUMNS)


def lock(connection: Connection) -> None:
    """Hold the register until the transaction ends: other runs wait to read it."""
    if connection.dialect.name == "postgresql":
        # conflicts with itself and with writers, not with plain readers
        connection.exec_driver_sql(f"LOCK TABLE {TABLE.name} IN SHARE ROW EXCLUSIVE MODE")
    else:
        # SQLite locks the whole database for writing at a transaction's first write statement,
        # even one that changes nothing
        connection.execute(delete(TABLE).where(TABLE.c.id < 0))


def read(connection: Connection) -> pd.DataFrame:
    """Every recorded cell: ``REGISTER_COLUMNS`` and when it was first published."""
    columns = [TABLE.c[name] for name in (*_KEY, "published_at")]
    result = connection.execute(select(*columns).order_by(TABLE.c.id))
    frame = pd.DataFrame(result.fetchall(), columns=[*_KEY, "published_at"])
    for name in ("period_start", "period_end"):
        frame[name] = pd.to_datetime(frame[name]).dt.date
    frame["value"] = pd.to_numeric(frame["value"]).astype(float)
    return frame


def record(connection: Connection, start: date, end: date, scope: str, cells: pd.DataFrame,
           min_cell: int, register: pd.DataFrame | None = None) -> int:
    """Adds the release's cells (sheet, table_name, row_label, column_label, shown, value) that
    the register does not hold with the same value; returns how many. ``register``: the
    register as read under the same lock, if the caller has it."""
    register = read(connection) if register is None else register
    frame = cells.assign(period_start=start, period_end=end, scope=scope, min_cell=min_cell)
    frame = frame[[*_KEY, "min_cell"]]
    mine = register.loc[(register["period_start"] == start) & (register["period_end"] == end)
                        & (register["scope"] == scope), _KEY]
    # NaN never equals NaN, so the values are compared as text
    seen = set(map(tuple, _as_keys(mine).to_numpy()))
    fresh = frame.loc[[key not in seen for key in map(tuple, _as_keys(frame).to_numpy())]]
    if fresh.empty:
        return 0
    check_before_load(TABLE.name, fresh.assign(
        period_start=pd.to_datetime(fresh["period_start"]),
        period_end=pd.to_datetime(fresh["period_end"])))
    return insert_frame(connection, TABLE, fresh.reset_index(drop=True))


def _as_keys(frame: pd.DataFrame) -> pd.DataFrame:
    keys = frame[_KEY].astype(object)
    keys["value"] = frame["value"].map(lambda value: "" if pd.isna(value) else repr(float(value)))
    keys["period_start"] = frame["period_start"].map(str)
    keys["period_end"] = frame["period_end"].map(str)
    return keys
