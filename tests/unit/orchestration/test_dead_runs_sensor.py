"""The sensor avbrutna_korningar: a run whose process was killed outright (kill -9) is marked
failed, which Dagster's run monitoring cannot see with the default run launcher; a live run is
left alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import dagster as dg

from assets import runs
from orchestration.definitions import defs

ROOT = Path(__file__).resolve().parents[3]

# A run that tags itself with its process, as the warehouse resource does, then dies by SIGKILL
# in the middle of its op: no Dagster code gets to record that it ended.
KILLED_RUN = """
import os, signal, sys
import dagster as dg
from assets import runs

@dg.op
def dies(context):
    context.instance.add_run_tags(context.run_id, runs.tags())
    os.kill(os.getpid(), signal.SIGKILL)

@dg.job
def killed():
    dies()

killed.execute_in_process(instance=dg.DagsterInstance.from_config(sys.argv[1]))
"""


def _tick(instance: dg.DagsterInstance):
    sensor = defs.resolve_sensor_def("avbrutna_korningar")
    with dg.build_sensor_context(instance=instance) as context:
        return sensor.evaluate_tick(context)


def test_a_killed_run_is_marked_failed_and_a_live_one_is_not(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    child = subprocess.run([sys.executable, "-c", KILLED_RUN, str(home)], cwd=ROOT,
                           env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                           timeout=300, check=False)
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    instance = dg.DagsterInstance.from_config(str(home))
    (dead,) = instance.get_runs()
    assert dead.status == dg.DagsterRunStatus.STARTED          # what Dagster alone keeps
    # a run of this very process, which is alive: not yet ended as far as Dagster knows
    live = instance.create_run_for_job(dg.GraphDefinition("levande").to_job(), tags=runs.tags())

    result = _tick(instance)
    assert "1 avbrutna" in result.skip_message
    assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
    assert instance.get_run_by_id(live.run_id).status == dg.DagsterRunStatus.NOT_STARTED
    failure = instance.get_records_for_run(
        dead.run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
    assert failure and failure[0].event_log_entry.dagster_event.message == runs.DEAD
    # the next tick finds nothing more
    assert _tick(instance).skip_message == "inga avbrutna körningar"
