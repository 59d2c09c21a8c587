"""The nightly schedule, the delivery sensor and the failure alert, with Dagster's test utilities."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from assets.ingest.run import ingest_source
from assets.resources import LandingZone, Warehouse
from orchestration.definitions import build_definitions, defs
from orchestration.partitions import RANGE_END_TAG, RANGE_START_TAG
from orchestration.schedules import clamp, nightly_range, write_alert
from orchestration.settings import explicit
from sources.registry import REGISTRY

STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.mark.parametrize("day, expected", [
    (dt.date(2024, 10, 1), ("2024Q3", "2024Q4")),    # first day of a quarter
    (dt.date(2024, 11, 30), ("2024Q3", "2024Q4")),   # still within two months
    (dt.date(2024, 12, 1), ("2024Q4", "2024Q4")),    # third month: current only
    (dt.date(2025, 1, 15), ("2024Q4", "2025Q1")),    # across the year end
])
def test_nightly_range(day, expected):
    assert nightly_range(day) == expected


def test_clamp_keeps_a_range_inside_the_partitions():
    keys = ["2024Q1", "2024Q2", "2024Q3"]
    assert clamp("2023Q4", "2024Q2", keys) == ("2024Q1", "2024Q2")
    assert clamp("2024Q3", "2025Q1", keys) == ("2024Q3", "2024Q3")
    assert clamp("2025Q1", "2025Q2", keys) == ("2024Q3", "2024Q3")


def test_schedule_requests_the_quarters_at_two_in_the_night_stockholm_time():
    schedule = defs.resolve_schedule_def("nattlig_korning")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Europe/Stockholm"
    when = dt.datetime(2025, 2, 3, 2, 0, tzinfo=STOCKHOLM)
    context = dg.build_schedule_context(scheduled_execution_time=when)
    request = schedule.evaluate_tick(context).run_requests[0]
    assert (request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG]) == ("2024Q4", "2025Q1")


def test_a_location_loaded_before_the_quarter_began_refreshes_what_it_knows(tmp_path):
    """A code server started in 2024Q4 still runs on 2 February 2025: its partitions end at
    2024Q4, so the schedule asks for that and logs that the location should be reloaded."""
    resources = explicit(tmp_path, f"sqlite:///{tmp_path / 'w.db'}", tmp_path, "p", "v")
    stale = build_definitions(resources, "2022Q1", "2024Q4")
    schedule = stale.resolve_schedule_def("nattlig_korning")
    when = dt.datetime(2025, 2, 3, 2, 0, tzinfo=STOCKHOLM)
    request = schedule.evaluate_tick(
        dg.build_schedule_context(scheduled_execution_time=when)).run_requests[0]
    assert (request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG]) == ("2024Q4", "2024Q4")


def _sensor_tick(landing, url, cursor=None):
    sensor = defs.resolve_sensor_def("nya_leveranser")
    resources = {"landing": LandingZone(path=str(landing), settle_seconds=0),
                 "warehouse": Warehouse(url=url)}
    # the warehouse resource is a context manager (a run's lock): entered as the daemon does
    with dg.build_sensor_context(cursor=cursor, resources=resources) as context:
        return sensor.evaluate_tick(context)


@pytest.fixture
def loaded(sample_landing, engine, keys, warehouse_url):
    """The samples, every one of them already in the warehouse."""
    for source in REGISTRY.names:
        ingest_source(source, sample_landing, engine, keys)
    return sample_landing, warehouse_url


def test_nothing_new_starts_no_run(loaded):
    """Opening the UI evaluates the sensor at once: with every delivery already in the warehouse
    it must not start a run (it did, for 5.5 minutes, writing all-zero outputs)."""
    landing, url = loaded
    quiet = _sensor_tick(landing, url)
    assert quiet.run_requests == [] and "inga nya leveranser" in quiet.skip_message
    assert quiet.cursor    # the next tick does not look at the manifest again
    again = _sensor_tick(landing, url, quiet.cursor)
    assert again.run_requests == [] and "inga ändringar" in again.skip_message


def test_a_new_delivery_starts_one_run_for_its_quarter(loaded):
    landing, url = loaded
    quiet = _sensor_tick(landing, url)
    shutil.copy(landing / "fk" / "20241130_forman.csv", landing / "fk" / "20250105_forman.csv")
    tick = _sensor_tick(landing, url, quiet.cursor)
    assert len(tick.run_requests) == 1
    request = tick.run_requests[0]
    assert (request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG]) == ("2025Q1", "2025Q1")
    assert "1 nya leveranser" in request.tags["finsam/orsak"]
    # the same new file asked for twice is the same run (Dagster skips a repeated run key)
    assert _sensor_tick(landing, url, quiet.cursor).run_requests[0].run_key == request.run_key


def test_a_file_still_being_written_waits(loaded):
    landing, url = loaded
    quiet = _sensor_tick(landing, url)
    path = landing / "fk" / "20250105_forman.csv"
    path.write_text("PERSONNR;FORMAN\n", encoding="utf-8")
    sensor = defs.resolve_sensor_def("nya_leveranser")
    resources = {"landing": LandingZone(path=str(landing), settle_seconds=3600),
                 "warehouse": Warehouse(url=url)}
    with dg.build_sensor_context(cursor=quiet.cursor, resources=resources) as context:
        tick = sensor.evaluate_tick(context)
    assert tick.run_requests == [] and "skrivs fortfarande" in tick.skip_message
    assert tick.cursor == quiet.cursor     # looked at again at the next tick
    os.utime(path, (0, 0))
    assert len(_sensor_tick(landing, url, quiet.cursor).run_requests) == 1


def test_without_a_warehouse_every_delivery_is_new(sample_landing, tmp_path):
    url = f"sqlite:///{tmp_path / 'none' / 'w.db'}"
    tick = _sensor_tick(sample_landing, url)
    assert len(tick.run_requests) == 1
    assert "9 nya leveranser" in tick.run_requests[0].tags["finsam/orsak"]
    assert not (tmp_path / "none").exists()     # the sensor never creates a warehouse


def test_missing_landing_zone_is_skipped_with_a_reason(tmp_path):
    result = _sensor_tick(tmp_path / "nope", f"sqlite:///{tmp_path / 'w.db'}")
    assert result.run_requests == [] and "finns inte" in result.skip_message


def test_alert_lines_say_what_failed(tmp_path):
    path = write_alert(tmp_path, "run-1", ["fk_benefits"], "databasen är låst")
    write_alert(tmp_path, "run-2", [], "okänt")
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["körning"] for line in lines] == ["run-1", "run-2"]
    assert lines[0]["steg"] == ["fk_benefits"] and lines[0]["orsak"] == "databasen är låst"
