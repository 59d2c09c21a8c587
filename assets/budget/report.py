"""The budget follow-up for the board: ``budgetuppfoljning.xlsx`` and a self-contained HTML page.

Both show the same tables as :mod:`assets.budget.followup` computes them; this module only lays
them out. The HTML page has no external resources (charts are inline SVG) so it can be mailed
to board members or opened offline.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from assets import charts
from assets.budget.followup import FORBUNDET, KVARTAL, TOTAL, FollowUp, Period, Sheet
from assets.excel import style_array

WORKBOOK_NAME = "budgetuppfoljning.xlsx"
HTML_NAME = "budgetuppfoljning.html"
TERTIAL_SHEET = "Tertial"
USED = "Förbrukat %"
PARTICIPANTS = "Deltagare hittills i år (unika personer)"
COST_PER_PARTICIPANT = "Kostnad per deltagare (utfall ackumulerat / deltagare)"
RESULT_HEADING = "Intäkter och resultat"
NOTES_HEADING = "Noter"
BUDGET_COLOR = "#9db9d9"
OUTCOME_COLOR = "#1f4e79"

# Excel shows the thousands separator of the reader's locale: a space in Swedish Excel.
KRONOR_FORMAT = "#,##0"
PERCENT_FORMAT = "0.0%"
_HEADER_ROW = 4          # title, period line, blank, then the table's header
_LABEL_WIDTH = 46
_NUMBER_WIDTH = 15
_BOLD = Font(bold=True)
_TITLE_FONT = Font(bold=True, size=14)
_HEADER_ALIGNMENT = Alignment(wrap_text=True, vertical="top")
_HEADER_FILL = PatternFill("solid", fgColor="DDE5F0")
_TOP_LINE = Border(top=Side(style="thin"))
_REMAINING = {KVARTAL: "kvartal", "tertial": "tertialer"}


def write_workbook(followup: FollowUp, path: Path | str, tertial: FollowUp | None = None) -> Path:
    """Write the workbook to ``path`` (a ``.xlsx`` file, or a folder to write
    ``budgetuppfoljning.xlsx`` in): one sheet per insats, ``ADM`` and ``Förbundet``, and a
    ``Tertial`` sheet with every tertial table when ``tertial`` is given. Returns the file."""
    target = _target(path, WORKBOOK_NAME)
    book = _build_workbook(followup, tertial)
    target.parent.mkdir(parents=True, exist_ok=True)
    book.save(target)
    return target


def _build_workbook(followup: FollowUp, tertial: FollowUp | None) -> Workbook:
    book = Workbook()
    # Looked up on the sheet a new workbook comes with, which then goes.
    styles = _Styles(book.active)
    book.remove(book.active)
    for sheet in followup.sheets.values():
        worksheet = book.create_sheet(sheet.code)
        _write_block(worksheet, sheet, followup.period, styles)
        worksheet.freeze_panes = worksheet.cell(_HEADER_ROW + 1, 2)
    if tertial is not None:
        worksheet = book.create_sheet(TERTIAL_SHEET)
        for number, sheet in enumerate(tertial.sheets.values()):
            if number:
                worksheet.append([])
            _write_block(worksheet, sheet, tertial.period, styles)
    for worksheet in book.worksheets:
        _set_widths(worksheet, len(followup.period.columns))
    return book


def write_html(followup: FollowUp, path: Path | str, *, history: pd.DataFrame) -> Path:
    """Write the board's page to ``path`` (a ``.html`` file, or a folder to write
    ``budgetuppfoljning.html`` in). ``history`` is :func:`followup.accumulated_history`'s frame,
    drawn as one chart per section. Returns the file."""
    target = _target(path, HTML_NAME)
    period = followup.period
    title = f"Budgetuppföljning {period.label}"
    # Split once rather than compare every row for each section.
    charted = dict(list(history.groupby("insats", sort=False)))
    sections = [_html_section(sheet, period, charted.get(sheet.code, history.iloc[:0]))
                for sheet in followup.sheets.values()]
    page = "\n".join([_HTML_HEAD.format(title=html.escape(title)), f"<h1>{html.escape(title)}</h1>",
                      _html_intro(period), _html_nav(followup), *sections, "</body></html>\n"])
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    return target


def kronor(value: float) -> str:
    """Whole kronor with a space between thousands (``1 234 567``); an empty figure as ``–``."""
    if pd.isna(value):
        return "–"
    return f"{round(value):,}".replace(",", " ")


def percent(value: float) -> str:
    """A fraction as a Swedish percentage with one decimal (``48,8 %``)."""
    if pd.isna(value):
        return "–"
    return f"{value * 100:.1f} %".replace(".", ",")


def _target(path: Path | str, name: str) -> Path:
    path = Path(path)
    return path if path.suffix == Path(name).suffix else path / name


def _heading(sheet: Sheet) -> str:
    return sheet.name if sheet.code == FORBUNDET else f"{sheet.code} – {sheet.name}"


def _period_line(period: Period) -> str:
    return (f"Perioden {period.start:%Y-%m-%d} – {period.end:%Y-%m-%d}, ackumulerat från "
            f"{period.year_start:%Y-%m-%d}. Belopp i kronor.")


# --- Excel -----------------------------------------------------------------------------------

class _Styles:
    """The workbook's cell styles, each looked up once. Set on a cell, a style object is hashed
    and looked up in the workbook again; for every cell of the workbook that took as long as
    writing the cells' values."""

    def __init__(self, worksheet: Worksheet) -> None:
        # In the order the workbook first used them when styled cell by cell, so the fonts,
        # fills and borders keep their numbers in the file.
        self.title = style_array(worksheet, font=_TITLE_FONT)
        self.header = style_array(worksheet, font=_BOLD, fill=_HEADER_FILL, alignment=_HEADER_ALIGNMENT)
        self.number = {KRONOR_FORMAT: style_array(worksheet, number_format=KRONOR_FORMAT),
                       PERCENT_FORMAT: style_array(worksheet, number_format=PERCENT_FORMAT)}
        self.total = {name: style_array(worksheet, number_format=name, font=_BOLD, border=_TOP_LINE)
                      for name in (KRONOR_FORMAT, PERCENT_FORMAT)}
        self.total_label = style_array(worksheet, font=_BOLD, border=_TOP_LINE)
        self.bold = style_array(worksheet, font=_BOLD)
        self.bold_kronor = style_array(worksheet, number_format=KRONOR_FORMAT, font=_BOLD)


