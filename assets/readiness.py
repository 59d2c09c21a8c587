"""What a run saw: per source the newest delivery, the deliveries waiting and why, and for each
output of each quarter whether the data it needs has arrived.

A quarter's output is a view of the deliveries there are; this says whether they are enough. The
budget follow-up needs the ledger extracted after the quarter ended (the books close weeks later)
and the year's budget; the participants' follow-up (SUS, Uppföljning Finsam) needs each active
individinriktad insats's register and the consent register extracted on or after the quarter's
end. What a source is comes from the registry (its role and its scope), never from its name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import Connection, select

from assets.ingest.bookkeeping import WAITING_NOTICE
from finsam.enums import Outcome
from finsam.periods import first_day, label, last_day, quarter, quarters_between
from sources.budget.rules import INDIVIDUAL
from sources.registry import REGISTRY, Registry
from sources.spec import Role, SourceSpec
from warehouse import models

# deliveries whose records the warehouse holds (or held, until a newer one replaced them)
INGESTED = (Outcome.LOADED, Outcome.SUPERSEDED)
YEAR_SCOPE = "year"


@dataclass(frozen=True)
class Need:
    """An output's need of the sources of one role for a quarter."""

    role: Role
    after_end: bool = False     # extracted after the quarter ended, not on its last day


BUDGET = "budgetuppföljning"
PARTICIPANTS = "SUS"
NEEDS: dict[str, tuple[Need, ...]] = {
    BUDGET: (Need(Role.ACCOUNTS, after_end=True),),
    PARTICIPANTS: (Need(Role.PARTICIPANTS), Need(Role.CONSENTS)),
}


@dataclass(frozen=True)
class Arrived:
    """The manifest as readiness reads it: each ingested delivery's source, scope, date, file;
    each year's insats catalogue; the files waiting and why."""

    deliveries: pd.DataFrame     # source, scope, extraction_date, file_name
    catalogue: pd.DataFrame      # year, insats, inriktning, startdatum, slutdatum
    waiting: pd.DataFrame        # source, file_name, why

    @classmethod
    def read(cls, connection: Connection) -> Arrived:
        table = models.Delivery.__table__
        deliveries = pd.read_sql(select(table.c.source, table.c.scope, table.c.extraction_date,
                                        table.c.file_name)
                                 .where(table.c.outcome.in_([str(o) for o in INGESTED])),
                                 connection)
        deliveries["extraction_date"] = pd.to_datetime(deliveries["extraction_date"]).dt.date
        insats = models.BudgetInsats.__table__
        catalogue = pd.read_sql(select(insats.c.year, insats.c.insats, insats.c.inriktning,
                                       insats.c.startdatum, insats.c.slutdatum), connection)
        for name in ("startdatum", "slutdatum"):
            catalogue[name] = pd.to_datetime(catalogue[name])
        notices = models.StewardNotice.__table__
        waiting = pd.read_sql(select(notices.c.source, notices.c.file_name,
                                     notices.c.detail.label("why"))
                              .where(notices.c.kind == WAITING_NOTICE)
                              .order_by(notices.c.source, notices.c.file_name), connection)
        held = pd.read_sql(select(table.c.source, table.c.file_name, table.c.message.label("why"))
                           .where(table.c.outcome == str(Outcome.WAITING)), connection)
        held["why"] = "väntar på granskning: " + held["why"].fillna("")
        return cls(deliveries, catalogue, pd.concat([waiting, held], ignore_index=True))


def newest(arrived: Arrived, registry: Registry = REGISTRY) -> list[tuple[str, str, date]]:
    """Per source (registry order): the newest ingested delivery, as (source, file, date)."""
    found = []
    for spec in registry.specs():
        mine = arrived.deliveries.loc[arrived.deliveries["source"] == spec.name]
        if mine.empty:
            continue
        last = mine.sort_values(["extraction_date", "file_name"]).iloc[-1]
        found.append((spec.name, last["file_name"], last["extraction_date"]))
    return found


def missing(arrived: Arrived, start: date, end: date, output: str,
            registry: Registry = REGISTRY) -> list[str]:
    """What ``output`` of the period ``start``..``end`` still lacks, in words; empty when its
    data has arrived."""
    gaps = []
    for need in NEEDS[output]:
        for spec in registry.with_role(need.role):
            gaps += _gaps(arrived, spec, need, start, end)
    return gaps


