"""Who is counted: anonymous participants per calendar year of participation, persons once per
insats, Felregistrering nowhere; re-registration for a new year. Expected figures by hand."""

from __future__ import annotations

from datetime import date

import pandas as pd

from finsam import participation


def _spells(*rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["pseudonym", "insats", "kon", "inskrivningsdatum",
                                        "utskrivningsdatum", "utskrivningskvartal",
                                        "avslutsanledning", "anonym"])
    for name in ("inskrivningsdatum", "utskrivningsdatum"):
        frame[name] = pd.to_datetime(frame[name])
    return frame.assign(skyddad_identitet=False, deidentified_person=None, withdrawn_on=pd.NaT)


NO_CONSENTS = pd.DataFrame(columns=["pseudonym", "insats", "samtycke_fran", "giltigt_till",
                                    "aterkallat", "parter", "sus"])


def _consents(*people: str) -> pd.DataFrame:
    return pd.DataFrame({"pseudonym": list(people), "insats": "JOBB",
                         "samtycke_fran": pd.Timestamp("2020-01-01"), "giltigt_till": pd.NaT,
                         "aterkallat": pd.NaT, "parter": "AF", "sus": True})


SPELLS = _spells(
    # an anonymous spell from 2022 into 2024 (exit kept as its quarter only)
    (None, "JOBB", "K", "2022-11-01", None, "2024Q1", None, True),
    # an anonymous spell still open
    (None, "JOBB", "M", "2023-06-01", None, None, None, True),
    # one person with consent, two spells: counts once
    ("p1", "JOBB", "K", "2023-02-01", "2023-03-01", None, "ARB", False),
    ("p1", "JOBB", "K", "2023-09-01", None, None, None, False),
    # no SUS consent: anonymous, though the insats register says Nej
    ("p2", "JOBB", "M", "2023-12-20", "2024-01-10", None, "STU", False),
    # registered in error: nowhere
    (None, "JOBB", "M", "2023-05-01", None, "2023Q2", "FEL", True),
)


def test_anonymous_counted_for_every_calendar_year_of_participation():
    counts = participation.participants(SPELLS, participation.anonymous(SPELLS, _consents("p1")),
                                        date(2023, 1, 1), date(2024, 12, 31))
    by_kon = counts.set_index("kon")["antal"].to_dict()
    # K: the 2022 spell in 2023 and in 2024 (2), p1 once (1); M: the open spell 2023 and 2024 (2),
    # p2 in 2023 and in 2024 (2)
    assert by_kon == {"K": 3, "M": 4}


def test_one_year_counts_each_participant_once():
    counts = participation.participants(SPELLS, participation.anonymous(SPELLS, _consents("p1")),
                                        date(2024, 4, 1), date(2024, 6, 30))
    # the 2022 spell ended in 2024Q1, p2 in January: only the open anonymous man and p1 remain
    assert counts.set_index("kon")["antal"].to_dict() == {"K": 1, "M": 1}


def test_registrations_fall_once_in_consecutive_periods():
    anonymous = participation.anonymous(SPELLS, _consents("p1"))
    quarters = pd.period_range("2022Q1", "2024Q4", freq="Q")
    per_quarter = [participation.anonymous_registrations(
        SPELLS, anonymous, quarter.start_time.date(), quarter.end_time.date())
        for quarter in quarters]
    together = pd.concat(per_quarter, ignore_index=True)
    whole = participation.anonymous_registrations(SPELLS, anonymous, date(2022, 1, 1),
                                                  date(2024, 12, 31))
    # 2022 spell: 2022, 2023, 2024; the open one: 2023, 2024; p2 (ends 10 January 2024): 2023,
    # 2024; the FEL spell none
    assert len(together) == len(whole) == 7
    assert sorted(whole.groupby("spell").size().tolist()) == [2, 2, 3]
    assert sorted(map(tuple, together[["spell", "ar"]].values.tolist())) == sorted(
        map(tuple, whole[["spell", "ar"]].values.tolist()))
    first_quarter_2024 = per_quarter[list(map(str, quarters)).index("2024Q1")]
    # re-registrations for the new year only, all three on 1 January
    assert first_quarter_2024["ny"].tolist() == [False] * 3
    assert first_quarter_2024["ar"].tolist() == [2024] * 3
