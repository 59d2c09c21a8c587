"""Two checks per source asset, evaluated in its step: what its deliveries left with the steward,
and whether the partner still delivers as often as its declaration says.

Both are warnings (``WARN``), never errors: a held row is a normal outcome (the steward corrects or
accepts it), and a late partner does not make what was delivered wrong. A check fails only for what
needs someone beyond the steward's daily work:

- ``kvarhallna_rader`` passes with its counts in the metadata, and warns when a delivery had most
  of its rows held (a changed format or code list at the source, not a few wrong cells);
- ``leveransfarskhet`` warns when the source's newest delivery is older than its declared cadence
  (``SourceSpec.freshness_days``), measured against today or, for a landing zone that is a
  snapshot of the past such as the demo's, against the newest delivery of any source
  (``LandingZone.freshness_reference``).
"""

import datetime as dt
from collections.abc import Set as AbstractSet
from zoneinfo import ZoneInfo

import dagster as dg
import pandas as pd
from sqlalchemy import func, select

from assets.resources import NEWEST_DELIVERY, TODAY, LandingZone, Warehouse
from assets.retry import retrying
from finsam.enums import Outcome, Severity
from finsam.periods import TIMEZONE, quarter_label
from sources.spec import SourceSpec
from warehouse import models, quarantine

EXAMPLES = 20
# a delivery with at least this share of its rows held (and at least MIN_HELD rows) is taken to be
# wrong as a whole: the partner's export changed, not a few cells
MOSTLY_HELD = 0.5
MIN_HELD = 5
_ZONE = ZoneInfo(TIMEZONE)


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def held_summary(held: pd.DataFrame, files: pd.DataFrame) -> tuple[bool, str, dict]:
    """(passed, description, metadata) for a source's open held rows. ``held``: file_name,
    delivery_id, row_number, column, rule, severity, found; ``files``: id, file_name, rows_read."""
    errors = int((held["severity"] == Severity.ERROR).sum())
    warnings = int((held["severity"] == Severity.WARNING).sum())
    rows = held.drop_duplicates(["delivery_id", "row_number"])
    per_file = rows.groupby("delivery_id").size().rename("kvarhallna")
    shares = files.set_index("id").join(per_file, how="inner")
    mostly = shares.loc[(shares["kvarhallna"] >= MIN_HELD)
                        & (shares["kvarhallna"] >= MOSTLY_HELD * shares["rows_read"].clip(lower=1))]
    per_rule = held.groupby(["column", "rule"]).size()
    metadata = {
        "öppna_fel": errors,
        "öppna_varningar": warnings,
        "rader": len(rows),
        "filer": int(held["delivery_id"].nunique()),
        "per_regel": dg.MetadataValue.json({f"{column}: {rule}": int(count)
                                            for (column, rule), count in per_rule.items()}),
        "mest_kvarhållna_filer": dg.MetadataValue.json(
            [{"fil": row.file_name, "kvarhållna": int(row.kvarhallna), "lästa": int(row.rows_read)}
             for row in mostly.itertuples()]),
        "exempel": dg.MetadataValue.json(held.head(EXAMPLES).drop(columns=["delivery_id"])
                                         .astype(str).to_dict("records")),
    }
    if held.empty:
        return True, "inga kvarhållna rader", metadata
    description = (f"{_plural(errors, 'fel', 'fel')} att rätta vid källan, "
                   f"{_plural(warnings, 'varning', 'varningar')} att godkänna eller rätta "
                   "(förvaltarens granskning)")
    if not mostly.empty:
        names = ", ".join(mostly["file_name"].head(3))
        description = (f"{_plural(len(mostly), 'leverans', 'leveranser')} med mer än hälften av "
                       f"raderna kvarhållna ({names}): troligen ett ändrat format hos parten; "
                       + description)
    return mostly.empty, description, metadata


