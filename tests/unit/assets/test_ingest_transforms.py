"""The pure steps between a reader's frame and the warehouse, on hand-built frames."""

from __future__ import annotations

import pandas as pd

from assets.ingest import transforms, withdrawal
from finsam.privacy import Pseudonymiser
from sources.registry import REGISTRY


def test_pseudonymise_drops_the_number():
    frame = pd.DataFrame({"pnr": pd.Series(["198001022386", None], dtype="string"),
                          "id_kind": ["personnummer", "saknas"], "x": [1, 2]})
    out = transforms.pseudonymise(frame, Pseudonymiser(b"k" * 32))
    assert list(out.columns) == ["x", "pseudonym"]
    assert out["pseudonym"].str.len().tolist()[0] == 64 and pd.isna(out["pseudonym"][1])


def test_age_at_enrolment_counts_whole_years():
    frame = pd.DataFrame({"birth_date": pd.to_datetime(["1980-01-02", "1980-01-02", None]),
                          "inskrivningsdatum": pd.to_datetime(["2024-01-01", "2024-01-02",
                                                               "2024-01-02"])})
    assert transforms.with_age_at_enrolment(frame)["age_at_enrolment"].tolist() == [43, 44, pd.NA]


def test_anonymous_spells_get_stable_keys():
    frame = pd.DataFrame({"insats": ["A", "A", "A"], "pseudonym": pd.Series([None, None, "p"], dtype="string"),
                          "kon": ["K", "K", "M"],
                          "inskrivningsdatum": pd.to_datetime(["2024-01-01"] * 3)})
    keys = transforms.with_record_key(frame, REGISTRY.spec("insats"))["record_key"].tolist()
    assert keys == ["anonym|A|K|2024-01-01|0", "anonym|A|K|2024-01-01|1", "A|p|2024-01-01"]


def test_vanished_ignores_deidentified_records():
    previous = pd.Series(["a", "b", withdrawal.DEIDENTIFIED_KEY_PREFIX + "x"], dtype="string")
    assert transforms.vanished(previous, pd.Series(["a"], dtype="string")) == 1


def _consents(rows):
    frame = pd.DataFrame(rows, columns=["pseudonym", "insats", "aterkallat"])
    frame["aterkallat"] = pd.to_datetime(frame["aterkallat"])
    return frame


def test_only_people_without_any_remaining_consent_are_erased():
    consents = _consents([("p1", "A", "2024-05-01"), ("p2", "A", "2024-05-01"), ("p2", "B", None)])
    assert withdrawal.erased_people(consents).tolist() == ["p1"]
    days = withdrawal.withdrawal_days(consents)
    assert days[["pseudonym", "insats"]].values.tolist() == [["p1", "A"], ["p2", "A"]]


def test_register_out_only_open_spells():
    spells = pd.DataFrame({
        "pseudonym": ["p1", "p1", "p1"], "insats": ["A", "A", "A"],
        "inskrivningsdatum": pd.to_datetime(["2024-01-01", "2023-01-01", "2024-06-01"]),
        "utskrivningsdatum": pd.to_datetime([None, "2023-12-31", None]),
        "avslutsanledning": [None, "ARB", None], "forsorjning_ut": [None, "LON", None]})
    days = pd.DataFrame({"pseudonym": ["p1"], "insats": ["A"],
                         "withdrawn_on": pd.to_datetime(["2024-05-01"])})
    out = withdrawal.register_out(spells, days)
    assert out["avslutsanledning"].fillna("").tolist() == ["AVB", "ARB", ""]
    assert out["utskrivningsdatum"].dt.strftime("%Y-%m-%d").fillna("").tolist() == [
        "2024-05-01", "2023-12-31", ""]


def test_deidentify_keeps_one_token_per_person_and_no_pseudonym():
    spells = pd.DataFrame({"pseudonym": ["p1", "p1", "p2"], "insats": ["A", "B", "A"],
                           "birth_date": pd.to_datetime(["1980-01-01"] * 3),
                           "inskrivningsdatum": pd.to_datetime(["2024-01-01"] * 3)})
    out = withdrawal.deidentify(spells)
    assert out["pseudonym"].isna().all() and out["birth_date"].isna().all()
    assert out["deidentified_person"].nunique() == 2
    assert not out["record_key"].str.contains("p1").any()
