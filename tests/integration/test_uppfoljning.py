"""Uppföljning Finsam through `finsam run --targets uppfoljning` on registers written here.

The participant counts are checked against a count made in this test from the registers' own rows
(not by calling the adapter's code); the run must never decrypt the vault, and no file it writes
(outputs, warehouse, Dagster home) may hold an identity number in any of its spellings.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from cli.main import main
from finsam import privacy, reference

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "samples"
INSATS_HEADER = ("Insats;Personnummer;Namn;Anonym;Kön;Skyddad identitet;Aktualiserande part;"
                 "Inskrivningsdatum;Utskrivningsdatum;Avslutsanledning;Försörjning vid inskrivning;"
                 "Försörjning vid utskrivning;Tid i offentlig försörjning;Utbildningsnivå;Kommun")
CONSENT_HEADER = "Personnummer;Insats;Samtycke från;Giltigt till;Återkallat;Parter;SUS"


def _people(count: int) -> list[str]:
    """Skatteverket test numbers of people aged 24-59 in 2024."""
    chosen = [number for number in reference.test_personnummer()
              if 1965 <= int(number[:4]) <= 2000]
    return chosen[::97][:count]


def _spell(insats: str, number: str, *, anonym: str = "Nej", kon: str = "", skyddad: str = "Nej",
           start: str, end: str = "", reason: str = "") -> dict:
    return {"insats": insats, "pnr": number, "anonym": anonym, "kon": kon, "skyddad": skyddad,
            "start": start, "end": end, "reason": reason}


def _registers(people: list[str]) -> list[dict]:
    p1, p2, p4, p5, p6, p7 = people
    return [
        # DEMO1: p1 twice (one person), p2, p4 without SUS consent, p5 in error, the protected p6,
        # two Anonym = Ja rows (one ended in August: only its quarter is kept)
        _spell("DEMO1", p1, start="2024-01-15", end="2024-03-20", reason="ARB"),
        _spell("DEMO1", p1, start="2024-05-02"),
        _spell("DEMO1", p2, start="2024-02-01"),
        _spell("DEMO1", p4, start="2024-03-01"),
        _spell("DEMO1", p5, start="2024-04-01", end="2024-04-15", reason="FEL"),
        _spell("DEMO1", p6, skyddad="Ja", start="2024-07-01"),
        _spell("DEMO1", "", anonym="Ja", kon="K", start="2024-02-02"),
        _spell("DEMO1", "", anonym="Ja", kon="M", start="2024-06-01", end="2024-08-01",
               reason="ARB"),
        # DEMO2: p1 again (counts in this insats too), p7 from October, an anonymous woman
        _spell("DEMO2", p1, start="2024-03-01"),
        _spell("DEMO2", p7, start="2024-10-01"),
        _spell("DEMO2", "", anonym="Ja", kon="K", start="2024-09-09"),
    ]


def _write_landing(landing: Path, spells: list[dict], consented: dict[str, list[str]]) -> None:
    for source in ("budget", "ekonomi"):
        shutil.copytree(SAMPLES / source, landing / source)
    book = openpyxl.load_workbook(landing / "budget" / "20241130_budget_2024.xlsx")
    book["Insatser"].append(["DEMO2", "Andra insatsen", pd.Timestamp("2024-01-01").to_pydatetime(),
                             None, "Individinriktad", 25, "50 %"])
    book.save(landing / "budget" / "20241130_budget_2024.xlsx")
    for insats in ("DEMO1", "DEMO2"):
        lines = [INSATS_HEADER]
        for spell in (row for row in spells if row["insats"] == insats):
            ended = bool(spell["end"])
            lines.append(";".join([
                insats, spell["pnr"], "", spell["anonym"], spell["kon"], spell["skyddad"], "AF",
                spell["start"], spell["end"], spell["reason"], "AKS",
                "LON" if ended and spell["reason"] != "FEL" else "", "1", "GY", "0980"]))
        folder = landing / "insats"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"20241130_{insats}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = [CONSENT_HEADER]
    for number, insatser in consented.items():
        rows += [f"{number};{insats};2024-01-01;;;AF,FK,SOC;Ja" for insats in insatser]
    (landing / "samtycke").mkdir()
    (landing / "samtycke" / "20241130.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


def _independent_count(spells: list[dict], consented: dict[str, list[str]], start: date,
                       end: date) -> pd.DataFrame:
    """Participants per insats and kön, counted from the register rows: a person with SUS consent
    once per insats; everyone else (Anonym = Ja, protected, no SUS consent) once per spell and
    calendar year of participation; Felregistrering nowhere."""
    seen: dict[tuple[str, str], set] = {}
    for place, spell in enumerate(spells):
        begins = date.fromisoformat(spell["start"])
        ends = date.fromisoformat(spell["end"]) if spell["end"] else None
        if spell["reason"] == "FEL" or begins > end or (ends is not None and ends < start):
            continue
        number = spell["pnr"]
        kon = spell["kon"] or ("M" if int(number[10]) % 2 else "K")
        anonymous = (spell["anonym"] == "Ja" or spell["skyddad"] == "Ja"
                     or spell["insats"] not in consented.get(number, []))
        last = min(ends or end, end)
        years = range(max(begins.year, start.year), last.year + 1)
        keys = ({f"spell{place}|{year}" for year in years} if anonymous else {number})
        seen.setdefault((spell["insats"], kon), set()).update(keys)
    labels = reference.labels("kon")
    return pd.DataFrame([{"Insats": insats, "Kön": labels[kon], "Antal": len(keys)}
                         for (insats, kon), keys in sorted(seen.items())])


def _spellings(number: str) -> set[str]:
    short = number[2:]
    return {number, short, f"{number[:8]}-{number[8:]}", f"{short[:6]}-{short[6:]}"}


@pytest.fixture
def uppfoljning_run(monkeypatch, tmp_path, key_files, warehouse_url, dagster_home):
    pseudonym_key, vault_key = key_files
    monkeypatch.setenv("FINSAM_PSEUDONYM_KEY_FILE", str(pseudonym_key))
    monkeypatch.setenv("FINSAM_VAULT_KEY_FILE", str(vault_key))
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    monkeypatch.setenv("FINSAM_SETTLE_SECONDS", "0")

    def no_decrypt(self, tokens):
        raise AssertionError("the vault was decrypted although SUS was not chosen")

    monkeypatch.setattr(privacy.Vault, "decrypt", no_decrypt)
    people = _people(6)
    spells = _registers(people)
    p1, p2, _, p5, p6, p7 = people
    consented = {p1: ["DEMO1", "DEMO2"], p2: ["DEMO1"], p5: ["DEMO1"], p6: ["DEMO1"],
                 p7: ["DEMO2"]}
    landing = tmp_path / "landing"
    _write_landing(landing, spells, consented)
    out = tmp_path / "out"
    code = main(["run", "--landing", str(landing), "--warehouse", warehouse_url, "--out", str(out),
                 "--from", "2024Q1", "--to", "2024Q4", "--targets", "uppfoljning"])
    assert code == 0
    return {"out": out, "spells": spells, "consented": consented, "people": people,
            "tmp": tmp_path, "landing": landing}


def test_uppfoljning_only_run(uppfoljning_run):
    """One run (the pipeline is the slow part), three findings."""
    _participants_equal_an_independent_count_of_the_registers(uppfoljning_run)
    _economy_from_the_budget_workbook(uppfoljning_run)
    _no_identity_number_anywhere(uppfoljning_run)


def _participants_equal_an_independent_count_of_the_registers(uppfoljning_run):
    folder = uppfoljning_run["out"] / "uppfoljning" / "2024Q1_2024Q4"
    written = pd.read_csv(folder / "deltagare.csv", sep=";", dtype={"Antal": int})
    expected = _independent_count(uppfoljning_run["spells"], uppfoljning_run["consented"],
                                  date(2024, 1, 1), date(2024, 12, 31))
    merged = expected.merge(written, on=["Insats", "Kön"], how="outer", suffixes=("", "_fil"))
    assert merged.fillna(0)["Antal"].tolist() == merged.fillna(0)["Antal_fil"].tolist(), merged
    assert written["Antal"].sum() == expected["Antal"].sum() > 0
    assert (folder / "uppfoljning_finsam.xlsx").exists()
    book = openpyxl.load_workbook(folder / "uppfoljning_finsam.xlsx", read_only=True)
    assert book.sheetnames[:4] == ["1 Medel och eget kapital", "2 Administration", "3 Insatser",
                                   "4 Deltagare"]


def _economy_from_the_budget_workbook(uppfoljning_run):
    folder = uppfoljning_run["out"] / "uppfoljning" / "2024Q1_2024Q4"
    economy = pd.read_csv(folder / "ekonomi.csv", sep=";")
    insatser = economy.loc[economy["Post"] == "Insats"].set_index("Kod")
    assert insatser.loc["DEMO1", "Budget"] == 2_100_000
    assert insatser.loc["DEMO1", "Budgeterat antal deltagare"] == 40
    assert insatser.loc["DEMO2", "Budgeterat antal deltagare"] == 25
    assert insatser.loc["DEMO1", "Inriktning"] == "Individinriktad"
    adm = economy.loc[economy["Post"] == "Administration"]
    assert adm["Budget"].tolist() == [760_000]
    members = economy.loc[economy["Post"] == "Medel från medlem"].set_index("Namn")["Belopp"]
    assert members.to_dict() == {"Försäkringskassan": 1_500_000, "Region Gotland": 1_500_000}
    assert economy.loc[economy["Post"] == "Eget kapital vid årets början", "Belopp"].tolist() == [
        400_000]
    ledger = pd.read_csv(SAMPLES / "ekonomi" / "20241130_huvudbok.csv", sep=";",
                         encoding="cp1252", decimal=",")
    booked = ledger.loc[(ledger["Projekt"] == "DEMO1") & ledger["Konto"].between(4000, 7999),
                        "Belopp"].sum()
    assert insatser.loc["DEMO1", "Utfall"] == pytest.approx(booked)


def _no_identity_number_anywhere(uppfoljning_run):
    root: Path = uppfoljning_run["tmp"]
    landing: Path = uppfoljning_run["landing"]
    numbers = set().union(*(_spellings(number) for number in uppfoljning_run["people"]))
    files = [path for path in root.rglob("*") if path.is_file()
             and landing not in path.parents]
    found = [str(path.relative_to(root)) for path in files
             if any(number.encode() in path.read_bytes() for number in numbers)]
    assert found == []
    out: Path = uppfoljning_run["out"]
    assert not (out / "begransad").exists()
    assert not (out / "sus").exists()
