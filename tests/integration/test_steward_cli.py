"""`finsam steward serve / user ...`: users managed from the command line, a warehouse that does
not exist or is not finsam's refused, and the web app served on 127.0.0.1 by default."""

from __future__ import annotations

import io
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

from cli.main import _parser, main
from steward_web import auth
from warehouse import models


@pytest.fixture
def stdin(monkeypatch):
    """Standard input that is not a terminal, as when a script pipes the password in."""
    def feed(text: str) -> None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    return feed


def test_users_are_added_listed_changed_and_removed(engine, warehouse_url, stdin, capsys):
    stdin("ett-bra-lösenord-1\n")
    assert main(["steward", "--warehouse", warehouse_url, "user", "add", "anna",
                 "--roll", "dataansvarig"]) == 0
    assert main(["steward", "--warehouse", warehouse_url, "user", "add", "sso.user",
                 "--roll", "granskare", "--utan-losenord"]) == 0
    capsys.readouterr()
    assert main(["steward", "--warehouse", warehouse_url, "user", "list"]) == 0
    listing = capsys.readouterr().out
    assert re.search(r"anna\s+dataansvarig\s+lösenord", listing)
    assert re.search(r"sso.user\s+granskare\s+bara via proxyn", listing)
    with engine.connect() as connection:
        stored = connection.execute(select(models.StewardUser.__table__.c.password_hash).where(
            models.StewardUser.__table__.c.name == "anna")).scalar()
        assert stored.startswith("$argon2id$") and "ett-bra-lösenord-1" not in stored
        assert auth.authenticate(connection, "anna", "ett-bra-lösenord-1") == "anna"

    stdin("ett-annat-lösenord-2\n")
    assert main(["steward", "--warehouse", warehouse_url, "user", "passwd", "anna"]) == 0
    with engine.connect() as connection:
        assert auth.authenticate(connection, "anna", "ett-bra-lösenord-1") is None
        assert auth.authenticate(connection, "anna", "ett-annat-lösenord-2") == "anna"

    stdin("kort\n")
    assert main(["steward", "--warehouse", warehouse_url, "user", "add", "bertil",
                 "--roll", "granskare"]) == 2
    assert "minst 12 tecken" in capsys.readouterr().err
    assert main(["steward", "--warehouse", warehouse_url, "user", "remove", "anna"]) == 0
    assert main(["steward", "--warehouse", warehouse_url, "user", "remove", "anna"]) == 2
    assert "ingen användare anna" in capsys.readouterr().err


def test_a_missing_or_foreign_warehouse_is_refused_and_not_created(tmp_path, capsys, stdin):
    missing = tmp_path / "saknas" / "warehouse.db"
    for command in (["serve"], ["user", "list"]):
        assert main(["steward", "--warehouse", f"sqlite:///{missing}", *command]) == 2
        error = capsys.readouterr().err.strip()
        assert error.startswith("finsam: ") and "finns inte" in error and "\n" not in error
    assert not missing.exists() and not missing.parent.exists()

    foreign = tmp_path / "annat.db"
    with sqlite3.connect(foreign) as connection:
        connection.execute("create table anteckning (id integer)")
    stdin("ett-bra-lösenord-1\n")
    assert main(["steward", "--warehouse", f"sqlite:///{foreign}", "user", "add", "anna",
                 "--roll", "granskare"]) == 2
    assert "saknar finsams tabeller" in capsys.readouterr().err
    with sqlite3.connect(foreign) as connection:
        tables = {name for (name,) in connection.execute(
            "select name from sqlite_master where type = 'table'")}
    assert tables == {"anteckning"}


def test_serve_binds_to_this_machine_only_by_default():
    args = _parser().parse_args(["steward", "serve"])
    assert (args.host, args.port) == ("127.0.0.1", 8765)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_answers_with_the_login_page(engine, warehouse_url, tmp_path):
    if not warehouse_url.startswith("sqlite"):
        pytest.skip("one backend is enough to see the command start the server")
    port = _free_port()
    env = {**os.environ, "FINSAM_WAREHOUSE_URL": warehouse_url}
    finsam = Path(sys.executable).with_name("finsam")
    server = subprocess.Popen([str(finsam), "steward", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as page:
                    body = page.read().decode("utf-8")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(server.stdout.read() if server.stdout else "") from None
                time.sleep(0.2)
        assert "Logga in" in body
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert f"http://127.0.0.1:{port}/" in output
    assert "inga användare än" in output
