"""Conforming several deliveries together gives exactly what conforming each alone gives."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from sources.af import reader as af
from sources.base import HELD_WARNINGS, conform_many
from sources.ekonomi import reader as ekonomi
from sources.fk import reader as fk
from sources.hsf import reader as hsf
from sources.insats import reader as insats
from sources.samtycke import reader as samtycke
from sources.soc import reader as soc

READERS = {"fk": fk, "af": af, "soc": soc, "hsf": hsf, "ekonomi": ekonomi, "insats": insats,
           "samtycke": samtycke}
# different extraction dates, so a 10-digit number's century (and for insats the latest date
# allowed) is decided per file
DATES = (date(2024, 11, 30), date(2010, 3, 31), date(2099, 1, 31))
# insats: the file name's insats differs per file, so the rows of one file break the rule there only
SCOPES = {"insats": ("DEMO1", "ANNAN")}


def _deliveries(source, samples, make_delivery, extra=()):
    paths = sorted((samples / source).iterdir()) + list(extra)
    scopes = SCOPES.get(source, (None,))
    # every file twice: a rule comparing rows (overlapping spells) must keep to its own file
    return [make_delivery(source, path, extraction_date=DATES[number % len(DATES)],
                          scope=scopes[number % len(scopes)])
            for number, path in enumerate(paths * 2)]


def _same(batched, alone) -> None:
    pd.testing.assert_frame_equal(batched.frame, alone.frame)
    pd.testing.assert_frame_equal(batched.issues.reset_index(drop=True),
                                  alone.issues.reset_index(drop=True))
    pd.testing.assert_frame_equal(batched.extra[HELD_WARNINGS], alone.extra[HELD_WARNINGS])
    assert batched.rows_read == alone.rows_read


@pytest.mark.parametrize("source", sorted(READERS))
def test_batched_equals_one_by_one(source, samples, make_delivery) -> None:
    module = READERS[source]
    deliveries = _deliveries(source, samples, make_delivery)
    raws = [module.read(delivery) for delivery in deliveries]
    batched = conform_many(module.conform, list(zip(raws, deliveries)))
    assert len(batched) == len(deliveries)
    for raw, delivery, result in zip(raws, deliveries, batched):
        _same(result, module.conform(raw, delivery))


def test_issues_stay_with_their_file_and_row(write_text, make_delivery) -> None:
    header = "PERSONNR;NAMN;FORMAN;OMFATTNING;FOM;TOM;KONTOR"
    good = "198001022386;Anna Exempel;SJP;100;20230905;20240630;Visby"
    bad = "198001022387;Anna Exempel;XXX;30;20230905;20230101;Visby"
    first = write_text("20241130_forman.csv", [header, good, bad], encoding="cp1252")
    second = write_text("20241231_forman.csv", [header, bad, good, good], encoding="cp1252")
    deliveries = [make_delivery("fk", first), make_delivery("fk", second)]
    results = conform_many(fk.conform, [(fk.read(d), d) for d in deliveries])
    assert set(results[0].issues["row_number"]) == {3}
    assert set(results[1].issues["row_number"]) == {2}
    assert set(results[0].issues["file"]) == {"20241130_forman.csv"}
    assert set(results[1].issues["file"]) == {"20241231_forman.csv"}
    assert results[0].frame["row_number"].tolist() == [2]
    assert results[1].frame["row_number"].tolist() == [3, 4]
