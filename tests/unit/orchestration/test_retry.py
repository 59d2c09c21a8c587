"""Only transient database errors are retried, with a growing wait."""

from __future__ import annotations

import dagster as dg
import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from assets.retry import retry_when_busy


def test_a_busy_database_is_retried_with_backoff():
    waits = []
    for attempt in range(3):
        with pytest.raises(dg.RetryRequested) as caught, retry_when_busy(attempt):
            raise OperationalError("INSERT ...", {}, Exception("database is locked"))
        waits.append(caught.value.seconds_to_wait)
    assert waits == [5, 10, 20]


def test_a_data_error_is_not_retried():
    with pytest.raises(IntegrityError), retry_when_busy(0):
        raise IntegrityError("INSERT ...", {}, Exception("UNIQUE constraint failed"))
    with pytest.raises(ValueError), retry_when_busy(0):
        raise ValueError("bad input")


def test_a_check_retries_a_busy_database_in_process_with_backoff():
    """Issue 16: checks retry too (they used to fail the run before the asset's retry helped)."""
    from assets.retry import retrying

    waits, tries = [], []

    def busy_twice():
        tries.append(1)
        if len(tries) < 3:
            raise OperationalError("SELECT ...", {}, Exception("database is locked"))
        return "rows"

    assert retrying(busy_twice, first_wait=5, sleep=waits.append) == "rows"
    assert waits == [5, 10]


def test_a_check_fails_cleanly_after_the_last_retry_and_never_retries_a_data_error():
    from assets.retry import retrying

    waits = []

    def always_busy():
        raise OperationalError("SELECT ...", {}, Exception("could not connect to server"))

    with pytest.raises(OperationalError, match="could not connect"):
        retrying(always_busy, retries=3, first_wait=1, sleep=waits.append)
    assert waits == [1, 2, 4]

    def bad_data():
        raise IntegrityError("INSERT ...", {}, Exception("UNIQUE constraint failed"))

    with pytest.raises(IntegrityError):
        retrying(bad_data, sleep=waits.append)
    assert waits == [1, 2, 4]
