"""An independent reader of the board's workbooks: it knows only what a reader of the file sees.

A table starts at a header row (its cells filled light blue) and runs to the next empty row. A
total row is the table's last row with its label in bold. Its every amount must be the sum of the
rows above it in the table; a column whose header holds ``%`` or `` per `` (a share, a cost per
participant) or whose cells are percentages is a ratio and is not summed. An empty cell counts as
0; a table may be empty in a column altogether.

Written for the tests, apart from the code that writes the workbooks: it never sees their frames.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import openpyxl

HEADER_FILL = "DDE5F0"
TOLERANCE = 0.01      # kronor: the amounts are floats, shown in whole kronor


def _is_header(cell) -> bool:
    colour = cell.fill.fgColor.rgb if cell.fill is not None and cell.fill.fgColor else None
    return isinstance(colour, str) and colour.upper().endswith(HEADER_FILL)


def _empty(row) -> bool:
    return all(cell.value is None for cell in row)


def tables(path: Path) -> list[dict]:
    """Every table of the workbook: sheet, header, rows (cells), whether it ends in a total."""
    book = openpyxl.load_workbook(path)
    found = []
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows())
        index = 0
        while index < len(rows):
            row = rows[index]
            if not row or not _is_header(row[0]):
                index += 1
                continue
            header = [cell.value for cell in row]
            body = []
            index += 1
            while index < len(rows) and not _empty(rows[index]) and not _is_header(rows[index][0]):
                body.append(rows[index])
                index += 1
            total = bool(body) and bool(body[-1][0].font and body[-1][0].font.b)
            found.append({"sheet": sheet.title, "header": header, "rows": body, "total": total})
    return found


def _ratio(header: str | None, cells) -> bool:
    name = header or ""
    if "%" in name or " per " in f" {name} ":
        return True
    return any("%" in (cell.number_format or "") for cell in cells if cell.value is not None)


def unbalanced_totals(path: Path) -> list[str]:
    """Every total that is not the sum of its rows, as ``sheet!cell: total, sum``."""
    problems = []
    for table in tables(path):
        if not table["total"]:
            continue
        *items, total = table["rows"]
        for column, header in enumerate(table["header"][1:], start=1):
            cells = [row[column] for row in table["rows"] if len(row) > column]
            if _ratio(header, cells) or any(isinstance(cell.value, str) for cell in cells):
                continue
            values = [row[column].value if len(row) > column else None for row in items]
            stated = total[column].value if len(total) > column else None
            if stated is None and all(value is None for value in values):
                continue
            summed = sum(value or 0 for value in values)
            if stated is None or not math.isclose(stated, summed, rel_tol=1e-9,
                                                  abs_tol=TOLERANCE):
                problems.append(f"{table['sheet']}!{total[column].coordinate} ({header}): "
                                f"summa {stated}, raderna {summed}")
    return problems


def tables_checked(path: Path) -> int:
    return sum(table["total"] for table in tables(path))


def assert_cells_in_workbook(frame, path: Path) -> None:
    """Every value of a cell frame (sheet, table, row, column, value) stands in the workbook: in
    a table under its column, on the row with its label; a figure beside its label; a note as a
    bullet."""
    book = openpyxl.load_workbook(path)
    seen: dict[tuple, list] = defaultdict(list)
    for table in tables(path):
        for row in table["rows"]:
            for column, header in enumerate(table["header"][1:], start=1):
                value = row[column].value if len(row) > column else None
                seen[(table["sheet"], row[0].value, header)].append(value)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            if row and row[0].value is not None:
                value = row[1].value if len(row) > 1 else None
                seen[(sheet.title, row[0].value, "Värde")].append(value)
                seen[(sheet.title, row[0].value, "•")].append(None)
    for record in frame.itertuples(index=False):
        if record.column == "Text":
            assert (record.sheet, f"• {record.value}", "•") in seen, record
            continue
        values = seen.get((record.sheet, record.row, record.column))
        assert values is not None, record
        assert any(_same(record.value, value) for value in values), (record, values)


def _same(expected, found) -> bool:
    if expected is None:
        return found is None
    if isinstance(expected, str):
        return expected == found
    return found is not None and not isinstance(found, str) and math.isclose(
        float(expected), float(found), rel_tol=1e-12, abs_tol=1e-9)
