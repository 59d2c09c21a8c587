"""The workbooks and the board's page."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from markupsafe import escape
from openpyxl import load_workbook

from assets.sus import publish as pb
from assets.sus import statistics as st
from assets.sus import suppression as sp

H = sp.HIDDEN
PERIOD = (date(2024, 1, 1), date(2024, 6, 30))


@pytest.fixture
def stats(spells: pd.DataFrame, period) -> dict[str, dict[str, pd.DataFrame]]:
    return st.sus_statistics(spells, *period)


@pytest.fixture
def release(spells: pd.DataFrame, stats, period) -> sp.ProtectedRelease:
    return sp.protect_release(spells, stats, st.quarterly_counts(spells, *period), *PERIOD)


def table_at(sheet, title: str) -> dict[str, list[object]]:
    """The table under the title row ``title``: row label -> the row's values."""
    rows = list(sheet.iter_rows(values_only=True))
    start = next(i for i, row in enumerate(rows) if row[0] == title)
    header = [value for value in rows[start + 1][1:] if value is not None]
    body = {}
    for row in rows[start + 2:]:
        if row[0] is None:
            break
        body[row[0]] = list(row[1:1 + len(header)])
    return {"": header, **body}


def test_internal_workbook_has_every_count(stats, tmp_path: Path) -> None:
    path = pb.write_internal_workbook(stats, tmp_path / pb.INTERNAL_FILE, period=PERIOD)
    book = load_workbook(path)
    assert book.sheetnames == ["Alla insatser", "A", "B"]
    overview = table_at(book["B"], st.OVERVIEW)
    assert overview[""] == ["Antal"]
    assert overview["Nyinskrivna"] == [1]
    mal = table_at(book["A"], st.MAL)
    assert mal[st.GOAL] == pytest.approx([2 / 3, 1 / 3, 0.5])
    assert book["A"].cell(1, 1).value == "SUS-statistik – A, 1 januari 2024 – 30 juni 2024"
    for name in st.TABLE_NAMES:
        assert table_at(book["Alla insatser"], name)


def test_internal_workbook_is_private(stats, tmp_path: Path) -> None:
    path = pb.write_internal_workbook(stats, tmp_path / pb.INTERNAL_FILE, period=PERIOD)
    assert path.stat().st_mode & 0o777 == 0o600
    assert not list(tmp_path.glob(".*.tmp"))


def test_published_workbook_is_protected_and_explained(release, tmp_path: Path) -> None:
    path = pb.write_published_workbook(release.tables, tmp_path / pb.PUBLISHED_FILE,
                                       period=PERIOD)
    book = load_workbook(path)
    assert book.sheetnames == ["Alla insatser", "A", "B", "Om statistiken"]
    for sheet in ("Alla insatser", "A", "B"):
        for name in st.TABLE_NAMES:
            written = table_at(book[sheet], name)
            expected = release.tables[sheet][name]
            for label in expected.index:
                want = [None if isinstance(v, float) and np.isnan(v) else v
                        for v in expected.loc[label].tolist()]
                assert written[label] == pytest.approx(want), (sheet, name, label)
    assert table_at(book["B"], st.OVERVIEW)["Nyinskrivna"] == [H]
    about = "\n".join(str(row[0]) for row in book["Om statistiken"].iter_rows(values_only=True))
    assert sp.rule_text(3) in about and st.COUNTING_RULES[0] in about
    assert "1 januari 2024 – 30 juni 2024" in about


def test_published_workbook_min_cell(release, tmp_path: Path) -> None:
    path = pb.write_published_workbook(release.tables, tmp_path / "x.xlsx", min_cell=5)
    about = [row[0] for row in load_workbook(path)["Om statistiken"].iter_rows(values_only=True)]
    assert sp.rule_text(5) in about


def test_page_is_self_contained_swedish_with_charts_and_protected_tables(
        release, tmp_path: Path) -> None:
    path = pb.write_html(release.tables, tmp_path / pb.HTML_FILE, quarterly=release.quarterly,
                         targets={"A": 0.4}, names={"A": "Arbetsvägen", "B": "Unga vuxna"},
                         period=PERIOD)
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="sv">' in page
    assert "1 januari 2024 – 30 juni 2024" in page
    # the goal chart, and per sheet a quarterly and a försörjning chart, drawn in the page
    assert page.count('<svg class="diagram"') == page.count('role="img"') == 1 + 2 * 3
    assert "<img" not in page and "<script" not in page
    assert not re.search(r'(src|href)="https?:', page)
    # every chart names itself by a title of its own
    names = re.findall(r'aria-labelledby="([^"]+)"', page)
    assert len(set(names)) == len(names) and all(f'<title id="{name}">' in page for name in names)
    for heading in ("Alla insatser", "Arbetsvägen", "Unga vuxna", st.MAL, st.FORSORJNING):
        assert heading in page
    # the template escapes the rule's quotes (markupsafe writes them as &#34;)
    assert str(escape(sp.rule_text(3))) in page
    # B's one new spell shows as ".." in its overview; a zero shows as 0
    assert '<a href="#avsnitt-alla-insatser">Alla insatser</a>' in page
    section = page[page.index('<section id="avsnitt-b">'):]
    section = section[:section.index("</section>")]
    assert re.search(r"<th>Nyinskrivna</th>\s*<td>\.\.</td>", section)
    assert re.search(r"<th>Mer än 24 mån</th>\s*<td>0</td>", section)


