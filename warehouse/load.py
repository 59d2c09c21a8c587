"""Bulk loading: frames into tables, newest-wins merges for delta sources, scope replacement.

Everything here runs inside the caller's transaction, so a run that fails leaves the warehouse as it
was. Rows go in through each driver's bulk path (tuples to SQLite's executemany, COPY on
PostgreSQL), a frame at a time, never one by one.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import NULLTYPE

KEY_SEPARATOR = "|"


def record_keys(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """The natural key as one string per row (dates as ISO, missing as empty). Each distinct day
    is formatted once and the parts are joined per row by str.join (pandas' strftime and str.cat
    each looped over every row)."""
    parts = [_key_text(frame[name]) for name in columns]
    keys = [KEY_SEPARATOR.join(row) for row in zip(*parts)] if len(parts) > 1 else parts[0]
    return pd.Series(pd.array(keys, dtype="string"), index=frame.index)


def _key_text(values: pd.Series) -> list[str]:
    if pd.api.types.is_datetime64_any_dtype(values):
        return _iso_days(values, missing="").tolist()
    return values.astype("string").fillna("").to_numpy(dtype=object).tolist()


def _iso_days(values: pd.Series, *, missing: object) -> np.ndarray:
    """``YYYY-MM-DD`` per row (``missing`` for NaT), each distinct day formatted once."""
    return _formatted(values, "%Y-%m-%d", missing)


def _formatted(values: pd.Series, layout: str, missing: object) -> np.ndarray:
    """Each row's timestamp in ``layout`` (``missing`` for NaT): a column repeats few values,
    so each distinct one is formatted once and spread back by its code."""
    codes, distinct = pd.factorize(values)
    return np.append(np.asarray(distinct.strftime(layout), dtype=object), missing)[codes]


def to_records(frame: pd.DataFrame, table: Table) -> list[dict]:
    """Rows for executemany: only the table's columns, NA as None, dates for Date columns."""
    columns = [column.name for column in table.columns if column.name in frame.columns]
    out = frame[columns].copy()
    for column in table.columns:
        if column.name not in out:
            continue
        if pd.api.types.is_datetime64_any_dtype(out[column.name]) and isinstance(column.type, Date):
            out[column.name] = out[column.name].dt.date
    out = out.astype(object).where(out.notna(), None)
    return out.to_dict("records")


def insert_frame(connection: Connection, table: Table, frame: pd.DataFrame, *,
                 key_order: bool = False) -> int:
    """``key_order``: the rows may be stored in ``record_key`` order (SQLite builds the key's
    index in-process, and keys in order cost half as much); only where the rows' order is of no
    meaning (a delta merge, set-wise by design). Elsewhere they are stored in the frame's order,
    which a reader without an ORDER BY sees."""
    if frame.empty:
        return 0
    if connection.dialect.name == "sqlite":
        _insert_sqlite(connection, table, frame, key_order=key_order)
    elif connection.dialect.driver == "psycopg2":
        _copy_postgresql(connection, table, frame)
    else:
        connection.execute(insert(table), to_records(frame, table))
    return len(frame)


# PostgreSQL's COPY text format: tab-separated, \N for NULL, backslash escapes in values.
_COPY_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))
_COPY_NULL = "\\N"


def _copy_postgresql(connection: Connection, table: Table, frame: pd.DataFrame) -> None:
    """Rows through COPY FROM STDIN on the transaction's own connection: PostgreSQL's bulk path,
    several times faster than multi-row INSERTs; columns are turned into text a whole column at a
    time."""
    frame = _with_defaults(frame, table)
    columns = [column for column in table.columns if column.name in frame.columns]
    payload = io.StringIO(_copy_payload(frame, columns))
    preparer = connection.dialect.identifier_preparer
    names = ", ".join(preparer.quote(column.name) for column in columns)
    statement = f"COPY {preparer.format_table(table)} ({names}) FROM STDIN"
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        cursor.copy_expert(statement, payload)
    except connection.dialect.loaded_dbapi.Error as exc:
        # the same exception types as SQLAlchemy's own statements raise, so retries and callers
        # see no difference
        raise DBAPIError.instance(statement, None, exc, connection.dialect.loaded_dbapi.Error,
                                  hide_parameters=True, dialect=connection.dialect) from exc
    finally:
        cursor.close()


