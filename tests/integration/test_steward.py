"""The steward's review: failures.csv/html after a run, and `finsam failures` from the terminal."""

from __future__ import annotations

import pandas as pd
import pytest

from cli.main import main

OLD_PERSON = "19550114-2284"


@pytest.fixture
def run_env(monkeypatch, tmp_path, key_files, sample_landing):
    pseudonym_key, vault_key = key_files
    monkeypatch.setenv("FINSAM_PSEUDONYM_KEY_FILE", str(pseudonym_key))
    monkeypatch.setenv("FINSAM_VAULT_KEY_FILE", str(vault_key))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    url = f"sqlite:///{tmp_path / 'w.db'}"
    monkeypatch.setenv("FINSAM_WAREHOUSE_URL", url)
    insats = sample_landing / "insats"
    (insats / "20241130_DEMO1.xlsx").unlink()
    text = (insats / "20241130_DEMO1.csv").read_text(encoding="utf-8-sig")
    row = f"DEMO1;{OLD_PERSON};Greta Gammal;Nej;K;Nej;FK;2024-06-03;;;SJP;;2;GY;0980"
    (insats / "20241130_DEMO1.csv").write_text(text.rstrip("\n") + "\n" + row + "\n",
                                              encoding="utf-8-sig")
    args = ["run", "--landing", str(sample_landing), "--warehouse", url,
            "--out", str(tmp_path / "out"), "--from", "2024Q4"]
    assert main(args) == 0
    return tmp_path, args


def test_reports_list_every_failure_in_swedish_without_identities(run_env):
    tmp_path, _ = run_env
    review = pd.read_csv(tmp_path / "out" / "steward" / "failures.csv", sep=";", encoding="utf-8-sig")
    assert {"valideringsfel", "varning", "reservnummer", "data utan samtycke"} <= set(review["Typ"])
    age = review.loc[review["Typ"] == "varning"]
    assert age[["Källa", "Fil", "Kolumn", "Hittat"]].values.tolist() == [
        ["insats", "20241130_DEMO1.csv", "Personnummer", "69 år"]]
    page = (tmp_path / "out" / "steward" / "failures.html").read_text(encoding="utf-8")
    assert "Granskning av leveranser" in page and "20241130_DEMO1.csv" in page
    everything = review.to_csv() + page
    for secret in ("19550114-2284", "195501142284", "Greta", "Anna Exempel", "F32.1"):
        assert secret not in everything


def test_failures_list_show_accept_reopen(run_env, capsys):
    tmp_path, run_args = run_env
    capsys.readouterr()
    assert main(["failures", "list"]) == 0
    listing = capsys.readouterr().out
    assert "ålder utanför 16–64 år" in listing and "öppna" in listing
    review = pd.read_csv(tmp_path / "out" / "steward" / "failures.csv", sep=";", encoding="utf-8-sig")
    warning_id = int(review.loc[review["Typ"] == "varning", "ID"].iloc[0])
    error_id = int(review.loc[review["Typ"] == "valideringsfel", "ID"].iloc[0])

    assert main(["failures", "show", str(warning_id)]) == 0
    assert "69 år" in capsys.readouterr().out
    assert main(["failures", "accept", str(error_id), "--note", "x"]) == 2
    assert "är ett fel" in capsys.readouterr().err
    assert main(["failures", "accept", str(warning_id), "--note", "beviljat undantag"]) == 0
    assert main(run_args) == 0
    capsys.readouterr()
    assert main(["failures", "show", str(warning_id)]) == 0
    shown = capsys.readouterr().out
    assert "godkänd" in shown and "beviljat undantag" in shown
    assert main(["failures", "reopen", str(warning_id), "--note", "ångrat"]) == 0
    assert main(["failures", "show", str(warning_id)]) == 0
    assert "öppnad igen" in capsys.readouterr().out
    assert main(["failures", "show", "99999"]) == 2


def test_a_warning_accepted_in_the_web_app_loads_at_the_next_run(run_env, monkeypatch):
    import io
    import re
    import sys

    from starlette.testclient import TestClient

    from steward_web.app import create_app
    from steward_web.settings import Settings
    from warehouse.db import make_engine

    tmp_path, run_args = run_env
    url = run_args[run_args.index("--warehouse") + 1]
    monkeypatch.setattr(sys, "stdin", io.StringIO("ett-bra-lösenord-1\n"))
    assert main(["steward", "user", "add", "anna", "--roll", "dataansvarig"]) == 0
    engine = make_engine(url)
    client = TestClient(create_app(Settings(warehouse_url=url, out=tmp_path / "out"), engine),
                        follow_redirects=False)
    login = client.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', login).group(1)
    client.post("/login", data={"csrf": token, "namn": "anna", "losenord": "ett-bra-lösenord-1"})
    warnings = client.get("/rader?allvarlighet=varning&status=oppen").text
    held_id = int(re.search(r'href="/rad/(\d+)"', warnings).group(1))
    detail = client.get(f"/rad/{held_id}").text
    assert "69 år" in detail
    csrf = re.search(r'name="csrf" value="([^"]+)"', detail).group(1)
    client.post(f"/rad/{held_id}/godkann", data={"csrf": csrf, "anteckning": "beviljat undantag"})
    assert "godkänd, laddas vid nästa körning" in client.get(f"/rad/{held_id}").text

    assert main(run_args) == 0
    assert "godkänd, inläst" in client.get(f"/rad/{held_id}").text
    pages = "".join(client.get(path).text for path in (
        "/", "/rader?status=alla", f"/rad/{held_id}", "/noteringar", "/konflikter", "/utdata",
        "/utdata/steward/failures.html", "/rader.csv?status=alla"))
    for secret in (OLD_PERSON, OLD_PERSON.replace("-", ""), "Greta", "Anna Exempel", "F32.1"):
        assert secret not in pages
    engine.dispose()
