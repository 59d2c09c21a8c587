"""Steps every strategy shares: the batch as one frame, pseudonyms and record keys, lineage."""

from __future__ import annotations

import pandas as pd

from assets.ingest import transforms
from assets.ingest.context import Item, RunContext
from sources.spec import Role

ITEM = "_item"   # whose row it is, while a batch's files are one frame


def together(items: list[Item]) -> pd.DataFrame:
    """The items' conformed frames as one, with their lineage and ``ITEM``; rows with a
    reservnummer are counted per item and left out (they link to no one)."""
    frame = pd.concat([transforms.with_lineage(item.conformed.frame, item.delivery,
                                               item.delivery_id).assign(**{ITEM: position})
                       for position, item in enumerate(items)], ignore_index=True)
    reserve = transforms.reservnummer_rows(frame)
    for item, value in zip(items, count(items, frame.loc[reserve])):
        item.tally.reservnummer = value
    return frame.loc[~reserve]


def count(items: list[Item], rows: pd.DataFrame) -> list[int]:
    """How many of ``rows`` are each item's own."""
    counts = rows[ITEM].value_counts()
    return [int(counts.get(position, 0)) for position in range(len(items))]


def keyed(ctx: RunContext, frame: pd.DataFrame) -> pd.DataFrame:
    frame = transforms.pseudonymise(frame, ctx.keys.pseudonymiser)
    return transforms.with_record_key(frame, ctx.spec)


def prepared(ctx: RunContext, frame: pd.DataFrame, item: Item) -> pd.DataFrame:
    """One delivery's rows ready to load: reservnummer left out, age at enrolment for the
    participant registers, lineage, pseudonym and record key."""
    reserve = transforms.reservnummer_rows(frame)
    frame, item.tally.reservnummer = frame.loc[~reserve], int(reserve.sum())
    if ctx.spec.role == Role.PARTICIPANTS:
        frame = transforms.with_age_at_enrolment(frame)
    return keyed(ctx, transforms.with_lineage(frame, item.delivery, item.delivery_id))
