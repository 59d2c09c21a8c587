"""The Dagster instance the command line runs in: created safely, monitored, swept of dead runs.

* Two processes starting at once on a fresh ``DAGSTER_HOME`` both created Dagster's SQLite
  storages and could leave them broken for good ("table ... already exists"). The settings file is
  written, and every storage created, under an exclusive lock on a file in the home.
* The settings file the command line writes turns on Dagster's run monitoring: with the daemon
  running (`dagster dev`, `dagster-daemon`), a run that does not start, or runs longer than
  ``max_runtime_seconds``, is marked failed, and ``larm_vid_fel`` writes the alert. A run whose
  worker was killed outright is not seen by it (the default run launcher has no worker health
  check): the sensor ``avbrutna_korningar`` (and `finsam backfill` while it waits) marks it
  failed once its process is gone.
* It also sets finsam's run queue (``QUEUE``): one run at a time, and the daemon looks for the
  next one every second instead of Dagster's 5 s. A settings file finsam wrote earlier is
  brought up to date; one anyone else wrote or changed is kept as it is.
* Before every command-line run, runs left STARTED by a process of this host that no longer exists
  are marked failed, each with a line in ``alerts.jsonl``.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import dagster as dg

from assets import runs
from orchestration.schedules import write_alert

INIT_LOCK = ".finsam-instans.lock"
# what the command line wrote before run monitoring was turned on, and before the queue was set
_FIRST_SETTINGS = "telemetry:\n  enabled: false\n"
#: finsam's run queue: one run at a time, oldest first (every run reads and writes the same
#: warehouse), and the daemon looks for the next run every second, not every 5 s (Dagster's
#: default): a scheduled run waited 2.5 s on average for nothing (``benchmarks/nightly_daemon.py
#: --floor``). `finsam backfill` adds the same to a home that says nothing about its queue.
QUEUE = ("\n# finsam: the queue takes one run at a time, oldest first: every run reads and writes "
         "the same warehouse\nconcurrency:\n  runs:\n    max_concurrent_runs: 1\n"
         "# and looks for the next run every second (Dagster's default is 5 s)\n"
         "run_queue:\n  dequeue_interval_seconds: 1\n")
SETTINGS = """\
# Written by finsam. finsam runs offline and handles personal data: no usage statistics leave
# the machine.
telemetry:
  enabled: false
# With the daemon running (`dagster dev`, `dagster-daemon`): a run that does not start within 3
# minutes, or runs longer than 6 hours (a hang), is marked failed, and the sensor larm_vid_fel
# writes it to alerts.jsonl. A run may set its own limit with the tag dagster/max_runtime
# (seconds). A run whose process was killed is marked failed by the sensor avbrutna_korningar.
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  max_runtime_seconds: 21600
  poll_interval_seconds: 60
""" + QUEUE

# what the command line wrote before: replaced; a file anyone else wrote or changed is kept
PREVIOUS_SETTINGS = (_FIRST_SETTINGS, SETTINGS.removesuffix(QUEUE),
                     SETTINGS.removesuffix(QUEUE) + (
                         "\n# finsam: the queue takes one run at a time, oldest first: every run "
                         "reads and writes the same warehouse\nconcurrency:\n  runs:\n"
                         "    max_concurrent_runs: 1\n"))


def write_settings(home: Path) -> None:
    """``SETTINGS`` in ``home/dagster.yaml`` when it is new or one finsam wrote earlier."""
    settings = home / "dagster.yaml"
    if not settings.exists() or settings.read_text(encoding="utf-8") in PREVIOUS_SETTINGS:
        temporary = settings.with_name(f".dagster.yaml.{os.getpid()}.tmp")
        temporary.write_text(SETTINGS, encoding="utf-8")
        os.replace(temporary, settings)


def prepare(home: Path) -> dg.DagsterInstance:
    """The instance in ``home`` (created if new), with dead runs marked failed and alerted."""
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home.resolve())
    fd = os.open(home / INIT_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        write_settings(home)
        instance = dg.DagsterInstance.get()
        # every storage created now, while no other process can be creating it
        instance.get_runs(limit=1)
        instance.event_log_storage.get_maximum_record_id()
        instance.all_instigator_state()
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    for run_id in runs.fail_dead_runs(instance):
        write_alert(Path(instance.root_directory), run_id, [], runs.DEAD)
    return instance
