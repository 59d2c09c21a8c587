"""An attacker with a solver, for the tests: what a reader of the published SUS statistics can work
out about every hidden cell.

Written from the outputs contract and the published files alone (the workbook, its "Om
statistiken" sheet and the web page's quarterly bars), with parsing and a model of its own: it
imports nothing of the protection, so it checks the protection instead of repeating it.

The reader's model, one integer unknown per quarter and insats for each count the tables are sums
of: every kön table's count per category and kön, the enrolled and ended spells per kön, the
enrolled (all, anonymous) and ended (all) spells per quarter, the spells enrolled at each quarter's
start, and the unique persons of each published period and set of insatser. What the reader knows:

- every shown number (a share: its count over its kön's ended spells, as an exact fraction),
  every quarterly bar;
- a table's categories add up to its population per kön (the three Försörjning tables: every
  category at most the population, all together at least it, Ingen offentlig försörjning, Okänd
  and Uppgift saknas alone), the enrolled tables share one population and the ended tables
  (avslutsanledning, tid i insatsen, försörjning before and after) another; Nyinskrivna is the enrolled
  population plus varav anonyma, Utskrivna the ended population plus anonymous ended spells;
- start + enrolled - ended = the next quarter's start;
- "Alla insatser" adds up its insatser (a release for one insats has only it), a period its
  quarters;
- persons: at most the spells active in the period, at least one if any was, at least the spells
  enrolled at any quarter's start in it within one insats, at least those of a shorter period or fewer
  insatser, at most the sum over insatser;
- a hidden number can be anything from 0 up (the rule text says zeros can be hidden too).

``Audit.interval`` solves for a cell's least and greatest value; ``Audit.check`` tells, for many
cells at once, whether each can take the values protection requires, reusing every solution it
finds for all cells.
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

HIDDEN = ".."
EVERY = "Alla insatser"
ABOUT = "Om statistiken"
TOTAL = "Totalt"
KON_COLUMNS = ("Kvinnor", "Män")
KON_ROWS = ("Kvinna", "Man")
OVERVIEW = "Översikt"
START, NEW, ANONYMOUS, ENDED, END, PERSONS = (
    "Inskrivna vid periodens början", "Nyinskrivna", "varav anonyma", "Utskrivna",
    "Inskrivna vid periodens slut", "Unika personer")
ENROLLED_TABLES = ("Försörjning vid inskrivning", "Tid i offentlig försörjning",
                   "Ålder vid inskrivning")
ALONE = ("Ingen offentlig försörjning", "Okänd")
MISSING = "Uppgift saknas"
EXITS = "Utskrivna per avslutsanledning"
MONTHS = "Tid i insatsen"
BEFORE, AFTER = "Försörjning vid inskrivning, utskrivna", "Försörjning vid utskrivning"
ENDED_TABLES = (EXITS, MONTHS, BEFORE, AFTER)
# the tables where a spell counts under several categories, and the categories it counts under
# alone (the outputs contract: two försörjningskällor count under both)
MULTIPLE = {"Försörjning vid inskrivning": ALONE, BEFORE: (*ALONE, MISSING),
            AFTER: (*ALONE, MISSING)}
GOALS = "Måluppfyllelse"
_MONTH_NAMES = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
                "september", "oktober", "november", "december")


# --- reading the published files ---------------------------------------------------------------

@dataclass
class Published:
    """One release as its files show it. ``cells``: (sheet, table, row, column) -> shown value
    (int, float share, ".." or None where a share has no denominator); ``bars``: (sheet,
    quarter, "new" | "ended") -> count, for the bars drawn."""

    folder: Path
    first: pd.Period
    last: pd.Period
    min_cell: int
    sheets: list[str]
    cells: dict[tuple[str, str, str, str], object]
    bars: dict[tuple[str, pd.Period, str], int] = field(default_factory=dict)

    @property
    def quarters(self) -> list[pd.Period]:
        return list(pd.period_range(self.first, self.last, freq="Q"))


def _swedish_date(text: str) -> date:
    day, month, year = text.split()
    return date(int(year), _MONTH_NAMES.index(month) + 1, int(day))


def read_tables(path: Path) -> tuple[list[str], dict[tuple[str, str, str, str], object]]:
    """A statistics workbook's sheets and every table cell: (sheet, table, row, column) ->
    value. Each sheet: a heading, a note, then tables: a title row, a header row, the rows."""
    book = openpyxl.load_workbook(path, read_only=True)
    cells: dict[tuple[str, str, str, str], object] = {}
    sheets = [name for name in book.sheetnames if name != ABOUT]
    for sheet in sheets:
        rows = [list(row) for row in book[sheet].iter_rows(values_only=True)]
        index = 3
        while index < len(rows):
            title = rows[index][0] if rows[index] else None
            if not title:
                index += 1
                continue
            header = [value for value in rows[index + 1][1:] if value not in (None, "")]
            index += 2
            while index < len(rows) and rows[index] and rows[index][0] is not None:
                label = rows[index][0]
                for column, value in zip(header, rows[index][1:1 + len(header)]):
                    cells[sheet, str(title), str(label), str(column)] = value
                index += 1
    book.close()
    return sheets, cells


def read_release(folder: Path) -> Published:
    """A release folder's sus_statistik.xlsx and sus_statistik.html."""
    book = openpyxl.load_workbook(folder / "sus_statistik.xlsx", read_only=True)
    about = [row[0] for row in book[ABOUT].iter_rows(values_only=True) if row and row[0]]
    book.close()
    period = next(line for line in about if str(line).startswith("Period:"))
    start_text, end_text = str(period)[len("Period:"):].strip(" .").split(" – ")
    rule = next(line for line in about if "som \"..\"" in str(line))
    min_cell = int(re.search(r"från 1 till (\d+)", str(rule)).group(1)) + 1
    sheets, cells = read_tables(folder / "sus_statistik.xlsx")
    release = Published(folder, pd.Period(_swedish_date(start_text), freq="Q"),
                        pd.Period(_swedish_date(end_text), freq="Q"), min_cell, sheets, cells)
    page = (folder / "sus_statistik.html").read_text(encoding="utf-8")
    anchors = {"avsnitt-" + "-".join(sheet.lower().split()): sheet for sheet in sheets}
    for anchor, body in re.findall(r'<section id="([^"]+)">(.*?)</section>', page, re.DOTALL):
        sheet = anchors[anchor]
        chart = re.search(r'<svg[^>]*aria-labelledby="diagram-[^"]*-kvartal".*?</svg>', body, re.DOTALL)
        if not chart:
            continue
        for year, quarter, series, value in re.findall(
                r"<title>(\d{4}) kv (\d), (Nyinskrivna|Utskrivna): (\d+)</title>", chart.group(0)):
            release.bars[sheet, pd.Period(f"{year}Q{quarter}", freq="Q"),
                         "new" if series == "Nyinskrivna" else "ended"] = int(value)
    return release


