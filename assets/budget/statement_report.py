"""The delårsrapport's and årsredovisning's tables as a workbook and an HTML page.

Three sheets: ``Resultaträkning`` (intäkter, kostnader, resultat, eget kapital), ``Finansiering``
(each member's share, and per kind of member) and ``Insatser`` (per insats, participants against
target, structural insatser by cost). The page adds charts a board reads at a glance: costs this
year beside the same period last year, the full-year forecast against the Årsbudget per insats,
participants against the target, and for the year the quarters' outcome against budget.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from assets import charts
from assets.budget import page, workbook
from assets.budget.followup import FORBUNDET, PROGNOS_HELAR, kronor
from assets.budget.layout import (
    COUNT,
    TEXT,
    Block,
    Figures,
    Report,
    Sheet,
    Table,
    cells,
)
from assets.budget.report import (
    BUDGET_COLOR,
    FORECAST_COLOR,
    OUTCOME_COLOR,
    history_chart,
    participants_chart,
)
from assets.budget.statements import (
    ARSREDOVISNING,
    INRIKTNING,
    SUMMA,
    SUMMA_KOSTNADER,
    Statement,
)

FILE_STEM = {ARSREDOVISNING: "arsredovisning", "delårsrapport": "delarsrapport"}
TITLE = {ARSREDOVISNING: "Årsredovisning", "delårsrapport": "Delårsrapport"}
PREVIOUS_COLOR = "#bbbbbb"


def file_names(statement: Statement) -> tuple[str, str]:
    stem = FILE_STEM[statement.kind]
    return f"{stem}.xlsx", f"{stem}.html"


def title(statement: Statement) -> str:
    period = statement.period
    if statement.kind == ARSREDOVISNING:
        return f"{TITLE[statement.kind]} {period.year}"
    return f"{TITLE[statement.kind]} {period.label} ({period.span})"


def statement_report(statement: Statement, history: pd.DataFrame | None = None) -> Report:
    """The workbook and page of ``statement``; ``history`` (the year's quarters, from
    :func:`followup.accumulated_history`) is drawn on the årsredovisning's page."""
    period = statement.period
    heading = title(statement)
    line = (f"Perioden {period.year_start:%Y-%m-%d} – {period.end:%Y-%m-%d}, jämfört med samma "
            f"period {period.year - 1}. Belopp i kronor.")
    columns = statement.columns
    # Each table's first header cell names it (Intäkter, Kostnader, Resultat, Eget kapital).
    result_parts = (
        Table("Intäkter", statement.intakter),
        Table("Kostnader", statement.kostnader),
        Table("Resultat", statement.resultat),
        Table("Eget kapital", statement.eget_kapital),
    )
    result_charts = [_previous_year_chart(statement)]
    if history is not None and statement.kind == ARSREDOVISNING:
        forbundet = history.loc[history["insats"] == FORBUNDET]
        result_charts.append(history_chart(forbundet, "förbundet", "kvartal-diagram"))
    financing_parts = (
        Table("Per medlem", statement.finansiering, heading="Finansiering per medlem"),
        Table("Per huvudman", statement.huvudman, heading="Finansiering per huvudman"),
    )
    insats_parts: list[Table | Figures] = [
        Table("Per insats", statement.insatser, formats={INRIKTNING: TEXT},
              heading="Kostnader, intäkter och budget per insats"),
        Table("Deltagare", statement.deltagare,
              formats={name: COUNT for name in statement.deltagare.columns
                       if name.startswith(("Deltagare", "Mål"))},
              heading="Deltagare mot mål och kostnad per deltagare (individinriktade insatser)"),
        Figures("Unika personer", ((
            f"Unika personer i alla individinriktade insatser, {period.span}",
            statement.unique_participants, COUNT),)),
    ]
    if len(statement.strukturella) > 1:
        insats_parts.append(Table("Strukturövergripande", statement.strukturella,
                                  heading="Strukturövergripande insatser efter kostnad"))
    sheets = (
        Sheet("Resultaträkning", (Block(
            key="resultat", title=f"{heading} – resultaträkning och eget kapital", lines=(line,),
            parts=result_parts, notes=statement.notes["resultat"], charts=tuple(result_charts),
            heading="Resultaträkning och eget kapital", page_lines=False),)),
        Sheet("Finansiering", (Block(
            key="finansiering", title=f"{heading} – medlemmarnas finansiering",
            lines=(f"Medlemsbidrag enligt budgetens flik Finansiering {period.year} och "
                   f"{period.year - 1}, utan eget kapital.",),
            parts=financing_parts, notes=statement.notes["finansiering"],
            heading="Medlemmarnas finansiering"),)),
        Sheet("Insatser", (Block(
            key="insatser", title=f"{heading} – insatser och deltagare", lines=(line,),
            parts=tuple(insats_parts), notes=statement.notes["insatser"],
            charts=(_forecast_chart(statement), _participants(statement)),
            heading="Insatser och deltagare", page_lines=False),)),
    )
    help_terms = (
        ("Utfall", f"= bokfört {period.year_start:%Y-%m-%d} – {period.end:%Y-%m-%d}; "
                   "medlemsbidragen periodiserade."),
        ("Avvikelse mot budget", "= utfall − budget: positivt är bättre än budget (högre "
                                 "intäkter eller lägre kostnader)."),
        (statement.result_label, "= intäkter − kostnader. Eget kapital från tidigare år är "
                                 "ingen intäkt."),
    )
    if not columns.whole_year:
        help_terms += ((PROGNOS_HELAR, "= utfall hittills i år + budget för årets återstående "
                                       "månader."),)
    return Report(title=heading, sheets=sheets, lines=(line,), help=help_terms)


