"""Which cells of a new release to hide so that, together with every release published before (the
register), no hidden or derivable small count can be worked out by a reader with a solver.

The reader's knowledge is ``linked.Model``: the structure of the tables, every cell the register
shows with its current value, and the new release's visible cells. What must hold in it:

- *up*: every base count (``Model.bases``) from 1 to min_cell - 1 can be min_cell or more in some
  integer solution. Every count is a sum of bases, and where a small base reaches min_cell so does
  every sum it is part of, so then no small count anywhere (printed, hidden, derived by
  subtraction, or never printed) can be told apart from a count that would be shown.
- *down*: every hidden count from 1 to min_cell - 1 (in the new release or in the register), every
  small count of a period a reader gets by subtracting published periods (a *segment* no release
  covers exactly), and every small count of anonymous spells that ended (Utskrivna minus the
  avslutsanledningar), can be 0 in some solution.
- *other*: every other hidden count (0, or min_cell and more) can take another value; a hidden
  share another ratio (or none, its denominator 0).

Each requirement is shown to hold by an integer solution, an *alternative*. One alternative
usually shows many: first many counts are pushed down (or up) at once, then the rest one by one.
When a requirement has no alternative, the new release's visible cells that must change for one to
exist are hidden: the change that costs least, a visible count weighing its size (a zero more, a
goal share's count more), in the manner of Fischetti and Salazar's secondary suppression. An
alternative stays one when more cells are hidden, so hidden cells only grow and the loop ends; the
alternatives are the proof that the release is protected.

The register fixes what cannot be taken back: a cell it shows with the value the data still has is
known, one it hides with the value the data still has stays hidden in every later release. A
value the data no longer has (a period re-run after late deliveries) is about data that changed;
it neither constrains nor is protected.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from assets.sus import linked as ln
from assets.sus import statistics as st
from finsam.errors import FinsamError

HIDDEN = ".."
REGISTER_COLUMNS = ("period_start", "period_end", "scope", "sheet", "table_name", "row_label",
                    "column_label", "shown", "value")

_TOLERANCE = 1e-6
# What hiding a cell costs per unit its count must change: its count; a zero as much as this many
# min_cells (the rule text says a zero may be hidden, but a count should go first); a goal share's
# count this many times its count (the board's headline figure).
_ZERO_WEIGHT = 4.0
_SHARE_WEIGHT = 3.0
# A solve is bounded by work, not by the clock: at most this many branch-and-bound nodes (HiGHS's
# mip_max_nodes; its linear relaxations are exact simplex solves), so a release gets the same
# protection on an idle machine and on a loaded one. An integer solve stopped there without a
# solution counts as finding none, which only hides more cells (or reports the requirement as
# unprotected); never less protection, and never a share shown as "already public" unproved.
_NODE_LIMIT = 1000
# The whole protection of one release, at most (seconds; configurable per run): the clock is only
# this safety net, never what decides an answer. Past it, even inside one solve, the
# release is not published at all: hiding everything instead would be recorded in the register
# and, since a hidden cell stays hidden while its value holds, hide the period for good.
DEFAULT_TIME_LIMIT = 900.0
# Pushes of one group of requirements, each with other weights, at most.
_PUSH_ROUNDS = 12


def shown_text(value: object, hidden: bool) -> str:
    """What a cell shows, as the register keeps it."""
    if hidden:
        return HIDDEN
    if isinstance(value, float | np.floating):
        return "" if math.isnan(value) else repr(float(value))
    return str(int(value))


class ProtectionTimeout(FinsamError):
    """The disclosure control did not finish within its time limit: nothing is published."""

    def __init__(self, seconds: float):
        super().__init__(
            f"Röjandeskyddet för SUS-statistiken blev inte klart inom {seconds:g} sekunder; "
            "inget publicerades och inget skrevs i publiceringsregistret. Kör igen med längre "
            "tidsgräns (tidsgrans_sekunder) eller en kortare period.")
        self.seconds = seconds


class ReleaseNotProtectable(FinsamError):
    """Together with what was published before, the release would let a hidden or small count be
    worked out whatever more it hid: nothing is published."""

    def __init__(self, places: Sequence[str]):
        shown = "; ".join(places[:3]) + (f" (och {len(places) - 3} till)" if len(places) > 3
                                         else "")
        super().__init__(
            f"SUS-statistiken publicerades inte: {len(places)} små eller dolda tal skulle gå att "
            f"räkna fram eller ringa in ur den tillsammans med det som publicerats tidigare, hur "
            f"mycket mer den än döljer ({shown}). Inget skrevs i publiceringsregistret. Välj "
            "en period som börjar och slutar där tidigare publiceringar gör, så att ingen ny "
            "period går att få fram genom att dra en publicering från en annan.")
        self.places = list(places)


class _OutOfTime(Exception):
    """Raised inside the solver when the release's time limit has passed."""


def _same(value: float, truth: float) -> bool:
    if math.isnan(value) or math.isnan(truth):
        return math.isnan(value) and math.isnan(truth)
    return abs(value - truth) < 1e-9


def register_releases(register: pd.DataFrame) -> list[ln.Release]:
    """The releases the register holds, with the sheets each printed."""
    if register.empty:
        return []
    releases = []
    for (start, end, scope), rows in register.groupby(["period_start", "period_end", "scope"],
                                                      sort=True):
        sheets = sorted(set(rows["sheet"]), key=lambda sheet: (sheet != st.ALL_INSATSER, sheet))
        releases.append(ln.Release(ln.quarter_of(start), ln.quarter_of(end), str(scope),
                                   tuple(sheets)))
    return releases


# --- counts and what must hold for them --------------------------------------------------------

