"""samtycke: the consent register, every consent ever given (snapshot)."""

from __future__ import annotations

from finsam.consent import OwnRecord
from sources.spec import DATE_GROUP as _DATE
from sources.spec import Column, Role, SourceSpec, Strategy
from warehouse import models

SPEC = SourceSpec(
    name="samtycke", folder="samtycke", pattern=_DATE + r"\.csv",
    natural_key=("pnr", "insats", "samtycke_fran"),
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
    label="Samtyckesregistret",
    strategy=Strategy.SNAPSHOT, role=Role.CONSENTS,
    asset="samtycke_consents",
    asset_description="Samtyckesregistret: vilka parter som får samverka om deltagaren, och hur länge.",
    table=models.Consent.__table__,
    record_key=("pseudonym", "insats", "samtycke_fran"),
    consent=OwnRecord("deltagarnas egna samtycken, som förbundet måste känna till för att följa dem"),
)
