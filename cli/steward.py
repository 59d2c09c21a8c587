"""`finsam failures list / show / accept / reopen`: the steward's review from a terminal."""

from __future__ import annotations

import argparse

import pandas as pd
from sqlalchemy import select

from assets.steward import page as steward
from sources.registry import REGISTRY
from warehouse import models, quarantine
from warehouse.db import make_engine, migrate

_LIST_COLUMNS = {"id": "ID", "source": "Källa", "file_name": "Fil", "row_number": "Rad",
                 "column": "Kolumn", "rule": "Regel", "severity": "Allvarlighet", "status": "Status"}


def _tables() -> dict:
    """Where an accepted row was loaded, per source, so reopening can take it out again."""
    return {spec.name: spec.table for spec in REGISTRY.specs()}


def run(args: argparse.Namespace, url: str) -> int:
    engine = make_engine(url)
    migrate(engine)
    with engine.begin() as connection:
        if args.action == "list":
            return _list(connection, args)
        if args.action == "show":
            return _show(connection, args.id)
        if args.action == "accept":
            quarantine.accept(connection, args.id, args.note)
            print(f"Rad {args.id} godkänd. Den läses in vid nästa körning.")
            return 0
        quarantine.reopen(connection, args.id, args.note, tables=_tables())
        print(f"Rad {args.id} är öppen igen och hålls kvar.")
        return 0


def _list(connection, args: argparse.Namespace) -> int:
    statuses = ((quarantine.OPEN, quarantine.ACCEPTED, quarantine.CLOSED) if args.all
                else (quarantine.OPEN, quarantine.ACCEPTED))
    held = steward.held_rows(connection, statuses)
    if args.source:
        held = held.loc[held["source"] == args.source]
    if held.empty:
        print("Inga kvarhållna rader.")
        return 0
    shown = held[list(_LIST_COLUMNS)].rename(columns=_LIST_COLUMNS)
    print(shown.to_string(index=False))
    print(f"\n{len(held)} rader ({(held['status'] == quarantine.OPEN).sum()} öppna).")
    return 0


def _show(connection, held_id: int) -> int:
    table = models.HeldRow.__table__
    row = connection.execute(select(table).where(table.c.id == held_id)).mappings().first()
    if row is None:
        raise ValueError(f"det finns ingen kvarhållen rad med nummer {held_id}")
    labels = {"source": "Källa", "file_name": "Fil", "row_number": "Rad", "column": "Kolumn",
              "rule": "Regel", "severity": "Allvarlighet", "expected": "Förväntat",
              "found": "Hittat", "status": "Status", "note": "Anteckning",
              "first_seen": "Först sedd", "last_seen": "Senast sedd"}
    print(f"Kvarhållen rad {held_id}")
    for key, label in labels.items():
        print(f"  {label + ':':14} {'' if row[key] is None else row[key]}")
    decisions = pd.read_sql(select(models.StewardDecision.__table__)
                            .where(models.StewardDecision.held_row_id == held_id)
                            .order_by(models.StewardDecision.decided_at), connection)
    if not decisions.empty:
        print("  Beslut:")
        for line in (decisions["decided_at"].astype(str) + "  " + decisions["decision"] + " av "
                     + decisions["decided_by"] + ": " + decisions["note"].fillna("")):
            print(f"    {line}")
    return 0
