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
    held_raw, pnr = _held_raw(rows, offsets)
    spec = ctx.spec
    keys = match_keys.loose_keys(held_raw, spec, held_raw.pop("_extraction_date"), pnr=pnr)
    keyed_issues = match_keys.match_keys_for(issues, held_raw, keys, spec)
    bounds = np.cumsum([len(item.held) for item in rows])[:-1]
    for item, part in zip(rows, np.split(keyed_issues.to_numpy(), bounds)):
        item.held = item.held.assign(match_key=pd.array(part, dtype="string"))


def _held_raw(items: list[Item], offsets: list[int]) -> tuple[pd.DataFrame, pd.Series | None]:
    """The raw rows with issues of all the batch's files, their row numbers offset per file, with
    each file's extraction date; beside them the numbers the reader already normalised (None for
    a source without them). The batch's rows are picked at once: per file, pandas' fixed cost of
    each step outweighed the few held rows of each file."""
    lengths = [len(item.raw) for item in items]
    whole = pd.concat([item.raw for item in items], ignore_index=True)
    at = whole["row_number"].to_numpy(dtype="int64") + np.repeat(
        np.asarray(offsets, dtype="int64"), lengths)
    wanted = pd.concat([item.held["row_number"] for item in items], ignore_index=True).astype(
        "Int64") + np.repeat(np.asarray(offsets, dtype="int64"), [len(item.held) for item in items])
    take = np.isin(at, wanted.dropna().to_numpy(dtype="int64"))
    extracted = pd.Series([pd.Timestamp(item.delivery.extraction_date) for item in items])
    held = whole.loc[take].reset_index(drop=True).assign(
        row_number=at[take],
        _extraction_date=extracted.repeat(lengths).to_numpy()[take])
    typed = [(offset, item.conformed.extra.get(ISSUE_ROWS)) for item, offset in zip(items, offsets)]
    typed = [(offset, frame) for offset, frame in typed if frame is not None and "pnr" in frame]
    if not typed:
        return held, None
    # only the two columns, as arrays: indexing the whole typed frames by row copied every column
    pairs = pd.DataFrame({
        "row_number": np.concatenate([frame["row_number"].to_numpy(dtype="int64") + offset
                                      for offset, frame in typed]),
        "pnr": pd.array(np.concatenate([frame["pnr"].to_numpy(dtype=object, na_value=pd.NA)
                                        for _, frame in typed]), dtype="string"),
    }).drop_duplicates("row_number")
    by_row = pd.Series(pairs["pnr"].array, index=pd.Index(pairs["row_number"]))
    return held, pd.Series(held["row_number"].map(by_row).to_numpy(), index=held.index,
                           dtype="string")


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


