"""Budget follow-up figures on the hand-built year of conftest.py, every expected value by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from assets.budget.followup import (
    ADM,
    ARETS_RESULTAT,
    BOKFORDA_MEDLEMSBIDRAG,
    BUDGET_HELAR,
    EK_IB,
    EK_UB,
    FORBUNDET,
    KOSTNADER,
    MEDLEMSBIDRAG,
    NET_COSTS,
    NET_INCOME,
    NET_TOTAL,
    OUTSIDE_CATALOGUE,
    OVRIGA_INTAKTER,
    PROGNOS_HELAR,
    TOTAL,
    UNALLOCATED,
    Period,
    accumulated_history,
    latest_ended_tertial,
    quarter_followups,
    quarterly_followup,
    tertial_followup,
)
from finsam import reference

LABELS = reference.labels("kostnadsslag")
ROWS = [*reference.code_list("kostnadsslag")["label"], UNALLOCATED, TOTAL]
Q_COLUMNS = ["Budget kvartal", "Utfall kvartal", "Avvikelse kvartal", "Budget ackumulerat",
             "Utfall ackumulerat", "Avvikelse ackumulerat", "Årsbudget", "Prognos helår",
             "Förbrukat %"]
ZERO = [0, 0, 0, 0, 0, 0, 0, 0, np.nan]
NAN = np.nan


def _expected(rows: dict[str, list[float]], columns: list[str] = Q_COLUMNS) -> pd.DataFrame:
    """A full table: the given kostnadsslag rows (by code), Ej fördelat (key UNALLOCATED) and
    Totalt; every other row zero."""
    values = [rows.get(code, ZERO) for code in reference.code_list("kostnadsslag")["code"]]
    frame = pd.DataFrame([*values, rows.get(UNALLOCATED, ZERO), rows[TOTAL]], index=ROWS,
                         columns=columns, dtype=float)
    frame.index.name = "Kostnadsslag"
    return frame


def _unallocated(amount: float) -> list[float]:
    """The row that holds the Årsbudget beyond the kostnadsslag rows: nothing else on it."""
    return [0, 0, 0, 0, 0, 0, amount, 0, NAN]


def _check(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(actual, expected, check_exact=False, rtol=1e-9)


@pytest.fixture
def q2(inputs):
    return quarterly_followup(2024, 2, **inputs)


def test_sheets_rows_and_columns(q2):
    assert list(q2.sheets) == ["JOBBSAM3", "GEMTAG", ADM, FORBUNDET]
    for table in q2.tables.values():
        assert list(table.index) == ROWS
        assert list(table.columns) == Q_COLUMNS
    assert q2.sheets["JOBBSAM3"].name == "Jobbsamverkan 3"


def test_insats_mid_year_every_column(q2):
    # LON: Q2 98 000 - 3 000 credit; Q1 95 000 + two rows of 2 500 (distinct vouchers).
    # Prognos = Utfall ackumulerat + budget Q3 + Q4.
    _check(q2.tables["JOBBSAM3"], _expected({
        "LON": [100_000, 95_000, 5_000, 200_000, 195_000, 5_000, 400_000, 395_000, 195_000 / 400_000],
        # 11 000 booked 30 June is Q2; the 11 000 of 1 July is not.
        "LOK": [10_000, 11_000, -1_000, 20_000, 11_000, 9_000, 44_000, 35_000, 11_000 / 44_000],
        # held budget row: no budget, the cost still counts
        "RES": [0, 7_000, -7_000, 0, 7_000, -7_000, 0, 7_000, NAN],
        # spread annual amount; 6 500 booked 31 March is Q1
        "IT": [6_000, 0, 6_000, 12_000, 6_500, 5_500, 24_000, 18_500, 6_500 / 24_000],
        # the TOTALT row states 500 000; the rows hold 400 000 + 44 000 + 24 000 = 468 000
        UNALLOCATED: _unallocated(32_000),
        # Årsbudget from the TOTALT row (500 000), the sum of the rows above it
        TOTAL: [116_000, 113_000, 3_000, 232_000, 219_500, 12_500, 500_000, 455_500, 219_500 / 500_000],
    }))


def test_arsbudget_is_sum_of_ackumulering_without_a_totalt_row(q2):
    # GEMTAG's only Årsbudget is for 2023: it must not be used for 2024.
    row = [60_000, 62_000, -2_000, 110_000, 117_000, -7_000, 240_000, 247_000, 117_000 / 240_000]
    _check(q2.tables["GEMTAG"], _expected({"LON": row, TOTAL: row}))


def test_adm_with_an_empty_quarter(q2):
    _check(q2.tables[ADM], _expected({
        "LON": [30_000, 31_000, -1_000, 60_000, 31_000, 29_000, 120_000, 91_000, 31_000 / 120_000],
        # q2 = 0 and q3 empty: remaining budget is q4's 3 000 only
        "OVR": [0, 1_500, -1_500, 3_000, 1_500, 1_500, 6_000, 4_500, 0.25],
        TOTAL: [30_000, 32_500, -2_500, 63_000, 32_500, 30_500, 126_000, 95_500, 32_500 / 126_000],
    }))


def test_forbundet_sums_every_sheet(q2):
    _check(q2.tables[FORBUNDET], _expected({
        "LON": [190_000, 188_000, 2_000, 370_000, 343_000, 27_000, 760_000, 733_000, 343_000 / 760_000],
        "LOK": [10_000, 11_000, -1_000, 20_000, 11_000, 9_000, 44_000, 35_000, 0.25],
        "RES": [0, 7_000, -7_000, 0, 7_000, -7_000, 0, 7_000, NAN],
        "IT": [6_000, 0, 6_000, 12_000, 6_500, 5_500, 24_000, 18_500, 6_500 / 24_000],
        "OVR": [0, 1_500, -1_500, 3_000, 1_500, 1_500, 6_000, 4_500, 0.25],
        UNALLOCATED: _unallocated(32_000),
        # Årsbudget: 500 000 + 240 000 + 126 000
        TOTAL: [206_000, 207_500, -1_500, 405_000, 369_000, 36_000, 866_000, 798_000, 369_000 / 866_000],
    }))


def test_per_insats_table_holds_each_sheets_total_and_adds_up(q2):
    per_insats = q2.sheets[FORBUNDET].per_insats
    assert list(per_insats.index) == ["JOBBSAM3 – Jobbsamverkan 3", "GEMTAG – Gemensamma tag",
                                      "ADM – Administration", TOTAL]
    assert per_insats["Utfall ackumulerat"].to_list() == [219_500, 117_000, 32_500, 369_000]
    assert per_insats["Årsbudget"].to_list() == [500_000, 240_000, 126_000, 866_000]


def test_result_is_members_income_less_costs_and_eget_kapital_beside_it(q2):
    # Finansiering 2024: FK 500 000 + Region 250 000 = 750 000 from the members; the 50 000 of
    # Eget kapital is brought forward, not the year's income. No income is booked on an insats.
    # Budget: 750 000 - Årsbudget 866 000; forecast: 750 000 - 798 000.
    assert q2.result.to_dict("index") == {
        MEDLEMSBIDRAG: {BUDGET_HELAR: 750_000, PROGNOS_HELAR: 750_000},
        OVRIGA_INTAKTER: {BUDGET_HELAR: 0, PROGNOS_HELAR: 0},
        KOSTNADER: {BUDGET_HELAR: -866_000, PROGNOS_HELAR: -798_000},
        ARETS_RESULTAT: {BUDGET_HELAR: -116_000, PROGNOS_HELAR: -48_000},
    }
    assert q2.equity.to_dict("index") == {
        EK_IB: {BUDGET_HELAR: 50_000, PROGNOS_HELAR: 50_000},
        ARETS_RESULTAT: {BUDGET_HELAR: -116_000, PROGNOS_HELAR: -48_000},
        EK_UB: {BUDGET_HELAR: -66_000, PROGNOS_HELAR: 2_000},
    }
    # the two contributions of 200 000 booked on ADM up to 30 June (2 July's is later): shown
    # for reconciliation, not added to the result
    assert q2.sheets[FORBUNDET].figures == {BOKFORDA_MEDLEMSBIDRAG: 400_000}
    assert q2.sheets["JOBBSAM3"].result is None


def test_year_result_at_year_end_is_the_actual_result(inputs):
    # Every cost of 2024: JOBBSAM3 95 000 + 2 500 + 2 500 + 6 500 + 98 000 - 3 000 + 11 000
    # + 11 000 + 7 000 = 230 500; GEMTAG 55 000 + 62 000; ADM 31 000 + 1 500: 380 000 in all.
    # Result 750 000 - 380 000 = 370 000 (not 800 000 - 380 000: eget kapital is no income).
    q4 = quarterly_followup(2024, 4, **inputs)
    assert q4.result.at[ARETS_RESULTAT, PROGNOS_HELAR] == 370_000
    assert q4.equity[PROGNOS_HELAR].to_list() == [50_000, 370_000, 420_000]


def test_a_budget_that_spends_its_eget_kapital_shows_the_deficit(inputs):
    # Members 433 000 + 383 000 = 816 000 and eget kapital 50 000: the Årsbudget of 866 000
    # spends all of the capital brought forward. Budgeted result -50 000, capital left 0.
    financing = pd.DataFrame({"year": [2024] * 3,
                              "finansiar": ["Försäkringskassan", "Region Gotland", "Eget kapital"],
                              "belopp": [433_000.0, 383_000.0, 50_000.0]})
    q2 = quarterly_followup(2024, 2, **{**inputs, "financing": financing})
    assert q2.result[BUDGET_HELAR].to_list() == [816_000, 0, -866_000, -50_000]
    assert q2.equity[BUDGET_HELAR].to_list() == [50_000, -50_000, 0]
    # forecast: 816 000 - 798 000
    assert q2.equity[PROGNOS_HELAR].to_list() == [50_000, 18_000, 68_000]


def test_income_booked_on_an_insats_is_on_its_sheet_and_in_the_result(inputs):
    income = pd.DataFrame([
        {"bokforingsdatum": dt.date(2024, 2, 5), "projekt": "GEMTAG", "belopp": -5_000.0,
         "kostnadsslag": "INTAKT", "account_class": "income"},
        {"bokforingsdatum": dt.date(2024, 5, 10), "projekt": "GEMTAG", "belopp": -20_000.0,
         "kostnadsslag": "INTAKT", "account_class": "income"},
    ])
    ledger = pd.concat([inputs["ledger"], income], ignore_index=True)
    q2 = quarterly_followup(2024, 2, **{**inputs, "ledger": ledger})
    net = q2.sheets["GEMTAG"].net
    # GEMTAG's costs: 62 000 in Q2, 117 000 so far; income 20 000 in Q2, 25 000 so far
    assert net.to_dict("index") == {
        NET_COSTS: {"Utfall kvartal": 62_000, "Utfall ackumulerat": 117_000},
        NET_INCOME: {"Utfall kvartal": -20_000, "Utfall ackumulerat": -25_000},
        NET_TOTAL: {"Utfall kvartal": 42_000, "Utfall ackumulerat": 92_000},
    }
    assert q2.sheets["JOBBSAM3"].net is None
    # forecast: 750 000 + 25 000 - 798 000; the budget has no income besides the members'
    assert q2.result[PROGNOS_HELAR].to_list() == [750_000, 25_000, -798_000, -23_000]
    assert q2.result[BUDGET_HELAR].to_list() == [750_000, 0, -866_000, -116_000]
    assert q2.sheets[FORBUNDET].figures == {BOKFORDA_MEDLEMSBIDRAG: 400_000}


def test_participants_and_cost_per_participant(q2):
    # p2, p3 (two spells), d1 (withdrawn), two anonymous spells, p5 (left on 1 January);
    # p1 left in 2023, p4 starts in July, p6's spell was a Felregistrering.
    jobbsam = q2.sheets["JOBBSAM3"]
    assert jobbsam.participants == 6
    assert jobbsam.cost_per_participant == pytest.approx(219_500 / 6)
    assert jobbsam.target == 60 and jobbsam.target_share == pytest.approx(6 / 60)
    # p2; the anonymous FEL spell is not a participant
    assert q2.sheets["GEMTAG"].participants == 1
    assert q2.sheets["GEMTAG"].cost_per_participant == pytest.approx(117_000)
    assert q2.sheets[ADM].participants is None


def test_notes_name_held_and_spread_rows_and_count_left_out_ledger_rows(q2):
    notes = q2.sheets["JOBBSAM3"].notes
    assert any("saknas" in note and LABELS["RES"] in note and "granskning" in note for note in notes)
    assert any("aktiva månader" in note and LABELS["IT"] in note for note in notes)
    assert ("Årsbudgeten (500 000 kr) är 32 000 kr större än summan av kostnadsslagens rader "
            "(468 000 kr): skillnaden står på raden Ej fördelat på kostnadsslag.") in notes
    # 2 April and 2 May in Q2; the February row is outside the period
    assert "2 bokföringsrader i perioden på konton utanför uppföljningen ingår inte." in notes
    # held rows booked 20 February and 30 June (delivered twice: one record); not those of
    # August, of 2023 or without a date
    held = ("2 bokföringsrader bokförda 2024-01-01 – 2024-06-30 med okänt Projekt hålls för "
            "granskning och ingår inte i utfallet.")
    assert held in notes
    assert "1 bokföringsrad i perioden på konton utanför uppföljningen ingår inte." in q2.sheets[ADM].notes
    assert not any("saknas" in note for note in q2.sheets["GEMTAG"].notes)
    assert not any("Årsbudgeten" in note for note in q2.sheets["GEMTAG"].notes)
    forbundet = q2.sheets[FORBUNDET].notes
    assert any(f"JOBBSAM3: {LABELS['RES']}" in note for note in forbundet)
    assert "3 bokföringsrader i perioden på konton utanför uppföljningen ingår inte." in forbundet


@pytest.mark.parametrize("quarter, expected", [
    (1, "1 bokföringsrad bokförd 2024-01-01 – 2024-03-31"),
    (3, "3 bokföringsrader bokförda 2024-01-01 – 2024-09-30"),
])
def test_held_ledger_rows_are_those_of_the_period(inputs, quarter, expected):
    notes = quarterly_followup(2024, quarter, **inputs).sheets[FORBUNDET].notes
    assert sum(note.startswith(expected) for note in notes) == 1


def test_held_ledger_rows_of_another_year_are_not_this_years(inputs):
    # only the row of 30 November 2023 is of 2023
    notes = quarterly_followup(2023, 4, **inputs).sheets[FORBUNDET].notes
    assert any(note.startswith("1 bokföringsrad bokförd 2023-01-01 – 2023-12-31") for note in notes)


def test_no_held_ledger_note_when_nothing_is_held(inputs):
    nothing = pd.DataFrame({"record_date": [], "match_key": []})
    followup = quarterly_followup(2024, 2, **{**inputs, "held_ledger_rows": nothing})
    assert not any("okänt Projekt" in note for note in followup.sheets["JOBBSAM3"].notes)


def test_quarter_boundaries(inputs):
    q1 = quarterly_followup(2024, 1, **inputs).tables["JOBBSAM3"]
    q3 = quarterly_followup(2024, 3, **inputs).tables["JOBBSAM3"]
    # 31 March belongs to Q1; 1 July to Q3; the 2023 row to no quarter of 2024
    assert q1.loc[LABELS["IT"], "Utfall kvartal"] == 6_500
    assert q1.loc[LABELS["LON"], "Utfall kvartal"] == 100_000
    assert q3.loc[LABELS["LOK"], "Utfall kvartal"] == 11_000
    assert q3.loc[LABELS["LOK"], "Utfall ackumulerat"] == 22_000


def test_a_ledger_extracted_after_the_quarter_counts_by_booking_date(inputs):
    # Rows booked in July, delivered with the rest, change nothing in Q2; a late booking dated
    # in May does.
    later = pd.DataFrame([
        {"bokforingsdatum": dt.date(2024, 7, 20), "projekt": "GEMTAG", "belopp": 9_000.0,
         "kostnadsslag": "LON", "account_class": "cost"},
        {"bokforingsdatum": dt.date(2024, 5, 31), "projekt": "GEMTAG", "belopp": 1_000.0,
         "kostnadsslag": "LON", "account_class": "cost"},
    ])
    ledger = pd.concat([inputs["ledger"], later], ignore_index=True)
    table = quarterly_followup(2024, 2, **{**inputs, "ledger": ledger}).tables["GEMTAG"]
    assert table.at[TOTAL, "Utfall kvartal"] == 63_000
    assert table.at[TOTAL, "Utfall ackumulerat"] == 118_000


def test_full_year_forecast_is_the_outcome_in_q4(inputs):
    table = quarterly_followup(2024, 4, **inputs).tables["JOBBSAM3"]
    assert (table["Prognos helår"] == table["Utfall ackumulerat"]).all()
    assert table.loc[TOTAL, "Budget ackumulerat"] == 468_000


def test_cost_outside_the_catalogue_counts_for_the_forbund(inputs):
    extra = pd.DataFrame([{"ver_nr": "X1", "rad": 1, "bokforingsdatum": pd.Timestamp("2024-05-01"),
                           "konto": 7010, "projekt": "OLDPROJ", "belopp": 1_000.0,
                           "kostnadsslag": "LON", "account_class": "cost"}])
    ledger = pd.concat([inputs["ledger"], extra], ignore_index=True)
    followup = quarterly_followup(2024, 2, **{**inputs, "ledger": ledger})
    assert followup.tables[FORBUNDET].loc[TOTAL, "Utfall kvartal"] == 208_500
    assert any("OLDPROJ" in note for note in followup.sheets[FORBUNDET].notes)
    # the labelled row makes the sheets' totals add up to the förbund's
    per_insats = followup.sheets[FORBUNDET].per_insats
    assert per_insats["Utfall kvartal"].to_list() == [113_000, 62_000, 32_500, 1_000, 208_500]
    assert per_insats.index[-2] == OUTSIDE_CATALOGUE


def test_tertial_weights_split_quarters_by_month():
    weights = Period(2024, "tertial", 1).quarter_weights()
    np.testing.assert_allclose(weights, [[1, 0, 0], [1 / 3, 2 / 3, 0], [0, 2 / 3, 1 / 3], [0, 0, 1]])
    np.testing.assert_allclose(Period(2024, "kvartal", 1).quarter_weights(), np.eye(4))


def test_tertial_budgets(inputs):
    # GEMTAG 50/60/60/70 000: T1 = 50 + 20, T2 = 40 + 40, T3 = 20 + 70
    budgets = [tertial_followup(2024, n, **inputs).tables["GEMTAG"].loc[TOTAL, "Budget tertial"]
               for n in (1, 2, 3)]
    assert budgets == pytest.approx([70_000, 80_000, 90_000])


def test_tertial_2_every_column(inputs):
    t2 = tertial_followup(2024, 2, **inputs)
    third = 1 / 3
    columns = [name.replace("kvartal", "tertial") for name in Q_COLUMNS]
    lon_budget = 100_000 * 2 * 2 * third                        # 2/3 Q2 + 2/3 Q3
    lon_acc = 100_000 * (1 + third) + lon_budget                # T1 + T2
    lok_budget = 10_000 * 2 * third + 12_000 * 2 * third
    lok_acc = 10_000 + 10_000 * third + lok_budget
    it_budget = 6_000 * 4 * third
    it_acc = 6_000 + 6_000 * third + it_budget
    budget, acc = lon_budget + lok_budget + it_budget, lon_acc + lok_acc + it_acc
    expected = _expected({
        # May-Aug: only the -3 000 credit; year to date 195 000
        "LON": [lon_budget, -3_000, lon_budget + 3_000, lon_acc, 195_000, lon_acc - 195_000,
                400_000, 195_000 + 400_000 - lon_acc, 195_000 / 400_000],
        # 30 June and 1 July both in T2
        "LOK": [lok_budget, 22_000, lok_budget - 22_000, lok_acc, 22_000, lok_acc - 22_000,
                44_000, 22_000 + 44_000 - lok_acc, 0.5],
        "RES": [0, 7_000, -7_000, 0, 7_000, -7_000, 0, 7_000, NAN],
        "IT": [it_budget, 0, it_budget, it_acc, 6_500, it_acc - 6_500, 24_000,
               6_500 + 24_000 - it_acc, 6_500 / 24_000],
        UNALLOCATED: _unallocated(32_000),
        TOTAL: [budget, 26_000, budget - 26_000, acc, 230_500, acc - 230_500, 500_000,
                230_500 + 468_000 - acc, 230_500 / 500_000],
    }, columns=columns)
    _check(t2.tables["JOBBSAM3"], expected)
    assert t2.period.label == "tertial 2 2024"
    assert t2.sheets["JOBBSAM3"].participants == 7     # p4 enrolled 1 July is now counted


@pytest.mark.parametrize("quarter, tertial", [(1, None), (2, 1), (3, 2), (4, 3)])
def test_quarter_followups_are_the_quarter_and_the_last_ended_tertial(inputs, quarter, tertial):
    # T1 ends 30 April, T2 31 August, T3 31 December: at the end of Q1 no tertial has ended, at
    # the end of Q3 only T1 and T2 have
    together = quarter_followups(2024, quarter, **inputs)
    assert together[0].period == Period(2024, "kvartal", quarter)
    if tertial is None:
        assert together[1] is None
        return
    for combined, alone in zip(together, (quarterly_followup(2024, quarter, **inputs),
                                          tertial_followup(2024, tertial, **inputs))):
        assert combined.period == alone.period
        assert list(combined.sheets) == list(alone.sheets)
        for code, sheet in combined.sheets.items():
            expected = alone.sheets[code]
            pd.testing.assert_frame_equal(sheet.table, expected.table)
            assert sheet.notes == expected.notes
            assert (sheet.participants, sheet.cost_per_participant) == (
                expected.participants, expected.cost_per_participant)
        pd.testing.assert_frame_equal(combined.result, alone.result)


@pytest.mark.parametrize("quarter, as_of, expected", [
    (2, dt.date(2024, 4, 30), None),                  # T1 has not ended on its last day
    (2, dt.date(2024, 5, 1), 1),
    (3, dt.date(2024, 8, 31), 1),
    (3, dt.date(2024, 9, 1), 2),
    (4, dt.date(2024, 12, 31), 2),
    (4, dt.date(2025, 1, 1), 3),
])
def test_a_tertial_counts_as_ended_only_after_its_last_day(quarter, as_of, expected):
    found = latest_ended_tertial(Period(2024, "kvartal", quarter), as_of)
    assert (None if found is None else found.number) == expected


def _with_mid_year_insats(inputs: dict) -> dict:
    """UNGVAG starts 15 May 2024: LON an annual amount of 80 000 (stored as ingestion spreads it
    over the active quarters Q2-Q4), LOK 3 000 a quarter from Q2."""
    catalogue = pd.concat([inputs["catalogue"], pd.DataFrame([{
        "year": 2024, "insats": "UNGVAG", "namn": "Unga vägen", "startdatum": dt.date(2024, 5, 15),
        "slutdatum": None, "inriktning": "Individinriktad", "mal_deltagare": 20.0,
        "mal_andel": None}])], ignore_index=True)
    third = 80_000 / 3
    lines = pd.concat([inputs["lines"], pd.DataFrame([
        {"year": 2024, "insats": "UNGVAG", "kostnadsslag": "LON", "q1": 0.0, "q2": third,
         "q3": third, "q4": third, "ackumulering": 80_000, "arsbudget": None, "spread": True},
        {"year": 2024, "insats": "UNGVAG", "kostnadsslag": "LOK", "q1": None, "q2": 3_000.0,
         "q3": 3_000.0, "q4": 3_000.0, "ackumulering": 9_000, "arsbudget": None,
         "spread": False},
    ])], ignore_index=True).astype({q: "Float64" for q in ("q1", "q2", "q3", "q4", "arsbudget")})
    return {**inputs, "catalogue": catalogue, "lines": lines}


@pytest.mark.parametrize("unit, number, lon, lok", [
    # active May-December: 80 000 / 8 months = 10 000 a month for LON; LOK's Q2 3 000 falls
    # on May and June (1 500 each), Q3 and Q4 on their three months (1 000 each)
    ("kvartal", 2, 20_000, 3_000),
    ("kvartal", 3, 30_000, 3_000),
    ("kvartal", 4, 30_000, 3_000),
    ("tertial", 1, 0, 0),                           # nothing in April: the insats had not begun
    ("tertial", 2, 40_000, 1_500 + 1_500 + 1_000 + 1_000),
    ("tertial", 3, 40_000, 1_000 + 3_000),
])
def test_a_mid_year_insats_has_budget_only_in_its_active_months(inputs, unit, number, lon, lok):
    mid_year = _with_mid_year_insats(inputs)
    table = (quarterly_followup if unit == "kvartal" else tertial_followup)(
        2024, number, **mid_year).tables["UNGVAG"]
    column = f"Budget {unit}"
    assert table.at[LABELS["LON"], column] == pytest.approx(lon)
    assert table.at[LABELS["LOK"], column] == pytest.approx(lok)
    assert table.at[TOTAL, "Årsbudget"] == pytest.approx(89_000)


def test_the_mid_year_insats_is_in_the_forbunds_budget(inputs):
    mid_year = _with_mid_year_insats(inputs)
    q2 = quarterly_followup(2024, 2, **mid_year)
    # 206 000 of the others + 20 000 + 3 000; Årsbudget 866 000 + 89 000
    assert q2.tables[FORBUNDET].at[TOTAL, "Budget kvartal"] == pytest.approx(229_000)
    assert q2.tables[FORBUNDET].at[TOTAL, "Årsbudget"] == pytest.approx(955_000)
    assert q2.sheets["UNGVAG"].participants == 0
    assert q2.sheets["UNGVAG"].cost_per_participant is None
    assert any("aktiva månader" in note for note in q2.sheets["UNGVAG"].notes)


def test_accumulated_history(inputs):
    history = accumulated_history(2024, 2, lines=inputs["lines"], ledger=inputs["ledger"])
    assert list(history.columns) == ["insats", "kvartal", "budget_ackumulerat", "utfall_ackumulerat"]
    by_key = history.set_index(["insats", "kvartal"])
    assert by_key.loc[("JOBBSAM3", "2024Q1")].to_list() == [116_000, 106_500]
    assert by_key.loc[("JOBBSAM3", "2024Q2")].to_list() == [232_000, 219_500]
    assert by_key.loc[(ADM, "2024Q1")].to_list() == [33_000, 0]
    assert by_key.loc[(FORBUNDET, "2024Q2")].to_list() == [405_000, 369_000]
    assert set(history["kvartal"]) == {"2024Q1", "2024Q2"}


@pytest.mark.parametrize("unit, number",
                         [("kvartal", 0), ("kvartal", 5), ("tertial", 4), ("halvår", 3),
                          ("år", 2), ("månad", 1)])
def test_invalid_period(unit, number):
    with pytest.raises(ValueError):
        Period(2024, unit, number)


def test_period_codes_and_spans():
    assert [Period(2024, "kvartal", 2).code, Period(2024, "tertial", 1).code,
            Period(2024, "halvår", 1).code, Period(2024, "år").code] == [
        "2024Q2", "2024T1", "2024H1", "2024"]
    assert Period(2024, "tertial", 2).span == "jan–aug 2024"
    assert Period(2024, "halvår", 1).span == "jan–jun 2024"
    assert Period(2024, "år").span == "helår 2024"
    assert Period(2024, "år").end == pd.Timestamp("2024-12-31")


def test_eget_kapital_is_found_whatever_the_coordinator_adds_to_its_name(inputs):
    financing = pd.DataFrame({"year": [2024] * 3,
                              "finansiar": ["Försäkringskassan", "Region", "Ingående eget kapital 2024"],
                              "belopp": [500_000.0, 250_000.0, 50_000.0]})
    q2 = quarterly_followup(2024, 2, **{**inputs, "financing": financing})
    assert q2.result.at[MEDLEMSBIDRAG, BUDGET_HELAR] == 750_000
    assert q2.equity.at[EK_IB, BUDGET_HELAR] == 50_000
