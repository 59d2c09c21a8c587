"""The SUS statistics of a signed-off range are frozen, and later runs publish only what the new,
protected release shows.

The förbund: insats DEMO1, the first half of 2024, every participant born in 1990 (30-39 years
old on enrolment) with SUS consent from 1 December 2023, nobody ended:
  women W1 10 Jan, W2 20 Jan, W3 5 Feb (Aktivitetsstöd, up to 1 year), W4 15 Apr (the same),
        W5 1 Mar (Försörjningsstöd, up to 3 years);
  men   M1 10 Feb, M2 12 Mar, M3 6 May (Aktivitetsstöd, up to 1 year).
`finsam signoff 2024Q1-2024Q2` freezes the range's statistics (published and internal) and its
submission. A late register (extracted 15 January 2025) adds M4, enrolled 10 May with
a-kassa for up to 2 years. Worked out by hand, with every count shown (min_cell 1), the new
release differs from the signed one, on the sheet Alla insatser and on DEMO1 alike, in:
  Översikt: Nyinskrivna, Inskrivna vid periodens slut and Unika personer 8 -> 9;
  Försörjning vid inskrivning, a-kassa: Män and Totalt 0 -> 1;
  Tid i offentlig försörjning, Upp till 2 år: Män and Totalt 0 -> 1;
  Ålder vid inskrivning, 30–39: Män 3 -> 4, Totalt 8 -> 9;
  the quarterly bars, 2024Q2 nyinskrivna: 2 -> 3.
With min_cell 3 the a-kassa and up-to-2-years counts of one man are small: the attacker's scan
checks that no correction shows a hidden count, only values already public or shown by the new
release as the register recorded it.
"""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path

import dagster as dg
import openpyxl
import pytest
from sqlalchemy import create_engine, select

from assets.ingest.run import ingest_source
from assets.sus import register
from assets.sus.warehouse_frames import read_counted_spells
from cli.main import main
from finsam.reference import test_personnummer as skatteverket_numbers
from orchestration import settings
from orchestration.runner import run_quarters
from tests.support import sus_audit
from tests.support.outputs import digests, semicolon_rows
from tests.support.releases import Published, attack, attack_as_of, counts_of
from warehouse import models

HEADER = ("Insats;Personnummer;Namn;Anonym;Kön;Skyddad identitet;Aktualiserande part;"
          "Inskrivningsdatum;Utskrivningsdatum;Avslutsanledning;Försörjning vid inskrivning;"
          "Försörjning vid utskrivning;Tid i offentlig försörjning;Utbildningsnivå;Kommun")
CONSENT_HEADER = "Personnummer;Insats;Samtycke från;Giltigt till;Återkallat;Parter;SUS"
# (kön, enrolment, försörjning, tid i offentlig försörjning)
WOMEN = [("K", "2024-01-10", "AKS", "1"), ("K", "2024-01-20", "AKS", "1"),
         ("K", "2024-02-05", "AKS", "1"), ("K", "2024-04-15", "AKS", "1"),
         ("K", "2024-03-01", "FSB", "3")]
MEN = [("M", "2024-02-10", "AKS", "1"), ("M", "2024-03-12", "AKS", "1"),
       ("M", "2024-05-06", "AKS", "1")]
LATE_MAN = ("M", "2024-05-10", "AKA", "2")
SPAN = "2024Q1_2024Q2"
PUBLISHED = Path("sus") / SPAN
INTERNAL = Path("begransad") / "sus_statistik" / SPAN
CAUSE = "Orsak (leveranser efter signeringen)"
HIDDEN = ".."


def _people() -> tuple[list[str], list[str]]:
    """Test numbers born in 1990: women (second last digit even) and men (odd)."""
    born = [number for number in skatteverket_numbers() if number.startswith("1990")]
    women = [number for number in born if int(number[-2]) % 2 == 0]
    men = [number for number in born if int(number[-2]) % 2 == 1]
    return women[:len(WOMEN)], men[:len(MEN) + 1]


def _register(people: list[tuple[str, tuple]]) -> str:
    rows = [f"DEMO1;{number};;Nej;{kon};Nej;AF;{day};;;{support};;{years};GY;0980"
            for number, (kon, day, support, years) in people]
    return "\n".join([HEADER, *rows]) + "\n"


