"""Vectorised parsing shared by the readers: files to text frames, text to typed values.

Each ``parse_*`` returns ``(values, bad)`` where ``bad`` marks non-empty input that could not be
parsed, so the caller reports it as an issue naming row, column and expectation.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from io import BytesIO, StringIO

import numpy as np
import pandas as pd
from python_calamine import CalamineWorkbook

from finsam import reference
from finsam.errors import DeliveryRejected, EncodingRejected
from sources.base import (
    FIELDS,
    FIELDS_EXPECTED,
    PASSED_THROUGH,
    Delivery,
    by_distinct,
    clean_text,
    contract_text,
    select_columns,
)
from sources.spec import SourceSpec

_UNREADABLE = "filen kan inte läsas som avgränsad text"


def read_delimited(delivery: Delivery, spec: SourceSpec, *, encoding: str, sep: str,
                   quoting: int = csv.QUOTE_MINIMAL) -> pd.DataFrame:
    """A delimited text file as a text frame of the contract's columns plus ``row_number``.

    Parsed from the delivery's bytes (the very bytes hashed into the manifest). ``encoding``
    ``utf-8-sig`` accepts a file with or without BOM; bytes that do not decode are a rejection
    naming the first line that fails. A row with more fields than the header (one extra delimiter)
    does not stop the file: it carries its field count, so the rules hold that row and the rest of
    the file goes on.
    """
    data = delivery.data
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise EncodingRejected(spec.name, delivery.file_name, encoding, line) from None
    if not text.strip():
        raise DeliveryRejected(spec.name, delivery.file_name, "filen är tom")
    options = dict(sep=sep, dtype=str, keep_default_na=False, quoting=quoting,
                   skip_blank_lines=True, engine="c")
    try:
        raw = pd.read_csv(StringIO(text), **options)
    except pd.errors.ParserError:
        raw = _ragged(text, options, spec, delivery)
    except (pd.errors.EmptyDataError, csv.Error, ValueError):
        raise DeliveryRejected(spec.name, delivery.file_name, _UNREADABLE) from None
    if not isinstance(raw.index, pd.RangeIndex):
        # the first row had more fields than the header: pandas took its leading fields as the
        # row labels instead of failing (and the run then stopped on them); read it as ragged
        raw = _ragged(text, options, spec, delivery)
    # a row with none of the contract's columns filled is no row
    selected = contract_text(raw, spec, delivery.file_name, drop_empty=True)
    for name in PASSED_THROUGH:
        if name in selected:
            selected[name] = pd.to_numeric(selected[name]).astype("Int64")
    selected.insert(0, "row_number", (selected.index + 2).astype("int64"))
    return selected.reset_index(drop=True)


def _ragged(text: str, options: dict, spec: SourceSpec, delivery: Delivery) -> pd.DataFrame:
    """Rows with more fields than the header: every row read with room for the widest, the
    header's names given to its own fields, and each row's field count kept beside them."""
    lines = pd.Series(text.splitlines())
    widest = int(lines.str.count(re.escape(options["sep"])).max()) + 1
    try:
        grid = pd.read_csv(StringIO(text), header=None, names=range(widest), **options)
    except (pd.errors.ParserError, csv.Error, ValueError):
        raise DeliveryRejected(spec.name, delivery.file_name, _UNREADABLE) from None
    named = grid.iloc[0] != ""
    width = int(named.to_numpy().nonzero()[0].max()) + 1 if named.any() else 0
    body = grid.iloc[1:]
    filled = (body != "").to_numpy()
    # a row's field count: up to its last filled field, at least the header's width (a trailing
    # delimiter adds one more field, empty or not: the row is counted as wider than the header)
    count_filled = np.where(filled.any(axis=1), widest - np.argmax(filled[:, ::-1], axis=1), 0)
    # fields per row as the csv module splits them: a separator inside quotes (soc's "4 512,50")
    # is no field boundary; blank lines are no rows, as for the parser above
    counts = [len(row) for row in csv.reader(StringIO(text), delimiter=options["sep"],
                                             quoting=options["quoting"]) if row]
    separators = np.asarray(counts[1:], dtype="int64") - 1
    fields = np.maximum(count_filled, width)
    if len(separators) == len(body):
        fields = np.maximum(fields, separators + 1)
    frame = body.iloc[:, :width].copy()
    frame.columns = grid.iloc[0, :width].tolist()
    frame[FIELDS] = fields.astype(str)
    frame[FIELDS_EXPECTED] = str(width)
    # the fast path numbers rows by their position after the header; so does this one
    frame.index = pd.RangeIndex(len(frame))
    return frame


def _cell_text(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value


def read_sheet(delivery: Delivery, spec: SourceSpec, *, sheet: str, header_row: int = 1
               ) -> pd.DataFrame:
    """One sheet of a workbook as a text frame of the contract's columns plus ``row_number``.

    Excel date cells become ISO dates; whole numbers lose their ``.0``. Rows above the header are
    skipped; wholly empty rows are dropped. Read with calamine (Rust) from the delivery's bytes:
    openpyxl's cell-by-cell parsing cost ten times as much per file.
    """
    try:
        workbook = CalamineWorkbook.from_filelike(BytesIO(delivery.data))
        names = workbook.sheet_names
        matches = [name for name in names if name.strip().casefold() == sheet.casefold()]
        # keep the empty area so that list position + 1 is the sheet's row number
        rows = (workbook.get_sheet_by_name(matches[0]).to_python(skip_empty_area=False)
                if matches else [])
    except Exception as exc:  # calamine raises several types for a broken file
        raise DeliveryRejected(spec.name, delivery.file_name,
                               f"ingen läsbar Excel-arbetsbok ({type(exc).__name__})") from None
    if not matches:
        # the other sheets are counted, not named: a sheet may be named after a person
        raise DeliveryRejected(spec.name, delivery.file_name,
                               f"fliken {sheet!r} saknas (arbetsboken har {len(names)} andra flikar)")
    rows = rows[header_row - 1:]
    if not rows:
        raise DeliveryRejected(spec.name, delivery.file_name,
                               f"fliken {sheet!r} har ingen rubrikrad på rad {header_row}")
    header = ["" if cell is None else str(cell) for cell in rows[0]]
    width = len(header)
    body = [[_cell_text(cell) for cell in row[:width]] + [None] * (width - len(row)) for row in rows[1:]]
    raw = pd.DataFrame(body, columns=header, dtype=object).fillna("")
    raw = raw.loc[:, [bool(str(name).strip()) for name in raw.columns]]
    selected = clean_text(select_columns(raw.astype(str), spec, delivery.file_name))
    selected.insert(0, "row_number", (selected.index + header_row + 1).astype("int64"))
    return selected.dropna(how="all", subset=selected.columns[1:]).reset_index(drop=True)


def parse_dates(values: pd.Series, fmt: str = "%Y-%m-%d") -> tuple[pd.Series, pd.Series]:
    """Dates in ``fmt`` (ISO dates from Excel cells pass too); bad = non-empty but unparseable."""
    return by_distinct(values, lambda distinct: _parse_dates(distinct, fmt))


def _parse_dates(values: pd.Series, fmt: str) -> tuple[pd.Series, pd.Series]:
    parsed = pd.to_datetime(values, format=fmt, errors="coerce")
    if fmt != "%Y-%m-%d":
        iso = pd.to_datetime(values, format="%Y-%m-%d", errors="coerce")
        parsed = parsed.fillna(iso)
    bad = values.notna() & parsed.isna()
    return parsed, bad


def parse_amounts(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Swedish amounts: spaces (also no-break) as thousands separators, decimal comma, minus sign.

    A value in parentheses is ambiguous (credit or note?) and is bad, never guessed.
    """
    return by_distinct(values, _parse_amounts)


