"""Small-cell protection for the published SUS tables.

A count from 1 to min_cell - 1 is hidden (primary suppression). Then further cells are hidden until
no hidden count can be worked out from what the tables publish: each row's Totalt, each column's sum
(treated as published for every table, because the overview and the other tables give those totals
away), and, across sheets, the fact that "Alla insatser" is the sum of the insatser. Zero is shown.

Regeln i klartext (samma text står i arbetsboken och på webbsidan):

    Små tal kan peka ut enskilda personer. Därför visas ett antal från 1 till 2 som ".." i de
    publicerade tabellerna. För att det dolda talet inte ska kunna räknas fram ur radernas och
    kolumnernas summor, eller ur skillnaden mellan Alla insatser och de enskilda insatserna, döljs
    också så många andra tal som behövs, i första hand de minsta. Noll visas alltid som 0. En andel
    som bygger på ett dolt tal visas också som "..".

How "cannot be worked out" is decided: every published sum is a node of a graph and every hidden
cell an edge between the (at most two) sums it is part of; the end of a cell that is part of only
one sum goes to a common free node. Changing hidden cells while every published sum stays the same
is a circulation along hidden edges, so a hidden cell can take more than one value exactly when it
lies on a cycle of hidden edges. A zero can only grow, so its edge is one-way. For tables whose sums
form such a graph (two-way tables with their margins, the overview's stock-and-flow identity, and
the avslutsanledningar with Måluppfyllelse's group sums) this is the same answer as the
linear-programming bounds, without needing an LP solver; the tests check it against one.

Which cells to hide for a cell the sums pin down: the cheapest path that closes a cycle through it
(Dijkstra, a visible cell costing its count, a zero costing more than any count). That is a good
choice, not a proven minimum. Across sheets the rule is simpler: no cell may be the only hidden one
among "Alla insatser" and the insatser at the same place; that stops the direct subtraction, not
every combination of several tables.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import defaultdict, deque
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from assets.sus.statistics import (
    ALDER,
    ALL_INSATSER,
    AT_END,
    AT_START,
    AVSLUT,
    COUNT,
    ENDED,
    FORSORJNING,
    MAL,
    NEW,
    NEW_ANONYMOUS,
    OVERVIEW,
    PERSONS,
    TABLE_NAMES,
    TID_INSATS,
    TID_OFFENTLIG,
    TOTAL,
    goal_counts,
    goal_groups,
)

HIDDEN = ".."
DEFAULT_MIN_CELL = 3
# Tables whose "Alla insatser" cell is the sum of the insatser's cells (for Måluppfyllelse: the
# counts behind the shares).
ADDITIVE_TABLES = (OVERVIEW, FORSORJNING, TID_OFFENTLIG, ALDER, AVSLUT, MAL, TID_INSATS)
# A person can take part in several insatser, so unique persons do not add up across sheets.
_NOT_ADDITIVE = {(PERSONS, COUNT)}

Key = tuple[str, str]

_FREE = "*"
_ZERO_COST = 1e9
_FLOW = "flöde"
_NEW_NODE = "nyinskrivna"
# The overview's sums: början + nyinskrivna - utskrivna - slut = 0 (node _FLOW) and
# nyinskrivna - varav anonyma = the enrolments the other tables count (node _NEW_NODE).
# (tail, head): raising the count adds to the tail's sum and takes from the head's.
_OVERVIEW_GRAPH = {
    AT_START: (_FLOW, _FREE),
    NEW: (_FLOW, _NEW_NODE),
    NEW_ANONYMOUS: (_FREE, _NEW_NODE),
    ENDED: (_FREE, _FLOW),
    AT_END: (_FREE, _FLOW),
    PERSONS: (_FREE, _FREE),
}


def rule_text(min_cell: int = DEFAULT_MIN_CELL) -> str:
    """The small-cell rule in plain Swedish, for the workbook and the web page."""
    return (f"Små tal kan peka ut enskilda personer. Därför visas ett antal från 1 till "
            f"{min_cell - 1} som \"{HIDDEN}\" i de publicerade tabellerna. För att det dolda talet "
            "inte ska kunna räknas fram ur radernas och kolumnernas summor, eller ur skillnaden "
            "mellan Alla insatser och de enskilda insatserna, döljs också så många andra tal som "
            "behövs, i första hand de minsta. Noll visas alltid som 0. En andel som bygger på ett "
            f"dolt tal visas också som \"{HIDDEN}\".")


@dataclass(frozen=True)
class _Cell:
    """A cell as an edge between the published sums it is part of."""

    key: Key
    tail: str
    head: str
    value: int


def _reaches(arcs: Mapping[str, list[str]], source: str, target: str) -> bool:
    seen, queue = {source}, deque([source])
    while queue:
        node = queue.popleft()
        if node == target:
            return True
        fresh = [nxt for nxt in arcs.get(node, ()) if nxt not in seen]
        seen.update(fresh)
        queue.extend(fresh)
    return False


def _movable(cell: _Cell, hidden: Collection[Key], cells: Mapping[Key, _Cell]) -> bool:
    """Whether the published sums leave the hidden ``cell`` more than one possible value."""
    if cell.tail == cell.head:
        return True
    arcs: dict[str, list[str]] = defaultdict(list)
    for other in (cells[key] for key in hidden if key != cell.key):
        arcs[other.tail].append(other.head)
        if other.value > 0:
            arcs[other.head].append(other.tail)
    raised = _reaches(arcs, cell.head, cell.tail)
    return raised or (cell.value > 0 and _reaches(arcs, cell.tail, cell.head))


def _cost(cell: _Cell) -> float:
    """What hiding a visible cell costs: its count, so the smallest go first; a zero only when
    nothing else can do (it is shown as 0 wherever possible)."""
    return float(cell.value) if cell.value > 0 else _ZERO_COST


def _cheapest_path(arcs: Mapping[str, list[tuple[str, float, Key]]], source: str,
                   target: str) -> tuple[float, list[Key]] | None:
    """Dijkstra: the cheapest path's cost and the cells along it, or None."""
    best = {source: 0.0}
    via: dict[str, tuple[str, Key]] = {}
    queue = [(0.0, 0, source)]
    pushed = 1
    while queue:
        cost, _, node = heapq.heappop(queue)
        if node == target:
            keys = []
            while node != source:
                node, key = via[node]
                keys.append(key)
            return cost, keys
        if cost > best[node]:
            continue
        for nxt, step, key in arcs.get(node, ()):
            if cost + step < best.get(nxt, math.inf):
                best[nxt] = cost + step
                via[nxt] = (node, key)
                heapq.heappush(queue, (cost + step, pushed, nxt))
                pushed += 1
    return None


