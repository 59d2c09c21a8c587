"""The attacker of the tests (tests/support/sus_audit.py) on published files whose answer is known
by hand: it must find what a reader can work out, or the other tests prove nothing."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from assets.sus import publish as pb
from assets.sus import statistics as st
from assets.sus.linked import QUARTERLY
from assets.sus.suppression import HIDDEN, render, render_quarterly
from tests.support import sus_audit

# one insats, 2024: five women and three men enrolled in Q1, one woman in Q4
ROWS = [("A", f"p{n}", None, False, False, kon, age, enrolled, None, None, "SJP", "1", None)
        for n, (kon, age, enrolled) in enumerate(
            [("K", 20, "2024-01-10")] * 5 + [("M", 35, "2024-02-01")] * 3
            + [("K", 45, "2024-11-02")])]


@pytest.fixture
def spells(make_spells) -> pd.DataFrame:
    return make_spells({f"s{n}": row for n, row in enumerate(ROWS)})


def release(spells: pd.DataFrame, first: str, last: str, folder: Path,
            hide: set[tuple[str, str, str, str]]) -> Path:
    """The period's files with exactly the cells ``hide`` hidden (no protection of its own)."""
    start = pd.Period(first, freq="Q").start_time.date()
    end = pd.Period(last, freq="Q").end_time.date()
    stats = st.sus_statistics(spells, start, end)
    tables = {sheet: render(sheet_tables, sheet, hide) for sheet, sheet_tables in stats.items()}
    quarterly = render_quarterly(st.quarterly_counts(spells, start, end), hide)
    pb.write_published_workbook(tables, folder / pb.PUBLISHED_FILE, period=(start, end))
    pb.write_html(tables, folder / pb.HTML_FILE, quarterly=quarterly, targets={}, names={},
                  period=(start, end))
    return folder


AGE = st.ALDER


def key(audit, release: int, sheet: str, table: str, row: str, column: str):
    return sus_audit.CellKey(release, sheet, table, row, column)


def test_reads_period_rule_tables_and_bars(spells, tmp_path) -> None:
    folder = release(spells, "2024Q1", "2024Q4", tmp_path, set())
    published = sus_audit.read_release(folder)
    assert (str(published.first), str(published.last), published.min_cell) == (
        "2024Q1", "2024Q4", 3)
    assert published.sheets == ["Alla insatser", "A"]
    assert published.cells["A", AGE, "16–29", "Kvinnor"] == 5
    assert published.bars["A", pd.Period("2024Q1", freq="Q"), "new"] == 8
    assert published.bars["A", pd.Period("2024Q4", freq="Q"), "new"] == 1


def test_a_cell_hidden_alone_is_its_row_total_less_the_rest(spells, tmp_path) -> None:
    hide = {(sheet, AGE, "16–29", "Kvinnor") for sheet in ("Alla insatser", "A")}
    audit = sus_audit.audit([release(spells, "2024Q1", "2024Q4", tmp_path, hide)])
    assert audit.interval(key(audit, 0, "A", AGE, "16–29", "Kvinnor")) == (5, 5)


def test_cells_hidden_in_a_square_move_together(spells, tmp_path) -> None:
    # 16-29 women 5, men 0; 30-39 women 0, men 3: the square can move by up to 3 (the men 30-39)
    cells = [("16–29", "Kvinnor"), ("16–29", "Män"), ("30–39", "Kvinnor"), ("30–39", "Män")]
    hide = {(sheet, AGE, row, column) for sheet in ("Alla insatser", "A") for row, column in cells}
    audit = sus_audit.audit([release(spells, "2024Q1", "2024Q4", tmp_path, hide)])
    assert audit.interval(key(audit, 0, "A", AGE, "16–29", "Kvinnor")) == (2, 5)
    assert audit.interval(key(audit, 0, "A", AGE, "30–39", "Män")) == (0, 3)
    failures = audit.check({key(audit, 0, "A", AGE, "30–39", "Män"): 3.0,
                            key(audit, 0, "A", AGE, "16–29", "Kvinnor"): 5.0}, 3)
    assert failures == []


def test_a_naive_protection_leaks_and_the_check_says_which_cell(spells, tmp_path) -> None:
    # a protection that hides only the small count (the Q4 woman, 40-49) leaks it through its
    # row and column totals; the square beside it moves (see above): one check of all of them
    # must name exactly the leaked cell, whatever witnesses it finds for the others at once
    cells = [("16–29", "Kvinnor"), ("16–29", "Män"), ("30–39", "Kvinnor"), ("30–39", "Män")]
    hide = {(sheet, AGE, row, column) for sheet in ("Alla insatser", "A")
            for row, column in [*cells, ("40–49", "Kvinnor")]}
    audit = sus_audit.audit([release(spells, "2024Q1", "2024Q4", tmp_path, hide)])
    leaked = key(audit, 0, "A", AGE, "40–49", "Kvinnor")
    truths = {leaked: 1.0, key(audit, 0, "A", AGE, "16–29", "Kvinnor"): 5.0,
              key(audit, 0, "A", AGE, "30–39", "Män"): 3.0,
              key(audit, 0, "A", AGE, "16–29", "Män"): 0.0}
    assert audit.interval(leaked) == (1, 1)
    failures = audit.check(truths, 3)
    assert [(failure[0], failure[1]) for failure in failures] == [(leaked, "0"), (leaked, ">=3")]


