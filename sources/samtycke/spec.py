"""samtycke: the consent register, every consent ever given (snapshot)."""

from __future__ import annotations

from finsam.consent import OwnRecord
from finsam.masking import Domain
from sources.spec import DATE_GROUP as _DATE
from sources.spec import Column, Role, SourceSpec, Strategy
from warehouse import models

SPEC = SourceSpec(
    name="samtycke", folder="samtycke", pattern=_DATE + r"\.csv",
    natural_key=("pnr", "insats", "samtycke_fran"),
    description="Samtyckesregister",
    columns=(
        Column("Personnummer", "personnummer", domain=Domain.IDENTITY),
        Column("Insats", "insats", domain=Domain.CODE),
        Column("Samtycke från", "samtycke_fran", domain=Domain.DATE),
        Column("Giltigt till", "giltigt_till", required=False, domain=Domain.DATE),
        Column("Återkallat", "aterkallat", required=False, domain=Domain.DATE),
        Column("Parter", "parter", domain=Domain.CODE),
        Column("SUS", "sus", domain=Domain.CODE),
    ),
    label="Samtyckesregistret",
    strategy=Strategy.SNAPSHOT, role=Role.CONSENTS,
    asset="samtycke_consents",
    asset_description="Samtyckesregistret: vilka parter som får samverka om deltagaren, och hur länge.",
    table=models.Consent.__table__,
    record_key=("pseudonym", "insats", "samtycke_fran"),
    consent=OwnRecord("deltagarnas egna samtycken, som förbundet måste känna till för att följa dem"),
    record_date="samtycke_fran",
    freshness_days=14,
)
