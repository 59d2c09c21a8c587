"""Identity numbers: personnummer, samordningsnummer and regional reservnummer.

Validation (Luhn check, real calendar date, individnummer 000, samordningsnummer day + 60) is the
`personnummer` package's, applied once per distinct 12-digit value. What the package cannot do is the
contract's century rule for 10-digit numbers: the century follows from the separator and the
*extraction date* of the delivery, not from today. That step, and the parsing of every allowed form,
is done here vectorised so that millions of rows cost one regex pass.
"""

from __future__ import annotations

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


def _normalise_distinct(values: pd.Series, year_ref: np.ndarray,
                        allow_reservnummer: bool) -> pd.DataFrame:
    text = values.astype("string").str.strip()
    text = text.mask(text == "")
    parts = text.str.extract(_FORM)

    yy = pd.to_numeric(parts["yymmdd"].str[:2], errors="coerce")
    plus = (parts["sep"] == "+").fillna(False).to_numpy(dtype=bool)
    base = pd.Series(year_ref - np.where(plus, 100, 0), index=values.index)
    short_century = (base - ((base - yy) % 100)) // 100
    century = parts["century"].fillna(short_century.astype("Int64").astype("string"))
    long_form = century.str.zfill(2) + parts["yymmdd"] + parts["tail"]

    valid = [value for value in long_form.dropna().unique() if _is_valid(value)]
    is_valid = pd.Series(long_form.isin(valid).to_numpy(dtype=bool), index=values.index)

    day = pd.to_numeric(long_form.str[6:8], errors="coerce")
    coordination = is_valid & (day > 60).fillna(False)
    birth_text = (long_form.str[:4] + "-" + long_form.str[4:6] + "-"
                  + (day - coordination.astype(int) * 60).astype("Int64").astype("string").str.zfill(2))
    birth_date = pd.to_datetime(birth_text.where(is_valid), format="%Y-%m-%d", errors="coerce")
    sex_digit = pd.to_numeric(long_form.str[10], errors="coerce")
    kon = pd.Series(np.where((sex_digit % 2 == 1).fillna(False), "M", "K"), index=values.index,
                    dtype="string")

    kind = pd.Series(INVALID, index=values.index, dtype="string")
    kind = kind.mask(is_valid, PERSONNUMMER).mask(coordination, SAMORDNINGSNUMMER)
    kind = kind.mask(text.isna(), MISSING)
    problem = pd.Series(pd.NA, index=values.index, dtype="string")
    problem = problem.mask(parts["yymmdd"].isna() & text.notna(),
                           "formen ska vara ÅÅMMDD-NNNN eller ÅÅÅÅMMDDNNNN")
    problem = problem.mask(parts["yymmdd"].notna() & ~is_valid,
                           "kontrollsiffran, datumet eller födelsenumret stämmer inte")
    if allow_reservnummer:
        shaped = text.str.fullmatch(r"[0-9A-Za-z]{10,12}").fillna(False)
        reserve = shaped & ~is_valid & (text.str.contains(r"[A-Za-z]", regex=True).fillna(False)
                                        | text.str.startswith("99").fillna(False))
        kind = kind.mask(reserve, RESERVNUMMER)
        problem = problem.mask(reserve)

    return pd.DataFrame({
        "pnr": long_form.where(is_valid).astype("string"),
        "id_kind": kind,
        "birth_date": birth_date,
        "kon": kon.where(is_valid),
        "id_problem": problem.where(kind == INVALID),
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
