"""Quarterly partitions, keyed the way the command line and the board say a quarter: ``2024Q4``.

A static list of quarter labels from the first quarter (``FINSAM_FIRST_QUARTER``) to the one in
progress, so the UI, the run tags and the command line all read ``2024Q4``. A static list is fixed
when the code location loads: a location loaded in 2026Q4 does not know 2027Q1 until it is loaded
again. The schedule and the sensor therefore ask only for quarters the location knows
(:func:`known_range`) and say in their tick log when it is behind the calendar.

A run over several quarters is one run: Dagster reads the range from the two tags below. They are
the interface Dagster documents for single-run partition ranges (RunRequest tags); Dagster 1.13 has
no public constant or parameter for them, so their names are spelled out here, once.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg

from finsam.periods import (
    TIMEZONE,
    label,
    parse_quarter,
    quarter,
    quarter_end,
    quarter_label,
    quarter_of,
    quarters_between,
)

DEFAULT_FIRST_QUARTER = "2022Q1"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"
PARTITION_SET_TAG = "dagster/partition_set"

__all__ = [
    "DEFAULT_FIRST_QUARTER",
    "PARTITION_SET_TAG",
    "PARTITION_TAG",
    "RANGE_END_TAG",
    "RANGE_START_TAG",
    "TIMEZONE",
    "current_quarter",
    "known_range",
    "parse_quarter",
    "partition_key",
    "partition_set_name",
    "quarter_end",
    "quarter_keys",
    "quarter_label",
    "quarterly_partitions",
    "range_tags",
    "today",
]


def today() -> dt.date:
    """Today in Stockholm: a quarter turns at midnight Swedish time, not UTC."""
    return dt.datetime.now(ZoneInfo(TIMEZONE)).date()


def current_quarter(day: dt.date | None = None) -> str:
    return quarter_label(day or today())


def partition_key(text: str) -> str:
    """``2024q3`` or ``2024 Q3`` -> the partition key ``2024Q3`` (refuses what is no quarter)."""
    return label(quarter(text))


def quarter_keys(first: str, last: str) -> list[str]:
    """Every quarter label from ``first`` to ``last``, both included."""
    return [label(period) for period in quarters_between(quarter(first), quarter(last))]


def quarterly_partitions(first_quarter: str = DEFAULT_FIRST_QUARTER,
                         last_quarter: str | None = None) -> dg.StaticPartitionsDefinition:
    """Quarters from ``first_quarter`` to ``last_quarter`` (default: the one in progress, so the
    nightly run can keep it fresh before it ends)."""
    last = last_quarter or current_quarter()
    if quarter(last) < quarter(first_quarter):
        last = partition_key(first_quarter)
    return dg.StaticPartitionsDefinition(quarter_keys(first_quarter, last))


def known_range(first: str, last: str, keys: list[str]) -> tuple[str, str] | None:
    """``first``..``last`` cut to the quarters in ``keys`` (the location's partitions); None when
    nothing of it is known."""
    wanted = [key for key in quarter_keys(first, last) if key in set(keys)]
    return (wanted[0], wanted[-1]) if wanted else None


def range_tags(first: str, last: str) -> dict[str, str]:
    """The tags that make one run cover the quarters ``first``..``last``."""
    return {RANGE_START_TAG: partition_key(first), RANGE_END_TAG: partition_key(last)}


def partition_set_name(job_name: str) -> str:
    """The name Dagster gives an asset job's partition set (the UI's backfills refer to it)."""
    return f"{job_name}_partition_set"


def quarter_of_day(day: dt.date) -> str:
    return label(quarter_of(day))