def _consents(numbers: list[str]) -> str:
    rows = [f"{number};DEMO1;2023-12-01;;;AF,FK,SOC;Ja" for number in numbers]
    return "\n".join([CONSENT_HEADER, *rows]) + "\n"


@pytest.fixture
def landing(sample_landing: Path, engine, keys) -> Path:
    """The samples' budget (which has DEMO1), and the register and consents above, ingested."""
    for folder in ("insats", "samtycke"):
        for path in (sample_landing / folder).iterdir():
            path.unlink()
    women, men = _people()
    people = list(zip(women, WOMEN)) + list(zip(men[:-1], MEN))
    (sample_landing / "insats" / "20240710_DEMO1.csv").write_text(_register(people),
                                                                  encoding="utf-8")
    (sample_landing / "samtycke" / "20240710.csv").write_text(
        _consents([number for number, _ in people]), encoding="utf-8")
    for source in ("budget", "insats", "samtycke"):
        ingest_source(source, sample_landing, engine, keys)
    return sample_landing


def _deliver_late(landing: Path, engine, keys) -> None:
    """The corrected register and consents of 15 January 2025: M4 added."""
    women, men = _people()
    people = list(zip(women, WOMEN)) + list(zip(men, [*MEN, LATE_MAN]))
    (landing / "insats" / "20250115_DEMO1.csv").write_text(_register(people), encoding="utf-8")
    (landing / "samtycke" / "20250115.csv").write_text(
        _consents([number for number, _ in people]), encoding="utf-8")
    for source in ("insats", "samtycke"):
        ingest_source(source, landing, engine, keys)


def _run(warehouse_url: str, landing: Path, out: Path, key_files, min_cell: int,
         first: str = "2024Q1", last: str = "2024Q2"):
    pseudonym_key, vault_key = key_files
    resources = settings.explicit(landing, warehouse_url, out, str(pseudonym_key), str(vault_key))
    return run_quarters(resources, first, last, dg.DagsterInstance.ephemeral(),
                        first_quarter="2024Q1", assets=["sus_submission", "sus_statistics"],
                        asset_config={"sus_statistics": {"min_cell": min_cell}})


def _sign(warehouse_url: str, out: Path, capsys) -> str:
    assert main(["signoff", "2024Q1-2024Q2", "--note", "SUS-statistik första halvåret",
                 "--warehouse", warehouse_url, "--out", str(out)]) == 0
    return capsys.readouterr().out


def _workbook_cells(path: Path) -> dict[tuple[str, str, str, str], object]:
    """What a published workbook shows, read from the file itself: per sheet, after a heading, a
    note and a blank row, tables of a name row, a header row (blank, columns...), label rows and a
    blank row. The sheet "Om statistiken" is text."""
    book = openpyxl.load_workbook(path, read_only=True)
    cells = {}
    for sheet in book.worksheets:
        if sheet.title == "Om statistiken":
            continue
        rows = [list(row) for row in sheet.iter_rows(min_row=4, values_only=True)]
        index = 0
        while index < len(rows):
            if not rows[index] or rows[index][0] is None:
                index += 1
                continue
            table, header = rows[index][0], rows[index + 1]
            columns = [column for column in header[1:] if column is not None]
            index += 2
            while index < len(rows) and rows[index] and rows[index][0] is not None:
                for column, value in zip(columns, rows[index][1:]):
                    cells[(sheet.title, table, str(rows[index][0]), str(column))] = value
                index += 1
    book.close()
    return cells


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _register_rows(warehouse_url: str) -> list[dict]:
    engine = create_engine(warehouse_url)
    try:
        with engine.connect() as connection:
            frame = register.read(connection)
    finally:
        engine.dispose()
    return frame.loc[(frame["period_start"] == dt.date(2024, 1, 1))
                     & (frame["period_end"] == dt.date(2024, 6, 30))
                     & (frame["scope"] == "")].to_dict("records")


