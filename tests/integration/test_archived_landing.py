"""After a delivery is in the manifest, finsam never needs its file again: the landing zone can be
archived or purged, and every later run (held rows accepted, codes resolved, reopened) works
from what the warehouse kept."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from assets.ingest.run import ingest_source
from sources.registry import REGISTRY
from warehouse import models, quarantine

OLD_PERSON = "19550114-2284"   # Skatteverket test number, 69 at enrolment in 2024: a warning


def _run(landing: Path, engine, keys) -> dict:
    return {source: ingest_source(source, landing, engine, keys) for source in REGISTRY.names}


def _table(engine, model) -> pd.DataFrame:
    with engine.connect() as connection:
        return pd.read_sql(select(model.__table__), connection)


def _with_old_person_and_unknown_insats(landing: Path) -> None:
    folder = landing / "insats"
    (folder / "20241130_DEMO1.xlsx").unlink()
    text = (folder / "20241130_DEMO1.csv").read_text(encoding="utf-8-sig").rstrip("\n")
    rows = [f"DEMO1;{OLD_PERSON};;Nej;K;Nej;FK;2024-06-03;;;SJP;;2;GY;0980"]
    (folder / "20241130_DEMO1.csv").write_text(text + "\n" + "\n".join(rows) + "\n",
                                               encoding="utf-8-sig")
    # a ledger line on an insats the budget does not list yet
    ledger = landing / "ekonomi" / "20241130_huvudbok.csv"
    ledger.write_bytes(ledger.read_bytes() + "9999;1;2024-03-15;7010;NYINSATS;5000,00;Lön\r\n"
                       .encode("cp1252"))


def test_an_archived_landing_zone_changes_nothing_and_held_rows_still_load(
        sample_landing, engine, keys, tmp_path):
    _with_old_person_and_unknown_insats(sample_landing)
    budget = sample_landing / "budget" / "20241130_budget_2024.xlsx"
    _run(sample_landing, engine, keys)
    tables = {model: _table(engine, model) for model in
              (models.Spell, models.Consent, models.FkBenefit, models.LedgerEntry)}

    archive = tmp_path / "arkiv"
    shutil.move(str(sample_landing), archive)
    sample_landing.mkdir()
    reports = _run(sample_landing, engine, keys)
    assert all(not report.files for report in reports.values())
    for model, before in tables.items():
        pd.testing.assert_frame_equal(before, _table(engine, model))

    # the steward accepts the 69-year-old: the row loads with no file to read
    held = _table(engine, models.HeldRow)
    warning = int(held.loc[held["severity"] == "varning", "id"].iloc[0])
    with engine.begin() as connection:
        quarantine.accept(connection, warning, "Beviljat undantag", who="förvaltare")
    assert ingest_source("insats", sample_landing, engine, keys).accepted_loaded == 1
    assert len(_table(engine, models.Spell)) == len(tables[models.Spell]) + 1
    # reopened, and accepted again: out, and in again, still without the file
    with engine.begin() as connection:
        quarantine.reopen(connection, warning, "fel", who="förvaltare",
                          tables={spec.name: spec.table for spec in REGISTRY.specs()})
    assert len(_table(engine, models.Spell)) == len(tables[models.Spell])
    with engine.begin() as connection:
        quarantine.accept(connection, warning, "Ändå beviljat", who="förvaltare")
    assert ingest_source("insats", sample_landing, engine, keys).accepted_loaded == 1

    # a new budget lists the new insats: the held ledger line loads from its kept record
    (sample_landing / "budget").mkdir()
    new_budget = sample_landing / "budget" / "20241215_budget_2024.xlsx"
    shutil.copy(archive / "budget" / budget.name, new_budget)
    _add_insats(new_budget, "NYINSATS")
    reports = _run(sample_landing, engine, keys)
    assert reports["ekonomi"].resolved == 1
    ledger = _table(engine, models.LedgerEntry)
    assert ledger["projekt"].eq("NYINSATS").sum() == 1


def _add_insats(path: Path, code: str) -> None:
    import openpyxl

    workbook = openpyxl.load_workbook(path)
    workbook["Insatser"].append([code, "Ny insats", "2024-01-01", None, "Individinriktad", 10, None])
    workbook.save(path)
