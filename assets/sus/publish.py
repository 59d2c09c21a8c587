"""The SUS statistics as files: the internal workbook with every count, the published workbook and
the board's web page, both with small-cell protection.

Both published files are written from one protected release (``suppression.protect_release``), so
a number hidden in the workbook is hidden on the page, in its tables and its charts alike. Every
file is written whole or not at all (``assets/files.py``); the internal workbook only where
restricted files go.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup
from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Font
from openpyxl.styles.cell_style import StyleArray
from openpyxl.worksheet.worksheet import Worksheet

from assets import charts
from assets.excel import style_array
from assets.files import write_text, write_with
from assets.sus.statistics import (
    ALL_INSATSER,
    COUNTING_RULES,
    FORSORJNING,
    GOAL,
    MAL,
    TOTAL,
    kon_columns,
)
from assets.sus.suppression import DEFAULT_MIN_CELL, HIDDEN, rule_text

Stats = Mapping[str, Mapping[str, pd.DataFrame]]
Period = tuple[date, date]

INTERNAL_FILE = "sus_statistik_intern.xlsx"
PUBLISHED_FILE = "sus_statistik.xlsx"
HTML_FILE = "sus_statistik.html"
HTML_TEMPLATE = "sus_statistik.html.j2"
ABOUT_SHEET = "Om statistiken"
SHARE_TABLES = frozenset({MAL})
INTERNAL_NOTE = "Intern version med alla antal, även små tal: får inte publiceras."

_MONTHS = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september",
           "oktober", "november", "december")
# One style object each, shared by every cell that has it.
_BOLD = Font(bold=True)
_HEADING = Font(bold=True, size=14)
_RIGHT = Alignment(horizontal="right")
_WRAPPED = Alignment(wrap_text=True, vertical="top")


def swedish_date(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def period_text(period: Period | None) -> str:
    return f"{swedish_date(period[0])} – {swedish_date(period[1])}" if period else ""


# --- workbooks -------------------------------------------------------------------------------

def _cell_value(value: object, missing: bool) -> object:
    """What openpyxl should store: numbers as numbers, a missing share as an empty cell."""
    if isinstance(value, str):
        return value
    if missing:
        return None
    return float(value) if isinstance(value, float | np.floating) else int(value)


@dataclass(frozen=True)
class _Styles:
    """The cell styles of the tables, each looked up once. Set on a cell, a style object is
    hashed and looked up in the workbook again, for every cell."""

    heading: StyleArray
    bold: StyleArray
    number: StyleArray
    share: StyleArray

    @classmethod
    def of(cls, sheet: Worksheet) -> _Styles:
        # In the order the cells first use them, so fonts and alignments keep their numbers in
        # the file.
        return cls(heading=style_array(sheet, font=_HEADING), bold=style_array(sheet, font=_BOLD),
                   number=style_array(sheet, alignment=_RIGHT),
                   share=style_array(sheet, alignment=_RIGHT, number_format="0%"))


def _styled(sheet: Worksheet, values: list[object], style: StyleArray, width: int) -> list[Cell]:
    """``values`` as cells with ``style``, and empty cells with it up to column ``width``: the
    tables used to be styled a whole worksheet row at a time, which reached the widest row yet."""
    return [Cell(sheet, value=value, style_array=style)
            for value in [*values, *[None] * (width - len(values))]]


def _write_table(sheet: Worksheet, styles: _Styles, width: int, name: str, table: pd.DataFrame,
                 shares: bool) -> int:
    """Appends the table; returns the sheet's width (its widest row) after it."""
    sheet.append([Cell(sheet, value=name, style_array=styles.bold)])
    width = max(width, len(table.columns) + 1)
    sheet.append(_styled(sheet, ["", *table.columns], styles.bold, width))
    style = styles.share if shares else styles.number
    missing = table.isna().to_numpy().tolist()
    # One worksheet row per table row: the output table is a handful of rows, not the spells.
    for label, values, gaps in zip(table.index, table.to_numpy().tolist(), missing):
        numbers = [_cell_value(value, gap) for value, gap in zip(values, gaps)]
        sheet.append([label, *_styled(sheet, numbers, style, width - 1)])
    sheet.append([])
    return width


def _write_sheet(book: Workbook, styles: _Styles, title: str, heading: str, note: str,
                 tables: Mapping[str, pd.DataFrame]) -> None:
    sheet = book.create_sheet(title[:31])
    sheet.append([Cell(sheet, value=heading, style_array=styles.heading)])
    sheet.append([note])
    sheet.append([])
    width = 1
    for name, table in tables.items():
        width = _write_table(sheet, styles, width, name, table, shares=name in SHARE_TABLES)
    sheet.column_dimensions["A"].width = 52
    for letter in "BCDEFGHIJK":
        sheet.column_dimensions[letter].width = 14


def _heading(sheet: str, period: Period | None, names: Mapping[str, str]) -> str:
    name = names.get(sheet, sheet)
    title = f"SUS-statistik – {name}"
    return f"{title}, {period_text(period)}" if period else title


