"""The one place finsam reads its environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import dagster as dg

from assets.resources import (
    DEFAULT_FRESHNESS_DAYS,
    LandingZone,
    OutputFolder,
    SecretKeys,
    Warehouse,
)
from finsam import targets as target_names
from finsam.privacy import PSEUDONYM_KEY_ENV, VAULT_KEY_ENV
from orchestration.partitions import DEFAULT_FIRST_QUARTER
from warehouse.lock import DEFAULT_WAIT_SECONDS

FIRST_QUARTER_ENV = "FINSAM_FIRST_QUARTER"
LANDING_ENV = "FINSAM_LANDING"
WAREHOUSE_ENV = "FINSAM_WAREHOUSE_URL"
OUT_ENV = "FINSAM_OUT"
FRESHNESS_ENV = "FINSAM_MAX_DAYS_WITHOUT_DELIVERY"
SETTLE_ENV = "FINSAM_SETTLE_SECONDS"
DEFAULT_SETTLE_SECONDS = 60.0
# issue 16: how long a run waits for another run to release the warehouse before it refuses
LOCK_WAIT_ENV = "FINSAM_LOCK_WAIT_SECONDS"


def first_quarter(environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    return environ.get(FIRST_QUARTER_ENV, DEFAULT_FIRST_QUARTER)


def max_days_without_delivery(environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    return int(environ.get(FRESHNESS_ENV, DEFAULT_FRESHNESS_DAYS))


def settle_seconds(environ: Mapping[str, str] | None = None) -> float:
    """How long a file must have been left alone before it is read (it may still be uploading)."""
    environ = os.environ if environ is None else environ
    return float(environ.get(SETTLE_ENV, DEFAULT_SETTLE_SECONDS))


def lock_wait_seconds(environ: Mapping[str, str] | None = None) -> float:
    """How long a run waits for the warehouse's run lock (another run, a backfill)."""
    environ = os.environ if environ is None else environ
    return float(environ.get(LOCK_WAIT_ENV, DEFAULT_WAIT_SECONDS))


def targets(environ: Mapping[str, str] | None = None, given: str | None = None
            ) -> tuple[str, ...]:
    """The national systems to write for: ``given`` (``--targets``) if set, else
    ``FINSAM_TARGETS``, else all (finsam.targets)."""
    environ = os.environ if environ is None else environ
    if given is not None:
        return target_names.parse(given, "--targets")
    return target_names.parse(environ.get(target_names.TARGETS_ENV))


def from_environment() -> dict[str, dg.ConfigurableResource]:
    """Resources for `dagster dev` and the schedule: values come from the environment at run time."""
    return {
        "landing": LandingZone(path=dg.EnvVar(LANDING_ENV),
                               max_days_without_delivery=max_days_without_delivery(),
                               settle_seconds=settle_seconds()),
        "warehouse": Warehouse(url=dg.EnvVar(WAREHOUSE_ENV), lock_wait_seconds=lock_wait_seconds()),
        "out": OutputFolder(path=dg.EnvVar(OUT_ENV)),
        "secrets": SecretKeys(pseudonym_key_file=dg.EnvVar(PSEUDONYM_KEY_ENV),
                              vault_key_file=dg.EnvVar(VAULT_KEY_ENV)),
    }


def explicit(landing: Path, warehouse_url: str, out: Path, pseudonym_key_file: str,
             vault_key_file: str, *, settle: float | None = None
             ) -> dict[str, dg.ConfigurableResource]:
    """Resources for the command line, which has its values already."""
    return {
        "landing": LandingZone(path=str(landing),
                               settle_seconds=settle_seconds() if settle is None else settle),
        "warehouse": Warehouse(url=warehouse_url, lock_wait_seconds=lock_wait_seconds()),
        "out": OutputFolder(path=str(out)),
        "secrets": SecretKeys(pseudonym_key_file=pseudonym_key_file, vault_key_file=vault_key_file),
    }
