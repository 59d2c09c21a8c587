"""Transient database trouble (busy, locked, connection lost) is retried with backoff; data errors
are not, because running the same bad input again gives the same failure.

Two ways, one policy (``MAX_RETRIES`` more tries, waits ``FIRST_WAIT_SECONDS`` x 1, 2, 4):

* asset bodies raise Dagster's ``RetryRequested`` (``retry_when_busy``): the whole step runs again,
  which is safe because a load is one transaction;
* asset checks cannot ask Dagster for a retry of themselves, and a check that fails on a busy
  database used to fail the run before the asset's retry could help; they retry in process
  (``retrying``). After the last try the error is raised: the step fails and so does the run,
  with the database's own message, and nothing half-done is left behind.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import dagster as dg
from sqlalchemy.exc import DBAPIError, OperationalError

MAX_RETRIES = 3
FIRST_WAIT_SECONDS = 5

T = TypeVar("T")


def is_transient(error: BaseException) -> bool:
    return isinstance(error, OperationalError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated)


@contextmanager
def retry_when_busy(retry_number: int) -> Iterator[None]:
    try:
        yield
    except DBAPIError as error:
        if not is_transient(error):
            raise
        raise dg.RetryRequested(max_retries=MAX_RETRIES,
                                seconds_to_wait=FIRST_WAIT_SECONDS * 2 ** retry_number) from error


def retrying(work: Callable[[], T], *, retries: int | None = None,
             first_wait: float | None = None, sleep: Callable[[float], None] = time.sleep) -> T:
    """``work()``, tried again after a transient database error (waits first_wait x 1, 2, 4 ...);
    the last try's error is raised as it is."""
    retries = MAX_RETRIES if retries is None else retries
    wait = FIRST_WAIT_SECONDS if first_wait is None else first_wait
    for attempt in range(retries + 1):
        try:
            return work()
        except DBAPIError as error:
            if not is_transient(error) or attempt == retries:
                raise
            sleep(wait * 2 ** attempt)
    raise AssertionError("unreachable")
