"""Budget follow-up: budget against outcome per insats, ADM and the förbund, by quarter or tertial.

Pure functions over frames with the warehouse tables' columns (budget_line, budget_annual,
budget_insats, budget_financing, ledger_entry, spell); reading them is the caller's business.
Amounts are kronor as floats. ``Förbrukat %`` is a fraction (0.25 = 25 %), which is what an Excel
percent cell wants; the reports format it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from finsam import reference

ADM = "ADM"
FORBUNDET = "Förbundet"
TOTAL = "Totalt"
KVARTAL = "kvartal"
TERTIAL = "tertial"
QUARTERS = ("q1", "q2", "q3", "q4")
COST, INCOME, IGNORED = "cost", "income", "ignored"

# Rows of the förbund's income and result table.
FINANSIERING = "Finansiering (årets medlemsbidrag och eget kapital)"
BOKFORDA_INTAKTER = "Bokförda intäkter hittills i år"
KOSTNADER_UTFALL = "Kostnader, utfall ackumulerat"
KOSTNADER_PROGNOS = "Kostnader, prognos helår"
RESULTAT = "Prognostiserat resultat helår"

_MONTHS = {KVARTAL: 3, TERTIAL: 4}
_INCOME_NOTE = ("Bokförda intäkter visas för avstämning och räknas inte in i resultatet: "
                "medlemsbidragen ingår redan i Finansiering.")
_ADM_NAME = "Förbundets administration"
_FORBUNDET_NAME = "Förbundet totalt"
# The columns the follow-up reads of each input frame; a caller need not read any other.
INPUT_COLUMNS = {
    "lines": ("year", "insats", "kostnadsslag", *QUARTERS, "ackumulering", "arsbudget", "spread"),
    "annual": ("year", "insats", "arsbudget"),
    "catalogue": ("year", "insats", "namn"),
    "financing": ("year", "belopp"),
    "ledger": ("bokforingsdatum", "projekt", "belopp", "kostnadsslag", "account_class"),
    "spells": ("insats", "pseudonym", "deidentified_person", "inskrivningsdatum",
               "utskrivningsdatum"),
}
# The quantities every table column is derived from, summed per insats and kostnadsslag.
_FIGURES = ("budget_period", "outcome_period", "budget_acc", "outcome_acc", "budget_rest", "arsbudget")


@dataclass(frozen=True)
class Period:
    """Quarter or tertial ``number`` of ``year``; accumulated figures run from 1 January."""

    year: int
    unit: str
    number: int

    def __post_init__(self) -> None:
        if self.unit not in _MONTHS:
            raise ValueError(f"okänd periodtyp {self.unit!r}; {KVARTAL} eller {TERTIAL}")
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
        return f"{self.unit} {self.number} {self.year}"

    @property
    def columns(self) -> tuple[str, ...]:
        return (f"Budget {self.unit}", f"Utfall {self.unit}", f"Avvikelse {self.unit}",
                "Budget ackumulerat", "Utfall ackumulerat", "Avvikelse ackumulerat",
                "Årsbudget", "Prognos helår", "Förbrukat %")

    def quarter_weights(self) -> np.ndarray:
        """(4, count): the share of each quarter's budget that falls in each period of the year.

        The budget is kept per quarter; a quarter's budget is spread evenly over its three months,
        so a period that cuts a quarter (a tertial) gets whole months of it.
        """
        month = np.arange(12)
        quarter_months = (month // 3 == np.arange(4)[:, None]).astype(float) / 3
        period_months = (month[:, None] // self.months == np.arange(self.count)).astype(float)
        return quarter_months @ period_months


@dataclass(frozen=True)
class Sheet:
    """One insats, ADM or the förbund: the table, its notes and the extra figures below it."""

    code: str
    name: str
    table: pd.DataFrame
    notes: tuple[str, ...] = ()
    participants: int | None = None
    cost_per_participant: float | None = None
    result: pd.DataFrame | None = None   # the förbund only: income, costs and forecast result


@dataclass(frozen=True)
class FollowUp:
    """The follow-up of one period: sheets per insats (catalogue order), then ADM, then Förbundet."""

    period: Period
    sheets: dict[str, Sheet]

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        return {code: sheet.table for code, sheet in self.sheets.items()}

    @property
    def result(self) -> pd.DataFrame:
        result = self.sheets[FORBUNDET].result
        assert result is not None
        return result


def quarterly_followup(year: int, quarter: int, *, lines: pd.DataFrame, annual: pd.DataFrame,
                       catalogue: pd.DataFrame, financing: pd.DataFrame, ledger: pd.DataFrame,
                       spells: pd.DataFrame, held_budget_rows: pd.DataFrame,
                       held_ledger_rows: int) -> FollowUp:
    """The board's follow-up of quarter ``quarter`` of ``year``."""
    period = Period(year, KVARTAL, quarter)
    budget = _budget_year(year, lines=lines, annual=annual, catalogue=catalogue,
                          financing=financing, held_budget_rows=held_budget_rows)
    return _followup(period, budget, _to_date(period, ledger, spells), int(held_ledger_rows))


