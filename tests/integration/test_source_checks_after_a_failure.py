"""One source's failed ingestion leaves the other sources' checks evaluated that night.

The sixteen source checks once ran as one step over every source asset: Dagster skips a step
whose upstream failed, so a single broken source left all sixteen unevaluated."""

from __future__ import annotations

import dagster as dg
import pytest

from assets.ingest import assets as ingest_assets
from finsam.errors import RunFailed
from orchestration import settings
from orchestration.runner import run_quarters
from sources.registry import REGISTRY
from tests.support.dagster_checks import latest_evaluations

CHECKS = ("kvarhallna_rader", "leveransfarskhet")


@pytest.mark.parametrize("warehouse_url", ["sqlite"], indirect=True)
def test_a_failed_source_skips_only_its_own_checks(sample_landing, key_files, warehouse_url,
                                                   dagster_home, tmp_path, monkeypatch):
    real = ingest_assets.ingest_source

    def failing_for_fk(source, *args, **kwargs):
        if source == "fk":
            raise RuntimeError("fk: simulerat fel i inläsningen")
        return real(source, *args, **kwargs)

    monkeypatch.setattr(ingest_assets, "ingest_source", failing_for_fk)
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    pseudonym_key, vault_key = key_files
    resources = settings.explicit(sample_landing, warehouse_url, tmp_path / "out",
                                  str(pseudonym_key), str(vault_key), settle=0)
    instance = dg.DagsterInstance.get()
    sources = [spec.asset for spec in REGISTRY.specs()]
    with pytest.raises(RunFailed, match="fk_benefits"):
        run_quarters(resources, "2024Q4", "2024Q4", instance, assets=sources)

    evaluated = set(latest_evaluations(instance))
    expected = {(asset, check) for asset in sources if asset != "fk_benefits" for check in CHECKS}
    assert expected <= evaluated
    assert not {key for key in evaluated if key[0] == "fk_benefits"}
