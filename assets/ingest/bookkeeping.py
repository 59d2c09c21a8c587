"""The manifest and the quarantine for one batch: each file's outcome, its issues held with match
keys, and the held rows a corrected delivery closes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import insert, update

from assets.ingest.context import FileOutcome, IngestReport, Item, RunContext
from finsam.enums import Outcome
from sources import match_keys
from sources.base import ISSUE_IDENTITY, ROW_STRIDE
from sources.landing import Unrecognised
from sources.spec import Strategy
from validation.issues import combine, failing_rows
from warehouse import models, quarantine


def record_unrecognised(ctx: RunContext, files: list[Unrecognised], report: IngestReport) -> None:
    for item in files:
        ctx.connection.execute(insert(models.Delivery).values(
            source=ctx.spec.name, file_name=item.file_name, extraction_date=None, scope=None,
            sha256="-", size_bytes=0, rows_read=0, rows_loaded=0, rows_held=0,
            outcome=Outcome.UNRECOGNISED, message=item.reason))
        ctx.notice("okänd_leverans", item.file_name, 1, item.reason)
        report.files.append(FileOutcome(item.file_name, Outcome.UNRECOGNISED, message=item.reason))


def record_delivery(ctx: RunContext, item: Item) -> int:
    delivery = item.delivery
    message = None
    if item.rejection is not None:
        message = str(item.rejection)
    elif item.duplicate_of is not None:
        message = f"samma innehåll som {item.duplicate_of}"
    result = ctx.connection.execute(insert(models.Delivery).values(
        source=delivery.source, file_name=delivery.file_name,
        extraction_date=delivery.extraction_date, scope=delivery.scope, sha256=delivery.sha256,
        size_bytes=delivery.path.stat().st_size,
        rows_read=item.conformed.rows_read if item.conformed else 0,
        rows_loaded=0, rows_held=0, outcome=item.outcome, message=message))
    if item.rejection is not None:
        ctx.notice("avvisad_fil", delivery.file_name, 1, message)
    elif item.duplicate_of is not None:
        ctx.notice("dubblett", delivery.file_name, 1, f"{message}: lästes inte en gång till")
    return int(result.inserted_primary_key[0])


def scope(item: Item) -> str:
    return item.delivery.scope or "register"


def finish(ctx: RunContext, batch: list[Item]) -> list[FileOutcome]:
    """Each file's outcome in the manifest; the issues of all files keyed and held at once."""
    outcomes = []
    readable = [item for item in batch if item.conformed is not None]
    key_issues(ctx, readable)
    for item in batch:
        outcome = FileOutcome(item.delivery.file_name, item.outcome,
                              message=str(item.rejection) if item.rejection else None)
        outcomes.append(outcome)
        if item.conformed is None:
            continue
        outcome.rows_read = item.conformed.rows_read
        outcome.rows_loaded = item.tally.loaded
        outcome.rows_held = len(failing_rows(item.held))
        ctx.connection.execute(update(models.Delivery).where(models.Delivery.id == item.delivery_id)
                               .values(rows_loaded=outcome.rows_loaded, rows_held=outcome.rows_held,
                                       outcome=item.outcome))
    snapshot = ctx.spec.strategy != Strategy.DELTA
    held = [item.held.assign(
        delivery_id=item.delivery_id,
        scope=scope(item) if snapshot else None,
        status=quarantine.OPEN if item.outcome == Outcome.LOADED else quarantine.CLOSED)
        for item in readable if not item.held.empty]
    if held:
        quarantine.hold(ctx.connection, pd.concat(held, ignore_index=True))
    return outcomes


def key_issues(ctx: RunContext, items: list[Item]) -> None:
    """Each file's issues (``item.held``), each with the match key that lets a corrected redelivery
    close it. The files of a source are keyed together, row numbers offset per file."""
    for item in items:
        item.held = combine(item.conformed.issues)
    rows = []
    for item in items:
        if isinstance(item.raw, dict):
            item.held = item.held.assign(match_key=match_keys.budget_keys(item.held, item.raw))
        elif item.raw is not None and not item.held.empty:
            rows.append(item)
    if not rows:
        return
    offsets = [number * ROW_STRIDE for number in range(len(rows))]
    issues = pd.concat([item.held.assign(row_number=item.held["row_number"] + offset)
                        for item, offset in zip(rows, offsets)], ignore_index=True)
    held_raw = pd.concat([_held_raw(item, offset) for item, offset in zip(rows, offsets)],
                         ignore_index=True)
    spec = ctx.spec
    pnr = held_raw.pop("_pnr") if "_pnr" in held_raw else None
    keys = match_keys.loose_keys(held_raw, spec, held_raw.pop("_extraction_date"), pnr=pnr)
    keyed = match_keys.match_keys_for(issues, held_raw, keys, spec)
    bounds = np.cumsum([len(item.held) for item in rows])[:-1]
    for item, part in zip(rows, np.split(keyed.to_numpy(), bounds)):
        item.held = item.held.assign(match_key=pd.array(part, dtype="string"))


def _held_raw(item: Item, offset: int) -> pd.DataFrame:
    """The raw rows with issues, their row numbers offset, with the numbers the reader already
    normalised (``_pnr``) and the delivery's extraction date."""
    held, pnr = raw_rows(item, item.held["row_number"], item.conformed.extra.get(ISSUE_IDENTITY))
    extra = {"_extraction_date": pd.Timestamp(item.delivery.extraction_date)}
    if pnr is not None:
        extra["_pnr"] = pnr
    return held.assign(row_number=held["row_number"] + offset, **extra)


def raw_rows(item: Item, row_numbers: pd.Series, numbers: pd.DataFrame | None
             ) -> tuple[pd.DataFrame, pd.Series | None]:
    """The raw rows with these row numbers, and beside them the identity numbers the reader
    normalised (``numbers``: row_number and pnr), so no number is normalised a second time."""
    rows = item.raw.loc[item.raw["row_number"].isin(row_numbers).to_numpy()]
    if numbers is None or "pnr" not in numbers:
        return rows, None
    by_row = numbers.set_index("row_number")["pnr"]
    return rows, pd.Series(rows["row_number"].map(by_row).to_numpy(), index=rows.index,
                           dtype="string")


def loaded_match_keys(ctx: RunContext, item: Item, frame: pd.DataFrame) -> pd.Series:
    """Match keys of the rows this delivery loaded, to close rows held from earlier deliveries.
    The numbers were normalised when the file was conformed; that result is reused."""
    loaded, pnr = raw_rows(item, frame["row_number"], item.conformed.frame)
    keys = match_keys.loose_keys(loaded, ctx.spec, item.delivery.extraction_date, pnr=pnr)
    return keys.stack().astype("string") if not keys.empty else pd.Series(dtype="string")


def close_corrected(ctx: RunContext, batch: list[Item]) -> int:
    ids = [item.delivery_id for item in batch if item.delivery_id is not None]
    return sum(quarantine.close_corrected(ctx.connection, ctx.spec.name, item.loaded_keys,
                                          item.delivery.file_name, ids)
               for item in batch if item.loaded_keys is not None and not item.loaded_keys.empty)
