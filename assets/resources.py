"""Every external system behind a resource the tests can swap: files, database, keys."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import dagster as dg
from pydantic import PrivateAttr
from sqlalchemy import Engine

from assets import runs
from finsam.periods import TIMEZONE
from finsam.privacy import Keys, read_keys
from sources.landing import IngestSettings
from warehouse import key_checks
from warehouse.db import make_engine, migrate
from warehouse.lock import DEFAULT_WAIT_SECONDS, holder_text, run_lock

# What a source's freshness is measured against: today (production), or the newest delivery in the
# landing zone (a landing zone that is a snapshot of the past, such as the demo's: a source is late
# when it lags behind the others, not behind the calendar).
TODAY = "idag"
NEWEST_DELIVERY = "senaste_leverans"


class LandingZone(dg.ConfigurableResource):
    """The folder partners deliver into (read-only for finsam), and what a run may read of it."""

    path: str
    # "idag", "senaste_leverans", or a day (YYYY-MM-DD): the demo's landing zone is a picture of
    # a past day, and its late deliveries (a ledger, a correction) come after that day
    freshness_reference: str = TODAY
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
    """The warehouse database; migrated to the newest schema on first use in a process.

    A run holds the warehouse's run lock from the moment its resources are set up until they are
    torn down (``warehouse.lock``): two runs, or a nightly run during a backfill, never write at
    the same time; the second waits up to ``lock_wait_seconds`` and then fails saying which run
    holds the warehouse."""

    url: str
    lock_wait_seconds: float = DEFAULT_WAIT_SECONDS
    _engine: Engine | None = PrivateAttr(default=None)

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[Warehouse]:
        run_id = context.run_id
        if not run_id:
            # a sensor's or schedule's evaluation only looks: it must never wait for a run
            yield self
            return
        what = f"Dagster-körning {run_id}"
        with run_lock(self.url, what, wait_seconds=self.lock_wait_seconds) as describe:
            if context.instance is not None:
                describe(holder_text(what))
                # which process runs this run, so that a killed one is found dead (assets/runs.py);
                # and runs of this warehouse's processes that died are marked failed now that
                # this run holds the warehouse
                context.instance.add_run_tags(run_id, runs.tags())
                runs.fail_dead_runs(context.instance)
            yield self

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
        """Both keys, refused if missing, readable by others, guessable or one and the same."""
        return read_keys(self.pseudonym_key_file, self.vault_key_file)

    def verified(self, engine: Engine) -> Keys:
        """The keys, checked against the warehouse's check values before anything is written
        (stored by the first run); a wrong key fails the run with ``KeyMismatch``. Checked at
        every use (a few rows): a rotation by another process is seen at once."""
        return key_checks.verify(engine, self.load())
