"""The one place finsam reads its environment."""

from __future__ import annotations

import os
from collections.abc import Mapping

from orchestration.partitions import DEFAULT_FIRST_QUARTER

FIRST_QUARTER_ENV = "FINSAM_FIRST_QUARTER"
LANDING_ENV = "FINSAM_LANDING"
WAREHOUSE_ENV = "FINSAM_WAREHOUSE_URL"
OUT_ENV = "FINSAM_OUT"
FRESHNESS_ENV = "FINSAM_MAX_DAYS_WITHOUT_DELIVERY"
DEFAULT_FRESHNESS_DAYS = 45


def first_quarter(environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    return environ.get(FIRST_QUARTER_ENV, DEFAULT_FIRST_QUARTER)


def max_days_without_delivery(environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    return int(environ.get(FRESHNESS_ENV, DEFAULT_FRESHNESS_DAYS))
