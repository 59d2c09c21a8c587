"""soc: Socialtjänsten's försörjningsstöd payments, one row per person and month (delta)."""

from __future__ import annotations

from finsam.consent import PartnerConsent, RecordTime
from finsam.masking import Domain
from sources.spec import DATE_GROUP as _DATE
from sources.spec import Column, Role, SourceSpec, Strategy
from warehouse import models

SPEC = SourceSpec(
    name="soc", folder="soc", pattern=_DATE + r"_.+\.csv",
    natural_key=("pnr", "manad"),
    description="Socialtjänsten: utbetalt försörjningsstöd",
    columns=(
        Column("pnr", "personnummer", domain=Domain.IDENTITY),
        Column("manad", "manad", domain=Domain.DATE),
        Column("belopp", "belopp", domain=Domain.NUMBER),
    ),
    label="Socialtjänsten",
    strategy=Strategy.DELTA, role=Role.PARTNER,
    asset="soc_payments",
    asset_description="Socialtjänstens utbetalningar av försörjningsstöd per månad.",
    table=models.SocPayment.__table__,
    record_key=("pseudonym", "manad"),
    consent=PartnerConsent("SOC", RecordTime("manad", month=True)),
    depends_on=("samtycke", "insats"),
    freshness_days=7,
)
