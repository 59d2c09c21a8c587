"""finsam's Dagster instance settings as Dagster itself reads them: the run queue takes one run
at a time and looks every second; a file finsam wrote earlier is brought up to date, one anyone
else wrote is kept."""

from __future__ import annotations

import dagster as dg

from orchestration.backfill import ensure_one_run_at_a_time
from orchestration.instance import PREVIOUS_SETTINGS, SETTINGS, write_settings


def _queue(home) -> tuple[int, int]:
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        coordinator = instance.run_coordinator
        return (instance.get_concurrency_config().run_queue_config.max_concurrent_runs,
                coordinator.dequeue_interval_seconds)
    finally:
        instance.dispose()


def test_a_new_home_queues_one_run_at_a_time_and_looks_every_second(tmp_path):
    write_settings(tmp_path)
    assert _queue(tmp_path) == (1, 1)
    # `finsam backfill` finds the queue set and adds nothing
    ensure_one_run_at_a_time(tmp_path)
    assert (tmp_path / "dagster.yaml").read_text(encoding="utf-8") == SETTINGS


def test_every_file_finsam_wrote_before_is_brought_up_to_date(tmp_path):
    for number, earlier in enumerate(PREVIOUS_SETTINGS):
        home = tmp_path / str(number)
        home.mkdir()
        (home / "dagster.yaml").write_text(earlier, encoding="utf-8")
        write_settings(home)
        assert (home / "dagster.yaml").read_text(encoding="utf-8") == SETTINGS
        assert _queue(home) == (1, 1)


def test_an_operators_own_settings_are_kept(tmp_path):
    own = "telemetry:\n  enabled: false\nrun_queue:\n  max_concurrent_runs: 3\n"
    (tmp_path / "dagster.yaml").write_text(own, encoding="utf-8")
    write_settings(tmp_path)
    ensure_one_run_at_a_time(tmp_path)
    assert (tmp_path / "dagster.yaml").read_text(encoding="utf-8") == own
    # Dagster's own default interval stays for them
    assert _queue(tmp_path) == (3, 5)
