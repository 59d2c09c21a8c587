"""Steps every strategy shares: the batch as one frame, pseudonyms and record keys, lineage."""

from __future__ import annotations

import pandas as pd

from assets.ingest import transforms
from assets.ingest.context import Item, RunContext
from sources.spec import Role

ITEM = "_item"   # whose row it is, while a batch's files are one frame


def together(items: list[Item], frames: list[pd.DataFrame] | None = None) -> pd.DataFrame:
    """The items' conformed frames (or ``frames``, one per item) as one, with their lineage and
    ``ITEM``; rows with a reservnummer are counted per item and left out (they link to no one)."""
    frames = frames if frames is not None else [item.conformed.frame for item in items]
    frame = pd.concat([transforms.with_lineage(part, item.delivery, item.delivery_id)
                       .assign(**{ITEM: position})
                       for position, (item, part) in enumerate(zip(items, frames))],
                      ignore_index=True)
    reserve = transforms.reservnummer_rows(frame)
    for item, value in zip(items, count(items, frame.loc[reserve])):
        item.tally.reservnummer += value
    return frame.loc[~reserve]


def count(items: list[Item], rows: pd.DataFrame) -> list[int]:
    """How many of ``rows`` are each item's own."""
    counts = rows[ITEM].value_counts()
    return [int(counts.get(position, 0)) for position in range(len(items))]


def keyed(ctx: RunContext, frame: pd.DataFrame) -> pd.DataFrame:
    """Age at enrolment for the participant registers, pseudonym (and tombstone) for the number,
    and the declared record key."""
    if ctx.spec.role == Role.PARTICIPANTS:
        frame = transforms.with_age_at_enrolment(frame)
    frame = transforms.pseudonymise(frame, ctx.keys.pseudonymiser)
    return transforms.with_record_key(frame, ctx.spec)