def test_signed_statistics_stay_and_the_correction_is_right_by_hand(
        landing, engine, keys, warehouse_url, tmp_path, key_files, dagster_home, monkeypatch,
        capsys):
    out = tmp_path / "out"
    _run(warehouse_url, landing, out, key_files, min_cell=1)
    published, internal = digests(out / PUBLISHED), digests(out / INTERNAL)
    assert set(published) == {"sus_statistik.xlsx", "sus_statistik.html", "underlag.csv"}
    assert set(internal) == {"sus_statistik_intern.xlsx", "underlag.csv"}
    printed = _sign(warehouse_url, out, capsys)
    assert "2024Q1-2024Q2 signerat: 3 utdatamappar frysta" in printed
    for folder in ("sus/2024Q1_2024Q2", "begransad/sus_statistik/2024Q1_2024Q2",
                   "begransad/sus/2024Q1_2024Q2"):
        assert f"  {folder}:" in printed

    _deliver_late(landing, engine, keys)
    # the coordinator's command for a range's statistics; it says the range is signed (20
    # published cells changed, 18 internal: the same but the quarterly bars)
    pseudonym_key, vault_key = key_files
    monkeypatch.setenv("FINSAM_PSEUDONYM_KEY_FILE", str(pseudonym_key))
    monkeypatch.setenv("FINSAM_VAULT_KEY_FILE", str(vault_key))
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    assert main(["report", "sus", "--warehouse", warehouse_url, "--out", str(out),
                 "--from", "2024Q1", "--to", "2024Q2", "--min-cell", "1"]) == 0
    said = capsys.readouterr().out
    assert "SUS-statistik 2024Q1-2024Q2 är signerad" in said
    assert "38 ändringar sedan signeringen" in said and f"rattelser/{SPAN}/sus/{SPAN}" in said

    assert digests(out / PUBLISHED) == published
    assert digests(out / INTERNAL) == internal
    corrections = out / "rattelser" / SPAN / "sus" / SPAN
    changed = {(row["Blad"], row["Tabell"], row["Rad"], row["Kolumn"]):
               (row["Signerat värde"], row["Nytt värde"], row["Skillnad"])
               for row in semicolon_rows(corrections / "celler.csv")}
    akassa = "Arbetslöshetsersättning (a-kassa)"
    expected = {}
    for sheet in ("Alla insatser", "DEMO1"):
        expected |= {
            (sheet, "Översikt", "Nyinskrivna", "Antal"): ("8", "9", "1"),
            (sheet, "Översikt", "Inskrivna vid periodens slut", "Antal"): ("8", "9", "1"),
            (sheet, "Översikt", "Unika personer", "Antal"): ("8", "9", "1"),
            (sheet, "Försörjning vid inskrivning", akassa, "Män"): ("0", "1", "1"),
            (sheet, "Försörjning vid inskrivning", akassa, "Totalt"): ("0", "1", "1"),
            (sheet, "Tid i offentlig försörjning", "Upp till 2 år", "Män"): ("0", "1", "1"),
            (sheet, "Tid i offentlig försörjning", "Upp till 2 år", "Totalt"): ("0", "1", "1"),
            (sheet, "Ålder vid inskrivning", "30–39", "Män"): ("3", "4", "1"),
            (sheet, "Ålder vid inskrivning", "30–39", "Totalt"): ("8", "9", "1"),
            (sheet, "Nyinskrivna och utskrivna per kvartal", "2024Q2", "nyinskrivna"):
                ("2", "3", "1"),
        }
    assert changed == expected
    late = {f"{name} ({source}, uttagen 2025-01-15)"
            for name, source in (("20250115_DEMO1.csv", "insats"),)}
    assert {row[CAUSE] for row in semicolon_rows(corrections / "celler.csv")} == late
    assert {row["Fil"] for row in semicolon_rows(corrections / "underlag.csv")} == {"20250115_DEMO1.csv"}
    # the internal workbook's corrections (every count) only under begransad, private
    private = out / "begransad" / "rattelser" / SPAN / "sus_statistik" / SPAN
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    assert stat.S_IMODE((private / "celler.csv").stat().st_mode) == 0o600
    internal_changes = {(row["Blad"], row["Tabell"], row["Rad"], row["Kolumn"])
                        for row in semicolon_rows(private / "celler.csv")}
    # the same cells as the published ones but the quarterly bars, which that workbook lacks
    assert internal_changes == {key for key in expected
                                if key[1] != "Nyinskrivna och utskrivna per kvartal"}
    # the register and the frozen files agree: what they show was recorded for the period
    recorded = {(row["sheet"], row["table_name"], row["row_label"], row["column_label"],
                 row["shown"]) for row in _register_rows(warehouse_url)}
    frozen = _workbook_cells(out / PUBLISHED / "sus_statistik.xlsx")
    assert frozen and all(_in_register(recorded, key, value) for key, value in frozen.items())

    assert main(["signoff", "--list", "--warehouse", warehouse_url, "--out", str(out)]) == 0
    listing = capsys.readouterr().out
    assert "2024Q1-2024Q2: signerat" in listing and "filerna oförändrade" in listing
    assert f"rattelser/{SPAN}/sus/{SPAN}" in listing


