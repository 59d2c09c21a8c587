"""Budget follow-up: budget against outcome per insats, ADM and the förbund, by quarter or tertial.

Pure functions over frames with the warehouse tables' columns (budget_line, budget_annual,
budget_insats, budget_financing, ledger_entry, spell, held_row); reading them is the caller's
business. Amounts are kronor as floats. ``Förbrukat %`` is a fraction (0.25 = 25 %), which is what
an Excel percent cell wants; the reports format it.

What the board must be able to trust (domain.md, "Money"):

- every figure is selected by its own date (booking date, enrolment and exit day), never by when a
  delivery was extracted, so a quarter built months later from a later ledger shows that ledger's
  outcome for the quarter;
- a budget is kept per quarter, and a quarter's budget falls on the months of the quarter in which
  the insats is active; a row with only a yearly amount is spread over the insats's active months;
- the year's result is the members' income (and other income booked on insatser) less the costs;
  eget kapital brought forward is shown beside it (opening balance, result, closing balance), never
  counted as income;
- every total is the sum of the rows above it: an insats's Årsbudget beyond its cost lines stands on
  the row ``Ej fördelat på kostnadsslag``, costs on a Projekt outside the catalogue on a row of
  their own;
- a tertial is followed up only once it has ended (30 April, 31 August, 31 December).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from finsam import reference
from sources.budget.rules import STRUCTURAL

ADM = "ADM"
FORBUNDET = "Förbundet"
TOTAL = "Totalt"
UNALLOCATED = "Ej fördelat på kostnadsslag"
OUTSIDE_CATALOGUE = "Projekt utanför årets insatskatalog"
KVARTAL = "kvartal"
TERTIAL = "tertial"
HALVAR = "halvår"
AR = "år"
QUARTERS = ("q1", "q2", "q3", "q4")
COST, INCOME, IGNORED = "cost", "income", "ignored"
FEL = "FEL"
EGET_KAPITAL = "Eget kapital"

# The förbund's result for the year and its eget kapital: two tables, each ending in its total.
BUDGET_HELAR = "Budget helår"
PROGNOS_HELAR = "Prognos helår"
MEDLEMSBIDRAG = "Medlemsbidrag (Finansiering utom eget kapital)"
OVRIGA_INTAKTER = "Övriga intäkter bokförda på insatser"
KOSTNADER = "Kostnader"
ARETS_RESULTAT = "Årets resultat"
EK_IB = "Eget kapital vid årets början"
EK_UB = "Eget kapital vid årets slut"
BOKFORDA_MEDLEMSBIDRAG = "Medlemsbidrag bokförda hittills i år (huvudboken, ADM)"
# An insats's costs less the income booked on it.
NET_COSTS = "Kostnader"
NET_INCOME = "Avgår: intäkter bokförda på insatsen"
NET_TOTAL = "Nettokostnad"

_MONTHS = {KVARTAL: 3, TERTIAL: 4, HALVAR: 6, AR: 12}
_CODE_LETTER = {KVARTAL: "Q", TERTIAL: "T", HALVAR: "H"}
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec")
_ADM_NAME = "Förbundets administration"
_FORBUNDET_NAME = "Förbundet totalt"
# The columns the follow-up reads of each input frame; a caller need not read any other.
INPUT_COLUMNS = {
    "lines": ("year", "insats", "kostnadsslag", *QUARTERS, "ackumulering", "arsbudget", "spread"),
    "annual": ("year", "insats", "arsbudget"),
    "catalogue": ("year", "insats", "namn", "startdatum", "slutdatum", "inriktning",
                  "mal_deltagare"),
    "financing": ("year", "finansiar", "belopp"),
    "ledger": ("bokforingsdatum", "projekt", "belopp", "kostnadsslag", "account_class"),
    "spells": ("insats", "pseudonym", "deidentified_person", "inskrivningsdatum",
               "utskrivningsdatum", "avslutsanledning"),
    "held_ledger_rows": ("record_date", "match_key"),
}
# The quantities every table column is derived from, summed per insats and kostnadsslag.
_FIGURES = ("budget_period", "outcome_period", "budget_acc", "outcome_acc", "budget_rest", "arsbudget")


@dataclass(frozen=True)
class Period:
    """Quarter, tertial, half-year or the whole year ``number`` of ``year``; accumulated figures run
    from 1 January."""

    year: int
    unit: str
    number: int = 1

    def __post_init__(self) -> None:
        if self.unit not in _MONTHS:
            raise ValueError(f"okänd periodtyp {self.unit!r}; {', '.join(_MONTHS)}")
        if not 1 <= self.number <= self.count:
            raise ValueError(f"{self.unit} {self.number} finns inte: 1-{self.count}")

    @property
    def months(self) -> int:
        return _MONTHS[self.unit]

    @property
    def count(self) -> int:
        return 12 // self.months

    @property
    def year_start(self) -> pd.Timestamp:
        return pd.Timestamp(self.year, 1, 1)

    @property
    def start(self) -> pd.Timestamp:
        return pd.Timestamp(self.year, (self.number - 1) * self.months + 1, 1)

    @property
    def next_start(self) -> pd.Timestamp:
        """The first day after the period: bookings are compared against it, so a cost booked on
        the period's last day (at any time of day) belongs to the period."""
        months = self.number * self.months      # from 1 January to the period's end
        return pd.Timestamp(self.year + months // 12, months % 12 + 1, 1)

    @property
    def end(self) -> pd.Timestamp:
        return self.next_start - pd.Timedelta(days=1)

    @property
    def label(self) -> str:
        return f"år {self.year}" if self.unit == AR else f"{self.unit} {self.number} {self.year}"

    @property
    def code(self) -> str:
        """The output folder's name: ``2024Q2``, ``2024T1``, ``2024H1`` or ``2024``."""
        return str(self.year) if self.unit == AR else f"{self.year}{_CODE_LETTER[self.unit]}{self.number}"

    @property
    def months_to_date(self) -> int:
        """Months from 1 January to the period's end."""
        return self.number * self.months

    @property
    def span(self) -> str:
        """The months from 1 January to the period's end, as a board reads them: ``jan–apr 2024``."""
        if self.months_to_date == 12:
            return f"helår {self.year}"
        return f"{_MONTH_NAMES[0]}–{_MONTH_NAMES[self.months_to_date - 1]} {self.year}"

    def previous_year(self) -> Period:
        return Period(self.year - 1, self.unit, self.number)

    def ended(self, as_of: dt.date | None) -> bool:
        """Whether the period has ended by ``as_of`` (None: judged by the data alone)."""
        return as_of is None or self.next_start.date() <= as_of

    @property
    def columns(self) -> tuple[str, ...]:
        return (f"Budget {self.unit}", f"Utfall {self.unit}", f"Avvikelse {self.unit}",
                "Budget ackumulerat", "Utfall ackumulerat", "Avvikelse ackumulerat",
                "Årsbudget", PROGNOS_HELAR, "Förbrukat %")

    def month_weights(self) -> np.ndarray:
        """(12, count): 1 where a month of the year falls in a period of the year."""
        month = np.arange(12)
        return (month[:, None] // self.months == np.arange(self.count)).astype(float)

    def quarter_weights(self) -> np.ndarray:
        """(4, count): the share of each quarter's budget that falls in each period of the year
        when the quarter's budget is spread evenly over its three months."""
        month = np.arange(12)
        quarter_months = (month // 3 == np.arange(4)[:, None]).astype(float) / 3
        return quarter_months @ self.month_weights()


def latest_ended_tertial(quarter: Period, as_of: dt.date | None = None) -> Period | None:
    """The last tertial that has ended by the quarter's end (and by ``as_of``): none after Q1, T1
    (per 30 April) after Q2, T2 (per 31 August) after Q3, T3 (the year) after Q4."""
    last = quarter.months_to_date // _MONTHS[TERTIAL]
    for number in range(last, 0, -1):
        tertial = Period(quarter.year, TERTIAL, number)
        if tertial.ended(as_of):
            return tertial
    return None


@dataclass(frozen=True)
class Sheet:
    """One insats, ADM or the förbund: the table, its notes and the extra figures below it."""

    code: str
    name: str
    table: pd.DataFrame
    notes: tuple[str, ...] = ()
    inriktning: str | None = None
    participants: int | None = None          # individinriktade insatser only
    target: float | None = None              # Mål deltagare per år
    cost_per_participant: float | None = None
    net: pd.DataFrame | None = None          # insatser with income booked on them
    result: pd.DataFrame | None = None       # the förbund only: the year's result
    equity: pd.DataFrame | None = None       # the förbund only: eget kapital
    per_insats: pd.DataFrame | None = None   # the förbund only: each sheet's Totalt
    figures: dict[str, float] = field(default_factory=dict)   # the förbund only

    @property
    def target_share(self) -> float | None:
        if self.participants is None or not self.target:
            return None
        return self.participants / self.target


@dataclass(frozen=True)
class FollowUp:
    """The follow-up of one period: sheets per insats (catalogue order), then ADM, then Förbundet."""

    period: Period
    sheets: dict[str, Sheet]
    budget: BudgetYear | None = None
    income: pd.Series | None = None      # income booked per Projekt, 1 January to the period's end

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        return {code: sheet.table for code, sheet in self.sheets.items()}

    @property
    def result(self) -> pd.DataFrame:
        result = self.sheets[FORBUNDET].result
        assert result is not None
        return result

    @property
    def equity(self) -> pd.DataFrame:
        equity = self.sheets[FORBUNDET].equity
        assert equity is not None
        return equity


def has_data(year: int, until: pd.Timestamp, *, lines: pd.DataFrame, catalogue: pd.DataFrame,
             ledger: pd.DataFrame, **_: object) -> bool:
    """Whether the year has a budget, or any ledger row booked from 1 January to before ``until``:
    a period with neither gets no workbook rather than one of zeros."""
    if (lines["year"] == year).any() or (catalogue["year"] == year).any():
        return True
    return not booked(ledger, pd.Timestamp(year, 1, 1), until).empty


def quarterly_followup(year: int, quarter: int, **inputs) -> FollowUp:
    """The board's follow-up of quarter ``quarter`` of ``year``. ``inputs``: the frames of
    :data:`INPUT_COLUMNS` by name, and ``held_budget_rows`` (insats, kostnadsslag)."""
    return period_followup(Period(year, KVARTAL, quarter), **inputs)


def tertial_followup(year: int, tertial: int, **inputs) -> FollowUp:
    """The follow-up of tertial ``tertial`` (T1 Jan-Apr, T2 May-Aug, T3 Sep-Dec) of ``year``."""
    return period_followup(Period(year, TERTIAL, tertial), **inputs)


def period_followup(period: Period, *, lines: pd.DataFrame, annual: pd.DataFrame,
                    catalogue: pd.DataFrame, financing: pd.DataFrame, ledger: pd.DataFrame,
                    spells: pd.DataFrame, held_budget_rows: pd.DataFrame,
                    held_ledger_rows: pd.DataFrame) -> FollowUp:
    budget = budget_year(period.year, lines=lines, annual=annual, catalogue=catalogue,
                         financing=financing, held_budget_rows=held_budget_rows)
    return _followup(period, budget, _to_date(period, ledger, spells), held_ledger_rows)


def quarter_followups(year: int, quarter: int, *, as_of: dt.date | None = None,
                      **inputs) -> tuple[FollowUp, FollowUp | None]:
    """Quarter ``quarter``'s follow-up and that of the last tertial that has ended by the quarter's
    end (and by ``as_of``, today when the caller runs before a period's end), which the board gets
    with it; None after Q1. The budget year is prepared once for both, and so is the year to date
    when both end on 31 December."""
    quarterly = Period(year, KVARTAL, quarter)
    tertial = latest_ended_tertial(quarterly, as_of)
    budget = budget_year(year, **_budget_inputs(inputs))
    to_date = _to_date(quarterly, inputs["ledger"], inputs["spells"])
    held = inputs["held_ledger_rows"]
    result = _followup(quarterly, budget, to_date, held)
    if tertial is None:
        return result, None
    tertial_to_date = (to_date if tertial.next_start == quarterly.next_start
                       else _to_date(tertial, inputs["ledger"], inputs["spells"]))
    return result, _followup(tertial, budget, tertial_to_date, held)


def participants(spells: pd.DataFrame, period: Period) -> pd.Series:
    """Unique persons per insats with a spell active on some day from 1 January to the period's end.

    A person is the pseudonym, else the de-identified token that replaces it after a withdrawal (so
    the person still counts once); an anonymous spell has neither and is a person of its own. A
    spell registered in error (avslutsanledning FEL) is no participation and counts nowhere.
    """
    enrolled = _dates(spells["inskrivningsdatum"])
    left = _dates(spells["utskrivningsdatum"])
    active = ((enrolled < period.next_start) & (left.isna() | (left >= period.year_start)))
    if "avslutsanledning" in spells:
        active &= ~spells["avslutsanledning"].astype("string").str.upper().eq(FEL).fillna(False)
    active = active.to_numpy(dtype=bool)
    # Only the active spells need a person: most spells of all years are not.
    person = (spells["pseudonym"][active].astype("string")
              .fillna(spells["deidentified_person"][active].astype("string")))
    # By position, not by index label: a concatenated frame may repeat labels.
    anonymous = person.isna().to_numpy()
    person.iloc[anonymous] = "spell-" + pd.Index(np.flatnonzero(active)[anonymous]).astype(str)
    return person.groupby(spells["insats"][active]).nunique()


def unique_participants(spells: pd.DataFrame, period: Period, insatser: list[str]) -> int:
    """Unique persons over all of ``insatser`` together: one in two insatser counts once."""
    selected = spells.loc[spells["insats"].isin(insatser).to_numpy(dtype=bool)]
    counted = participants(selected.assign(insats="*"), period)
    return int(counted.get("*", 0))


def accumulated_history(year: int, quarter: int, *, lines: pd.DataFrame, ledger: pd.DataFrame,
                        catalogue: pd.DataFrame | None = None) -> pd.DataFrame:
    """Budget and outcome accumulated from 1 January to the end of each quarter 1..``quarter``.

    Long format for the board's chart: insats (ADM and ``Förbundet`` included), kvartal
    (``YYYYQn``), budget_ackumulerat, utfall_ackumulerat. With ``catalogue``, each budget line
    falls on its insats's active months, as in the tables.
    """
    period = Period(year, KVARTAL, quarter)
    lines = lines.loc[lines["year"] == year]
    active = None if catalogue is None else active_months(catalogue, year)
    both = _quarter_sums(lines, planned(lines, active), cost_rows(_year_to_date(ledger, period)))
    total = both.groupby(level="quarter").sum()
    found = both.index.get_level_values("insats").unique()
    codes = pd.Index([*found[found != FORBUNDET], FORBUNDET])
    quarters = range(1, quarter + 1)
    grid = pd.MultiIndex.from_product([codes[:-1], quarters], names=["insats", "quarter"])
    sums = np.concatenate([both.reindex(grid, fill_value=0.0).to_numpy(dtype=float),
                           total.reindex(quarters, fill_value=0.0).to_numpy(dtype=float)])
    insats = codes.repeat(len(quarters))
    accumulated = (pd.DataFrame(sums, columns=["budget", "utfall"])
                   .groupby(insats, sort=False).cumsum())
    return pd.DataFrame({
        "insats": insats,
        "kvartal": [f"{year}Q{number}" for number in quarters] * len(codes),
        "budget_ackumulerat": accumulated["budget"].to_numpy(),
        "utfall_ackumulerat": accumulated["utfall"].to_numpy(),
    })


def active_months(catalogue: pd.DataFrame, year: int) -> pd.DataFrame:
    """Per insats of ``year``'s catalogue (index), whether it is active in each month of the year
    (columns 1..12): from the month of its Startdatum to the month of its Slutdatum."""
    catalogue = catalogue.loc[catalogue["year"] == year]
    catalogue = catalogue.loc[~catalogue["insats"].duplicated()]
    first = pd.date_range(pd.Timestamp(year, 1, 1), periods=12, freq="MS")
    last = (first + pd.offsets.MonthEnd(0)).to_numpy()
    starts = _dates(catalogue["startdatum"]).to_numpy()[:, None]
    ends = _dates(catalogue["slutdatum"])
    open_ended = ends.isna().to_numpy()[:, None]
    active = (starts <= last) & (open_ended | (ends.to_numpy()[:, None] >= first.to_numpy()))
    return pd.DataFrame(active, index=pd.Index(catalogue["insats"], name="insats"),
                        columns=range(1, 13))


@dataclass(frozen=True)
class Planned:
    """Where each budget line's money falls in its year: ``quarters`` (lines, 4) the amount per
    quarter, ``weights`` (lines, 4, 3) the share of each quarter's amount per month of it.

    A quarter's budget falls evenly on the months of the quarter in which the insats is active (on
    all three when it is active in none: the coordinator planned the money for that quarter). A
    line with only a yearly amount (``spread``) falls evenly on the insats's active months of the
    year, so an insats that starts in mid-May has no budget in April. Kept per quarter, a budget
    whose quarters are whole stays exact in a quarterly follow-up (a third three times is 1).
    """

    quarters: np.ndarray
    weights: np.ndarray

    def by_period(self, period: Period) -> np.ndarray:
        """(lines, period.count): each line's budget in each period of the year."""
        count = len(self.quarters)
        months = period.month_weights().reshape(4, 3, period.count)
        shares = np.einsum("lqm,qmp->lqp", self.weights, months)
        return np.einsum("lq,lqp->lp", self.quarters, shares).reshape(count, period.count)


def planned(lines: pd.DataFrame, active: pd.DataFrame | None) -> Planned:
    """See :class:`Planned`; without ``active`` (or for an insats missing from it) every month
    counts as active."""
    quarters = _quarters(lines)
    count = len(lines)
    if active is None:
        by_line = np.ones((count, 12), dtype=bool)
    else:
        by_line = active.reindex(lines["insats"].to_numpy(), fill_value=True).to_numpy(
            dtype=bool).reshape(count, 12)
    in_quarter = by_line.reshape(count, 4, 3)
    months = in_quarter.sum(axis=2)
    weights = np.where(months[:, :, None] > 0, in_quarter / np.maximum(months, 1)[:, :, None],
                       1 / 3)
    active_count = months.sum(axis=1)
    spread = lines["spread"].fillna(False).to_numpy(dtype=bool) & (active_count > 0)
    if spread.any():
        yearly = money(lines["ackumulering"]).to_numpy(dtype=float)
        quarters = quarters.copy()
        quarters[spread] = (yearly[spread] / active_count[spread])[:, None] * months[spread]
    return Planned(quarters=quarters, weights=weights)


def _quarter_sums(lines: pd.DataFrame, plan: Planned, costs: pd.DataFrame) -> pd.DataFrame:
    """Budget and outcome per (insats, quarter) of one year's budget lines and cost rows."""
    budget = plan.by_period(Period(2000, KVARTAL, 1))
    rows = pd.DataFrame({
        "insats": pd.concat([*[lines["insats"]] * len(QUARTERS), costs["projekt"]],
                            ignore_index=True),
        "quarter": np.concatenate([np.repeat(np.arange(1, len(QUARTERS) + 1), len(lines)),
                                   _dates(costs["bokforingsdatum"]).dt.quarter.to_numpy()]),
        "budget": np.concatenate([budget.T.ravel(), np.zeros(len(costs))]),
        "utfall": np.concatenate([np.zeros(budget.size), money(costs["belopp"]).to_numpy()]),
    })
    return rows.groupby(["insats", "quarter"])[["budget", "utfall"]].sum()


@dataclass(frozen=True)
class BudgetYear:
    """What a follow-up or a report takes from one year's budget workbook, whatever its period."""

    year: int
    lines: pd.DataFrame
    plan: Planned                   # where each line's money falls in the year
    names: dict[str, str]
    insatser: list[str]             # catalogue order, ADM left out
    inriktning: dict[str, str]
    targets: dict[str, float]       # Mål deltagare per år, where given
    arsbudget: pd.Series            # per insats: its TOTALT row's Årsbudget, else its rows' sum
    members: pd.DataFrame           # finansiar, belopp: the members' income (Eget kapital left out)
    opening_equity: float           # the Finansiering sheet's Eget kapital (0 when not stated)
    has_financing: bool
    held: dict[str, str]            # per sheet, the held budget rows (see _row_names)
    spread: dict[str, str]          # per sheet, the rows spread from an annual amount

    @property
    def loaded(self) -> bool:
        return bool(self.names) or not self.lines.empty


def budget_year(year: int, *, lines: pd.DataFrame, annual: pd.DataFrame,
                catalogue: pd.DataFrame, financing: pd.DataFrame,
                held_budget_rows: pd.DataFrame) -> BudgetYear:
    # The callers may pass several years: a frame that holds more must not mix them.
    lines = lines.loc[lines["year"] == year]
    catalogue = catalogue.loc[catalogue["year"] == year]
    financing = financing.loc[financing["year"] == year]
    # "Eget kapital", also as "Eget kapital från 2023" or "Ingående eget kapital"
    equity = financing["finansiar"].astype("string").str.casefold().str.contains(
        EGET_KAPITAL.casefold(), regex=False).fillna(False).to_numpy(dtype=bool)
    members = financing.loc[~equity, ["finansiar", "belopp"]].assign(
        belopp=lambda frame: money(frame["belopp"])).reset_index(drop=True)
    targets = _amount(catalogue["mal_deltagare"]) if "mal_deltagare" in catalogue else None
    return BudgetYear(
        year=year,
        lines=lines,
        plan=planned(lines, active_months(catalogue, year)),
        names=dict(zip(catalogue["insats"], catalogue["namn"])),
        insatser=list(dict.fromkeys(code for code in catalogue["insats"] if code != ADM)),
        inriktning=(dict(zip(catalogue["insats"], catalogue["inriktning"]))
                    if "inriktning" in catalogue else {}),
        targets=({} if targets is None else
                 {code: float(value) for code, value in zip(catalogue["insats"], targets)
                  if pd.notna(value)}),
        arsbudget=_insats_arsbudget(lines, annual.loc[annual["year"] == year]),
        members=members,
        opening_equity=float(money(financing.loc[equity, "belopp"]).sum()),
        has_financing=not financing.empty,
        held=_row_names(held_budget_rows),
        spread=_row_names(lines.loc[lines["spread"].fillna(False).astype(bool)]),
    )


def _budget_inputs(inputs: dict) -> dict:
    return {name: inputs[name] for name in ("lines", "annual", "catalogue", "financing",
                                            "held_budget_rows")}


@dataclass(frozen=True)
class ToDate:
    """What a follow-up takes from the ledger and the spells, 1 January to the period's end."""

    ledger: pd.DataFrame
    costs: pd.DataFrame
    income: pd.DataFrame
    participants: pd.Series


def _to_date(period: Period, ledger: pd.DataFrame, spells: pd.DataFrame) -> ToDate:
    # Every figure and note is about 1 January to the period's end, by booking date: cut the
    # ledger of all years (and of any extraction date) down to that once.
    ledger = _year_to_date(ledger, period)
    return ToDate(ledger=ledger, costs=cost_rows(ledger), income=_rows_of_class(ledger, INCOME),
                  participants=participants(spells, period))


def income_by_insats(income: pd.DataFrame) -> pd.Series:
    """Income booked per Projekt, positive (credits on the income accounts are negative)."""
    return -money(income["belopp"]).groupby(income["projekt"]).sum()


def _followup(period: Period, budget: BudgetYear, to_date: ToDate,
              held_ledger_rows: pd.DataFrame) -> FollowUp:
    codes = [*budget.insatser, ADM]
    # All sheets' tables and notes come from one pass over the year; a sheet only takes its cut.
    tables, outside = _tables(_figures(budget, to_date.costs, period), budget.arsbudget, codes,
                              period)
    ignored = _in_period(_rows_of_class(to_date.ledger, IGNORED), period)
    held = held_in(held_ledger_rows, period.year_start, period.next_start)
    notes = _notes([*codes, FORBUNDET], budget, tables, ignored=ignored, held_ledger=held,
                   period=period)
    income = income_by_insats(to_date.income)
    income_period = income_by_insats(_in_period(to_date.income, period))
    sheets = {code: _insats_sheet(code, budget, tables[code], notes[code],
                                  int(to_date.participants.get(code, 0)),
                                  float(income_period.get(code, 0.0)),
                                  float(income.get(code, 0.0)), period)
              for code in budget.insatser}
    sheets[ADM] = Sheet(code=ADM, name=budget.names.get(ADM, _ADM_NAME), table=tables[ADM],
                        notes=notes[ADM])
    forbundet_notes = (*notes[FORBUNDET], *_outside_catalogue_notes(to_date.costs, codes),
                       *_financing_notes(budget))
    result, equity = year_result(budget, income, tables[FORBUNDET])
    sheets[FORBUNDET] = Sheet(
        code=FORBUNDET, name=_FORBUNDET_NAME, table=tables[FORBUNDET], notes=forbundet_notes,
        result=result, equity=equity,
        per_insats=_per_insats(tables, outside, budget, codes, period),
        figures={BOKFORDA_MEDLEMSBIDRAG: float(income.get(ADM, 0.0))})
    return FollowUp(period=period, sheets=sheets, budget=budget, income=income)


def _insats_sheet(code: str, budget: BudgetYear, table: pd.DataFrame, notes: tuple[str, ...],
                  count: int, income_period: float, income_to_date: float,
                  period: Period) -> Sheet:
    outcome = float(table.at[TOTAL, "Utfall ackumulerat"])
    inriktning = budget.inriktning.get(code)
    structural = inriktning == STRUCTURAL
    net = None
    if income_to_date or income_period:
        costs = [float(table.at[TOTAL, period.columns[1]]), outcome]
        net = _with_total(pd.DataFrame(
            [costs, [-income_period, -income_to_date]], index=[NET_COSTS, NET_INCOME],
            columns=[period.columns[1], "Utfall ackumulerat"]), NET_TOTAL, "Post")
    return Sheet(code=code, name=budget.names[code], table=table, notes=notes,
                 inriktning=inriktning, participants=None if structural else count,
                 target=None if structural else budget.targets.get(code),
                 cost_per_participant=None if structural or not count else outcome / count,
                 net=net)


def year_result(budget: BudgetYear, income: pd.Series,
                table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The förbund's result for the year and its eget kapital, budgeted and forecast.

    Result = the members' income (the Finansiering sheet without Eget kapital) + income booked on
    insatser − costs. Costs: the Årsbudget of every insats (budget), or the outcome so far and the
    budget of the rest of the year (forecast). Income booked on ADM is the members' contributions
    as they arrive, already counted in the members' income, so it is shown beside, not added.
    Eget kapital: the opening balance (the Finansiering sheet's Eget kapital) + the result.
    ``income``: income booked per Projekt from 1 January to the period's end.
    """
    members = float(budget.members["belopp"].sum())
    other = float(income.drop(ADM, errors="ignore").sum())
    result = _with_total(pd.DataFrame({
        BUDGET_HELAR: [members, 0.0, -float(table.at[TOTAL, "Årsbudget"])],
        PROGNOS_HELAR: [members, other, -float(table.at[TOTAL, PROGNOS_HELAR])],
    }, index=[MEDLEMSBIDRAG, OVRIGA_INTAKTER, KOSTNADER]), ARETS_RESULTAT, "Post")
    equity = _with_total(pd.DataFrame(
        [[budget.opening_equity] * 2, result.loc[ARETS_RESULTAT].to_list()],
        index=[EK_IB, ARETS_RESULTAT], columns=result.columns), EK_UB, "Post")
    return result, equity


def _with_total(frame: pd.DataFrame, total: str, name: str) -> pd.DataFrame:
    """``frame`` with a last row ``total``: the sum of its rows."""
    out = pd.concat([frame, frame.sum().to_frame(total).T]).astype(float)
    out.index.name = name
    return out


def _figures(budget: BudgetYear, costs: pd.DataFrame, period: Period) -> pd.DataFrame:
    """Every figure summed per (insats, kostnadsslag) from the budget and the cost rows booked
    from 1 January to the period's end; a figure a source does not give is 0."""
    lines = budget.lines
    planned, outcome = _budget_figures(budget, period), _outcome_figures(costs, period)
    # The budget lines, then the cost rows, each NaN in the figures of the other source: the sums
    # skip NaN, so a figure sums its own source's rows, in their order.
    rows = pd.DataFrame({
        "insats": pd.concat([lines["insats"], costs["projekt"]], ignore_index=True),
        "kostnadsslag": pd.concat([lines["kostnadsslag"], costs["kostnadsslag"]],
                                  ignore_index=True),
        **{name: np.concatenate([planned.get(name, np.full(len(lines), np.nan)),
                                 outcome.get(name, np.full(len(costs), np.nan))])
           for name in _FIGURES},
    })
    return rows.groupby(["insats", "kostnadsslag"]).sum()


def _budget_figures(budget: BudgetYear, period: Period) -> dict[str, np.ndarray]:
    """Per budget line: its budget in the period, up to the period's end and after it, and the row's
    Årsbudget (its Ackumulering when no Årsbudget is given)."""
    lines = budget.lines
    by_period = budget.plan.by_period(period)
    done = period.number
    return {
        "budget_period": by_period[:, done - 1],
        "budget_acc": by_period[:, :done].sum(axis=1),
        "budget_rest": by_period[:, done:].sum(axis=1),
        "arsbudget": _amount(lines["arsbudget"]).fillna(money(lines["ackumulering"])).to_numpy(),
    }


def _outcome_figures(costs: pd.DataFrame, period: Period) -> dict[str, np.ndarray]:
    """Per cost row booked from 1 January to the period's end: its amount in the period and year to
    date. Credits are negative amounts and so reduce the outcome."""
    amount = money(costs["belopp"]).to_numpy()
    in_period = (_dates(costs["bokforingsdatum"]) >= period.start).to_numpy()
    return {"outcome_period": np.where(in_period, amount, 0.0), "outcome_acc": amount}


def _quarters(lines: pd.DataFrame) -> np.ndarray:
    """(lines, 4): each line's budget per quarter, 0 where empty."""
    return np.column_stack([money(lines[name]).to_numpy(dtype=float) for name in QUARTERS]
                           ).reshape(len(lines), 4)


def _insats_arsbudget(lines: pd.DataFrame, annual: pd.DataFrame) -> pd.Series:
    """Each insats's Årsbudget: from its TOTALT row, else the sum of its rows' Ackumulering."""
    stated = _amount(annual["arsbudget"]).groupby(annual["insats"]).first()
    summed = money(lines["ackumulering"]).groupby(lines["insats"]).sum()
    return stated.combine_first(summed)


def _tables(figures: pd.DataFrame, arsbudget: pd.Series, codes: list[str],
            period: Period) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Every sheet's table from :func:`_figures`; ``codes`` are the insatser and ADM; Förbundet
    sums every insats, also one outside the catalogue (whose table is returned second). Rows:
    every kostnadsslag label in code-list order, ``Ej fördelat på kostnadsslag`` (the Årsbudget
    beyond the rows), then Totalt; columns: ``period.columns``."""
    kostnadsslag = reference.code_list("kostnadsslag")
    slag = pd.Index(kostnadsslag["code"])
    grid = pd.MultiIndex.from_product([codes, slag], names=figures.index.names)
    per_insats = figures.reindex(grid, fill_value=0.0).to_numpy(dtype=float)
    known = figures.index.get_level_values("insats").isin(codes)
    outside = (figures.loc[~known].groupby(level="kostnadsslag").sum()
               .reindex(slag, fill_value=0.0).to_numpy(dtype=float))
    forbundet = (figures.groupby(level="kostnadsslag").sum()
                 .reindex(slag, fill_value=0.0).to_numpy(dtype=float))
    # (sheet, kostnadsslag, figure): the insatser and ADM, Förbundet, then outside the catalogue
    rows = np.concatenate([per_insats, forbundet, outside]).reshape(len(codes) + 2, len(slag), -1)
    ars_column = _FIGURES.index("arsbudget")
    stated = np.array([*arsbudget.reindex(codes, fill_value=0.0), arsbudget.sum(), 0.0])
    unallocated = np.zeros((len(codes) + 2, 1, len(_FIGURES)))
    unallocated[:, 0, ars_column] = stated - rows[:, :, ars_column].sum(axis=1)
    rows = np.concatenate([rows, unallocated], axis=1)
    total = rows.sum(axis=1, keepdims=True)
    total[:, 0, ars_column] = stated
    budget_period, outcome_period, budget_acc, outcome_acc, budget_rest, ars = np.moveaxis(
        np.concatenate([rows, total], axis=1), -1, 0)
    # A row without a budget has no meaningful share used: leave it empty rather than infinite.
    used = outcome_acc / np.where(ars > 0, ars, np.nan)
    used[:, len(slag)] = np.nan        # nothing is booked on the unallocated Årsbudget
    values = np.stack([budget_period, outcome_period, budget_period - outcome_period,
                       budget_acc, outcome_acc, budget_acc - outcome_acc,
                       ars, outcome_acc + budget_rest, used], axis=-1)
    index = pd.Index([*kostnadsslag["label"], UNALLOCATED, TOTAL], name="Kostnadsslag")
    columns = pd.Index(period.columns)
    # Copies, so that renaming one table's axis leaves the others alone.
    tables = {code: pd.DataFrame(table, index=index.copy(), columns=columns.copy())
              for code, table in zip([*codes, FORBUNDET, OUTSIDE_CATALOGUE], values)}
    return tables, tables.pop(OUTSIDE_CATALOGUE)


def _per_insats(tables: dict[str, pd.DataFrame], outside: pd.DataFrame, budget: BudgetYear,
                codes: list[str], period: Period) -> pd.DataFrame:
    """Each sheet's Totalt row, then costs on a Projekt outside the catalogue (when there are any),
    then the förbund's Totalt: the rows add up to it."""
    rows = {f"{code} – {budget.names.get(code, _ADM_NAME)}": tables[code].loc[TOTAL]
            for code in codes}
    if outside.loc[TOTAL].abs().sum() > 0:
        rows[OUTSIDE_CATALOGUE] = outside.loc[TOTAL]
    rows[TOTAL] = tables[FORBUNDET].loc[TOTAL]
    frame = pd.DataFrame(rows).T.astype(float)
    frame.index.name = "Insats"
    return frame


def _notes(codes: list[str], budget: BudgetYear, tables: dict[str, pd.DataFrame], *,
           ignored: pd.DataFrame, held_ledger: int, period: Period) -> dict[str, tuple[str, ...]]:
    """Per sheet, what the reader must know to trust the table: missing rows, spread rows, the
    Årsbudget beyond the rows, rows left out (``ignored``: the period's ledger rows on accounts
    outside the follow-up; ``held_ledger``: ledger rows booked from 1 January to the period's end
    held for an unknown Projekt). The förbund's sheet covers every row."""
    held, spread = budget.held, budget.spread
    ignored_counts = {**ignored["projekt"].value_counts().to_dict(), FORBUNDET: len(ignored)}
    notes: dict[str, tuple[str, ...]] = {}
    for code in codes:
        sheet: list[str] = []
        if code in held:
            sheet.append("Budgetrader som saknas eftersom de hålls för granskning hos "
                         f"förvaltaren: {held[code]}. Deras budget ingår inte i tabellen förrän "
                         "de rättats.")
        if code in spread:
            sheet.append("Budgeten fördelad jämnt över insatsens aktiva månader från ett "
                         f"årsbelopp: {spread[code]}.")
        difference = float(tables[code].at[UNALLOCATED, "Årsbudget"])
        if abs(difference) >= 0.5:
            stated = float(tables[code].at[TOTAL, "Årsbudget"])
            sheet.append(f"Årsbudgeten ({kronor(stated)} kr) är {kronor(abs(difference))} kr "
                         f"{'större' if difference > 0 else 'mindre'} än summan av "
                         f"kostnadsslagens rader ({kronor(stated - difference)} kr): skillnaden "
                         f"står på raden {UNALLOCATED}.")
        if ignored_counts.get(code, 0):
            sheet.append(f"{_ledger_rows(ignored_counts[code])} i perioden på konton utanför "
                         "uppföljningen ingår inte.")
        if held_ledger:
            booked_word = "bokförd" if held_ledger == 1 else "bokförda"
            sheet.append(f"{_ledger_rows(held_ledger)} {booked_word} "
                         f"{period.year_start:%Y-%m-%d} – {period.end:%Y-%m-%d} med okänt "
                         "Projekt hålls för granskning och ingår inte i utfallet.")
        notes[code] = tuple(sheet)
    return notes


def held_in(held_ledger_rows: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> int:
    """Ledger rows held for the steward whose own booking date is from ``start`` up to ``end``:
    each record once, however many deliveries brought it (its match key). A held row without a
    readable date belongs to no period and is left to the steward's view."""
    if held_ledger_rows.empty:
        return 0
    dates = _dates(held_ledger_rows["record_date"])
    inside = held_ledger_rows.loc[((dates >= start) & (dates < end)).to_numpy(dtype=bool)]
    if "match_key" not in inside:
        return len(inside)
    keys = inside["match_key"].astype("string")
    return int(keys.nunique() + keys.isna().sum())


def _outside_catalogue_notes(costs: pd.DataFrame, known: list[str]) -> tuple[str, ...]:
    """The förbund's total holds every cost, also one whose Projekt has no sheet of its own."""
    outside = costs.loc[~costs["projekt"].isin(known)]
    if outside.empty:
        return ()
    codes = ", ".join(outside["projekt"].drop_duplicates().sort_values())
    return ((f"Utfallet innehåller {_ledger_rows(len(outside))} med Projekt utanför årets "
             f"insatskatalog ({codes}); de står på en egen rad i tabellen per insats."),)


def _financing_notes(budget: BudgetYear) -> tuple[str, ...]:
    notes = []
    if not budget.has_financing:
        notes.append("Fliken Finansiering saknas för året: medlemsbidrag och eget kapital är 0.")
    notes.append("Årets resultat = medlemsbidragen + övriga intäkter bokförda på insatser − "
                 "kostnaderna. Eget kapital från tidigare år räknas inte som årets intäkt; det "
                 "visas bredvid (ingående eget kapital + årets resultat = utgående eget kapital).")
    notes.append("Medlemsbidragen bokförs på ADM när de betalas och räknas redan i "
                 "medlemsbidragen enligt Finansiering; de bokförda beloppen visas för avstämning.")
    return tuple(notes)


def _row_names(rows: pd.DataFrame) -> dict[str, str]:
    """Budget rows by kostnadsslag label, per insats and (prefixed with their insats) for the
    förbund's sheet; a sheet without rows has no entry."""
    if rows.empty:
        return {}
    labels = reference.labels("kostnadsslag")
    # A code without a label stands for itself.
    names = (rows["kostnadsslag"].astype("string").map(lambda code: labels.get(code, code))
             .fillna("okänt kostnadsslag"))
    insats = rows["insats"].astype("string")
    per_insats = names.groupby(insats, sort=False).unique().map(", ".join)
    return {**per_insats.to_dict(), FORBUNDET: ", ".join((insats + ": " + names).drop_duplicates())}


def kronor(value: float | None) -> str:
    """Whole kronor with a space between thousands (``1 234 567``); an empty figure as ``–``."""
    if value is None or pd.isna(value):
        return "–"
    return f"{round(value):,}".replace(",", " ")


def percent(value: float | None) -> str:
    """A fraction as a Swedish percentage with one decimal (``48,8 %``)."""
    if value is None or pd.isna(value):
        return "–"
    return f"{value * 100:.1f} %".replace(".", ",")


def _ledger_rows(count: int) -> str:
    return f"{count} bokföringsrad" if count == 1 else f"{count} bokföringsrader"


def _rows_of_class(ledger: pd.DataFrame, account_class: str) -> pd.DataFrame:
    of_class = ledger["account_class"].eq(account_class)
    return ledger.loc[of_class.to_numpy(dtype=bool, na_value=False)]


def cost_rows(ledger: pd.DataFrame) -> pd.DataFrame:
    return _rows_of_class(ledger, COST)


def _year_to_date(ledger: pd.DataFrame, period: Period) -> pd.DataFrame:
    return booked(ledger, period.year_start, period.next_start)


def _in_period(ledger: pd.DataFrame, period: Period) -> pd.DataFrame:
    return booked(ledger, period.start, period.next_start)


def booked(ledger: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """The rows booked from ``start`` up to, not including, ``end``."""
    dates = _dates(ledger["bokforingsdatum"])
    return ledger.loc[((dates >= start) & (dates < end)).to_numpy()]


def _dates(values: pd.Series) -> pd.Series:
    """The warehouse gives ``datetime.date`` objects, tests and pandas readers datetime64."""
    return pd.to_datetime(values)


def _amount(values: pd.Series) -> pd.Series:
    """MONEY columns may arrive as Decimal or nullable floats; NaN where empty."""
    if values.dtype == np.float64:      # as the warehouse gives them: nothing to convert
        return values
    return pd.to_numeric(values, errors="coerce").astype("float64")


def money(values: pd.Series) -> pd.Series:
    """An amount where an empty cell means nothing planned or booked: 0 kr."""
    return _amount(values).fillna(0.0)
