"""The output check reads a run's workbooks back and finds every total that does not add up."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from assets.budget import checks
from assets.budget.followup import quarter_followups
from assets.budget.report import write_workbook


@pytest.fixture
def workbook(inputs, tmp_path: Path) -> Path:
    followup, tertial = quarter_followups(2024, 3, **inputs)
    return write_workbook(followup, tmp_path / "q3.xlsx", tertial=tertial)


def _edit(path: Path, sheet: str, label: str, column: int, delta: float, nth: int = 1) -> None:
    book = openpyxl.load_workbook(path)
    rows = [cell.row for cell in book[sheet]["A"] if cell.value == label]
    book[sheet].cell(rows[nth - 1], column).value += delta
    book.save(path)


def test_a_written_workbook_passes(workbook):
    assert checks.workbook_problems(workbook) == []
    result = checks.result([workbook])
    assert result.passed and result.metadata["arbetsbocker"].value == 1


def test_a_row_that_no_longer_adds_up_is_found(workbook):
    _edit(workbook, "GEMTAG", "Löner och arvoden (inkl. sociala avgifter)", 3, 1_000)
    problems = checks.workbook_problems(workbook)
    # GEMTAG's Utfall kvartal no longer sums to its Totalt, and the förbund's row for GEMTAG
    # still shows the Totalt: only the table's own sum is wrong
    assert len(problems) == 1 and "GEMTAG!C14 Utfall kvartal" in problems[0]
    assert not checks.result([workbook]).passed


def test_a_per_insats_row_that_is_not_the_insats_total_is_found(workbook):
    _edit(workbook, "Förbundet", "GEMTAG – Gemensamma tag", 6, 500)
    problems = checks.workbook_problems(workbook)
    # the per-insats table's own Totalt no longer adds up either
    assert any("GEMTAG Utfall ackumulerat" in problem and "fliken GEMTAG" in problem
               for problem in problems)
    assert any("Förbundet!" in problem and "summan" in problem for problem in problems)


def test_the_tertial_sheet_is_checked_against_its_own_blocks(workbook):
    _edit(workbook, "Tertial", "JOBBSAM3 – Jobbsamverkan 3", 5, 100)
    problems = checks.workbook_problems(workbook)
    assert any(problem.startswith("q3.xlsx Tertial!") and "fliken JOBBSAM3" in problem
               for problem in problems)


def test_no_workbooks_pass():
    assert checks.result([]).passed
