"""One source's ingestion: scan, skip what was seen, read and conform, pseudonymise, load.

All reading happens before the database transaction; all writing happens in one transaction, so a
failure leaves the warehouse exactly as it was and the same deliveries are tried again next run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, insert, select, update

from assets.ingest import transforms
from assets.ingest.withdrawal import apply_withdrawals, erased_people, read_consents
from finsam.consent import PARTNER_OF_SOURCE, consented
from finsam.errors import DeliveryRejected
from finsam.privacy import Keys
from sources.base import (
    HELD_WARNINGS,
    ISSUE_IDENTITY,
    ROW_STRIDE,
    SNAPSHOT,
    Conformed,
    Delivery,
    conform_many,
)
from sources.landing import Unrecognised, scan_source
from sources.registry import reader
from sources.specs import BY_NAME
from validation.issues import combine, failing_rows, issues_where
from validation.warehouse import check_before_load
from warehouse import load, models, quarantine

LOADED = "inläst"
DUPLICATE = "dubblett"
REJECTED = "avvisad"
SUPERSEDED = "ersatt"
UNRECOGNISED = "okänt namn"

# Loads that can bring identifiable data back; each is followed by the withdrawal rules.
WITHDRAWAL_SENSITIVE = {"samtycke", "insats", "fk", "af", "soc", "hsf"}

SNAPSHOT_TABLES = {
    "insats": models.Spell.__table__,
    "samtycke": models.Consent.__table__,
}

BUDGET_TABLES = {
    "frame": models.BudgetLine.__table__,
    "insatser": models.BudgetInsats.__table__,
    "arsbudget": models.BudgetAnnual.__table__,
    "finansiering": models.BudgetFinancing.__table__,
}


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
            "files_new": self.count(LOADED) + self.count(SUPERSEDED),
            "files_duplicate": self.count(DUPLICATE),
            "files_rejected": self.count(REJECTED),
            "files_unrecognised": self.count(UNRECOGNISED),
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_held": self.rows_held,
            "held_rows_closed": self.closed,
            "held_rows_resolved": self.resolved,
            "accepted_rows_loaded": self.accepted_loaded,
        }


@dataclass
class _Read:
    delivery: Delivery
    raw: pd.DataFrame | None = None
    conformed: Conformed | None = None
    rejection: DeliveryRejected | None = None
    duplicate_of: str | None = None
    delivery_id: int | None = None
    outcome: str = LOADED
    rows_loaded: int = 0
    reservnummer: int = 0
    without_consent: int = 0
    erased: int = 0
    loaded_keys: pd.Series | None = None
    prepared: pd.DataFrame | None = None


class _Consents:
    """The consent register as the transaction sees it, read at most once: only the samtycke
    source changes it, and that source does not read it before its own load."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._frame: pd.DataFrame | None = None

    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            self._frame = read_consents(self._connection)
        return self._frame

    def erased(self) -> pd.Index:
        return erased_people(self.frame())


def ingest_source(source: str, landing: Path, engine: Engine, keys: Keys, *,
                  before: date | None = None) -> IngestReport:
    """Ingest every new delivery of ``source`` extracted before ``before``, and load the rows the
    steward has accepted since the last run."""
    spec = BY_NAME[source]
    report = IngestReport(source)
    deliveries, unrecognised = scan_source(landing, spec, before=before)
    with engine.connect() as connection:
        seen = _seen(connection, source)
        revisits = _revisit(connection, source, landing)
    batch = _read_new(source, deliveries, seen)
    new_unrecognised = [u for u in unrecognised if u.file_name not in seen["unrecognised"]]
    with engine.begin() as connection:
        _record_unrecognised(connection, source, new_unrecognised, report)
        for item in batch:
            item.delivery_id = _record_delivery(connection, item)
        if source in transforms.CATALOGUE_CHECKED:
            catalogue = _catalogue(connection)
            for item in batch:
                _hold_unknown_codes(source, item, catalogue)
            report.resolved = _recheck_catalogue(connection, source, revisits, catalogue)
        consents = _Consents(connection)
        if spec.kind == SNAPSHOT:
            _load_snapshots(connection, source, batch, keys, consents)
        else:
            _load_deltas(connection, source, batch, keys, consents)
        report.accepted_loaded = _load_ready(connection, source, revisits, keys, consents)
        report.files += _finish(connection, batch)
        report.closed = _close_corrected(connection, source, batch)
        if source in WITHDRAWAL_SENSITIVE:
            # a new consent register is read afresh; every other source left it as it was
            apply_withdrawals(connection, None if source == "samtycke" else consents.frame())
    return report