def _copy_payload(frame: pd.DataFrame, columns: list[Column]) -> str:
    """The rows in COPY's text format. Each column is turned into text a whole column at a time;
    the fields and lines are joined by str.join (pandas' str.cat added the columns up as objects,
    a third of the load's own time)."""
    texts = [_copy_text(frame[column.name], column) for column in columns]
    return "\n".join(map("\t".join, zip(*texts))) + "\n"


# what COPY's text format must escape, found per value once a column is known to hold any
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")


def _copy_text(values: pd.Series, column: Column) -> list[str]:
    missing = values.isna().to_numpy()
    if pd.api.types.is_datetime64_any_dtype(values):
        if isinstance(column.type, DateTime):
            aware = getattr(values.dtype, "tz", None) is not None
            layout = "%Y-%m-%d %H:%M:%S.%f" + ("%z" if aware else "")
        else:
            layout = "%Y-%m-%d"
        text = pd.Series(_formatted(values, layout, _COPY_NULL), index=values.index,
                         dtype="string")
    elif pd.api.types.is_bool_dtype(values) or isinstance(column.type, Boolean):
        text = values.map({True: "t", False: "f"}, na_action="ignore")
    elif isinstance(column.type, Integer) and pd.api.types.is_float_dtype(values):
        text = _numbers_text(values, lambda distinct: distinct.astype("Int64"))
    elif pd.api.types.is_numeric_dtype(values):
        text = _numbers_text(values, lambda distinct: distinct)
    else:
        text = values.astype("string")
        # the few values holding a backslash, tab or line break are escaped; whether there are
        # any is one search for each of them over the column joined
        joined = "\x1f".join(text.dropna().tolist())
        if any(character in joined for character, _ in _COPY_ESCAPES):
            special = text.str.contains(_COPY_SPECIAL.pattern, regex=True).fillna(False).to_numpy(
                dtype=bool)
            escaped = text[special]
            for character, replacement in _COPY_ESCAPES:
                escaped = escaped.str.replace(character, replacement, regex=False)
            text = text.copy()
            text[special] = escaped
    out = text.astype("string").to_numpy(dtype=object, na_value=_COPY_NULL)
    out[missing] = _COPY_NULL
    return out.tolist()


def _numbers_text(values: pd.Series, typed) -> pd.Series:
    """``typed(values).astype("string")``, worked out once per distinct number: a column of ids,
    row numbers or grades repeats few. A negative zero (equal to zero when counted as distinct,
    but written "-0.0") is converted row by row."""
    if pd.api.types.is_float_dtype(values):
        floats = values.to_numpy(dtype="float64", na_value=np.nan)
        if np.signbit(floats[floats == 0]).any():
            return typed(values).astype("string")
    codes, distinct = pd.factorize(values)
    text = typed(pd.Series(distinct)).astype("string").array
    return pd.Series(text.take(codes, allow_fill=True), index=values.index, dtype="string")


# SQLite stores dates and timestamps as text in SQLAlchemy's own formats; these are they.
_SQLITE_TEXT = {"DATE": "%Y-%m-%d", "DATETIME": "%Y-%m-%d %H:%M:%S.%f"}


def _insert_sqlite(connection: Connection, table: Table, frame: pd.DataFrame, *,
                   key_order: bool = False) -> None:
    """Rows as tuples straight to the driver's executemany, each column converted to what
    SQLAlchemy would have bound, a whole column at a time: the per-row parameter handling of
    ``execute(insert(table), dicts)`` cost more than the insert itself."""
    dialect = connection.dialect
    frame = _with_defaults(frame, table)
    columns = [column for column in table.columns if column.name in frame.columns]
    order = _key_order(frame) if key_order else slice(None)
    # the table's columns converted, then put in key order (not the whole frame taken first)
    values = [_sqlite_column(frame[column.name], column, dialect)[order].tolist()
              for column in columns]
    names = ", ".join(dialect.identifier_preparer.quote(column.name) for column in columns)
    statement = (f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({names}) "
                 f"VALUES ({', '.join('?' * len(columns))})")
    connection.exec_driver_sql(statement, list(zip(*values)))


