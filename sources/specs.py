"""The landing zone as the input contract defines it: folders, file names, columns, natural keys."""

from __future__ import annotations

from sources.base import DELTA, SNAPSHOT, Column, SourceSpec

_DATE = r"(?P<date>\d{8})"

INSATS = SourceSpec(
    name="insats", folder="insats", pattern=_DATE + r"_(?P<scope>[A-Za-z0-9]+)\.(?:xlsx|csv)",
    kind=SNAPSHOT, natural_key=("insats", "pnr", "inskrivningsdatum"),
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
)

SAMTYCKE = SourceSpec(
    name="samtycke", folder="samtycke", pattern=_DATE + r"\.csv",
    kind=SNAPSHOT, natural_key=("pnr", "insats", "samtycke_fran"),
    description="Samtyckesregister",
    columns=(
        Column("Personnummer", "personnummer"),
        Column("Insats", "insats"),
        Column("Samtycke från", "samtycke_fran"),
        Column("Giltigt till", "giltigt_till", required=False),
        Column("Återkallat", "aterkallat", required=False),
        Column("Parter", "parter"),
        Column("SUS", "sus"),
    ),
)

FK = SourceSpec(
    name="fk", folder="fk", pattern=_DATE + r"_.+\.csv",
    kind=DELTA, natural_key=("pnr", "forman", "fom"),
    description="Försäkringskassan: förmånsperioder",
    columns=(
        Column("PERSONNR", "personnummer"),
        Column("FORMAN", "forman"),
        Column("OMFATTNING", "omfattning"),
        Column("FOM", "fom"),
        Column("TOM", "tom", required=False),
        Column("KONTOR", "kontor", required=False),
    ),
)

AF = SourceSpec(
    name="af", folder="af", pattern=_DATE + r"_.+\.xlsx",
    kind=DELTA, natural_key=("pnr", "inskriven_fran", "ersattning", "ersattning_fran"),
    description="Arbetsförmedlingen: inskrivning och ersättning",
    columns=(
        Column("Personnummer", "personnummer"),
        Column("Inskriven från", "inskriven_fran"),
        Column("Inskriven till", "inskriven_till", required=False),
        Column("Sökandekategori", "sokandekategori", required=False),
        Column("Ersättning", "ersattning"),
        Column("Ersättning från", "ersattning_fran", required=False),
        Column("Ersättning till", "ersattning_till", required=False),
    ),
)

SOC = SourceSpec(
    name="soc", folder="soc", pattern=_DATE + r"_.+\.csv",
    kind=DELTA, natural_key=("pnr", "manad"),
    description="Socialtjänsten: utbetalt försörjningsstöd",
    columns=(
        Column("pnr", "personnummer"),
        Column("manad", "manad"),
        Column("belopp", "belopp"),
    ),
)

HSF = SourceSpec(
    name="hsf", folder="hsf", pattern=_DATE + r"_.+\.txt",
    kind=DELTA, natural_key=("pnr", "kontaktdatum", "kontakttyp"),
    description="Hälso- och sjukvården: rehabkontakter",
    columns=(
        Column("PATIENT_ID", "personnummer"),
        Column("KONTAKTDATUM", "kontaktdatum"),
        Column("KONTAKTTYP", "kontakttyp"),
        Column("SJUKSKRIVEN_FOM", "sjukskriven_fom", required=False),
        Column("SJUKSKRIVEN_TOM", "sjukskriven_tom", required=False),
        Column("SJUKSKRIVNINGSGRAD", "sjukskrivningsgrad", required=False),
    ),
)

EKONOMI = SourceSpec(
    name="ekonomi", folder="ekonomi", pattern=_DATE + r"_.+\.csv",
    kind=DELTA, natural_key=("ver_nr", "rad"),
    description="Huvudbok från ekonomisystemet",
    columns=(
        Column("Ver.nr", "ver_nr"),
        Column("Rad", "rad"),
        Column("Bokföringsdatum", "bokforingsdatum"),
        Column("Konto", "konto"),
        Column("Projekt", "projekt", required=False),
        Column("Belopp", "belopp"),
    ),
)

# The budget workbook has three sheets; the column specs per sheet live in sources.budget.
BUDGET = SourceSpec(
    name="budget", folder="budget", pattern=_DATE + r"_budget_(?P<scope>\d{4})\.xlsx",
    kind=SNAPSHOT, natural_key=("year", "insats", "kostnadsslag"),
    description="Budgetarbetsbok (Insatser, Budget, Finansiering)",
    columns=(),
)

ALL = (INSATS, SAMTYCKE, FK, AF, SOC, HSF, EKONOMI, BUDGET)
BY_NAME = {spec.name: spec for spec in ALL}
