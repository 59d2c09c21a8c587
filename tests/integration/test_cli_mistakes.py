"""Every mistake a person can make on the command line: exit 2, one Swedish line on stderr saying
what to change, no traceback, and nothing written (no warehouse, no output, no Dagster run)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import insert

from cli.main import main
from finsam.privacy import write_new_keys
from warehouse import models
from warehouse.db import make_engine, migrate


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns)
            for path in root.rglob("*") if path.is_file()}


@pytest.fixture
def place(tmp_path, monkeypatch, sample_landing):
    """A landing zone, keys readable by their owner only, an empty Dagster home and a warehouse
    that has finsam's schema (and one identity in its vault) but no deliveries."""
    pseudonym_key, vault_key = write_new_keys(tmp_path / "keys")
    monkeypatch.setenv("FINSAM_PSEUDONYM_KEY_FILE", str(pseudonym_key))
    monkeypatch.setenv("FINSAM_VAULT_KEY_FILE", str(vault_key))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("FINSAM_LOG_FILE", str(tmp_path / "finsam.log"))
    for name in ("FINSAM_WAREHOUSE_URL", "FINSAM_OUT", "FINSAM_LANDING"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    warehouse = tmp_path / "lager.db"
    engine = make_engine(f"sqlite:///{warehouse}")
    migrate(engine)
    engine.dispose()
    return tmp_path


def _refused(argv: list[str], root: Path, capsys) -> str:
    before = _tree(root)
    assert main(argv) == 2, argv
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err and captured.out == ""
    assert _tree(root) == before, "a refused command wrote something"
    return lines[0]


RUN = ["run", "--landing", "landing", "--warehouse", "sqlite:///lager.db", "--out", "ut"]


def test_a_missing_landing_zone(place, capsys):
    line = _refused(["run", "--landing", "finns_inte", "--warehouse", "sqlite:///lager.db",
                     "--out", "ut"], place, capsys)
    assert "leveranszonen" in line and "finns inte" in line


def test_a_warehouse_that_is_no_url(place, capsys):
    line = _refused([*RUN[:3], "--warehouse", "lager.db", "--out", "ut"], place, capsys)
    assert "ingen databas-URL" in line and "sqlite:///" in line


def test_a_future_quarter(place, capsys):
    line = _refused([*RUN, "--from", "2099Q1"], place, capsys)
    assert "har inte börjat" in line


def test_a_quarter_that_is_no_quarter(place, capsys):
    assert "2024Q3" in _refused([*RUN, "--from", "2024-3"], place, capsys)


def test_to_before_from(place, capsys):
    assert "före" in _refused([*RUN, "--from", "2024Q3", "--to", "2024Q1"], place, capsys)


def test_an_output_folder_that_is_a_file(place, capsys):
    (place / "en_fil").write_text("x")
    assert "är en fil" in _refused([*RUN[:5], "--out", "en_fil"], place, capsys)


@pytest.mark.parametrize("out", ["landing", "landing/fk", "landing/fk/../insats/ut"])
def test_an_output_folder_inside_the_landing_zone(place, capsys, out):
    """Restricted files would lie where partners deliver, and be read back as deliveries."""
    line = _refused([*RUN[:5], "--out", out], place, capsys)
    assert "leveranszonen" in line and "utanför" in line


def test_a_postgresql_url_without_a_driver_gets_the_one_finsam_installs(place, capsys):
    """SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3, which finsam does not install:
    the URL people write reaches the server (here: nobody listens) instead of failing on a
    missing module with exit 1."""
    line = _refused([*RUN[:3], "--warehouse", "postgresql://finsam@127.0.0.1:9/finsam",
                     "--out", "ut"], place, capsys)
    assert "kunde inte ansluta" in line


def test_a_driver_that_is_not_installed(place, capsys):
    line = _refused([*RUN[:3], "--warehouse", "postgresql+asyncpg://finsam@127.0.0.1:9/finsam",
                     "--out", "ut"], place, capsys)
    assert "drivrutinen" in line and "postgresql+psycopg2://" in line


@pytest.mark.parametrize("argv", [
    ["failures", "--warehouse", "sqlite:///typo.db", "list"],
    ["failures", "list", "--warehouse", "sqlite:///typo.db"],
    ["steward", "--warehouse", "sqlite:///typo.db", "user", "list"],
    ["steward", "user", "list", "--warehouse", "sqlite:///typo.db"],
    ["report", "sus", "--warehouse", "sqlite:///typo.db", "--out", "ut", "--from", "2024Q1",
     "--to", "2024Q4"],
])
def test_a_warehouse_that_does_not_exist_is_never_created(place, capsys, argv):
    line = _refused(argv, place, capsys)
    assert "typo.db" in line and "finns inte" in line
    assert not (place / "typo.db").exists()


@pytest.mark.parametrize("command", [["failures", "list"], ["steward", "user", "list"]])
def test_a_database_without_finsams_schema(place, capsys, command):
    engine = make_engine(f"sqlite:///{place / 'annan.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("create table annat (x int)")
    engine.dispose()
    line = _refused([*command, "--warehouse", "sqlite:///annan.db"], place, capsys)
    assert "tabeller" in line


def test_an_insats_the_warehouse_does_not_know(place, capsys):
    line = _refused(["report", "sus", "--warehouse", "sqlite:///lager.db", "--out", "ut",
                     "--from", "2024Q1", "--to", "2024Q4", "--insats", "NOSUCH"], place, capsys)
    assert "NOSUCH finns inte i lagret" in line


def test_a_vault_key_that_does_not_open_the_vault(place, capsys):
    other = Fernet(Fernet.generate_key())
    engine = make_engine(f"sqlite:///{place / 'lager.db'}")
    with engine.begin() as connection:
        connection.execute(insert(models.IdentityVault.__table__).values(
            pseudonym="a" * 64, ciphertext=other.encrypt(b"x").decode()))
    engine.dispose()
    line = _refused(RUN, place, capsys)
    assert "FINSAM_VAULT_KEY_FILE" in line and "öppnar inte identitetsvalvet" in line


@pytest.mark.parametrize("variable", ["FINSAM_PSEUDONYM_KEY_FILE", "FINSAM_VAULT_KEY_FILE"])
def test_a_key_file_others_can_read(place, capsys, variable):
    os.chmod(os.environ[variable], 0o644)
    line = _refused(RUN, place, capsys)
    assert variable in line and "chmod 600" in line


@pytest.mark.parametrize("argv", [["körning"], ["run", "--fran", "2024Q1"],
                                  ["failures", "accept", "inte_ett_tal", "--note", "x"]])
def test_a_command_line_argparse_refuses(place, capsys, argv):
    line = _refused(argv, place, capsys)
    assert line.startswith("finsam") and "--help" in line


def test_help_is_in_swedish(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith("användning: finsam run") and "flaggor" in text
    assert "show this help" not in text and "visa den här hjälpen" in text
