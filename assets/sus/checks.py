"""Checks that stop a wrong SUS submission before it is written (blocking)."""

import dagster as dg
import pandas as pd
from sqlalchemy import select

from assets.resources import Warehouse
from assets.sus.warehouse_frames import read_spells
from warehouse import models

EXAMPLES = 10


def overlapping(spells: pd.DataFrame) -> pd.Series:
    """Spells of one person in one insats that share a day (the register forbids it)."""
    linked = spells.dropna(subset=["pseudonym"])
    linked = linked.loc[linked["avslutsanledning"].fillna("") != "FEL"]
    pairs = linked.merge(linked, on=["pseudonym", "insats"], suffixes=("", "_b"))
    pairs = pairs.loc[pairs["id"] != pairs["id_b"]]
    # an open spell (no exit date) meets every later start
    meets = ((pairs["utskrivningsdatum_b"].isna()
              | (pairs["inskrivningsdatum"] <= pairs["utskrivningsdatum_b"]))
             & (pairs["utskrivningsdatum"].isna()
                | (pairs["inskrivningsdatum_b"] <= pairs["utskrivningsdatum"])))
    return pairs.loc[meets, "record_key"].drop_duplicates()


@dg.asset_check(asset="insats_spells", name="redo_for_sus", blocking=True,
                description="Varje länkbar deltagare finns i identitetsvalvet och inga "
                            "inskrivningar överlappar; annars skrivs ingen SUS-fil.")
def ready_for_sus(warehouse: Warehouse) -> dg.AssetCheckResult:
    with warehouse.engine().connect() as connection:
        spells = read_spells(connection)
        vault = set(pd.read_sql(select(models.IdentityVault.pseudonym), connection)["pseudonym"])
    linked = spells.dropna(subset=["pseudonym"])
    without_vault = linked.loc[~linked["pseudonym"].isin(vault), "record_key"]
    overlaps = overlapping(spells)
    return dg.AssetCheckResult(
        passed=without_vault.empty and overlaps.empty, severity=dg.AssetCheckSeverity.ERROR,
        metadata={"saknas_i_valvet": len(without_vault), "overlappande": len(overlaps),
                  "exempel": dg.MetadataValue.json(
                      (without_vault.head(EXAMPLES).tolist() + overlaps.head(EXAMPLES).tolist()))})
