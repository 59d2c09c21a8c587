"""Consent edge cases through ingestion and the submission (issue 18, item 3), on the contract's
samples with the consent register changed in the test:

- withdraw, then consent again to the same insats: the first spell still ends AVB on the withdrawal
  day, the register's spell is not carried on by the new consent;
- withdrawing only the partner-sharing consent (SUS = Nej) changes nothing in who is anonymous;
- a spell enrolled with SUS consent and withdrawn in the same period is registered in and out, or,
  where the identity is erased, listed for registration by hand with what the deltagaransvarig needs.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from assets.ingest.run import ingest_source
from assets.sus import submission
from assets.sus.warehouse_frames import read_spells, read_sus_consents
from finsam import participation
from warehouse import models

ORDER = ("budget", "insats", "samtycke", "fk", "af", "soc", "hsf", "ekonomi")
HEADER = "Personnummer;Insats;Samtycke från;Giltigt till;Återkallat;Parter;SUS"
ANNA, BO, CARL = "198001022386", "198112279297", "199012282399"
INSATS_HEADER = ("Insats;Personnummer;Namn;Anonym;Kön;Skyddad identitet;Aktualiserande part;"
                 "Inskrivningsdatum;Utskrivningsdatum;Avslutsanledning;Försörjning vid inskrivning;"
                 "Försörjning vid utskrivning;Tid i offentlig försörjning;Utbildningsnivå;Kommun")


def _ingest_all(landing: Path, engine, keys) -> None:
    for source in ORDER:
        ingest_source(source, landing, engine, keys)


def _register(landing: Path, extraction: str, *rows: str) -> None:
    (landing / "samtycke" / f"{extraction}.csv").write_text(
        "\n".join([HEADER, *rows]) + "\n", encoding="utf-8")


def _selection(engine, start: date, end: date) -> submission.Selection:
    with engine.connect() as connection:
        return submission.selection_for(read_spells(connection), read_sus_consents(connection),
                                        start, end)


def _files(engine, keys, folder: Path, start: date, end: date) -> dict[str, pd.DataFrame]:
    selection = _selection(engine, start, end)
    with engine.connect() as connection:
        people = pd.concat([selection.enrolled["pseudonym"], selection.ended["pseudonym"]])
        ids = submission.identities(connection, keys.vault, people)
    submission.SusAdapter().write(selection, ids, folder)
    return {path.stem: pd.read_csv(path, sep=";", dtype=str) for path in folder.glob("*.csv")}


def test_withdraw_and_consent_again_ends_the_first_spell_with_avb(sample_landing, engine, keys,
                                                                  tmp_path):
    _ingest_all(sample_landing, engine, keys)
    # Anna withdraws on 1 May and consents again on 1 June; the insats team's register still shows
    # her first spell running to 29 November (a new spell starts only if the register says so)
    _register(sample_landing, "20241201",
              f"{ANNA};DEMO1;2024-01-10;;2024-05-01;AF,FK,SOC,HSF,UAF;Ja",
              f"{ANNA};DEMO1;2024-06-01;;;AF,FK,SOC,HSF,UAF;Ja",
              f"{BO};DEMO1;2024-01-25;2025-01-31;;AF,FK,SOC;Ja",
              f"{CARL};DEMO1;2024-04-08;;2024-06-30;AF,FK,HSF;Ja",
              "199504272387;DEMO1;2024-05-15;;;AF,SOC;Nej")
    _ingest_all(sample_landing, engine, keys)
    with engine.connect() as connection:
        spells = pd.read_sql(select(models.Spell.__table__), connection)
    anna = spells.loc[spells["aktualiserande_part"] == "FK"]
    assert anna["utskrivningsdatum"].astype(str).tolist() == ["2024-05-01"]
    assert anna["avslutsanledning"].tolist() == ["AVB"]
    # every consent she had given by 1 May was withdrawn that day, so what identified her up to
    # then is erased (the June consent is a new legal basis): her first spell is registered out
    # by hand, with what the deltagaransvarig needs to find it
    files = _files(engine, keys, tmp_path / "q2", date(2024, 4, 1), date(2024, 6, 30))
    assert ANNA not in files["utregistreringar"].to_string()
    manual = files["manuell_registrering"]
    assert manual.loc[manual["Aktualiserande part"] == "FK",
                      ["Insats", "Kön", "Inskrivningsdatum", "Utskrivningsdatum",
                       "Avslutsanledning"]].values.tolist() == [
        ["DEMO1", "K", "2024-01-15", "2024-05-01", "AVB"]]
    # and she is not counted anonymously for having withdrawn
    with engine.connect() as connection:
        spells = read_spells(connection)
        anonymous = participation.anonymous(spells, read_sus_consents(connection))
    assert not anonymous[spells["aktualiserande_part"] == "FK"].any()
    assert files["anonyma"]["Antal"].astype(int).sum() == 1     # the protected one, enrolled in May


def test_withdraw_and_consent_again_without_erasure_registers_out_with_avb(sample_landing, engine,
                                                                          keys, tmp_path):
    # Anna keeps a partner-sharing consent throughout, so nothing is erased: SUS gets her out
    # with AVB on the withdrawal day, though she consented to SUS again in June
    (sample_landing / "samtycke" / "20241130.csv").unlink()
    _register(sample_landing, "20241130",
              f"{ANNA};DEMO1;2024-01-10;;2024-05-01;AF,FK,SOC,HSF,UAF;Ja",
              f"{ANNA};DEMO1;2024-01-10;;;AF,FK;Nej".replace("2024-01-10", "2024-01-11"),
              f"{ANNA};DEMO1;2024-06-01;;;AF,FK,SOC,HSF,UAF;Ja",
              f"{BO};DEMO1;2024-01-25;2025-01-31;;AF,FK,SOC;Ja",
              f"{CARL};DEMO1;2024-04-08;;2024-06-30;AF,FK,HSF;Ja",
              "199504272387;DEMO1;2024-05-15;;;AF,SOC;Nej")
    _ingest_all(sample_landing, engine, keys)
    files = _files(engine, keys, tmp_path / "q2", date(2024, 4, 1), date(2024, 6, 30))
    out = files["utregistreringar"]
    assert out.loc[out["Personnummer"] == ANNA, ["Utskrivningsdatum", "Avslutsanledning"]
                   ].values.tolist() == [["2024-05-01", "AVB"]]
    assert ANNA not in files["anonyma"].to_string()


def test_partner_only_withdrawal_changes_nothing_in_who_is_anonymous(sample_landing, engine, keys):
    # Dora (test number) is enrolled without SUS consent but shares data between partners
    dora = "199504272387"
    insats = sample_landing / "insats"
    (insats / "20241130_DEMO1.xlsx").unlink()
    text = (insats / "20241130_DEMO1.csv").read_text(encoding="utf-8-sig")
    (insats / "20241130_DEMO1.csv").write_text(
        text.rstrip("\n") + f"\nDEMO1;{dora};;Nej;K;Nej;SOC;2024-05-20;;;FSB;;3;GY;0980\n",
        encoding="utf-8")
    _ingest_all(sample_landing, engine, keys)

    def anonymous_counts() -> pd.DataFrame:
        return _selection(engine, date(2024, 1, 1), date(2024, 12, 31)).anonymous

    before = anonymous_counts()
    assert before.loc[before["kon"] == "K", "antal"].sum() >= 2     # protected + Dora
    # she withdraws the partner-sharing consent (the only one she gave): she is erased
    _register(sample_landing, "20241201",
              f"{ANNA};DEMO1;2024-01-10;;;AF,FK,SOC,HSF,UAF;Ja",
              f"{BO};DEMO1;2024-01-25;2025-01-31;;AF,FK,SOC;Ja",
              f"{CARL};DEMO1;2024-04-08;;2024-06-30;AF,FK,HSF;Ja",
              f"{dora};DEMO1;2024-05-15;;2024-09-01;AF,SOC;Nej")
    _ingest_all(sample_landing, engine, keys)
    with engine.connect() as connection:
        spells = read_spells(connection)
    dora_spell = spells.loc[(spells["inskrivningsdatum"] == "2024-05-20")
                            & (spells["aktualiserande_part"] == "SOC")]
    assert dora_spell["pseudonym"].isna().all() and dora_spell["deidentified_person"].notna().all()
    # no SUS consent was withdrawn: her spell is not ended AVB, and she stays anonymous
    assert dora_spell["avslutsanledning"].isna().all()
    pd.testing.assert_frame_equal(before, anonymous_counts())


def test_enrolled_and_withdrawn_in_one_period_is_registered_in_and_out(sample_landing, engine,
                                                                      keys, tmp_path):
    # Carl withdraws only his SUS consent and keeps sharing between partners: not erased
    (sample_landing / "samtycke" / "20241130.csv").unlink()
    _register(sample_landing, "20241130",
              f"{ANNA};DEMO1;2024-01-10;;;AF,FK,SOC,HSF,UAF;Ja",
              f"{BO};DEMO1;2024-01-25;2025-01-31;;AF,FK,SOC;Ja",
              f"{CARL};DEMO1;2024-04-08;;2024-06-15;AF,FK,HSF;Ja",
              f"{CARL};DEMO1;2024-06-15;;;AF,FK,HSF;Nej",
              "199504272387;DEMO1;2024-05-15;;;AF,SOC;Nej")
    _ingest_all(sample_landing, engine, keys)
    files = _files(engine, keys, tmp_path / "q2", date(2024, 4, 1), date(2024, 6, 30))
    assert CARL in files["inregistreringar"]["Personnummer"].tolist()
    out = files["utregistreringar"].set_index("Personnummer")
    assert out.loc[CARL, ["Utskrivningsdatum", "Avslutsanledning"]].tolist() == ["2024-06-15", "AVB"]
    assert files["manuell_registrering"].empty


def test_enrolled_and_erased_in_one_period_is_listed_for_manual_registration(
        sample_landing, engine, keys, tmp_path):
    # the samples: Carl enrolled 10 April with SUS consent and withdrew every consent 30 June
    _ingest_all(sample_landing, engine, keys)
    files = _files(engine, keys, tmp_path / "q2", date(2024, 4, 1), date(2024, 6, 30))
    assert CARL not in files["inregistreringar"].to_string()
    manual = files["manuell_registrering"]
    assert manual[["Insats", "Kön", "Aktualiserande part", "Inskrivningsdatum",
                   "Utskrivningsdatum", "Avslutsanledning"]].values.tolist() == [
        ["DEMO1", "M", "AF", "2024-04-10", "2024-06-30", "SJK"]]
    assert manual["Ålder vid inskrivning"].tolist() == ["33"]
    assert "för hand" in manual["Att göra"].iloc[0]
    # a withdrawn participant is never counted anonymously
    with engine.connect() as connection:
        spells = read_spells(connection)
        anonymous = participation.anonymous(spells, read_sus_consents(connection))
    assert not anonymous[spells["aktualiserande_part"] == "AF"].loc[
        spells["inskrivningsdatum"] == "2024-04-10"].any()



def test_submission_statistics_and_uppfoljning_agree_on_who_is_anonymous(sample_landing, engine,
                                                                        keys):
    from assets.sus import statistics
    from assets.uppfoljning import counts

    # Dora is enrolled with her number but gave no SUS consent: anonymous everywhere
    dora = "199504272387"
    insats = sample_landing / "insats"
    (insats / "20241130_DEMO1.xlsx").unlink()
    text = (insats / "20241130_DEMO1.csv").read_text(encoding="utf-8-sig")
    (insats / "20241130_DEMO1.csv").write_text(
        text.rstrip("\n") + f"\nDEMO1;{dora};;Nej;K;Nej;SOC;2024-05-20;;;FSB;;3;GY;0980\n",
        encoding="utf-8")
    _ingest_all(sample_landing, engine, keys)
    start, end = date(2024, 1, 1), date(2024, 12, 31)
    with engine.connect() as connection:
        spells = read_spells(connection)
        consents = read_sus_consents(connection)
        catalogue = pd.read_sql(select(models.BudgetInsats.__table__), connection)
    selection = submission.selection_for(spells, consents, start, end)
    tables = statistics.sus_tables(participation.with_anonymous(spells, consents), start, end)
    overview = tables[statistics.OVERVIEW][statistics.COUNT]
    # the Anonym = Ja man, the protected woman and Dora
    assert int(selection.anonymous["antal"].sum()) == overview[statistics.NEW_ANONYMOUS] == 3
    # the anonymous count only in the overview: the kön tables hold the others' enrolments
    enrolled = int(tables[statistics.ALDER].loc[:, statistics.TOTAL].sum())
    assert enrolled == overview[statistics.NEW] - 3
    deltagare = counts.deltagare(spells, consents, catalogue, start, end)
    # Anna, Bo and the erased Carl (registered with personal data) once each, the three anonymous
    assert int(deltagare["Antal"].sum()) == 6


def _spell_state(engine) -> pd.DataFrame:
    """The spells as SUS and the statistics see them: whether each is anonymous included."""
    with engine.connect() as connection:
        spells = read_spells(connection)
        anonymous = participation.anonymous(spells, read_sus_consents(connection))
    state = spells.assign(anonymous=anonymous.to_numpy(),
                          identified=spells["pseudonym"].notna().to_numpy())
    columns = ["insats", "kon", "inskrivningsdatum", "utskrivningsdatum", "avslutsanledning",
               "anonymous", "identified"]
    return state[columns].astype("string").sort_values(columns, ignore_index=True)


def test_an_erasure_read_before_the_register_counts_the_spell_as_read_after(
        sample_landing, engine, keys, tmp_path):
    """Eva consented to SUS, was enrolled in January, left for work in March and withdrew every
    consent in June. Whether the consent register with her withdrawal arrives before or after the
    register with her spell, the spell is de-identified and counted as registered with SUS consent,
    not as anonymous (the order-independence of issue 14 for a spell that ended before the
    withdrawal); and a later register that still lists the spell loads."""
    from warehouse.db import make_engine, migrate

    eva = "199504272387"
    (sample_landing / "insats" / "20241130_DEMO1.xlsx").unlink()
    (sample_landing / "insats" / "20241130_DEMO1.csv").unlink()
    (sample_landing / "samtycke" / "20241130.csv").unlink()
    for folder in ("fk", "af", "soc", "hsf"):
        shutil.rmtree(sample_landing / folder)
    register = ("20240415_DEMO1.csv", "insats", "\n".join([
        INSATS_HEADER, f"DEMO1;{eva};Eva Exempel;Nej;K;Nej;FK;2024-01-15;2024-03-31;ARB;SJP;LON;2;GY;0580",
    ]) + "\n")
    consents = ("20240701.csv", "samtycke", "\n".join([
        HEADER, f"{eva};DEMO1;2024-01-10;;2024-06-01;AF,FK;Ja"]) + "\n")

    def deliver(landing: Path, name: str, folder: str, text: str) -> None:
        (landing / folder).mkdir(exist_ok=True)
        (landing / folder / name).write_text(text, encoding="utf-8-sig")

    # the team's next register still lists the ended spell (this crashed the register's load)
    again = ("20240801_DEMO1.csv", "insats", register[2])
    deliver(sample_landing, *register)
    _ingest_all(sample_landing, engine, keys)
    deliver(sample_landing, *consents)
    _ingest_all(sample_landing, engine, keys)
    deliver(sample_landing, *again)
    _ingest_all(sample_landing, engine, keys)
    register_first = _spell_state(engine)

    other = tmp_path / "andra"
    shutil.copytree(sample_landing, other / "landing")
    for name, folder, _ in (register, consents, again):
        (other / "landing" / folder / name).unlink()
    late = make_engine(f"sqlite:///{other / 'lager.db'}")
    migrate(late)
    try:
        deliver(other / "landing", *consents)
        _ingest_all(other / "landing", late, keys)
        deliver(other / "landing", *register)
        deliver(other / "landing", *again)
        _ingest_all(other / "landing", late, keys)
        consents_first = _spell_state(late)
    finally:
        late.dispose()
    expected = pd.DataFrame({"insats": ["DEMO1"], "kon": ["K"], "inskrivningsdatum": ["2024-01-15"],
                             "utskrivningsdatum": ["2024-03-31"], "avslutsanledning": ["ARB"],
                             "anonymous": ["False"], "identified": ["False"]}, dtype="string")
    pd.testing.assert_frame_equal(register_first, expected, check_dtype=False)
    pd.testing.assert_frame_equal(consents_first, expected, check_dtype=False)