def _in_register(recorded: set, key: tuple, value: object) -> bool:
    """Whether the register holds ``key`` shown as ``value`` (a workbook's number or "..", an
    empty share as None)."""
    shown = {text for *cell, text in recorded if tuple(cell) == key}
    if value is None:
        return "" in shown
    if value == HIDDEN:
        return HIDDEN in shown
    return any(_number(text) is not None and abs(_number(text) - float(value)) < 1e-9
               for text in shown)


def test_a_correction_never_shows_a_hidden_count(landing, engine, keys, warehouse_url, tmp_path,
                                                 key_files, capsys):
    """The attacker reads the frozen workbook and every published correction. Each value a
    correction shows must be one the frozen files already showed (the signed value) or one the
    new release shows, as the register recorded it after protecting it against everything
    published (the frozen release included); a count from 1 to min_cell - 1 is never one."""
    out = tmp_path / "out"
    _run(warehouse_url, landing, out, key_files, min_cell=3)
    frozen = _workbook_cells(out / PUBLISHED / "sus_statistik.xlsx")
    # W5's Försörjningsstöd is a single woman: hidden from the start
    assert frozen[("DEMO1", "Försörjning vid inskrivning", "Försörjningsstöd", "Kvinnor")] == HIDDEN
    signed = digests(out / PUBLISHED)
    submission = out / "begransad" / "sus" / SPAN
    registered = digests(submission)
    _sign(warehouse_url, out, capsys)
    before = {(row["sheet"], row["table_name"], row["row_label"], row["column_label"],
               row["shown"]) for row in _register_rows(warehouse_url)}
    assert all(_in_register(before, key, value) for key, value in frozen.items())

    _deliver_late(landing, engine, keys)
    _run(warehouse_url, landing, out, key_files, min_cell=3)
    assert digests(out / PUBLISHED) == signed
    # the range's submission was frozen with it: M4 is a registration to make
    assert digests(submission) == registered
    todo = semicolon_rows(out / "begransad" / "rattelser" / SPAN / "sus" / SPAN / "registreringar.csv")
    assert [(row["Åtgärd"], row["Personnummer"], row["Inskrivningsdatum"]) for row in todo] == [
        ("registrera", _people()[1][-1], "2024-05-10")]

    recorded = _register_rows(warehouse_url)
    new = {(row["sheet"], row["table_name"], row["row_label"], row["column_label"],
            row["shown"]) for row in recorded} - before
    assert new, "the new release is recorded in the register"
    public = sorted((out / "rattelser").rglob("*.csv"))
    assert {path.name for path in public} == {"celler.csv", "underlag.csv"}
    rows = semicolon_rows(out / "rattelser" / SPAN / "sus" / SPAN / "celler.csv")
    assert rows
    # the one man's a-kassa count is small: it is never shown, before or after
    akassa = [row for row in rows if row["Rad"] == "Arbetslöshetsersättning (a-kassa)"
              and row["Kolumn"] == "Män"]
    assert akassa and all(row["Nytt värde"] == HIDDEN for row in akassa)
    keys = [(row["Blad"], row["Tabell"], row["Rad"], row["Kolumn"]) for row in rows]
    for key, row in zip(keys, rows):
        old, now, difference = row["Signerat värde"], row["Nytt värde"], row["Skillnad"]
        # the signed value is one the attacker could already see: what the frozen workbook
        # shows (the page's quarterly bars are not in it), as the register recorded it
        if key[1] != "Nyinskrivna och utskrivna per kvartal":
            assert old == ("" if frozen.get(key) is None else str(frozen[key])), key
        assert old == "" or _in_register(before, key, _value(old)), key
        # the new value is one the new release shows, as the register recorded it
        assert now == "" or _in_register(new | before, key, _value(now)), key
        # a count is never shown from 1 to min_cell - 1
        if key[1] != "Måluppfyllelse":
            for text in (old, now):
                number = _number(text)
                assert number is None or number == 0 or number >= 3, (key, text)
        # a difference only between two shown numbers
        if HIDDEN in (old, now) or "" in (old, now):
            assert difference == "", key
    # the frozen workbook itself shows no small count either
    assert min(value for value in frozen.values()
               if isinstance(value, int) and value > 0) >= 3
    # the lineage files name the deliveries, never how many spells each gave: the late
    # register's 9 spells are the period's Nyinskrivna, which the protection may hide
    for path in [*(out / "rattelser").rglob("underlag.csv"), out / PUBLISHED / "underlag.csv"]:
        lineage = semicolon_rows(path)
        assert lineage and all(row["Poster"] == "" and row["Sha256"] for row in lineage), path


