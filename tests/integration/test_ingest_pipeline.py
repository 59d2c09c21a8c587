"""Ingestion end to end on the contract's samples: manifest, idempotency, newest-wins, rejections."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from assets.ingest.run import ingest_source
from finsam.enums import Outcome
from sources.landing import IngestSettings
from sources.registry import REGISTRY
from warehouse import models

ORDER = REGISTRY.names


def _ingest_all(landing: Path, engine, keys) -> dict:
    return {source: ingest_source(source, landing, engine, keys) for source in ORDER}


def _table(engine, model) -> pd.DataFrame:
    with engine.connect() as connection:
        return pd.read_sql(select(model.__table__), connection)


def test_every_sample_is_loaded(sample_landing, engine, keys):
    reports = _ingest_all(sample_landing, engine, keys)
    manifest = _table(engine, models.Delivery)
    assert set(manifest["source"]) == set(REGISTRY.names)
    # the insats sample comes as CSV and XLSX with the same extraction date: one is superseded
    assert sorted(manifest.loc[manifest["source"] == "insats", "outcome"]) == sorted([Outcome.LOADED, Outcome.SUPERSEDED])
    assert (manifest.loc[manifest["source"] != "insats", "outcome"] == Outcome.LOADED).all()
    # fk: Carl withdrew his only consent and Eva's consent does not name FK
    assert len(_table(engine, models.FkBenefit)) == 2
    assert len(_table(engine, models.SocPayment)) == 3
    assert len(_table(engine, models.LedgerEntry)) == 6
    assert reports["hsf"].rows_read == 3
    hsf = _table(engine, models.HsfContact)
    # the reservnummer row is counted, not linked; Carl withdrew his only consent, so he is erased
    assert len(hsf) == 1
    notices = _table(engine, models.StewardNotice)
    assert ("reservnummer", "hsf", 1) in set(zip(notices["kind"], notices["source"], notices["count"]))


def test_same_run_twice_changes_nothing(sample_landing, engine, keys):
    _ingest_all(sample_landing, engine, keys)
    before = {model.__tablename__: _table(engine, model)
              for model in (models.Spell, models.FkBenefit, models.LedgerEntry, models.Delivery)}
    reports = _ingest_all(sample_landing, engine, keys)
    assert all(not report.files for report in reports.values())
    for model in (models.Spell, models.FkBenefit, models.LedgerEntry, models.Delivery):
        pd.testing.assert_frame_equal(before[model.__tablename__], _table(engine, model))


def test_same_bytes_under_another_name_is_processed_once(sample_landing, engine, keys):
    ingest_source("samtycke", sample_landing, engine, keys)
    fk = sample_landing / "fk"
    shutil.copy(fk / "20241130_forman.csv", fk / "20241130_forman_igen.csv")
    report = ingest_source("fk", sample_landing, engine, keys)
    assert [item.outcome for item in report.files] == [Outcome.LOADED, Outcome.DUPLICATE]
    assert len(_table(engine, models.FkBenefit)) == 2


def test_delta_newest_delivery_wins_whatever_the_order(sample_landing, engine, keys):
    # a consent register of the new year's eve: the partners' later files may be judged by it
    shutil.copy(sample_landing / "samtycke" / "20241130.csv", sample_landing / "samtycke" / "20241231.csv")
    ingest_source("samtycke", sample_landing, engine, keys)
    fk = sample_landing / "fk"
    original = (fk / "20241130_forman.csv").read_bytes().decode("cp1252")
    changed = original.replace("SJP;100;20230905;20240630", "SJP;50;20230905;20240531")
    (fk / "20241215_rattelse.csv").write_bytes(changed.encode("cp1252"))
    ingest_source("fk", sample_landing, engine, keys)
    older = original.replace("SJP;100;20230905;20240630", "SJP;75;20230905;20240430")
    (fk / "20241101_sen.csv").write_bytes(older.encode("cp1252"))
    ingest_source("fk", sample_landing, engine, keys)
    benefits = _table(engine, models.FkBenefit)
    assert len(benefits) == 2
    row = benefits.loc[(benefits["forman"] == "SJP") & (benefits["fom"].astype(str) == "2023-09-05")]
    assert row["omfattning"].tolist() == [50.0]


def test_snapshot_newest_wins_and_vanished_records_are_reported(sample_landing, engine, keys):
    folder = sample_landing / "insats"
    (folder / "20241130_DEMO1.xlsx").unlink()
    ingest_source("budget", sample_landing, engine, keys)
    ingest_source("insats", sample_landing, engine, keys)
    loaded_before = len(_table(engine, models.Spell))
    text = (folder / "20241130_DEMO1.csv").read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    shorter = "\n".join(line for line in lines if "Anna Exempel" not in line) + "\n"
    (folder / "20241231_DEMO1.csv").write_text(shorter, encoding="utf-8-sig")
    ingest_source("insats", sample_landing, engine, keys)
    spells = _table(engine, models.Spell)
    assert len(spells) == loaded_before - 1
    notices = _table(engine, models.StewardNotice)
    vanished = notices.loc[notices["kind"] == "försvunna_poster"]
    assert vanished["count"].tolist() == [1]
    assert "Anna" not in vanished["detail"].iloc[0]


def test_partner_rows_without_consent_are_counted_not_stored(sample_landing, engine, keys):
    ingest_source("samtycke", sample_landing, engine, keys)
    ingest_source("fk", sample_landing, engine, keys)
    notices = _table(engine, models.StewardNotice)
    counts = notices.set_index("kind")["count"].to_dict()
    # Eva's consent does not name FK; Carl withdrew every consent and is erased
    assert counts["utan_samtycke"] == 1 and counts["återkallat"] == 1


def test_rejected_file_does_not_stop_the_others(sample_landing, engine, keys):
    ingest_source("samtycke", sample_landing, engine, keys)
    fk = sample_landing / "fk"
    text = (fk / "20241130_forman.csv").read_bytes().decode("cp1252")
    (fk / "20241130_utan_fom.csv").write_bytes(text.replace(";FOM;", ";FRAN;").encode("cp1252"))
    (fk / "forman_final.csv").write_bytes(b"PERSONNR;FORMAN\r\n")
    report = ingest_source("fk", sample_landing, engine, keys)
    outcomes = {item.file_name: item.outcome for item in report.files}
    assert outcomes == {"20241130_forman.csv": Outcome.LOADED, "20241130_utan_fom.csv": Outcome.REJECTED,
                        "forman_final.csv": Outcome.UNRECOGNISED}
    manifest = _table(engine, models.Delivery)
    message = manifest.loc[manifest["outcome"] == Outcome.REJECTED, "message"].iloc[0]
    assert "20241130_utan_fom.csv" in message and "FOM" in message
    assert len(_table(engine, models.FkBenefit)) == 2


def test_a_delivery_dated_after_today_waits_and_says_so(sample_landing, engine, keys):
    report = ingest_source("budget", sample_landing, engine, keys,
                           settings=IngestSettings(today=date(2024, 10, 1), settle_seconds=0))
    assert report.files == []
    assert report.waiting and "senare än i dag" in report.waiting[0][1]
    notices = _table(engine, models.StewardNotice)
    assert notices["kind"].tolist() == ["väntar"]
    # once the day has come, the file is read and the notice goes
    ingest_source("budget", sample_landing, engine, keys)
    assert "väntar" not in set(_table(engine, models.StewardNotice)["kind"])
    assert not _table(engine, models.BudgetLine).empty


def test_a_partner_file_waits_for_a_consent_register_as_new_as_it(sample_landing, engine, keys):
    """Until a consent register extracted the same day or later has been read, nobody can tell
    whether the partner's records were shared under consent."""
    report = ingest_source("fk", sample_landing, engine, keys)
    assert report.files == [] and "samtyckesregister" in report.waiting[0][1]
    assert _table(engine, models.FkBenefit).empty
    ingest_source("samtycke", sample_landing, engine, keys)
    assert [item.outcome for item in ingest_source("fk", sample_landing, engine, keys).files] == [
        Outcome.LOADED]


