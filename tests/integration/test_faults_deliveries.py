"""Issue 16's fault suite, the deliveries: a junk file under a memory limit, a snapshot picked up
while still being written (or sharply shrunk) before the complete one, and formula text in
delivered fields. Every case ends compared table by table with an undisturbed run
(tests/integration/warehouse_state.py): nothing lost, nothing doubled. SQLite and PostgreSQL.

The undisturbed run is computed in a second warehouse of the same backend from the deliveries as
they should have been, by the plain ingestion of every source (no Dagster), never by the code path
under test.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from assets.ingest.run import ingest_source
from assets.steward.page import write_reports
from finsam.reference import test_personnummer as skatteverket_numbers
from sources.landing import IngestSettings
from sources.registry import REGISTRY
from tests.integration.test_fault_injection import ROOT, _env
from tests.integration.warehouse_state import differences, rows_only_in, state
from warehouse.db import make_engine, migrate

SLOW = "FINSAM_FAULTS_SLOW"


@pytest.fixture
def full_run_url(warehouse_url: str) -> str:
    """The warehouse for a case that runs whole `finsam` processes: on PostgreSQL only with
    ``FINSAM_FAULTS_SLOW=1`` (CI's time budget; the SQLite variant always runs)."""
    if warehouse_url.startswith("postgresql") and not os.environ.get(SLOW):
        pytest.skip(f"PostgreSQL variant of a whole-run case: set {SLOW}=1")
    return warehouse_url


# Left out when a whole run is compared with the plain ingestion: what only a run with outputs
# records (its publications: output views, the SUS release register), and the erasure log, which
# says when an erasure was done: the job ingests the consent register before the participants, so
# a withdrawn person's spell is stored de-identified at once instead of erased afterwards. What was
# erased is compared in the tables themselves.
PUBLICATIONS = ("key_check", "output_view", "sus_release_cell", "erasure_audit")


@pytest.fixture
def baseline_url(warehouse_url: str, dagster_storage_url: str | None, tmp_path: Path) -> str:
    """A second, independent warehouse of the same backend (PostgreSQL: the spare database the
    suite's fixtures make for Dagster, unused here: these runs keep Dagster in SQLite files)."""
    return dagster_storage_url or f"sqlite:///{tmp_path / 'baseline.db'}"


def _ingest(landing: Path, url: str, keys, *, settle: float = 0) -> None:
    """One nightly ingestion of every source, as the job runs them (the registry's order)."""
    engine = make_engine(url)
    migrate(engine)
    try:
        settings = IngestSettings(today=dt.date.today(), settle_seconds=settle)
        for source in REGISTRY.names:
            ingest_source(source, landing, engine, keys, settings=settings)
    finally:
        engine.dispose()


def _scalar(url: str, query: str, **params):
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(query), params).scalar()
    finally:
        engine.dispose()


# -- a junk file under a memory limit -----------------------------------------------------------

JUNK_MEGABYTES = 30
MEMORY_LIMIT = 1536 * 1024 * 1024      # 1.5 GB of address space for the whole `finsam run`


def _junk(path: Path, megabytes: int) -> int:
    """A Försäkringskassan file with the right header and then megabytes of junk lines (short
    random tokens with separators and quotes, as a broken export or a wrong file gives); returns
    its number of lines."""
    rng = random.Random(16)
    alphabet = "abcdefghijklmnopqrstuvwxyzÅÄÖ0123456789;;,|\"' "
    lines = ["PERSONNR;NAMN;FORMAN;OMFATTNING;FOM;TOM;KONTOR"]
    size = 0
    while size < megabytes * 1024 * 1024:
        line = "".join(rng.choice(alphabet) for _ in range(rng.randrange(3, 12)))
        lines.append(line)
        size += len(line) + 2
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return len(lines)                       # the file's lines, its header included


def _limited(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return apply


def test_a_junk_file_under_a_memory_limit_is_refused_with_a_notice_and_the_rest_equals_an_undisturbed_run(
        full_run_url, baseline_url, sample_landing, key_files, keys, tmp_path):
    warehouse_url = full_run_url
    _ingest(sample_landing, baseline_url, keys)
    undisturbed = state(baseline_url, skip=PUBLICATIONS)
    lines = _junk(sample_landing / "fk" / "20241130_forman_2.csv", JUNK_MEGABYTES)
    out = tmp_path / "out"
    env = _env(DAGSTER_HOME=str(tmp_path / "dagster_home"), FINSAM_SETTLE_SECONDS="0",
               FINSAM_PSEUDONYM_KEY_FILE=str(key_files[0]), FINSAM_VAULT_KEY_FILE=str(key_files[1]))
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "cli.main", "run", "--landing", str(sample_landing),
                          "--warehouse", warehouse_url, "--out", str(out),
                          "--from", "2024Q4", "--to", "2024Q4"],
                         env=env, cwd=ROOT, capture_output=True, text=True, timeout=900,
                         preexec_fn=_limited(MEMORY_LIMIT), check=False)
    took = time.monotonic() - started
    # README: exit 0 is a completed run; a refused file is a notice, not a failure of the run
    assert run.returncode == 0, run.stderr[-3000:]
    assert took < 600
    outcome, message = _scalar(warehouse_url, "select outcome from delivery where file_name = "
                               "'20241130_forman_2.csv'"), _scalar(
        warehouse_url, "select message from delivery where file_name = '20241130_forman_2.csv'")
    assert outcome == "avvisad"
    assert f"ur filens {lines} är ogiltiga" in message and "Försäkringskassan" in message
    # nothing of it is held, the steward's files stay small and name it
    assert _scalar(warehouse_url, "select count(*) from held_row where file_name = "
                   "'20241130_forman_2.csv'") == 0
    page, sheet = out / "steward" / "failures.html", out / "steward" / "failures.csv"
    assert page.stat().st_size < 200_000 and sheet.stat().st_size < 50_000
    assert "20241130_forman_2.csv" in page.read_text(encoding="utf-8")
    # everything else is exactly what the deliveries without the junk file give
    now = state(warehouse_url, skip=PUBLICATIONS)
    found = differences(now, undisturbed)
    assert found == {"delivery": {"bara_först": 1, "bara_sedan": 0},
                     "steward_notice": {"bara_först": 1, "bara_sedan": 0}}, found
    (notice,) = rows_only_in(now, undisturbed, "steward_notice")
    assert "20241130_forman_2.csv" in notice


