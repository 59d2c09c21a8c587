"""Issue 16, item 1: a wrong key is refused before anything is written (exit 2), and a key rotation
is a deliberate command that re-keys the warehouse consistently. On SQLite and PostgreSQL.

The attacker's view: a key file swapped for another valid key (a restored backup, the demo's key,
a typo in the path) must never re-pseudonymise new deliveries (274 people became 535) nor write a
vault entry no key opens."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select

from assets.ingest.run import ingest_source
from assets.keys import RotationRefused, rotate
from cli.main import main
from finsam.errors import KeyMismatch
from finsam.privacy import read_keys, write_new_keys
from sources.registry import REGISTRY
from tests.integration.warehouse_state import differences, people, state
from warehouse import key_checks, models

ROOT = Path(__file__).resolve().parents[2]


def _ingest_all(landing: Path, engine, keys) -> None:
    for source in REGISTRY.names:
        ingest_source(source, landing, engine, keys)


@pytest.fixture
def loaded(sample_landing, engine, key_files):
    """A warehouse loaded from the samples with the right keys, check values stored."""
    keys = key_checks.verify(engine, read_keys(*key_files))
    _ingest_all(sample_landing, engine, keys)
    return keys


def _redeliver(landing: Path) -> None:
    """The insats participants' file again a day later, with CRLF line ends: a new delivery of
    the same people."""
    text = (landing / "insats" / "20241130_DEMO1.csv").read_bytes()
    (landing / "insats" / "20241201_DEMO1.csv").write_bytes(text.replace(b"\n", b"\r\n"))


def _other_keys(tmp_path: Path, name: str) -> tuple[Path, Path]:
    return write_new_keys(tmp_path / name)


def test_first_use_stores_both_check_values_and_reveals_no_key(engine, key_files):
    keys = read_keys(*key_files)
    key_checks.verify(engine, keys)
    with engine.connect() as connection:
        values = key_checks.stored(connection)
    assert set(values) == {"pseudonym", "vault"}
    # independent recomputation: HMAC-SHA256 of the label under the key file's bytes
    import hashlib
    import hmac

    expected = hmac.new(keys.pseudonymiser.master_key, b"finsam-nyckelkontroll-v1|pseudonym",
                        hashlib.sha256).hexdigest()
    assert values["pseudonym"] == expected
    for value in values.values():
        assert keys.pseudonymiser.master_key.decode() not in value
        assert keys.vault.key.decode() not in value


@pytest.mark.parametrize("wrong", ["pseudonym", "vault", "both"])
def test_a_wrong_key_is_refused_and_nothing_is_written(loaded, engine, key_files, tmp_path,
                                                       sample_landing, wrong):
    before = state(engine)
    other_pseudonym, other_vault = _other_keys(tmp_path, "other")
    files = (other_pseudonym if wrong in ("pseudonym", "both") else key_files[0],
             other_vault if wrong in ("vault", "both") else key_files[1])
    name = "valvnyckeln" if wrong == "vault" else "pseudonymnyckeln"
    with pytest.raises(KeyMismatch, match=f"{name} är inte den som lagret skrevs med"):
        key_checks.verify(engine, read_keys(*files))
    assert differences(before, state(engine)) == {}


def test_a_warehouse_from_before_check_values_is_checked_against_its_vault(
        sample_landing, engine, key_files, tmp_path):
    """The first run after the upgrade must not enshrine a wrong key: a few vault entries are
    decrypted and pseudonymised again."""
    right = read_keys(*key_files)
    _ingest_all(sample_landing, engine, right)          # as before migration 0003: no check values
    assert people(engine) > 0
    other_pseudonym, other_vault = _other_keys(tmp_path, "other")
    with pytest.raises(KeyMismatch, match="pseudonymnyckeln"):
        key_checks.verify(engine, read_keys(other_pseudonym, key_files[1]))
    with pytest.raises(KeyMismatch, match="valvnyckeln"):
        key_checks.verify(engine, read_keys(key_files[0], other_vault))
    with engine.connect() as connection:
        assert key_checks.stored(connection) == {}
    key_checks.verify(engine, right)
    with engine.connect() as connection:
        assert set(key_checks.stored(connection)) == {"pseudonym", "vault"}


def test_finsam_run_with_a_wrong_key_exits_2_before_a_run_starts(loaded, engine, warehouse_url,
                                                                 key_files, tmp_path,
                                                                 sample_landing, dagster_home,
                                                                 monkeypatch, capsys):
    import dagster as dg

    before = state(engine)
    other_pseudonym, _ = _other_keys(tmp_path, "other")
    monkeypatch.setenv("FINSAM_PSEUDONYM_KEY_FILE", str(other_pseudonym))
    monkeypatch.setenv("FINSAM_VAULT_KEY_FILE", str(key_files[1]))
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    # a new delivery waits in the landing zone: a wrong key must not take it in
    _redeliver(sample_landing)
    code = main(["run", "--landing", str(sample_landing), "--warehouse", warehouse_url,
                 "--out", str(tmp_path / "out"), "--from", "2024Q4", "--to", "2024Q4"])
    assert code == 2
    # the command line's own check (a vault entry) or the warehouse's check values: either says
    # which key is not the warehouse's
    err = capsys.readouterr().err
    assert ("pseudonymnyckeln är inte den som lagret skrevs med" in err
            or "ger inte lagrets pseudonymer" in err)
    assert differences(before, state(engine)) == {}
    assert dg.DagsterInstance.get().get_runs() == []


def _numbers(engine, keys) -> pd.DataFrame:
    with engine.connect() as connection:
        vault = pd.read_sql(select(models.IdentityVault.__table__), connection)
    vault["number"] = keys.vault.decrypt(vault["ciphertext"]).to_numpy()
    return vault


def test_rotation_rekeys_every_table_consistently(loaded, engine, key_files, tmp_path):
    old = read_keys(*key_files)
    new = read_keys(*_other_keys(tmp_path, "new"))
    before = state(engine)
    numbers_before = set(_numbers(engine, old)["number"])
    try:
        outcome = rotate(engine, old, new)
    except RotationRefused as refused:
        # partner rows of people outside the vault cannot be re-keyed: refused, nothing changed
        assert "--radera-ej-omnycklade" in str(refused)
        assert differences(before, state(engine)) == {}
        outcome = rotate(engine, old, new, delete_unlinkable=True)
    assert outcome.pseudonym_changed and outcome.vault_changed
    # the old keys are refused from now on, the new ones taken
    with pytest.raises(KeyMismatch):
        key_checks.verify(engine, old)
    key_checks.verify(engine, new)
    # independent recomputation: every vault entry opens with the new vault key and is the new
    # key's HMAC of its number; the same people as before, none doubled
    vault = _numbers(engine, new)
    assert set(vault["number"]) == numbers_before
    assert list(vault["pseudonym"]) == [new.pseudonymiser.pseudonym_of(n) for n in vault["number"]]
    with engine.connect() as connection:
        for table in models.Base.metadata.sorted_tables:
            if "pseudonym" in table.c and table is not models.IdentityVault.__table__:
                found = {p for (p,) in connection.execute(select(table.c.pseudonym)) if p}
                assert found <= set(vault["pseudonym"]), table.name
    # row counts unchanged where nothing was unlinkable
    after = state(engine)
    for name in before:
        if name not in outcome.deleted:
            assert sum(after[name].values()) == sum(before[name].values()), name
    # old ciphertexts open no more with the old vault key
    with pytest.raises(InvalidToken):
        Fernet(old.vault.key).decrypt(
            _numbers(engine, new)["ciphertext"].iloc[0].encode())


def test_a_run_after_rotation_with_the_new_keys_doubles_nobody(loaded, engine, key_files,
                                                               tmp_path, sample_landing):
    old = read_keys(*key_files)
    new = read_keys(*_other_keys(tmp_path, "new"))
    # partner rows outside the vault cannot be re-keyed: the deliberate choice is to delete them
    rotate(engine, old, new, delete_unlinkable=True)
    count = people(engine)
    # the participants delivered again (other bytes, the same rows): the same people, no new ones
    _redeliver(sample_landing)
    report = ingest_source("insats", sample_landing, engine, key_checks.verify(engine, new))
    assert report.files and people(engine) == count


def test_rotation_killed_before_commit_leaves_the_old_keys_working(loaded, engine, warehouse_url,
                                                                   key_files, tmp_path):
    before = state(engine)
    new_files = _other_keys(tmp_path, "new")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FINSAM_FAULT_POINT": "rekey:before_commit",
           "FINSAM_PSEUDONYM_KEY_FILE": str(key_files[0]),
           "FINSAM_VAULT_KEY_FILE": str(key_files[1])}
    child = subprocess.run(
        [sys.executable, "-m", "cli.main", "nycklar", "byt", "--warehouse", warehouse_url,
         "--ny-pseudonymnyckel", str(new_files[0]), "--ny-valvnyckel", str(new_files[1]),
         "--radera-ej-omnycklade"], env=env, cwd=ROOT, capture_output=True, timeout=300, check=False)
    assert child.returncode == -9, child.stderr.decode()[-2000:]
    assert differences(before, state(engine)) == {}
    key_checks.verify(engine, read_keys(*key_files))
    with pytest.raises(KeyMismatch):
        key_checks.verify(engine, read_keys(*new_files))
