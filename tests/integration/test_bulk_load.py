"""The bulk paths (SQLite tuples, PostgreSQL COPY) store exactly what SQLAlchemy's own insert stores."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError

from warehouse import load
from warehouse.db import make_engine

STAMP = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.timezone.utc)


def _table(metadata: MetaData, name: str) -> Table:
    return Table(name, metadata,
                 Column("id", Integer, primary_key=True),
                 Column("n", Integer), Column("big", BigInteger), Column("flag", Boolean),
                 Column("day", Date), Column("at", DateTime(timezone=True)),
                 Column("share", Float), Column("money", Numeric(14, 2)),
                 Column("code", String(16)), Column("note", Text),
                 Column("created", DateTime(timezone=True), nullable=False,
                        default=lambda: STAMP))


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "n": pd.array([1, None, 3], dtype="Int64"),
        "big": np.array([2**40, 0, -5], dtype="int64"),
        "flag": [True, False, True],
        "day": pd.to_datetime(["2024-01-31", None, "1999-12-01"]),
        "at": pd.to_datetime(["2024-01-31 10:11:12.5", "2024-02-01 00:00:00", None],
                             format="ISO8601").tz_localize("UTC"),
        "share": [0.25, np.nan, 1.0],
        "money": [1234.5, -0.01, np.nan],
        "code": pd.array(["ÅÄÖ", None, ""], dtype="string"),
        "note": ["fri text; med, tecken", None, "tab\there\nnewline \\N back\\slash"],
        "ignored": ["not a column", "of the", "table"],
    })


def _naive_utc(value):
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def _rows(connection, table: Table) -> list[tuple]:
    return [tuple(_naive_utc(value) for value in row)[1:]
            for row in connection.execute(select(table).order_by(table.c.id))]


def test_bulk_path_equals_sqlalchemy_insert(warehouse_url) -> None:
    engine = make_engine(warehouse_url)
    metadata = MetaData()
    fast, plain = _table(metadata, "fast"), _table(metadata, "plain")
    metadata.create_all(engine)
    frame = _frame()
    with engine.begin() as connection:
        assert load.insert_frame(connection, fast, frame) == 3
        connection.execute(insert(plain), load.to_records(frame, plain))
        stored_fast, stored_plain = _rows(connection, fast), _rows(connection, plain)
    engine.dispose()
    assert stored_fast == stored_plain
    assert [float(row[6]) if row[6] is not None else None for row in stored_fast] == [
        1234.5, -0.01, None]
    assert stored_fast[0][7:9] == ("ÅÄÖ", "fri text; med, tecken")
    assert stored_fast[0][3:5] == (dt.date(2024, 1, 31), dt.datetime(2024, 1, 31, 10, 11, 12, 500000))
    assert stored_fast[2][4] is None
    assert {row[-1] for row in stored_fast} == {STAMP.replace(tzinfo=None)}
    assert stored_fast[1][:3] == (None, 0, False)
    assert stored_fast[2][8] == "tab\there\nnewline \\N back\\slash"


def test_errors_never_show_the_values(warehouse_url) -> None:
    engine = make_engine(warehouse_url)
    metadata = MetaData()
    table = Table("t", metadata, Column("id", Integer, primary_key=True),
                  Column("code", String(16), unique=True))
    metadata.create_all(engine)
    value = "198001022386"
    with pytest.raises(IntegrityError) as raised, engine.begin() as connection:
        load.insert_frame(connection, table, pd.DataFrame({"code": [value, value]}))
    engine.dispose()
    assert "[parameters" not in str(raised.value)
    if warehouse_url.startswith("sqlite"):
        assert value not in str(raised.value)
    # PostgreSQL's own error detail quotes a conflicting key; warehouse rows never hold an
    # identity number (validation.warehouse refuses them), so at most a pseudonym shows there


def test_keyed_rows_store_the_same_whatever_the_order(warehouse_url) -> None:
    """A delta merge's rows go in in record_key order on SQLite (its unique index is built in the
    inserting process): every row is stored with its own values, as SQLAlchemy's insert of the
    frame in its given order stores them; only which id a row gets may differ."""
    engine = make_engine(warehouse_url)
    metadata = MetaData()

    def keyed(name: str) -> Table:
        return Table(name, metadata, Column("id", Integer, primary_key=True),
                     Column("record_key", String(64), unique=True, nullable=False),
                     Column("day", Date), Column("amount", Float), Column("note", Text))
    fast, plain = keyed("fast_keyed"), keyed("plain_keyed")
    metadata.create_all(engine)
    rng = np.random.default_rng(7)
    keys = [f"{rng.integers(0, 16**8):08x}|{number}" for number in range(500)]
    frame = pd.DataFrame({
        "record_key": pd.array(keys, dtype="string"),
        "day": pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 400, 500), unit="D"),
        "amount": rng.normal(size=500).round(2),
        "note": pd.array([None if number % 7 == 0 else f"rad {number}" for number in range(500)],
                         dtype="string"),
    }, index=rng.permutation(500))
    kept = keyed("kept_keyed")
    metadata.create_all(engine)
    with engine.begin() as connection:
        assert load.insert_frame(connection, fast, frame, key_order=True) == 500
        connection.execute(insert(plain), load.to_records(frame, plain))
        assert load.insert_frame(connection, kept, frame) == 500
        stored_fast = sorted(_rows(connection, fast))
        stored_plain = sorted(_rows(connection, plain))
        by_id = [row[0] for row in _rows(connection, fast)]
        kept_by_id = [row[0] for row in _rows(connection, kept)]
    engine.dispose()
    assert stored_fast == stored_plain
    assert len(stored_fast) == 500
    if warehouse_url.startswith("sqlite"):
        assert by_id == sorted(keys)
    # without key_order a frame is stored in its own order (a reader without ORDER BY sees it)
    assert kept_by_id == frame["record_key"].tolist()


def test_numbers_written_once_per_distinct_value_store_what_each_row_holds(warehouse_url) -> None:
    """COPY's text for a number is worked out once per distinct value: repeated ids, grades and
    row numbers, missing values and a negative zero (equal to zero when counted as distinct) are
    stored as SQLAlchemy's own insert of each row stores them."""
    engine = make_engine(warehouse_url)
    metadata = MetaData()

    def numbers(name: str) -> Table:
        return Table(name, metadata, Column("id", Integer, primary_key=True),
                     Column("grade", Float), Column("money", Numeric(14, 2)),
                     Column("ref", BigInteger), Column("whole", Integer))
    fast, plain = numbers("fast_numbers"), numbers("plain_numbers")
    metadata.create_all(engine)
    rng = np.random.default_rng(3)
    grade = rng.choice([0.25, 0.5, 1.0, np.nan, 0.0, -0.0], 300)
    frame = pd.DataFrame({
        "grade": grade,
        "money": pd.array(rng.choice([100.5, -20.25, 7.0], 300), dtype="Float64"),
        "ref": pd.array(rng.choice([1, 2, 2**40], 300), dtype="Int64"),
        "whole": rng.choice([1.0, 2.0, 3.0], 300),
    })
    frame.loc[::7, "ref"] = pd.NA
    frame.loc[::11, "money"] = pd.NA
    for part in (frame, frame.assign(grade=np.abs(grade))):   # with and without -0.0
        with engine.begin() as connection:
            load.insert_frame(connection, fast, part)
            connection.execute(insert(plain), load.to_records(part, plain))
            stored_fast, stored_plain = _rows(connection, fast), _rows(connection, plain)
            connection.execute(fast.delete())
            connection.execute(plain.delete())
        assert stored_fast == stored_plain
    engine.dispose()


def test_number_text_per_distinct_value_equals_each_rows_text() -> None:
    values = pd.Series([1.5, -0.0, 0.0, np.nan, 1.5, 1e-07, 2.0, -0.0])
    assert load._numbers_text(values, lambda v: v).tolist() == values.astype("string").tolist()
    no_negative_zero = values.abs()
    assert (load._numbers_text(no_negative_zero, lambda v: v).tolist()
            == no_negative_zero.astype("string").tolist())
    ids = pd.Series(pd.array([3, None, 3, 2**40], dtype="Int64"), index=[5, 6, 7, 8])
    text = load._numbers_text(ids, lambda v: v)
    assert text.index.equals(ids.index)
    assert text.tolist() == ids.astype("string").tolist()
