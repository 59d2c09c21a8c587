from __future__ import annotations

import pandas as pd
import pytest

from finsam.errors import DuplicateColumn, EncodingRejected, MissingColumn
from sources.base import HELD_WARNINGS, Conformed
from sources.fk import reader as fk
from validation.issues import ERROR

HEADERS = ["PERSONNR", "NAMN", "FORMAN", "OMFATTNING", "FOM", "TOM", "KONTOR"]
OUTPUT = ["row_number", "pnr", "id_kind", "birth_date", "kon", "forman", "forsorjning",
          "omfattning", "fom", "tom"]
FILE = "20241130_forman.csv"


def base_row(**changes: str) -> dict[str, str]:
    row = {"PERSONNR": "198001022386", "NAMN": "Anna Exempel", "FORMAN": "SJP",
           "OMFATTNING": "100", "FOM": "20230905", "TOM": "20240630", "KONTOR": "Visby"}
    row.update(changes)
    return row


def lines_of(*rows: dict[str, str], headers: list[str] = HEADERS) -> list[str]:
    return [";".join(headers)] + [";".join(row[h] for h in HEADERS) for row in rows]


@pytest.fixture
def conform_rows(write_text, make_delivery):
    def run(*rows: dict[str, str]) -> Conformed:
        path = write_text(FILE, lines_of(*rows), encoding="cp1252", newline="\r\n")
        delivery = make_delivery("fk", path)
        return fk.conform(fk.read(delivery), delivery)
    return run


def test_sample(samples, make_delivery, people, cell_values):
    delivery = make_delivery("fk", samples / "fk" / FILE)
    raw = fk.read(delivery)
    assert list(raw.columns) == ["row_number"] + [c.name for c in fk.SPEC.columns]
    assert not {"Anna Exempel", "Carl Exempel", "Eva Exempel"} & cell_values(raw)

    result = fk.conform(raw, delivery)
    assert list(result.frame.columns) == OUTPUT
    assert result.issues.empty and result.rows_read == 4
    assert "Anna Exempel" not in cell_values(result.frame)
    frame = result.frame.set_index("row_number")
    assert frame["pnr"].tolist() == [people.anna, people.anna, people.carl, people.eva]
    assert frame["forman"].tolist() == ["SJP", "RHP", "SJP", "AKE"]
    assert frame["forsorjning"].tolist() == ["SJP", "SJP", "SJP", "AKE"]
    assert frame["omfattning"].tolist() == [100.0, 50.0, 100.0, 100.0]   # "100,0" on line 4
    assert frame.loc[2, "fom"] == pd.Timestamp("2023-09-05")
    assert frame.loc[2, "tom"] == pd.Timestamp("2024-06-30")
    assert pd.isna(frame.loc[4, "tom"])
    assert "Visby" not in raw.to_string()   # the office is free text no output uses: dropped
    assert result.frame["omfattning"].dtype == "float64"
    assert pd.api.types.is_datetime64_dtype(result.frame["fom"])
    assert result.extra[HELD_WARNINGS].empty


def test_windows_1252_text_and_loose_headers(write_text, make_delivery):
    headers = [f" {h.lower()} " for h in HEADERS]
    rows = lines_of(base_row(NAMN="Örjan Åström", KONTOR="Östersund"), headers=headers)
    delivery = make_delivery("fk", write_text(FILE, rows, encoding="cp1252", newline="\r\n"))
    raw = fk.read(delivery)
    result = fk.conform(raw, delivery)
    assert result.issues.empty and len(result.frame) == 1
    # the name and the office are dropped at the door (the office is free text no output uses)
    assert "Örjan Åström" not in raw.to_string() and "Östersund" not in raw.to_string()


def test_undecodable_byte_is_rejected_with_its_line(tmp_path, make_delivery):
    # 0x81 is one of the few bytes Windows-1252 leaves undefined.
    path = tmp_path / FILE
    path.write_bytes("\r\n".join(lines_of(base_row(), base_row())).encode("cp1252")
                     + b"\r\n198001022386;X\x81;SJP;100;20240101;;Visby\r\n")
    with pytest.raises(EncodingRejected, match=r"20241130_forman\.csv, rad 4: .* Windows-1252"):
        fk.read(make_delivery("fk", path))


def test_missing_required_column_is_rejected(write_text, make_delivery):
    path = write_text(FILE, [";".join(h for h in HEADERS if h != "FORMAN")], newline="\r\n")
    with pytest.raises(MissingColumn, match=r"20241130_forman\.csv.*'FORMAN'"):
        fk.read(make_delivery("fk", path))


@pytest.mark.parametrize("ragged", [False, True], ids=["jämn", "en rad för bred"])
def test_a_contract_column_twice_in_the_header_rejects_the_file(write_text, make_delivery, ragged):
    """Two PERSONNR columns with different numbers: which one is the person cannot be known."""
    headers = [*HEADERS, "personnr"]
    first, second = "198001022386", "198001022394"
    rows = [";".join([*base_row().values(), second]), ";".join([*base_row().values(), first])]
    if ragged:
        rows[1] += ";"
    path = write_text(FILE, [";".join(headers), *rows], newline="\r\n")
    with pytest.raises(DuplicateColumn, match=r"20241130_forman\.csv, kolumn 'PERSONNR'.*två gånger") as caught:
        fk.read(make_delivery("fk", path))
    assert first not in str(caught.value) and second not in str(caught.value)


@pytest.mark.parametrize("value, expected", [("25", 25.0), ("75,0", 75.0), (" 50 ", 50.0)])
def test_omfattning_forms(value, expected, conform_rows):
    result = conform_rows(base_row(OMFATTNING=value))
    assert result.issues.empty and result.frame.loc[0, "omfattning"] == expected


def test_iso_dates_are_tolerated_and_tom_may_be_empty(conform_rows):
    result = conform_rows(base_row(FOM="2024-07-01", TOM=""))
    assert result.issues.empty
    assert result.frame.loc[0, "fom"] == pd.Timestamp("2024-07-01")


@pytest.mark.parametrize("changes, column, rule", [
    ({"PERSONNR": ""}, "PERSONNR", "värde saknas"),
    ({"PERSONNR": "198001022387"}, "PERSONNR", "ogiltigt personnummer"),
    ({"FORMAN": ""}, "FORMAN", "värde saknas"),
    ({"FORMAN": "FP"}, "FORMAN", "okänd kod"),
    ({"OMFATTNING": ""}, "OMFATTNING", "värde saknas"),
    ({"OMFATTNING": "60"}, "OMFATTNING", "ogiltig omfattning"),
    ({"OMFATTNING": "heltid"}, "OMFATTNING", "ogiltig omfattning"),
    ({"FOM": ""}, "FOM", "värde saknas"),
    ({"FOM": "20231301"}, "FOM", "ogiltigt datum"),
    ({"TOM": "2024063"}, "TOM", "ogiltigt datum"),
    ({"FOM": "2024111"}, "FOM", "ogiltigt datum"),
    ({"TOM": "20230904"}, "TOM", "före FOM"),
])
def test_rule_fails_the_row(changes, column, rule, conform_rows, issue_keys):
    result = conform_rows(base_row(), base_row(**changes))
    assert issue_keys(result.issues) == {(3, column, rule, ERROR)}
    assert result.frame["row_number"].tolist() == [2]


def test_invalid_number_is_masked(conform_rows):
    result = conform_rows(base_row(PERSONNR="198001022387"))
    assert result.issues["found"].tolist() == ["19800102-****"]