def _cheapest_cycle(target: _Cell, hidden: set[Key], cells: Mapping[Key, _Cell],
                    fixed: Collection[Key]) -> set[Key]:
    """The visible cells to hide so that ``target`` lies on a cycle of hidden cells, as cheaply
    as possible (hidden cells cost nothing). Empty when no cycle can be made."""
    arcs: dict[str, list[tuple[str, float, Key]]] = defaultdict(list)
    usable = [cell for cell in cells.values() if cell.key != target.key
              and (cell.key in hidden or cell.key not in fixed)]
    for cell in usable:
        cost = 0.0 if cell.key in hidden else _cost(cell)
        arcs[cell.tail].append((cell.head, cost, cell.key))
        if cell.value > 0:
            arcs[cell.head].append((cell.tail, cost, cell.key))
    routes = [_cheapest_path(arcs, target.head, target.tail)]
    if target.value > 0:
        routes.append(_cheapest_path(arcs, target.tail, target.head))
    found = [route for route in routes if route is not None]
    if not found:
        return set()
    return set(min(found, key=lambda route: route[0])[1]) - hidden


def _hide(cells: list[_Cell], required: Iterable[Key], fixed: Collection[Key] = ()) -> set[Key]:
    """``required`` plus the secondary cells that keep every hidden cell from being derived: for
    each hidden cell the sums pin down, the cheapest cycle of hidden cells through it. Cells on a
    cycle stay movable whatever is hidden later, so one pass is enough."""
    by_key = {cell.key: cell for cell in cells}
    required = {key for key in required if key in by_key}
    hidden = set(required)
    for cell in cells:
        if cell.key in hidden and not _movable(cell, hidden, by_key):
            hidden |= _cheapest_cycle(cell, hidden, by_key, fixed)
    return hidden


