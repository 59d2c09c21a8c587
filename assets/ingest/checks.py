"""One check per source asset: the rows its deliveries left with the steward, counted and shown."""

import dagster as dg
import pandas as pd
from sqlalchemy import select

from assets.ingest.assets import SOURCE_ASSETS, SourceAsset
from orchestration.resources import Warehouse
from warehouse import models, quarantine

EXAMPLES = 20


def _held_check(spec: SourceAsset) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=spec.name, name="kvarhallna_rader",
                    description="Rader som hålls kvar för förvaltaren (fel och varningar).")
    def _check(warehouse: Warehouse) -> dg.AssetCheckResult:
        table = models.HeldRow.__table__
        with warehouse.engine().connect() as connection:
            held = pd.read_sql(select(table.c.file_name, table.c.row_number, table.c.column,
                                      table.c.rule, table.c.severity, table.c.found)
                               .where(table.c.source == spec.source,
                                      table.c.status == quarantine.OPEN), connection)
        per_rule = held.groupby(["column", "rule"]).size()
        examples = held.head(EXAMPLES).astype(str).to_dict("records")
        return dg.AssetCheckResult(
            passed=held.empty, severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "öppna_rader": len(held),
                "fel": int((held["severity"] == "fel").sum()),
                "varningar": int((held["severity"] == "varning").sum()),
                "per_regel": dg.MetadataValue.json({f"{column}: {rule}": int(count)
                                                    for (column, rule), count in per_rule.items()}),
                "exempel": dg.MetadataValue.json(examples),
            })

    return _check


def build_checks() -> list[dg.AssetChecksDefinition]:
    return [_held_check(spec) for spec in SOURCE_ASSETS]
