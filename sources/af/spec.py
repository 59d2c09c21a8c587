"""af: Arbetsförmedlingen's enrolment and support periods (delta)."""

from __future__ import annotations

from finsam.consent import PartnerConsent, RecordTime
from finsam.masking import Domain
from sources.spec import DATE_GROUP as _DATE
from sources.spec import Column, Role, SourceSpec, Strategy
from warehouse import models

SPEC = SourceSpec(
    name="af", folder="af", pattern=_DATE + r"_.+\.xlsx",
    natural_key=("pnr", "inskriven_fran", "ersattning", "ersattning_fran"),
    description="Arbetsförmedlingen: inskrivning och ersättning",
    columns=(
        Column("Personnummer", "personnummer", domain=Domain.IDENTITY),
        Column("Inskriven från", "inskriven_fran", domain=Domain.DATE),
        Column("Inskriven till", "inskriven_till", required=False, domain=Domain.DATE),
        Column("Sökandekategori", "sokandekategori", required=False, domain=Domain.NUMBER),
        Column("Ersättning", "ersattning", domain=Domain.CODE),
        Column("Ersättning från", "ersattning_fran", required=False, domain=Domain.DATE),
        Column("Ersättning till", "ersattning_till", required=False, domain=Domain.DATE),
    ),
    label="Arbetsförmedlingen",
    strategy=Strategy.DELTA, role=Role.PARTNER,
    asset="af_support",
    asset_description="Arbetsförmedlingens inskrivningar och ersättningar.",
    table=models.AfSupport.__table__,
    record_key=("pseudonym", "inskriven_fran", "ersattning", "ersattning_fran"),
    consent=PartnerConsent("AF", RecordTime("inskriven_fran", "inskriven_till")),
    depends_on=("samtycke", "insats"),
    freshness_days=7,
)
