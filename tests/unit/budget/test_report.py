"""The workbook and the board's HTML page, on the hand-built year of conftest.py."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from assets.budget.followup import (
    accumulated_history,
    quarter_followups,
    quarterly_followup,
    tertial_followup,
)
from assets.budget.report import (
    HTML_NAME,
    KRONOR_FORMAT,
    PERCENT_FORMAT,
    WORKBOOK_NAME,
    kronor,
    percent,
    workbook_cells,
    write_html,
    write_workbook,
)
from tests.unit.budget import xlsx_check

HEADER_ROW = 4
TOTAL_ROW = HEADER_ROW + 10    # eight kostnadsslag, Ej fördelat på kostnadsslag, then Totalt


@pytest.fixture
def q2(inputs):
    return quarterly_followup(2024, 2, **inputs)


def _texts(worksheet) -> list[str]:
    return [str(cell.value) for cell in worksheet["A"] if cell.value is not None]


def _row_of(worksheet, text: str, after: str | None = None) -> int:
    """The row whose first cell is ``text`` (the first one below ``after`` when given)."""
    start = 0 if after is None else _row_of(worksheet, after)
    return next(cell.row for cell in worksheet["A"] if cell.value == text and cell.row > start)


def test_workbook_sheets_and_cells(q2, inputs, tmp_path: Path):
    path = write_workbook(q2, tmp_path / "2024Q2", tertial=tertial_followup(2024, 1, **inputs))
    assert path == tmp_path / "2024Q2" / WORKBOOK_NAME
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["JOBBSAM3", "GEMTAG", "ADM", "Förbundet", "Tertial"]

    sheet = book["JOBBSAM3"]
    assert sheet["A1"].value == "Budgetuppföljning kvartal 2 2024 – JOBBSAM3 – Jobbsamverkan 3"
    assert [cell.value for cell in sheet[HEADER_ROW]][:3] == ["Kostnadsslag", "Budget kvartal",
                                                             "Utfall kvartal"]
    assert sheet.cell(TOTAL_ROW - 1, 1).value == "Ej fördelat på kostnadsslag"
    assert sheet.cell(TOTAL_ROW - 1, 8).value == 32_000
    assert sheet.cell(TOTAL_ROW, 1).value == "Totalt"
    assert [sheet.cell(TOTAL_ROW, column).value for column in range(2, 10)] == [
        116_000, 113_000, 3_000, 232_000, 219_500, 12_500, 500_000, 455_500]
    assert sheet.cell(TOTAL_ROW, 10).value == pytest.approx(0.439)
    assert sheet.cell(TOTAL_ROW, 2).number_format == KRONOR_FORMAT
    assert sheet.cell(TOTAL_ROW, 10).number_format == PERCENT_FORMAT
    assert sheet.cell(HEADER_ROW + 3, 10).value is None          # Resor och bil: no budget, no share
    assert sheet.freeze_panes == "B5"
    texts = _texts(sheet)
    assert any("saknas" in text and "Resor och bil" in text for text in texts)
    assert sheet.cell(_row_of(sheet, "Deltagare hittills i år (unika personer)"), 2).value == 6
    assert sheet.cell(_row_of(sheet, "Mål deltagare per år"), 2).value == 60

    forbundet = book["Förbundet"]
    assert "Årets resultat" in _texts(forbundet)
    # the result table: its last row Årets resultat, budget and forecast
    result = _row_of(forbundet, "Årets resultat", after="Kostnader")
    assert [forbundet.cell(result, column).value for column in (2, 3)] == [-116_000, -48_000]
    closing = _row_of(forbundet, "Eget kapital vid årets slut")
    assert [forbundet.cell(closing, column).value for column in (2, 3)] == [-66_000, 2_000]

    tertial = _texts(book["Tertial"])
    assert sum(text.startswith("Budgetuppföljning tertial 1 2024") for text in tertial) == 4


def test_workbook_without_tertial(q2, tmp_path: Path):
    path = write_workbook(q2, tmp_path / "out.xlsx")
    assert path == tmp_path / "out.xlsx"
    assert "Tertial" not in openpyxl.load_workbook(path).sheetnames


@pytest.mark.parametrize("quarter", [1, 2, 3, 4])
def test_every_total_adds_up_and_the_cells_are_the_workbooks(inputs, tmp_path: Path, quarter):
    followup, tertial = quarter_followups(2024, quarter, **inputs)
    path = write_workbook(followup, tmp_path / f"q{quarter}.xlsx", tertial=tertial)
    assert xlsx_check.unbalanced_totals(path) == []
    # every sheet's Budget; on the förbund's also per insats, result and eget kapital
    assert xlsx_check.tables_checked(path) >= 4 + 3
    frame = workbook_cells(followup, tertial)
    assert list(frame.columns) == ["sheet", "table", "row", "column", "value"]
    assert not frame.duplicated(["sheet", "table", "row", "column"]).any()
    xlsx_check.assert_cells_in_workbook(frame, path)


def test_cells_say_which_cell_changed(inputs):
    before = workbook_cells(quarterly_followup(2024, 2, **inputs))
    later = pd.DataFrame([{"bokforingsdatum": pd.Timestamp("2024-05-20"), "projekt": "GEMTAG",
                           "belopp": 4_000.0, "kostnadsslag": "LON", "account_class": "cost"}])
    ledger = pd.concat([inputs["ledger"], later], ignore_index=True)
    after = workbook_cells(quarterly_followup(2024, 2, **{**inputs, "ledger": ledger}))
    key = ["sheet", "table", "row", "column"]
    merged = before.merge(after, on=key, suffixes=("_före", "_efter"))
    changed = merged.loc[merged["value_före"] != merged["value_efter"]].set_index(key)
    cell = ("GEMTAG", "Budget", "Löner och arvoden (inkl. sociala avgifter)", "Utfall kvartal")
    assert changed.loc[cell].to_list() == [62_000, 66_000]
    assert ("Förbundet", "Resultat", "Årets resultat", "Prognos helår") in changed.index


def test_html_page(q2, inputs, tmp_path: Path):
    history = accumulated_history(2024, 2, lines=inputs["lines"], ledger=inputs["ledger"])
    path = write_html(q2, tmp_path, history=history)
    assert path == tmp_path / HTML_NAME
    page = path.read_text(encoding="utf-8")
    # one quarter chart per section; on the förbund's also forecast and participants
    assert page.count('<svg class="diagram"') == 6
    assert page.count("<figcaption>") == 6 and "<img" not in page and "<script" not in page
    assert '<title id="avsnitt-JOBBSAM3-diagram">' in page
    assert '<title id="prognos-diagram">' in page and '<title id="deltagare-diagram">' in page
    for heading in ("<h1>Budgetuppföljning kvartal 2 2024</h1>",
                    "<h2>JOBBSAM3 – Jobbsamverkan 3</h2>",
                    "<h2>Förbundet totalt</h2>", "<th>Budget kvartal</th>", "<th>Prognos helår</th>",
                    "<th>Förbrukat %</th>", "<h3>Årets resultat</h3>", "<h3>Eget kapital</h3>",
                    "<h3>Noter</h3>"):
        assert heading in page
    assert '<td class="num">219 500</td>' in page
    assert '<td class="num">43,9 %</td>' in page
    assert "Resor och bil" in page and "granskning" in page
    assert "http://" not in page and "https://" not in page       # nothing fetched from a network


def test_html_escapes_what_the_workbook_says(inputs, tmp_path: Path):
    catalogue = inputs["catalogue"].assign(namn=["Jobb & <samverkan>", "Gemensamma tag", "Adm"])
    followup = quarterly_followup(2024, 2, **{**inputs, "catalogue": catalogue})
    history = accumulated_history(2024, 2, lines=inputs["lines"], ledger=inputs["ledger"])
    page = write_html(followup, tmp_path, history=history).read_text(encoding="utf-8")
    assert "Jobb &amp; &lt;samverkan&gt;" in page and "<samverkan>" not in page


def test_chart_draws_a_negative_outcome_below_zero(q2, inputs, tmp_path: Path):
    history = accumulated_history(2024, 2, lines=inputs["lines"], ledger=inputs["ledger"])
    history.loc[history["insats"] == "ADM", "utfall_ackumulerat"] = [-12_000.0, 3_000.0]
    page = write_html(q2, tmp_path, history=history).read_text(encoding="utf-8")
    section = page[page.index('<section id="avsnitt-ADM">'):]
    chart = section[section.index("<svg"):section.index("</svg>") + len("</svg>")]
    root = ET.fromstring(chart)
    assert root.find("title").text.startswith("Budget och utfall per kvartal")
    zero = next(float(line.get("y1")) for line in root.iter("line")
                if line.get("stroke") == "#333333")
    credit = next(rect for rect in root.findall("rect")
                  if rect.find("title").text == "Kvartal 1, Utfall ackumulerat: -12 000")
    assert credit.get("fill") == "#1f4e79" and float(credit.get("y")) == pytest.approx(zero)
    ticks = ["".join(text.itertext()) for text in root.iter("text")]
    assert kronor(-10_000) in ticks or kronor(-20_000) in ticks   # the axis reaches below zero
    assert "Kvartal 2" in ticks and "Budget ackumulerat" in ticks


def test_number_formats():
    assert kronor(1_234_567) == "1 234 567"
    assert kronor(-1_000.4) == "-1 000"
    assert kronor(-0.4) == "0"
    assert kronor(math.nan) == "–"
    assert percent(0.4875) == "48,8 %"
    assert percent(math.nan) == "–"
