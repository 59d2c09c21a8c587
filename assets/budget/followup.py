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
_ADM_NAME = "Förbundets administration"
_FORBUNDET_NAME = "Förbundet totalt"
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
        return self.start + pd.DateOffset(months=self.months)

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


@dataclass(frozen=True)
class _Inputs:
    """What the sheets are cut from, prepared once per follow-up."""

    period: Period
    lines: pd.DataFrame
    ledger: pd.DataFrame
    financing: pd.DataFrame
    figures: pd.DataFrame
    arsbudget: pd.Series
    names: dict[str, str]
    participants: pd.Series
    held_budget_rows: pd.DataFrame
    held_ledger_rows: int


def quarterly_followup(year: int, quarter: int, *, lines: pd.DataFrame, annual: pd.DataFrame,
                       catalogue: pd.DataFrame, financing: pd.DataFrame, ledger: pd.DataFrame,
                       spells: pd.DataFrame, held_budget_rows: pd.DataFrame,
                       held_ledger_rows: int) -> FollowUp:
    """The board's follow-up of quarter ``quarter`` of ``year``."""
    return _followup(Period(year, KVARTAL, quarter), lines=lines, annual=annual, catalogue=catalogue,
                     financing=financing, ledger=ledger, spells=spells,
                     held_budget_rows=held_budget_rows, held_ledger_rows=held_ledger_rows)


def tertial_followup(year: int, tertial: int, *, lines: pd.DataFrame, annual: pd.DataFrame,
                     catalogue: pd.DataFrame, financing: pd.DataFrame, ledger: pd.DataFrame,
                     spells: pd.DataFrame, held_budget_rows: pd.DataFrame,
                     held_ledger_rows: int) -> FollowUp:
    """The follow-up of tertial ``tertial`` (T1 Jan-Apr, T2 May-Aug, T3 Sep-Dec) of ``year``."""
    return _followup(Period(year, TERTIAL, tertial), lines=lines, annual=annual, catalogue=catalogue,
                     financing=financing, ledger=ledger, spells=spells,
                     held_budget_rows=held_budget_rows, held_ledger_rows=held_ledger_rows)


def participants(spells: pd.DataFrame, period: Period) -> pd.Series:
    """Unique persons per insats with a spell active on some day from 1 January to the period's end.

    A person is the pseudonym, else the de-identified token that replaces it after a withdrawal (so
    the person still counts once); an anonymous spell has neither and is a person of its own.
    """
    enrolled = _dates(spells["inskrivningsdatum"])
    left = _dates(spells["utskrivningsdatum"])
    active = (enrolled < period.next_start) & (left.isna() | (left >= period.year_start))
    # By position, not by index label: a concatenated frame may repeat labels.
    own = pd.Series("spell-" + pd.RangeIndex(len(spells)).astype(str), index=spells.index)
    person = (spells["pseudonym"].astype("string")
              .fillna(spells["deidentified_person"].astype("string")).fillna(own))
    return person[active].groupby(spells.loc[active, "insats"]).nunique()


def accumulated_history(year: int, quarter: int, *, lines: pd.DataFrame,
                        ledger: pd.DataFrame) -> pd.DataFrame:
    """Budget and outcome accumulated from 1 January to the end of each quarter 1..``quarter``.

    Long format for the board's chart: insats (ADM and ``Förbundet`` included), kvartal
    (``YYYYQn``), budget_ackumulerat, utfall_ackumulerat.
    """
    period = Period(year, KVARTAL, quarter)
    year_lines = lines.loc[lines["year"] == year]
    budget = (year_lines[["insats", *QUARTERS]]
              .rename(columns={name: number for number, name in enumerate(QUARTERS, 1)})
              .melt(id_vars="insats", var_name="quarter", value_name="budget"))
    budget["budget"] = _money(budget["budget"])
    costs = _year_to_date(_cost_rows(ledger), period)
    outcome = pd.DataFrame({"insats": costs["projekt"],
                            "quarter": _dates(costs["bokforingsdatum"]).dt.quarter,
                            "utfall": _money(costs["belopp"])})
    both = (pd.concat([budget, outcome], ignore_index=True).fillna({"budget": 0.0, "utfall": 0.0})
            .astype({"quarter": int}).groupby(["insats", "quarter"])[["budget", "utfall"]].sum())
    total = both.groupby(level="quarter").sum().assign(insats=FORBUNDET)
    both = pd.concat([both, total.set_index("insats", append=True).swaplevel()])
    found = both.index.get_level_values("insats").unique()
    codes = [*found[found != FORBUNDET], FORBUNDET]
    grid = pd.MultiIndex.from_product([codes, range(1, quarter + 1)], names=["insats", "quarter"])
    accumulated = both.reindex(grid, fill_value=0.0).groupby(level="insats", sort=False).cumsum()
    history = accumulated.reset_index()
    return pd.DataFrame({
        "insats": history["insats"],
        "kvartal": f"{year}Q" + history["quarter"].astype(str),
        "budget_ackumulerat": history["budget"],
        "utfall_ackumulerat": history["utfall"],
    })