CORRECTIONS = "celler.csv"
_BARS_TABLE = "Nyinskrivna och utskrivna per kvartal"


def _shown(text: str) -> object:
    # read here, not with the product's reader of shown cells: the attacker imports none of it
    if text == HIDDEN:
        return HIDDEN
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        return float(text.replace(",", "."))


def corrected(release: Published, corrections: Path) -> Published:
    """A signed release as its published correction leaves it: the correction
    (``rattelser/<span>/sus/<range>/celler.csv``) lists every shown value that changed with the
    new one (a hidden count only as ".."), so the frozen files with it are the release of today's
    data. The values it replaces were true of the data the files were made from, a state a reader
    of both must tell apart: whoever reads the frozen files together with today's releases as one
    truth reads two states as one."""
    cells, bars = dict(release.cells), dict(release.bars)
    with open(corrections, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            sheet, table, label, column = row["Blad"], row["Tabell"], row["Rad"], row["Kolumn"]
            value = _shown(row["Nytt värde"])
            if table == _BARS_TABLE:
                bar = (sheet, pd.Period(label, freq="Q"),
                       "new" if column == "nyinskrivna" else "ended")
                if isinstance(value, int):
                    bars[bar] = value
                else:
                    bars.pop(bar, None)
            else:
                cells[sheet, table, label, column] = value
    return dataclasses.replace(release, cells=cells, bars=bars)


# --- the reader's model ------------------------------------------------------------------------

@dataclass(frozen=True)
class CellKey:
    """A cell of a release (``release`` its position in the audit's list) or of a period nobody
    published (``release`` -1, ``period`` its quarters)."""

    release: int
    sheet: str
    table: str
    row: str
    column: str
    period: tuple[str, str] = ("", "")


class Audit:
    def __init__(self, releases: Sequence[Published]):
        self.releases = list(releases)
        self.quarters = list(pd.period_range(min(r.first for r in releases),
                                             max(r.last for r in releases), freq="Q"))
        self.position = {quarter: number for number, quarter in enumerate(self.quarters)}
        self.insatser = sorted({sheet for r in releases for sheet in r.sheets if sheet != EVERY})
        self.categories = {table: self._categories(table) for table in
                           (*ENROLLED_TABLES, *ENDED_TABLES)}
        self.n = 0
        self.names: list[str] = []
        self._variables: dict[tuple, int] = {}
        self._integer: list[bool] = []
        self._upper: list[float] = []
        self.rows: list[tuple[dict[int, float], float, float]] = []
        self._structure()
        self.cells: dict[CellKey, dict[int, float]] = {}
        # a share's cell is its count; what it divides by is here
        self.denominators: dict[CellKey, dict[int, float]] = {}
        self.shown: dict[CellKey, object] = {}
        self._derived: dict[CellKey, dict[int, float]] | None = None
        for number, release in enumerate(self.releases):
            self._publish(number, release)

    # unknowns
    def var(self, *key, upper: float = 100_000) -> int:
        if key not in self._variables:
            self._variables[key] = self.n
            self.names.append(" ".join(map(str, key)))
            self._upper.append(upper)
            self.n += 1
        return self._variables[key]

    def _categories(self, table: str) -> list[str]:
        for release in self.releases:
            found = []
            for (sheet, name, row, column) in release.cells:
                if name != table:
                    continue
                label = column if table == EXITS else row
                if label != TOTAL and label not in found and label not in (*KON_ROWS,):
                    found.append(label)
            if found:
                return found
        raise ValueError(f"no release prints {table}")

    def _insatser_of(self, release: Published, sheet: str) -> list[str]:
        if sheet != EVERY:
            return [sheet]
        own = [s for s in release.sheets if s != EVERY]
        return own

    def _structure(self) -> None:
        rows = self.rows
        for quarter in self.quarters:
            for insats in self.insatser:
                for kon in KON_COLUMNS:
                    enrolled = self.var("inskrivna", quarter, insats, kon)
                    ended = self.var("utskrivna", quarter, insats, kon)
                    for table in (*ENROLLED_TABLES, *ENDED_TABLES):
                        population = enrolled if table in ENROLLED_TABLES else ended
                        atoms = [self.var(table, quarter, insats, c, kon)
                                 for c in self.categories[table]]
                        if table in MULTIPLE:
                            rows.append(({**{a: 1.0 for a in atoms}, population: -1.0},
                                         0, math.inf))
                            alone = [self.var(table, quarter, insats, c, kon)
                                     for c in MULTIPLE[table] if c in self.categories[table]]
                            for category, atom in zip(self.categories[table], atoms):
                                terms = {a: 1.0 for a in alone}
                                terms[atom] = 1.0
                                terms[population] = -1.0
                                rows.append((terms, -math.inf, 0))
                        else:
                            rows.append(({**{a: 1.0 for a in atoms}, population: -1.0}, 0, 0))
                new = self.var("nya", quarter, insats)
                anonymous = self.var("anonyma", quarter, insats)
                gone = self.var("slutade", quarter, insats)
                gone_anonymous = self.var("slutade anonyma", quarter, insats)
                rows.append(({new: 1.0, anonymous: -1.0,
                              **{self.var("inskrivna", quarter, insats, k): -1.0
                                 for k in KON_COLUMNS}}, 0, 0))
                rows.append(({gone: 1.0, gone_anonymous: -1.0,
                              **{self.var("utskrivna", quarter, insats, k): -1.0
                                 for k in KON_COLUMNS}}, 0, 0))
                following = quarter + 1
                rows.append(({self.var("bestånd", following, insats): 1.0,
                              self.var("bestånd", quarter, insats): -1.0, new: -1.0,
                              gone: 1.0}, 0, 0))

    # what a cell adds up
    def _terms(self, release: Published, sheet: str, table: str, row: str, column: str,
               quarters: Sequence[pd.Period]) -> dict[int, float] | None:
        insatser = self._insatser_of(release, sheet)
        terms: dict[int, float] = defaultdict(float)

        def add(*key):
            terms[self.var(*key)] += 1.0

        if table == OVERVIEW:
            for insats in insatser:
                if row == START:
                    add("bestånd", quarters[0], insats)
                elif row == END:
                    add("bestånd", quarters[-1] + 1, insats)
                else:
                    measure = {NEW: "nya", ANONYMOUS: "anonyma", ENDED: "slutade"}.get(row)
                    if measure is None:
                        break
                    for quarter in quarters:
                        add(measure, quarter, insats)
            if row == PERSONS:
                key = ("personer", quarters[0], quarters[-1], tuple(sorted(insatser)))
                return {self.var(*key): 1.0}
            return dict(terms)
        if table in (*ENROLLED_TABLES, *ENDED_TABLES):
            if table == EXITS:
                category, kon = column, row
                kons = KON_COLUMNS if kon == TOTAL else (KON_COLUMNS[KON_ROWS.index(kon)],)
            else:
                category, kon = row, column
                kons = KON_COLUMNS if kon == TOTAL else (kon,)
            categories = self.categories[table] if category == TOTAL else [category]
            for quarter in quarters:
                for insats in insatser:
                    for k in kons:
                        for c in categories:
                            add(table, quarter, insats, c, k)
            return dict(terms)
        return None

    def _goal_groups(self) -> dict[str, list[str]]:
        exits = self.categories[EXITS]
        goal = [c for c in exits if c.startswith(("Arbete", "Studier", "Fortsatt rehabilitering"))]
        sickness = [c for c in exits if c.startswith("Sjukdom")]
        return {"goal": goal, "sickness": sickness,
                "other": [c for c in exits if c not in goal and c not in sickness]}

    def _share_terms(self, release: Published, sheet: str, row: str, column: str,
                     quarters) -> tuple[dict[int, float], dict[int, float]]:
        groups = self._goal_groups()
        group = ("goal" if row.startswith("Andel arbete") else
                 "sickness" if row.startswith("Andel sjukdom") else "other")
        kon = TOTAL if column == TOTAL else KON_ROWS[KON_COLUMNS.index(column)]
        top: dict[int, float] = defaultdict(float)
        for category in groups[group]:
            for atom, value in self._terms(release, sheet, EXITS, kon, category, quarters).items():
                top[atom] += value
        bottom = self._terms(release, sheet, EXITS, kon, TOTAL, quarters)
        return dict(top), bottom

    def _publish(self, number: int, release: Published) -> None:
        quarters = release.quarters
        for (sheet, table, row, column), value in release.cells.items():
            key = CellKey(number, sheet, table, row, column)
            if table == GOALS:
                top, bottom = self._share_terms(release, sheet, row, column, quarters)
                self.cells[key] = top
                self.denominators[key] = bottom
                self.shown[key] = value
                if isinstance(value, float) and not math.isnan(value):
                    share = Fraction(value).limit_denominator(100_000)
                    terms = defaultdict(float)
                    for atom, c in top.items():
                        terms[atom] += share.denominator * c
                    for atom, c in bottom.items():
                        terms[atom] -= share.numerator * c
                    self.rows.append((dict(terms), 0, 0))
                continue
            terms = self._terms(release, sheet, table, row, column, quarters)
            if terms is None:
                continue
            self.cells[key] = terms
            self.shown[key] = value
            if isinstance(value, int) and not isinstance(value, bool):
                self.rows.append((terms, value, value))
        for (sheet, quarter, measure), value in release.bars.items():
            insatser = self._insatser_of(release, sheet)
            name = "nya" if measure == "new" else "slutade"
            self.rows.append(({self.var(name, quarter, insats): 1.0 for insats in insatser},
                              value, value))
        self._persons(release, quarters)

    def _persons(self, release: Published, quarters) -> None:
        per_sheet = {}
        for sheet in release.sheets:
            insatser = tuple(sorted(self._insatser_of(release, sheet)))
            person = self.var("personer", quarters[0], quarters[-1], insatser)
            per_sheet[sheet] = person
            active = {self.var("bestånd", quarters[0], i): 1.0 for i in insatser}
            for quarter in quarters:
                for insats in insatser:
                    active[self.var("nya", quarter, insats)] = 1.0
            self.rows.append(({**{a: -1.0 for a in active}, person: 1.0}, -math.inf, 0))
            anyone = self.var("någon aktiv", quarters[0], quarters[-1], insatser, upper=1)
            self.rows.append(({person: 1.0, anyone: -1.0}, 0, math.inf))
            self.rows.append(({**active, anyone: -100_000.0}, -math.inf, 0))
            if len(insatser) == 1:
                # one person's spells in an insats never overlap: at every quarter's start
                for edge in [*quarters, quarters[-1] + 1]:
                    self.rows.append(({person: 1.0, self.var("bestånd", edge, insatser[0]): -1.0},
                                      0, math.inf))
        if EVERY in per_sheet and len(per_sheet) > 2:
            parts = [per_sheet[s] for s in release.sheets if s != EVERY]
            self.rows.append(({per_sheet[EVERY]: 1.0, **{p: -1.0 for p in parts}}, -math.inf, 0))
            for part in parts:
                self.rows.append(({per_sheet[EVERY]: 1.0, part: -1.0}, 0, math.inf))

    def _persons_nesting(self) -> None:
        keys = [key for key in self._variables if key[0] == "personer"]
        for a in keys:
            for b in keys:
                if a != b and b[1] <= a[1] and a[2] <= b[2] and set(a[3]) <= set(b[3]):
                    self.rows.append(({self._variables[b]: 1.0, self._variables[a]: -1.0},
                                      0, math.inf))

    # periods a reader gets by subtracting published ones
    def derived_periods(self) -> list[tuple[pd.Period, pd.Period]]:
        published = {(r.first, r.last) for r in self.releases}
        edges = sorted({r.first for r in self.releases} | {r.last + 1 for r in self.releases})
        found = []
        for start, end in itertools.pairwise(edges):
            span = (start, end - 1)
            if span not in published and any(r.first <= start and end - 1 <= r.last
                                              for r in self.releases):
                found.append(span)
        return found

    def derived_cells(self) -> dict[CellKey, dict[int, float]]:
        """Every count a release for a derived period would print, for every insats and all."""
        if self._derived is not None:
            return self._derived
        every = Published(Path("."), self.quarters[0], self.quarters[-1], 0,
                          [EVERY, *self.insatser], {})
        layout = {key[1:] for key in self.releases[0].cells if key[0] == EVERY}
        found = {}
        for first, last in self.derived_periods():
            quarters = list(pd.period_range(first, last, freq="Q"))
            for sheet in every.sheets:
                for table, row, column in layout:
                    if table == GOALS or row == PERSONS:
                        continue
                    terms = self._terms(every, sheet, table, row, column, quarters)
                    if terms:
                        found[CellKey(-1, sheet, table, row, column,
                                      (str(first), str(last)))] = terms
        self._derived = found
        return found

    # solving
    def _system(self):
        if getattr(self, "_built", None) is None or self._built[0].shape[1] != self.n:
            if getattr(self, "_built", None) is None:
                self._persons_nesting()
            matrix = sparse.lil_array((len(self.rows), self.n))
            lower, upper = np.empty(len(self.rows)), np.empty(len(self.rows))
            for number, (terms, low, high) in enumerate(self.rows):
                for atom, value in terms.items():
                    matrix[number, atom] = value
                lower[number], upper[number] = low, high
            self._built = (matrix.tocsr(), lower, upper, np.array(self._upper))
        return self._built

    def _solve(self, objective: np.ndarray, extra: Sequence[tuple[dict[int, float], float, float]]
               = ()) -> np.ndarray | None:
        matrix, lower, upper, bounds = self._system()
        if extra:
            more = sparse.lil_array((len(extra), self.n))
            for number, (terms, _, _) in enumerate(extra):
                for atom, value in terms.items():
                    more[number, atom] = value
            matrix = sparse.vstack([matrix, more.tocsr()], format="csr")
            lower = np.concatenate([lower, [low for _, low, _ in extra]])
            upper = np.concatenate([upper, [high for _, _, high in extra]])
        problem = {"integrality": np.ones(self.n), "bounds": Bounds(0, bounds),
                   "constraints": LinearConstraint(matrix, lower, upper)}
        result = milp(objective, **problem, options={"time_limit": 60, "mip_rel_gap": 0})
        if result.status == 2:
            # HiGHS's presolve has called this model infeasible where it has a solution (a
            # cell "pinned" that is not): an infeasible verdict is confirmed without it
            result = milp(objective, **problem,
                          options={"time_limit": 60, "mip_rel_gap": 0, "presolve": False})
        if result.status == 3:
            raise OverflowError("unbounded")
        return result.x

    def _vector(self, terms: Mapping[int, float]) -> np.ndarray:
        vector = np.zeros(self.n)
        for atom, value in terms.items():
            vector[atom] = value
        return vector

    def interval(self, key: CellKey, cap: float = 100_000) -> tuple[float, float]:
        """The least and greatest value the cell can take (the greatest capped at ``cap``)."""
        terms = self.cells.get(key) or self.derived_cells()[key]
        vector = self._vector(terms)
        low = self._solve(vector)
        if low is None:
            raise ValueError("what is published has no solution")
        high = self._solve(-vector, [(terms, -math.inf, cap)])
        return float(np.round(vector @ low)), float(np.round(vector @ high))

    def _witness(self, y: np.ndarray) -> bool:
        """Whether a rounded solution satisfies every row of the model exactly (its coefficients
        and bounds are integers, so an integer point either satisfies a row or misses it by at
        least one): only such a point proves a cell can take its value."""
        matrix, lower, upper, bounds = self._system()
        values = matrix @ y
        return bool(np.all(y >= 0) and np.all(y <= bounds) and np.all(values >= lower - 1e-6)
                    and np.all(values <= upper + 1e-6))

    def hidden(self) -> list[CellKey]:
        return [key for key, value in self.shown.items() if value == HIDDEN]

    def check(self, truths: Mapping[CellKey, float | tuple[float, float]], min_cell: int,
              cells: Mapping[CellKey, Mapping[int, float]] | None = None) -> list[tuple]:
        """For each cell in ``truths``, its value in the data (a share: its count and its
        denominator). Returns the cells a reader can narrow down too far: a count that cannot
        take another value, or from 1 to min_cell - 1 that cannot be 0 or cannot be min_cell or
        more; a share that cannot be another ratio (nor none at all)."""
        cells = {**self.cells, **(cells or {})}
        wants: list[tuple[CellKey, str, list[tuple[dict[int, float], float, float]]]] = []
        for key, truth in truths.items():
            terms = cells[key]
            if isinstance(truth, tuple):
                top, bottom = truth
                under = self.denominators[key]
                if not bottom:
                    wants.append((key, "share", [(under, 1, math.inf)]))
                    continue
                ratio = defaultdict(float)
                for atom, value in terms.items():
                    ratio[atom] += bottom * value
                for atom, value in under.items():
                    ratio[atom] -= top * value
                wants.append((key, "share", [(dict(ratio), 1, math.inf),
                                             (dict(ratio), -math.inf, -1), (under, -math.inf, 0)]))
            elif 1 <= truth < min_cell:
                wants += [(key, "0", [(terms, -math.inf, 0)]),
                          (key, f">={min_cell}", [(terms, min_cell, math.inf)])]
            else:
                wants.append((key, "annat", [*([(terms, -math.inf, truth - 1)] if truth >= 1
                                               else []), (terms, truth + 1, math.inf)]))
        solutions: list[np.ndarray] = []

        def met(options) -> bool:
            for terms, low, high in options:
                vector = self._vector(terms)
                if any(low - 1e-6 <= vector @ y <= high + 1e-6 for y in solutions):
                    return True
            return False

        # many at once, then one by one: every solution found serves every cell. The rounds
        # only ever add witnesses (integer solutions of the whole model, checked against every
        # row below), never verdicts: a cell is reported pinned only by the one-by-one solves,
        # exactly as without the rounds, so they make the check faster and change none of its
        # answers. Each round pushes, at once, every cell no witness serves yet towards the
        # value it must be able to take (an aggregate objective solves in a fraction of the time
        # a feasibility problem with one extra row takes); rounds stop when one serves no cell.
        pending = list(wants)
        while pending:
            down = [options[0] for _, _, options in pending if options[0][1] == -math.inf]
            up = [options[0] for _, _, options in pending if options[0][2] == math.inf]
            for direction in (down, up):
                if not direction:
                    continue
                objective = sum((self._vector(terms) / (max(abs(high), 1.0) if low == -math.inf
                                                         else -max(low, 1.0))
                                 for terms, low, high in direction), np.zeros(self.n))
                y = self._solve(objective)
                if y is not None and self._witness(y := np.round(y)):
                    solutions.append(y)
            still = [want for want in pending if not met(want[2])]
            if len(still) == len(pending):
                break
            pending = still
        failures = []
        for key, kind, options in wants:
            if met(options):
                continue
            for extra in options:
                y = self._solve(np.zeros(self.n), [extra])
                if y is not None:
                    solutions.append(np.round(y))
                    break
            else:
                failures.append((key, kind, truths[key]))
        return failures


def audit(folders: Iterable[Path]) -> Audit:
    return Audit([read_release(Path(folder)) for folder in folders])


def truth_of(audit: Audit, key: CellKey, counts: Mapping[tuple[str, str, str, str], object]
             ) -> float | tuple[float, float]:
    """A cell's value in the data, from every count of its period (an internal workbook's
    cells): a count, or a share's count and denominator."""
    if key.table != GOALS:
        return float(counts[key.sheet, key.table, key.row, key.column])
    groups = audit._goal_groups()
    group = ("goal" if key.row.startswith("Andel arbete") else
             "sickness" if key.row.startswith("Andel sjukdom") else "other")
    kon = TOTAL if key.column == TOTAL else KON_ROWS[KON_COLUMNS.index(key.column)]
    top = sum(float(counts[key.sheet, EXITS, kon, category]) for category in groups[group])
    return top, float(counts[key.sheet, EXITS, kon, TOTAL])
