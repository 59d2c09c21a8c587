"""Spells and consents as the SUS outputs read them from the warehouse."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, select

from assets.ingest.withdrawal import read_consents
from warehouse import models

DATES = ("inskrivningsdatum", "utskrivningsdatum", "withdrawn_on", "birth_date")


def read_spells(connection: Connection, insats: str | None = None) -> pd.DataFrame:
    table = models.Spell.__table__
    query = select(table)
    if insats:
        query = query.where(table.c.insats == insats.upper())
    spells = pd.read_sql(query, connection)
    for name in DATES:
        spells[name] = pd.to_datetime(spells[name])
    spells["age_at_enrolment"] = spells["age_at_enrolment"].astype("Int64")
    return spells


def read_sus_consents(connection: Connection) -> pd.DataFrame:
    return read_consents(connection)


def read_catalogue(connection: Connection, year: int) -> pd.DataFrame:
    """The insats catalogue as of ``year`` (the newest budget year at or before it): names and
    target shares for the reports."""
    table = models.BudgetInsats.__table__
    catalogue = pd.read_sql(select(table.c.year, table.c.insats, table.c.namn, table.c.mal_andel)
                            .where(table.c.year <= year), connection)
    return catalogue.sort_values("year").drop_duplicates("insats", keep="last")
