"""The release register in the warehouse, and the SUS statistics through Dagster: each release
protected against the earlier ones and recorded, restricted files apart from the published ones,
and the small-count check reading its own run's folder with its own min_cell."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import dagster as dg
import numpy as np
import openpyxl
import pandas as pd
import pytest
from sqlalchemy import create_engine, func, select

from assets.outputs_checks import visible_small_counts
from assets.sus import register
from cli.main import main

CELLS = pd.DataFrame({
    "sheet": ["Alla insatser", "Alla insatser", "A"],
    "table_name": ["Översikt", "Måluppfyllelse", "Översikt"],
    "row_label": ["Nyinskrivna", "Andel sjukdom", "Nyinskrivna"],
    "column_label": ["Antal", "Totalt", "Antal"],
    "shown": ["12", "", ".."],
    "value": [12.0, np.nan, 2.0],
})
START, END = dt.date(2024, 1, 1), dt.date(2024, 6, 30)


def count(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(register.TABLE)).scalar_one()


def test_a_release_is_recorded_once_per_value_shown(engine) -> None:
    with engine.begin() as connection:
        register.lock(connection)
        assert register.record(connection, START, END, "", CELLS, 3) == 3
    # the same period again with the same values: nothing new, whatever the share without value
    with engine.begin() as connection:
        assert register.record(connection, START, END, "", CELLS, 3) == 0
    # more data: the count now shown differently is a second fact about the period
    changed = CELLS.assign(shown=["13", "", ".."], value=[13.0, np.nan, 2.0])
    with engine.begin() as connection:
        assert register.record(connection, START, END, "", changed, 3) == 1
    # another scope is another release
    with engine.begin() as connection:
        assert register.record(connection, START, END, "A", CELLS, 3) == 3
    with engine.connect() as connection:
        read = register.read(connection)
    assert len(read) == count(engine) == 7
    assert set(read["shown"]) == {"12", "13", "", ".."}
    assert read["period_start"].map(type).eq(dt.date).all()
    assert read.loc[read["shown"] == "", "value"].isna().all()


def test_the_register_refuses_what_it_must_not_hold(engine) -> None:
    from finsam.errors import WarehouseSchemaViolation

    bad = CELLS.assign(shown=["12", "x", ".."])
    with engine.begin() as connection, pytest.raises(WarehouseSchemaViolation):
        register.record(connection, START, END, "", bad, 3)


def test_a_second_run_waits_for_the_register(engine, warehouse_url) -> None:
    if not warehouse_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's table lock is the database's own; SQLite's is shown here")
    holder = engine.connect()
    transaction = holder.begin()
    register.lock(holder)
    other = engine.connect()
    other.exec_driver_sql("PRAGMA busy_timeout=200")
    other.commit()
    try:
        with pytest.raises(Exception, match="locked"), other.begin():
            register.lock(other)
    finally:
        transaction.rollback()
        holder.close()
    with other.begin():
        register.lock(other)
    other.close()


def test_visible_small_counts_use_the_given_min_cell(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "A"
    sheet.append(["Översikt"])
    sheet.append(["Nyinskrivna", 4])
    sheet.append(["Andel", 0.02])
    book.create_sheet("Om statistiken").append([2])
    path = tmp_path / "sus_statistik.xlsx"
    book.save(path)
    assert visible_small_counts(path, 3) == []
    assert visible_small_counts(path, 5) == ["A!B2"]


@pytest.fixture
def env(monkeypatch, tmp_path, key_files, warehouse_url, dagster_home):
    pseudonym_key, vault_key = key_files
    monkeypatch.setenv("FINSAM_PSEUDONYM_KEY_FILE", str(pseudonym_key))
    monkeypatch.setenv("FINSAM_VAULT_KEY_FILE", str(vault_key))
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    return tmp_path, warehouse_url, Path(dagster_home)


def check_record(home: Path):
    with dg.DagsterInstance.from_config(str(home)) as instance:
        record = instance.get_latest_asset_check_evaluation_record(
            dg.AssetCheckKey(dg.AssetKey("sus_statistics"), "sma_tal_dolda"))
        return record.status.value, record.event.asset_check_evaluation.metadata


def test_releases_are_protected_together_and_checked_in_their_own_folder(env, sample_landing,
                                                                       capsys) -> None:
    tmp_path, url, home = env
    out = tmp_path / "out"
    assert main(["run", "--landing", str(sample_landing), "--warehouse", url, "--out", str(out),
                 "--from", "2024Q4"]) == 0
    report = ["report", "sus", "--warehouse", url, "--out", str(out)]
    assert main([*report, "--from", "2024Q1", "--to", "2024Q4"]) == 0
    status, metadata = check_record(home)
    assert status == "SUCCEEDED" and metadata["minsta_visade_antal"].value == 3
    # a newer folder of another period, with a small count showing, is not this run's
    decoy = out / "sus" / "2030Q1_2030Q1"
    decoy.mkdir(parents=True)
    book = openpyxl.Workbook()
    book.active.append(["Nyinskrivna", 1])
    book.create_sheet("Om statistiken")
    book.save(decoy / "sus_statistik.xlsx")
    assert main([*report, "--from", "2024Q1", "--to", "2024Q3", "--min-cell", "4"]) == 0
    status, metadata = check_record(home)
    assert status == "SUCCEEDED" and metadata["minsta_visade_antal"].value == 4
    engine = create_engine(url)
    with engine.connect() as connection:
        read = register.read(connection)
    engine.dispose()
    # the nightly quarter of `run`, then the two reports: each protected against the earlier
    assert set(zip(read["period_start"], read["period_end"], read["scope"])) == {
        (dt.date(2024, 10, 1), dt.date(2024, 12, 31), ""),
        (dt.date(2024, 1, 1), dt.date(2024, 12, 31), ""),
        (dt.date(2024, 1, 1), dt.date(2024, 9, 30), "")}
    # published and restricted files apart; restricted ones private
    published = out / "sus" / "2024Q1_2024Q3"
    restricted = out / "begransad" / "sus" / "2024Q1_2024Q3"
    assert sorted(path.name for path in published.iterdir()) == ["sus_statistik.html",
                                                                 "sus_statistik.xlsx"]
    internal = restricted / "sus_statistik_intern.xlsx"
    assert stat.S_IMODE(internal.stat().st_mode) == 0o600
    assert stat.S_IMODE((out / "begransad").stat().st_mode) == 0o700
    submission = out / "begransad" / "sus" / "2024Q4_2024Q4" / "inregistreringar.csv"
    assert submission.exists() and stat.S_IMODE(submission.stat().st_mode) == 0o600
    assert not (out / "sus" / "2024Q4_2024Q4" / "inregistreringar.csv").exists()
