"""One asset per registered source: its deliveries, from the landing zone to a conformed table."""

import dagster as dg

from assets.ingest.run import ingest_source
from assets.resources import LandingZone, SecretKeys, Warehouse
from assets.retry import retry_when_busy
from sources.registry import REGISTRY
from sources.spec import SourceSpec


def _build(spec: SourceSpec, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(name=spec.asset, group_name="leveranser", description=spec.asset_description,
              partitions_def=partitions, backfill_policy=dg.BackfillPolicy.single_run(),
              deps=[REGISTRY.spec(name).asset for name in spec.depends_on],
              kinds={"pandas", "sqlalchemy"})
    def _asset(context: dg.AssetExecutionContext, landing: LandingZone, warehouse: Warehouse,
               secrets: SecretKeys) -> dg.MaterializeResult:
        before = context.partition_time_window.end.date()
        with retry_when_busy(context.retry_number):
            report = ingest_source(spec.name, landing.root, warehouse.engine(), secrets.load(),
                                   before=before)
        files = [{"fil": item.file_name, "utfall": item.outcome, "lästa": item.rows_read,
                  "inlästa": item.rows_loaded, "kvarhållna": item.rows_held}
                 for item in report.files]
        context.log.info(f"{spec.name}: {report.metadata()}")
        return dg.MaterializeResult(metadata={
            **report.metadata(),
            "files": dg.MetadataValue.json(files),
        })

    return _asset


def build_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    return [_build(spec, partitions) for spec in REGISTRY.specs()]
