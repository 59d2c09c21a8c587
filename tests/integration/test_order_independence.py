"""Deliveries are facts: the warehouse and the outputs depend only on the set of deliveries, never
on the order or the batching in which they arrived.

A small world is written here, independently of the demo generator: one year of a förbund with a
participant register, a consent register, three partners, a ledger and two budget versions, each
delivered several times as the partners do (snapshots that are the whole truth as of their day,
deltas that overlap and correct each other). Withdrawals, re-consent, renewals, a spell registered
by mistake and later removed, a ledger code the first budget does not know, people without consent
and corrections are all in it. Hypothesis draws the world, an order and a batching (which files each
run finds new); the final state must equal that of one run over everything.
"""

from __future__ import annotations

import os
import random
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from assets.budget import followup
from assets.budget.assets import inputs as budget_inputs
from assets.ingest.run import ingest_source
from assets.sus import statistics
from assets.sus.warehouse_frames import read_spells
from finsam.reference import test_personnummer as skatteverket_numbers
from sources.landing import IngestSettings
from sources.registry import REGISTRY
from warehouse import models
from warehouse.db import make_engine, migrate

EXTRACTIONS = (date(2024, 2, 14), date(2024, 4, 12), date(2024, 6, 17), date(2024, 8, 15))
TODAY = date(2024, 12, 31)
EXAMPLES = int(os.environ.get("FINSAM_ORDER_EXAMPLES", "5"))


def _people(count: int, rng: random.Random) -> list[str]:
    """Test numbers of people 20-60 years old in 2024 (Skatteverket's list, never real people)."""
    eligible = [number for number in skatteverket_numbers() if 1965 <= int(number[:4]) <= 2003]
    return rng.sample(eligible, count)


@dataclass
class _Spell:
    pnr: str
    start: date
    end: date | None
    reason: str | None
    kommun: str
    corrected_kommun: date | None = None    # registers before this day had a typo in Kommun
    removed_on: date | None = None          # registered by mistake: gone from later registers


@dataclass
class _Consent:
    pnr: str
    start: date
    withdrawn: date | None
    parter: str
    sus: bool
    valid_to: date | None = None


def _world(seed: int) -> dict[str, list[tuple[str, str, bytes]]]:
    """(file name, folder, bytes) per delivery, drawn from ``seed``."""
    rng = random.Random(seed)
    people = _people(7, rng)
    spells, consents = [], []
    for number, pnr in enumerate(people):
        start = date(2024, 1, 8) + timedelta(days=rng.randrange(0, 150))
        end = start + timedelta(days=rng.randrange(40, 200))
        end = end if end <= EXTRACTIONS[-1] and rng.random() < 0.6 else None
        spells.append(_Spell(pnr, start, end, rng.choice(["ARB", "STU", "SJK"]) if end else None,
                             "0980", corrected_kommun=EXTRACTIONS[1] if number == 0 else None))
        if number == 6:
            continue                      # a participant without consent: partners' data is theirs
        parter = ",".join(sorted(rng.sample(["FK", "SOC", "HSF", "AF"], rng.randrange(1, 4))))
        consent = _Consent(pnr, start - timedelta(days=3), None, parter, rng.random() < 0.8)
        if number in (1, 2):              # withdraws while in the insats (2 consents again later)
            consent.withdrawn = start + timedelta(days=rng.randrange(20, 60))
        if number == 3:
            consent.valid_to = start + timedelta(days=60)   # expires; renewed the next day
            consents.append(_Consent(pnr, consent.valid_to + timedelta(days=1), None, parter, True))
        consents.append(consent)
        if number == 2:
            consents.append(_Consent(pnr, consent.withdrawn + timedelta(days=30), None, parter, True))
    spells.append(_Spell(people[5], date(2024, 3, 1), None, None, "0980", removed_on=EXTRACTIONS[2]))
    files: dict[str, list[tuple[str, str, bytes]]] = {}
    for extracted in EXTRACTIONS:
        stamp = extracted.strftime("%Y%m%d")
        files.setdefault("insats", []).append(
            (f"{stamp}_ALFA.csv", "insats", _insats(spells, extracted)))
        files.setdefault("samtycke", []).append(
            (f"{stamp}.csv", "samtycke", _samtycke(consents, extracted)))
        files.setdefault("fk", []).append(
            (f"{stamp}_forman.csv", "fk", _fk(people, extracted, rng)))
        files.setdefault("soc", []).append((f"{stamp}_fbs.csv", "soc", _soc(people, extracted)))
        files.setdefault("hsf", []).append((f"{stamp}_rehab.txt", "hsf", _hsf(people, extracted)))
        files.setdefault("ekonomi", []).append(
            (f"{stamp}_huvudbok.csv", "ekonomi", _ledger(extracted)))
    files["budget"] = [("20240110_budget_2024.xlsx", "budget", _budget(("ALFA",))),
                       ("20240510_budget_2024.xlsx", "budget", _budget(("ALFA", "BETA")))]
    return files


