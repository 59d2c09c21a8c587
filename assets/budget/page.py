"""A :class:`~assets.budget.layout.Report` as a self-contained HTML page for the board.

Rendered from the Jinja2 template ``templates/report.html.j2`` with autoescaping; the page has no
external resources (charts are inline SVG), so it can be mailed to board members or opened
offline. One section per block of the sheets shown on the page.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2
import numpy as np

from assets import files
from assets.budget.followup import kronor, percent
from assets.budget.layout import COUNT, KRONOR, PERCENT, TEXT, Figures, Report, Table

TEMPLATE = "report.html.j2"


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("assets.budget", "templates"),
                              autoescape=True, keep_trailing_newline=True)


def render(report: Report) -> str:
    sections = [_section(block) for sheet in report.sheets if sheet.html for block in sheet.blocks]
    return _environment().get_template(TEMPLATE).render(
        title=report.title, lines=report.lines, help=report.help, sections=sections)


def write(report: Report, path: Path) -> Path:
    """The page, written atomically to ``path``."""
    return files.write_text(path, render(report))


def anchor(key: str) -> str:
    return f"avsnitt-{key}"


def text(value: object, number_format: str, *, unit: bool = False) -> str:
    """A value as the page shows it: kronor with spaces between thousands, percentages with a
    decimal comma, counts as whole numbers, an empty figure as ``–``."""
    if number_format == TEXT:
        return "" if value is None else str(value)
    if value is None or (isinstance(value, (float, np.floating)) and np.isnan(value)):
        return "–"
    if number_format == PERCENT:
        return percent(float(value))
    if number_format == COUNT:
        return f"{round(float(value))}"
    return f"{kronor(float(value))} kr" if unit else kronor(float(value))


def _section(block) -> dict:
    return {"key": block.key, "anchor": anchor(block.key), "heading": block.heading or block.title,
            "lines": block.lines if block.page_lines else (), "parts": [_part(part) for part in block.parts],
            "charts": block.charts, "notes": block.notes}


def _part(part: Table | Figures) -> dict:
    if isinstance(part, Figures):
        return {"kind": "figures",
                "rows": [(label, text(value, number_format, unit=number_format == KRONOR))
                         for label, value, number_format in part.values]}
    frame = part.frame
    formats = [part.format_of(name) for name in frame.columns]
    # Formatted column by column; plain strings cost less than pandas' on tables this small.
    columns = [[text(value, number_format) for value in frame[name].tolist()]
               for name, number_format in zip(frame.columns, formats)]
    numeric = [number_format != TEXT for number_format in formats]
    rows = []
    for index, label in enumerate(frame.index):
        rows.append({"label": label, "total": part.total and index == len(frame) - 1,
                     "cells": [{"text": column[index], "number": is_number}
                               for column, is_number in zip(columns, numeric)]})
    return {"kind": "table", "heading": part.heading, "header": [frame.index.name or "",
                                                                  *frame.columns], "rows": rows}