@pytest.mark.parametrize("model", [models.Spell, models.FkBenefit, models.Consent])
def test_person_tables_hold_pseudonyms_only(sample_landing, engine, keys, model):
    _ingest_all(sample_landing, engine, keys)
    frame = _table(engine, model)
    assert "pnr" not in frame.columns
    linked = frame["pseudonym"].dropna()
    assert linked.str.fullmatch(r"[0-9a-f]{64}").all()


def test_every_notice_the_landing_zone_gives_is_named_for_the_steward(sample_landing, engine, keys,
                                                                       tmp_path):
    """A link, a folder, an unknown name and a file dated after today each leave a notice; the
    steward's page and CSV name each kind in words, never by its internal key."""
    from assets.steward.page import write_reports
    from assets.steward.review import NOTICE_TYPES

    (sample_landing / "hsf" / "20241130_mapp.txt").mkdir()
    (sample_landing / "fk" / "forman_final.csv").write_bytes(b"PERSONNR;FORMAN\r\n")
    (sample_landing / "fk" / "20991231_forman.csv").write_bytes(
        (sample_landing / "fk" / "20241130_forman.csv").read_bytes() + b"\r\n")
    for source in ORDER:
        ingest_source(source, sample_landing, engine, keys)
    kinds = set(_table(engine, models.StewardNotice)["kind"])
    assert {"inte_en_fil", "okänd_leverans", "väntar"} <= kinds
    assert kinds <= set(NOTICE_TYPES)
    with engine.connect() as connection:
        paths = write_reports(connection, tmp_path / "out")
    page = paths["html"].read_text(encoding="utf-8")
    table = paths["csv"].read_text(encoding="utf-8-sig")
    for kind in (kind for kind in kinds if "_" in kind):      # the keys that are not words
        assert kind not in page and kind not in table
    # counts read as Swedish: one row is "1 rad", never "1 rader"
    assert "1 rader" not in page.replace("\xa0", " ")
    assert "1 rader" not in table.replace("\xa0", " ")


def test_an_empty_snapshot_waits_for_the_steward_however_small_the_register(sample_landing, engine,
                                                                             keys):
    """A register that comes with its header only (a failed export) would empty the insats: it
    waits as a warning for the steward, and the spells stay as they were."""
    for source in ORDER:
        ingest_source(source, sample_landing, engine, keys)
    before = _table(engine, models.Spell)
    header = (sample_landing / "insats" / "20241130_DEMO1.csv").read_text(
        encoding="utf-8-sig").splitlines()[0]
    (sample_landing / "insats" / "20241201_DEMO1.csv").write_text(header + "\n",
                                                                  encoding="utf-8-sig")
    report = ingest_source("insats", sample_landing, engine, keys)
    assert [item.outcome for item in report.files] == [Outcome.WAITING]
    pd.testing.assert_frame_equal(_table(engine, models.Spell), before)
    held = _table(engine, models.HeldRow)
    waiting = held.loc[held["file_name"] == "20241201_DEMO1.csv"]
    assert waiting["status"].tolist() == ["öppen"] and "krympt" in waiting["rule"].iloc[0]
