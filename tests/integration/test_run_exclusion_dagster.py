"""Issue 16, item 5, through `finsam run` and Dagster: two runs started together on a fresh
DAGSTER_HOME both finish and Dagster's storage stays sound; a run killed outright (kill -9 via the
fault hook) is marked failed with an alert by the next run, which then finishes the work once.
SQLite and PostgreSQL warehouses (Dagster's own storage: SQLite files in the fresh home)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from assets import runs
from cli.main import main
from tests.integration.warehouse_state import state

ROOT = Path(__file__).resolve().parents[2]
# what one undisturbed run of the samples holds (tests/integration/test_fault_injection.py
# compares whole states; here the counts that doubling or losing would change)
EXPECTED = {"delivery": 9, "identity_vault": 2, "spell": 5, "consent": 3, "ledger_entry": 6,
            "fk_benefit": 2, "soc_payment": 3}


def _counts(url: str) -> dict[str, int]:
    held = state(url)
    return {name: sum(held[name].values()) for name in EXPECTED}


def _args(landing: Path, url: str, out: Path) -> list[str]:
    return ["run", "--landing", str(landing), "--warehouse", url, "--out", str(out),
            "--from", "2024Q4", "--to", "2024Q4"]


@pytest.fixture
def setup(tmp_path, key_files, warehouse_url, sample_landing, monkeypatch):
    home = tmp_path / "fresh_dagster_home"          # does not exist yet: both create it
    env = {key: value for key, value in os.environ.items() if key != "FINSAM_FAULT_POINT"}
    env.update({"PYTHONPATH": str(ROOT), "DAGSTER_HOME": str(home),
                "FINSAM_PSEUDONYM_KEY_FILE": str(key_files[0]),
                "FINSAM_VAULT_KEY_FILE": str(key_files[1])})
    for name in ("DAGSTER_HOME", "FINSAM_PSEUDONYM_KEY_FILE", "FINSAM_VAULT_KEY_FILE"):
        monkeypatch.setenv(name, env[name])
    return env, home


def _finsam(env: dict, args: list[str], **extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cli.main", *args], env={**env, **extra},
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_two_runs_on_a_fresh_dagster_home_both_finish_and_double_nothing(
        setup, warehouse_url, sample_landing, tmp_path):
    env, home = setup
    children = [_finsam(env, _args(sample_landing, warehouse_url, tmp_path / "out")),
                _finsam(env, _args(sample_landing, warehouse_url, tmp_path / "out"))]
    for child in children:
        _, err = child.communicate(timeout=900)
        assert child.returncode == 0, err.decode()[-3000:]
    instance = dg.DagsterInstance.from_config(str(home))
    finished = instance.get_runs()
    assert len(finished) == 2 and all(run.is_success for run in finished)
    assert instance.run_monitoring_enabled
    assert _counts(warehouse_url) == EXPECTED


def test_a_killed_run_is_marked_failed_with_an_alert_and_the_next_run_finishes_it(
        setup, warehouse_url, sample_landing, tmp_path, capsys):
    env, home = setup
    killed = _finsam(env, _args(sample_landing, warehouse_url, tmp_path / "out"),
                     FINSAM_FAULT_POINT="asset:fk_benefits")
    _, err = killed.communicate(timeout=900)
    assert killed.returncode == -signal.SIGKILL, err.decode()[-3000:]
    instance = dg.DagsterInstance.from_config(str(home))
    (stuck,) = instance.get_runs()
    assert stuck.status == dg.DagsterRunStatus.STARTED       # what Dagster alone would keep
    assert main(_args(sample_landing, warehouse_url, tmp_path / "out")) == 0
    instance = dg.DagsterInstance.from_config(str(home))
    assert instance.get_run_by_id(stuck.run_id).status == dg.DagsterRunStatus.FAILURE
    alerts = [json.loads(line) for line in
              (home / "alerts.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [alert["körning"] for alert in alerts] == [stuck.run_id]
    assert alerts[0]["orsak"] == runs.DEAD
    assert _counts(warehouse_url) == EXPECTED
