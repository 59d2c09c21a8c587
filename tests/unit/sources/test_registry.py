"""The source registry refuses what is incomplete, and every source folder is registered."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import pytest
from sqlalchemy import Column, Date, Integer, MetaData, String, Table

import sources
from finsam.consent import OwnRecord, PartnerConsent, RecordTime
from finsam.errors import RegistryError
from sources.fk import reader as fk_reader
from sources.registry import REGISTRY, Registry
from sources.spec import Role, Source, Strategy
from validation.warehouse import SCHEMAS

SOURCES_DIR = Path(sources.__file__).parent

# A fifth partner, Kronofogden, declared the way a new source would be.
_METADATA = MetaData()
KFM_TABLE = Table("kfm_case", _METADATA, Column("id", Integer, primary_key=True),
                  Column("record_key", String(160)), Column("pseudonym", String(64)),
                  Column("fom", Date), Column("tom", Date), Column("delivery_id", Integer),
                  Column("extraction_date", Date), Column("row_number", Integer),
                  Column("version", String(300)))
KFM = replace(REGISTRY.spec("fk"), name="kfm", label="Kronofogden", folder="kfm",
              asset="kfm_cases", table=KFM_TABLE,
              consent=PartnerConsent("FK", RecordTime("fom", "tom")))
KFM_SCHEMAS = {**SCHEMAS, "kfm_case": pa.DataFrameSchema({"record_key": pa.Column(nullable=False)})}


def _with(spec) -> Registry:
    return Registry([*REGISTRY, Source(spec, fk_reader)], schemas=KFM_SCHEMAS)


def test_every_source_folder_is_registered():
    folders = {path.parent.name for path in SOURCES_DIR.glob("*/spec.py")}
    assert folders == set(REGISTRY.names)


def test_a_complete_new_partner_source_is_accepted_and_joins_the_partner_rules():
    registry = _with(KFM)
    assert "kfm" in registry
    assert "kfm_case" in {spec.table.name for spec in registry.partner_sources()}
    assert registry.names.index("kfm") > registry.names.index("samtycke")


def test_a_personal_source_without_a_consent_rule_is_refused():
    with pytest.raises(RegistryError, match=r"'kfm'.*utan samtyckesregel"):
        _with(replace(KFM, consent=None))


def test_a_partner_source_with_only_an_own_record_rule_is_refused():
    with pytest.raises(RegistryError, match=r"'kfm'.*kräver PartnerConsent"):
        _with(replace(KFM, consent=OwnRecord("vi tycker det är bra")))


def test_an_unknown_partner_code_is_refused():
    with pytest.raises(RegistryError, match=r"okänd partner 'KFM'"):
        _with(replace(KFM, consent=PartnerConsent("KFM", RecordTime("fom", "tom"))))


def test_a_record_time_outside_the_table_is_refused():
    with pytest.raises(RegistryError, match=r"postens tid \(kontaktdatum\)"):
        _with(replace(KFM, consent=PartnerConsent("FK", RecordTime("kontaktdatum"))))


def test_a_table_without_a_schema_is_refused():
    with pytest.raises(RegistryError, match=r"kfm_case saknar Pandera-schema"):
        Registry([*REGISTRY, Source(KFM, fk_reader)])


def test_a_source_without_a_table_is_refused():
    with pytest.raises(RegistryError, match=r"ingen tabell"):
        _with(replace(KFM, table=None))


def test_a_non_personal_source_may_not_claim_a_consent_rule():
    with pytest.raises(RegistryError, match=r"utan personuppgifter"):
        _with(replace(KFM, role=Role.ACCOUNTS, record_key=("fom",)))


def test_unknown_and_circular_dependencies_are_refused():
    with pytest.raises(RegistryError, match=r"okänd källa 'kronofogden'"):
        _with(replace(KFM, depends_on=("kronofogden",)))
    loop = replace(REGISTRY.spec("budget"), depends_on=("ekonomi",))
    with pytest.raises(RegistryError, match=r"cirkel"):
        Registry([Source(loop, REGISTRY["budget"].reader),
                  *[source for source in REGISTRY if source.name != "budget"]])


def test_two_sources_may_not_share_a_name_folder_or_asset():
    with pytest.raises(RegistryError, match=r"registrerad två gånger"):
        Registry([*REGISTRY, REGISTRY["fk"]])
    with pytest.raises(RegistryError, match=r"samma folder 'fk'"):
        _with(replace(KFM, folder="fk"))
    with pytest.raises(RegistryError, match=r"samma asset 'fk_benefits'"):
        _with(replace(KFM, asset="fk_benefits"))


def test_every_registered_source_declares_what_the_rest_derives():
    for spec in REGISTRY.specs():
        assert spec.table is not None and spec.table.name in SCHEMAS
        assert spec.label and spec.asset and spec.asset_description
        if spec.personal:
            assert spec.consent is not None
        if spec.role == Role.PARTNER:
            assert isinstance(spec.consent, PartnerConsent)
    assert {spec.name for spec in REGISTRY.partner_sources()} == {"fk", "af", "soc", "hsf"}
    assert REGISTRY.spec("budget").strategy == Strategy.WORKBOOK


def test_the_consent_filter_applies_to_a_new_partner_source(engine, tmp_path, keys):
    """The consent filter runs for whatever partner source is registered, with no list to extend:
    of two people in a Kronofogden file, only the one whose consent names the partner is stored."""
    from assets.ingest.run import ingest_source

    KFM_TABLE.create(engine)
    landing = tmp_path / "landing"
    (landing / "kfm").mkdir(parents=True)
    (landing / "samtycke").mkdir()
    (landing / "samtycke" / "20240601.csv").write_text(
        "Personnummer;Insats;Samtycke från;Giltigt till;Återkallat;Parter;SUS\n"
        "198501012390;DEMO1;2023-12-01;;;FK,SOC;Ja\n", encoding="utf-8")
    (landing / "kfm" / "20240601_kfm.csv").write_bytes(
        ("PERSONNR;FORMAN;OMFATTNING;FOM;TOM\r\n198501012390;SJP;100;20240101;20240301\r\n"
         "198501012382;SJP;100;20240101;20240301\r\n").encode("cp1252"))
    registry = _with(KFM)
    ingest_source("samtycke", landing, engine, keys, registry=registry)
    report = ingest_source("kfm", landing, engine, keys, registry=registry)
    assert report.rows_read == 2 and report.rows_loaded == 1
    with engine.connect() as connection:
        stored = pd.read_sql(KFM_TABLE.select(), connection)
    assert stored["pseudonym"].tolist() == keys.pseudonymiser.pseudonyms(
        pd.Series(["198501012390"])).tolist()
