"""The warehouse URL as people write it reaches the driver finsam installs."""

from __future__ import annotations

import pytest

from warehouse.db import make_engine
from warehouse.lock import _AdvisoryLock


@pytest.mark.parametrize("url, driver", [
    ("postgresql://finsam@dbvärd/finsam", "psycopg2"),
    ("postgresql+psycopg2://finsam@dbvärd/finsam", "psycopg2"),
    ("sqlite://", "pysqlite"),
])
def test_a_bare_postgresql_url_uses_psycopg2(url, driver):
    engine = make_engine(url)
    assert engine.dialect.driver == driver
    engine.dispose()


def test_the_run_lock_connects_with_the_same_driver():
    lock = _AdvisoryLock("postgresql://finsam@dbvärd/finsam")
    assert lock.engine.dialect.driver == "psycopg2"
