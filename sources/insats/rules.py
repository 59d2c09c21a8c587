"""insats: the participant register, one row per spell; anonymous rows need only Kön and dates."""

from __future__ import annotations

import pandas as pd

from sources import parsing
from sources.base import Deliveries, Delivery, delivery_part
from sources.common_rules import DATE, before, identity_rules, required, unreadable
from sources.insats.spec import SPEC
from validation.issues import WARNING
from validation.rules import Rule, RuleSchema

# column -> code list; the multi-valued columns hold comma-separated försörjning codes.
CODES = {
    "aktualiserande_part": "aktualiserande_part",
    "avslutsanledning": "avslutsanledning",
    "tid_offentlig_forsorjning": "tid_offentlig_forsorjning",
    "utbildningsniva": "utbildningsniva",
}
CODE_SETS = {"forsorjning_in": "forsorjning", "forsorjning_ut": "forsorjning"}
# The contract's yes*: required unless the row is anonymous.
_REQUIRED_UNLESS_ANONYMOUS = ("aktualiserande_part", "forsorjning_in", "tid_offentlig_forsorjning",
                              "utbildningsniva", "kommun")
_EARLIEST = pd.Timestamp("2000-01-01")
_MIN_AGE, _MAX_AGE = 16, 64
_YES_NO = "Ja eller Nej"
_FEL = "FEL"


def schema(delivery: Delivery | Deliveries) -> RuleSchema:
    return SPEC.rule_schema([
        required("anonym", _YES_NO),
        unreadable("anonym", "ogiltigt värde", _YES_NO),
        unreadable("skyddad_identitet", "ogiltigt värde", _YES_NO),
        *identity_rules(required=lambda f: ~f["anonymous"]),
        *_kon_rules(),
        *_date_rules(delivery.extraction_date),
        *_code_rules(),
        unreadable("kommun", "ogiltig kommunkod", "kommunkod med fyra siffror, t.ex. 0980"),
        *_insats_rules(delivery.scope),
        *_discharge_rules(),
        Rule("personnummer", f"ålder utanför {_MIN_AGE}–{_MAX_AGE} år",
             f"{_MIN_AGE}–{_MAX_AGE} år vid inskrivningen",
             lambda f: (f["age_at_enrolment"] < _MIN_AGE) | (f["age_at_enrolment"] > _MAX_AGE),
             severity=WARNING, found=lambda f: f["age_at_enrolment"].astype("string") + " år"),
        Rule("inskrivningsdatum", "överlappande inskrivningar",
             "högst en inskrivning åt gången per person och insats", _overlapping,
             found=lambda f: (f["inskrivningsdatum_text"] + " – "
                              + f["utskrivningsdatum_text"].fillna("pågående"))),
    ])


def _kon_rules() -> list[Rule]:
    """Kön as stated (``kon_angivet``) against the number's (``kon``)."""
    def needed(f: pd.DataFrame) -> pd.Series:
        # Protected identity without Anonym = Ja only needs Kön when the number cannot give it.
        return f["anonym"].fillna(False) | (f["anonymous"] & f["kon"].isna())

    return [
        Rule("kon_angivet", "värde saknas", "K eller M när deltagaren är anonym",
             lambda f: needed(f) & f["kon_angivet_text"].isna()),
        unreadable("kon_angivet", "okänd kod", parsing.describe_codes("kon")),
        Rule("kon_angivet", "stämmer inte med personnumret", "samma kön som personnumret anger",
             lambda f: (f["kon_angivet"].notna() & f["kon"].notna()
                        & (f["kon_angivet"] != f["kon"]))),
    ]


def _at(value: object, frame: pd.DataFrame) -> object:
    """One delivery's value as it is; several deliveries' per-row values for these rows."""
    return value.reindex(frame.index) if isinstance(value, pd.Series) else value


def _date_rules(extraction: object) -> list[Rule]:
    latest = (pd.to_datetime(extraction) if isinstance(extraction, pd.Series)
              else pd.Timestamp(extraction))

    def expected(f: pd.DataFrame) -> pd.Series:
        dates = pd.Series(_at(latest, f), index=f.index)
        return "senast uttagsdatumet " + dates.dt.strftime("%Y-%m-%d")

    return [
        required("inskrivningsdatum", DATE),
        unreadable("inskrivningsdatum", "ogiltigt datum", DATE),
        Rule("inskrivningsdatum", "före 2000-01-01", "2000-01-01 eller senare",
             lambda f: f["inskrivningsdatum"] < _EARLIEST),
        Rule("inskrivningsdatum", "efter uttagsdatum", expected,
             lambda f: f["inskrivningsdatum"] > _at(latest, f)),
        unreadable("utskrivningsdatum", "ogiltigt datum", DATE),
        before("utskrivningsdatum", "inskrivningsdatum", "före inskrivningsdatum",
               "samma dag som Inskrivningsdatum eller senare"),
        Rule("utskrivningsdatum", "efter uttagsdatum", expected,
             lambda f: f["utskrivningsdatum"] > _at(latest, f)),
    ]


