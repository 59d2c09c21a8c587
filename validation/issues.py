"""The issue frame: one row per (row, column, rule) problem found in a delivery.

Every reader, schema and reconciliation step reports problems in this one shape, so the quarantine,
the steward's report and the Dagster check metadata all read the same thing. ``found`` never holds a
complete identity number (see :func:`finsam.identity.mask`) or a value of a dropped column.
"""

from __future__ import annotations

from functools import cache

import pandas as pd

from finsam import masking
from finsam.masking import Domain

ERROR = "fel"
WARNING = "varning"

ISSUE_COLUMNS = ("source", "file", "row_number", "column", "rule", "severity", "expected", "found")


def empty_issues() -> pd.DataFrame:
    # a copy of one template: every delivery without problems asks for one
    return _empty_template().copy()


@cache
def _empty_template() -> pd.DataFrame:
    frame = pd.DataFrame({name: pd.Series(dtype="string") for name in ISSUE_COLUMNS})
    frame["row_number"] = frame["row_number"].astype("Int64")
    return frame


def issues_where(rows: pd.DataFrame, failing: pd.Series, *, source: str, file: str, column: str,
                 rule: str, expected: str, found: pd.Series | None = None,
                 severity: str = ERROR, domain: Domain = Domain.TEXT) -> pd.DataFrame:
    """Issues for the rows of ``rows`` where ``failing`` is true (vectorised; no per-row Python).

    ``rows`` must carry ``row_number``; ``found`` defaults to the column's own value. Either way
    it goes through the masking chokepoint as a value of ``domain``.
    """
    failing = failing.fillna(False).astype(bool)
    hit = rows.loc[failing]
    if hit.empty:
        return empty_issues()
    if found is None:
        found_values = hit[column] if column in hit else pd.Series(pd.NA, index=hit.index)
    else:
        found_values = found.loc[hit.index]
    found_values = masking.shown(found_values, domain)
    return pd.DataFrame({
        "source": source,
        "file": file,
        "row_number": hit["row_number"].astype("Int64"),
        "column": column,
        "rule": rule,
        "severity": severity,
        "expected": expected,
        "found": found_values,
    }).reset_index(drop=True)


def combine(*frames: pd.DataFrame) -> pd.DataFrame:
    frames = [frame for frame in frames if frame is not None and not frame.empty]
    if not frames:
        return empty_issues()
    return pd.concat(frames, ignore_index=True)[list(ISSUE_COLUMNS)]


def failing_rows(issues: pd.DataFrame, *, severity: str | None = None) -> set[int]:
    """Row numbers with at least one issue (of ``severity`` when given)."""
    if severity is not None:
        issues = issues[issues["severity"] == severity]
    return set(issues["row_number"].dropna().astype(int))
