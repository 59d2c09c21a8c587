"""Delårsrapport and årsredovisning: the förbund's economy for a period that has ended.

A delårsrapport covers 1 January to the end of an ended tertial (30 April, 31 August) or half-year
(30 June), as the förbund chooses; the årsredovisning covers the year. Each holds, with the same
period of the previous year beside it:

- resultaträkning: the members' income, other income booked on insatser, costs per kostnadsslag
  (negative, as in a resultaträkning), and the period's result = income + costs;
- eget kapital: the opening balance (the Finansiering sheet's Eget kapital), the result, the
  closing balance; capital brought forward is never income;
- each member's share of the financing, and the shares per kind of member (the state through
  Försäkringskassan, the region, the kommuner) as the budget workbook states them;
- per insats: costs, income booked on it, net cost, budget; participants (unique persons, never a
  Felregistrering) against the yearly target, cost per participant; the structural insatser by
  cost.

The members' contributions are decided per year: a part-year shows the share of the months elapsed
(periodiserade), so that income and costs cover the same months. Contributions booked on ADM are
shown for reconciliation. Pure functions over the follow-up's frames (:mod:`followup`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from assets.budget.followup import (
    ADM,
    AR,
    FORBUNDET,
    HALVAR,
    KVARTAL,
    OUTSIDE_CATALOGUE,
    PROGNOS_HELAR,
    STRUCTURAL,
    TERTIAL,
    TOTAL,
    FollowUp,
    Period,
    booked,
    cost_rows,
    has_data,
    kronor,
    money,
    participants,
    period_followup,
    unique_participants,
)

DELARSRAPPORT = "delårsrapport"
ARSREDOVISNING = "årsredovisning"
DELARSPERIODER = (TERTIAL, HALVAR)

SUMMA_INTAKTER = "Summa intäkter"
SUMMA_KOSTNADER = "Summa kostnader"
OVRIGA_INTAKTER = "Övriga intäkter (bokförda på insatser)"
EK_IB = "Eget kapital vid årets början"
SUMMA_MEDLEMSBIDRAG = "Summa medlemsbidrag"
SUMMA = "Summa"
AVVIKELSE = "Avvikelse mot budget"
INRIKTNING = "Inriktning"
STATE, REGION, KOMMUNER, OTHER = ("Staten (Försäkringskassan)", "Regionen", "Kommunerna",
                                  "Övriga finansiärer")
_KINDS = (STATE, REGION, KOMMUNER, OTHER)
_ADMINISTRATION = "Administration"


@dataclass(frozen=True)
class Columns:
    """The column labels of a statement: this period, its budget, the same period last year, and
    for a part-year the budget and forecast of the whole year."""

    period: Period

    @property
    def outcome(self) -> str:
        return f"Utfall {self.period.span}"

    @property
    def budget(self) -> str:
        return f"Budget {self.period.span}"

    @property
    def previous(self) -> str:
        return f"Utfall {self.period.previous_year().span}"

    @property
    def year_budget(self) -> str:
        return f"Budget helår {self.period.year}"

    @property
    def forecast(self) -> str:
        return f"Prognos helår {self.period.year}"

    @property
    def whole_year(self) -> bool:
        return self.period.months_to_date == 12

    def statement(self) -> list[str]:
        """The resultaträkning's and eget kapital's columns."""
        columns = [self.outcome, self.budget, AVVIKELSE, self.previous]
        return columns if self.whole_year else [*columns, self.year_budget, self.forecast]


@dataclass(frozen=True)
class Statement:
    kind: str                    # DELARSRAPPORT or ARSREDOVISNING
    period: Period
    intakter: pd.DataFrame
    kostnader: pd.DataFrame
    resultat: pd.DataFrame
    eget_kapital: pd.DataFrame
    finansiering: pd.DataFrame   # per member
    huvudman: pd.DataFrame       # per kind of member
    insatser: pd.DataFrame
    deltagare: pd.DataFrame      # individinriktade insatser
    strukturella: pd.DataFrame   # strukturövergripande insatser by cost (may have no rows)
    unique_participants: int
    booked_contributions: float  # members' contributions booked on ADM in the period
    notes: dict[str, tuple[str, ...]]
    current: FollowUp
    previous: FollowUp | None

    @property
    def columns(self) -> Columns:
        return Columns(self.period)

    @property
    def result_label(self) -> str:
        return result_label(self.period)


def result_label(period: Period) -> str:
    return "Årets resultat" if period.months_to_date == 12 else "Periodens resultat"


def closing_label(period: Period) -> str:
    return ("Eget kapital vid årets slut" if period.months_to_date == 12
            else "Eget kapital vid periodens slut")


def delarsperioder(unit: str, year: int, quarter: int) -> list[Period]:
    """The part-years of ``unit`` (tertial or halvår) that end within quarter ``quarter``: T1 (30
    April) in Q2, T2 (31 August) in Q3, H1 (30 June) in Q2. The last, which ends with the year, is
    the årsredovisning's."""
    if unit not in DELARSPERIODER:
        raise ValueError(f"okänd delårsperiod {unit!r}: {' eller '.join(DELARSPERIODER)}")
    quarterly = Period(year, KVARTAL, quarter)
    found = []
    for number in range(1, Period(year, unit).count):
        period = Period(year, unit, number)
        if quarterly.start <= period.end < quarterly.next_start:
            found.append(period)
    return found


