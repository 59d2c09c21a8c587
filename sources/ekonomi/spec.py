"""ekonomi: the general ledger from the accounting system (delta; key Ver.nr + Rad)."""

from __future__ import annotations

from finsam.masking import Domain
from sources.spec import DATE_GROUP as _DATE
from sources.spec import CatalogueCheck, Column, Role, SourceSpec, Strategy
from warehouse import models

SPEC = SourceSpec(
    name="ekonomi", folder="ekonomi", pattern=_DATE + r"_.+\.csv",
    natural_key=("ver_nr", "rad"),
    description="Huvudbok från ekonomisystemet",
    columns=(
        Column("Ver.nr", "ver_nr", domain=Domain.CODE),
        Column("Rad", "rad", domain=Domain.NUMBER),
        Column("Bokföringsdatum", "bokforingsdatum", domain=Domain.DATE),
        Column("Konto", "konto", domain=Domain.NUMBER),
        Column("Projekt", "projekt", required=False, domain=Domain.CODE),
        Column("Belopp", "belopp", domain=Domain.NUMBER),
    ),
    label="Ekonomi (huvudbok)",
    strategy=Strategy.DELTA, role=Role.ACCOUNTS,
    asset="ekonomi_ledger",
    asset_description="Huvudboken: utfall per insats och kostnadsslag.",
    table=models.LedgerEntry.__table__,
    record_key=("ver_nr", "rad"),
    depends_on=("budget",),
    catalogue=CatalogueCheck("projekt", "bokforingsdatum", "Projekt", "okänt projekt", always_known=("ADM",)),
    record_date="bokforingsdatum",
    freshness_days=45,
)
