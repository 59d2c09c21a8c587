"""Delta sources: each delivery holds records changed since an earlier extraction; for the same
natural key the newest version (extraction date, file, row) wins, whatever order the deliveries
arrive in. A partner's records are stored only under a consent in force that names the partner;
nothing about an erased person dated up to their erasure is stored again."""

from __future__ import annotations

import pandas as pd

from assets.ingest import matching, transforms
from assets.ingest.context import Item, RunContext
from assets.ingest.frames import ITEM, count, keyed, together
from assets.ingest.withdrawal import erased_before
from finsam import words
from finsam.consent import PartnerConsent, consented
from validation.warehouse import check_before_load
from warehouse import load, quarantine


def load_batch(ctx: RunContext, items: list[Item]) -> None:
    """All new files of the source as one frame (``ITEM`` says whose row it is): pseudonymising,
    the consent rule and the merge cost per row, not per file."""
    readable = [item for item in items if item.conformed is not None]
    if not readable:
        return
    frame = keyed(ctx, together(readable))
    erased, without = excluded(ctx, frame)
    # someone who withdrew every consent and has no new one: counted as data after withdrawal
    withdrew = without & (frame[transforms.TOMBSTONE].isin(ctx.consents.tombstones()["tombstone"])
                          if transforms.TOMBSTONE in frame else False)
    for item, value in zip(readable, count(readable, frame.loc[erased | withdrew])):
        item.tally.erased = value
    for item, value in zip(readable, count(readable, frame.loc[without & ~withdrew])):
        item.tally.without_consent = value
    frame = frame.loc[~erased & ~without]
    merge(ctx, frame.drop(columns=ITEM))
    waiting = quarantine.has_open_keys(ctx.connection, ctx.spec.name)
    loaded = count(readable, frame)
    for position, item in enumerate(readable):
        item.tally.loaded = loaded[position]
        if waiting and loaded[position]:
            item.loaded_keys = matching.loaded_match_keys(
                ctx, item, frame.loc[frame[ITEM] == position])
        _notices(ctx, item)


def excluded(ctx: RunContext, frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Rows never stored: about an erased person up to their erasure, and (a partner's records)
    without a consent naming the partner in force at the record's time as known when it was
    extracted (a consent given later does not cover data shared before it)."""
    erased = erased_before(frame, ctx.spec.record_dates(frame), ctx.consents.tombstones())
    without = pd.Series(False, index=frame.index)
    if isinstance(ctx.spec.consent, PartnerConsent):
        allowed = consented(frame, ctx.spec.consent, ctx.consents.frame(),
                            known_on=frame["extraction_date"])
        without = ~allowed & ~erased
    return erased, without


def load_ready(ctx: RunContext, records: pd.DataFrame) -> pd.DataFrame:
    """Held records that may load now (the steward accepted them, or their code became known):
    merged like new rows, under the same erasure and consent rules. Returns those loaded."""
    erased, without = excluded(ctx, records)
    loaded = records.loc[~erased & ~without]
    merge(ctx, loaded)
    return loaded


def merge(ctx: RunContext, frame: pd.DataFrame) -> None:
    table = ctx.spec.table
    combined = load.newest_per_key(frame)
    check_before_load(table.name, combined, ctx.registry.schemas)
    load.merge_delta(ctx.connection, table, combined)


def _notices(ctx: RunContext, item: Item) -> None:
    file_name, tally = item.delivery.file_name, item.tally
    if tally.reservnummer:
        ctx.notice("reservnummer", file_name, tally.reservnummer,
                   "rader med reservnummer kan inte kopplas till någon person")
    if tally.without_consent:
        ctx.notice("utan_samtycke", file_name, tally.without_consent,
                   f"{words.count(tally.without_consent, 'rad', 'rader')} om personer utan gällande "
                   f"samtycke för {ctx.spec.consent.partner}: inte lagrade")
    if tally.erased:
        ctx.notice("återkallat", file_name, tally.erased,
                   f"{words.count(tally.erased, 'rad', 'rader')} om personer som återkallat sitt "
                   "samtycke: inte lagrade")
