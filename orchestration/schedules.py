"""The nightly schedule, the new-delivery sensor and the alert written when a run fails.

Both the schedule and the sensor launch the job ``allt`` over a range of quarters as one run. They
ask only for quarters the code location knows (its partitions are fixed when it loads, see
``orchestration/partitions.py``); a location loaded before the current quarter began refreshes the
last quarter it knows and says in the tick's log that it should be reloaded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from assets import runs
from assets.ingest.reading import known
from assets.resources import LandingZone, Warehouse
from finsam.periods import quarter
from orchestration.partitions import TIMEZONE, quarter_of_day, range_tags
from sources.base import Delivery
from sources.landing import UNSETTLED, scan_source
from sources.registry import REGISTRY
from warehouse.db import make_engine

NIGHTLY_CRON = "0 2 * * *"
LATE_DELIVERY_MONTHS = 2   # the previous quarter stays open this long into a new one
ALERTS_FILE = "alerts.jsonl"
REASON_TAG = "finsam/orsak"


def nightly_range(day: dt.date) -> tuple[str, str]:
    """Quarters to refresh: the current one, and the previous one during the first two months of
    a new quarter (late deliveries and corrections)."""
    current = quarter(quarter_of_day(day))
    months_in = day.month - current.start_time.month
    first = current - 1 if months_in < LATE_DELIVERY_MONTHS else current
    return quarter_of_day(first.start_time.date()), quarter_of_day(day)


def clamp(first: str, last: str, keys: list[str]) -> tuple[str, str]:
    """``first``..``last`` moved inside the location's partitions ``keys`` (oldest first)."""
    def inside(key: str) -> str:
        if quarter(key) < quarter(keys[0]):
            return keys[0]
        if quarter(key) > quarter(keys[-1]):
            return keys[-1]
        return key
    return inside(first), inside(last)


def range_request(first: str, last: str, keys: list[str], *, reason: str,
                  log=None, run_key: str | None = None) -> dg.RunRequest:
    """One run over the quarters ``first``..``last``, kept to the quarters the location knows."""
    start, end = clamp(first, last, keys)
    if log is not None and quarter(last) > quarter(keys[-1]):
        log.warning(f"Kvartalet {last} finns inte bland partitionerna (senaste är {keys[-1]}): "
                    "kodplatsen laddades innan kvartalet började. Ladda om den (Deployment → "
                    "Reload i webbgränssnittet, eller starta om dagster); till dess körs "
                    f"{start}–{end}.")
    return dg.RunRequest(run_key=run_key, tags={**range_tags(start, end), REASON_TAG: reason})


def landing_fingerprint(root: Path) -> str:
    """Changes whenever a file is added, replaced or removed in the landing zone (names, sizes and
    times only: nothing is read)."""
    entries = sorted(f"{path.relative_to(root)}:{path.stat().st_size}:{path.stat().st_mtime_ns}"
                     for path in root.rglob("*") if path.is_file())
    return hashlib.sha256("\n".join(entries).encode()).hexdigest()


@dataclass
class NewDeliveries:
    """Deliveries in the landing zone the warehouse's manifest has not seen, and how many files are
    still being written (they count at a later tick)."""

    deliveries: list[Delivery] = field(default_factory=list)
    settling: int = 0

    def key(self) -> str:
        """Names this set of deliveries: the same files never start two runs."""
        text = "\n".join(sorted(f"{item.source}/{item.file_name}:{item.size}:{item.mtime_ns}"
                                for item in self.deliveries))
        return hashlib.sha256(text.encode()).hexdigest()


def _existing_engine(url: str):
    """An engine on the warehouse if it exists, None if there is none yet. Never creates one and
    never migrates it: the sensor only reads the manifest."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        return None
    return make_engine(url)


def new_deliveries(landing: LandingZone, warehouse_url: str) -> NewDeliveries:
    """What a run would take in now: recognised, settled deliveries whose name, size and time are
    not in the manifest (the manifest keeps them for exactly this comparison)."""
    settings = landing.settings()
    found = NewDeliveries()
    engine = _existing_engine(warehouse_url)
    try:
        connection = engine.connect() if engine is not None else None
    except SQLAlchemyError:
        connection = None
    try:
        has_manifest = connection is not None and inspect(connection).has_table("delivery")
        for spec in REGISTRY.specs():
            scan = scan_source(landing.root, spec, today=settings.today,
                               settle_seconds=settings.settle_seconds)
            found.settling += sum(1 for item in scan.waiting if item.kind == UNSETTLED)
            seen = known(connection, spec.name) if has_manifest else None
            waiting = {name for name, _ in seen.waiting} if seen else set()
            for delivery in scan.deliveries:
                signature = (delivery.file_name, delivery.size, delivery.mtime_ns)
                if seen is None or (signature not in seen.signatures
                                    and delivery.file_name not in waiting):
                    found.deliveries.append(delivery)
    finally:
        if connection is not None:
            connection.close()
        if engine is not None:
            engine.dispose()
    return found


def write_alert(home: Path, run_id: str, failed_steps: list[str], reason: str) -> Path:
    """Append one line per failed run to ``<DAGSTER_HOME>/alerts.jsonl`` for whoever watches."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / ALERTS_FILE
    line = {"tid": dt.datetime.now(dt.UTC).isoformat(), "körning": run_id,
            "steg": failed_steps, "orsak": reason}
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    return path


