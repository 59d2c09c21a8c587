"""A small, hand-countable set of spells for the SUS statistics tests.

Period 2024-01-01 .. 2024-06-30. The comments say where each spell must (and must not) count.
"""

from __future__ import annotations

import pandas as pd
import pytest

START, END = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-06-30")

COLUMNS = ("insats", "pseudonym", "deidentified_person", "anonym", "skyddad_identitet", "kon",
           "age_at_enrolment", "inskrivningsdatum", "utskrivningsdatum", "avslutsanledning",
           "forsorjning_in", "tid_offentlig_forsorjning", "withdrawn_on")

# name: insats, pseudonym, deidentified, anonym, skyddad, kon, age, in, out, reason, försörjning,
# tid, withdrawn
SPELLS = {
    # new, still enrolled; two försörjning codes
    "s1": ("A", "p1", None, False, False, "K", 25, "2024-02-01", None, None, "AKS,FSB", "2", None),
    # the same person, enrolled before the period, ended ARB in it (10.5 months)
    "s2": ("A", "p1", None, False, False, "K", 24, "2023-03-01", "2024-01-15", "ARB", "SJP", "1",
           None),
    # registered in error: counts nowhere
    "s3": ("A", "p2", None, False, False, "M", 45, "2024-03-10", "2024-05-20", "FEL", "AKA", "3",
           None),
    # anonymous, new: overview only
    "s4": ("A", None, None, True, False, "K", None, "2024-04-01", None, None, None, None, None),
    # protected identity (anonymous too), ended in the period: overview only
    "s5": ("A", None, None, True, True, "M", None, "2023-06-01", "2024-03-01", "OVR", None, None,
           None),
    # withdrew consent: registered out AVB on the withdrawal day, Jan 31 + 12 months exactly
    "s6": ("A", None, "tok1", False, False, "M", 33, "2023-01-31", "2024-01-31", "AVB", "FSB", "4",
           "2024-01-31"),
    # ended on the period's last day after 18.5 months
    "s7": ("A", "p3", None, False, False, "M", 60, "2022-12-15", "2024-06-30", "SJK", "SJE", "8",
           None),
    # enrolled on the period's last day, age outside 16-64
    "s8": ("A", "p4", None, False, False, "K", 70, "2024-06-30", None, None, "ING", "0", None),
    # enrolled on the period's first day (new, not at the start), ended STU
    "s9": ("A", "p5", None, False, False, "K", 16, "2024-01-01", "2024-06-01", "STU", "STS", "0",
           None),
    # ended exactly 12 months after enrolment
    "s10": ("A", "p6", None, False, False, "M", 29, "2023-03-15", "2024-03-15", "REH", "SJP", "1",
            None),
    # ended 12 months and one day after enrolment
    "s11": ("A", "p7", None, False, False, "K", 30, "2023-03-15", "2024-03-16", "FLY", "SJP", "1",
            None),
    # ended the day before the period: counts nowhere
    "s12": ("A", "p8", None, False, False, "K", 40, "2023-01-01", "2023-12-31", "ARB", "SJP", "1",
            None),
    # enrolled the day after the period: counts nowhere
    "s13": ("A", "p9", None, False, False, "M", 41, "2024-07-01", None, None, "SJP", "1", None),
    # p1 again, in another insats: one unique person in "Alla insatser"
    "s14": ("B", "p1", None, False, False, "K", 25, "2024-05-01", None, None, "AKA", "9", None),
}


def spell_frame(rows: dict[str, tuple]) -> pd.DataFrame:
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(COLUMNS))
    for name in ("inskrivningsdatum", "utskrivningsdatum", "withdrawn_on"):
        frame[name] = pd.to_datetime(frame[name])
    frame["age_at_enrolment"] = frame["age_at_enrolment"].astype("Int64")
    frame["anonym"] = frame["anonym"].astype(bool)
    frame["skyddad_identitet"] = frame["skyddad_identitet"].astype(bool)
    return frame


@pytest.fixture
def spells() -> pd.DataFrame:
    return spell_frame(SPELLS)


@pytest.fixture
def make_spells():
    """Build a spell frame from {name: tuple in COLUMNS order}."""
    return spell_frame


@pytest.fixture
def period() -> tuple[pd.Timestamp, pd.Timestamp]:
    return START, END
