"""Filling the identity vault: the only place a real identity number is kept, encrypted."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from assets.ingest import transforms
from assets.ingest.context import RunContext
from warehouse import load, models


def store_vault(ctx: RunContext, rows: pd.DataFrame, wanted: pd.Series) -> None:
    """Vault entries for the people of ``rows`` (which hold the numbers) whose pseudonym is in
    ``wanted`` and who are not in the vault yet; only those are encrypted."""
    existing = ctx.connection.execute(select(models.IdentityVault.pseudonym)).scalars().all()
    entries = transforms.vault_entries(rows, ctx.keys.pseudonymiser, ctx.keys.vault,
                                       skip=pd.Index(existing, dtype="string"),
                                       only=pd.Index(wanted.dropna().unique(), dtype="string"))
    if not entries.empty:
        load.insert_frame(ctx.connection, models.IdentityVault.__table__, entries)
