"""insats: the participant register each insats team keeps (snapshot per insats)."""

from __future__ import annotations

from finsam.consent import OwnRecord
from finsam.masking import Domain
from sources.spec import DATE_GROUP as _DATE
from sources.spec import CatalogueCheck, Column, Role, SourceSpec, Strategy
from warehouse import models

SPEC = SourceSpec(
    name="insats", folder="insats", pattern=_DATE + r"_(?P<scope>[A-Za-z0-9]+)\.(?:xlsx|csv)",
    natural_key=("insats", "pnr", "inskrivningsdatum"),
    description="Deltagarregister per insats (Excel eller CSV)",
    columns=(
        Column("Insats", "insats", domain=Domain.CODE),
        Column("Personnummer", "personnummer", domain=Domain.IDENTITY),
        Column("Anonym", "anonym", domain=Domain.CODE),
        Column("Kön", "kon_angivet", required=False, domain=Domain.CODE),
        Column("Skyddad identitet", "skyddad_identitet", required=False, domain=Domain.CODE),
        Column("Aktualiserande part", "aktualiserande_part", domain=Domain.CODE),
        Column("Inskrivningsdatum", "inskrivningsdatum", domain=Domain.DATE),
        Column("Utskrivningsdatum", "utskrivningsdatum", domain=Domain.DATE),
        Column("Avslutsanledning", "avslutsanledning", domain=Domain.CODE),
        Column("Försörjning vid inskrivning", "forsorjning_in", domain=Domain.CODE),
        Column("Försörjning vid utskrivning", "forsorjning_ut", domain=Domain.CODE),
        Column("Tid i offentlig försörjning", "tid_offentlig_forsorjning", domain=Domain.CODE),
        Column("Utbildningsnivå", "utbildningsniva", domain=Domain.CODE),
        Column("Kommun", "kommun", domain=Domain.NUMBER),
    ),
    label="Insatsernas deltagarregister",
    strategy=Strategy.SNAPSHOT, role=Role.PARTICIPANTS,
    asset="insats_spells",
    asset_description="Deltagarregistren från insatserna: ett deltagande per rad, pseudonymiserat.",
    table=models.Spell.__table__,
    record_key=("insats", "pseudonym", "inskrivningsdatum"),
    consent=OwnRecord("förbundets eget register över deltagarna i dess insatser"),
    depends_on=("budget",),
    scope_column="insats",
    catalogue=CatalogueCheck("insats", "inskrivningsdatum", "Insats", "okänd insats"),
    record_date="inskrivningsdatum",
    freshness_days=14,
)
