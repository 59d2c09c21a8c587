"""Consent reconciliation: which partner records may be combined, and who goes the anonymous SUS path.

A consent is in force from ``samtycke_fran`` through ``giltigt_till`` (inclusive) and until the day
before ``aterkallat``. A partner record may be used when a consent for that person, naming that
partner, is in force during the record's time: the day of a contact, the month of a payment, or
some day of a benefit period (periods are kept whole: they describe the person's situation, and
a period that overlaps the consent is information the participant agreed to share).

Every source that holds data about people declares one of the two consent rules below; the source
registry refuses a personal source that declares none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class RecordTime:
    """Where a record's time is found: a day (``start``), a period (``start``..``end``, an empty end
    running on), or a month (``start`` holds ``YYYY-MM`` and the record covers the whole month)."""

    start: str
    end: str | None = None
    month: bool = False

    def columns(self) -> tuple[str, ...]:
        return (self.start,) if self.end is None else (self.start, self.end)

    def interval(self, frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        """The record's time as a closed interval [start, end]; an open end runs on indefinitely."""
        if self.month:
            start = pd.to_datetime(frame[self.start] + "-01", format="%Y-%m-%d")
            return start, start + pd.offsets.MonthEnd(0)
        start = pd.to_datetime(frame[self.start])
        end = start if self.end is None else pd.to_datetime(frame[self.end])
        return start, end


@dataclass(frozen=True)
class PartnerConsent:
    """A partner's records: stored only under a consent naming ``partner`` in force at their time."""

    partner: str
    time: RecordTime


@dataclass(frozen=True)
class OwnRecord:
    """The förbund's own register about its participants (or their consents): its legal basis is
    the participation itself, stated in ``reason``; no partner consent is asked of each record."""

    reason: str


ConsentRule = PartnerConsent | OwnRecord


def in_force_until(consents: pd.DataFrame) -> pd.Series:
    """Last day each consent is in force (NaT = open-ended)."""
    withdrawn_eve = consents["aterkallat"] - pd.Timedelta(days=1)
    return pd.concat([consents["giltigt_till"], withdrawn_eve], axis=1).min(axis=1)


def naming(parter: pd.Series, partner: str) -> pd.Series:
    """Per consent: does its list of partners name ``partner``? Decided once per distinct list (a
    register of thousands of consents repeats a handful of lists), spread back by its code."""
    codes, lists = pd.factorize(parter)
    named = pd.Series(lists, dtype=parter.dtype).str.contains(rf"(?:^|,){partner}(?:,|$)",
                                                             regex=True)
    table = np.append(named.fillna(False).to_numpy(dtype=bool), False)
    return pd.Series(table[codes], index=parter.index)


def consented(frame: pd.DataFrame, rule: PartnerConsent, consents: pd.DataFrame, *,
              known_on: pd.Series | None = None) -> pd.Series:
    """Boolean per row of ``frame`` (indexed like it): may this partner record be used?

    ``known_on`` (per row, the day the partner extracted the record) ends an open or later period
    there: a consent given after the data was shared does not cover what was shared."""
    if frame.empty:
        return pd.Series(False, index=frame.index, dtype=bool)
    partner = rule.partner
    start, end = rule.time.interval(frame)
    if known_on is not None:
        known = pd.to_datetime(known_on)
        end = end.where(end.notna() & (end <= known), known)
    records = pd.DataFrame({"pseudonym": frame["pseudonym"], "start": start, "end": end,
                            "row": frame.index})
    names_partner = naming(consents["parter"], partner)
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
