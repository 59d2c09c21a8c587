"""What one source's ingestion carries through a run: the transaction, the keys, the consent
register as the transaction sees it, and each delivery of the batch with what became of it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Connection, bindparam, delete, insert, select, update

from assets.ingest.withdrawal import (
    Erasure,
    apply_erasure,
    read_consents,
    read_tombstones,
)
from finsam.enums import Outcome
from finsam.errors import DeliveryRejected
from finsam.privacy import Keys
from sources.base import Conformed, Delivery
from sources.landing import IngestSettings
from sources.registry import Registry
from sources.spec import Role, Source, SourceSpec
from warehouse import models

# the rule of the one held row of a snapshot that waits because it shrank far below the truth
SHRUNK = "ögonblicksbilden har krympt kraftigt"


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
    waiting: list[tuple[str, str]] = field(default_factory=list)   # (file, why), not read yet
    accepted_loaded: int = 0
    closed: int = 0
    resolved: int = 0
    erased: bool = False

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
            "files_waiting": len(self.waiting) + self.count(Outcome.WAITING),
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
    waiting_id: int | None = None             # its manifest row, when it waited before
    message: str | None = None                # what the manifest says of it besides the outcome


class Consents:
    """The consent register and the tombstones as the transaction sees them, each read at most
    once: only the consent source changes them, and it reads neither before its own load."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._frame: pd.DataFrame | None = None
        self._tombstones: pd.DataFrame | None = None

    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            self._frame = read_consents(self._connection)
        return self._frame

    def tombstones(self) -> pd.DataFrame:
        if self._tombstones is None:
            self._tombstones = read_tombstones(self._connection)
        return self._tombstones

    def forget(self) -> None:
        """The register or the tombstones changed in this transaction: read them again."""
        self._frame = self._tombstones = None


@dataclass
class RunContext:
    connection: Connection
    source: Source
    keys: Keys
    consents: Consents
    registry: Registry
    settings: IngestSettings
    # filled by an erasure, used after it: never logged, never stored
    erased_numbers: set[str] = field(default_factory=set)
    erased_tables: set[str] = field(default_factory=set)
    # steward notices of this run, (kind, file name) -> (count, detail): written together by
    # ``flush_notices`` before the commit instead of a select and a write per notice
    pending_notices: dict[tuple[str, str], tuple[int, str | None]] = field(default_factory=dict)

    @property
    def spec(self) -> SourceSpec:
        return self.source.spec

    def erase(self, erasure: Erasure, item: Item) -> None:
        """Erase these people from what is stored (every partner table the registry holds), and
        keep their numbers in memory for the restricted output files written before."""
        partners = {spec.table: spec.consent.time.start for spec in self.registry.partner_sources()}
        participants = [spec.name for spec in self.registry.with_role(Role.PARTICIPANTS)]
        changed = apply_erasure(self.connection, erasure, partners, participants)
        self.erased_tables |= set(changed) | {"spell", "identity_vault", "consent", "held_row",
                                              "held_record"}
        frame = item.conformed.frame
        numbers = frame.loc[frame["pnr"].notna(), "pnr"].drop_duplicates()
        tombstones = self.keys.pseudonymiser.tombstones(numbers)
        self.erased_numbers |= set(numbers[tombstones.isin(erasure.people["tombstone"])])

    def clear_notices(self, kind: str, file_names: list[str]) -> None:
        """Notices of ``kind`` about these files no longer apply (a waiting file was read)."""
        table = models.StewardNotice.__table__
        for file_name in file_names:
            self.pending_notices.pop((kind, file_name), None)
        names = sorted(set(file_names))
        for start in range(0, len(names), 500):
            self.connection.execute(delete(table).where(
                table.c.kind == kind, table.c.source == self.spec.name,
                table.c.file_name.in_(names[start:start + 500])))

    def notice(self, kind: str, file_name: str, count: int, detail: str | None) -> None:
        """Record (or refresh) a steward notice about one file: counts, never values. Written
        by ``flush_notices``, in the same transaction."""
        self.pending_notices[(kind, file_name)] = (count, detail)

    def flush_notices(self) -> None:
        """Write this run's notices: one read of the source's notices about these files, then
        the new ones inserted and the known ones refreshed, each as one executemany."""
        if not self.pending_notices:
            return
        table = models.StewardNotice.__table__
        now = dt.datetime.now(dt.UTC)
        names = sorted({file_name for _, file_name in self.pending_notices})
        existing = {(kind, file_name): id_ for id_, kind, file_name in self.connection.execute(
            select(table.c.id, table.c.kind, table.c.file_name).where(
                table.c.source == self.spec.name, table.c.file_name.in_(names)))}
        new, known = [], []
        for (kind, file_name), (count, detail) in self.pending_notices.items():
            if (kind, file_name) in existing:
                known.append({"b_id": existing[(kind, file_name)], "b_count": count,
                              "b_detail": detail, "b_seen": now})
            else:
                new.append({"kind": kind, "source": self.spec.name, "file_name": file_name,
                            "count": count, "detail": detail, "first_seen": now, "last_seen": now})
        if new:
            self.connection.execute(insert(table), new)
        if known:
            self.connection.execute(update(table).where(table.c.id == bindparam("b_id")).values(
                count=bindparam("b_count"), detail=bindparam("b_detail"),
                last_seen=bindparam("b_seen")), known)
        self.pending_notices.clear()


def scope(item: Item) -> str:
    """The part of the warehouse a snapshot delivery replaces (an insats, a budget year)."""
    return item.delivery.scope or "register"
