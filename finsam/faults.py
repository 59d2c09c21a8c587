"""Fault points: where the fault-injection tests kill a run (``kill -9``) to prove it is safe.

``FINSAM_FAULT_POINT`` names one point, e.g. ``after_commit:ekonomi`` or ``migration:3``; the
process that reaches it is killed by SIGKILL on the spot, exactly as the operating system's OOM
killer or a power cut would end it: no ``finally``, no ``atexit``, no flushing. Unset (always, in
production), each point costs one dictionary look-up.

Points (see docs/ARCHITECTURE.md, "Faults"):
``before_commit:<source>``, ``after_commit:<source>`` around one source's ingestion transaction;
``migration:<n>`` after the n-th statement of a schema upgrade (``migration:commit``: all done,
not committed); ``before_rename:<file name>`` in an
atomic output write, after the temporary file is written; ``run_locked`` once a run holds the
warehouse lock; ``rekey:before_commit`` in a key rotation; ``asset:<asset name>`` when an asset
body starts.
"""

from __future__ import annotations

import os
import signal

FAULT_ENV = "FINSAM_FAULT_POINT"


def point(name: str) -> None:
    """Kill this process here if the environment names this point."""
    wanted = os.environ.get(FAULT_ENV)
    if wanted is not None and wanted == name:
        os.kill(os.getpid(), signal.SIGKILL)


def armed(prefix: str) -> bool:
    """Whether a point starting with ``prefix`` is named (to skip preparing a point's name)."""
    wanted = os.environ.get(FAULT_ENV)
    return wanted is not None and wanted.startswith(prefix)
