"""The nightly benchmark's two paths at a tiny size: the schedule's request run by a real
`dagster-daemon`, and `finsam run`, on the same warehouse and day. Nothing is timed here (speed is
shown in BENCHMARKS.md, never in a test); the test keeps the measurement from rotting and checks
it measures what it says."""

from __future__ import annotations

import json
import os

import dagster as dg
import pytest

from benchmarks.nightly_daemon import markdown, measure, prepare, profile_shares
from orchestration.partitions import RANGE_END_TAG, RANGE_START_TAG


def _expected_quarters(day) -> tuple[str, str]:
    # the schedule's rule, written out: the day's quarter, and the one before it during the
    # first two months of a quarter
    index = (day.month - 1) // 3
    current = f"{day.year}Q{index + 1}"
    if (day.month - 1) % 3 >= 2:
        return current, current
    previous = f"{day.year - 1}Q4" if index == 0 else f"{day.year}Q{index}"
    return previous, current


# five runs and a daemon: minutes even at this size, so opt-in like the other slow benchmarks (the
# job launched through a real daemon is asserted in the normal suite by test_backfill)
@pytest.mark.skipif(not os.environ.get("FINSAM_BENCHMARK_SLOW"),
                    reason="set FINSAM_BENCHMARK_SLOW=1 to run the nightly benchmark's two paths")
def test_both_paths_run_the_same_night_and_are_reported(tmp_path):
    setup = prepare(tmp_path / "natt", scale=0.0005, years=1, seed=3)
    assert setup.quarters == _expected_quarters(setup.day)
    report = measure(setup, repetitions=2)
    (daemon, *_), (cli, *_) = report["runs"]["daemon"], report["runs"]["cli"]
    # both read the night's deliveries (measure() refuses figures when the rows, tables or
    # files the two paths leave behind differ)
    assert report["rows_read"] > 0
    assert daemon["rows_read"] == cli["rows_read"] == report["rows_read"]
    # the scheduled path: queued, taken by the daemon, every step in the run's one worker
    assert daemon["enqueued"] and not daemon["worker_per_step"]
    for part in ("create_s", "queue_s", "worker_start_s", "run_s"):
        assert daemon[part] >= 0, part
    assert abs(daemon["create_s"] + daemon["queue_s"] + daemon["worker_start_s"]
               + daemon["run_s"] - daemon["wall"]) < 0.01
    assert cli["process_start_s"] > 0 and cli["run_s"] > 0
    assert daemon["check_steps"] > 0 and daemon["check_steps"] == cli["check_steps"]
    instance = dg.DagsterInstance.from_config(str(setup.home))
    try:
        scheduled = instance.get_run_by_id(daemon["run_id"])
        by_hand = instance.get_run_by_id(cli["run_id"])
        created = sorted((instance.get_run_record_by_id(result["run_id"]).create_timestamp, path)
                         for path in ("daemon", "cli") for result in report["runs"][path])
    finally:
        instance.dispose()
    assert (scheduled.tags[RANGE_START_TAG], scheduled.tags[RANGE_END_TAG]) == setup.quarters
    assert scheduled.tags["finsam/orsak"] == "nattlig körning"
    assert by_hand.tags["finsam/command"] == "run" and "finsam/orsak" not in by_hand.tags
    # alternated: the first round starts with the command line, the second with the daemon
    assert [path for _, path in created] == ["cli", "daemon", "daemon", "cli"]
    saved = json.loads((setup.workdir / "nightly_daemon.json").read_text(encoding="utf-8"))
    assert saved["ratio"] == report["ratio"] > 0
    text = markdown(report)
    assert "scheduled / CLI" in text and "≤ 5 s" in text and "uptime" in text


def test_profile_shares_count_only_the_run_workers_samples(tmp_path):
    raw = tmp_path / "py-spy.txt"
    raw.write_text(
        'process 10:"dagster-daemon run";run_loop (daemon.py:1) 50\n'
        'process 11:"python -m dagster api execute_run {}";_find_and_load (<frozen>:1) 30\n'
        'process 11:"python -m dagster api execute_run {}";execute (plan.py:9);'
        'handle_new_event (event_methods.py:230);store_event (sqlite.py:3) 20\n'
        'process 11:"python -m dagster api execute_run {}";execute (plan.py:9);'
        '_check (assets/ingest/checks.py:110);_find_and_load (<frozen>:1) 10\n'
        'process 11:"python -m dagster api execute_run {}";execute (plan.py:9);'
        'ingest_source (assets/ingest/run.py:40) 40\n', encoding="utf-8")
    found = profile_shares(raw)
    assert found["samples"] == 100
    assert found["shares"] == {"imports": 0.4, "event-log writes": 0.2, "asset checks": 0.1}
