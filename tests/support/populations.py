"""Spell frames for the disclosure tests: drawn like a small förbund's register (the warehouse's
columns the SUS statistics read), from a seed or from Hypothesis."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as hs

COLUMNS = ("insats", "pseudonym", "deidentified_person", "anonym", "skyddad_identitet", "kon",
           "age_at_enrolment", "inskrivningsdatum", "utskrivningsdatum", "avslutsanledning",
           "forsorjning_in", "forsorjning_ut", "tid_offentlig_forsorjning", "withdrawn_on")
# försörjning at exit by avslutsanledning; AVB (withdrawn) and FEL have none
AFTER = {"ARB": "LON", "STU": "STS", "REH": "SJP", "SJK": "SJP", "FLY": "OKA", "FLED": "ING",
         "OVR": "FSB"}
REASONS = ("ARB", "ARB", "STU", "REH", "SJK", "FLY", "FLED", "AVB", "OVR", "FEL")
INCOME = ("SJP", "AKE", "SJE", "AKS", "AKA", "ETA", "FSB", "STS", "LON")


def frame(rows: list[dict]) -> pd.DataFrame:
    spells = pd.DataFrame(rows, columns=list(COLUMNS))
    for name in ("inskrivningsdatum", "utskrivningsdatum", "withdrawn_on"):
        spells[name] = pd.to_datetime(spells[name])
    spells["age_at_enrolment"] = spells["age_at_enrolment"].astype("Int64")
    spells["anonym"] = spells["anonym"].astype(bool)
    spells["skyddad_identitet"] = spells["skyddad_identitet"].astype(bool)
    return spells


def from_csv(path) -> pd.DataFrame:
    """A population kept as a fixture (the columns above; booleans as True/False)."""
    rows = pd.read_csv(path, dtype=str, keep_default_na=False)
    rows = rows.replace({"": None, "True": True, "False": False})
    return frame(rows.to_dict("records"))


def _spell(insats: str, person: int, kon: str, age: int, enrolled: pd.Timestamp,
           days: int | None, reason: str, income: list[str], tid: str, anonymous: bool) -> dict:
    ended = None if days is None else enrolled + pd.Timedelta(days=days)
    return {"insats": insats, "pseudonym": None if anonymous else f"{person:064x}",
            "deidentified_person": None, "anonym": anonymous, "skyddad_identitet": False,
            "kon": kon, "age_at_enrolment": None if anonymous else age,
            "inskrivningsdatum": enrolled, "utskrivningsdatum": ended,
            "avslutsanledning": None if ended is None else reason,
            "forsorjning_in": None if anonymous else ",".join(income),
            "forsorjning_ut": None if anonymous or ended is None else AFTER.get(reason),
            "tid_offentlig_forsorjning": None if anonymous else tid, "withdrawn_on": None}


def seeded(spells: int, insatser: tuple[str, ...], first: str, quarters: int,
           seed: int = 1) -> pd.DataFrame:
    """A register like the demo's: ``spells`` spells spread over the quarters and insatser."""
    rng = np.random.default_rng(seed)
    start = pd.Period(first, freq="Q").start_time
    days = quarters * 91
    rows = []
    for number in range(spells):
        enrolled = start + pd.Timedelta(days=int(rng.integers(0, days)))
        length = int(rng.integers(60, 700))
        income = sorted(set(rng.choice(INCOME, size=int(rng.integers(1, 3)))))
        if rng.random() < 0.1:
            income = ["ING"]
        # a person's spells in one insats never overlap; one in ten comes back in another
        person = number - 1 if number and rng.random() < 0.1 else number
        insats = str(rng.choice(insatser))
        if person != number and rows[-1]["insats"] == insats:
            person = number
        rows.append(_spell(insats, person,
                           str(rng.choice(["K", "M"])), int(rng.integers(16, 65)), enrolled,
                           length if rng.random() < 0.7 else None, str(rng.choice(REASONS)),
                           income, str(rng.integers(0, 10)), bool(rng.random() < 0.08)))
    return frame(rows)


@hs.composite
def small_populations(draw, insatser: tuple[str, ...] = ("A", "B"), first: str = "2024Q1",
                      quarters: int = 4) -> pd.DataFrame:
    """A few spells in the year, most of them in cells of 1 or 2: where protection is hardest."""
    start = pd.Period(first, freq="Q").start_time
    rows = []
    for number in range(draw(hs.integers(2, 14))):
        enrolled = start + pd.Timedelta(days=draw(hs.integers(-200, quarters * 91 - 1)))
        rows.append(_spell(
            draw(hs.sampled_from(insatser)), number,
            draw(hs.sampled_from(["K", "M"])), draw(hs.sampled_from([20, 35, 45, 60])),
            enrolled, draw(hs.one_of(hs.none(), hs.integers(20, 500))),
            draw(hs.sampled_from(REASONS)), draw(hs.sampled_from([["SJP"], ["AKA", "FSB"],
                                                                  ["ING"]])),
            draw(hs.sampled_from(["0", "2", "8"])), draw(hs.booleans()) and draw(hs.booleans())))
    return frame(rows)
