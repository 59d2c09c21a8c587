"""The quarterly budget follow-up for the board: ``budgetuppfoljning.xlsx`` and an HTML page.

Both show the tables :mod:`assets.budget.followup` computes, laid out once as a
:class:`~assets.budget.layout.Report` (:func:`followup_report`); :func:`workbook_cells` is the
workbook as a frame of cells, for a sign-off to compare with.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from assets import charts
from assets.budget import page, workbook
from assets.budget.followup import (
    FORBUNDET,
    KVARTAL,
    PROGNOS_HELAR,
    TOTAL,
    FollowUp,
    Period,
    Sheet,
    kronor,
    percent,
)
from assets.budget.layout import (
    COUNT,
    KRONOR,
    PERCENT,
    Block,
    Figures,
    Report,
    Table,
    cells,
)
from assets.budget.layout import Sheet as LayoutSheet

WORKBOOK_NAME = "budgetuppfoljning.xlsx"
HTML_NAME = "budgetuppfoljning.html"
TERTIAL_SHEET = "Tertial"
USED = "Förbrukat %"
PARTICIPANTS = "Deltagare hittills i år (unika personer)"
TARGET = "Mål deltagare per år"
TARGET_SHARE = "Andel av årsmålet %"
COST_PER_PARTICIPANT = "Kostnad per deltagare (utfall ackumulerat / deltagare)"
PER_INSATS_HEADING = "Kostnader per insats (varje insats Totalt-rad)"
RESULT_HEADING = "Årets resultat"
EQUITY_HEADING = "Eget kapital"
NET_HEADING = "Intäkter bokförda på insatsen"
RECONCILIATION = "Avstämning"
BUDGET_COLOR = "#9db9d9"
OUTCOME_COLOR = "#1f4e79"
FORECAST_COLOR = "#ff7f0e"
PARTICIPANT_COLOR = "#2ca02c"

# Re-exported: the formats of the workbook's cells and the page's figures.
KRONOR_FORMAT = workbook.KRONOR_FORMAT
PERCENT_FORMAT = workbook.PERCENT_FORMAT
__all__ = ["WORKBOOK_NAME", "HTML_NAME", "KRONOR_FORMAT", "PERCENT_FORMAT", "kronor", "percent",
           "followup_report", "workbook_cells", "write_workbook", "write_html"]

_REMAINING = {KVARTAL: "kvartal", "tertial": "tertialer"}


def followup_report(followup: FollowUp, tertial: FollowUp | None = None,
                    history: pd.DataFrame | None = None) -> Report:
    """The workbook and page: one sheet per insats, ``ADM`` and ``Förbundet``, and a ``Tertial``
    sheet with every table of the last ended tertial when ``tertial`` is given (in the workbook
    only). ``history``: :func:`followup.accumulated_history`'s frame, drawn on the page."""
    period = followup.period
    charted = dict(list(history.groupby("insats", sort=False))) if history is not None else {}
    sheets = [LayoutSheet(sheet.code, (_block(sheet, period, _charts(sheet, followup, charted,
                                                                     history is not None)),))
              for sheet in followup.sheets.values()]
    if tertial is not None:
        sheets.append(LayoutSheet(TERTIAL_SHEET, tuple(
            _block(sheet, tertial.period, ()) for sheet in tertial.sheets.values()), html=False))
    title = f"Budgetuppföljning {period.label}"
    lines = (_period_line(period),)
    if tertial is not None:
        lines += (f"Arbetsboken har också fliken {TERTIAL_SHEET}: {tertial.period.label}, som "
                  f"slutade {tertial.period.end:%Y-%m-%d}.",)
    return Report(title=title, sheets=tuple(sheets), lines=lines, help=_help(period))


def workbook_cells(followup: FollowUp, tertial: FollowUp | None = None) -> pd.DataFrame:
    """The workbook's cells as (sheet, table, row, column, value): see :func:`layout.cells`."""
    return cells(followup_report(followup, tertial))


def write_workbook(followup: FollowUp, path: Path | str, tertial: FollowUp | None = None) -> Path:
    """Write the workbook to ``path`` (a ``.xlsx`` file, or a folder to write
    ``budgetuppfoljning.xlsx`` in). Returns the file."""
    return workbook.write(followup_report(followup, tertial), _target(path, WORKBOOK_NAME))


def write_html(followup: FollowUp, path: Path | str, *, history: pd.DataFrame) -> Path:
    """Write the board's page to ``path`` (a ``.html`` file, or a folder to write
    ``budgetuppfoljning.html`` in). Returns the file."""
    return page.write(followup_report(followup, history=history), _target(path, HTML_NAME))


def _target(path: Path | str, name: str) -> Path:
    path = Path(path)
    return path if path.suffix == Path(name).suffix else path / name


def heading(sheet: Sheet) -> str:
    return sheet.name if sheet.code == FORBUNDET else f"{sheet.code} – {sheet.name}"


def _period_line(period: Period) -> str:
    return (f"Perioden {period.start:%Y-%m-%d} – {period.end:%Y-%m-%d}, ackumulerat från "
            f"{period.year_start:%Y-%m-%d}. Belopp i kronor.")


