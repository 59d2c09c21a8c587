"""Delta sources: each delivery holds records changed since an earlier extraction; for the same
natural key the record from the newest delivery wins. A partner's records are stored only under a
consent in force that names the partner; people who withdrew every consent are never stored again."""

from __future__ import annotations

import pandas as pd

from assets.ingest import bookkeeping
from assets.ingest.context import Item, RunContext
from assets.ingest.strategies.common import ITEM, count, keyed, together
from assets.ingest.withdrawal import erased_people
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
    if isinstance(ctx.spec.consent, PartnerConsent):
        frame = _only_consented(ctx, readable, frame)
    merge(ctx, frame.drop(columns=ITEM))
    waiting = quarantine.has_open_keys(ctx.connection, ctx.spec.name)
    loaded = count(readable, frame)
    for position, item in enumerate(readable):
        item.tally.loaded = loaded[position]
        if waiting and loaded[position]:
            item.loaded_keys = bookkeeping.loaded_match_keys(
                ctx, item, frame.loc[frame[ITEM] == position])
        _notices(ctx, item)


def load_ready(ctx: RunContext, item: Item, rows: pd.DataFrame, frame: pd.DataFrame) -> bool:
    """Held rows of ``item`` the steward accepted (or whose reason went away): merged like new ones."""
    merge(ctx, frame)
    return True


def merge(ctx: RunContext, frame: pd.DataFrame) -> None:
    table = ctx.spec.table
    combined = load.newest_per_key(frame)
    check_before_load(table.name, combined, ctx.registry.schemas)
    load.merge_delta(ctx.connection, table, combined)


def _only_consented(ctx: RunContext, items: list[Item], frame: pd.DataFrame) -> pd.DataFrame:
    """Records without consent in force are never stored person-level: only counted per file.
    People who withdrew every consent are erased, so none of their records are stored again."""
    consents = ctx.consents.frame()
    erased = frame["pseudonym"].isin(erased_people(consents))
    allowed = consented(frame, ctx.spec.consent, consents)
    for item, value in zip(items, count(items, frame.loc[erased])):
        item.tally.erased = value
    for item, value in zip(items, count(items, frame.loc[~allowed & ~erased])):
        item.tally.without_consent = value
    return frame.loc[allowed & ~erased]


def _notices(ctx: RunContext, item: Item) -> None:
    file_name, tally = item.delivery.file_name, item.tally
    if tally.reservnummer:
        ctx.notice("reservnummer", file_name, tally.reservnummer,
                   "rader med reservnummer kan inte kopplas till någon person")
    if tally.without_consent:
        ctx.notice("utan_samtycke", file_name, tally.without_consent,
                   f"{tally.without_consent} rader om personer utan gällande samtycke för "
                   f"{ctx.spec.consent.partner}: inte lagrade")
    if tally.erased:
        ctx.notice("återkallat", file_name, tally.erased,
                   f"{tally.erased} rader om personer som återkallat sitt samtycke: inte lagrade")
