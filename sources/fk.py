"""fk: Försäkringskassan's benefit periods (delta; key PERSONNR + FORMAN + FOM).

Windows-1252, ``;``-separated, CRLF, dates ``YYYYMMDD``. FORMAN is FK's own benefit code; the
försörjning it stands for is added from the code list's mapping.
"""

from __future__ import annotations

import pandas as pd

from finsam import identity, reference
from sources import parsing, specs
from sources.base import Conformed, Delivery, IssueLog, split_by_issues

SPEC = specs.FK

_DATE = "datum ÅÅÅÅMMDD"
_DATE_FORMAT = "%Y%m%d"
_OMFATTNING = (25.0, 50.0, 75.0, 100.0)
_OUTPUT = ("row_number", "pnr", "id_kind", "birth_date", "kon", "forman", "forsorjning",
           "omfattning", "fom", "tom", "kontor")


def read(delivery: Delivery) -> pd.DataFrame:
    return parsing.read_delimited(delivery.path, SPEC, encoding="cp1252", sep=";")


def conform(raw: pd.DataFrame, delivery: Delivery) -> Conformed:
    log = IssueLog(raw, SPEC, delivery.file_name)
    ids = identity.normalise(raw["personnummer"], delivery.extraction_date)
    log.check_identity(ids)
    forman, forman_bad = parsing.parse_codes(raw["forman"], "fk_forman")
    log.add("forman", raw["forman"].isna(), "värde saknas", parsing.describe_codes("fk_forman"))
    log.add("forman", forman_bad, "okänd kod", parsing.describe_codes("fk_forman"))
    omfattning = _omfattning(raw, log)
    fom, tom = _period(raw, log)

    typed = pd.DataFrame({
        "row_number": raw["row_number"].astype("int64"),
        "pnr": ids["pnr"],
        "id_kind": ids["id_kind"],
        "birth_date": ids["birth_date"],
        "kon": ids["kon"],
        "forman": forman,
        "forsorjning": forman.map(reference.mapping("fk_forman", "forsorjning")).astype("string"),
        "omfattning": omfattning,
        "fom": fom,
        "tom": tom,
        "kontor": raw["kontor"].astype("string"),
    }, index=raw.index)
    return split_by_issues(typed[list(_OUTPUT)], log.frame())


def _omfattning(raw: pd.DataFrame, log: IssueLog) -> pd.Series:
    expected = "25, 50, 75 eller 100 (procent)"
    amounts, bad = parsing.parse_amounts(raw["omfattning"])
    log.add("omfattning", raw["omfattning"].isna(), "värde saknas", expected)
    off_scale = amounts.notna() & ~amounts.isin(_OMFATTNING)
    log.add("omfattning", bad | off_scale, "ogiltig omfattning", expected)
    return pd.Series(amounts.to_numpy(dtype="float64", na_value=float("nan")), index=raw.index)


def _period(raw: pd.DataFrame, log: IssueLog) -> tuple[pd.Series, pd.Series]:
    fom, fom_bad = _parse_dates(raw["fom"])
    tom, tom_bad = _parse_dates(raw["tom"])
    log.add("fom", raw["fom"].isna(), "värde saknas", _DATE)
    log.add("fom", fom_bad, "ogiltigt datum", _DATE)
    log.add("tom", tom_bad, "ogiltigt datum", _DATE)
    log.add("tom", tom < fom, "före FOM", "samma dag som FOM eller senare")
    return fom, tom


def _parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``YYYYMMDD`` (ISO tolerated); exactly eight digits, since ``%Y%m%d`` alone would read
    ``2024111`` as some day in January or November."""
    shaped = values.str.fullmatch(r"\d{8}|\d{4}-\d{2}-\d{2}").fillna(False).astype(bool)
    parsed, _ = parsing.parse_dates(values.where(shaped), _DATE_FORMAT)
    return parsed, values.notna() & parsed.isna()
