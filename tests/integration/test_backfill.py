"""`finsam backfill`: a Dagster backfill over four quarters, one made to fail; the resumption is a
child backfill that redoes only that quarter."""

from __future__ import annotations

import dagster as dg
import pytest
from dagster._core.execution.backfill import BulkActionStatus

from cli.main import main
from orchestration.backfill import BACKFILL_TAG, PARENT_TAG, RANGE_TAG

PARTITION = "dagster/partition"
PARTITION_SET = "dagster/partition_set"


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
    assert not (tmp_path / "out").exists()
    if url.startswith("sqlite"):
        assert not (tmp_path / "warehouse.db").exists()    # no warehouse is created to compare
    assert main(_args(sample_landing, tmp_path, url, "--dry-run")) == 0
    assert "2024Q1: 7 nya filer" in capsys.readouterr().out


def _backfills(instance: dg.DagsterInstance):
    return {backfill.backfill_id: backfill for backfill in instance.get_backfills()}


def test_a_backfill_shows_in_the_ui_and_resumes_only_the_failed_quarter(env, sample_landing,
                                                                         capsys):
    tmp_path, url = env
    # A file where the quarter's SUS folder should go: Q2 has no register delivered yet when it
    # runs first (the samples are extracted in Q4), so the budget follow-up writes nothing to block.
    blocker = tmp_path / "out" / "begransad" / "sus" / "2024Q2_2024Q2"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("a file where the quarter's folder should go")
    assert main(_args(sample_landing, tmp_path, url)) == 1
    error = capsys.readouterr().err
    assert "2024Q2 misslyckades" in error and "bara 2024Q2" in error
    assert len(error.strip().splitlines()) == 1

    instance = dg.DagsterInstance.get()
    (first,) = _backfills(instance).values()
    # what the UI's Backfills tab lists: a job backfill of `allt` over the four quarters, ended
    # with a failure, so the UI offers to re-execute it from the failure
    assert first.status == BulkActionStatus.COMPLETED_FAILED
    assert first.partition_names == ["2024Q1", "2024Q2", "2024Q3", "2024Q4"]
    assert first.partition_set_origin.partition_set_name == "allt_partition_set"
    assert first.partition_set_origin.repository_origin.code_location_origin.location_name == "finsam"
    assert first.tags[RANGE_TAG] == "2024Q1_2024Q4"
    runs = instance.get_runs(filters=dg.RunsFilter(tags={BACKFILL_TAG: first.backfill_id}))
    assert sorted(run.tags[PARTITION] for run in runs) == ["2024Q1", "2024Q2", "2024Q3", "2024Q4"]
    assert {run.tags[PARTITION_SET] for run in runs} == {"allt_partition_set"}
    assert {run.tags[PARTITION]: run.is_success for run in runs}["2024Q2"] is False

    blocker.unlink()
    assert main(_args(sample_landing, tmp_path, url)) == 0
    printed = capsys.readouterr().out
    assert f"återupptagen (fortsätter {first.backfill_id})" in printed
    assert "1 kvartal körda, 3 redan klara" in printed
    backfills = _backfills(instance)
    (second,) = [item for item in backfills.values() if item.backfill_id != first.backfill_id]
    assert second.status == BulkActionStatus.COMPLETED_SUCCESS
    assert second.partition_names == ["2024Q2"] and second.tags[PARENT_TAG] == first.backfill_id
    (rerun,) = instance.get_runs(filters=dg.RunsFilter(tags={BACKFILL_TAG: second.backfill_id}))
    assert rerun.tags[PARTITION] == "2024Q2" and rerun.is_success
    assert (tmp_path / "out" / "budget" / "2024Q4" / "budgetuppfoljning.xlsx").exists()

    # everything succeeded: the same command is a new backfill of all four quarters
    assert main(_args(sample_landing, tmp_path, url)) == 0
    assert "startad: 4 kvartal körda" in capsys.readouterr().out
    assert len(_backfills(instance)) == 3


def test_quarters_without_data_write_nothing(env, sample_landing, capsys):
    """The samples are extracted in 2024Q4: the earlier quarters of 2024 have spells and a
    budget, and 2023Q4 has nothing yet, so nothing is written for it."""
    tmp_path, url = env
    args = _args(sample_landing, tmp_path, url)
    args[args.index("2024Q1")] = "2023Q4"
    args[args.index("2024Q4")] = "2023Q4"
    assert main(args) == 0
    out = tmp_path / "out"
    assert not list(out.glob("budget/*")) and not list(out.glob("sus/*"))
    assert not list(out.glob("begransad/sus/*"))
    instance = dg.DagsterInstance.get()
    event = instance.get_latest_materialization_event(dg.AssetKey("sus_statistics"))
    assert event.asset_materialization.partition == "2023Q4"
    assert event.asset_materialization.metadata["status"].value == "ingen data"
