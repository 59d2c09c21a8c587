"""The manifest and the quarantine for one batch: each file's outcome, its issues held with match
keys (and, for rows that may still load, their records), and the held rows a corrected delivery
closes. Nothing about a person without consent, or erased, is held: only counted."""

from __future__ import annotations

import secrets

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, insert, update

from assets.ingest import matching, transforms
from assets.ingest.context import (
    SHRUNK,
    FileOutcome,
    IngestReport,
    Item,
    RunContext,
    scope,
)
from assets.ingest.frames import ITEM, keyed, together
from assets.ingest.vault import store_vault
from assets.ingest.withdrawal import (
    erased_before,
    participants_view,
)
from finsam import words
from finsam.consent import PartnerConsent, naming
from finsam.enums import Outcome, Severity
from sources.base import HELD_WARNINGS, ISSUE_ROWS, ROW_STRIDE, Delivery
from sources.landing import Unrecognised, Waiting
from sources.spec import Role, Strategy
from warehouse import held_records, models, quarantine
from warehouse.load import stored_versions, versions

WAITING_NOTICE = "väntar"
# the column a catalogue-held record keeps beside it (the rows left the conformed frame)
CATALOGUE_ROWS = "catalogue_rows"


def record_unrecognised(ctx: RunContext, files: list[Unrecognised], report: IngestReport) -> None:
    for item in files:
        ctx.connection.execute(insert(models.Delivery).values(
            source=ctx.spec.name, file_name=item.file_name, extraction_date=None, scope=None,
            sha256="-", size_bytes=0, rows_read=0, rows_loaded=0, rows_held=0,
            outcome=Outcome.UNRECOGNISED, message=item.reason))
        ctx.notice(item.kind, item.file_name, 1, item.reason)
        report.files.append(FileOutcome(item.file_name, Outcome.UNRECOGNISED, message=item.reason))


def record_waiting(ctx: RunContext, waiting: list[Waiting], report: IngestReport) -> None:
    """Files not read this run, each with why; the notice goes when the file is read."""
    for entry in waiting:
        ctx.notice(WAITING_NOTICE, entry.delivery.file_name, 1, entry.reason)
        report.waiting.append((entry.delivery.file_name, entry.reason))


def record_deliveries(ctx: RunContext, items: list[Item]) -> None:
    """Every delivery of the batch in the manifest, with its id on the item: the new ones in one
    INSERT (ids returned in order), the waiting notices of them all cleared in one DELETE; a file
    that waited before keeps its manifest row."""
    table = models.Delivery.__table__
    fresh, rows = [], []
    for item in items:
        values = _manifest_values(item)
        if item.waiting_id is None:
            fresh.append(item)
            rows.append(values)
            continue
        ctx.connection.execute(update(table).where(table.c.id == item.waiting_id).values(**values))
        item.delivery_id = item.waiting_id
        # read again in full: its rows are held anew, the steward's decision on the file stays
        quarantine.forget_rows(ctx.connection, item.delivery_id, keep_rule=SHRUNK)
        held_records.remove_delivery(ctx.connection, item.delivery_id)
    if rows:
        ids = ctx.connection.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars().all()
        for item, delivery_id in zip(fresh, ids, strict=True):
            item.delivery_id = int(delivery_id)
    ctx.clear_notices(WAITING_NOTICE, [item.delivery.file_name for item in items])
    for item in items:
        message = _message(item)
        if item.rejection is not None:
            ctx.notice("avvisad_fil", item.delivery.file_name, 1, message)
        elif item.duplicate_of is not None:
            ctx.notice("dubblett", item.delivery.file_name, 1,
                       f"{message}: lästes inte en gång till")


def _message(item: Item) -> str | None:
    if item.rejection is not None:
        return str(item.rejection)
    if item.duplicate_of is not None:
        return f"samma innehåll som {item.duplicate_of}"
    return item.message


def _manifest_values(item: Item) -> dict:
    delivery = item.delivery
    return dict(source=delivery.source, file_name=delivery.file_name,
                extraction_date=delivery.extraction_date, scope=delivery.scope,
                sha256=delivery.sha256 or f"ej läst:{delivery.size}:{delivery.mtime_ns}",
                size_bytes=delivery.size, mtime_ns=delivery.mtime_ns,
                rows_read=item.conformed.rows_read if item.conformed else 0,
                rows_loaded=0, rows_held=0, outcome=item.outcome, message=_message(item))


