"""The asset graph Dagster loads from orchestration/definitions.py."""

from __future__ import annotations

import subprocess
import sys

import dagster as dg
import pytest

from orchestration.definitions import build_definitions, defs
from orchestration.partitions import (
    current_quarter,
    known_range,
    partition_key,
    quarter_keys,
    quarterly_partitions,
)


def test_definitions_load_with_every_source_asset():
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {"budget_workbook", "insats_spells", "samtycke_consents", "fk_benefits", "af_support",
            "soc_payments", "hsf_contacts", "ekonomi_ledger"} <= keys


def test_partner_sources_wait_for_consents_and_spells():
    graph = defs.resolve_asset_graph()
    parents = {key.to_user_string() for key in graph.get(dg.AssetKey("fk_benefits")).parent_keys}
    assert parents == {"samtycke_consents", "insats_spells"}


def test_deliveries_are_facts_and_quarters_are_views():
    """Ingestion takes in every delivery whatever its date: not partitioned. The outputs are
    views per quarter, keyed as the command line says a quarter."""
    graph = defs.resolve_asset_graph()
    assert graph.get(dg.AssetKey("insats_spells")).partitions_def is None
    partitions = graph.get(dg.AssetKey("sus_statistics")).partitions_def
    assert isinstance(partitions, dg.StaticPartitionsDefinition)
    keys = partitions.get_partition_keys()
    assert keys[:2] == ["2022Q1", "2022Q2"] and keys[-1] == current_quarter()


def test_budget_reports_depend_on_the_sources_they_read():
    graph = defs.resolve_asset_graph()
    parents = {key.to_user_string() for key in graph.get(dg.AssetKey("budget_followup")).parent_keys}
    assert parents == {"budget_workbook", "ekonomi_ledger", "insats_spells"}


def test_every_run_executes_in_one_process():
    """The schedule, the sensor and the UI launch the job through the daemon: its executor decides
    whether each step starts a process of its own (88 s instead of 11 s for nothing new)."""
    job = defs.resolve_job_def("allt")
    assert job.executor_def.name == dg.in_process_executor.name
    # one run per quarter when Dagster splits a backfill; ranges still run as one run by tags
    assert job.backfill_policy == dg.BackfillPolicy.multi_run(1)


def test_quarter_keys():
    assert partition_key("2024q3") == "2024Q3" and partition_key(" 2024 Q3") == "2024Q3"
    assert quarter_keys("2023Q3", "2024Q2") == ["2023Q3", "2023Q4", "2024Q1", "2024Q2"]
    assert quarterly_partitions("2023Q2", "2023Q4").get_partition_keys() == [
        "2023Q2", "2023Q3", "2023Q4"]
    with pytest.raises(ValueError):
        partition_key("2024-3")


def test_known_range_keeps_to_the_locations_quarters():
    keys = quarter_keys("2024Q1", "2024Q4")
    assert known_range("2023Q3", "2024Q2", keys) == ("2024Q1", "2024Q2")
    assert known_range("2025Q1", "2025Q2", keys) is None


def test_loading_the_definitions_gives_no_warnings_of_ours():
    """`dagster dev` loads the definitions in several processes: a warning from our code shows
    once in each (there were 25 at start)."""
    loaded = subprocess.run(
        [sys.executable, "-W", "always", "-c", "import orchestration.definitions"],
        capture_output=True, text=True, timeout=300, check=True)
    ours = [line for line in loaded.stderr.splitlines() if "Warning" in line]
    assert ours == []


def test_definitions_for_explicit_quarters(tmp_path):
    from orchestration.settings import explicit

    resources = explicit(tmp_path, f"sqlite:///{tmp_path / 'w.db'}", tmp_path, "p", "v")
    built = build_definitions(resources, "2023Q1", "2023Q4")
    assert built.resolve_job_def("allt").partitions_def.get_partition_keys() == [
        "2023Q1", "2023Q2", "2023Q3", "2023Q4"]


def test_the_backfill_daemons_location_has_the_same_job_and_no_automation():
    from orchestration.daemon_location import defs as backfill_defs

    job = backfill_defs.resolve_job_def("allt")
    assert job.partitions_def.get_partition_keys() == (
        defs.resolve_job_def("allt").partitions_def.get_partition_keys())
    assert job.executor_def.name == dg.in_process_executor.name
    assert not list(backfill_defs.schedules or []) and not list(backfill_defs.sensors or [])
    assert {item.name for item in defs.sensors} >= {"nya_leveranser"}


def test_no_private_dagster_apis():
    """Dagster's underscored modules change without notice between releases."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    private = [str(path.relative_to(root)) for folder in ("finsam", "warehouse", "validation",
                                                          "sources", "assets", "orchestration",
                                                          "cli", "steward_web", "demodata", "tests")
               for path in (root / folder).rglob("*.py")
               if "dagster._" in path.read_text(encoding="utf-8").replace(
                   '"dagster._"', "")]
    assert private == []
