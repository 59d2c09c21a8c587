"""A snapshot scope is made equal to the new delivery by writing only what changed
(``load.replace_changed``): the result must be exactly what deleting the scope and inserting the
delivery gives (the plain rewrite, computed independently on a second table), on every backend,
while unchanged rows keep their ids and other scopes are not touched."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    select,
)

from warehouse import load
from warehouse.db import make_engine


def _table(metadata: MetaData, name: str) -> Table:
    return Table(name, metadata,
                 Column("id", Integer, primary_key=True),
                 Column("delivery_id", Integer), Column("extraction_date", Date),
                 Column("row_number", Integer),
                 Column("record_key", String(160), unique=True),
                 Column("scope", String(16)), Column("day", Date), Column("flag", Boolean),
                 Column("n", Integer), Column("share", Float), Column("money", Numeric(14, 2)),
                 Column("code", String(16)))


def _snapshot(scope: str, delivery_id: int, extracted: str, keys: range) -> pd.DataFrame:
    count = len(keys)
    return pd.DataFrame({
        "delivery_id": [delivery_id] * count,
        "extraction_date": pd.to_datetime([extracted] * count),
        "row_number": list(range(2, count + 2)),
        "record_key": pd.array([f"{scope}|{key}" for key in keys], dtype="string"),
        "scope": pd.array([scope] * count, dtype="string"),
        "day": pd.to_datetime([f"2024-01-{1 + key % 28:02d}" for key in keys]),
        "flag": [key % 2 == 0 for key in keys],
        "n": pd.array([key if key % 5 else None for key in keys], dtype="Int64"),
        "share": [key / 8 for key in keys],
        "money": [key * 10.25 for key in keys],
        "code": pd.array([None if key % 7 == 0 else f"K{key}" for key in keys], dtype="string"),
    })


def _rows(connection, table: Table, with_id: bool = False) -> pd.DataFrame:
    columns = [column for column in table.columns if with_id or column.name != "id"]
    frame = pd.read_sql(select(*columns).order_by(table.c.record_key), connection)
    return frame.astype({"money": float})


@pytest.fixture
def tables(warehouse_url):
    engine = make_engine(warehouse_url)
    metadata = MetaData()
    compared, rewritten = _table(metadata, "compared"), _table(metadata, "rewritten")
    metadata.create_all(engine)
    yield engine, compared, rewritten
    metadata.drop_all(engine)
    engine.dispose()


def test_only_changes_are_written_and_the_result_equals_a_rewrite(tables) -> None:
    engine, compared, rewritten = tables
    first = pd.concat([_snapshot("A", 1, "2024-02-01", range(40)),
                       _snapshot("B", 2, "2024-02-01", range(10))], ignore_index=True)
    with engine.begin() as connection:
        for table in (compared, rewritten):
            load.insert_frame(connection, table, first)
        before = _rows(connection, compared, with_id=True).set_index("record_key")["id"]

    second = _snapshot("A", 3, "2024-03-01", range(40))
    second = second.loc[~second["record_key"].isin(["A|3", "A|4"])].reset_index(drop=True)
    second = pd.concat([second, _snapshot("A", 3, "2024-03-01", range(100, 102))],
                       ignore_index=True)
    at = {key: index for index, key in enumerate(second["record_key"])}
    # one change of every kind a value can have: a day later, a flag flipped, a number gone and one
    # appearing, a tiny fraction, a cent, an empty text where there was none, a moved row
    second.loc[at["A|5"], "day"] = pd.Timestamp("2024-01-07")
    second.loc[at["A|6"], "flag"] = not second.loc[at["A|6"], "flag"]
    second.loc[at["A|8"], "n"] = pd.NA
    second.loc[at["A|10"], "n"] = 999
    second.loc[at["A|11"], "share"] = 11 / 8 + 1e-9
    second.loc[at["A|12"], "money"] = 12 * 10.25 + 0.01
    second.loc[at["A|14"], "code"] = ""
    second.loc[at["A|15"], "row_number"] = 500
    # a row without lineage (a de-identified spell has none) replaces one that had it
    second.loc[at["A|16"], ["delivery_id", "extraction_date", "row_number"]] = [
        pd.NA, pd.NaT, pd.NA]
    second["delivery_id"] = second["delivery_id"].astype("Int64")
    second["row_number"] = second["row_number"].astype("Int64")

    with engine.begin() as connection:
        written = load.replace_changed(connection, compared, compared.c.scope == "A", second)
        load.replace_where(connection, rewritten, rewritten.c.scope == "A", second)
        ours, plain = _rows(connection, compared), _rows(connection, rewritten)
        after = _rows(connection, compared, with_id=True).set_index("record_key")["id"]

    pd.testing.assert_frame_equal(ours, plain)
    assert written == {"deleted": 2, "updated": 9, "inserted": 2}
    # unchanged and updated rows keep their ids; scope B was not touched at all
    kept = [key for key in before.index if key in after.index]
    assert (after[kept] == before[kept]).all()
    assert ours.loc[ours["scope"] == "B", "delivery_id"].eq(2).all()
    # every row of the scope with lineage names the new delivery and its day
    scope_a = ours.loc[(ours["scope"] == "A") & ours["delivery_id"].notna()]
    assert scope_a["delivery_id"].eq(3).all()
    assert pd.to_datetime(scope_a["extraction_date"]).eq(pd.Timestamp("2024-03-01")).all()


def test_the_same_snapshot_again_writes_nothing_but_its_lineage(tables) -> None:
    engine, compared, _ = tables
    first = _snapshot("A", 1, "2024-02-01", range(30))
    with engine.begin() as connection:
        load.insert_frame(connection, compared, first)
        again = first.assign(delivery_id=2, extraction_date=pd.Timestamp("2024-02-02"))
        written = load.replace_changed(connection, compared, compared.c.scope == "A", again)
        rows = _rows(connection, compared)
    assert written == {"deleted": 0, "updated": 0, "inserted": 0}
    assert rows["delivery_id"].eq(2).all()
    assert pd.to_datetime(rows["extraction_date"]).eq(pd.Timestamp("2024-02-02")).all()


def test_an_empty_scope_is_filled_and_a_table_without_keys_is_rewritten(tables) -> None:
    engine, compared, _ = tables
    frame = _snapshot("A", 1, "2024-02-01", range(5))
    with engine.begin() as connection:
        assert load.replace_changed(connection, compared, compared.c.scope == "A", frame) == {
            "inserted": 5}
        assert load.replace_changed(connection, compared, compared.c.scope == "A",
                                    frame.drop(columns="record_key").iloc[:0]) == {"replaced": 0}
