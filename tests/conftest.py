"""Fixtures shared by the whole suite: keys, an isolated warehouse, the contract's sample landing zone."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from finsam.privacy import Keys, Pseudonymiser, Vault, read_key_file, write_new_keys
from warehouse.db import make_engine, migrate

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = FIXTURES / "samples"


# The tests that inspect the session's `finsam demo` run (made by its conftest.py, about 80 s)
DEMO_TESTS = "tests/integration/demo/"


def pytest_xdist_make_scheduler(config, log):
    """One worker per test file (``--dist loadfile``), and one for the demo's whole folder: a
    session fixture is made once per worker that uses it, so spread over two workers the demo
    was made twice."""
    from xdist.scheduler import LoadFileScheduling

    class ByFileDemoTogether(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return DEMO_TESTS if nodeid.startswith(DEMO_TESTS) else super()._split_scope(nodeid)

    return ByFileDemoTogether(config, log)


@pytest.fixture
def key_files(tmp_path: Path) -> tuple[Path, Path]:
    return write_new_keys(tmp_path / "keys")


@pytest.fixture
def keys(key_files: tuple[Path, Path]) -> Keys:
    pseudonym_key, vault_key = key_files
    return Keys(Pseudonymiser(read_key_file(pseudonym_key, "P")), Vault(read_key_file(vault_key, "V")))


POSTGRES_ENV = "FINSAM_TEST_POSTGRES_URL"

# Test landing zones are written just before they are read: nothing in them is still uploading.
os.environ.setdefault("FINSAM_SETTLE_SECONDS", "0")


def _postgres_database():
    """A fresh database on the test server (`.ci/postgres` starts one), dropped afterwards."""
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        pytest.skip(f"{POSTGRES_ENV} is not set: PostgreSQL tests run in CI (.ci/run)")
    name = f"finsam_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def dagster_storage_url(warehouse_url: str):
    """The Dagster instance's own database next to a PostgreSQL warehouse (None for SQLite)."""
    if warehouse_url.startswith("postgresql"):
        yield from _postgres_database()
    else:
        yield None


