"""Every external system behind a resource the tests can swap: files, database, keys."""

from __future__ import annotations

import datetime as dt
from datetime import date
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import dagster as dg
from pydantic import PrivateAttr
from sqlalchemy import Engine

from finsam.periods import TIMEZONE
from finsam.privacy import (
    PSEUDONYM_KEY_ENV,
    VAULT_KEY_ENV,
    Keys,
    Pseudonymiser,
    Vault,
    read_key_file,
)
from sources.landing import IngestSettings
from warehouse.db import make_engine, migrate

# What a source's freshness is measured against: today (production), or the newest delivery in the
# landing zone (a landing zone that is a snapshot of the past, such as the demo's: a source is late
# when it lags behind the others, not behind the calendar).
TODAY = "idag"
NEWEST_DELIVERY = "senaste_leverans"


class LandingZone(dg.ConfigurableResource):
    """The folder partners deliver into (read-only for finsam), and what a run may read of it."""

    path: str
    freshness_reference: Literal["idag", "senaste_leverans"] = TODAY
    # a file modified more recently than this may still be uploading: it waits for the next run
    settle_seconds: float = 60.0
    max_file_megabytes: int = 512
    max_rows: int = 5_000_000

    @property
    def root(self) -> Path:
        return Path(self.path)

    def settings(self, today: date | None = None) -> IngestSettings:
        return IngestSettings(today=today or dt.datetime.now(ZoneInfo(TIMEZONE)).date(),
                              settle_seconds=self.settle_seconds,
                              max_file_bytes=self.max_file_megabytes * 1024 * 1024,
                              max_rows=self.max_rows)


class OutputFolder(dg.ConfigurableResource):
    """Where reports and the steward's pages are written, and the förbund's choice of part-year
    report (delårsrapport per tertial or per half-year)."""

    path: str
    delarsperiod: Literal["tertial", "halvår"] = "tertial"

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
