"""soc: Socialtjänsten's försörjningsstöd payments, one row per person and month.

UTF-8 with a BOM, ``,``-separated, ``"``-quoted; amounts like ``"4 512,50"``. Identity numbers are
10 digits with ``-`` or ``+`` (100 or older), so the century comes from the extraction date.
"""

from __future__ import annotations

import pandas as pd

from finsam import identity
from sources import parsing
from sources.base import Conformed, Deliveries, Delivery, by_distinct, split_by_issues
from sources.soc import rules
from sources.soc.spec import SPEC
from validation.rules import with_text

_OUTPUT = ("row_number", "pnr", "id_kind", "birth_date", "kon", "manad", "belopp")


def read(delivery: Delivery) -> pd.DataFrame:
    # utf-8-sig strips the BOM the contract promises, and still reads a file that lost it.
    return parsing.read_delimited(delivery, SPEC, encoding="utf-8-sig", sep=",")


def prepare(raw: pd.DataFrame, delivery: Delivery | Deliveries) -> pd.DataFrame:
    """Raw text (``<name>_text``) beside the parsed values the rules and the warehouse need."""
    ids = identity.normalise(raw["personnummer"], delivery.extraction_date)
    belopp, _ = parsing.parse_amounts(raw["belopp"])
    return with_text(raw).assign(
        **{name: ids[name] for name in identity.IDENTITY_COLUMNS},
        manad=_parse_month(raw["manad"]),
        belopp=belopp.astype("float64"),
    )


def conform(raw: pd.DataFrame, delivery: Delivery | Deliveries) -> Conformed:
    prepared = prepare(raw, delivery)
    schema = rules.schema(prepared["id_problem"].dropna().unique().tolist())
    issues = schema.issues(prepared, file=delivery.file_name)
    return split_by_issues(prepared[list(_OUTPUT)], issues)


def _parse_month(values: pd.Series) -> pd.Series:
    """``YYYY-MM`` naming a real month; kept as text because it is part of the natural key.
    Parsed once per distinct value: a batch of payments names few months."""
    return by_distinct(values, _parse_distinct_months)


def _parse_distinct_months(values: pd.Series) -> pd.Series:
    shaped = values.str.fullmatch(r"\d{4}-\d{2}").fillna(False)
    parsed = pd.to_datetime(values.where(shaped), format="%Y-%m", errors="coerce")
    return parsed.dt.strftime("%Y-%m").astype("string")
