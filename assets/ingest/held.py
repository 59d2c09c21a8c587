"""Held rows that may load now, from their kept records (no delivery file is read again): warnings
the steward accepted, and rows held for a code the budget catalogue did not list, once it does."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, select

from assets.ingest import transforms
from assets.ingest.bookkeeping import CATALOGUE_ROWS
from assets.ingest.context import Item, RunContext
from assets.ingest.strategies import STRATEGIES
from finsam.masking import Domain
from sources.base import ISSUE_ROWS
from validation.issues import combine, issues_where
from warehouse import held_records, models, quarantine


def catalogue(connection: Connection) -> pd.DataFrame:
    table = models.BudgetInsats.__table__
    return pd.read_sql(select(table.c.year, table.c.insats), connection)


def hold_unknown_codes(ctx: RunContext, item: Item, known: pd.DataFrame) -> None:
    """Insats and Projekt codes must be in the budget catalogue: a cross-source rule, so it is
    checked here against the warehouse rather than in the reader. The rows wait with their record
    (``CATALOGUE_ROWS``) and load once the code is listed."""
    check = ctx.spec.catalogue
    if item.conformed is None:
        return
    frame = item.conformed.frame
    unknown = transforms.unknown_in_catalogue(frame, check, known)
    if not unknown.any():
        return
    issues = issues_where(frame, unknown, source=ctx.spec.name, file=item.delivery.file_name,
                          column=check.code_column, rule=check.rule,
                          expected="en insatskod i budgetens flik Insatser för året (eller ADM)",
                          domain=Domain.CODE)
    issues["column"] = check.contract_column
    item.conformed.issues = combine(item.conformed.issues, issues)
    waiting = frame.loc[unknown].reset_index(drop=True)
    item.conformed.extra[CATALOGUE_ROWS] = waiting
    # whose rows they are, like every held row (an erasure must find them)
    item.conformed.extra[ISSUE_ROWS] = pd.concat(
        [item.conformed.extra.get(ISSUE_ROWS, pd.DataFrame()), waiting], ignore_index=True)
    item.conformed.frame = frame.loc[~unknown].reset_index(drop=True)


def resolve_catalogue(ctx: RunContext, known: pd.DataFrame) -> int:
    """Records held for a code the catalogue lists now: loaded through the source's strategy,
    their held rows resolved."""
    check = ctx.spec.catalogue
    records = held_records.waiting_for(ctx.connection, ctx.spec.name, ctx.spec.table,
                                       held_records.CATALOGUE)
    if records.empty:
        return 0
    now_known = records.loc[~transforms.unknown_in_catalogue(records, check, known)]
    if now_known.empty:
        return 0
    loaded = STRATEGIES[ctx.spec.strategy].load_ready(ctx, now_known)
    held_records.remove_held(ctx.connection, loaded)
    keys = _keys(loaded)
    waiting = quarantine.open_with_rules(ctx.connection, ctx.spec.name, [check.rule])
    return quarantine.resolve(ctx.connection, waiting.merge(keys, on=["delivery_id", "row_number"]),
                              "koden finns nu i budgetens insatskatalog")


def load_ready(ctx: RunContext) -> int:
    """Records whose held rows the steward has accepted (and none is open) load now, through the
    source's own strategy (newest wins, scope truth, consent and erasure rules alike)."""
    ready = quarantine.ready_rows(ctx.connection, ctx.spec.name)
    if ready.empty:
        return 0
    records = held_records.fetch(ctx.connection, ctx.spec.name, ctx.spec.table, ready)
    if records.empty:
        return 0
    loaded = STRATEGIES[ctx.spec.strategy].load_ready(ctx, records)
    # the record stays: if the steward reopens the row it is taken out, and loads again on a new
    # acceptance, with no file to read
    for delivery_id, rows in _keys(loaded).groupby("delivery_id"):
        quarantine.mark_loaded(ctx.connection, int(delivery_id), rows["row_number"].astype(int).tolist())
    return len(loaded)


def _keys(records: pd.DataFrame) -> pd.DataFrame:
    return records[[held_records.HELD_DELIVERY, held_records.HELD_ROW]].set_axis(
        ["delivery_id", "row_number"], axis=1)
