"""What the command line refuses before a run starts: an insats code nobody knows, a period
before the first data or after today. Each is exit 2 with what is valid; an all-zero report for a
typo would be taken for a fact."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import func, select

from finsam.errors import ConfigurationError
from finsam.periods import TIMEZONE, quarter, quarter_label

_SHOWN_LENGTH = 20


def today() -> dt.date:
    return dt.datetime.now(ZoneInfo(TIMEZONE)).date()


def _shown(text: str) -> str:
    # what the user typed, shortened: a pasted cell must not fill the terminal
    return repr(text[:_SHOWN_LENGTH] + ("…" if len(text) > _SHOWN_LENGTH else ""))


def check_not_after_today(first: str, last: str, *, on: dt.date | None = None) -> None:
    current = quarter(quarter_label(on or today()))
    for flag, label in (("--from", first), ("--to", last)):
        if quarter(label) > current:
            raise ConfigurationError(flag, f"{quarter(label)} har inte börjat ännu; senaste "
                                           f"möjliga kvartal är {current}")


def known_insatser(connection) -> list[str]:
    from warehouse import models

    catalogue = models.BudgetInsats.__table__
    spells = models.Spell.__table__
    codes = set(connection.execute(select(catalogue.c.insats).distinct()).scalars())
    codes |= set(connection.execute(select(spells.c.insats).distinct()).scalars())
    return sorted(code for code in codes if code)


def first_data_day(connection) -> dt.date | None:
    from warehouse import models

    spells = models.Spell.__table__
    day = connection.execute(select(func.min(spells.c.inskrivningsdatum))).scalar()
    return None if day is None else pd.Timestamp(day).date()


def check_report_request(warehouse_url: str, first: str, last: str, insats: str | None, *,
                         on: dt.date | None = None) -> None:
    """Refuse (ConfigurationError, exit 2) an unknown insats or a period outside the data."""
    from warehouse.db import make_engine, migrate

    start, end = quarter(first), quarter(last)
    if end < start:
        raise ConfigurationError("--to", f"{end} ligger före --from {start}")
    check_not_after_today(first, last, on=on)
    engine = make_engine(warehouse_url)
    try:
        migrate(engine)
        with engine.connect() as connection:
            codes = known_insatser(connection)
            earliest = first_data_day(connection)
    finally:
        engine.dispose()
    current = quarter(quarter_label(on or today()))
    if earliest is None:
        raise ConfigurationError("--warehouse", "lagret har inga deltagare ännu; kör finsam run "
                                                "först")
    first_quarter = quarter(quarter_label(earliest))
    if start < first_quarter:
        raise ConfigurationError("--from", f"{start} ligger före första data ({first_quarter}); "
                                           f"giltiga kvartal: {first_quarter}–{current}")
    if insats is not None and insats.strip().upper() not in codes:
        raise ConfigurationError("--insats", f"okänd insats {_shown(insats)}; kända koder: "
                                             f"{', '.join(codes) or 'inga'}")
