"""Fixtures shared by the whole suite: keys, an isolated warehouse, the contract's sample landing zone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assets.ingest.pipeline import Keys
from finsam.privacy import Pseudonymiser, Vault, read_key_file, write_new_keys
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


@pytest.fixture
def warehouse_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'warehouse.db'}"


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