def _write_block(worksheet: Worksheet, sheet: Sheet, period: Period, styles: _Styles) -> None:
    """Title, table, extra figures and notes, appended below the rows ``worksheet`` has."""
    title = f"Budgetuppföljning {period.label} – {_heading(sheet)}"
    worksheet.append([Cell(worksheet, value=title, style_array=styles.title)])
    worksheet.append([_period_line(period)])
    worksheet.append([])
    _write_table(worksheet, sheet.table, styles)
    if sheet.participants is not None:
        worksheet.append([])
        _write_figures(worksheet, {PARTICIPANTS: sheet.participants,
                                   COST_PER_PARTICIPANT: sheet.cost_per_participant}, styles)
    if sheet.result is not None:
        worksheet.append([])
        worksheet.append([Cell(worksheet, value=RESULT_HEADING, style_array=styles.bold)])
        _write_figures(worksheet, sheet.result["Belopp"].to_dict(), styles, bold_last=True)
    if sheet.notes:
        worksheet.append([])
        worksheet.append([Cell(worksheet, value=NOTES_HEADING, style_array=styles.bold)])
        for note in sheet.notes:
            worksheet.append([f"• {note}"])


def _write_table(worksheet: Worksheet, table: pd.DataFrame, styles: _Styles) -> None:
    """The header and the rows of ``table``; the last row, Totalt, bold below a line."""
    worksheet.append([Cell(worksheet, value=name, style_array=styles.header)
                      for name in [table.index.name, *table.columns]])
    formats = [PERCENT_FORMAT if name == USED else KRONOR_FORMAT for name in table.columns]
    labels = table.index.to_list()
    # Every value converted at once; openpyxl takes one cell at a time anyway.
    rows = _excel_values(table.to_numpy(dtype=float))
    for number, (label, values) in enumerate(zip(labels, rows), start=1):
        total = number == len(labels)
        by_format = styles.total if total else styles.number
        cells = [Cell(worksheet, value=value, style_array=by_format[number_format])
                 for value, number_format in zip(values, formats)]
        worksheet.append([Cell(worksheet, value=label, style_array=styles.total_label)
                          if total else label, *cells])


def _write_figures(worksheet: Worksheet, figures: dict[str, float | None], styles: _Styles,
                   bold_last: bool = False) -> None:
    """Label-value rows below a table; ``bold_last``: the last row bold in every column the
    sheet has, as the table's Totalt."""
    for number, (label, value) in enumerate(figures.items(), start=1):
        if bold_last and number == len(figures):
            empty = [Cell(worksheet, style_array=styles.bold)
                     for _ in range(worksheet.max_column - 2)]
            worksheet.append([Cell(worksheet, value=label, style_array=styles.bold),
                              Cell(worksheet, value=_excel(value), style_array=styles.bold_kronor),
                              *empty])
        else:
            worksheet.append([label, Cell(worksheet, value=_excel(value),
                                          style_array=styles.number[KRONOR_FORMAT])])


def _set_widths(worksheet: Worksheet, columns: int) -> None:
    worksheet.column_dimensions["A"].width = _LABEL_WIDTH
    for column in range(2, columns + 2):
        worksheet.column_dimensions[get_column_letter(column)].width = _NUMBER_WIDTH


def _excel(value: float | None) -> float | None:
    """An empty figure stays an empty cell, not NaN (which Excel cannot store)."""
    return None if value is None or pd.isna(value) else float(value)


def _excel_values(values: np.ndarray) -> list[list[float | None]]:
    """:func:`_excel` of a whole array: Python floats, None where empty."""
    return np.where(np.isnan(values), None, values).tolist()


# --- HTML ------------------------------------------------------------------------------------

