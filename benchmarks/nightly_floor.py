"""Code locations for the floor of the scheduled path (``benchmarks/nightly_daemon.py --floor``).

What Dagster itself costs on this machine between a RunRequest and RUN_SUCCESS, whatever the
steps do:

* ``noop``: one asset that does nothing, in a job with the in-process executor (as ``allt``); the
  worker imports Dagster and this module only.
* ``free``: finsam's job ``allt`` with every step's work free: the same assets, checks, their
  dependencies and how they are grouped into steps (read from finsam's own definitions, so the
  worker also pays finsam's imports and building its definitions), but every body only reports
  its assets and checks as done; no resource is used, nothing is read or written.

Each is loaded as its own code location (``attribute``) by the benchmark's own daemon.
"""

from __future__ import annotations

import dagster as dg

NOOP_JOB = "ingenting"
FREE_JOB = "allt_utan_arbete"


@dg.asset(name="noll")
def _nothing() -> None:
    """Gör ingenting: Dagsters egen kostnad för en körning."""


noop = dg.Definitions(assets=[_nothing],
                      jobs=[dg.define_asset_job(NOOP_JOB, executor_def=dg.in_process_executor)])


def _free(assets_def: dg.AssetsDefinition):
    """The same keys, dependencies, checks and step as ``assets_def``, with no work."""
    specs = [dg.AssetSpec(spec.key, deps=spec.deps) for spec in assets_def.specs]
    checks = list(assets_def.check_specs)
    name = assets_def.node_def.name

    if not specs:
        @dg.multi_asset_check(specs=checks, name=name, can_subset=assets_def.can_subset)
        def _checks(context):
            for key in context.selected_asset_check_keys:
                yield dg.AssetCheckResult(asset_key=key.asset_key, check_name=key.name,
                                          passed=True)
        return _checks

    @dg.multi_asset(specs=specs, check_specs=checks, name=name)
    def _assets(context):
        for key in context.selected_asset_keys:
            yield dg.MaterializeResult(asset_key=key)
        for key in context.selected_asset_check_keys:
            yield dg.AssetCheckResult(asset_key=key.asset_key, check_name=key.name, passed=True)
    return _assets


def _free_definitions() -> dg.Definitions:
    from orchestration import settings
    from orchestration.definitions import build_definitions

    finsam = build_definitions(settings.from_environment(), settings.first_quarter(),
                               automation=False)
    graph = finsam.resolve_asset_graph()
    built = [_free(assets_def) for assets_def in graph.assets_defs if assets_def.is_executable]
    assets = [item for item in built if not isinstance(item, dg.AssetChecksDefinition)]
    checks = [item for item in built if isinstance(item, dg.AssetChecksDefinition)]
    job = dg.define_asset_job(FREE_JOB, selection=dg.AssetSelection.all(),
                              executor_def=dg.in_process_executor)
    return dg.Definitions(assets=assets, asset_checks=checks, jobs=[job])


def __getattr__(name: str):
    # built only when the ``free`` location is loaded: the ``noop`` worker imports nothing of finsam
    if name == "free":
        return _free_definitions()
    raise AttributeError(name)
