"""Bulk loading: frames into tables, newest-wins merges for delta sources, scope replacement.

Everything here runs inside the caller's transaction, so a run that fails leaves the warehouse as it
was. Rows go in with executemany (SQLAlchemy's insertmanyvalues on PostgreSQL), never one by one.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy import (
    Column,
    Connection,
    MetaData,
    Table,
    and_,
    delete,
    exists,
    insert,
    select,
)

KEY_SEPARATOR = "|"


def record_keys(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """The natural key as one string per row (dates as ISO, missing as empty)."""
    parts = []
    for name in columns:
        values = frame[name]
        if pd.api.types.is_datetime64_any_dtype(values):
            values = values.dt.strftime("%Y-%m-%d")
        parts.append(values.astype("string").fillna(""))
    key = parts[0]
    for part in parts[1:]:
        key = key.str.cat(part, sep=KEY_SEPARATOR)
    return key


def to_records(frame: pd.DataFrame, table: Table) -> list[dict]:
    """Rows for executemany: only the table's columns, NA as None, timestamps as dates."""
    columns = [column.name for column in table.columns if column.name in frame.columns]
    out = frame[columns].copy()
    for column in table.columns:
        if column.name not in out:
            continue
        if pd.api.types.is_datetime64_any_dtype(out[column.name]):
            out[column.name] = out[column.name].dt.date
    out = out.astype(object).where(out.notna(), None)
    return out.to_dict("records")


def insert_frame(connection: Connection, table: Table, frame: pd.DataFrame) -> int:
    if frame.empty:
        return 0
    connection.execute(insert(table), to_records(frame, table))
    return len(frame)


def newest_per_key(frame: pd.DataFrame) -> pd.DataFrame:
    """Within one batch: for each record_key keep the row from the newest delivery.

    Ties on extraction date go to the later file name, then the later row, so the outcome never
    depends on the order files were listed in.
    """
    order = frame.sort_values(["record_key", "extraction_date", "file_name", "row_number"],
                              kind="stable")
    return order.drop_duplicates("record_key", keep="last")


def merge_delta(connection: Connection, table: Table, frame: pd.DataFrame) -> int:
    """Upsert by ``record_key``: an incoming row replaces a stored one unless the stored one comes
    from a newer delivery. Done set-wise through a temporary staging table."""
    if frame.empty:
        return 0
    staging = Table(f"stage_{table.name}", MetaData(),
                    *[Column(column.name, column.type) for column in table.columns
                      if column.name != "id"],
                    prefixes=["TEMPORARY"])
    staging.create(connection)
    try:
        insert_frame(connection, staging, frame)
        newer_incoming = exists().where(and_(staging.c.record_key == table.c.record_key,
                                             staging.c.extraction_date >= table.c.extraction_date))
        connection.execute(delete(table).where(newer_incoming))
        columns = [column.name for column in staging.columns]
        absent = ~exists().where(table.c.record_key == staging.c.record_key)
        result = connection.execute(
            insert(table).from_select(columns, select(*[staging.c[name] for name in columns]).where(absent)))
    finally:
        staging.drop(connection)
    return int(result.rowcount or 0)


def replace_where(connection: Connection, table: Table, condition, frame: pd.DataFrame) -> int:
    """Replace the rows matching ``condition`` (a snapshot scope) by ``frame``."""
    connection.execute(delete(table).where(condition))
    return insert_frame(connection, table, frame)

