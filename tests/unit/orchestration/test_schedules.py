"""The nightly schedule, the delivery sensor and the failure alert, with Dagster's test utilities."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from assets.resources import LandingZone
from orchestration.definitions import defs
from orchestration.schedules import nightly_range, write_alert

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


@pytest.mark.parametrize("day, expected", [
    (dt.date(2024, 10, 1), ("2024-07-01", "2024-10-01")),    # first day of a quarter
    (dt.date(2024, 11, 30), ("2024-07-01", "2024-10-01")),   # still within two months
    (dt.date(2024, 12, 1), ("2024-10-01", "2024-10-01")),    # third month: current only
    (dt.date(2025, 1, 15), ("2024-10-01", "2025-01-01")),    # across the year end
])
def test_nightly_range(day, expected):
    assert nightly_range(day) == expected


def test_schedule_requests_the_quarters_at_two_in_the_night_stockholm_time():
    schedule = defs.get_schedule_def("nattlig_korning")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Europe/Stockholm"
    when = dt.datetime(2025, 2, 3, 2, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
    context = dg.build_schedule_context(scheduled_execution_time=when)
    request = schedule.evaluate_tick(context).run_requests[0]
    assert (request.tags[RANGE_START], request.tags[RANGE_END]) == ("2024-10-01", "2025-01-01")


def test_sensor_starts_a_run_only_when_something_new_lands(tmp_path):
    sensor = defs.get_sensor_def("nya_leveranser")
    landing = tmp_path / "landing"
    (landing / "fk").mkdir(parents=True)
    resources = {"landing": LandingZone(path=str(landing))}

    context = dg.build_sensor_context(resources=resources)
    first = sensor.evaluate_tick(context)
    assert len(first.run_requests) == 1
    request = first.run_requests[0]
    assert request.tags[RANGE_START] == request.tags[RANGE_END]

    quiet = sensor.evaluate_tick(dg.build_sensor_context(cursor=first.cursor, resources=resources))
    assert quiet.run_requests == [] and quiet.skip_message

    (landing / "fk" / "20241201_forman.csv").write_text("PERSONNR;FORMAN\n")
    again = sensor.evaluate_tick(dg.build_sensor_context(cursor=first.cursor, resources=resources))
    assert len(again.run_requests) == 1 and again.cursor != first.cursor


def test_missing_landing_zone_is_skipped_with_a_reason(tmp_path):
    sensor = defs.get_sensor_def("nya_leveranser")
    result = sensor.evaluate_tick(dg.build_sensor_context(
        resources={"landing": LandingZone(path=str(tmp_path / "nope"))}))
    assert result.run_requests == [] and "finns inte" in result.skip_message


def test_alert_lines_say_what_failed(tmp_path):
    path = write_alert(tmp_path, "run-1", ["fk_benefits"], "databasen är låst")
    write_alert(tmp_path, "run-2", [], "okänt")
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["körning"] for line in lines] == ["run-1", "run-2"]
    assert lines[0]["steg"] == ["fk_benefits"] and lines[0]["orsak"] == "databasen är låst"
