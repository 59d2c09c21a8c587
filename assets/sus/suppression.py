"""Small-cell protection for the published SUS statistics: the rule as the reader is told it, and a
release's tables and quarterly bars with what the disclosure control hides shown as "..".

A count from 1 to min_cell - 1 is hidden (primary suppression), and so many further cells that no
hidden count can be worked out by a reader who puts every table of the release together with
everything published before (``disclosure.py`` decides which, ``linked.py`` is the reader's
model). The tables, the bars of the web page and the register all take what they show from one
protection, so nothing hidden in one place is shown in another.

Regeln i klartext (samma text står i arbetsboken och på webbsidan):

    Små tal kan peka ut enskilda personer. Därför visas ett antal från 1 till 2 som ".." i de
    publicerade tabellerna och diagrammen. Så många andra tal döljs också att inget dolt tal kan
    räknas fram, varken ur summor och samband inom och mellan tabellerna, ur skillnaden mellan
    Alla insatser och de enskilda insatserna, eller tillsammans med det som publicerats tidigare,
    till exempel genom att jämföra överlappande perioder. Ett tal som visats i en tidigare
    publicering kan därför döljas i en senare. Noll visas som 0, utom när en nolla behöver döljas
    för att skydda ett annat tal: ett dolt tal kan alltså vara vilket tal som helst, även 0. En
    andel visas som ".." när antalet den bygger på eller antalet utskrivna den räknas på är dolt,
    utom när andelen ändå framgår av det som redan publicerats.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from assets.sus import disclosure, linked
from assets.sus.statistics import ALL_INSATSER

HIDDEN = disclosure.HIDDEN
DEFAULT_MIN_CELL = 3
QUARTER_MEASURES = tuple(linked.QUARTER_MEASURES)

Stats = Mapping[str, Mapping[str, pd.DataFrame]]
Cell = tuple[str, str, str, str]


def rule_text(min_cell: int = DEFAULT_MIN_CELL) -> str:
    """The small-cell rule in plain Swedish, for the workbook and the web page."""
    return (f"Små tal kan peka ut enskilda personer. Därför visas ett antal från 1 till "
            f"{min_cell - 1} som \"{HIDDEN}\" i de publicerade tabellerna och diagrammen. Så många "
            "andra tal döljs också att inget dolt tal kan räknas fram, varken ur summor och "
            "samband inom och mellan tabellerna, ur skillnaden mellan Alla insatser och de "
            "enskilda insatserna, eller tillsammans med det som publicerats tidigare, till "
            "exempel genom att jämföra överlappande perioder. Ett tal som visats i en tidigare "
            "publicering kan därför döljas i en senare. Noll visas som 0, utom när en nolla "
            "behöver döljas för att skydda ett annat tal: ett dolt tal kan alltså vara vilket "
            "tal som helst, även 0. En andel visas som \"..\" när antalet den bygger på eller "
            "antalet utskrivna den räknas på är dolt, utom när andelen ändå framgår av det som "
            "redan publicerats.")


@dataclass
class ProtectedRelease:
    """A release as it is published: its tables and quarterly bars with hidden cells as "..",
    its cells as the register records them, and what the protection did."""

    tables: dict[str, dict[str, pd.DataFrame]]
    quarterly: pd.DataFrame
    cells: pd.DataFrame
    report: dict[str, float | int]
    unprotected: list[str]


def release_of(stats: Stats, start: date, end: date, scope: str | None) -> linked.Release:
    """The release the tables make: its whole quarters, its insats (or every one) and sheets."""
    return linked.Release(linked.quarter_of(start), linked.quarter_of(end), (scope or "").upper(),
                          tuple(stats))


def with_all_insatser(quarterly: pd.DataFrame) -> pd.DataFrame:
    """The quarterly counts per insats with "Alla insatser" (their sum) after them."""
    columns = ["insats", "kvartal", *QUARTER_MEASURES]
    if quarterly.empty:
        return pd.DataFrame(columns=columns)
    total = (quarterly.groupby("kvartal", sort=True)[list(QUARTER_MEASURES)].sum()
             .reset_index().assign(insats=ALL_INSATSER))
    return pd.concat([quarterly[columns], total[columns]], ignore_index=True)


def render(tables: Mapping[str, pd.DataFrame], sheet: str, hidden: Collection[Cell]
           ) -> dict[str, pd.DataFrame]:
    """One sheet's tables as object cells, ".." where hidden."""
    rendered = {}
    for name, table in tables.items():
        values = table.to_numpy(dtype=object, copy=True)
        for i, row in enumerate(table.index):
            for j, column in enumerate(table.columns):
                if (sheet, name, row, column) in hidden:
                    values[i, j] = HIDDEN
        rendered[name] = pd.DataFrame(values, index=table.index, columns=table.columns,
                                      dtype=object)
    return rendered


def render_quarterly(quarterly: pd.DataFrame, hidden: Collection[Cell]) -> pd.DataFrame:
    """insats (with "Alla insatser"), kvartal, nyinskrivna, utskrivna; hidden counts as ".."."""
    frame = with_all_insatser(quarterly).astype({name: object for name in QUARTER_MEASURES})
    for column in QUARTER_MEASURES:
        gone = np.array([(insats, linked.QUARTERLY, quarter, column) in hidden
                         for insats, quarter in zip(frame["insats"], frame["kvartal"])], dtype=bool)
        frame.loc[gone, column] = HIDDEN
    return frame


def protect_release(spells: pd.DataFrame, stats: Stats, quarterly: pd.DataFrame, start: date,
                    end: date, *, scope: str | None = None,
                    register: pd.DataFrame | None = None,
                    min_cell: int = DEFAULT_MIN_CELL) -> ProtectedRelease:
    """The release's tables (``statistics.sus_statistics`` of the release's spells) and quarterly
    counts (``statistics.quarterly_counts``), protected together with ``register`` (everything
    published before; None: nothing). ``spells``: every spell in the warehouse, whatever the
    release's scope, since earlier releases may count other insatser."""
    release = release_of(stats, start, end, scope)
    protection = disclosure.protect(spells, release, register, min_cell)
    hidden = protection.hidden
    tables = {sheet: render(sheet_tables, sheet, hidden) for sheet, sheet_tables in stats.items()}
    return ProtectedRelease(tables, render_quarterly(quarterly, hidden), protection.cells,
                            protection.report, protection.unprotected)