def tertial_followup(year: int, tertial: int, *, lines: pd.DataFrame, annual: pd.DataFrame,
                     catalogue: pd.DataFrame, financing: pd.DataFrame, ledger: pd.DataFrame,
                     spells: pd.DataFrame, held_budget_rows: pd.DataFrame,
                     held_ledger_rows: int) -> FollowUp:
    """The follow-up of tertial ``tertial`` (T1 Jan-Apr, T2 May-Aug, T3 Sep-Dec) of ``year``."""
    period = Period(year, TERTIAL, tertial)
    budget = _budget_year(year, lines=lines, annual=annual, catalogue=catalogue,
                          financing=financing, held_budget_rows=held_budget_rows)
    return _followup(period, budget, _to_date(period, ledger, spells), int(held_ledger_rows))


def quarter_followups(year: int, quarter: int, *, lines: pd.DataFrame, annual: pd.DataFrame,
                      catalogue: pd.DataFrame, financing: pd.DataFrame, ledger: pd.DataFrame,
                      spells: pd.DataFrame, held_budget_rows: pd.DataFrame,
                      held_ledger_rows: int) -> tuple[FollowUp, FollowUp]:
    """Quarter ``quarter``'s follow-up and that of the tertial its last month falls in, which the
    board gets with it: :func:`quarterly_followup` and :func:`tertial_followup` in one. The budget
    year is prepared once for both, and so is the year to date when both end on 31 December."""
    quarterly = Period(year, KVARTAL, quarter)
    last_month = quarter * _MONTHS[KVARTAL]
    tertial = Period(year, TERTIAL, (last_month - 1) // _MONTHS[TERTIAL] + 1)
    budget = _budget_year(year, lines=lines, annual=annual, catalogue=catalogue,
                          financing=financing, held_budget_rows=held_budget_rows)
    to_date = _to_date(quarterly, ledger, spells)
    tertial_to_date = (to_date if tertial.next_start == quarterly.next_start
                       else _to_date(tertial, ledger, spells))
    return (_followup(quarterly, budget, to_date, int(held_ledger_rows)),
            _followup(tertial, budget, tertial_to_date, int(held_ledger_rows)))


def participants(spells: pd.DataFrame, period: Period) -> pd.Series:
    """Unique persons per insats with a spell active on some day from 1 January to the period's end.

    A person is the pseudonym, else the de-identified token that replaces it after a withdrawal (so
    the person still counts once); an anonymous spell has neither and is a person of its own.
    """
    enrolled = _dates(spells["inskrivningsdatum"])
    left = _dates(spells["utskrivningsdatum"])
    active = ((enrolled < period.next_start)
              & (left.isna() | (left >= period.year_start))).to_numpy(dtype=bool)
    # Only the active spells need a person: most spells of all years are not.
    person = (spells["pseudonym"][active].astype("string")
              .fillna(spells["deidentified_person"][active].astype("string")))
    # By position, not by index label: a concatenated frame may repeat labels.
    anonymous = person.isna().to_numpy()
    person.iloc[anonymous] = "spell-" + pd.Index(np.flatnonzero(active)[anonymous]).astype(str)
    return person.groupby(spells["insats"][active]).nunique()


def accumulated_history(year: int, quarter: int, *, lines: pd.DataFrame,
                        ledger: pd.DataFrame) -> pd.DataFrame:
    """Budget and outcome accumulated from 1 January to the end of each quarter 1..``quarter``.

    Long format for the board's chart: insats (ADM and ``Förbundet`` included), kvartal
    (``YYYYQn``), budget_ackumulerat, utfall_ackumulerat.
    """
    period = Period(year, KVARTAL, quarter)
    both = _quarter_sums(lines.loc[lines["year"] == year],
                         _cost_rows(_year_to_date(ledger, period)))
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


def _quarter_sums(lines: pd.DataFrame, costs: pd.DataFrame) -> pd.DataFrame:
    """Budget and outcome per (insats, quarter) of one year's budget lines and cost rows."""
    budget = _quarters(lines)
    # A row per budget line and quarter (quarter by quarter), then a row per cost row, each with 0
    # for the figure it does not give: pandas sums with compensation, so also the zeros and the
    # order of the rows decide the last bit of a sum.
    rows = pd.DataFrame({
        "insats": pd.concat([*[lines["insats"]] * len(QUARTERS), costs["projekt"]],
                            ignore_index=True),
        "quarter": np.concatenate([np.repeat(np.arange(1, len(QUARTERS) + 1), len(lines)),
                                   _dates(costs["bokforingsdatum"]).dt.quarter.to_numpy()]),
        "budget": np.concatenate([budget.T.ravel(), np.zeros(len(costs))]),
        "utfall": np.concatenate([np.zeros(budget.size), _money(costs["belopp"]).to_numpy()]),
    })
    return rows.groupby(["insats", "quarter"])[["budget", "utfall"]].sum()


@dataclass(frozen=True)
class _BudgetYear:
    """What a follow-up takes from the year's budget, whatever its period."""

    lines: pd.DataFrame
    names: dict[str, str]
    insatser: list[str]             # catalogue order, ADM left out
    arsbudget: pd.Series
    financing: pd.DataFrame
    held: dict[str, str]            # per sheet, the held budget rows (see _row_names)
    spread: dict[str, str]          # per sheet, the rows spread from an annual amount


@dataclass(frozen=True)
class _ToDate:
    """What a follow-up takes from the ledger and the spells, 1 January to the period's end."""

    ledger: pd.DataFrame
    costs: pd.DataFrame
    income: pd.DataFrame
    participants: pd.Series


def _budget_year(year: int, *, lines: pd.DataFrame, annual: pd.DataFrame,
                 catalogue: pd.DataFrame, financing: pd.DataFrame,
                 held_budget_rows: pd.DataFrame) -> _BudgetYear:
    # The callers pass one year's budget, but a frame that holds more must not mix years.
    lines = lines.loc[lines["year"] == year]
    catalogue = catalogue.loc[catalogue["year"] == year]
    return _BudgetYear(
        lines=lines,
        names=dict(zip(catalogue["insats"], catalogue["namn"])),
        insatser=list(dict.fromkeys(code for code in catalogue["insats"] if code != ADM)),
        arsbudget=_insats_arsbudget(lines, annual.loc[annual["year"] == year]),
        financing=financing.loc[financing["year"] == year],
        held=_row_names(held_budget_rows),
        spread=_row_names(lines.loc[lines["spread"].fillna(False).astype(bool)]),
    )


def _to_date(period: Period, ledger: pd.DataFrame, spells: pd.DataFrame) -> _ToDate:
    # Every figure and note is about 1 January to the period's end: cut the ledger of all years
    # down to that once, rather than in each of the sheets.
    ledger = _year_to_date(ledger, period)
    return _ToDate(ledger=ledger, costs=_cost_rows(ledger), income=_rows_of_class(ledger, INCOME),
                   participants=participants(spells, period))


def _followup(period: Period, budget: _BudgetYear, to_date: _ToDate,
              held_ledger_rows: int) -> FollowUp:
    codes = [*budget.insatser, ADM, FORBUNDET]
    # All sheets' tables and notes come from one pass over the year; a sheet only takes its cut.
    tables = _tables(_figures(budget.lines, to_date.costs, period), budget.arsbudget, codes,
                     period)
    ignored = _in_period(_rows_of_class(to_date.ledger, IGNORED), period)
    notes = _notes(codes, budget, ignored=ignored, held_ledger_rows=held_ledger_rows)
    sheets = {code: _insats_sheet(code, budget.names[code], tables[code], notes[code],
                                  int(to_date.participants.get(code, 0)))
              for code in budget.insatser}
    sheets[ADM] = Sheet(code=ADM, name=budget.names.get(ADM, _ADM_NAME), table=tables[ADM],
                        notes=notes[ADM])
    forbundet_notes = (*notes[FORBUNDET], *_outside_catalogue_notes(to_date.costs, codes[:-1]),
                       _INCOME_NOTE)
    sheets[FORBUNDET] = Sheet(
        code=FORBUNDET, name=_FORBUNDET_NAME, table=tables[FORBUNDET], notes=forbundet_notes,
        result=_result(budget.financing, to_date.income, tables[FORBUNDET]))
    return FollowUp(period=period, sheets=sheets)


def _insats_sheet(code: str, name: str, table: pd.DataFrame, notes: tuple[str, ...],
                  count: int) -> Sheet:
    outcome = float(table.at[TOTAL, "Utfall ackumulerat"])
    return Sheet(code=code, name=name, table=table, notes=notes, participants=count,
                 cost_per_participant=outcome / count if count else None)


def _figures(lines: pd.DataFrame, costs: pd.DataFrame, period: Period) -> pd.DataFrame:
    """Every figure summed per (insats, kostnadsslag) from the budget and the cost rows booked
    from 1 January to the period's end; a figure a source does not give is 0."""
    budget, outcome = _budget_figures(lines, period), _outcome_figures(costs, period)
    # The budget lines, then the cost rows, each NaN in the figures of the other source: the sums
    # skip NaN, so a figure sums its own source's rows, in their order.
    rows = pd.DataFrame({
        "insats": pd.concat([lines["insats"], costs["projekt"]], ignore_index=True),
        "kostnadsslag": pd.concat([lines["kostnadsslag"], costs["kostnadsslag"]],
                                  ignore_index=True),
        **{name: np.concatenate([budget.get(name, np.full(len(lines), np.nan)),
                                 outcome.get(name, np.full(len(costs), np.nan))])
           for name in _FIGURES},
    })
    return rows.groupby(["insats", "kostnadsslag"]).sum()


def _budget_figures(lines: pd.DataFrame, period: Period) -> dict[str, np.ndarray]:
    """Per budget line: its budget in the period, up to the period's end and after it, and the row's
    Årsbudget (its Ackumulering when no Årsbudget is given)."""
    by_period = _quarters(lines) @ period.quarter_weights()
    done = period.number
    return {
        "budget_period": by_period[:, done - 1],
        "budget_acc": by_period[:, :done].sum(axis=1),
        "budget_rest": by_period[:, done:].sum(axis=1),
        "arsbudget": _amount(lines["arsbudget"]).fillna(_money(lines["ackumulering"])).to_numpy(),
    }


def _outcome_figures(costs: pd.DataFrame, period: Period) -> dict[str, np.ndarray]:
    """Per cost row booked from 1 January to the period's end: its amount in the period and year to
    date. Credits are negative amounts and so reduce the outcome."""
    amount = _money(costs["belopp"]).to_numpy()
    in_period = (_dates(costs["bokforingsdatum"]) >= period.start).to_numpy()
    return {"outcome_period": np.where(in_period, amount, 0.0), "outcome_acc": amount}


def _quarters(lines: pd.DataFrame) -> np.ndarray:
    """(lines, 4): each line's budget per quarter, 0 where empty."""
    return np.column_stack([_money(lines[name]).to_numpy(dtype=float) for name in QUARTERS])


def _insats_arsbudget(lines: pd.DataFrame, annual: pd.DataFrame) -> pd.Series:
    """Each insats's Årsbudget: from its TOTALT row, else the sum of its rows' Ackumulering."""
    stated = _amount(annual["arsbudget"]).groupby(annual["insats"]).first()
    summed = _money(lines["ackumulering"]).groupby(lines["insats"]).sum()
    return stated.combine_first(summed)


def _tables(figures: pd.DataFrame, arsbudget: pd.Series, codes: list[str],
            period: Period) -> dict[str, pd.DataFrame]:
    """Every sheet's table from :func:`_figures`; ``codes`` are the insatser and ADM, then
    Förbundet, which sums every insats, also one without a sheet. Rows: every kostnadsslag label
    in code-list order, then Totalt; columns: ``period.columns``."""
    kostnadsslag = reference.code_list("kostnadsslag")
    insatser = codes[:-1]
    grid = pd.MultiIndex.from_product([insatser, kostnadsslag["code"]], names=figures.index.names)
    per_insats = figures.reindex(grid, fill_value=0.0).to_numpy(dtype=float)
    forbundet = (figures.groupby(level="kostnadsslag").sum()
                 .reindex(kostnadsslag["code"], fill_value=0.0).to_numpy(dtype=float))
    # (sheet, kostnadsslag, figure)
    rows = np.concatenate([per_insats, forbundet]).reshape(len(codes), len(kostnadsslag), -1)
    # Summed one row at a time in code-list order, as pandas summed each sheet's frame: the totals
    # stay the same to the last bit.
    total = rows.cumsum(axis=1)[:, -1:, :]
    total[:, 0, _FIGURES.index("arsbudget")] = [*arsbudget.reindex(insatser, fill_value=0.0),
                                                arsbudget.sum()]
    budget_period, outcome_period, budget_acc, outcome_acc, budget_rest, ars = np.moveaxis(
        np.concatenate([rows, total], axis=1), -1, 0)
    # A row without a budget has no meaningful share used: leave it empty rather than infinite.
    used = outcome_acc / np.where(ars > 0, ars, np.nan)
    values = np.stack([budget_period, outcome_period, budget_period - outcome_period,
                       budget_acc, outcome_acc, budget_acc - outcome_acc,
                       ars, outcome_acc + budget_rest, used], axis=-1)
    index = pd.Index([*kostnadsslag["label"], TOTAL], name="Kostnadsslag")
    columns = pd.Index(period.columns)
    # Copies, so that renaming one table's axis leaves the others alone.
    return {code: pd.DataFrame(table, index=index.copy(), columns=columns.copy())
            for code, table in zip(codes, values)}


def _result(financing: pd.DataFrame, income: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """The förbund's income, costs and forecast result for the year.

    The result is Finansiering less the full-year cost forecast. Income booked in the ledger is
    shown beside it, positive, but left out of the result: the members' contributions are booked
    there as they arrive and are already counted in Finansiering. ``income``: the income rows
    booked from 1 January to the period's end.
    """
    total = float(_money(financing["belopp"]).sum())
    booked = -float(_money(income["belopp"]).sum())
    forecast = float(table.at[TOTAL, "Prognos helår"])
    values = {FINANSIERING: total, BOKFORDA_INTAKTER: booked,
              KOSTNADER_UTFALL: float(table.at[TOTAL, "Utfall ackumulerat"]),
              KOSTNADER_PROGNOS: forecast, RESULTAT: total - forecast}
    return pd.DataFrame({"Belopp": list(values.values())},
                        index=pd.Index(list(values), name="Post"))


def _notes(codes: list[str], budget: _BudgetYear, *, ignored: pd.DataFrame,
           held_ledger_rows: int) -> dict[str, tuple[str, ...]]:
    """Per sheet, what the reader must know to trust the table: missing rows, spread rows, rows
    left out (``ignored``: the period's ledger rows on accounts outside the follow-up). The
    förbund's sheet covers every row."""
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
            sheet.append("Budgeten fördelad jämnt över årets aktiva kvartal från ett "
                         f"årsbelopp: {spread[code]}.")
        if ignored_counts.get(code, 0):
            sheet.append(f"{_ledger_rows(ignored_counts[code])} i perioden på konton utanför "
                         "uppföljningen ingår inte.")
        if held_ledger_rows:
            sheet.append(f"{_ledger_rows(held_ledger_rows)} med okänt Projekt hålls för "
                         "granskning och ingår inte i utfallet.")
        notes[code] = tuple(sheet)
    return notes


def _outside_catalogue_notes(costs: pd.DataFrame, known: list[str]) -> tuple[str, ...]:
    """The förbund's total holds every cost, also one whose Projekt has no sheet of its own."""
    outside = costs.loc[~costs["projekt"].isin(known)]
    if outside.empty:
        return ()
    codes = ", ".join(outside["projekt"].drop_duplicates().sort_values())
    return ((f"Utfallet innehåller {_ledger_rows(len(outside))} med Projekt utanför årets "
             f"insatskatalog ({codes})."),)


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


def _ledger_rows(count: int) -> str:
    return f"{count} bokföringsrad" if count == 1 else f"{count} bokföringsrader"


def _rows_of_class(ledger: pd.DataFrame, account_class: str) -> pd.DataFrame:
    of_class = ledger["account_class"].eq(account_class)
    return ledger.loc[of_class.to_numpy(dtype=bool, na_value=False)]


def _cost_rows(ledger: pd.DataFrame) -> pd.DataFrame:
    return _rows_of_class(ledger, COST)


def _year_to_date(ledger: pd.DataFrame, period: Period) -> pd.DataFrame:
    return _booked(ledger, period.year_start, period.next_start)


def _in_period(ledger: pd.DataFrame, period: Period) -> pd.DataFrame:
    return _booked(ledger, period.start, period.next_start)


def _booked(ledger: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """The rows booked from ``start`` up to, not including, ``end``."""
    booked = _dates(ledger["bokforingsdatum"])
    return ledger.loc[((booked >= start) & (booked < end)).to_numpy()]


def _dates(values: pd.Series) -> pd.Series:
    """The warehouse gives ``datetime.date`` objects, tests and pandas readers datetime64."""
    return pd.to_datetime(values)


def _amount(values: pd.Series) -> pd.Series:
    """MONEY columns may arrive as Decimal or nullable floats; NaN where empty."""
    if values.dtype == np.float64:      # as the warehouse gives them: nothing to convert
        return values
    return pd.to_numeric(values, errors="coerce").astype("float64")


def _money(values: pd.Series) -> pd.Series:
    """An amount where an empty cell means nothing planned or booked: 0 kr."""
    return _amount(values).fillna(0.0)
