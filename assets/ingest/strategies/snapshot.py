"""Snapshot sources: each delivery is the whole truth for its scope (an insats, the consent
register). The newest delivery (extraction date, then file name) replaces the scope, whatever
order deliveries arrive in; each newer one is compared with the one before it so the steward sees
records that vanished. A delivery far smaller than the truth it would replace waits for the steward
(it may be a half-uploaded file); a newer complete one replaces it."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from sqlalchemy import Connection, func, insert, select, update

from assets.ingest import transforms, withdrawal
from assets.ingest.context import SHRUNK, Item, RunContext, scope
from assets.ingest.frames import ITEM, keyed, together
from assets.ingest.vault import store_vault
from finsam.enums import Outcome
from sources.spec import Role
from validation.warehouse import check_before_load
from warehouse import held_records, load, models, quarantine

Replace = Callable[[RunContext, str, Item], None]


def load_batch(ctx: RunContext, items: list[Item]) -> None:
    by_scope = scoped(items)
    states = {name: state(ctx.connection, ctx.spec.name, name) for name in by_scope}
    _prepare_together(ctx, [item for name, group in by_scope.items() for item in group
                            if not older(item, states[name])])
    for name, group in by_scope.items():
        load_scope(ctx, name, group, states[name], _replace, compare=True)


def scoped(items: list[Item]) -> dict[str, list[Item]]:
    by_scope: dict[str, list[Item]] = {}
    for item in sorted(items, key=_rank):
        if item.conformed is not None:
            by_scope.setdefault(scope(item), []).append(item)
    return by_scope


def _rank(item: Item) -> tuple:
    return item.delivery.extraction_date, item.delivery.file_name


def older(item: Item, current: dict | None) -> bool:
    """Ranked before what the warehouse already holds for the scope: kept, never loaded."""
    return current is not None and _rank(item) < (current["extraction_date"], current["file_name"])


def _prepare_together(ctx: RunContext, items: list[Item]) -> None:
    """``prepared`` of every item: reservnummer left out, pseudonymised as one frame (the same
    people are in every snapshot), keyed per delivery (anonymous spells are told apart by their
    order within their own register)."""
    if not items:
        return
    frame = keyed(ctx, together(items))
    parts = dict(iter(frame.groupby(ITEM, sort=False)))
    for position, item in enumerate(items):
        part = parts.get(position, frame.iloc[:0]).drop(columns=ITEM).reset_index(drop=True)
        item.prepared = transforms.with_record_key(part, ctx.spec)


def load_scope(ctx: RunContext, name: str, items: list[Item], current: dict | None,
               replace: Replace, *, compare: bool) -> None:
    """The newest delivery wins the scope, unless it shrank far below the truth and the steward
    has not confirmed it; with ``compare``, each newer delivery is compared with the one before it
    to report records that vanished."""
    previous_keys = _stored_keys(ctx, name) if current and compare else None
    previous_file = current["file_name"] if current else None
    candidates = [item for item in items if not older(item, current)]
    for item in items:
        if item not in candidates:
            item.outcome = Outcome.SUPERSEDED
    winner = None
    for item in reversed(candidates):
        if compare and _shrunk(ctx, item, name, current):
            continue
        winner = item
        break
    for item in candidates:
        if item is not winner and item.outcome != Outcome.WAITING:
            item.outcome = Outcome.SUPERSEDED
        if not compare or item.outcome == Outcome.WAITING:
            continue
        current_keys = item.prepared["record_key"]
        if previous_keys is not None:
            gone = transforms.vanished(previous_keys, current_keys)
            if gone:
                ctx.notice("försvunna_poster", item.delivery.file_name, gone,
                           f"{gone} poster som fanns i {previous_file} saknas i "
                           f"{item.delivery.file_name}")
        previous_keys, previous_file = current_keys, item.delivery.file_name
        if item is winner:
            break
    if winner is None:
        return
    replace(ctx, name, winner)
    if winner.waiting_id is not None:
        quarantine.mark_whole_loaded(ctx.connection, winner.waiting_id, SHRUNK)
    _set_state(ctx, name, winner, exists=current is not None)
    quarantine.close_superseded(ctx.connection, ctx.spec.name, name, winner.delivery_id,
                                winner.delivery.file_name)


def _shrunk(ctx: RunContext, item: Item, name: str, current: dict | None) -> bool:
    """A snapshot holding far fewer records than the truth it would replace waits for the steward
    (a half-uploaded file looks like this); once the steward accepts it, it loads."""
    if current is None:
        return False
    stored = _stored_count(ctx, name)
    incoming = len(item.prepared)
    settings = ctx.settings
    # an empty snapshot never silently empties a truth, however small (a failed export looks so)
    if stored == 0 or (incoming and (stored < settings.shrink_min_records
                                     or incoming >= settings.shrink_share * stored)):
        return False
    if item.waiting_id is not None and quarantine.accepted(ctx.connection, item.waiting_id, SHRUNK):
        return False
    item.outcome = Outcome.WAITING
    item.message = f"{incoming} poster mot {stored} i {current['file_name']}"
    return True


def state(connection: Connection, source: str, name: str) -> dict | None:
    table = models.SnapshotState.__table__
    row = connection.execute(select(table.c.extraction_date, table.c.delivery_id,
                                    models.Delivery.file_name)
                             .join(models.Delivery, models.Delivery.id == table.c.delivery_id)
                             .where(table.c.source == source, table.c.scope == name)).mappings().first()
    if row is None:
        return None
    return {**dict(row), "extraction_date": pd.Timestamp(row["extraction_date"]).date()}


def _condition(ctx: RunContext, name: str):
    table = ctx.spec.table
    column = ctx.spec.scope_column
    return table.c.id.isnot(None) if column is None else table.c[column] == name


def _stored_keys(ctx: RunContext, name: str) -> pd.Series:
    table = ctx.spec.table
    query = select(table.c.record_key).where(_condition(ctx, name))
    return pd.Series(ctx.connection.execute(query).scalars().all(), dtype="string")


def _stored_count(ctx: RunContext, name: str) -> int:
    table = ctx.spec.table
    return int(ctx.connection.execute(select(func.count()).select_from(table)
                                      .where(_condition(ctx, name))).scalar())


def _replace(ctx: RunContext, name: str, item: Item) -> None:
    if ctx.spec.role == Role.PARTICIPANTS:
        frame = _participants(ctx, item)
    elif ctx.spec.role == Role.CONSENTS:
        frame = _consents(ctx, item)
    else:
        frame = item.prepared
    table = ctx.spec.table
    check_before_load(table.name, frame, ctx.registry.schemas)
    # only what changed is written: a register delivered whole every day mostly repeats itself
    load.replace_changed(ctx.connection, table, _condition(ctx, name), frame)
    item.tally.loaded = len(frame)


def _participants(ctx: RunContext, item: Item) -> pd.DataFrame:
    """The register's spells; those of an erased person enrolled up to the erasure are kept only
    de-identified, so the outcome is the same whether the withdrawal came before or after."""
    frame = withdrawal.participants_view(item.prepared, ctx.consents.tombstones())
    store_vault(ctx, item.conformed.frame, frame["pseudonym"])
    return frame


def _consents(ctx: RunContext, item: Item) -> pd.DataFrame:
    """The register's consents; whoever it shows fully withdrawn is erased now (tombstone first,
    then everything already stored about them), and their withdrawn consents are not kept."""
    prepared = item.prepared
    erasure = withdrawal.erasure_in_register(prepared)
    new = withdrawal.store_tombstones(ctx.connection, erasure)
    if not new.empty:
        fresh = erasure.people.loc[erasure.people["tombstone"].isin(new["tombstone"])]
        ctx.erase(erasure.of(fresh), item)
    ctx.consents.forget()
    erased = withdrawal.erased_before(prepared, prepared["samtycke_fran"],
                                      ctx.consents.tombstones())
    return prepared.loc[~erased]


def load_ready(ctx: RunContext, records: pd.DataFrame) -> pd.DataFrame:
    """Held records the steward accepted load only while their delivery is still the scope's
    truth; once a newer snapshot replaced it, that snapshot's own rows decide."""
    table = ctx.spec.table
    truths = pd.read_sql(select(models.SnapshotState.__table__.c.delivery_id).where(
        models.SnapshotState.__table__.c.source == ctx.spec.name), ctx.connection)["delivery_id"]
    current = records.loc[records[held_records.HELD_DELIVERY].isin(truths)]
    check_before_load(table.name, current, ctx.registry.schemas)
    load.insert_frame(ctx.connection, table, current)
    return current


def _set_state(ctx: RunContext, name: str, item: Item, *, exists: bool) -> None:
    values = dict(delivery_id=item.delivery_id, extraction_date=item.delivery.extraction_date)
    table = models.SnapshotState.__table__
    if exists:
        ctx.connection.execute(update(table).where(table.c.source == ctx.spec.name,
                                                   table.c.scope == name).values(**values))
    else:
        ctx.connection.execute(insert(table).values(source=ctx.spec.name, scope=name, **values))