def _keys(table: pd.DataFrame) -> list[Key]:
    """Every cell's key, row by row (the order of the table's values raveled)."""
    return list(itertools.product(table.index, table.columns))


def _primary(table: pd.DataFrame, min_cell: int) -> set[Key]:
    values = table.to_numpy().ravel()
    return set(itertools.compress(_keys(table), (values >= 1) & (values < min_cell)))


def _render(table: pd.DataFrame, hidden: Collection[Key]) -> pd.DataFrame:
    """The table as object cells, ".." where hidden (keys of other tables are ignored)."""
    wanted = set(hidden)
    values = table.to_numpy(dtype=object, copy=True).ravel()
    values[np.array([key in wanted for key in _keys(table)], dtype=bool)] = HIDDEN
    return pd.DataFrame(values.reshape(table.shape), index=table.index, columns=table.columns,
                        dtype=object)


def _table_cells(table: pd.DataFrame, row_total: str | None, column_total: str | None,
                 column_totals_published: bool) -> list[_Cell]:
    total_column = row_total if row_total in table.columns else None
    total_row = column_total if column_total in table.index else None
    rows_summed = total_column is not None
    columns_summed = total_row is not None or column_totals_published

    def edge(row: str, column: str, value: object) -> _Cell:
        row_node = f"rad:{row}" if rows_summed else _FREE
        column_node = f"kolumn:{column}" if columns_summed else _FREE
        # A margin cell is subtracted in the sum its line is part of, so raising it runs the
        # other way round (exactly one margin: row total or column total, not the grand total).
        flipped = (row == total_row) != (column == total_column)
        tail, head = (column_node, row_node) if flipped else (row_node, column_node)
        return _Cell((row, column), tail, head, int(value))

    return [edge(row, column, value)
            for (row, column), value in zip(_keys(table), table.to_numpy().ravel())]


def protect(table: pd.DataFrame, *, min_cell: int = DEFAULT_MIN_CELL,
            row_total: str | None = TOTAL, column_total: str | None = TOTAL,
            column_totals_published: bool = True, also_hide: Iterable[Key] = (),
            keep_visible: Collection[Key] = ()) -> pd.DataFrame:
    """The count table with small counts and enough further cells shown as ".." (object cells).

    ``row_total``: the column holding each row's total (None: rows have no total).
    ``column_total``: the row holding each column's sum, if the table has one; otherwise the sums
    count as published when ``column_totals_published``.
    ``also_hide``: cells to hide whatever their value (hidden elsewhere and linked to this table).
    ``keep_visible``: cells published elsewhere, which hiding here would not protect anything.
    """
    cells = _table_cells(table, row_total, column_total, column_totals_published)
    hidden = _hide(cells, _primary(table, min_cell) | set(also_hide), keep_visible)
    return _render(table, hidden)


def protect_overview(overview: pd.DataFrame, *, min_cell: int = DEFAULT_MIN_CELL,
                     also_hide: Iterable[Key] = ()) -> pd.DataFrame:
    """The overview, protected against its own identities (see ``_OVERVIEW_GRAPH``)."""
    values = overview[COUNT]
    cells = [_Cell((row, COUNT), tail, head, int(values[row]))
             for row, (tail, head) in _OVERVIEW_GRAPH.items()]
    hidden = _hide(cells, _primary(overview, min_cell) | set(also_hide))
    return _render(overview, hidden)


def protect_shares(shares: pd.DataFrame, counts_protected: pd.DataFrame) -> pd.DataFrame:
    """Shares with ".." wherever the count they were computed from is hidden."""
    hidden = counts_protected.eq(HIDDEN).reindex_like(shares).fillna(False).astype(bool)
    return shares.astype(object).mask(hidden, HIDDEN)


