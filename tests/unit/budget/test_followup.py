"""Budget follow-up figures on the hand-built year of conftest.py, every expected value by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assets.budget.followup import (
    ADM,
    BOKFORDA_INTAKTER,
    FINANSIERING,
    FORBUNDET,
    KOSTNADER_PROGNOS,
    KOSTNADER_UTFALL,
    RESULTAT,
    TOTAL,
    Period,
    accumulated_history,
    quarter_followups,
    quarterly_followup,
    tertial_followup,
)
from finsam import reference

LABELS = reference.labels("kostnadsslag")
ROWS = [*reference.code_list("kostnadsslag")["label"], TOTAL]
Q_COLUMNS = ["Budget kvartal", "Utfall kvartal", "Avvikelse kvartal", "Budget ackumulerat",
             "Utfall ackumulerat", "Avvikelse ackumulerat", "Årsbudget", "Prognos helår",
             "Förbrukat %"]
ZERO = [0, 0, 0, 0, 0, 0, 0, 0, np.nan]
NAN = np.nan


def _expected(rows: dict[str, list[float]], columns: list[str] = Q_COLUMNS) -> pd.DataFrame:
    """A full table: the given kostnadsslag rows (by code, or Totalt), every other row zero."""
    values = [rows.get(code, ZERO) for code in reference.code_list("kostnadsslag")["code"]]
    frame = pd.DataFrame([*values, rows[TOTAL]], index=ROWS, columns=columns, dtype=float)
    frame.index.name = "Kostnadsslag"
    return frame


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
        # Årsbudget from the TOTALT row (500 000), not the sum of the rows
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
        # Årsbudget: 500 000 + 240 000 + 126 000
        TOTAL: [206_000, 207_500, -1_500, 405_000, 369_000, 36_000, 866_000, 798_000, 369_000 / 866_000],
    }))


def test_income_and_forecast_result(q2):
    # Finansiering 2024: 500 000 + 250 000 + 50 000. Booked income up to 30 June: two credits of
    # 200 000 on 3990 (the one of 2 July is later). Result = 800 000 - 798 000.
    assert q2.result["Belopp"].to_dict() == {
        FINANSIERING: 800_000.0, BOKFORDA_INTAKTER: 400_000.0, KOSTNADER_UTFALL: 369_000.0,
        KOSTNADER_PROGNOS: 798_000.0, RESULTAT: 2_000.0}
    assert q2.sheets["JOBBSAM3"].result is None


def test_participants_and_cost_per_participant(q2):
    # p2, p3 (two spells), d1 (withdrawn), two anonymous spells, p5 (left on 1 January);
    # p1 left in 2023, p4 starts in July.
    jobbsam = q2.sheets["JOBBSAM3"]
    assert jobbsam.participants == 6
    assert jobbsam.cost_per_participant == pytest.approx(219_500 / 6)
    assert q2.sheets["GEMTAG"].participants == 1
    assert q2.sheets["GEMTAG"].cost_per_participant == pytest.approx(117_000)
    assert q2.sheets[ADM].participants is None


def test_notes_name_held_and_spread_rows_and_count_left_out_ledger_rows(q2):
    notes = q2.sheets["JOBBSAM3"].notes
    assert any("saknas" in note and LABELS["RES"] in note and "granskning" in note for note in notes)
    assert any("fördelad jämnt" in note and LABELS["IT"] in note for note in notes)
    # 2 April and 2 May in Q2; the February row is outside the period
    assert "2 bokföringsrader i perioden på konton utanför uppföljningen ingår inte." in notes
    assert "2 bokföringsrader med okänt Projekt hålls för granskning och ingår inte i utfallet." in notes
    assert "1 bokföringsrad i perioden på konton utanför uppföljningen ingår inte." in q2.sheets[ADM].notes
    assert not any("saknas" in note for note in q2.sheets["GEMTAG"].notes)
    forbundet = q2.sheets[FORBUNDET].notes
    assert any(f"JOBBSAM3: {LABELS['RES']}" in note for note in forbundet)
    assert "3 bokföringsrader i perioden på konton utanför uppföljningen ingår inte." in forbundet


def test_no_held_ledger_note_when_nothing_is_held(inputs):
    followup = quarterly_followup(2024, 2, **{**inputs, "held_ledger_rows": 0})
    assert not any("okänt Projekt" in note for note in followup.sheets["JOBBSAM3"].notes)


def test_quarter_boundaries(inputs):
    q1 = quarterly_followup(2024, 1, **inputs).tables["JOBBSAM3"]
    q3 = quarterly_followup(2024, 3, **inputs).tables["JOBBSAM3"]
    # 31 March belongs to Q1; 1 July to Q3; the 2023 row to no quarter of 2024
    assert q1.loc[LABELS["IT"], "Utfall kvartal"] == 6_500
    assert q1.loc[LABELS["LON"], "Utfall kvartal"] == 100_000
    assert q3.loc[LABELS["LOK"], "Utfall kvartal"] == 11_000
    assert q3.loc[LABELS["LOK"], "Utfall ackumulerat"] == 22_000


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
        TOTAL: [budget, 26_000, budget - 26_000, acc, 230_500, acc - 230_500, 500_000,
                230_500 + 468_000 - acc, 230_500 / 500_000],
    }, columns=columns)
    _check(t2.tables["JOBBSAM3"], expected)
    assert t2.period.label == "tertial 2 2024"
    assert t2.sheets["JOBBSAM3"].participants == 7     # p4 enrolled 1 July is now counted


@pytest.mark.parametrize("quarter, tertial", [(1, 1), (2, 2), (3, 3), (4, 3)])
def test_quarter_followups_are_the_quarter_and_its_tertial(inputs, quarter, tertial):
    # one call for what the board gets each quarter; Q4 and T3 share their year to date
    together = quarter_followups(2024, quarter, **inputs)
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
                         [("kvartal", 0), ("kvartal", 5), ("tertial", 4), ("månad", 1)])
def test_invalid_period(unit, number):
    with pytest.raises(ValueError):
        Period(2024, unit, number)