def annual_period(year: int) -> Period:
    return Period(year, AR)


def statement(period: Period, *, as_of: dt.date | None = None,
              **inputs) -> Statement | None:
    """The delårsrapport (a part-year) or årsredovisning (the year) of ``period``; None when the
    period has not ended by ``as_of`` or its year has neither budget nor bookings. ``inputs``:
    the follow-up's frames (:data:`followup.INPUT_COLUMNS`) of every year, and
    ``held_budget_rows`` of the period's year."""
    if not period.ended(as_of) or not has_data(period.year, period.next_start, **inputs):
        return None
    current = period_followup(period, **inputs)
    previous_period = period.previous_year()
    previous = None
    if has_data(previous_period.year, previous_period.next_start, **inputs):
        nothing_held = inputs["held_budget_rows"].iloc[:0]
        previous = period_followup(previous_period,
                                   **{**inputs, "held_budget_rows": nothing_held})
    columns = Columns(period)
    intakter = _income(current, previous, columns)
    kostnader = _costs(current, previous, columns)
    resultat = _result(intakter, kostnader, period)
    insatser = _insatser(current, columns)
    individual = [code for code in current.budget.insatser
                  if current.budget.inriktning.get(code) != STRUCTURAL]
    unique = unique_participants(inputs["spells"], period, individual)
    kind = ARSREDOVISNING if columns.whole_year else DELARSRAPPORT
    equity = _equity(current, previous, resultat, columns)
    notes = _notes(current, previous, period, inputs, unique, equity)
    # Last year's figures per insats straight from the spells and the ledger: an insats need not
    # have been in last year's catalogue.
    last_year = None
    if previous is not None:
        costs = cost_rows(booked(inputs["ledger"], previous_period.year_start,
                                 previous_period.next_start))
        last_year = _LastYear(participants=participants(inputs["spells"], previous_period),
                              costs=money(costs["belopp"]).groupby(costs["projekt"]).sum())
    return Statement(
        kind=kind, period=period, intakter=intakter, kostnader=kostnader, resultat=resultat,
        eget_kapital=equity,
        finansiering=_financing(current, previous, by_kind=False),
        huvudman=_financing(current, previous, by_kind=True),
        insatser=insatser, deltagare=_participants(current, last_year, columns, individual),
        strukturella=_structural(current, last_year, columns),
        unique_participants=unique,
        booked_contributions=float(current.income.get(ADM, 0.0)),
        notes=notes, current=current, previous=previous)


# --- resultaträkning --------------------------------------------------------------------------

def _share(period: Period) -> float:
    """The part of the year's contributions that belongs to 1 January .. the period's end."""
    return period.months_to_date / 12


def _income(current: FollowUp, previous: FollowUp | None, columns: Columns) -> pd.DataFrame:
    """Each member's contribution (periodised), other income booked on insatser, Summa."""
    period = current.period
    share = _share(period)
    members = current.budget.members.groupby("finansiar", sort=False)["belopp"].sum()
    before = (previous.budget.members.groupby("finansiar", sort=False)["belopp"].sum()
              if previous is not None else pd.Series(dtype=float))
    names = list(dict.fromkeys([*members.index, *before.index]))
    rows = {}
    for name in names:
        amount = members.get(name, np.nan)
        rows[f"Medlemsbidrag {name}"] = {
            columns.outcome: amount * share, columns.budget: amount * share,
            columns.previous: before.get(name, np.nan) * share if previous is not None else np.nan,
            columns.year_budget: amount, columns.forecast: amount}
    other = _other_income(current)
    rows[OVRIGA_INTAKTER] = {
        columns.outcome: other, columns.budget: 0.0,
        columns.previous: _other_income(previous) if previous is not None else np.nan,
        columns.year_budget: 0.0, columns.forecast: other}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame[AVVIKELSE] = frame[columns.outcome] - frame[columns.budget]
    return _total(frame[columns.statement()], SUMMA_INTAKTER, "Intäkter")