def statement_cells(statement: Statement) -> pd.DataFrame:
    """The workbook's cells as (sheet, table, row, column, value): see :func:`layout.cells`."""
    return cells(statement_report(statement))


def write(statement: Statement, folder: Path,
          history: pd.DataFrame | None = None) -> dict[str, Path]:
    report = statement_report(statement, history)
    xlsx, html = file_names(statement)
    return {"workbook": workbook.write(report, folder / xlsx), "page": page.write(report, folder / html)}


def _previous_year_chart(statement: Statement) -> str:
    """Costs per kostnadsslag, the same period last year beside this year."""
    columns = statement.columns
    costs = statement.kostnader.drop(index=SUMMA_KOSTNADER)
    costs = costs.loc[(costs[[columns.outcome, columns.previous]].fillna(0) != 0).any(axis=1)]
    caption = f"Kostnader per kostnadsslag, {columns.period.span} och samma period året före"
    series = [charts.Series(columns.previous, (-costs[columns.previous]).tolist(), PREVIOUS_COLOR),
              charts.Series(columns.outcome, (-costs[columns.outcome]).tolist(), OUTCOME_COLOR)]
    svg = charts.bar_chart(list(costs.index), series, chart_id="foregaende-ar-diagram",
                           description=caption, title="Kostnader i år och föregående år, kronor",
                           horizontal=True, tick_format=kronor, integer=False)
    return charts.figure(svg, f"{caption}.")


def _forecast_chart(statement: Statement) -> str:
    """Årsbudget beside the forecast (a part-year) or the outcome (the year), per insats."""
    frame = statement.insatser.drop(index=SUMMA)
    columns = statement.columns
    if columns.whole_year:
        name, values = columns.outcome, frame[f"Kostnader {columns.period.span}"]
        caption = f"Utfall {columns.period.year} mot årsbudgeten, per insats"
    else:
        name, values = PROGNOS_HELAR, frame[columns.forecast]
        caption = f"Prognos för helåret {columns.period.year} mot årsbudgeten, per insats"
    series = [charts.Series("Årsbudget", frame["Årsbudget"].tolist(), BUDGET_COLOR),
              charts.Series(name, values.tolist(), FORECAST_COLOR)]
    svg = charts.bar_chart(list(frame.index), series, chart_id="prognos-diagram",
                           description=caption, title=f"Årsbudget och {name.lower()}, kronor",
                           horizontal=True, tick_format=kronor, integer=False)
    return charts.figure(svg, f"{caption}.")


def _participants(statement: Statement) -> str:
    frame = statement.deltagare.drop(index=SUMMA)
    if frame.empty:
        return "<p>Inga individinriktade insatser under perioden.</p>"
    span = statement.period.span
    targets = [None if np.isnan(value) else value for value in frame["Mål deltagare per år"]]
    return participants_chart(list(frame.index), frame[f"Deltagare {span}"].tolist(), targets,
                              "deltagare-diagram", f"Deltagare {span} mot årsmålet, per insats")