def _avslut_cells(avslut: pd.DataFrame, counts: pd.DataFrame) -> list[_Cell]:
    """The avslutsanledning table and Måluppfyllelse's counts as one system of sums.

    Per kön row: each group of codes adds up to its Måluppfyllelse count (node grupp), the groups
    add up to the row's Totalt (node topp); per code column Kvinna + Man = Totalt (node kolumn).
    Every cell is then part of exactly two sums, so the graph test stays exact. Sums over the
    Totalt row are subtracted, so its cells run the other way round."""
    group_of = {label: group for group, labels in goal_groups().items() for label in labels}
    plural = dict(zip(avslut.index, counts.columns))

    def cell(key: Key, tail: str, head: str, value: object, row: str) -> _Cell:
        ends = (head, tail) if row == TOTAL else (tail, head)
        return _Cell(key, *ends, int(value))

    code_cells = [
        cell((row, column), "kolumn:" + TOTAL, "topp:" + row, value, row)
        if column == TOTAL else
        cell((row, column), f"grupp:{group_of[column]}:{row}", "kolumn:" + column, value, row)
        for (row, column), value in zip(_keys(avslut), avslut.to_numpy().ravel())]
    group_counts = counts.to_numpy()
    group_cells = [cell((group, plural[row]), "topp:" + row, f"grupp:{group}:{row}",
                        group_counts[number, counts.columns.get_loc(plural[row])], row)
                   for row in avslut.index for number, group in enumerate(counts.index)]
    return code_cells + group_cells


