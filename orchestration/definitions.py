"""The one entry point Dagster loads: merges each area's assets with the resources."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import dagster as dg

from assets.budget.assets import build_assets as budget_assets
from assets.ingest.assets import build_assets as ingest_assets
from assets.ingest.checks import build_checks as ingest_checks
from assets.quality.checks import warehouse_expectations
from assets.steward.assets import build_assets as steward_assets
from assets.targets import definitions as target_definitions
from orchestration import schedules, settings
from orchestration.partitions import quarterly_partitions


def build_definitions(resource_defs: Mapping[str, dg.ConfigurableResource],
                      first_quarter: str, chosen_targets: Iterable[str] | None = None
                      ) -> dg.Definitions:
    """Every area's assets; of the national targets only the chosen ones (default: the
    environment's FINSAM_TARGETS, else all)."""
    chosen = settings.targets() if chosen_targets is None else tuple(chosen_targets)
    partitions = quarterly_partitions(first_quarter)
    # issue 16: one process per run (as `finsam run` executes), so the warehouse's run lock that
    # the run's resources take spans the whole run, not each step of it
    everything = dg.define_asset_job("allt", selection=dg.AssetSelection.all(),
                                     partitions_def=partitions, executor_def=dg.in_process_executor,
                                     description="Alla leveranser och alla utdata för kvartalen.")
    nightly, sensors = schedules.build(everything)
    return dg.Definitions.merge(
        dg.Definitions(jobs=[everything], schedules=nightly, sensors=sensors),
        dg.Definitions(assets=ingest_assets(), asset_checks=ingest_checks()),
        dg.Definitions(asset_checks=[warehouse_expectations]),
        dg.Definitions(assets=steward_assets()),
        *target_definitions(chosen, partitions),
        dg.Definitions(assets=budget_assets(partitions)),
        dg.Definitions(resources=dict(resource_defs)),
    )


defs = build_definitions(settings.from_environment(), settings.first_quarter())
