"""A :class:`~assets.budget.layout.Report` as an Excel workbook, one worksheet per sheet.

Each block is written below the previous one: its title, its period lines, a blank row, then each
table (heading, header row, rows, the total row bold below a line) and figure list with a blank row
between, then the notes. Cells are created with a ready style (:func:`assets.excel.style_array`);
styling cell by cell cost as much as writing the values.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from assets import files
from assets.budget.layout import (
    COUNT,
    KRONOR,
    NOTES,
    PERCENT,
    TEXT,
    Block,
    Figures,
    Report,
    Table,
)
from assets.excel import style_array

# Excel shows the thousands separator of the reader's locale: a space in Swedish Excel.
KRONOR_FORMAT = "#,##0"
PERCENT_FORMAT = "0.0%"
COUNT_FORMAT = "0"
HEADER_FILL = "DDE5F0"
_NUMBER_FORMATS = {KRONOR: KRONOR_FORMAT, PERCENT: PERCENT_FORMAT, COUNT: COUNT_FORMAT}
_LABEL_WIDTH = 46
_NUMBER_WIDTH = 15
_BOLD = Font(bold=True)
_TITLE_FONT = Font(bold=True, size=14)
_HEADER_ALIGNMENT = Alignment(wrap_text=True, vertical="top")
_HEADER = PatternFill("solid", fgColor=HEADER_FILL)
_TOP_LINE = Border(top=Side(style="thin"))


def write(report: Report, path: Path) -> Path:
    """The workbook, written atomically to ``path``."""
    book = build(report)
    return files.write_with(path, book.save)


def build(report: Report) -> Workbook:
    book = Workbook()
    # Looked up on the sheet a new workbook comes with, which then goes.
    styles = _Styles(book.active)
    book.remove(book.active)
    for sheet in report.sheets:
        worksheet = book.create_sheet(sheet.name)
        columns = 1
        for number, block in enumerate(sheet.blocks):
            if number:
                worksheet.append([])
            columns = max(columns, _write_block(worksheet, block, styles))
        if len(sheet.blocks) == 1 and _first_header(sheet.blocks[0]) is not None:
            worksheet.freeze_panes = worksheet.cell(_first_header(sheet.blocks[0]) + 1, 2)
        _set_widths(worksheet, columns)
    return book


class _Styles:
    """The workbook's cell styles, each looked up once."""

    def __init__(self, worksheet: Worksheet) -> None:
        self.title = style_array(worksheet, font=_TITLE_FONT)
        self.header = style_array(worksheet, font=_BOLD, fill=_HEADER, alignment=_HEADER_ALIGNMENT)
        self.number = {name: style_array(worksheet, number_format=number_format)
                       for name, number_format in _NUMBER_FORMATS.items()}
        self.total = {name: style_array(worksheet, number_format=number_format, font=_BOLD,
                                        border=_TOP_LINE)
                      for name, number_format in _NUMBER_FORMATS.items()}
        self.total_label = style_array(worksheet, font=_BOLD, border=_TOP_LINE)
        self.bold = style_array(worksheet, font=_BOLD)


def _first_header(block: Block) -> int | None:
    """The row of the block's first table header, when the block is the sheet's only one."""
    row = 1 + len(block.lines) + 1
    for part in block.parts:
        if isinstance(part, Table):
            return row + 1 + (1 if part.heading else 0)
        return None
    return None


def _write_block(worksheet: Worksheet, block: Block, styles: _Styles) -> int:
    """Title, lines, tables, figures and notes, appended below the rows ``worksheet`` has; returns
    the widest table's column count."""
    worksheet.append([Cell(worksheet, value=block.title, style_array=styles.title)])
    for line in block.lines:
        worksheet.append([line])
    widest = 1
    for part in block.parts:
        worksheet.append([])
        if isinstance(part, Table):
            _write_table(worksheet, part, styles)
            widest = max(widest, len(part.frame.columns) + 1)
        else:
            _write_figures(worksheet, part, styles)
    if block.notes:
        worksheet.append([])
        worksheet.append([Cell(worksheet, value=NOTES, style_array=styles.bold)])
        for note in block.notes:
            worksheet.append([f"• {note}"])
    return widest


def _write_table(worksheet: Worksheet, table: Table, styles: _Styles) -> None:
    """The heading, the header and the rows of ``table``; a total row bold below a line."""
    if table.heading:
        worksheet.append([Cell(worksheet, value=table.heading, style_array=styles.bold)])
    frame = table.frame
    worksheet.append([Cell(worksheet, value=name, style_array=styles.header)
                      for name in [frame.index.name or "", *frame.columns]])
    formats = [table.format_of(name) for name in frame.columns]
    labels = frame.index.to_list()
    rows = _excel_rows(frame, formats)
    for number, (label, values) in enumerate(zip(labels, rows), start=1):
        total = table.total and number == len(labels)
        by_format = styles.total if total else styles.number
        cells = [value if number_format == TEXT else
                 Cell(worksheet, value=value, style_array=by_format[number_format])
                 for value, number_format in zip(values, formats)]
        worksheet.append([Cell(worksheet, value=label, style_array=styles.total_label)
                          if total else label, *cells])


def _write_figures(worksheet: Worksheet, figures: Figures, styles: _Styles) -> None:
    for label, value, number_format in figures.values:
        if number_format == TEXT:
            worksheet.append([label, value])
        else:
            worksheet.append([label, Cell(worksheet, value=_excel(value),
                                          style_array=styles.number[number_format])])


def _set_widths(worksheet: Worksheet, columns: int) -> None:
    worksheet.column_dimensions["A"].width = _LABEL_WIDTH
    for column in range(2, columns + 1):
        worksheet.column_dimensions[get_column_letter(column)].width = _NUMBER_WIDTH


def _excel(value: object) -> object:
    """An empty figure stays an empty cell, not NaN (which Excel cannot store)."""
    if value is None:
        return None
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else float(value)
    return value


def _excel_rows(frame: pd.DataFrame, formats: list[str]) -> list[list[object]]:
    """Every value converted at once where the table is all numbers; openpyxl takes one cell at
    a time anyway."""
    if TEXT not in formats:
        values = frame.to_numpy(dtype=float)
        return np.where(np.isnan(values), None, values).tolist()
    return [[_excel(value) for value in row] for row in frame.itertuples(index=False)]