def _read_new(source: str, deliveries: list[Delivery], seen: dict) -> list[_Read]:
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
                item.raw = module.read(delivery)
            except DeliveryRejected as exc:
                item.rejection, item.outcome = exc, REJECTED
        batch.append(item)
    _conform(module, [item for item in batch if item.raw is not None])
    return batch


# The budget workbook is several sheets whose rules compare rows across them; every other reader's
# rules keep to a row or to the rows of one delivery, so its new files are conformed together.
_ONE_BY_ONE = {"budget"}


def _conform(module, items: list[_Read]) -> None:
    """The new files of a source conformed as one frame, the budget workbooks one by one."""
    if module.SPEC.name not in _ONE_BY_ONE and len(items) > 1:
        try:
            conformed = conform_many(module.conform, [(item.raw, item.delivery) for item in items])
        except DeliveryRejected:
            pass  # one of them is unreadable as a whole: find out which, file by file
        else:
            for item, result in zip(items, conformed):
                item.conformed = result
            return
    for item in items:
        try:
            item.conformed = module.conform(item.raw, item.delivery)
        except DeliveryRejected as exc:
            item.rejection, item.outcome = exc, REJECTED


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
    elif item.duplicate_of is not None:
        _notice(connection, "dubblett", delivery.source, delivery.file_name, 1,
                f"{message}: lästes inte en gång till")
    return int(result.inserted_primary_key[0])


def _prepared(source: str, frame: pd.DataFrame, item: _Read, keys: Keys) -> pd.DataFrame:
    reserve = transforms.reservnummer_rows(frame)
    frame, item.reservnummer = frame.loc[~reserve], int(reserve.sum())
    if source == "insats":
        frame = transforms.with_age_at_enrolment(frame)
    return _keyed(source, transforms.with_lineage(frame, item.delivery, item.delivery_id), keys)


# --- delta sources -------------------------------------------------------------------------------

def _load_deltas(connection: Connection, source: str, batch: list[_Read], keys: Keys,
                 consents: _Consents) -> None:
    """All new files of the source as one frame (``_ITEM`` says whose row it is): pseudonymising,
    the consent rule and the merge cost per row, not per file."""
    readable = [item for item in batch if item.conformed is not None]
    if not readable:
        return
    frame = _keyed(source, _together(readable), keys)
    if source in PARTNER_OF_SOURCE:
        frame = _only_consented(source, readable, frame, consents.frame())
    _merge(connection, source, frame.drop(columns=_ITEM))
    waiting = quarantine.has_open_keys(connection, source)
    loaded = _count(readable, frame, "rows_loaded")
    for position, item in enumerate(readable):
        if waiting and loaded[position]:
            item.loaded_keys = _loaded_match_keys(item, frame.loc[frame[_ITEM] == position])
        _partner_notices(connection, source, item)


_ITEM = "_item"


def _together(items: list[_Read]) -> pd.DataFrame:
    """The items' conformed frames as one, with their lineage and ``_ITEM`` (whose row it is);
    rows with a reservnummer are counted per item and left out (they link to no one)."""
    frame = pd.concat([transforms.with_lineage(item.conformed.frame, item.delivery,
                                               item.delivery_id).assign(**{_ITEM: position})
                       for position, item in enumerate(items)], ignore_index=True)
    reserve = transforms.reservnummer_rows(frame)
    _count(items, frame.loc[reserve], "reservnummer")
    return frame.loc[~reserve]


def _count(items: list[_Read], rows: pd.DataFrame, attribute: str) -> list[int]:
    """Set ``attribute`` of each item to how many of ``rows`` are its own."""
    counts = rows[_ITEM].value_counts()
    values = [int(counts.get(position, 0)) for position in range(len(items))]
    for item, value in zip(items, values):
        setattr(item, attribute, value)
    return values


def _keyed(source: str, frame: pd.DataFrame, keys: Keys) -> pd.DataFrame:
    frame = transforms.pseudonymise(frame, keys.pseudonymiser)
    return transforms.with_record_key(frame, source)


