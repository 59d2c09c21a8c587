"""Reconciliation conflicts on hand-built frames."""

from __future__ import annotations

import pandas as pd

from assets.steward.conflicts import find_conflicts


def _spells() -> pd.DataFrame:
    return pd.DataFrame({
        "record_key": ["s1", "s2", "s3"], "insats": ["A", "A", "A"],
        "pseudonym": ["p1", "p2", None],
        "inskrivningsdatum": pd.to_datetime(["2024-02-01", "2024-02-01", "2024-02-01"]),
        "kon": ["K", "M", None], "age_at_enrolment": pd.array([44, 33, pd.NA], dtype="Int64"),
        "forsorjning_in": ["AKS", "SJP,AKS", None],
        "file_name": ["f.xlsx"] * 3, "row_number": [2, 3, 4],
    })


def _evidence() -> pd.DataFrame:
    return pd.DataFrame({
        "pseudonym": ["p1", "p1", "p2"], "partner": ["FK", "FK", "FK"],
        "forsorjning": ["SJP", "SJE", "SJP"],
        "start": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-01-01"]),
        "end": pd.to_datetime([None, None, "2024-12-31"]),
    })


def test_sick_pay_on_the_enrolment_day_missing_from_the_register():
    conflicts = find_conflicts(_spells(), _evidence(), pd.Series({"p1": 2, "p2": 2}))
    assert conflicts[["spell_key", "expected", "found", "person"]].values.tolist() == [
        ["s1", "FK visar SJP på inskrivningsdagen", "AKS", "K, 44 år vid inskrivningen"]]


def test_fewer_than_two_partners():
    conflicts = find_conflicts(_spells(), _evidence().iloc[:0], pd.Series({"p1": 1}))
    assert conflicts[["spell_key", "found"]].values.tolist() == [["s1", "1 parter"], ["s2", "0 parter"]]
