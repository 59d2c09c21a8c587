"""`finsam backfill`: a Dagster backfill over two quarters run by the daemon, one made to fail; the
resumption is a new backfill that redoes only that quarter."""

from __future__ import annotations

import json

import dagster as dg
import pytest

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


def _events(instance: dg.DagsterInstance, run_id: str, kind: dg.DagsterEventType) -> list:
    return instance.get_records_for_run(run_id, of_type=kind).records


def test_a_backfill_runs_through_the_daemon_and_resumes_only_the_failed_quarter(
        env, sample_landing, capsys):
    """The way the daemon launches the job: a backfill submitted with Dagster's own command, its
    runs queued and launched by `dagster-daemon`, each run's steps in one process."""
    tmp_path, url = env
    # a file where Q3's restricted SUS folder should go: that quarter fails, Q4 does not
    blocker = tmp_path / "out" / "begransad" / "sus" / "2024Q3_2024Q3"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("a file where the quarter's folder should go")
    args = _args(sample_landing, tmp_path, url)
    args[args.index("2024Q1")] = "2024Q3"
    assert main(args) == 1
    captured = capsys.readouterr()
    assert "2024Q3: misslyckades" in captured.out and "2024Q4: klart" in captured.out
    assert "2024Q3 misslyckades" in captured.err and "bara 2024Q3" in captured.err
    assert len(captured.err.strip().splitlines()) == 1

    instance = dg.DagsterInstance.get()
    (first,) = _backfills(instance).values()
    # what the UI's Backfills tab lists: a job backfill of `allt` over the two quarters
    assert first.partition_names == ["2024Q3", "2024Q4"]
    assert first.partition_set_origin.partition_set_name == "allt_partition_set"
    assert first.partition_set_origin.repository_origin.code_location_origin.location_name == "finsam"
    assert first.tags[RANGE_TAG] == "2024Q3_2024Q4"
    runs = {run.tags[PARTITION]: run for run in
            instance.get_runs(filters=dg.RunsFilter(tags={BACKFILL_TAG: first.backfill_id}))}
    assert sorted(runs) == ["2024Q3", "2024Q4"]
    assert {run.tags[PARTITION_SET] for run in runs.values()} == {"allt_partition_set"}
    assert not runs["2024Q3"].is_success and runs["2024Q4"].is_success
    for run in runs.values():
        # put in the run queue, which only the daemon takes runs from; every step in the run's
        # own process
        assert _events(instance, run.run_id, dg.DagsterEventType.RUN_ENQUEUED)
        assert not _events(instance, run.run_id, dg.DagsterEventType.STEP_WORKER_STARTING)
    records = {record.dagster_run.tags[PARTITION]: record for record in instance.get_run_records(
        filters=dg.RunsFilter(tags={BACKFILL_TAG: first.backfill_id}))}
    # oldest first, one at a time
    assert records["2024Q3"].end_time <= records["2024Q4"].start_time
    assert (tmp_path / "out" / "budget" / "2024Q4" / "budgetuppfoljning.xlsx").exists()
    # whoever watches the alerts hears of the failed quarter, with what went wrong
    alerts = [json.loads(line) for line in
              (tmp_path / "dagster_home" / "alerts.jsonl").read_text().splitlines()]
    assert [alert["körning"] for alert in alerts] == [runs["2024Q3"].run_id]
    assert alerts[0]["steg"] and alerts[0]["orsak"]

    blocker.unlink()
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert f"återupptagen (fortsätter {first.backfill_id})" in printed
    assert "1 kvartal körda, 1 redan klara" in printed
    (second,) = [item for item in _backfills(instance).values()
                 if item.backfill_id != first.backfill_id]
    assert second.partition_names == ["2024Q3"] and second.tags[PARENT_TAG] == first.backfill_id
    (rerun,) = instance.get_runs(filters=dg.RunsFilter(tags={BACKFILL_TAG: second.backfill_id}))
    assert rerun.tags[PARTITION] == "2024Q3" and rerun.is_success
    assert (tmp_path / "out" / "budget" / "2024Q3" / "budgetuppfoljning.xlsx").exists()


def test_quarters_without_data_write_nothing(env, sample_landing, capsys):
    """The samples are extracted in 2024Q4: the earlier quarters of 2024 have spells and a
    budget, and 2023Q4 has nothing yet, so nothing is written for it."""
    tmp_path, url = env
    assert main(["run", "--landing", str(sample_landing), "--warehouse", url,
                 "--out", str(tmp_path / "out"), "--from", "2023Q4"]) == 0
    out = tmp_path / "out"
    assert not list(out.glob("budget/*")) and not list(out.glob("sus/*"))
    assert not list(out.glob("begransad/sus/*"))
    instance = dg.DagsterInstance.get()
    event = instance.get_latest_materialization_event(dg.AssetKey("sus_statistics"))
    assert event.asset_materialization.partition == "2023Q4"
    assert event.asset_materialization.metadata["status"].value == "ingen data"
