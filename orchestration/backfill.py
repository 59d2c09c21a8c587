"""`finsam backfill`: a Dagster backfill of the job ``allt``, one run per quarter, oldest first,
run by Dagster's daemon: the same path as the schedule, the sensor and the UI.

The backfill is submitted with Dagster's own command (``dagster job backfill``), so it is a real
job backfill over the quarters' partitions: it shows under Overview → Backfills with a run per
quarter, each run tagged ``dagster/backfill`` and ``dagster/partition``. The runs wait in the
instance's run queue; the queue takes one run at a time (``concurrency: runs:
max_concurrent_runs: 1`` in ``dagster.yaml``, which :func:`ensure_one_run_at_a_time` adds with
finsam's other queue setting, ``orchestration.instance.QUEUE``), so the quarters run oldest first
and never two at once against the same warehouse.

Who runs the queue: a daemon that is already running (`dagster dev`, `dagster-daemon run`), or
else the command itself starts one for as long as the backfill's runs take, loading the code
location ``finsam`` without its schedule and sensor (``orchestration/daemon_location.py``), and
stops it when they have ended.

Resuming:
- from the command line: the same command again finds the newest backfill over the same range;
  if some of its quarters did not succeed, it submits a new backfill of only those quarters,
  tagged with the one it continues;
- in the UI: the backfill's page offers to re-execute its failed runs (needs the daemon).

Everything here is Dagster's public surface: its command-line tools, ``DagsterInstance`` and
``RunsFilter``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from assets import runs
from finsam.errors import RunFailed
from finsam.masking import mask_text
from orchestration.definitions import JOB
from orchestration.instance import QUEUE
from orchestration.partitions import PARTITION_TAG, quarter_keys
from orchestration.schedules import write_alert

LOCATION = "finsam"     # the code location's name (pyproject.toml, [tool.dagster])
BACKFILL_TAG = "dagster/backfill"
RANGE_TAG = "finsam/backfill_range"
PARENT_TAG = "finsam/fortsatter"        # the backfill this one resumes
ROOT_TAG = "finsam/forsta_backfill"     # the first backfill of a chain of resumptions
WORKSPACE_FILE = "finsam_workspace.yaml"
ONE_RUN_AT_A_TIME = QUEUE
_QUEUE_SETTINGS = ("concurrency:", "run_queue:", "run_coordinator:")
_ENDED = (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)
_LAUNCHED = re.compile(r"Launched backfill job `([^`]+)`")
ROOT = Path(__file__).resolve().parents[1]
DAEMON_ALIVE_SECONDS = 60


def quarters(first: str, last: str) -> list[str]:
    keys = quarter_keys(first, last)
    if not keys:
        raise ValueError(f"--to {last} ligger före --from {first}")
    return keys


@dataclass
class BackfillResult:
    backfill_id: str
    resumed: bool
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    parent_id: str | None = None


def ensure_one_run_at_a_time(home: Path) -> None:
    """Make the instance's run queue take one run at a time, unless its ``dagster.yaml`` already
    says how the queue works (an operator's choice is kept)."""
    settings = home / "dagster.yaml"
    text = settings.read_text(encoding="utf-8") if settings.exists() else ""
    if not any(line.startswith(_QUEUE_SETTINGS) for line in text.splitlines()):
        settings.write_text(text + ONE_RUN_AT_A_TIME, encoding="utf-8")


def _workspace(home: Path) -> Path:
    """A workspace naming the code location ``finsam`` as `dagster dev` names it (the UI finds a
    backfill by its location's name), loaded without the schedule and the sensor."""
    path = home / WORKSPACE_FILE
    path.write_text(
        "load_from:\n  - python_module:\n"
        "      module_name: orchestration.daemon_location\n"
        f"      location_name: {LOCATION}\n"
        f"      working_directory: {json.dumps(str(ROOT))}\n", encoding="utf-8")
    return path


def _backfills(instance: dg.DagsterInstance, span: str) -> list:
    """This range's backfills, newest first."""
    found = [item for item in instance.get_backfills(limit=1000)
             if item.tags.get(RANGE_TAG) == span]
    return sorted(found, key=lambda item: item.backfill_timestamp, reverse=True)


def _succeeded(instance: dg.DagsterInstance, backfills: list, root: str) -> set[str]:
    """The quarters whose newest run in the chain of backfills starting at ``root`` succeeded."""
    chain = [item.backfill_id for item in backfills
             if item.backfill_id == root or item.tags.get(ROOT_TAG) == root]
    newest: dict[str, tuple[float, bool]] = {}
    for backfill_id in chain:
        for record in instance.get_run_records(
                filters=dg.RunsFilter(tags={BACKFILL_TAG: backfill_id})):
            key = record.dagster_run.tags.get(PARTITION_TAG)
            created = record.create_timestamp.timestamp()
            if key and (key not in newest or created > newest[key][0]):
                newest[key] = (created, record.dagster_run.is_success)
    return {key for key, (_, success) in newest.items() if success}


def _submit(env: Mapping[str, str], workspace: Path, keys: list[str], tags: dict[str, str]) -> str:
    """Submit the backfill with Dagster's own command; returns its id."""
    command = [str(Path(sys.executable).with_name("dagster")), "job", "backfill",
               "-w", str(workspace), "-j", JOB, "--partitions", ",".join(keys),
               "--tags", json.dumps(tags), "--noprompt"]
    done = subprocess.run(command, env=dict(env), cwd=ROOT, capture_output=True, text=True,
                          check=False)
    found = _LAUNCHED.search(done.stdout)
    if done.returncode != 0 or found is None:
        raise RunFailed("-", [], "Dagster tog inte emot backfillen",
                        details=f"{' '.join(command)}\n{done.stdout}\n{done.stderr}")
    return found.group(1)


def daemon_is_running(instance: dg.DagsterInstance) -> bool:
    """Whether a Dagster daemon has reported in the last minute (`dagster dev` runs one)."""
    now = time.time()
    return any(now - beat.timestamp < DAEMON_ALIVE_SECONDS
               for beat in instance.get_daemon_heartbeats().values())


def _start_daemon(env: Mapping[str, str], workspace: Path, log: Path) -> subprocess.Popen:
    command = [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-w", str(workspace)]
    with log.open("a", encoding="utf-8") as handle:
        return subprocess.Popen(command, env=dict(env), cwd=ROOT, stdout=handle,
                                stderr=subprocess.STDOUT, start_new_session=True)


def _stop(daemon: subprocess.Popen) -> None:
    # the daemon and the code server it started share the session we gave it: end them together
    if daemon.poll() is None:
        os.killpg(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait()


def _failure(instance: dg.DagsterInstance, run: dg.DagsterRun) -> tuple[list[str], str]:
    """The failed steps of a run and, on one masked line, what went wrong in each (the innermost
    of Dagster's wrapped exceptions)."""
    records = instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE).records
    steps, reasons = [], []
    for record in records:
        steps.append(record.event_log_entry.step_key)
        error = record.event_log_entry.dagster_event.event_specific_data.error
        while error is not None and error.cause is not None:
            error = error.cause
        if error is not None:
            reasons.append(" ".join(mask_text(error.message).split()))
    if not reasons:
        # no step failed: the run as a whole did. Its process died (the code server's engine
        # event says how, e.g. "terminated by signal 9 (SIGKILL)"), or it timed out
        for kind in (dg.DagsterEventType.ENGINE_EVENT, dg.DagsterEventType.RUN_FAILURE):
            records = instance.get_records_for_run(run.run_id, of_type=kind).records[-1:]
            reasons += [" ".join(mask_text(record.event_log_entry.message or "").split())
                        for record in records]
    return steps, "; ".join(reason for reason in reasons if reason) or f"slutade {run.status.value}"


def _wait(instance: dg.DagsterInstance, backfill_id: str, keys: list[str],
          daemon: subprocess.Popen | None, progress: Callable[[str, str], None],
          result: BackfillResult, home: Path) -> None:
    """Until every run of the backfill has ended, saying each quarter as it ends."""
    reported: set[str] = set()
    dead: set[str] = set()
    while True:
        # A run whose worker was killed outright (kill -9, out of memory) would stay STARTED for
        # ever, and the queue (one run at a time) and this command behind it: Dagster's run
        # monitoring cannot see a dead worker of the default run launcher (it has no worker
        # health check; only the run time limit would end it). Its process is gone: failed now.
        killed = runs.fail_dead_runs(instance)
        dead.update(killed)
        ours = {run.tags.get(PARTITION_TAG): run for run in
                instance.get_runs(filters=dg.RunsFilter(tags={BACKFILL_TAG: backfill_id}))}
        for run_id in set(killed) - {run.run_id for run in ours.values()}:
            write_alert(home, run_id, [], runs.DEAD)      # another run's: alerted all the same
        for key in keys:
            run = ours.get(key)
            if key in reported or run is None or run.status not in _ENDED:
                continue
            reported.add(key)
            if run.is_success:
                result.done.append(key)
                progress(key, "klart")
            else:
                steps, reason = ([], runs.DEAD) if run.run_id in dead else _failure(instance, run)
                result.failed[key] = f"körning {run.run_id}: {reason}"
                # the daemon's location has no failure sensor: the alert is written here
                write_alert(home, run.run_id, steps, reason)
                progress(key, "misslyckades")
        if len(reported) == len(keys):
            return
        stopped = daemon.poll() is not None if daemon is not None else not daemon_is_running(instance)
        if stopped:
            # ours ended, or the one that was running (`dagster dev`) stopped: nobody will run the
            # rest, so the command says so instead of waiting for ever
            for key in keys:
                if key not in reported:
                    result.failed[key] = "Dagsters daemon stannade innan kvartalet hann köras"
            return
        time.sleep(1)


def run_backfill(environment: Mapping[str, str], first: str, last: str,
                 instance: dg.DagsterInstance, *, home: Path, log: Path,
                 progress: Callable[[str, str], None] = lambda quarter, state: None
                 ) -> BackfillResult:
    """Submit the quarters as a Dagster backfill and wait until its runs have ended. A failed
    quarter does not stop the later ones (each run takes in every new delivery); invoking it again
    over the same range resumes that backfill with only the quarters that did not succeed.

    ``environment``: the settings the runs read (``orchestration/settings.py``), for the daemon
    this command starts; a daemon already running uses its own."""
    wanted = quarters(first, last)
    span = f"{wanted[0]}_{wanted[-1]}"
    previous = _backfills(instance, span)
    root = previous[0].tags.get(ROOT_TAG, previous[0].backfill_id) if previous else None
    succeeded = _succeeded(instance, previous, root) if previous else set()
    todo = [key for key in wanted if key not in succeeded]
    resume = bool(previous) and bool(todo)
    if not resume:
        # nothing before, or every quarter succeeded since: a new backfill of the whole range
        succeeded, todo = set(), wanted
    tags = {RANGE_TAG: span, "finsam/command": "backfill"}
    if resume:
        tags |= {PARENT_TAG: previous[0].backfill_id, ROOT_TAG: root}
    ensure_one_run_at_a_time(home)
    env = {**os.environ, **environment, "DAGSTER_HOME": str(home)}
    workspace = _workspace(home)
    backfill_id = _submit(env, workspace, todo, tags)
    result = BackfillResult(backfill_id, resumed=resume,
                            parent_id=previous[0].backfill_id if resume else None)
    for key in wanted:
        if key in succeeded:
            result.skipped.append(key)
            progress(key, "redan klart")
    daemon = None if daemon_is_running(instance) else _start_daemon(env, workspace, log)
    try:
        _wait(instance, backfill_id, todo, daemon, progress, result, home)
    finally:
        if daemon is not None:
            _stop(daemon)
            # its last heartbeats would make the next backfill believe a daemon is running and
            # wait for runs nobody launches
            instance.wipe_daemon_heartbeats()
    return result
