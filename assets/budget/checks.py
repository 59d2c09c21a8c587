"""Output checks on the board's workbooks, reading back the files a run wrote.

A workbook passes when every total is the sum of its rows (a labelled row carries any difference,
see :mod:`assets.budget.layout`), and, for the quarterly follow-up, when each row of the förbund's
per-insats table is that insats's own Totalt. The checks read only the files: a table begins at a
header row (filled ``DDE5F0``) and ends before an empty row; its last row is a total when its
label is bold; a ratio column (``%`` or `` per `` in its header, or a percent format) is no sum.
"""

from __future__ import annotations

import math
from pathlib import Path

import dagster as dg
import openpyxl

from assets.budget.layout import is_ratio
from assets.budget.workbook import HEADER_FILL

SUMS = "summor_stammer"
SUMS_DESCRIPTION = ("Varje summa i arbetsböckerna är summan av sina rader (en märkt rad bär "
                    "en skillnad), och förbundets rad per insats är insatsens Totalt.")
PER_INSATS = "Per insats"
TOLERANCE = 0.01


def check_specs(asset: str) -> list[dg.AssetCheckSpec]:
    return [dg.AssetCheckSpec(SUMS, asset=asset, description=SUMS_DESCRIPTION)]


def result(workbooks: list[Path]) -> dg.AssetCheckResult:
    """The check over the workbooks the run wrote (none: nothing to check, which passes)."""
    problems = [problem for path in workbooks for problem in workbook_problems(path)]
    return dg.AssetCheckResult(
        check_name=SUMS, passed=not problems, severity=dg.AssetCheckSeverity.ERROR,
        metadata={"arbetsbocker": len(workbooks), "fel": len(problems),
                  "exempel": dg.MetadataValue.json(problems[:10])})


def workbook_problems(path: Path) -> list[str]:
    book = openpyxl.load_workbook(path)
    try:
        tables = _tables(book)
    finally:
        book.close()
    problems = [problem for table in tables for problem in _unbalanced(path.name, table)]
    return problems + _per_insats_problems(path.name, tables)


def _tables(book) -> list[dict]:
    found = []
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows())
        index = 0
        title = None
        while index < len(rows):
            if rows[index] and _title(rows[index][0]):
                title = str(rows[index][0].value)
            if not rows[index] or not _header(rows[index][0]):
                index += 1
                continue
            heading = rows[index - 1][0].value if index and rows[index - 1] else None
            header = [cell.value for cell in rows[index]]
            index += 1
            body = []
            while (index < len(rows) and any(cell.value is not None for cell in rows[index])
                   and not _header(rows[index][0])):
                body.append(rows[index])
                index += 1
            total = bool(body) and bool(body[-1][0].font is not None and body[-1][0].font.b)
            found.append({"sheet": sheet.title, "title": title, "heading": heading,
                          "header": header, "rows": body, "total": total})
    return found


def _title(cell) -> bool:
    """A block's title: the largest text of the sheet."""
    return cell.value is not None and cell.font is not None and (cell.font.sz or 0) >= 14


def _header(cell) -> bool:
    colour = cell.fill.fgColor.rgb if cell.fill is not None and cell.fill.fgColor else None
    return isinstance(colour, str) and colour.upper().endswith(HEADER_FILL)


def _unbalanced(name: str, table: dict) -> list[str]:
    if not table["total"]:
        return []
    *items, total = table["rows"]
    problems = []
    for column, header in enumerate(table["header"][1:], start=1):
        cells = [row[column] for row in table["rows"] if len(row) > column]
        if (is_ratio(str(header or "")) or any("%" in (cell.number_format or "") for cell in cells)
                or any(isinstance(cell.value, str) for cell in cells)):
            continue
        values = [row[column].value for row in items if len(row) > column]
        stated = total[column].value if len(total) > column else None
        if stated is None and all(value is None for value in values):
            continue
        summed = sum(value or 0 for value in values)
        if stated is None or not math.isclose(stated, summed, rel_tol=1e-9, abs_tol=TOLERANCE):
            problems.append(f"{name} {table['sheet']}!{total[column].coordinate} {header}: "
                            f"summan {stated}, raderna {summed}")
    return problems


def _per_insats_problems(name: str, tables: list[dict]) -> list[str]:
    """Each row ``CODE – name`` of the förbund's per-insats table equals the Totalt of the
    insats's own table, column by column: the first table of the block titled with ``– CODE –``
    on the same sheet (the Tertial sheet), else the first table of the sheet ``CODE``."""
    problems = []
    for table in tables:
        if not str(table["heading"] or "").startswith("Kostnader per insats"):
            continue
        for row in table["rows"][:-1]:
            code = str(row[0].value).split(" – ")[0]
            own = next((other for other in tables if other["sheet"] == table["sheet"]
                        and f" – {code} – " in str(other["title"] or "")), None)
            if own is None:
                own = next((other for other in tables if other["sheet"] == code), None)
            if own is None:
                continue
            totals = {header: cell.value for header, cell in zip(own["header"], own["rows"][-1])}
            for header, cell in zip(table["header"][1:], row[1:]):
                if header in totals and not _same(cell.value, totals[header]):
                    problems.append(f"{name} {table['sheet']}!{cell.coordinate}: {code} {header} "
                                    f"{cell.value}, fliken {code} visar {totals[header]}")
    return problems


def _same(one, other) -> bool:
    if one is None or other is None:
        return one is None and other is None
    return math.isclose(one, other, rel_tol=1e-9, abs_tol=TOLERANCE)
