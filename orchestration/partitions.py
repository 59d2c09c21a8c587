"""Quarterly partitions: a Dagster time window per calendar quarter, keyed by its first day."""

from __future__ import annotations

from datetime import date

import dagster as dg

from finsam.periods import TIMEZONE, parse_quarter, quarter_end, quarter_label

QUARTER_CRON = "0 0 1 1,4,7,10 *"
DEFAULT_FIRST_QUARTER = "2022Q1"

__all__ = ["TIMEZONE", "DEFAULT_FIRST_QUARTER", "parse_quarter", "quarter_end", "quarter_label",
           "partition_key", "label_of_key", "quarterly_partitions"]


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