def _merge(connection: Connection, source: str, frame: pd.DataFrame) -> None:
    table = models.DELTA_TABLES[source]
    combined = load.newest_per_key(frame)
    check_before_load(table.name, combined)
    load.merge_delta(connection, table, combined)


def _partner_notices(connection: Connection, source: str, item: _Read) -> None:
    if item.reservnummer:
        _notice(connection, "reservnummer", source, item.delivery.file_name, item.reservnummer,
                "rader med reservnummer kan inte kopplas till någon person")
    if item.without_consent:
        _notice(connection, "utan_samtycke", source, item.delivery.file_name, item.without_consent,
                f"{item.without_consent} rader om personer utan gällande samtycke för "
                f"{PARTNER_OF_SOURCE[source]}: inte lagrade")
    if item.erased:
        _notice(connection, "återkallat", source, item.delivery.file_name, item.erased,
                f"{item.erased} rader om personer som återkallat sitt samtycke: inte lagrade")


def _only_consented(source: str, items: list[_Read], frame: pd.DataFrame, consents: pd.DataFrame
                    ) -> pd.DataFrame:
    """Records without consent in force are never stored person-level: only counted per file.
    People who withdrew every consent are erased, so none of their records are stored again."""
    erased = frame["pseudonym"].isin(erased_people(consents))
    allowed = consented(frame, source, consents)
    _count(items, frame.loc[erased], "erased")
    _count(items, frame.loc[~allowed & ~erased], "without_consent")
    return frame.loc[allowed & ~erased]


def _loaded_match_keys(item: _Read, frame: pd.DataFrame) -> pd.Series:
    """Match keys of the rows this delivery loaded, to close rows held from earlier deliveries.
    The numbers were normalised when the file was conformed; that result is reused."""
    loaded, pnr = _raw_rows(item, frame["row_number"], item.conformed.frame)
    keys = quarantine.loose_keys(loaded, BY_NAME[item.delivery.source],
                                 item.delivery.extraction_date, pnr=pnr)
    return keys.stack().astype("string") if not keys.empty else pd.Series(dtype="string")


def _close_corrected(connection: Connection, source: str, batch: list[_Read]) -> int:
    ids = [item.delivery_id for item in batch if item.delivery_id is not None]
    return sum(quarantine.close_corrected(connection, source, item.loaded_keys,
                                          item.delivery.file_name, ids)
               for item in batch if item.loaded_keys is not None and not item.loaded_keys.empty)


# --- snapshot sources ----------------------------------------------------------------------------

def _load_snapshots(connection: Connection, source: str, batch: list[_Read], keys: Keys,
                    consents: _Consents) -> None:
    readable = [item for item in batch if item.conformed is not None]
    by_scope: dict[str, list[_Read]] = {}
    for item in readable:
        by_scope.setdefault(_scope(item.delivery), []).append(item)
    states = {scope: _state(connection, source, scope) for scope in by_scope}
    if source != "budget":
        _prepare_together(source, [item for scope, items in by_scope.items() for item in items
                                   if not _older(item, states[scope])], keys)
    for scope, items in by_scope.items():
        _load_scope(connection, source, scope, items, states[scope], keys, consents)


def _older(item: _Read, state: dict | None) -> bool:
    """Extracted before what the warehouse already holds for the scope: kept, never loaded."""
    return state is not None and item.delivery.extraction_date < state["extraction_date"]


def _prepare_together(source: str, items: list[_Read], keys: Keys) -> None:
    """``prepared`` of every item: reservnummer left out, pseudonymised as one frame (the same
    people are in every snapshot), keyed per delivery (anonymous spells are told apart by their
    order within their own register)."""
    if not items:
        return
    frame = _together(items)
    if source == "insats":
        frame = transforms.with_age_at_enrolment(frame)
    frame = transforms.pseudonymise(frame, keys.pseudonymiser)
    parts = dict(iter(frame.groupby(_ITEM, sort=False)))
    for position, item in enumerate(items):
        part = parts.get(position, frame.iloc[:0]).drop(columns=_ITEM).reset_index(drop=True)
        item.prepared = transforms.with_record_key(part, source)