@pytest.fixture
def dagster_home(tmp_path: Path, dagster_storage_url: str | None) -> Path:
    """A Dagster home whose instance storage follows the warehouse: SQLite files, or PostgreSQL."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    settings = "telemetry:\n  enabled: false\n"
    if dagster_storage_url:
        settings += f"storage:\n  postgres:\n    postgres_url: \"{dagster_storage_url}\"\n"
    (home / "dagster.yaml").write_text(settings, encoding="utf-8")
    return home


@pytest.fixture(params=["sqlite", "postgresql"])
def warehouse_url(request, tmp_path: Path):
    """Every database test runs on SQLite and, where a server is configured, on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'warehouse.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def engine(warehouse_url: str):
    engine = make_engine(warehouse_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sample_landing(tmp_path: Path) -> Path:
    landing = tmp_path / "landing"
    shutil.copytree(SAMPLES, landing)
    return landing


# -- The steward's review: a warehouse with known held rows, notices, a conflict and two users ----

STEWARD_PASSWORDS = {"anna": "anna-lösenord-2024", "bertil": "bertil-lösenord-2024"}
LEAKED_NUMBER = "19550114-2284"     # Skatteverket test number; must never reach a page


def fill_steward_warehouse(engine) -> dict[str, object]:
    """Held rows in two sources, three files and two quarters (errors, warnings, one accepted
    and loaded), notices, a conflict, and the users anna (dataansvarig) and bertil (granskare).
    One held row carries an unmasked identity number, as a bug upstream would leave it."""
    import datetime as dt

    import pandas as pd
    from sqlalchemy import insert

    from steward_web import auth
    from warehouse import models, quarantine

    now = dt.datetime(2024, 12, 2, 8, 30, tzinfo=dt.timezone.utc)
    deliveries = [("insats", "20241130_DEMO1.csv", dt.date(2024, 11, 30)),
                  ("fk", "20241130_forman.csv", dt.date(2024, 11, 30)),
                  ("fk", "20240815_forman.csv", dt.date(2024, 8, 15))]
    issues = []
    with engine.begin() as connection:
        ids = []
        for source, file_name, day in deliveries:
            ids.append(connection.execute(insert(models.Delivery.__table__).values(
                source=source, file_name=file_name, extraction_date=day, sha256="0" * 64,
                size_bytes=100, rows_read=20, outcome="inläst", processed_at=now)
            ).inserted_primary_key[0])
        insats, fk_new, fk_old = ids

        def issue(delivery, source, file_name, row, column, rule, severity, expected, found):
            issues.append({"delivery_id": delivery, "scope": None, "status": quarantine.OPEN,
                           "source": source, "file": file_name, "row_number": row,
                           "column": column, "rule": rule, "severity": severity,
                           "expected": expected, "found": found, "match_key": None})

        age = "ålder utanför 16–64 år"
        issue(insats, "insats", "20241130_DEMO1.csv", 5, "Personnummer", age, "varning",
              "16–64 år vid inskrivning", "69 år")
        issue(insats, "insats", "20241130_DEMO1.csv", 7, "Personnummer", age, "varning",
              "16–64 år vid inskrivning", "15 år")
        issue(insats, "insats", "20241130_DEMO1.csv", 9, "Personnummer", "ogiltigt personnummer",
              "fel", "giltigt personnummer", "19550114-****")
        issue(insats, "insats", "20241130_DEMO1.csv", 11, "Kommun", "okänd kod", "fel",
              "kod i kommunlistan", f"felaktig kommun {LEAKED_NUMBER}")
        for row in range(2, 14):
            issue(fk_new, "fk", "20241130_forman.csv", row, "OMFATTNING", "ovanlig omfattning",
                  "varning", "25, 50, 75 eller 100", "60")
        issue(fk_new, "fk", "20241130_forman.csv", 20, "FORMAN", "okänd kod", "fel",
              "kod i förmånslistan", "=HYPERLINK(\"http://x\")")
        for row in range(2, 5):
            issue(fk_old, "fk", "20240815_forman.csv", row, "OMFATTNING", "ovanlig omfattning",
                  "varning", "25, 50, 75 eller 100", "60")
        quarantine.hold(connection, pd.DataFrame(issues))
        notices = models.StewardNotice.__table__
        for kind, source, file_name, count in (
                ("dubblett", "fk", "20241201_kopia.csv", 1),
                ("utan_samtycke", "fk", "20241130_forman.csv", 4),
                ("avvisad_fil", "soc", "20241130_fbs.csv", 1)):
            connection.execute(insert(notices).values(kind=kind, source=source, file_name=file_name,
                                                      count=count, detail=None, first_seen=now,
                                                      last_seen=now))
        connection.execute(insert(models.ReconciliationConflict.__table__).values(
            insats="DEMO1", spell_key="k1", file_name="20241130_DEMO1.csv", row_number=3,
            inskrivningsdatum=dt.date(2024, 6, 3), person="19800102-****",
            rule="försörjning vid inskrivning saknar partnerns uppgift",
            expected="FK visar SJP på inskrivningsdagen", found="AKS", computed_at=now))
        auth.add_user(connection, "anna", "dataansvarig", STEWARD_PASSWORDS["anna"])
        auth.add_user(connection, "bertil", "granskare", STEWARD_PASSWORDS["bertil"])
        held = pd.read_sql(models.HeldRow.__table__.select(), connection)
    by = held.set_index(["file_name", "row_number", "column"])["id"]
    return {
        "passwords": STEWARD_PASSWORDS, "leaked": LEAKED_NUMBER,
        "old_age": int(by[("20241130_DEMO1.csv", 5, "Personnummer")]),
        "young_age": int(by[("20241130_DEMO1.csv", 7, "Personnummer")]),
        "error": int(by[("20241130_DEMO1.csv", 9, "Personnummer")]),
        "leaky": int(by[("20241130_DEMO1.csv", 11, "Kommun")]),
        "formula": int(by[("20241130_forman.csv", 20, "FORMAN")]),
        "fk_new": sorted(int(i) for i in held.loc[(held["file_name"] == "20241130_forman.csv")
                                                   & (held["severity"] == "varning"), "id"]),
        "fk_old": sorted(int(i) for i in held.loc[held["file_name"] == "20240815_forman.csv",
                                                   "id"]),
    }


@pytest.fixture
def steward_warehouse(engine):
    """(engine, ids) of a warehouse filled by :func:`fill_steward_warehouse`."""
    return engine, fill_steward_warehouse(engine)


@pytest.fixture(scope="session")
def fill_steward():
    """:func:`fill_steward_warehouse`, for fixtures of a wider scope than ``engine``."""
    return fill_steward_warehouse
