"""`finsam backfill`: one Dagster run per quarter, oldest first, resumable after a failure.

Every run carries the backfill's id and range as tags, so the Dagster UI lists them together and a
later invocation over the same range can see which quarters already succeeded and redo only the
rest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import dagster as dg
import pandas as pd

from finsam.errors import RunFailed
from orchestration import guard
from orchestration.partitions import parse_quarter
from orchestration.runner import run_quarters

BACKFILL_TAG = "finsam/backfill"
RANGE_TAG = "finsam/backfill_range"
QUARTER_TAG = "finsam/backfill_quarter"


def quarters(first: str, last: str) -> list[str]:
    start, end = parse_quarter(first), parse_quarter(last)
    if end < start:
        raise ValueError(f"--to {last} ligger före --from {first}")
    return [str(period) for period in pd.period_range(start, end, freq="Q")]


@dataclass
class BackfillResult:
    backfill_id: str
    resumed: bool
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def _previous(instance: dg.DagsterInstance, span: str) -> tuple[str | None, set[str]]:
    """The newest backfill over this range that did not finish, and the quarters it completed."""
    runs = instance.get_runs(filters=dg.RunsFilter(tags={RANGE_TAG: span}))
    if not runs:
        return None, set()
    newest = runs[0].tags[BACKFILL_TAG]
    mine = [run for run in runs if run.tags.get(BACKFILL_TAG) == newest]
    succeeded = {run.tags[QUARTER_TAG] for run in mine if run.is_success}
    return newest, succeeded


def run_backfill(resource_defs: Mapping[str, dg.ConfigurableResource], first: str, last: str,
                 instance: dg.DagsterInstance, *, first_quarter: str | None = None,
                 targets: Sequence[str] | None = None,
                 progress: Callable[[str, str], None] = lambda quarter, state: None
                 ) -> BackfillResult:
    """Run the quarters in order. A failed quarter does not stop the later ones (each run takes in
    what was delivered before its quarter ended, so nothing is skipped); re-invoking over the same
    range resumes that backfill and redoes only the quarters that did not succeed."""
    wanted = quarters(first, last)
    span = f"{first}_{last}"
    previous_id, succeeded = _previous(instance, span)
    resume = previous_id is not None and not set(wanted) <= succeeded
    backfill_id = previous_id if resume else (
        f"{span}-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S}")
    result = BackfillResult(backfill_id, resumed=resume)
    # issue 16: the warehouse's run lock held across every quarter, so a nightly run waits for
    # the whole backfill instead of slipping in between two of its quarters
    with guard.exclusive(resource_defs, f"finsam backfill {first}-{last}"):
        for quarter in wanted:
            if resume and quarter in succeeded:
                result.skipped.append(quarter)
                progress(quarter, "redan klart")
                continue
            tags = {BACKFILL_TAG: backfill_id, RANGE_TAG: span, QUARTER_TAG: quarter,
                    "finsam/command": "backfill"}
            try:
                run_quarters(resource_defs, quarter, quarter, instance,
                             first_quarter=first_quarter or first, tags=tags,
                             targets=targets)
            except RunFailed as exc:
                result.failed[quarter] = str(exc)
                progress(quarter, "misslyckades")
                continue
            result.done.append(quarter)
            progress(quarter, "klart")
    return result

