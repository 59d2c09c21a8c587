"""The board's economy as sign-off views: each report's folder, files, cells and lineage.

A report reads the ledger of its year to date (and, for a delårsrapport or the årsredovisning, of
the same period last year), the budget tables of those years, the spells active in them and the
ledger rows held for the steward in them: those rows' deliveries are its lineage. Its cells are
:func:`layout.cells` of its report, taken before the ``Underlag`` sheet is added. Its span (what a
sign-off must name to freeze it, :func:`span_of`) is the quarters its folder covers.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from assets import lineage
from assets.budget import layout, page, workbook
from assets.budget.followup import KVARTAL, Period
from assets.lineage import Deliveries, Lineage
from assets.signoff import Span, View, topic_by_words
from warehouse import models

LEDGER = models.LedgerEntry.__tablename__
SPELLS = models.Spell.__tablename__
HELD = models.HeldRow.__tablename__
LINES = models.BudgetLine.__tablename__
ANNUAL = models.BudgetAnnual.__tablename__
CATALOGUE = models.BudgetInsats.__tablename__
FINANCING = models.BudgetFinancing.__tablename__
# input frame name -> the table its rows come from and the column naming their insats
BUDGET_FRAMES = {"lines": (LINES, "insats"), "annual": (ANNUAL, "insats"),
                 "catalogue": (CATALOGUE, "insats"), "financing": (FINANCING, None)}
_MONEY = (LEDGER, LINES, ANNUAL)

# Which inputs feed a cell, by the words of its column (else row, else table) label: an Utfall is
# the ledger's, a Budget the budget's, a deviation or forecast both, participants the registers'.
TOPIC = topic_by_words({
    "utfall": (LEDGER, HELD), "kostnad": (LEDGER,), "intäkt": (LEDGER, FINANCING),
    "bokför": (LEDGER,), "resultat": (LEDGER, FINANCING), "budget": (LINES, ANNUAL),
    "prognos": _MONEY, "avvikelse": _MONEY, "förbrukat": _MONEY, "fördelat": (LINES, ANNUAL),
    "deltagare": (SPELLS,), "personer": (SPELLS,), "mål": (CATALOGUE, SPELLS),
    "medlem": (FINANCING,), "finansi": (FINANCING,), "huvudman": (FINANCING,),
    "eget kapital": (FINANCING, LEDGER),
})


def period_lineage(periods: Iterable[Period], data: dict) -> Lineage:
    """The rows a report over ``periods`` reads (each from 1 January to its end), per delivery."""
    parts = []
    spells = data["spells"]
    active = pd.Series(False, index=spells.index)
    for period in periods:
        start, end = period.year_start, period.next_start
        ledger = data["ledger"]
        booked = pd.to_datetime(ledger["bokforingsdatum"])
        parts.append(lineage.records(ledger.loc[(booked >= start) & (booked < end)], LEDGER,
                                     "projekt"))
        held = data["held_ledger_rows"]
        dated = pd.to_datetime(held["record_date"])
        parts.append(lineage.records(held.loc[(dated >= start) & (dated < end)], HELD, None))
        for name, (table, insats) in BUDGET_FRAMES.items():
            frame = data[name]
            parts.append(lineage.records(frame.loc[frame["year"] == period.year], table, insats))
        enrolled = pd.to_datetime(spells["inskrivningsdatum"])
        left = pd.to_datetime(spells["utskrivningsdatum"])
        active |= (enrolled < end) & (left.isna() | (left >= start))
    chosen = spells.loc[active]
    parts.append(lineage.records(chosen, SPELLS))
    return Lineage.of(*parts, deidentified=lineage.without_delivery(chosen))


def view(kind: str, folder: str, span: Span, report: layout.Report, names: tuple[str, str],
         data_lineage: Lineage, deliveries: Deliveries, run_id: str | None) -> View:
    """A workbook and its page as a view; the workbook has the ``Underlag`` sheet, the cells do
    not."""
    cells = layout.cells(report)
    xlsx, html = names

    def write(out: Path) -> list[Path]:
        made = layout.with_underlag(report, deliveries.table(data_lineage, run_id))
        target = out / folder
        return [workbook.write(made, target / xlsx), page.write(made, target / html)]

    return View(kind=kind, folder=folder, span=span, write=write, lineage=data_lineage,
                cells=cells, topic=TOPIC)


def span_of(period: Period) -> Span:
    """The quarters a report of ``period`` covers, which a sign-off names to freeze it: a
    quarter's follow-up its quarter (``budget/2024Q2``); a delårsrapport or the årsredovisning,
    which run from 1 January, every quarter from the year's first to the one it ends in (T1 and
    H1: 2024Q1-2024Q2, T2: 2024Q1-2024Q3, the year: 2024Q1-2024Q4)."""
    if period.unit == KVARTAL:
        return Span.of(period.start.date(), period.end.date())
    return Span.of(period.year_start.date(), period.end.date())
