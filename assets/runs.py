"""Runs left STARTED by a process that died (``kill -9``, out of memory, a power cut).

Dagster learns that a run ended only from the process running it; one killed outright stays
STARTED for ever. Every finsam run carries the process id and host that run it as tags; a run
still in progress whose process no longer exists on this host (or whose id now belongs to a
process started after the run) is dead and is marked failed. The command line does this before
every run, and a run's warehouse resource when it starts (daemon runs), after taking the
warehouse's run lock, so a run still alive elsewhere is never touched.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import dagster as dg

PID_TAG, HOST_TAG = "finsam/pid", "finsam/host"
DEAD = ("Körningens process finns inte längre (avbruten, t.ex. med kill -9 eller av brist på "
        "minne); körningen markeras som misslyckad. Lagret är som före den avbrutna källans "
        "laddning; kör igen.")
_IN_PROGRESS = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING,
                dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.CANCELING]


def tags() -> dict[str, str]:
    """The tags that say which process runs a run."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def _process_started(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), where /proc tells."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return time.time() - uptime + ticks / os.sysconf("SC_CLK_TCK")


def alive(pid: int, since: float | None = None) -> bool:
    """Whether the process ``pid`` exists and is not a newer process that reuses the id."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    started = _process_started(pid)
    return not (since is not None and started is not None and started > since + 2)


def dead_runs(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    """Runs in progress that a process on this host ran and that process is gone."""
    host = socket.gethostname()
    dead = []
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=_IN_PROGRESS)):
        run = record.dagster_run
        pid = run.tags.get(PID_TAG)
        if run.tags.get(HOST_TAG) != host or not (pid or "").isdigit():
            continue
        # the tag is set once the run has started, by a process that began before that: a
        # daemon's run worker is launched only after the run was created and queued, so the
        # creation time would make every such worker look like a later process reusing the id
        since = record.start_time or (record.create_timestamp.timestamp()
                                      if record.create_timestamp else None)
        if not alive(int(pid), since):
            dead.append(run)
    return dead


def fail_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark every dead run failed (Dagster's run failure sensor, if the daemon runs, sees it as
    any failed run); returns their ids."""
    failed = []
    for run in dead_runs(instance):
        instance.report_run_failed(run, DEAD)
        failed.append(run.run_id)
    return failed