def _value(text: str) -> object:
    if text == HIDDEN:
        return HIDDEN
    number = _number(text)
    return text if number is None else number


def test_the_frozen_statistics_view_is_recorded_with_its_shown_cells_only(
        landing, warehouse_url, tmp_path, key_files, capsys):
    """The warehouse's record of the published view keeps what it shows, never the count behind
    a hidden cell (corrections are computed from it)."""
    out = tmp_path / "out"
    _run(warehouse_url, landing, out, key_files, min_cell=3)
    engine = create_engine(warehouse_url)
    try:
        with engine.connect() as connection:
            cells = connection.execute(select(models.OutputView.cells).where(
                models.OutputView.kind == "sus_statistik")).scalar_one()
    finally:
        engine.dispose()
    recorded = {tuple(row[:4]): row[4] for row in json.loads(cells)}
    assert recorded[("DEMO1", "Försörjning vid inskrivning", "Försörjningsstöd",
                     "Kvinnor")] == HIDDEN
    assert all(value is None or value == HIDDEN or isinstance(value, (int, float))
               for value in recorded.values())


def test_a_signed_release_read_with_its_correction_withstands_the_attack(
        landing, engine, keys, warehouse_url, tmp_path, key_files, capsys):
    # issue 17 across a sign-off: the signed half-year stays as it was, a late register changes
    # its data (M4, a-kassa, 10 May), the correction publishes what changed, and the second
    # quarter alone is published later, protected against the register. A reader holds two
    # states of the data: the frozen files (the data of their day), and the release as its
    # correction leaves it beside the quarter (today's data, where the first quarter follows by
    # subtraction). Neither lets a hidden count, or a small count got by subtraction, be pinned.
    out = tmp_path / "out"
    _run(warehouse_url, landing, out, key_files, min_cell=3)
    _sign(warehouse_url, out, capsys)
    _deliver_late(landing, engine, keys)
    _run(warehouse_url, landing, out, key_files, min_cell=3)
    _run(warehouse_url, landing, out, key_files, min_cell=3, first="2024Q2", last="2024Q2")
    corrections = out / "rattelser" / SPAN / "sus" / SPAN / sus_audit.CORRECTIONS
    assert len(semicolon_rows(corrections)) == 20
    frozen = sus_audit.read_release(out / PUBLISHED)
    second = sus_audit.read_release(out / "sus" / "2024Q2_2024Q2")
    with engine.connect() as connection:
        today = read_counted_spells(connection)
    audit, failures, attacked = attack_as_of(today, [sus_audit.corrected(frozen, corrections),
                                                     second])
    assert [tuple(map(str, period)) for period in audit.derived_periods()] == [("2024Q1", "2024Q1")]
    assert failures == [] and attacked == 78
    # the frozen files as of their day, with the internal workbook frozen beside them
    _, failures, attacked = attack(today, Published(folders=[out / PUBLISHED],
                                                    internal=[out / INTERNAL]), derived=False)
    assert failures == [] and attacked == 16
    # A reader who takes the frozen files and the quarter for one state of the data finds no
    # contradiction here, and narrows cells down: every one to a value the data does not have
    # (what it concludes rests on signed values the late register changed, off by the change)
    naive = sus_audit.Audit([frozen, second])
    truths = {key: sus_audit.truth_of(naive, key, counts_of(today, *(
                  ("2024Q1", "2024Q2") if key.release == 0 else ("2024Q2", "2024Q2"))))
              for key in naive.hidden()}
    misled = naive.check(truths, 3)
    assert len(misled) == 12
    for key, _, truth in misled:
        low, high = naive.interval(key, cap=10)
        assert not low <= truth <= high, key
