"""Connecting to the warehouse and bringing its schema up to date with Alembic."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from finsam.errors import WarehouseError

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


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
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
    """Upgrade the warehouse schema to the newest migration (idempotent)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


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
