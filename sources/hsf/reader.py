"""hsf: Hälso- och sjukvården's rehab contacts.

UTF-8, ``|``-separated, no quoting. DIAGNOSKOD is special-category data: it is not in the spec, so
``read`` never lets it out of the file. Reservnummer rows are kept (pnr NA, id_kind reservnummer)
so the pipeline can count and report them; they are neither failures nor ever linked.
"""

from __future__ import annotations

import csv

import pandas as pd

from finsam import identity
from sources import parsing
from sources.base import Conformed, Deliveries, Delivery, split_by_issues
from sources.hsf import rules
from sources.hsf.spec import SPEC
from validation.rules import with_text

_OUTPUT = ("row_number", "pnr", "id_kind", "birth_date", "kon", "kontaktdatum", "kontakttyp",
           "sjukskriven_fom", "sjukskriven_tom", "sjukskrivningsgrad")


def read(delivery: Delivery) -> pd.DataFrame:
    return parsing.read_delimited(delivery, SPEC, encoding="utf-8", sep="|",
                                  quoting=csv.QUOTE_NONE)


def prepare(raw: pd.DataFrame, delivery: Delivery | Deliveries) -> pd.DataFrame:
    """Raw text (``<name>_text``) beside the parsed values the rules and the warehouse need."""
    ids = identity.normalise(raw["personnummer"], delivery.extraction_date, allow_reservnummer=True)
    kontakttyp, _ = parsing.parse_codes(raw["kontakttyp"], "hsf_kontakttyp")
    grad, _ = parsing.parse_amounts(raw["sjukskrivningsgrad"])
    return with_text(raw).assign(
        **{name: ids[name] for name in identity.IDENTITY_COLUMNS},
        kontaktdatum=parsing.parse_dates(raw["kontaktdatum"])[0],
        kontakttyp=kontakttyp,
        sjukskriven_fom=parsing.parse_dates(raw["sjukskriven_fom"])[0],
        sjukskriven_tom=parsing.parse_dates(raw["sjukskriven_tom"])[0],
        sjukskrivningsgrad=grad,
    )


def conform(raw: pd.DataFrame, delivery: Delivery | Deliveries) -> Conformed:
    prepared = prepare(raw, delivery)
    schema = rules.schema(prepared["id_problem"].dropna().unique().tolist())
    issues = schema.issues(prepared, file=delivery.file_name)
    return split_by_issues(prepared[list(_OUTPUT)], issues)
