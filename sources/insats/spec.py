"""insats: the participant register each insats team keeps (snapshot per insats)."""

from __future__ import annotations

from finsam.consent import OwnRecord
from sources.spec import DATE_GROUP as _DATE
from sources.spec import CatalogueCheck, Column, Role, SourceSpec, Strategy
from warehouse import models

SPEC = SourceSpec(
    name="insats", folder="insats", pattern=_DATE + r"_(?P<scope>[A-Za-z0-9]+)\.(?:xlsx|csv)",
    natural_key=("insats", "pnr", "inskrivningsdatum"),
    description="Deltagarregister per insats (Excel eller CSV)",
    columns=(
        Column("Insats", "insats"),
        Column("Personnummer", "personnummer"),
        Column("Anonym", "anonym"),
        Column("Kön", "kon_angivet", required=False),
        Column("Skyddad identitet", "skyddad_identitet", required=False),
        Column("Aktualiserande part", "aktualiserande_part"),
        Column("Inskrivningsdatum", "inskrivningsdatum"),
        Column("Utskrivningsdatum", "utskrivningsdatum"),
        Column("Avslutsanledning", "avslutsanledning"),
        Column("Försörjning vid inskrivning", "forsorjning_in"),
        Column("Försörjning vid utskrivning", "forsorjning_ut"),
        Column("Tid i offentlig försörjning", "tid_offentlig_forsorjning"),
        Column("Utbildningsnivå", "utbildningsniva"),
        Column("Kommun", "kommun"),
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
)
