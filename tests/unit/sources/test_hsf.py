"""hsf reader: the sample, DIAGNOSKOD dropped at the door, reservnummer kept unlinked, rejections."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from finsam import reference
from finsam.errors import EncodingRejected, MissingColumn
from sources.base import Delivery
from sources.hsf import reader as hsf

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "samples" / "hsf" / "20241130_rehab.txt"
EXTRACTED = date(2024, 11, 30)
ANNA = "198001022386"   # Skatteverket test number, K, born 1980-01-02
CARL = "199012282399"   # Skatteverket test number, M, born 1990-12-28
HEADER = ("PATIENT_ID|KONTAKTDATUM|KONTAKTTYP|SJUKSKRIVEN_FOM|SJUKSKRIVEN_TOM|SJUKSKRIVNINGSGRAD"
          "|DIAGNOSKOD")
DIAGNOSES = ("F32.1", "M54.5", "F43.2")


def _delivery(path: Path) -> Delivery:
    return Delivery("hsf", path, EXTRACTED, None).read()


def _write(tmp_path: Path, lines: list[str], *, encoding: str = "utf-8") -> Path:
    path = tmp_path / "20241130_rehab.txt"
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def _run(path: Path):
    delivery = _delivery(path)
    raw = hsf.read(delivery)
    return raw, hsf.conform(raw, delivery)


def _all_text(*frames: pd.DataFrame) -> list[str]:
    return [str(value) for frame in frames for value in frame.to_numpy().ravel().tolist()]


def test_test_numbers_are_skatteverkets() -> None:
    assert {ANNA, CARL} <= set(reference.test_personnummer())


def test_sample_rows_and_values() -> None:
    _, result = _run(SAMPLE)
    assert result.issues.empty
    frame = result.frame
    assert list(frame.columns) == ["row_number", "pnr", "id_kind", "birth_date", "kon",
                                   "kontaktdatum", "kontakttyp", "sjukskriven_fom",
                                   "sjukskriven_tom", "sjukskrivningsgrad"]
    assert frame["row_number"].tolist() == [2, 3, 4]
    first, second = frame.iloc[0], frame.iloc[1]
    assert (first["pnr"], first["kon"], first["birth_date"]) == (ANNA, "K", pd.Timestamp("1980-01-02"))
    assert first["kontaktdatum"] == pd.Timestamp("2024-02-12")
    assert first["kontakttyp"] == "REHABKOORD"
    assert (first["sjukskriven_fom"], first["sjukskriven_tom"]) == (
        pd.Timestamp("2023-09-05"), pd.Timestamp("2024-06-30"))
    assert first["sjukskrivningsgrad"] == 100.0
    assert (second["pnr"], second["kontakttyp"]) == (CARL, "LAKARBESOK")
    assert pd.isna(second["sjukskriven_tom"])


def test_sample_reservnummer_kept_unlinked() -> None:
    _, result = _run(SAMPLE)
    reserve = result.frame[result.frame["row_number"] == 4].iloc[0]
    assert reserve["id_kind"] == "reservnummer"
    assert pd.isna(reserve["pnr"]) and pd.isna(reserve["kon"]) and pd.isna(reserve["birth_date"])
    assert reserve["kontakttyp"] == "REHABKOORD"


def test_sample_diagnosis_never_leaves_the_file() -> None:
    raw, result = _run(SAMPLE)
    for frame in (raw, result.frame):
        assert not any(name.casefold() == "diagnoskod" for name in frame.columns)
    text = _all_text(raw, result.frame, result.issues, *result.extra.values())
    assert not any(code in value for code in DIAGNOSES for value in text)


def test_quote_characters_are_plain_text(tmp_path: Path) -> None:
    path = _write(tmp_path, [HEADER, f'{ANNA}|2024-01-10|REHABKOORD||||"F32',
                             f"{CARL}|2024-01-11|ARBETSTERAPI|||50|"])
    raw, result = _run(path)
    assert result.frame["pnr"].tolist() == [ANNA, CARL]
    assert not any("F32" in value for value in _all_text(raw, result.frame))


def test_reservnummer_forms_kept_and_invalid_numbers_held(tmp_path: Path) -> None:
    bad_check = ANNA[:-1] + "7"
    path = _write(tmp_path, [
        HEADER,
        "991234567890|2024-01-10|REHABKOORD||||",  # row 2: reservnummer starting with 99
        "19850505K123|2024-01-10|REHABKOORD||||",  # row 3: reservnummer with a letter
        f"{bad_check}|2024-01-10|REHABKOORD||||",  # row 4: a personnummer with a wrong check digit
        "|2024-01-10|REHABKOORD||||",              # row 5: missing
    ])
    _, result = _run(path)
    assert result.frame["row_number"].tolist() == [2, 3]
    assert set(result.frame["id_kind"]) == {"reservnummer"}
    assert result.frame["pnr"].isna().all()
    issues = result.issues.set_index("row_number")
    assert set(issues.index) == {4, 5}
    assert set(issues["column"]) == {"PATIENT_ID"}
    assert issues.loc[4, "found"] == "19800102-****"


def test_codes_grades_and_dates(tmp_path: Path) -> None:
    path = _write(tmp_path, [
        HEADER,
        f"{ANNA}|2024-01-10|rehabkoord|2024-01-01|2024-02-01|50,0|",  # row 2: fine, lower case code
        f"{ANNA}|2024-01-11|FIKA||||",                               # row 3: unknown code
        f"{ANNA}|2024-01-12|REHABKOORD|||60|",                       # row 4: no such grade
        f"{ANNA}|2024-13-01|REHABKOORD||||",                         # row 5: no such date
        f"{ANNA}|2024-01-14|REHABKOORD|2024-03-01|2024-02-01||",     # row 6: ends before it starts
    ])
    _, result = _run(path)
    assert result.frame["row_number"].tolist() == [2]
    row = result.frame.iloc[0]
    assert (row["kontakttyp"], row["sjukskrivningsgrad"]) == ("REHABKOORD", 50.0)
    assert set(zip(result.issues["row_number"], result.issues["column"])) == {
        (3, "KONTAKTTYP"), (4, "SJUKSKRIVNINGSGRAD"), (5, "KONTAKTDATUM"), (6, "SJUKSKRIVEN_TOM")}


def test_case_insensitive_headers(tmp_path: Path) -> None:
    path = _write(tmp_path, [" patient_id |Kontaktdatum|kontakttyp", f"{ANNA}|2024-01-10|REHABKOORD"])
    _, result = _run(path)
    assert result.frame["pnr"].tolist() == [ANNA]
    assert result.frame["sjukskrivningsgrad"].isna().all()


def test_wrong_encoding_rejected_with_line(tmp_path: Path) -> None:
    path = _write(tmp_path, [HEADER, f"{ANNA}|2024-01-10|REHABKOORD||||",
                             f"{CARL}|2024-01-10|LÄKARBESÖK||||"], encoding="cp1252")
    with pytest.raises(EncodingRejected, match=r"20241130_rehab\.txt, rad 3"):
        hsf.read(_delivery(path))


def test_missing_required_column_rejected(tmp_path: Path) -> None:
    path = _write(tmp_path, ["PATIENT_ID|KONTAKTDATUM|DIAGNOSKOD", f"{ANNA}|2024-01-10|F32.1"])
    with pytest.raises(MissingColumn, match=r"20241130_rehab\.txt.*'KONTAKTTYP'") as caught:
        hsf.read(_delivery(path))
    assert "F32.1" not in str(caught.value)
