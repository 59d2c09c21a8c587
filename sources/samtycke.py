"""samtycke: the consent register, every consent ever given (snapshot).

``;``-separated UTF-8. A consent is per person and insats, names the partners it covers, and may end
on a date the participant chose (Giltigt till) or by withdrawal (Återkallat).
"""

from __future__ import annotations

import pandas as pd

from finsam import identity
from sources import parsing, specs
from sources.base import Conformed, Delivery, IssueLog, split_by_issues

SPEC = specs.SAMTYCKE

_DATE = "datum ÅÅÅÅ-MM-DD"
_OUTPUT = ("row_number", "pnr", "id_kind", "birth_date", "kon", "insats", "samtycke_fran",
           "giltigt_till", "aterkallat", "parter", "sus")


def read(delivery: Delivery) -> pd.DataFrame:
    # utf-8-sig: a BOM is tolerated, anything that is not UTF-8 is rejected with its line.
    return parsing.read_delimited(delivery.path, SPEC, encoding="utf-8-sig", sep=";")


def conform(raw: pd.DataFrame, delivery: Delivery) -> Conformed:
    log = IssueLog(raw, SPEC, delivery.file_name)
    ids = identity.normalise(raw["personnummer"], delivery.extraction_date)
    log.check_identity(ids)
    log.add("insats", raw["insats"].isna(), "värde saknas", "insatsens kod")
    dates = _dates(raw, log)
    parter, parter_bad = parsing.parse_code_sets(raw["parter"], "partner")
    partners = parsing.describe_codes("partner", multi=True)
    log.add("parter", raw["parter"].isna(), "värde saknas", partners)
    log.add("parter", parter_bad, "okänd kod", partners)
    sus, sus_bad = parsing.parse_yes_no(raw["sus"])
    log.add("sus", raw["sus"].isna(), "värde saknas", "Ja eller Nej")
    log.add("sus", sus_bad, "ogiltigt värde", "Ja eller Nej")

    typed = pd.DataFrame({
        "row_number": raw["row_number"].astype("int64"),
        "pnr": ids["pnr"],
        "id_kind": ids["id_kind"],
        "birth_date": ids["birth_date"],
        "kon": ids["kon"],
        "insats": raw["insats"].str.upper(),
        "parter": parter,
        "sus": sus.fillna(False).astype(bool),
        **dates,
    }, index=raw.index)
    return split_by_issues(typed[list(_OUTPUT)], log.frame())


def _dates(raw: pd.DataFrame, log: IssueLog) -> dict[str, pd.Series]:
    start, start_bad = parsing.parse_dates(raw["samtycke_fran"])
    log.add("samtycke_fran", raw["samtycke_fran"].isna(), "värde saknas", _DATE)
    log.add("samtycke_fran", start_bad, "ogiltigt datum", _DATE)
    parsed = {"samtycke_fran": start}
    for name in ("giltigt_till", "aterkallat"):
        parsed[name], bad = parsing.parse_dates(raw[name])
        log.add(name, bad, "ogiltigt datum", _DATE)
        log.add(name, parsed[name] < start, "före samtycke från",
                "samma dag som Samtycke från eller senare")
    return parsed
