"""Great Expectations suites as Dagster asset checks, one per suite on the asset it guards.

Dagster runs this multi-asset check in several steps (its blocking checks sit at different places
in the graph); each step builds the frames of its own suites only and judges them, and GX runs
only for a suite whose frame changed since GX last judged it. The metadata carries counts only.
"""

import dagster as dg

from assets.quality import docs
from assets.quality.frames import Tables
from assets.quality.suites import PLANS, Plan
from assets.resources import OutputFolder, Warehouse
from validation.quality import SuiteResult, validate


def _spec(plan: Plan) -> dg.AssetCheckSpec:
    kind = "blockerande" if plan.blocking else "varning"
    return dg.AssetCheckSpec(name=plan.check_name, asset=plan.asset, blocking=plan.blocking,
                             description=f"Great Expectations: {plan.suite.title} ({kind})")


def _key(plan: Plan) -> dg.AssetCheckKey:
    return dg.AssetCheckKey(dg.AssetKey(plan.asset), plan.check_name)


@dg.multi_asset_check(specs=[_spec(plan) for plan in PLANS], can_subset=True)
def warehouse_expectations(context: dg.AssetCheckExecutionContext, warehouse: Warehouse,
                           out: OutputFolder):
    """Across tables, against the warehouse as it stands: consents naming the partner, the vault,
    de-identified and anonymous spells, erasure, every row from the delivery it should come from."""
    chosen = [plan for plan in PLANS if _key(plan) in context.selected_asset_check_keys]
    with warehouse.engine().connect() as connection:
        tables = Tables(connection)
        frames = {plan.suite.name: plan.build(tables) for plan in chosen}
    folder = out.root / "steward" / "gx"
    with docs.locked(folder):
        previous = {name: result for name, (result, _) in docs.read_results(folder).items()}
        results = validate(frames, [plan.suite for plan in chosen], previous)
        docs.publish(folder, results, PLANS, context.run.run_id)
    for plan in chosen:
        yield _result(plan, results[plan.suite.name], docs.page_of(folder, plan.suite.name))


def _result(plan: Plan, result: SuiteResult, page) -> dg.AssetCheckResult:
    metadata = {
        "förväntningar": len(result.rules),
        "misslyckade": len(result.failed),
        "rader": result.rows,
        # which rules broke and on how many rows: never a value from a row
        "avvikelser": dg.MetadataValue.json([
            {"regel": rule.text, "kolumn": rule.column, "avvikande_rader": rule.unexpected,
             "provade_rader": rule.evaluated, **({"kunde_inte_provas": True} if rule.error else {})}
            for rule in result.failed]),
        "data_docs": dg.MetadataValue.path(str(page)),
    }
    if result.reused:
        metadata["oförändrad_sedan"] = result.validated_at
    if result.rows == 0:
        metadata["kommentar"] = "ingen data än"
    return dg.AssetCheckResult(
        check_name=plan.check_name, asset_key=plan.asset, passed=result.success,
        severity=dg.AssetCheckSeverity.ERROR if plan.blocking else dg.AssetCheckSeverity.WARN,
        metadata=metadata)
