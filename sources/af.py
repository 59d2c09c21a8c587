"""af: Arbetsförmedlingen's enrolment and support periods (delta).

Sheet ``Uttag`` with a title and a date line above the header (row 3), and possibly a trailer
``Summa: N`` after the data. Ersättning is AF's own code; the försörjning it stands for is added from
the code list's mapping (none for INGEN).
"""

from __future__ import annotations

import pandas as pd

from finsam import identity, reference
from sources import parsing, specs
from sources.base import Conformed, Delivery, IssueLog, split_by_issues

SPEC = specs.AF

_SHEET = "Uttag"
_HEADER_ROW = 3
_TRAILER = r"(?i)summa\s*:.*"
_NO_SUPPORT = "INGEN"
_DATE = "datum ÅÅÅÅ-MM-DD"
_OUTPUT = ("row_number", "pnr", "id_kind", "birth_date", "kon", "inskriven_fran", "inskriven_till",
           "sokandekategori", "ersattning", "forsorjning", "ersattning_fran", "ersattning_till")


def read(delivery: Delivery) -> pd.DataFrame:
    frame = parsing.read_sheet(delivery.path, SPEC, sheet=_SHEET, header_row=_HEADER_ROW)
    return _without_trailer(frame)


def _without_trailer(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop a last row ``Summa: N``: a count the export adds, not a record (empty rows are gone)."""
    if frame.empty:
        return frame
    last = frame.iloc[-1].drop("row_number")
    if last.dropna().astype(str).str.fullmatch(_TRAILER).any():
        return frame.iloc[:-1].reset_index(drop=True)
    return frame


def conform(raw: pd.DataFrame, delivery: Delivery) -> Conformed:
    log = IssueLog(raw, SPEC, delivery.file_name)
    ids = identity.normalise(raw["personnummer"], delivery.extraction_date)
    log.check_identity(ids)
    ersattning, forsorjning = _ersattning(raw, log)
    dates = _dates(raw, ersattning, log)

    typed = pd.DataFrame({
        "row_number": raw["row_number"].astype("int64"),
        "pnr": ids["pnr"],
        "id_kind": ids["id_kind"],
        "birth_date": ids["birth_date"],
        "kon": ids["kon"],
        "sokandekategori": _sokandekategori(raw, log),
        "ersattning": ersattning,
        "forsorjning": forsorjning,
        **dates,
    }, index=raw.index)
    return split_by_issues(typed[list(_OUTPUT)], log.frame())


def _ersattning(raw: pd.DataFrame, log: IssueLog) -> tuple[pd.Series, pd.Series]:
    """(Ersättning code, the försörjning it maps to; empty for INGEN)."""
    codes, bad = parsing.parse_codes(raw["ersattning"], "af_stod")
    log.add("ersattning", raw["ersattning"].isna(), "värde saknas", parsing.describe_codes("af_stod"))
    log.add("ersattning", bad, "okänd kod", parsing.describe_codes("af_stod"))
    forsorjning = codes.map(reference.mapping("af_stod", "forsorjning")).astype("string")
    return codes, forsorjning.mask(forsorjning == "")


def _sokandekategori(raw: pd.DataFrame, log: IssueLog) -> pd.Series:
    text = raw["sokandekategori"]
    # An Excel number cell loses a leading zero (04 -> 4); the category is always two digits.
    kategori = text.mask(text.str.fullmatch(r"\d").fillna(False).astype(bool), "0" + text)
    bad = kategori.notna() & ~kategori.str.fullmatch(r"\d{2}").fillna(False).astype(bool)
    log.add("sokandekategori", bad, "ogiltig sökandekategori", "två siffror, t.ex. 11")
    return kategori.mask(bad)


def _dates(raw: pd.DataFrame, ersattning: pd.Series, log: IssueLog) -> dict[str, pd.Series]:
    parsed: dict[str, pd.Series] = {}
    for name in ("inskriven_fran", "inskriven_till", "ersattning_fran", "ersattning_till"):
        parsed[name], bad = parsing.parse_dates(raw[name])
        log.add(name, bad, "ogiltigt datum", _DATE)
    log.add("inskriven_fran", raw["inskriven_fran"].isna(), "värde saknas", _DATE)
    with_support = (ersattning != _NO_SUPPORT).fillna(True).astype(bool)
    log.add("ersattning_fran", with_support & raw["ersattning_fran"].isna(), "värde saknas",
            "ett datum när Ersättning inte är INGEN")
    log.add("inskriven_till", parsed["inskriven_till"] < parsed["inskriven_fran"],
            "före inskriven från", "samma dag som Inskriven från eller senare")
    log.add("ersattning_till", parsed["ersattning_till"] < parsed["ersattning_fran"],
            "före ersättning från", "samma dag som Ersättning från eller senare")
    return parsed
