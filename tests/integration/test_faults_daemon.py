"""Issue 16's fault suite, the daemon: a nightly run started while `finsam backfill` runs its
quarters through finsam's own dagster-daemon (with a re-consent landing meanwhile), and a daemon
run whose worker is killed outright. Both end in the warehouse an undisturbed sequence of the same
nights gives, compared table by table (tests/integration/warehouse_state.py).

The undisturbed sequence is computed in a second warehouse of the same backend by the plain
ingestion of every source (no Dagster, no lock, no backfill): deliveries are facts, so that is what
any order of runs must end in. What only runs with outputs record (the publications: output views,
the SUS release register) is left out of that comparison; those are a history of what was shown
when, not facts of the deliveries.

CI's time budget: the nightly-during-a-backfill case runs on SQLite always, on PostgreSQL with
``FINSAM_FAULTS_SLOW=1``; the killed daemon run (two backfills) only with ``FINSAM_FAULTS_SLOW=1``
(its fast variant, a real run process killed and marked failed by the sensor, is
tests/unit/orchestration/test_dead_runs_sensor.py). Measured on a machine shared five ways (load
about 15 on 2 cores): 6-10 minutes of wall time each.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from assets import runs
from tests.conftest import _postgres_database
from tests.integration.test_fault_injection import ROOT, _env
from tests.integration.test_faults_deliveries import PUBLICATIONS, SLOW, _ingest
from tests.integration.warehouse_state import differences, rows_only_in, state


@pytest.fixture
def backend(warehouse_url: str) -> str:
    if warehouse_url.startswith("postgresql") and not os.environ.get(SLOW):
        pytest.skip(f"PostgreSQL variant: set {SLOW}=1 (two Dagster processes more per test)")
    return warehouse_url


def _spare(backend: str, tmp_path: Path, name: str):
    """Another warehouse of the same backend, for an undisturbed sequence."""
    if backend.startswith("postgresql"):
        yield from _postgres_database()
    else:
        yield f"sqlite:///{tmp_path / name}"


@pytest.fixture
def spare_url(backend: str, tmp_path: Path):
    yield from _spare(backend, tmp_path, "undisturbed.db")


@pytest.fixture
def second_spare_url(backend: str, tmp_path: Path):
    yield from _spare(backend, tmp_path, "undisturbed_together.db")


@pytest.fixture
def finsam_env(key_files, dagster_home) -> dict[str, str]:
    return _env(DAGSTER_HOME=str(dagster_home), FINSAM_SETTLE_SECONDS="0",
                FINSAM_PSEUDONYM_KEY_FILE=str(key_files[0]),
                FINSAM_VAULT_KEY_FILE=str(key_files[1]))


def _finsam(env: dict, *args: str, **extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cli.main", *args], env={**env, **extra},
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _places(landing: Path, url: str, out: Path, first: str, last: str) -> list[str]:
    return ["--landing", str(landing), "--warehouse", url, "--out", str(out),
            "--from", first, "--to", last]


def _story(home: Path, err: str) -> str:
    """What went wrong, for an assertion's message: the command's line and its log file."""
    logs = [path.read_text(encoding="utf-8")[-4000:] for path in
            (home / "finsam.log", home / "backfill_daemon.log") if path.exists()]
    return "\n".join([err[-2000:], *logs])


def _assert_same(url: str, *undisturbed: dict) -> None:
    """The warehouse at ``url`` equals one of the undisturbed states, table by table."""
    now = state(url, skip=PUBLICATIONS)
    found = [differences(now, each) for each in undisturbed]
    assert {} in found, [{table: (rows_only_in(now, each, table), rows_only_in(each, now, table))
                          for table in difference} for each, difference in zip(undisturbed, found)]


# -- a nightly run during a backfill, with a re-consent landing meanwhile ------------------------

def _reconsent(landing: Path) -> None:
    """A new night's files: the consent register where the person who withdrew consents again,
    and Försäkringskassan's file (the same day) with a benefit of theirs after the new consent.
    The partner file lands first, the register a moment later, as separate uploads do."""
    register = (landing / "samtycke" / "20241130.csv").read_text(encoding="utf-8")
    header, *rows = register.splitlines()
    withdrawn = next(row for row in rows if row.split(";")[4])      # Återkallat filled in
    person = withdrawn.split(";")[0]
    again = withdrawn.split(";")
    again[2], again[4] = "2024-12-02", ""
    benefits = (landing / "fk" / "20241130_forman.csv").read_bytes().decode("cp1252")
    benefits = benefits.rstrip("\r\n") + f"\r\n{person};Exempel;SJP;100;20241202;;Visby\r\n"
    (landing / "fk" / "20241215_forman.csv").write_bytes(benefits.encode("cp1252"))
    time.sleep(0.5)
    (landing / "samtycke" / "20241215.csv").write_text(
        "\n".join([header, *rows, ";".join(again)]) + "\n", encoding="utf-8")


def _first_run_holds_the_lock(home: Path, backfill: subprocess.Popen) -> None:
    """Until a run of the backfill holds the warehouse (its resource took the lock and tagged the
    run with its process)."""
    deadline = time.monotonic() + 600
    while True:
        assert backfill.poll() is None, backfill.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "no backfill run started"
        try:
            instance = dg.DagsterInstance.from_config(str(home))
            started = [run for run in instance.get_runs()
                       if run.status == dg.DagsterRunStatus.STARTED and runs.PID_TAG in run.tags]
        except Exception:  # noqa: BLE001  (the daemon may be creating its storage this moment)
            started = []
        if started:
            return
        time.sleep(0.2)


def test_a_nightly_run_during_a_backfill_waits_and_ends_as_one_after_the_other_or_as_one_run(
        backend, spare_url, second_spare_url, sample_landing, dagster_home, finsam_env, keys,
        tmp_path):
    # undisturbed, as the issue names them: the backfill's night then the nightly run's night
    # with the new files (one after the other), or every file in one run. Which one a nightly run
    # during a backfill equals depends on whether a backfill run saw the new files; the data are
    # the same in both, the manifest's account of how each file fared on arrival is not
    quiet = tmp_path / "undisturbed_landing"
    shutil.copytree(sample_landing, quiet)
    _ingest(quiet, spare_url, keys)
    _reconsent(quiet)
    _ingest(quiet, spare_url, keys)
    _ingest(quiet, second_spare_url, keys)
    sequential = state(spare_url, skip=PUBLICATIONS)
    together = state(second_spare_url, skip=PUBLICATIONS)

    out = tmp_path / "out"
    backfill = _finsam(finsam_env, "backfill",
                       *_places(sample_landing, backend, out, "2024Q3", "2024Q4"))
    try:
        _first_run_holds_the_lock(dagster_home, backfill)
        _reconsent(sample_landing)
        nightly = _finsam(finsam_env, "run",
                          *_places(sample_landing, backend, out, "2024Q4", "2024Q4"))
        night_out, night_err = nightly.communicate(timeout=900)
        back_out, back_err = backfill.communicate(timeout=900)
    finally:
        for child in (backfill,):
            if child.poll() is None:
                child.kill()
    # both finish; the nightly run waited for the backfill's run that held the warehouse
    assert nightly.returncode == 0, _story(dagster_home, night_err)
    assert backfill.returncode == 0, _story(dagster_home, back_err)
    # (PostgreSQL names the holder in ASCII)
    assert "väntar på lagret" in night_err and "Dagster-k" in night_err
    assert "2024Q3: klart" in back_out and "2024Q4: klart" in back_out
    _assert_same(backend, sequential, together)
    # the person who consented again: the facts agree whichever way the nights went
    assert not differences(sequential, together).keys() - {"delivery", "held_row",
                                                          "steward_decision"}
    instance = dg.DagsterInstance.from_config(str(dagster_home))
    assert all(run.is_success for run in instance.get_runs())


# -- a daemon run killed outright ------------------------------------------------------------------

@pytest.mark.skipif(not os.environ.get(SLOW), reason=f"two backfills with their daemons: set "
                    f"{SLOW}=1 (the fast variant: tests/unit/orchestration/"
                    "test_dead_runs_sensor.py kills a real run's process)")
def test_a_daemon_run_killed_outright_is_failed_and_alerted_and_the_next_run_completes_it(
        backend, spare_url, sample_landing, dagster_home, finsam_env, keys, tmp_path):
    _ingest(sample_landing, spare_url, keys)
    undisturbed = state(spare_url, skip=PUBLICATIONS)
    args = ["backfill", *_places(sample_landing, backend, tmp_path / "out", "2024Q4", "2024Q4")]

    started = time.monotonic()
    # the run worker the daemon launches dies at the start of Försäkringskassan's asset, after
    # the sources before it committed
    killed = _finsam(finsam_env, *args, FINSAM_FAULT_POINT="asset:fk_benefits")
    try:
        printed, err = killed.communicate(timeout=600)
    finally:
        if killed.poll() is None:
            killed.kill()
    took = time.monotonic() - started
    assert killed.returncode == 1, err[-3000:]
    assert "2024Q4: misslyckades" in printed and "2024Q4 misslyckades" in err
    instance = dg.DagsterInstance.from_config(str(dagster_home))
    (run,) = instance.get_runs()
    # marked failed while the backfill waited (not left STARTED for the next run to find)
    assert run.status == dg.DagsterRunStatus.FAILURE
    pid = int(run.tags[runs.PID_TAG])
    assert not runs.alive(pid)

    def steps(kind):
        return {record.event_log_entry.step_key
                for record in instance.get_records_for_run(run.run_id, of_type=kind).records}
    # it died where the fault hook killed it, mid-run: the asset started and never ended
    assert "fk_benefits" in steps(dg.DagsterEventType.STEP_START)
    assert "fk_benefits" not in steps(dg.DagsterEventType.STEP_SUCCESS) | steps(
        dg.DagsterEventType.STEP_FAILURE)
    assert took < 300
    alerts = [json.loads(line) for line in
              (dagster_home / "alerts.jsonl").read_text(encoding="utf-8").splitlines()]
    # one line for whoever watches, saying that the run's process died (Dagster's code server
    # sees its worker end by SIGKILL and fails the run; where nobody does, the backfill's wait
    # finds the process gone)
    assert [alert["körning"] for alert in alerts] == [run.run_id]
    assert alerts[0]["orsak"] == runs.DEAD or "SIGKILL" in alerts[0]["orsak"], alerts

    # the same command again resumes the quarter and completes it
    again = _finsam(finsam_env, *args)
    printed, err = again.communicate(timeout=600)
    assert again.returncode == 0, _story(dagster_home, err)
    assert "återupptagen" in printed and "2024Q4: klart" in printed
    _assert_same(backend, undisturbed)