def test_overlapping_periods_give_the_quarter_between_them(spells, tmp_path) -> None:
    # the woman of Q4 is hidden in both releases' Q4 bars, yet Q1-Q4 less Q1-Q3 shows her
    hide = {(sheet, QUARTERLY, "2024Q4", "nyinskrivna") for sheet in ("Alla insatser", "A")}
    to_q3 = release(spells, "2024Q1", "2024Q3", tmp_path / "q3", hide)
    to_q4 = release(spells, "2024Q1", "2024Q4", tmp_path / "q4", hide)
    audit = sus_audit.audit([to_q3, to_q4])
    assert audit.derived_periods() == [(pd.Period("2024Q4", freq="Q"),) * 2]
    derived = audit.derived_cells()
    woman = sus_audit.CellKey(-1, "A", AGE, "40–49", "Kvinnor", ("2024Q4", "2024Q4"))
    assert audit.interval(woman) == (1, 1)
    failures = audit.check({woman: 1.0}, 3, derived)
    assert [(failure[0], failure[1]) for failure in failures] == [(woman, "0"), (woman, ">=3")]


def test_a_shown_share_gives_its_count_away(spells, tmp_path, make_spells) -> None:
    # three women ended in Q2: two to work, one moved; the work count hidden, the share shown
    ended = {f"e{n}": ("A", f"q{n}", None, False, False, "K", 30, "2023-06-01", "2024-05-01",
                       reason, "SJP", "1", None) for n, reason in enumerate(["ARB", "ARB", "FLY"])}
    both = make_spells({**{f"s{n}": row for n, row in enumerate(ROWS)}, **ended})
    work = "Arbete (även anställning med stöd)"
    hide = {(sheet, st.AVSLUT, kon, work) for sheet in ("Alla insatser", "A")
            for kon in ("Kvinna", "Totalt")}
    audit = sus_audit.audit([release(both, "2024Q1", "2024Q4", tmp_path, hide)])
    assert audit.shown[key(audit, 0, "A", st.AVSLUT, "Kvinna", work)] == HIDDEN
    assert audit.interval(key(audit, 0, "A", st.AVSLUT, "Kvinna", work)) == (2, 2)


def test_a_hidden_share_counts_as_its_ratio(spells, tmp_path, make_spells) -> None:
    # one man ended, to work; his count, the total and the share hidden, the other reasons 0:
    # every man who ended went to work, but the reader cannot tell whether any did (the share
    # may as well be missing), so the hidden share can be something else
    man = {"m": ("A", "m", None, False, False, "M", 30, "2023-06-01", "2024-05-01", "ARB", "SJP",
                 "1", None)}
    both = make_spells({**{f"s{n}": row for n, row in enumerate(ROWS)}, **man})
    work = "Arbete (även anställning med stöd)"
    hide = {(sheet, table, row, column) for sheet in ("Alla insatser", "A")
            for table, row, column in [(st.AVSLUT, "Man", work), (st.AVSLUT, "Man", st.TOTAL),
                                       (st.AVSLUT, st.TOTAL, work),
                                       (st.AVSLUT, st.TOTAL, st.TOTAL),
                                       (st.MAL, st.GOAL, "Män"), (st.MAL, st.GOAL, st.TOTAL)]}
    hide |= {(sheet, st.TID_INSATS, "Upp till 12 mån", column) for sheet in ("Alla insatser", "A")
             for column in ("Män", st.TOTAL)}
    hide |= {(sheet, st.OVERVIEW, row, st.COUNT) for sheet in ("Alla insatser", "A")
             for row in (st.ENDED, st.AT_START, st.AT_END)}
    # his försörjning before and after (none recorded here) counts him too
    hide |= {(sheet, table, row, column) for sheet in ("Alla insatser", "A")
             for table, row in [(st.FORSORJNING_FORE, "Sjukpenning (inkl. rehabiliteringspenning)"),
                                (st.FORSORJNING_EFTER, st.MISSING)]
             for column in ("Män", st.TOTAL)}
    audit = sus_audit.audit([release(both, "2024Q1", "2024Q4", tmp_path, hide)])
    share = key(audit, 0, "A", st.MAL, st.GOAL, "Män")
    assert audit.shown[share] == HIDDEN
    failures = audit.check({share: (1.0, 1.0)}, 3)
    assert failures == []
    assert audit.interval(key(audit, 0, "A", st.AVSLUT, "Man", work))[0] == 0
