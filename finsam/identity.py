"""Identity numbers: personnummer, samordningsnummer and regional reservnummer.

Validation (Luhn check, real calendar date, individnummer 000, samordningsnummer day + 60) is the
`personnummer` package's, applied once per distinct 12-digit value. What the package cannot do is the
contract's century rule for 10-digit numbers: the century follows from the separator and the
*extraction date* of the delivery, not from today. That step, and the parsing of every allowed form,
is done here vectorised so that millions of rows cost one regex pass.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

import numpy as np
import pandas as pd
from personnummer import personnummer as _pnr

PERSONNUMMER = "personnummer"
SAMORDNINGSNUMMER = "samordningsnummer"
RESERVNUMMER = "reservnummer"
INVALID = "ogiltigt"
MISSING = "saknas"

# 10 or 12 digits, an optional - or + between date and birth number; nothing else (a space is invalid).
_FORM = r"^(?P<century>\d{2})?(?P<yymmdd>\d{6})(?P<sep>[-+]?)(?P<tail>\d{4})$"

IDENTITY_COLUMNS = ("pnr", "id_kind", "birth_date", "kon", "id_problem")


@lru_cache(maxsize=1 << 20)
def _is_valid(long_form: str) -> bool:
    # the same people recur in every delta of every partner: validate each number once per process
    try:
        _pnr.Personnummer(long_form)
    except _pnr.PersonnummerException:
        return False
    return True


def normalise(values: pd.Series, extraction_date: date | pd.Series, *,
              allow_reservnummer: bool = False) -> pd.DataFrame:
    """Normalise identity numbers as the contract allows them.

    Returns a frame on ``values``'s index with
    ``pnr`` (12 digits, only for valid personnummer/samordningsnummer),
    ``id_kind`` (personnummer, samordningsnummer, reservnummer, ogiltigt, saknas),
    ``birth_date`` (day - 60 for samordningsnummer), ``kon`` (K/M) and
    ``id_problem`` (a Swedish reason for an invalid value, never the value itself).
    """
    # The same people recur in every row and file: the work is done once per distinct
    # (value, extraction year) and spread back, since each string step costs per element.
    years = _reference_years(extraction_date, values.index)
    value_codes, distinct_values = pd.factorize(values.astype("string"), use_na_sentinel=False)
    year_codes, distinct_years = pd.factorize(years)
    pair_codes, inverse = np.unique(value_codes.astype("int64") * len(distinct_years) + year_codes,
                                    return_inverse=True)
    distinct = _normalise_distinct(
        pd.Series(pd.array(distinct_values, dtype="string")[pair_codes // len(distinct_years)]),
        np.asarray(distinct_years)[pair_codes % len(distinct_years)], allow_reservnummer)
    return distinct.take(inverse.ravel()).set_axis(values.index)


_FORM_PATTERN = re.compile(_FORM)
_RESERVE_SHAPE = re.compile(r"[0-9A-Za-z]{10,12}")
_LETTER = re.compile(r"[A-Za-z]")
_FORM_PROBLEM = "formen ska vara ÅÅMMDD-NNNN eller ÅÅÅÅMMDDNNNN"
_CHECK_PROBLEM = "kontrollsiffran, datumet eller födelsenumret stämmer inte"


def _number(digits: str) -> int | None:
    """Digits as a number, as pandas' to_numeric reads them: only ASCII digits (``\\d`` in the
    form also takes other scripts' digits, which then make no number)."""
    return int(digits) if digits.isascii() and digits.isdigit() else None


def _normalise_distinct(values: pd.Series, year_ref: np.ndarray,
                        allow_reservnummer: bool) -> pd.DataFrame:
    """One pass in Python over the distinct values: each of them went through some twenty pandas
    string steps before, each its own loop over every value."""
    count = len(values)
    pnr: list[str | None] = [None] * count
    kind: list[str] = [INVALID] * count
    birth: list[str | None] = [None] * count
    kon: list[str | None] = [None] * count
    problem: list[str | None] = [None] * count
    for at, (value, year) in enumerate(zip(values.to_numpy(dtype=object, na_value=None),
                                           year_ref.tolist())):
        text = value.strip() if value is not None else None
        if not text:
            kind[at] = MISSING
            continue
        parts = _FORM_PATTERN.search(text)
        valid, long_form = False, None
        if parts is not None:
            century = parts["century"]
            if century is None:
                yy = _number(parts["yymmdd"][:2])
                if yy is not None:
                    # the contract's rule: the latest year not after the extraction year (a
                    # hundred years earlier after a +)
                    base = year - (100 if parts["sep"] == "+" else 0)
                    century = str((base - ((base - yy) % 100)) // 100)
            if century is not None:
                long_form = century.zfill(2) + parts["yymmdd"] + parts["tail"]
                valid = _is_valid(long_form)
        if valid:
            day = _number(long_form[6:8])
            coordination = day is not None and day > 60
            pnr[at] = long_form
            kind[at] = SAMORDNINGSNUMMER if coordination else PERSONNUMMER
            if day is not None:
                birth[at] = (f"{long_form[:4]}-{long_form[4:6]}-"
                             f"{str(day - 60 if coordination else day).zfill(2)}")
            sex = _number(long_form[10])
            kon[at] = "M" if sex is not None and sex % 2 == 1 else "K"
            continue
        if (allow_reservnummer and _RESERVE_SHAPE.fullmatch(text)
                and (_LETTER.search(text) or text.startswith("99"))):
            kind[at] = RESERVNUMMER
            continue
        problem[at] = _FORM_PROBLEM if parts is None else _CHECK_PROBLEM

    return pd.DataFrame({
        "pnr": pd.array(pnr, dtype="string"),
        "id_kind": pd.array(kind, dtype="string"),
        "birth_date": pd.to_datetime(pd.Series(birth, dtype="string"), format="%Y-%m-%d",
                                     errors="coerce").to_numpy(),
        "kon": pd.array(kon, dtype="string"),
        "id_problem": pd.array(problem, dtype="string"),
    }, index=values.index)


def _reference_years(extraction_date: date | pd.Series, index: pd.Index) -> np.ndarray:
    if isinstance(extraction_date, pd.Series):
        return pd.to_datetime(extraction_date).dt.year.to_numpy()
    return np.full(len(index), extraction_date.year)


def mask(values: pd.Series) -> pd.Series:
    """Show an identity value to the steward as ``YYYYMMDD-****`` (never the birth number).

    Values that are not even shaped like a number keep their first eight characters at most and
    lose the rest, so a mistyped number is still recognisable but never complete.
    """
    text = values.astype("string").str.strip()
    digits = text.str.replace(r"[-+]", "", regex=True)
    long_digits = digits.str.fullmatch(r"\d{12}").fillna(False)
    short_digits = digits.str.fullmatch(r"\d{10}").fillna(False)
    masked = pd.Series(pd.NA, index=values.index, dtype="string")
    masked = masked.mask(long_digits, digits.str[:8] + "-****")
    masked = masked.mask(short_digits, digits.str[:6] + "-****")
    other = text.notna() & ~long_digits & ~short_digits
    masked = masked.mask(other, text.str[:6] + "****")
    return masked
