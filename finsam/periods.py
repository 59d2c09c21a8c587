"""Quarters, the one period type of finsam: a ``pandas.Period`` with quarterly frequency.

Every quarter label (``2024Q3``), first and last day, and range of quarters is worked out here, so the
outputs, the schedules and the command line agree on what a quarter is.
"""

from __future__ import annotations

import re
from datetime import date

import pandas as pd

TIMEZONE = "Europe/Stockholm"
Quarter = pd.Period

_LABEL = re.compile(r"(?P<year>\d{4})\s*[Qq](?P<q>[1-4])")


def quarter(label: str) -> Quarter:
    """``2024Q3`` (any case, spaces allowed between year and Q) as a quarter."""
    match = _LABEL.fullmatch(label.strip())
    if match is None:
        raise ValueError(f"{label!r} är inget kvartal; skriv ÅÅÅÅKn som YYYYQn, t.ex. 2024Q3")
    return pd.Period(year=int(match["year"]), quarter=int(match["q"]), freq="Q")


def quarter_of(day: date) -> Quarter:
    return pd.Period(day, freq="Q")


def label(period: Quarter) -> str:
    return f"{period.year}Q{period.quarter}"


def first_day(period: Quarter) -> date:
    return period.start_time.date()


def last_day(period: Quarter) -> date:
    return period.end_time.date()


def quarters_between(first: Quarter, last: Quarter) -> list[Quarter]:
    """Every quarter from ``first`` to ``last``, both included (empty when last is before first)."""
    return list(pd.period_range(first, last, freq="Q"))


def parse_quarter(text: str) -> date:
    """``2024Q3`` -> first day of the quarter (2024-07-01)."""
    return first_day(quarter(text))


def quarter_end(text: str) -> date:
    """``2024Q3`` -> last day of the quarter (2024-09-30)."""
    return last_day(quarter(text))


def quarter_label(day: date) -> str:
    """The label of the quarter ``day`` falls in."""
    return label(quarter_of(day))