def _gaps(arrived: Arrived, spec: SourceSpec, need: Need, start: date, end: date) -> list[str]:
    mine = arrived.deliveries.loc[arrived.deliveries["source"] == spec.name]
    if spec.scope_column == YEAR_SCOPE:
        if not (mine["scope"] == str(end.year)).any():
            return [f"{spec.label} för {end.year} saknas"]
        return []
    if spec.scope_column is None:
        return _late(spec.label, mine["extraction_date"], need, end)
    scopes = _expected_scopes(arrived, spec, mine, start, end)
    if not scopes:
        # no catalogue for the year and no register yet: the source itself is missing
        return _late(spec.label, mine["extraction_date"], need, end)
    gaps = []
    for scope in scopes:
        gaps += _late(f"{spec.label} för {scope}", mine.loc[mine["scope"] == scope,
                                                            "extraction_date"], need, end)
    return gaps


def _late(what: str, dates: pd.Series, need: Need, end: date) -> list[str]:
    last = pd.Timestamp(dates.max()).date() if not dates.dropna().empty else None
    if last is not None and (last > end if need.after_end else last >= end):
        return []
    reach = f"t.o.m. {end}" + (" (uttagen efter kvartalets slut)" if need.after_end else "")
    since = f"senaste leverans {last}" if last is not None else "ingen leverans"
    return [f"{what} {reach} saknas: {since}"]


def _expected_scopes(arrived: Arrived, spec: SourceSpec, mine: pd.DataFrame, start: date,
                     end: date) -> list[str]:
    """The registers a quarter needs: every individinriktad insats of the year's catalogue active
    in the quarter; without a catalogue for the year, every insats that has delivered one."""
    catalogue = arrived.catalogue.loc[arrived.catalogue["year"] == end.year]
    if catalogue.empty:
        return sorted(mine["scope"].dropna().unique())
    started = pd.to_datetime(catalogue["startdatum"])
    ended = pd.to_datetime(catalogue["slutdatum"])
    active = catalogue.loc[(catalogue["inriktning"] == INDIVIDUAL)
                           & (started <= pd.Timestamp(end))
                           & (ended.isna() | (ended >= pd.Timestamp(start)))]
    return sorted(active["insats"].unique())


def report(arrived: Arrived, quarters: list[str], outputs: tuple[str, ...] = tuple(NEEDS)
           ) -> dict[str, dict[str, list[str]]]:
    """quarter -> output -> what is missing (an empty list: everything needed has arrived)."""
    return {name: {output: missing(arrived, first_day(quarter(name)), last_day(quarter(name)),
                                   output) for output in outputs}
            for name in quarters}


def describe(arrived: Arrived, quarters: list[str], registry: Registry = REGISTRY) -> list[str]:
    """What a run saw, for the terminal (Swedish): per source the newest delivery and its
    extraction date, the deliveries waiting and why, and per quarter and output whether the data
    it needs has arrived."""
    lines = ["  senaste leverans per källa:"]
    seen = newest(arrived, registry)
    lines += [f"    {source}: {file} (uttagen {day})" for source, file, day in seen]
    if not seen:
        lines.append("    inga leveranser inlästa")
    if not arrived.waiting.empty:
        lines.append(f"  väntande leveranser ({len(arrived.waiting)}):")
        lines += [f"    {row.source}: {row.file_name} – {row.why}"
                  for row in arrived.waiting.itertuples(index=False)]
    lines.append("  underlag per kvartal:")
    for name, outputs in report(arrived, quarters).items():
        for output, gaps in outputs.items():
            state = "allt underlag har kommit" if not gaps else "; ".join(gaps)
            lines.append(f"    {name} {output}: {state}")
    return lines


def summary(connection: Connection, first: str, last: str) -> list[str]:
    """:func:`describe` for the quarters ``first``..``last`` (``YYYYQn``), read from the
    warehouse as the run left it."""
    quarters = [label(period) for period in quarters_between(quarter(first), quarter(last))]
    return describe(Arrived.read(connection), quarters)
