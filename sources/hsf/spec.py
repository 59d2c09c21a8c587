"""hsf: Hälso- och sjukvården's rehab contacts (delta)."""

from __future__ import annotations

from finsam.consent import PartnerConsent, RecordTime
from finsam.masking import Domain
from sources.spec import DATE_GROUP as _DATE
from sources.spec import Column, Role, SourceSpec, Strategy
from warehouse import models

SPEC = SourceSpec(
    name="hsf", folder="hsf", pattern=_DATE + r"_.+\.txt",
    natural_key=("pnr", "kontaktdatum", "kontakttyp"),
    description="Hälso- och sjukvården: rehabkontakter",
    columns=(
        Column("PATIENT_ID", "personnummer", domain=Domain.IDENTITY),
        Column("KONTAKTDATUM", "kontaktdatum", domain=Domain.DATE),
        Column("KONTAKTTYP", "kontakttyp", domain=Domain.CODE),
        Column("SJUKSKRIVEN_FOM", "sjukskriven_fom", required=False, domain=Domain.DATE),
        Column("SJUKSKRIVEN_TOM", "sjukskriven_tom", required=False, domain=Domain.DATE),
        Column("SJUKSKRIVNINGSGRAD", "sjukskrivningsgrad", required=False, domain=Domain.NUMBER),
    ),
    label="Hälso- och sjukvården",
    strategy=Strategy.DELTA, role=Role.PARTNER,
    asset="hsf_contacts",
    asset_description="Hälso- och sjukvårdens rehabkontakter och sjukskrivningar.",
    table=models.HsfContact.__table__,
    record_key=("pseudonym", "kontaktdatum", "kontakttyp"),
    consent=PartnerConsent("HSF", RecordTime("kontaktdatum")),
    depends_on=("samtycke", "insats"),
    reservnummer=True,
    freshness_days=7,
)
