"""ekonomi reader: the sample ledger, BAS account mapping at every range boundary, rejections."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from finsam.errors import EncodingRejected, MissingColumn
from sources.base import Delivery
from sources.ekonomi import reader as ekonomi

SAMPLE = (Path(__file__).resolve().parents[2] / "fixtures" / "samples" / "ekonomi"
          / "20241130_huvudbok.csv")
EXTRACTED = date(2024, 11, 30)
HEADER = "Ver.nr;Rad;Bokföringsdatum;Konto;Projekt;Belopp;Text"


def _delivery(path: Path) -> Delivery:
    return Delivery("ekonomi", path, EXTRACTED, None).read()


def _write(tmp_path: Path, lines: list[str], *, encoding: str = "cp1252") -> Path:
    path = tmp_path / "20241130_huvudbok.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def _run(path: Path):
    delivery = _delivery(path)
    raw = ekonomi.read(delivery)
    return raw, ekonomi.conform(raw, delivery)


def test_sample_rows_and_values() -> None:
    _, result = _run(SAMPLE)
    assert result.issues.empty
    frame = result.frame
    assert list(frame.columns) == ["row_number", "ver_nr", "rad", "bokforingsdatum", "konto",
                                   "projekt", "belopp", "kostnadsslag", "account_class"]
    assert frame["row_number"].tolist() == [2, 3, 4, 5, 6, 7]
    assert frame["ver_nr"].tolist() == ["1001", "1001", "1002", "1003", "1004", "1005"]
    assert frame["rad"].tolist() == [1, 2, 1, 1, 1, 1]
    assert frame["konto"].tolist() == [7010, 7510, 5010, 6540, 5010, 3990]
    assert frame["projekt"].tolist() == ["DEMO1", "DEMO1", "DEMO1", "ADM", "DEMO1", "ADM"]
    assert frame["belopp"].tolist() == [120000.0, 37704.0, 13000.0, 4500.0, -1500.0, -2000000.0]
    assert frame["kostnadsslag"].tolist() == ["LON", "LON", "LOK", "IT", "LOK", "INTAKT"]
    assert frame["account_class"].tolist() == ["cost"] * 5 + ["income"]
    assert frame["bokforingsdatum"].iloc[0] == pd.Timestamp("2024-01-25")


def test_sample_text_column_goes_nowhere() -> None:
    raw, result = _run(SAMPLE)
    for frame in (raw, result.frame):
        assert "Text" not in frame.columns and "text" not in frame.columns
        values = [str(value) for value in frame.to_numpy().ravel()]
        assert not any("Löner" in value or "Hyra" in value for value in values)


ACCOUNT_BOUNDARIES = [
    (999, None, None),            # outside the chart: a failure
    (1000, None, "ignored"),
    (2999, None, "ignored"),
    (3000, "INTAKT", "income"),
    (3999, "INTAKT", "income"),
    (4000, "OVR", "cost"),
    (4999, "OVR", "cost"),
    (5000, "LOK", "cost"),
    (5199, "LOK", "cost"),
    (5200, "OVR", "cost"),
    (5399, "OVR", "cost"),
    (5400, "IT", "cost"),
    (5499, "IT", "cost"),
    (5500, "OVR", "cost"),
    (5600, "RES", "cost"),
    (5899, "RES", "cost"),
    (6199, "OVR", "cost"),
    (6200, "IT", "cost"),
    (6299, "IT", "cost"),
    (6300, "FOR", "cost"),
    (6399, "FOR", "cost"),
    (6539, "OVR", "cost"),
    (6540, "IT", "cost"),
    (6549, "IT", "cost"),
    (6550, "BED", "cost"),
    (6559, "BED", "cost"),
    (6560, "OVR", "cost"),
    (6999, "OVR", "cost"),
    (7000, "LON", "cost"),
    (7599, "LON", "cost"),
    (7600, "UTB", "cost"),
    (7699, "UTB", "cost"),
    (7700, "OVR", "cost"),
    (7999, "OVR", "cost"),
    (8000, None, "ignored"),
    (8999, None, "ignored"),
    (9000, None, None),           # outside the chart: a failure
]


def test_account_mapping_at_every_boundary(tmp_path: Path) -> None:
    lines = [HEADER] + [f"{n};1;2024-01-31;{account:04d};DEMO1;100,00;"
                        for n, (account, _, _) in enumerate(ACCOUNT_BOUNDARIES, 1)]
    _, result = _run(_write(tmp_path, lines))
    mapped = result.frame.set_index("konto")
    for account, kostnadsslag, account_class in ACCOUNT_BOUNDARIES:
        if account_class is None:
            assert account not in mapped.index
            continue
        row = mapped.loc[account]
        assert row["account_class"] == account_class, account
        assert (pd.isna(row["kostnadsslag"]) if kostnadsslag is None
                else row["kostnadsslag"] == kostnadsslag), account
    failed = result.issues
    assert set(failed["found"]) == {"0999", "9000"}
    assert set(failed["rule"]) == {"konto utanför kontoplanen"}


def test_amounts_projects_and_bad_values(tmp_path: Path) -> None:
    _, result = _run(_write(tmp_path, [
        HEADER,
        "2001;1;2024-02-01;5010;demo1;1 234,50;Hyra Anna Andersson",  # row 2: fine
        "2001;2;2024-02-01;5010;;-12 000,00;Kreditering",            # row 3: fine, ADM
        "2002;1;2024-02-30;5010;DEMO1;100,00;",                       # row 4: no such date
        "2003;1;2024-02-01;701;DEMO1;100,00;",                        # row 5: 3-digit account
        "2004;1;2024-02-01;5010;DEMO1;(100,00);",                     # row 6: unreadable amount
        "2005;x;2024-02-01;5010;DEMO1;100,00;",                       # row 7: not a row number
        "2006;1;2024-02-01;5010;DEMO1;;",                             # row 8: amount missing
    ]))
    frame = result.frame
    assert frame["row_number"].tolist() == [2, 3]
    assert frame["projekt"].tolist() == ["DEMO1", "ADM"]
    assert frame["belopp"].tolist() == [1234.5, -12000.0]
    assert set(zip(result.issues["row_number"], result.issues["column"])) == {
        (4, "Bokföringsdatum"), (5, "Konto"), (6, "Belopp"), (7, "Rad"), (8, "Belopp")}
    assert "Anna" not in " ".join(result.issues["found"])


def test_case_insensitive_headers(tmp_path: Path) -> None:
    _, result = _run(_write(tmp_path, [" VER.NR ;rad;BOKFÖRINGSDATUM;konto;Belopp",
                                       "1;1;2024-01-01;7010;10,00"]))
    assert result.frame["kostnadsslag"].tolist() == ["LON"]
    assert result.frame["projekt"].tolist() == ["ADM"]


def test_wrong_encoding_rejected_with_line(tmp_path: Path) -> None:
    # 0x81 is undefined in Windows-1252: a UTF-8 "Á" cannot be read as the contract's encoding.
    path = _write(tmp_path, [HEADER, "1;1;2024-01-01;7010;;10,00;", "1;2;2024-01-01;7010;;10,00;Ápotek"],
                  encoding="utf-8")
    with pytest.raises(EncodingRejected, match=r"20241130_huvudbok\.csv, rad 3"):
        ekonomi.read(_delivery(path))


def test_missing_required_column_rejected(tmp_path: Path) -> None:
    path = _write(tmp_path, ["Ver.nr;Rad;Bokföringsdatum;Projekt;Belopp", "1;1;2024-01-01;;10,00"])
    with pytest.raises(MissingColumn, match=r"20241130_huvudbok\.csv.*'Konto'"):
        ekonomi.read(_delivery(path))
