"""What a run says it saw: per source the newest delivery, what waits, and for each quarter's
outputs whether the data they need has arrived. Late and partial deliveries, worked out by hand."""

from __future__ import annotations

from datetime import date

import pandas as pd

from assets import readiness
from assets.readiness import Arrived


def _arrived(deliveries, catalogue=(), waiting=()) -> Arrived:
    return Arrived(
        pd.DataFrame(deliveries, columns=["source", "scope", "extraction_date", "file_name"]),
        pd.DataFrame(catalogue, columns=["year", "insats", "inriktning", "startdatum",
                                         "slutdatum"]),
        pd.DataFrame(waiting, columns=["source", "file_name", "why"]))


LEDGER_MAY = ("ekonomi", None, date(2021, 5, 31), "20210531_huvudbok.csv")
LEDGER_JUNE_30 = ("ekonomi", None, date(2021, 6, 30), "20210630_huvudbok.csv")
LEDGER_JULY = ("ekonomi", None, date(2021, 7, 14), "20210714_huvudbok.csv")
BUDGET_2021 = ("budget", "2021", date(2021, 1, 10), "20210110_budget.xlsx")
CATALOGUE = [(2021, "JOBB", "Individinriktad", date(2020, 1, 1), None),
             (2021, "SEN", "Individinriktad", date(2021, 8, 1), None),
             (2021, "ADM", "Strukturövergripande", date(2008, 1, 1), None)]


def test_a_ledger_from_before_the_books_closed_is_not_enough():
    arrived = _arrived([LEDGER_MAY, BUDGET_2021])
    assert readiness.missing(arrived, date(2021, 4, 1), date(2021, 6, 30), readiness.BUDGET) == [
        ("Ekonomi (huvudbok) t.o.m. 2021-06-30 (uttagen efter kvartalets slut) saknas: "
         "senaste leverans 2021-05-31")]
    # extracted on the quarter's last day: June's books are not closed yet
    arrived = _arrived([LEDGER_MAY, LEDGER_JUNE_30, BUDGET_2021])
    assert readiness.missing(arrived, date(2021, 4, 1), date(2021, 6, 30), readiness.BUDGET)
    # the ledger extracted in July, whatever the order it arrived in, is enough for Q2
    arrived = _arrived([LEDGER_JULY, LEDGER_MAY, BUDGET_2021])
    assert readiness.missing(arrived, date(2021, 4, 1), date(2021, 6, 30), readiness.BUDGET) == []


def test_the_budget_of_the_year_is_needed():
    arrived = _arrived([LEDGER_JULY, BUDGET_2021])
    assert readiness.missing(arrived, date(2022, 1, 1), date(2022, 3, 31), readiness.BUDGET) == [
        "Budget för 2022 saknas",
        ("Ekonomi (huvudbok) t.o.m. 2022-03-31 (uttagen efter kvartalets slut) saknas: "
         "senaste leverans 2021-07-14")]


def test_the_participants_need_every_active_register_and_the_consents():
    jobb = ("insats", "JOBB", date(2021, 7, 2), "20210702_JOBB.csv")
    consents = ("samtycke", None, date(2021, 6, 30), "20210630_samtycke.csv")
    arrived = _arrived([jobb, consents], CATALOGUE)
    # SEN starts in August: not needed for Q2; a register on the quarter's last day is enough
    assert readiness.missing(arrived, date(2021, 4, 1), date(2021, 6, 30),
                             readiness.PARTICIPANTS) == []
    assert readiness.missing(arrived, date(2021, 7, 1), date(2021, 9, 30),
                             readiness.PARTICIPANTS) == [
        ("Insatsernas deltagarregister för JOBB t.o.m. 2021-09-30 saknas: senaste leverans "
         "2021-07-02"),
        "Insatsernas deltagarregister för SEN t.o.m. 2021-09-30 saknas: ingen leverans",
        "Samtyckesregistret t.o.m. 2021-09-30 saknas: senaste leverans 2021-06-30"]


def test_the_summary_names_the_newest_delivery_and_what_waits():
    waiting = [("ekonomi", "20990101_huvudbok.csv", "uttagsdatum i framtiden")]
    arrived = _arrived([LEDGER_MAY, LEDGER_JULY, BUDGET_2021], waiting=waiting)
    lines = readiness.describe(arrived, ["2021Q2"])
    assert "    ekonomi: 20210714_huvudbok.csv (uttagen 2021-07-14)" in lines
    assert "    budget: 20210110_budget.xlsx (uttagen 2021-01-10)" in lines
    assert "    ekonomi: 20990101_huvudbok.csv – uttagsdatum i framtiden" in lines
    assert "    2021Q2 budgetuppföljning: allt underlag har kommit" in lines
    assert ("    2021Q2 SUS: Insatsernas deltagarregister t.o.m. 2021-06-30 saknas: ingen leverans; "
            "Samtyckesregistret t.o.m. 2021-06-30 saknas: ingen leverans") in lines
