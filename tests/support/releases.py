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
    register: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(disclosure.REGISTER_COLUMNS)))


def quarter(label: str) -> pd.Period:
    return pd.Period(label, freq="Q")


def publish(spells: pd.DataFrame, plan: Plan, out: Path, *, min_cell: int = 3,
            catalogue: pd.DataFrame | None = None, published: Published | None = None
            ) -> Published:
    """Releases ``plan`` (first quarter, last quarter, insats or None) in turn under ``out``."""
    if catalogue is None:
        catalogue = pd.DataFrame({"insats": sorted(spells["insats"].dropna().unique()),
                                  "namn": None, "mal_andel": 0.5})
        catalogue["namn"] = catalogue["insats"]
    published = published or Published()
    for first, last, insats in plan:
        start, end = quarter(first).start_time.date(), quarter(last).end_time.date()
        prepared = sus_assets.prepare(spells, catalogue, start, end, min_cell, insats=insats,
                                      register=published.register)
        name = f"{first}_{last}" + (f"_{insats}" if insats else "")
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
        cells = audit.derived_cells()
        tables = {}
        small = {}
        for key in cells:
            if key.period not in tables:
                first, last = key.period
                stats = statistics.sus_statistics(spells, quarter(first).start_time,
                                                  quarter(last).end_time.normalize())
                tables[key.period] = {(sheet, name, row, column): value
                                      for sheet, sheet_tables in stats.items()
                                      for name, table in sheet_tables.items()
                                      for (row, column), value in table.stack().items()}
            value = float(tables[key.period][key.sheet, key.table, key.row, key.column])
            if 1 <= value < min_cell:
                small[key] = value
        failures += audit.check(small, min_cell, cells)
        attacked += len(small)
    return audit, failures, attacked