# -- a snapshot picked up half-written, then the complete one -----------------------------------

HEADER = ("Insats;Personnummer;Namn;Anonym;Kön;Skyddad identitet;Aktualiserande part;"
          "Inskrivningsdatum;Utskrivningsdatum;Avslutsanledning;Försörjning vid inskrivning;"
          "Försörjning vid utskrivning;Tid i offentlig försörjning;Utbildningsnivå;Kommun")


def _people(count: int) -> list[str]:
    samples = Path(__file__).parents[1] / "fixtures" / "samples"
    used = " ".join(path.read_bytes().decode("latin-1") for path in samples.rglob("*")
                    if path.is_file())
    pool = [number for number in skatteverket_numbers()
            if 1970 <= int(number[:4]) <= 2000 and number not in used and number[2:] not in used]
    return pool[100:100 + count]


def _register(people: list[str], *, ended: int = 0) -> bytes:
    """The participant register of DEMO1: one spell each; the first ``ended`` have left."""
    rows = [HEADER]
    for number, pnr in enumerate(people):
        start = dt.date(2024, 1, 8) + dt.timedelta(days=4 * number)
        end = f"{start + dt.timedelta(days=120)};ARB;SJP;LON" if number < ended else ";;SJP;"
        rows.append(f"DEMO1;{pnr};;Nej;;Nej;FK;{start};{end};2;GY;0980")
    return ("\n".join(rows) + "\n").encode("utf-8-sig")


def _partial(data: bytes, share: float) -> bytes:
    """What a reader sees of an upload cut short: the first part of the bytes, the last line
    broken off."""
    return data[:int(len(data) * share)]


@pytest.fixture
def register_landing(sample_landing: Path) -> tuple[Path, list[str]]:
    """The samples, with DEMO1's register 30 people strong (a shrink shows only from 20)."""
    people = _people(32)
    (sample_landing / "insats" / "20241130_DEMO1.xlsx").unlink()
    (sample_landing / "insats" / "20241130_DEMO1.csv").write_bytes(_register(people[:30]))
    # delivered an hour ago: only the file written in the test is recent
    old = time.time() - 3600
    for path in sample_landing.rglob("*"):
        os.utime(path, (old, old))
    return sample_landing, people


@pytest.mark.parametrize("how, complete", [
    ("still_being_written", "a_newer_register"),
    ("cut_short_and_settled", "a_newer_register"),
    # the complete file repeats an earlier delivery's bytes: no duplicate for all that
    ("cut_short_and_settled", "the_same_bytes_as_before"),
])
def test_a_partial_snapshot_then_the_complete_one_equals_an_undisturbed_run(
        how, complete, warehouse_url, baseline_url, register_landing, keys, tmp_path):
    landing, people = register_landing
    older = (landing / "insats" / "20241130_DEMO1.csv").read_bytes()
    whole = (_register(people, ended=3) if complete == "a_newer_register" else older)
    target = landing / "insats" / "20241215_DEMO1.csv"
    # undisturbed, in another warehouse: the same nights, the complete file arriving whole
    clean = tmp_path / "clean_landing"
    shutil.copytree(landing, clean)
    _ingest(clean, baseline_url, keys)
    (clean / "insats" / "20241215_DEMO1.csv").write_bytes(whole)
    _ingest(clean, baseline_url, keys)
    undisturbed = state(baseline_url)

    _ingest(landing, warehouse_url, keys)           # the register of 30, alone
    partial = _partial(whole, 0.2)
    target.write_bytes(partial)
    if how == "still_being_written":
        # modified just now: a run with the real settle time leaves it alone
        _ingest(landing, warehouse_url, keys, settle=60)
        assert _scalar(warehouse_url, "select count(*) from delivery where file_name = "
                       "'20241215_DEMO1.csv'") == 0
    else:
        # settled, yet far smaller than the truth: it waits for the steward, the truth stays
        _ingest(landing, warehouse_url, keys)
        assert _scalar(warehouse_url, "select outcome from delivery where file_name = "
                       "'20241215_DEMO1.csv'") == "väntar"
    assert _scalar(warehouse_url, "select count(*) from spell") == 30
    # the upload completes under the same name; the next run takes the complete file
    target.write_bytes(whole)
    old = time.time() - 3600
    os.utime(target, (old, old))
    for _ in range(2):                            # and running once more changes nothing
        _ingest(landing, warehouse_url, keys, settle=60)
        disturbed = state(warehouse_url)
        found = differences(disturbed, undisturbed)
        shown = {table: (rows_only_in(disturbed, undisturbed, table),
                         rows_only_in(undisturbed, disturbed, table)) for table in found}
        # nothing lost, nothing doubled: every table holds what the undisturbed nights give; the
        # only rows beyond them are the record that a partial file was seen and superseded
        assert all(change["bara_sedan"] == 0 for change in found.values()), shown
        assert set(found) <= {"delivery", "held_row", "steward_decision"}, shown
        if found:
            (seen,) = rows_only_in(disturbed, undisturbed, "delivery")
            assert hashlib.sha256(partial).hexdigest() in seen, shown
        # and nothing of it waits for the steward
        for url in (warehouse_url, baseline_url):
            assert _scalar(url, "select count(*) from held_row where status = 'öppen' and "
                           "file_name = '20241215_DEMO1.csv'") == 0


