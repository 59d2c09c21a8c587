"""`finsam backfill`: four quarters, one made to fail, the resume redoes only that one."""

from __future__ import annotations

import dagster as dg
import pytest

from cli.main import main
from orchestration.backfill import BACKFILL_TAG, QUARTER_TAG


@pytest.fixture
def env(monkeypatch, tmp_path, key_files, warehouse_url, dagster_home):
    pseudonym_key, vault_key = key_files
    monkeypatch.setenv("FINSAM_PSEUDONYM_KEY_FILE", str(pseudonym_key))
    monkeypatch.setenv("FINSAM_VAULT_KEY_FILE", str(vault_key))
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    return tmp_path, warehouse_url


def _args(landing, tmp_path, url, *extra):
    return ["backfill", "--landing", str(landing), "--warehouse", url, "--out", str(tmp_path / "out"),
            "--from", "2024Q1", "--to", "2024Q4", *extra]


def test_dry_run_says_what_would_change_and_changes_nothing(env, sample_landing, capsys):
    tmp_path, url = env
    assert main(_args(sample_landing, tmp_path, url, "--dry-run")) == 0
    printed = capsys.readouterr().out
    # every new file is read; each quarter lists the files whose records fall in it
    assert "2024Q1: 7 nya filer" in printed and "deltagare" in printed and "budget" in printed
    assert "huvudboken ändras med" in printed
    assert not list((tmp_path / "dagster_home").glob("*.db"))
    assert main(_args(sample_landing, tmp_path, url, "--dry-run")) == 0
    assert "2024Q1: 7 nya filer" in capsys.readouterr().out


def test_failed_quarter_is_the_only_one_redone(env, sample_landing, capsys):
    tmp_path, url = env
    # A file where the quarter's SUS folder should go: Q2 has no data yet when it runs first
    # (the samples are extracted in Q4), so the budget follow-up writes nothing to block.
    blocker = tmp_path / "out" / "sus" / "2024Q2_2024Q2"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("a file where the quarter's folder should go")
    assert main(_args(sample_landing, tmp_path, url)) == 1
    error = capsys.readouterr().err
    assert "2024Q2 misslyckades" in error and "bara 2024Q2" in error

    blocker.unlink()
    assert main(_args(sample_landing, tmp_path, url)) == 0
    printed = capsys.readouterr().out
    assert "återupptagen" in printed and "1 kvartal körda, 3 redan klara" in printed
    instance = dg.DagsterInstance.get()
    runs = instance.get_runs()
    assert len({run.tags[BACKFILL_TAG] for run in runs}) == 1
    by_quarter = {}
    for run in runs:
        by_quarter.setdefault(run.tags[QUARTER_TAG], []).append(run.is_success)
    assert {quarter: sorted(states) for quarter, states in by_quarter.items()} == {
        "2024Q1": [True], "2024Q2": [False, True], "2024Q3": [True], "2024Q4": [True]}
    assert (tmp_path / "out" / "budget" / "2024Q2" / "budgetuppfoljning.xlsx").exists()

    assert main(_args(sample_landing, tmp_path, url)) == 0
    assert "startad: 4 kvartal körda" in capsys.readouterr().out