def _other_income(followup: FollowUp) -> float:
    return float(followup.income.drop(ADM, errors="ignore").sum())


def _costs(current: FollowUp, previous: FollowUp | None, columns: Columns) -> pd.DataFrame:
    """Costs per kostnadsslag and the Årsbudget not broken down by kostnadsslag, negative."""
    table = current.tables[FORBUNDET].drop(index=TOTAL)
    frame = pd.DataFrame({
        columns.outcome: -table["Utfall ackumulerat"],
        columns.budget: -table["Budget ackumulerat"],
        columns.previous: (-previous.tables[FORBUNDET].drop(index=TOTAL)["Utfall ackumulerat"]
                           if previous is not None else np.nan),
        columns.year_budget: -table["Årsbudget"],
        columns.forecast: -table[PROGNOS_HELAR],
    })
    frame[AVVIKELSE] = frame[columns.outcome] - frame[columns.budget]
    return _total(frame[columns.statement()] + 0.0, SUMMA_KOSTNADER, "Kostnader")


def _result(intakter: pd.DataFrame, kostnader: pd.DataFrame, period: Period) -> pd.DataFrame:
    frame = pd.DataFrame([intakter.loc[SUMMA_INTAKTER], kostnader.loc[SUMMA_KOSTNADER]])
    return _total(frame, result_label(period), "Resultat")


def _equity(current: FollowUp, previous: FollowUp | None, resultat: pd.DataFrame,
            columns: Columns) -> pd.DataFrame:
    label = result_label(current.period)
    opening = current.budget.opening_equity
    opening_row = {name: opening for name in columns.statement()}
    opening_row[columns.previous] = (previous.budget.opening_equity if previous is not None
                                     and previous.budget.has_financing else np.nan)
    opening_row[AVVIKELSE] = 0.0
    frame = pd.DataFrame([pd.Series(opening_row, name=EK_IB)[columns.statement()],
                          resultat.loc[label].rename(label)])
    return _total(frame, closing_label(current.period), "Eget kapital")


# --- financing --------------------------------------------------------------------------------

def member_kind(name: str) -> str:
    """The kind of member a Finansiär is, by its name: the state (Försäkringskassan), a region (on
    Gotland the region is also the kommun), the kommuner, or another financier."""
    text = name.casefold()
    if "försäkringskassan" in text or "staten" in text:
        return STATE
    if "kommun" in text:
        return KOMMUNER
    if text.startswith("region") or "landsting" in text:
        return REGION
    return OTHER


def _financing(current: FollowUp, previous: FollowUp | None, *, by_kind: bool) -> pd.DataFrame:
    """The members' contributions of the year and the last, and each one's share."""
    year = current.period.year
    sums = []
    for followup in (current, previous):
        members = (followup.budget.members if followup is not None
                   else pd.DataFrame({"finansiar": [], "belopp": []}))
        key = members["finansiar"].map(member_kind) if by_kind else members["finansiar"]
        sums.append(members["belopp"].groupby(key, sort=False).sum())
    now, before = sums
    names = list(dict.fromkeys([*now.index, *before.index]))
    if by_kind:
        names = [kind for kind in _KINDS if kind in names]
    frame = pd.DataFrame({f"Medlemsbidrag {year}": now.reindex(names),
                          f"Medlemsbidrag {year - 1}": before.reindex(names)}, dtype=float)
    if previous is None:
        frame[f"Medlemsbidrag {year - 1}"] = np.nan
    total = _total(frame, SUMMA_MEDLEMSBIDRAG, "Huvudman" if by_kind else "Finansiär")
    for column, share in ((f"Medlemsbidrag {year}", f"Andel {year} %"),
                          (f"Medlemsbidrag {year - 1}", f"Andel {year - 1} %")):
        whole = total.at[SUMMA_MEDLEMSBIDRAG, column]
        total[share] = total[column] / whole if whole and not np.isnan(whole) else np.nan
    return total[[f"Medlemsbidrag {year}", f"Andel {year} %", f"Medlemsbidrag {year - 1}",
                  f"Andel {year - 1} %"]]


# --- insatser ---------------------------------------------------------------------------------

