"""ekonomi: the general ledger from the accounting system.

Windows-1252, ``;``-separated, decimal comma, minus sign for credits. Each account is mapped to a
kostnadsslag by the BAS ranges of the code list ``kostnadsslag_konton``: the narrowest range that
holds the account wins (6550-6559 BED before OVR 4000-7999). Accounts outside the follow-up are kept,
flagged ``ignored``, so the report can count them.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from finsam import reference
from sources import parsing
from sources.base import Conformed, Deliveries, Delivery, split_by_issues
from sources.ekonomi import rules
from sources.ekonomi.spec import SPEC
from validation.rules import with_text

ADMINISTRATION = "ADM"
IGNORED = "ignored"   # account_class besides the code list's kinds ("cost", "income")

# codes.md: "Accounts 1000-2999 and 8000-8999 are not part of the follow-up and are ignored".
_IGNORED_RANGES = ((1000, 2999), (8000, 8999))

_OUTPUT = ("row_number", "ver_nr", "rad", "bokforingsdatum", "konto", "projekt", "belopp",
           "kostnadsslag", "account_class")


def read(delivery: Delivery) -> pd.DataFrame:
    return parsing.read_delimited(delivery, SPEC, encoding="cp1252", sep=";")


def prepare(raw: pd.DataFrame, delivery: Delivery | Deliveries) -> pd.DataFrame:
    """Raw text (``<name>_text``) beside the parsed values the rules and the warehouse need."""
    konto = _parse_int(raw["konto"], r"\d{4}")
    belopp, _ = parsing.parse_amounts(raw["belopp"])
    mapped = account_mapping().reindex(konto.fillna(-1).to_numpy(dtype="int64")).set_axis(raw.index)
    return with_text(raw).assign(
        ver_nr=raw["ver_nr"],
        rad=_parse_int(raw["rad"], r"\d{1,9}"),
        bokforingsdatum=parsing.parse_dates(raw["bokforingsdatum"])[0],
        konto=konto,
        projekt=raw["projekt"].str.upper().fillna(ADMINISTRATION),
        belopp=belopp,
        kostnadsslag=mapped["kostnadsslag"],
        account_class=mapped["account_class"],
    )


def conform(raw: pd.DataFrame, delivery: Delivery | Deliveries) -> Conformed:
    prepared = prepare(raw, delivery)
    issues = rules.schema().issues(prepared, file=delivery.file_name)
    conformed = split_by_issues(prepared[list(_OUTPUT)], issues)
    # Rows that passed have every required value, so the plain numpy types hold.
    conformed.frame = conformed.frame.astype({"rad": "int64", "konto": "int64", "belopp": "float64"})
    return conformed


@lru_cache(maxsize=1)
def account_mapping() -> pd.DataFrame:
    """Every account 0..9999 -> kostnadsslag and account_class (NA outside the chart).

    Built once from the code list; ranges are applied widest first so a narrower range overwrites
    the catch-all it lies in.
    """
    ranges = reference.code_list("kostnadsslag_konton").copy()
    ranges["first"] = ranges["first_account"].astype(int)
    ranges["last"] = ranges["last_account"].astype(int)
    ranges = ranges.assign(width=ranges["last"] - ranges["first"]).sort_values("width", ascending=False)
    kostnadsslag = np.full(10_000, None, dtype=object)
    account_class = np.full(10_000, None, dtype=object)
    for first, last in _IGNORED_RANGES:
        account_class[first:last + 1] = IGNORED
    for code, first, last, kind in ranges[["code", "first", "last", "kind"]].itertuples(index=False):
        kostnadsslag[first:last + 1] = code
        account_class[first:last + 1] = kind
    return pd.DataFrame({"kostnadsslag": pd.array(kostnadsslag, dtype="string"),
                         "account_class": pd.array(account_class, dtype="string")},
                        index=pd.RangeIndex(10_000, name="konto"))


def _parse_int(values: pd.Series, shape: str) -> pd.Series:
    shaped = values.str.fullmatch(shape).fillna(False)
    return pd.to_numeric(values.where(shaped), errors="coerce").astype("Int64")
