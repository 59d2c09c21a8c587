"""The SUS submission from the contract's samples: who goes in, out and anonymously."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from assets.ingest.run import ingest_source
from assets.sus import submission
from assets.sus.warehouse_frames import read_spells, read_sus_consents

ORDER = ("budget", "insats", "samtycke", "fk", "af", "soc", "hsf", "ekonomi")


@pytest.fixture
def loaded(sample_landing, engine, keys):
    for source in ORDER:
        ingest_source(source, sample_landing, engine, keys)
    return engine


def _write(engine, keys, folder, start=date(2024, 1, 1), end=date(2024, 12, 31)):
    with engine.connect() as connection:
        selection = submission.selection_for(read_spells(connection), read_sus_consents(connection),
                                             start, end)
        people = pd.concat([selection.enrolled["pseudonym"], selection.ended["pseudonym"]])
        ids = submission.identities(connection, keys.vault, people)
    submission.SusAdapter().write(selection, ids, folder)
    read = {name: pd.read_csv(folder / f"{name}.csv", sep=";", dtype=str)
            for name in ("inregistreringar", "utregistreringar", "anonyma")}
    return selection, read


def test_personal_rows_only_for_sus_consent_anonymous_counted(loaded, keys, tmp_path):
    selection, files = _write(loaded, keys, tmp_path / "sus")
    # Anna and Bo consented to SUS; Carl withdrew (erased, so registered out by hand only)
    assert files["inregistreringar"]["Personnummer"].tolist() == ["198001022386", "198112279297"]
    assert files["inregistreringar"].columns.tolist() == [
        "Personnummer", "Insats", "Inskrivningsdatum", "Aktualiserande part",
        "Försörjning vid inskrivning", "Tid i offentlig försörjning", "Utbildningsnivå", "Kommun"]
    assert files["inregistreringar"]["Kommun"].tolist() == ["0980", "0980"]
    assert files["inregistreringar"]["Försörjning vid inskrivning"].tolist() == ["SJP", "AKS,FSB"]
    assert files["utregistreringar"][["Personnummer", "Avslutsanledning", "Utskrivningsdatum"]
                                     ].values.tolist() == [["198001022386", "ARB", "2024-11-29"]]
    # the anonymous row (M) and the protected participant (K); Carl is not counted anonymously
    assert files["anonyma"].values.tolist() == [["DEMO1", "2024", "K", "1"], ["DEMO1", "2024", "M", "1"]]
    assert selection.ended_without_identity == 1


def test_a_period_without_enrolments_has_empty_files(loaded, keys, tmp_path):
    _, files = _write(loaded, keys, tmp_path / "sus", date(2023, 1, 1), date(2023, 12, 31))
    assert all(frame.empty for frame in files.values())


def test_missing_vault_entry_stops_the_submission(loaded, keys):
    with loaded.begin() as connection:
        connection.exec_driver_sql("delete from identity_vault")
    with loaded.connect() as connection, pytest.raises(LookupError, match="identitetsvalvet"):
        submission.identities(connection, keys.vault, pd.Series(["a" * 64]))
