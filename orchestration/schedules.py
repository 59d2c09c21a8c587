"""The nightly schedule, the new-delivery sensor and the alert written when a run fails."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from assets.resources import LandingZone
from orchestration.partitions import TIMEZONE

NIGHTLY_CRON = "0 2 * * *"
LATE_DELIVERY_MONTHS = 2   # the previous quarter stays open this long into a new one
ALERTS_FILE = "alerts.jsonl"


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def nightly_range(day: dt.date) -> tuple[str, str]:
    """Partition keys to refresh: the current quarter, and the previous one during the first two
    months of a new quarter (late deliveries and corrections)."""
    current = quarter_start(day)
    months_in = day.month - current.month
    first = current
    if months_in < LATE_DELIVERY_MONTHS:
        first = quarter_start(current - dt.timedelta(days=1))
    return first.isoformat(), current.isoformat()


def range_request(first: str, last: str, *, run_key: str | None = None,
                  reason: str) -> dg.RunRequest:
    return dg.RunRequest(run_key=run_key, tags={
        ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last,
        "finsam/orsak": reason})


def landing_fingerprint(root: Path) -> str:
    """Changes whenever a file is added, replaced or removed in the landing zone."""
    entries = sorted(f"{path.relative_to(root)}:{path.stat().st_size}:{path.stat().st_mtime_ns}"
                     for path in root.rglob("*") if path.is_file())
    return hashlib.sha256("\n".join(entries).encode()).hexdigest()


def write_alert(home: Path, run_id: str, failed_steps: list[str], reason: str) -> Path:
    """Append one line per failed run to ``<DAGSTER_HOME>/alerts.jsonl`` for whoever watches."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / ALERTS_FILE
    line = {"tid": dt.datetime.now(dt.timezone.utc).isoformat(), "körning": run_id,
            "steg": failed_steps, "orsak": reason}
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    return path


def build(job: dg.UnresolvedAssetJobDefinition) -> tuple[list, list]:
    @dg.schedule(job=job, cron_schedule=NIGHTLY_CRON, execution_timezone=TIMEZONE,
                 name="nattlig_korning", default_status=dg.DefaultScheduleStatus.RUNNING)
    def nightly(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        """Kvartalet som pågår, och under nya kvartalets två första månader även det förra."""
        day = context.scheduled_execution_time.astimezone(ZoneInfo(TIMEZONE)).date()
        first, last = nightly_range(day)
        return range_request(first, last, reason="nattlig körning")

    @dg.sensor(job=job, name="nya_leveranser", minimum_interval_seconds=300,
               default_status=dg.DefaultSensorStatus.RUNNING)
    def new_deliveries(context: dg.SensorEvaluationContext, landing: LandingZone):
        """Startar en körning för kvartalet som pågår när något har levererats."""
        if not landing.root.is_dir():
            return dg.SkipReason(f"leveranszonen {landing.root} finns inte")
        fingerprint = landing_fingerprint(landing.root)
        if fingerprint == context.cursor:
            return dg.SkipReason("inga nya leveranser")
        context.update_cursor(fingerprint)
        current = quarter_start(dt.datetime.now(ZoneInfo(TIMEZONE)).date()).isoformat()
        return range_request(current, current, run_key=fingerprint, reason="nya leveranser")

    @dg.run_failure_sensor(name="larm_vid_fel", default_status=dg.DefaultSensorStatus.RUNNING)
    def alert_on_failure(context: dg.RunFailureSensorContext) -> None:
        """Skriver varje misslyckad körning till alerts.jsonl i DAGSTER_HOME."""
        failed = [event.step_key for event in context.get_step_failure_events()]
        reason = context.failure_event.message or "okänt fel"
        write_alert(Path(os.environ.get("DAGSTER_HOME", ".")), context.dagster_run.run_id,
                    failed, reason)

    return [nightly], [new_deliveries, alert_on_failure]
