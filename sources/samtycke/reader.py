"""samtycke: the consent register, every consent ever given (snapshot).

``;``-separated UTF-8. A consent is per person and insats, names the partners it covers, and may end
on a date the participant chose (Giltigt till) or by withdrawal (Återkallat).
"""

from __future__ import annotations

import pandas as pd

from finsam import identity
from sources import parsing
from sources.base import Conformed, Delivery, split_by_issues
from sources.samtycke import rules
from sources.samtycke.spec import SPEC
from validation.rules import with_text

_OUTPUT = ("row_number", "pnr", "id_kind", "birth_date", "kon", "insats", "samtycke_fran",
           "giltigt_till", "aterkallat", "parter", "sus")


def read(delivery: Delivery) -> pd.DataFrame:
    # utf-8-sig: a BOM is tolerated, anything that is not UTF-8 is rejected with its line.
    return parsing.read_delimited(delivery, SPEC, encoding="utf-8-sig", sep=";")


def prepare(raw: pd.DataFrame, delivery: Delivery) -> pd.DataFrame:
    """Raw text (``<name>_text``) beside the parsed values the rules and the warehouse need."""
    ids = identity.normalise(raw["personnummer"], delivery.extraction_date)
    parter, _ = parsing.parse_code_sets(raw["parter"], "partner")
    sus, _ = parsing.parse_yes_no(raw["sus"])
    return with_text(raw).assign(
        **{name: ids[name] for name in identity.IDENTITY_COLUMNS},
        insats=raw["insats"].str.upper(),
        samtycke_fran=_parse_date(raw["samtycke_fran"]),
        giltigt_till=_parse_date(raw["giltigt_till"]),
        aterkallat=_parse_date(raw["aterkallat"]),
        parter=parter,
        sus=sus,
    )


def conform(raw: pd.DataFrame, delivery: Delivery) -> Conformed:
    prepared = prepare(raw, delivery)
    issues = rules.schema().issues(prepared, file=delivery.file_name)
    # An empty or unreadable SUS fails its row, so the False it becomes here is never loaded.
    typed = prepared[list(_OUTPUT)].assign(sus=prepared["sus"].fillna(False).astype(bool))
    return split_by_issues(typed, issues)


def _parse_date(values: pd.Series) -> pd.Series:
    parsed, _ = parsing.parse_dates(values)
    return parsed
