"""What the förbund keys in to Uppföljning Finsam for a period: pure functions over warehouse frames.

Uppföljning Finsam (Nationella rådet, successor of SUS for Finsam since 2023) collects no
personnummer: the deltagaransvarig registers the number of participants in each individinriktad
insats per kön; the förbundsadministratör registers the money (medel per member, eget kapital,
budget and outcome for the administration and each insats), the budgeted number of participants and
each insats's inriktning. Nothing here reads an identity; who is anonymous comes from the one
definition in :mod:`finsam.participation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from assets.budget import followup
from assets.budget.followup import ADM, KVARTAL, TOTAL, Period
from finsam import participation, reference
from sources.budget.rules import INDIVIDUAL

UNKNOWN_KON = "Uppgift saknas"
DELTAGARE_COLUMNS = ("Insats", "Kön", "Antal")
EKONOMI_COLUMNS = ("Post", "Kod", "Namn", "Inriktning", "Budget", "Utfall",
                   "Budgeterat antal deltagare", "Belopp")
POST_INSATS = "Insats"
POST_ADM = "Administration"
POST_MEDEL = "Medel från medlem"
POST_EK = "Eget kapital vid årets början"

COUNTING_RULES = (
    ("Deltagare: personer som deltagit i en individinriktad insats någon dag under perioden. En "
    "person räknas en gång per insats, hur många inskrivningar hen än haft."),
    ("Anonyma deltagare (Anonym = Ja, skyddade personuppgifter eller inget SUS-samtycke på "
    "inskrivningsdagen) kan inte kopplas ihop och räknas en gång för varje kalenderår de deltar "
    "i under perioden."),
    "En inskrivning som avslutats med Felregistrering räknas inte.",
    ("Ekonomi: budget = insatsens årsbudget, utfall = bokfört från 1 januari till periodens sista "
    "dag. Budgeterat antal deltagare = budgetens Mål deltagare per år."),
    ("Medel från medlemmarna och eget kapital vid årets början kommer från budgetens flik "
    "Finansiering för periodens sista år."),
)


def _kon_labels() -> dict[str, str]:
    return reference.labels("kon")


def individual_insatser(catalogue: pd.DataFrame, start: date, end: date) -> list[str]:
    """The individinriktade insatser of the catalogue years the period touches (ADM never)."""
    years = catalogue.loc[catalogue["year"].between(start.year, end.year)]
    chosen = years.loc[(years["inriktning"] == INDIVIDUAL) & (years["insats"] != ADM), "insats"]
    return sorted(chosen.astype(str).unique())


def deltagare(spells: pd.DataFrame, consents: pd.DataFrame, catalogue: pd.DataFrame,
              start: date, end: date) -> pd.DataFrame:
    """``deltagare.csv``: Insats, Kön, Antal for each individinriktad insats (zeros included) and
    any other insats with participants in the period; a row for a missing kön only when used."""
    is_anonymous = participation.anonymous(spells, consents)
    counted = participation.participants(spells, is_anonymous, start, end)
    structural = set(catalogue.loc[catalogue["inriktning"] != INDIVIDUAL, "insats"]) - set(
        individual_insatser(catalogue, start, end))
    counted = counted.loc[~counted["insats"].isin(structural | {ADM})]
    insatser = sorted(set(individual_insatser(catalogue, start, end)) | set(counted["insats"]))
    labels = _kon_labels()
    grid = pd.MultiIndex.from_product([insatser, list(labels)], names=["insats", "kon"])
    known = counted.loc[counted["kon"].isin(labels)].set_index(["insats", "kon"])["antal"]
    table = known.reindex(grid, fill_value=0).reset_index()
    table["kon"] = table["kon"].map(labels)
    missing = counted.loc[~counted["kon"].isin(labels)]
    if not missing.empty:
        extra = missing.groupby("insats")["antal"].sum().reset_index().assign(kon=UNKNOWN_KON)
        table = pd.concat([table, extra], ignore_index=True)
    order = {label: place for place, label in enumerate([*labels.values(), UNKNOWN_KON])}
    table = table.sort_values(["insats", "kon"], key=lambda column: column.map(order)
                              if column.name == "kon" else column, kind="stable")
    return pd.DataFrame({"Insats": table["insats"].to_numpy(), "Kön": table["kon"].to_numpy(),
                         "Antal": table["antal"].astype(int).to_numpy()})


@dataclass(frozen=True)
class Ekonomi:
    """The förbundsadministratör's part: one row per insats and ADM, then the förbund's money."""

    year: int
    insatser: pd.DataFrame          # Kod, Namn, Inriktning, Budget, Utfall, Budgeterat antal
    members: pd.DataFrame           # Medlem, Belopp
    opening_equity: float

    def rows(self) -> pd.DataFrame:
        """``ekonomi.csv``: every row with the columns of :data:`EKONOMI_COLUMNS`."""
        insatser = self.insatser.assign(
            Post=[POST_ADM if code == ADM else POST_INSATS for code in self.insatser["Kod"]],
            Belopp=pd.NA)
        members = pd.DataFrame({"Post": POST_MEDEL, "Kod": pd.NA, "Namn": self.members["Medlem"],
                                "Belopp": self.members["Belopp"]})
        equity = pd.DataFrame({"Post": [POST_EK], "Kod": [pd.NA], "Namn": ["Förbundet"],
                               "Belopp": [self.opening_equity]})
        frame = pd.concat([insatser, members, equity], ignore_index=True)
        return frame.reindex(columns=list(EKONOMI_COLUMNS))


def ekonomi(end: date, **data) -> Ekonomi | None:
    """Budget and outcome year to date at ``end`` for each insats and ADM, from the tables the
    board's follow-up reads (``data``: :func:`assets.budget.assets.inputs`); None without a budget
    and without bookings for the year."""
    period = Period(end.year, KVARTAL, (end.month - 1) // 3 + 1)
    if not followup.has_data(end.year, period.next_start, **data):
        return None
    result = followup.period_followup(period, **data)
    budget = result.budget
    assert budget is not None
    rows = []
    for code, sheet in result.sheets.items():
        if code == followup.FORBUNDET:
            continue
        total = sheet.table.loc[TOTAL]
        rows.append({"Kod": code, "Namn": sheet.name,
                     "Inriktning": budget.inriktning.get(code) if code != ADM else pd.NA,
                     "Budget": round(float(total["Årsbudget"]), 2),
                     "Utfall": round(float(total["Utfall ackumulerat"]), 2),
                     "Budgeterat antal deltagare": budget.targets.get(code, pd.NA)
                     if code != ADM else pd.NA})
    # ADM last in the follow-up; the form asks for the administration first
    frame = pd.DataFrame(rows)
    frame = pd.concat([frame.loc[frame["Kod"] == ADM], frame.loc[frame["Kod"] != ADM]],
                      ignore_index=True)
    members = budget.members.rename(columns={"finansiar": "Medlem", "belopp": "Belopp"})
    return Ekonomi(year=end.year, insatser=frame,
                   members=members.assign(Belopp=members["Belopp"].round(2)),
                   opening_equity=round(budget.opening_equity, 2))