@dataclass
class _Cell:
    """A distinct linear form over the atoms (a count: every coefficient 1), and what the releases
    do with it."""

    atoms: np.ndarray
    coefficients: np.ndarray
    truth: float
    weight: float = 0.0
    known: bool = False         # the register shows it with its current value
    kept_hidden: bool = False   # the register hides it (as a count) with its current value
    new: bool = False           # the new release prints it
    share_only: bool = True     # ... and only as a share's count
    derived: bool = False       # a count a reader can work out, printed or not
    base: bool = False

    @property
    def counts(self) -> bool:
        """A count (every coefficient 1), not a share's ratio form."""
        return bool(np.all(self.coefficients == 1))


class _Cells:
    """Distinct linear forms by their terms."""

    def __init__(self, model: ln.Model, everyone: frozenset[str]):
        self.model = model
        self.everyone = everyone
        self.cells: list[_Cell] = []
        self._index: dict[bytes, int] = {}

    def of_terms(self, atoms: Sequence[int], coefficients: Sequence[float] | None = None
                 ) -> int | None:
        atoms = np.asarray(atoms, dtype=np.int64)
        if not len(atoms):
            return None
        coefficients = (np.ones(len(atoms)) if coefficients is None
                        else np.asarray(coefficients, dtype=float))
        order = np.argsort(atoms, kind="stable")
        atoms, coefficients = atoms[order], coefficients[order]
        # the same atom twice adds its coefficients
        unique, start = np.unique(atoms, return_index=True)
        coefficients = np.add.reduceat(coefficients, start)
        keep = coefficients != 0
        unique, coefficients = unique[keep], coefficients[keep]
        if not len(unique):
            return None
        key = unique.tobytes() + coefficients.tobytes()
        number = self._index.get(key)
        if number is None:
            number = self._index[key] = len(self.cells)
            truth = float(coefficients @ self.model.truth[unique])
            self.cells.append(_Cell(unique, coefficients, truth))
        return number

    def of(self, what: tuple, release: ln.Release, sheet: str) -> int | None:
        return self.of_terms(self.model.functional(what, release.insatser(sheet, self.everyone)))

    def ratio(self, numerator: int, denominator: int) -> int | None:
        """den·numerator - num·denominator: 0 exactly where the share is the data's."""
        top, bottom = self.cells[numerator], self.cells[denominator]
        return self.of_terms(np.concatenate([top.atoms, bottom.atoms]),
                             np.concatenate([top.coefficients * bottom.truth,
                                             -bottom.coefficients * top.truth]))


@dataclass(frozen=True)
class _Condition:
    cell: int
    sense: int      # -1: at most ``bound``; +1: at least ``bound``
    bound: float


@dataclass(frozen=True)
class _Requirement:
    """Holds when some alternative meets one of its conditions."""

    kind: str
    cell: int
    conditions: tuple[_Condition, ...]
    share: tuple[int, int] | None = None


def _down(cell: int) -> _Requirement:
    return _Requirement("down", cell, (_Condition(cell, -1, 0.0),))


def _up(cell: int, bound: float) -> _Requirement:
    return _Requirement("up", cell, (_Condition(cell, 1, bound),))


def _other(cell: int, truth: float) -> _Requirement:
    below = (_Condition(cell, -1, truth - 1),) if truth >= 1 else ()
    return _Requirement("other", cell, (*below, _Condition(cell, 1, truth + 1)))


def _share(pair: tuple[int, int], ratio: int | None, denominator_truth: float) -> _Requirement:
    """A hidden share takes another value, or none (its denominator 0)."""
    denominator = pair[1]
    if not denominator_truth:
        return _Requirement("share", denominator, (_Condition(denominator, 1, 1.0),), pair)
    other = () if ratio is None else (_Condition(ratio, 1, 1.0), _Condition(ratio, -1, -1.0))
    return _Requirement("share", denominator, (*other, _Condition(denominator, -1, 0.0)), pair)


@dataclass
class Protection:
    """The new release's cells to show as "..", its cells as the register keeps them, what was
    done, and the alternatives that prove it (atoms × alternatives, over ``model``)."""

    hidden: set[tuple[str, str, str, str]]
    cells: pd.DataFrame
    report: dict[str, float | int]
    model: ln.Model = field(repr=False)
    alternatives: np.ndarray = field(repr=False)
    unprotected: list[str] = field(default_factory=list)
    # where each of them is, without its count (what a refusal may say)
    unprotected_places: list[str] = field(default_factory=list)


# --- the solver -------------------------------------------------------------------------------

def milp(*args, **kwargs):
    """scipy's HiGHS ``milp``, imported at the first solve: scipy.optimize costs a third of a
    second to import, and every process that loads the definitions imports this module."""
    from scipy.optimize import milp as solve

    return solve(*args, **kwargs)


# per unit an atom moves from its true value, in the solves that have an objective of their own
_ANCHOR_WEIGHT = 1e-3
# scipy.optimize.milp's status: 1 a time (or iteration) limit reached, 2 infeasible
_CLOCK = 1
_INFEASIBLE = 2


def _anchored(objective, matrix, lower, upper, bounds_lower, bounds_upper, integrality,
              anchor: np.ndarray, weight: float):
    """The problem in the atoms' moves away from ``anchor``: y = anchor + up - down, up and down
    at least 0, each unit costing ``weight``."""
    from scipy import sparse

    n = len(anchor)
    atoms = matrix[:, :n]
    rest = matrix[:, n:]
    shift = atoms @ anchor
    return (np.concatenate([objective[:n] + weight, -objective[:n] + weight, objective[n:]]),
            sparse.hstack([atoms, -atoms, rest], format="csr"),
            lower - shift, upper - shift,
            np.concatenate([np.maximum(bounds_lower[:n] - anchor, 0),
                            np.maximum(anchor - bounds_upper[:n], 0), bounds_lower[n:]]),
            np.concatenate([bounds_upper[:n] - anchor, anchor - bounds_lower[:n],
                            bounds_upper[n:]]),
            np.concatenate([integrality[:n], integrality[:n], integrality[n:]]))


