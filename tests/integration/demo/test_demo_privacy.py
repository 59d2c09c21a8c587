"""After `finsam demo`: no identity number, name, diagnosis or other dropped value anywhere finsam wrote.

Every file under the demo's workdir is searched except the landing zone itself (the partners' files)
and the SUS submission (the one place real numbers may appear, for consented participants).
"""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pandas as pd

DROPPED = {"namn", "handläggare", "hushallstyp", "adress", "text", "diagnoskod"}
_NUMBER = re.compile(rb"(?<![0-9])(?:[0-9]{8}[-+]?[0-9]{4}|[0-9]{6}[-+]?[0-9]{4})(?![0-9])")


def _cells(path: Path) -> list[list[str]]:
    if path.suffix == ".xlsx":
        workbook = openpyxl.load_workbook(path, read_only=True)
        rows = [["" if cell is None else str(cell) for cell in row]
                for sheet in workbook for row in sheet.iter_rows(values_only=True)]
        workbook.close()
        return rows
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    separator = max((";", ",", "|"), key=text.splitlines()[0].count) if text.strip() else ";"
    return [line.split(separator) for line in text.splitlines()]


def _landing_secrets(landing: Path) -> tuple[set[str], set[str]]:
    """Identity numbers as 10 and 12 digits, and every value of a dropped column."""
    numbers: set[str] = set()
    values: set[str] = set()
    for path in landing.rglob("*"):
        if not path.is_file():
            continue
        rows = _cells(path)
        header_at = next((i for i, row in enumerate(rows[:5])
                          if any(cell.strip().casefold() in DROPPED for cell in row)), None)
        for row in rows:
            for cell in row:
                for match in _NUMBER.findall(cell.encode()):
                    digits = re.sub(rb"[-+]", b"", match).decode()
                    numbers.add(digits[-10:])
        # the budget workbook's Namn is the insats's name, a contract column
        if header_at is not None and path.parent.name != "budget":
            header = [cell.strip().casefold() for cell in rows[header_at]]
            for row in rows[header_at + 1:]:
                for name, cell in zip(header, row):
                    cell = cell.strip().strip('"')
                    if name in DROPPED and len(cell) >= 4:
                        values.add(cell)
    return numbers, values


def _written_files(workdir: Path) -> list[Path]:
    # the landing zone is the partners'; the restricted folder holds the SUS submission (numbers
    # of consented participants, the one place they may be written)
    excluded = [workdir / "landing", workdir / "out" / "begransad"]
    return [path for path in workdir.rglob("*") if path.is_file()
            and not any(path.is_relative_to(folder) for folder in excluded)
            and path.name != "demo_injected_mistakes.csv"]


def test_demo_writes_no_identity_number_anywhere(demo):
    numbers, _ = _landing_secrets(demo / "landing")
    assert len(numbers) > 100
    found = []
    for path in _written_files(demo):
        data = path.read_bytes()
        for match in _NUMBER.findall(data):
            digits = re.sub(rb"[-+]", b"", match).decode()
            if digits[-10:] in numbers:
                found.append((path.relative_to(demo), digits[:6] + "****"))
    assert found == []


def test_demo_writes_no_name_diagnosis_or_dropped_value_anywhere(demo):
    _, values = _landing_secrets(demo / "landing")
    assert any(re.fullmatch(r"[A-Z]\d{2}(\.\d)?", value) for value in values), "no diagnoses seen"
    written = {path: path.read_bytes() for path in _written_files(demo)}
    found = [(path.relative_to(demo), value) for value in values for path, data in written.items()
             if value.encode("utf-8") in data or value.encode("cp1252", "ignore") in data]
    assert found == []


def test_demo_warehouse_holds_pseudonyms_and_the_summary_was_printed(demo):
    import sqlite3

    with sqlite3.connect(demo / "warehouse.db") as connection:
        spells = pd.read_sql("select pseudonym from spell where pseudonym is not null", connection)
        manifest = pd.read_sql("select outcome, count(*) n from delivery group by outcome", connection)
    assert spells["pseudonym"].str.fullmatch(r"[0-9a-f]{64}").all()
    assert {"inläst", "dubblett", "avvisad", "okänt namn"} <= set(manifest["outcome"])
