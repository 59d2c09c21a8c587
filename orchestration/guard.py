"""What the command line makes sure of before it starts a Dagster run: the warehouse is its alone
(the run lock), its schema is current, and the keys are the warehouse's own.

All three refuse with a ``ConfigurationError`` (exit 2 from the command line) before a run is
recorded and before anything is written. The run's own resources take the same lock again (it is
re-entrant within a process) and check the keys again, which is what protects runs launched by the
Dagster daemon.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import dagster as dg

from assets.resources import SecretKeys, Warehouse
from warehouse import key_checks
from warehouse.db import make_engine, migrate
from warehouse.lock import run_lock, shown


def _tell_waiting(url: str):
    def tell(holder: str) -> None:
        print(f"finsam: väntar på lagret {shown(url)}, som används av {holder} ...",
              file=sys.stderr)
    return tell


@contextmanager
def exclusive(resource_defs: Mapping[str, dg.ConfigurableResource], what: str) -> Iterator[None]:
    """Hold the warehouse's run lock for the block, after migrating and checking the keys."""
    warehouse = resource_defs["warehouse"]
    assert isinstance(warehouse, Warehouse)
    with run_lock(warehouse.url, f"{what} (pid {os.getpid()})",
                  wait_seconds=warehouse.lock_wait_seconds, on_wait=_tell_waiting(warehouse.url)):
        engine = make_engine(warehouse.url)
        try:
            migrate(engine)
            secrets = resource_defs.get("secrets")
            # `finsam report` runs without keys (it reads no identities): nothing to check then
            if isinstance(secrets, SecretKeys) and secrets.pseudonym_key_file and secrets.vault_key_file:
                key_checks.verify(engine, secrets.load())
        finally:
            engine.dispose()
        yield
