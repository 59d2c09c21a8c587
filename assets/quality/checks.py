"""Great Expectations suites as Dagster asset checks, one per warehouse table's loading asset."""

import dagster as dg

from assets.quality.frames import quality_frames
from assets.resources import OutputFolder, Warehouse
from assets.retry import retrying
from validation.quality import OFFLINE_INDEX, run_suites

# suite -> (asset, serious): key and link suites protect the SUS submission, so they fail as ERROR
SUITE_ASSETS = {
    "spell": ("insats_spells", True),
    "spell_distribution": ("insats_spells", False),
    "consent": ("samtycke_consents", True),
    "fk_benefit": ("fk_benefits", True),
    "af_support": ("af_support", True),
    "soc_payment": ("soc_payments", True),
    "hsf_contact": ("hsf_contacts", True),
    "partner_completeness": ("steward_review", False),
    "ledger_entry": ("ekonomi_ledger", True),
}


def _spec(suite: str) -> dg.AssetCheckSpec:
    asset, _serious = SUITE_ASSETS[suite]
    # Issue 16: no suite blocks in Dagster's sense. A blocking check stops everything downstream
    # of its asset: a partner suite would stop only the steward's page (where the problem must be
    # shown), the spell suite the partner sources, the steward's page and the board's economy too.
    # A serious suite fails as ERROR; the SUS submission, the one output that cannot be built from
    # broken links, refuses by itself (assets/sus/checks.readiness).
    return dg.AssetCheckSpec(name=f"gx_{suite}", asset=asset, blocking=False,
                             description=f"Great Expectations-sviten {suite} över lagret")


def _read(warehouse: Warehouse) -> dict:
    with warehouse.engine().connect() as connection:
        return quality_frames(connection)


@dg.multi_asset_check(specs=[_spec(suite) for suite in SUITE_ASSETS], can_subset=True)
def warehouse_expectations(context: dg.AssetCheckExecutionContext, warehouse: Warehouse,
                           out: OutputFolder):
    """Keys, links between spells, consents and pseudonyms, completeness and distributions."""
    frames = retrying(lambda: _read(warehouse))
    docs = out.root / "steward" / "gx"
    results = run_suites(frames, docs)
    for suite, (asset, blocking) in SUITE_ASSETS.items():
        key = dg.AssetCheckKey(dg.AssetKey(asset), f"gx_{suite}")
        if key not in context.selected_asset_check_keys:
            continue
        result = results.get(suite)
        if result is None:
            yield dg.AssetCheckResult(check_name=f"gx_{suite}", asset_key=asset, passed=True,
                                      metadata={"förväntningar": 0, "kommentar": "ingen data än"})
            continue
        yield dg.AssetCheckResult(
            check_name=f"gx_{suite}", asset_key=asset, passed=result.success,
            severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
            metadata={"förväntningar": result.evaluated,
                      "misslyckade": len(result.failed),
                      "avvikelser": dg.MetadataValue.json(result.failed),
                      "data_docs": dg.MetadataValue.path(str(docs / OFFLINE_INDEX))})
