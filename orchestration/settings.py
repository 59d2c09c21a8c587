"""The one place finsam reads its environment."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path

import dagster as dg

from assets.resources import (
    NEWEST_DELIVERY,
    TODAY,
    LandingZone,
    OutputFolder,
    SecretKeys,
    Warehouse,
)
from finsam import targets as target_names
from finsam.errors import ConfigurationError
from finsam.privacy import PSEUDONYM_KEY_ENV, VAULT_KEY_ENV
from orchestration.partitions import DEFAULT_FIRST_QUARTER, partition_key
from warehouse.lock import DEFAULT_WAIT_SECONDS

FIRST_QUARTER_ENV = "FINSAM_FIRST_QUARTER"
LANDING_ENV = "FINSAM_LANDING"
WAREHOUSE_ENV = "FINSAM_WAREHOUSE_URL"
OUT_ENV = "FINSAM_OUT"
SETTLE_ENV = "FINSAM_SETTLE_SECONDS"
FRESHNESS_REFERENCE_ENV = "FINSAM_FRESHNESS_REFERENCE"
DELARSPERIOD_ENV = "FINSAM_DELARSPERIOD"
DEFAULT_SETTLE_SECONDS = 60.0
# issue 16: how long a run waits for another run to release the warehouse before it refuses
LOCK_WAIT_ENV = "FINSAM_LOCK_WAIT_SECONDS"
_DELARSPERIODS = {"tertial": "tertial", "halvår": "halvår", "halvar": "halvår"}


def _environ(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def first_quarter(environ: Mapping[str, str] | None = None) -> str:
    value = _environ(environ).get(FIRST_QUARTER_ENV, "").strip() or DEFAULT_FIRST_QUARTER
    try:
        return partition_key(value)
    except ValueError:
        raise ConfigurationError(FIRST_QUARTER_ENV, f"{value!r} är inget kvartal; skriv t.ex. "
                                 "2022Q1") from None


def settle_seconds(environ: Mapping[str, str] | None = None) -> float:
    """How long a file must have been left alone before it is read (it may still be uploading)."""
    value = _environ(environ).get(SETTLE_ENV, "").strip()
    try:
        return float(value) if value else DEFAULT_SETTLE_SECONDS
    except ValueError:
        raise ConfigurationError(SETTLE_ENV, f"{value!r} är inget antal sekunder") from None


def freshness_reference(environ: Mapping[str, str] | None = None) -> str:
    """``idag`` (default): a source is late against the calendar; ``senaste_leverans``: against the
    newest delivery in the landing zone; a day ``YYYY-MM-DD``: against that day (the demo's landing
    zone is a picture of a past day)."""
    value = _environ(environ).get(FRESHNESS_REFERENCE_ENV, "").strip().casefold() or TODAY
    if value in (TODAY, NEWEST_DELIVERY):
        return value
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise ConfigurationError(FRESHNESS_REFERENCE_ENV, f"{value!r}: ange {TODAY}, "
                                 f"{NEWEST_DELIVERY} eller en dag ÅÅÅÅ-MM-DD") from None


def delarsperiod(environ: Mapping[str, str] | None = None) -> str:
    """The förbund's part-year report: ``tertial`` (default) or ``halvår``."""
    value = _environ(environ).get(DELARSPERIOD_ENV, "").strip().casefold() or "tertial"
    if value not in _DELARSPERIODS:
        raise ConfigurationError(DELARSPERIOD_ENV, f"{value!r}: ange tertial eller halvår")
    return _DELARSPERIODS[value]


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
                               freshness_reference=freshness_reference(),
                               settle_seconds=settle_seconds()),
        "warehouse": Warehouse(url=dg.EnvVar(WAREHOUSE_ENV), lock_wait_seconds=lock_wait_seconds()),
        "out": OutputFolder(path=dg.EnvVar(OUT_ENV), delarsperiod=delarsperiod()),
        "secrets": SecretKeys(pseudonym_key_file=dg.EnvVar(PSEUDONYM_KEY_ENV),
                              vault_key_file=dg.EnvVar(VAULT_KEY_ENV)),
    }


def explicit(landing: Path, warehouse_url: str, out: Path, pseudonym_key_file: str,
             vault_key_file: str, *, settle: float | None = None,
             reference: str | None = None) -> dict[str, dg.ConfigurableResource]:
    """Resources for the command line, which has its values already (the rest from the
    environment, as for `dagster dev`)."""
    return {
        "landing": LandingZone(path=str(landing),
                               freshness_reference=reference or freshness_reference(),
                               settle_seconds=settle_seconds() if settle is None else settle),
        "warehouse": Warehouse(url=warehouse_url, lock_wait_seconds=lock_wait_seconds()),
        "out": OutputFolder(path=str(out), delarsperiod=delarsperiod()),
        "secrets": SecretKeys(pseudonym_key_file=pseudonym_key_file, vault_key_file=vault_key_file),
    }


def as_environment(landing: Path, warehouse_url: str, out: Path, pseudonym_key_file: str,
                   vault_key_file: str, first: str) -> dict[str, str]:
    """The environment :func:`from_environment` reads, for a Dagster process finsam starts itself
    (the daemon of `finsam backfill`): the command's own values, the rest as they are."""
    return {LANDING_ENV: str(landing), WAREHOUSE_ENV: warehouse_url, OUT_ENV: str(out),
            PSEUDONYM_KEY_ENV: pseudonym_key_file, VAULT_KEY_ENV: vault_key_file,
            FIRST_QUARTER_ENV: first}