def _help(period: Period) -> tuple[tuple[str, str], ...]:
    remaining = _REMAINING.get(period.unit, period.unit)
    return (
        ("Avvikelse", "= budget − utfall: ett positivt tal betyder att kostnaderna är lägre än "
                      "budgeterat."),
        ("Ackumulerat", "= från årets början till och med perioden."),
        ("Prognos helår", f"= utfall hittills i år + budget för årets återstående {remaining}."),
        ("Förbrukat %", "= utfall hittills i år i förhållande till årsbudgeten."),
        ("Årets resultat", "= medlemsbidragen + övriga intäkter − kostnaderna; eget kapital från "
                           "tidigare år visas bredvid och räknas inte som intäkt."),
        ("Deltagare", "= unika personer med ett deltagande under året; felregistreringar (FEL) "
                      "räknas inte."),
    )


def _block(sheet: Sheet, period: Period, charts_html: tuple[str, ...]) -> Block:
    parts: list[Table | Figures] = [Table("Budget", sheet.table)]
    if sheet.participants is not None:
        parts.append(Figures("Deltagare", (
            (PARTICIPANTS, sheet.participants, COUNT),
            (TARGET, sheet.target, COUNT),
            (TARGET_SHARE, sheet.target_share, PERCENT),
            (COST_PER_PARTICIPANT, sheet.cost_per_participant, KRONOR),
        )))
    if sheet.net is not None:
        parts.append(Table("Nettokostnad", sheet.net, heading=NET_HEADING))
    if sheet.per_insats is not None:
        parts.append(Table("Per insats", sheet.per_insats, heading=PER_INSATS_HEADING))
    if sheet.result is not None:
        parts.append(Table("Resultat", sheet.result, heading=RESULT_HEADING))
    if sheet.equity is not None:
        parts.append(Table("Eget kapital", sheet.equity, heading=EQUITY_HEADING))
    if sheet.figures:
        parts.append(Figures(RECONCILIATION, tuple((label, value, KRONOR)
                                                   for label, value in sheet.figures.items())))
    notes = sheet.notes
    if sheet.inriktning == "Strukturövergripande":
        notes = (*notes, "Strukturövergripande insats: den har inga deltagare, så varken antal "
                         "deltagare eller kostnad per deltagare redovisas.")
    return Block(key=sheet.code, title=f"Budgetuppföljning {period.label} – {heading(sheet)}",
                 lines=(_period_line(period),), parts=tuple(parts), notes=notes,
                 charts=charts_html, heading=heading(sheet), page_lines=False)


def _charts(sheet: Sheet, followup: FollowUp, charted: dict, drawn: bool) -> tuple[str, ...]:
    if not drawn:
        return ()
    history = charted.get(sheet.code)
    made = [history_chart(history, heading(sheet), f"avsnitt-{sheet.code}-diagram")]
    if sheet.per_insats is not None:
        made.append(forecast_chart(sheet.per_insats.drop(index=TOTAL), "prognos-diagram",
                                   followup.period.year))
        counted = [other for other in followup.sheets.values() if other.participants is not None]
        if counted:
            made.append(participants_chart(
                [heading(other) for other in counted], [other.participants for other in counted],
                [other.target for other in counted], "deltagare-diagram",
                f"Deltagare hittills i år mot årsmålet, {followup.period.label}"))
    return tuple(made)


def history_chart(history: pd.DataFrame | None, title: str, chart_id: str) -> str:
    """Grouped bars of accumulated budget and outcome per quarter; credits can make the outcome
    negative, and then its bar goes below the zero line."""
    if history is None or history.empty:
        return "<p>Inget underlag för diagram.</p>"
    caption = "Budget och utfall per kvartal, ackumulerat från årets början"
    quarters = [f"Kvartal {kvartal[-1]}" for kvartal in history["kvartal"]]
    series = [charts.Series("Budget ackumulerat", history["budget_ackumulerat"].tolist(),
                            BUDGET_COLOR),
              charts.Series("Utfall ackumulerat", history["utfall_ackumulerat"].tolist(),
                            OUTCOME_COLOR)]
    svg = charts.bar_chart(quarters, series, chart_id=chart_id,
                           description=f"{caption}: {title}",
                           title="Budget och utfall ackumulerat, kronor", tick_format=kronor)
    return charts.figure(svg, f"{caption}.")


def forecast_chart(per_insats: pd.DataFrame, chart_id: str, year: int) -> str:
    """Årsbudget beside the full-year forecast, one pair of bars per insats: the board sees at a
    glance which insats will spend more or less than its means."""
    caption = f"Prognos för helåret {year} mot årsbudgeten, per insats"
    series = [charts.Series("Årsbudget", per_insats["Årsbudget"].tolist(), BUDGET_COLOR),
              charts.Series(PROGNOS_HELAR, per_insats[PROGNOS_HELAR].tolist(), FORECAST_COLOR)]
    svg = charts.bar_chart(list(per_insats.index), series, chart_id=chart_id,
                           description=caption, title="Årsbudget och prognos helår, kronor",
                           horizontal=True, tick_format=kronor, integer=False)
    return charts.figure(svg, f"{caption}.")


def participants_chart(names: list[str], counts: list[float], targets: list[float | None],
                       chart_id: str, caption: str) -> str:
    """Participants per insats as bars, the year's target as a line across each bar's band."""
    series = [charts.Series("Deltagare", [float(count) for count in counts], PARTICIPANT_COLOR)]
    marker = charts.Marker("Mål deltagare per år",
                           [float("nan") if target is None else float(target)
                            for target in targets])
    svg = charts.bar_chart(names, series, chart_id=chart_id, description=caption,
                           title="Deltagare (unika personer) och mål", horizontal=True,
                           marker=marker)
    return charts.figure(svg, f"{caption}.")