def _followup(period: Period, *, lines: pd.DataFrame, annual: pd.DataFrame,
              catalogue: pd.DataFrame, financing: pd.DataFrame, ledger: pd.DataFrame,
              spells: pd.DataFrame, held_budget_rows: pd.DataFrame,
              held_ledger_rows: int) -> FollowUp:
    year = period.year
    # The callers pass one year's budget, but a frame that holds more must not mix years.
    lines = lines.loc[lines["year"] == year]
    catalogue = catalogue.loc[catalogue["year"] == year]
    # Every figure and note is about 1 January to the period's end: cut the ledger of all years
    # down to that once, rather than in each of the sheets.
    ledger = _year_to_date(ledger, period)
    inputs = _Inputs(
        period=period, lines=lines, ledger=ledger,
        financing=financing.loc[financing["year"] == year],
        figures=_figures(lines, ledger, period),
        arsbudget=_insats_arsbudget(lines, annual.loc[annual["year"] == year]),
        names=dict(zip(catalogue["insats"], catalogue["namn"])),
        participants=participants(spells, period),
        held_budget_rows=held_budget_rows, held_ledger_rows=int(held_ledger_rows),
    )
    insatser = [code for code in catalogue["insats"] if code != ADM]
    sheets = {code: _insats_sheet(code, inputs) for code in insatser}
    sheets[ADM] = _sheet(ADM, inputs.names.get(ADM, _ADM_NAME), inputs)
    sheets[FORBUNDET] = _forbundet_sheet(inputs, known=[*insatser, ADM])
    return FollowUp(period=period, sheets=sheets)


def _insats_sheet(code: str, inputs: _Inputs) -> Sheet:
    sheet = _sheet(code, inputs.names[code], inputs)
    count = int(inputs.participants.get(code, 0))
    outcome = float(sheet.table.loc[TOTAL, "Utfall ackumulerat"])
    return Sheet(code=code, name=sheet.name, table=sheet.table, notes=sheet.notes,
                 participants=count, cost_per_participant=outcome / count if count else None)


def _forbundet_sheet(inputs: _Inputs, known: list[str]) -> Sheet:
    sheet = _sheet(FORBUNDET, _FORBUNDET_NAME, inputs)
    notes = (*sheet.notes, *_outside_catalogue_notes(inputs, known),
             "Bokförda intäkter visas för avstämning och räknas inte in i resultatet: "
             "medlemsbidragen ingår redan i Finansiering.")
    return Sheet(code=FORBUNDET, name=sheet.name, table=sheet.table, notes=notes,
                 result=_result(inputs, sheet.table))


def _sheet(code: str, name: str, inputs: _Inputs) -> Sheet:
    total = inputs.arsbudget.sum() if code == FORBUNDET else inputs.arsbudget.get(code, 0.0)
    table = _table(_sheet_figures(inputs.figures, code), float(total), inputs.period)
    return Sheet(code=code, name=name, table=table, notes=_notes(code, inputs))


def _figures(lines: pd.DataFrame, ledger: pd.DataFrame, period: Period) -> pd.DataFrame:
    """Every figure summed per (insats, kostnadsslag); a figure a source does not give is 0."""
    both = pd.concat([_budget_figures(lines, period), _outcome_figures(ledger, period)],
                     ignore_index=True)
    return both.groupby(["insats", "kostnadsslag"])[list(_FIGURES)].sum()


