"""Issue 16's fault-injection suite: a nightly run killed (SIGKILL, via the fault hook
``FINSAM_FAULT_POINT``) at chosen points, runs started at the same time, a migration cut short.
For every case: the next undisturbed run ends in the same warehouse state as one undisturbed run
on a fresh warehouse (nothing lost, nothing doubled), and nothing is stuck. SQLite and PostgreSQL.

The baseline is computed independently, in a second warehouse of the same backend, by one run that
no fault touches; states are compared table by table (tests/integration/warehouse_state.py).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from finsam.errors import WarehouseBusy, WarehouseError
from finsam.privacy import write_new_keys
from tests.conftest import SAMPLES, _postgres_database
from tests.integration.warehouse_state import differences, state
from warehouse.db import alembic_config, make_engine, migrate
from warehouse.lock import run_lock

ROOT = Path(__file__).resolve().parents[2]

# One nightly ingestion as the run does it: the run lock, the schema, the keys checked, every
# source. Run in a child process so that the fault hook can kill it outright.
NIGHTLY = """
import sys
from pathlib import Path
from assets.ingest.run import ingest_source
from finsam.privacy import read_keys
from sources.registry import REGISTRY
from warehouse import key_checks
from warehouse.db import alembic_config, make_engine, migrate
from warehouse.lock import run_lock

landing, url, pseudonym_key, vault_key = sys.argv[1:5]
with run_lock(url, "feltest", wait_seconds=300):
    engine = make_engine(url)
    migrate(engine)
    keys = key_checks.verify(engine, read_keys(pseudonym_key, vault_key))
    for source in REGISTRY.names:
        ingest_source(source, Path(landing), engine, keys)
    engine.dispose()
"""

# Holds the warehouse's run lock until killed; says so in a marker file. (ASCII name: PostgreSQL's
# application_name, which names the holder there, keeps ASCII only.)
HOLDER = """
import sys, time
from pathlib import Path
from warehouse.lock import run_lock

url, marker = sys.argv[1:3]
with run_lock(url, "testkorning-A", wait_seconds=5):
    Path(marker).write_text("held")
    time.sleep(600)
"""


def _env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "FINSAM_FAULT_POINT"}
    return {**env, "PYTHONPATH": str(ROOT), **extra}


def _nightly(landing: Path, url: str, key_files, *, fault: str | None = None,
             wait: bool = True) -> subprocess.Popen:
    extra = {"FINSAM_FAULT_POINT": fault} if fault else {}
    child = subprocess.Popen([sys.executable, "-c", NIGHTLY, str(landing), url,
                              str(key_files[0]), str(key_files[1])],
                             env=_env(**extra), cwd=ROOT, stderr=subprocess.PIPE)
    if wait:
        child.wait(timeout=600)
    return child


def _ok(child: subprocess.Popen) -> None:
    assert child.returncode == 0, child.stderr.read().decode()[-3000:]


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    """The contract's samples, shared by the cases of this file (a run only reads them)."""
    landing = tmp_path_factory.mktemp("landing") / "landing"
    shutil.copytree(SAMPLES, landing)
    return landing


@pytest.fixture(scope="module")
def run_keys(tmp_path_factory) -> tuple[Path, Path]:
    """One pair of keys for every case here, so that one undisturbed run per backend serves all."""
    return write_new_keys(tmp_path_factory.mktemp("keys") / "keys")


@pytest.fixture(scope="module")
def baselines() -> dict[str, dict]:
    """Per backend, the state one undisturbed run leaves in a fresh warehouse of its own (made
    at the first case that needs it)."""
    return {}


