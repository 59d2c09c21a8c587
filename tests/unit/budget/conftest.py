"""A small hand-built budget year 2024 whose figures the tests work out by hand.

JOBBSAM3: LON and LOK given per quarter, IT an annual amount spread over the quarters, RES held by
the steward (missing from the lines), Årsbudget 500 000 stated on its TOTALT row (32 000 more than
its rows). GEMTAG: LON only, no stated Årsbudget. ADM: LON and OVR (one quarter left empty),
Årsbudget 126 000. Both insatser have been active all year. Two spells were registered in error
(FEL); four ledger rows are held for an unknown Projekt, in 2023, 2024 and without a date.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

YEAR = 2024


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture
def lines() -> pd.DataFrame:
    rows = [
        # insats, kostnadsslag, q1..q4, ackumulering, arsbudget, spread
        ("JOBBSAM3", "LON", 100_000, 100_000, 100_000, 100_000, 400_000, None, False),
        ("JOBBSAM3", "LOK", 10_000, 10_000, 12_000, 12_000, 44_000, None, False),
        ("JOBBSAM3", "IT", 6_000, 6_000, 6_000, 6_000, 24_000, None, True),
        ("GEMTAG", "LON", 50_000, 60_000, 60_000, 70_000, 240_000, None, False),
        ("ADM", "LON", 30_000, 30_000, 30_000, 30_000, 120_000, None, False),
        ("ADM", "OVR", 3_000, 0, None, 3_000, 6_000, None, False),
    ]
    frame = pd.DataFrame(rows, columns=["insats", "kostnadsslag", "q1", "q2", "q3", "q4",
                                        "ackumulering", "arsbudget", "spread"])
    frame.insert(0, "year", YEAR)
    return frame.astype({q: "Float64" for q in ("q1", "q2", "q3", "q4", "arsbudget")})


@pytest.fixture
def annual() -> pd.DataFrame:
    return pd.DataFrame({"year": [YEAR, YEAR, YEAR - 1], "insats": ["JOBBSAM3", "ADM", "GEMTAG"],
                         "arsbudget": [500_000.0, 126_000.0, 999.0]})


@pytest.fixture
def catalogue() -> pd.DataFrame:
    return pd.DataFrame({
        "year": [YEAR] * 3, "insats": ["JOBBSAM3", "GEMTAG", "ADM"],
        "namn": ["Jobbsamverkan 3", "Gemensamma tag", "Administration"],
        "startdatum": [_day("2023-01-01"), _day("2024-01-01"), _day("2020-01-01")],
        "slutdatum": [None, None, None],
        "inriktning": ["Individinriktad", "Individinriktad", "Strukturövergripande"],
        "mal_deltagare": [60.0, 40.0, None], "mal_andel": [0.55, 0.45, None],
    })


@pytest.fixture
def financing() -> pd.DataFrame:
    return pd.DataFrame({"year": [YEAR, YEAR, YEAR, YEAR - 1],
                         "finansiar": ["Försäkringskassan", "Region", "Eget kapital",
                                       "Försäkringskassan"],
                         "belopp": [500_000.0, 250_000.0, 50_000.0, 1.0]})


@pytest.fixture
def ledger() -> pd.DataFrame:
    rows = [
        # ver_nr, rad, date, konto, projekt, belopp, kostnadsslag, account_class
        ("V1", 1, "2023-12-31", 7010, "JOBBSAM3", 99_999.0, "LON", "cost"),    # last year
        ("V2", 1, "2024-01-15", 7010, "JOBBSAM3", 95_000.0, "LON", "cost"),
        # Two rows alike in all but Ver.nr: both are real costs, not a redelivered duplicate.
        ("V3", 1, "2024-02-10", 7010, "JOBBSAM3", 2_500.0, "LON", "cost"),
        ("V4", 1, "2024-02-10", 7010, "JOBBSAM3", 2_500.0, "LON", "cost"),
        ("V5", 1, "2024-03-31", 6540, "JOBBSAM3", 6_500.0, "IT", "cost"),      # last day of Q1
        ("V6", 1, "2024-04-20", 7010, "JOBBSAM3", 98_000.0, "LON", "cost"),
        ("V7", 2, "2024-05-05", 7010, "JOBBSAM3", -3_000.0, "LON", "cost"),    # credit
        ("V8", 1, "2024-06-30", 5010, "JOBBSAM3", 11_000.0, "LOK", "cost"),    # last day of Q2
        ("V9", 1, "2024-07-01", 5010, "JOBBSAM3", 11_000.0, "LOK", "cost"),    # first day of Q3
        ("V10", 1, "2024-05-15", 5610, "JOBBSAM3", 7_000.0, "RES", "cost"),    # its budget row is held
        ("V11", 1, "2024-02-02", 2640, "JOBBSAM3", 100.0, None, "ignored"),
        ("V12", 1, "2024-04-02", 1930, "JOBBSAM3", 100.0, None, "ignored"),
        ("V13", 1, "2024-05-02", 8410, "JOBBSAM3", 100.0, None, "ignored"),
        ("V14", 1, "2024-02-01", 7010, "GEMTAG", 55_000.0, "LON", "cost"),
        ("V15", 1, "2024-05-01", 7010, "GEMTAG", 62_000.0, "LON", "cost"),
        ("V16", 1, "2024-04-10", 7010, "ADM", 31_000.0, "LON", "cost"),
        ("V17", 1, "2024-06-01", 6990, "ADM", 1_500.0, "OVR", "cost"),
        ("V18", 1, "2024-06-15", 8310, "ADM", 50.0, None, "ignored"),
        ("V19", 1, "2024-01-05", 3990, "ADM", -200_000.0, "INTAKT", "income"),
        ("V20", 1, "2024-04-01", 3990, "ADM", -200_000.0, "INTAKT", "income"),
        ("V21", 1, "2024-07-02", 3990, "ADM", -200_000.0, "INTAKT", "income"),
    ]
    frame = pd.DataFrame(rows, columns=["ver_nr", "rad", "bokforingsdatum", "konto", "projekt",
                                        "belopp", "kostnadsslag", "account_class"])
    frame["bokforingsdatum"] = frame["bokforingsdatum"].map(_day)
    return frame


@pytest.fixture
def spells() -> pd.DataFrame:
    rows = [
        # insats, pseudonym, deidentified_person, anonym, in, out
        ("JOBBSAM3", "p1", None, False, "2023-03-01", "2023-12-31"),   # left before the year
        ("JOBBSAM3", "p2", None, False, "2023-06-01", None),
        ("JOBBSAM3", "p3", None, False, "2024-01-10", "2024-02-10"),   # p3 came back: one person
        ("JOBBSAM3", "p3", None, False, "2024-04-01", None),
        ("JOBBSAM3", None, "d1", False, "2024-02-01", "2024-03-01"),   # withdrew consent
        ("JOBBSAM3", None, None, True, "2024-03-01", None),            # anonymous: one each
        ("JOBBSAM3", None, None, True, "2024-05-01", None),
        ("JOBBSAM3", "p4", None, False, "2024-07-01", None),           # after Q2
        ("JOBBSAM3", "p5", None, False, "2023-10-01", "2024-01-01"),   # active on 1 January only
        ("GEMTAG", "p2", None, False, "2024-01-01", None),
        # registered in error: no participation at all
        ("JOBBSAM3", "p6", None, False, "2024-02-01", "2024-02-03"),
        ("GEMTAG", None, None, True, "2024-03-01", "2024-03-02"),
    ]
    frame = pd.DataFrame(rows, columns=["insats", "pseudonym", "deidentified_person", "anonym",
                                        "inskrivningsdatum", "utskrivningsdatum"])
    frame["avslutsanledning"] = [None, None, "ARB", None, "AVB", None, None, None, "STU", None,
                                 "FEL", "FEL"]
    frame["inskrivningsdatum"] = frame["inskrivningsdatum"].map(_day)
    frame["utskrivningsdatum"] = frame["utskrivningsdatum"].map(_day, na_action="ignore")
    return frame


@pytest.fixture
def held_budget_rows() -> pd.DataFrame:
    return pd.DataFrame({"insats": ["JOBBSAM3"], "kostnadsslag": ["RES"]})


@pytest.fixture
def held_ledger_rows() -> pd.DataFrame:
    """Ledger rows held for an unknown Projekt, by their own booking date: two in the first half
    of 2024 (one of them delivered twice), one in August, one of 2023, one without a date."""
    return pd.DataFrame({
        "record_date": [_day("2024-02-20"), _day("2024-06-30"), _day("2024-06-30"),
                        _day("2024-08-01"), _day("2023-11-30"), None],
        "match_key": ["V90|1", "V91|1", "V91|1", "V92|1", "V80|1", "V99|1"],
    })


@pytest.fixture
def inputs(lines, annual, catalogue, financing, ledger, spells, held_budget_rows,
           held_ledger_rows) -> dict:
    return {"lines": lines, "annual": annual, "catalogue": catalogue, "financing": financing,
            "ledger": ledger, "spells": spells, "held_budget_rows": held_budget_rows,
            "held_ledger_rows": held_ledger_rows}
