"""Held rows' match keys for a batch: a row's natural key as the partner wrote it (identity cut to
its birth-date part), so a corrected redelivery of the same record finds and closes the row."""

from __future__ import annotations

import numpy as np
import pandas as pd

from assets.ingest.context import Item, RunContext
from sources import match_keys
from sources.base import ISSUE_ROWS, ROW_STRIDE
from validation.issues import combine


def key_issues(ctx: RunContext, items: list[Item]) -> None:
    """Each file's issues (``item.held``), each with the match key that lets a corrected redelivery
    close it. The files of a source are keyed together, row numbers offset per file."""
    for item in items:
        item.held = combine(item.conformed.issues)
    rows = []
    for item in items:
        if isinstance(item.raw, dict):
            item.held = item.held.assign(match_key=match_keys.budget_keys(item.held, item.raw))
        elif item.raw is not None and not item.held.empty:
            rows.append(item)
    if not rows:
        return
    offsets = [number * ROW_STRIDE for number in range(len(rows))]
    issues = pd.concat([item.held.assign(row_number=item.held["row_number"] + offset)
                        for item, offset in zip(rows, offsets)], ignore_index=True)
    held_raw = pd.concat([_held_raw(item, offset) for item, offset in zip(rows, offsets)],
                         ignore_index=True)
    spec = ctx.spec
    pnr = held_raw.pop("_pnr") if "_pnr" in held_raw else None
    keys = match_keys.loose_keys(held_raw, spec, held_raw.pop("_extraction_date"), pnr=pnr)
    keyed_issues = match_keys.match_keys_for(issues, held_raw, keys, spec)
    bounds = np.cumsum([len(item.held) for item in rows])[:-1]
    for item, part in zip(rows, np.split(keyed_issues.to_numpy(), bounds)):
        item.held = item.held.assign(match_key=pd.array(part, dtype="string"))


def _held_raw(item: Item, offset: int) -> pd.DataFrame:
    """The raw rows with issues, their row numbers offset, with the numbers the reader already
    normalised (``_pnr``) and the delivery's extraction date."""
    held, pnr = raw_rows(item, item.held["row_number"], item.conformed.extra.get(ISSUE_ROWS))
    extra = {"_extraction_date": pd.Timestamp(item.delivery.extraction_date)}
    if pnr is not None:
        extra["_pnr"] = pnr
    return held.assign(row_number=held["row_number"] + offset, **extra)


def raw_rows(item: Item, row_numbers: pd.Series, numbers: pd.DataFrame | None
             ) -> tuple[pd.DataFrame, pd.Series | None]:
    """The raw rows with these row numbers, and beside them the identity numbers the reader
    normalised (``numbers``: row_number and pnr), so no number is normalised a second time."""
    rows = item.raw.loc[item.raw["row_number"].isin(row_numbers).to_numpy()]
    if numbers is None or "pnr" not in numbers:
        return rows, None
    # only the two columns: indexing the whole typed frame by row copied every column of it
    pairs = numbers[["row_number", "pnr"]].drop_duplicates("row_number")
    by_row = pd.Series(pairs["pnr"].array, index=pd.Index(pairs["row_number"]))
    return rows, pd.Series(rows["row_number"].map(by_row).to_numpy(), index=rows.index,
                           dtype="string")


def loaded_match_keys(ctx: RunContext, item: Item, frame: pd.DataFrame) -> pd.Series:
    """Match keys of the rows this delivery loaded, to close rows held from earlier deliveries.
    The numbers were normalised when the file was conformed; that result is reused."""
    loaded, pnr = raw_rows(item, frame["row_number"], item.conformed.frame)
    keys = match_keys.loose_keys(loaded, ctx.spec, item.delivery.extraction_date, pnr=pnr)
    return keys.stack().astype("string") if not keys.empty else pd.Series(dtype="string")