def _code_rules() -> list[Rule]:
    return [
        *(unreadable(name, "okänd kod", parsing.describe_codes(code_list))
          for name, code_list in CODES.items()),
        *(unreadable(name, "okänd kod eller otillåten kombination",
                     parsing.describe_codes(code_list, multi=True))
          for name, code_list in CODE_SETS.items()),
        *(_required_unless_anonymous(name) for name in _REQUIRED_UNLESS_ANONYMOUS),
    ]


def _required_unless_anonymous(column: str) -> Rule:
    return Rule(column, "värde saknas", "ett värde när deltagaren inte är anonym",
                lambda f: ~f["anonymous"] & f[column + "_text"].isna())


def _insats_rules(scope: object) -> list[Rule]:
    """The insats code against the one in the file name (a file without one is not compared)."""
    rules = [required("insats", "insatsens kod")]
    if isinstance(scope, pd.Series) or scope:
        named = scope.astype("string") if isinstance(scope, pd.Series) else scope
        folded = named.str.casefold() if isinstance(named, pd.Series) else named.casefold()
        rules.append(Rule("insats", "annan insats än i filnamnet",
                          lambda f: pd.Series(_at(named, f), index=f.index, dtype="string")
                          + " (insatsen i filnamnet)",
                          lambda f: (f["insats_text"].notna()
                                     & (f["insats_text"].str.casefold() != _at(folded, f)))))
    return rules


def _discharge_rules() -> list[Rule]:
    def discharged(f: pd.DataFrame) -> pd.Series:
        return f["utskrivningsdatum_text"].notna()

    def not_fel(f: pd.DataFrame) -> pd.Series:
        # A spell registered in error (FEL) has no income situation at discharge to report.
        return (f["avslutsanledning"] != _FEL).fillna(True).astype(bool)

    return [
        Rule("avslutsanledning", "värde saknas",
             "en avslutsanledning när Utskrivningsdatum är ifyllt",
             lambda f: discharged(f) & f["avslutsanledning_text"].isna()),
        Rule("avslutsanledning", "avslutsanledning utan utskrivningsdatum",
             "tomt när Utskrivningsdatum saknas",
             lambda f: ~discharged(f) & f["avslutsanledning_text"].notna()),
        Rule("forsorjning_ut", "värde saknas",
             "en eller flera försörjningskoder när deltagaren är utskriven (utom vid FEL)",
             lambda f: discharged(f) & not_fel(f) & f["forsorjning_ut_text"].isna()),
    ]


def _overlapping(frame: pd.DataFrame) -> pd.Series:
    """Two spells of one person in one insats may not share a day; both rows fail.

    Spells ended as FEL (registered in error) are left out: a corrected registration overlaps them.
    """
    spells = pd.DataFrame({
        # deliveries validated together are compared within their own file only
        "part": delivery_part(frame["row_number"]),
        "insats": frame["insats"],
        "pnr": frame["pnr"],
        "start": frame["inskrivningsdatum"],
        "end": frame["utskrivningsdatum"],
        "open": frame["utskrivningsdatum_text"].isna(),
        "fel": (frame["avslutsanledning"] == _FEL).fillna(False).astype(bool),
    }, index=frame.index)
    usable = (spells[["insats", "pnr", "start"]].notna().all(axis=1)
              & (spells["open"] | spells["end"].notna()) & ~spells["fel"])
    spells = spells.loc[usable].rename_axis("row").reset_index()
    pairs = spells.merge(spells, on=["part", "insats", "pnr"], suffixes=("", "_other"))
    pairs = pairs.loc[pairs["row"] != pairs["row_other"]]
    # Inclusive days: an open spell runs on, so it meets every later start.
    meets_other = pairs["open_other"] | (pairs["start"] <= pairs["end_other"])
    other_meets = pairs["open"] | (pairs["start_other"] <= pairs["end"])
    overlapping = pairs.loc[meets_other & other_meets, "row"]
    return pd.Series(frame.index.isin(overlapping), index=frame.index)