def _unanchored(x: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    n = len(anchor)
    return np.concatenate([anchor + x[:n] - x[n:2 * n], x[2 * n:]])


class _Solver:
    """The cells as rows over the atoms, the alternatives found, and solves over a part of the
    atoms: the rest stay at their true values, so a solution of the part is one of the whole.
    Most requirements are met by moving counts within one segment and insats; only those that
    are not look further, which keeps most solves small."""

    def __init__(self, model: ln.Model, cells: list[_Cell], deadline: float = math.inf):
        from scipy import sparse

        self.model = model
        self.cells = cells
        # time.perf_counter() past which no solve starts, and none runs on
        self.deadline = deadline
        rows = np.repeat(np.arange(len(cells)), [len(cell.atoms) for cell in cells])
        columns = np.concatenate([cell.atoms for cell in cells])
        values = np.concatenate([cell.coefficients for cell in cells])
        self.matrix = sparse.csr_array((values, (rows, columns)), shape=(len(cells), model.size))
        self.by_atom = self.matrix.tocsc()
        self.truth = np.array([cell.truth for cell in cells], dtype=float)
        self.alternatives: list[np.ndarray] = []
        # each cell's lowest and highest value over the alternatives
        self.lowest = np.full(len(cells), np.inf)
        self.highest = np.full(len(cells), -np.inf)
        self.solves = 0
        # whether the last solve without a solution proved that none exists
        self.proved_none = False
        self.seconds = 0.0
        self.cpu = 0.0
        self._systems: dict[bytes, tuple] = {}
        self._near: dict[int, np.ndarray] = {}
        self._loose: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
        self._counts = np.array([cell.counts for cell in cells])
        self._persons = np.array(sorted(model.persons.values()), dtype=np.int64)

    def add(self, y: np.ndarray) -> None:
        y = np.round(y)
        self.alternatives.append(y)
        values = self.matrix @ y
        np.minimum(self.lowest, values, out=self.lowest)
        np.maximum(self.highest, values, out=self.highest)

    def met(self, condition: _Condition) -> bool:
        if condition.sense < 0:
            return bool(self.lowest[condition.cell] <= condition.bound + _TOLERANCE)
        return bool(self.highest[condition.cell] >= condition.bound - _TOLERANCE)

    def covered(self, requirement: _Requirement) -> bool:
        return any(self.met(condition) for condition in requirement.conditions)

    @staticmethod
    def integral(y: np.ndarray) -> bool:
        return bool(np.all(np.abs(y - np.round(y)) < _TOLERANCE))

    # where to look
    def near(self, cell: int) -> np.ndarray:
        """The atoms of the part of the model a cell lies in: its segments' kön tables (all
        insatser), or its insatser's flows, stocks, tables and the persons; everything for a
        cell of several kinds. Requirements in one part are pushed together first, a small
        solve; what needs to move counts elsewhere as well goes to the whole model."""
        if cell in self._near:
            return self._near[cell]
        model = self.model
        atoms = self.cells[cell].atoms
        segments, insatser = model.atom_segment[atoms], model.atom_insats[atoms]
        if self.about_persons(cell):
            found = np.arange(model.size)
        elif (segments >= 0).all():
            found = np.flatnonzero(np.isin(model.atom_segment, np.unique(segments)))
        elif (insatser >= 0).all():
            found = np.flatnonzero(np.isin(model.atom_insats, np.unique(insatser))
                                   | (model.atom_insats < 0))
        else:
            found = np.arange(model.size)
        self._near[cell] = found
        return found

    def loose(self, visible: np.ndarray, cell: int | None = None,
              exact: bool = False) -> np.ndarray:
        """The atoms a solve moves: not those the visible cells and the structure hold at their
        values (``_held``), and whether a period had active spells only for a requirement on a
        count of persons or when ``exact`` (held at its value, a solution keeps a person wherever
        the data has one: fewer solutions, never a wrong one, and relaxations that stay whole
        numbers)."""
        key = visible.tobytes()
        if key not in self._loose:
            if len(self._loose) > 4:
                self._loose.clear()
            flags = np.zeros(self.model.size, dtype=bool)
            flags[self.model.flag_atoms] = True
            plain = self._held(visible, np.zeros_like(flags))
            # holding more only holds more: the closure with the flags goes on from the one
            # without them instead of propagating from the start again
            self._loose[key] = (np.flatnonzero(~self._held(visible, plain | flags)),
                                np.flatnonzero(~plain))
        if exact or (cell is not None and self.about_persons(cell)):
            return self._loose[key][1]
        return self._loose[key][0]

    def _held(self, visible: np.ndarray, held: np.ndarray) -> np.ndarray:
        """The atoms every solution keeps at their values when ``held`` are: those in a visible
        count of 0 or fixed at 0, and then, again and again, the one atom not yet held in an
        equality (a visible cell, or a link of the structure) whose other atoms are. Leaving
        them out of a solve changes none of its solutions (integer or not), only its size: the
        long past a short release is linked to is mostly held by what was published of it."""
        zero = visible & (self.truth == 0) & self._counts
        held = held | (self.model.bounds_upper == 0)
        held[self.matrix[np.flatnonzero(zero)].indices] = True
        columns, lower, upper, _ = self._system(visible)
        equal = columns.tocsr()[np.flatnonzero(lower == upper)]
        equal.data = (equal.data != 0).astype(float)
        equal.eliminate_zeros()
        while True:
            open_ = equal @ (~held).astype(float)
            alone = np.flatnonzero(np.abs(open_ - 1) < 0.5)
            if not len(alone):
                return held
            rows = equal[alone]
            atoms = rows.indices[~held[rows.indices]]
            held[atoms] = True

    def about_persons(self, cell: int) -> bool:
        return bool(np.isin(self.cells[cell].atoms, self._persons).any())

    def _system(self, visible: np.ndarray):
        """The structure and the visible cells at their values, by columns, and each row's
        value in the data."""
        from scipy import sparse

        key = visible.tobytes()
        if key not in self._systems:
            if len(self._systems) > 4:
                self._systems.clear()
            matrix = sparse.vstack([self.model.structure, self.matrix[np.flatnonzero(visible)]],
                                   format="csc")
            lower = np.concatenate([self.model.lower, self.truth[visible]])
            upper = np.concatenate([self.model.upper, self.truth[visible]])
            self._systems[key] = (matrix, lower, upper, matrix @ self.model.truth)
        return self._systems[key]

    def _part(self, visible: np.ndarray, free: np.ndarray):
        """The system over the ``free`` atoms: the rows that touch them, bounds less what the
        other atoms contribute at their true values."""
        columns, lower, upper, at_truth = self._system(visible)
        part = columns[:, free]
        rows = np.unique(part.indices)
        part = part.tocsr()[rows]
        rest = at_truth[rows] - part @ self.model.truth[free]
        return part, lower[rows] - rest, upper[rows] - rest

    def _cells_over(self, numbers: Sequence[int], free: np.ndarray):
        """The cells' rows over the free atoms, and their values less what the other atoms add
        at their true values."""
        numbers = np.asarray(numbers, dtype=np.int64)
        part = self.matrix[numbers][:, free]
        return part, self.truth[numbers] - (self.matrix[numbers] @ self.model.truth
                                            - part @ self.model.truth[free])

    def _solve(self, objective, matrix, lower, upper, bounds_lower, bounds_upper, integrality,
               gap: float, relaxed_only: bool = False,
               anchor: np.ndarray | None = None, confirm: bool = True) -> np.ndarray | None:
        """Linear relaxations first, the integer solve only when they give no whole numbers
        (never with ``relaxed_only``: a push that may as well find nothing). When a relaxation
        has no solution neither has the integer problem. ``anchor``: the first columns' true
        values; moving an atom away from them costs a little, and a relaxation that only has
        to move the atoms as little as it can (the objective left out) mostly lands on whole
        numbers. ``confirm``: an "infeasible" is checked without presolve (``_milp``); a push
        needs no proof that nothing exists (finding nothing only leads to ``deviation``, which
        confirms), so pushes skip it."""
        started, cpu = time.perf_counter(), time.process_time()
        left = self.deadline - started
        if left <= 0:
            raise _OutOfTime
        if len(objective) == 0:
            # every atom the problem touches is held (``_held``) and no helper is needed:
            # nothing can move, and each row's value is what its held atoms give (HiGHS refuses
            # a problem without columns)
            self.proved_none = bool(np.any(lower > _TOLERANCE) or np.any(upper < -_TOLERANCE))
            return None if self.proved_none else np.zeros(0)
        # the clock only as the release's safety net: what a solve finds is decided by its work
        # (simplex to the end, at most _NODE_LIMIT nodes), whatever else the machine is doing
        limit = left
        integer = integrality > 0
        attempts = [(objective, _ANCHOR_WEIGHT)]
        if anchor is not None and np.any(objective) and not relaxed_only:
            attempts.append((np.zeros_like(objective), 1.0))
        self.proved_none = False
        try:
            for goal, weight in attempts:
                problem = (goal, matrix, lower, upper, bounds_lower, bounds_upper, integrality)
                if anchor is not None:
                    problem = _anchored(*problem, anchor, weight)
                result = self._milp(problem, {"time_limit": limit}, integer=False,
                                    confirm=confirm)
                if result.x is None:
                    # an infeasible relaxation proves that no integer solution exists either
                    self.proved_none = result.status == _INFEASIBLE
                    return None
                x = result.x if anchor is None else _unanchored(result.x, anchor)
                if self.integral(x[integer]):
                    return x
            if relaxed_only:
                return None
            problem = (objective, matrix, lower, upper, bounds_lower, bounds_upper, integrality)
            if anchor is not None:
                # the integer solver finds its way far sooner with the atoms held near the data
                problem = _anchored(*problem, anchor, _ANCHOR_WEIGHT)
            result = self._milp(problem, {"time_limit": limit, "mip_rel_gap": gap,
                                          "node_limit": _NODE_LIMIT}, integer=True,
                                confirm=confirm)
            if result.x is None:
                # stopped at the node limit without a solution: none found, none proved absent
                self.proved_none = result.status == _INFEASIBLE
                return None
            return result.x if anchor is None else _unanchored(result.x, anchor)
        finally:
            self.seconds += time.perf_counter() - started
            self.cpu += time.process_time() - cpu

    def _milp(self, problem: tuple, options: dict, integer: bool, confirm: bool = True):
        """One HiGHS solve of (objective, matrix, lower, upper, bounds lower, bounds upper,
        integrality). An "infeasible" is confirmed without presolve: on these models HiGHS's
        presolve has called a problem infeasible that has a solution (seen on the attacker's
        model), and "no solution" may show a share or hide cells."""
        from scipy.optimize import Bounds, LinearConstraint

        arguments = {"bounds": Bounds(problem[4], problem[5]),
                     "constraints": LinearConstraint(*problem[1:4])}
        if integer:
            arguments["integrality"] = problem[6]
        self.solves += 1
        result = milp(problem[0], **arguments, options=options)
        self._in_time(result)
        if result.status == _INFEASIBLE and confirm:
            self.solves += 1
            result = milp(problem[0], **arguments, options={**options, "presolve": False})
            self._in_time(result)
        return result

    def _in_time(self, result) -> None:
        # a solve cut short by the clock says nothing (no solution is not "none exists", and a
        # solution found in time on an idle machine may not be found on a loaded one): the
        # release is refused instead. scipy's status 1 is HiGHS's time or iteration limit, and
        # only the time limit is set.
        if result.status == _CLOCK or time.perf_counter() >= self.deadline:
            raise _OutOfTime

    def _whole(self, free: np.ndarray, x: np.ndarray) -> np.ndarray:
        y = self.model.truth.copy()
        y[free] = x[:len(free)]
        return y

    def push(self, conditions: Sequence[_Condition], visible: np.ndarray, free: np.ndarray,
             surely: _Condition | None = None,
             weights: Sequence[float] | None = None) -> np.ndarray | None:
        """An integer solution, moving only the ``free`` atoms, that meets as many
        ``conditions`` (all of one sense) as it can, and ``surely`` for certain. Pushing down
        minimises the counts (none goes below 0); pushing up maximises them, each only as far as
        its bound: an atom by its upper bound in this solve, a sum by a helper u <= sum,
        u <= bound. A condition on atoms that are not free is left out."""
        from scipy import sparse

        n = len(free)
        position = np.full(self.model.size, -1)
        position[free] = np.arange(n)
        part, lower, upper = self._part(visible, free)
        bounds_upper = self.model.bounds_upper[free].copy()
        objective = np.zeros(n)
        helpers: list[_Condition] = []
        for number, condition in enumerate(conditions):
            cell = self.cells[condition.cell]
            mine = position[cell.atoms]
            if (mine < 0).any():
                continue
            scale = max(abs(cell.truth - condition.bound), 1.0)
            if weights is not None:
                scale /= weights[number]
            if condition.sense < 0 and cell.counts:
                objective[mine] += 1.0 / scale
            elif condition.sense > 0 and cell.counts and len(mine) == 1:
                atom = cell.atoms[0]
                bounds_upper[mine[0]] = min(bounds_upper[mine[0]],
                                            max(condition.bound, self.model.truth[atom]))
                objective[mine[0]] -= 1.0 / scale
            else:
                helpers.append(condition)
        k = len(helpers)
        blocks, lows, highs = [part], [lower], [upper]
        helper_low, helper_high, helper_objective = [], [], []
        if k:
            rows, offset = self._cells_over([c.cell for c in helpers], free)
            senses = np.array([c.sense for c in helpers], dtype=float)
            # sense·(u - count) <= 0 with count = rows·x + (value - offset)
            blocks.append(sparse.hstack([-sparse.diags(senses) @ rows,
                                         sparse.diags(senses, format="csr")], format="csr"))
            lows.append(np.full(k, -np.inf))
            highs.append(senses * (self.truth[[c.cell for c in helpers]] - offset))
            for c in helpers:
                scale = max(abs(self.truth[c.cell] - c.bound), 1.0)
                helper_low.append(-np.inf if c.sense > 0 else c.bound)
                helper_high.append(c.bound if c.sense > 0 else np.inf)
                helper_objective.append(-c.sense / scale)
        if surely is not None:
            row, offset = self._cells_over([surely.cell], free)
            blocks.append(row)
            bound = surely.bound - (self.truth[surely.cell] - offset[0])
            lows.append(np.array([bound if surely.sense > 0 else -np.inf]))
            highs.append(np.array([bound if surely.sense < 0 else np.inf]))
            if surely.sense > 0:
                # the condition's own atoms must be free to reach its bound
                mine = position[self.cells[surely.cell].atoms]
                mine = mine[mine >= 0]
                bounds_upper[mine] = self.model.bounds_upper[free][mine]
        width = n + k
        matrix = sparse.vstack([block if block.shape[1] == width else
                                sparse.hstack([block, sparse.csr_array((block.shape[0],
                                                                        width - block.shape[1]))],
                                              format="csr") for block in blocks], format="csr")
        x = self._solve(np.concatenate([objective, helper_objective]), matrix,
                        np.concatenate(lows), np.concatenate(highs),
                        np.concatenate([np.zeros(n), helper_low]),
                        np.concatenate([bounds_upper, helper_high]),
                        np.concatenate([self.model.integrality[free], np.zeros(k)]), gap=0.05,
                        anchor=self.model.truth[free], confirm=False)
        return None if x is None else self._whole(free, x)

    def deviation(self, condition: _Condition, visible: np.ndarray, movable: np.ndarray,
                  weights: np.ndarray, integer: bool, free: np.ndarray
                  ) -> tuple[float, np.ndarray, np.ndarray] | None:
        """The cheapest change of the movable visible cells, moving only the ``free`` atoms,
        that lets ``condition`` be met: (its cost, the cells that change, the solution)."""
        from scipy import sparse

        n = len(free)
        touched = np.zeros(len(self.cells), dtype=bool)
        touched[np.unique(self.by_atom[:, free].indices)] = True
        moving = np.flatnonzero(visible & movable & touched)
        m = len(moving)
        part, lower, upper = self._part(visible & ~(movable & touched), free)
        rows, offset = self._cells_over(moving, free)
        # count - over + under = its value, for every movable cell
        link = sparse.hstack([rows, -sparse.identity(m, format="csr"),
                              sparse.identity(m, format="csr")], format="csr")
        goal, goal_offset = self._cells_over([condition.cell], free)
        bound = condition.bound - (self.truth[condition.cell] - goal_offset[0])
        goal_low = bound if condition.sense > 0 else -np.inf
        goal_high = bound if condition.sense < 0 else np.inf
        x = self._solve(np.concatenate([np.zeros(n), weights[moving], weights[moving]]),
                        sparse.vstack([sparse.hstack([part, sparse.csr_array((part.shape[0],
                                                                              2 * m))]),
                                       link,
                                       sparse.hstack([goal, sparse.csr_array((1, 2 * m))])],
                                      format="csr"),
                        np.concatenate([lower, offset, [goal_low]]),
                        np.concatenate([upper, offset, [goal_high]]),
                        np.zeros(n + 2 * m),
                        np.concatenate([self.model.bounds_upper[free], np.full(2 * m, np.inf)]),
                        np.concatenate([self.model.integrality[free] if integer else np.zeros(n),
                                        np.zeros(2 * m)]), gap=1e-4, anchor=self.model.truth[free])
        if x is None:
            return None
        change = x[n:n + m] + x[n + m:]
        return float(weights[moving] @ change), moving[change > _TOLERANCE], self._whole(free, x)


# --- protecting a release ----------------------------------------------------------------------

class _Protector:
    def __init__(self, spells: pd.DataFrame, release: ln.Release, register: pd.DataFrame,
                 min_cell: int, deadline: float = math.inf):
        self.min_cell = min_cell
        self.deadline = deadline
        self.release = release
        earlier = register_releases(register)
        self.earlier = len(earlier)
        releases = [*earlier, release]
        insatser = sorted(set(spells["insats"].dropna().astype(str))
                          | {sheet for r in releases for sheet in r.sheets
                             if sheet != st.ALL_INSATSER}
                          | {r.scope for r in releases if r.scope})
        self.everyone = frozenset(insatser)
        printed = {r: ln.release_cells(r) for r in releases}
        _, segments = ln.segments_of(releases)
        periods = {r.period for r in releases}
        # a segment no release covers exactly is a period a reader gets by subtraction
        self.virtual = [ln.Release(start, end, "", (st.ALL_INSATSER, *insatser))
                        for start, end in segments if (start, end) not in periods]
        persons = {(r.first, r.last, r.insatser(spec.sheet, self.everyone))
                   for r in releases for spec in printed[r] if spec.what[0] == "persons"}
        self.model = ln.Model(spells, releases, insatser, persons)
        self.table = _Cells(self.model, self.everyone)
        self.unmatched = 0
        # hidden shares (numerator, denominator) the register keeps with today's value
        self.kept_shares: set[tuple[int, int]] = set()
        for r in earlier:
            self._remember(r, register, printed[r])
        self.printed = [(spec, self.table.of(spec.what, release, spec.sheet),
                         self._denominator(spec, release)) for spec in printed[release]]
        for spec, number, denominator in self.printed:
            if number is None:
                continue
            cell = self.table.cells[number]
            cell.new = True
            share = spec.what[0] == "share"
            cell.share_only &= share
            cell.derived |= share
            weight = cell.truth if cell.truth > 0 else _ZERO_WEIGHT * min_cell
            cell.weight = max(cell.weight, weight * (_SHARE_WEIGHT if share else 1.0))
            if denominator is not None:
                # hiding what a share divides by hides the share too
                under = self.table.cells[denominator]
                under.weight = max(under.weight, max(under.truth, 1.0) * _SHARE_WEIGHT)
        for r in [*releases, *self.virtual]:
            derived = [ln.anonymous_ended(sheet, r.first, r.last) for sheet in r.sheets]
            if r in self.virtual:
                derived += [spec for sheet in r.sheets
                            for spec in ln.sheet_cells(sheet, r.first, r.last, quarterly=False)
                            if spec.what[0] not in ("persons", "share")]
            for spec in derived:
                number = self.table.of(spec.what, r, spec.sheet)
                if number is not None:
                    self.table.cells[number].derived = True
        for atoms in self.model.bases():
            number = self.table.of_terms(atoms)
            if number is not None:
                self.table.cells[number].base = True
        self.ratios = {pair: self.table.ratio(*pair) for pair in self._share_pairs()}
        self.new_shares = {(number, denominator) for _, number, denominator in self.printed
                           if number is not None and denominator is not None}
        self.public_shares: set[tuple[int, int]] = set()

    def _share_pairs(self) -> set[tuple[int, int]]:
        pairs = set(self.kept_shares)
        pairs |= {(number, denominator) for _, number, denominator in self.printed
                  if number is not None and denominator is not None}
        return pairs

    def _denominator(self, spec: ln.CellSpec, release: ln.Release) -> int | None:
        if spec.what[0] != "share":
            return None
        return self.table.of(self.model.denominator(spec.what), release, spec.sheet)

    def _remember(self, release: ln.Release, register: pd.DataFrame,
                  specs: list[ln.CellSpec]) -> None:
        """What the register says about a release's cells that still holds."""
        rows = register.loc[(register["period_start"].map(ln.quarter_of) == release.first)
                            & (register["period_end"].map(ln.quarter_of) == release.last)
                            & (register["scope"] == release.scope)]
        by_label = {(spec.sheet, spec.table, spec.row, spec.column): spec for spec in specs}
        counts = {self.table.of(spec.what, release, spec.sheet) for spec in specs
                  if spec.what[0] != "share"}
        shares = []
        for sheet, table, row, column, shown, value in zip(
                rows["sheet"], rows["table_name"], rows["row_label"], rows["column_label"],
                rows["shown"], rows["value"]):
            spec = by_label.get((sheet, table, row, column))
            if spec is None:
                self.unmatched += 1
                continue
            number = self.table.of(spec.what, release, sheet)
            if number is None:
                continue
            truth = self.model.value(spec.what, release.insatser(sheet, self.everyone))
            recorded = math.nan if value is None or pd.isna(value) else float(value)
            if not _same(recorded, truth):
                continue
            cell = self.table.cells[number]
            if spec.what[0] == "share":
                denominator = self._denominator(spec, release)
                if shown == HIDDEN:
                    self.kept_shares.add((number, denominator))
                    if number not in counts:
                        cell.derived = True
                else:
                    shares.append((number, denominator))
            elif shown == HIDDEN:
                cell.kept_hidden = True
            else:
                cell.known = True
        # a shown share gives its count away where its denominator is shown too
        for number, denominator in shares:
            if denominator is not None and self.table.cells[denominator].known:
                self.table.cells[number].known = True

    def _close(self, hidden: np.ndarray, known: np.ndarray, share_only: np.ndarray) -> np.ndarray:
        """A share is shown only with its denominator: a count printed only as shares goes with
        it."""
        hidden = hidden.copy()
        for _, number, denominator in self.printed:
            if (number is not None and denominator is not None and hidden[denominator]
                    and share_only[number] and not known[number]):
                hidden[number] = True
        return hidden

    def _requirements(self, hidden: np.ndarray, small: np.ndarray) -> list[_Requirement]:
        found = []
        for number, cell in enumerate(self.table.cells):
            # a count printed only as shares is hidden with them; what must hold for a hidden
            # share is that its ratio can change, and for a small count under it that it can be
            # 0 (``derived``)
            out_of_sight = cell.kept_hidden or (cell.new and hidden[number]
                                                and not cell.share_only)
            if cell.base and small[number]:
                found.append(_up(number, float(self.min_cell)))
            if small[number] and (out_of_sight or cell.derived):
                found.append(_down(number))
            elif out_of_sight and not small[number]:
                found.append(_other(number, cell.truth))
        shares = set(self.kept_shares)
        shares |= {(number, denominator) for _, number, denominator in self.printed
                   if number is not None and denominator is not None
                   and (hidden[number] or hidden[denominator])}
        found += [_share(pair, self.ratios.get(pair), self.table.cells[pair[1]].truth)
                  for pair in sorted(shares - self.public_shares)]
        return found

    def run(self) -> Protection:
        started = time.perf_counter()
        cells = self.table.cells
        truth = np.array([cell.truth for cell in cells])
        # only counts can be small (a share's ratio form is no count)
        counts = np.array([cell.counts for cell in cells])
        small = (truth >= 1) & (truth < self.min_cell) & counts
        new = np.array([cell.new for cell in cells], dtype=bool)
        known = np.array([cell.known for cell in cells], dtype=bool)
        kept = np.array([cell.kept_hidden for cell in cells], dtype=bool)
        share_only = np.array([cell.share_only for cell in cells], dtype=bool)
        weights = np.array([cell.weight for cell in cells])
        hidden = self._close(new & ~known & (small | kept), known, share_only)
        primary = hidden.copy()
        solver = _Solver(self.model, cells, self.deadline)
        unprotected: set[_Requirement] = set()
        movable = new & ~known

        def waiting() -> list[_Requirement]:
            return [r for r in self._requirements(hidden, small)
                    if r not in unprotected and not solver.covered(r)]

        while open_ := waiting():
            visible = known | (new & ~hidden)
            self._push_many(solver, open_, visible)
            hid_more = False
            for requirement in open_:
                if solver.covered(requirement):
                    continue
                visible = known | (new & ~hidden)
                if self._reach(solver, requirement, visible, open_):
                    continue
                found = self._hide_for(solver, requirement, visible, movable & ~hidden, weights)
                if found is None:
                    if requirement.share in self.new_shares and solver.proved_none:
                        # what was published before gives this share already (proved: no
                        # solution at all, not merely none found): it is shown
                        self.public_shares.add(requirement.share)
                    else:
                        unprotected.add(requirement)
                    continue
                if len(found):
                    hidden[found] = True
                    hidden = self._close(hidden, known, share_only)
                    hid_more = True
            if not hid_more:
                break
        self.unprotected = sorted(self._label(r) for r in unprotected)
        self.unprotected_places = sorted({self._place(r) for r in unprotected})
        return self._result(hidden, primary, small, solver, unprotected, started)

    @staticmethod
    def _push_many(solver: _Solver, waiting: list[_Requirement], visible: np.ndarray) -> None:
        """Requirements met many at a time: per sense, those in the same part of the model
        together, then all that are left together. Pushing every count at once meets only some
        (in a row with a shown total not every cell can fall), so each group is pushed again with
        other weights, drawn from a generator seeded alike every run (the same release always
        gets the same protection), while that still meets a fair share of what is left."""
        everything = solver.loose(visible)
        draw = np.random.default_rng(17)
        for sense in (-1, 1):
            groups: dict[bytes, list[_Requirement]] = {}
            for r in waiting:
                if r.conditions[0].sense == sense:
                    groups.setdefault(solver.near(r.conditions[0].cell).tobytes(), []).append(r)
            parts = [(np.intersect1d(np.frombuffer(key, dtype=np.int64),
                                     solver.loose(visible, group[0].conditions[0].cell)), group)
                     for key, group in groups.items()]
            persons = [r for _, g in parts for r in g if solver.about_persons(r.conditions[0].cell)]
            rest = [r for _, g in parts for r in g if not solver.about_persons(r.conditions[0].cell)]
            for free, group in [*parts, (everything, rest),
                                (solver.loose(visible, persons[0].conditions[0].cell)
                                 if persons else everything, persons)]:
                for round_ in range(_PUSH_ROUNDS):
                    conditions = [r.conditions[0] for r in group if not solver.covered(r)]
                    if not conditions:
                        break
                    weights = None if round_ == 0 else draw.uniform(0.05, 1.0, len(conditions))
                    y = solver.push(conditions, visible, free, weights=weights)
                    if y is None:
                        continue
                    solver.add(y)
                    met = sum(solver.met(c) for c in conditions)
                    if met < max(2, 0.05 * len(conditions)):
                        break

    def _label(self, requirement: _Requirement) -> str:
        """The requirement, the count it is about and where (for tests and the log file)."""
        truth = self.table.cells[requirement.cell].truth
        return f"{requirement.kind} {truth:g}: {self._place(requirement)}"

    def _place(self, requirement: _Requirement) -> str:
        """Where the requirement's count is, without the count."""
        cell = self.table.cells[requirement.cell]
        words = " + ".join(self.model.describe(int(a)) for a in cell.atoms[:4])
        more = f" (+{len(cell.atoms) - 4})" if len(cell.atoms) > 4 else ""
        return f"{words}{more}"

    @staticmethod
    def _reach(solver: _Solver, requirement: _Requirement, visible: np.ndarray,
               waiting: list[_Requirement]) -> bool:
        """Whether an alternative meets the requirement as things are (pushing the others of
        its sense along)."""
        for exact in (False, True):
            for condition in requirement.conditions:
                others = [r.conditions[0] for r in waiting
                          if r.conditions[0].sense == condition.sense and not solver.covered(r)]
                y = solver.push(others, visible, solver.loose(visible, condition.cell, exact),
                                condition)
                if y is not None:
                    solver.add(y)
                    return True
        return False

    @staticmethod
    def _hide_for(solver: _Solver, requirement: _Requirement, visible: np.ndarray,
                  movable: np.ndarray, weights: np.ndarray) -> np.ndarray | None:
        """The visible cells to hide so that the requirement can be met, the cheapest; empty
        when it can be met as things are; None when hiding all of the new release would not
        do, or no way was found (``solver.proved_none`` tells which)."""
        fixed = visible & ~movable
        for exact, integer in ((False, False), (True, False), (True, True)):
            options, proved = [], True
            for condition in requirement.conditions:
                found = solver.deviation(condition, visible, movable, weights, integer,
                                         solver.loose(fixed, condition.cell, exact))
                if found is None:
                    proved &= solver.proved_none
                else:
                    options.append(found)
            if not options:
                if exact:
                    solver.proved_none = proved
                    return None
                continue
            _, cells, y = min(options, key=lambda option: option[0])
            if integer or solver.integral(y):
                solver.add(y)
            if len(cells) or integer:
                return cells
        solver.proved_none = False
        return None

    def _result(self, hidden: np.ndarray, primary: np.ndarray, small: np.ndarray,
                solver: _Solver, unprotected: set[_Requirement], started: float) -> Protection:
        shown_hidden = set()
        records = []
        for spec, number, denominator in self.printed:
            value = self.model.value(spec.what, self.release.insatser(spec.sheet, self.everyone))
            hide = number is not None and (bool(hidden[number]) or (
                denominator is not None and bool(hidden[denominator])))
            if denominator is not None and (number, denominator) in self.public_shares:
                hide = False
            if hide:
                shown_hidden.add((spec.sheet, spec.table, spec.row, spec.column))
            if spec.what[0] != "share":
                value = int(value)
            records.append({"sheet": spec.sheet, "table_name": spec.table, "row_label": spec.row,
                            "column_label": spec.column, "shown": shown_text(value, hide),
                            "value": float(value)})
        primary_cells = sum(1 for _, number, denominator in self.printed
                            if number is not None and (primary[number] or (
                                denominator is not None and primary[denominator])))
        report = {
            "celler": len(self.printed),
            "dolda_primart": primary_cells,
            "dolda": len(shown_hidden),
            "krav": len(self._requirements(hidden, small)),
            "ej_skyddade": len(unprotected),
            "alternativ": len(solver.alternatives),
            "losningar": solver.solves,
            "sekunder_losare": round(solver.seconds, 3),
            "cpu_losare": round(solver.cpu, 3),
            "sekunder": round(time.perf_counter() - started, 3),
            "tidigare_publiceringar": self.earlier,
            "okanda_registerrader": self.unmatched,
            "atomer": self.model.size,
        }
        alternatives = (np.column_stack(solver.alternatives) if solver.alternatives
                        else np.zeros((self.model.size, 0)))
        return Protection(shown_hidden, pd.DataFrame.from_records(records), report, self.model,
                          alternatives, self.unprotected, self.unprotected_places)


def protect(spells: pd.DataFrame, release: ln.Release, register: pd.DataFrame | None = None,
            min_cell: int = 3, time_limit: float = DEFAULT_TIME_LIMIT) -> Protection:
    """The cells of ``release`` to hide given ``register`` (columns ``REGISTER_COLUMNS``; None:
    nothing published before). ``spells``: every spell of the warehouse, whatever the release's
    scope (earlier releases may count other insatser). Raises ``ProtectionTimeout`` when the
    solves have not finished within ``time_limit`` seconds (no solve runs on past it), and
    ``ReleaseNotProtectable`` when some requirement has no alternative however many of the
    release's cells are hidden (what earlier releases show already decides it)."""
    if register is None:
        register = pd.DataFrame(columns=list(REGISTER_COLUMNS))
    deadline = time.perf_counter() + time_limit
    try:
        protection = _Protector(spells, release, register, min_cell, deadline).run()
    except _OutOfTime:
        raise ProtectionTimeout(time_limit) from None
    if protection.unprotected_places:
        raise ReleaseNotProtectable(protection.unprotected_places)
    return protection
