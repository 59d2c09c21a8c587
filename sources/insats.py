"""insats: the participant register the insats team keeps, one row per spell (snapshot per insats).

An Excel sheet ``Deltagare`` or the same columns as ``;``-separated UTF-8 (BOM optional). An anonymous
row (Anonym = Ja, or protected identity) counts only by Kön and Inskrivningsdatum; its identity number
is not kept, so it can never be linked to another source.
"""

from __future__ import annotations

import pandas as pd

from finsam import identity
from finsam.errors import DeliveryRejected
from sources import parsing, specs
from sources.base import Conformed, Delivery, IssueLog, split_by_issues
from validation.issues import WARNING

SPEC = specs.INSATS

_SHEET = "Deltagare"
_EARLIEST = pd.Timestamp("2000-01-01")
_MIN_AGE, _MAX_AGE = 16, 64
_DATE = "datum ÅÅÅÅ-MM-DD"
_YES_NO = "Ja eller Nej"
_FEL = "FEL"

# column -> code list; the multi-valued columns hold comma-separated försörjning codes.
_CODES = {
    "aktualiserande_part": "aktualiserande_part",
    "avslutsanledning": "avslutsanledning",
    "tid_offentlig_forsorjning": "tid_offentlig_forsorjning",
    "utbildningsniva": "utbildningsniva",
}
_CODE_SETS = {"forsorjning_in": "forsorjning", "forsorjning_ut": "forsorjning"}
# The contract's yes*: required unless the row is anonymous.
_REQUIRED_UNLESS_ANONYMOUS = ("aktualiserande_part", "forsorjning_in", "tid_offentlig_forsorjning",
                              "utbildningsniva", "kommun")

_OUTPUT = (
    "row_number", "insats", "pnr", "id_kind", "birth_date", "kon", "anonym", "skyddad_identitet",
    "aktualiserande_part", "inskrivningsdatum", "utskrivningsdatum", "avslutsanledning",
    "forsorjning_in", "forsorjning_ut", "tid_offentlig_forsorjning", "utbildningsniva", "kommun",
)


def read(delivery: Delivery) -> pd.DataFrame:
    suffix = delivery.path.suffix.casefold()
    if suffix == ".xlsx":
        return parsing.read_sheet(delivery.path, SPEC, sheet=_SHEET, header_row=1)
    if suffix == ".csv":
        # utf-8-sig reads the file with or without the BOM Excel tends to add.
        return parsing.read_delimited(delivery.path, SPEC, encoding="utf-8-sig", sep=";")
    raise DeliveryRejected(SPEC.name, delivery.file_name, "expected an .xlsx or a .csv file")


def conform(raw: pd.DataFrame, delivery: Delivery) -> Conformed:
    log = IssueLog(raw, SPEC, delivery.file_name)
    ids = identity.normalise(raw["personnummer"], delivery.extraction_date)
    stated_anonym, skyddad = _anonymity(raw, log)
    anonym = stated_anonym | skyddad
    log.check_identity(ids, required=~anonym)
    kon = _kon(raw, ids, stated_anonym, anonym, log)
    dates = _dates(raw, delivery, log)
    codes = _codes(raw, anonym, log)
    kommun = _kommun(raw, log)
    _check_insats(raw, delivery, log)
    _check_discharge(raw, codes, log)
    _check_age(ids, dates, log)
    _check_overlaps(raw, ids, dates, codes, log)

    typed = pd.DataFrame({
        "row_number": raw["row_number"].astype("int64"),
        "insats": raw["insats"].str.upper(),
        # Anonymous rows keep no identity: protected identity must never be linked.
        "pnr": ids["pnr"].mask(anonym),
        "id_kind": ids["id_kind"].mask(anonym, identity.MISSING),
        "birth_date": ids["birth_date"].mask(anonym),
        "kon": kon,
        "anonym": anonym,
        "skyddad_identitet": skyddad,
        "kommun": kommun,
        **dates,
        **codes,
    }, index=raw.index)
    return split_by_issues(typed[list(_OUTPUT)], log.frame())


