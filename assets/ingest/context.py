"""What one source's ingestion carries through a run: the transaction, the keys, the consent
register as the transaction sees it, and each delivery of the batch with what became of it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Connection, insert, select, update

from assets.ingest.withdrawal import erased_people, read_consents
from finsam.enums import Outcome
from finsam.errors import DeliveryRejected
from finsam.privacy import Keys
from sources.base import Conformed, Delivery
from sources.registry import Registry
from sources.spec import Source, SourceSpec
from warehouse import models


@dataclass
class FileOutcome:
    file_name: str
    outcome: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_held: int = 0
    message: str | None = None


@dataclass
class IngestReport:
    source: str
    files: list[FileOutcome] = field(default_factory=list)
    accepted_loaded: int = 0
    closed: int = 0
    resolved: int = 0

    def count(self, outcome: str) -> int:
        return sum(1 for item in self.files if item.outcome == outcome)

    @property
    def rows_read(self) -> int:
        return sum(item.rows_read for item in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(item.rows_loaded for item in self.files) + self.accepted_loaded

    @property
    def rows_held(self) -> int:
        return sum(item.rows_held for item in self.files)

    def metadata(self) -> dict:
        return {
            "files_new": self.count(Outcome.LOADED) + self.count(Outcome.SUPERSEDED),
            "files_duplicate": self.count(Outcome.DUPLICATE),
            "files_rejected": self.count(Outcome.REJECTED),
            "files_unrecognised": self.count(Outcome.UNRECOGNISED),
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_held": self.rows_held,
            "held_rows_closed": self.closed,
            "held_rows_resolved": self.resolved,
            "accepted_rows_loaded": self.accepted_loaded,
        }


@dataclass
class Tally:
    """Rows of one delivery counted while loading (reported per file, never listed)."""

    loaded: int = 0
    reservnummer: int = 0
    without_consent: int = 0
    erased: int = 0


@dataclass
class Item:
    """One delivery of the batch: what was read and conformed, its manifest id, and its fate."""

    delivery: Delivery
    raw: Any = None                    # a frame, or the budget workbook's frames per sheet
    conformed: Conformed | None = None
    rejection: DeliveryRejected | None = None
    duplicate_of: str | None = None
    delivery_id: int | None = None
    outcome: Outcome = Outcome.LOADED
    tally: Tally = field(default_factory=Tally)
    prepared: pd.DataFrame | None = None      # snapshot: pseudonymised and keyed, ready to load
    loaded_keys: pd.Series | None = None      # match keys of the rows it loaded (closes held rows)
    held: pd.DataFrame | None = None          # its issues with their match keys


class Consents:
    """The consent register as the transaction sees it, read at most once: only the consent source
    changes it, and that source does not read it before its own load."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._frame: pd.DataFrame | None = None

    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            self._frame = read_consents(self._connection)
        return self._frame

    def erased(self) -> pd.Index:
        return erased_people(self.frame())


@dataclass
class RunContext:
    connection: Connection
    source: Source
    keys: Keys
    consents: Consents
    registry: Registry

    @property
    def spec(self) -> SourceSpec:
        return self.source.spec

    def notice(self, kind: str, file_name: str, count: int, detail: str | None) -> None:
        """Record (or refresh) a steward notice about one file: counts, never values."""
        table = models.StewardNotice.__table__
        now = dt.datetime.now(dt.timezone.utc)
        existing = self.connection.execute(select(table.c.id).where(
            table.c.kind == kind, table.c.source == self.spec.name,
            table.c.file_name == file_name)).scalar()
        if existing is None:
            self.connection.execute(insert(table).values(
                kind=kind, source=self.spec.name, file_name=file_name, count=count, detail=detail,
                first_seen=now, last_seen=now))
        else:
            self.connection.execute(update(table).where(table.c.id == existing).values(
                count=count, detail=detail, last_seen=now))
