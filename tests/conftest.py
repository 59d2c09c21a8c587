"""Fixtures shared by the whole suite: keys, an isolated warehouse, the contract's sample landing zone."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from finsam.privacy import Keys, Pseudonymiser, Vault, read_key_file, write_new_keys
from warehouse.db import make_engine, migrate

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = FIXTURES / "samples"


@pytest.fixture
def key_files(tmp_path: Path) -> tuple[Path, Path]:
    return write_new_keys(tmp_path / "keys")


@pytest.fixture
def keys(key_files: tuple[Path, Path]) -> Keys:
    pseudonym_key, vault_key = key_files
    return Keys(Pseudonymiser(read_key_file(pseudonym_key, "P")), Vault(read_key_file(vault_key, "V")))


POSTGRES_ENV = "FINSAM_TEST_POSTGRES_URL"

# Test landing zones are written just before they are read: nothing in them is still uploading.
os.environ.setdefault("FINSAM_SETTLE_SECONDS", "0")


def _postgres_database():
    """A fresh database on the test server (`.ci/postgres` starts one), dropped afterwards."""
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        pytest.skip(f"{POSTGRES_ENV} is not set: PostgreSQL tests run in CI (.ci/run)")
    name = f"finsam_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def dagster_storage_url(warehouse_url: str):
    """The Dagster instance's own database next to a PostgreSQL warehouse (None for SQLite)."""
    if warehouse_url.startswith("postgresql"):
        yield from _postgres_database()
    else:
        yield None


@pytest.fixture
def dagster_home(tmp_path: Path, dagster_storage_url: str | None) -> Path:
    """A Dagster home whose instance storage follows the warehouse: SQLite files, or PostgreSQL."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    settings = "telemetry:\n  enabled: false\n"
    if dagster_storage_url:
        settings += f"storage:\n  postgres:\n    postgres_url: \"{dagster_storage_url}\"\n"
    (home / "dagster.yaml").write_text(settings, encoding="utf-8")
    return home


@pytest.fixture(params=["sqlite", "postgresql"])
def warehouse_url(request, tmp_path: Path):
    """Every database test runs on SQLite and, where a server is configured, on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'warehouse.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def engine(warehouse_url: str):
    engine = make_engine(warehouse_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sample_landing(tmp_path: Path) -> Path:
    landing = tmp_path / "landing"
    shutil.copytree(SAMPLES, landing)
    return landing