def _budget_figures(lines: pd.DataFrame, period: Period) -> pd.DataFrame:
    """Per budget line: its budget in the period, up to the period's end and after it, and the row's
    Årsbudget (its Ackumulering when no Årsbudget is given)."""
    quarters = lines[list(QUARTERS)].apply(_money).to_numpy(dtype=float).reshape(-1, 4)
    by_period = quarters @ period.quarter_weights()
    done = period.number
    return pd.DataFrame({
        "insats": lines["insats"].to_numpy(),
        "kostnadsslag": lines["kostnadsslag"].to_numpy(),
        "budget_period": by_period[:, done - 1],
        "budget_acc": by_period[:, :done].sum(axis=1),
        "budget_rest": by_period[:, done:].sum(axis=1),
        "arsbudget": _amount(lines["arsbudget"]).fillna(_money(lines["ackumulering"])).to_numpy(),
    })


def _outcome_figures(ledger: pd.DataFrame, period: Period) -> pd.DataFrame:
    """Per cost row booked from 1 January to the period's end: its amount in the period and year to
    date. Credits are negative amounts and so reduce the outcome."""
    costs = _year_to_date(_cost_rows(ledger), period)
    amount = _money(costs["belopp"])
    in_period = _dates(costs["bokforingsdatum"]) >= period.start
    return pd.DataFrame({
        "insats": costs["projekt"], "kostnadsslag": costs["kostnadsslag"],
        "outcome_period": amount.where(in_period, 0.0), "outcome_acc": amount,
    })


def _insats_arsbudget(lines: pd.DataFrame, annual: pd.DataFrame) -> pd.Series:
    """Each insats's Årsbudget: from its TOTALT row, else the sum of its rows' Ackumulering."""
    stated = _amount(annual["arsbudget"]).groupby(annual["insats"]).first()
    summed = _money(lines["ackumulering"]).groupby(lines["insats"]).sum()
    return stated.combine_first(summed)


def _sheet_figures(figures: pd.DataFrame, code: str) -> pd.DataFrame:
    if code == FORBUNDET:
        return figures.groupby(level="kostnadsslag").sum()
    return figures.loc[figures.index.get_level_values("insats") == code].droplevel("insats")


def _table(figures: pd.DataFrame, arsbudget_total: float, period: Period) -> pd.DataFrame:
    """Rows: every kostnadsslag label in code-list order, then Totalt; columns: ``period.columns``."""
    codes = reference.code_list("kostnadsslag")
    rows = figures.reindex(codes["code"].to_list(), fill_value=0.0)[list(_FIGURES)]
    total = rows.sum().to_frame(TOTAL).T.assign(arsbudget=arsbudget_total)
    f = pd.concat([rows.set_axis(codes["label"].to_list()), total])
    # A row without a budget has no meaningful share used: leave it empty rather than infinite.
    used = f["outcome_acc"] / f["arsbudget"].where(f["arsbudget"] > 0)
    values = (f["budget_period"], f["outcome_period"], f["budget_period"] - f["outcome_period"],
              f["budget_acc"], f["outcome_acc"], f["budget_acc"] - f["outcome_acc"],
              f["arsbudget"], f["outcome_acc"] + f["budget_rest"], used)
    table = pd.DataFrame(dict(zip(period.columns, values))).astype(float)
    table.index.name = "Kostnadsslag"
    return table


def _result(inputs: _Inputs, table: pd.DataFrame) -> pd.DataFrame:
    """The förbund's income, costs and forecast result for the year.

    The result is Finansiering less the full-year cost forecast. Income booked in the ledger is
    shown beside it, positive, but left out of the result: the members' contributions are booked
    there as they arrive and are already counted in Finansiering.
    """
    financing = float(_money(inputs.financing["belopp"]).sum())
    income = _year_to_date(_rows_of_class(inputs.ledger, INCOME), inputs.period)
    booked = -float(_money(income["belopp"]).sum())
    forecast = float(table.loc[TOTAL, "Prognos helår"])
    values = {FINANSIERING: financing, BOKFORDA_INTAKTER: booked,
              KOSTNADER_UTFALL: float(table.loc[TOTAL, "Utfall ackumulerat"]),
              KOSTNADER_PROGNOS: forecast, RESULTAT: financing - forecast}
    return pd.DataFrame({"Belopp": values}).rename_axis("Post")


