"""The asset graph Dagster loads from orchestration/definitions.py."""

from __future__ import annotations

import dagster as dg

from orchestration.definitions import defs
from orchestration.partitions import (
    label_of_key,
    parse_quarter,
    partition_key,
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
    views per quarter."""
    graph = defs.resolve_asset_graph()
    assert graph.get(dg.AssetKey("insats_spells")).partitions_def is None
    partitions = graph.get(dg.AssetKey("sus_statistics")).partitions_def
    assert isinstance(partitions, dg.TimeWindowPartitionsDefinition)
    assert partitions.get_partition_keys()[:2] == ["2022-01-01", "2022-04-01"]


def test_quarter_labels_round_trip():
    assert partition_key("2024Q3") == "2024-07-01"
    assert label_of_key("2024-10-01") == "2024Q4"
    assert parse_quarter("2023q1").month == 1
    assert quarterly_partitions("2023Q2").get_first_partition_key() == "2023-04-01"
