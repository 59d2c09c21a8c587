"""Every external system behind a resource the tests can swap: files, database, keys."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr
from sqlalchemy import Engine

from finsam.privacy import (
    PSEUDONYM_KEY_ENV,
    VAULT_KEY_ENV,
    Keys,
    Pseudonymiser,
    Vault,
    read_key_file,
)
from warehouse.db import make_engine, migrate

DEFAULT_FRESHNESS_DAYS = 45


class LandingZone(dg.ConfigurableResource):
    """The folder partners deliver into (read-only for finsam)."""

    path: str
    max_days_without_delivery: int = DEFAULT_FRESHNESS_DAYS

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