def _csv(header: list[str], rows: list[list[str]], sep: str = ";") -> str:
    return "\n".join([sep.join(header), *(sep.join(row) for row in rows)]) + "\n"


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _insats(spells: list[_Spell], extracted: date) -> bytes:
    rows = []
    for spell in spells:
        if spell.start > extracted or (spell.removed_on and extracted >= spell.removed_on):
            continue
        ended = spell.end is not None and spell.end <= extracted
        kommun = spell.kommun
        if spell.corrected_kommun and extracted < spell.corrected_kommun:
            kommun = "0981"
        rows.append(["ALFA", spell.pnr, "Nej", "", "Nej", "FK", _day(spell.start),
                     _day(spell.end) if ended else "", spell.reason if ended else "", "SJP",
                     "LON" if ended else "", "2", "GY", kommun])
    header = ["Insats", "Personnummer", "Anonym", "Kön", "Skyddad identitet", "Aktualiserande part",
              "Inskrivningsdatum", "Utskrivningsdatum", "Avslutsanledning",
              "Försörjning vid inskrivning", "Försörjning vid utskrivning",
              "Tid i offentlig försörjning", "Utbildningsnivå", "Kommun"]
    return _csv(header, rows).encode("utf-8-sig")


def _samtycke(consents: list[_Consent], extracted: date) -> bytes:
    """The register as its keeper saw it on ``extracted``: what had happened by then."""
    rows = [[c.pnr, "ALFA", _day(c.start), _day(c.valid_to),
             _day(c.withdrawn) if c.withdrawn and c.withdrawn <= extracted else "", c.parter,
             "Ja" if c.sus else "Nej"]
            for c in consents if c.start <= extracted]
    header = ["Personnummer", "Insats", "Samtycke från", "Giltigt till", "Återkallat", "Parter", "SUS"]
    return _csv(header, rows).encode("utf-8")


def _window(extracted: date) -> date:
    """Deltas overlap: each repeats some weeks before the previous extraction."""
    index = EXTRACTIONS.index(extracted)
    return date(2024, 1, 1) if index == 0 else EXTRACTIONS[index - 1] - timedelta(days=21)


def _fk(people: list[str], extracted: date, rng: random.Random) -> bytes:
    rows = []
    for number, pnr in enumerate(people):
        fom = date(2024, 1, 1) + timedelta(days=20 * number)
        if _window(extracted) <= fom <= extracted:
            # a later delivery corrects the degree of the same period
            omfattning = "100" if extracted >= EXTRACTIONS[2] else "50"
            rows.append([pnr, "Namn Namnsson", "SJP", omfattning, fom.strftime("%Y%m%d"),
                         (fom + timedelta(days=45)).strftime("%Y%m%d"), "Visby"])
    header = ["PERSONNR", "NAMN", "FORMAN", "OMFATTNING", "FOM", "TOM", "KONTOR"]
    return _csv(header, rows).replace("\n", "\r\n").encode("cp1252")


