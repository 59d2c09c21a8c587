"""What every source reader shares: the landing-zone specification, column selection, results.

A reader has two pure steps:
``read(delivery) -> DataFrame``  the contract's columns as text (stripped, empty = NA), renamed to
                                 canonical snake_case names, plus ``row_number`` (the line or sheet
                                 row the steward sees). Columns outside the contract are dropped here
                                 and never leave this step.
``conform(raw, delivery) -> Conformed``  typed values, identity numbers normalised, code lists and
                                 the contract's per-file rules checked; failing rows go to ``issues``
                                 and are left out of ``frame``.

Delta sources, whose rules look at one row at a time, can conform many deliveries in one pass
(``conform_many``): validation and parsing have a fixed cost per call that, over the thousands of
small delta files of a backfill, outweighed the work on the rows themselves.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from finsam import masking
from finsam.errors import DeliveryRejected, DuplicateColumn, MissingColumn
from sources.spec import SourceSpec, Strategy, header_key
from validation.issues import ERROR, empty_issues

SNAPSHOT = Strategy.SNAPSHOT
DELTA = Strategy.DELTA

# Columns a reader adds about a row itself (not the partner's columns): how many fields it had,
# when the file's rows did not all have as many as its header.
FIELDS = "fields"
FIELDS_EXPECTED = "fields_expected"
PASSED_THROUGH = (FIELDS, FIELDS_EXPECTED)

# Conformed.extra key: rows whose only issues are warnings, held until the steward accepts them.
HELD_WARNINGS = "held_warnings"
# Conformed.extra key: the typed values of every row with an issue (its normalised number, its
# dates as far as they could be read), so the held row's match key, whose row it is and the
# record's date need no second parse.
ISSUE_ROWS = "issue_rows"


@dataclass(frozen=True)
class Delivery:
    """One file of the landing zone. ``file_name`` is the name as finsam stores and shows it
    (identity-shaped parts masked); ``path`` is only ever opened, never shown. ``data`` holds the
    bytes once read, and ``sha256`` is their hash: what is parsed is what is recorded."""

    source: str
    path: Path
    extraction_date: date
    scope: str | None
    file_name: str = ""
    size: int = 0
    mtime_ns: int = 0
    sha256: str = ""
    data: bytes = field(default=b"", repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.file_name:
            object.__setattr__(self, "file_name", masking.file_name(self.path.name))

    def read(self) -> Delivery:
        """This delivery with its bytes, read once without following a symlink (a file swapped for
        a link after the scan is refused, not followed)."""
        try:
            handle = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError as exc:
            raise DeliveryRejected(self.source, self.file_name,
                                   f"filen kan inte öppnas ({exc.strerror})") from None
        with os.fdopen(handle, "rb") as fh:
            data = fh.read()
        return replace(self, data=data, size=len(data), sha256=hashlib.sha256(data).hexdigest())


@dataclass(frozen=True)
class Deliveries:
    """Several deliveries of one source conformed together: what a reader's ``prepare`` may ask of
    a delivery, per row."""

    extraction_date: pd.Series
    scope: pd.Series
    file_name: str


@dataclass
class Conformed:
    """The typed rows that passed, and every problem found; ``extra`` holds further frames."""

    frame: pd.DataFrame
    issues: pd.DataFrame = field(default_factory=empty_issues)
    rows_read: int = 0
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)


_MANGLED = re.compile(r"\.\d+$")


def select_columns(raw: pd.DataFrame, spec: SourceSpec, file_name: str) -> pd.DataFrame:
    """Keep the contract's columns (matched case-insensitively), renamed; drop everything else.

    Raises MissingColumn naming the file and the first missing required column. Only the headers
    the contract knows are named in the message; the others are counted, since in a file without
    a header row they are the first row's values.
    """
    present, passed = _contract_headers(raw, spec, file_name)
    selected = raw[list(present) + passed].rename(columns=present)
    for column in spec.columns:
        if column.name not in selected:
            selected[column.name] = pd.NA
    return selected[[column.name for column in spec.columns] + passed]


def _contract_headers(raw: pd.DataFrame, spec: SourceSpec, file_name: str
                      ) -> tuple[dict[str, str], list[str]]:
    """The raw headers that are the contract's columns (header -> column name), and the columns
    passed through; refuses a file that lacks a required column or repeats one."""
    wanted = spec.column_map()
    present: dict[str, str] = {}
    for header in raw.columns:
        column = wanted.get(header_key(header))
        if column is None and isinstance(header, str) and _MANGLED.search(header):
            # pandas renames a repeated header "X" to "X.1": still the contract's column
            column = wanted.get(header_key(_MANGLED.sub("", header)))
        if column is None:
            continue
        if column.name in present.values():
            raise DuplicateColumn(spec.name, file_name, column.contract_name)
        present[header] = column.name
    found_names = set(present.values())
    for column in spec.columns:
        if column.required and column.name not in found_names:
            known = [str(header).strip() for header in present]
            others = [str(header) for header in raw.columns if header not in present
                      and not str(header).startswith("Unnamed:")]
            headerless = any(masking.looks_like_identity(header)
                             or re.search(r"\d{4}-?\d{2}-?\d{2}", header) for header in others)
            raise MissingColumn(spec.name, file_name, column.contract_name, known, len(others),
                                headerless=headerless)
    return present, [name for name in PASSED_THROUGH if name in raw]


def contract_text(raw: pd.DataFrame, spec: SourceSpec, file_name: str, *,
                  drop_empty: bool = False) -> pd.DataFrame:
    """``clean_text(select_columns(raw, ...))`` without its two intermediate frames, for a frame
    with unique headers (a parsed text file): only the contract's columns are converted, all of
    them at once, and the frame is built once. Per file, pandas' fixed cost of the copies was
    most of the reading of a small delta file. ``drop_empty``: without the rows none of whose
    contract columns is filled (``dropna(how="all")`` over them), found on the converted block."""
    present, passed = _contract_headers(raw, spec, file_name)
    header_of = {name: header for header, name in present.items()} | {name: name for name in passed}
    names = [column.name for column in spec.columns] + passed
    taken = [header_of[name] for name in names if name in header_of]
    rows = len(raw)
    values = (np.concatenate([raw[header].to_numpy(dtype=object) for header in taken])
              if taken else np.empty(0, dtype=object))
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    cleaned = _stripped(pd.Series(pd.array(uniques, dtype="string"))).array.take(codes)
    keep = slice(None)
    if drop_empty:
        content = [number for number, name in enumerate(name for name in names if name in header_of)
                   if name not in PASSED_THROUGH]
        filled = (~cleaned.isna()).reshape(len(taken), rows)[content].any(axis=0)
        if not filled.all():
            keep = np.flatnonzero(filled)
    columns, position = {}, 0
    for name in names:
        if name in header_of:
            columns[name] = cleaned[position * rows:(position + 1) * rows][keep]
            position += 1
        else:
            columns[name] = pd.array([pd.NA] * rows, dtype="string")[keep]
    return pd.DataFrame(columns, index=raw.index[keep])


def by_distinct(values: pd.Series, parse: Callable[[pd.Series], Any]) -> Any:
    """``parse`` (Series -> Series, or a tuple of them) applied once per distinct value and spread
    back to every row: a delivery's columns repeat few values (codes, dates, amounts, the same
    people) and every string step costs per element."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    result = parse(pd.Series(pd.array(uniques, dtype=values.dtype)))

    def spread(parsed: pd.Series) -> pd.Series:
        return pd.Series(parsed.array.take(codes), index=values.index, name=values.name)
    return tuple(spread(part) for part in result) if isinstance(result, tuple) else spread(result)