def protect_avslut(avslut: pd.DataFrame, *, min_cell: int = DEFAULT_MIN_CELL,
                   also_hide: Iterable[Key] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the avslutsanledning table, Måluppfyllelse's counts), protected together, because the
    shares publish the group sums of the codes.

    The Totalt column (ended spells per kön) is Tid i insatsen's column sums, taken as published,
    so it is never hidden to protect another cell (only when it is small itself)."""
    counts = goal_counts(avslut)
    published = {(row, TOTAL) for row in avslut.index}
    hidden = _hide(_avslut_cells(avslut, counts),
                   _primary(avslut, min_cell) | _primary(counts, min_cell) | set(also_hide),
                   published)
    return _render(avslut, hidden), _render(counts, hidden)


def _goal_shares(shares: pd.DataFrame, counts_protected: pd.DataFrame,
                 avslut_protected: pd.DataFrame) -> pd.DataFrame:
    """Shares hidden where their count or their denominator (ended spells of the kön) is."""
    denominator = avslut_protected[TOTAL].eq(HIDDEN).to_numpy()
    hidden = counts_protected.eq(HIDDEN) | pd.DataFrame(
        np.broadcast_to(denominator, counts_protected.shape), index=counts_protected.index,
        columns=counts_protected.columns)
    return protect_shares(shares, counts_protected.mask(hidden, HIDDEN))


def protect_tables(tables: Mapping[str, pd.DataFrame], *, min_cell: int = DEFAULT_MIN_CELL,
                   also_hide: Mapping[str, Iterable[Key]] | None = None) -> dict[str, pd.DataFrame]:
    """The seven tables of one sheet, protected. ``also_hide`` is per table; for Måluppfyllelse
    its keys are (row, column) of the shares."""
    forced = also_hide or {}
    out = {OVERVIEW: protect_overview(tables[OVERVIEW], min_cell=min_cell,
                                      also_hide=forced.get(OVERVIEW, ()))}
    for name in (FORSORJNING, TID_OFFENTLIG, ALDER, TID_INSATS):
        out[name] = protect(tables[name], min_cell=min_cell, also_hide=forced.get(name, ()))
    out[AVSLUT], counts = protect_avslut(
        tables[AVSLUT], min_cell=min_cell,
        also_hide=[*forced.get(AVSLUT, ()), *forced.get(MAL, ())])
    out[MAL] = _goal_shares(tables[MAL], counts, out[AVSLUT])
    return {name: out[name] for name in TABLE_NAMES}


def _counts(tables: Mapping[str, pd.DataFrame], name: str) -> pd.DataFrame:
    """The counts behind a table: Måluppfyllelse's are the group sums of the avslutsanledningar."""
    return goal_counts(tables[AVSLUT]) if name == MAL else tables[name]


def _cross_sheet_gaps(stats: Mapping[str, Mapping[str, pd.DataFrame]],
                      protected: Mapping[str, Mapping[str, pd.DataFrame]],
                      ) -> list[tuple[str, str, Key]]:
    """Cells to hide so that no cell is the only hidden one among "Alla insatser" and the
    insatser (else it is the difference between the total and the others). Of the visible ones
    the smallest non-zero count is hidden; on a tie an insats rather than the total."""
    sheets = [sheet for sheet in stats if sheet != ALL_INSATSER] + [ALL_INSATSER]
    gaps: list[tuple[str, str, Key]] = []
    if len(sheets) == 1:
        return gaps
    for name in ADDITIVE_TABLES:
        # cell × sheet; every sheet's table has the same rows and columns
        hidden = np.column_stack([protected[sheet][name].to_numpy().ravel() == HIDDEN
                                  for sheet in sheets])
        values = np.column_stack([_counts(stats[sheet], name).to_numpy().ravel()
                                  for sheet in sheets]).astype(float)
        keys = _keys(protected[sheets[0]][name])
        additive = np.array([key not in _NOT_ADDITIVE for key in keys], dtype=bool)
        alone = additive & (hidden.sum(axis=1) == 1)
        cost = np.where(values == 0, np.finfo(float).max, values)
        cost = np.where(hidden, np.inf, cost)[alone]
        # the first sheet on a tie, as in the order above
        cheapest = cost.argmin(axis=1)
        gaps += [(sheets[column], name, key)
                 for key, column in zip(itertools.compress(keys, alone), cheapest)]
    return gaps


def protect_statistics(stats: Mapping[str, Mapping[str, pd.DataFrame]], *,
                       min_cell: int = DEFAULT_MIN_CELL) -> dict[str, dict[str, pd.DataFrame]]:
    """Every sheet protected on its own, then again with the cells the cross-sheet sums need,
    until no cell is left alone (each round hides at least one more cell, so it ends)."""
    forced: dict[str, dict[str, set[Key]]] = {sheet: defaultdict(set) for sheet in stats}
    while True:
        protected = {sheet: protect_tables(tables, min_cell=min_cell, also_hide=forced[sheet])
                     for sheet, tables in stats.items()}
        gaps = _cross_sheet_gaps(stats, protected)
        if not gaps:
            return protected
        for sheet, name, key in gaps:
            forced[sheet][name].add(key)


QUARTER_MEASURES = {"nyinskrivna": NEW, "utskrivna": ENDED}


def protect_quarterly(quarterly: pd.DataFrame,
                      protected_stats: Mapping[str, Mapping[str, pd.DataFrame]], *,
                      min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """insats (with "Alla insatser"), kvartal, nyinskrivna, utskrivna; hidden counts as "..".

    Each measure is a table quarters × insatser with the quarters' total over insatser; its
    column sums are the overview's counts for the period, so they are taken as published where
    the overview shows them and as hidden where it hides them."""
    if quarterly.empty:
        return pd.DataFrame(columns=["insats", "kvartal", *QUARTER_MEASURES])
    parts = {}
    for column, overview_row in QUARTER_MEASURES.items():
        wide = quarterly.pivot(index="kvartal", columns="insats", values=column).astype(int)
        wide.columns = [str(insats) for insats in wide.columns]
        wide[ALL_INSATSER] = wide.sum(axis=1)
        wide.loc[TOTAL] = wide.sum(axis=0)
        period = {(TOTAL, sheet) for sheet in wide.columns}
        hidden = {key for key in period
                  if protected_stats[key[1]][OVERVIEW].at[overview_row, COUNT] == HIDDEN}
        table = protect(wide, min_cell=min_cell, row_total=ALL_INSATSER, column_total=TOTAL,
                        also_hide=hidden, keep_visible=period - hidden)
        parts[column] = table.drop(index=TOTAL).stack()
    frame = pd.DataFrame(parts)
    frame.index.names = ["kvartal", "insats"]
    return frame.reset_index()[["insats", "kvartal", *QUARTER_MEASURES]]
