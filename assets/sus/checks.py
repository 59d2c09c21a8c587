"""Checks that stop a wrong SUS submission before it is written (blocking)."""

import dagster as dg
import pandas as pd
from sqlalchemy import Connection, select

from assets.resources import Warehouse
from assets.retry import retrying
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


def readiness(connection: Connection) -> tuple[pd.Series, pd.Series]:
    """(record keys of linked spells whose person is not in the vault, of overlapping spells)."""
    spells = read_spells(connection)
    vault = set(pd.read_sql(select(models.IdentityVault.pseudonym), connection)["pseudonym"])
    linked = spells.dropna(subset=["pseudonym"])
    return linked.loc[~linked["pseudonym"].isin(vault), "record_key"], overlapping(spells)


def not_ready(without_vault: pd.Series, overlaps: pd.Series) -> str | None:
    """Why no SUS submission may be written, or None."""
    problems = []
    if len(without_vault):
        problems.append(f"{len(without_vault)} deltaganden saknar identitet i valvet")
    if len(overlaps):
        problems.append(f"{len(overlaps)} inskrivningar överlappar")
    return "; ".join(problems) or None


# Issue 16: not blocking. A blocking check stops everything downstream of insats_spells (partner
# sources, the steward's page, the board's economy); only the SUS submission depends on what it
# checks, so sus_submission refuses by itself (``readiness``) and everything else goes on.
@dg.asset_check(asset="insats_spells", name="redo_for_sus", blocking=False,
                description="Varje länkbar deltagare finns i identitetsvalvet och inga "
                            "inskrivningar överlappar; annars skrivs ingen SUS-fil.")
def ready_for_sus(warehouse: Warehouse) -> dg.AssetCheckResult:
    def read() -> tuple[pd.Series, pd.Series]:
        with warehouse.engine().connect() as connection:
            return readiness(connection)

    without_vault, overlaps = retrying(read)
    return dg.AssetCheckResult(
        passed=without_vault.empty and overlaps.empty, severity=dg.AssetCheckSeverity.ERROR,
        metadata={"saknas_i_valvet": len(without_vault), "overlappande": len(overlaps),
                  "exempel": dg.MetadataValue.json(
                      (without_vault.head(EXAMPLES).tolist() + overlaps.head(EXAMPLES).tolist()))})
