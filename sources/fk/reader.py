"""fk: Försäkringskassan's benefit periods (delta; key PERSONNR + FORMAN + FOM).

Windows-1252, ``;``-separated, CRLF, dates ``YYYYMMDD``. FORMAN is FK's own benefit code; the
försörjning it stands for is added from the code list's mapping.
"""

from __future__ import annotations

import pandas as pd

from finsam import identity, reference
from sources import parsing
from sources.base import Conformed, Deliveries, Delivery, split_by_issues
from sources.fk import rules
from sources.fk.spec import SPEC
from validation.rules import with_text

_DATE_FORMAT = "%Y%m%d"
_OUTPUT = ("row_number", "pnr", "id_kind", "birth_date", "kon", "forman", "forsorjning",
           "omfattning", "fom", "tom")


def read(delivery: Delivery) -> pd.DataFrame:
    return parsing.read_delimited(delivery, SPEC, encoding="cp1252", sep=";")


def prepare(raw: pd.DataFrame, delivery: Delivery | Deliveries) -> pd.DataFrame:
    """Raw text (``<name>_text``) beside the parsed values the rules and the warehouse need."""
    ids = identity.normalise(raw["personnummer"], delivery.extraction_date)
    forman, _ = parsing.parse_codes(raw["forman"], "fk_forman")
    omfattning, _ = parsing.parse_amounts(raw["omfattning"])
    return with_text(raw).assign(
        **{name: ids[name] for name in identity.IDENTITY_COLUMNS},
        forman=forman,
        forsorjning=forman.map(reference.mapping("fk_forman", "forsorjning")).astype("string"),
        omfattning=pd.Series(omfattning.to_numpy(dtype="float64", na_value=float("nan")),
                             index=raw.index),
        fom=_parse_dates(raw["fom"]),
        tom=_parse_dates(raw["tom"]),
    )


def conform(raw: pd.DataFrame, delivery: Delivery | Deliveries) -> Conformed:
    prepared = prepare(raw, delivery)
    issues = rules.schema().issues(prepared, file=delivery.file_name)
    return split_by_issues(prepared[list(_OUTPUT)], issues)


def _parse_dates(values: pd.Series) -> pd.Series:
    """``YYYYMMDD`` (ISO tolerated); exactly eight digits, since ``%Y%m%d`` alone would read
    ``2024111`` as some day in January or November."""
    shaped = values.str.fullmatch(r"\d{8}|\d{4}-\d{2}-\d{2}").fillna(False).astype(bool)
    parsed, _ = parsing.parse_dates(values.where(shaped), _DATE_FORMAT)
    return parsed
