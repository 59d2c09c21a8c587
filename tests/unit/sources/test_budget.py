"""budget reader: the sample workbook, sums that do not add up, spreading, TOTALT rows, rejections."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from finsam.errors import DeliveryRejected, MissingColumn
from sources.base import Delivery
from sources.budget import reader as budget

SAMPLE = (Path(__file__).resolve().parents[2] / "fixtures" / "samples" / "budget"
          / "20241130_budget_2024.xlsx")
FILE_NAME = "20241130_budget_2024.xlsx"
EXTRACTED = date(2024, 11, 30)

INSATSER_HEADER = ["Insats", "Namn", "Startdatum", "Slutdatum", "Inriktning", "Mål deltagare per år",
                   "Mål andel"]
BUDGET_HEADER = ["Insats", "Kostnadsslag", "Kvartal 1", "Kvartal 2", "Kvartal 3", "Kvartal 4",
                 "Ackumulering", "Årsbudget"]
FINANSIERING_HEADER = ["Finansiär", "Belopp"]
INSATSER = [
    ["DEMO1", "Demoinsatsen", datetime(2023, 9, 1), None, "Individinriktad", 40, "55 %"],
    ["KORT", "Kort insats", datetime(2024, 4, 15), datetime(2024, 9, 30), "strukturövergripande",
     None, None],
    ["GAMMAL", "Avslutad insats", datetime(2022, 1, 1), datetime(2023, 6, 30), "Individinriktad",
     None, None],
]
FINANSIERING = [["Region Gotland", "1 500 000"]]


def _delivery(path: Path) -> Delivery:
    return Delivery("budget", path, EXTRACTED, "2024").read()


def _workbook(tmp_path: Path, budget_rows: Sequence[Sequence[object]], *,
              budget_header: Sequence[str] = BUDGET_HEADER,
              insatser: Sequence[Sequence[object]] = INSATSER,
              finansiering: Sequence[Sequence[object]] = FINANSIERING,
              without: str | None = None) -> Path:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    sheets = {"Insatser": [INSATSER_HEADER, *insatser],
              "Budget": [list(budget_header), *budget_rows],
              "Finansiering": [FINANSIERING_HEADER, *finansiering]}
    for title, rows in sheets.items():
        if title == without:
            continue
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    path = tmp_path / FILE_NAME
    workbook.save(path)
    return path


def _run(path: Path):
    delivery = _delivery(path)
    return budget.conform(budget.read(delivery), delivery)


def _line(result, insats: str, kostnadsslag: str) -> pd.Series:
    frame = result.frame
    hit = frame[(frame["insats"] == insats) & (frame["kostnadsslag"] == kostnadsslag)]
    assert len(hit) == 1, (insats, kostnadsslag)
    return hit.iloc[0]


def _quarters(row: pd.Series) -> list[float]:
    return [float(row[q]) for q in ("q1", "q2", "q3", "q4")]


# --- the contract's sample workbook -------------------------------------------------------------

def test_sample_budget_lines() -> None:
    result = _run(SAMPLE)
    frame = result.frame
    assert list(frame.columns) == ["year", "insats", "kostnadsslag", "q1", "q2", "q3", "q4",
                                   "ackumulering", "arsbudget", "spread", "row_number"]
    assert set(zip(frame["insats"], frame["kostnadsslag"])) == {
        ("DEMO1", "LON"), ("DEMO1", "LOK"), ("DEMO1", "IT"), ("ADM", "LON"), ("ADM", "IT")}
    assert set(frame["year"]) == {2024}
    assert _quarters(_line(result, "DEMO1", "LON")) == [470000.0] * 4
    lokaler = _line(result, "DEMO1", "LOK")   # written as the label "Lokaler", amounts as "13 000"
    assert _quarters(lokaler) == [13000.0] * 4 and lokaler["ackumulering"] == 52000.0
    assert not lokaler["spread"]
    it = _line(result, "DEMO1", "IT")         # only Ackumulering: spread over DEMO1's active year
    assert _quarters(it) == [6000.0] * 4 and it["spread"]
    assert frame["arsbudget"].isna().all()
    assert result.rows_read == 2 + 7 + 3


def test_sample_row_not_adding_up_is_held_with_both_figures() -> None:
    result = _run(SAMPLE)
    assert 5 not in set(result.frame["row_number"])   # DEMO1 UTB: 4 x 10 000 against 41 000
    issue = result.issues.iloc[0]
    assert len(result.issues) == 1
    assert (issue["row_number"], issue["column"], issue["severity"]) == (5, "Ackumulering", "fel")
    assert issue["found"] == "kvartal summerar 40 000, Ackumulering 41 000"


def test_sample_totalt_row_checked_not_loaded() -> None:
    result = _run(SAMPLE)
    # DEMO1's TOTALT (row 6) states 1 997 000: the stated Ackumulering of its rows, so no issue.
    assert 6 not in set(result.frame["row_number"])
    assert "TOTALT" not in set(result.frame["kostnadsslag"])
    arsbudget = result.extra["arsbudget"]
    assert arsbudget.to_dict("records") == [
        {"year": 2024, "insats": "DEMO1", "arsbudget": 2100000.0, "row_number": 6}]


def test_sample_insats_catalogue() -> None:
    catalogue = _run(SAMPLE).extra["insatser"].set_index("insats")
    assert list(catalogue.index) == ["DEMO1", "ADM"]
    demo = catalogue.loc["DEMO1"]
    assert (demo["namn"], demo["inriktning"], demo["year"]) == ("Demoinsatsen", "Individinriktad", 2024)
    assert demo["startdatum"] == pd.Timestamp("2023-09-01") and pd.isna(demo["slutdatum"])
    assert (demo["mal_deltagare"], demo["mal_andel"]) == (40.0, 0.55)
    adm = catalogue.loc["ADM"]
    assert adm["inriktning"] == "Strukturövergripande"
    assert pd.isna(adm["mal_deltagare"]) and pd.isna(adm["mal_andel"])


def test_sample_finansiering() -> None:
    finansiering = _run(SAMPLE).extra["finansiering"]
    assert finansiering[["year", "finansiar", "belopp"]].values.tolist() == [
        [2024, "Försäkringskassan", 1500000.0],
        [2024, "Region Gotland", 1500000.0],
        [2024, "Eget kapital", 400000.0],
    ]


# --- quirks ------------------------------------------------------------------------------------

def test_text_amounts_and_sum_tolerance(tmp_path: Path) -> None:
    result = _run(_workbook(tmp_path, [
        ["DEMO1", "LON", "120 000", "120 000", "120 000", "120 000", "481 500"],  # row 2: held
        ["DEMO1", "RES", "100,20", "100,20", "100,20", "100,20", "401"],         # row 3: within 0.5 kr
        ["DEMO1", "FOR", 500, None, None, None, 500],                           # row 4: one quarter
    ]))
    issues = result.issues
    assert issues[["row_number", "column"]].values.tolist() == [[2, "Ackumulering"]]
    assert issues.iloc[0]["found"] == "kvartal summerar 480 000, Ackumulering 481 500"
    assert _quarters(_line(result, "DEMO1", "RES")) == [100.2] * 4
    insurance = _line(result, "DEMO1", "FOR")
    assert insurance["q1"] == 500.0 and insurance[["q2", "q3", "q4"]].isna().all()
    assert not insurance["spread"]


def test_parenthesised_amount_is_held_never_guessed(tmp_path: Path) -> None:
    result = _run(_workbook(tmp_path, [
        ["DEMO1", "LON", 2100, "(2 100)", 2100, 2100, 8400],
        ["DEMO1", "RES", None, None, None, None, 400],
    ], finansiering=[["Region Gotland", "(2 100)"], ["Eget kapital", 400]]))
    issues = result.issues
    assert set(zip(issues["row_number"], issues["column"], issues["rule"])) == {
        (2, "Kvartal 2", "Budget: belopp inom parentes"),
        (2, "Belopp", "Finansiering: belopp inom parentes")}
    assert set(issues["found"]) == {"(2 100)"}
    assert result.frame["kostnadsslag"].tolist() == ["RES"]
    assert result.extra["finansiering"]["finansiar"].tolist() == ["Eget kapital"]


def test_annual_amount_spread_over_the_insats_active_quarters(tmp_path: Path) -> None:
    result = _run(_workbook(tmp_path, [
        ["KORT", "LON", None, None, None, None, "12 000"],     # active 2024-04-15 .. 2024-09-30
        ["DEMO1", "IT", None, None, None, None, 24000],        # active all year
        ["GAMMAL", "LON", None, None, None, None, 5000],       # ended 2023: nothing to spread over
    ]))
    kort = _line(result, "KORT", "LON")
    assert _quarters(kort) == [0.0, 6000.0, 6000.0, 0.0]
    assert kort["spread"] and kort["ackumulering"] == 12000.0
    assert _quarters(_line(result, "DEMO1", "IT")) == [6000.0] * 4
    issue = result.issues.iloc[0]
    assert len(result.issues) == 1
    assert (issue["row_number"], issue["column"], issue["found"]) == (4, "Insats", "GAMMAL")


def test_totalt_rows_checked_against_their_rows(tmp_path: Path) -> None:
    result = _run(_workbook(tmp_path, [
        ["DEMO1", "LON", None, None, None, None, 100],
        ["DEMO1", "RES", None, None, None, None, 200],
        ["DEMO1", "TOTALT", None, None, None, None, 400, 1000],   # row 4: rows sum to 300
        ["KORT", "LON", None, None, None, None, 50],
        ["KORT", "totalt", None, None, None, None, 50, "60 000"],  # row 6: fine
        ["TOTALT", "LON", None, None, None, None, 150],            # row 7: LON across insatser
        ["TOTALT", None, None, None, None, None, 351],             # row 8: whole sheet, off by 1
    ]))
    issues = result.issues.set_index("row_number")
    assert sorted(issues.index) == [4, 8]
    assert issues.loc[4, "found"] == "raderna summerar 300, TOTALT 400"
    assert issues.loc[8, "found"] == "raderna summerar 350, TOTALT 351"
    assert set(issues["column"]) == {"Ackumulering"}
    assert sorted(result.frame["row_number"]) == [2, 3, 5]
    assert result.extra["arsbudget"].to_dict("records") == [
        {"year": 2024, "insats": "KORT", "arsbudget": 60000.0, "row_number": 6}]


def test_kostnadsslag_by_code_or_label_any_case(tmp_path: Path) -> None:
    result = _run(_workbook(tmp_path, [
        ["demo1", "lokaler", None, None, None, None, 100],
        ["DEMO1", "LÖNER OCH ARVODEN (INKL. SOCIALA AVGIFTER)", None, None, None, None, 100],
        ["DEMO1", "Dator, telefon, post och IT-tjänster", None, None, None, None, 100],
        ["DEMO1", "bed", None, None, None, None, 100],
        ["DEMO1", "Fika", None, None, None, None, 100],           # row 6: unknown
        ["OKAND", "LON", None, None, None, None, 100],            # row 7: not in Insatser
    ]))
    assert sorted(result.frame["kostnadsslag"]) == ["BED", "IT", "LOK", "LON"]
    assert set(result.frame["insats"]) == {"DEMO1"}
    assert set(zip(result.issues["row_number"], result.issues["column"])) == {
        (6, "Kostnadsslag"), (7, "Insats")}


def test_insatser_sheet_rules(tmp_path: Path) -> None:
    result = _run(_workbook(tmp_path, [["DEMO1", "LON", None, None, None, None, 100]], insatser=[
        ["DEMO1", "Demo", "2023-09-01", None, "INDIVIDINRIKTAD", None, 0.55],  # row 2: fine
        ["X1", "X", "2024-01-01", None, "Blandad", None, None],                 # row 3: inriktning
        ["X2", "X", "2024-01-01", "2023-01-01", "Individinriktad", None, None],  # row 4: ends first
        ["X3", "X", "2024-01-01", None, "Individinriktad", None, "55"],          # row 5: 55 what?
        ["X4", None, "2024-01-01", None, "Individinriktad", None, None],         # row 6: no name
    ]))
    catalogue = result.extra["insatser"]
    assert catalogue["insats"].tolist() == ["DEMO1"]
    assert (catalogue.iloc[0]["inriktning"], catalogue.iloc[0]["mal_andel"]) == ("Individinriktad", 0.55)
    assert set(zip(result.issues["row_number"], result.issues["column"])) == {
        (3, "Inriktning"), (4, "Slutdatum"), (5, "Mål andel"), (6, "Namn")}
    assert result.issues["rule"].str.startswith("Insatser: ").all()


def test_case_insensitive_headers(tmp_path: Path) -> None:
    header = [" insats ", "KOSTNADSSLAG", "kvartal 1", "KVARTAL 2", "Kvartal 3", "kvartal 4",
              "ackumulering"]
    result = _run(_workbook(tmp_path, [["DEMO1", "LON", 1, 2, 3, 4, 10]], budget_header=header))
    assert _quarters(_line(result, "DEMO1", "LON")) == [1.0, 2.0, 3.0, 4.0]


def test_missing_sheet_rejected(tmp_path: Path) -> None:
    path = _workbook(tmp_path, [], without="Finansiering")
    with pytest.raises(DeliveryRejected, match=rf"{FILE_NAME}.*'Finansiering' saknas"):
        budget.read(_delivery(path))


def test_missing_required_column_rejected(tmp_path: Path) -> None:
    header = [name for name in BUDGET_HEADER if name != "Ackumulering"]
    path = _workbook(tmp_path, [], budget_header=header)
    with pytest.raises(MissingColumn, match=rf"{FILE_NAME}.*'Ackumulering'"):
        budget.read(_delivery(path))
