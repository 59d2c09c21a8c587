"""The process's objects as Python's cyclic garbage collector sees them."""

from __future__ import annotations

import gc


def freeze_imported() -> None:
    """Once per process, before its first real work (a migration, an ingestion): everything alive
    then (the imported modules of pandas, SQLAlchemy, Alembic, Dagster, GX: hundreds of thousands
    of objects) is moved out of the cyclic garbage collector's sight. Each full collection
    otherwise walks all of them again: three of them took 0.5 CPU-s of one förbund's backfill of
    6.5. Reference counting still frees whatever is dropped; only a reference cycle among those
    objects would stay in memory."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