def test_charts_use_only_published_numbers(release) -> None:
    quarterly = release.quarterly
    for sheet, tables in release.tables.items():
        chart = pb.quarterly_chart_data(quarterly, sheet)
        shown = quarterly.loc[quarterly["insats"] == sheet].set_index("kvartal")[chart.columns]
        assert_same_published(chart, shown)
        chart = pb.forsorjning_chart_data(tables[st.FORSORJNING])
        assert_same_published(chart, tables[st.FORSORJNING][chart.columns])
    # B's only new spell is hidden: no bar for it
    assert np.isnan(pb.quarterly_chart_data(quarterly, "B").at["2024Q2", "nyinskrivna"])


def test_a_quarter_the_overview_hides_has_no_bar(release) -> None:
    # B enrolled one spell, in 2024Q2: the bar of that quarter is the overview's Nyinskrivna
    quarterly = release.quarterly.set_index(["insats", "kvartal"])
    assert release.tables["B"][st.OVERVIEW].at[st.NEW, "Antal"] == H
    assert quarterly.at[("B", "2024Q2"), "nyinskrivna"] == H
    assert quarterly.at[("B", "2024Q1"), "nyinskrivna"] == 0


def test_a_hidden_count_is_drawn_as_hidden(release, tmp_path: Path) -> None:
    path = pb.write_html(release.tables, tmp_path / pb.HTML_FILE, quarterly=release.quarterly,
                         targets={}, names={})
    page = path.read_text(encoding="utf-8")
    section = page[page.index('<section id="avsnitt-b">'):]
    chart = section[:section.index("</svg>")]
    # B's only new spell (2024Q2) is hidden: no bar with its number, ".." at its foot
    assert "2024 kv 2, Nyinskrivna:" not in chart and f">{H}</text>" in chart
    assert page == pb.write_html(release.tables, tmp_path / "again.html",
                                 quarterly=release.quarterly, targets={},
                                 names={}).read_text(encoding="utf-8")


def test_an_insats_name_is_escaped_on_the_page(release, tmp_path: Path) -> None:
    path = pb.write_html(release.tables, tmp_path / pb.HTML_FILE, quarterly=release.quarterly,
                         targets={"A": 0.4}, names={"A": "<script>alert(1)</script>"},
                         period=PERIOD)
    page = path.read_text(encoding="utf-8")
    assert "<script" not in page
    # in the link, the section heading and the charts' titles alike
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3
    assert '<h2>&lt;script&gt;alert(1)&lt;/script&gt;</h2>' in page


def assert_same_published(chart: pd.DataFrame, shown: pd.DataFrame) -> None:
    hidden = shown.eq(H)
    assert chart.isna().equals(hidden), "a hidden count must be missing from the chart"
    assert (chart[~hidden].fillna(0) == shown[~hidden].fillna(0).astype(float)).all().all()


def test_goal_chart_compares_published_share_with_target(release) -> None:
    protected = release.tables
    data = pb.goal_chart_data(protected, {"A": 0.4}, {"A": "Arbetsvägen"})
    assert list(data.index) == ["Arbetsvägen", "B"]
    share = protected["A"][st.MAL].at[st.GOAL, "Totalt"]
    assert bool(data.at["Arbetsvägen", "dold"]) == (share == H)
    if share != H:
        assert data.at["Arbetsvägen", "andel"] == pytest.approx(share)
    assert data.at["Arbetsvägen", "mal"] == 0.4 and np.isnan(data.at["B", "mal"])
    # B has nobody ended: no share, and nothing hidden either
    assert np.isnan(data.at["B", "andel"]) and not data.at["B", "dold"]


def test_a_hidden_goal_share_draws_no_bar(release) -> None:
    protected = release.tables
    protected["A"][st.MAL] = protected["A"][st.MAL].astype(object)
    protected["A"][st.MAL].at[st.GOAL, "Totalt"] = H
    data = pb.goal_chart_data(protected, {}, {})
    assert np.isnan(data.at["A", "andel"]) and data.at["A", "dold"]


def test_page_title_falls_back_to_the_quarters() -> None:
    quarterly = pd.DataFrame({"insats": ["A", "A"], "kvartal": ["2024Q1", "2024Q2"],
                              "nyinskrivna": [0, 0], "utskrivna": [0, 0]})
    assert pb._quarter_span(quarterly) == "2024Q1–2024Q2"
    assert pb.period_text(PERIOD) == "1 januari 2024 – 30 juni 2024"