def _fresh_warehouse(backend: str, folder: Path):
    """A warehouse of its own on the backend, as ``warehouse_url`` makes one (a generator: the
    PostgreSQL database is dropped when it is closed)."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'baseline.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def undisturbed(warehouse_url, baselines, landing, run_keys, tmp_path_factory) -> dict:
    backend = make_url(warehouse_url).get_backend_name()
    if backend not in baselines:
        database = _fresh_warehouse(backend, tmp_path_factory.mktemp("baseline"))
        url = next(database)
        try:
            _ok(_nightly(landing, url, run_keys))
            baselines[backend] = state(url)
        finally:
            database.close()
    return baselines[backend]


@pytest.mark.parametrize("point", [
    "run_locked",                    # before anything: the lock released by the kernel/server
    "migration:5",                   # early in the first migration
    "migration:40",                  # in the middle of it (SQLite 158 statements, PostgreSQL 83)
    "migration:commit",              # every statement done, the version stamped, not committed
    "before_commit:insats",          # participants written, not committed
    "after_commit:samtycke",         # one source committed, the next not begun
    "before_commit:ekonomi",         # the last source's transaction
])
def test_a_run_killed_at_any_point_then_run_again_equals_one_undisturbed_run(
        point, warehouse_url, landing, run_keys, undisturbed):
    killed = _nightly(landing, warehouse_url, run_keys, fault=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.read().decode()[-3000:]
    again = _nightly(landing, warehouse_url, run_keys)
    _ok(again)
    assert differences(state(warehouse_url), undisturbed) == {}
    # and running once more changes nothing (nothing half-done waits to be doubled)
    _ok(_nightly(landing, warehouse_url, run_keys))
    assert differences(state(warehouse_url), undisturbed) == {}


def test_two_runs_started_together_serialise_and_equal_one_run(warehouse_url, landing, run_keys,
                                                               undisturbed):
    first = _nightly(landing, warehouse_url, run_keys, wait=False)
    second = _nightly(landing, warehouse_url, run_keys, wait=False)
    for child in (first, second):
        child.wait(timeout=600)
        _ok(child)
    assert differences(state(warehouse_url), undisturbed) == {}


def test_a_migration_killed_on_a_fresh_warehouse_leaves_it_untouched(warehouse_url):
    """Killed during the first migration: no half-made tables, no version; the next run migrates."""
    script = ("import sys\nfrom warehouse.db import make_engine, migrate\n"
              "migrate(make_engine(sys.argv[1]))\n")
    child = subprocess.run([sys.executable, "-c", script, warehouse_url], cwd=ROOT,
                           env=_env(FINSAM_FAULT_POINT="migration:60"), capture_output=True,
                           timeout=300, check=False)
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    engine = make_engine(warehouse_url)
    try:
        assert inspect(engine).get_table_names() == []
        migrate(engine)
        assert "delivery" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


# -- a half-done first migration left by an older finsam (each CREATE TABLE committed alone) ----

def _drop_version(engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))


def _head() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def test_empty_tables_without_a_version_are_made_again(engine):
    _drop_version(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE key_check"))     # as if cut short before the last
    migrate(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() \
            == _head()
    assert "key_check" in inspect(engine).get_table_names()


def test_tables_with_data_and_the_head_shape_are_stamped_not_dropped(engine, sample_landing,
                                                                     keys):
    from assets.ingest.run import ingest_source

    ingest_source("insats", sample_landing, engine, keys)
    before = state(engine)
    _drop_version(engine)
    migrate(engine)
    assert differences(before, state(engine)) == {}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() \
            == _head()


def test_tables_with_data_and_no_known_shape_are_refused_and_left_alone(engine, sample_landing,
                                                                        keys):
    from assets.ingest.run import ingest_source

    ingest_source("insats", sample_landing, engine, keys)
    _drop_version(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE key_check"))
        connection.execute(text("DROP TABLE steward_session"))
    before = state(engine)
    with pytest.raises(WarehouseError, match="ingen schemaversion.*Inget har ändrats"):
        migrate(engine)
    assert differences(before, state(engine)) == {}


# -- the run lock -------------------------------------------------------------------------------

def _hold(url: str, tmp_path: Path) -> subprocess.Popen:
    marker = tmp_path / "held"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, url, str(marker)], cwd=ROOT,
                              env=_env())
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert holder.poll() is None, "the holder ended before it took the lock"
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return holder


def test_a_second_run_waits_then_refuses_naming_the_holder_and_a_kill_frees_the_lock(
        engine, warehouse_url, tmp_path):
    holder = _hold(warehouse_url, tmp_path)
    try:
        started = time.monotonic()
        with pytest.raises(WarehouseBusy, match=f"testkorning-A, pid {holder.pid}"), \
                run_lock(warehouse_url, "andra", wait_seconds=1.5):
            pass
        assert time.monotonic() - started >= 1.5
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # kill -9: the kernel (flock) or the server (advisory lock of a closed session) frees it
    with run_lock(warehouse_url, "tredje", wait_seconds=30):
        pass


def test_the_lock_is_reentrant_within_a_process(engine, warehouse_url):
    with run_lock(warehouse_url, "yttre", wait_seconds=1), \
            run_lock(warehouse_url, "inre", wait_seconds=0):
        pass
    with run_lock(warehouse_url, "igen", wait_seconds=0):
        pass


def test_finsam_run_refuses_with_exit_2_while_the_warehouse_is_busy(
        engine, warehouse_url, tmp_path, sample_landing, key_files, dagster_home, monkeypatch,
        capsys):
    from cli.main import main

    monkeypatch.setenv("FINSAM_PSEUDONYM_KEY_FILE", str(key_files[0]))
    monkeypatch.setenv("FINSAM_VAULT_KEY_FILE", str(key_files[1]))
    monkeypatch.setenv("FINSAM_LOCK_WAIT_SECONDS", "1")
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    before = state(engine)
    holder = _hold(warehouse_url, tmp_path)
    try:
        code = main(["run", "--landing", str(sample_landing), "--warehouse", warehouse_url,
                     "--out", str(tmp_path / "out"), "--from", "2024Q4", "--to", "2024Q4"])
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert code == 2
    assert "används av en annan körning (testkorning-A, pid" in capsys.readouterr().err
    assert differences(before, state(engine)) == {}
