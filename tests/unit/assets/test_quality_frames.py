"""Frames the Great Expectations suites look at, on hand-built inputs."""

from __future__ import annotations

import pandas as pd

from assets.quality.frames import (
    current_snapshot,
    delivered_rows,
    in_catalogue,
    lineage,
    not_fully_withdrawn,
    partner_consent,
    record_interval,
    share_changes,
)
from finsam.consent import RecordTime

PARTNERS = ("fk", "af", "soc", "hsf")


def test_completeness_counts_each_partner_from_its_first_delivery():
    manifest = pd.DataFrame({
        "source": ["fk", "fk", "af", "fk", "insats"],
        "extraction_date": ["2024-01-10", "2024-09-10", "2024-04-01", "2024-02-01", "2024-12-01"],
        "rows_read": [5, 3, 2, 9, 100],
        "outcome": ["inläst", "inläst", "inläst", "avvisad", "inläst"]})
    rows = delivered_rows(manifest, PARTNERS)
    assert rows.values.tolist() == [["fk", "2024Q1", 5], ["fk", "2024Q2", 0], ["af", "2024Q2", 2],
                                    ["fk", "2024Q3", 3], ["af", "2024Q3", 0]]


def test_share_of_women_changes_only_for_quarters_with_enough_enrolments():
    spells = pd.DataFrame({
        "inskrivningsdatum": pd.to_datetime(["2024-01-15"] * 20 + ["2024-04-15"] * 20
                                            + ["2024-07-15"] * 5),
        "kon": ["K"] * 10 + ["M"] * 10 + ["K"] * 15 + ["M"] * 5 + ["K"] * 5})
    changes = share_changes(spells)
    assert changes[["quarter", "share_change"]].values.tolist() == [["2024Q2", 0.25]]


def _consents(*rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["pseudonym", "samtycke_fran", "giltigt_till",
                                        "aterkallat", "parter"])
    for name in ("samtycke_fran", "giltigt_till", "aterkallat"):
        frame[name] = pd.to_datetime(frame[name])
    return frame


def test_a_month_is_the_whole_month_and_an_unreadable_one_is_never_covered():
    start, end = record_interval(pd.DataFrame({"manad": ["2024-02", "2024-13"]}),
                                 RecordTime("manad", month=True))
    assert start.tolist()[0] == pd.Timestamp("2024-02-01")
    assert end.tolist()[0] == pd.Timestamp("2024-02-29") and pd.isna(start.tolist()[1])
    covered = partner_consent(
        pd.DataFrame({"pseudonym": ["p", "p"], "manad": ["2024-02", "2024-13"],
                      "extraction_date": ["2024-06-30"] * 2}),
        _consents(("p", "2024-02-29", None, None, "SOC")), "SOC", RecordTime("manad", month=True))
    assert covered.tolist() == [True, False]


def test_the_partner_code_is_matched_whole():
    rows = pd.DataFrame({"pseudonym": ["p"], "kontaktdatum": ["2024-03-01"],
                         "extraction_date": ["2024-06-30"]})
    time = RecordTime("kontaktdatum")
    assert not partner_consent(rows, _consents(("p", "2024-01-01", None, None, "HSFX,AF")),
                               "HSF", time).any()
    assert partner_consent(rows, _consents(("p", "2024-01-01", None, None, "AF,HSF")),
                           "HSF", time).all()


def test_a_consent_withdrawn_on_its_first_day_never_covers_anything():
    rows = pd.DataFrame({"pseudonym": ["p"], "fom": ["2024-01-01"], "tom": [None],
                         "extraction_date": ["2024-06-30"]})
    consents = _consents(("p", "2024-03-01", None, "2024-03-01", "FK"))
    assert not partner_consent(rows, consents, "FK", RecordTime("fom", "tom")).any()


def test_the_first_day_everything_was_withdrawn_erases_what_was_given_by_then():
    consents = _consents(("p", "2024-01-01", None, "2024-03-01", "FK"),
                         ("p", "2024-02-01", None, "2024-04-01", "AF"),   # all gone 2024-04-01
                         ("p", "2024-05-01", None, None, "AF"),           # a new basis
                         ("q", "2024-01-01", None, "2024-03-01", "FK"),
                         ("q", "2024-02-01", "2024-02-15", None, "AF"))   # expired, not withdrawn
    assert not_fully_withdrawn(consents).tolist() == [False, False, True, True, True]


def test_lineage_excuses_only_the_rows_that_rightly_point_nowhere():
    deliveries = pd.DataFrame({"id": [1, 2], "source": ["insats", "fk"],
                               "outcome": ["inläst", "inläst"],
                               "extraction_date": pd.to_datetime(["2024-06-30", "2024-06-30"])})
    rows = pd.DataFrame({"delivery_id": [1, None, None, 2],
                         "extraction_date": pd.to_datetime(["2024-06-30", None, None,
                                                            "2024-06-30"])})
    pointerless = pd.Series([False, True, False, False])
    frame = lineage(rows, deliveries, "insats", pointerless=pointerless)
    assert frame.iloc[:, 0].tolist() == [True, True, False, False]
    states = pd.DataFrame({"source": ["insats"], "scope": ["A"], "delivery_id": [1],
                           "extraction_date": pd.to_datetime(["2024-06-30"])})
    scoped = rows.assign(insats=["A", "A", "A", "B"])
    assert current_snapshot(scoped, deliveries, states, "insats", "insats",
                            pointerless=pointerless).tolist() == [True, True, False, False]


def test_a_code_is_judged_by_its_own_year_s_sheet_or_any_sheet_for_a_year_without_one():
    catalogue = pd.DataFrame({"year": [2024, 2024, 2025], "insats": ["A", "b", "C"]})
    codes = pd.Series(["A", "B", "C", "C", "ADM", "X", None])
    days = pd.Series(["2024-02-01", "2024-12-31", "2024-06-01", "2023-06-01", "2025-01-01",
                      "2026-01-01", "2024-01-01"])
    # by hand: A in 2024; b matches B; C not on 2024's sheet; 2023 has no sheet and C is on
    # 2025's; ADM always known; X on no sheet; a missing code is never known
    assert in_catalogue(codes, days, catalogue, ("ADM",)).tolist() == [
        True, True, False, True, True, False, False]
