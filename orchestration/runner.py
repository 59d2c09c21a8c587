"""Running the definitions for a range of quarters, in process, recorded in the Dagster instance.

The command line's runs take the same path as the daemon's: the job ``allt`` with its in-process
executor (``orchestration/definitions.py``); the daemon only adds the worker process it starts for
each run. A single quarter runs as that partition (``2024Q4``), several as one run over the range.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from assets import runs
from finsam.errors import RunFailed
from finsam.masking import mask_text
from orchestration import guard
from orchestration.definitions import JOB, build_definitions
from orchestration.partitions import (
    PARTITION_SET_TAG,
    PARTITION_TAG,
    current_quarter,
    parse_quarter,
    partition_key,
    partition_set_name,
    range_tags,
)
from orchestration.schedules import write_alert

__all__ = ["RunOutcome", "current_quarter", "run_quarters", "run_tags"]


@dataclass
class RunOutcome:
    run_id: str
    quarters: tuple[str, str]
    metadata: dict[str, dict] = field(default_factory=dict)

    def total(self, name: str) -> int:
        return sum(int(values.get(name, 0)) for values in self.metadata.values()
                   if str(values.get(name, 0)).lstrip("-").isdigit())


def _quiet_logging() -> dict:
    # the terminal gets one line from the command; the run's events are in the Dagster instance
    # and a failure's whole story in the log file
    return {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def run_tags(first: str, last: str) -> dict[str, str]:
    """How a run names its quarters: one quarter as its partition (what the daemon gives a
    backfill's run), several as a range."""
    if partition_key(first) == partition_key(last):
        return {PARTITION_TAG: partition_key(first),
                PARTITION_SET_TAG: partition_set_name(JOB)}
    return range_tags(first, last)


def run_quarters(resource_defs: Mapping[str, dg.ConfigurableResource], first: str, last: str,
                 instance: dg.DagsterInstance, *, first_quarter: str | None = None,
                 tags: Mapping[str, str] | None = None, assets: list[str] | None = None,
                 asset_config: Mapping[str, dict] | None = None,
                 targets: Sequence[str] | None = None) -> RunOutcome:
    """Materialise the assets (all, or the named ones) for the quarters ``first``..``last``
    (``YYYYQn``) as one run recorded in ``instance``; of the national targets only ``targets``
    (default: orchestration.settings.targets())."""
    start, end = parse_quarter(first), parse_quarter(last)
    if end < start:
        raise ValueError(f"--to {last} ligger före --from {first}")
    now = current_quarter()
    if end > parse_quarter(now):
        raise ValueError(f"--to {last} har inte börjat än; senaste kvartal är {now}")
    partitions_from = (first_quarter if first_quarter and parse_quarter(first_quarter) < start
                       else first)
    defs = build_definitions(resource_defs, partitions_from, now, chosen_targets=targets)
    job = defs.resolve_job_def(JOB)
    run_config = _quiet_logging()
    if asset_config:
        run_config["ops"] = {name: {"config": config} for name, config in asset_config.items()}
    selection = [dg.AssetKey(name) for name in assets] if assets else None
    # issue 16: the warehouse alone (run lock), current and with its own keys before the run
    # starts; the run tagged with its process, so a killed run is found dead (assets/runs.py)
    with guard.exclusive(resource_defs, f"finsam {first}-{last}"):
        result = job.execute_in_process(
            instance=instance, raise_on_error=False, run_config=run_config,
            asset_selection=selection,
            tags={**run_tags(first, last), "finsam/command": "run", **runs.tags(), **(tags or {})})
    if not result.success:
        failures = [event for event in result.all_events if event.is_step_failure]
        failed = [event.step_key for event in failures]
        errors = [event.event_specific_data.error for event in failures]
        reason = "; ".join(_root_cause(error) for error in errors) or "se Dagsters webbgränssnitt"
        write_alert(Path(instance.root_directory), result.run_id, failed, reason)
        # the whole chain of exceptions, for the log file; masked like everything finsam writes
        details = "\n".join(mask_text(error.to_string()) for error in errors)
        raise RunFailed(result.run_id, failed, reason, details=details)
    outcome = RunOutcome(result.run_id, (partition_key(first), partition_key(last)))
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        name = materialization.asset_key.to_user_string()
        outcome.metadata.setdefault(name, {key: value.value for key, value
                                           in materialization.metadata.items()})
    return outcome


def _root_cause(error) -> str:
    # Dagster wraps the asset's exception; the innermost one says what actually went wrong, and
    # it is shown on one line
    while error.cause is not None:
        error = error.cause
    return " ".join(mask_text(error.message).split())
