"""One check per source asset: the rows its deliveries left with the steward, counted and shown."""

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg
import pandas as pd
from sqlalchemy import func, select

from assets.resources import LandingZone, Warehouse
from finsam.enums import Outcome
from finsam.periods import TIMEZONE, quarter_label
from sources.registry import REGISTRY
from sources.spec import SourceSpec
from warehouse import models, quarantine

EXAMPLES = 20


def _held_check(spec: SourceSpec) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=spec.asset, name="kvarhallna_rader",
                    description="Rader som hålls kvar för förvaltaren (fel och varningar).")
    def _check(warehouse: Warehouse) -> dg.AssetCheckResult:
        table = models.HeldRow.__table__
        with warehouse.engine().connect() as connection:
            held = pd.read_sql(select(table.c.file_name, table.c.row_number, table.c.column,
                                      table.c.rule, table.c.severity, table.c.found)
                               .where(table.c.source == spec.name,
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


def days_since(last: dt.date | None, today: dt.date) -> int | None:
    return None if last is None else (today - last).days


def _freshness_check(spec: SourceSpec) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=spec.asset, name="leveransfarskhet",
                    description="Varnar när parten inte har levererat på längre tid än tillåtet.")
    def _check(landing: LandingZone, warehouse: Warehouse) -> dg.AssetCheckResult:
        table = models.Delivery.__table__
        with warehouse.engine().connect() as connection:
            last = connection.execute(select(func.max(table.c.extraction_date)).where(
                table.c.source == spec.name, table.c.outcome != Outcome.UNRECOGNISED)).scalar()
        last = pd.Timestamp(last).date() if last is not None else None
        today = dt.datetime.now(ZoneInfo(TIMEZONE)).date()
        days = days_since(last, today)
        limit = landing.max_days_without_delivery
        return dg.AssetCheckResult(
            passed=days is not None and days <= limit, severity=dg.AssetCheckSeverity.WARN,
            metadata={"senaste_uttagsdatum": str(last) if last else "ingen leverans",
                      "senaste_kvartal": quarter_label(last) if last else "-",
                      "dagar_sedan": days if days is not None else -1,
                      "tillåtet_antal_dagar": limit})

    return _check


def build_checks() -> list[dg.AssetChecksDefinition]:
    return ([_held_check(spec) for spec in REGISTRY.specs()]
            + [_freshness_check(spec) for spec in REGISTRY.specs()])
