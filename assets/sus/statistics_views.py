"""The SUS statistics as sign-off views: the published workbook and page, and the internal workbook.

A period's statistics are two views of the same span (the quarters of the period), frozen together
when that span is signed off:

- the *published* view (``sus/<range>[/<INSATS>]``: workbook, page, ``underlag.csv``). Its cells
  are what the release *shows* (``ProtectedRelease.cells``' shown text: a count, a share, ".."
  where hidden, nothing where a share has no denominator), never the counts behind them. Its
  corrections (``rattelser/<span>/sus/<range>/celler.csv``, public) therefore compare shown with
  shown: the signed value as the frozen files show it, the new value as the new release shows it,
  protected against the release register (which holds the frozen release, recorded before its
  files were written). A cell hidden then and now is no change, whatever its count did; a hidden
  cell appears in a correction only as "..".
- the *internal* view (``begransad/sus_statistik/<range>[/<INSATS>]``, restricted): every count.
  Its corrections, with the counts behind every cell, go to ``begransad/rattelser/<span>/`` only.

The published correction's changes are causes named per insats (the sheet), like every other
view's; its lineage is the spells active in the period. The published ``underlag.csv`` (the
view's and its corrections') names the deliveries without how many spells each gave: the spells
active in a period are a count the disclosure control may have hidden (the overview's Nyinskrivna
and Inskrivna vid periodens början), and de-identified spells are not listed at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path

import pandas as pd

from assets import files, lineage
from assets.lineage import Lineage
from assets.signoff import CELL_KEY, Span, View, topic_by_words
from assets.sus.disclosure import HIDDEN
from warehouse import models

PUBLISHED_KIND = "sus_statistik"
INTERNAL_KIND = "sus_statistik_intern"
SPELLS = models.Spell.__tablename__
# every figure comes from the spells: a changed cell's causes are narrowed by its insats (sheet)
TOPIC = topic_by_words({})


def statistics_lineage(spells: pd.DataFrame, start: date, end: date) -> Lineage:
    """The spells active in the period, per delivery and insats; de-identified spells counted
    without a file."""
    enrolled = pd.to_datetime(spells["inskrivningsdatum"])
    left = pd.to_datetime(spells["utskrivningsdatum"])
    active = spells.loc[(enrolled <= pd.Timestamp(end))
                        & (left.isna() | (left >= pd.Timestamp(start)))]
    return Lineage.of(lineage.records(active, SPELLS),
                      deidentified=lineage.without_delivery(active))


def shown_value(text: str) -> object:
    """A cell as the release shows it, typed: a count as int, a share as float, ".." as itself,
    no share (shown as nothing) as None."""
    if text == HIDDEN:
        return HIDDEN
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        return float(text)


def shown_cells(protected_cells: pd.DataFrame) -> pd.DataFrame:
    """The published view's cells from ``ProtectedRelease.cells``: what each cell shows, and
    nothing of the value behind it."""
    return pd.DataFrame({
        "sheet": protected_cells["sheet"].astype(str).to_numpy(),
        "table": protected_cells["table_name"].astype(str).to_numpy(),
        "row": protected_cells["row_label"].astype(str).to_numpy(),
        "column": protected_cells["column_label"].astype(str).to_numpy(),
        "value": pd.Series([shown_value(text) for text in protected_cells["shown"]],
                           dtype=object).to_numpy(),
    })


def internal_cells(stats: Mapping[str, Mapping[str, pd.DataFrame]]) -> pd.DataFrame:
    """The internal workbook's cells: every count and share of every table, unprotected."""
    rows = [(sheet, name, str(row), str(column), value)
            for sheet, tables in stats.items() for name, table in tables.items()
            for row, values in zip(table.index, table.to_numpy(dtype=object).tolist())
            for column, value in zip(table.columns, values)]
    return pd.DataFrame(rows, columns=[*CELL_KEY, "value"], dtype=object)


def published_view(folder: str, span: Span, write: Callable[[Path], list[Path]],
                   protected_cells: pd.DataFrame, read: Lineage) -> View:
    return View(kind=PUBLISHED_KIND, folder=folder, span=span, write=write, lineage=read,
                cells=shown_cells(protected_cells), topic=TOPIC, lineage_counts=False)


def internal_view(folder: str, span: Span, write: Callable[[Path], list[Path]],
                  stats: Mapping[str, Mapping[str, pd.DataFrame]], read: Lineage) -> View:
    """``folder``: under ``begransad/`` (relative to ``<out>``)."""
    if not folder.startswith(f"{files.RESTRICTED}/"):
        raise ValueError(f"den interna arbetsboken hör hemma under {files.RESTRICTED}/")
    return View(kind=INTERNAL_KIND, folder=folder, span=span, write=write, lineage=read,
                cells=internal_cells(stats), restricted=True, topic=TOPIC)
