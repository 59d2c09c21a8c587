"""Deliveries crafted the way real exports go wrong, and an attacker's: no planted identity number,
name, diagnosis or secret reaches any byte finsam writes (warehouse files and their log, the Dagster
home with its event log, the outputs, what the command prints), outside the restricted SUS files.

Planted here: identity numbers in the wrong columns, inside free text, in file and sheet names and
as a header-less file's first row; names and diagnoses in dropped columns; formula and markup text;
a symlink out of the landing zone to a secrets file, and a linked folder; a partner's data about
people without consent. Every planted person is one who never consented, so none may appear even
in the SUS submission.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import create_engine, inspect, select, text

from cli.main import main
from finsam.reference import test_personnummer as skatteverket_numbers

SECRET = "HEMLIGNYCKEL-7f3c9a-inte-i-lagret"
NAMES = ("Xerxes Hemligsson", "Yolanda Dolgsdottir", "Zebulon Smygare")
DIAGNOSIS = "F43.27"


def _planted_people() -> list[str]:
    """Three test numbers (Skatteverket's list) of people aged 20-60, never in the samples."""
    samples = Path(__file__).parents[1] / "fixtures" / "samples"
    used = set(re.findall(r"\d{6,8}[-+]?\d{4}", " ".join(
        path.read_bytes().decode("latin-1") for path in samples.rglob("*") if path.is_file())))
    pool = [n for n in skatteverket_numbers() if 1970 <= int(n[:4]) <= 2000 and n not in used
            and n[2:] not in used]
    return [pool[7], pool[311], pool[977]]


PEOPLE = _planted_people()


def _forms(number: str) -> set[str]:
    """Every way a number could be written out: 12 or 10 digits, with or without a separator."""
    short = number[2:]
    return {number, short, f"{number[:8]}-{number[8:]}", f"{short[:6]}-{short[6:]}",
            f"{number[:8]}+{number[8:]}", f"{short[:6]}+{short[6:]}"}


PLANTED = {form for number in PEOPLE for form in _forms(number)} | set(NAMES) | {SECRET, DIAGNOSIS}


def _write_cp1252(path: Path, lines: list[str]) -> None:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))


def _hostile_landing(landing: Path, outside: Path) -> None:
    one, two, three = PEOPLE
    # an identity number in the wrong columns (a code, a number, a text column) and in free text
    _write_cp1252(landing / "fk" / "20241130_felkolumn.csv", [
        "PERSONNR;NAMN;FORMAN;OMFATTNING;FOM;TOM;KONTOR",
        f"198001022386;{NAMES[0]};{one};100;20240101;20240301;Visby",
        f"198001022386;{NAMES[0]};SJP;{two};20240401;20240501;ring {NAMES[1]} {three}",
    ])
    # the ledger: a number as Ver.nr, as Projekt, as an amount; formulas and markup; a name in Text
    _write_cp1252(landing / "ekonomi" / "20241130_farlig.csv", [
        "Ver.nr;Rad;Bokföringsdatum;Konto;Projekt;Belopp;Text",
        f"{one};1;2024-02-01;7010;DEMO1;1000,00;Lön",
        f"9001;1;2024-02-01;7010;{two};1000,00;Lön {NAMES[2]}",
        f"9002;1;2024-02-01;7010;DEMO1;{three};Lön",
        '9003;1;2024-02-01;7010;=HYPERLINK("http://angripare.example/x");1000,00;x',
        "9004;1;2024-02-01;7010;<script>alert(1)</script>;1000,00;x",
        "9005;1;2024-02-01;7010;@SUM(A1);1000,00;x",
    ])
    # a file without a header row: its first row is a person's data
    (landing / "soc" / "20241130_utanrubrik.csv").write_bytes(
        (f'{one[2:8]}-{one[8:]},2024-01,"4 000,00",{NAMES[0]},Gatan 1\n'
         f'{two[2:8]}-{two[8:]},2024-02,"4 000,00",{NAMES[1]},Gatan 2\n').encode("utf-8-sig"))
    # health care about people without consent, with a diagnosis (dropped at the door)
    (landing / "hsf" / "20241130_utan_samtycke.txt").write_text(
        "PATIENT_ID|KONTAKTDATUM|KONTAKTTYP|SJUKSKRIVEN_FOM|SJUKSKRIVEN_TOM|SJUKSKRIVNINGSGRAD|DIAGNOSKOD\n"
        f"{one}|2024-03-01|REHABKOORD||||{DIAGNOSIS}\n{two}|2024-03-02|LAKARBESOK||||{DIAGNOSIS}\n",
        encoding="utf-8")
    # identity numbers and names in file names, recognised and not
    _write_cp1252(landing / "fk" / f"20241130_{three}_{NAMES[2]}.csv", [
        "PERSONNR;NAMN;FORMAN;OMFATTNING;FOM;TOM;KONTOR",
        f"{three};{NAMES[2]};SJP;100;20240101;20240301;Visby"])
    (landing / "fk" / f"{NAMES[1]} {two}.txt").write_text("skräp", encoding="utf-8")
    # a workbook whose only sheet is named after a person
    workbook = openpyxl.Workbook()
    workbook.active.title = f"{one[:8]}-{one[8:]}"
    workbook.active.append(["Personnummer", NAMES[0]])
    workbook.save(landing / "af" / "20241130_fel_flik.xlsx")
    # an insats register with a number in Kommun and a name in Kön
    insats = (landing / "insats" / "20241130_DEMO1.csv").read_text(encoding="utf-8-sig")
    insats += f"DEMO1;198001022386;Anna Exempel;Nej;{NAMES[1]};Nej;FK;2024-06-01;;;SJP;;2;GY;{two}\n"
    (landing / "insats" / "20241130_DEMO1.csv").write_text(insats, encoding="utf-8-sig")
    (landing / "insats" / "20241130_DEMO1.xlsx").unlink()
    # links out of the landing zone: a file and a folder pointing at a secret
    secret = outside / "hemligt"
    secret.mkdir()
    (secret / "nyckel.txt").write_text(f"PATIENT_ID|KONTAKTDATUM|KONTAKTTYP\n{SECRET}|2024-01-01|X\n")
    os.symlink(secret / "nyckel.txt", landing / "hsf" / "20241130_lank.txt")
    os.symlink(secret, landing / "budget" / "20241130_budget_2099.xlsx")


