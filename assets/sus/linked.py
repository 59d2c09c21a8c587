"""The published SUS statistics as a reader with a solver sees them: one integer linear model of
every release's tables, linked by what they have in common.

The unknowns (*atoms*) are the smallest counts the published cells add up:

- per quarter and insats: the kön tables' populations (enrolled and ended spells with a kön), the
  anonymous enrolled spells, the rest of each flow (the anonymous ended spells; spells without a
  kön, fixed at none where the data has none), and the spells enrolled at each quarter's start,
  tied by start + enrolled - ended = the next quarter's start;
- per *segment* (a stretch of quarters between two consecutive edges of published periods) and
  insats: each kön table's count per category and kön, and each population per kön, which the
  segment's quarters add up to; a table that counts every spell once adds up to its population, a
  table where a spell can count under several categories is bounded by it;
- per published period and set of insatser: the unique persons, which add up over nothing: at most
  the spells active in the period, at least one when there is one, at least the stocks within one
  insats at every quarter's start in the period (its spells of one person never overlap), at
  least those of a shorter period or fewer insatser, at most those of the parts.

Every published cell is a sum of atoms: a period's count the sum over its segments, "Alla
insatser" over its insatser, Totalt over kön or categories, a goal share's count over its
avslutsanledningar, a quarterly bar one quarter's flow. What the tables are, their margins and
shared populations come from ``statistics.declarations()``; a new table is a declaration there.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from assets.sus import statistics as st

if TYPE_CHECKING:
    from scipy import sparse

QUARTERLY = "Nyinskrivna och utskrivna per kvartal"
# the quarterly frame's columns and the flow each is
QUARTER_MEASURES = {"nyinskrivna": "new", "utskrivna": "ended"}
# A count no table prints that a reader works out (Utskrivna minus the avslutsanledningar's
# Totalt): protected like a printed one.
ANONYMOUS_ENDED = "Utskrivna anonyma (härledda)"

_TOLERANCE = 1e-6


# --- periods, releases and their cells ---------------------------------------------------------

@functools.lru_cache(maxsize=4096)
def _quarter_of(day) -> int:
    return pd.Period(pd.Timestamp(day), freq="Q").ordinal


def quarter_of(day) -> int:
    """The quarter's ordinal (consecutive quarters are consecutive numbers)."""
    return _quarter_of(day if isinstance(day, str) else pd.Timestamp(day).date())


def quarter_period(ordinal: int) -> pd.Period:
    return pd.Period(ordinal=ordinal, freq="Q")


def quarter_label(ordinal: int) -> str:
    return str(quarter_period(ordinal))


def first_day(ordinal: int) -> pd.Timestamp:
    return quarter_period(ordinal).start_time.normalize()


def last_day(ordinal: int) -> pd.Timestamp:
    return quarter_period(ordinal).end_time.normalize()


@dataclass(frozen=True)
class Release:
    """A published period (whole quarters ``first``..``last``) for every insats (``scope`` "")
    or for one, and the sheets it prints ("Alla insatser" and insats codes)."""

    first: int
    last: int
    scope: str
    sheets: tuple[str, ...]

    @property
    def period(self) -> tuple[int, int]:
        return self.first, self.last

    def insatser(self, sheet: str, everyone: frozenset[str]) -> frozenset[str]:
        """The insatser a sheet adds up."""
        if sheet != st.ALL_INSATSER:
            return frozenset({sheet})
        return frozenset({self.scope}) if self.scope else everyone


@dataclass(frozen=True)
class CellSpec:
    """A cell as printed (sheet, table, row, column) and what it counts, ``what``:
    ("flow", measure, first, last) · ("stock", quarter whose start it is) · ("persons", first,
    last) · ("count", table, categories, kön, first, last) · ("share", table, categories, kön,
    first, last), whose count is the numerator."""

    sheet: str
    table: str
    row: str
    column: str
    what: tuple


def _kon(label: str) -> tuple[int, ...]:
    """The kön positions a column (Kvinnor, Män, Totalt) or row (Kvinna, Man, Totalt) adds up."""
    for labels in (st.kon_columns(), st.kon_rows()):
        if label in labels:
            return (labels.index(label),)
    return tuple(range(len(st.kon_codes())))


