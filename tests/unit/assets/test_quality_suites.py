"""The Great Expectations suites on small hand-built warehouses: every suite passes on a consistent
one, and each kind of damage ingestion could do fails exactly the rule written for it. The results,
the Dagster metadata and the Data Docs never carry a pseudonym."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import inspect
import json
from pathlib import Path

import pytest
from sqlalchemy import insert

from assets.quality import checks, docs, suites
from assets.quality import frames as f
from assets.quality.frames import Tables
from assets.quality.suites import PLANS, plans
from finsam.consent import PartnerConsent, RecordTime
from sources.registry import REGISTRY, Registry
from sources.spec import Source
from validation.quality import SuiteResult, fingerprint, validate
from warehouse import models

D = dt.date
NEW_YEAR = D(2024, 1, 1)


def person(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


P1, P2, P5, P6, P7, P8 = (person(name) for name in ("p1", "p2", "p5", "p6", "p7", "p8"))
EVERYONE = (P1, P2, P5, P6, P7, P8)
JUDGED: dict[str, SuiteResult] = {}


class Warehouse:
    """A consistent warehouse: one budget year, one insats register (with an identified, an
    anonymous and a de-identified spell), a consent register, one delivery per partner and a
    ledger. ``add`` puts rows in to break it."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.delivery: dict[str, int] = {}
        self._row = 100
        with engine.begin() as connection:
            for name, source, day, scope, outcome in (
                    ("budget", "budget", D(2024, 1, 15), "2024", "inläst"),
                    ("budget_2023", "budget", D(2023, 1, 15), "2023", "inläst"),
                    ("insats_old", "insats", D(2024, 3, 31), "A", "inläst"),
                    ("insats", "insats", D(2024, 6, 30), "A", "inläst"),
                    ("samtycke", "samtycke", D(2024, 6, 30), None, "inläst"),
                    ("fk", "fk", D(2024, 6, 30), None, "inläst"),
                    ("fk_rejected", "fk", D(2024, 6, 15), None, "avvisad"),
                    ("af", "af", D(2024, 6, 30), None, "inläst"),
                    ("soc", "soc", D(2024, 6, 30), None, "inläst"),
                    ("hsf", "hsf", D(2024, 6, 30), None, "inläst"),
                    ("ekonomi", "ekonomi", D(2024, 6, 30), None, "inläst")):
                self.delivery[name] = connection.execute(insert(models.Delivery.__table__).values(
                    source=source, file_name=f"{name}.csv", extraction_date=day, scope=scope,
                    sha256=name, size_bytes=1, rows_read=1, rows_loaded=1, rows_held=0,
                    outcome=outcome)).inserted_primary_key[0]
            for source, scope, name, day in (("budget", "2024", "budget", D(2024, 1, 15)),
                                             ("budget", "2023", "budget_2023", D(2023, 1, 15)),
                                             ("insats", "A", "insats", D(2024, 6, 30)),
                                             ("samtycke", "register", "samtycke", D(2024, 6, 30))):
                connection.execute(insert(models.SnapshotState.__table__).values(
                    source=source, scope=scope, delivery_id=self.delivery[name], extraction_date=day))
        self.add(models.BudgetInsats, "budget", year=2024, insats="A", namn="A-insatsen",
                 startdatum=D(2024, 1, 1), inriktning="individ")
        self.add(models.BudgetLine, "budget", year=2024, insats="A", kostnadsslag="LON",
                 ackumulering=100.0, spread=False)
        self.add(models.BudgetAnnual, "budget", year=2024, insats="A", arsbudget=100.0)
        self.add(models.BudgetFinancing, "budget", year=2024, finansiar="Försäkringskassan",
                 belopp=50.0)
        self.spell(P1)
        self.add(models.Spell, "insats", **self._spell("anonym|A|K|2024-02-01|0", None,
                                                        anonym=True))
        self.add(models.Spell, None, **self._spell("avidentifierad|t1|A|2024-02-01", None,
                                                    deidentified_person="t1"))
        self.vault(P1, P2)
        self.add(models.Spell, "insats", **self._spell(f"A|{P2}|2024-02-01", P2))
        self.consent(P1, "AF,FK,HSF,SOC")
        self.consent(P2, "AF")
        self.fk(P1, D(2024, 2, 1), D(2024, 3, 31))
        self.add(models.AfSupport, "af", record_key=f"{P2}|2024-02-01", pseudonym=P2,
                 inskriven_fran=D(2024, 2, 1), ersattning="AKS")
        self.add(models.SocPayment, "soc", record_key=f"{P1}|2024-03", pseudonym=P1,
                 manad="2024-03", belopp=1000.0)
        self.add(models.HsfContact, "hsf", record_key=f"{P1}|2024-04-10", pseudonym=P1,
                 kontaktdatum=D(2024, 4, 10), kontakttyp="BES")
        self.add(models.LedgerEntry, "ekonomi", record_key="V1|1", ver_nr="V1", rad=1,
                 bokforingsdatum=D(2024, 2, 1), konto=5010, projekt="A", belopp=10.0,
                 account_class="cost")

    # -- rows ------------------------------------------------------------------------------

    def add(self, model, delivery: str | None, *, extracted: dt.date | None = None, **values):
        table = model.__table__
        if delivery is not None:
            self._row += 1
            day = extracted or self._extracted(delivery)
            values = {"delivery_id": self.delivery[delivery], "extraction_date": day,
                      "row_number": self._row, **values}
        with self.engine.begin() as connection:
            connection.execute(insert(table).values(**values))

    def _extracted(self, delivery: str) -> dt.date:
        with self.engine.connect() as connection:
            table = models.Delivery.__table__
            return connection.execute(table.select().where(
                table.c.id == self.delivery[delivery])).mappings().one()["extraction_date"]

    @staticmethod
    def _spell(key: str, pseudonym: str | None, **values) -> dict:
        return {"record_key": key, "insats": "A", "pseudonym": pseudonym, "anonym": False,
                "skyddad_identitet": False, "kon": "K", "inskrivningsdatum": D(2024, 2, 1),
                **values}

    def spell(self, pseudonym: str, delivery: str = "insats", **values) -> None:
        self._row += 1
        self.add(models.Spell, delivery, **self._spell(f"A|{pseudonym}|{self._row}", pseudonym,
                                                        **values))

    def vault(self, *people: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(insert(models.IdentityVault.__table__),
                               [{"pseudonym": one, "ciphertext": "x"} for one in people])

    def consent(self, pseudonym: str, parter: str, since: dt.date = NEW_YEAR,
                withdrawn: dt.date | None = None) -> None:
        self.add(models.Consent, "samtycke", record_key=f"{pseudonym}|A|{since}|{parter}",
                 pseudonym=pseudonym, insats="A", samtycke_fran=since, aterkallat=withdrawn,
                 parter=parter, sus=True)

    def fk(self, pseudonym: str, fom: dt.date, tom: dt.date | None, delivery: str = "fk",
           **values) -> None:
        self._row += 1
        self.add(models.FkBenefit, delivery, record_key=f"{pseudonym}|SJP|{fom}|{self._row}",
                 pseudonym=pseudonym, forman="SJP", forsorjning="SJP", omfattning=100.0, fom=fom,
                 tom=tom, **values)

    # -- judging ---------------------------------------------------------------------------

    def judge(self, chosen=PLANS):
        with self.engine.connect() as connection:
            tables = Tables(connection)
            built = {plan.suite.name: plan.build(tables) for plan in chosen}
        suites = [plan.suite for plan in chosen]
        # GX judges each distinct frame once per test session; the same frame again (most suites
        # of most tests are the consistent warehouse's) reuses that result, as a run would
        marks = {suite.name: fingerprint(suite, built[suite.name]) for suite in suites}
        known = {name: JUDGED[mark] for name, mark in marks.items() if mark in JUDGED}
        results = validate(built, suites, known)
        JUDGED.update({result.fingerprint: result for result in results.values()})
        return results, built

    def failures(self, chosen=PLANS) -> dict[tuple[str, str], int]:
        results, _ = self.judge(chosen)
        return {(name, rule.column): rule.unexpected for name, result in results.items()
                for rule in result.failed}


@pytest.fixture
def lager(engine) -> Warehouse:
    return Warehouse(engine)


def test_every_suite_passes_on_a_consistent_warehouse(lager):
    results, built = lager.judge()
    assert {name: result.success for name, result in results.items()} == {
        plan.suite.name: True for plan in PLANS}
    assert results["spell"].rows == 4 and results["fk_benefit"].rows == 1
    assert results["budget_line"].rows == 4      # the four sheets of the workbook
    # no frame a suite sees holds a pseudonym or any other text about a person
    for frame in built.values():
        assert not any(frame[column].astype(str).str.fullmatch(r"[0-9a-f]{64}").any()
                       for column in frame.columns)


def test_a_partner_row_whose_only_consent_names_another_partner(lager):
    lager.fk(P2, D(2024, 2, 1), D(2024, 2, 28))      # P2 consented to AF only
    assert lager.failures() == {("fk_benefit", f.PARTNER_CONSENT): 1}


def test_a_consent_given_after_the_partner_extracted_the_data_does_not_cover_it(lager):
    lager.consent(P5, "FK", since=D(2024, 7, 1))     # the FK file was extracted 2024-06-30
    lager.vault(P5)
    lager.spell(P5)
    lager.fk(P5, D(2024, 5, 1), None)                # open period: runs into the consent
    assert lager.failures() == {("fk_benefit", f.PARTNER_CONSENT): 1}


def test_consent_in_force_on_some_day_of_a_period_or_month_covers_it(lager):
    lager.consent(P5, "FK,SOC", since=D(2024, 3, 15), withdrawn=D(2024, 6, 1))
    lager.consent(P5, "HSF")                         # still in force: P5 is not erased
    lager.vault(P5)
    lager.spell(P5)
    lager.fk(P5, D(2024, 1, 1), D(2024, 3, 15))      # last day of the period: covered
    lager.add(models.SocPayment, "soc", record_key=f"{P5}|2024-05", pseudonym=P5,
              manad="2024-05", belopp=1.0)           # withdrawn in June: May is covered
    lager.add(models.SocPayment, "soc", record_key=f"{P5}|2024-06", pseudonym=P5,
              manad="2024-06", belopp=1.0)           # in force until 31 May only
    lager.fk(P5, D(2024, 1, 1), D(2024, 3, 14))      # ended the day before the consent
    assert lager.failures() == {("soc_payment", f.PARTNER_CONSENT): 1,
                                ("fk_benefit", f.PARTNER_CONSENT): 1}


def test_a_spell_whose_pseudonym_is_missing_from_the_vault(lager):
    lager.spell(P6)
    assert lager.failures() == {("spell", f.IN_VAULT): 1}


def test_a_deidentified_spell_that_still_points_to_its_landing_row(lager):
    lager.add(models.Spell, "insats", **Warehouse._spell("avidentifierad|t2|A|2024-02-01", None,
                                                          deidentified_person="t2"))
    assert lager.failures() == {("spell", f.DEIDENTIFIED_BARE): 1}


def test_an_anonymous_spell_that_kept_a_pseudonym(lager):
    lager.spell(P1, anonym=True)
    assert lager.failures() == {("spell", f.ONE_KIND): 1}


def test_a_vault_entry_for_nobody_is_a_warning(lager):
    lager.vault(P7)
    assert lager.failures() == {("identity_vault", f.VAULT_OWNER): 1}
    assert not next(plan for plan in PLANS if plan.suite.name == "identity_vault").blocking


def test_a_vault_entry_whose_spell_waits_to_load_has_an_owner(lager):
    lager.vault(P7)
    with lager.engine.begin() as connection:
        connection.execute(insert(models.HeldRecord.__table__).values(
            source="insats", delivery_id=lager.delivery["insats"], row_number=99, pseudonym=P7,
            waits_for="granskning", payload="{}"))
    assert lager.failures() == {}


def test_rows_from_a_rejected_delivery(lager):
    lager.fk(P1, D(2024, 4, 1), None, delivery="fk_rejected")
    assert lager.failures() == {("fk_benefit", f.FROM_LOADED_DELIVERY): 1}


def test_a_row_from_another_source_s_delivery(lager):
    lager.fk(P1, D(2024, 4, 1), D(2024, 4, 30), delivery="af")
    assert lager.failures() == {("fk_benefit", f.FROM_LOADED_DELIVERY): 1}


def test_a_row_whose_extraction_date_is_not_its_delivery_s(lager):
    lager.fk(P1, D(2024, 4, 1), D(2024, 4, 30), extracted=D(2024, 5, 31))
    assert lager.failures() == {("fk_benefit", f.SAME_EXTRACTION): 1}


def test_a_spell_left_from_the_register_that_was_replaced(lager):
    lager.spell(P1, delivery="insats_old")
    assert lager.failures() == {("spell", f.CURRENT_SNAPSHOT): 1}


def test_a_budget_row_from_another_year_s_workbook(lager):
    lager.add(models.BudgetLine, "budget_2023", year=2024, insats="A", kostnadsslag="RES",
              ackumulering=5.0, spread=False)
    assert lager.failures() == {("budget_line", f.CURRENT_SNAPSHOT): 1}


def test_a_snapshot_state_whose_date_is_not_its_delivery_s(lager):
    with lager.engine.begin() as connection:
        table = models.SnapshotState.__table__
        connection.execute(table.update().where(table.c.source == "samtycke")
                           .values(extraction_date=D(2024, 5, 31)))
    assert lager.failures() == {("consent", f.CURRENT_SNAPSHOT): 2}


def test_consents_of_someone_who_withdrew_every_consent_are_still_there(lager):
    lager.consent(P8, "FK", since=D(2024, 1, 1), withdrawn=D(2024, 5, 1))
    assert lager.failures() == {("consent", f.ERASED_WHEN_WITHDRAWN): 1}


def test_a_new_consent_after_an_erasure_is_a_new_legal_basis(lager):
    # erased on 2024-05-01 (those rows are gone); a consent given after it stands
    lager.consent(P8, "FK", since=D(2024, 6, 1))
    assert lager.failures() == {}
    # ... until it is withdrawn too: then the person is to be erased again
    lager.consent(P8, "AF", since=D(2024, 6, 2), withdrawn=D(2024, 6, 20))
    with lager.engine.begin() as connection:
        table = models.Consent.__table__
        connection.execute(table.update().where(table.c.pseudonym == P8)
                           .values(aterkallat=D(2024, 6, 20)))
    assert lager.failures() == {("consent", f.ERASED_WHEN_WITHDRAWN): 2}


def test_the_partner_and_record_time_come_from_the_declaration():
    """A source declared as another partner's is judged against consents naming that partner,
    with no code naming any source."""
    spec = REGISTRY.spec("fk")
    moved = dataclasses.replace(spec, consent=PartnerConsent("AF", RecordTime("fom")))
    registry = Registry([*(source for source in REGISTRY if source.name != "fk"),
                         Source(moved, REGISTRY["fk"].reader)])
    plan = next(plan for plan in plans(registry) if plan.suite.name == "fk_benefit")
    rule = plan.suite.rules[-1]
    assert rule.column == f.PARTNER_CONSENT and "nämner AF" in rule.text and "dagen FOM" in rule.text
    partners = {plan.suite.name for plan in PLANS if any(
        rule.column == f.PARTNER_CONSENT for rule in plan.suite.rules)}
    assert partners == {spec.table.name for spec in REGISTRY.partner_sources()}


def test_a_new_partner_source_is_covered_by_its_declaration(lager):
    spec = REGISTRY.spec("fk")
    moved = dataclasses.replace(spec, consent=PartnerConsent("AF", RecordTime("fom", "tom")))
    registry = Registry([*(source for source in REGISTRY if source.name != "fk"),
                         Source(moved, REGISTRY["fk"].reader)])
    chosen = [plan for plan in plans(registry) if plan.suite.name == "fk_benefit"]
    # P1's consent names AF too; P2's names only AF: under this declaration both are covered
    lager.fk(P2, D(2024, 2, 1), D(2024, 2, 28))
    assert lager.failures(chosen) == {}
    assert lager.failures() == {("fk_benefit", f.PARTNER_CONSENT): 1}


def test_no_pseudonym_reaches_the_metadata_or_the_data_docs(lager, tmp_path):
    lager.fk(P2, D(2024, 2, 1), D(2024, 2, 28))
    lager.spell(P6)
    lager.vault(P7)
    lager.consent(P8, "FK", since=D(2024, 1, 1), withdrawn=D(2024, 5, 1))
    results, _ = lager.judge()
    folder = tmp_path / "steward" / "gx"
    with docs.locked(folder):
        docs.publish(folder, results, PLANS, "körning-1")
    written = "".join(path.read_text(encoding="utf-8") for path in folder.rglob("*")
                      if path.is_file())
    metadata = json.dumps([{key: getattr(value, "value", value) for key, value in checks._result(
        plan, results[plan.suite.name], docs.page_of(folder, plan.suite.name)).metadata.items()}
        for plan in PLANS], ensure_ascii=False, default=str)
    assert "uppfylls inte" in written and '"avvikande_rader": 1' in metadata
    for text in (written, metadata):
        assert not any(one in text for one in EVERYONE)
    failed = checks._result(next(plan for plan in PLANS if plan.suite.name == "fk_benefit"),
                            results["fk_benefit"], Path("x"))
    assert not failed.passed and failed.severity.value == "ERROR"


def test_every_registered_table_is_judged_and_no_source_is_listed_by_hand():
    by_name = {plan.suite.name: plan for plan in PLANS}
    for spec in REGISTRY.specs():
        if spec.table is None:
            continue
        plan = by_name[spec.table.name]
        assert plan.asset == spec.asset and plan.blocking
        assert all(table.name in plan.suite.title for table in spec.extra_tables.values())
        lineage = {rule.column for rule in plan.suite.rules}
        assert {f.FROM_LOADED_DELIVERY, f.SAME_EXTRACTION} <= lineage
    # the suites' code names no source, table or partner: all of it comes from the declarations
    # (a name that is also a column's, like insats, is read as a column and not looked for)
    code = "".join(inspect.getsource(module) for module in (f, suites, checks, docs))
    columns = {column.name for table in models.Base.metadata.tables.values()
               for column in table.columns}
    for spec in REGISTRY.specs():
        names = {spec.name, getattr(spec.table, "name", spec.name)}
        if isinstance(spec.consent, PartnerConsent):
            names.add(spec.consent.partner)
        for name in names - columns:
            assert f'"{name}"' not in code and f"'{name}'" not in code, name


def test_a_source_left_out_of_the_registry_has_no_suite():
    registry = Registry([source for source in REGISTRY if source.name != "hsf"])
    names = {plan.suite.name for plan in plans(registry)}
    assert "hsf_contact" not in names and "fk_benefit" in names
    assert len(plans(registry)) == len(PLANS) - 1


def test_a_spell_whose_insats_is_not_in_its_year_s_budget_is_a_warning(lager):
    with lager.engine.begin() as connection:         # the register's scope B is current
        connection.execute(insert(models.SnapshotState.__table__).values(
            source="insats", scope="B", delivery_id=lager.delivery["insats"],
            extraction_date=D(2024, 6, 30)))
    lager.spell(P1, insats="B")                      # 2024 has a catalogue, without B
    lager.spell(P1, inskrivningsdatum=D(2023, 5, 2)) # 2023 has none: any year's sheet counts
    lager.add(models.LedgerEntry, "ekonomi", record_key="V2|1", ver_nr="V2", rad=1,
              bokforingsdatum=D(2024, 3, 1), konto=5010, projekt="ADM", belopp=5.0,
              account_class="cost")                  # ADM is always known
    lager.add(models.LedgerEntry, "ekonomi", record_key="V3|1", ver_nr="V3", rad=1,
              bokforingsdatum=D(2024, 3, 1), konto=5010, projekt="Q", belopp=5.0,
              account_class="cost")
    assert lager.failures() == {("spell_catalogue", f.IN_CATALOGUE): 1,
                                ("ledger_entry_catalogue", f.IN_CATALOGUE): 1}
    warned = {plan.suite.name: plan.blocking for plan in PLANS if plan.suite.name.endswith(
        "_catalogue")}
    assert warned == {"spell_catalogue": False, "ledger_entry_catalogue": False}
