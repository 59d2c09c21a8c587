"""Transient database trouble (busy, locked, connection lost) is retried with backoff; data errors
are not, because running the same bad input again gives the same failure."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from sqlalchemy.exc import DBAPIError, OperationalError

MAX_RETRIES = 3
FIRST_WAIT_SECONDS = 5


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
