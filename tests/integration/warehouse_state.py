"""A warehouse's state as the fault tests compare it: what it holds, without what only says when.

Computed straight from the tables (not through finsam's readers), so a fault that doubles, loses
or re-keys anything shows as a difference: per table the rows with their data columns, where ids,
timestamps and the run's own bookkeeping times are left out (they differ between any two runs).
"""

from __future__ import annotations

import re
from collections import Counter

from sqlalchemy import DateTime, Engine, create_engine, inspect, select

from warehouse import models

# columns that differ between two equal runs: generated ids, clocks, file sizes/mtimes of copies
VOLATILE = ("id", "_at", "_id", "processed", "created", "changed", "last_seen", "mtime",
            "signature", "version", "token", "ciphertext", "password", "session")


# a de-identified spell's key carries a random token by design (it must link to nobody)
RANDOM = re.compile(r"avidentifierad\|[0-9a-f]+")


def _kept(column) -> bool:
    """Data columns: not a clock (every DateTime column says when, not what) nor a generated id."""
    if isinstance(column.type, DateTime):
        return False
    return not any(part in column.name for part in VOLATILE)


def _value(value) -> str:
    return RANDOM.sub("avidentifierad|*", str(value))


def state(url_or_engine: str | Engine, *, skip: tuple[str, ...] = ("key_check",)) -> dict:
    engine = create_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    try:
        present = set(inspect(engine).get_table_names())
        result = {}
        with engine.connect() as connection:
            for table in models.Base.metadata.sorted_tables:
                if table.name not in present or table.name in skip:
                    continue
                columns = [column for column in table.c if _kept(column)]
                rows = connection.execute(select(*columns)).all() if columns else []
                result[table.name] = Counter(tuple(_value(value) for value in row) for row in rows)
        return result
    finally:
        if isinstance(url_or_engine, str):
            engine.dispose()


def people(url_or_engine: str | Engine) -> int:
    """Distinct pseudonyms in the vault: what a wrong key doubled."""
    return len(state(url_or_engine).get("identity_vault", Counter()))


def differences(first: dict, second: dict) -> dict:
    """Per table, rows only in one of the two (empty when the states are equal)."""
    out = {}
    for name in sorted(set(first) | set(second)):
        a, b = first.get(name, Counter()), second.get(name, Counter())
        if a != b:
            out[name] = {"bara_först": sum((a - b).values()), "bara_sedan": sum((b - a).values())}
    return out


def rows_only_in(first: dict, second: dict, table: str) -> list[tuple]:
    """The rows of ``table`` in ``first`` and not in ``second`` (each as often as it is extra),
    for an assertion's message."""
    extra = first.get(table, Counter()) - second.get(table, Counter())
    return sorted(extra.elements())
