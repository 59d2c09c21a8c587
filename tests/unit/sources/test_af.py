from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from finsam.errors import DeliveryRejected, MissingColumn
from sources.af import reader as af
from sources.base import HELD_WARNINGS, Conformed
from validation.issues import ERROR

HEADERS = ["Personnummer", "Inskriven från", "Inskriven till", "Sökandekategori", "Ersättning",
           "Ersättning från", "Ersättning till", "Handläggare"]
TITLE = [["Uttag deltagare Finsam"], ["Uttagsdatum 2024-11-30"]]
OUTPUT = ["row_number", "pnr", "id_kind", "birth_date", "kon", "inskriven_fran", "inskriven_till",
          "sokandekategori", "ersattning", "forsorjning", "ersattning_fran", "ersattning_till"]
FILE = "20241130_uttag.xlsx"


def base_row(**changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "Personnummer": "19811227-9297", "Inskriven från": dt.datetime(2023, 3, 1),
        "Inskriven till": None, "Sökandekategori": "11", "Ersättning": "AKST",
        "Ersättning från": dt.datetime(2023, 3, 1), "Ersättning till": None,
        "Handläggare": "H. Handläggare"}
    row.update(changes)
    return row


@pytest.fixture
def workbook(write_xlsx):
    """An Uttag workbook as AF exports it: title, date line, header in row 3, data, trailer."""
    def write(*rows: dict[str, object], headers: list[str] = HEADERS, styled_empty_rows: int = 2,
              trailer: list[object] | None = None, sheet: str = "Uttag"):
        body = [[row[h] for h in HEADERS] for row in rows]
        trailer = [f"Summa: {len(rows)}"] if trailer is None else trailer
        return write_xlsx(FILE, sheet, [*TITLE, headers, *body], styled_empty_rows=styled_empty_rows,
                          trailer=trailer)
    return write


@pytest.fixture
def conform_rows(workbook, make_delivery):
    def run(*rows: dict[str, object]) -> Conformed:
        delivery = make_delivery("af", workbook(*rows))
        return af.conform(af.read(delivery), delivery)
    return run


def test_sample(samples, make_delivery, people, cell_values):
    delivery = make_delivery("af", samples / "af" / FILE)
    raw = af.read(delivery)
    assert list(raw.columns) == ["row_number"] + [c.name for c in af.SPEC.columns]
    assert raw["row_number"].tolist() == [4, 5]          # Summa row and empty row gone
    assert "H. Handläggare" not in cell_values(raw)

    result = af.conform(raw, delivery)
    assert list(result.frame.columns) == OUTPUT
    assert result.issues.empty and result.rows_read == 2
    assert "H. Handläggare" not in cell_values(result.frame)
    frame = result.frame.set_index("row_number")
    assert frame["pnr"].tolist() == [people.bo, people.carl]
    assert frame["sokandekategori"].tolist() == ["11", "68"]
    assert frame["ersattning"].tolist() == ["AKST", "AKST"]
    assert frame["forsorjning"].tolist() == ["AKS", "AKS"]
    assert frame.loc[4, "inskriven_fran"] == pd.Timestamp("2023-03-01")
    assert pd.isna(frame.loc[4, "inskriven_till"]) and pd.isna(frame.loc[4, "ersattning_till"])
    assert frame.loc[5, "ersattning_till"] == pd.Timestamp("2024-06-30")
    assert pd.api.types.is_datetime64_dtype(result.frame["ersattning_fran"])
    assert isinstance(result.frame["sokandekategori"].dtype, pd.StringDtype)
    assert result.extra[HELD_WARNINGS].empty


def test_title_rows_trailer_and_empty_rows_are_not_data(workbook, make_delivery, people):
    headers = [f"  {h.upper()} " for h in HEADERS]
    rows = [base_row(), base_row(Personnummer=int(people.carl), **{"Sökandekategori": 4}),
            base_row(Personnummer="19950427-2387", **{"Inskriven från": "2024-02-01",
                                                       "Ersättning från": dt.date(2024, 2, 1)})]
    delivery = make_delivery("af", workbook(*rows, headers=headers, styled_empty_rows=3,
                                            trailer=["Summa:", 3]))
    raw = af.read(delivery)
    assert raw["row_number"].tolist() == [4, 5, 6]
    result = af.conform(raw, delivery)
    assert result.issues.empty and result.rows_read == 3
    assert result.frame["pnr"].tolist() == [people.bo, people.carl, people.eva]
    assert result.frame["sokandekategori"].tolist() == ["11", "04", "11"]
    assert result.frame["inskriven_fran"].tolist() == [pd.Timestamp("2023-03-01")] * 2 + [
        pd.Timestamp("2024-02-01")]