def _key_order(frame: pd.DataFrame) -> np.ndarray | slice:
    """The rows' order by ``record_key``, where the frame has one. SQLite maintains the key's
    unique index (and the pseudonym's, which the key begins with) in the inserting process: keys
    in order touch each B-tree page once, keys in delivery order jump across the whole index, and
    the insert of a partner's rows took twice as long. Asked for only where which row gets which
    id is of no meaning (a delta merge)."""
    if "record_key" not in frame or len(frame) < 2:
        return slice(None)
    keys = frame["record_key"].astype("string").fillna("").to_numpy(dtype=object)
    return np.argsort(keys, kind="stable")


def _with_defaults(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Columns the frame lacks get their Python-side default, as ``insert(table)`` would give."""
    defaults = {}
    for column in table.columns:
        default = column.default
        if column.name in frame.columns or default is None:
            continue
        if not (default.is_scalar or default.is_callable):
            continue
        defaults[column.name] = default.arg(None) if default.is_callable else default.arg
    return frame.assign(**defaults) if defaults else frame


def _sqlite_column(values: pd.Series, column: Column, dialect) -> np.ndarray:
    missing = values.isna().to_numpy()
    impl = column.type.dialect_impl(dialect)
    kind = impl.__visit_name__.upper()
    if pd.api.types.is_datetime64_any_dtype(values) and kind in _SQLITE_TEXT:
        # each distinct day (a batch has few) formatted once
        converted = _formatted(values, _SQLITE_TEXT[kind], None)
    elif pd.api.types.is_bool_dtype(values) or kind == "BOOLEAN":
        converted = values.to_numpy(dtype=object, copy=True)
        converted[~missing] = converted[~missing].astype(bool).astype(int)
    else:
        converted = values.to_numpy(dtype=object, copy=True)
        process = impl.bind_processor(dialect)
        if process is not None and not pd.api.types.is_numeric_dtype(values):
            converted = np.array([value if gone else process(value)
                                  for value, gone in zip(converted, missing)], dtype=object)
    converted[missing] = None
    return converted


VERSION = "version"


def versions(extraction_date: pd.Series, file_name: pd.Series, row_number: pd.Series) -> pd.Series:
    """A delta record's version as sortable text: extraction date, then file name, then row.
    The newest version wins whatever order deliveries arrive in or are batched."""
    day = pd.to_datetime(extraction_date)
    files = file_name.astype("string").to_numpy(dtype=object, na_value=None)
    # a batch has few days, files and row numbers (its files' rows share them): each day and
    # row number formatted once, the parts joined per row
    row_codes, row_values = pd.factorize(row_number.astype("int64").to_numpy())
    rows = np.array([f"{row:010d}" for row in row_values.tolist()], dtype=object)[row_codes]
    parts = zip(_iso_days(day, missing=None), files, rows)
    text = [None if extracted is None or name is None else f"{extracted}|{name}|{row}"
            for extracted, name, row in parts]
    return pd.Series(pd.array(text, dtype="string"), index=day.index, name=day.name)


def newest_per_key(frame: pd.DataFrame) -> pd.DataFrame:
    """Within one batch: for each record_key keep the row with the newest version. Only the keys
    that occur more than once are sorted: sorting every key as text cost more than the rest of
    the merge's preparation, and the merge is set-wise, so the rows' order does not matter."""
    repeated = frame["record_key"].duplicated(keep=False).to_numpy()
    if not repeated.any():
        return frame
    # sorted by version alone (stable, missing last): each key's rows then come in the order that
    # sorting by key and version gives them, so its last row is the same; the keys' own text
    # needs no sort
    newest = (frame.loc[repeated].sort_values(VERSION, kind="stable")
              .drop_duplicates("record_key", keep="last"))
    return pd.concat([frame.loc[~repeated], newest])


def merge_delta(connection: Connection, table: Table, frame: pd.DataFrame) -> int:
    """Upsert by ``record_key``: an incoming row replaces a stored one unless the stored one has a
    newer version (a later delivery, or a later row of the same). Set-wise through a temporary
    staging table; the incoming frame holds one row per key (``newest_per_key``)."""
    if frame.empty:
        return 0
    if connection.execute(select(table.c.record_key).limit(1)).first() is None:
        # nothing stored to merge against (a source's first load, a backfill): straight in,
        # without the copy through a staging table
        return insert_frame(connection, table, frame, key_order=True)
    staging = Table(f"stage_{table.name}", MetaData(),
                    *[Column(column.name, column.type) for column in table.columns
                      if column.name != "id"],
                    prefixes=["TEMPORARY"])
    staging.create(connection)
    try:
        insert_frame(connection, staging, frame, key_order=True)
        newer_incoming = exists().where(and_(staging.c.record_key == table.c.record_key,
                                             staging.c.version >= func.coalesce(table.c.version, "")))
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



#: lineage every row of a snapshot delivery shares: written by one UPDATE, not compared per row
_SHARED_LINEAGE = ("delivery_id", "extraction_date")
_NULL_TEXT = "\x00"


def replace_changed(connection: Connection, table: Table, condition, frame: pd.DataFrame) -> dict:
    """Make the rows matching ``condition`` (a snapshot scope) equal ``frame``, writing only the
    difference: rows whose ``record_key`` is gone are deleted, new keys inserted, and rows whose
    values changed updated in place (their id stays); the delivery and extraction date every row
    of the snapshot shares are set by one statement. Rows are compared by their values as text,
    both sides through the same conversion, so a value written and read back compares equal.
    Returns how many rows each kind of write touched."""
    columns = _compared_columns(table, frame)
    shared = _shared_lineage(table, frame)
    if columns is None or shared is None:
        return {"replaced": replace_where(connection, table, condition, frame)}
    # the driver's own values, without SQLAlchemy's conversion per value: both sides are turned
    # into the same text below anyway
    rows = connection.execute(
        select(table.c.id, *(type_coerce(table.c[name], NULLTYPE).label(name) for name in columns))
        .where(condition)).all()
    if not rows:
        return {"inserted": insert_frame(connection, table, frame)}
    # column by column straight from the rows: building a frame from the Row objects costs more
    stored = pd.DataFrame({name: pd.Series(values, dtype=object)
                           for name, values in zip(["id", *columns], zip(*rows))})
    incoming = _with_defaults(frame, table).reset_index(drop=True)
    where = pd.Index(stored["record_key"]).get_indexer(incoming["record_key"])
    found = where >= 0
    changed = found.copy()
    changed[found] = _differs(incoming.loc[found], stored.take(where[found]), table, columns[1:])
    gone = np.ones(len(stored), dtype=bool)
    gone[where[found]] = False
    deleted = stored["id"].to_numpy()[gone].tolist()
    for start in range(0, len(deleted), 500):
        connection.execute(delete(table).where(table.c.id.in_(deleted[start:start + 500])))
    if changed.any():
        rows = to_records(incoming.loc[changed], table)
        for row, id_ in zip(rows, stored["id"].to_numpy()[where[changed]]):
            row["_id"] = int(id_)
        values = {name: bindparam(f"_v_{name}") for name in rows[0] if name not in ("_id", "id")}
        connection.execute(update(table).where(table.c.id == bindparam("_id")).values(values),
                           [{("_id" if name == "_id" else f"_v_{name}"): value
                             for name, value in row.items()} for row in rows])
    inserted = insert_frame(connection, table, incoming.loc[~found])
    if shared:
        delivery_id, extracted = shared
        connection.execute(update(table).where(
            condition, table.c.delivery_id.isnot(None),
            (table.c.delivery_id != delivery_id) | (table.c.extraction_date != extracted))
            .values(delivery_id=delivery_id, extraction_date=extracted))
    return {"deleted": len(deleted), "updated": int(changed.sum()), "inserted": inserted}


def _compared_columns(table: Table, frame: pd.DataFrame) -> list[str] | None:
    """The columns a row is compared by (record_key first), or None where rows cannot be compared
    by value (no record key, a timestamp column)."""
    if "record_key" not in table.c or "record_key" not in frame:
        return None
    if any(isinstance(column.type, DateTime) for column in table.columns):
        return None
    rest = [column.name for column in table.columns
            if column.name not in ("id", "record_key", *_SHARED_LINEAGE)]
    return ["record_key", *rest, *(name for name in _SHARED_LINEAGE if name in table.c)]


def _shared_lineage(table: Table, frame: pd.DataFrame):
    """(delivery id, extraction date) when every row of ``frame`` with a delivery has the same
    ones (a snapshot's rows; a de-identified spell has none), () where the table has no lineage,
    None where the rows differ (then they are compared like any value)."""
    if not all(name in table.c for name in _SHARED_LINEAGE):
        return ()
    if not all(name in frame for name in _SHARED_LINEAGE):
        return None
    with_delivery = frame.loc[frame["delivery_id"].notna(), list(_SHARED_LINEAGE)]
    ids = with_delivery["delivery_id"].unique()
    days = pd.to_datetime(with_delivery["extraction_date"]).unique()
    if len(ids) != 1 or len(days) != 1 or pd.isna(days[0]):
        return () if with_delivery.empty else None
    return int(ids[0]), pd.Timestamp(days[0]).date()


def _differs(incoming: pd.DataFrame, stored: pd.DataFrame, table: Table,
             columns: list[str]) -> np.ndarray:
    """Per pair of rows (incoming and stored, aligned), whether any compared value differs. Both
    sides go through the same conversion to text: dates as ISO days, booleans as 1/0, numbers
    through pandas' nullable types, missing as a character no value holds. The shared lineage
    counts only by whether it is there (its value is written for the whole scope at once)."""
    differs = np.zeros(len(incoming), dtype=bool)
    for name in columns:
        sides = []
        for frame in (incoming, stored):
            values = (frame[name] if name in frame else pd.Series(pd.NA, index=frame.index)
                      ).reset_index(drop=True)
            if name in _SHARED_LINEAGE:
                sides.append(values.isna().to_numpy())
                continue
            sides.append(_value_text(values, table.c[name]).to_numpy(dtype=object,
                                                                     na_value=_NULL_TEXT))
        differs |= sides[0] != sides[1]
    return differs


def _value_text(values: pd.Series, column: Column) -> pd.Series:
    kind = column.type
    if isinstance(kind, Date):
        # ISO text as SQLite keeps it, date objects from other drivers, datetimes from a frame
        return pd.to_datetime(values, format="ISO8601").dt.strftime("%Y-%m-%d").astype("string")
    if isinstance(kind, Boolean):
        return values.astype("boolean").map({True: "1", False: "0"}).astype("string")
    if isinstance(kind, Integer):
        return pd.to_numeric(values).astype("Int64").astype("string")
    if isinstance(kind, Numeric):
        return pd.to_numeric(values).astype("Float64").astype("string")
    return values.astype("string")


def stored_versions(connection: Connection, table: Table, keys: pd.Series) -> pd.Series:
    """record_key -> the stored record's version, for these keys (those stored)."""
    wanted = keys.dropna().unique().tolist()
    parts = [pd.read_sql(select(table.c.record_key, table.c.version).where(
        table.c.record_key.in_(wanted[start:start + 500])), connection)
        for start in range(0, len(wanted), 500)]
    parts = [part for part in parts if not part.empty]
    if not parts:
        return pd.Series(dtype="string")
    found = pd.concat(parts, ignore_index=True)
    return found.set_index("record_key")["version"].astype("string")