def _html_intro(period: Period) -> str:
    remaining = _REMAINING[period.unit]
    return (f"<p>{html.escape(_period_line(period))}</p>\n<ul class=\"help\">"
            "<li><b>Avvikelse</b> = budget − utfall: ett positivt tal betyder att kostnaderna är "
            "lägre än budgeterat.</li>"
            "<li><b>Ackumulerat</b> = från årets början till och med perioden.</li>"
            f"<li><b>Prognos helår</b> = utfall hittills i år + budget för årets återstående "
            f"{remaining}.</li>"
            "<li><b>Förbrukat %</b> = utfall hittills i år i förhållande till årsbudgeten.</li>"
            "</ul>")


def _html_nav(followup: FollowUp) -> str:
    links = " · ".join(f'<a href="#{_anchor(code)}">{html.escape(code)}</a>'
                       for code in followup.sheets)
    return f"<nav>{links}</nav>"


def _anchor(code: str) -> str:
    return html.escape(f"avsnitt-{code}", quote=True)


def _html_section(sheet: Sheet, period: Period, history: pd.DataFrame) -> str:
    heading = html.escape(_heading(sheet))
    parts = [f'<section id="{_anchor(sheet.code)}">', f"<h2>{heading}</h2>",
             _html_table(sheet.table)]
    if sheet.participants is not None:
        parts.append(f"<p>{html.escape(PARTICIPANTS)}: <b>{sheet.participants}</b>. "
                     f"{html.escape(COST_PER_PARTICIPANT)}: "
                     f"<b>{_html_kronor(sheet.cost_per_participant)}</b>.</p>")
    if sheet.result is not None:
        parts.append(f"<h3>{RESULT_HEADING}</h3>" + _html_result(sheet.result))
    parts.append(_html_chart(history, _heading(sheet), f"avsnitt-{sheet.code}-diagram"))
    if sheet.notes:
        items = "".join(f"<li>{html.escape(note)}</li>" for note in sheet.notes)
        parts.append(f"<h3>{NOTES_HEADING}</h3><ol class=\"notes\">{items}</ol>")
    parts.append("</section>")
    return "\n".join(parts)


def _html_kronor(value: float | None) -> str:
    return "–" if value is None or pd.isna(value) else f"{kronor(value)} kr"


def _html_table(table: pd.DataFrame) -> str:
    """Kronor and percentages formatted column by column; Totalt in bold."""
    head = "".join(f"<th>{html.escape(name)}</th>" for name in [table.index.name, *table.columns])
    # Plain strings: pandas' string arithmetic costs more than the formatting on tables this small.
    rows = [_html_row_start(label) for label in table.index]
    for name, values in zip(table.columns, table.to_numpy(dtype=float).T.tolist()):
        texts = map(percent if name == USED else kronor, values)
        rows = [f'{row}<td class="num">{text}</td>' for row, text in zip(rows, texts)]
    body = "".join(f"{row}</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html_row_start(label: str) -> str:
    total = ' class="total"' if label == TOTAL else ""
    return f"<tr{total}><th>{html.escape(label)}</th>"


def _html_result(result: pd.DataFrame) -> str:
    rows = "".join(f'<tr><th>{html.escape(label)}</th><td class="num">{kronor(value)}</td></tr>'
                   for label, value in result["Belopp"].items())
    return f'<table class="result"><tbody>{rows}</tbody></table>'


def _html_chart(history: pd.DataFrame, heading: str, chart_id: str) -> str:
    if history.empty:
        return "<p>Inget underlag för diagram.</p>"
    caption = "Budget och utfall per kvartal, ackumulerat från årets början"
    return charts.figure(_chart_svg(history, chart_id, f"{caption}: {heading}"), f"{caption}.")


def _chart_svg(history: pd.DataFrame, chart_id: str, description: str) -> str:
    """Grouped bars of accumulated budget and outcome per quarter; credits can make the
    outcome negative, and then its bar goes below the zero line."""
    quarters = [f"Kvartal {kvartal[-1]}" for kvartal in history["kvartal"]]
    series = [charts.Series("Budget ackumulerat", history["budget_ackumulerat"].tolist(),
                            BUDGET_COLOR),
              charts.Series("Utfall ackumulerat", history["utfall_ackumulerat"].tolist(),
                            OUTCOME_COLOR)]
    return charts.bar_chart(quarters, series, chart_id=chart_id, description=description,
                            title="Budget och utfall ackumulerat, kronor", tick_format=kronor)


_HTML_HEAD = """<!DOCTYPE html>
<html lang="sv"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 80rem; }}
nav {{ margin: 1rem 0 2rem; }}
section {{ margin-bottom: 3rem; }}
table {{ border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }}
th, td {{ border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; vertical-align: top; }}
thead th {{ background: #dde5f0; }}
td.num {{ text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }}
tr.total th, tr.total td {{ font-weight: bold; border-top: 2px solid #555; }}
ul.help, ol.notes {{ font-size: .9rem; }}
figure.diagram {{ margin: 1rem 0; }}
svg.diagram {{ width: 100%; max-width: 48rem; height: auto; display: block; }}
</style></head><body>"""
