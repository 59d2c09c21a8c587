"""fk: Försäkringskassan's benefit periods (delta; key PERSONNR + FORMAN + FOM).

KONTOR (the FK office, free text) is dropped at the door like NAMN: no output uses it, and a free
text column holds whatever a case officer types."""

from __future__ import annotations

from finsam.consent import PartnerConsent, RecordTime
from finsam.masking import Domain
from sources.spec import DATE_GROUP as _DATE
from sources.spec import Column, Role, SourceSpec, Strategy
from warehouse import models

SPEC = SourceSpec(
    name="fk", folder="fk", pattern=_DATE + r"_.+\.csv",
    natural_key=("pnr", "forman", "fom"),
    description="Försäkringskassan: förmånsperioder",
    columns=(
        Column("PERSONNR", "personnummer", domain=Domain.IDENTITY),
        Column("FORMAN", "forman", domain=Domain.CODE),
        Column("OMFATTNING", "omfattning", domain=Domain.NUMBER),
        Column("FOM", "fom", domain=Domain.DATE),
        Column("TOM", "tom", required=False, domain=Domain.DATE),
    ),
    label="Försäkringskassan",
    strategy=Strategy.DELTA, role=Role.PARTNER,
    asset="fk_benefits",
    asset_description="Försäkringskassans förmånsperioder för deltagare med samtycke.",
    table=models.FkBenefit.__table__,
    record_key=("pseudonym", "forman", "fom"),
    consent=PartnerConsent("FK", RecordTime("fom", "tom")),
    depends_on=("samtycke", "insats"),
    freshness_days=7,
)