def _load_scope(connection: Connection, source: str, scope: str, items: list[_Read],
                state: dict | None, keys: Keys, consents: _Consents) -> None:
    """Newest delivery wins the scope; each newer delivery is compared with the one before it to
    report records that vanished."""
    previous_keys = _stored_keys(connection, source, scope) if state else None
    previous_file = state["file_name"] if state else None
    newest = items[-1]
    for item in items:
        is_older = _older(item, state)
        if is_older or item is not newest:
            item.outcome = SUPERSEDED
        if source == "budget" or is_older:
            continue
        current_keys = item.prepared["record_key"]
        if previous_keys is not None:
            gone = transforms.vanished(previous_keys, current_keys)
            if gone:
                _notice(connection, "försvunna_poster", source, item.delivery.file_name, gone,
                        f"{gone} poster som fanns i {previous_file} saknas i {item.delivery.file_name}")
        previous_keys, previous_file = current_keys, item.delivery.file_name
    if newest.outcome == LOADED:
        _replace_scope(connection, source, scope, newest, keys, consents)
        _set_state(connection, source, scope, newest, exists=state is not None)
        quarantine.close_superseded(connection, source, scope, newest.delivery_id,
                                    newest.delivery.file_name)


def _scope(delivery: Delivery) -> str:
    return delivery.scope or "register"


def _state(connection: Connection, source: str, scope: str) -> dict | None:
    state = models.SnapshotState.__table__
    row = connection.execute(select(state.c.extraction_date, state.c.delivery_id,
                                    models.Delivery.file_name)
                             .join(models.Delivery, models.Delivery.id == state.c.delivery_id)
                             .where(state.c.source == source, state.c.scope == scope)).mappings().first()
    return dict(row) if row else None


def _stored_keys(connection: Connection, source: str, scope: str) -> pd.Series | None:
    if source not in SNAPSHOT_TABLES:
        return None
    table = SNAPSHOT_TABLES[source]
    query = select(table.c.record_key)
    if source == "insats":
        query = query.where(table.c.insats == scope)
    return pd.Series(connection.execute(query).scalars().all(), dtype="string")


def _replace_scope(connection: Connection, source: str, scope: str, item: _Read, keys: Keys,
                   consents: _Consents) -> None:
    if source == "budget":
        _replace_budget(connection, int(scope), item)
        return
    prepared = item.prepared
    table = SNAPSHOT_TABLES[source]
    if source == "insats":
        # De-identified spells of people who withdrew stay as they are; the register's copies of
        # those people are not linked again.
        condition = (table.c.insats == scope) & table.c.deidentified_person.is_(None)
        erased = consents.erased()
        prepared = prepared.loc[~prepared["pseudonym"].isin(erased)]
    else:
        condition = table.c.id.isnot(None)
    check_before_load(table.name, prepared)
    load.replace_where(connection, table, condition, prepared)
    item.rows_loaded = len(prepared)
    if source == "insats":
        _store_vault(connection, item.conformed.frame, keys, erased)


def _replace_budget(connection: Connection, year: int, item: _Read) -> None:
    for part, table in BUDGET_TABLES.items():
        frame = item.conformed.frame if part == "frame" else item.conformed.extra.get(part)
        if frame is None:
            frame = pd.DataFrame()
        frame = transforms.with_lineage(frame.assign(year=year), item.delivery, item.delivery_id)
        check_before_load(table.name, frame)
        load.replace_where(connection, table, table.c.year == year, frame)
    item.rows_loaded = len(item.conformed.frame)


def _store_vault(connection: Connection, frame: pd.DataFrame, keys: Keys, erased: pd.Index) -> None:
    existing = connection.execute(select(models.IdentityVault.pseudonym)).scalars().all()
    entries = transforms.vault_entries(frame, keys.pseudonymiser, keys.vault,
                                       skip=erased.union(pd.Index(existing, dtype="string")))
    if not entries.empty:
        load.insert_frame(connection, models.IdentityVault.__table__, entries)


def _set_state(connection: Connection, source: str, scope: str, item: _Read, *, exists: bool) -> None:
    values = dict(delivery_id=item.delivery_id, extraction_date=item.delivery.extraction_date)
    state = models.SnapshotState.__table__
    if exists:
        connection.execute(update(state).where(state.c.source == source, state.c.scope == scope)
                           .values(**values))
    else:
        connection.execute(insert(state).values(source=source, scope=scope, **values))


# --- held rows that may load now ---------------------------------------------------------------

def _catalogue(connection: Connection) -> pd.DataFrame:
    table = models.BudgetInsats.__table__
    return pd.read_sql(select(table.c.year, table.c.insats), connection)


