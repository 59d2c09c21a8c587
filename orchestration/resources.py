"""Every external system behind a resource the tests can swap: files, database, keys."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr
from sqlalchemy import Engine

from assets.ingest.pipeline import Keys
from finsam.privacy import (
    PSEUDONYM_KEY_ENV,
    VAULT_KEY_ENV,
    Pseudonymiser,
    Vault,
    read_key_file,
)
from orchestration import settings
from warehouse.db import make_engine, migrate


class LandingZone(dg.ConfigurableResource):
    """The folder partners deliver into (read-only for finsam)."""

    path: str
    max_days_without_delivery: int = settings.DEFAULT_FRESHNESS_DAYS

    @property
    def root(self) -> Path:
        return Path(self.path)


class OutputFolder(dg.ConfigurableResource):
    """Where reports and the steward's pages are written."""

    path: str

    @property
    def root(self) -> Path:
        return Path(self.path)


class Warehouse(dg.ConfigurableResource):
    """The warehouse database; migrated to the newest schema on first use in a process."""

    url: str
    _engine: Engine | None = PrivateAttr(default=None)

    def engine(self) -> Engine:
        if self._engine is None:
            engine = make_engine(self.url)
            migrate(engine)
            self._engine = engine
        return self._engine


class SecretKeys(dg.ConfigurableResource):
    """Paths to the pseudonym key and the vault key; the keys themselves are read only when used."""

    pseudonym_key_file: str
    vault_key_file: str

    def load(self) -> Keys:
        return Keys(Pseudonymiser(read_key_file(self.pseudonym_key_file, PSEUDONYM_KEY_ENV)),
                    Vault(read_key_file(self.vault_key_file, VAULT_KEY_ENV)))


def from_environment() -> dict[str, dg.ConfigurableResource]:
    """Resources for `dagster dev` and the schedule: values come from the environment at run time."""
    return {
        "landing": LandingZone(path=dg.EnvVar(settings.LANDING_ENV),
                               max_days_without_delivery=settings.max_days_without_delivery()),
        "warehouse": Warehouse(url=dg.EnvVar(settings.WAREHOUSE_ENV)),
        "out": OutputFolder(path=dg.EnvVar(settings.OUT_ENV)),
        "secrets": SecretKeys(pseudonym_key_file=dg.EnvVar(PSEUDONYM_KEY_ENV),
                              vault_key_file=dg.EnvVar(VAULT_KEY_ENV)),
    }


def explicit(landing: Path, warehouse_url: str, out: Path, pseudonym_key_file: str,
             vault_key_file: str) -> dict[str, dg.ConfigurableResource]:
    """Resources for the command line, which has its values already."""
    return {
        "landing": LandingZone(path=str(landing)),
        "warehouse": Warehouse(url=warehouse_url),
        "out": OutputFolder(path=str(out)),
        "secrets": SecretKeys(pseudonym_key_file=pseudonym_key_file, vault_key_file=vault_key_file),
    }


__all__ = ["LandingZone", "OutputFolder", "Warehouse", "SecretKeys", "from_environment", "explicit"]