def _insatser(current: FollowUp, columns: Columns) -> pd.DataFrame:
    """Per insats and ADM: costs, income booked on it, net cost, budget, Årsbudget, forecast and
    the share used; costs on a Projekt outside the catalogue on a row of their own."""
    budget = current.budget
    per_insats = current.sheets[FORBUNDET].per_insats
    income = current.income.drop(ADM, errors="ignore")
    codes = [*budget.insatser, ADM]
    labels = list(per_insats.index)
    income_of = {label: float(income.get(code, 0.0)) for code, label in zip(codes, labels)}
    income_of[OUTSIDE_CATALOGUE] = float(income.drop(codes, errors="ignore").sum())
    kinds = {label: (_ADMINISTRATION if code == ADM else budget.inriktning.get(code))
             for code, label in zip(codes, labels)}
    kinds[OUTSIDE_CATALOGUE] = None
    rows = per_insats.drop(index=TOTAL)
    income_column = pd.Series([income_of.get(label, 0.0) for label in rows.index],
                              index=rows.index, dtype=float)
    frame = pd.DataFrame({
        INRIKTNING: pd.Series([kinds.get(label) for label in rows.index], index=rows.index,
                              dtype=object),
        f"Kostnader {columns.period.span}": rows["Utfall ackumulerat"],
        f"Intäkter {columns.period.span}": income_column,
        f"Nettokostnad {columns.period.span}": rows["Utfall ackumulerat"] - income_column,
        f"Budget {columns.period.span}": rows["Budget ackumulerat"],
        "Årsbudget": rows["Årsbudget"],
        columns.forecast: rows[PROGNOS_HELAR],
    }, index=rows.index)
    if columns.whole_year:
        frame = frame.drop(columns=columns.forecast)
    numbers = frame.drop(columns=INRIKTNING)
    total = numbers.sum().to_frame(SUMMA).T
    total.insert(0, INRIKTNING, None)
    out = pd.concat([frame, total])
    spent = out[f"Kostnader {columns.period.span}"]
    out["Förbrukat %"] = spent / out["Årsbudget"].where(out["Årsbudget"] > 0)
    out.index.name = "Insats"
    return out


@dataclass(frozen=True)
class _LastYear:
    """The same period last year, per insats: participants and costs."""

    participants: pd.Series
    costs: pd.Series


def _participants(current: FollowUp, last_year: _LastYear | None, columns: Columns,
                  individual: list[str]) -> pd.DataFrame:
    """Per individinriktad insats: participants against the yearly target, cost per participant,
    and the participants of the same period last year."""
    span, before = columns.period.span, columns.period.previous_year().span
    rows = {}
    for code in individual:
        sheet = current.sheets[code]
        rows[f"{code} – {sheet.name}"] = {
            f"Deltagare {span}": float(sheet.participants or 0),
            "Mål deltagare per år": np.nan if sheet.target is None else float(sheet.target),
            f"Deltagare {before}": (np.nan if last_year is None
                                    else float(last_year.participants.get(code, 0))),
            f"Kostnader {span}": float(sheet.table.at[TOTAL, "Utfall ackumulerat"]),
        }
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=[
        f"Deltagare {span}", "Mål deltagare per år", f"Deltagare {before}", f"Kostnader {span}"])
    frame = _total(frame.astype(float), SUMMA, "Insats")
    count = frame[f"Deltagare {span}"]
    target = frame["Mål deltagare per år"]
    frame["Andel av årsmålet %"] = count / target.where(target > 0)
    frame["Kostnad per deltagare"] = frame[f"Kostnader {span}"] / count.where(count > 0)
    return frame[[f"Deltagare {span}", "Mål deltagare per år", "Andel av årsmålet %",
                  f"Deltagare {before}", f"Kostnader {span}", "Kostnad per deltagare"]]


def _structural(current: FollowUp, last_year: _LastYear | None, columns: Columns) -> pd.DataFrame:
    """The strukturövergripande insatser (ADM is the administration, not one of them), by cost,
    the largest first."""
    span, before = columns.period.span, columns.period.previous_year().span
    codes = [code for code in current.budget.insatser
             if current.budget.inriktning.get(code) == STRUCTURAL]
    rows = {}
    for code in codes:
        table = current.sheets[code].table
        rows[f"{code} – {current.sheets[code].name}"] = {
            f"Kostnader {span}": float(table.at[TOTAL, "Utfall ackumulerat"]),
            f"Budget {span}": float(table.at[TOTAL, "Budget ackumulerat"]),
            "Årsbudget": float(table.at[TOTAL, "Årsbudget"]),
            f"Kostnader {before}": (np.nan if last_year is None
                                    else float(last_year.costs.get(code, 0.0))),
        }
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=[
        f"Kostnader {span}", f"Budget {span}", "Årsbudget", f"Kostnader {before}"]).astype(float)
    frame = frame.sort_values(f"Kostnader {span}", ascending=False, kind="stable")
    frame = _total(frame, SUMMA, "Insats")
    frame["Förbrukat %"] = frame[f"Kostnader {span}"] / frame["Årsbudget"].where(
        frame["Årsbudget"] > 0)
    return frame


