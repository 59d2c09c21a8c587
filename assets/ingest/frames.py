"""Steps every strategy shares: the batch as one frame, pseudonyms and record keys, lineage."""

from __future__ import annotations

import numpy as np
import pandas as pd

from assets.ingest import transforms
from assets.ingest.context import Item, RunContext
from sources.spec import Role

ITEM = "_item"   # whose row it is, while a batch's files are one frame


def together(items: list[Item], frames: list[pd.DataFrame] | None = None) -> pd.DataFrame:
    """The items' conformed frames (or ``frames``, one per item) as one, with their lineage and
    ``ITEM``; rows with a reservnummer are counted per item and left out (they link to no one)."""
    frames = frames if frames is not None else [item.conformed.frame for item in items]
    # the lineage of the whole batch at once: per file, pandas' fixed cost of each step (the
    # version text above all) outweighed the work on a delta file's few rows
    lengths = [len(part) for part in frames]
    frame = pd.concat(frames, ignore_index=True)
    extracted = pd.Series([pd.Timestamp(item.delivery.extraction_date) for item in items])
    frame = transforms.lineage(
        frame, extracted.repeat(lengths).to_numpy(),
        np.repeat(np.array([item.delivery.file_name for item in items], dtype=object), lengths),
        np.repeat(np.array([item.delivery_id for item in items], dtype="int64"), lengths))
    frame[ITEM] = np.repeat(np.arange(len(items), dtype="int64"), lengths)
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
