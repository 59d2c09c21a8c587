"""af: Arbetsförmedlingen's enrolment and support periods (delta).

Sheet ``Uttag`` with a title and a date line above the header (row 3), and possibly a trailer
``Summa: N`` after the data. Ersättning is AF's own code; the försörjning it stands for is added from
the code list's mapping (none for INGEN).
"""

from __future__ import annotations

import pandas as pd

from finsam import identity, reference
from sources import parsing
from sources.af import rules
from sources.af.spec import SPEC
from sources.base import Conformed, Deliveries, Delivery, split_by_issues
from validation.rules import with_text

_SHEET = "Uttag"
_HEADER_ROW = 3
_TRAILER = r"(?i)summa\s*:.*"
_OUTPUT = ("row_number", "pnr", "id_kind", "birth_date", "kon", "inskriven_fran", "inskriven_till",
           "sokandekategori", "ersattning", "forsorjning", "ersattning_fran", "ersattning_till")
_DATES = ("inskriven_fran", "inskriven_till", "ersattning_fran", "ersattning_till")


def read(delivery: Delivery) -> pd.DataFrame:
    frame = parsing.read_sheet(delivery, SPEC, sheet=_SHEET, header_row=_HEADER_ROW)
    return _without_trailer(frame)


def _without_trailer(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop a last row ``Summa: N``: a count the export adds, not a record (empty rows are gone)."""
    if frame.empty:
        return frame
    last = frame.iloc[-1].drop("row_number")
    if last.dropna().astype(str).str.fullmatch(_TRAILER).any():
        return frame.iloc[:-1].reset_index(drop=True)
    return frame


def prepare(raw: pd.DataFrame, delivery: Delivery | Deliveries) -> pd.DataFrame:
    """Raw text (``<name>_text``) beside the parsed values the rules and the warehouse need."""
    ids = identity.normalise(raw["personnummer"], delivery.extraction_date)
    ersattning, _ = parsing.parse_codes(raw["ersattning"], "af_stod")
    return with_text(raw).assign(
        **{name: ids[name] for name in identity.IDENTITY_COLUMNS},
        ersattning=ersattning,
        forsorjning=_forsorjning(ersattning),
        sokandekategori=_sokandekategori(raw["sokandekategori"]),
        **{name: _parse_date(raw[name]) for name in _DATES},
    )


def conform(raw: pd.DataFrame, delivery: Delivery | Deliveries) -> Conformed:
    prepared = prepare(raw, delivery)
    issues = rules.schema().issues(prepared, file=delivery.file_name)
    return split_by_issues(prepared[list(_OUTPUT)], issues)


def _forsorjning(ersattning: pd.Series) -> pd.Series:
    """The försörjning an Ersättning code stands for; empty for INGEN."""
    forsorjning = ersattning.map(reference.mapping("af_stod", "forsorjning")).astype("string")
    return forsorjning.mask(forsorjning == "")


def _sokandekategori(text: pd.Series) -> pd.Series:
    """Two digits, or empty when missing or unreadable."""
    # An Excel number cell loses a leading zero (04 -> 4); the category is always two digits.
    kategori = text.mask(text.str.fullmatch(r"\d").fillna(False).astype(bool), "0" + text)
    return kategori.where(kategori.str.fullmatch(r"\d{2}").fillna(False).astype(bool))


def _parse_date(values: pd.Series) -> pd.Series:
    parsed, _ = parsing.parse_dates(values)
    return parsed
