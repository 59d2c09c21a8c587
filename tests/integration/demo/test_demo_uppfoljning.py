"""After `finsam demo`: the Uppföljning Finsam files, their participant counts against a count made
here from the warehouse's spells and consents with plain SQL and Python (not the adapter's code),
and the deltagaransvarig's worklist."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from datetime import date, timedelta

import pandas as pd


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts with None (not NaN) for an empty value."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def _last_day(spell) -> date | None:
    if spell["utskrivningsdatum"]:
        return date.fromisoformat(spell["utskrivningsdatum"][:10])
    quarter = spell["utskrivningskvartal"]
    if not quarter:
        return None
    year, number = int(quarter[:4]), int(quarter[-1])
    following = date(year + number // 4, number % 4 * 3 + 1, 1)
    return following - timedelta(days=1)


def _independent_count(workdir, start: date, end: date) -> dict[tuple[str, str], int]:
    with sqlite3.connect(workdir / "warehouse.db") as connection:
        spells = _records(pd.read_sql("select * from spell", connection))
        consents = _records(pd.read_sql("select pseudonym, insats, samtycke_fran, giltigt_till, "
                                        "aterkallat from consent where sus", connection))
        individual = {row[0] for row in connection.execute(
            "select insats from budget_insats where inriktning = 'Individinriktad' "
            f"and year between {start.year} and {end.year}")}
    in_force = defaultdict(list)
    for consent in consents:
        last = [date.fromisoformat(consent["giltigt_till"][:10])] if consent["giltigt_till"] else []
        if consent["aterkallat"]:
            last.append(date.fromisoformat(consent["aterkallat"][:10]) - timedelta(days=1))
        in_force[consent["pseudonym"], consent["insats"]].append(
            (date.fromisoformat(consent["samtycke_fran"][:10]), min(last) if last else date.max))
    seen: dict[tuple[str, str], set] = defaultdict(set)
    for spell in spells:
        if spell["avslutsanledning"] == "FEL" or spell["insats"] not in individual:
            continue
        begins = date.fromisoformat(spell["inskrivningsdatum"][:10])
        ends = _last_day(spell)
        if begins > end or (ends is not None and ends < start):
            continue
        who = spell["pseudonym"] or spell["deidentified_person"]
        consented = spell["pseudonym"] is not None and any(
            first <= begins <= last for first, last in in_force[spell["pseudonym"], spell["insats"]])
        anonymous = (bool(spell["anonym"]) or bool(spell["skyddad_identitet"]) or who is None
                     or (spell["pseudonym"] is not None and not consented))
        last_year = min(ends or end, end).year
        keys = ({(spell["id"], year) for year in range(max(begins.year, start.year), last_year + 1)}
                if anonymous else {who})
        seen[spell["insats"], spell["kon"]] |= keys
    return {key: len(value) for key, value in seen.items()}


def test_demo_writes_uppfoljning_finsam_and_its_counts_hold(demo):
    # the demo's whole range (its last quarter is run again after a sign-off, and the quarters
    # after its data once more, each with its own folder)
    folders = sorted((demo / "out" / "uppfoljning").iterdir())
    folder = folders[0]
    assert folder.name.startswith("2022Q1_")
    assert {path.name for path in folder.iterdir()} >= {"deltagare.csv", "ekonomi.csv",
                                                         "uppfoljning_finsam.xlsx"}
    first, last = folder.name.split("_")
    start = pd.Period(first, freq="Q").start_time.date()
    end = pd.Period(last, freq="Q").end_time.date()
    written = pd.read_csv(folder / "deltagare.csv", sep=";")
    labels = {"Kvinna": "K", "Man": "M"}
    got = {(row.Insats, labels[row.Kön]): int(row.Antal) for row in written.itertuples()
           if row.Antal}
    expected = _independent_count(demo, start, end)
    assert got == expected
    assert sum(got.values()) > 50
    economy = pd.read_csv(folder / "ekonomi.csv", sep=";")
    assert {"Insats", "Administration", "Medel från medlem",
            "Eget kapital vid årets början"} <= set(economy["Post"])


def test_demo_worklist_for_the_deltagaransvarig(demo):
    pages = sorted((demo / "out" / "begransad" / "arbetslista").glob("*/arbetslista.html"))
    assert pages and pages[0].parent.name.startswith("2022Q1_")
    page = pages[0].read_text(encoding="utf-8")
    for heading in ("Nya inregistreringar", "Registreringar att rätta", "Att registrera ut",
                    "Anonyma deltagare att registrera för nytt år",
                    "Återkallade samtycken att hantera för hand"):
        assert heading in page
    assert oct(pages[0].stat().st_mode & 0o777) == "0o600"
