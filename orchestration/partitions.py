"""Quarterly partitions: a Dagster time window per calendar quarter, keyed by its first day."""

from __future__ import annotations

import re
from datetime import date, timedelta

import dagster as dg

TIMEZONE = "Europe/Stockholm"
QUARTER_CRON = "0 0 1 1,4,7,10 *"
DEFAULT_FIRST_QUARTER = "2022Q1"

_QUARTER = re.compile(r"(?P<year>\d{4})\s*[Qq](?P<q>[1-4])")


def parse_quarter(label: str) -> date:
    """``2024Q3`` -> first day of the quarter (2024-07-01)."""
    match = _QUARTER.fullmatch(label.strip())
    if match is None:
        raise ValueError(f"{label!r} är inget kvartal; skriv ÅÅÅÅKn som YYYYQn, t.ex. 2024Q3")
    return date(int(match["year"]), 3 * int(match["q"]) - 2, 1)


def quarter_end(label: str) -> date:
    """``2024Q3`` -> last day of the quarter (2024-09-30)."""
    first = parse_quarter(label)
    following = date(first.year + (first.month == 10), (first.month + 2) % 12 + 1, 1)
    return following - timedelta(days=1)


def quarter_label(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def partition_key(label: str) -> str:
    """``2024Q3`` -> the Dagster partition key ``2024-07-01``."""
    return parse_quarter(label).isoformat()


def label_of_key(key: str) -> str:
    return quarter_label(date.fromisoformat(key))


def quarterly_partitions(first_quarter: str = DEFAULT_FIRST_QUARTER) -> dg.TimeWindowPartitionsDefinition:
    """Quarters from ``first_quarter`` up to the one in progress (end_offset=1 makes the current
    quarter a partition, so the nightly run can keep it fresh before it ends)."""
    return dg.TimeWindowPartitionsDefinition(
        start=parse_quarter(first_quarter).isoformat(), cron_schedule=QUARTER_CRON,
        fmt="%Y-%m-%d", timezone=TIMEZONE, end_offset=1)
