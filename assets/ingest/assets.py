"""One asset per registered source: every new delivery, from the landing zone to its table.

Not partitioned: a run takes in every delivery the manifest has not seen, whatever its extraction
date. What a quarter selects is what its outputs cover (see the output assets)."""

import dagster as dg

from assets import files
from assets.ingest import checks
from assets.ingest.run import ingest_source
from assets.resources import LandingZone, OutputFolder, SecretKeys, Warehouse
from assets.retry import retry_when_busy
from finsam import faults
from sources.registry import REGISTRY
from sources.spec import SourceSpec


def _build(spec: SourceSpec) -> dg.AssetsDefinition:
    @dg.asset(name=spec.asset, group_name="leveranser", description=spec.asset_description,
              deps=[REGISTRY.spec(name).asset for name in spec.depends_on],
              kinds={"pandas", "sqlalchemy"}, check_specs=checks.specs(spec))
    def _asset(context: dg.AssetExecutionContext, landing: LandingZone, warehouse: Warehouse,
               secrets: SecretKeys, out: OutputFolder) -> dg.MaterializeResult:
        faults.point(f"asset:{spec.asset}")
        with retry_when_busy(context.retry_number):
            engine = warehouse.engine()
            # both keys checked against the warehouse before anything is written
            report = ingest_source(spec.name, landing.root, engine, secrets.verified(engine),
                                   settings=landing.settings(),
                                   scrub=lambda numbers: files.scrub_restricted(out.root, numbers))
        files_seen = [{"fil": item.file_name, "utfall": item.outcome, "lästa": item.rows_read,
                       "inlästa": item.rows_loaded, "kvarhållna": item.rows_held}
                      for item in report.files]
        context.log.info(f"{spec.name}: {report.metadata()}")
        return dg.MaterializeResult(metadata={
            **report.metadata(),
            "files": dg.MetadataValue.json(files_seen),
            "väntar": dg.MetadataValue.json([{"fil": name, "varför": why}
                                             for name, why in report.waiting]),
        }, check_results=checks.results(spec, context.selected_asset_check_keys, landing,
                                        warehouse))

    return _asset


def build_assets() -> list[dg.AssetsDefinition]:
    return [_build(spec) for spec in REGISTRY.specs()]