def _overview_what(measure: str, first: int, last: int) -> tuple:
    if measure == "start":
        return ("stock", first)
    if measure == "end":
        return ("stock", last + 1)
    if measure == "persons":
        return ("persons", first, last)
    return ("flow", measure, first, last)


def sheet_cells(sheet: str, first: int, last: int, *, quarterly: bool = True) -> list[CellSpec]:
    """The cells one sheet prints for the period: its tables and its quarterly bars."""
    tables = st.count_tables()
    kon_columns = [*st.kon_columns(), st.TOTAL]
    cells = [CellSpec(sheet, st.OVERVIEW, row, st.COUNT, _overview_what(measure, first, last))
             for row, measure in st.OVERVIEW_MEASURES.items()]
    for table in st.declarations():
        if isinstance(table, st.ShareTable):
            keys = tables[table.of].keys
            for group, labels in table.groups:
                positions = tuple(keys.index(label) for label in labels)
                cells += [CellSpec(sheet, table.name, group, column,
                                   ("share", table.of, positions, _kon(column), first, last))
                          for column in kon_columns]
            continue
        every = tuple(range(len(table.keys)))
        categories = [*table.keys, st.TOTAL]
        for category in categories:
            keys = every if category == st.TOTAL else (table.keys.index(category),)
            # kön as rows (with a Totalt row) or as columns
            if table.kon_rows:
                cells += [CellSpec(sheet, table.name, kon, category,
                                   ("count", table.name, keys, _kon(kon), first, last))
                          for kon in [*st.kon_rows(), st.TOTAL]]
            elif category != st.TOTAL:
                cells += [CellSpec(sheet, table.name, category, kon,
                                   ("count", table.name, keys, _kon(kon), first, last))
                          for kon in kon_columns]
    if quarterly:
        for quarter in range(first, last + 1):
            cells += [CellSpec(sheet, QUARTERLY, quarter_label(quarter), column,
                               ("flow", measure, quarter, quarter))
                      for column, measure in QUARTER_MEASURES.items()]
    return cells


def release_cells(release: Release) -> list[CellSpec]:
    """Every cell a release prints, sheet by sheet."""
    return [cell for sheet in release.sheets
            for cell in sheet_cells(sheet, release.first, release.last)]


def anonymous_ended(sheet: str, first: int, last: int) -> CellSpec:
    return CellSpec(sheet, st.OVERVIEW, ANONYMOUS_ENDED, st.COUNT,
                    ("flow", "anonymous_ended", first, last))


# --- the model ---------------------------------------------------------------------------------

class _Rows:
    """Sparse constraint rows lower <= a·y <= upper, collected one at a time."""

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.columns: list[int] = []
        self.values: list[float] = []
        self.lower: list[float] = []
        self.upper: list[float] = []

    def add(self, terms: Mapping[int, float], lower: float, upper: float) -> None:
        row = len(self.lower)
        for column, value in terms.items():
            if value:
                self.rows.append(row)
                self.columns.append(int(column))
                self.values.append(float(value))
        self.lower.append(lower)
        self.upper.append(upper)

    def matrix(self, width: int) -> sparse.csr_array:
        # imported here: every process that loads the definitions imports this module
        from scipy import sparse

        return sparse.csr_array((self.values, (self.rows, self.columns)),
                                shape=(len(self.lower), width))


def _sum(plus: Iterable[int] = (), minus: Iterable[int] = ()) -> dict[int, float]:
    terms: dict[int, float] = defaultdict(float)
    for index in plus:
        terms[int(index)] += 1.0
    for index in minus:
        terms[int(index)] -= 1.0
    return terms


def segments_of(releases: Iterable[Release]) -> tuple[list[int], list[tuple[int, int]]]:
    """(every period edge, the segments between consecutive edges that some release covers)."""
    releases = list(releases)
    edges = sorted({r.first for r in releases} | {r.last + 1 for r in releases})
    segments = [(start, end - 1) for start, end in itertools.pairwise(edges)
                if any(r.first <= start and end - 1 <= r.last for r in releases)]
    return edges, segments