# --- notes ------------------------------------------------------------------------------------

def _notes(current: FollowUp, previous: FollowUp | None, period: Period, inputs: dict,
           unique: int, equity: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    budget = current.budget
    forbundet = current.sheets[FORBUNDET].notes
    result: list[str] = []
    if period.months_to_date < 12:
        result.append(f"Medlemsbidragen är periodiserade: {period.months_to_date}/12 av årets "
                      "bidrag enligt fliken Finansiering, så att intäkter och kostnader avser "
                      "samma månader.")
    booked = float(current.income.get(ADM, 0.0))
    result.append(f"Medlemsbidrag bokförda på ADM {period.year_start:%Y-%m-%d} – "
                  f"{period.end:%Y-%m-%d}: {kronor(booked)} kr (för avstämning; de räknas inte "
                  "en gång till).")
    result.append("Eget kapital från tidigare år är ingen intäkt: det visas som ingående eget "
                  "kapital, och årets resultat läggs till det.")
    if not budget.has_financing:
        result.append(f"Fliken Finansiering för {period.year} saknas i lagret: medlemsbidrag och "
                      "eget kapital är 0.")
    if previous is None:
        result.append(f"Lagret har inga uppgifter om {period.year - 1}: jämförelsekolumnen är tom.")
    elif not previous.budget.has_financing:
        result.append(f"Fliken Finansiering för {period.year - 1} saknas i lagret: föregående "
                      "års medlemsbidrag och eget kapital visas inte.")
    elif period.months_to_date == 12 and budget.has_financing:
        # last year's closing balance, as computed, should be this year's opening balance
        closing = float(equity.iloc[-1][Columns(period).previous])
        if abs(closing - budget.opening_equity) >= 1:
            result.append(f"Eget kapital vid årets början {period.year} enligt fliken "
                          f"Finansiering ({kronor(budget.opening_equity)} kr) skiljer sig från "
                          f"{period.year - 1} års beräknade utgående eget kapital "
                          f"({kronor(closing)} kr).")
    # the follow-up's notes about held, spread and unallocated rows and rows left out
    result += [note for note in forbundet
               if not note.startswith(("Årets resultat =", "Medlemsbidragen bokförs"))
               and "konton utanför uppföljningen" not in note]
    insatser = ["Deltagare = unika personer med ett deltagande någon dag från årets början till "
                "periodens slut; en felregistrering (FEL) räknas inte. Målet gäller helår.",
                f"Unika personer i alla individinriktade insatser tillsammans: {unique} (i "
                "summaraden räknas en person en gång i varje insats där hen deltagit).",
                "Intäkter = intäkter bokförda på insatsen (konto 3000-3999); medlemsbidragen på "
                "ADM redovisas i resultaträkningen."]
    structural = [code for code in budget.insatser if budget.inriktning.get(code) == STRUCTURAL]
    if not structural:
        insatser.append(f"Förbundet har inga strukturövergripande insatser {period.year}.")
    financing = []
    state = _state_share(budget.members)
    if state is not None and abs(state - 0.5) > 0.005:
        financing.append(f"Statens andel genom Försäkringskassan är {state * 100:.1f} % "
                         "enligt fliken Finansiering; lagen (2003:1210) om finansiell samordning "
                         "anger hälften.".replace(".", ",", 1))
    financing.append("Andelarna är medlemmarnas bidrag enligt fliken Finansiering, utan eget "
                     "kapital.")
    return {"resultat": tuple(result), "insatser": tuple(insatser),
            "finansiering": tuple(financing)}


def _state_share(members: pd.DataFrame) -> float | None:
    total = float(members["belopp"].sum())
    if not total:
        return None
    state = members.loc[members["finansiar"].map(member_kind) == STATE, "belopp"].sum()
    return float(state) / total


def _total(frame: pd.DataFrame, label: str, name: str) -> pd.DataFrame:
    """``frame`` with a last row ``label``, the sum of its rows; a column with nothing in it
    stays empty."""
    total = frame.sum(min_count=1).to_frame(label).T
    out = pd.concat([frame, total])
    out.index.name = name
    return out
