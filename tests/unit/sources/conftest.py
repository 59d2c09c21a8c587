"""Shared helpers for the source reader tests: the contract's samples, deliveries, quirk files."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.styles import Font

from finsam import reference
from sources.base import Delivery

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "samples"
SAMPLE_EXTRACTION = date(2024, 11, 30)


@dataclasses.dataclass(frozen=True)
class People:
    """Skatteverket test numbers (never a real person) and deliberately invalid ones."""

    anna: str = "198001022386"       # K, born 1980-01-02 (the samples' Anna)
    bo: str = "198112279297"         # M, born 1981-12-27
    carl: str = "199012282399"       # M, born 1990-12-28
    eva: str = "199504272387"        # K, born 1995-04-27
    dora: str = "200203012380"       # K, born 2002-03-01
    child: str = "201001012382"      # K, born 2010-01-01: under 16 in 2024
    turns_16: str = "200801012386"   # K, born 2008-01-01: 16 on 2024-01-01
    turns_65: str = "195901022995"   # M, born 1959-01-02: 65 on 2024-01-02
    senior: str = "195001182046"     # K, born 1950-01-18
    anna_bad_check: str = "198001022387"   # Anna with a wrong check digit

    def valid(self) -> tuple[str, ...]:
        return tuple(value for name, value in dataclasses.asdict(self).items() if "bad" not in name)


@pytest.fixture(scope="session")
def people() -> People:
    chosen = People()
    known = set(reference.test_personnummer())
    assert set(chosen.valid()) <= known, "test identities must come from testpersonnummer.csv"
    assert chosen.anna_bad_check not in known
    return chosen


@pytest.fixture
def samples() -> Path:
    return SAMPLES_DIR


@pytest.fixture
def make_delivery() -> Callable[..., Delivery]:
    def make(source: str, path: Path, *, scope: str | None = None,
             extraction_date: date = SAMPLE_EXTRACTION) -> Delivery:
        return Delivery(source, Path(path), extraction_date, scope).read()
    return make


@pytest.fixture
def write_text(tmp_path: Path) -> Callable[..., Path]:
    """A delimited file from lines, in the given encoding, line ending and BOM."""
    def write(name: str, lines: Sequence[str], *, encoding: str = "utf-8", bom: bool = False,
              newline: str = "\n") -> Path:
        path = tmp_path / name
        data = (newline.join(lines) + newline).encode(encoding)
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
        return path
    return write


@pytest.fixture
def write_xlsx(tmp_path: Path) -> Callable[..., Path]:
    """A workbook with one sheet of rows; ``styled_empty_rows`` adds formatted blank rows at the end,
    as Excel leaves them when data is deleted."""
    def write(name: str, sheet: str, rows: Sequence[Sequence[object]], *,
              styled_empty_rows: int = 0, trailer: Sequence[object] | None = None) -> Path:
        workbook = openpyxl.Workbook()
        worksheet = workbook.active
        worksheet.title = sheet
        for row in rows:
            worksheet.append(list(row))
        for _ in range(styled_empty_rows):
            worksheet.cell(row=worksheet.max_row + 1, column=1).font = Font(bold=True)
        if trailer is not None:
            worksheet.append(list(trailer))
        path = tmp_path / name
        workbook.save(path)
        return path
    return write


def _cell_values(frame: pd.DataFrame) -> set[str]:
    return {str(value) for column in frame.columns for value in frame[column].tolist()}


def _issue_keys(issues: pd.DataFrame) -> set[tuple[int, str, str, str]]:
    return set(zip(issues["row_number"].astype(int), issues["column"], issues["rule"],
                   issues["severity"]))


@pytest.fixture
def cell_values() -> Callable[[pd.DataFrame], set[str]]:
    """Every value of a frame as text, to prove a dropped column's values went nowhere."""
    return _cell_values


@pytest.fixture
def issue_keys() -> Callable[[pd.DataFrame], set[tuple[int, str, str, str]]]:
    """(row_number, column, rule, severity) of each issue."""
    return _issue_keys
