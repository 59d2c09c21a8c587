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
    # py-spy --subprocesses names each sample's chain of processes; the default run launcher's
    # worker is a multiprocessing child of the daemon's code server (the measured profile of
    # 2026-12-07 had 0 worker samples when only `api execute_run` was looked for)
    worker = ('process 10:"dagster-daemon run";process 11:"python -m dagster api grpc '
              '--lazy-load-user-code";process 12:"python -B -c from multiprocessing.spawn import '
              'spawn_main; spawn_main(tracker_fd=12) --multiprocessing-fork";<module> (<string>:1)')
    raw = tmp_path / "py-spy.txt"
    raw.write_text(
        'process 10:"dagster-daemon run";run_loop (daemon.py:1) 50\n'
        'process 10:"dagster-daemon run";process 11:"python -m dagster api grpc";'
        'serve (server.py:1) 70\n'
        f'{worker};_find_and_load (<frozen>:1) 30\n'
        f'{worker};execute (plan.py:9);handle_new_event (event_methods.py:230);'
        'store_event (sqlite.py:3) 20\n'
        f'{worker};execute (plan.py:9);_check (assets/ingest/checks.py:110);'
        '_find_and_load (<frozen>:1) 10\n'
        f'{worker};execute (plan.py:9);ingest_source (assets/ingest/run.py:40) 40\n'
        # the worker's background threads wait all run long: not its work
        f'{worker};Thread._bootstrap (threading.py:1002);wait (threading.py:1) 90\n'
        f'{worker};process 13:"python dagster/_core/execution/scripts/watch_orphans.py 12";'
        'watch (watch_orphans.py:42) 15\n'
        'process 20:"python -m dagster api execute_run {}";_find_and_load (<frozen>:1) 100\n',
        encoding="utf-8")
    found = profile_shares(raw)
    assert found["samples"] == 200
    assert found["shares"] == {"imports": 0.7, "event-log writes": 0.1, "asset checks": 0.05}


def test_the_floors_free_job_is_finsams_job_without_its_work(monkeypatch, tmp_path):
    # the floor is only Dagster's cost of finsam's night if the free job has the same assets,
    # checks, dependencies and steps as the job `allt` the schedule launches
    from benchmarks import nightly_floor
    from orchestration import settings
    from orchestration.definitions import JOB, build_definitions

    monkeypatch.setenv("FINSAM_WAREHOUSE_URL", f"sqlite:///{tmp_path / 'lager.db'}")
    finsam = build_definitions(settings.from_environment(), settings.first_quarter(),
                               automation=False)
    free = nightly_floor.free
    real, mirror = finsam.resolve_asset_graph(), free.resolve_asset_graph()
    assert mirror.get_all_asset_keys() == real.get_all_asset_keys()
    assert mirror.asset_check_keys == real.asset_check_keys
    for key in real.get_all_asset_keys():
        assert mirror.get(key).parent_keys == real.get(key).parent_keys, key
    steps = {name: {node.name for node in definitions.resolve_job_def(job).nodes}
             for name, definitions, job in (("finsam", finsam, JOB),
                                            ("free", free, nightly_floor.FREE_JOB))}
    assert steps["free"] == steps["finsam"]
    with dg.DagsterInstance.ephemeral() as instance:
        result = free.resolve_job_def(nightly_floor.FREE_JOB).execute_in_process(
            instance=instance)
        assert result.success
        assert ({event.asset_key for event in result.get_asset_materialization_events()}
                == real.get_all_asset_keys())
        checks = [event for event in result.all_events
                  if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION]
        assert len(checks) == len(real.asset_check_keys)


def test_every_floor_setting_is_an_instance_dagster_accepts(tmp_path):
    # finsam's own dagster.yaml carries a run_queue block: a variant added on top of it gave two
    # run_queue blocks, or one beside a run_coordinator, which Dagster refuses at start
    from benchmarks.nightly_daemon import FLOOR_VARIANTS, floor_settings
    from orchestration.instance import prepare as prepare_instance

    finsams = tmp_path / "finsam"
    prepare_instance(finsams).dispose()
    settings = (finsams / "dagster.yaml").read_text(encoding="utf-8")
    coordinators = {}
    for number, variant in enumerate(FLOOR_VARIANTS.values()):
        home = tmp_path / f"golv{number}"
        home.mkdir()
        text = floor_settings(settings, variant)
        assert text.count("run_queue:") <= 1 and "run_monitoring:" in text
        (home / "dagster.yaml").write_text(text, encoding="utf-8")
        with dg.DagsterInstance.from_config(str(home)) as instance:
            coordinator = instance.run_coordinator
            coordinators[number] = (type(coordinator).__name__,
                                    getattr(coordinator, "dequeue_interval_seconds", None))
    # finsam's, Dagster's default, in threads, none (Dagster's DefaultRunCoordinator is its
    # SyncInMemoryRunCoordinator under another name)
    assert coordinators == {0: ("QueuedRunCoordinator", 1), 1: ("QueuedRunCoordinator", 5),
                            2: ("QueuedRunCoordinator", 1),
                            3: ("SyncInMemoryRunCoordinator", None)}