def _stripped(values: pd.Series) -> pd.Series:
    stripped = values.str.strip()
    return stripped.mask(stripped == "")


def clean_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column as pandas string, stripped, empty strings as NA.

    The whole frame is factorised at once (column after column, so each column is a slice of the
    result): only its distinct values are converted and stripped."""
    rows = len(frame)
    values = frame.to_numpy(dtype=object).ravel(order="F")
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    cleaned = _stripped(pd.Series(pd.array(uniques, dtype="string"))).array.take(codes)
    return pd.DataFrame({name: cleaned[number * rows:(number + 1) * rows]
                         for number, name in enumerate(frame.columns)}, index=frame.index)


def extraction_date_from(match: re.Match) -> date | None:
    try:
        return date(int(match["date"][:4]), int(match["date"][4:6]), int(match["date"][6:8]))
    except ValueError:
        return None


def split_by_issues(typed: pd.DataFrame, issues: pd.DataFrame) -> Conformed:
    """``typed`` (one row per raw row) split by its issues into a Conformed.

    A row with an ERROR fails. A row with only WARNINGs is left out of ``frame`` as well, but kept
    whole in ``extra[HELD_WARNINGS]``: the steward may accept it later.
    """
    # The parser's resolution depends on the input (an empty column comes out in seconds); one unit
    # lets frames of different deliveries concatenate alike. Microseconds hold any year 1-9999.
    typed = typed.astype({name: "datetime64[us]" for name in typed.select_dtypes("datetime").columns})
    errors = issues.loc[issues["severity"] == ERROR, "row_number"]
    flagged = typed["row_number"].isin(issues["row_number"].dropna())
    failed = typed["row_number"].isin(errors.dropna())
    held = typed.loc[flagged & ~failed].reset_index(drop=True)
    extra = {HELD_WARNINGS: held, ISSUE_ROWS: typed.loc[flagged].reset_index(drop=True)}
    return Conformed(frame=typed.loc[~flagged].reset_index(drop=True), issues=issues,
                     rows_read=len(typed), extra=extra)


# Row numbers of the n-th delivery in a batch are offset by n * ROW_STRIDE while they are
# conformed together, so every row and issue stays tied to its file; no file has a billion rows.
ROW_STRIDE = 1_000_000_000


def conform_many(conform: Callable[[pd.DataFrame, Deliveries], Conformed],
                 parts: Sequence[tuple[pd.DataFrame, Delivery]]) -> list[Conformed]:
    """Conform several deliveries of one source in one pass; one Conformed per delivery, exactly as
    conforming each on its own would give. A rule that compares rows must keep to the rows of one
    delivery (``delivery_part``)."""
    if not parts:
        return []
    lengths = np.array([len(raw) for raw, _ in parts])
    offsets = np.repeat(np.arange(len(parts), dtype="int64") * ROW_STRIDE, lengths)
    raw = pd.concat([frame for frame, _ in parts], ignore_index=True)
    raw["row_number"] = raw["row_number"].astype("int64") + offsets
    dates = pd.Series(np.repeat(pd.to_datetime([d.extraction_date for _, d in parts]).to_numpy(),
                                lengths), index=raw.index)
    scopes = pd.Series(np.repeat(np.array([d.scope for _, d in parts], dtype=object), lengths),
                       index=raw.index, dtype="string")
    whole = conform(raw, Deliveries(dates, scopes, f"{len(parts)} leveranser"))
    frames = _by_part(whole.frame, len(parts))
    extras = {key: _by_part(frame, len(parts)) for key, frame in whole.extra.items()}
    issues = _by_part(whole.issues, len(parts))
    file_type = whole.issues["file"].dtype
    return [Conformed(frame=frames[number], rows_read=len(raw_part),
                      issues=issues[number].assign(file=pd.Series(
                          delivery.file_name, index=issues[number].index, dtype=file_type)),
                      extra={key: split[number] for key, split in extras.items()})
            for number, (raw_part, delivery) in enumerate(parts)]


def delivery_part(row_number: pd.Series) -> pd.Series:
    """Which delivery of a batch each row is from (0 for a delivery conformed on its own)."""
    return row_number.astype("int64") // ROW_STRIDE


def _by_part(frame: pd.DataFrame, count: int) -> list[pd.DataFrame]:
    part = delivery_part(frame["row_number"]).to_numpy()
    restored = frame.assign(row_number=(frame["row_number"].astype("int64") % ROW_STRIDE)
                            .astype(frame["row_number"].dtype))
    groups = {key: group.reset_index(drop=True)
              for key, group in restored.groupby(part, sort=False)}
    empty = restored.iloc[:0]
    return [groups.get(number, empty) for number in range(count)]