def _workbook(stats: Stats, period: Period | None, names: Mapping[str, str], note: str) -> Workbook:
    book = Workbook()
    # looked up on the sheet a new workbook comes with, which then goes
    styles = _Styles.of(book.active)
    book.remove(book.active)
    for sheet, tables in stats.items():
        _write_sheet(book, styles, sheet, _heading(sheet, period, names), note, tables)
    return book


def write_internal_workbook(stats: Stats, path: Path | str, *, period: Period | None = None,
                            names: Mapping[str, str] | None = None) -> Path:
    """Every count, unprotected: for the förbund's own staff only (mode 0600: put it in the
    restricted folder)."""
    book = _workbook(stats, period, names or {}, INTERNAL_NOTE)
    return write_with(Path(path), book.save, private=True)


def about_lines(min_cell: int, period: Period | None) -> list[str]:
    """The text of the sheet "Om statistiken", one paragraph a line."""
    lines = ["Om statistiken"]
    if period:
        lines.append(f"Period: {period_text(period)}.")
    lines += ["", "Så räknas statistiken", *COUNTING_RULES, "", "Skydd för små tal",
              rule_text(min_cell)]
    return lines


def write_published_workbook(protected: Stats, path: Path | str,
                             min_cell: int = DEFAULT_MIN_CELL, *, period: Period | None = None,
                             names: Mapping[str, str] | None = None) -> Path:
    """The workbook for publication: the protected tables (``ProtectedRelease.tables``) and a
    sheet explaining the rules."""
    note = f"{HIDDEN} = dolt för att skydda enskilda personer, se bladet {ABOUT_SHEET}."
    book = _workbook(protected, period, names or {}, note)
    about = book.create_sheet(ABOUT_SHEET)
    for row, line in enumerate(about_lines(min_cell, period), start=1):
        about.append([line])
        about.cell(row, 1).alignment = _WRAPPED
    about.cell(1, 1).font = _HEADING
    about.column_dimensions["A"].width = 110
    return write_with(Path(path), book.save)


# --- chart data: protected numbers only, a hidden cell is NaN (no bar) -----------------------

def _numeric(frame: pd.DataFrame) -> pd.DataFrame:
    # one conversion for the whole table rather than one per column
    values = pd.to_numeric(pd.Series(frame.to_numpy(dtype=object).ravel()), errors="coerce")
    return pd.DataFrame(values.to_numpy(dtype=float).reshape(frame.shape), index=frame.index,
                        columns=frame.columns)


def quarterly_chart_data(protected_quarterly: pd.DataFrame, sheet: str) -> pd.DataFrame:
    """Index kvartal, columns nyinskrivna and utskrivna for one sheet; hidden counts NaN."""
    rows = protected_quarterly.loc[protected_quarterly["insats"] == sheet]
    return _numeric(rows.set_index("kvartal")[["nyinskrivna", "utskrivna"]])


def forsorjning_chart_data(protected_forsorjning: pd.DataFrame) -> pd.DataFrame:
    return _numeric(protected_forsorjning[kon_columns()])


def goal_chart_data(protected: Stats, targets: Mapping[str, float],
                    names: Mapping[str, str]) -> pd.DataFrame:
    """Per insats: the published goal share (Totalt; NaN when hidden or nobody ended), whether it
    is hidden, and the target (NaN when the insats has none)."""
    insatser = [sheet for sheet in protected if sheet != ALL_INSATSER]
    shares = pd.Series([protected[sheet][MAL].at[GOAL, TOTAL] for sheet in insatser], dtype=object)
    frame = pd.DataFrame({"andel": pd.to_numeric(shares, errors="coerce").to_numpy(float),
                          "mal": [float(targets.get(sheet, np.nan)) for sheet in insatser],
                          "dold": shares.eq(HIDDEN).to_numpy()},
                         index=pd.Index([names.get(sheet, sheet) for sheet in insatser]))
    return frame


# --- charts ----------------------------------------------------------------------------------

def _grouped_bars(data: pd.DataFrame, title: str, chart_id: str, description: str,
                  horizontal: bool = False) -> str:
    """One bar per column and row; a hidden count (NaN) has no bar but ".." at its foot."""
    hidden = data.isna().to_numpy()
    series = [charts.Series(str(column), data[column].tolist(), color,
                            [HIDDEN if gone else "" for gone in hidden[:, number]])
              for number, (column, color) in enumerate(zip(data.columns,
                                                             itertools.cycle(charts.PALETTE)))]
    return charts.bar_chart(list(data.index), series, chart_id=chart_id, description=description,
                            title=title, horizontal=horizontal)


def _share_label(share: float, hidden: bool) -> str:
    if hidden:
        return HIDDEN
    return "inga utskrivna" if np.isnan(share) else f"{round(share * 100)} %"