def _hold_unknown_codes(source: str, item: _Read, catalogue: pd.DataFrame) -> None:
    """Insats and Projekt codes must be in the budget catalogue: a cross-source rule, so it is
    checked here against the warehouse rather than in the reader."""
    if item.conformed is None:
        return
    frame = item.conformed.frame
    unknown = transforms.unknown_in_catalogue(frame, source, catalogue)
    if not unknown.any():
        return
    code_column, _, contract_column, rule = transforms.CATALOGUE_CHECKED[source]
    issues = issues_where(frame, unknown, source=source, file=item.delivery.file_name,
                          column=code_column, rule=rule,
                          expected="en insatskod i budgetens flik Insatser för året (eller ADM)")
    issues["column"] = contract_column
    item.conformed.issues = combine(item.conformed.issues, issues)
    item.conformed.frame = frame.loc[~unknown]


@dataclass
class _Revisit:
    item: _Read
    rows: pd.DataFrame


def _revisit(connection: Connection, source: str, landing: Path) -> list[_Revisit]:
    """Re-read deliveries whose held rows may load now: accepted or resolved rows, and rows held
    for an unknown code (the budget catalogue may have grown). Files are never changed, so the
    rows are exactly what was held."""
    wanted = quarantine.ready_rows(connection, source)
    if source in transforms.CATALOGUE_CHECKED:
        rule = transforms.CATALOGUE_CHECKED[source][3]
        waiting = quarantine.open_with_rules(connection, source, [rule])
        wanted = pd.concat([wanted, waiting[["delivery_id", "row_number"]]]).drop_duplicates()
    if wanted.empty:
        return []
    module = reader(source)
    deliveries = pd.read_sql(select(models.Delivery.__table__).where(
        models.Delivery.id.in_(wanted["delivery_id"].unique().tolist())), connection)
    out = []
    for row in deliveries.itertuples():
        delivery = Delivery(source, landing / BY_NAME[source].folder / row.file_name,
                            pd.Timestamp(row.extraction_date).date(), row.scope, row.sha256)
        conformed = module.conform(module.read(delivery), delivery)
        rows = pd.concat([conformed.frame, conformed.extra.get(HELD_WARNINGS, pd.DataFrame())],
                         ignore_index=True)
        numbers = wanted.loc[wanted["delivery_id"] == row.id, "row_number"]
        item = _Read(delivery, conformed=conformed, delivery_id=row.id)
        out.append(_Revisit(item, rows.loc[rows["row_number"].isin(numbers)]))
    return out


def _recheck_catalogue(connection: Connection, source: str, revisits: list[_Revisit],
                       catalogue: pd.DataFrame) -> int:
    rule = transforms.CATALOGUE_CHECKED[source][3]
    waiting = quarantine.open_with_rules(connection, source, [rule])
    resolved = 0
    for entry in revisits:
        known = entry.rows.loc[~transforms.unknown_in_catalogue(entry.rows, source, catalogue)]
        now_known = waiting.loc[(waiting["delivery_id"] == entry.item.delivery_id)
                                & waiting["row_number"].isin(known["row_number"])]
        resolved += quarantine.resolve(connection, now_known,
                                       "koden finns nu i budgetens insatskatalog")
    return resolved


def _load_ready(connection: Connection, source: str, revisits: list[_Revisit], keys: Keys,
                consents: _Consents) -> int:
    ready = quarantine.ready_rows(connection, source)
    loaded = 0
    for entry in revisits:
        numbers = ready.loc[ready["delivery_id"] == entry.item.delivery_id, "row_number"]
        rows = entry.rows.loc[entry.rows["row_number"].isin(numbers)]
        if rows.empty:
            continue
        frame = _prepared(source, rows, entry.item, keys)
        if source in models.DELTA_TABLES:
            _merge(connection, source, frame)
        elif source in SNAPSHOT_TABLES:
            state = _state(connection, source, _scope(entry.item.delivery))
            if state is None or state["delivery_id"] != entry.item.delivery_id:
                continue  # a newer snapshot replaced this one; its own rows decide
            table = SNAPSHOT_TABLES[source]
            check_before_load(table.name, frame)
            load.insert_frame(connection, table, frame)
            if source == "insats":
                _store_vault(connection, rows, keys, consents.erased())
        quarantine.mark_loaded(connection, entry.item.delivery_id, frame["row_number"].tolist())
        loaded += len(frame)
    return loaded


