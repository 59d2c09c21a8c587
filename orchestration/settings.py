"""The one place finsam reads its environment."""

from __future__ import annotations

import os
from collections.abc import Mapping

from orchestration.partitions import DEFAULT_FIRST_QUARTER

FIRST_QUARTER_ENV = "FINSAM_FIRST_QUARTER"
LANDING_ENV = "FINSAM_LANDING"
WAREHOUSE_ENV = "FINSAM_WAREHOUSE_URL"
OUT_ENV = "FINSAM_OUT"


def first_quarter(environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    return environ.get(FIRST_QUARTER_ENV, DEFAULT_FIRST_QUARTER)
