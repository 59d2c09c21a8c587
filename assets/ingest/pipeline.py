"""One source's ingestion: scan, skip what was seen, read and conform, pseudonymise, load.

All reading happens before the database transaction; all writing happens in one transaction, so a
failure leaves the warehouse exactly as it was and the same deliveries are tried again next run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Engine, insert, select, update

from assets.ingest import transforms
from assets.ingest.withdrawal import apply_withdrawals, erased_people, read_consents
from finsam.consent import PARTNER_OF_SOURCE, consented
from finsam.errors import DeliveryRejected
from finsam.privacy import Pseudonymiser, Vault
from sources.base import SNAPSHOT, Conformed, Delivery
from sources.landing import Unrecognised, scan_source
from sources.registry import reader
from sources.specs import BY_NAME
from validation.issues import combine, failing_rows
from validation.warehouse import check_before_load
from warehouse import load, models

LOADED = "inläst"
DUPLICATE = "dubblett"
REJECTED = "avvisad"
SUPERSEDED = "ersatt"
UNRECOGNISED = "okänt namn"

CLOSED_SUPERSEDED = "ersatt"


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
    notices: list[dict] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for item in self.files if item.outcome == outcome)

    @property
    def rows_read(self) -> int:
        return sum(item.rows_read for item in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(item.rows_loaded for item in self.files)

    @property
    def rows_held(self) -> int:
        return sum(item.rows_held for item in self.files)

    def metadata(self) -> dict:
        return {
            "files_new": self.count(LOADED) + self.count(SUPERSEDED),
            "files_duplicate": self.count(DUPLICATE),
            "files_rejected": self.count(REJECTED),
            "files_unrecognised": self.count(UNRECOGNISED),
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_held": self.rows_held,
        }


@dataclass
class _Read:
    delivery: Delivery
    conformed: Conformed | None = None
    rejection: DeliveryRejected | None = None
    duplicate_of: str | None = None
    delivery_id: int | None = None
    outcome: str = LOADED
    rows_loaded: int = 0
    reservnummer: int = 0
    without_consent: int = 0


@dataclass(frozen=True)
class Keys:
    pseudonymiser: Pseudonymiser
    vault: Vault


def ingest_source(source: str, landing: Path, engine: Engine, keys: Keys, *,
                  before: date | None = None) -> IngestReport:
    """Ingest every new delivery of ``source`` extracted before ``before``."""
    spec = BY_NAME[source]
    report = IngestReport(source)
    deliveries, unrecognised = scan_source(landing, spec, before=before)
    with engine.connect() as connection:
        seen = _seen(connection, source)
    module = reader(source)
    batch: list[_Read] = []
    hashes = dict(seen["hash_to_file"])
    for delivery in deliveries:
        if (delivery.file_name, delivery.sha256) in seen["files"]:
            continue
        item = _Read(delivery)
        if delivery.sha256 in hashes:
            item.duplicate_of, item.outcome = hashes[delivery.sha256], DUPLICATE
        else:
            hashes[delivery.sha256] = delivery.file_name
            try:
                item.conformed = module.conform(module.read(delivery), delivery)
            except DeliveryRejected as exc:
                item.rejection, item.outcome = exc, REJECTED
        batch.append(item)
    new_unrecognised = [u for u in unrecognised if u.file_name not in seen["unrecognised"]]
    with engine.begin() as connection:
        _record_unrecognised(connection, source, new_unrecognised, report)
        for item in batch:
            item.delivery_id = _record_delivery(connection, item)
        if spec.kind == SNAPSHOT:
            _load_snapshots(connection, source, batch, keys, report)
        else:
            _load_deltas(connection, source, batch, keys, report)
        if source in WITHDRAWAL_SENSITIVE:
            apply_withdrawals(connection)
        for item in batch:
            report.files.append(_finish(connection, item))
    return report


def _seen(connection: Connection, source: str) -> dict:
    rows = connection.execute(select(models.Delivery.file_name, models.Delivery.sha256,
                                     models.Delivery.outcome)
                              .where(models.Delivery.source == source)).all()
    return {
        "files": {(row.file_name, row.sha256) for row in rows if row.outcome != UNRECOGNISED},
        "hash_to_file": {row.sha256: row.file_name for row in rows
                         if row.outcome in (LOADED, SUPERSEDED, REJECTED)},
        "unrecognised": {row.file_name for row in rows if row.outcome == UNRECOGNISED},
    }


def _record_unrecognised(connection: Connection, source: str, files: list[Unrecognised],
                         report: IngestReport) -> None:
    for item in files:
        connection.execute(insert(models.Delivery).values(
            source=source, file_name=item.file_name, extraction_date=None, scope=None,
            sha256="-", size_bytes=0, rows_read=0, rows_loaded=0, rows_held=0,
            outcome=UNRECOGNISED, message=item.reason))
        _notice(connection, "okänd_leverans", source, item.file_name, 1, item.reason)
        report.files.append(FileOutcome(item.file_name, UNRECOGNISED, message=item.reason))


def _record_delivery(connection: Connection, item: _Read) -> int:
    delivery = item.delivery
    message = None
    if item.rejection is not None:
        message = str(item.rejection)
    elif item.duplicate_of is not None:
        message = f"samma innehåll som {item.duplicate_of}"
    result = connection.execute(insert(models.Delivery).values(
        source=delivery.source, file_name=delivery.file_name,
        extraction_date=delivery.extraction_date, scope=delivery.scope, sha256=delivery.sha256,
        size_bytes=delivery.path.stat().st_size,
        rows_read=item.conformed.rows_read if item.conformed else 0,
        rows_loaded=0, rows_held=0, outcome=item.outcome, message=message))
    if item.rejection is not None:
        _notice(connection, "avvisad_fil", delivery.source, delivery.file_name, 1, message)
    return int(result.inserted_primary_key[0])


def _prepared(source: str, item: _Read, keys: Keys) -> pd.DataFrame:
    frame, item.reservnummer = transforms.split_reservnummer(item.conformed.frame)
    if source == "insats":
        frame = transforms.with_age_at_enrolment(frame)
    frame = transforms.pseudonymise(frame, keys.pseudonymiser)
    frame = transforms.with_lineage(frame, item.delivery, item.delivery_id)
    return transforms.with_record_key(frame, source)


def _load_deltas(connection: Connection, source: str, batch: list[_Read], keys: Keys,
                 report: IngestReport) -> None:
    readable = [item for item in batch if item.conformed is not None]
    if not readable:
        return
    frames = [_prepared(source, item, keys) for item in readable]
    if source in PARTNER_OF_SOURCE:
        consents = read_consents(connection)
        frames = [_only_consented(source, item, frame, consents) for item, frame in zip(readable, frames)]
    combined = load.newest_per_key(pd.concat(frames, ignore_index=True))
    table = models.DELTA_TABLES[source]
    check_before_load(table.name, combined)
    load.merge_delta(connection, table, combined)
    for item, frame in zip(readable, frames):
        item.rows_loaded = len(frame)
        if item.reservnummer:
            _notice(connection, "reservnummer", source, item.delivery.file_name, item.reservnummer,
                    "rader med reservnummer kan inte kopplas till någon person")
        if item.without_consent:
            _notice(connection, "utan_samtycke", source, item.delivery.file_name, item.without_consent,
                    f"{item.without_consent} rader om personer utan gällande samtycke för "
                    f"{PARTNER_OF_SOURCE[source]}: inte lagrade")


def _only_consented(source: str, item: _Read, frame: pd.DataFrame, consents: pd.DataFrame
                    ) -> pd.DataFrame:
    """Records without consent in force are never stored person-level: only counted per file.
    People who withdrew every consent are erased, so none of their records are stored again."""
    allowed = consented(frame, source, consents) & ~frame["pseudonym"].isin(erased_people(consents))
    item.without_consent = int((~allowed).sum())
    return frame.loc[allowed]


# Loads that can bring identifiable data back; each is followed by the withdrawal rules.
WITHDRAWAL_SENSITIVE = {"samtycke", "insats", "fk", "af", "soc", "hsf"}

SNAPSHOT_TABLES = {
    "insats": models.Spell.__table__,
    "samtycke": models.Consent.__table__,
}


def _load_snapshots(connection: Connection, source: str, batch: list[_Read], keys: Keys,
                    report: IngestReport) -> None:
    readable = [item for item in batch if item.conformed is not None]
    by_scope: dict[str, list[_Read]] = {}
    for item in readable:
        by_scope.setdefault(_scope(source, item.delivery), []).append(item)
    for scope, items in by_scope.items():
        state = connection.execute(select(models.SnapshotState).where(
            models.SnapshotState.source == source, models.SnapshotState.scope == scope)).first()
        current_date = state.extraction_date if state else None
        previous_keys = _stored_keys(connection, source, scope) if state else None
        previous_file = _file_name(connection, state.delivery_id) if state else None
        newest = items[-1]
        for item in items:
            prepared = _prepared(source, item, keys) if source != "budget" else None
            current_keys = prepared["record_key"] if prepared is not None else None
            is_older = current_date is not None and item.delivery.extraction_date < current_date
            if previous_keys is not None and current_keys is not None and not is_older:
                gone = transforms.vanished(previous_keys, current_keys)
                if gone:
                    _notice(connection, "försvunna_poster", source, item.delivery.file_name, gone,
                            f"{gone} poster som fanns i {previous_file} saknas i {item.delivery.file_name}")
            if item is not newest or is_older:
                item.outcome = SUPERSEDED
                continue
            if not is_older:
                previous_keys, previous_file = current_keys, item.delivery.file_name
            _replace_scope(connection, source, scope, item, prepared, keys)
            _set_state(connection, source, scope, item, exists=state is not None)


def _scope(source: str, delivery: Delivery) -> str:
    return delivery.scope or "register"


def _stored_keys(connection: Connection, source: str, scope: str) -> pd.Series | None:
    if source not in SNAPSHOT_TABLES:
        return None
    table = SNAPSHOT_TABLES[source]
    query = select(table.c.record_key)
    if source == "insats":
        query = query.where(table.c.insats == scope)
    return pd.Series(connection.execute(query).scalars().all(), dtype="string")


def _file_name(connection: Connection, delivery_id: int) -> str:
    return connection.execute(select(models.Delivery.file_name)
                              .where(models.Delivery.id == delivery_id)).scalar_one()


def _replace_scope(connection: Connection, source: str, scope: str, item: _Read,
                   prepared: pd.DataFrame | None, keys: Keys) -> None:
    if source == "budget":
        _replace_budget(connection, int(scope), item)
        return
    table = SNAPSHOT_TABLES[source]
    if source == "insats":
        # De-identified spells of people who withdrew stay as they are; the register's copies of
        # those people are not linked again.
        condition = (table.c.insats == scope) & table.c.deidentified_person.is_(None)
        erased = erased_people(read_consents(connection))
        prepared = prepared.loc[~prepared["pseudonym"].isin(erased)]
    else:
        condition = table.c.id.isnot(None)
    check_before_load(table.name, prepared)
    load.replace_where(connection, table, condition, prepared)
    item.rows_loaded = len(prepared)
    if source == "insats":
        entries = transforms.vault_entries(item.conformed.frame, keys.pseudonymiser, keys.vault)
        _store_vault(connection, entries.loc[~entries["pseudonym"].isin(erased)])


BUDGET_TABLES = {
    "frame": models.BudgetLine.__table__,
    "insatser": models.BudgetInsats.__table__,
    "arsbudget": models.BudgetAnnual.__table__,
    "finansiering": models.BudgetFinancing.__table__,
}


def _replace_budget(connection: Connection, year: int, item: _Read) -> None:
    for part, table in BUDGET_TABLES.items():
        frame = item.conformed.frame if part == "frame" else item.conformed.extra.get(part)
        if frame is None:
            frame = pd.DataFrame()
        frame = transforms.with_lineage(frame.assign(year=year), item.delivery, item.delivery_id)
        check_before_load(table.name, frame)
        load.replace_where(connection, table, table.c.year == year, frame)
    item.rows_loaded = len(item.conformed.frame)


def _store_vault(connection: Connection, entries: pd.DataFrame) -> None:
    if entries.empty:
        return
    existing = set(connection.execute(select(models.IdentityVault.pseudonym)).scalars())
    new = entries.loc[~entries["pseudonym"].isin(existing)]
    load.insert_frame(connection, models.IdentityVault.__table__, new)


def _set_state(connection: Connection, source: str, scope: str, item: _Read, *, exists: bool) -> None:
    values = dict(delivery_id=item.delivery_id, extraction_date=item.delivery.extraction_date)
    if exists:
        connection.execute(update(models.SnapshotState).where(
            models.SnapshotState.source == source, models.SnapshotState.scope == scope).values(**values))
    else:
        connection.execute(insert(models.SnapshotState).values(source=source, scope=scope, **values))


def _finish(connection: Connection, item: _Read) -> FileOutcome:
    outcome = FileOutcome(item.delivery.file_name, item.outcome,
                          message=str(item.rejection) if item.rejection else None)
    if item.conformed is None:
        return outcome
    issues = combine(item.conformed.issues)
    status = "öppen" if item.outcome == LOADED else CLOSED_SUPERSEDED
    _hold(connection, item, issues, status)
    outcome.rows_read = item.conformed.rows_read
    outcome.rows_loaded = item.rows_loaded
    outcome.rows_held = len(failing_rows(issues))
    connection.execute(update(models.Delivery).where(models.Delivery.id == item.delivery_id).values(
        rows_loaded=outcome.rows_loaded, rows_held=outcome.rows_held, outcome=item.outcome))
    return outcome


def _hold(connection: Connection, item: _Read, issues: pd.DataFrame, status: str) -> None:
    if issues.empty:
        return
    now = dt.datetime.now(dt.timezone.utc)
    held = issues.rename(columns={"file": "file_name"}).assign(
        delivery_id=item.delivery_id, status=status, first_seen=now, last_seen=now)
    load.insert_frame(connection, models.HeldRow.__table__, held)


def _notice(connection: Connection, kind: str, source: str, file_name: str, count: int,
            detail: str | None) -> None:
    table = models.StewardNotice.__table__
    now = dt.datetime.now(dt.timezone.utc)
    existing = connection.execute(select(table.c.id).where(
        table.c.kind == kind, table.c.source == source, table.c.file_name == file_name)).scalar()
    if existing is None:
        connection.execute(insert(table).values(kind=kind, source=source, file_name=file_name,
                                                count=count, detail=detail, first_seen=now,
                                                last_seen=now))
    else:
        connection.execute(update(table).where(table.c.id == existing).values(
            count=count, detail=detail, last_seen=now))