def refresh_signatures(ctx: RunContext, deliveries: list[Delivery]) -> None:
    """Files the manifest knew by content but not by modification time (loaded before that was
    kept): their time is recorded, so the next run does not read them again."""
    table = models.Delivery.__table__
    for delivery in deliveries:
        ctx.connection.execute(update(table).where(
            table.c.source == ctx.spec.name, table.c.file_name == delivery.file_name,
            table.c.sha256 == delivery.sha256).values(mtime_ns=delivery.mtime_ns))


def finish(ctx: RunContext, batch: list[Item]) -> list[FileOutcome]:
    """Each file's outcome in the manifest; the issues of all files held at once (with their
    match keys, whose rows they are, the records' own dates), and the records of the rows that
    may still load."""
    readable = [item for item in batch if item.conformed is not None]
    matching.key_issues(ctx, readable)
    _mark_people(ctx, readable)
    _keep_records(ctx, readable)
    held_items = [item for item in readable if not item.held.empty]
    held_frame = (pd.concat([item.held for item in held_items], ignore_index=True)
                  if held_items else None)
    rows_held = _rows_held(held_items, held_frame)
    outcomes, updates = [], []
    for item in batch:
        outcome = FileOutcome(item.delivery.file_name, item.outcome,
                              message=str(item.rejection) if item.rejection else item.message)
        outcomes.append(outcome)
        if item.conformed is None:
            continue
        outcome.rows_read = item.conformed.rows_read
        outcome.rows_loaded = item.tally.loaded
        outcome.rows_held = rows_held.get(id(item), 0)
        updates.append({"b_id": item.delivery_id, "b_loaded": outcome.rows_loaded,
                        "b_held": outcome.rows_held, "b_outcome": item.outcome,
                        "b_message": outcome.message})
        if item.tally.without_consent:
            ctx.notice("utan_samtycke", item.delivery.file_name, item.tally.without_consent,
                       f"{words.count(item.tally.without_consent, 'rad', 'rader')} om personer utan "
                       f"gällande samtycke för {ctx.spec.consent.partner}: inte lagrade")
    if updates:
        # every file's outcome in one executemany: a backfill has thousands of files
        table = models.Delivery.__table__
        ctx.connection.execute(update(table).where(table.c.id == bindparam("b_id")).values(
            rows_loaded=bindparam("b_loaded"), rows_held=bindparam("b_held"),
            outcome=bindparam("b_outcome"), message=bindparam("b_message")), updates)
    snapshot = ctx.spec.strategy != Strategy.DELTA
    held = []
    if held_items:
        # whose they are, for the batch's held rows at once (per file, each assign copied)
        lengths = [len(item.held) for item in held_items]
        held.append(held_frame.assign(
            delivery_id=np.repeat(np.array([item.delivery_id for item in held_items],
                                           dtype="int64"), lengths),
            scope=pd.Series(np.repeat(np.array([scope(item) if snapshot else None
                                                for item in held_items], dtype=object), lengths),
                            dtype="str" if snapshot else object),
            status=pd.Series(np.repeat(np.array(
                [quarantine.OPEN if item.outcome in (Outcome.LOADED, Outcome.WAITING)
                 else quarantine.CLOSED for item in held_items], dtype=object), lengths),
                dtype="str")))
    held += [_shrunk_row(ctx, item) for item in readable
             if item.outcome == Outcome.WAITING and item.waiting_id is None]
    if held:
        frame = pd.concat(held, ignore_index=True)
        if not snapshot:
            frame = _already_corrected(ctx, readable, frame)
        quarantine.hold(ctx.connection, frame)
    return outcomes


def _rows_held(items: list[Item], held: pd.DataFrame | None) -> dict[int, int]:
    """Per item (by its id): how many of its rows are held (``failing_rows``), for the batch at
    once."""
    if held is None:
        return {}
    owner = np.repeat(np.arange(len(items)), [len(item.held) for item in items])
    rows = held["row_number"].notna().to_numpy()
    counts = pd.DataFrame({"owner": owner[rows],
                           "row": held["row_number"].to_numpy()[rows].astype("int64")}
                          ).drop_duplicates().groupby("owner").size()
    return {id(items[position]): int(count) for position, count in counts.items()}


