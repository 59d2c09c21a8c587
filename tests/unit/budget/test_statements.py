"""Delårsrapport and årsredovisning on a hand-built förbund of two years; every figure by hand.

2024: members FK 500 000, Region 250 000, Kommun A 150 000, Kommun B 100 000 (1 000 000) and
eget kapital 120 000 brought forward. 2023: 480 000, 240 000, 144 000, 96 000 (960 000), eget
kapital 80 000.

Catalogue 2024: IND1 (individinriktad, target 30), STR1 (strukturövergripande), NY
(individinriktad, target 10, starts 15 May 2024), ADM.
Budget 2024: IND1 LON 100 000 a quarter, LOK 10 000 a quarter, TOTALT Årsbudget 460 000 (20 000
beyond its rows); STR1 UTB 60 000 a year; NY LON 80 000 a year (May-December: 10 000 a month);
ADM LON 50 000 and OVR 5 000 a quarter. Årsbudget in all 820 000.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assets.budget.followup import Period, accumulated_history
from assets.budget.statement_report import statement_cells, statement_report
from assets.budget.statement_report import write as write_statement
from assets.budget.statements import (
    AVVIKELSE,
    KOMMUNER,
    OVRIGA_INTAKTER,
    REGION,
    STATE,
    SUMMA,
    SUMMA_INTAKTER,
    SUMMA_KOSTNADER,
    SUMMA_MEDLEMSBIDRAG,
    delarsperioder,
    member_kind,
    statement,
)
from tests.unit.budget import xlsx_check

T1 = Period(2024, "tertial", 1)
T2 = Period(2024, "tertial", 2)
H1 = Period(2024, "halvår", 1)
YEAR = Period(2024, "år")
THIRD = 1 / 3
LON, LOK, UTB, OVR = ("Löner och arvoden (inkl. sociala avgifter)", "Lokaler",
                      "Utbildningsinsatser", "Övriga kostnader")
UNALLOCATED = "Ej fördelat på kostnadsslag"


def _day(text: str | None):
    return None if text is None else dt.date.fromisoformat(text)


def _lines() -> pd.DataFrame:
    rows = [
        # year, insats, kostnadsslag, q1..q4, ackumulering, spread
        (2024, "IND1", "LON", 100_000, 100_000, 100_000, 100_000, 400_000, False),
        (2024, "IND1", "LOK", 10_000, 10_000, 10_000, 10_000, 40_000, False),
        (2024, "STR1", "UTB", 15_000, 15_000, 15_000, 15_000, 60_000, True),
        # as ingestion stores an annual amount of an insats active in Q2-Q4
        (2024, "NY", "LON", 0, 80_000 / 3, 80_000 / 3, 80_000 / 3, 80_000, True),
        (2024, "ADM", "LON", 50_000, 50_000, 50_000, 50_000, 200_000, False),
        (2024, "ADM", "OVR", 5_000, 5_000, 5_000, 5_000, 20_000, False),
        (2023, "IND1", "LON", 90_000, 90_000, 90_000, 90_000, 360_000, False),
        (2023, "STR1", "UTB", 12_500, 12_500, 12_500, 12_500, 50_000, True),
        (2023, "ADM", "LON", 50_000, 50_000, 50_000, 50_000, 200_000, False),
    ]
    frame = pd.DataFrame(rows, columns=["year", "insats", "kostnadsslag", "q1", "q2", "q3", "q4",
                                        "ackumulering", "spread"])
    frame["arsbudget"] = np.nan
    return frame


def _catalogue() -> pd.DataFrame:
    rows = [
        (2024, "IND1", "Individ ett", "2022-01-01", None, "Individinriktad", 30.0),
        (2024, "STR1", "Struktur ett", "2022-01-01", None, "Strukturövergripande", None),
        (2024, "NY", "Nya vägen", "2024-05-15", None, "Individinriktad", 10.0),
        (2024, "ADM", "Kansliet", "2008-01-01", None, "Strukturövergripande", None),
        (2023, "IND1", "Individ ett", "2022-01-01", None, "Individinriktad", 30.0),
        (2023, "STR1", "Struktur ett", "2022-01-01", None, "Strukturövergripande", None),
        (2023, "ADM", "Kansliet", "2008-01-01", None, "Strukturövergripande", None),
    ]
    frame = pd.DataFrame(rows, columns=["year", "insats", "namn", "startdatum", "slutdatum",
                                        "inriktning", "mal_deltagare"])
    frame["startdatum"] = pd.to_datetime(frame["startdatum"])
    frame["slutdatum"] = pd.to_datetime(frame["slutdatum"])
    return frame


def _financing() -> pd.DataFrame:
    rows = [(2024, "Försäkringskassan", 500_000), (2024, "Region Östergötland", 250_000),
            (2024, "Kommun A kommun", 150_000), (2024, "Kommun B kommun", 100_000),
            (2024, "Eget kapital", 120_000),
            (2023, "Försäkringskassan", 480_000), (2023, "Region Östergötland", 240_000),
            (2023, "Kommun A kommun", 144_000), (2023, "Kommun B kommun", 96_000),
            (2023, "Eget kapital", 80_000)]
    return pd.DataFrame(rows, columns=["year", "finansiar", "belopp"]).astype({"belopp": float})


def _ledger() -> pd.DataFrame:
    rows = [
        # date, projekt, belopp, kostnadsslag, account_class
        ("2024-01-25", "IND1", 100_000, "LON", "cost"),
        ("2024-03-25", "IND1", 100_000, "LON", "cost"),
        ("2024-04-25", "IND1", 40_000, "LON", "cost"),
        ("2024-06-25", "IND1", 110_000, "LON", "cost"),
        ("2024-09-25", "IND1", 100_000, "LON", "cost"),
        ("2024-02-10", "IND1", 12_000, "LOK", "cost"),
        ("2024-03-15", "IND1", -15_000, None, "income"),       # income booked on an insats
        ("2024-04-10", "STR1", 20_000, "UTB", "cost"),
        ("2024-10-10", "STR1", 30_000, "UTB", "cost"),
        ("2024-05-31", "NY", 9_000, "LON", "cost"),
        ("2024-07-31", "NY", 11_000, "LON", "cost"),
        ("2024-01-31", "ADM", 60_000, "LON", "cost"),
        ("2024-08-31", "ADM", 60_000, "LON", "cost"),
        ("2024-01-15", "ADM", -250_000, None, "income"),       # the members' contributions
        ("2024-04-15", "ADM", -250_000, None, "income"),
        ("2024-07-15", "ADM", -250_000, None, "income"),
        ("2024-10-15", "ADM", -250_000, None, "income"),
        ("2024-02-01", "ADM", 5_000, None, "ignored"),
        ("2023-02-25", "IND1", 80_000, "LON", "cost"),
        ("2023-05-25", "IND1", 90_000, "LON", "cost"),
        ("2023-11-25", "IND1", 100_000, "LON", "cost"),
        ("2023-03-10", "STR1", 10_000, "UTB", "cost"),
        ("2023-12-10", "STR1", 20_000, "UTB", "cost"),
        ("2023-04-30", "ADM", 50_000, "LON", "cost"),
    ]
    frame = pd.DataFrame(rows, columns=["bokforingsdatum", "projekt", "belopp", "kostnadsslag",
                                        "account_class"])
    frame["bokforingsdatum"] = pd.to_datetime(frame["bokforingsdatum"])
    return frame.astype({"belopp": float})


def _spells() -> pd.DataFrame:
    rows = [
        # insats, pseudonym, in, out, avslutsanledning
        ("IND1", "a", "2023-10-01", None, None),
        ("IND1", "b", "2024-02-01", "2024-03-31", "ARB"),
        ("IND1", "c", "2024-03-01", "2024-03-05", "FEL"),       # registered in error
        ("IND1", None, "2024-04-10", None, None),               # anonymous
        ("IND1", "d", "2024-06-01", None, None),
        ("IND1", "e", "2023-01-10", "2023-06-30", "STU"),
        ("NY", "a", "2024-06-01", None, None),                  # a is in two insatser
        ("NY", "f", "2024-05-20", None, None),
    ]
    frame = pd.DataFrame(rows, columns=["insats", "pseudonym", "inskrivningsdatum",
                                        "utskrivningsdatum", "avslutsanledning"])
    frame["deidentified_person"] = None
    frame["inskrivningsdatum"] = pd.to_datetime(frame["inskrivningsdatum"])
    frame["utskrivningsdatum"] = pd.to_datetime(frame["utskrivningsdatum"])
    return frame


@pytest.fixture
def inputs() -> dict:
    return {
        "lines": _lines(), "catalogue": _catalogue(), "financing": _financing(),
        "annual": pd.DataFrame({"year": [2024], "insats": ["IND1"], "arsbudget": [460_000.0]}),
        "ledger": _ledger(), "spells": _spells(),
        "held_budget_rows": pd.DataFrame(columns=["insats", "kostnadsslag"]),
        "held_ledger_rows": pd.DataFrame({
            "record_date": pd.to_datetime(["2024-03-03", "2023-12-01"]),
            "match_key": ["V1|1", "V2|1"]}),
    }


def _rows(frame: pd.DataFrame, column: str) -> dict[str, float]:
    return {label: value for label, value in frame[column].items()}


def _approx(values: dict) -> dict:
    return {key: (value if value is None or np.isnan(value) else pytest.approx(value))
            for key, value in values.items()}


@pytest.fixture
def t1(inputs):
    return statement(T1, as_of=dt.date(2024, 5, 1), **inputs)


def test_the_delarsrapport_exists_once_its_tertial_has_ended(inputs):
    assert statement(T1, as_of=dt.date(2024, 4, 30), **inputs) is None
    assert statement(T1, as_of=dt.date(2024, 5, 1), **inputs) is not None
    assert statement(YEAR, as_of=dt.date(2024, 12, 31), **inputs) is None
    # a year with neither budget nor bookings gets no report at all
    assert statement(Period(2026, "tertial", 1), **inputs) is None


def test_income_per_member_periodised_and_income_booked_on_an_insats(t1):
    columns = ["Utfall jan–apr 2024", "Budget jan–apr 2024", AVVIKELSE, "Utfall jan–apr 2023",
               "Budget helår 2024", "Prognos helår 2024"]
    assert list(t1.intakter.columns) == columns
    # four months of twelve: a third of each member's contribution
    expected = {
        "Medlemsbidrag Försäkringskassan": [500_000 / 3, 500_000 / 3, 0, 160_000, 500_000, 500_000],
        "Medlemsbidrag Region Östergötland": [250_000 / 3, 250_000 / 3, 0, 80_000, 250_000, 250_000],
        "Medlemsbidrag Kommun A kommun": [50_000, 50_000, 0, 48_000, 150_000, 150_000],
        "Medlemsbidrag Kommun B kommun": [100_000 / 3, 100_000 / 3, 0, 32_000, 100_000, 100_000],
        # 15 000 booked on IND1 in March; nothing was budgeted, nothing booked in 2023
        OVRIGA_INTAKTER: [15_000, 0, 15_000, 0, 0, 15_000],
        SUMMA_INTAKTER: [1_000_000 / 3 + 15_000, 1_000_000 / 3, 15_000, 320_000, 1_000_000,
                         1_015_000],
    }
    assert list(t1.intakter.index) == list(expected)
    for label, values in expected.items():
        assert t1.intakter.loc[label].to_list() == pytest.approx(values), label


def test_costs_per_kostnadsslag_negative_with_the_unallocated_arsbudget(t1):
    # Utfall jan-apr: LON IND1 100 000 + 100 000 + 40 000, ADM 60 000 (NY books from May);
    # Budget jan-apr: LON IND1 Q1 + April's third of Q2, ADM likewise, NY nothing (starts in
    # May); UTB STR1 60 000 over twelve months; 2023: IND1 80 000, ADM 50 000, STR1 10 000.
    # Prognos: outcome + the budget of May-December (IND1 LON 266 667, ADM LON 133 333,
    # NY 80 000; LOK 26 667; UTB 40 000; OVR 13 333).
    expected = {
        LON: [-300_000, -200_000, -100_000, -130_000, -680_000, -780_000],
        LOK: [-12_000, -40_000 / 3, 4_000 / 3, 0, -40_000, -12_000 - 80_000 / 3],
        UTB: [-20_000, -20_000, 0, -10_000, -60_000, -60_000],
        OVR: [0, -20_000 / 3, 20_000 / 3, 0, -20_000, -40_000 / 3],
        UNALLOCATED: [0, 0, 0, 0, -20_000, 0],
        SUMMA_KOSTNADER: [-332_000, -240_000, -92_000, -140_000, -820_000, -892_000],
    }
    for label, values in expected.items():
        assert t1.kostnader.loc[label].to_list() == pytest.approx(values), label
    others = t1.kostnader.drop(index=list(expected))
    assert (others.fillna(0) == 0).all().all()


def test_result_and_eget_kapital(t1):
    # 348 333 - 332 000; budget 333 333 - 240 000; 2023: 320 000 - 140 000;
    # whole year: 1 000 000 - 820 000 budgeted, 1 015 000 - 892 000 forecast
    assert t1.resultat.loc["Periodens resultat"].to_list() == pytest.approx(
        [16_333.33333, 93_333.33333, -77_000, 180_000, 180_000, 123_000])
    assert list(t1.eget_kapital.index) == ["Eget kapital vid årets början", "Periodens resultat",
                                           "Eget kapital vid periodens slut"]
    assert t1.eget_kapital.loc["Eget kapital vid årets början"].to_list() == [
        120_000, 120_000, 0, 80_000, 120_000, 120_000]
    assert t1.eget_kapital.loc["Eget kapital vid periodens slut"].to_list() == pytest.approx(
        [136_333.33333, 213_333.33333, -77_000, 260_000, 300_000, 243_000])


def test_each_members_share_and_the_shares_per_kind_of_member(t1):
    assert t1.finansiering["Andel 2024 %"].to_list() == pytest.approx([0.5, 0.25, 0.15, 0.1, 1])
    assert t1.finansiering.loc[SUMMA_MEDLEMSBIDRAG, "Medlemsbidrag 2024"] == 1_000_000
    assert t1.finansiering.loc[SUMMA_MEDLEMSBIDRAG, "Medlemsbidrag 2023"] == 960_000
    assert t1.huvudman.to_dict("index") == _expected_kinds()
    assert not any("Statens andel" in note for note in t1.notes["finansiering"])


def _expected_kinds() -> dict:
    return {
        STATE: {"Medlemsbidrag 2024": 500_000, "Andel 2024 %": 0.5, "Medlemsbidrag 2023": 480_000,
                "Andel 2023 %": 0.5},
        REGION: {"Medlemsbidrag 2024": 250_000, "Andel 2024 %": 0.25,
                 "Medlemsbidrag 2023": 240_000, "Andel 2023 %": 0.25},
        KOMMUNER: {"Medlemsbidrag 2024": 250_000, "Andel 2024 %": 0.25,
                   "Medlemsbidrag 2023": 240_000, "Andel 2023 %": 0.25},
        SUMMA_MEDLEMSBIDRAG: {"Medlemsbidrag 2024": 1_000_000, "Andel 2024 %": 1.0,
                              "Medlemsbidrag 2023": 960_000, "Andel 2023 %": 1.0},
    }


def test_gotland_financing_is_half_and_half(inputs):
    financing = pd.DataFrame({"year": [2024] * 3,
                              "finansiar": ["Försäkringskassan", "Region Gotland", "Eget kapital"],
                              "belopp": [1_500_000.0, 1_500_000.0, 400_000.0]})
    report = statement(YEAR, **{**inputs, "financing": financing})
    assert report.finansiering["Andel 2024 %"].to_list() == [0.5, 0.5, 1.0]
    assert list(report.huvudman.index) == [STATE, REGION, SUMMA_MEDLEMSBIDRAG]
    assert report.eget_kapital.iloc[0, 0] == 400_000
    # no 2023 financing now: the comparison has nothing to show for the members
    assert np.isnan(report.finansiering.loc[SUMMA_MEDLEMSBIDRAG, "Medlemsbidrag 2023"])
    assert any("2023 saknas" in note for note in report.notes["resultat"])


def test_a_state_share_other_than_half_is_noted(inputs):
    financing = _financing().assign(belopp=lambda f: f["belopp"].where(
        f["finansiar"] != "Försäkringskassan", 400_000.0))
    report = statement(T1, **{**inputs, "financing": financing})
    # 400 000 of 900 000
    assert any("44,4 %" in note for note in report.notes["finansiering"])
    assert member_kind("Staten genom Försäkringskassan") == STATE
    assert member_kind("Region Gotland") == REGION
    assert member_kind("Linköpings kommun") == KOMMUNER


def test_insatser_costs_income_net_and_budget(t1):
    expected = {
        "IND1 – Individ ett": ["Individinriktad", 252_000, 15_000, 237_000, 440_000 / 3,
                               460_000, 252_000 + 800_000 / 3 + 80_000 / 3, 252_000 / 460_000],
        "STR1 – Struktur ett": ["Strukturövergripande", 20_000, 0, 20_000, 20_000, 60_000,
                                60_000, 1 / 3],
        "NY – Nya vägen": ["Individinriktad", 0, 0, 0, 0, 80_000, 80_000, 0],
        "ADM – Kansliet": ["Administration", 60_000, 0, 60_000, 220_000 / 3, 220_000,
                           60_000 + 400_000 / 3 + 40_000 / 3, 60_000 / 220_000],
        SUMMA: [None, 332_000, 15_000, 317_000, 240_000, 820_000, 892_000, 332_000 / 820_000],
    }
    assert list(t1.insatser.index) == list(expected)
    for label, (kind, *values) in expected.items():
        row = t1.insatser.loc[label]
        assert row.iloc[0] == kind
        assert row.iloc[1:].astype(float).to_list() == pytest.approx(values), label


def test_participants_against_target_without_felregistrering(t1, inputs):
    # IND1 in January-April: a, b and the anonymous spell; c was a Felregistrering, d starts in
    # June, e left in 2023. NY has nobody before June. 2023 January-April: only e.
    expected = {
        "IND1 – Individ ett": [3, 30, 0.1, 1, 252_000, 84_000],
        "NY – Nya vägen": [0, 10, 0, 0, 0, np.nan],
        SUMMA: [3, 40, 0.075, 1, 252_000, 84_000],
    }
    assert list(t1.deltagare.index) == list(expected)
    for label, values in expected.items():
        assert t1.deltagare.loc[label].to_list() == pytest.approx(values, nan_ok=True), label
    assert t1.unique_participants == 3
    # January-August: IND1 a, b, anonymous, d; NY a and f; a is one person in both
    t2 = statement(T2, **inputs)
    assert t2.deltagare["Deltagare jan–aug 2024"].to_list() == [4, 2, 6]
    assert t2.unique_participants == 5


def test_structural_insatser_by_cost(t1):
    assert t1.strukturella.to_dict("index") == {
        "STR1 – Struktur ett": {"Kostnader jan–apr 2024": 20_000, "Budget jan–apr 2024": 20_000,
                                "Årsbudget": 60_000, "Kostnader jan–apr 2023": 10_000,
                                "Förbrukat %": pytest.approx(1 / 3)},
        SUMMA: {"Kostnader jan–apr 2024": 20_000, "Budget jan–apr 2024": 20_000,
                "Årsbudget": 60_000, "Kostnader jan–apr 2023": 10_000,
                "Förbrukat %": pytest.approx(1 / 3)},
    }


def test_notes_held_rows_of_the_period_and_booked_contributions(t1):
    notes = t1.notes["resultat"]
    assert any(note.startswith("1 bokföringsrad bokförd 2024-01-01 – 2024-04-30 med okänt Projekt")
               for note in notes)
    # 250 000 on 15 January and 15 April
    assert any("Medlemsbidrag bokförda på ADM 2024-01-01 – 2024-04-30: 500 000 kr" in note
               for note in notes)
    assert any("4/12" in note for note in notes)


def test_half_year(inputs):
    h1 = statement(H1, as_of=dt.date(2024, 7, 1), **inputs)
    # members: half of 1 000 000; costs January-June: LON 350 000 + 9 000 + 60 000, LOK
    # 12 000, UTB 20 000
    assert h1.resultat["Utfall jan–jun 2024"].to_list() == pytest.approx(
        [515_000, -451_000, 64_000])
    assert statement(H1, as_of=dt.date(2024, 6, 30), **inputs) is None


def test_arsredovisning(inputs):
    year = statement(YEAR, as_of=dt.date(2025, 1, 1), **inputs)
    assert year.kind == "årsredovisning"
    assert list(year.resultat.columns) == ["Utfall helår 2024", "Budget helår 2024", AVVIKELSE,
                                           "Utfall helår 2023"]
    # income 1 000 000 + 15 000; costs LON 450 000 + 20 000 + 120 000, LOK 12 000, UTB 50 000;
    # 2023: 960 000 - (270 000 + 50 000 + 30 000)
    assert year.resultat.to_dict("index") == {
        SUMMA_INTAKTER: {"Utfall helår 2024": 1_015_000, "Budget helår 2024": 1_000_000,
                         AVVIKELSE: 15_000, "Utfall helår 2023": 960_000},
        SUMMA_KOSTNADER: {"Utfall helår 2024": -652_000, "Budget helår 2024": -820_000,
                          AVVIKELSE: 168_000, "Utfall helår 2023": -350_000},
        "Årets resultat": {"Utfall helår 2024": 363_000, "Budget helår 2024": 180_000,
                           AVVIKELSE: 183_000, "Utfall helår 2023": 610_000},
    }
    assert year.eget_kapital.loc["Eget kapital vid årets slut"].to_list() == [
        483_000, 300_000, 183_000, 690_000]
    assert year.deltagare["Deltagare helår 2024"].to_list() == [4, 2, 6]
    assert year.deltagare["Deltagare helår 2023"].to_list() == [2, 0, 2]
    assert year.deltagare.loc[SUMMA, "Kostnad per deltagare"] == pytest.approx(482_000 / 6)
    assert year.unique_participants == 5
    # STR1: 20 000 + 30 000 in 2024, 10 000 + 20 000 in 2023
    assert year.strukturella.loc["STR1 – Struktur ett", "Kostnader helår 2023"] == 30_000
    assert any("2023 års beräknade utgående eget kapital (690 000 kr)" in note
               for note in year.notes["resultat"])


@pytest.mark.parametrize("unit, quarter, expected", [
    ("tertial", 1, []), ("tertial", 2, ["2024T1"]), ("tertial", 3, ["2024T2"]),
    ("tertial", 4, []), ("halvår", 2, ["2024H1"]), ("halvår", 3, []), ("halvår", 4, []),
])
def test_which_part_years_end_in_a_quarter(unit, quarter, expected):
    assert [period.code for period in delarsperioder(unit, 2024, quarter)] == expected


@pytest.mark.parametrize("period", [T1, T2, H1, YEAR], ids=lambda period: period.code)
def test_every_total_adds_up_and_the_cells_are_the_workbooks(inputs, tmp_path: Path, period):
    made = statement(period, **inputs)
    history = accumulated_history(2024, 4, lines=inputs["lines"], ledger=inputs["ledger"],
                                  catalogue=inputs["catalogue"])
    files = write_statement(made, tmp_path, history)
    assert xlsx_check.unbalanced_totals(files["workbook"]) == []
    # intäkter, kostnader, resultat, eget kapital, two financing tables, insatser, deltagare,
    # strukturövergripande
    assert xlsx_check.tables_checked(files["workbook"]) == 9
    frame = statement_cells(made)
    assert not frame.duplicated(["sheet", "table", "row", "column"]).any()
    xlsx_check.assert_cells_in_workbook(frame, files["workbook"])
    page = files["page"].read_text(encoding="utf-8")
    assert page.count('<svg class="diagram"') == (4 if period == YEAR else 3)
    for chart in ("foregaende-ar-diagram", "prognos-diagram", "deltagare-diagram"):
        assert f'<title id="{chart}">' in page
    assert "http://" not in page and "<script" not in page


def test_a_broken_total_is_found_by_the_independent_reader(inputs, tmp_path: Path):
    made = statement(T1, **inputs)
    report = statement_report(made)
    broken = made.kostnader.copy()
    broken.loc[LOK, "Utfall jan–apr 2024"] -= 1_000       # a row that no longer adds up
    from assets.budget import workbook
    from assets.budget.layout import Block, Sheet, Table
    sheet = Sheet("Fel", (Block("fel", "Fel", parts=(Table("Kostnader", broken),)),))
    path = workbook.write(type(report)(title="Fel", sheets=(sheet,)), tmp_path / "fel.xlsx")
    problems = xlsx_check.unbalanced_totals(path)
    assert len(problems) == 1 and "Utfall jan–apr 2024" in problems[0]
