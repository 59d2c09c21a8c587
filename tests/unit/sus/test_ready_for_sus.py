"""The blocking check's overlap rule on a hand-built frame."""

from __future__ import annotations

import pandas as pd

from assets.sus.checks import overlapping


def test_overlapping_spells_of_one_person_in_one_insats():
    spells = pd.DataFrame({
        "id": [1, 2, 3, 4, 5], "record_key": ["a", "b", "c", "d", "e"],
        "pseudonym": ["p", "p", "p", "q", None], "insats": ["A", "A", "B", "A", "A"],
        "inskrivningsdatum": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-01-01",
                                             "2024-01-01", "2024-01-01"]),
        "utskrivningsdatum": pd.to_datetime(["2024-03-01", None, None, None, None]),
        "avslutsanledning": ["OVR", None, None, None, None],
    })
    assert sorted(overlapping(spells)) == ["a", "b"]
