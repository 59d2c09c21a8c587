"""Each consent rule, on small hand-built frames."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from finsam.consent import PartnerConsent, RecordTime, consented, naming, sus_consent_on

# the three ways a partner record's time is declared: a day, a period, a month
CONTACTS = PartnerConsent("HSF", RecordTime("kontaktdatum"))
PERIODS = PartnerConsent("FK", RecordTime("fom", "tom"))
PAYMENTS = PartnerConsent("SOC", RecordTime("manad", month=True))

D = pd.Timestamp


def _consents(*rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["pseudonym", "insats", "samtycke_fran", "giltigt_till",
                                        "aterkallat", "parter", "sus"])
    for name in ("samtycke_fran", "giltigt_till", "aterkallat"):
        frame[name] = pd.to_datetime(frame[name])
    return frame


def _contacts(*rows) -> pd.DataFrame:
    return pd.DataFrame({"pseudonym": [r[0] for r in rows],
                         "kontaktdatum": pd.to_datetime([r[1] for r in rows])})


BASE = ("p1", "JOBB", "2024-01-10", None, None, "AF,FK,HSF", True)


@pytest.mark.parametrize("day, expected", [
    ("2024-01-09", False),   # before Samtycke från
    ("2024-01-10", True),    # the first day
    ("2030-01-01", True),    # open-ended
])
def test_window_start_and_open_end(day, expected):
    assert consented(_contacts(("p1", day)), CONTACTS, _consents(BASE)).tolist() == [expected]


def test_giltigt_till_is_the_last_valid_day():
    consents = _consents(("p1", "JOBB", "2024-01-10", "2024-06-30", None, "HSF", True))
    result = consented(_contacts(("p1", "2024-06-30"), ("p1", "2024-07-01")), CONTACTS, consents)
    assert result.tolist() == [True, False]


def test_withdrawal_day_is_no_longer_in_force():
    consents = _consents(("p1", "JOBB", "2024-01-10", None, "2024-05-01", "HSF", True))
    result = consented(_contacts(("p1", "2024-04-30"), ("p1", "2024-05-01")), CONTACTS, consents)
    assert result.tolist() == [True, False]


def test_partner_not_named():
    consents = _consents(("p1", "JOBB", "2024-01-10", None, None, "AF,FK", True))
    assert consented(_contacts(("p1", "2024-03-01")), CONTACTS, consents).tolist() == [False]


def test_partner_code_is_matched_whole():
    consents = _consents(("p1", "JOBB", "2024-01-10", None, None, "HSFX,AF", True))
    assert consented(_contacts(("p1", "2024-03-01")), CONTACTS, consents).tolist() == [False]


def test_renewed_consent_covers_again_after_a_gap():
    consents = _consents(("p1", "JOBB", "2024-01-10", "2024-03-31", None, "HSF", True),
                         ("p1", "JOBB", "2024-06-01", None, None, "HSF", True))
    result = consented(_contacts(("p1", "2024-03-15"), ("p1", "2024-05-01"), ("p1", "2024-06-02")),
                       CONTACTS, consents)
    assert result.tolist() == [True, False, True]


def test_consent_for_another_insats_also_covers_the_partner():
    consents = _consents(("p1", "GEMTAG", "2024-01-10", None, None, "HSF", False))
    assert consented(_contacts(("p1", "2024-02-01")), CONTACTS, consents).tolist() == [True]


def test_other_person_unaffected():
    assert consented(_contacts(("p2", "2024-02-01")), CONTACTS, _consents(BASE)).tolist() == [False]


def test_benefit_period_overlapping_the_consent_is_usable():
    periods = pd.DataFrame({"pseudonym": ["p1", "p1"],
                            "fom": pd.to_datetime(["2023-09-05", "2023-01-01"]),
                            "tom": pd.to_datetime(["2024-06-30", "2023-12-31"])})
    assert consented(periods, PERIODS, _consents(BASE)).tolist() == [True, False]


def test_payment_month_overlapping_the_consent():
    payments = pd.DataFrame({"pseudonym": ["p1", "p1"], "manad": ["2024-01", "2023-12"]})
    consents = _consents(("p1", "JOBB", "2024-01-10", None, None, "SOC", True))
    assert consented(payments, PAYMENTS, consents).tolist() == [True, False]


def test_sus_consent_on_the_enrolment_day():
    consents = _consents(("p1", "JOBB", "2024-01-10", None, None, "AF", True),
                         ("p2", "JOBB", "2024-01-10", None, None, "AF", False),
                         ("p3", "JOBB", "2024-01-10", None, "2024-02-01", "AF", True))
    spells = pd.DataFrame({"pseudonym": ["p1", "p1", "p2", "p3", None],
                           "insats": ["JOBB", "GEMTAG", "JOBB", "JOBB", "JOBB"],
                           "inskrivningsdatum": pd.to_datetime(["2024-01-15", "2024-01-15",
                                                                "2024-01-15", "2024-02-05",
                                                                "2024-01-15"])})
    assert sus_consent_on(spells, consents).tolist() == [True, False, False, False, False]


def test_one_definition_of_anonymous_protected_no_sus_consent_and_withdrawn():
    """Anonym = Ja, protected identity or no SUS consent on the enrolment day; a withdrawal after
    a personal enrolment does not make it anonymous; a de-identified spell keeps its flag."""
    from finsam.participation import anonymous

    consents = _consents(("p1", "JOBB", "2024-01-10", None, None, "AF", True),
                         ("p2", "JOBB", "2024-01-10", None, None, "AF", False),
                         ("p4", "JOBB", "2024-01-10", None, "2024-05-01", "AF", True),
                         ("p5", "JOBB", "2024-02-01", None, None, "AF", True))
    spells = pd.DataFrame({
        "pseudonym": ["p1", "p2", None, None, "p4", "p5", None, None],
        "deidentified_person": [None, None, None, None, None, None, "t1", "t2"],
        "insats": ["JOBB"] * 8,
        "inskrivningsdatum": pd.to_datetime(["2024-01-15"] * 8),
        "anonym": [False, False, True, True, False, False, False, True],
        "skyddad_identitet": [False, False, False, True, False, False, False, False],
        "withdrawn_on": pd.to_datetime([None, None, None, None, "2024-05-01", None, "2024-03-01",
                                        None]),
    })
    # p5's SUS consent came after the enrolment: anonymous; the erased t1 was personal, t2 not
    assert anonymous(spells, consents).tolist() == [False, True, True, True, False, True, False,
                                                     True]


def test_naming_is_membership_of_the_comma_separated_list():
    """Recomputed per consent by splitting its list: the partner is one of its entries, whole."""
    rng = random.Random(3)
    entries = ["FK", "SOC", "HSF", "AF", "FKX", "XFK", "fk", ""]
    lists = [",".join(rng.sample(entries, rng.randint(1, 4))) for _ in range(400)]
    parter = pd.Series(lists, index=range(1000, 1400), dtype="str")
    for partner in ("FK", "SOC", "HSF", "AF"):
        expected = pd.Series([partner in value.split(",") for value in lists], index=parter.index)
        pd.testing.assert_series_equal(naming(parter, partner), expected)
