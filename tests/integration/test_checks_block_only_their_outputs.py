"""Issue 16, item 3: a check whose inputs are wrong stops only the output built from them.

Before, ``redo_for_sus`` and the key suites were Dagster-blocking checks on ``insats_spells``: one
failing skipped everything downstream of the participants (every partner source, the steward's
page, the board's economy), every run. Now no check blocks in Dagster's sense; the SUS submission,
the one output built from what ``redo_for_sus`` checks, refuses by itself, and its sibling outputs
are written."""

from __future__ import annotations

import dagster as dg
import pytest

from assets.ingest.run import ingest_source
from assets.resources import OutputFolder, SecretKeys, Warehouse
from assets.sus.assets import build_assets
from orchestration.definitions import defs
from orchestration.partitions import quarterly_partitions
from sources.registry import REGISTRY
from warehouse import key_checks


def test_no_check_skips_what_is_downstream_of_its_asset():
    graph = defs.resolve_asset_graph()
    blocking = [key.to_user_string() for key in graph.asset_check_keys
                if graph.get_check_spec(key).blocking]
    assert blocking == []


@pytest.fixture
def broken_vault(sample_landing, engine, keys):
    """Every sample loaded, then the identity vault emptied: what redo_for_sus exists to catch."""
    keys = key_checks.verify(engine, keys)
    for source in REGISTRY.names:
        ingest_source(source, sample_landing, engine, keys)
    with engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM identity_vault")
    return engine


def test_sus_submission_refuses_while_sus_statistics_is_written(broken_vault, warehouse_url,
                                                                 key_files, tmp_path):
    assets = {asset.key.to_user_string(): asset
              for asset in build_assets(quarterly_partitions("2024Q1"))}
    resources = {"warehouse": Warehouse(url=warehouse_url, lock_wait_seconds=5),
                 "secrets": SecretKeys(pseudonym_key_file=str(key_files[0]),
                                       vault_key_file=str(key_files[1])),
                 "out": OutputFolder(path=str(tmp_path / "out"))}
    result = dg.materialize([assets["sus_submission"], assets["sus_statistics"]],
                            partition_key="2024Q4", resources=resources,
                            raise_on_error=False, instance=dg.DagsterInstance.ephemeral(),
                            selection=["sus_submission", "sus_statistics"])
    failures = [event for event in result.all_events if event.is_step_failure]
    assert [event.step_key for event in failures] == ["sus_submission"]
    message = failures[0].event_specific_data.error.message
    assert "SUS-filerna skrivs inte" in message and "saknar identitet i valvet" in message
    assert not (tmp_path / "out" / "begransad" / "sus").exists()
    materialised = {event.asset_key.to_user_string() for event in result.all_events
                    if event.is_step_materialization}
    assert materialised == {"sus_statistics"}
