"""The last guard before loading: no identity number, no malformed pseudonym, no duplicate key."""

from __future__ import annotations

import pandas as pd
import pytest

from finsam.errors import WarehouseSchemaViolation
from validation.warehouse import check_before_load

PSEUDONYM = "a" * 64


def _benefits(**changes) -> pd.DataFrame:
    frame = pd.DataFrame({
        "record_key": ["k1", "k2"], "pseudonym": [PSEUDONYM, "b" * 64],
        "delivery_id": [1, 1], "extraction_date": pd.to_datetime(["2024-11-30"] * 2),
        "row_number": [2, 3], "forsorjning": ["SJP", "AKE"], "kontor": ["Visby", "Visby"],
    })
    return frame.assign(**changes)


def test_a_good_frame_passes():
    check_before_load("fk_benefit", _benefits())


def test_an_identity_number_in_a_text_column_is_refused_without_showing_it():
    with pytest.raises(WarehouseSchemaViolation, match="fk_benefit.*inga personnummer") as caught:
        check_before_load("fk_benefit", _benefits(kontor=["Visby", "19800102-2386"]))
    assert "2386" not in str(caught.value)


def test_an_identity_column_is_refused():
    with pytest.raises(WarehouseSchemaViolation, match="inga identitetskolumner"):
        check_before_load("fk_benefit", _benefits(pnr=["x", "y"]))


def test_malformed_pseudonym_and_duplicate_key_are_refused():
    with pytest.raises(WarehouseSchemaViolation, match="pseudonym.*str_matches") as caught:
        check_before_load("fk_benefit", _benefits(pseudonym=["not-hex", PSEUDONYM],
                                                  record_key=["k1", "k1"]))
    assert "record_key" in str(caught.value)


def test_unknown_code_is_refused():
    with pytest.raises(WarehouseSchemaViolation, match="forsorjning"):
        check_before_load("fk_benefit", _benefits(forsorjning=["SJP", "XXX"]))