def test_a_summa_row_that_is_not_last_stays_data(workbook, make_delivery, issue_keys):
    rows = [base_row(), base_row(Personnummer="Summa: 1", Ersättning="AKST"), base_row()]
    delivery = make_delivery("af", workbook(*rows, trailer=[]))
    result = af.conform(af.read(delivery), delivery)
    assert issue_keys(result.issues) == {(5, "Personnummer", "ogiltigt personnummer", ERROR)}


def test_missing_sheet_is_rejected(workbook, make_delivery):
    path = workbook(base_row(), sheet="Blad1")
    with pytest.raises(DeliveryRejected, match=r"20241130_uttag\.xlsx.*'Uttag'"):
        af.read(make_delivery("af", path))


def test_missing_required_column_is_rejected(workbook, make_delivery):
    headers = ["Personnummer", "Inskriven från", "Inskriven till", "Sökandekategori", "Stöd",
               "Ersättning från", "Ersättning till", "Handläggare"]
    with pytest.raises(MissingColumn, match=r"20241130_uttag\.xlsx.*'Ersättning'"):
        af.read(make_delivery("af", workbook(base_row(), headers=headers)))


def test_header_not_in_row_3_is_rejected(write_xlsx, make_delivery):
    path = write_xlsx(FILE, "Uttag", [HEADERS] + [list(base_row().values())] * 3)
    with pytest.raises(MissingColumn, match=r"20241130_uttag\.xlsx.*'Personnummer'"):
        af.read(make_delivery("af", path))


def test_ingen_needs_no_ersattning_fran_and_maps_to_no_forsorjning(conform_rows):
    result = conform_rows(base_row(Ersättning="ingen", **{"Ersättning från": None}))
    assert result.issues.empty
    row = result.frame.iloc[0]
    assert row["ersattning"] == "INGEN" and pd.isna(row["forsorjning"])


@pytest.mark.parametrize("code, forsorjning", [("UTV", "AKS"), ("ETAB", "ETA"), ("akassa", "AKA")])
def test_ersattning_maps_to_forsorjning(code, forsorjning, conform_rows):
    result = conform_rows(base_row(Ersättning=code))
    assert result.frame.loc[0, "forsorjning"] == forsorjning


@pytest.mark.parametrize("changes, column, rule", [
    ({"Personnummer": None}, "Personnummer", "värde saknas"),
    ({"Personnummer": "19811227-9298"}, "Personnummer", "ogiltigt personnummer"),
    ({"Inskriven från": None}, "Inskriven från", "värde saknas"),
    ({"Inskriven från": "1 mars"}, "Inskriven från", "ogiltigt datum"),
    ({"Inskriven till": dt.datetime(2023, 2, 28)}, "Inskriven till", "före inskriven från"),
    ({"Sökandekategori": "A1"}, "Sökandekategori", "ogiltig sökandekategori"),
    ({"Ersättning": None}, "Ersättning", "värde saknas"),
    ({"Ersättning": "LÖN"}, "Ersättning", "okänd kod"),
    ({"Ersättning från": None}, "Ersättning från", "värde saknas"),
    ({"Ersättning till": dt.datetime(2023, 2, 1)}, "Ersättning till", "före ersättning från"),
    ({"Ersättning till": dt.datetime(2023, 5, 1, 12, 30)}, "Ersättning till", "ogiltigt datum"),
])
def test_rule_fails_the_row(changes, column, rule, conform_rows, issue_keys):
    result = conform_rows(base_row(), base_row(**changes))
    assert issue_keys(result.issues) == {(5, column, rule, ERROR)}
    assert result.frame["row_number"].tolist() == [4]


def test_invalid_number_is_masked(conform_rows):
    result = conform_rows(base_row(Personnummer="19811227-9298"))
    assert result.issues["found"].tolist() == ["19811227-****"]


def test_export_with_no_records_is_empty(workbook, make_delivery):
    delivery = make_delivery("af", workbook(trailer=["Summa: 0"]))
    raw = af.read(delivery)
    result = af.conform(raw, delivery)
    assert raw.empty and result.frame.empty and result.issues.empty
    assert list(result.frame.columns) == OUTPUT