def _anonymity(raw: pd.DataFrame, log: IssueLog) -> tuple[pd.Series, pd.Series]:
    """(Anonym as stated, Skyddad identitet); both plain bools, unreadable values count as Nej."""
    stated, stated_bad = parsing.parse_yes_no(raw["anonym"])
    log.add("anonym", raw["anonym"].isna(), "värde saknas", _YES_NO)
    log.add("anonym", stated_bad, "ogiltigt värde", _YES_NO)
    skyddad, skyddad_bad = parsing.parse_yes_no(raw["skyddad_identitet"])
    log.add("skyddad_identitet", skyddad_bad, "ogiltigt värde", _YES_NO)
    return stated.fillna(False).astype(bool), skyddad.fillna(False).astype(bool)


def _kon(raw: pd.DataFrame, ids: pd.DataFrame, stated_anonym: pd.Series, anonym: pd.Series,
         log: IssueLog) -> pd.Series:
    """Kön from the identity number where there is one, else as stated."""
    stated, bad = parsing.parse_codes(raw["kon_angivet"], "kon")
    # Protected identity without Anonym = Ja only needs Kön when the number cannot give it.
    needed = stated_anonym | (anonym & ids["kon"].isna())
    log.add("kon_angivet", needed & raw["kon_angivet"].isna(), "värde saknas",
            "K eller M när deltagaren är anonym")
    log.add("kon_angivet", bad, "okänd kod", parsing.describe_codes("kon"))
    disagrees = stated.notna() & ids["kon"].notna() & (stated != ids["kon"])
    log.add("kon_angivet", disagrees, "stämmer inte med personnumret",
            "samma kön som personnumret anger")
    return ids["kon"].fillna(stated).astype("string")


def _dates(raw: pd.DataFrame, delivery: Delivery, log: IssueLog) -> dict[str, pd.Series]:
    extraction = pd.Timestamp(delivery.extraction_date)
    latest = f"senast uttagsdatumet {extraction:%Y-%m-%d}"
    start, start_bad = parsing.parse_dates(raw["inskrivningsdatum"])
    end, end_bad = parsing.parse_dates(raw["utskrivningsdatum"])
    log.add("inskrivningsdatum", raw["inskrivningsdatum"].isna(), "värde saknas", _DATE)
    log.add("inskrivningsdatum", start_bad, "ogiltigt datum", _DATE)
    log.add("inskrivningsdatum", start < _EARLIEST, "före 2000-01-01", "2000-01-01 eller senare")
    log.add("inskrivningsdatum", start > extraction, "efter uttagsdatum", latest)
    log.add("utskrivningsdatum", end_bad, "ogiltigt datum", _DATE)
    log.add("utskrivningsdatum", end < start, "före inskrivningsdatum",
            "samma dag som Inskrivningsdatum eller senare")
    log.add("utskrivningsdatum", end > extraction, "efter uttagsdatum", latest)
    return {"inskrivningsdatum": start, "utskrivningsdatum": end}


def _codes(raw: pd.DataFrame, anonym: pd.Series, log: IssueLog) -> dict[str, pd.Series]:
    parsed: dict[str, pd.Series] = {}
    for name, code_list in _CODES.items():
        parsed[name], bad = parsing.parse_codes(raw[name], code_list)
        log.add(name, bad, "okänd kod", parsing.describe_codes(code_list))
    for name, code_list in _CODE_SETS.items():
        parsed[name], bad = parsing.parse_code_sets(raw[name], code_list)
        log.add(name, bad, "okänd kod eller otillåten kombination",
                parsing.describe_codes(code_list, multi=True))
    for name in _REQUIRED_UNLESS_ANONYMOUS:
        log.add(name, ~anonym & raw[name].isna(), "värde saknas",
                "ett värde när deltagaren inte är anonym")
    return parsed


def _kommun(raw: pd.DataFrame, log: IssueLog) -> pd.Series:
    text = raw["kommun"]
    # An Excel number cell loses the leading zero (0980 -> 980); a 3-digit code can only mean that.
    three_digits = text.str.fullmatch(r"\d{3}").fillna(False).astype(bool)
    kommun = text.mask(three_digits, "0" + text)
    bad = kommun.notna() & ~kommun.str.fullmatch(r"\d{4}").fillna(False).astype(bool)
    log.add("kommun", bad, "ogiltig kommunkod", "kommunkod med fyra siffror, t.ex. 0980")
    return kommun.mask(bad)


