"""The protection against a reader who models every quarter, and against a loaded machine.

The protection counts the kön tables per *segment* (the quarters between two edges of published
periods); the attacker (tests/support/sus_audit.py) per *quarter*. Försörjning is where that could
differ: a spell counts under several categories, and "Ingen offentlig försörjning" and "Okänd" only
alone. Here a hand-made register with such spells spread over the quarters of one segment is
published three times, and every alternative the protection's proof rests on is handed to the
attacker's own per-quarter model: each must be a world that agrees with everything published.

And the clock: a solve cut short by the clock (a loaded machine) once counted as finding nothing,
so the same release could be published differently under load. Now the work of a solve is bounded
(nodes), and the clock only refuses the release."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from assets.sus import disclosure
from assets.sus import linked as ln
from assets.sus import statistics as st
from tests.support import populations, sus_audit
from tests.support.releases import Published, attack, publish, quarter

MIN_CELL = 3
# Q1-Q3 and Q1-Q4 give Q4 by subtraction; A's own release repeats its sheet
PLAN = [("2024Q1", "2024Q3", None), ("2024Q1", "2024Q4", None), ("2024Q1", "2024Q4", "A")]
ING = "Ingen offentlig försörjning"


def _spell(number: int, insats: str, kon: str, enrolled: str, days: int | None, reason: str,
           income: str, tid: str = "2", age: int = 35) -> dict:
    start = pd.Timestamp(enrolled)
    ended = None if days is None else start + pd.Timedelta(days=days)
    return {"insats": insats, "pseudonym": f"{number:064x}", "deidentified_person": None,
            "anonym": False, "skyddad_identitet": False, "kon": kon, "age_at_enrolment": age,
            "inskrivningsdatum": start, "utskrivningsdatum": ended,
            "avslutsanledning": None if ended is None else reason,
            "forsorjning_in": income,
            "forsorjning_ut": None if ended is None else populations.AFTER.get(reason),
            "tid_offentlig_forsorjning": tid, "withdrawn_on": None}


def multi_category_register() -> pd.DataFrame:
    """Men with Ingen offentlig försörjning (alone) in two quarters of the Q1-Q3 segment and in
    the subtracted Q4; women under two categories at once in every quarter; a few single-category
    spells so the populations are not all one kind."""
    rows = [
        _spell(1, "A", "M", "2024-01-20", None, "ARB", "ING"),
        _spell(2, "A", "M", "2024-08-05", 200, "ARB", "ING", tid="0"),
        _spell(3, "A", "M", "2024-11-02", None, "STU", "ING"),
        _spell(4, "A", "K", "2024-02-10", 150, "ARB", "AKA,FSB"),
        _spell(5, "A", "K", "2024-05-03", None, "STU", "AKA,FSB", age=22),
        _spell(6, "A", "K", "2024-07-14", 60, "SJK", "FSB,SJP", tid="8"),
        _spell(7, "A", "K", "2024-10-09", None, "ARB", "AKA,FSB"),
        _spell(8, "A", "M", "2024-04-22", 120, "REH", "SJP", age=50),
        _spell(9, "A", "K", "2024-03-01", None, "ARB", "SJP"),
        _spell(10, "B", "K", "2024-01-15", 300, "ARB", "AKA,FSB"),
        _spell(11, "B", "M", "2024-06-01", None, "ARB", "ING", age=60),
        _spell(12, "B", "M", "2024-09-12", 40, "FLY", "AKA,FSB"),
        _spell(13, "B", "K", "2024-12-01", None, "ARB", "SJP"),
    ]
    return populations.frame(rows)


def _published_with_proof(spells: pd.DataFrame, folder: Path
                          ) -> tuple[Published, disclosure.Protection]:
    """The plan published, and the proof of its last release: protected against the register
    as it was before it, as publishing it does (the same answer: the protection is
    deterministic)."""
    published = publish(spells, PLAN[:-1], folder)
    first, last, insats = PLAN[-1]
    mine = spells.loc[spells["insats"] == insats]
    sheets = tuple(st.sus_statistics(mine, quarter(first).start_time,
                                     quarter(last).end_time.normalize()))
    release = ln.Release(quarter(first).ordinal, quarter(last).ordinal, insats, sheets)
    protection = disclosure.protect(spells, release, published.register, MIN_CELL)
    published = publish(spells, PLAN[-1:], folder, published=published)
    labels = ["sheet", "table_name", "row_label", "column_label"]
    register = published.register
    again = protection.cells.set_index(labels)["shown"].astype(str)
    assert again.equals(register.loc[register["scope"] == insats].set_index(labels)["shown"]
                        .astype(str))
    return published, protection


def test_every_alternative_is_a_world_the_per_quarter_reader_accepts(tmp_path) -> None:
    spells = multi_category_register()
    published, protection = _published_with_proof(spells, tmp_path)
    audit = sus_audit.audit(published.folders)
    model, everyone = protection.model, frozenset(protection.model.insatser)
    releases = {(r.first, r.last, r.scope): r
                for r in disclosure.register_releases(published.register)}
    hidden = [key for key in audit.hidden() if key.table != sus_audit.GOALS]
    forms = []
    for key in hidden:
        first, last, insats = PLAN[key.release]
        release = releases[quarter(first).ordinal, quarter(last).ordinal, insats or ""]
        spec = next(spec for spec in ln.sheet_cells(key.sheet, release.first, release.last)
                    if (spec.sheet, spec.table, spec.row, spec.column)
                    == (key.sheet, key.table, key.row, key.column))
        forms.append((key, audit.cells[key],
                      model.functional(spec.what, release.insatser(spec.sheet, everyone))))
    assert sum(key.table == st.FORSORJNING for key, _, _ in forms) >= 4
    alternatives = protection.alternatives.T
    assert len(alternatives) > 5
    moved = set()
    for y in alternatives:
        # every hidden cell at the alternative's value, everything shown as published: the
        # attacker's own per-quarter model must still have a solution
        fixed = [(terms, float(y[atoms].sum()), float(y[atoms].sum()))
                 for _, terms, atoms in forms]
        assert audit._solve(np.zeros(audit.n), fixed) is not None
        moved |= {key.table for key, _, atoms in forms
                  if y[atoms].sum() != model.truth[atoms].sum()}
    # the proof moves the multi-category table, not only the others
    assert st.FORSORJNING in moved


def test_the_multi_category_small_counts_reach_zero_and_min_cell(tmp_path) -> None:
    # the Done-when where segment and quarter could differ: a hidden small count of men
    # with Ingen offentlig försörjning reaches both 0 and min_cell, quarter by quarter
    spells = multi_category_register()
    published = publish(spells, PLAN, tmp_path)
    audit, failures, attacked = attack(spells, published, MIN_CELL)
    assert failures == [] and attacked > 100
    assert not any(published.unprotected)
    small = []
    for key in audit.hidden():
        if key.table != st.FORSORJNING:
            continue
        truths = sus_audit.read_tables(published.internal[key.release]
                                       / "sus_statistik_intern.xlsx")[1]
        if 1 <= float(truths[key.sheet, key.table, key.row, key.column]) < MIN_CELL:
            small.append(key)
    men = [key for key in small if key.row == ING and key.column == "Män"]
    assert men and len(small) > len(men)
    for key in men[:3]:
        low, high = audit.interval(key, cap=MIN_CELL)
        assert low == 0 and high >= MIN_CELL, key


def _protect(spells: pd.DataFrame, time_limit: float = disclosure.DEFAULT_TIME_LIMIT):
    start, end = quarter("2024Q1").start_time, quarter("2024Q4").end_time.normalize()
    release = ln.Release(quarter("2024Q1").ordinal, quarter("2024Q4").ordinal, "",
                         tuple(st.sus_statistics(spells, start, end)))
    return disclosure.protect(spells, release, None, MIN_CELL, time_limit)


def test_solves_are_bounded_by_work_and_the_clock_is_only_the_safety_net(monkeypatch) -> None:
    spells = multi_category_register()
    seen = []
    real = disclosure.milp

    def recording(*args, **kwargs):
        seen.append(dict(kwargs["options"], integer=kwargs.get("integrality") is not None))
        return real(*args, **kwargs)

    monkeypatch.setattr(disclosure, "milp", recording)
    started = time.perf_counter()
    protection = _protect(spells, time_limit=600)
    elapsed = time.perf_counter() - started
    assert seen and protection.report["ej_skyddade"] == 0
    # no solve is cut by a clock of its own: each gets what is left of the release's limit
    assert min(options["time_limit"] for options in seen) >= 600 - elapsed
    assert all(options["node_limit"] == disclosure._NODE_LIMIT
               for options in seen if options["integer"])


def test_a_loaded_machine_gets_the_same_protection_or_none(monkeypatch) -> None:
    # a machine so loaded that every solve runs out of its time: before, each such solve counted
    # as "no alternative" and a different set of cells was published; now the release is refused
    spells = multi_category_register()
    idle = _protect(spells)
    real = disclosure.milp

    def loaded(*args, **kwargs):
        return real(*args, **{**kwargs, "options": {**kwargs["options"], "time_limit": 0.0}})

    monkeypatch.setattr(disclosure, "milp", loaded)
    with pytest.raises(disclosure.ProtectionTimeout, match="inget publicerades"):
        _protect(spells)
    monkeypatch.setattr(disclosure, "milp", real)
    assert _protect(spells).cells.equals(idle.cells)


@pytest.mark.parametrize("cut", [1, 5])
def test_a_solve_cut_short_midway_refuses_the_release(monkeypatch, cut: int) -> None:
    # the clock running out in the middle of a protection (the n-th solve) is never read as an
    # answer, whichever solve it hits
    spells = multi_category_register()
    real = disclosure.milp
    calls = []

    def loaded(*args, **kwargs):
        calls.append(1)
        if len(calls) == cut:
            # HiGHS stopped by the clock (scipy's status 1, no solution). A time limit of 0
            # alone no longer does it: with the atoms the visible cells hold left out, HiGHS's
            # presolve finishes small solves before it looks at the clock
            return SimpleNamespace(status=1, x=None)
        return real(*args, **kwargs)

    monkeypatch.setattr(disclosure, "milp", loaded)
    with pytest.raises(disclosure.ProtectionTimeout):
        _protect(spells)
