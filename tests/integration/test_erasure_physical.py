"""Erasure after a withdrawal is physical: the person's number, pseudonym and birth date are gone
from the database files themselves (not just from the tables), from every output including the
restricted SUS files written before, and a re-delivery brings nothing back."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, inspect, select, text

from cli.main import main
from finsam.privacy import Pseudonymiser, read_key_file

BO = "198112279297"        # consented to SUS, then withdraws every consent


def _withdraw(landing: Path, day: str, extraction: str) -> None:
    register = (landing / "samtycke" / "20241130.csv").read_text(encoding="utf-8")
    lines = []
    for line in register.splitlines():
        fields = line.split(";")
        if fields[0] == BO:
            fields[4] = day
        lines.append(";".join(fields))
    (landing / "samtycke" / f"{extraction}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _traces(pseudonym: str) -> set[bytes]:
    short = BO[2:]
    forms = {BO, short, f"{BO[:8]}-{BO[8:]}", f"{short[:6]}-{short[6:]}", pseudonym,
             "1981-12-27", "19811227"}
    return {form.encode() for form in forms}


def _files_with(roots: list[Path], traces: set[bytes], skip: Path) -> list[str]:
    hits = []
    for root in roots:
        for path in root.rglob("*"):
            if not path.is_file() or skip in path.parents:
                continue
            data = path.read_bytes()
            hits += [f"{trace.decode()} i {path.name}" for trace in traces if trace in data]
    return hits


def _database_values(url: str) -> str:
    engine = create_engine(url)
    with engine.connect() as connection:
        dump = "\n".join(pd.read_sql(select(text("*")).select_from(text(f'"{table}"')),
                                     connection).to_csv(index=False)
                         for table in inspect(connection).get_table_names())
    engine.dispose()
    return dump


@pytest.fixture
def cli_env(monkeypatch, key_files, dagster_home):
    pseudonym_key, vault_key = key_files
    monkeypatch.setenv("FINSAM_PSEUDONYM_KEY_FILE", str(pseudonym_key))
    monkeypatch.setenv("FINSAM_VAULT_KEY_FILE", str(vault_key))
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    return Pseudonymiser(read_key_file(pseudonym_key, "P")).pseudonyms(pd.Series([BO])).iloc[0]


def test_a_withdrawn_person_leaves_no_trace_in_the_files(cli_env, sample_landing, tmp_path,
                                                          warehouse_url, dagster_home):
    pseudonym = cli_env
    out = tmp_path / "out"
    args = ["run", "--landing", str(sample_landing), "--warehouse", warehouse_url, "--out",
            str(out), "--from", "2024Q1", "--to", "2024Q4"]
    assert main(args) == 0
    sus = out / "begransad" / "sus" / "2024Q1_2024Q4" / "inregistreringar.csv"
    assert BO in sus.read_text(encoding="utf-8")       # he was registered in, with consent

    _withdraw(sample_landing, "2024-11-20", "20241201")
    assert main(args) == 0
    traces = _traces(pseudonym)
    roots = [out, dagster_home]
    if warehouse_url.startswith("sqlite"):
        roots.append(Path(warehouse_url.removeprefix("sqlite:///")).parent)
    hits = _files_with(roots, traces, skip=sample_landing)
    if not warehouse_url.startswith("sqlite"):
        dump = _database_values(warehouse_url)
        hits += [f"{trace.decode()} i lagret" for trace in traces if trace.decode() in dump]
    assert hits == []

    # the partners and the insats team deliver again with him in it: nothing comes back
    for folder, name in (("insats", "20241215_DEMO1.csv"), ("soc", "20241215_fbs.csv")):
        source = next((sample_landing / folder).glob("20241130_*.csv"))
        (sample_landing / folder / name).write_bytes(source.read_bytes() + b"\n")
    (sample_landing / "samtycke" / "20241220.csv").write_bytes(
        (sample_landing / "samtycke" / "20241201.csv").read_bytes())
    assert main(args) == 0
    hits = _files_with(roots, traces, skip=sample_landing)
    if not warehouse_url.startswith("sqlite"):
        dump = _database_values(warehouse_url)
        hits += [f"{trace.decode()} i lagret" for trace in traces if trace.decode() in dump]
    assert hits == []
