"""The demo's board reports: every quarter, tertial and year it covers, and every total adds up."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import openpyxl
import pytest

from tests.unit.budget import xlsx_check

YEARS = (2022, 2023, 2024)


@pytest.fixture(scope="module")
def out(demo) -> Path:
    return demo / "out"


def _workbooks(out: Path) -> list[Path]:
    return sorted(path for folder in ("budget", "delarsrapport", "arsredovisning")
                  for path in (out / folder).rglob("*.xlsx"))


def test_the_demo_has_every_report_of_its_years(out):
    found = {str(path.relative_to(out)) for path in _workbooks(out)}
    expected = {f"budget/{year}Q{n}/budgetuppfoljning.xlsx" for year in YEARS for n in (1, 2, 3, 4)}
    expected |= {f"delarsrapport/{year}T{n}/delarsrapport.xlsx" for year in YEARS for n in (1, 2)}
    expected |= {f"arsredovisning/{year}/arsredovisning.xlsx" for year in YEARS}
    assert found == expected
    for path in _workbooks(out):
        assert path.with_suffix(".html").exists()


def test_every_total_in_every_workbook_is_the_sum_of_its_rows(out):
    for path in _workbooks(out):
        assert xlsx_check.unbalanced_totals(path) == [], path
        assert xlsx_check.tables_checked(path) >= 4, path


def test_the_runs_checks_passed(demo):
    instance = dg.DagsterInstance.from_config(str(demo / "dagster_home"))
    try:
        evaluations = [record.event_log_entry.dagster_event.event_specific_data
                       for run in instance.get_runs()
                       for record in instance.get_records_for_run(
                           run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records]
    finally:
        instance.dispose()
    sums = {evaluation.asset_key.to_user_string(): evaluation.passed
            for evaluation in evaluations if evaluation.check_name == "summor_stammer"}
    assert sums == {"budget_followup": True, "delarsrapport": True, "arsredovisning": True}


def _rows(sheet) -> dict[str, list]:
    """Each label's first row (an insats is also in the tables below the first)."""
    rows: dict[str, list] = {}
    for row in sheet.iter_rows(values_only=True):
        if row[0]:
            rows.setdefault(row[0], list(row[1:]))
    return rows


def test_the_demos_board_cases(out):
    year = openpyxl.load_workbook(out / "arsredovisning" / "2024" / "arsredovisning.xlsx")
    insatser = _rows(year["Insatser"])
    # the structural insats has its own table; income is booked on SAMTEAM
    assert "Strukturövergripande insatser efter kostnad" in insatser
    assert insatser["SAMVERK – Samverkan och kompetens"][0] == "Strukturövergripande"
    assert insatser["SAMTEAM – Samverkansteamet"][2] > 0
    result = _rows(year["Resultaträkning"])
    assert result["Övriga intäkter (bokförda på insatser)"][0] > 0
    # the demo's budget spends the eget kapital it brought forward: a budgeted deficit
    assert result["Årets resultat"][1] < 0
    first = openpyxl.load_workbook(out / "arsredovisning" / "2022" / "arsredovisning.xlsx")
    assert any("inga uppgifter om 2021" in str(cell.value) for cell in first["Resultaträkning"]["A"])
    # UNGVAG starts on 15 May 2024: no budget before May, though its yearly amounts are spread
    t1 = openpyxl.load_workbook(out / "delarsrapport" / "2024T1" / "delarsrapport.xlsx")
    ungvag = _rows(t1["Insatser"])["UNGVAG – Unga vägen"]
    assert ungvag[1:5] == [0, 0, 0, 0]
    q2 = openpyxl.load_workbook(out / "budget" / "2024Q2" / "budgetuppfoljning.xlsx")
    assert q2["Tertial"]["A1"].value.startswith("Budgetuppföljning tertial 1 2024")
    assert "Tertial" not in openpyxl.load_workbook(
        out / "budget" / "2024Q1" / "budgetuppfoljning.xlsx").sheetnames


def test_the_demo_signs_off_its_last_quarter_and_a_late_correction_lands_beside_it(demo, out):
    """`finsam demo` signs off 2024Q4 and the year 2024Q1-2024Q4, then the accountant's late
    correction (+1 500 kr on one row) arrives: the signed follow-up keeps the signed figures and names only the deliveries it
    was built from; rattelser/ holds the changed cells, each caused by the late file."""
    import csv

    late = sorted((demo / "landing" / "ekonomi").glob("*_huvudbok_rattelse.csv"))
    assert len(late) == 1
    frozen = out / "budget" / "2024Q4"
    with open(frozen / "underlag.csv", encoding="utf-8", newline="") as handle:
        files = {row["Fil"] for row in csv.DictReader(handle, delimiter=";")}
    assert late[0].name not in files and any(name.endswith("_huvudbok.csv") for name in files)
    with open(out / "rattelser" / "2024Q4" / "budget" / "2024Q4" / "celler.csv",
              encoding="utf-8", newline="") as handle:
        cells = list(csv.DictReader(handle, delimiter=";"))
    quarter = [row for row in cells if row["Kolumn"] == "Utfall kvartal"]
    assert quarter and {float(row["Skillnad"]) for row in quarter} == {1_500}
    day = f"{late[0].name[:4]}-{late[0].name[4:6]}-{late[0].name[6:8]}"
    assert {row["Orsak (leveranser efter signeringen)"] for row in cells} == {
        f"{late[0].name} (ekonomi, uttagen {day})"}
    # the årsredovisning covers the year: the demo signs off 2024Q1-2024Q4 too
    assert (out / "rattelser" / "2024Q1_2024Q4" / "arsredovisning" / "2024").is_dir()