# -- formula text in delivered fields -----------------------------------------------------------

FORMULAS = ('=HYPERLINK("http://angripare.example/x","klicka")', "+cmd|' /C calc'!A0",
            "@SUM(1+1)*cmd|' /C calc'!A0", "-1+1", "\t=1+1", "\r=1+1")


def _plant_formulas(landing: Path) -> int:
    """Formula text in the ledger's free text, project and amount, and in a benefit's office and
    kind: the rows that carry one in a checked field are held and shown to the steward."""
    ledger = landing / "ekonomi" / "20241130_huvudbok.csv"
    lines = ledger.read_bytes().decode("cp1252").splitlines()
    planted = []
    for number, formula in enumerate(FORMULAS):
        cell = f'"{formula}"' if formula.startswith("\r") else formula  # a CR only inside quotes
        planted.append(f"{9100 + number};1;2024-02-0{number + 1};7010;{cell};1000,00;x")
        planted.append(f"{9200 + number};1;2024-02-0{number + 1};7010;DEMO1;{cell};{cell}")
    ledger.write_bytes(("\r\n".join(lines + planted) + "\r\n").encode("cp1252"))
    benefits = landing / "fk" / "20241130_forman.csv"
    rows = benefits.read_bytes().decode("cp1252").splitlines()
    rows += [f"198001022386;Anna Exempel;{formula.strip()};100;20240801;20240901;{formula.strip()}"
             for formula in FORMULAS[:4]]
    benefits.write_bytes(("\r\n".join(rows) + "\r\n").encode("cp1252"))
    return len(planted) + 4


def _risky(cell: str) -> bool:
    """A cell a spreadsheet program would evaluate (OWASP CSV injection): one starting with =, +,
    @, tab or CR, or with - unless it is a plain number (a negative amount is a number)."""
    if not cell:
        return False
    if cell[0] in "=+@\t\r":
        return True
    if cell[0] == "-":
        try:
            float(cell.replace(",", "."))
        except ValueError:
            return True
    return False


def _cells(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [cell for row in csv.reader(handle, delimiter=";") for cell in row]


def test_formula_text_reaches_the_steward_only_neutralised_and_the_rest_loads(
        warehouse_url, baseline_url, sample_landing, keys, tmp_path):
    _ingest(sample_landing, baseline_url, keys)
    undisturbed = state(baseline_url)
    planted = _plant_formulas(sample_landing)
    _ingest(sample_landing, warehouse_url, keys)
    out = tmp_path / "out"
    engine = make_engine(warehouse_url)
    try:
        with engine.connect() as connection:
            write_reports(connection, out)
    finally:
        engine.dispose()
    written = sorted(out.rglob("*.csv"))
    assert written
    cells = [cell for path in written for cell in _cells(path)]
    assert [cell for cell in cells if _risky(cell)] == []
    # the planted rows reached the steward's file (as neutralised text or described)
    sheet = "\n".join(_cells(out / "steward" / "failures.csv"))
    assert "20241130_huvudbok.csv" in sheet and "20241130_forman.csv" in sheet
    # nothing lost, nothing doubled: every valid row is loaded as without the planted ones, each
    # planted row is held exactly once (with its record, where the source keeps one)
    found = differences(state(warehouse_url), undisturbed)
    assert set(found) <= {"delivery", "held_row", "held_record"}, found
    assert found["delivery"] == {"bara_först": 2, "bara_sedan": 2}   # two files grew: new hashes
    assert found["held_row"] == {"bara_först": planted, "bara_sedan": 0}
    assert found.get("held_record", {"bara_sedan": 0})["bara_sedan"] == 0
