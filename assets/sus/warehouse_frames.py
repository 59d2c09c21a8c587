"""Spells and consents as the SUS outputs read them from the warehouse."""

from __future__ import annotations

import itertools

import pandas as pd
from sqlalchemy import Connection, Select, select

from assets.ingest.withdrawal import read_consents
from finsam import participation
from warehouse import models

DATES = ("inskrivningsdatum", "utskrivningsdatum", "withdrawn_on")


# Rows come in batches this small so that SQLAlchemy's row objects die young, before the garbage
# collector's first generation fills (700 objects): thousands alive at once are promoted and soon
# set off a collection of the oldest generation, the whole process with dagster's objects, which
# costs more than the query itself.
_BATCH = 100


def read_frame(connection: Connection, query: Select) -> pd.DataFrame:
    """The query's rows as ``pandas.read_sql`` returns them (the same conversion of the values),
    without holding every row object at once."""
    result = connection.execute(query)
    rows = list(itertools.chain.from_iterable(map(tuple, batch)
                                              for batch in result.partitions(_BATCH)))
    return pd.DataFrame.from_records(rows, columns=list(result.keys()), coerce_float=True)


def read_spells(connection: Connection, insats: str | None = None) -> pd.DataFrame:
    table = models.Spell.__table__
    query = select(table)
    if insats:
        query = query.where(table.c.insats == insats.upper())
    spells = read_frame(connection, query)
    for name in DATES:
        spells[name] = pd.to_datetime(spells[name])
    spells["age_at_enrolment"] = spells["age_at_enrolment"].astype("Int64")
    return spells


def read_sus_consents(connection: Connection) -> pd.DataFrame:
    return read_consents(connection)


def read_counted_spells(connection: Connection) -> pd.DataFrame:
    """Every spell with who is anonymous decided with the consents: what the SUS statistics count
    (the one definition the submission and Uppföljning Finsam use). Spells read without the
    consents count every identified spell as consented."""
    return participation.with_anonymous(read_spells(connection), read_sus_consents(connection))


def read_catalogue(connection: Connection, year: int) -> pd.DataFrame:
    """The insats catalogue as of ``year`` (the newest budget year at or before it): names and
    target shares for the reports."""
    table = models.BudgetInsats.__table__
    catalogue = pd.read_sql(select(table.c.year, table.c.insats, table.c.namn, table.c.mal_andel)
                            .where(table.c.year <= year), connection)
    return catalogue.sort_values("year").drop_duplicates("insats", keep="last")
