"""What the command line refuses with exit 2 and what is valid: an unknown insats, a period
before the first data or after today, an unknown target."""

from __future__ import annotations

import pytest

from assets.ingest.run import ingest_source
from cli.main import main
from finsam import targets
from finsam.errors import ConfigurationError


@pytest.fixture
def loaded_url(sample_landing, engine, keys, warehouse_url, monkeypatch, tmp_path):
    for source in ("budget", "insats", "samtycke"):
        ingest_source(source, sample_landing, engine, keys)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    return warehouse_url


def _report(url, out, *extra):
    return main(["report", "sus", "--warehouse", url, "--out", str(out), *extra])


def test_report_refuses_unknown_insats_and_periods_outside_the_data(loaded_url, tmp_path, capsys):
    out = tmp_path / "out"
    assert _report(loaded_url, out, "--from", "2024Q1", "--to", "2024Q4", "--insats", "TYPO") == 2
    error = capsys.readouterr().err
    assert "TYPO" in error and "ADM, DEMO1" in error
    assert _report(loaded_url, out, "--from", "2019Q1", "--to", "2024Q4") == 2
    assert "giltiga kvartal: 2024Q1–" in capsys.readouterr().err
    assert _report(loaded_url, out, "--from", "2024Q1", "--to", "2999Q4") == 2
    assert "har inte börjat än" in capsys.readouterr().err
    assert not (out / "sus").exists()


def test_unknown_target_is_refused(tmp_path, capsys):
    code = main(["run", "--landing", str(tmp_path), "--warehouse", "sqlite://", "--out",
                 str(tmp_path / "out"), "--from", "2024Q1", "--targets", "sus,ufo"])
    assert code == 2 and "okänt mål 'ufo'" in capsys.readouterr().err


def test_targets_parse():
    assert targets.parse(None) == ("uppfoljning", "sus")
    assert targets.parse(" SUS ") == ("sus",)
    assert targets.parse("sus,Uppföljning") == ("uppfoljning", "sus")
    with pytest.raises(ConfigurationError, match="uppfoljning, sus"):
        targets.parse("ssu")
