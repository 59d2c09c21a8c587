"""soc: Socialtjänsten's försörjningsstöd payments, one row per person and month.

UTF-8 with a BOM, ``,``-separated, ``"``-quoted; amounts like ``"4 512,50"``. Identity numbers are
10 digits with ``-`` or ``+`` (100 or older), so the century comes from the extraction date.
"""

from __future__ import annotations

import pandas as pd

from finsam import identity
from sources import parsing, specs
from sources.base import Conformed, Delivery, IssueLog, split_by_issues

SPEC = specs.SOC

_OUTPUT = ("row_number", "pnr", "id_kind", "birth_date", "kon", "manad", "belopp")
_MONTH = "månad ÅÅÅÅ-MM"


def read(delivery: Delivery) -> pd.DataFrame:
    # utf-8-sig strips the BOM the contract promises, and still reads a file that lost it.
    return parsing.read_delimited(delivery.path, SPEC, encoding="utf-8-sig", sep=",")


def conform(raw: pd.DataFrame, delivery: Delivery) -> Conformed:
    ids = identity.normalise(raw["personnummer"], delivery.extraction_date)
    manad, manad_bad = _parse_month(raw["manad"])
    belopp, belopp_bad = parsing.parse_amounts(raw["belopp"])

    log = IssueLog(raw, SPEC, delivery.file_name)
    log.add("personnummer", ids["id_kind"] == identity.MISSING, "värde saknas",
            "personnummer ÅÅMMDD-NNNN")
    _add_identity_problems(log, ids)
    log.add("manad", raw["manad"].isna(), "värde saknas", _MONTH)
    log.add("manad", manad_bad, "ogiltig månad", "en verklig " + _MONTH)
    log.add("belopp", raw["belopp"].isna(), "värde saknas", "belopp i kronor")
    log.add("belopp", belopp_bad, "ogiltigt belopp", "belopp i kronor, t.ex. 4 512,50")
    log.add("belopp", (belopp <= 0).fillna(False), "belopp ska vara positivt", "belopp större än 0")

    typed = pd.DataFrame({
        "row_number": raw["row_number"],
        **{name: ids[name] for name in ("pnr", "id_kind", "birth_date", "kon")},
        "manad": manad,
        "belopp": belopp.astype("float64"),
    }, index=raw.index)
    return split_by_issues(typed[list(_OUTPUT)], log.frame())


def _add_identity_problems(log: IssueLog, ids: pd.DataFrame) -> None:
    """Invalid identity numbers, one rule per kind of problem so the steward's report groups them.

    ``found`` is masked by the log (the identity column never shows a complete number).
    """
    for problem in ids["id_problem"].dropna().unique():
        log.add("personnummer", ids["id_problem"] == problem, "ogiltigt identitetsnummer", str(problem))


def _parse_month(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``YYYY-MM`` naming a real month; kept as text because it is part of the natural key."""
    shaped = values.str.fullmatch(r"\d{4}-\d{2}").fillna(False)
    parsed = pd.to_datetime(values.where(shaped), format="%Y-%m", errors="coerce")
    bad = values.notna() & parsed.isna()
    return parsed.dt.strftime("%Y-%m").astype("string"), bad
