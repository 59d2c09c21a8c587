"""The benchmark's anchor (a second, independent polars implementation of the essential ingestion)
must produce exactly finsam's tables, or its figures say nothing about finsam's overhead. Small
generated data (one förbund, two years) so the test stays fast; speed is never asserted."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from benchmarks import anchor
from benchmarks.run import ANCHOR_SOURCES, _anchor_markdown, anchor_round


@pytest.fixture(scope="module")
def round_(tmp_path_factory):
    return anchor_round(tmp_path_factory.mktemp("anchor"), scale=0.002, years=2, seed=5)


def test_anchor_tables_equal_finsams(round_):
    sqlite = round_["backends"]["sqlite"]
    equal = sqlite["equal_rows"]
    assert set(equal) == set(anchor.COLUMNS)
    # every table has rows, so the equality says something
    assert all(rows > 0 for rows in equal.values())
    assert sqlite["anchor"]["rows"] == equal
    assert set(ANCHOR_SOURCES) == {"samtycke", *anchor.PARTNERS}


def test_report_has_every_stage_and_the_ratio(round_):
    text = _anchor_markdown(round_)
    assert "finsam / anchor" in text and "tables equal" in text
    for stage in ("read", "normalise + pseudonymise", "consent", "load", "total"):
        assert stage in text


@pytest.mark.parametrize("table, change", [
    ("soc_payment", "UPDATE soc_payment SET belopp = belopp + 1 WHERE id = 1"),
    ("consent", "DELETE FROM consent WHERE id = 1"),
    ("fk_benefit", "UPDATE fk_benefit SET version = version || 'x' WHERE id = 1"),
    ("hsf_contact", "UPDATE hsf_contact SET row_number = row_number + 1 WHERE id = 1"),
])
def test_comparison_catches_a_changed_value_or_lost_row(tmp_path, round_, table, change):
    """An attacker's (or a bug's) single changed amount, lineage value or lost row fails the
    comparison: it is no rubber stamp."""
    import shutil

    runs = Path(round_["workdir"]) / "sqlite"
    copy = tmp_path / "anchor.db"
    shutil.copy(runs / "anchor_anchor.db", copy)
    with sqlite3.connect(copy) as connection:
        connection.execute(change)
    with pytest.raises(AssertionError, match=table):
        anchor.compare(f"sqlite:///{runs / 'anchor_finsam.db'}", f"sqlite:///{copy}")


def test_century_rule_follows_the_extraction_year():
    """A 10-digit number's century comes from the separator and the *extraction* date, not today:
    the anchor must read ``YYMMDD-NNNN`` as the same person as finsam does, or nothing is equal."""
    import polars as pl

    from finsam.reference import test_personnummer

    long_form = next(number for number in test_personnummer()
                     if number.startswith("19") and number[2:4] > "30")
    short = long_form[2:8] + "-" + long_form[8:]
    frame = pl.DataFrame({"nummer": [long_form, short],
                          "extraction_date": [date(2024, 1, 1), date(2024, 1, 1)]})
    out = anchor.normalised(frame, "nummer", b"k" * 32)
    assert out["pnr"].to_list() == [long_form, long_form]
    assert out["pseudonym"].n_unique() == 1


def test_late_deliveries_in_a_second_run_still_equal_the_anchor(tmp_path):
    """Deliveries arriving late, in a later run (the newest consent register and the newest
    partner files held back, then delivered): finsam's two runs must end where the anchor's one
    pass over everything does — newest wins and the consent rule do not depend on arrival."""
    import shutil

    from benchmarks.run import _anchor_one, _finsam_one
    from benchmarks.scale_generator import generate_national

    generate_national(tmp_path / "landing", scale=0.002, seed=7, forbund=1, years=2)
    landing = tmp_path / "landing" / "sf01"
    late = tmp_path / "late"
    for source in ANCHOR_SOURCES:
        files = sorted((landing / source).glob("*"))
        (late / source).mkdir(parents=True)
        for path in files[len(files) // 2:]:
            shutil.move(path, late / source / path.name)
    finsam_url = f"sqlite:///{tmp_path / 'finsam.db'}"
    work = tmp_path / "work"
    _finsam_one((str(landing), finsam_url, str(work), False, ANCHOR_SOURCES))
    for source in ANCHOR_SOURCES:
        for path in (late / source).iterdir():
            shutil.move(path, landing / source / path.name)
    _finsam_one((str(landing), finsam_url, str(work), False, ANCHOR_SOURCES))
    anchor_url = f"sqlite:///{tmp_path / 'anchor.db'}"
    _anchor_one((str(landing), anchor_url, str(work)))
    equal = anchor.compare(finsam_url, anchor_url)
    assert all(rows > 0 for rows in equal.values())
