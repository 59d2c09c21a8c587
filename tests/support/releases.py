"""Publishing a series of SUS statistics releases the way the asset does, for tests: each release
protected against the ones before it (an in-memory register), its files written, and what the
data holds for every cell a reader could ask about."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from assets.sus import assets as sus_assets
from assets.sus import disclosure, statistics
from tests.support import sus_audit

Plan = list[tuple[str, str, str | None]]


@dataclass
class Published:
    folders: list[Path] = field(default_factory=list)
    internal: list[Path] = field(default_factory=list)
    reports: list[dict] = field(default_factory=list)
    unprotected: list[list[str]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)   # releases the protection would not publish
    register: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(disclosure.REGISTER_COLUMNS)))


def quarter(label: str) -> pd.Period:
    return pd.Period(label, freq="Q")


def publish(spells: pd.DataFrame, plan: Plan, out: Path, *, min_cell: int = 3,
            catalogue: pd.DataFrame | None = None, published: Published | None = None
            ) -> Published:
    """Releases ``plan`` (first quarter, last quarter, insats or None) in turn under ``out``; a
    release the protection refuses is named in ``refused`` and left out."""
    if catalogue is None:
        catalogue = pd.DataFrame({"insats": sorted(spells["insats"].dropna().unique()),
                                  "namn": None, "mal_andel": 0.5})
        catalogue["namn"] = catalogue["insats"]
    published = published or Published()
    for first, last, insats in plan:
        start, end = quarter(first).start_time.date(), quarter(last).end_time.date()
        name = f"{first}_{last}" + (f"_{insats}" if insats else "")
        try:
            prepared = sus_assets.prepare(spells, catalogue, start, end, min_cell,
                                          insats=insats, register=published.register)
        except disclosure.ReleaseNotProtectable:
            # as the asset does: nothing written, nothing recorded
            published.refused.append(name)
            continue
        folder, restricted = out / "sus" / name, out / "begransad" / name
        restricted.mkdir(parents=True, exist_ok=True)
        sus_assets.write_files(prepared, folder, restricted)
        cells = prepared.protected.cells.assign(period_start=start, period_end=end,
                                                scope=prepared.scope)
        register = pd.concat([published.register, cells[list(disclosure.REGISTER_COLUMNS)]],
                             ignore_index=True)
        register["_value"] = register["value"].map(lambda v: "" if pd.isna(v) else repr(v))
        published.register = register.drop_duplicates(
            [*(c for c in disclosure.REGISTER_COLUMNS if c != "value"), "_value"]
        ).drop(columns="_value").reset_index(drop=True)
        published.folders.append(folder)
        published.internal.append(restricted)
        published.reports.append(prepared.protected.report)
        published.unprotected.append(prepared.protected.unprotected)
    return published


def attack(spells: pd.DataFrame, published: Published, min_cell: int = 3,
           derived: bool = True) -> tuple[sus_audit.Audit, list[tuple], int]:
    """The audit of every release together: (the audit, every cell a reader narrows down too
    far, how many cells were attacked). Hidden cells are checked against the internal
    workbooks, small counts of periods nobody published against the statistics of the data."""
    audit = sus_audit.audit(published.folders)
    truths = {}
    counts = {}
    for key in audit.hidden():
        if key.release not in counts:
            counts[key.release] = sus_audit.read_tables(
                published.internal[key.release] / "sus_statistik_intern.xlsx")[1]
        truths[key] = sus_audit.truth_of(audit, key, counts[key.release])
    failures = audit.check(truths, min_cell)
    attacked = len(truths)
    if derived:
        small = _small_derived(audit, spells, min_cell)
        failures += audit.check(small, min_cell, audit.derived_cells())
        attacked += len(small)
    return audit, failures, attacked


def attack_as_of(spells: pd.DataFrame, releases: list[sus_audit.Published], min_cell: int = 3
                 ) -> tuple[sus_audit.Audit, list[tuple], int]:
    """The audit of releases that all show ``spells`` (a signed release read with its
    correction among them): every hidden count, and every small count of a period a reader gets
    by subtraction, checked against the statistics of ``spells``."""
    audit = sus_audit.Audit(releases)
    counts: dict[tuple[str, str], dict] = {}
    truths = {}
    for key in audit.hidden():
        release = releases[key.release]
        period = (str(release.first), str(release.last))
        if period not in counts:
            counts[period] = counts_of(spells, *period)
        truths[key] = sus_audit.truth_of(audit, key, counts[period])
    failures = audit.check(truths, min_cell)
    small = _small_derived(audit, spells, min_cell)
    failures += audit.check(small, min_cell, audit.derived_cells())
    return audit, failures, len(truths) + len(small)


def counts_of(spells: pd.DataFrame, first: str, last: str) -> dict[tuple, object]:
    """Every count of the period's statistics: (sheet, table, row, column) -> value."""
    stats = statistics.sus_statistics(spells, quarter(first).start_time,
                                      quarter(last).end_time.normalize())
    return {(sheet, name, str(row), str(column)): value
            for sheet, sheet_tables in stats.items() for name, table in sheet_tables.items()
            for (row, column), value in table.stack().items()}


def _small_derived(audit: sus_audit.Audit, spells: pd.DataFrame, min_cell: int
                   ) -> dict[sus_audit.CellKey, float]:
    """The counts from 1 to min_cell - 1 of the periods a reader gets by subtraction."""
    tables: dict[tuple[str, str], dict] = {}
    small = {}
    for key in audit.derived_cells():
        if key.period not in tables:
            tables[key.period] = counts_of(spells, *key.period)
        value = float(tables[key.period][key.sheet, key.table, key.row, key.column])
        if 1 <= value < min_cell:
            small[key] = value
    return small
