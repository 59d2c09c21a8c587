"""Workbook sources (the budget): a snapshot of one year in several sheets, each sheet to its own
table. The newest workbook of a year replaces that year in every table."""

from __future__ import annotations

import pandas as pd

from assets.ingest import transforms
from assets.ingest.context import Item, RunContext
from assets.ingest.strategies.snapshot import load_scope, scoped, state
from validation.warehouse import check_before_load
from warehouse import load


def load_batch(ctx: RunContext, items: list[Item]) -> None:
    for name, group in scoped(items).items():
        load_scope(ctx, name, group, state(ctx.connection, ctx.spec.name, name), _replace,
                   compare=False)


def _replace(ctx: RunContext, name: str, item: Item) -> None:
    year = int(name)
    parts = {"": ctx.spec.table, **ctx.spec.extra_tables}
    for part, table in parts.items():
        frame = item.conformed.frame if part == "" else item.conformed.extra.get(part)
        if frame is None:
            frame = pd.DataFrame()
        frame = transforms.with_lineage(frame.assign(year=year), item.delivery, item.delivery_id)
        check_before_load(table.name, frame, ctx.registry.schemas)
        load.replace_where(ctx.connection, table, table.c[ctx.spec.scope_column] == year, frame)
    item.tally.loaded = len(item.conformed.frame)


def load_ready(ctx: RunContext, records: pd.DataFrame) -> pd.DataFrame:
    """The workbook's rules have no warnings: nothing of it is ever accepted to load later."""
    return records.iloc[:0]
