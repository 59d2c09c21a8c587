"""soc reader: the contract's sample, BOM, Swedish amounts, `+` for the very old, rejections."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from finsam import reference
from finsam.errors import EncodingRejected, MissingColumn
from sources.base import Delivery
from sources.soc import reader as soc

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "samples" / "soc" / "20241130_fbs.csv"
EXTRACTED = date(2024, 11, 30)
BO = "198112279297"          # Skatteverket test number, M, born 1981-12-27
ANNA = "198001022386"        # Skatteverket test number, K, born 1980-01-02
CENTENARIAN = "189001019802"  # Skatteverket test number, born 1890-01-01
HEADER = "pnr,manad,belopp,hushallstyp,adress"


def _delivery(path: Path) -> Delivery:
    return Delivery("soc", path, EXTRACTED, None).read()


def _write(tmp_path: Path, lines: list[str], *, bom: bool = True, encoding: str = "utf-8") -> Path:
    path = tmp_path / "20241130_fbs.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + ("\n".join(lines) + "\n").encode(encoding))
    return path


def _run(path: Path):
    delivery = _delivery(path)
    raw = soc.read(delivery)
    return raw, soc.conform(raw, delivery)


def _short(pnr: str, sep: str = "-") -> str:
    return pnr[2:8] + sep + pnr[8:]


def test_test_numbers_are_skatteverkets() -> None:
    assert {BO, ANNA, CENTENARIAN} <= set(reference.test_personnummer())


def test_sample_rows_and_values() -> None:
    raw, result = _run(SAMPLE)
    assert result.issues.empty
    assert result.rows_read == 3
    frame = result.frame
    assert list(frame.columns) == ["row_number", "pnr", "id_kind", "birth_date", "kon", "manad",
                                   "belopp"]
    assert frame["row_number"].tolist() == [2, 3, 4]
    assert frame["pnr"].tolist() == [BO] * 3
    assert set(frame["id_kind"]) == {"personnummer"}
    assert set(frame["kon"]) == {"M"}
    assert set(frame["birth_date"]) == {pd.Timestamp("1981-12-27")}
    assert frame["manad"].tolist() == ["2024-01", "2024-02", "2024-03"]
    assert frame["belopp"].tolist() == [6120.0, 6120.0, 4512.5]


def test_sample_dropped_columns_go_nowhere() -> None:
    raw, result = _run(SAMPLE)
    for frame in (raw, result.frame):
        assert not {"hushallstyp", "adress"} & set(frame.columns)
        text = [str(value) for value in frame.to_numpy().ravel()]
        assert not any("Storgatan" in value or "Ensamstående" in value for value in text)


@pytest.mark.parametrize("bom", [True, False])
def test_bom_present_or_absent(tmp_path: Path, bom: bool) -> None:
    path = _write(tmp_path, [HEADER, f'{_short(ANNA)},2024-05,"1 000,00",X,Y'], bom=bom)
    raw, result = _run(path)
    assert list(raw.columns) == ["row_number", "personnummer", "manad", "belopp"]
    assert result.frame["pnr"].tolist() == [ANNA]


def test_thousands_spaces_and_decimal_comma(tmp_path: Path) -> None:
    path = _write(tmp_path, [
        HEADER,
        f'{_short(ANNA)},2024-01,"12 345,50",,',
        f'{_short(ANNA)},2024-02,"1\u00a0234,05",,',
        f'{_short(ANNA)},2024-03,800,,',
    ])
    _, result = _run(path)
    assert result.issues.empty
    assert result.frame["belopp"].tolist() == [12345.5, 1234.05, 800.0]


def test_plus_separator_means_a_hundred_or_older(tmp_path: Path) -> None:
    path = _write(tmp_path, [HEADER, f'{_short(CENTENARIAN, "+")},2024-06,"5 000,00",,'])
    _, result = _run(path)
    row = result.frame.iloc[0]
    assert row["pnr"] == CENTENARIAN
    assert row["birth_date"] == pd.Timestamp("1890-01-01")


def test_case_insensitive_headers(tmp_path: Path) -> None:
    path = _write(tmp_path, [" PNR ,Manad,BELOPP", f'{_short(ANNA)},2024-01,"100,00"'])
    _, result = _run(path)
    assert result.frame["pnr"].tolist() == [ANNA]


def test_invalid_values_are_held_with_masked_identity(tmp_path: Path) -> None:
    bad_check = _short(ANNA)[:-1] + "7"
    path = _write(tmp_path, [
        HEADER,
        f'{bad_check},2024-01,"100,00",,',     # row 2: wrong check digit
        f'{_short(ANNA)},2024-13,"100,00",,',  # row 3: no month 13
        f'{_short(ANNA)},2024-1,"100,00",,',   # row 4: not YYYY-MM
        f'{_short(ANNA)},2024-04,"0,00",,',    # row 5: not > 0
        f'{_short(ANNA)},2024-05,"-50,00",,',  # row 6: not > 0
        f'{_short(ANNA)},2024-06,"(50,00)",,',  # row 7: unreadable
        f'{_short(ANNA)},2024-07,"50,00",,',   # row 8: fine
    ])
    _, result = _run(path)
    issues = result.issues
    assert set(zip(issues["row_number"], issues["column"])) == {
        (2, "pnr"), (3, "manad"), (4, "manad"), (5, "belopp"), (6, "belopp"), (7, "belopp")}
    identity_issue = issues[issues["column"] == "pnr"].iloc[0]
    assert identity_issue["found"] == "800102-****"
    assert not issues["found"].str.contains(bad_check[-4:]).any()
    assert result.frame["row_number"].tolist() == [8]


def test_wrong_encoding_rejected_with_line(tmp_path: Path) -> None:
    path = _write(tmp_path, [HEADER, f'{_short(ANNA)},2024-01,"1,00",Ensamstående,'],
                  bom=False, encoding="cp1252")
    with pytest.raises(EncodingRejected, match=r"20241130_fbs\.csv, rad 2"):
        soc.read(_delivery(path))


def test_missing_required_column_rejected(tmp_path: Path) -> None:
    path = _write(tmp_path, ["pnr,manad,hushallstyp", f"{_short(ANNA)},2024-01,X"])
    with pytest.raises(MissingColumn, match=r"20241130_fbs\.csv.*'belopp'"):
        soc.read(_delivery(path))


@pytest.mark.parametrize("extra", [",", ",x,y"], ids=["ett tomt fält", "två fält"])
def test_a_first_row_wider_than_the_header_is_held_not_a_crash(tmp_path, extra):
    """pandas takes a first row's surplus leading fields as row labels instead of failing: that
    file stopped the whole run. Its wide rows are held for their field count, the rest load."""
    numbers = [_short(number) for number in reference.test_personnummer()[:3]]
    path = _write(tmp_path, [HEADER,
                             f'{numbers[0]},2024-01,"1 000,00",Ensamstående,Gatan 1{extra}',
                             f'{numbers[1]},2024-01,"2 000,00",Ensamstående,Gatan 2',
                             f'{numbers[2]},2024-01,"3 000,00",Ensamstående,Gatan 3{extra}'])
    raw, result = _run(path)
    assert raw["row_number"].tolist() == [2, 3, 4]
    assert result.frame["belopp"].tolist() == [2000.0]
    wide = result.issues.loc[result.issues["column"] == "(hela raden)"]
    assert sorted(wide["row_number"].astype(int)) == [2, 4]
