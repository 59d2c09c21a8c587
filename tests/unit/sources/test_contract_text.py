"""``contract_text`` (the text reader's one-pass selection and clean-up) gives exactly what the
two steps it replaces give: the contract's columns picked and renamed (``select_columns``), then
stripped with empty text as missing (``clean_text``)."""

from __future__ import annotations

import pandas as pd
import pytest

from finsam.errors import DeliveryRejected
from sources.base import (
    FIELDS,
    FIELDS_EXPECTED,
    clean_text,
    contract_text,
    select_columns,
)
from sources.fk.spec import SPEC as FK
from sources.soc.spec import SPEC as SOC


def _raw(columns: dict[str, list[str]]) -> pd.DataFrame:
    # as read_csv gives a text file: every cell text, empty fields as ""
    return pd.DataFrame(columns, dtype=str)


def _same(raw: pd.DataFrame, spec) -> None:
    expected = clean_text(select_columns(raw, spec, "fil.csv"))
    pd.testing.assert_frame_equal(contract_text(raw, spec, "fil.csv"), expected, check_exact=True)
    content = [name for name in expected.columns if name not in (FIELDS, FIELDS_EXPECTED)]
    pd.testing.assert_frame_equal(contract_text(raw, spec, "fil.csv", drop_empty=True),
                                  expected.dropna(how="all", subset=content), check_exact=True)


def test_headers_in_other_case_and_spacing_extra_columns_and_padding():
    _same(_raw({" PNR ": ["  811227-9297", "", " "], "Manad": ["2024-01 ", "2024-02", ""],
                "belopp": ["6 120,00", " 1,50 ", ""], "okänd": ["x", "y", "z"],
                "hushallstyp": ["", "Ensam", " Ensam "]}), SOC)


def test_an_optional_column_missing_is_all_missing():
    # fk's TOM is optional: absent from the file, it is a column of missing values
    raw = _raw({"PERSONNR": ["198001022386", " "], "FORMAN": ["SJP", "RHP"],
                "OMFATTNING": ["100", ""], "FOM": ["20230905", "20240701"]})
    _same(raw, FK)
    assert contract_text(raw, FK, "fil.csv")["tom"].isna().all()


def test_a_repeated_header_renamed_by_pandas_is_the_contract_column():
    _same(_raw({"pnr.1": ["811227-9297"], "manad": ["2024-01"], "belopp": ["1"],
                "x": [""]}), SOC)


def test_field_counts_of_a_ragged_file_pass_through():
    _same(_raw({"pnr": ["811227-9297", "a"], "manad": ["2024-01", ""], "belopp": ["1", "2"],
                FIELDS: ["3", "5"], FIELDS_EXPECTED: ["3", "3"]}), SOC)


def test_rows_of_only_padding_are_dropped_with_drop_empty():
    # a filled field count alone does not make a row
    _same(_raw({"pnr": [" ", "811227-9297", ""], "manad": ["", "", "  "], "belopp": ["", "1", ""],
                FIELDS: ["3", "3", "4"], FIELDS_EXPECTED: ["3", "3", "3"]}), SOC)
    _same(_raw({"pnr": ["", " "], "manad": ["", ""], "belopp": [" ", ""]}), SOC)


def test_no_rows():
    _same(_raw({"pnr": [], "manad": [], "belopp": []}), SOC)


@pytest.mark.parametrize("columns", [
    {"pnr": ["1"], "belopp": ["1"]},                                   # a required column missing
    {"pnr": ["1"], "PNR ": ["2"], "manad": ["x"], "belopp": ["1"]},   # one column twice
])
def test_refusals_are_the_same(columns):
    raw = _raw(columns)
    with pytest.raises(DeliveryRejected) as expected:
        select_columns(raw, SOC, "fil.csv")
    with pytest.raises(DeliveryRejected) as got:
        contract_text(raw, SOC, "fil.csv")
    assert (type(got.value), str(got.value)) == (type(expected.value), str(expected.value))
