"""insats: the participant register the insats team keeps, one row per spell (snapshot per insats).

An Excel sheet ``Deltagare`` or the same columns as ``;``-separated UTF-8 (BOM optional). An anonymous
row (Anonym = Ja, or protected identity) counts only by Kön and Inskrivningsdatum; its identity number
is not kept, so it can never be linked to another source.
"""

from __future__ import annotations

import pandas as pd

from finsam import identity
from finsam.errors import DeliveryRejected
from sources import parsing
from sources.base import Conformed, Delivery, split_by_issues
from sources.insats import rules
from sources.insats.spec import SPEC
from validation.rules import with_text

_SHEET = "Deltagare"
_OUTPUT = (
    "row_number", "insats", "pnr", "id_kind", "birth_date", "kon", "anonym", "skyddad_identitet",
    "aktualiserande_part", "inskrivningsdatum", "utskrivningsdatum", "avslutsanledning",
    "forsorjning_in", "forsorjning_ut", "tid_offentlig_forsorjning", "utbildningsniva", "kommun",
    "utskrivningskvartal",
)
# What an anonymous spell (no consent, or protected identity) keeps besides Kön and enrolment day:
# when it ended, to the quarter (the overview's stocks and the per-year counting need no more), and
# that it was a Felregistrering (which counts nowhere). Everything else is the register's, not ours.
_NOT_KEPT_WHEN_ANONYMOUS = ("aktualiserande_part", "forsorjning_in", "forsorjning_ut",
                            "tid_offentlig_forsorjning", "utbildningsniva", "kommun",
                            "utskrivningsdatum")


def read(delivery: Delivery) -> pd.DataFrame:
    suffix = delivery.path.suffix.casefold()
    if suffix == ".xlsx":
        return parsing.read_sheet(delivery, SPEC, sheet=_SHEET, header_row=1)
    if suffix == ".csv":
        # utf-8-sig reads the file with or without the BOM Excel tends to add.
        return parsing.read_delimited(delivery, SPEC, encoding="utf-8-sig", sep=";")
    raise DeliveryRejected(SPEC.name, delivery.file_name, "en .xlsx- eller .csv-fil förväntades")


def prepare(raw: pd.DataFrame, delivery: Delivery) -> pd.DataFrame:
    """Raw text (``<name>_text``) beside the parsed values the rules and the warehouse need.

    The identity columns are what the number says, ``kon_angivet`` the Kön stated; ``anonymous``
    (Anonym = Ja or protected identity) and ``age_at_enrolment`` are derived once for the rules.
    """
    ids = identity.normalise(raw["personnummer"], delivery.extraction_date)
    anonym, _ = parsing.parse_yes_no(raw["anonym"])
    skyddad, _ = parsing.parse_yes_no(raw["skyddad_identitet"])
    inskrivningsdatum = _parse_date(raw["inskrivningsdatum"])
    return with_text(raw).assign(
        **{name: ids[name] for name in identity.IDENTITY_COLUMNS},
        insats=raw["insats"].str.upper(),
        anonym=anonym,
        skyddad_identitet=skyddad,
        anonymous=anonym.fillna(False).astype(bool) | skyddad.fillna(False).astype(bool),
        kon_angivet=parsing.parse_codes(raw["kon_angivet"], "kon")[0],
        inskrivningsdatum=inskrivningsdatum,
        utskrivningsdatum=_parse_date(raw["utskrivningsdatum"]),
        age_at_enrolment=_age(ids["birth_date"], inskrivningsdatum),
        **{name: parsing.parse_codes(raw[name], code_list)[0]
           for name, code_list in rules.CODES.items()},
        **{name: parsing.parse_code_sets(raw[name], code_list)[0]
           for name, code_list in rules.CODE_SETS.items()},
        kommun=_kommun(raw["kommun"]),
    )


def conform(raw: pd.DataFrame, delivery: Delivery) -> Conformed:
    prepared = prepare(raw, delivery)
    issues = rules.schema(delivery).issues(prepared, file=delivery.file_name)
    return split_by_issues(_typed(prepared), issues)


def _typed(prepared: pd.DataFrame) -> pd.DataFrame:
    """The warehouse's columns: Kön from the number where there is one, else as stated; for an
    anonymous row only what the contract allows it to be used for."""
    anonymous = prepared["anonymous"].fillna(False).astype(bool)
    exit_day = prepared["utskrivningsdatum"]
    quarter = exit_day.dt.to_period("Q")
    kvartal = (quarter.dt.year.astype("Int64").astype("string") + "Q"
               + quarter.dt.quarter.astype("Int64").astype("string"))
    minimised = {name: prepared[name].mask(anonymous) for name in _NOT_KEPT_WHEN_ANONYMOUS}
    fel = (prepared["avslutsanledning"] == "FEL").fillna(False).astype(bool)
    return prepared.assign(
        **minimised,
        utskrivningskvartal=kvartal.astype("string").mask(exit_day.isna()),
        avslutsanledning=prepared["avslutsanledning"].mask(anonymous & ~fel),
        # Anonymous rows keep no identity: protected identity must never be linked.
        pnr=prepared["pnr"].mask(anonymous),
        id_kind=prepared["id_kind"].mask(anonymous, identity.MISSING),
        birth_date=prepared["birth_date"].mask(anonymous),
        kon=prepared["kon"].fillna(prepared["kon_angivet"]).astype("string"),
        anonym=anonymous,
        # An unreadable value fails its row; for the rest an empty one means Nej.
        skyddad_identitet=prepared["skyddad_identitet"].fillna(False).astype(bool),
    )[list(_OUTPUT)]


def _parse_date(values: pd.Series) -> pd.Series:
    parsed, _ = parsing.parse_dates(values)
    return parsed


def _age(birth: pd.Series, start: pd.Series) -> pd.Series:
    """Whole years at ``start``."""
    before_birthday = (start.dt.month * 100 + start.dt.day) < (birth.dt.month * 100 + birth.dt.day)
    return (start.dt.year - birth.dt.year - before_birthday.astype(int)).astype("Int64")


def _kommun(text: pd.Series) -> pd.Series:
    """Four digits, or empty when missing or unreadable."""
    # An Excel number cell loses the leading zero (0980 -> 980); a 3-digit code can only mean that.
    three_digits = text.str.fullmatch(r"\d{3}").fillna(False).astype(bool)
    kommun = text.mask(three_digits, "0" + text)
    return kommun.where(kommun.str.fullmatch(r"\d{4}").fillna(False).astype(bool))