def _already_corrected(ctx: RunContext, items: list[Item], held: pd.DataFrame) -> pd.DataFrame:
    """A delta row whose record is already stored from a newer delivery is held closed: the
    correction arrived first, and the outcome must not depend on that order."""
    typed = [(item, item.conformed.extra.get(ISSUE_ROWS)) for item in items]
    typed = [(item, frame) for item, frame in typed if frame is not None and not frame.empty]
    if not typed:
        return held
    # whose rows they are, for the batch at once (per file, each assign copied the frame)
    lengths = [len(frame) for _, frame in typed]
    rows = pd.concat([frame for _, frame in typed], ignore_index=True).assign(
        delivery_id=np.repeat([item.delivery_id for item, _ in typed], lengths),
        _file=np.repeat(np.array([item.delivery.file_name for item, _ in typed], dtype=object),
                        lengths),
        _extracted=pd.Series([pd.Timestamp(item.delivery.extraction_date) for item, _ in typed])
        .repeat(lengths).to_numpy())
    parts = [name for name in ctx.spec.record_key if name != "pseudonym"]
    if any(name not in rows for name in parts):
        return held
    rows = transforms.pseudonymise(rows, ctx.keys.pseudonymiser)
    rows = rows.dropna(subset=[name for name in ctx.spec.record_key if name in rows])
    if rows.empty:
        return held
    rows = transforms.with_record_key(rows, ctx.spec).assign(
        version=versions(rows["_extracted"], rows["_file"], rows["row_number"]))
    stored = stored_versions(ctx.connection, ctx.spec.table, rows["record_key"])
    newer = rows.loc[rows["record_key"].map(stored) > rows["version"],
                     ["delivery_id", "row_number", "record_key"]]
    if newer.empty:
        return held
    keys = pd.MultiIndex.from_frame(newer[["delivery_id", "row_number"]].astype("int64"))
    hit = pd.MultiIndex.from_arrays([held["delivery_id"].astype("int64"),
                                     held["row_number"].astype("Int64").fillna(-1).astype("int64")])
    corrected = hit.isin(keys) & (held["status"] == quarantine.OPEN).to_numpy()
    return held.assign(status=held["status"].mask(corrected, quarantine.CLOSED),
                       note=pd.Series(pd.NA, index=held.index, dtype="string").mask(
                           corrected, "redan rättad i en nyare leverans"))


def _shrunk_row(ctx: RunContext, item: Item) -> pd.DataFrame:
    """The one held row of a snapshot that waits because it shrank: accepting it loads the file."""
    return pd.DataFrame({
        "source": [ctx.spec.name], "file": [item.delivery.file_name], "row_number": [pd.NA],
        "column": [None], "rule": [SHRUNK], "severity": [Severity.WARNING],
        "expected": ["ungefär lika många poster som förra leveransen; godkänn om minskningen "
                     "stämmer, annars leverera om"],
        "found": [item.message], "match_key": [None], "pseudonym": [None], "record_date": [pd.NaT],
        "delivery_id": [item.delivery_id], "scope": [scope(item)], "status": [quarantine.OPEN],
    }).astype({"row_number": "Int64"})