def _check_insats(raw: pd.DataFrame, delivery: Delivery, log: IssueLog) -> None:
    log.add("insats", raw["insats"].isna(), "värde saknas", "insatsens kod")
    if delivery.scope:
        other = raw["insats"].notna() & (raw["insats"].str.casefold() != delivery.scope.casefold())
        log.add("insats", other, "annan insats än i filnamnet",
                f"{delivery.scope} (insatsen i filnamnet)")


def _check_discharge(raw: pd.DataFrame, codes: dict[str, pd.Series], log: IssueLog) -> None:
    discharged = raw["utskrivningsdatum"].notna()
    reason = raw["avslutsanledning"]
    log.add("avslutsanledning", discharged & reason.isna(), "värde saknas",
            "en avslutsanledning när Utskrivningsdatum är ifyllt")
    log.add("avslutsanledning", ~discharged & reason.notna(),
            "avslutsanledning utan utskrivningsdatum", "tomt när Utskrivningsdatum saknas")
    # A spell registered in error (FEL) has no income situation at discharge to report.
    not_fel = (codes["avslutsanledning"] != _FEL).fillna(True).astype(bool)
    log.add("forsorjning_ut", discharged & not_fel & raw["forsorjning_ut"].isna(), "värde saknas",
            "en eller flera försörjningskoder när deltagaren är utskriven (utom vid FEL)")


def _check_age(ids: pd.DataFrame, dates: dict[str, pd.Series], log: IssueLog) -> None:
    """Age at enrolment outside 16-64: a warning, the steward may accept the row."""
    birth, start = ids["birth_date"], dates["inskrivningsdatum"]
    before_birthday = (start.dt.month * 100 + start.dt.day) < (birth.dt.month * 100 + birth.dt.day)
    age = (start.dt.year - birth.dt.year - before_birthday.astype(int)).astype("Int64")
    outside = (age < _MIN_AGE) | (age > _MAX_AGE)
    log.add("personnummer", outside, f"ålder utanför {_MIN_AGE}–{_MAX_AGE} år",
            f"{_MIN_AGE}–{_MAX_AGE} år vid inskrivningen", found=age.astype("string") + " år",
            severity=WARNING)


def _check_overlaps(raw: pd.DataFrame, ids: pd.DataFrame, dates: dict[str, pd.Series],
                    codes: dict[str, pd.Series], log: IssueLog) -> None:
    """Two spells of one person in one insats may not share a day; both rows fail.

    Spells ended as FEL (registered in error) are left out: a corrected registration overlaps them.
    """
    spells = pd.DataFrame({
        "insats": raw["insats"].str.upper(),
        "pnr": ids["pnr"],
        "start": dates["inskrivningsdatum"],
        "end": dates["utskrivningsdatum"],
        "open": raw["utskrivningsdatum"].isna(),
        "fel": (codes["avslutsanledning"] == _FEL).fillna(False).astype(bool),
    }, index=raw.index)
    usable = (spells[["insats", "pnr", "start"]].notna().all(axis=1)
              & (spells["open"] | spells["end"].notna()) & ~spells["fel"])
    spells = spells.loc[usable].rename_axis("row").reset_index()
    pairs = spells.merge(spells, on=["insats", "pnr"], suffixes=("", "_other"))
    pairs = pairs.loc[pairs["row"] != pairs["row_other"]]
    # Inclusive days: an open spell runs on, so it meets every later start.
    meets_other = pairs["open_other"] | (pairs["start"] <= pairs["end_other"])
    other_meets = pairs["open"] | (pairs["start_other"] <= pairs["end"])
    overlapping = raw.index.isin(pairs.loc[meets_other & other_meets, "row"])
    found = (raw["inskrivningsdatum"] + " – " + raw["utskrivningsdatum"].fillna("pågående"))
    log.add("inskrivningsdatum", pd.Series(overlapping, index=raw.index), "överlappande inskrivningar",
            "högst en inskrivning åt gången per person och insats", found=found)
