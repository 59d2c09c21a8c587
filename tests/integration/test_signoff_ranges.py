"""Sign-off of ranges: `finsam signoff 2024Q1-2024Q4` freezes exactly the folders that cover those
quarters, and a late delivery lands in rattelser/2024Q1_2024Q4/.

The figures are the hand-made förbund of ``test_budget_assets``. Its year 2024 is run; then the
board's three documents are signed: the årsredovisning 2024 (2024Q1-2024Q4), the delårsrapport
for tertial 1 (January-April: 2024Q1-2024Q2) and the follow-up of 2024Q4. A late ledger
correction (extracted 2025-03-01) books voucher 2401 (JOBB salaries, 31 January) at 63 000
instead of 58 000. Worked out by hand:
  - årsredovisning, Resultaträkning 2024: Summa kostnader -420 000 -> -425 000, Eget kapital vid
    årets slut 78 000 -> 73 000;
  - delårsrapport T1: Periodens resultat 440 000 / 3 - 165 000 -> 440 000 / 3 - 170 000;
  - the signed folders are byte for byte what was signed; the unsigned ones (2024Q1-Q3 and the
    delårsrapport T2, 2024Q1-2024Q3) are simply rebuilt.
Also: the migration to 0005_signoff_ranges keeps the quarter sign-offs made before it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import insert, select, text

from assets.ingest.run import ingest_source
from assets.signoff import Span
from cli.main import main
from tests.integration.test_budget_assets import _run
from tests.integration.test_budget_assets import warehouse as _budget_warehouse
from tests.integration.test_signoff import LATE, _late_correction
from tests.support.outputs import digests, semicolon_rows
from warehouse import models
from warehouse.db import alembic_config

warehouse = _budget_warehouse  # the hand-made förbund, ingested

CAUSE = "Orsak (leveranser efter signeringen)"




def _sign(url: str, out: Path, span: str, capsys) -> list[str]:
    """Signs ``span``; returns the folders it froze, as printed."""
    assert main(["signoff", span, "--note", "styrelsen 2025-02-20", "--warehouse", url,
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    return sorted(line.split(":")[0].strip() for line in printed[1:])


def test_a_range_freezes_exactly_the_folders_that_cover_it(
        warehouse, warehouse_url, engine, keys, tmp_path, key_files, capsys, monkeypatch):
    monkeypatch.delenv("FINSAM_DELARSPERIOD", raising=False)
    out = tmp_path / "out"
    _run(warehouse_url, warehouse, out, key_files, "2024Q1", "2024Q4")
    folders = ("arsredovisning/2024", "delarsrapport/2024T1", "delarsrapport/2024T2",
               *(f"budget/2024Q{n}" for n in (1, 2, 3, 4)))
    before = {folder: digests(out / folder) for folder in folders}

    assert _sign(warehouse_url, out, "2024Q1-2024Q4", capsys) == ["arsredovisning/2024"]
    # written as the folders name it, too
    assert _sign(warehouse_url, out, "2024Q1_2024Q2", capsys) == ["delarsrapport/2024T1"]
    assert _sign(warehouse_url, out, "2024Q4", capsys) == ["budget/2024Q4"]
    # a range is signed once; a range nothing covers has nothing to sign
    assert main(["signoff", "2024Q1-2024Q4", "--warehouse", warehouse_url,
                 "--out", str(out)]) == 1
    assert "2024Q1-2024Q4 är redan signerat" in capsys.readouterr().err
    assert main(["signoff", "2023Q3-2024Q1", "--warehouse", warehouse_url,
                 "--out", str(out)]) == 1
    assert "2023Q3-2024Q1 har inga utdata att signera" in capsys.readouterr().err

    _late_correction(warehouse)
    ingest_source("ekonomi", warehouse, engine, keys)
    _run(warehouse_url, warehouse, out, key_files, "2024Q1", "2024Q4")

    frozen = {"arsredovisning/2024", "delarsrapport/2024T1", "budget/2024Q4"}
    for folder in folders:
        if folder in frozen:
            assert digests(out / folder) == before[folder], folder
        else:
            # rebuilt from the corrected ledger (the 2024Q1-2024Q3 span was never signed)
            assert digests(out / folder) != before[folder], folder
    corrections = out / "rattelser"
    assert sorted(path.parent.relative_to(corrections).as_posix()
                  for path in corrections.rglob("celler.csv")) == [
        "2024Q1_2024Q2/delarsrapport/2024T1", "2024Q1_2024Q4/arsredovisning/2024",
        "2024Q4/budget/2024Q4"]

    year = semicolon_rows(corrections / "2024Q1_2024Q4" / "arsredovisning" / "2024" / "celler.csv")
    changes = {(row["Blad"], row["Rad"], float(row["Signerat värde"]), float(row["Nytt värde"]),
                float(row["Skillnad"])) for row in year if row["Skillnad"]}
    assert ("Resultaträkning", "Summa kostnader", -420_000, -425_000, -5_000) in changes
    assert ("Resultaträkning", "Eget kapital vid årets slut", 78_000, 73_000, -5_000) in changes
    assert {row[CAUSE] for row in year} == {f"{LATE} (ekonomi, uttagen 2025-03-01)"}
    tertial = semicolon_rows(corrections / "2024Q1_2024Q2" / "delarsrapport" / "2024T1" / "celler.csv")
    result = [row for row in tertial
              if row["Blad"] == "Resultaträkning" and row["Rad"] == "Periodens resultat"]
    assert result and all(
        float(row["Nytt värde"]) - float(row["Signerat värde"]) == pytest.approx(-5_000)
        for row in result)
    assert any(float(row["Signerat värde"]) == pytest.approx(440_000 / 3 - 165_000)
               and float(row["Nytt värde"]) == pytest.approx(440_000 / 3 - 170_000)
               for row in result)
    (lineage,) = semicolon_rows(corrections / "2024Q1_2024Q4" / "arsredovisning" / "2024" / "underlag.csv")
    assert (lineage["Fil"], lineage["Uttagsdatum"]) == (LATE, "2025-03-01")

    assert main(["signoff", "--list", "--warehouse", warehouse_url, "--out", str(out)]) == 0
    listing = capsys.readouterr().out
    heads = [line.split(":")[0] for line in listing.splitlines() if not line.startswith(" ")]
    assert heads == ["2024Q1-2024Q2", "2024Q1-2024Q4", "2024Q4"]
    assert "rattelser/2024Q1_2024Q4/arsredovisning/2024" in listing


@pytest.mark.parametrize(("given", "said"), [
    ("2024Q4-2024Q1", "sista kvartalet ligger före det första"),
    ("2024Q5", "är inget kvartal"),
    ("2024Q1-2024Q2-2024Q3", "varken ett kvartal"),
])
def test_a_mistyped_span_is_refused_before_anything_is_touched(tmp_path, capsys, given, said):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    assert main(["signoff", given, "--warehouse", url, "--out", str(tmp_path)]) == 2
    assert said in capsys.readouterr().err
    assert not (tmp_path / "w.db").exists()


def test_spans_read_and_name_themselves():
    assert Span.parse("2024q4") == Span("2024Q4", "2024Q4")
    year = Span("2024Q1", "2024Q4")
    assert Span.parse(" 2024Q1 – 2024Q4 ") == Span.parse("2024Q1_2024Q4") == year
    assert (str(Span("2024Q1", "2024Q4")), Span("2024Q1", "2024Q4").label) == (
        "2024Q1-2024Q4", "2024Q1_2024Q4")
    assert Span.of(dt.date(2024, 1, 1), dt.date(2024, 8, 31)) == Span("2024Q1", "2024Q3")


def _migrate(engine, revision: str, direction=command.upgrade) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        direction(config, revision)


def test_the_migration_keeps_the_quarter_sign_offs_made_before_it(engine):
    """Down to r17_release_register (one quarter per sign-off), a frozen follow-up and three
    folders not yet frozen written as that schema had them; up again: the sign-off is of the span
    2024Q2, its folder still frozen by it, the others have the span their folder names (or none,
    to be rebuilt). Back down is refused while a range is signed off."""
    _migrate(engine, "r17_release_register", command.downgrade)
    now = dt.datetime(2024, 8, 1, tzinfo=dt.UTC)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO signoff (id, quarter, signed_at, signed_by) "
            "VALUES (1, '2024Q2', :now, 'anna')"), {"now": now})
        connection.execute(text(
            "INSERT INTO output_view (id, kind, folder, quarter, restricted, built_at, files, "
            "deliveries, deidentified, signoff_id) VALUES (:id, :kind, :folder, :quarter, false, "
            ":now, '{}', '[]', 0, :signoff)"), [
            {"id": number, "kind": kind, "folder": folder, "quarter": quarter, "now": now,
             "signoff": signoff} for number, (kind, folder, quarter, signoff) in enumerate((
                ("budgetuppfoljning", "budget/2024Q2", "2024Q2", 1),
                ("budgetuppfoljning", "budget/2024Q3", "2024Q3", None),
                ("sus_inlamning", "begransad/sus/2024Q1_2024Q4", None, None),
                ("arsredovisning", "arsredovisning/2024", "2024Q4", None)), start=1)])
    _migrate(engine, "head")
    views = models.OutputView.__table__
    signoffs = models.SignOff.__table__
    with engine.connect() as connection:
        assert connection.execute(select(signoffs.c.first_quarter, signoffs.c.last_quarter)
                                  ).all() == [("2024Q2", "2024Q2")]
        spans = {row.folder: (row.first_quarter, row.last_quarter, row.signoff_id)
                 for row in connection.execute(select(views))}
    assert spans == {"budget/2024Q2": ("2024Q2", "2024Q2", 1),
                     "budget/2024Q3": ("2024Q3", "2024Q3", None),
                     "begransad/sus/2024Q1_2024Q4": ("2024Q1", "2024Q4", None),
                     "arsredovisning/2024": (None, None, None)}

    with engine.begin() as connection:
        connection.execute(insert(signoffs).values(
            id=2, first_quarter="2024Q1", last_quarter="2024Q4", signed_at=now, signed_by="bo"))
    with pytest.raises(RuntimeError, match="flera kvartal"):
        _migrate(engine, "r17_release_register", command.downgrade)
    with engine.begin() as connection:
        connection.execute(signoffs.delete().where(signoffs.c.id == 2))
    _migrate(engine, "r17_release_register", command.downgrade)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT quarter FROM signoff").all() == [("2024Q2",)]
        assert dict(connection.exec_driver_sql(
            "SELECT folder, quarter FROM output_view").all()) == {
            "budget/2024Q2": "2024Q2", "budget/2024Q3": "2024Q3",
            "begransad/sus/2024Q1_2024Q4": None, "arsredovisning/2024": None}
    _migrate(engine, "head")
