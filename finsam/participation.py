"""Who is counted, and how: the one definition of an anonymous participant and the calendar years
in which each participant takes part. The SUS submission, the SUS statistics, Uppföljning Finsam and
the deltagaransvarig's worklist all ask here, so they cannot disagree about who is anonymous.

Pure functions over the warehouse's spell frame (one row per deltagarande) and the consent frame.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from finsam.consent import sus_consent_on

FEL = "FEL"


def _flag(spells: pd.DataFrame, name: str) -> pd.Series:
    return spells[name].astype("boolean").fillna(False).astype(bool)


ANONYMOUS_COLUMN = "registreras_anonymt"


def anonymous(spells: pd.DataFrame, consents: pd.DataFrame | None) -> pd.Series:
    """Per spell: is it registered anonymously?

    Anonymous = Anonym = Ja, protected identity, or no SUS consent in force on the enrolment day.
    A SUS consent given later does not make an anonymous enrolment personal, and withdrawing any
    consent later does not make a personal enrolment anonymous (the participant is registered out
    instead). A de-identified spell (its person erased after withdrawing every consent) has lost
    its consents with the person: the erasure wrote the answer into its ``anonym`` flag, which is
    all that is read for it.

    ``consents`` None: the consents are not looked at (a frame of spells alone, e.g. in a test of
    the tables); everything that reads the warehouse passes them.
    """
    flagged = _flag(spells, "anonym") | _flag(spells, "skyddad_identitet")
    identified = spells["pseudonym"].notna()
    token = (spells["deidentified_person"].notna() if "deidentified_person" in spells
             else pd.Series(False, index=spells.index))
    consent = (pd.Series(True, index=spells.index) if consents is None
               else sus_consent_on(spells, consents))
    return flagged | (identified & ~consent) | (~identified & ~token)


def with_anonymous(spells: pd.DataFrame, consents: pd.DataFrame) -> pd.DataFrame:
    """The spells with :data:`ANONYMOUS_COLUMN` set by :func:`anonymous`: what the statistics
    read, so they count exactly those the submission and Uppföljning Finsam count."""
    return spells.assign(**{ANONYMOUS_COLUMN: anonymous(spells, consents).to_numpy()})


def counted(spells: pd.DataFrame) -> pd.Series:
    """A spell registered in error (Felregistrering) counts nowhere."""
    return ~spells["avslutsanledning"].astype("string").str.upper().eq(FEL).fillna(False)


def last_day(spells: pd.DataFrame) -> pd.Series:
    """The last day of each spell: its exit day, or for an anonymous spell (which keeps only the
    quarter it ended in) the last day of that quarter; NaT while it is open."""
    exit_day = pd.to_datetime(spells["utskrivningsdatum"])
    if "utskrivningskvartal" not in spells:
        return exit_day
    quarter = spells["utskrivningskvartal"].astype("string")
    known = quarter.notna() & exit_day.isna()
    if not known.any():
        return exit_day
    ends = pd.PeriodIndex(quarter[known].to_numpy(), freq="Q").end_time.normalize()
    filled = exit_day.copy()
    filled.loc[known] = ends.to_numpy()
    return filled


def person(spells: pd.DataFrame) -> pd.Series:
    """Who a spell belongs to: the pseudonym, else the token that replaced it at an erasure, else
    the spell itself (an anonymous spell cannot be linked to any other)."""
    own = pd.Series("spell:" + pd.Series(range(len(spells)), index=spells.index).astype(str),
                    index=spells.index)
    token = (spells["deidentified_person"].astype("string") if "deidentified_person" in spells
             else pd.Series(pd.NA, index=spells.index, dtype="string"))
    return ("p:" + spells["pseudonym"].astype("string")).fillna("t:" + token).fillna(own)


def participation_years(spells: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """One row per (spell, calendar year in which it takes part within [start, end]):
    ``spell`` (the spell frame's index label), ``ar`` and ``dag``, the day it is registered for
    that year: its enrolment day in its first year, 1 January in each later one. Felregistrering
    counts nowhere."""
    first, final = pd.Timestamp(start), pd.Timestamp(end)
    begins = pd.to_datetime(spells["inskrivningsdatum"])
    ends = last_day(spells)
    keep = counted(spells) & (begins <= final) & (ends.isna() | (ends >= first))
    begins, ends = begins[keep], ends[keep].fillna(final).clip(upper=final)
    if begins.empty:
        return pd.DataFrame({"spell": pd.Series(dtype=object), "ar": pd.Series(dtype="int64"),
                             "dag": pd.Series(dtype="datetime64[ns]")})
    low = np.maximum(begins.dt.year.to_numpy(), first.year)
    high = ends.dt.year.to_numpy()
    counts = np.maximum(high - low + 1, 0)
    rows = np.repeat(np.arange(len(begins)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    years = low[rows] + offsets
    new_year = pd.to_datetime(pd.Series(years).astype(str) + "-01-01").to_numpy()
    days = np.maximum(begins.to_numpy()[rows], new_year)
    return pd.DataFrame({"spell": begins.index.to_numpy()[rows], "ar": years.astype("int64"),
                         "dag": pd.to_datetime(days)})


def anonymous_registrations(spells: pd.DataFrame, is_anonymous: pd.Series, start: date,
                            end: date) -> pd.DataFrame:
    """The anonymous registrations that fall in [start, end]: each anonymous spell once for every
    calendar year in which it takes part, registered on its enrolment day in its first year and on
    1 January in each later year (so consecutive periods never count one twice). Columns: spell,
    insats, ar, kon, inskrivningsdatum, ny (False: a re-registration for a new year)."""
    anonymous_spells = spells.loc[is_anonymous.reindex(spells.index, fill_value=False)]
    years = participation_years(anonymous_spells, start, end)
    years = years.loc[years["dag"].between(pd.Timestamp(start), pd.Timestamp(end))]
    chosen = anonymous_spells.loc[years["spell"]]
    enrolled = pd.to_datetime(chosen["inskrivningsdatum"])
    return pd.DataFrame({"spell": years["spell"].to_numpy(),
                         "insats": chosen["insats"].to_numpy(),
                         "ar": years["ar"].to_numpy(),
                         "kon": chosen["kon"].to_numpy(),
                         "inskrivningsdatum": enrolled.to_numpy(),
                         "ny": (enrolled.dt.year.to_numpy() == years["ar"].to_numpy())})


def anonymous_counts(registrations: pd.DataFrame) -> pd.DataFrame:
    """insats, ar, kon, antal from :func:`anonymous_registrations`."""
    return (registrations.groupby(["insats", "ar", "kon"]).size().rename("antal").reset_index())


def participants(spells: pd.DataFrame, is_anonymous: pd.Series, start: date,
                 end: date) -> pd.DataFrame:
    """Participants in each insats during [start, end], per kön: insats, kon, antal.

    A person with personal registration counts once per insats, however many spells; anonymous
    participants cannot be linked, so each anonymous spell counts once for every calendar year in
    which it takes part during the period; Felregistrering counts nowhere."""
    years = participation_years(spells, start, end)
    rows = spells.loc[years["spell"]]
    anonymous_rows = is_anonymous.reindex(spells.index, fill_value=False).loc[years["spell"]]
    who = person(spells).loc[years["spell"]].to_numpy()
    # personal: the person, once per insats; anonymous: the spell, once per year
    key = np.where(anonymous_rows.to_numpy(), who + "|" + years["ar"].astype(str).to_numpy(), who)
    frame = pd.DataFrame({"insats": rows["insats"].to_numpy(), "kon": rows["kon"].to_numpy(),
                          "key": key})
    frame = frame.drop_duplicates(["insats", "key"])
    return frame.groupby(["insats", "kon"], dropna=False).size().rename("antal").reset_index()