# --- bookkeeping ---------------------------------------------------------------------------------

def _finish(connection: Connection, batch: list[_Read]) -> list[FileOutcome]:
    """Each file's outcome in the manifest; the issues of all files keyed and held at once."""
    outcomes = []
    readable = [item for item in batch if item.conformed is not None]
    issues = _keyed_issues(readable)
    for item in batch:
        outcome = FileOutcome(item.delivery.file_name, item.outcome,
                              message=str(item.rejection) if item.rejection else None)
        outcomes.append(outcome)
        if item.conformed is None:
            continue
        outcome.rows_read = item.conformed.rows_read
        outcome.rows_loaded = item.rows_loaded
        outcome.rows_held = len(failing_rows(issues[id(item)]))
        connection.execute(update(models.Delivery).where(models.Delivery.id == item.delivery_id)
                           .values(rows_loaded=outcome.rows_loaded, rows_held=outcome.rows_held,
                                   outcome=item.outcome))
    held = [frame.assign(
        delivery_id=item.delivery_id,
        scope=_scope(item.delivery) if BY_NAME[item.delivery.source].kind == SNAPSHOT else None,
        status=quarantine.OPEN if item.outcome == LOADED else quarantine.CLOSED)
        for item in readable if not (frame := issues[id(item)]).empty]
    if held:
        quarantine.hold(connection, pd.concat(held, ignore_index=True))
    return outcomes


def _keyed_issues(items: list[_Read]) -> dict[int, pd.DataFrame]:
    """Each file's issues (by ``id`` of its item), each with the match key that lets a corrected
    redelivery close it. The files of a source are keyed together, row numbers offset per file."""
    out = {id(item): combine(item.conformed.issues) for item in items}
    rows = []
    for item in items:
        issues = out[id(item)]
        if isinstance(item.raw, dict):
            out[id(item)] = issues.assign(match_key=quarantine.budget_keys(issues, item.raw))
        elif item.raw is not None and not issues.empty:
            rows.append(item)
    if not rows:
        return out
    offsets = [number * ROW_STRIDE for number in range(len(rows))]
    issues = pd.concat([out[id(item)].assign(row_number=out[id(item)]["row_number"] + offset)
                        for item, offset in zip(rows, offsets)], ignore_index=True)
    held_raw = pd.concat([_held_raw(item, out[id(item)], offset)
                          for item, offset in zip(rows, offsets)], ignore_index=True)
    spec = BY_NAME[rows[0].delivery.source]
    pnr = held_raw.pop("_pnr") if "_pnr" in held_raw else None
    keys = quarantine.loose_keys(held_raw, spec, held_raw.pop("_extraction_date"), pnr=pnr)
    match_keys = quarantine.match_keys_for(issues, held_raw, keys, spec)
    bounds = np.cumsum([len(out[id(item)]) for item in rows])[:-1]
    for item, keyed in zip(rows, np.split(match_keys.to_numpy(), bounds)):
        out[id(item)] = out[id(item)].assign(match_key=pd.array(keyed, dtype="string"))
    return out


def _held_raw(item: _Read, issues: pd.DataFrame, offset: int) -> pd.DataFrame:
    """The raw rows with issues, their row numbers offset, with the numbers the reader already
    normalised (``_pnr``) and the delivery's extraction date."""
    held, pnr = _raw_rows(item, issues["row_number"], item.conformed.extra.get(ISSUE_IDENTITY))
    extra = {"_extraction_date": pd.Timestamp(item.delivery.extraction_date)}
    if pnr is not None:
        extra["_pnr"] = pnr
    return held.assign(row_number=held["row_number"] + offset, **extra)


def _raw_rows(item: _Read, row_numbers: pd.Series, numbers: pd.DataFrame | None
              ) -> tuple[pd.DataFrame, pd.Series | None]:
    """The raw rows with these row numbers, and beside them the identity numbers the reader
    normalised (``numbers``: row_number and pnr), so no number is normalised a second time."""
    rows = item.raw.loc[item.raw["row_number"].isin(row_numbers).to_numpy()]
    if numbers is None or "pnr" not in numbers:
        return rows, None
    by_row = numbers.set_index("row_number")["pnr"]
    return rows, pd.Series(rows["row_number"].map(by_row).to_numpy(), index=rows.index,
                           dtype="string")


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