def _notes(code: str, inputs: _Inputs) -> tuple[str, ...]:
    """What the reader must know to trust the table: missing rows, spread rows, rows left out."""
    notes: list[str] = []
    held = _of(inputs.held_budget_rows, code)
    if len(held):
        notes.append("Budgetrader som saknas eftersom de hålls för granskning hos förvaltaren: "
                     f"{_row_names(held, code)}. "
                     "Deras budget ingår inte i tabellen förrän de rättats.")
    lines = _of(inputs.lines, code)
    spread = lines.loc[lines["spread"].fillna(False).astype(bool)]
    if len(spread):
        notes.append("Budgeten fördelad jämnt över årets aktiva kvartal från ett årsbelopp: "
                     f"{_row_names(spread, code)}.")
    ledger = _of(inputs.ledger, code, column="projekt")
    ignored = _in_period(_rows_of_class(ledger, IGNORED), inputs.period)
    if len(ignored):
        notes.append(f"{_ledger_rows(len(ignored))} i perioden på konton utanför uppföljningen "
                     "ingår inte.")
    if inputs.held_ledger_rows:
        notes.append(f"{_ledger_rows(inputs.held_ledger_rows)} med okänt Projekt hålls för "
                     "granskning och ingår inte i utfallet.")
    return tuple(notes)


def _outside_catalogue_notes(inputs: _Inputs, known: list[str]) -> tuple[str, ...]:
    """The förbund's total holds every cost, also one whose Projekt has no sheet of its own."""
    costs = _year_to_date(_cost_rows(inputs.ledger), inputs.period)
    outside = costs.loc[~costs["projekt"].isin(known)]
    if outside.empty:
        return ()
    codes = ", ".join(outside["projekt"].drop_duplicates().sort_values())
    return (f"Utfallet innehåller {_ledger_rows(len(outside))} med Projekt utanför årets "
            f"insatskatalog ({codes}).",)


def _row_names(rows: pd.DataFrame, code: str) -> str:
    """Budget rows by kostnadsslag label; on the förbund's sheet prefixed with their insats."""
    kostnadsslag = rows["kostnadsslag"].astype("string")
    names = kostnadsslag.map(reference.labels("kostnadsslag")).fillna(kostnadsslag)
    names = names.fillna("okänt kostnadsslag")
    if code == FORBUNDET:
        names = rows["insats"].astype("string") + ": " + names
    return ", ".join(names.drop_duplicates())


def _ledger_rows(count: int) -> str:
    return f"{count} bokföringsrad" if count == 1 else f"{count} bokföringsrader"


def _of(frame: pd.DataFrame, code: str, column: str = "insats") -> pd.DataFrame:
    """The rows of one sheet; the förbund's sheet covers them all."""
    return frame if code == FORBUNDET else frame.loc[frame[column] == code]


def _rows_of_class(ledger: pd.DataFrame, account_class: str) -> pd.DataFrame:
    return ledger.loc[(ledger["account_class"] == account_class).fillna(False).astype(bool)]


def _cost_rows(ledger: pd.DataFrame) -> pd.DataFrame:
    return _rows_of_class(ledger, COST)


def _year_to_date(ledger: pd.DataFrame, period: Period) -> pd.DataFrame:
    booked = _dates(ledger["bokforingsdatum"])
    return ledger.loc[(booked >= period.year_start) & (booked < period.next_start)]


def _in_period(ledger: pd.DataFrame, period: Period) -> pd.DataFrame:
    booked = _dates(ledger["bokforingsdatum"])
    return ledger.loc[(booked >= period.start) & (booked < period.next_start)]


def _dates(values: pd.Series) -> pd.Series:
    """The warehouse gives ``datetime.date`` objects, tests and pandas readers datetime64."""
    return pd.to_datetime(values)


def _amount(values: pd.Series) -> pd.Series:
    """MONEY columns may arrive as Decimal or nullable floats; NaN where empty."""
    return pd.to_numeric(values, errors="coerce").astype("float64")


def _money(values: pd.Series) -> pd.Series:
    """An amount where an empty cell means nothing planned or booked: 0 kr."""
    return _amount(values).fillna(0.0)
