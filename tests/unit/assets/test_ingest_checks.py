"""The source checks' severities: held rows are the steward's daily work (counted, passing), a
delivery mostly held is a warning; a late partner is a warning measured against its own cadence."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from assets.ingest.checks import freshness, held_summary, specs
from sources.registry import REGISTRY


def _held(rows: list[tuple[int, int, str]]) -> pd.DataFrame:
    """(delivery_id, row_number, severity) per held cell."""
    return pd.DataFrame([{"file_name": f"f{delivery}.csv", "delivery_id": delivery,
                          "row_number": row, "column": "kol", "rule": "regel",
                          "severity": severity, "found": "x"}
                         for delivery, row, severity in rows])


def _files(counts: dict[int, int]) -> pd.DataFrame:
    return pd.DataFrame([{"id": delivery, "file_name": f"f{delivery}.csv", "rows_read": rows}
                         for delivery, rows in counts.items()])


def test_a_few_held_rows_pass_with_their_counts():
    held = _held([(1, 2, "fel"), (1, 2, "varning"), (1, 7, "varning"), (2, 3, "fel")])
    passed, description, metadata = held_summary(held, _files({1: 100, 2: 40}))
    assert passed
    # counted independently: 2 error cells, 2 warning cells, 3 distinct rows in 2 files
    assert (metadata["öppna_fel"], metadata["öppna_varningar"], metadata["rader"],
            metadata["filer"]) == (2, 2, 3, 2)
    assert description.startswith("2 fel att rätta vid källan, 2 varningar")


def test_one_of_each_is_said_in_the_singular():
    _, description, _ = held_summary(_held([(1, 1, "fel"), (1, 2, "varning")]), _files({1: 50}))
    assert "1 fel att rätta" in description and "1 varning att godkänna" in description


def test_a_delivery_mostly_held_warns():
    held = _held([(1, row, "fel") for row in range(1, 7)] + [(2, 1, "varning")])
    passed, description, metadata = held_summary(held, _files({1: 10, 2: 300}))
    assert not passed
    assert "1 leverans med mer än hälften" in description and "f1.csv" in description
    assert metadata["mest_kvarhållna_filer"].value == [
        {"fil": "f1.csv", "kvarhållna": 6, "lästa": 10}]


def test_a_small_delivery_with_few_held_rows_is_not_mostly_held():
    # 4 of 4 rows held: below the minimum, a few wrong cells rather than a changed format
    passed, _, _ = held_summary(_held([(1, row, "fel") for row in range(4)]), _files({1: 4}))
    assert passed


def test_nothing_held_passes():
    passed, description, metadata = held_summary(_held([]).reindex(
        columns=["file_name", "delivery_id", "row_number", "column", "rule", "severity", "found"]),
        _files({1: 10}))
    assert passed and description == "inga kvarhållna rader" and metadata["rader"] == 0


def test_freshness_against_the_sources_own_cadence():
    reference = dt.date(2024, 11, 30)
    on_time, description, metadata = freshness(dt.date(2024, 11, 25), reference, "idag", 7)
    assert on_time and metadata["dagar_sedan"] == 5 and "5 dagar före idag" in description
    late, description, _ = freshness(dt.date(2024, 11, 1), reference, "idag", 7)
    assert not late and description.startswith("försenad: ")
    # the yearly budget is on time after half a year
    assert freshness(dt.date(2024, 5, 1), reference, "idag", 400)[0]
    never, description, _ = freshness(None, reference, "idag", 7)
    assert not never and "ingen leverans" in description


def test_cadences_come_from_the_source_specs():
    cadence = {spec.name: spec.freshness_days for spec in REGISTRY.specs()}
    assert cadence["budget"] > 365 and 28 <= cadence["ekonomi"] <= 62
    assert all(days <= 14 for name, days in cadence.items() if name not in ("budget", "ekonomi"))


def test_every_source_check_is_a_warning():
    for spec in REGISTRY.specs():
        for check in specs(spec):
            assert check.blocking is False


def test_every_sources_two_checks_are_evaluated_in_its_own_step(tmp_path, monkeypatch):
    import dagster as dg

    from orchestration import settings
    from orchestration.definitions import JOB, build_definitions

    monkeypatch.setenv("FINSAM_WAREHOUSE_URL", f"sqlite:///{tmp_path / 'lager.db'}")
    defs = build_definitions(settings.from_environment(), "2024Q1", automation=False)
    graph = defs.resolve_asset_graph()
    for spec in REGISTRY.specs():
        assets_def = graph.get(dg.AssetKey(spec.asset)).assets_def
        assert set(assets_def.check_keys) == {dg.AssetCheckKey(dg.AssetKey(spec.asset), name)
                                              for name in ("kvarhallna_rader", "leveransfarskhet")}
    steps = {node.name for node in defs.resolve_job_def(JOB).nodes}
    # no step of their own: neither one per check nor one for all sources
    assert "leveranskontroller" not in steps
    assert not [name for name in steps if name.endswith(("_kvarhallna_rader", "_leveransfarskhet"))]
