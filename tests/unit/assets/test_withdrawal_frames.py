"""The erasure's frame transforms on small hand-built frames."""

from __future__ import annotations

import pandas as pd

from assets.ingest.withdrawal import Erasure, erasure_in_register, participants_view

REGISTER_COLUMNS = {"pseudonym": "string", "_tombstone": "string", "insats": "string",
                    "samtycke_fran": "datetime64[us]", "giltigt_till": "datetime64[us]",
                    "aterkallat": "datetime64[us]", "parter": "string", "sus": "bool"}


def test_an_empty_consent_register_erases_nobody():
    """A register whose rows were all held comes as an empty frame: nobody is erased, nothing fails."""
    empty = pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in REGISTER_COLUMNS.items()})
    assert erasure_in_register(empty).people.empty


def _erasure() -> Erasure:
    """P consented to SUS for ALFA on 10 Jan (and partners only on 1 Feb), withdrew both on 1 Jun,
    and consented to SUS again on 1 Sep: a new legal basis, not part of what was erased."""
    consents = pd.DataFrame({
        "pseudonym": ["p", "p", "p"], "insats": ["ALFA", "ALFA", "ALFA"],
        "samtycke_fran": pd.to_datetime(["2024-01-10", "2024-02-01", "2024-09-01"]),
        "giltigt_till": pd.to_datetime([None, None, None]),
        "aterkallat": pd.to_datetime(["2024-06-01", "2024-06-01", None]),
        "sus": [True, False, True]})
    people = pd.DataFrame({"pseudonym": ["p"], "tombstone": ["t"],
                           "erased_on": pd.to_datetime(["2024-06-01"])})
    avb = pd.DataFrame({"tombstone": ["t"], "insats": ["ALFA"], "day": pd.to_datetime(["2024-06-01"])})
    return Erasure(people, avb, consents)


def test_the_tombstone_keeps_the_sus_periods_up_to_the_erasure():
    rows = _erasure().tombstone_rows().set_index("insats")
    assert rows.loc["*", "sus_periods"] == ""
    assert rows.loc["ALFA", "sus_periods"] == "2024-01-10:2024-05-31"
    assert rows.loc["ALFA", "avb_days"] == "2024-06-01"


def test_a_spell_arriving_after_the_erasure_is_anonymous_only_without_sus_consent():
    """Enrolled 15 Jan (SUS consent in force) and 5 Jan (before it), both ended before the
    withdrawal: only the second is anonymous, as the first run over both would have said."""
    tombstones = _erasure().tombstone_rows()
    tombstones["erased_on"] = pd.to_datetime(tombstones["erased_on"])
    register = pd.DataFrame({
        "pseudonym": ["p", "p"], "_tombstone": ["t", "t"], "insats": ["ALFA", "ALFA"],
        "inskrivningsdatum": pd.to_datetime(["2024-01-15", "2024-01-05"]),
        "utskrivningsdatum": pd.to_datetime(["2024-03-31", "2024-01-09"]),
        "avslutsanledning": ["ARB", "FLY"], "forsorjning_ut": ["LON", None],
        "anonym": [False, False], "kon": ["K", "K"]})
    view = participants_view(register, tombstones).sort_values("inskrivningsdatum")
    assert view["anonym"].tolist() == [True, False]
    assert view["pseudonym"].isna().all() and view["withdrawn_on"].isna().all()