def _held_and_files(warehouse: Warehouse, source: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    table = models.HeldRow.__table__
    deliveries = models.Delivery.__table__
    with warehouse.engine().connect() as connection:
        held = pd.read_sql(select(table.c.file_name, table.c.delivery_id, table.c.row_number,
                                  table.c.column, table.c.rule, table.c.severity, table.c.found)
                           .where(table.c.source == source, table.c.status == quarantine.OPEN),
                           connection)
        files = pd.read_sql(select(deliveries.c.id, deliveries.c.file_name, deliveries.c.rows_read)
                            .where(deliveries.c.source == source), connection)
    return held, files


def _last_and_newest(warehouse: Warehouse, source: str):
    """The newest extraction date of the source's recognised deliveries, and of anyone's."""
    table = models.Delivery.__table__
    recognised = table.c.outcome != Outcome.UNRECOGNISED
    with warehouse.engine().connect() as connection:
        last = connection.execute(select(func.max(table.c.extraction_date)).where(
            table.c.source == source, recognised)).scalar()
        newest = connection.execute(select(func.max(table.c.extraction_date))
                                    .where(recognised)).scalar()
    return last, newest


HELD = "kvarhallna_rader"
FRESHNESS = "leveransfarskhet"


def _held_spec(spec: SourceSpec) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(HELD, asset=spec.asset, blocking=False,
                             description="Rader som hålls kvar för förvaltaren, räknade. Varnar "
                                         "bara när en leverans fick större delen av sina rader "
                                         "kvarhållna.")


def _held_result(spec: SourceSpec, warehouse: Warehouse) -> dg.AssetCheckResult:
    held, files = retrying(lambda: _held_and_files(warehouse, spec.name))
    passed, description, metadata = held_summary(held, files)
    return dg.AssetCheckResult(asset_key=spec.asset, check_name=HELD, passed=passed,
                               severity=dg.AssetCheckSeverity.WARN, description=description,
                               metadata=metadata)


def days_since(last: dt.date | None, today: dt.date) -> int | None:
    return None if last is None else (today - last).days


def freshness(last: dt.date | None, reference: dt.date, reference_name: str,
              limit: int) -> tuple[bool, str, dict]:
    """(passed, description, metadata) for a source whose newest delivery was extracted on
    ``last``, measured against ``reference`` (today, or the landing zone's newest delivery)."""
    days = days_since(last, reference)
    metadata = {"senaste_leverans": str(last) if last else "ingen leverans",
                "senaste_kvartal": quarter_label(last) if last else "-",
                "dagar_sedan": days if days is not None else -1,
                "förväntas_inom_dagar": limit,
                "jämfört_med": f"{reference_name} {reference}"}
    if last is None:
        return False, f"ingen leverans än; förväntas minst var {limit}:e dag", metadata
    passed = days <= limit
    lag = "samma dag" if days == 0 else _plural(days, "dag", "dagar") + " före"
    description = (f"senaste leverans {last} ({lag} {reference_name} {reference}); "
                   f"förväntas minst var {limit}:e dag")
    if not passed:
        description = "försenad: " + description
    return passed, description, metadata


def _freshness_spec(spec: SourceSpec) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(FRESHNESS, asset=spec.asset, blocking=False,
                             description=f"Varnar när {spec.label} inte har levererat på mer än "
                                         f"{spec.freshness_days} dagar (källans förväntade "
                                         "leveranstakt).")


def _freshness_result(spec: SourceSpec, landing: LandingZone,
                      warehouse: Warehouse) -> dg.AssetCheckResult:
    last, newest = retrying(lambda: _last_and_newest(warehouse, spec.name))
    last = pd.Timestamp(last).date() if last is not None else None
    if landing.freshness_reference not in (TODAY, NEWEST_DELIVERY):
        reference, name = dt.date.fromisoformat(landing.freshness_reference), "dagen"
    elif landing.freshness_reference == NEWEST_DELIVERY and newest is not None:
        reference, name = pd.Timestamp(newest).date(), "leveranszonens senaste leverans"
    else:
        reference, name = dt.datetime.now(_ZONE).date(), "idag"
    passed, description, metadata = freshness(last, reference, name, spec.freshness_days)
    return dg.AssetCheckResult(asset_key=spec.asset, check_name=FRESHNESS, passed=passed,
                               severity=dg.AssetCheckSeverity.WARN, description=description,
                               metadata=metadata)


def specs(spec: SourceSpec) -> list[dg.AssetCheckSpec]:
    """The source's two checks, declared on its asset and evaluated in its step.

    As steps of their own, the sixteen checks cost Dagster's overhead of a step each (about
    0.15 s, ``benchmarks/nightly_daemon.py --floor``); as one step over all sources, that step was
    skipped whole when any one source's ingestion failed, so one broken delivery left every
    other source unchecked that night. In the asset's own step a source's checks run right after
    its ingestion and only a failed ingestion skips them, its own."""
    return [_held_spec(spec), _freshness_spec(spec)]


def results(spec: SourceSpec, selected: AbstractSet[dg.AssetCheckKey], landing: LandingZone,
            warehouse: Warehouse) -> list[dg.AssetCheckResult]:
    """The source's checks that the run selected, evaluated on the warehouse as it now is."""
    names = {key.name for key in selected if key.asset_key == dg.AssetKey(spec.asset)}
    return ([_held_result(spec, warehouse)] if HELD in names else []) + (
        [_freshness_result(spec, landing, warehouse)] if FRESHNESS in names else [])