def _soc(people: list[str], extracted: date) -> bytes:
    rows = []
    for pnr in people[1:5]:
        for month in range(1, extracted.month + 1):
            first = date(2024, month, 1)
            if _window(extracted) <= first + timedelta(days=27) and first <= extracted:
                short = f"{pnr[2:8]}-{pnr[8:]}"
                amount = f"{3000 + 10 * month:,}".replace(",", " ") + ",50"
                rows.append([short, f"2024-{month:02d}", amount, "x", "y"])
    header = ["pnr", "manad", "belopp", "hushallstyp", "adress"]
    lines = [",".join(header)] + [",".join([r[0], r[1], f'"{r[2]}"', r[3], r[4]]) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def _hsf(people: list[str], extracted: date) -> bytes:
    rows = []
    for number, pnr in enumerate(people):
        day = date(2024, 1, 15) + timedelta(days=25 * number)
        if _window(extracted) <= day <= extracted:
            rows.append([pnr, day.isoformat(), "REHABKOORD", "", "", "", "F32.1"])
    header = ["PATIENT_ID", "KONTAKTDATUM", "KONTAKTTYP", "SJUKSKRIVEN_FOM", "SJUKSKRIVEN_TOM",
              "SJUKSKRIVNINGSGRAD", "DIAGNOSKOD"]
    return _csv(header, rows, sep="|").encode("utf-8")


def _ledger(extracted: date) -> bytes:
    """Year to date each time; the second export corrects a salary line; BETA from May."""
    rows = []
    for month in range(1, extracted.month + 1):
        booked = date(2024, month, 25)
        if booked > extracted:
            continue
        salary = "120000,00" if not (month == 1 and extracted >= EXTRACTIONS[1]) else "118500,00"
        rows += [[f"{month}01", "1", booked.isoformat(), "7010", "ALFA", salary, "Löner"],
                 [f"{month}02", "1", booked.isoformat(), "5010", "", "13000,00", "Hyra"]]
        if month >= 5:
            rows.append([f"{month}03", "1", booked.isoformat(), "7010", "BETA", "50000,00", "Löner"])
    header = ["Ver.nr", "Rad", "Bokföringsdatum", "Konto", "Projekt", "Belopp", "Text"]
    return _csv(header, rows).replace("\n", "\r\n").encode("cp1252")


def _budget(insatser: tuple[str, ...]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Insatser"
    sheet.append(["Insats", "Namn", "Startdatum", "Slutdatum", "Inriktning", "Mål deltagare per år",
                  "Mål andel"])
    sheet.append(["ADM", "Kansli", "2020-01-01", None, "Strukturövergripande", None, None])
    for code in insatser:
        sheet.append([code, code.title(), "2023-01-01", None, "Individinriktad", 20, "55 %"])
    lines = workbook.create_sheet("Budget")
    lines.append(["Insats", "Kostnadsslag", "Kvartal 1", "Kvartal 2", "Kvartal 3", "Kvartal 4",
                  "Ackumulering"])
    for code in ("ADM", *insatser):
        lines.append([code, "LON", 100000, 100000, 100000, 100000, 400000])
    income = workbook.create_sheet("Finansiering")
    income.append(["Finansiär", "Belopp"])
    income.append(["Försäkringskassan", 1000000])
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"budget-{os.getpid()}-{len(insatser)}.xlsx"
    workbook.save(path)
    data = path.read_bytes()
    path.unlink()
    return data


def _deliveries(seed: int) -> list[tuple[str, str, bytes]]:
    return [delivery for group in _world(seed).values() for delivery in group]


def _run(landing: Path, engine, keys) -> None:
    """One run: every source in the registry's order, as the Dagster job runs them."""
    today = IngestSettings(today=TODAY, settle_seconds=0)
    for source in REGISTRY.names:
        ingest_source(source, landing, engine, keys, settings=today)


def _ingest_in_batches(tmp_path: Path, name: str, deliveries, batches: list[int], keys):
    landing = tmp_path / name / "landing"
    engine = make_engine(f"sqlite:///{tmp_path / name / 'warehouse.db'}")
    migrate(engine)
    done = 0
    for size in batches:
        for file_name, folder, data in deliveries[done:done + size]:
            (landing / folder).mkdir(parents=True, exist_ok=True)
            (landing / folder / file_name).write_bytes(data)
        done += size
        _run(landing, engine, keys)
    return engine


def _frame(engine, model) -> pd.DataFrame:
    with engine.connect() as connection:
        return pd.read_sql(select(model.__table__), connection)


def _canonical(engine) -> dict[str, pd.DataFrame]:
    """The warehouse without what only says when something arrived (ids, the random token of a
    de-identified person), deliveries named by file instead of id."""
    files = _frame(engine, models.Delivery).set_index("id")["file_name"]
    out = {}
    for spec in REGISTRY.specs():
        for table in (spec.table, *spec.extra_tables.values()):
            with engine.connect() as connection:
                frame = pd.read_sql(select(table), connection)
            frame["file"] = frame["delivery_id"].map(files)
            frame = frame.drop(columns=["id", "delivery_id"])
            if "deidentified_person" in frame:
                frame["deidentified_person"] = frame["deidentified_person"].notna()
                frame["record_key"] = frame["record_key"].where(
                    ~frame["deidentified_person"], "avidentifierad")
            out[table.name] = frame.astype("string").sort_values(list(frame.columns),
                                                                  ignore_index=True)
    out["identity_vault"] = _frame(engine, models.IdentityVault)[["pseudonym"]].sort_values(
        "pseudonym", ignore_index=True)
    tombstones = _frame(engine, models.ErasureTombstone)
    out["erasure_tombstone"] = tombstones.astype("string").sort_values(
        list(tombstones.columns), ignore_index=True)
    # what the steward must act on; accepted, resolved and closed rows are the history of arrivals
    held = _frame(engine, models.HeldRow)
    held = held.loc[held["status"] == "öppen", ["source", "file_name", "row_number", "column", "rule"]]
    out["held_row"] = held.astype("string").sort_values(list(held.columns), ignore_index=True)
    # every file is in the manifest (how each fared on arrival is the history, not the state)
    manifest = _frame(engine, models.Delivery)[["source", "file_name", "sha256"]]
    out["delivery"] = manifest.astype("string").sort_values(list(manifest.columns),
                                                            ignore_index=True)
    return out


def _outputs(engine) -> dict[str, pd.DataFrame]:
    """What the quarter views make of the warehouse: the participants' statistics and the budget
    follow-up, for every quarter of the year."""
    out = {}
    with engine.connect() as connection:
        spells = read_spells(connection)
        data = budget_inputs(connection, 2024)
    for quarter in range(1, 5):
        start = date(2024, 3 * quarter - 2, 1)
        end = (pd.Timestamp(start) + pd.offsets.QuarterEnd(0)).date()
        tables = statistics.sus_statistics(spells, start, end)
        for sheet, by_table in tables.items():
            for table, frame in by_table.items():
                out[f"Q{quarter} {sheet} {table}"] = frame
        result, _ = followup.quarter_followups(2024, quarter, **data)
        for sheet, frame in result.tables.items():
            out[f"Q{quarter} budget {sheet}"] = frame
    return out


def _assert_same(left: dict[str, pd.DataFrame], right: dict[str, pd.DataFrame]) -> None:
    assert left.keys() == right.keys()
    for name in left:
        pd.testing.assert_frame_equal(left[name].reset_index(drop=True),
                                      right[name].reset_index(drop=True), obj=name)


@st.composite
def _arrivals(draw):
    seed = draw(st.integers(0, 10_000))
    count = len(_deliveries(seed))
    order = draw(st.permutations(range(count)))
    cuts = draw(st.lists(st.booleans(), min_size=count - 1, max_size=count - 1))
    batches, size = [], 1
    for cut in cuts:
        if cut:
            batches.append(size)
            size = 0
        size += 1
    batches.append(size)
    return seed, list(order), batches


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(arrivals=_arrivals())
def test_the_same_deliveries_in_any_order_and_batching_give_the_same_warehouse_and_outputs(
        tmp_path, keys, arrivals):
    seed, order, batches = arrivals
    deliveries = _deliveries(seed)
    shuffled = [deliveries[index] for index in order]
    trial = tmp_path / f"trial-{seed}-{hash(tuple(order)) & 0xffff}"
    once = _ingest_in_batches(trial, "once", deliveries, [len(deliveries)], keys)
    arrived = _ingest_in_batches(trial, "arrived", shuffled, batches, keys)
    try:
        _assert_same(_canonical(once), _canonical(arrived))
        _assert_same(_outputs(once), _outputs(arrived))
        # the world is not trivial: erasures, waiting catalogue codes and corrections all happened
        state = _canonical(once)
        assert len(state["erasure_tombstone"]) > 0
        assert state["ledger_entry"]["projekt"].eq("BETA").any()
        assert state["spell"]["deidentified_person"].eq("True").any()
    finally:
        once.dispose()
        arrived.dispose()
        shutil.rmtree(trial, ignore_errors=True)
