"""Frames the Great Expectations suites look at, on hand-built inputs."""

from __future__ import annotations

import pandas as pd

from assets.quality.frames import delivered_rows, share_changes


def test_completeness_counts_each_partner_from_its_first_delivery():
    manifest = pd.DataFrame({
        "source": ["fk", "fk", "af", "fk", "insats"],
        "extraction_date": ["2024-01-10", "2024-09-10", "2024-04-01", "2024-02-01", "2024-12-01"],
        "rows_read": [5, 3, 2, 9, 100],
        "outcome": ["inläst", "inläst", "inläst", "avvisad", "inläst"]})
    rows = delivered_rows(manifest)
    assert rows.values.tolist() == [["fk", "2024Q1", 5], ["fk", "2024Q2", 0], ["af", "2024Q2", 2],
                                    ["fk", "2024Q3", 3], ["af", "2024Q3", 0]]


def test_share_of_women_changes_only_for_quarters_with_enough_enrolments():
    spells = pd.DataFrame({
        "inskrivningsdatum": pd.to_datetime(["2024-01-15"] * 20 + ["2024-04-15"] * 20
                                            + ["2024-07-15"] * 5),
        "kon": ["K"] * 10 + ["M"] * 10 + ["K"] * 15 + ["M"] * 5 + ["K"] * 5})
    changes = share_changes(spells)
    assert changes[["quarter", "share_change"]].values.tolist() == [["2024Q2", 0.25]]