def _goal_chart(data: pd.DataFrame, chart_id: str = "diagram-maluppfyllelse",
                description: str = "Diagram: måluppfyllelse per insats mot målet") -> str:
    shares = charts.Series("Andel till arbete, studier, rehab.", data["andel"].tolist(),
                           charts.PALETTE[0], [_share_label(share, hidden) for share, hidden
                                               in zip(data["andel"], data["dold"])])
    return charts.bar_chart(list(data.index), [shares], chart_id=chart_id,
                            description=description,
                            title="Måluppfyllelse per insats mot insatsens mål", horizontal=True,
                            tick_format=charts.percent, integer=False, domain=(0.0, 1.0),
                            marker=charts.Marker("Mål", data["mal"].tolist()))


# --- the page --------------------------------------------------------------------------------

def _format(value: object, missing: bool, share: bool) -> str:
    if isinstance(value, str):
        return value
    if missing:
        return "–"
    return f"{round(float(value) * 100)} %" if share else f"{int(value):,}".replace(",", "\u00a0")


def _table(name: str, table: pd.DataFrame) -> dict:
    """A protected table as the template shows it: every cell already formatted."""
    shares = name in SHARE_TABLES
    cells = zip(table.to_numpy(dtype=object).ravel(), table.isna().to_numpy().ravel())
    shown = np.array([_format(value, missing, shares) for value, missing in cells],
                     dtype=object).reshape(table.shape)
    return {"name": name, "index_name": table.index.name or "",
            "columns": [str(column) for column in table.columns],
            "rows": [(str(label), list(row)) for label, row in zip(table.index, shown)]}


def _anchor(sheet: str) -> str:
    return "avsnitt-" + "-".join(sheet.lower().split())


def _chart(svg: str) -> Markup:
    # the SVG is drawn by assets/charts.py, which escapes every text it puts in it: trusted markup
    return Markup(charts.figure(svg))


def _section(sheet: str, tables: Mapping[str, pd.DataFrame], quarterly: pd.DataFrame,
             names: Mapping[str, str]) -> dict:
    title = names.get(sheet, sheet)
    shown = []
    per_quarter = quarterly_chart_data(quarterly, sheet)
    if not per_quarter.empty:
        per_quarter = per_quarter.rename(columns=str.capitalize,
                                         index=lambda quarter: quarter.replace("Q", " kv "))
        shown.append(_chart(_grouped_bars(
            per_quarter, "Nyinskrivna och utskrivna per kvartal",
            f"diagram-{_anchor(sheet)}-kvartal",
            f"Diagram: nyinskrivna och utskrivna per kvartal, {title}")))
    shown.append(_chart(_grouped_bars(
        forsorjning_chart_data(tables[FORSORJNING]), "Försörjning vid inskrivning",
        f"diagram-{_anchor(sheet)}-forsorjning", f"Diagram: försörjning vid inskrivning, {title}",
        horizontal=True)))
    return {"anchor": _anchor(sheet), "title": title, "charts": shown,
            "tables": [_table(name, table) for name, table in tables.items()]}


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    # autoescape: insats names and table labels come from configuration and the registers
    return jinja2.Environment(loader=jinja2.PackageLoader("assets.sus", "templates"),
                              autoescape=True, keep_trailing_newline=True)


def render_html(protected: Stats, *, min_cell: int = DEFAULT_MIN_CELL, quarterly: pd.DataFrame,
                targets: Mapping[str, float], names: Mapping[str, str],
                period: Period | None = None) -> str:
    """The board's page as text; see :func:`write_html`."""
    goals = goal_chart_data(protected, targets, names)
    return _environment().get_template(HTML_TEMPLATE).render(
        when=period_text(period) or _quarter_span(quarterly),
        rules=COUNTING_RULES, small_numbers=rule_text(min_cell),
        links=[{"anchor": _anchor(sheet), "title": names.get(sheet, sheet)}
               for sheet in protected],
        goal_chart=None if goals.empty else _chart(_goal_chart(goals)),
        sections=[_section(sheet, tables, quarterly, names)
                  for sheet, tables in protected.items()])


def write_html(protected: Stats, path: Path | str, *, min_cell: int = DEFAULT_MIN_CELL,
               quarterly: pd.DataFrame, targets: Mapping[str, float], names: Mapping[str, str],
               period: Period | None = None) -> Path:
    """A self-contained Swedish page for the board: charts as inline SVG, protected tables.

    Rendered from ``templates/sus_statistik.html.j2`` with autoescaping. ``protected`` and
    ``quarterly``: ``ProtectedRelease.tables`` and ``.quarterly``, so the charts draw only what
    the tables may show; ``targets``: insats -> target share of goal attainment (0..1); ``names``:
    insats -> name.
    """
    return write_text(Path(path), render_html(protected, min_cell=min_cell, quarterly=quarterly,
                                              targets=targets, names=names, period=period))


def _quarter_span(quarterly: pd.DataFrame) -> str:
    if quarterly.empty:
        return ""
    quarters = sorted(quarterly["kvartal"].unique())
    return quarters[0] if len(quarters) == 1 else f"{quarters[0]}–{quarters[-1]}"
