"""What the protection leaves out of its work, and that leaving it out changes no answer.

Three savings (issue 21, the nightly run of one förbund): atoms the visible cells and the tables'
links hold at their values are left out of every solve; a push (a search for an alternative that
may as well find nothing) does not re-solve an "infeasible" without presolve; scipy is imported at
the first solve, not when the definitions are loaded. Each is checked against something that does
not use it: the held atoms by linear programs of their own over the reader's whole model, the
pushes by a HiGHS whose presolve calls every problem infeasible, the import in a fresh process.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog
from scipy.sparse import vstack

from assets.sus import disclosure
from assets.sus import statistics as st
from assets.sus import suppression as sp
from tests.support import populations
from tests.support.releases import attack, publish, quarter

FIXTURES = Path(__file__).parents[2] / "fixtures" / "sus"

# Q1-Q3 and Q1-Q4 give Q4 by subtraction: a register to link to, and a derived period
EARLIER = ("2024Q1", "2024Q3", None)
LATER = ("2024Q1", "2024Q4", None)


@pytest.fixture(scope="module")
def linked(tmp_path_factory) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Spells and the register after the earlier release was published."""
    spells = populations.seeded(70, ("A", "B"), "2024Q1", 4, seed=7)
    return spells, publish(spells, [EARLIER], tmp_path_factory.mktemp("earlier")).register


def _release(spells: pd.DataFrame, plan: tuple, register: pd.DataFrame):
    first, last, _ = plan
    start, end = quarter(first).start_time.date(), quarter(last).end_time.date()
    stats = st.sus_statistics(spells, start, end)
    return stats, st.quarterly_counts(spells, start, end), start, end


def test_atoms_held_by_what_is_visible_have_no_other_value(linked) -> None:
    spells, register = linked
    stats, _, start, end = _release(spells, LATER, register)
    protector = disclosure._Protector(spells, sp.release_of(stats, start, end, None), register, 3)
    cells = protector.table.cells
    truth = np.array([cell.truth for cell in cells])
    small = (truth >= 1) & (truth < 3) & np.array([cell.counts for cell in cells])
    new = np.array([cell.new for cell in cells])
    known = np.array([cell.known for cell in cells])
    kept = np.array([cell.kept_hidden for cell in cells])
    # what the release shows before any secondary hiding, and the register's cells
    visible = known | (new & ~(small | kept))
    solver = disclosure._Solver(protector.model, cells)
    held = solver._held(visible, np.zeros(protector.model.size, dtype=bool))
    model = protector.model
    zeros = np.flatnonzero(visible & (truth == 0) & np.array([cell.counts for cell in cells]))
    by_zeros = (model.bounds_upper == 0)
    by_zeros[np.concatenate([cells[number].atoms for number in zeros])] = True
    assert held.sum() > by_zeros.sum(), "the links must hold more than the visible zeros do"
    # the adversary: the reader's whole model as a linear program of its own (structure, every
    # visible cell at its value), each held atom minimised and maximised
    shown = np.flatnonzero(visible)
    matrix = vstack([model.structure, solver.matrix[shown]]).tocsr()
    lower = np.concatenate([model.lower, truth[shown]])
    upper = np.concatenate([model.upper, truth[shown]])
    equal = lower == upper
    bounded_above = ~equal & np.isfinite(upper)
    bounded_below = ~equal & np.isfinite(lower)
    a_ub = vstack([matrix[np.flatnonzero(bounded_above)], -matrix[np.flatnonzero(bounded_below)]])
    b_ub = np.concatenate([upper[bounded_above], -lower[bounded_below]])
    bounds = list(zip(np.zeros(model.size), np.where(np.isinf(model.bounds_upper), None,
                                                        model.bounds_upper)))
    checked = np.flatnonzero(held & (model.bounds_upper != 0))
    for atom in checked:
        for sense in (1.0, -1.0):
            objective = np.zeros(model.size)
            objective[atom] = sense
            result = linprog(objective, A_ub=a_ub, b_ub=b_ub,
                             A_eq=matrix[np.flatnonzero(equal)], b_eq=lower[equal],
                             bounds=bounds, method="highs")
            assert result.status == 0
            assert abs(result.x[atom] - model.truth[atom]) < 1e-6, model.describe(int(atom))
    assert len(checked) > 20


def test_pushes_fooled_by_presolve_still_publish_a_protected_release(tmp_path,
                                                                   monkeypatch) -> None:
    # HiGHS's presolve has called feasible problems infeasible. A push no longer re-checks
    # that (finding nothing only sends the requirement on to the deviation solve, which decides
    # what is hidden and still re-checks without presolve). Here a presolve that calls *every*
    # problem infeasible makes every push find nothing: the release must still withstand the
    # attacker, and hide about what it hides with a HiGHS that is right (not the same cells:
    # other alternatives meet the requirements in another order, and ties go other ways)
    spells = populations.seeded(70, ("A", "B"), "2024Q1", 4, seed=7)
    honest = publish(spells, [EARLIER, LATER], tmp_path / "honest")
    earlier = publish(spells, [EARLIER], tmp_path / "earlier")
    real = disclosure.milp
    calls = {"wrong": 0}

    def presolve_says_infeasible(*args, **kwargs):
        if kwargs["options"].get("presolve", True):
            calls["wrong"] += 1
            return SimpleNamespace(status=2, x=None)
        return real(*args, **kwargs)

    monkeypatch.setattr(disclosure, "milp", presolve_says_infeasible)
    fooled = publish(spells, [LATER], tmp_path / "fooled", published=earlier)
    assert calls["wrong"] > 100 and not fooled.refused
    assert fooled.reports[1]["ej_skyddade"] == 0
    assert abs(fooled.reports[1]["dolda"] - honest.reports[1]["dolda"]) <= 3
    assert fooled.reports[1]["losningar"] > honest.reports[1]["losningar"]
    _, failures, attacked = attack(spells, fooled)
    assert attacked > 300 and failures == []


def test_a_solve_with_every_atom_held_is_decided_without_the_solver(tmp_path, monkeypatch) -> None:
    """Found by the national benchmark (one förbund's ten-year release crashed): every atom a
    push could move was held by what is visible, so the problem had no columns, which HiGHS
    refuses. 35 spells of that förbund's data (pseudonyms replaced, its insats renamed)."""
    spells = populations.from_csv(FIXTURES / "every_atom_held_ten_years.csv")
    real = disclosure._Solver._solve
    empty = {"solves": 0}

    def counting(self, objective, *args, **kwargs):
        empty["solves"] += len(objective) == 0
        return real(self, objective, *args, **kwargs)

    monkeypatch.setattr(disclosure._Solver, "_solve", counting)
    published = publish(spells, [("2015Q1", "2024Q4", None)], tmp_path)
    assert empty["solves"] > 0, "the fixture no longer reaches a problem without columns"
    assert not published.refused and published.reports[0]["ej_skyddade"] == 0
    _, failures, attacked = attack(spells, published)
    assert attacked > 50 and failures == []

def test_loading_the_protection_imports_no_solver() -> None:
    # every process that loads the definitions imports the SUS assets; the solver (a third of
    # a second) only when a release is protected
    code = ("import sys, assets.sus.assets, assets.sus.disclosure, assets.sus.linked; "
            "print(sorted(m for m in sys.modules if m.startswith('scipy')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
