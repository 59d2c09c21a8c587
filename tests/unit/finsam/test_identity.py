"""Identity numbers in every form the contract allows, and the peer project's cases."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from finsam import identity
from tests.conftest import FIXTURES

CASES = json.loads((FIXTURES / "personnummer_cases.json").read_text())
FORMS = ("long_format", "short_format", "separated_format", "separated_long")


@pytest.mark.parametrize("case", CASES, ids=[case["separated_long"] for case in CASES])
def test_peer_cases(case):
    values = pd.Series([case[form] for form in FORMS])
    result = identity.normalise(values, date(2026, 11, 27))
    valid = result["id_kind"].isin([identity.PERSONNUMMER, identity.SAMORDNINGSNUMMER])
    assert valid.tolist() == [case["valid"]] * len(FORMS)
    if case["valid"]:
        expected_kind = identity.SAMORDNINGSNUMMER if case["type"] == "con" else identity.PERSONNUMMER
        assert set(result["id_kind"]) == {expected_kind}
        assert set(result["kon"]) == {"M" if case["isMale"] else "K"}
        # the 10-digit forms without `+` resolve to the latest century that is not in the future
        assert result.loc[[0, 3], "pnr"].tolist() == [case["long_format"]] * 2


def test_plus_separator_means_a_hundred_years_older():
    result = identity.normalise(pd.Series(["090527+1474", "090527-1474"]), date(2026, 11, 27))
    assert result["pnr"][0] == "190905271474"
    # with "-" the same digits are someone born in 2009 (a number outside the test list, so it is
    # not written out here)
    assert result["pnr"][1].startswith("2009") and result["birth_date"][1].year == 2009


def test_century_comes_from_the_extraction_date_not_today():
    result = identity.normalise(pd.Series(["811227-9297"]), date(2024, 11, 30))
    assert result["pnr"].tolist() == ["198112279297"]
    assert result["birth_date"].dt.date.tolist() == [date(1981, 12, 27)]


def test_samordningsnummer_birth_date_is_day_minus_sixty():
    result = identity.normalise(pd.Series(["19570574-9959"]), date(2026, 11, 27))
    assert result["id_kind"].tolist() == [identity.SAMORDNINGSNUMMER]
    assert result["birth_date"].dt.date.tolist() == [date(1957, 5, 14)]


def test_sex_from_the_third_birth_number_digit():
    result = identity.normalise(pd.Series(["198001022386", "198112279297"]), date(2024, 11, 30))
    assert result["kon"].tolist() == ["K", "M"]


@pytest.mark.parametrize("value, problem", [
    ("19800102-2387", "kontrollsiffran"),       # wrong check digit
    ("19800102 2386", "formen"),                # a space is not a separator
    ("1980-01-02-2386", "formen"),
    ("abc", "formen"),
])
def test_invalid_values_say_why_without_the_value(value, problem):
    result = identity.normalise(pd.Series([value]), date(2024, 11, 30))
    assert result["id_kind"].tolist() == [identity.INVALID]
    assert problem in result["id_problem"].iloc[0]
    assert value not in result["id_problem"].iloc[0]


def test_reservnummer_recognised_only_where_allowed():
    values = pd.Series(["19810829M071", "991980123456"])
    assert identity.normalise(values, date(2024, 1, 1))["id_kind"].tolist() == [identity.INVALID] * 2
    allowed = identity.normalise(values, date(2024, 1, 1), allow_reservnummer=True)
    assert allowed["id_kind"].tolist() == [identity.RESERVNUMMER] * 2
    assert allowed["pnr"].isna().all()


def test_missing_is_its_own_kind():
    result = identity.normalise(pd.Series([None, " "]), date(2024, 1, 1))
    assert result["id_kind"].tolist() == [identity.MISSING] * 2


def test_mask_never_shows_the_birth_number():
    masked = identity.mask(pd.Series(["198001022386", "19800102-2386", "800102-2386", "19810829M071"]))
    assert masked.tolist() == ["19800102-****", "19800102-****", "800102-****", "198108****"]
