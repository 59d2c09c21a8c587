"""The attacker (tests/support/sus_audit.py, which reads only published files) on the demo's
releases: the statistics `finsam demo` published (in every run of the suite), then a year a
coordinator may ask for after it, protected against the demo's release register (when asked for).
Together no hidden count, and no small count of a period a reader gets by subtracting releases, can
be pinned; a reader of fewer releases knows less, so each release alone is covered too."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine

from assets.sus import register
from assets.sus.disclosure import REGISTER_COLUMNS
from assets.sus.warehouse_frames import read_catalogue, read_counted_spells
from tests.support import sus_audit
from tests.support.releases import Published, attack, publish


def _demos_releases(demo: Path) -> tuple[pd.DataFrame, Published, str, pd.DataFrame]:
    """The spells as the asset counts them (anonymous decided with the consents), every release
    the demo's runs published (its range, the signed quarter, the quarters after its data where
    registers reach into them) with the register, the last quarter of the range, the catalogue."""
    engine = create_engine(f"sqlite:///{demo / 'warehouse.db'}")
    with engine.connect() as connection:
        spells = read_counted_spells(connection)
        recorded = register.read(connection)
        folders = sorted((demo / "out" / "sus").glob("*_*"))
        assert folders and len(recorded) > 0
        periods = {folder: folder.name.split("_")[:2] for folder in folders}
        widest = min(folders, key=lambda folder: (periods[folder][0], -pd.Period(
            periods[folder][1], freq="Q").ordinal))
        last = periods[widest][1]
        catalogue = read_catalogue(connection, pd.Period(last, freq="Q").year)
    engine.dispose()
    published = Published(folders=list(folders),
                          internal=[demo / "out" / "begransad" / "sus_statistik" / folder.name
                                    for folder in folders],
                          register=recorded[list(REGISTER_COLUMNS)])
    return spells, published, last, catalogue


def test_the_releases_the_demo_published_withstand_the_attack(demo) -> None:
    # what a user of `finsam demo` has published, together: the quarter signed and the range
    # give the range less that quarter by subtraction
    spells, published, _, _ = _demos_releases(demo)
    audit, failures, attacked = attack(spells, published)
    print(f"demo: {len(published.folders)} releases, {attacked} cells attacked, "
          f"{len(failures)} pinned; derived periods {audit.derived_periods()}")
    assert audit.derived_periods()
    assert attacked > 500
    assert failures == []


# A protection against the demo's register and an attack on all four releases: about fifteen
# minutes on one core, so only when asked for (like the scale benchmarks).
@pytest.mark.skipif(not os.environ.get("FINSAM_SUS_ATTACK_DEMO"),
                    reason="set FINSAM_SUS_ATTACK_DEMO=1 to attack the demo's releases")
def test_the_demos_releases_withstand_the_attack_together(demo, tmp_path) -> None:
    spells, published, last, catalogue = _demos_releases(demo)
    # the year a coordinator asks for before the annual report, overlapping the demo's whole
    # range and its last quarter: with them it gives two more periods by subtraction
    year = pd.Period(last, freq="Q").year
    plan = [(f"{year}Q1", f"{year}Q4", None)]
    before = sus_audit.audit(published.folders).derived_periods()
    published = publish(spells, plan, tmp_path, catalogue=catalogue, published=published)
    audit, failures, attacked = attack(spells, published)
    hidden = sum(report["dolda"] for report in published.reports)
    primary = sum(report["dolda_primart"] for report in published.reports)
    seconds = sum(report["sekunder"] for report in published.reports)
    print(f"demo: {len(published.folders)} releases ({[f.name for f in published.folders]}), "
          f"{attacked} cells attacked, {len(failures)} pinned; hidden {primary} small counts -> "
          f"{hidden} cells in the {len(plan)} new releases ({seconds:.0f} s); derived periods "
          f"{audit.derived_periods()}")
    assert set(audit.derived_periods()) - set(before), \
        "the overlapping release must give a period by subtraction"
    assert attacked > 500
    assert failures == []
    assert not any(published.unprotected)
