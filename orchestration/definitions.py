"""The one entry point Dagster loads: merges each area's assets with the resources."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import dagster as dg

from assets.budget.assets import build_assets as budget_assets
from assets.ingest.assets import build_assets as ingest_assets
from assets.quality.checks import warehouse_expectations
from assets.steward.assets import build_assets as steward_assets
from assets.targets import definitions as target_definitions
from orchestration import schedules, settings
from orchestration.partitions import quarterly_partitions

JOB = "allt"


def build_definitions(resource_defs: Mapping[str, dg.ConfigurableResource],
                      first_quarter: str, last_quarter: str | None = None, *,
                      automation: bool = True, chosen_targets: Iterable[str] | None = None
                      ) -> dg.Definitions:
    """Everything for the quarters ``first_quarter``..``last_quarter`` (default: the current); of
    the national targets only the chosen ones (default: the environment's FINSAM_TARGETS, else all).

    The job runs every step in one process, whoever launches it: the schedule, the sensor and the
    UI through the daemon's run launcher (one worker process per run), the command line in its own
    process. A process per step (Dagster's default) started Python and loaded the definitions
    twenty times a run: 88 s instead of 11 s for a quarter with nothing new; and the warehouse's
    run lock the run's resources take (issue 16) spans the whole run, not each step of it.

    ``automation=False``: without the schedule and the sensor (the daemon `finsam backfill` starts
    runs the backfill's queue and nothing else)."""
    chosen = settings.targets() if chosen_targets is None else tuple(chosen_targets)
    partitions = quarterly_partitions(first_quarter, last_quarter)
    everything = dg.define_asset_job(JOB, selection=dg.AssetSelection.all(),
                                     executor_def=dg.in_process_executor,
                                     description="Alla nya leveranser och alla utdata för "
                                                 "kvartalen.")
    nightly, sensors = schedules.build(everything, partitions) if automation else ([], [])
    return dg.Definitions.merge(
        dg.Definitions(jobs=[everything], schedules=nightly, sensors=sensors),
        dg.Definitions(assets=ingest_assets()),
        dg.Definitions(asset_checks=[warehouse_expectations]),
        dg.Definitions(assets=steward_assets()),
        *target_definitions(chosen, partitions),
        dg.Definitions(assets=budget_assets(partitions)),
        dg.Definitions(resources=dict(resource_defs)),
    )


defs = build_definitions(settings.from_environment(), settings.first_quarter())
