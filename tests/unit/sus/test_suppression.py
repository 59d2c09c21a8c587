"""Small-cell protection: examples, and a proof by linear programming that no hidden cell can be
worked out from the published sums."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as hs
from scipy.optimize import linprog

from assets.sus import statistics as st
from assets.sus import suppression as sp
from finsam import reference

H = sp.HIDDEN
Key = tuple[str, str]
Equation = tuple[dict[Key, float], float]


# --- the LP check ----------------------------------------------------------------------------

def lp_bound(keys: list[Key], equations: list[Equation], known: dict[Key, float],
             target: Key, sense: int) -> float:
    """The smallest (sense 1) or largest (sense -1) value ``target`` can take: cells >= 0, the
    equations hold, the ``known`` cells have their values (the integer-free relaxation)."""
    index = {key: i for i, key in enumerate(keys)}
    matrix = np.zeros((len(equations), len(keys)))
    for row, (coefficients, _) in enumerate(equations):
        for key, coefficient in coefficients.items():
            matrix[row, index[key]] = coefficient
    rhs = np.array([constant for _, constant in equations])
    bounds = [(known[key], known[key]) if key in known else (0, None) for key in keys]
    objective = np.zeros(len(keys))
    objective[index[target]] = sense
    result = linprog(objective, A_eq=matrix, b_eq=rhs, bounds=bounds, method="highs")
    assert result.status in (0, 3), result.message
    return sense * result.fun if result.status == 0 else -sense * math.inf


def derivable_cells(raw: dict[Key, int], shown: dict[Key, object],
                    equations: list[Equation]) -> set[Key]:
    """Hidden cells whose LP minimum equals their LP maximum. The true table is feasible, so a
    maximum above the true value already proves the cell open (and saves the second LP)."""
    keys = list(raw)
    known = {key: float(raw[key]) for key in keys if shown[key] != H}
    hidden = [key for key in keys if shown[key] == H]
    pinned = [key for key in hidden
              if lp_bound(keys, equations, known, key, -1) - raw[key] < 1e-6]
    return {key for key in pinned if raw[key] - lp_bound(keys, equations, known, key, 1) < 1e-6}


def inherently_derivable(raw: dict[Key, int], equations: list[Equation],
                         fixed: Iterable[Key] = ()) -> set[Key]:
    """Cells the published sums give away even when every other cell is hidden."""
    shown = {key: (raw[key] if key in set(fixed) else H) for key in raw}
    return derivable_cells(raw, shown, equations)


def cells(table: pd.DataFrame) -> dict[Key, object]:
    return dict(table.stack().items())


def two_way_equations(table: pd.DataFrame, total_row: bool) -> list[Equation]:
    """Rows add up to Totalt; columns add up to the Totalt row, or to published sums."""
    inner_rows = [row for row in table.index if row != "Totalt"]
    inner_columns = [column for column in table.columns if column != "Totalt"]
    equations: list[Equation] = [
        ({**{(row, column): 1.0 for column in inner_columns}, (row, "Totalt"): -1.0}, 0.0)
        for row in table.index]
    for column in table.columns:
        parts = {(row, column): 1.0 for row in inner_rows}
        if total_row:
            equations.append(({**parts, ("Totalt", column): -1.0}, 0.0))
        else:
            equations.append((parts, float(table[column].sum())))
    return equations


def overview_equations(overview: pd.DataFrame) -> list[Equation]:
    value = overview["Antal"]
    flow = {(st.AT_START, "Antal"): 1.0, (st.NEW, "Antal"): 1.0, (st.ENDED, "Antal"): -1.0,
            (st.AT_END, "Antal"): -1.0}
    # the enrolments the other tables count (their column sums) are published
    known_enrolled = float(value[st.NEW] - value[st.NEW_ANONYMOUS])
    new = {(st.NEW, "Antal"): 1.0, (st.NEW_ANONYMOUS, "Antal"): -1.0}
    return [(flow, 0.0), (new, known_enrolled)]


def avslut_equations(avslut: pd.DataFrame, counts: pd.DataFrame) -> list[Equation]:
    codes = [column for column in avslut.columns if column != "Totalt"]
    equations: list[Equation] = [
        ({**{(row, code): 1.0 for code in codes}, (row, "Totalt"): -1.0}, 0.0)
        for row in avslut.index]
    equations += [({("Kvinna", column): 1.0, ("Man", column): 1.0, ("Totalt", column): -1.0}, 0.0)
                  for column in avslut.columns]
    plural = dict(zip(avslut.index, counts.columns))
    for group, labels in st.goal_groups().items():
        equations += [({**{(row, label): 1.0 for label in labels}, (group, plural[row]): -1.0}, 0.0)
                      for row in avslut.index]
    return equations


# --- examples --------------------------------------------------------------------------------

def kon_table(rows: dict[str, tuple[int, int]]) -> pd.DataFrame:
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["Kvinnor", "Män"])
    table["Totalt"] = table.sum(axis=1)
    return table


def test_small_counts_hidden_with_a_partner_in_row_and_column() -> None:
    table = kon_table({"a": (2, 4), "b": (5, 6), "c": (7, 0)})
    shown = sp.protect(table)
    assert shown.to_dict("index") == {"a": {"Kvinnor": H, "Män": H, "Totalt": 6},
                                      "b": {"Kvinnor": H, "Män": H, "Totalt": 11},
                                      "c": {"Kvinnor": 7, "Män": 0, "Totalt": 7}}
    assert shown.dtypes.eq(object).all()
    assert not derivable_cells(cells(table), cells(shown), two_way_equations(table, False))


def test_nothing_small_nothing_hidden_and_zero_shows_as_zero() -> None:
    table = kon_table({"a": (0, 4), "b": (5, 0)})
    assert sp.protect(table).to_dict("index") == table.to_dict("index")


def test_min_cell_is_configurable() -> None:
    table = kon_table({"a": (4, 9), "b": (5, 6), "c": (7, 8)})
    assert not sp.protect(table).eq(H).any().any()
    shown = sp.protect(table, min_cell=5)
    assert shown.at["a", "Kvinnor"] == H and shown.eq(H).sum().sum() >= 4


def test_a_small_total_is_hidden_and_zeros_help_when_nothing_else_can() -> None:
    # the only woman: her row's total and the column sum would give her away
    table = kon_table({"a": (1, 0), "b": (0, 0), "c": (0, 0)})
    shown = sp.protect(table)
    assert shown.at["a", "Kvinnor"] == H and shown.at["a", "Totalt"] == H
    assert not derivable_cells(cells(table), cells(shown), two_way_equations(table, False))


def test_overview_hides_small_flows_with_a_partner() -> None:
    overview = pd.DataFrame({"Antal": [10, 2, 0, 3, 9, 12]}, index=list(st.OVERVIEW_ROWS))
    shown = sp.protect_overview(overview)["Antal"]
    # nyinskrivna 2 hidden; anonyma with it (the other tables publish nyinskrivna - anonyma);
    # utskrivna, the smallest other flow, so början + nya - utskrivna = slut cannot give it
    assert shown.tolist() == [10, H, H, H, 9, 12]
    assert not derivable_cells(cells(overview), cells(sp.protect_overview(overview)),
                               overview_equations(overview))


def test_overview_unique_persons_stands_alone() -> None:
    overview = pd.DataFrame({"Antal": [10, 5, 0, 5, 10, 2]}, index=list(st.OVERVIEW_ROWS))
    assert sp.protect_overview(overview)["Antal"].tolist() == [10, 5, 0, 5, 10, H]


def avslut_table(women: dict[str, int], men: dict[str, int]) -> pd.DataFrame:
    names = reference.labels("avslutsanledning")
    labels = [names[code] for code in st.counted_exit_codes()]
    table = pd.DataFrame([[women.get(code, 0) for code in st.counted_exit_codes()],
                          [men.get(code, 0) for code in st.counted_exit_codes()]],
                         index=["Kvinna", "Man"], columns=labels)
    table.loc["Totalt"] = table.sum(axis=0)
    table["Totalt"] = table.sum(axis=1)
    return table


def test_shares_from_hidden_counts_are_hidden() -> None:
    avslut = avslut_table({"ARB": 5, "STU": 4, "SJK": 1, "AVB": 6},
                          {"ARB": 8, "REH": 3, "SJK": 4, "FLY": 5})
    shown, counts = sp.protect_avslut(avslut)
    names = reference.labels("avslutsanledning")
    assert shown.at["Kvinna", names["SJK"]] == H
    shares = st._mal(avslut)
    protected = sp._goal_shares(shares, counts, shown)
    # the women's Sjukdom share is 1 / 16: hidden, and so is what would give it away
    assert protected.at[st.SICKNESS, "Kvinnor"] == H
    visible = protected.ne(H)
    assert (protected[visible].fillna(-1) == shares[visible].fillna(-1)).all().all()
    raw = {**cells(avslut), **cells(st.goal_counts(avslut))}
    assert not derivable_cells(raw, {**cells(shown), **cells(counts)},
                               avslut_equations(avslut, st.goal_counts(avslut)))


def test_protect_shares_follows_the_counts() -> None:
    shares = pd.DataFrame({"Kvinnor": [0.5, 0.5], "Män": [float("nan"), float("nan")]})
    counts = pd.DataFrame({"Kvinnor": [H, 4], "Män": [0, 0]}, dtype=object)
    shown = sp.protect_shares(shares, counts)
    assert shown.at[0, "Kvinnor"] == H and shown.at[1, "Kvinnor"] == 0.5
    assert math.isnan(shown.at[0, "Män"])


def tables_with(overview: list[int]) -> dict[str, pd.DataFrame]:
    """A sheet with the given overview and nothing in the other tables."""
    empty = {name: kon_table({label: (0, 0) for label in labels}) for name, labels in (
        (st.FORSORJNING, list(reference.labels("forsorjning").values())),
        (st.TID_OFFENTLIG, list(reference.labels("tid_offentlig_forsorjning").values())),
        (st.ALDER, ["16–29", "30–39", "40–49", "50–64", "Utanför 16–64"]),
        (st.TID_INSATS, ["Upp till 12 mån", "13–18 mån", "19–24 mån", "Mer än 24 mån"]))}
    avslut = avslut_table({}, {})
    tables = {**empty, st.AVSLUT: avslut, st.MAL: st._mal(avslut),
              st.OVERVIEW: pd.DataFrame({"Antal": overview}, index=list(st.OVERVIEW_ROWS))}
    return {name: tables[name] for name in st.TABLE_NAMES}


def test_a_hidden_insats_cell_is_not_the_difference_from_all_insatser() -> None:
    small = tables_with([0, 2, 0, 0, 2, 2])
    large = tables_with([30, 20, 0, 20, 30, 45])
    total = tables_with([30, 22, 0, 20, 32, 47])
    shown = sp.protect_statistics({"Alla insatser": total, "A": large, "B": small})
    hidden = {sheet: shown[sheet][st.OVERVIEW]["Antal"].eq(H) for sheet in shown}
    assert hidden["B"][st.NEW]
    positions = pd.DataFrame(hidden).drop(index=st.PERSONS).sum(axis=1)
    assert not positions.eq(1).any()
    # the smallest visible flow among the others goes with it (A's 20 before the total's 22)
    assert hidden["A"][st.NEW] and not hidden["Alla insatser"][st.NEW]


def test_one_insats_protects_like_all_insatser(spells: pd.DataFrame, period) -> None:
    stats = st.sus_statistics(spells.loc[spells["insats"] == "A"], *period)
    shown = sp.protect_statistics(stats)
    for name in st.TABLE_NAMES:
        assert shown["A"][name].astype(str).equals(shown["Alla insatser"][name].astype(str))


def test_protected_statistics_have_the_same_shape(spells: pd.DataFrame, period) -> None:
    stats = st.sus_statistics(spells, *period)
    shown = sp.protect_statistics(stats)
    for sheet, tables in stats.items():
        for name, table in tables.items():
            assert shown[sheet][name].index.equals(table.index)
            assert shown[sheet][name].columns.equals(table.columns)
            visible = shown[sheet][name].ne(H)
            assert (shown[sheet][name][visible].fillna(-1) == table[visible].fillna(-1)).all().all()
    # B has one new spell: every cell that shows it is hidden
    assert shown["B"][st.OVERVIEW].at[st.NEW, "Antal"] == H


def test_quarterly_hides_what_the_overview_hides(spells: pd.DataFrame, period) -> None:
    stats = st.sus_statistics(spells, *period)
    shown = sp.protect_statistics(stats)
    quarterly = sp.protect_quarterly(st.quarterly_counts(spells, *period), shown)
    wide = quarterly.set_index(["insats", "kvartal"])
    assert set(wide.index.get_level_values("insats")) == {"A", "B", "Alla insatser"}
    assert wide.at[("B", "2024Q2"), "nyinskrivna"] == H
    assert wide.at[("B", "2024Q1"), "nyinskrivna"] == 0
    for column in ("nyinskrivna", "utskrivna"):
        table = wide[column].unstack("insats")
        raw = st.quarterly_counts(spells, *period).pivot(
            index="kvartal", columns="insats", values=column)
        raw["Alla insatser"] = raw.sum(axis=1)
        raw = raw.reindex_like(table)
        visible = table.ne(H)
        assert (table[visible].fillna(-1) == raw[visible].fillna(-1)).all().all()


def test_the_docstring_states_the_swedish_rule() -> None:
    text = " ".join(sp.rule_text(3).split())
    assert text in " ".join((sp.__doc__ or "").split())


# --- properties: no hidden cell can be worked out -------------------------------------------

# Mostly zeros and small counts, as in a small insats's tables: zeros are where a wrong direction
# in the graph would show.
small_counts = hs.sampled_from([0, 0, 0, 0, 1, 2, 3, 4, 6, 11])


@hs.composite
def kon_tables(draw) -> tuple[pd.DataFrame, bool]:
    rows = draw(hs.integers(min_value=1, max_value=8))
    values = {f"r{i}": (draw(small_counts), draw(small_counts)) for i in range(rows)}
    table = kon_table(values)
    total_row = draw(hs.booleans())
    if total_row:
        table.loc["Totalt"] = table.sum(axis=0)
    return table, total_row


@settings(max_examples=100, deadline=None)
@given(kon_tables(), hs.sampled_from([2, 3, 4]))
# a row of zeros next to a small count: the zeros' one-way edges decide
@example((kon_table({"r0": (0, 0), "r1": (4, 2)}), False), 3)
@example((kon_table({"r0": (1, 0), "r1": (0, 0), "r2": (0, 0)}), False), 3)
def test_no_hidden_cell_of_a_two_way_table_can_be_derived(drawn, min_cell: int) -> None:
    table, total_row = drawn
    shown = sp.protect(table, min_cell=min_cell)
    raw, published = cells(table), cells(shown)
    equations = two_way_equations(table, total_row)
    small = {key for key, value in raw.items() if 1 <= value < min_cell}
    assert small <= {key for key, value in published.items() if value == H}
    assert all(published[key] == raw[key] for key in raw if published[key] != H)
    leaks = derivable_cells(raw, published, equations)
    assert not leaks or leaks <= inherently_derivable(raw, equations)


@settings(max_examples=100, deadline=None)
@given(hs.lists(small_counts, min_size=6, max_size=6))
def test_no_hidden_cell_of_the_overview_can_be_derived(values: list[int]) -> None:
    start, new, anonymous, ended, _, persons = values
    anonymous = min(anonymous, new)
    ended = min(ended, start + new)
    overview = pd.DataFrame({"Antal": [start, new, anonymous, ended, start + new - ended, persons]},
                            index=list(st.OVERVIEW_ROWS))
    shown = sp.protect_overview(overview)
    raw, published = cells(overview), cells(shown)
    equations = overview_equations(overview)
    leaks = derivable_cells(raw, published, equations)
    assert not leaks or leaks <= inherently_derivable(raw, equations)
    assert all(published[key] == H for key, value in raw.items() if 1 <= value < 3)


exit_codes = st.counted_exit_codes()


@settings(max_examples=100, deadline=None)
@given(hs.lists(small_counts, min_size=2 * len(exit_codes), max_size=2 * len(exit_codes)))
def test_no_hidden_exit_or_goal_count_can_be_derived(values: list[int]) -> None:
    avslut = avslut_table(dict(zip(exit_codes, values[:len(exit_codes)])),
                          dict(zip(exit_codes, values[len(exit_codes):])))
    counts = st.goal_counts(avslut)
    shown, counts_shown = sp.protect_avslut(avslut)
    raw = {**cells(avslut), **cells(counts)}
    published = {**cells(shown), **cells(counts_shown)}
    equations = avslut_equations(avslut, counts)
    # the Totalt column is Tid i insatsen's column sums: published there
    fixed = [(row, "Totalt") for row in avslut.index if not 1 <= avslut.at[row, "Totalt"] < 3]
    leaks = derivable_cells(raw, published, equations)
    assert not leaks or leaks <= inherently_derivable(raw, equations, fixed)
    assert all(published[key] == H for key, value in raw.items() if 1 <= value < 3)


@pytest.mark.parametrize("min_cell", [3, 5])
def test_real_statistics_leave_no_hidden_cell_derivable(spells: pd.DataFrame, period,
                                                        min_cell: int) -> None:
    stats = st.sus_statistics(spells, *period)
    shown = sp.protect_statistics(stats, min_cell=min_cell)
    for sheet, tables in stats.items():
        for name in (st.FORSORJNING, st.TID_OFFENTLIG, st.ALDER, st.TID_INSATS):
            raw, published = cells(tables[name]), cells(shown[sheet][name])
            equations = two_way_equations(tables[name], False)
            leaks = derivable_cells(raw, published, equations)
            assert not leaks or leaks <= inherently_derivable(raw, equations)
