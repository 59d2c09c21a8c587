"""Steward notices are collected during a run and written together before the commit: the result
must be what one statement per notice gave (refresh keeps first_seen, a cleared notice is not
written back, the last word about a file wins)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from assets.ingest.context import Consents, RunContext
from sources.landing import IngestSettings
from sources.registry import REGISTRY
from warehouse import models
from warehouse.db import make_engine, migrate


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


def _context(connection) -> RunContext:
    return RunContext(connection, REGISTRY["soc"], None, Consents(connection), REGISTRY,
                      IngestSettings(today=date(2025, 1, 1), settle_seconds=0))


def _notices(connection) -> dict:
    table = models.StewardNotice.__table__
    rows = connection.execute(select(table.c.kind, table.c.file_name, table.c.count,
                                     table.c.detail, table.c.first_seen)).all()
    return {(row.kind, row.file_name): row for row in rows}


def test_notices_are_written_at_flush_and_refreshed_in_place(engine):
    with engine.begin() as connection:
        ctx = _context(connection)
        ctx.notice("reservnummer", "20240101_a.csv", 1, "en")
        ctx.notice("reservnummer", "20240101_a.csv", 3, "tre")   # the last word wins
        ctx.notice("återkallat", "20240101_a.csv", 2, None)
        ctx.notice("väntar", "20240201_b.csv", 1, "väntar")
        assert _notices(connection) == {}                        # nothing before the flush
        ctx.clear_notices("väntar", ["20240201_b.csv"])          # cleared: never written
        ctx.flush_notices()
        first = _notices(connection)
    assert set(first) == {("reservnummer", "20240101_a.csv"), ("återkallat", "20240101_a.csv")}
    assert first[("reservnummer", "20240101_a.csv")].count == 3
    assert first[("reservnummer", "20240101_a.csv")].detail == "tre"

    with engine.begin() as connection:
        ctx = _context(connection)
        ctx.notice("reservnummer", "20240101_a.csv", 5, "fem")
        ctx.notice("reservnummer", "20240301_c.csv", 1, None)
        ctx.flush_notices()
        ctx.flush_notices()                                      # a second flush writes nothing
        second = _notices(connection)
    assert len(second) == 3
    refreshed = second[("reservnummer", "20240101_a.csv")]
    assert (refreshed.count, refreshed.detail) == (5, "fem")
    assert refreshed.first_seen == first[("reservnummer", "20240101_a.csv")].first_seen


def test_a_failed_run_leaves_no_notice(engine):
    with pytest.raises(RuntimeError), engine.begin() as connection:
        ctx = _context(connection)
        ctx.notice("reservnummer", "20240101_a.csv", 1, None)
        ctx.flush_notices()
        raise RuntimeError("the run dies before its commit")
    with engine.connect() as connection:
        assert _notices(connection) == {}