def build(job: dg.UnresolvedAssetJobDefinition,
          partitions: dg.StaticPartitionsDefinition) -> tuple[list, list]:
    keys = list(partitions.get_partition_keys())

    @dg.schedule(job=job, cron_schedule=NIGHTLY_CRON, execution_timezone=TIMEZONE,
                 name="nattlig_korning", default_status=dg.DefaultScheduleStatus.RUNNING)
    def nightly(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        """Varje natt kl. 02: nya leveranser in, och utdata för kvartalet som pågår (under ett
        nytt kvartals två första månader även för det förra)."""
        day = context.scheduled_execution_time.astimezone(ZoneInfo(TIMEZONE)).date()
        first, last = nightly_range(day)
        return range_request(first, last, keys, reason="nattlig körning", log=context.log)

    @dg.sensor(job=job, name="nya_leveranser", minimum_interval_seconds=300,
               default_status=dg.DefaultSensorStatus.RUNNING)
    def new_deliveries_sensor(context: dg.SensorEvaluationContext, landing: LandingZone,
                              warehouse: Warehouse):
        """Startar en körning när en leverans som lagret inte har sett har landat, för kvartalen
        då de nya filerna togs ut. Inget nytt: ingen körning."""
        if not landing.root.is_dir():
            return dg.SkipReason(f"leveranszonen {landing.root} finns inte")
        fingerprint = landing_fingerprint(landing.root)
        if fingerprint == context.cursor:
            return dg.SkipReason("inga ändringar i leveranszonen")
        found = new_deliveries(landing, warehouse.url)
        # a file still being written is looked at again at the next tick
        cursor = context.cursor if found.settling else fingerprint
        if not found.deliveries:
            waiting = (f"; {found.settling} filer skrivs fortfarande" if found.settling else "")
            return dg.SensorResult(skip_reason=f"inga nya leveranser: allt i leveranszonen är "
                                               f"redan inläst{waiting}", cursor=cursor)
        dates = [item.extraction_date for item in found.deliveries]
        request = range_request(quarter_of_day(min(dates)), quarter_of_day(max(dates)), keys,
                                reason=f"{len(found.deliveries)} nya leveranser",
                                log=context.log, run_key=found.key())
        return dg.SensorResult(run_requests=[request], cursor=cursor)

    @dg.run_failure_sensor(name="larm_vid_fel", default_status=dg.DefaultSensorStatus.RUNNING)
    def alert_on_failure(context: dg.RunFailureSensorContext) -> None:
        """Skriver varje misslyckad körning till alerts.jsonl i DAGSTER_HOME."""
        failed = [event.step_key for event in context.get_step_failure_events()]
        reason = context.failure_event.message or "okänt fel"
        write_alert(Path(os.environ.get("DAGSTER_HOME", ".")), context.dagster_run.run_id,
                    failed, reason)

    @dg.sensor(name="avbrutna_korningar", minimum_interval_seconds=60,
               default_status=dg.DefaultSensorStatus.RUNNING)
    def dead_runs(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        """Markerar körningar vars process inte längre finns (kill -9, slut på minne) som
        misslyckade, så att kön går vidare och larm_vid_fel skriver larmet."""
        # Dagster's run monitoring cannot tell that a worker of the default run launcher died
        # (no worker health check): such a run would stay STARTED until its time limit, and the
        # queue, which takes one run at a time, would wait behind it
        failed = runs.fail_dead_runs(context.instance)
        return dg.SkipReason(f"{len(failed)} avbrutna körningar markerade som misslyckade"
                             if failed else "inga avbrutna körningar")

    return [nightly], [new_deliveries_sensor, alert_on_failure, dead_runs]

