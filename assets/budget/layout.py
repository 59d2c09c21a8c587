"""The board's workbooks and pages as data: sheets of blocks of tables, figures and notes.

Each report (quarterly follow-up, delårsrapport, årsredovisning) is described once as a
:class:`Report`; the Excel writer (:mod:`assets.budget.workbook`), the HTML page
(:mod:`assets.budget.page`) and :func:`cells` all read that description, so a cell says the same in
the workbook, on the page and in the frame a sign-off diff compares.

Conventions every table keeps, and the output check (:mod:`assets.budget.checks`) verifies:

- a table with ``total=True`` ends in a total row (bold, below a line) that is the sum of the rows
  above it in every column that holds amounts or counts; where a stated figure and the rows would
  differ, a labelled row (e.g. ``Ej fördelat på kostnadsslag``) carries the difference;
- a ratio column (a share, a percentage, a cost per participant) is never summed: its header
  contains ``%`` or `` per ``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

KRONOR = "kronor"
PERCENT = "procent"
COUNT = "antal"
TEXT = "text"
NOTES = "Noter"
VALUE = "Värde"
CELL_COLUMNS = ("sheet", "table", "row", "column", "value")


def is_ratio(column: str) -> bool:
    """A column that is a share or a quotient, not an amount: its total is no sum."""
    return "%" in column or " per " in f" {column} "


@dataclass(frozen=True)
class Table:
    """A table: ``frame``'s index are the row labels (its name heads the label column), its
    columns the column labels. Values are floats (NaN = empty) or, in a text column, strings."""

    name: str                                    # unique within its sheet
    frame: pd.DataFrame
    formats: dict[str, str] = field(default_factory=dict)   # column -> format, kronor by default
    total: bool = True                           # the last row sums the rows above it
    heading: str | None = None

    def format_of(self, column: str) -> str:
        if column in self.formats:
            return self.formats[column]
        return PERCENT if "%" in column else KRONOR


@dataclass(frozen=True)
class Figures:
    """Label-value lines below a table: (label, value, format)."""

    name: str
    values: tuple[tuple[str, object, str], ...]


@dataclass(frozen=True)
class Block:
    """A titled part of a sheet: a period line, tables and figures, notes; charts on the page only."""

    key: str
    title: str
    lines: tuple[str, ...] = ()
    parts: tuple[Table | Figures, ...] = ()
    notes: tuple[str, ...] = ()
    charts: tuple[str, ...] = ()        # ready HTML (<figure> with inline SVG)
    heading: str | None = None          # the page's shorter heading (default: the title)
    page_lines: bool = True             # the lines on the page too (not when the page says them)


@dataclass(frozen=True)
class Sheet:
    name: str                           # the worksheet's title (at most 31 characters)
    blocks: tuple[Block, ...]
    html: bool = True                   # shown on the page too


@dataclass(frozen=True)
class Report:
    title: str
    sheets: tuple[Sheet, ...]
    lines: tuple[str, ...] = ()         # the page's introduction
    help: tuple[tuple[str, str], ...] = ()   # (term, explanation) on the page


def table_id(sheet: Sheet, block: Block, name: str) -> str:
    """The table's name in :func:`cells`: prefixed with its block on a sheet of several blocks."""
    return f"{block.key}: {name}" if len(sheet.blocks) > 1 else name


def cells(report: Report) -> pd.DataFrame:
    """Every value of the workbook as one row (sheet, table, row, column, value): what a later
    run's workbook can be compared with cell by cell. (sheet, table, row, column) is unique.
    Figures are a table of their own with the column ``Värde``; the notes are the table
    ``Noter`` with rows 1, 2, ... and the column ``Text``. Empty cells have value None."""
    parts: list[pd.DataFrame] = []
    for sheet in report.sheets:
        for block in sheet.blocks:
            for part in block.parts:
                name = table_id(sheet, block, part.name)
                if isinstance(part, Table):
                    frame = part.frame
                    values = frame.to_numpy(dtype=object)
                    rows = np.repeat(frame.index.to_numpy(dtype=object), len(frame.columns))
                    columns = np.tile(frame.columns.to_numpy(dtype=object), len(frame))
                    flat = [_cell_value(value) for value in values.ravel()]
                else:
                    rows = [label for label, _, _ in part.values]
                    columns = [VALUE] * len(rows)
                    flat = [_cell_value(value) for _, value, _ in part.values]
                parts.append(pd.DataFrame({"sheet": sheet.name, "table": name, "row": rows,
                                           "column": columns,
                                           "value": pd.Series(flat, dtype=object)}))
            if block.notes:
                count = len(block.notes)
                parts.append(pd.DataFrame({
                    "sheet": sheet.name, "table": table_id(sheet, block, NOTES),
                    "row": [str(number) for number in range(1, count + 1)],
                    "column": ["Text"] * count,
                    "value": pd.Series(list(block.notes), dtype=object)}))
    if not parts:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in CELL_COLUMNS})
    frame = pd.concat(parts, ignore_index=True)
    assert frame["value"].dtype == object      # None stays None, never NaN
    return frame


def _cell_value(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    return value
