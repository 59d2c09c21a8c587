"""Consent reconciliation: which partner records may be combined, and who goes the anonymous SUS path.

A consent is in force from ``samtycke_fran`` through ``giltigt_till`` (inclusive) and until the day
before ``aterkallat``. A partner record may be used when a consent for that person, naming that
partner, is in force during the record's time: the day of a contact, the month of a payment, or
some day of a benefit period (periods are kept whole: they describe the person's situation, and
a period that overlaps the consent is information the participant agreed to share).
"""

from __future__ import annotations

import pandas as pd

#: the record's time per partner source: (start column, end column or None for a point in time)
RECORD_TIME: dict[str, tuple[str, str | None]] = {
    "fk": ("fom", "tom"),
    "af": ("inskriven_fran", "inskriven_till"),
    "soc": ("month_start", "month_end"),
    "hsf": ("kontaktdatum", None),
}

#: which partner code a source's records belong to
PARTNER_OF_SOURCE = {"fk": "FK", "af": "AF", "soc": "SOC", "hsf": "HSF"}


def in_force_until(consents: pd.DataFrame) -> pd.Series:
    """Last day each consent is in force (NaT = open-ended)."""
    withdrawn_eve = consents["aterkallat"] - pd.Timedelta(days=1)
    return pd.concat([consents["giltigt_till"], withdrawn_eve], axis=1).min(axis=1)


def record_interval(frame: pd.DataFrame, source: str) -> tuple[pd.Series, pd.Series]:
    """The record's time as a closed interval [start, end]; an open end runs on indefinitely."""
    if source == "soc":
        start = pd.to_datetime(frame["manad"] + "-01", format="%Y-%m-%d")
        return start, start + pd.offsets.MonthEnd(0)
    start_column, end_column = RECORD_TIME[source]
    start = pd.to_datetime(frame[start_column])
    end = start if end_column is None else pd.to_datetime(frame[end_column])
    return start, end


def consented(frame: pd.DataFrame, source: str, consents: pd.DataFrame) -> pd.Series:
    """Boolean per row of ``frame`` (indexed like it): may this partner record be used?"""
    if frame.empty:
        return pd.Series(False, index=frame.index, dtype=bool)
    partner = PARTNER_OF_SOURCE[source]
    start, end = record_interval(frame, source)
    records = pd.DataFrame({"pseudonym": frame["pseudonym"], "start": start, "end": end,
                            "row": frame.index})
    names_partner = consents["parter"].str.contains(rf"(?:^|,){partner}(?:,|$)", regex=True)
    usable = consents.loc[names_partner, ["pseudonym", "samtycke_fran"]].assign(
        until=in_force_until(consents.loc[names_partner]))
    pairs = records.merge(usable, on="pseudonym", how="inner")
    far_future = pd.Timestamp.max.normalize()
    overlaps = ((pairs["end"].fillna(far_future) >= pairs["samtycke_fran"])
                & (pairs["start"] <= pairs["until"].fillna(far_future))
                & (pairs["until"].isna() | (pairs["until"] >= pairs["samtycke_fran"])))
    allowed_rows = pd.Index(pairs.loc[overlaps, "row"].unique())
    return pd.Series(frame.index.isin(allowed_rows), index=frame.index)


def sus_consent_on(spells: pd.DataFrame, consents: pd.DataFrame) -> pd.Series:
    """Per spell: was a SUS consent for that person and insats in force on the enrolment day?"""
    if spells.empty:
        return pd.Series(False, index=spells.index, dtype=bool)
    sus = consents.loc[consents["sus"].astype(bool), ["pseudonym", "insats", "samtycke_fran"]].assign(
        until=in_force_until(consents.loc[consents["sus"].astype(bool)]))
    keyed = spells[["pseudonym", "insats", "inskrivningsdatum"]].assign(row=spells.index)
    pairs = keyed.dropna(subset=["pseudonym"]).merge(sus, on=["pseudonym", "insats"], how="inner")
    day = pd.to_datetime(pairs["inskrivningsdatum"])
    in_force = (day >= pairs["samtycke_fran"]) & (pairs["until"].isna() | (day <= pairs["until"]))
    return pd.Series(spells.index.isin(pairs.loc[in_force, "row"].unique()), index=spells.index)


PERSONAL = "personuppgifter"
ANONYMOUS = "anonym"
WITHDRAWN = "återkallat"


def sus_path(spells: pd.DataFrame, consents: pd.DataFrame) -> pd.Series:
    """How each spell is registered in SUS.

    ``återkallat``: consent withdrawn; registered out, never re-registered as anonymous.
    ``personuppgifter``: not anonymous, not protected, and SUS consent in force on the enrolment day.
    ``anonym``: everything else (Anonym = Ja, protected identity, no SUS consent).
    """
    personal = (~spells["anonym"].astype(bool) & ~spells["skyddad_identitet"].astype(bool)
                & sus_consent_on(spells, consents))
    path = pd.Series(ANONYMOUS, index=spells.index, dtype="string").mask(personal, PERSONAL)
    return path.mask(spells["withdrawn_on"].notna(), WITHDRAWN)
