"""hsf: Hälso- och sjukvården's rehab contacts.

UTF-8, ``|``-separated, no quoting. DIAGNOSKOD is special-category data: it is not in the spec, so
``read`` never lets it out of the file. Reservnummer rows are kept (pnr NA, id_kind reservnummer)
so the pipeline can count and report them; they are neither failures nor ever linked.
"""

from __future__ import annotations

import csv

import pandas as pd

from finsam import identity
from sources import parsing, specs
from sources.base import Conformed, Delivery, IssueLog, split_by_issues

SPEC = specs.HSF

_OUTPUT = ("row_number", "pnr", "id_kind", "birth_date", "kon", "kontaktdatum", "kontakttyp",
           "sjukskriven_fom", "sjukskriven_tom", "sjukskrivningsgrad")
_GRADES = (25.0, 50.0, 75.0, 100.0)
_DATE = "datum ÅÅÅÅ-MM-DD"
_DATE_TYPE = "datetime64[us]"   # an all-empty date column would otherwise come out in seconds


def read(delivery: Delivery) -> pd.DataFrame:
    return parsing.read_delimited(delivery.path, SPEC, encoding="utf-8", sep="|",
                                  quoting=csv.QUOTE_NONE)


def conform(raw: pd.DataFrame, delivery: Delivery) -> Conformed:
    ids = identity.normalise(raw["personnummer"], delivery.extraction_date, allow_reservnummer=True)
    kontaktdatum, kontaktdatum_bad = parsing.parse_dates(raw["kontaktdatum"])
    kontakttyp, kontakttyp_bad = parsing.parse_codes(raw["kontakttyp"], "hsf_kontakttyp")
    fom, fom_bad = parsing.parse_dates(raw["sjukskriven_fom"])
    tom, tom_bad = parsing.parse_dates(raw["sjukskriven_tom"])
    grad, grad_bad = parsing.parse_amounts(raw["sjukskrivningsgrad"])

    log = IssueLog(raw, SPEC, delivery.file_name)
    log.add("personnummer", ids["id_kind"] == identity.MISSING, "värde saknas",
            "personnummer, samordningsnummer eller reservnummer")
    for problem in ids["id_problem"].dropna().unique():
        # One rule per kind of problem; the log masks found for the identity column.
        log.add("personnummer", ids["id_problem"] == problem, "ogiltigt identitetsnummer", str(problem))
    log.add("kontaktdatum", raw["kontaktdatum"].isna(), "värde saknas", _DATE)
    log.add("kontaktdatum", kontaktdatum_bad, "ogiltigt datum", _DATE)
    contact_types = parsing.describe_codes("hsf_kontakttyp")
    log.add("kontakttyp", raw["kontakttyp"].isna(), "värde saknas", contact_types)
    log.add("kontakttyp", kontakttyp_bad, "okänd kod", contact_types)
    log.add("sjukskriven_fom", fom_bad, "ogiltigt datum", _DATE)
    log.add("sjukskriven_tom", tom_bad, "ogiltigt datum", _DATE)
    log.add("sjukskriven_tom", (tom < fom).fillna(False), "slutdatum före startdatum",
            "datum från och med SJUKSKRIVEN_FOM")
    log.add("sjukskrivningsgrad", grad_bad | (grad.notna() & ~grad.isin(_GRADES)),
            "ogiltig sjukskrivningsgrad", "25, 50, 75 eller 100")

    typed = pd.DataFrame({
        "row_number": raw["row_number"],
        **{name: ids[name] for name in ("pnr", "id_kind", "birth_date", "kon")},
        "kontaktdatum": kontaktdatum.astype(_DATE_TYPE),
        "kontakttyp": kontakttyp,
        "sjukskriven_fom": fom.astype(_DATE_TYPE),
        "sjukskriven_tom": tom.astype(_DATE_TYPE),
        "sjukskrivningsgrad": grad,
    }, index=raw.index)
    return split_by_issues(typed[list(_OUTPUT)], log.frame())
