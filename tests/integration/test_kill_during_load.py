"""A run killed in the middle of a load leaves nothing half-loaded; the next run loads it once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from sqlalchemy import create_engine, text

ROWS = 20_000

# Runs in a child process: the merge writes its rows inside the transaction, says so, then hangs
# until it is killed, so the kill lands between the writes and the commit.
CHILD = """
import sys, time
from pathlib import Path
from assets.ingest.run import ingest_source
from assets.ingest.strategies import delta
from finsam.privacy import Keys, Pseudonymiser, Vault, read_key_file
from warehouse import load
from warehouse.db import make_engine, migrate

landing, url, pseudonym_key, vault_key, marker = sys.argv[1:6]
engine = make_engine(url)
migrate(engine)
keys = Keys(Pseudonymiser(read_key_file(pseudonym_key, "P")), Vault(read_key_file(vault_key, "V")))
ingest_source("budget", Path(landing), engine, keys)
original = load.merge_delta

def merge_then_hang(connection, table, frame):
    written = original(connection, table, frame)
    Path(marker).write_text(str(written))
    time.sleep(600)

delta.load.merge_delta = merge_then_hang
ingest_source("ekonomi", Path(landing), engine, keys)
"""


def _ledger_file(path: Path) -> None:
    rows = pd.DataFrame({
        "Ver.nr": [str(10_000 + n // 2) for n in range(ROWS)], "Rad": [n % 2 + 1 for n in range(ROWS)],
        "Bokföringsdatum": "2024-03-15", "Konto": "7010", "Projekt": "DEMO1",
        "Belopp": "1234,50", "Text": "Lön"})
    path.parent.mkdir(parents=True, exist_ok=True)
    rows.to_csv(path, sep=";", index=False, encoding="cp1252", lineterminator="\r\n")


def _counts(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        ledger = connection.execute(text("select count(*) from ledger_entry")).scalar()
        files = connection.execute(text(
            "select count(*) from delivery where source = 'ekonomi'")).scalar()
    engine.dispose()
    return ledger, files


def test_killed_load_leaves_no_trace_and_the_rerun_loads_once(sample_landing, warehouse_url,
                                                              key_files, keys, tmp_path):
    (sample_landing / "ekonomi" / "20241130_huvudbok.csv").unlink()
    _ledger_file(sample_landing / "ekonomi" / "20241231_huvudbok.csv")
    marker = tmp_path / "written"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(sample_landing), warehouse_url,
                              str(key_files[0]), str(key_files[1]), str(marker)], env=env)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.poll() is None, "the loading process ended before the kill"
            assert time.monotonic() < deadline, "the load never started"
            time.sleep(0.1)
        assert int(marker.read_text()) == ROWS
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()

    assert _counts(warehouse_url) == (0, 0)

    from assets.ingest.run import ingest_source
    from warehouse.db import make_engine

    engine = make_engine(warehouse_url)
    report = ingest_source("ekonomi", sample_landing, engine, keys)
    engine.dispose()
    assert report.rows_loaded == ROWS
    assert _counts(warehouse_url) == (ROWS, 1)
