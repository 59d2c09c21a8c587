"""Held rows that may load now: warnings the steward accepted, and rows held for a code the budget
catalogue did not know, once it does. Their deliveries are read again (files are never changed, so
the rows are exactly what was held)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, select

from assets.ingest import transforms
from assets.ingest.context import Item, RunContext
from assets.ingest.strategies import STRATEGIES
from assets.ingest.strategies.common import prepared
from sources.base import HELD_WARNINGS, Delivery
from sources.spec import Source
from validation.issues import combine, issues_where
from warehouse import models, quarantine


@dataclass
class Revisit:
    item: Item
    rows: pd.DataFrame


def catalogue(connection: Connection) -> pd.DataFrame:
    table = models.BudgetInsats.__table__
    return pd.read_sql(select(table.c.year, table.c.insats), connection)


def hold_unknown_codes(ctx: RunContext, item: Item, known: pd.DataFrame) -> None:
    """Insats and Projekt codes must be in the budget catalogue: a cross-source rule, so it is
    checked here against the warehouse rather than in the reader."""
    check = ctx.spec.catalogue
    if item.conformed is None:
        return
    frame = item.conformed.frame
    unknown = transforms.unknown_in_catalogue(frame, check, known)
    if not unknown.any():
        return
    issues = issues_where(frame, unknown, source=ctx.spec.name, file=item.delivery.file_name,
                          column=check.code_column, rule=check.rule,
                          expected="en insatskod i budgetens flik Insatser för året (eller ADM)")
    issues["column"] = check.contract_column
    item.conformed.issues = combine(item.conformed.issues, issues)
    item.conformed.frame = frame.loc[~unknown]


def deliveries_to_revisit(connection: Connection, source: Source, landing: Path) -> list[Revisit]:
    """Re-read deliveries whose held rows may load now: accepted or resolved rows, and rows held
    for an unknown code (the budget catalogue may have grown)."""
    spec = source.spec
    wanted = quarantine.ready_rows(connection, spec.name)
    if spec.catalogue is not None:
        waiting = quarantine.open_with_rules(connection, spec.name, [spec.catalogue.rule])
        wanted = pd.concat([wanted, waiting[["delivery_id", "row_number"]]]).drop_duplicates()
    if wanted.empty:
        return []
    deliveries = pd.read_sql(select(models.Delivery.__table__).where(
        models.Delivery.id.in_(wanted["delivery_id"].unique().tolist())), connection)
    out = []
    for row in deliveries.itertuples():
        delivery = Delivery(spec.name, landing / spec.folder / row.file_name,
                            pd.Timestamp(row.extraction_date).date(), row.scope, row.sha256)
        conformed = source.conform(source.read(delivery), delivery)
        rows = pd.concat([conformed.frame, conformed.extra.get(HELD_WARNINGS, pd.DataFrame())],
                         ignore_index=True)
        numbers = wanted.loc[wanted["delivery_id"] == row.id, "row_number"]
        item = Item(delivery, conformed=conformed, delivery_id=row.id)
        out.append(Revisit(item, rows.loc[rows["row_number"].isin(numbers)]))
    return out


def recheck_catalogue(ctx: RunContext, revisits: list[Revisit], known: pd.DataFrame) -> int:
    check = ctx.spec.catalogue
    waiting = quarantine.open_with_rules(ctx.connection, ctx.spec.name, [check.rule])
    resolved = 0
    for entry in revisits:
        now_known = entry.rows.loc[~transforms.unknown_in_catalogue(entry.rows, check, known)]
        rows = waiting.loc[(waiting["delivery_id"] == entry.item.delivery_id)
                           & waiting["row_number"].isin(now_known["row_number"])]
        resolved += quarantine.resolve(ctx.connection, rows,
                                       "koden finns nu i budgetens insatskatalog")
    return resolved


def load_ready(ctx: RunContext, revisits: list[Revisit]) -> int:
    ready = quarantine.ready_rows(ctx.connection, ctx.spec.name)
    strategy = STRATEGIES[ctx.spec.strategy]
    loaded = 0
    for entry in revisits:
        numbers = ready.loc[ready["delivery_id"] == entry.item.delivery_id, "row_number"]
        rows = entry.rows.loc[entry.rows["row_number"].isin(numbers)]
        if rows.empty:
            continue
        frame = prepared(ctx, rows, entry.item)
        if not strategy.load_ready(ctx, entry.item, rows, frame):
            continue
        quarantine.mark_loaded(ctx.connection, entry.item.delivery_id, frame["row_number"].tolist())
        loaded += len(frame)
    return loaded
