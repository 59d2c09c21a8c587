from __future__ import annotations

import pandas as pd
import pytest

from finsam.errors import EncodingRejected, MissingColumn
from sources.base import HELD_WARNINGS, Conformed
from sources.samtycke import reader as samtycke
from validation.issues import ERROR

HEADERS = ["Personnummer", "Insats", "Samtycke från", "Giltigt till", "Återkallat", "Parter", "SUS"]
OUTPUT = ["row_number", "pnr", "id_kind", "birth_date", "kon", "insats", "samtycke_fran",
          "giltigt_till", "aterkallat", "parter", "sus"]
FILE = "20241130.csv"


def base_row(**changes: str) -> dict[str, str]:
    row = {"Personnummer": "198001022386", "Insats": "DEMO1", "Samtycke från": "2024-01-10",
           "Giltigt till": "2025-01-31", "Återkallat": "", "Parter": "AF,FK", "SUS": "Ja"}
    row.update(changes)
    return row


def lines_of(*rows: dict[str, str], headers: list[str] = HEADERS) -> list[str]:
    return [";".join(headers)] + [";".join(row[h] for h in HEADERS) for row in rows]


@pytest.fixture
def conform_rows(write_text, make_delivery):
    def run(*rows: dict[str, str]) -> Conformed:
        delivery = make_delivery("samtycke", write_text(FILE, lines_of(*rows)))
        return samtycke.conform(samtycke.read(delivery), delivery)
    return run


def test_sample(samples, make_delivery, people):
    delivery = make_delivery("samtycke", samples / "samtycke" / FILE)
    raw = samtycke.read(delivery)
    assert list(raw.columns) == ["row_number"] + [c.name for c in samtycke.SPEC.columns]
    result = samtycke.conform(raw, delivery)

    assert list(result.frame.columns) == OUTPUT
    assert result.issues.empty and result.rows_read == 4
    frame = result.frame.set_index("row_number")
    assert frame["pnr"].tolist() == [people.anna, people.bo, people.carl, people.eva]
    assert frame.loc[2, "parter"] == "AF,FK,HSF,SOC,UAF"
    assert frame.loc[3, "giltigt_till"] == pd.Timestamp("2025-01-31")
    assert frame.loc[4, "aterkallat"] == pd.Timestamp("2024-06-30")
    assert pd.isna(frame.loc[2, "giltigt_till"]) and pd.isna(frame.loc[2, "aterkallat"])
    assert frame["sus"].tolist() == [True, True, True, False]
    assert result.frame["sus"].dtype == bool
    assert result.frame["row_number"].dtype == "int64"
    assert pd.api.types.is_datetime64_dtype(result.frame["samtycke_fran"])
    assert isinstance(result.frame["parter"].dtype, pd.StringDtype)
    assert result.extra[HELD_WARNINGS].empty


@pytest.mark.parametrize("bom", [True, False])
def test_bom_is_optional_and_headers_are_loose(bom, write_text, make_delivery):
    headers = [f" {h.lower()}  " for h in HEADERS]
    path = write_text(FILE, lines_of(base_row(), headers=headers), bom=bom)
    delivery = make_delivery("samtycke", path)
    result = samtycke.conform(samtycke.read(delivery), delivery)
    assert result.issues.empty and result.frame.loc[0, "insats"] == "DEMO1"


def test_cp1252_file_is_rejected_with_its_line(write_text, make_delivery):
    # The header has "från" and "Återkallat", so a Windows-1252 file fails at line 1.
    path = write_text(FILE, lines_of(base_row()), encoding="cp1252")
    with pytest.raises(EncodingRejected, match=r"20241130\.csv, rad 1: tecknen kan inte läsas som UTF-8"):
        samtycke.read(make_delivery("samtycke", path))


def test_undecodable_data_line_is_named(tmp_path, make_delivery):
    path = tmp_path / FILE
    path.write_bytes("\n".join(lines_of(base_row())).encode("utf-8") + b"\n"
                     + ";".join(base_row(Insats="SAMVERKAN\xc4").values()).encode("cp1252") + b"\n")
    with pytest.raises(EncodingRejected, match=r"20241130\.csv, rad 3"):
        samtycke.read(make_delivery("samtycke", path))


def test_missing_required_column_is_rejected(write_text, make_delivery):
    path = write_text(FILE, [";".join(h for h in HEADERS if h != "Parter")])
    with pytest.raises(MissingColumn, match=r"20241130\.csv.*'Parter'"):
        samtycke.read(make_delivery("samtycke", path))


def test_optional_columns_may_be_absent(write_text, make_delivery):
    headers = ["Personnummer", "Insats", "Samtycke från", "Parter", "SUS"]
    path = write_text(FILE, [";".join(headers), "198001022386;DEMO1;2024-01-10;AF;Nej"])
    delivery = make_delivery("samtycke", path)
    result = samtycke.conform(samtycke.read(delivery), delivery)
    assert result.issues.empty
    assert pd.isna(result.frame.loc[0, "giltigt_till"]) and pd.isna(result.frame.loc[0, "aterkallat"])


def test_codes_are_normalised(conform_rows):
    result = conform_rows(base_row(Parter="soc, af,AF", SUS="nej", Insats="demo1"))
    assert result.issues.empty
    row = result.frame.iloc[0]
    assert (row["parter"], row["sus"], row["insats"]) == ("AF,SOC", False, "DEMO1")


@pytest.mark.parametrize("changes, column, rule", [
    ({"Personnummer": ""}, "Personnummer", "värde saknas"),
    ({"Personnummer": "198001022387"}, "Personnummer", "ogiltigt personnummer"),
    ({"Insats": ""}, "Insats", "värde saknas"),
    ({"Samtycke från": ""}, "Samtycke från", "värde saknas"),
    ({"Samtycke från": "10/1 2024"}, "Samtycke från", "ogiltigt datum"),
    ({"Giltigt till": "2024-01-09"}, "Giltigt till", "före samtycke från"),
    ({"Giltigt till": "snart"}, "Giltigt till", "ogiltigt datum"),
    ({"Återkallat": "2024-01-09"}, "Återkallat", "före samtycke från"),
    ({"Parter": ""}, "Parter", "värde saknas"),
    ({"Parter": "AF,POLIS"}, "Parter", "okänd kod"),
    ({"SUS": ""}, "SUS", "värde saknas"),
    ({"SUS": "kanske"}, "SUS", "ogiltigt värde"),
])
def test_rule_fails_the_row(changes, column, rule, conform_rows, issue_keys):
    result = conform_rows(base_row(), base_row(**changes))
    assert issue_keys(result.issues) == {(3, column, rule, ERROR)}
    assert result.frame["row_number"].tolist() == [2]


def test_withdrawal_on_the_consent_day_is_valid(conform_rows):
    result = conform_rows(base_row(**{"Återkallat": "2024-01-10"}))
    assert result.issues.empty


def test_invalid_number_is_masked(conform_rows):
    result = conform_rows(base_row(Personnummer="198001022387"))
    assert result.issues["found"].tolist() == ["19800102-****"]
