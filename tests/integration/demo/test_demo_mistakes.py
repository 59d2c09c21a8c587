"""Every mistake the demo generator injects reaches the steward, one by one, and nothing else does."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

ROW_LEVEL = {"bad_check_digit", "unknown_code", "kon_mismatch", "date_order",
             "avslut_without_utskrivning", "age_out_of_range", "budget_not_adding_up",
             "budget_parenthesised", "unknown_projekt"}
NOTICE_PER_FILE = {"no_consent": "data utan samtycke", "reservnummer": "reservnummer",
                   "wrong_encoding": "avvisad fil", "missing_column": "avvisad fil",
                   "duplicate_delivery": "dubblett", "unrecognised_file": "okänd leverans"}
CONFLICTS = {"conflict_income", "conflict_partners"}


@pytest.fixture(scope="module")
def injected(demo) -> pd.DataFrame:
    return pd.read_csv(demo / "demo_injected_mistakes.csv", dtype={"row_number": "Int64"})


@pytest.fixture(scope="module")
def review(demo) -> pd.DataFrame:
    return pd.read_csv(demo / "out" / "steward" / "failures.csv", sep=";", encoding="utf-8-sig",
                       dtype={"Rad": "Int64", "Antal": "Int64"})


def _key(frame: pd.DataFrame, source: str, file: str, row: str, column: str) -> pd.Series:
    return (frame[source] + "|" + frame[file] + "|" + frame[row].astype("string") + "|"
            + frame[column].str.casefold())


def test_every_row_level_mistake_is_held_with_its_row_and_column(injected, review):
    expected = injected.loc[injected["kind"].isin(ROW_LEVEL)]
    held = review.loc[review["Typ"].isin(["valideringsfel", "varning"])]
    wanted = set(_key(expected, "source", "file", "row_number", "column"))
    found = set(_key(held, "Källa", "Fil", "Rad", "Kolumn"))
    assert wanted - found == set(), "injected but not reported"
    assert found - wanted == set(), "reported but not injected"
    warnings = held.loc[held["Typ"] == "varning"]
    ages = expected.loc[expected["kind"] == "age_out_of_range"]
    assert set(_key(warnings, "Källa", "Fil", "Rad", "Kolumn")) == set(
        _key(ages, "source", "file", "row_number", "column"))
    assert held["Förväntat"].notna().all() and held["Regel"].notna().all()


@pytest.mark.parametrize("kind", sorted(NOTICE_PER_FILE))
def test_file_level_mistakes_are_noticed_per_file_with_counts(injected, review, kind):
    expected = (injected.loc[injected["kind"] == kind].groupby(["source", "file"]).size()
                .rename("count"))
    notices = review.loc[review["Typ"] == NOTICE_PER_FILE[kind]]
    if kind in ("wrong_encoding", "missing_column"):
        notices = notices.loc[notices["Fil"].isin(expected.index.get_level_values("file"))]
    reported = notices.groupby(["Källa", "Fil"])["Antal"].sum().rename("count")
    reported.index.names = ["source", "file"]
    assert reported.sort_index().to_dict() == expected.sort_index().to_dict()


def test_vanished_records_are_noticed_against_the_next_snapshot(injected, review):
    expected = injected.loc[injected["kind"] == "vanished_record"].groupby("file").size()
    notices = review.loc[review["Typ"] == "försvunna poster"]
    for older_file, count in expected.items():
        mentioned = notices.loc[notices["Regel"].str.contains(older_file, regex=False)]
        assert mentioned["Antal"].tolist() == [count], older_file


def test_overlapping_and_extra_column_files_load_without_doubles(demo, injected):
    files = injected.loc[injected["kind"].isin(["overlapping_delta", "extra_columns"]), "file"]
    with sqlite3.connect(demo / "warehouse.db") as connection:
        manifest = pd.read_sql("select file_name, outcome from delivery", connection)
        for table in ("fk_benefit", "af_support", "soc_payment", "hsf_contact", "ledger_entry"):
            duplicates = pd.read_sql(f"select record_key, count(*) n from {table} "
                                     "group by record_key having n > 1", connection)
            assert duplicates.empty, table
    outcomes = manifest.set_index("file_name")["outcome"]
    assert set(outcomes.loc[files.unique()]) == {"inläst"}


def test_injected_conflicts_are_listed(injected, review):
    expected = injected.loc[injected["kind"].isin(CONFLICTS)]
    if expected.empty:
        pytest.skip("this generator version injects no conflicts")
    conflicts = review.loc[review["Typ"] == "konflikt"]
    wanted = set(zip(expected["file"], expected["row_number"]))
    assert set(zip(conflicts["Fil"], conflicts["Rad"])) == wanted
