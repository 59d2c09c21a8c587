"""One run at a time per warehouse: an exclusive run lock the operating system or the database
releases by itself when the process dies, even by ``kill -9``.

* **SQLite**: ``flock`` on a file next to the database (``warehouse.db.lock``). A lock file of its
  own, never the database file: SQLite's own locks on that file are POSIX record locks, which the
  process would lose if it closed any other descriptor of it.
* **PostgreSQL**: a session advisory lock on a connection of its own, held for the whole run; the
  session's ``application_name`` says who holds it.

A second run waits up to ``wait_seconds`` (checking twice a second), then refuses with
``WarehouseBusy`` naming the holder. Within one process the lock is re-entrant: the command line
takes it before it starts a Dagster run, and the run's resources take it again at no cost; a
backfill holds it across all its quarters, so a nightly run cannot slip in between them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from finsam import faults
from finsam.errors import WarehouseBusy
from warehouse.db import with_installed_driver

# pg_advisory_lock's key for runs (any constant: one warehouse is one database)
RUN_LOCK = 0x66696E73616D00
POLL_SECONDS = 0.5
DEFAULT_WAIT_SECONDS = 600.0

_held: dict[str, _Lock] = {}
_guard = threading.Lock()


def holder_text(what: str) -> str:
    started = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S")
    return f"{what}, pid {os.getpid()} på {socket.gethostname()}, sedan {started}"


class _Lock:
    def __init__(self, url: str) -> None:
        self.url = url
        self.count = 0

    def try_acquire(self, holder: str) -> bool:
        raise NotImplementedError

    def holder(self) -> str:
        raise NotImplementedError

    def describe(self, holder: str) -> None:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError


class _FileLock(_Lock):
    def __init__(self, url: str, path: Path) -> None:
        super().__init__(url)
        self.path = path
        self.fd: int | None = None

    def try_acquire(self, holder: str) -> bool:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        self.describe(holder)
        return True

    def describe(self, holder: str) -> None:
        if self.fd is None:
            return
        data = json.dumps({"innehavare": holder}, ensure_ascii=False).encode()
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, data, 0)

    def holder(self) -> str:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))["innehavare"]
        except (OSError, ValueError, KeyError):
            return "okänd körning"

    def release(self) -> None:
        import fcntl

        if self.fd is None:
            return
        os.ftruncate(self.fd, 0)
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = None


class _AdvisoryLock(_Lock):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._engine = None
        self.connection = None

    @property
    def engine(self):
        if self._engine is None:
            self._engine = create_engine(with_installed_driver(make_url(self.url)),
                                         poolclass=NullPool,
                                         isolation_level="AUTOCOMMIT")
        return self._engine

    def try_acquire(self, holder: str) -> bool:
        connection = self.engine.connect()
        got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                 {"key": RUN_LOCK}).scalar()
        if not got:
            connection.close()
            return False
        self.connection = connection
        self.describe(holder)
        return True

    def describe(self, holder: str) -> None:
        if self.connection is not None:
            # application_name holds at most 63 ASCII characters (others become "?")
            plain = unicodedata.normalize("NFKD", holder).encode("ascii", "ignore").decode()
            name = ("finsam: " + plain)[:63]
            self.connection.execute(text("SELECT set_config('application_name', :name, false)"),
                                    {"name": name})

    def holder(self) -> str:
        with self.engine.connect() as connection:
            row = connection.execute(text(
                "SELECT a.application_name, a.pid, a.backend_start FROM pg_locks l "
                "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
                "AND l.granted AND l.classid = :high AND l.objid = :low"),
                {"high": RUN_LOCK >> 32, "low": RUN_LOCK & 0xFFFFFFFF}).first()
        if row is None:
            return "okänd körning"
        name = (row.application_name or "").removeprefix("finsam: ") or "okänd körning"
        return f"{name} (serverprocess {row.pid})"

    def release(self) -> None:
        if self.connection is None:
            return
        try:
            self.connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": RUN_LOCK})
        finally:
            self.connection.close()
            self.connection = None
            self.engine.dispose()
            self._engine = None


def _make(url: str) -> tuple[str, _Lock | None]:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            return url, None        # a private in-memory database: nothing to share
        path = Path(parsed.database).resolve()
        return str(path), _FileLock(url, path.with_name(path.name + ".lock"))
    if parsed.get_backend_name() == "postgresql":
        key = parsed.render_as_string(hide_password=True)
        return key, _AdvisoryLock(url)
    return url, None


def shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def run_lock(url: str, what: str, *, wait_seconds: float = DEFAULT_WAIT_SECONDS,
             on_wait: Callable[[str], None] | None = None) -> Iterator[Callable[[str], None]]:
    """Hold the warehouse's run lock for the block; yields a function that updates the holder's
    description (e.g. once the Dagster run has an id). Refuses with ``WarehouseBusy`` after
    ``wait_seconds``."""
    key, lock = _make(url)
    if lock is None:
        yield lambda _holder: None
        return
    with _guard:
        held = _held.get(key)
        if held is not None:
            held.count += 1
    if held is not None:
        try:
            yield held.describe
        finally:
            with _guard:
                held.count -= 1
        return
    holder = holder_text(what)
    deadline = time.monotonic() + max(0.0, wait_seconds)
    told = False
    while not lock.try_acquire(holder):
        if time.monotonic() >= deadline:
            raise WarehouseBusy(shown(url), lock.holder(), wait_seconds)
        if on_wait is not None and not told:
            on_wait(lock.holder())
            told = True
        time.sleep(POLL_SECONDS)
    lock.count = 1
    with _guard:
        _held[key] = lock
    faults.point("run_locked")
    try:
        yield lock.describe
    finally:
        with _guard:
            lock.count -= 1
            if lock.count == 0:
                _held.pop(key, None)
                lock.release()


def held_here(url: str) -> bool:
    """Whether this process holds the lock of the warehouse at ``url``."""
    key, lock = _make(url)
    if lock is None:
        return False
    with _guard:
        return key in _held
