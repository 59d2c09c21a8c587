"""Held-row match keys: a row's natural key as the partner wrote it, identity cut to the birth-date
part, so a corrected redelivery of the same record finds and closes the row held for it."""

from __future__ import annotations

import pandas as pd

from finsam import masking
from finsam.identity import normalise
from sources.spec import SourceSpec


def loose_keys(raw: pd.DataFrame, spec: SourceSpec, extraction_date,
               pnr: pd.Series | None = None) -> pd.DataFrame:
    """Per raw row: its natural key as text with the identity cut to the birth-date part, once whole
    (column ``""``) and once without each key column (so a corrected value still matches).

    ``pnr`` (aligned with ``raw``), when the caller already normalised the numbers, saves doing it
    again; rows without one fall back to the digits as written."""
    columns = ["personnummer" if name == "pnr" else name for name in spec.natural_key]
    if any(name not in raw for name in columns):
        return pd.DataFrame(index=raw.index)
    parts = {}
    for name in columns:
        values = raw[name].astype("string").str.upper().fillna("")
        if name == "personnummer":
            known = normalise(raw[name], extraction_date)["pnr"] if pnr is None else pnr
            digits = values.str.replace(r"\D", "", regex=True)
            values = known.fillna(digits).str[:8].fillna("")
        else:
            # an identity number typed into another key column is cut like the identity itself
            codes, uniques = pd.factorize(values)
            values = pd.Series(pd.array([masking.mask_text(value) for value in uniques],
                                        dtype="string").take(codes), index=values.index)
        parts[name] = values
    frame = pd.DataFrame(parts, index=raw.index)
    out = {"": _joined(frame, columns)}
    for left_out in columns:
        kept = [name for name in columns if name != left_out]
        out[left_out] = _joined(frame, kept) + "|-" + left_out
    return pd.DataFrame(out, index=raw.index)


def _joined(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    key = frame[columns[0]]
    for name in columns[1:]:
        key = key.str.cat(frame[name], sep="|")
    return key


def match_keys_for(issues: pd.DataFrame, raw: pd.DataFrame, keys: pd.DataFrame,
                   spec: SourceSpec) -> pd.Series:
    """The match key of each issue: the row's key without the issue's own column."""
    if keys.empty or issues.empty:
        return pd.Series(pd.NA, index=issues.index, dtype="string")
    canonical = {column.contract_name: column.name for column in spec.columns}
    by_row = keys.set_index(raw["row_number"].to_numpy())
    column = issues["column"].map(canonical).fillna("")
    column = column.where(column.isin(by_row.columns), "")
    stacked = by_row.stack()
    lookup = pd.MultiIndex.from_arrays([issues["row_number"].astype("int64"), column])
    return pd.Series(stacked.reindex(lookup).to_numpy(), index=issues.index, dtype="string")


BUDGET_SHEET_RULE = "Budget:"


def budget_keys(issues: pd.DataFrame, sheets: dict[str, pd.DataFrame]) -> pd.Series:
    """``INSATS|KOSTNADSSLAG`` for issues on the Budget sheet, so the follow-up can say which
    budget rows are missing because the steward holds them."""
    budget = sheets.get("budget")
    keys = pd.Series(pd.NA, index=issues.index, dtype="string")
    if budget is None or issues.empty:
        return keys
    by_row = (budget["insats"].astype("string").str.upper() + "|"
              + budget["kostnadsslag"].astype("string")).set_axis(budget["row_number"].to_numpy())
    on_sheet = issues["rule"].str.startswith(BUDGET_SHEET_RULE).fillna(False)
    found = issues["row_number"].astype("int64").map(by_row)
    return keys.mask(on_sheet, found)
