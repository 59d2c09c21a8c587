"""The steward's render path: Swedish counts and times, and the guard that masks anything shaped
like an identity number before a page or a CSV file shows it."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from assets.steward import render


@pytest.mark.parametrize(("text", "shown"), [
    ("19550114-2284", "19550114-****"),
    ("195501142284", "19550114-****"),
    ("550114-2284", "550114-****"),
    ("5501142284", "550114-****"),
    ("110101+1234 är över hundra", "110101-**** är över hundra"),
    ("felaktig kommun 19550114-2284, se rad 3", "felaktig kommun 19550114-****, se rad 3"),
])
def test_identity_shaped_values_are_masked(text, shown):
    assert render.guard(text) == shown


@pytest.mark.parametrize("text", [
    "19550114-****", "20241130_DEMO1.csv", "2024-11-30 14:05", "25, 50, 75 eller 100",
    "12345678901234", "ålder utanför 16–64 år", "Verifikation 12345",
])
def test_other_values_are_left_alone(text):
    assert render.guard(text) == text


def test_the_template_guard_applies_to_every_printed_value_and_escapes():
    template = render.environment().from_string(
        '<p title="{{ value }}">{{ value }}</p>{{ nothing }}{{ missing_number }}')
    page = template.render(value='<b>19550114-2284</b>', nothing=None, missing_number=float("nan"))
    assert page == '<p title="&lt;b&gt;19550114-****&lt;/b&gt;">&lt;b&gt;19550114-****&lt;/b&gt;</p>'


def test_swedish_counts_and_stockholm_times():
    assert render.count(1, "rad", "rader") == "1\xa0rad"
    assert render.count(0, "rad", "rader") == "0\xa0rader"
    assert render.count(12345, "varning", "varningar") == "12\xa0345\xa0varningar"
    assert render.timestamp(dt.datetime(2024, 11, 30, 13, 5, 59)) == "2024-11-30 14:05"
    assert render.timestamp(dt.datetime(2024, 7, 1, 22, 0, tzinfo=dt.timezone.utc)) == "2024-07-02 00:00"
    assert render.timestamp(None) == "" and render.timestamp(pd.NaT) == ""


def test_frames_for_csv_are_masked_per_value():
    frame = pd.DataFrame({"Hittat": ["19550114-2284", "69 år", None], "Rad": [1, 2, 3]})
    masked = render.mask_frame(frame)
    assert masked["Hittat"].tolist()[:2] == ["19550114-****", "69 år"]
    assert masked["Rad"].tolist() == [1, 2, 3]
