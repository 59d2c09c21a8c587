"""A withdrawal: erasure, audit, AVB exit, and the same aggregates for earlier quarters on re-runs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import select

from assets.ingest.run import ingest_source
from warehouse import models

ORDER = ("budget", "insats", "samtycke", "fk", "af", "soc", "hsf", "ekonomi")
BO = "198112279297"
QUARTERS = pd.period_range("2024Q1", "2024Q2", freq="Q")


def _ingest_all(landing: Path, engine, keys) -> None:
    for source in ORDER:
        ingest_source(source, landing, engine, keys)


def _table(engine, model) -> pd.DataFrame:
    with engine.connect() as connection:
        return pd.read_sql(select(model.__table__), connection)


def _aggregates(engine) -> pd.DataFrame:
    """Enrolled, ended, active at the end, and unique persons per quarter (what SUS statistics use)."""
    spells = _table(engine, models.Spell)
    start = pd.to_datetime(spells["inskrivningsdatum"])
    end = pd.to_datetime(spells["utskrivningsdatum"])
    person = spells["pseudonym"].fillna(spells["deidentified_person"])
    rows = []
    for quarter in QUARTERS:
        first, last = quarter.start_time, quarter.end_time.normalize()
        active = (start <= last) & (end.isna() | (end >= first))
        rows.append({"quarter": str(quarter),
                     "enrolled": int(start.between(first, last).sum()),
                     "ended": int(end.between(first, last).sum()),
                     "active_at_end": int(((start <= last) & (end.isna() | (end > last))).sum()),
                     "persons": int(person[active].nunique()),
                     "women": int((spells.loc[active, "kon"] == "K").sum()),
                     "age_sum": int(spells.loc[active, "age_at_enrolment"].fillna(0).sum())})
    return pd.DataFrame(rows)


def _withdraw(landing: Path, who: str, day: str, extraction: str) -> None:
    register = (landing / "samtycke" / "20241130.csv").read_text(encoding="utf-8")
    lines = [line if not line.startswith(who) else _with_withdrawal(line, day)
             for line in register.splitlines()]
    (landing / "samtycke" / f"{extraction}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _with_withdrawal(line: str, day: str) -> str:
    fields = line.split(";")
    fields[4] = day
    return ";".join(fields)


def test_withdrawal_erases_audits_registers_out_and_keeps_past_aggregates(sample_landing, engine, keys):
    _ingest_all(sample_landing, engine, keys)
    before = _aggregates(engine)
    bo_spell = _table(engine, models.Spell).query("aktualiserande_part == 'SOC'")
    assert bo_spell["utskrivningsdatum"].isna().all()
    assert len(_table(engine, models.SocPayment)) == 3
    vault_before = len(_table(engine, models.IdentityVault))

    _withdraw(sample_landing, BO, "2024-09-15", "20241201")
    _ingest_all(sample_landing, engine, keys)

    spells = _table(engine, models.Spell)
    bo = spells.query("aktualiserande_part == 'SOC'")
    assert bo["utskrivningsdatum"].astype(str).tolist() == ["2024-09-15"]
    assert bo["avslutsanledning"].tolist() == ["AVB"]
    assert bo["pseudonym"].isna().all()
    # nothing points back to the landing row that holds his number
    assert bo[["delivery_id", "row_number"]].isna().all().all()
    assert bo["deidentified_person"].notna().all() and bo["age_at_enrolment"].tolist() == [42]
    assert _table(engine, models.SocPayment).empty
    assert len(_table(engine, models.IdentityVault)) == vault_before - 1
    audit = _table(engine, models.ErasureAudit)
    assert set(audit["table_name"]) == {"spell (avidentifierad)", "identity_vault", "soc_payment",
                                        "af_support", "consent"}
    assert audit.set_index("table_name")["rows"].to_dict()["soc_payment"] == 3
    assert not audit.astype(str).apply(lambda column: column.str.contains(BO[2:8])).any().any()
    pd.testing.assert_frame_equal(before, _aggregates(engine))

    # the insats team re-delivers its register with Bo still in it, and soc re-sends old payments
    insats = sample_landing / "insats"
    (insats / "20241130_DEMO1.xlsx").unlink()
    (insats / "20241215_DEMO1.csv").write_bytes((insats / "20241130_DEMO1.csv").read_bytes() + b"\n")
    soc = sample_landing / "soc"
    (soc / "20241215_fbs.csv").write_bytes((soc / "20241130_fbs.csv").read_bytes() + b"\n")
    _ingest_all(sample_landing, engine, keys)
    again = _table(engine, models.Spell).query("aktualiserande_part == 'SOC'")
    assert len(again) == 1 and again["pseudonym"].isna().all()
    assert _table(engine, models.SocPayment).empty
    assert len(_table(engine, models.IdentityVault)) == vault_before - 1
    pd.testing.assert_frame_equal(before, _aggregates(engine))
