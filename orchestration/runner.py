"""Running the definitions for a range of quarters, in process, recorded in the Dagster instance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import dagster as dg
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from assets import runs
from finsam.errors import RunFailed
from orchestration import guard
from orchestration.definitions import build_definitions
from orchestration.partitions import parse_quarter, quarter_label
from orchestration.schedules import write_alert


@dataclass
class RunOutcome:
    run_id: str
    quarters: tuple[str, str]
    metadata: dict[str, dict] = field(default_factory=dict)

    def total(self, name: str) -> int:
        return sum(int(values.get(name, 0)) for values in self.metadata.values())


def _quiet_logging() -> dict:
    return {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


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
    partitions_from = first_quarter if first_quarter and parse_quarter(first_quarter) < start else first
    defs = build_definitions(resource_defs, partitions_from, targets)
    job = defs.resolve_job_def("allt")
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
            tags={ASSET_PARTITION_RANGE_START_TAG: start.isoformat(),
                  ASSET_PARTITION_RANGE_END_TAG: end.isoformat(), "finsam/command": "run",
                  **runs.tags(), **(tags or {})})
    if not result.success:
        failed = [event.step_key for event in result.all_events if event.is_step_failure]
        reasons = [_root_cause(event.event_specific_data.error)
                   for event in result.all_events if event.is_step_failure]
        reason = "; ".join(reasons) or "see the Dagster UI"
        write_alert(Path(instance.root_directory), result.run_id, failed, reason)
        raise RunFailed(result.run_id, failed, reason)
    outcome = RunOutcome(result.run_id, (first, last))
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        name = materialization.asset_key.to_user_string()
        outcome.metadata.setdefault(name, {key: value.value for key, value
                                           in materialization.metadata.items()})
    return outcome


def _root_cause(error) -> str:
    # Dagster wraps the asset's exception; the innermost one says what actually went wrong.
    while error.cause is not None:
        error = error.cause
    return error.message.strip()


def current_quarter(today: date | None = None) -> str:
    return quarter_label(today or date.today())