def _mark_people(ctx: RunContext, items: list[Item]) -> None:
    """Whose row each issue is about (pseudonym, when the number was valid) and the record's own
    date; then what may not be held is only counted: an erased person's rows, and a partner's rows
    about someone with no consent naming that partner at all. The batch's held rows are looked up
    together: per file, pandas' fixed cost of each step outweighed the few rows of each file."""
    empty = [item for item in items if item.held.empty]
    for item in empty:
        item.held = item.held.assign(
            pseudonym=pd.Series(pd.NA, index=item.held.index, dtype="string"),
            record_date=pd.Series(pd.NaT, index=item.held.index))
    held_items = [item for item in items if not item.held.empty]
    if not held_items:
        return
    lengths = [len(item.held) for item in held_items]
    numbers = pd.concat([item.held["row_number"].astype("Int64") for item in held_items],
                        ignore_index=True)
    # (file of the batch, row) as one integer, row numbers staying below ROW_STRIDE; -1 where a
    # held row has no row (it is about the whole file)
    offsets = np.repeat(np.arange(len(held_items), dtype="int64") * ROW_STRIDE, lengths)
    wanted = np.where(numbers.isna().to_numpy(), -1,
                      numbers.fillna(0).to_numpy(dtype="int64") + offsets)
    typed = [(position, item.conformed.extra.get(ISSUE_ROWS))
             for position, item in enumerate(held_items)]
    typed = [(position, frame) for position, frame in typed
             if frame is not None and not frame.empty and "pnr" in frame]
    count = len(wanted)
    pseudonym = pd.array([pd.NA] * count, dtype="string")
    tombstone = pd.array([pd.NA] * count, dtype="string")
    record_date = pd.Series(pd.NaT, index=range(count), dtype="datetime64[us]")
    if typed:
        rows = pd.concat([frame.assign(_at=frame["row_number"].astype("int64")
                                       + position * ROW_STRIDE) for position, frame in typed],
                         ignore_index=True)
        rows = transforms.pseudonymise(rows[["_at", "pnr"]].assign(
            _date=ctx.spec.record_dates(rows)), ctx.keys.pseudonymiser)
        rows = rows.drop_duplicates("_at")
        at = pd.Index(rows["_at"]).get_indexer(wanted)
        found = at >= 0
        pseudonym[found] = rows["pseudonym"].array.take(at[found])
        tombstone[found] = rows[transforms.TOMBSTONE].array.take(at[found])
        record_date[found] = pd.to_datetime(rows["_date"]).to_numpy().take(at[found])
    marks = pd.DataFrame({"pseudonym": pseudonym,
                          transforms.TOMBSTONE: tombstone, "record_date": record_date})
    erased = erased_before(marks, marks["record_date"], ctx.consents.tombstones()).to_numpy()
    unconsented = np.zeros(count, dtype=bool)
    if isinstance(ctx.spec.consent, PartnerConsent):
        # once per batch, not per file: the register's 10,000s of partner lists are scanned once
        consents = ctx.consents.frame()
        partner = consents.loc[naming(consents["parter"], ctx.spec.consent.partner),
                               "pseudonym"].dropna()
        unconsented = (marks["pseudonym"].notna() & ~marks["pseudonym"].isin(partner)).to_numpy()
    bounds = np.cumsum(lengths)[:-1]
    parts = zip(held_items, np.split(np.arange(count), bounds))
    for item, at in parts:
        gone, without = erased[at], unconsented[at] & ~erased[at]
        rows_of = wanted[at]
        item.tally.erased += len(np.unique(rows_of[gone]))
        item.tally.without_consent += len(np.unique(rows_of[without]))
        held = item.held.assign(
            pseudonym=pd.Series(pseudonym[at], index=item.held.index, dtype="string"),
            record_date=pd.Series(record_date.to_numpy()[at], index=item.held.index))
        item.held = held.loc[~(erased[at] | unconsented[at])]


def _keep_records(ctx: RunContext, items: list[Item]) -> None:
    """Rows that may still load keep their record (pseudonymised, keyed) so no file is read again:
    warning-only rows (waiting for the steward), and rows held for a code the catalogue does not
    list yet. A participant register's people get their vault entry with it; an erased person's
    spells wait on de-identified, anyone else's records of an erased person are not kept."""
    kept = [item for item in items if item.outcome in (Outcome.LOADED, Outcome.WAITING)]
    for extra, reason in ((HELD_WARNINGS, held_records.REVIEW),
                          (CATALOGUE_ROWS, held_records.CATALOGUE)):
        pairs = [(item, item.conformed.extra[extra]) for item in kept
                 if not item.conformed.extra.get(extra, pd.DataFrame()).empty]
        if not pairs:
            continue
        waiting, parts = zip(*pairs)
        frame = keyed(ctx, together(list(waiting), list(parts))).drop(columns=ITEM)
        tombstones = ctx.consents.tombstones()
        if ctx.spec.role == Role.PARTICIPANTS:
            frame = participants_view(frame.assign(**{
                held_records.HELD_DELIVERY: frame["delivery_id"],
                held_records.HELD_ROW: frame["row_number"]}), tombstones)
            # a de-identified spell waits under no landing row's number (a random negative one)
            gone = frame["deidentified_person"].notna() if "deidentified_person" in frame else None
            if gone is not None and gone.any():
                frame.loc[gone, held_records.HELD_ROW] = [-secrets.randbelow(2**31 - 1) - 1
                                                          for _ in range(int(gone.sum()))]
            store_vault(ctx, pd.concat(parts, ignore_index=True), frame["pseudonym"])
        else:
            frame = frame.loc[~erased_before(frame, ctx.spec.record_dates(frame), tombstones)]
        frame = frame.drop(columns=transforms.TOMBSTONE, errors="ignore")
        held_records.store(ctx.connection, ctx.spec.name, ctx.spec.table, frame, waits_for=reason)


def close_corrected(ctx: RunContext, batch: list[Item]) -> int:
    ids = [item.delivery_id for item in batch if item.delivery_id is not None]
    return sum(quarantine.close_corrected(ctx.connection, ctx.spec.name, item.loaded_keys,
                                          item.delivery.file_name, ids)
               for item in batch if item.loaded_keys is not None and not item.loaded_keys.empty)