def _parse_amounts(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    text = values.astype("string").str.replace(r"[\s\u00a0\u202f]", "", regex=True)
    text = text.str.replace(",", ".", regex=False).str.replace("\u2212", "-", regex=False)
    numbers = pd.to_numeric(text.where(~text.str.contains(r"[()]", regex=True).fillna(False)),
                            errors="coerce")
    bad = values.notna() & numbers.isna()
    return numbers.astype("Float64"), bad


def parse_codes(values: pd.Series, code_list: str) -> tuple[pd.Series, pd.Series]:
    """One code per value, matched case-insensitively; bad = not in the code list."""
    return by_distinct(values, lambda distinct: _parse_codes(distinct, code_list))


def _parse_codes(values: pd.Series, code_list: str) -> tuple[pd.Series, pd.Series]:
    normalised = values.astype("string").str.strip().str.upper()
    valid = {code.upper(): code for code in reference.codes(code_list)}
    mapped = normalised.map(valid).astype("string")
    bad = values.notna() & mapped.isna()
    return mapped, bad


def parse_code_sets(values: pd.Series, code_list: str) -> tuple[pd.Series, pd.Series]:
    """Comma-separated codes, normalised to upper case, sorted and de-duplicated (``"AKS,FSB"``).

    bad = any element not in the list, or an exclusive code (e.g. ING, OKA) combined with another.
    A register holds few distinct combinations, so they are worked out once each and mapped back.
    """
    return by_distinct(values.astype("string"),
                       lambda distinct: _parse_distinct_code_sets(distinct, code_list))


def _parse_distinct_code_sets(values: pd.Series, code_list: str) -> tuple[pd.Series, pd.Series]:
    frame = reference.code_list(code_list)
    valid = {code.upper() for code in frame["code"]}
    exclusive = ({code.upper() for code in frame.loc[frame["exclusive"] == "true", "code"]}
                 if "exclusive" in frame else set())
    exploded = (values.astype("string").str.upper().str.split(",").explode().str.strip())
    exploded = exploded[exploded.notna() & (exploded != "")]
    element_bad = ~exploded.isin(valid)
    per_row = exploded.groupby(level=0)
    any_bad = element_bad.groupby(level=0).any()
    count = per_row.nunique()
    has_exclusive = exploded.isin(exclusive).groupby(level=0).any()
    pairs = exploded.rename("code").rename_axis("row").reset_index().drop_duplicates()
    joined = pairs.sort_values(["row", "code"]).groupby("row")["code"].agg(",".join)
    bad_rows = any_bad | (has_exclusive & (count > 1))
    result = joined.reindex(values.index).astype("string")
    bad = values.notna() & bad_rows.reindex(values.index).fillna(values.notna()).astype(bool)
    return result.where(~bad), bad


def parse_yes_no(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``Ja``/``Nej`` (any case) to booleans; bad = anything else that is not empty."""
    return by_distinct(values, _parse_yes_no)


def _parse_yes_no(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    normalised = values.astype("string").str.strip().str.casefold()
    parsed = normalised.map({"ja": True, "nej": False}).astype("boolean")
    bad = values.notna() & parsed.isna()
    return parsed, bad


def describe_codes(code_list: str, *, multi: bool = False) -> str:
    """The steward's "expected" text for a code list: its name and every code, in list order."""
    frame = reference.code_list(code_list)
    listed = f"i listan {code_list} ({', '.join(frame['code'])})"
    if not multi:
        return f"en kod {listed}"
    text = f"en eller flera koder {listed}, kommaseparerade"
    if "exclusive" in frame:
        exclusive = frame.loc[frame["exclusive"] == "true", "code"]
        if not exclusive.empty:
            text += f"; {' och '.join(exclusive)} får inte kombineras med andra koder"
    return text
