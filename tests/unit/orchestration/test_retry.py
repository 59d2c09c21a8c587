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
