"""The seven SUS tables, counted by hand from the spells in conftest.py."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from assets.sus import statistics as st
from finsam import reference

START, END = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-06-30")


@pytest.fixture
def tables_a(spells: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return st.sus_tables(spells.loc[spells["insats"] == "A"], START, END)


def nonzero(table: pd.DataFrame) -> dict[tuple[str, str], int]:
    cells = table.stack()
    return {key: int(value) for key, value in cells[cells != 0].items()}


def test_tables_are_the_contracts_seven_and_the_outcome_pair_in_order(
        tables_a: dict[str, pd.DataFrame]) -> None:
    assert list(tables_a) == ["Översikt", "Försörjning vid inskrivning",
                              "Tid i offentlig försörjning", "Ålder vid inskrivning",
                              "Utskrivna per avslutsanledning", "Måluppfyllelse", "Tid i insatsen",
                              "Försörjning vid inskrivning, utskrivna",
                              "Försörjning vid utskrivning"]


def test_outcome_before_and_after_for_the_ended_spells(spells: pd.DataFrame) -> None:
    exit_codes = {"s2": "LON", "s3": None, "s5": None, "s6": None, "s7": "SJP,AKA",
                  "s9": "STS", "s10": "SJP", "s11": "ING", "s12": "LON"}
    spells = spells.assign(
        forsorjning_ut=lambda frame: [exit_codes.get(name) for name in frame.index])
    tables = st.sus_tables(spells.loc[spells["insats"] == "A"], START, END)
    before, after = tables[st.FORSORJNING_FORE], tables[st.FORSORJNING_EFTER]
    # ended in the period and counted: s2 K, s6 M (withdrawn, no exit value), s7 M, s9 K, s10 M,
    # s11 K (s3 FEL, s5 anonymous, s12 before the period)
    assert before.loc["Sjukpenning (inkl. rehabiliteringspenning)"].tolist() == [2, 1, 3]
    assert before.loc["Försörjningsstöd"].tolist() == [0, 1, 1]
    assert after.loc["Lön (även anställning med stöd)"].tolist() == [1, 0, 1]
    assert after.loc["Studiestöd"].tolist() == [1, 0, 1]
    assert after.loc["Sjukpenning (inkl. rehabiliteringspenning)"].tolist() == [0, 2, 2]
    assert after.loc["Ingen offentlig försörjning"].tolist() == [1, 0, 1]
    assert after.loc[st.MISSING].tolist() == [0, 1, 1]
    # every ended spell is somewhere on both sides
    ended = int(tables[st.AVSLUT].at[st.TOTAL, st.TOTAL])
    assert (before.loc[st.MISSING, st.TOTAL] == 0) and ended == 6


def test_overview_counts_every_spell_but_fel(tables_a: dict[str, pd.DataFrame]) -> None:
    overview = tables_a[st.OVERVIEW]
    assert list(overview.columns) == ["Antal"]
    # början s2 s5 s6 s7 s10 s11; nya s1 s4 s8 s9 (not FEL s3); anonyma s4;
    # utskrivna s2 s5 s6 s7 s9 s10 s11; slut s1 s4 s8;
    # personer p1 (s1+s2), s4, s5, tok1, p3, p4, p5, p6, p7
    assert overview["Antal"].to_dict() == {
        "Inskrivna vid periodens början": 6, "Nyinskrivna": 4, "varav anonyma": 1,
        "Utskrivna": 7, "Inskrivna vid periodens slut": 3, "Unika personer": 9}
    assert overview["Antal"].map(type).eq(int).all()


def test_forsorjning_lists_every_code_and_counts_two_codes_twice(
        tables_a: dict[str, pd.DataFrame]) -> None:
    table = tables_a[st.FORSORJNING]
    assert list(table.index) == list(reference.labels("forsorjning").values())
    assert list(table.columns) == ["Kvinnor", "Män", "Totalt"]
    names = reference.labels("forsorjning")
    # s1 AKS+FSB, s8 ING, s9 STS; all women; s3 (FEL) and s4 (anonymous) not counted
    assert nonzero(table) == {(names[code], column): 1 for code in ("AKS", "FSB", "ING", "STS")
                              for column in ("Kvinnor", "Totalt")}
    assert table.dtypes.eq("int64").all()


def test_tid_i_offentlig_forsorjning(tables_a: dict[str, pd.DataFrame]) -> None:
    table = tables_a[st.TID_OFFENTLIG]
    names = reference.labels("tid_offentlig_forsorjning")
    assert list(table.index) == list(names.values())
    assert nonzero(table) == {(names["0"], "Kvinnor"): 2, (names["0"], "Totalt"): 2,
                              (names["2"], "Kvinnor"): 1, (names["2"], "Totalt"): 1}


def test_age_bands_with_a_row_for_ages_outside(tables_a: dict[str, pd.DataFrame]) -> None:
    table = tables_a[st.ALDER]
    assert list(table.index) == ["16–29", "30–39", "40–49", "50–64", "Utanför 16–64"]
    # s1 25 and s9 16 (the band's lower edge), s8 70
    assert nonzero(table) == {("16–29", "Kvinnor"): 2, ("16–29", "Totalt"): 2,
                              ("Utanför 16–64", "Kvinnor"): 1, ("Utanför 16–64", "Totalt"): 1}


def test_age_band_edges() -> None:
    ages = pd.Series([15, 16, 29, 30, 49, 50, 64, 65, None], dtype="Int64")
    assert st._age_band(ages).tolist() == [
        "Utanför 16–64", "16–29", "16–29", "30–39", "40–49", "50–64", "50–64", "Utanför 16–64",
        pd.NA]


def test_utskrivna_per_avslutsanledning(tables_a: dict[str, pd.DataFrame]) -> None:
    table = tables_a[st.AVSLUT]
    names = reference.labels("avslutsanledning")
    assert list(table.index) == ["Kvinna", "Man", "Totalt"]
    assert list(table.columns) == [names[code] for code in names if code != "FEL"] + ["Totalt"]
    # women s2 ARB, s9 STU, s11 FLY; men s6 AVB (withdrawn), s7 SJK, s10 REH; s5 anonymous
    expected = {("Kvinna", "ARB"): 1, ("Kvinna", "STU"): 1, ("Kvinna", "FLY"): 1,
                ("Man", "AVB"): 1, ("Man", "SJK"): 1, ("Man", "REH"): 1}
    expected.update({("Totalt", code): 1 for _, code in list(expected)})
    cells = {(row, names[code]): value for (row, code), value in expected.items()}
    cells.update({("Kvinna", "Totalt"): 3, ("Man", "Totalt"): 3, ("Totalt", "Totalt"): 6})
    assert nonzero(table) == cells


def test_maluppfyllelse_shares(tables_a: dict[str, pd.DataFrame]) -> None:
    table = tables_a[st.MAL]
    assert list(table.index) == ["Andel arbete, studier eller fortsatt rehabilitering",
                                 "Andel sjukdom", "Andel övriga"]
    # women ARB STU | - | FLY of 3; men REH | SJK | AVB of 3; FEL (s3) is in no denominator
    expected = {"Kvinnor": [2 / 3, 0, 1 / 3], "Män": [1 / 3, 1 / 3, 1 / 3],
                "Totalt": [3 / 6, 1 / 6, 2 / 6]}
    for column, shares in expected.items():
        assert table[column].tolist() == pytest.approx(shares)


def test_maluppfyllelse_is_nan_without_ended_spells(spells: pd.DataFrame) -> None:
    table = st.sus_tables(spells.loc[spells["insats"] == "B"], START, END)[st.MAL]
    assert table.isna().all().all()


def test_tid_i_insatsen_month_bands(tables_a: dict[str, pd.DataFrame]) -> None:
    table = tables_a[st.TID_INSATS]
    assert list(table.index) == ["Upp till 12 mån", "13–18 mån", "19–24 mån", "Mer än 24 mån"]
    # up to 12: s2, s9 (K), s6 (Jan 31 + 12 months), s10 (exactly 12 months) (M);
    # 13-18: s11 (12 months and a day); 19-24: s7 (18.5 months)
    assert nonzero(table) == {
        ("Upp till 12 mån", "Kvinnor"): 2, ("Upp till 12 mån", "Män"): 2,
        ("Upp till 12 mån", "Totalt"): 4, ("13–18 mån", "Kvinnor"): 1, ("13–18 mån", "Totalt"): 1,
        ("19–24 mån", "Män"): 1, ("19–24 mån", "Totalt"): 1}


@pytest.mark.parametrize(("enrolled", "ended", "band"), [
    ("2023-01-31", "2024-01-31", "Upp till 12 mån"),
    ("2023-01-31", "2024-02-01", "13–18 mån"),
    ("2023-08-31", "2025-02-28", "13–18 mån"),  # 18 calendar months end on Feb 28
    ("2023-08-31", "2025-03-01", "19–24 mån"),
    ("2022-02-28", "2024-02-28", "19–24 mån"),
    ("2022-02-28", "2024-02-29", "Mer än 24 mån"),
])
def test_month_band_edges(make_spells, enrolled: str, ended: str, band: str) -> None:
    spells = make_spells({"x": ("A", "p", None, False, False, "M", 30, enrolled, ended, "ARB",
                                "SJP", "1", None)})
    table = st.sus_tables(spells, "2024-01-01", "2025-12-31")[st.TID_INSATS]
    assert table.at[band, "Män"] == 1 and table["Män"].sum() == 1


def test_statistics_per_insats_and_all(spells: pd.DataFrame) -> None:
    stats = st.sus_statistics(spells, START, END)
    assert list(stats) == ["Alla insatser", "A", "B"]
    everyone = stats["Alla insatser"][st.OVERVIEW]["Antal"]
    # B adds s14 (new, enrolled at the end); p1 is the same person in A and B
    assert everyone.tolist() == [6, 5, 1, 7, 4, 9]
    assert stats["B"][st.OVERVIEW]["Antal"].tolist() == [0, 1, 0, 0, 1, 1]
    names = reference.labels("forsorjning")
    assert stats["B"][st.FORSORJNING].at[names["AKA"], "Kvinnor"] == 1
    assert stats["Alla insatser"][st.FORSORJNING].at[names["AKA"], "Totalt"] == 1


def test_a_spell_without_any_identity_is_its_own_person(make_spells) -> None:
    rows = {name: ("A", None, None, True, False, "K", None, "2024-02-01", None, None, None, None,
                   None) for name in ("a", "b")}
    overview = st.sus_tables(make_spells(rows), START, END)[st.OVERVIEW]["Antal"]
    assert overview["Unika personer"] == 2 and overview["varav anonyma"] == 2


def test_fel_counts_nowhere_even_in_a_period_after_the_spell(spells: pd.DataFrame) -> None:
    stats = st.sus_tables(spells.loc[["s3"]], START, END)
    assert all(table.fillna(0).eq(0).all().all() for table in stats.values())


def test_empty_frame_gives_zero_tables(make_spells) -> None:
    tables = st.sus_tables(make_spells({}), START, END)
    assert tables[st.OVERVIEW]["Antal"].eq(0).all()
    assert tables[st.FORSORJNING].shape == (len(reference.codes("forsorjning")), 3)
    assert math.isnan(tables[st.MAL].at[st.GOAL, "Totalt"])


def test_quarterly_counts_add_up_to_the_overview(spells: pd.DataFrame) -> None:
    quarterly = st.quarterly_counts(spells, START, END)
    assert list(quarterly.columns) == ["insats", "kvartal", "nyinskrivna", "utskrivna"]
    wide = quarterly.set_index(["insats", "kvartal"])
    # A new: s9 s1 | s4 s8; ended: s2 s5 s6 s10 s11 | s9 s7. B new: s14 in Q2
    assert wide.loc["A"].to_dict("list") == {"nyinskrivna": [2, 2], "utskrivna": [5, 2]}
    assert wide.loc["B"].to_dict("list") == {"nyinskrivna": [0, 1], "utskrivna": [0, 0]}
    assert list(wide.loc["A"].index) == ["2024Q1", "2024Q2"]
