"""fk: Försäkringskassan's benefit periods (delta; key PERSONNR + FORMAN + FOM)."""

from __future__ import annotations

from finsam.consent import PartnerConsent, RecordTime
from sources.spec import DATE_GROUP as _DATE
from sources.spec import Column, Role, SourceSpec, Strategy
from warehouse import models

SPEC = SourceSpec(
    name="fk", folder="fk", pattern=_DATE + r"_.+\.csv",
    natural_key=("pnr", "forman", "fom"),
    description="Försäkringskassan: förmånsperioder",
    columns=(
        Column("PERSONNR", "personnummer"),
        Column("FORMAN", "forman"),
        Column("OMFATTNING", "omfattning"),
        Column("FOM", "fom"),
        Column("TOM", "tom", required=False),
        Column("KONTOR", "kontor", required=False),
    ),
    label="Försäkringskassan",
    strategy=Strategy.DELTA, role=Role.PARTNER,
    asset="fk_benefits",
    asset_description="Försäkringskassans förmånsperioder för deltagare med samtycke.",
    table=models.FkBenefit.__table__,
    record_key=("pseudonym", "forman", "fom"),
    consent=PartnerConsent("FK", RecordTime("fom", "tom")),
    depends_on=("samtycke", "insats"),
)
