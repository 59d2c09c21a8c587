"""Sign-off end to end: a quarter's follow-up is built, `finsam signoff` freezes it, a late ledger
correction arrives, the quarter is run again. The frozen files must be byte for byte what was
signed; the correction file must say, cell by cell, what changed and which delivery caused it.

The figures are the hand-made förbund of ``test_budget_assets``: in 2024Q1 JOBB booked LON 58 000
(voucher 2401, 31 January) against a quarterly budget of 60 000. The late delivery (extracted
2025-03-01) corrects voucher 2401 to 63 000: the JOBB sheet's LON Utfall kvartal goes 58 000 ->
63 000 and its Avvikelse kvartal 2 000 -> -3 000.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import dagster as dg
import pytest

from assets.ingest.run import ingest_source
from cli.main import main
from finsam.reference import test_personnummer as skatteverket_numbers
from orchestration import settings
from orchestration.runner import run_quarters
from tests.integration.test_budget_assets import _run
from tests.integration.test_budget_assets import warehouse as _budget_warehouse
from tests.support.outputs import digests, semicolon_rows

warehouse = _budget_warehouse  # the hand-made förbund, ingested

LATE = "20250301_huvudbok_rattelse.csv"


def _late_correction(landing: Path) -> Path:
    path = landing / "ekonomi" / LATE
    lines = ["Ver.nr;Rad;Bokföringsdatum;Konto;Projekt;Belopp;Text",
             "2401;1;2024-01-31;7010;JOBB;63000,00;Rättad lön"]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return path


def test_a_signed_quarter_is_frozen_and_later_runs_write_its_corrections(
        warehouse, warehouse_url, engine, keys, tmp_path, key_files, capsys):
    out = tmp_path / "out"
    _run(warehouse_url, warehouse, out, key_files, "2024Q1", "2024Q1")
    folder = out / "budget" / "2024Q1"
    signed = digests(folder)
    assert "budgetuppfoljning.xlsx" in signed and "underlag.csv" in signed

    assert main(["signoff", "2024Q1", "--note", "styrelsen 2024-04-20",
                 "--warehouse", warehouse_url, "--out", str(out)]) == 0
    assert "2024Q1 signerat" in capsys.readouterr().out
    # signing twice is refused, and says so
    assert main(["signoff", "2024Q1", "--warehouse", warehouse_url, "--out", str(out)]) == 1
    assert "redan signerat" in capsys.readouterr().err

    late = _late_correction(warehouse)
    ingest_source("ekonomi", warehouse, engine, keys)
    outcome = _run(warehouse_url, warehouse, out, key_files, "2024Q1", "2024Q1")[0]

    # the frozen files are exactly what was signed
    assert digests(folder) == signed
    assert outcome.metadata["budget_followup"]["skrivna"] == []
    corrections = out / "rattelser" / "2024Q1" / "budget" / "2024Q1"
    cells = semicolon_rows(corrections / "celler.csv")
    by_cell = {(row["Blad"], row["Rad"], row["Kolumn"]): row for row in cells}
    salaries = "Löner och arvoden (inkl. sociala avgifter)"
    jobb = by_cell[("JOBB", salaries, "Utfall kvartal")]
    assert (float(jobb["Signerat värde"]), float(jobb["Nytt värde"]),
            float(jobb["Skillnad"])) == (58_000, 63_000, 5_000)
    deviation = by_cell[("JOBB", salaries, "Avvikelse kvartal")]
    assert (float(deviation["Signerat värde"]), float(deviation["Nytt värde"])) == (2_000, -3_000)
    cause = "Orsak (leveranser efter signeringen)"
    assert {row[cause] for row in cells} == {f"{LATE} (ekonomi, uttagen 2025-03-01)"}
    # every changed amount moved by the correction's 5 000, except the shares and the cost per
    # participant (two JOBB participants in the year to date: 2 500 each)
    amounts = {row["Kolumn"]: abs(float(row["Skillnad"])) for row in cells
               if "%" not in row["Kolumn"] and row["Tabell"] != "Deltagare"}
    assert set(amounts.values()) == {5_000}
    assert {float(row["Skillnad"]) for row in cells if row["Tabell"] == "Deltagare"} == {2_500}
    consumed = by_cell[("JOBB", "Totalt", "Förbrukat %")]
    assert float(consumed["Nytt värde"]) == pytest.approx(68_000 / 300_000)
    # no cell of another insats changed
    assert {row["Blad"] for row in cells} <= {"JOBB", "Förbundet"}
    # the correction's own lineage: only the late delivery, with its own digest
    (lineage,) = semicolon_rows(corrections / "underlag.csv")
    assert (lineage["Fil"], lineage["Sha256"], lineage["Uttagsdatum"]) == (
        LATE, hashlib.sha256(late.read_bytes()).hexdigest(), "2025-03-01")

    assert main(["signoff", "--list", "--warehouse", warehouse_url, "--out", str(out)]) == 0
    listing = capsys.readouterr().out
    assert "2024Q1: signerat" in listing and "styrelsen 2024-04-20" in listing
    assert "filerna oförändrade" in listing and "rattelser/2024Q1/budget/2024Q1" in listing


def test_a_quarter_whose_files_were_edited_after_the_run_is_not_signed(
        warehouse, warehouse_url, tmp_path, key_files, capsys):
    out = tmp_path / "out"
    _run(warehouse_url, warehouse, out, key_files, "2024Q2", "2024Q2")
    page = out / "budget" / "2024Q2" / "budgetuppfoljning.html"
    page.write_text(page.read_text(encoding="utf-8").replace("62", "26"), encoding="utf-8")
    assert main(["signoff", "2024Q2", "--warehouse", warehouse_url, "--out", str(out)]) == 1
    assert "budget/2024Q2/budgetuppfoljning.html: ändrad efter körningen" in capsys.readouterr().err
    # nothing frozen: the next run rebuilds the quarter, and then it can be signed
    _run(warehouse_url, warehouse, out, key_files, "2024Q2", "2024Q2")
    assert main(["signoff", "2024Q2", "--warehouse", warehouse_url, "--out", str(out)]) == 0
    # a quarter never run has nothing to sign
    assert main(["signoff", "2019Q1", "--warehouse", warehouse_url, "--out", str(out)]) == 1
    assert "inga utdata att signera" in capsys.readouterr().err


SUS_ORDER = ("budget", "insats", "samtycke")
SUS_FOLDER = Path("begransad") / "sus" / "2024Q1_2024Q1"


def _run_sus(warehouse_url: str, landing: Path, out: Path, key_files):
    pseudonym_key, vault_key = key_files
    resources = settings.explicit(landing, warehouse_url, out, str(pseudonym_key), str(vault_key))
    return run_quarters(resources, "2024Q1", "2024Q1", dg.DagsterInstance.ephemeral(),
                        first_quarter="2024Q1", assets=["sus_submission", "sus_statistics"])


def test_a_signed_sus_submission_gets_the_registrations_to_make(
        sample_landing, engine, keys, warehouse_url, tmp_path, key_files, capsys):
    """The contract's sample register: in 2024Q1 Anna (15 Jan) and Bo (1 Feb) are registered with
    their numbers, and an anonymous man (4 Mar) counted. After the sign-off, a corrected register
    (extracted 2025-01-15) drops Anna, moves Bo to kommun 0180 and adds a participant enrolled on
    5 March, whose SUS consent from 1 March arrives in the same day's consent register."""
    for source in SUS_ORDER:
        ingest_source(source, sample_landing, engine, keys)
    out = tmp_path / "out"
    _run_sus(warehouse_url, sample_landing, out, key_files)
    frozen = out / SUS_FOLDER
    signed = digests(frozen)
    assert set(signed) == {"inregistreringar.csv", "utregistreringar.csv", "anonyma.csv",
                           "manuell_registrering.csv", "underlag.csv"}
    # lineage, recomputed from the landing files: the submission read the register and the
    # consents, the statistics the register
    for folder, sources in ((frozen, {"insats", "samtycke"}),
                            (out / "sus" / "2024Q1_2024Q1", {"insats"})):
        rows = semicolon_rows(folder / "underlag.csv")
        assert {row["Källa"] for row in rows} == sources
        for row in rows:
            landed = sample_landing / row["Källa"] / row["Fil"]
            assert row["Sha256"] == hashlib.sha256(landed.read_bytes()).hexdigest()
            assert row["Uttagsdatum"] == "2024-11-30"
    assert main(["signoff", "2024Q1", "--warehouse", warehouse_url, "--out", str(out)]) == 0
    capsys.readouterr()

    register = (sample_landing / "insats" / "20241130_DEMO1.csv").read_text(encoding="utf-8-sig")
    lines = [line.replace(";FGY;0980", ";FGY;0180") if ";198112279297;" in line else line
             for line in register.splitlines() if ";19800102-2386;" not in line]
    lines.append("DEMO1;199504272387;;Nej;K;Nej;AF;2024-03-05;;;AKS;;1;GY;0980")
    (sample_landing / "insats" / "20250115_DEMO1.csv").write_text("\n".join(lines) + "\n",
                                                                   encoding="utf-8")
    consents = (sample_landing / "samtycke" / "20241130.csv").read_text(encoding="utf-8")
    (sample_landing / "samtycke" / "20250115.csv").write_text(
        consents.rstrip("\n") + "\n199504272387;DEMO1;2024-03-01;;;AF;Ja\n", encoding="utf-8")
    for source in ("insats", "samtycke"):
        ingest_source(source, sample_landing, engine, keys)
    _run_sus(warehouse_url, sample_landing, out, key_files)

    assert digests(frozen) == signed
    corrections = out / "begransad" / "rattelser" / "2024Q1" / "sus" / "2024Q1_2024Q1"
    rows = semicolon_rows(corrections / "registreringar.csv")
    assert [(row["Åtgärd"], row["Fil"], row["Personnummer"], row["Inskrivningsdatum"],
             row["Fält"], row["Signerat värde"], row["Nytt värde"]) for row in rows] == [
        ("makulera", "inregistreringar.csv", "198001022386", "2024-01-15", "", "", ""),
        ("rätta", "inregistreringar.csv", "198112279297", "2024-02-01", "Kommun", "0980", "0180"),
        ("registrera", "inregistreringar.csv", "199504272387", "2024-03-05", "", "", ""),
    ]
    causes = {row["Orsak (leveranser efter signeringen)"] for row in rows}
    assert causes == {("20250115_DEMO1.csv (insats, uttagen 2025-01-15); "
                       "20250115.csv (samtycke, uttagen 2025-01-15)")}
    # identity numbers stay restricted: outside begransad only the statistics' correction
    # (published values and the deliveries that caused them), without any number
    public = out / "rattelser"
    assert sorted(path.relative_to(public).as_posix() for path in public.rglob("*")
                  if path.is_file()) == ["2024Q1/sus/2024Q1_2024Q1/celler.csv",
                                         "2024Q1/sus/2024Q1_2024Q1/underlag.csv"]
    shown = " ".join(path.read_text(encoding="utf-8") for path in public.rglob("*.csv"))
    assert not any(form in shown for number in skatteverket_numbers()
                   for form in (number, number[2:], f"{number[2:8]}-{number[8:]}"))
    assert oct(corrections.stat().st_mode & 0o777) == "0o700"
    assert not list((out / "begransad").rglob(".arbete"))
