"""Snapshot sources: each delivery is the whole truth for its scope (an insats, the consent
register). The newest delivery replaces the scope; each newer one is compared with the one before it
so the steward sees records that vanished. Older deliveries are kept in the manifest, never loaded."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from sqlalchemy import Connection, insert, select, update

from assets.ingest import transforms
from assets.ingest.bookkeeping import scope
from assets.ingest.context import Item, RunContext
from assets.ingest.strategies.common import ITEM, together
from finsam.enums import Outcome
from sources.spec import Role
from validation.warehouse import check_before_load
from warehouse import load, models, quarantine

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
    for item in items:
        if item.conformed is not None:
            by_scope.setdefault(scope(item), []).append(item)
    return by_scope


def older(item: Item, current: dict | None) -> bool:
    """Extracted before what the warehouse already holds for the scope: kept, never loaded."""
    return current is not None and item.delivery.extraction_date < current["extraction_date"]


def _prepare_together(ctx: RunContext, items: list[Item]) -> None:
    """``prepared`` of every item: reservnummer left out, pseudonymised as one frame (the same
    people are in every snapshot), keyed per delivery (anonymous spells are told apart by their
    order within their own register)."""
    if not items:
        return
    frame = together(items)
    if ctx.spec.role == Role.PARTICIPANTS:
        frame = transforms.with_age_at_enrolment(frame)
    frame = transforms.pseudonymise(frame, ctx.keys.pseudonymiser)
    parts = dict(iter(frame.groupby(ITEM, sort=False)))
    for position, item in enumerate(items):
        part = parts.get(position, frame.iloc[:0]).drop(columns=ITEM).reset_index(drop=True)
        item.prepared = transforms.with_record_key(part, ctx.spec)


def load_scope(ctx: RunContext, name: str, items: list[Item], current: dict | None,
               replace: Replace, *, compare: bool) -> None:
    """Newest delivery wins the scope; with ``compare``, each newer delivery is compared with the
    one before it to report records that vanished."""
    previous_keys = _stored_keys(ctx, name) if current and compare else None
    previous_file = current["file_name"] if current else None
    newest = items[-1]
    for item in items:
        is_older = older(item, current)
        if is_older or item is not newest:
            item.outcome = Outcome.SUPERSEDED
        if not compare or is_older:
            continue
        current_keys = item.prepared["record_key"]
        if previous_keys is not None:
            gone = transforms.vanished(previous_keys, current_keys)
            if gone:
                ctx.notice("försvunna_poster", item.delivery.file_name, gone,
                           f"{gone} poster som fanns i {previous_file} saknas i "
                           f"{item.delivery.file_name}")
        previous_keys, previous_file = current_keys, item.delivery.file_name
    if newest.outcome == Outcome.LOADED:
        replace(ctx, name, newest)
        _set_state(ctx, name, newest, exists=current is not None)
        quarantine.close_superseded(ctx.connection, ctx.spec.name, name, newest.delivery_id,
                                    newest.delivery.file_name)


def state(connection: Connection, source: str, name: str) -> dict | None:
    table = models.SnapshotState.__table__
    row = connection.execute(select(table.c.extraction_date, table.c.delivery_id,
                                    models.Delivery.file_name)
                             .join(models.Delivery, models.Delivery.id == table.c.delivery_id)
                             .where(table.c.source == source, table.c.scope == name)).mappings().first()
    return dict(row) if row else None


def _condition(ctx: RunContext, name: str):
    table = ctx.spec.table
    column = ctx.spec.scope_column
    return table.c.id.isnot(None) if column is None else table.c[column] == name


def _stored_keys(ctx: RunContext, name: str) -> pd.Series:
    table = ctx.spec.table
    query = select(table.c.record_key).where(_condition(ctx, name))
    return pd.Series(ctx.connection.execute(query).scalars().all(), dtype="string")


def _replace(ctx: RunContext, name: str, item: Item) -> None:
    prepared = item.prepared
    table = ctx.spec.table
    condition = _condition(ctx, name)
    participants = ctx.spec.role == Role.PARTICIPANTS
    if participants:
        # De-identified spells of people who withdrew stay as they are; the register's copies of
        # those people are not linked again.
        condition = condition & table.c.deidentified_person.is_(None)
        erased = ctx.consents.erased()
        prepared = prepared.loc[~prepared["pseudonym"].isin(erased)]
    check_before_load(table.name, prepared, ctx.registry.schemas)
    load.replace_where(ctx.connection, table, condition, prepared)
    item.tally.loaded = len(prepared)
    if participants:
        store_vault(ctx, item.conformed.frame, erased)


def load_ready(ctx: RunContext, item: Item, rows: pd.DataFrame, frame: pd.DataFrame) -> bool:
    """Held rows the steward accepted load only while their delivery is still the scope's truth;
    once a newer snapshot replaced it, that snapshot's own rows decide."""
    current = state(ctx.connection, ctx.spec.name, scope(item))
    if current is None or current["delivery_id"] != item.delivery_id:
        return False
    table = ctx.spec.table
    check_before_load(table.name, frame, ctx.registry.schemas)
    load.insert_frame(ctx.connection, table, frame)
    if ctx.spec.role == Role.PARTICIPANTS:
        store_vault(ctx, rows, ctx.consents.erased())
    return True


def store_vault(ctx: RunContext, frame: pd.DataFrame, erased: pd.Index) -> None:
    existing = ctx.connection.execute(select(models.IdentityVault.pseudonym)).scalars().all()
    entries = transforms.vault_entries(frame, ctx.keys.pseudonymiser, ctx.keys.vault,
                                       skip=erased.union(pd.Index(existing, dtype="string")))
    if not entries.empty:
        load.insert_frame(ctx.connection, models.IdentityVault.__table__, entries)


def _set_state(ctx: RunContext, name: str, item: Item, *, exists: bool) -> None:
    values = dict(delivery_id=item.delivery_id, extraction_date=item.delivery.extraction_date)
    table = models.SnapshotState.__table__
    if exists:
        ctx.connection.execute(update(table).where(table.c.source == ctx.spec.name,
                                                   table.c.scope == name).values(**values))
    else:
        ctx.connection.execute(insert(table).values(source=ctx.spec.name, scope=name, **values))
