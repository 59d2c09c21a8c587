"""Which Great Expectations suites run, on which frames, on which asset, and how severe.

Derived from the source registry, so a new source is covered without code: every source's tables
get the lineage rules (and the snapshot rule when its deliveries replace a scope), a partner
source the consent rule for the partner and record time it declares, the participant register
the spell rules, the consent register the erasure rule, a source with a catalogue check the rule
that its codes agree with the budget workbook's catalogue.

Severity is chosen per suite. A suite is serious (ERROR; the SUS submission then refuses by
itself, issue 16) when a failure means a wrong or unlawful output would follow: partner records without a
consent naming the partner are a data-protection incident, a spell without its vault entry breaks
the SUS submission, rows from a replaced or rejected delivery put the wrong data in every report.
The others warn: they ask the steward to look, and no output is wrong because of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from assets.quality import frames as f
from finsam.consent import PartnerConsent
from sources.registry import REGISTRY, Registry
from sources.spec import Role, SourceSpec, Strategy
from validation.quality import Rule, Suite

MAX_SHARE_CHANGE = 0.35   # a category's share of enrolments moving more than this is worth a look
STEWARD_ASSET = "steward_review"

FROM_LOADED = Rule(f.FROM_LOADED_DELIVERY,
                   "Raden kommer från en inläst leverans av källans egna filer (manifestet: samma "
                   "källa, utfall inläst).")
SAME_EXTRACTION = Rule(f.SAME_EXTRACTION,
                       "Radens uttagsdatum är leveransens uttagsdatum i manifestet.")
CURRENT_SNAPSHOT = Rule(f.CURRENT_SNAPSHOT,
                        "Raden kommer från den leverans som är gällande för dess omfång "
                        "(snapshot_state), och tillståndet har den leveransens uttagsdatum.")
SPELL_RULES = (
    Rule(f.IN_VAULT, "Varje deltagande med pseudonym har personen i identitetsvalvet."),
    Rule(f.DEIDENTIFIED_BARE, "Ett avidentifierat deltagande har ingen pseudonym och pekar inte "
                              "på någon leveransrad (leverans, rad, uttagsdatum)."),
    Rule(f.ONE_KIND, "Varje deltagande är precis ett av: identifierat (pseudonym), avidentifierat "
                     "(slumpad token, får vara markerat Anonym om det registrerades anonymt) eller "
                     "anonymt (Anonym eller skyddad identitet, ingen person)."),
)
ERASED = Rule(f.ERASED_WHEN_WITHDRAWN,
              "Ingen samtyckesrad finns kvar för en person som hade återkallat alla samtycken som "
              "getts fram till en dag, daterad den dagen eller tidigare: personen ska vara raderad.")
VAULT_OWNER = Rule(f.VAULT_OWNER, "Varje post i identitetsvalvet hör till ett sparat deltagande "
                                  "eller ett deltagande som väntar på att läsas in.")
SHARE_CHANGE = Rule("share_change", "Andelen kvinnor bland kvartalets inskrivna ändras högst "
                                    f"{MAX_SHARE_CHANGE * 100:.0f} procentenheter från kvartalet "
                                    f"före (kvartal med minst {f.MIN_ENROLMENTS} inskrivna).",
                    0, MAX_SHARE_CHANGE)
DELIVERED = Rule("rows", "Varje partner har levererat läsbara rader varje kvartal sedan sin "
                         "första leverans.", 1)


def catalogue_rule(spec: SourceSpec) -> Rule:
    check, names = spec.catalogue, spec.contract_names()
    fixed = f" (utom {', '.join(check.always_known)}, som alltid är känd)" if check.always_known else ""
    return Rule(f.IN_CATALOGUE,
                f"Koden i {check.contract_column} finns på budgetens flik Insatser för året som "
                f"{names.get(check.date_column, check.date_column)} ligger i (ett år utan "
                f"budget: något års flik){fixed}.")


def partner_rule(spec: SourceSpec) -> Rule:
    consent, names = spec.consent, spec.contract_names()
    time = consent.time
    start, end = names.get(time.start, time.start), names.get(time.end, time.end)
    when = (f"månaden {start}" if time.month else f"dagen {start}" if time.end is None
            else f"perioden {start}–{end}")
    return Rule(f.PARTNER_CONSENT,
                f"Det finns ett samtycke för samma person som nämner {consent.partner} och som "
                f"gällde någon dag av postens tid ({when}), räknat högst till partnerns "
                "uttagsdatum.")


@dataclass(frozen=True)
class Plan:
    """A suite, how its frame is built from the warehouse, and the asset check that reports it."""

    suite: Suite
    asset: str
    serious: bool
    build: Callable[[f.Tables], pd.DataFrame]

    @property
    def check_name(self) -> str:
        return f"gx_{self.suite.name}"


def plans(registry: Registry = REGISTRY) -> list[Plan]:
    found = [_source_plan(spec) for spec in registry.specs() if spec.table is not None]
    participants = registry.with_role(Role.PARTICIPANTS)
    if participants:
        found.append(Plan(Suite("identity_vault", "Identitetsvalvet", (VAULT_OWNER,)),
                          participants[0].asset, False, _vault_frame(participants)))
    for spec in participants:
        found.append(Plan(Suite(f"{spec.table.name}_distribution",
                                f"{spec.label}: fördelning över kvartal", (SHARE_CHANGE,)),
                          spec.asset, False, _distribution_frame(spec)))
    for spec in registry.specs():
        if spec.catalogue is not None and spec.table is not None:
            found.append(Plan(Suite(f"{spec.table.name}_catalogue",
                                    f"{spec.label}: koder mot budgetens insatskatalog",
                                    (catalogue_rule(spec),)),
                              spec.asset, False, _catalogue_frame(spec)))
    partners = [spec.name for spec in registry.partner_sources()]
    if partners:
        found.append(Plan(Suite("partner_completeness", "Partnernas leveranser per kvartal",
                                (DELIVERED,)),
                          STEWARD_ASSET, False,
                          lambda tables: f.delivered_rows(tables.deliveries, partners)))
    return found


def _source_plan(spec: SourceSpec) -> Plan:
    tables = (spec.table, *spec.extra_tables.values())
    names = ", ".join(table.name for table in tables)
    rules = [FROM_LOADED, SAME_EXTRACTION]
    if spec.strategy != Strategy.DELTA:
        rules.append(CURRENT_SNAPSHOT)
    if isinstance(spec.consent, PartnerConsent):
        rules.append(partner_rule(spec))
    if spec.role == Role.PARTICIPANTS:
        rules += SPELL_RULES
    if spec.role == Role.CONSENTS:
        rules.append(ERASED)
    suite = Suite(spec.table.name, f"{spec.label} ({names})", tuple(rules))
    return Plan(suite, spec.asset, True, _source_frame(spec, suite))


def _source_frame(spec: SourceSpec, suite: Suite) -> Callable[[f.Tables], pd.DataFrame]:
    columns = [rule.column for rule in suite.rules]

    def build(tables: f.Tables) -> pd.DataFrame:
        own = _table_frame(spec, spec.table, tables, main=True)[columns]
        # a rule about the source's own records holds trivially on the rows of its other sheets
        others = [_table_frame(spec, table, tables, main=False).reindex(columns=columns,
                                                                        fill_value=True)
                  for table in spec.extra_tables.values()]
        return pd.concat([own, *others], ignore_index=True).astype(bool)
    return build


def _table_frame(spec: SourceSpec, table, tables: f.Tables, *, main: bool) -> pd.DataFrame:
    columns = ["delivery_id", "extraction_date"]
    snapshot = spec.strategy != Strategy.DELTA
    if snapshot and spec.scope_column:
        columns.append(spec.scope_column)
    partner = spec.consent if main and isinstance(spec.consent, PartnerConsent) else None
    if partner is not None:
        columns += ["pseudonym", *partner.time.columns()]
    participants = main and spec.role == Role.PARTICIPANTS
    if participants:
        columns += ["pseudonym", "deidentified_person", "anonym", "skyddad_identitet",
                    "row_number"]
    consents = main and spec.role == Role.CONSENTS
    if consents:
        columns += ["pseudonym", "samtycke_fran", "aterkallat"]
    rows = tables.read(table, *dict.fromkeys(columns))
    pointerless = rows["deidentified_person"].notna() if participants else None
    frame = f.lineage(rows, tables.deliveries, spec.name, pointerless=pointerless)
    if snapshot:
        frame[f.CURRENT_SNAPSHOT] = f.current_snapshot(
            rows, tables.deliveries, tables.states, spec.name, spec.scope_column,
            pointerless=pointerless).to_numpy()
    if partner is not None:
        frame[f.PARTNER_CONSENT] = f.partner_consent(rows, tables.consents, partner.partner,
                                                     partner.time).to_numpy(dtype=bool)
    if participants:
        frame = frame.join(f.spell_rules(rows, tables.vault))
    if consents:
        dated = rows.assign(samtycke_fran=pd.to_datetime(rows["samtycke_fran"]),
                            aterkallat=pd.to_datetime(rows["aterkallat"]))
        frame[f.ERASED_WHEN_WITHDRAWN] = f.not_fully_withdrawn(dated).to_numpy()
    return frame


def _vault_frame(participants: list[SourceSpec]) -> Callable[[f.Tables], pd.DataFrame]:
    def build(tables: f.Tables) -> pd.DataFrame:
        spells = pd.concat([tables.read(spec.table, "pseudonym") for spec in participants],
                           ignore_index=True)
        waiting = tables.waiting_people(spec.name for spec in participants)
        return pd.DataFrame({f.VAULT_OWNER: f.vault_owners(tables.vault, spells, waiting)})
    return build


def _catalogue_frame(spec: SourceSpec) -> Callable[[f.Tables], pd.DataFrame]:
    check = spec.catalogue

    def build(tables: f.Tables) -> pd.DataFrame:
        rows = tables.read(spec.table, check.code_column, check.date_column)
        return pd.DataFrame({f.IN_CATALOGUE: f.in_catalogue(
            rows[check.code_column], rows[check.date_column], tables.catalogue,
            check.always_known)})
    return build


def _distribution_frame(spec: SourceSpec) -> Callable[[f.Tables], pd.DataFrame]:
    return lambda tables: f.share_changes(tables.read(spec.table, "kon", "inskrivningsdatum"))


PLANS = plans()