class Model:
    """The atoms (``truth``: their values in the data), the structure that ties them (``lower
    <= structure·y <= upper``, ``0 <= y <= bounds_upper``, all integer) and what each cell adds
    up (``functional``)."""

    def __init__(self, spells: pd.DataFrame, releases: Sequence[Release],
                 insatser: Sequence[str],
                 persons: Collection[tuple[int, int, frozenset[str]]] = ()):
        self.insatser = list(insatser)
        self.first = min(release.first for release in releases)
        self.last = max(release.last for release in releases)
        self.edges, self.segments = segments_of(releases)
        self._truth: list[int] = []
        self._upper: list[float] = []
        self._insats: list[int] = []
        self._segment: list[int] = []
        self._flag_atoms: list[int] = []
        self._rows = _Rows()
        self._flows(spells)
        self._tables(spells)
        self._persons(spells, persons)
        self.truth = np.array(self._truth, dtype=float)
        self.structure = self._rows.matrix(len(self._truth))
        self.lower = np.array(self._rows.lower)
        self.upper = np.array(self._rows.upper)
        self.bounds_upper = np.array(self._upper)
        self.integrality = np.ones(len(self._truth))
        # per atom: the insats it belongs to (-1: several, a person count) and the segment of a
        # kön table's count (-1: a quarter's flow or stock, a person count)
        self.atom_insats = np.array(self._insats, dtype=np.int64)
        self.atom_segment = np.array(self._segment, dtype=np.int64)
        # whether any spell was active, per count of persons: 0/1 atoms that make relaxations
        # fractional, so solves leave them at their values unless a persons count must move
        self.flag_atoms = np.array(sorted(self._flag_atoms), dtype=np.int64)
        values = self.structure @ self.truth
        broken = (values < self.lower - _TOLERANCE) | (values > self.upper + _TOLERANCE)
        if broken.any():
            raise ValueError(f"{int(broken.sum())} of the tables' links do not hold in the data")

    @property
    def size(self) -> int:
        return len(self.truth)

    def _block(self, truth: np.ndarray, *, insats_axis: int | None = None,
               segment: int = -1) -> np.ndarray:
        """Atoms for an array of true values; ``insats_axis``: the axis that runs over the
        insatser (None: the atoms belong to none, or to several)."""
        truth = np.asarray(truth)
        start = len(self._truth)
        self._truth.extend(int(value) for value in truth.ravel())
        self._upper.extend([math.inf] * truth.size)
        insats = (np.full(truth.shape, -1) if insats_axis is None else
                  np.broadcast_to(np.expand_dims(np.arange(truth.shape[insats_axis]),
                                                 [a for a in range(truth.ndim) if a != insats_axis]),
                                  truth.shape))
        self._insats.extend(int(value) for value in insats.ravel())
        self._segment.extend([segment] * truth.size)
        return np.arange(start, start + truth.size).reshape(truth.shape)

    def _flows(self, spells: pd.DataFrame) -> None:
        quarters = [quarter_period(q) for q in range(self.first, self.last + 1)]
        flows = st.quarter_flows(spells, quarters, self.insatser)
        self.population = {name: self._block(values, insats_axis=1)
                           for name, values in flows.population.items()}
        self.anonymous = self._block(flows.anonymous, insats_axis=1)
        self.rest: dict[str, np.ndarray] = {}
        parts = {"new": flows.new - flows.anonymous, "ended": flows.ended}
        for measure, values in parts.items():
            counted = sum((flows.population[name] for name in self._populations(measure)),
                          np.zeros_like(values))
            rest = values - counted
            self.rest[measure] = self._block(rest, insats_axis=1)
            # Where the data has no such spell the reader may assume none.
            if not rest.any():
                for index in self.rest[measure].ravel():
                    self._upper[index] = 0
        self.stock = self._block(flows.stock, insats_axis=1)
        for q in range(len(quarters)):
            for i in range(len(self.insatser)):
                self._rows.add(_sum([self.stock[q + 1, i], *self.flow_atoms("ended", q, i)],
                                    [self.stock[q, i], *self.flow_atoms("new", q, i)]), 0, 0)

    @staticmethod
    def _populations(measure: str) -> list[str]:
        return [name for name, row in st.POPULATION_FLOWS.items()
                if st.OVERVIEW_MEASURES[row] == measure]

    def flow_atoms(self, measure: str, q: int, i: int) -> list[int]:
        """The atoms of a flow in the ``q``-th quarter of the model for the ``i``-th insats."""
        if measure == "anonymous":
            return [int(self.anonymous[q, i])]
        if measure == "anonymous_ended":
            return [int(self.rest["ended"][q, i])]
        atoms = [int(self.population[name][q, i]) for name in self._populations(measure)]
        atoms.append(int(self.rest[measure][q, i]))
        if measure == "new":
            atoms.append(int(self.anonymous[q, i]))
        return atoms

    def _tables(self, spells: pd.DataFrame) -> None:
        tables = st.count_tables()
        n_kon = len(st.kon_codes())
        self.cells: dict[tuple[int, str], np.ndarray] = {}
        self.segment_population: dict[tuple[int, str], np.ndarray] = {}
        populations = sorted({table.population for table in tables.values()})
        for s, (start, end) in enumerate(self.segments):
            counts = st.segment_counts(spells, first_day(start), last_day(end), self.insatser)
            for name in populations:
                single = [t for t in tables.values() if t.population == name and not t.multiple]
                if not single:
                    raise ValueError(f"population {name} has no table counting each spell once")
                population = self._block(counts[single[0].name].sum(axis=1), insats_axis=0,
                                         segment=s)
                self.segment_population[s, name] = population
                for i in range(len(self.insatser)):
                    quarters = [self.population[name][q - self.first, i]
                                for q in range(start, end + 1)]
                    self._rows.add(_sum(population[i], quarters), 0, 0)
            for table in tables.values():
                atoms = self._block(counts[table.name], insats_axis=0, segment=s)
                self.cells[s, table.name] = atoms
                population = self.segment_population[s, table.population]
                for i in range(len(self.insatser)):
                    for k in range(n_kon):
                        self._link(table, [int(a) for a in atoms[i, :, k]], int(population[i, k]))

    def _link(self, table: st.CountTable, column: list[int], population: int) -> None:
        rows = self._rows
        if not table.multiple:
            rows.add(_sum(column, [population]), 0, 0)
            return
        # at least the population in all, each category at most it; a spell under an exclusive
        # category is under no other
        rows.add(_sum(column, [population]), 0, math.inf)
        alone = [column[table.keys.index(key)] for key in table.exclusive]
        for position, atom in enumerate(column):
            if table.keys[position] in table.exclusive:
                rows.add(_sum(alone, [population]), -math.inf, 0)
            else:
                rows.add(_sum([*alone, atom], [population]), -math.inf, 0)

    def _persons(self, spells: pd.DataFrame,
                 wanted: Collection[tuple[int, int, frozenset[str]]]) -> None:
        rows = self._rows
        self.persons: dict[tuple[int, int, frozenset[str]], int] = {}
        # any bound above every count a reader could find works; the data's size is one
        big = 10 * len(spells) + 100
        for first, last, insatser in sorted(wanted, key=lambda w: (w[0], w[1], sorted(w[2]))):
            positions = [self.insatser.index(code) for code in insatser if code in self.insatser]
            truth = st.persons(spells, first_day(first), last_day(last), insatser)
            index = int(self._block(np.array([truth]))[0])
            self.persons[first, last, insatser] = index
            active = [self.stock[first - self.first, i] for i in positions]
            active += [a for q in range(first, last + 1) for i in positions
                       for a in self.flow_atoms("new", q - self.first, i)]
            rows.add(_sum([index], active), -math.inf, 0)
            flag = int(self._block(np.array([int(truth > 0)]))[0])
            self._upper[flag] = 1
            self._flag_atoms.append(flag)
            rows.add(_sum([index], [flag]), 0, math.inf)
            rows.add({**_sum(active), flag: -float(big)}, -math.inf, 0)
            if len(positions) == 1:
                # a person's spells in one insats never overlap: at every quarter's start in the
                # period (not only its edges) the spells enrolled are at most its persons
                for edge in range(first, last + 2):
                    rows.add(_sum([index], [self.stock[edge - self.first, positions[0]]]),
                             0, math.inf)
        keys = list(self.persons)
        for a in keys:
            for b in keys:
                if a != b and b[0] <= a[0] and a[1] <= b[1] and a[2] <= b[2]:
                    rows.add(_sum([self.persons[b]], [self.persons[a]]), 0, math.inf)
            parts = [b for b in keys if b[:2] == a[:2] and len(b[2]) == 1 and b[2] <= a[2]]
            if len(a[2]) > 1 and len(parts) == len(a[2]):
                rows.add(_sum([self.persons[a]], [self.persons[b] for b in parts]), -math.inf, 0)
            for split in range(a[0], a[1]):
                left, right = (a[0], split, a[2]), (split + 1, a[1], a[2])
                if left in self.persons and right in self.persons:
                    rows.add(_sum([self.persons[a]], [self.persons[left], self.persons[right]]),
                             -math.inf, 0)

    # what cells count
    def segments_in(self, first: int, last: int) -> list[int]:
        found = [s for s, (start, end) in enumerate(self.segments) if first <= start and end <= last]
        if sum(end - start + 1 for start, end in (self.segments[s] for s in found)) \
                != last - first + 1:
            raise ValueError(f"quarters {first}..{last} are not whole segments")
        return found

    def functional(self, what: tuple, insatser: Collection[str]) -> list[int]:
        """The atoms a cell adds up."""
        positions = [self.insatser.index(code) for code in sorted(insatser)
                     if code in self.insatser]
        kind = what[0]
        if kind == "flow":
            _, measure, first, last = what
            return [a for q in range(first, last + 1) for i in positions
                    for a in self.flow_atoms(measure, q - self.first, i)]
        if kind == "stock":
            return [int(self.stock[what[1] - self.first, i]) for i in positions]
        if kind == "persons":
            key = (what[1], what[2], frozenset(insatser))
            return [self.persons[key]] if key in self.persons else []
        if kind in ("count", "share"):
            table, keys, kon, first, last = what[1:]
            return [int(self.cells[s, table][i, key, k]) for s in self.segments_in(first, last)
                    for i in positions for key in keys for k in kon]
        raise ValueError(f"unknown kind of cell {kind}")

    @staticmethod
    def denominator(what: tuple) -> tuple:
        """What a share divides by: every category of its table, of the same kön."""
        table, _, kon, first, last = what[1:]
        return ("count", table, tuple(range(len(st.count_tables()[table].keys))), kon, first, last)

    def value(self, what: tuple, insatser: Collection[str]) -> float:
        """The cell's value in the data (a share: numerator / denominator, NaN over none)."""
        count = float(self.truth[self.functional(what, insatser)].sum())
        if what[0] != "share":
            return count
        total = float(self.truth[self.functional(self.denominator(what), insatser)].sum())
        return count / total if total else math.nan

    def describe(self, atom: int) -> str:
        """What an atom counts, in words (for reports and tests)."""
        for name, block in [*((f"{n}", b) for n, b in self.population.items()),
                            ("anonyma", self.anonymous), *((f"övriga {m}", b)
                                                          for m, b in self.rest.items()),
                            ("bestånd", self.stock)]:
            where = np.argwhere(block == atom)
            if len(where):
                q, i = where[0]
                return f"{name} {quarter_label(self.first + int(q))} {self.insatser[i]}"
        for (s, table), block in self.cells.items():
            where = np.argwhere(block == atom)
            if len(where):
                i, key, k = where[0]
                start, end = self.segments[s]
                return (f"{table} {quarter_label(start)}–{quarter_label(end)} "
                        f"{self.insatser[i]} {st.count_tables()[table].keys[key]} "
                        f"{st.kon_rows()[k]}")
        for (s, name), block in self.segment_population.items():
            where = np.argwhere(block == atom)
            if len(where):
                i, k = where[0]
                start, end = self.segments[s]
                return (f"{name} {quarter_label(start)}–{quarter_label(end)} {self.insatser[i]} "
                        f"{st.kon_rows()[k]}")
        for (first, last, insatser), index in self.persons.items():
            if index == atom:
                return f"personer {quarter_label(first)}–{quarter_label(last)} {sorted(insatser)}"
        return f"atom {atom}"

    def bases(self) -> list[list[int]]:
        """The smallest counts a reader can ask about: every cell is a sum of some of them."""
        found = [[int(a)] for atoms in self.cells.values() for a in atoms.ravel()]
        for i in range(len(self.insatser)):
            for q in range(self.last - self.first + 1):
                found += [self.flow_atoms(measure, q, i)
                          for measure in ("new", "anonymous", "ended")]
            for start, end in self.segments:
                found.append([int(self.rest["ended"][q - self.first, i])
                              for q in range(start, end + 1)])
            found += [[int(self.stock[edge - self.first, i])] for edge in self.edges]
        found += [[index] for index in self.persons.values()]
        return found
