"""The board's economy end to end: a hand-made landing zone through ingestion and the warehouse to
the quarterly follow-ups, the delårsrapporter and the årsredovisning, run through Dagster.

The förbund (figures worked out by hand, Gotland-style financing):
  2024 Finansiering: Försäkringskassan 220 000, Region Gotland 220 000, Eget kapital 48 000.
  2024 budget: JOBB LON 60 000 and LOK 5 000 a quarter, TOTALT Årsbudget 300 000 (40 000 beyond
  its rows); STRUKT (strukturövergripande) UTB 48 000 a year; SEN (starts 15 May) LON 40 000 a
  year; ADM LON 25 000 a quarter. Årsbudget 488 000 = 440 000 + 48 000: the budget spends all
  of the eget kapital brought forward.
  2023: Försäkringskassan 160 000, Region Gotland 160 000, Eget kapital 30 000.
  Ledger 2024: JOBB LON 58 000 (31 Jan), 62 000 (30 Apr), 60 000 (2 May), 61 000 (31 Aug),
  59 000 (30 Nov), LOK 5 000 (31 Jan), income 10 000 booked on JOBB (15 Jun); STRUKT UTB 16 000
  (20 Apr), 30 000 (20 Oct); SEN LON 4 000 (30 Jun), 15 000 (30 Sep); ADM LON 24 000 (28 Feb),
  26 000 (30 Sep); the members' 440 000 booked on ADM. Ledger 2023: JOBB 45 000 + 55 000, ADM
  20 000.
  Spells: JOBB P1 from 2023-06-01, P2 2024-02-01..07-31, P3 2024-03-01..03-10 FEL, an anonymous
  one from 2024-09-01, P4 2023-02-01..12-31; SEN P2 from 2024-08-01, P5 from 2024-06-01.
  Held for an unknown Projekt (inserted directly): one booked 2024-03-03, one 2023-12-01, one
  without a date.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import openpyxl
import pytest
from sqlalchemy import insert

from assets.ingest.run import ingest_source
from orchestration import settings
from orchestration.runner import run_quarters
from tests.unit.budget import xlsx_check
from warehouse import models

INSATS_HEADER = ("Insats;Personnummer;Namn;Anonym;Kön;Skyddad identitet;Aktualiserande part;"
                 "Inskrivningsdatum;Utskrivningsdatum;Avslutsanledning;Försörjning vid inskrivning;"
                 "Försörjning vid utskrivning;Tid i offentlig försörjning;Utbildningsnivå;Kommun")
JOBB = (
    "JOBB;19800102-2386;P1;Nej;K;Nej;FK;2023-06-01;;;SJP;;2;GY;0980",
    "JOBB;198112279297;P2;Nej;M;Nej;SOC;2024-02-01;2024-07-31;ARB;FSB;LON;3;FGY;0980",
    "JOBB;199504272387;P3;Nej;K;Nej;AF;2024-03-01;2024-03-10;FEL;AKS;;1;GY;0980",
    "JOBB;;;Ja;M;;;2024-09-01;;;;;;;",
    "JOBB;199012282399;P4;Nej;M;Nej;AF;2023-02-01;2023-12-31;STU;AKS;STS;1;GY;0980",
)
SEN = (
    "SEN;198112279297;P2;Nej;M;Nej;SOC;2024-08-01;;;FSB;;3;FGY;0980",
    "SEN;199901012386;P5;Nej;K;Nej;AF;2024-06-01;;;AKA;;1;GY;0980",
)
LEDGER = (
    ("2301", "2023-03-31", 7010, "JOBB", "45000,00"), ("2302", "2023-09-30", 7010, "JOBB", "55000,00"),
    ("2303", "2023-06-30", 7010, "", "20000,00"), ("2304", "2023-01-15", 3990, "", "-320000,00"),
    ("2401", "2024-01-31", 7010, "JOBB", "58000,00"), ("2402", "2024-01-31", 5010, "JOBB", "5000,00"),
    ("2403", "2024-04-30", 7010, "JOBB", "62000,00"), ("2404", "2024-05-02", 7010, "JOBB", "60000,00"),
    ("2405", "2024-08-31", 7010, "JOBB", "61000,00"), ("2406", "2024-11-30", 7010, "JOBB", "59000,00"),
    ("2407", "2024-06-15", 3010, "JOBB", "-10000,00"), ("2408", "2024-04-20", 7610, "STRUKT", "16000,00"),
    ("2409", "2024-10-20", 7610, "STRUKT", "30000,00"), ("2410", "2024-06-30", 7010, "SEN", "4000,00"),
    ("2411", "2024-09-30", 7010, "SEN", "15000,00"), ("2412", "2024-02-28", 7010, "", "24000,00"),
    ("2413", "2024-09-30", 7010, "", "26000,00"), ("2414", "2024-01-10", 3990, "", "-220000,00"),
    ("2415", "2024-01-10", 3990, "", "-220000,00"), ("2416", "2024-03-01", 1930, "", "500,00"),
)


def _budget_workbook(path: Path, year: int) -> None:
    book = openpyxl.Workbook()
    insatser = book.active
    insatser.title = "Insatser"
    insatser.append(["Insats", "Namn", "Startdatum", "Slutdatum", "Inriktning",
                     "Mål deltagare per år", "Mål andel"])
    insatser.append(["JOBB", "Jobbcoachning", dt.date(2023, 1, 1), None, "Individinriktad", 20,
                     "55 %"])
    insatser.append(["STRUKT", "Metodutveckling", dt.date(2023, 1, 1), None,
                     "Strukturövergripande", None, None])
    if year == 2024:
        insatser.append(["SEN", "Sent startad", dt.date(2024, 5, 15), None, "Individinriktad",
                         10, None])
    insatser.append(["ADM", "Kansliet", dt.date(2008, 1, 1), None, "Strukturövergripande", None,
                     None])
    budget = book.create_sheet("Budget")
    budget.append(["Insats", "Kostnadsslag", "Kvartal 1", "Kvartal 2", "Kvartal 3", "Kvartal 4",
                   "Ackumulering", "Årsbudget"])
    if year == 2024:
        budget.append(["JOBB", "LON", 60_000, 60_000, 60_000, 60_000, 240_000, None])
        budget.append(["JOBB", "Lokaler", "5 000", "5 000", "5 000", "5 000", "20 000", None])
        budget.append(["JOBB", "TOTALT", None, None, None, None, 260_000, 300_000])
        budget.append(["STRUKT", "UTB", None, None, None, None, 48_000, None])
        budget.append(["SEN", "LON", None, None, None, None, 40_000, None])
        budget.append(["ADM", "LON", 25_000, 25_000, 25_000, 25_000, 100_000, None])
        financing = [("Försäkringskassan", 220_000), ("Region Gotland", 220_000),
                     ("Eget kapital", 48_000)]
    else:
        budget.append(["JOBB", "LON", 50_000, 50_000, 50_000, 50_000, 200_000, None])
        budget.append(["ADM", "LON", 25_000, 25_000, 25_000, 25_000, 100_000, None])
        financing = [("Försäkringskassan", 160_000), ("Region Gotland", 160_000),
                     ("Eget kapital", 30_000)]
    sheet = book.create_sheet("Finansiering")
    sheet.append(["Finansiär", "Belopp"])
    for row in financing:
        sheet.append(list(row))
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


def _landing(root: Path) -> Path:
    landing = root / "landing"
    for year in (2023, 2024):
        _budget_workbook(landing / "budget" / f"{year}0115_budget_{year}.xlsx", year)
    (landing / "insats").mkdir(parents=True)
    for code, rows in (("JOBB", JOBB), ("SEN", SEN)):
        (landing / "insats" / f"20250110_{code}.csv").write_text(
            "\n".join((INSATS_HEADER, *rows)) + "\n", encoding="utf-8")
    (landing / "ekonomi").mkdir()
    lines = ["Ver.nr;Rad;Bokföringsdatum;Konto;Projekt;Belopp;Text"]
    lines += [f"{voucher};1;{day};{account};{project};{amount};Text" for
              voucher, day, account, project, amount in LEDGER]
    (landing / "ekonomi" / "20250110_huvudbok.csv").write_bytes(
        ("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return landing


@pytest.fixture
def warehouse(tmp_path, engine, keys):
    landing = _landing(tmp_path)
    for source in ("budget", "insats", "ekonomi"):
        ingest_source(source, landing, engine, keys)
    held = [("2024-03-03", "2499|1"), ("2023-12-01", "2399|1"), (None, "2398|1")]
    with engine.begin() as connection:
        connection.execute(insert(models.HeldRow.__table__), [{
            "source": "ekonomi", "file_name": "20250110_huvudbok.csv", "row_number": number,
            "column": "Projekt", "rule": "okänt projekt", "severity": "fel",
            "expected": "en insats i årets insatskatalog", "found": "OKAND", "status": "öppen",
            "match_key": key, "record_date": None if day is None else dt.date.fromisoformat(day),
            "loaded": False} for number, (day, key) in enumerate(held, start=30)])
    return landing


def _run(warehouse_url: str, landing: Path, out: Path, key_files, first: str, last: str):
    pseudonym_key, vault_key = key_files
    resources = settings.explicit(landing, warehouse_url, out, str(pseudonym_key), str(vault_key))
    instance = dg.DagsterInstance.ephemeral()
    outcome = run_quarters(resources, first, last, instance, first_quarter="2022Q1",
                           assets=["budget_followup", "delarsrapport", "arsredovisning"])
    evaluations = instance.get_records_for_run(
        outcome.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    checks = {(record.event_log_entry.dagster_event.event_specific_data.asset_key.to_user_string(),
               record.event_log_entry.dagster_event.event_specific_data.check_name):
              record.event_log_entry.dagster_event.event_specific_data for record in evaluations}
    return outcome, checks


def _value(sheet, label: str, column: int, after: str | None = None):
    start = 0
    if after is not None:
        start = next(row for row in range(1, sheet.max_row + 1)
                     if sheet.cell(row, 1).value == after)
    for row in range(start + 1, sheet.max_row + 1):
        if sheet.cell(row, 1).value == label:
            return sheet.cell(row, column).value
    raise AssertionError(f"{label} saknas")


def _notes(sheet) -> list[str]:
    return [str(cell.value) for cell in sheet["A"] if str(cell.value).startswith("• ")]


def test_the_year_end_to_end(warehouse, warehouse_url, tmp_path, key_files, monkeypatch):
    monkeypatch.delenv("FINSAM_DELARSPERIOD", raising=False)
    out = tmp_path / "out"
    outcome, checks = _run(warehouse_url, warehouse, out, key_files, "2024Q1", "2024Q4")
    written = sorted(str(path.relative_to(out)) for path in out.rglob("*.xlsx"))
    assert written == ["arsredovisning/2024/arsredovisning.xlsx",
                       *[f"budget/2024Q{n}/budgetuppfoljning.xlsx" for n in (1, 2, 3, 4)],
                       "delarsrapport/2024T1/delarsrapport.xlsx",
                       "delarsrapport/2024T2/delarsrapport.xlsx"]
    for path in out.rglob("*.xlsx"):
        assert xlsx_check.unbalanced_totals(path) == [], path
        assert path.with_suffix(".html").exists()
    assert {key: check.passed for key, check in checks.items()} == {
        ("budget_followup", "summor_stammer"): True, ("delarsrapport", "summor_stammer"): True,
        ("arsredovisning", "summor_stammer"): True}
    assert outcome.metadata["delarsrapport"]["skrivna"] == ["2024T1", "2024T2"]

    year = openpyxl.load_workbook(out / "arsredovisning" / "2024" / "arsredovisning.xlsx")
    result = year["Resultaträkning"]
    # income 220 000 + 220 000 + 10 000 on JOBB; costs LON 300 000 + 19 000 + 50 000, LOK
    # 5 000, UTB 46 000; 2023: 320 000 - 120 000
    assert [_value(result, "Summa intäkter", column) for column in (2, 3, 4, 5)] == [
        450_000, 440_000, 10_000, 320_000]
    assert [_value(result, "Summa kostnader", column) for column in (2, 3, 4, 5)] == [
        -420_000, -488_000, 68_000, -120_000]
    assert _value(result, "Ej fördelat på kostnadsslag", 3) == -40_000
    # eget kapital: 48 000 + 30 000; the budget spends it all; 2023: 30 000 + 200 000
    assert [_value(result, "Eget kapital vid årets slut", column) for column in (2, 3, 5)] == [
        78_000, 0, 230_000]
    notes = _notes(result)
    assert any(note.startswith("• 1 bokföringsrad bokförd 2024-01-01 – 2024-12-31 med okänt")
               for note in notes)
    financing = year["Finansiering"]
    assert _value(financing, "Region Gotland", 3) == 0.5
    assert _value(financing, "Staten (Försäkringskassan)", 3) == 0.5
    assert _value(financing, "Regionen", 5) == 0.5
    insatser = year["Insatser"]
    # JOBB: P1, P2 and the anonymous one (P3 was a Felregistrering); SEN: P2, P5
    assert _value(insatser, "JOBB – Jobbcoachning", 2, after="Insats") == "Individinriktad"
    assert _value(insatser, "JOBB – Jobbcoachning", 4, after="Insats") == 10_000
    participants = "Deltagare mot mål och kostnad per deltagare (individinriktade insatser)"
    assert [_value(insatser, "JOBB – Jobbcoachning", column, after=participants)
            for column in (2, 3, 5)] == [3, 20, 2]
    assert _value(insatser, "SEN – Sent startad", 2, after=participants) == 2
    assert _value(insatser, "Unika personer i alla individinriktade insatser, helår 2024", 2) == 4
    assert _value(insatser, "STRUKT – Metodutveckling", 2,
                  after="Strukturövergripande insatser efter kostnad") == 46_000

    q3 = openpyxl.load_workbook(out / "budget" / "2024Q3" / "budgetuppfoljning.xlsx")
    assert q3.sheetnames == ["JOBB", "STRUKT", "SEN", "ADM", "Förbundet", "Tertial"]
    assert q3["Tertial"]["A1"].value.startswith("Budgetuppföljning tertial 2 2024")
    forbundet = q3["Förbundet"]
    # forecast: 440 000 + 10 000 - (331 000 booked to 30 September + 117 000 budget for Q4)
    assert _value(forbundet, "Årets resultat", 3, after="Kostnader") == 2_000
    assert _value(forbundet, "Eget kapital vid årets slut", 2) == 0
    assert _value(forbundet, "Eget kapital vid årets slut", 3) == 50_000
    assert "Tertial" not in openpyxl.load_workbook(
        out / "budget" / "2024Q1" / "budgetuppfoljning.xlsx").sheetnames
    assert "Strukturövergripande insats" in " ".join(_notes(q3["STRUKT"]))

    t1 = openpyxl.load_workbook(out / "delarsrapport" / "2024T1" / "delarsrapport.xlsx")
    # members 440 000 x 4/12; costs LON 58 000 + 62 000 + 24 000, LOK 5 000, UTB 16 000
    assert _value(t1["Resultaträkning"], "Periodens resultat", 2,
                  after="Summa kostnader") == pytest.approx(440_000 / 3 - 165_000)
    assert any(note.startswith("• 1 bokföringsrad bokförd 2024-01-01 – 2024-04-30")
               for note in _notes(t1["Resultaträkning"]))
    page = (out / "delarsrapport" / "2024T1" / "delarsrapport.html").read_text(encoding="utf-8")
    assert "<h1>Delårsrapport tertial 1 2024 (jan–apr 2024)</h1>" in page


def test_half_year_reports_when_the_forbund_chooses_them(warehouse, warehouse_url, tmp_path,
                                                        key_files, monkeypatch):
    monkeypatch.setenv("FINSAM_DELARSPERIOD", "halvår")
    out = tmp_path / "out"
    outcome, checks = _run(warehouse_url, warehouse, out, key_files, "2024Q2", "2024Q3")
    assert sorted(path.name for path in (out / "delarsrapport").iterdir()) == ["2024H1"]
    assert "Tertial" not in openpyxl.load_workbook(
        out / "budget" / "2024Q3" / "budgetuppfoljning.xlsx").sheetnames
    h1 = openpyxl.load_workbook(out / "delarsrapport" / "2024H1" / "delarsrapport.xlsx")
    # members 440 000 / 2 + 10 000; costs January-June LON 58 000 + 62 000 + 60 000 + 4 000
    # + 24 000, LOK 5 000, UTB 16 000
    assert _value(h1["Resultaträkning"], "Periodens resultat", 2,
                  after="Summa kostnader") == 230_000 - 229_000
    # no fourth quarter in the run: no årsredovisning
    assert outcome.metadata["arsredovisning"]["skrivna"] == []
    assert not (out / "arsredovisning").exists()


def test_a_quarter_without_data_gets_no_workbook(warehouse, warehouse_url, tmp_path, key_files):
    out = tmp_path / "out"
    outcome, checks = _run(warehouse_url, warehouse, out, key_files, "2022Q1", "2022Q4")
    assert not out.exists() or not list(out.rglob("*.xlsx"))
    for asset in ("budget_followup", "delarsrapport", "arsredovisning"):
        assert outcome.metadata[asset]["status"] == "ingen data"
        assert checks[(asset, "summor_stammer")].passed
    assert outcome.metadata["budget_followup"]["ej_skrivna"] == {
        f"2022Q{n}": "ingen data" for n in (1, 2, 3, 4)}
