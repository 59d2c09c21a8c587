"""`finsam run` through Dagster on the contract's samples; refusal without keys."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, select

from cli.main import main
from finsam.reference import test_personnummer as skatteverket_numbers
from warehouse import models


@dataclass
class Env:
    path: Path
    url: str

    def args(self, landing: Path, *extra: str) -> list[str]:
        return ["run", "--landing", str(landing), "--warehouse", self.url,
                "--out", str(self.path / "out"), *extra]


@pytest.fixture
def env(monkeypatch, tmp_path, key_files, warehouse_url, dagster_home) -> Env:
    """Keys, a warehouse and a Dagster home: all SQLite, or all PostgreSQL."""
    pseudonym_key, vault_key = key_files
    monkeypatch.setenv("FINSAM_PSEUDONYM_KEY_FILE", str(pseudonym_key))
    monkeypatch.setenv("FINSAM_VAULT_KEY_FILE", str(vault_key))
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    return Env(tmp_path, warehouse_url)


def test_run_loads_the_samples_and_is_recorded_in_dagster(env, sample_landing, capsys,
                                                          monkeypatch):
    import dagster as dg

    # relative paths, as a newcomer types them: they hold for every step of the run
    monkeypatch.chdir(env.path)
    assert main(["run", "--landing", sample_landing.name, "--warehouse", env.url, "--out", "out",
                 "--from", "2024Q4", "--to", "2024Q4"]) == 0
    printed = capsys.readouterr().out
    assert "2024Q4-2024Q4 klart" in printed and "kvarhållna" in printed
    # what the run saw: the newest ledger is from November, so Q4's books are not in yet
    assert "    ekonomi: 20241130_huvudbok.csv (uttagen 2024-11-30)" in printed
    assert ("    2024Q4 budgetuppföljning: Ekonomi (huvudbok) t.o.m. 2024-12-31 (uttagen efter "
            "kvartalets slut) saknas: senaste leverans 2024-11-30") in printed
    engine = create_engine(env.url)
    with engine.connect() as connection:
        manifest = pd.read_sql(select(models.Delivery.__table__), connection)
    assert len(manifest) == 9
    instance = dg.DagsterInstance.get()
    runs = instance.get_runs()
    assert len(runs) == 1 and runs[0].is_success
    # ingestion is not partitioned (deliveries are facts); the outputs are per quarter
    assert instance.get_latest_materialization_event(dg.AssetKey("insats_spells")) is not None
    assert "2024Q4" in instance.get_materialized_partitions(dg.AssetKey("sus_statistics"))
    evaluations = instance.get_records_for_run(
        runs[0].run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    checks = {record.event_log_entry.dagster_event.event_specific_data.check_name: record
              for record in evaluations}
    assert {"gx_spell", "gx_consent", "gx_fk_benefit", "kvarhallna_rader", "leveransfarskhet",
            "redo_for_sus"} <= set(checks)
    stale = checks["leveransfarskhet"].event_log_entry.dagster_event.event_specific_data
    # the samples were extracted 2024-11-30, long before any test runs: a warning, not an error
    assert not stale.passed and stale.metadata["senaste_leverans"].value == "2024-11-30"
    assert stale.severity == dg.AssetCheckSeverity.WARN
    held = checks["kvarhallna_rader"].event_log_entry.dagster_event.event_specific_data
    # the samples' few held rows are the steward's daily work: counted, and the check passes
    assert held.passed and held.severity == dg.AssetCheckSeverity.WARN
    assert {"öppna_fel", "öppna_varningar", "rader", "per_regel"} <= set(held.metadata)
    gx_spell = checks["gx_spell"].event_log_entry.dagster_event.event_specific_data
    assert gx_spell.passed and gx_spell.metadata["förväntningar"].value >= 5
    gx = env.path / "out" / "steward" / "gx"
    offline = (gx / "oversikt.html").read_text(encoding="utf-8")
    assert (gx / "index.html").read_text(encoding="utf-8") == offline
    assert 'href="sviter/spell.html"' in offline and "http" not in offline
    # counts only: no pseudonym and no identity number in the check metadata Dagster keeps
    kept = json.dumps([{key: str(value.value) for key, value in record.event_log_entry
                        .dagster_event.event_specific_data.metadata.items()}
                       for record in evaluations], ensure_ascii=False)
    assert not re.search(r"[0-9a-f]{64}", kept)
    numbers = {form for number in skatteverket_numbers() for form in (number, number[2:])}
    shaped = {re.sub(r"[-+]", "", run) for run in re.findall(r"\d{6,8}[-+]?\d{4}", kept)}
    assert not shaped & numbers
    assert (env.path / "out" / "steward" / "failures.html").exists()
    first = sorted(path.relative_to(gx).as_posix() for path in gx.rglob("*"))

    assert main(env.args(sample_landing, "--from", "2024Q4")) == 0
    assert "0 nya" in capsys.readouterr().out
    # a second run replaces the Data Docs: the same pages, nothing of the first run piled up
    assert sorted(path.relative_to(gx).as_posix() for path in gx.rglob("*")) == first
    assert not list(gx.parent.glob(".gx.*.tmp"))


def test_a_run_for_earlier_quarters_takes_in_every_delivery(env, sample_landing, capsys):
    """Deliveries are facts: a run for Q1-Q3 takes in the files extracted in November too; what
    the quarters select is what their outputs cover, by the dates in the data."""
    assert main(env.args(sample_landing, "--from", "2024Q1", "--to", "2024Q3")) == 0
    assert "9 nya" in capsys.readouterr().out
    assert main(env.args(sample_landing, "--from", "2024Q4")) == 0
    assert "0 nya" in capsys.readouterr().out


def test_run_refuses_without_keys(monkeypatch, tmp_path, sample_landing, capsys):
    monkeypatch.delenv("FINSAM_PSEUDONYM_KEY_FILE", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    refused = Env(tmp_path, f"sqlite:///{tmp_path / 'w.db'}")
    assert main(refused.args(sample_landing)) == 2
    error = capsys.readouterr().err
    assert "FINSAM_PSEUDONYM_KEY_FILE" in error and "är inte satt" in error
    assert not (tmp_path / "w.db").exists()


def test_run_refuses_a_short_key(env, monkeypatch, sample_landing, capsys):
    short = env.path / "short.key"
    short.write_text("abc")
    monkeypatch.setenv("FINSAM_VAULT_KEY_FILE", str(short))
    assert main(env.args(sample_landing)) == 2
    assert "FINSAM_VAULT_KEY_FILE" in capsys.readouterr().err


def test_bad_quarter_is_a_clear_error(env, sample_landing, capsys):
    assert main(env.args(sample_landing, "--from", "2024-3")) == 2
    assert "YYYYQn" in capsys.readouterr().err


def test_report_sus_for_any_period_and_one_insats(env, sample_landing, capsys):
    import openpyxl

    assert main(env.args(sample_landing, "--from", "2024Q4")) == 0
    out = env.path / "out"
    assert main(["report", "sus", "--warehouse", env.url, "--out", str(out),
                 "--from", "2024Q1", "--to", "2024Q4", "--insats", "demo1"]) == 0
    assert "2024Q1_2024Q4/DEMO1" in capsys.readouterr().out
    folder = out / "sus" / "2024Q1_2024Q4" / "DEMO1"
    # every count only where restricted files go
    assert not (folder / "sus_statistik_intern.xlsx").exists()
    internal = openpyxl.load_workbook(
        out / "begransad" / "sus_statistik" / "2024Q1_2024Q4" / "DEMO1" / "sus_statistik_intern.xlsx")
    published = openpyxl.load_workbook(folder / "sus_statistik.xlsx")
    assert "Om statistiken" in published.sheetnames and "DEMO1" in internal.sheetnames
    page = (folder / "sus_statistik.html").read_text(encoding="utf-8")
    assert '<svg class="diagram"' in page and "Måluppfyllelse" in page
