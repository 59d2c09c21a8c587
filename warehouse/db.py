"""Connecting to the warehouse and bringing its schema up to date with Alembic."""

from __future__ import annotations

import functools
import itertools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    event,
    func,
    inspect,
    select,
    table,
    text,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from finsam import faults, heap
from finsam.errors import WarehouseError
from warehouse.models import Base

MIGRATIONS = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the steward's CLI read while a run writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode keeps every transaction atomic; only the last commits before a power cut
    # may be lost, and the next run simply loads those deliveries again
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # deleted content is overwritten, not left in free pages: an erasure is physical
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


# SQLAlchemy 2.1 gives a bare postgresql:// the psycopg 3 driver; finsam installs psycopg2
POSTGRES_DRIVER = "postgresql+psycopg2"


def with_installed_driver(url: URL) -> URL:
    """``postgresql://`` as people write it, with the driver finsam installs."""
    return url.set(drivername=POSTGRES_DRIVER) if url.drivername == "postgresql" else url


def make_engine(url: str) -> Engine:
    try:
        parsed = with_installed_driver(make_url(url))
    except ArgumentError:
        raise WarehouseError("lagrets adress är ingen SQLAlchemy-URL (t.ex. sqlite:///finsam.db)") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    # parameters can be pseudonyms or a partner's text: never in an error message or log line
    engine = create_engine(parsed, hide_parameters=True)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(engine: Engine) -> None:
    """Upgrade the warehouse schema to the newest migration (idempotent).

    The whole upgrade, the version stamp included, is one transaction on both backends, so a
    process killed in the middle leaves the schema as it was: the next run starts the upgrade
    again. SQLite can do that (its DDL is transactional), but Python's driver commits before and
    around DDL on its own; here the driver's own transaction handling is switched off and the
    transaction is begun and ended explicitly. A half-done first migration left by an older
    finsam (tables but no version) is finished or refused first (:func:`_settle_unversioned`).
    """
    heap.freeze_imported()
    with engine.connect() as connection:
        if _current_revision(connection) == _head():
            return
    if engine.dialect.name == "sqlite":
        _migrate_sqlite(engine)
        return
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # two processes upgrading at once: the second waits and then finds nothing to do
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        _upgrade(connection)
        faults.point("migration:commit")


# pg_advisory_xact_lock's key for schema upgrades (any constant; the run lock uses another)
MIGRATION_LOCK = 0x66696E73616D01


def _migrate_sqlite(engine: Engine) -> None:
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        saved = raw.isolation_level
        # no implicit BEGIN/COMMIT from the driver: every statement below is in our transaction
        raw.isolation_level = None
        try:
            # IMMEDIATE takes the write lock now: a second process waits (busy_timeout) and then
            # sees the finished upgrade instead of half of it
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                _upgrade(connection)
            except BaseException:
                connection.rollback()
                raise
            faults.point("migration:commit")
            connection.commit()
        finally:
            raw.isolation_level = saved


def _upgrade(connection: Connection) -> None:
    """Inside the caller's transaction: settle an unversioned schema, then upgrade to head."""
    _settle_unversioned(connection)
    if faults.armed("migration:"):
        _count_statements(connection)
    config = alembic_config(connection.engine.url.render_as_string(hide_password=False))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _count_statements(connection: Connection) -> None:
    """Fault point ``migration:<n>``: the process dies after the n-th statement of the upgrade."""
    count = itertools.count(1)

    @event.listens_for(connection, "after_cursor_execute")
    def _after(*_args) -> None:
        faults.point(f"migration:{next(count)}")


@functools.cache
def _head() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _finsam_tables(connection: Connection) -> list[str]:
    present = set(inspect(connection).get_table_names())
    return sorted(present & set(Base.metadata.tables))


def _settle_unversioned(connection: Connection) -> None:
    """finsam's tables without a schema version: what an older finsam left when it was killed
    during its first migration (its driver committed each CREATE TABLE on its own). Decided
    safely, inside the migration's transaction:

    * every such table empty: nothing was ever loaded, so they are dropped and the upgrade starts
      from nothing;
    * the tables and their columns are exactly those of one revision: the schema is stamped with
      it and upgraded from there;
    * otherwise finsam refuses, saying what it found (a person must decide; nothing is changed).
    """
    if _current_revision(connection) is not None:
        return
    tables = _finsam_tables(connection)
    if not tables:
        return
    if all(connection.execute(select(func.count()).select_from(table(name))).scalar() == 0
           for name in tables):
        for name in _drop_order(connection, tables):
            connection.exec_driver_sql(f"DROP TABLE {connection.dialect.identifier_preparer.quote(name)}")
        return
    found = _shape(connection)
    for revision in _revisions():
        if _revision_shape(revision) == found:
            config = alembic_config(connection.engine.url.render_as_string(hide_password=False))
            config.attributes["connection"] = connection
            command.stamp(config, revision)
            return
    raise WarehouseError(
        f"lagret har {len(tables)} av finsams tabeller med data men ingen schemaversion, och "
        "tabellerna stämmer inte med någon version av finsams schema: en tidigare uppgradering "
        "avbröts mitt i. Inget har ändrats. Återställ lagret från säkerhetskopian, eller flytta "
        "undan tabellerna och kör igen.")


def _drop_order(connection: Connection, tables: list[str]) -> list[str]:
    """Tables that others refer to last."""
    inspector = inspect(connection)
    refers = {name: {fk["referred_table"] for fk in inspector.get_foreign_keys(name)}
              for name in tables}
    ordered: list[str] = []
    pending = set(tables)
    while pending:
        free = sorted(name for name in pending
                      if not any(name in refers[other] for other in pending if other != name))
        if not free:          # a cycle: drop in any order, constraints go with their tables
            free = sorted(pending)
        ordered += free
        pending -= set(free)
    return ordered


def _shape(connection: Connection) -> dict[str, frozenset[str]]:
    inspector = inspect(connection)
    return {name: frozenset(column["name"] for column in inspector.get_columns(name))
            for name in sorted(set(inspector.get_table_names()) - {"alembic_version"})
            if name in Base.metadata.tables or name in _all_revision_tables()}


def _revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


@functools.cache
def _revision_shape(revision: str) -> dict[str, frozenset[str]]:
    """Tables and columns of the schema at ``revision``, built in a scratch in-memory database."""
    scratch = create_engine("sqlite://")
    try:
        with scratch.begin() as connection:
            config = alembic_config("sqlite://")
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            inspector = inspect(connection)
            return {name: frozenset(column["name"] for column in inspector.get_columns(name))
                    for name in sorted(set(inspector.get_table_names()) - {"alembic_version"})}
    finally:
        scratch.dispose()


@functools.cache
def _all_revision_tables() -> frozenset[str]:
    return frozenset(name for revision in _revisions() for name in _revision_shape(revision))


def compact(engine: Engine, tables: list[str]) -> None:
    """After an erasure: make the deleted rows physically gone from the database files. SQLite
    overwrites deleted content (``secure_delete``) and the write-ahead log is checkpointed and
    truncated; PostgreSQL rewrites the tables (VACUUM FULL), since a deleted row otherwise stays in
    its page until the space is reused."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    if engine.dialect.name == "postgresql":
        preparer = engine.dialect.identifier_preparer
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for name in tables:
                if name.replace("_", "").isalnum():
                    connection.exec_driver_sql(f"VACUUM FULL {preparer.quote(name)}")