def _restricted(path: Path, out: Path) -> bool:
    return out / "begransad" in path.parents


def _scan(roots: list[Path], out: Path) -> list[str]:
    """Every planted value found in any file under ``roots`` (not following links)."""
    hits = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_symlink() or not path.is_file() or _restricted(path, out):
                continue
            data = path.read_bytes()
            for value in PLANTED:
                for encoded in {value.encode("utf-8"), value.encode("utf-16-le")}:
                    if encoded in data:
                        hits.append(f"{value!r} i {path}")
    return hits


def _database_text(url: str) -> str:
    """Every value of every table, as text (for a server database, whose files the test may not
    read)."""
    engine = create_engine(url)
    parts = []
    with engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            parts.append(pd.read_sql(select(text("*")).select_from(text(f'"{table}"')),
                                     connection).to_csv(index=False))
    engine.dispose()
    return "\n".join(parts)


@pytest.fixture
def hostile_run(monkeypatch, tmp_path, key_files, warehouse_url, dagster_home, sample_landing,
                capfd):
    pseudonym_key, vault_key = key_files
    monkeypatch.setenv("FINSAM_PSEUDONYM_KEY_FILE", str(pseudonym_key))
    monkeypatch.setenv("FINSAM_VAULT_KEY_FILE", str(vault_key))
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    outside = tmp_path / "utanfor"
    outside.mkdir()
    _hostile_landing(sample_landing, outside)
    out = tmp_path / "out"
    code = main(["run", "--landing", str(sample_landing), "--warehouse", warehouse_url,
                 "--out", str(out), "--from", "2024Q1", "--to", "2024Q4"])
    printed = capfd.readouterr()
    return code, out, printed, warehouse_url, dagster_home, tmp_path


def test_no_planted_value_reaches_anything_finsam_writes(hostile_run):
    code, out, printed, url, dagster_home, tmp_path = hostile_run
    assert code == 0, printed.err
    roots = [out, dagster_home]
    if url.startswith("sqlite"):
        roots.append(tmp_path)   # the warehouse file, its WAL and shared memory, byte for byte
    hits = _scan(roots, out)
    hits += [f"{value!r} i utskriften" for value in PLANTED
             if value in printed.out or value in printed.err]
    if not url.startswith("sqlite"):
        dump = _database_text(url)
        hits += [f"{value!r} i lagret" for value in PLANTED if value in dump]
    # the landing zone itself and the secret outside it are the partners' files, not finsam's
    hits = [hit for hit in hits if "/landing/" not in hit and "/utanfor/" not in hit]
    assert hits == []


def test_the_hostile_rows_are_held_masked_and_the_rest_goes_on(hostile_run):
    code, out, _, url, _, _ = hostile_run
    assert code == 0
    engine = create_engine(url)
    with engine.connect() as connection:
        held = pd.read_sql(text("select source, file_name, rule, found from held_row"), connection)
        notices = pd.read_sql(text("select kind, source, file_name, count, detail from "
                                   "steward_notice"), connection)
        ledger = pd.read_sql(text("select ver_nr, projekt from ledger_entry"), connection)
        manifest = pd.read_sql(text("select source, file_name, outcome, message from delivery"),
                               connection)
    engine.dispose()
    # the wrong-column rows are held, shown masked
    wrong = held.loc[held["rule"] == "ser ut som ett personnummer"]
    assert {"ekonomi", "fk", "insats"} <= set(wrong["source"])
    assert wrong["found"].str.fullmatch(r"ser ut som ett personnummer: \d{6,8}-\*{4}").all()
    # the other ledger rows of the hostile file load (one bad row blocks no more than itself)
    assert set(ledger["ver_nr"]) >= {"1001", "1002"}
    assert not ledger["ver_nr"].isin(PEOPLE).any()
    # formulas and markup are described, never shown
    assert not held["found"].str.contains("HYPERLINK|<script|@SUM", regex=True).any()
    # the header-less file is refused as such, and says nothing of its first row
    soc = manifest.loc[manifest["file_name"] == "20241130_utanrubrik.csv", "message"].iloc[0]
    assert "saknar rubrikrad" in soc
    # links out of the landing zone are notices, never read
    links = notices.loc[notices["kind"] == "inte_en_fil"]
    assert {"20241130_lank.txt", "20241130_budget_2099.xlsx"} <= set(links["file_name"])
    # data about people without consent: counts per partner and file, nothing else
    without = notices.loc[notices["kind"] == "utan_samtycke"]
    assert "hsf" in set(without["source"])
    # the sheet named after a person is counted, not named
    af = manifest.loc[manifest["source"] == "af", "message"].dropna()
    assert af.str.contains("andra flikar").any()
    # the steward's CSV shows no cell a spreadsheet would evaluate
    failures = (out / "steward" / "failures.csv").read_text(encoding="utf-8-sig")
    cells = [cell for line in failures.splitlines() for cell in line.split(";")]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "@")]
