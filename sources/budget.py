"""budget: the year's budget workbook, kept by the coordinator in Excel.

Three sheets: ``Insatser`` (the insats catalogue), ``Budget`` (one row per insats and kostnadsslag)
and ``Finansiering`` (the year's income). The coordinator's workbook contains mistakes, so nothing is
guessed: a parenthesised amount, quarters that do not add up to Ackumulering and a TOTALT row that
does not match its rows are all failures for the steward, shown with the figures involved.

A row with only Ackumulering is an annual amount: it is spread evenly over the quarters of the year
in which the insats is active (from the Insatser sheet) and marked ``spread``. TOTALT rows are
checked, never loaded as cost lines; a TOTALT row's Årsbudget becomes ``extra["arsbudget"]``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from finsam import reference
from finsam.errors import DeliveryRejected
from sources import parsing, specs
from sources.base import Column, Conformed, Delivery, SourceSpec
from validation.issues import ERROR, combine, issues_where

SPEC = specs.BUDGET

TOTAL = "TOTALT"
TOLERANCE = 0.5   # kronor: Excel sums of rounded cells may differ by öre, never by a krona
INRIKTNING = ("Individinriktad", "Strukturövergripande")
QUARTERS = ("q1", "q2", "q3", "q4")

INSATSER = replace(
    SPEC, natural_key=("year", "insats"), description="Budgetarbetsbok, fliken Insatser",
    columns=(
        Column("Insats", "insats"),
        Column("Namn", "namn"),
        Column("Startdatum", "startdatum"),
        Column("Slutdatum", "slutdatum", required=False),
        Column("Inriktning", "inriktning"),
        Column("Mål deltagare per år", "mal_deltagare", required=False),
        Column("Mål andel", "mal_andel", required=False),
    ),
)

# The quarter columns may be missing altogether: every row is then an annual amount to spread.
BUDGET_LINES = replace(
    SPEC, description="Budgetarbetsbok, fliken Budget",
    columns=(
        Column("Insats", "insats"),
        Column("Kostnadsslag", "kostnadsslag"),
        *(Column(f"Kvartal {n}", quarter, required=False) for n, quarter in enumerate(QUARTERS, 1)),
        Column("Ackumulering", "ackumulering"),
        Column("Årsbudget", "arsbudget", required=False),
    ),
)

FINANSIERING = replace(
    SPEC, natural_key=("year", "finansiar"), description="Budgetarbetsbok, fliken Finansiering",
    columns=(
        Column("Finansiär", "finansiar"),
        Column("Belopp", "belopp"),
    ),
)

# key in read()'s dict -> (sheet name in the workbook, its column spec)
SHEETS: dict[str, tuple[str, SourceSpec]] = {
    "insatser": ("Insatser", INSATSER),
    "budget": ("Budget", BUDGET_LINES),
    "finansiering": ("Finansiering", FINANSIERING),
}

_LINE_COLUMNS = ("year", "insats", "kostnadsslag", *QUARTERS, "ackumulering", "arsbudget", "spread",
                 "row_number")
_MISSING = "värde saknas"
_DATE = "datetime64[us]"   # an all-empty date column would otherwise come out in seconds


def read(delivery: Delivery) -> dict[str, pd.DataFrame]:
    return {key: parsing.read_sheet(delivery.path, spec, sheet=sheet)
            for key, (sheet, spec) in SHEETS.items()}


def conform(raw: dict[str, pd.DataFrame], delivery: Delivery) -> Conformed:
    """Budget lines as ``frame``; ``extra`` holds insatser, finansiering and arsbudget.

    ``rows_read`` counts the data rows of all three sheets, as issues come from all three.
    """
    year = _year(delivery)
    sheets = {key: _Sheet(raw[key], name, spec, delivery.file_name)
              for key, (name, spec) in SHEETS.items()}
    catalogue, catalogue_issues = _conform_insatser(sheets["insatser"], year)
    lines, arsbudget, line_issues = _conform_lines(sheets["budget"], catalogue, year)
    finansiering, finansiering_issues = _conform_finansiering(sheets["finansiering"], year)
    return Conformed(
        frame=lines,
        issues=combine(catalogue_issues, line_issues, finansiering_issues),
        rows_read=sum(len(frame) for frame in raw.values()),
        extra={"insatser": catalogue, "finansiering": finansiering, "arsbudget": arsbudget},
    )


@dataclass(frozen=True)
class _Sheet:
    """One sheet's text frame, and issues named after the contract's headers and the sheet."""

    raw: pd.DataFrame
    name: str
    spec: SourceSpec
    file: str

    def column(self, header: str) -> pd.Series:
        return self.raw[self.spec.column_map()[header.casefold()].name]

    def issue(self, failing: pd.Series, header: str, rule: str, expected: str,
              found: pd.Series | None = None) -> pd.DataFrame:
        # Row numbers repeat across sheets, so the rule names the sheet.
        return issues_where(self.raw, failing, source=SPEC.name, file=self.file, column=header,
                            rule=f"{self.name}: {rule}", expected=expected,
                            found=self.column(header) if found is None else found)

    def missing(self, header: str, expected: str, where: pd.Series | bool = True) -> pd.DataFrame:
        return self.issue(self.column(header).isna() & where, header, _MISSING, expected)

    def amount(self, header: str) -> tuple[pd.Series, list[pd.DataFrame]]:
        """Amounts as numbers or text with spaces; a parenthesised amount is never guessed."""
        values = self.column(header)
        amounts, bad = parsing.parse_amounts(values)
        parenthesised = values.str.contains(r"[()]", regex=True).fillna(False)
        return amounts, [
            self.issue(bad & parenthesised, header, "belopp inom parentes",
                       "belopp utan parentes (en parentes är tvetydig och gissas inte)"),
            self.issue(bad & ~parenthesised, header, "ogiltigt belopp", "belopp i kronor, t.ex. 481 500"),
        ]

    def passing(self, frame: pd.DataFrame, issues: pd.DataFrame) -> pd.DataFrame:
        failed = frame["row_number"].isin(issues.loc[issues["severity"] == ERROR, "row_number"])
        return frame.loc[~failed].reset_index(drop=True)


def _year(delivery: Delivery) -> int:
    if delivery.scope is None or not delivery.scope.isdigit():
        raise DeliveryRejected(SPEC.name, delivery.file_name,
                               "the file name does not give the budget year (<YYYYMMDD>_budget_<YYYY>.xlsx)")
    return int(delivery.scope)


def _conform_insatser(sheet: _Sheet, year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = sheet.raw
    insats = raw["insats"].str.upper()
    start, start_bad = parsing.parse_dates(raw["startdatum"])
    slut, slut_bad = parsing.parse_dates(raw["slutdatum"])
    inriktning = raw["inriktning"].str.casefold().map({name.casefold(): name for name in INRIKTNING})
    inriktning = inriktning.astype("string")
    deltagare, deltagare_bad = parsing.parse_amounts(raw["mal_deltagare"])
    andel, andel_bad = _parse_share(raw["mal_andel"])
    issues = combine(
        sheet.missing("Insats", "insatskod"),
        sheet.missing("Namn", "insatsens namn"),
        sheet.missing("Startdatum", "datum ÅÅÅÅ-MM-DD"),
        sheet.missing("Inriktning", " eller ".join(INRIKTNING)),
        sheet.issue(insats.duplicated(keep=False) & insats.notna(), "Insats",
                    "insatsen finns på flera rader", "en rad per insats"),
        sheet.issue(start_bad, "Startdatum", "ogiltigt datum", "datum ÅÅÅÅ-MM-DD"),
        sheet.issue(slut_bad, "Slutdatum", "ogiltigt datum", "datum ÅÅÅÅ-MM-DD"),
        sheet.issue((slut < start).fillna(False), "Slutdatum", "slutdatum före startdatum",
                    "datum från och med Startdatum"),
        sheet.issue(raw["inriktning"].notna() & inriktning.isna(), "Inriktning", "okänd inriktning",
                    " eller ".join(INRIKTNING)),
        sheet.issue(deltagare_bad | (deltagare < 0).fillna(False), "Mål deltagare per år",
                    "ogiltigt antal", "antal deltagare per år, t.ex. 40"),
        sheet.issue(andel_bad, "Mål andel", "ogiltig andel", "andel i procent, t.ex. 55 %"),
    )
    frame = pd.DataFrame({
        "year": year,
        "insats": insats,
        "namn": raw["namn"],
        "startdatum": start.astype(_DATE),
        "slutdatum": slut.astype(_DATE),
        "inriktning": inriktning,
        "mal_deltagare": deltagare,
        "mal_andel": andel,
        "row_number": raw["row_number"],
    }, index=raw.index)
    return sheet.passing(frame, issues), issues


def _parse_share(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``55 %`` -> 0.55. Without a ``%`` only a fraction (an Excel percent cell) is unambiguous."""
    percent = values.str.endswith("%").fillna(False)
    number, bad = parsing.parse_amounts(values.str.removesuffix("%"))
    share = number.where(~percent, number / 100)
    bad = bad | (values.notna() & ~bad & ((share < 0) | (share > 1)).fillna(False))
    return share.where(~bad), bad


def _parse_kostnadsslag(values: pd.Series) -> pd.Series:
    """Code or label, case-insensitively, to the code; NA when neither."""
    frame = reference.code_list("kostnadsslag")
    lookup = {**dict(zip(frame["label"].str.casefold(), frame["code"])),
              **dict(zip(frame["code"].str.casefold(), frame["code"]))}
    return values.str.casefold().map(lookup).astype("string")


def _conform_lines(sheet: _Sheet, catalogue: pd.DataFrame,
                   year: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    raw = sheet.raw
    insats = raw["insats"].str.upper()
    kostnadsslag = _parse_kostnadsslag(raw["kostnadsslag"])
    is_total = ((insats == TOTAL) | (raw["kostnadsslag"].str.upper() == TOTAL)).fillna(False)
    line = ~is_total
    quarters, amount_issues = {}, []
    for quarter, header in zip(QUARTERS, (f"Kvartal {n}" for n in range(1, 5))):
        quarters[quarter], found = sheet.amount(header)
        amount_issues += found
    ackumulering, found = sheet.amount("Ackumulering")
    arsbudget, found_arsbudget = sheet.amount("Årsbudget")
    amount_issues += found + found_arsbudget

    unknown_insats = insats.notna() & ~insats.isin(catalogue["insats"]) & (insats != TOTAL)
    slag_key = kostnadsslag.mask(is_total & kostnadsslag.isna(), TOTAL)
    duplicate = (insats.notna() & slag_key.notna()
                 & pd.DataFrame({"i": insats, "k": slag_key}).duplicated(keep=False))
    # A quarter cell that is filled but unreadable still means "quarters given": never spread it.
    given = raw[list(QUARTERS)].notna().any(axis=1)
    unreadable = (raw[list(QUARTERS)].notna() & pd.DataFrame(quarters).isna()).any(axis=1)
    spread_frame, spread, not_active = _spread(quarters, ackumulering, insats, line & ~given,
                                               catalogue, year)
    issues = combine(
        *amount_issues,
        sheet.missing("Insats", "insatskod eller TOTALT"),
        sheet.issue(unknown_insats, "Insats", "okänd insats",
                    "en insats som finns i fliken Insatser (utan fel)"),
        sheet.missing("Kostnadsslag", "kod eller benämning i listan kostnadsslag", line),
        sheet.issue(raw["kostnadsslag"].notna() & kostnadsslag.isna() & ~is_total, "Kostnadsslag",
                    "okänt kostnadsslag", "kod eller benämning i listan kostnadsslag, eller TOTALT"),
        sheet.issue(duplicate, "Kostnadsslag", "raden finns flera gånger",
                    "en rad per insats och kostnadsslag"),
        sheet.missing("Ackumulering", "radens belopp för året", line),
        _not_adding_up(sheet, quarters, ackumulering, line & given & ~unreadable),
        _totals_not_matching(sheet, insats, kostnadsslag, ackumulering, is_total),
        sheet.issue(not_active & ~unknown_insats, "Insats", "kan inte fördelas på kvartal",
                    f"en insats som är aktiv någon gång under {year}", found=insats),
    )
    lines = pd.DataFrame({
        "year": year,
        "insats": insats,
        "kostnadsslag": kostnadsslag,
        **spread_frame,
        "ackumulering": ackumulering,
        "arsbudget": arsbudget,
        "spread": spread,
        "row_number": raw["row_number"],
    }, index=raw.index)
    passed = sheet.passing(lines, issues)
    totals = passed.loc[passed["row_number"].isin(raw.loc[is_total & (insats != TOTAL), "row_number"])
                        & passed["arsbudget"].notna(), ["year", "insats", "arsbudget", "row_number"]]
    passed = passed.loc[~passed["row_number"].isin(raw.loc[is_total, "row_number"]),
                        list(_LINE_COLUMNS)]
    return passed.reset_index(drop=True), totals.reset_index(drop=True), issues


def _spread(quarters: dict[str, pd.Series], ackumulering: pd.Series, insats: pd.Series,
            annual_line: pd.Series, catalogue: pd.DataFrame,
            year: int) -> tuple[dict[str, pd.Series], pd.Series, pd.Series]:
    """Annual-only rows spread evenly over the quarters in which the insats is active.

    ``annual_line``: cost lines without any quarter cell. Returns the quarter columns (given quarters
    untouched; inactive quarters of a spread row are 0), the ``spread`` flag, and the annual-only
    rows that cannot be spread (insats not active in the year).
    """
    period = catalogue.set_index("insats")[["startdatum", "slutdatum"]].reindex(insats.to_numpy())
    starts = pd.Series(period["startdatum"].to_numpy(), index=insats.index)
    ends = pd.Series(period["slutdatum"].to_numpy(), index=insats.index)
    active = {}
    for number, quarter in enumerate(QUARTERS, 1):
        first_day = pd.Timestamp(year, 3 * number - 2, 1)
        last_day = first_day + pd.offsets.QuarterEnd(0)
        active[quarter] = ((starts <= last_day) & (ends.isna() | (ends >= first_day))).fillna(False)
    active_count = pd.concat(active.values(), axis=1).sum(axis=1)
    annual_only = annual_line & ackumulering.notna()
    spreadable = annual_only & (active_count > 0)
    share = ackumulering / active_count.where(active_count > 0)
    spread_quarters = {
        q: quarters[q].mask(spreadable, share.where(active[q], 0.0)).astype("Float64")
        for q in QUARTERS
    }
    not_active = annual_only & starts.notna() & (active_count == 0)
    return spread_quarters, spreadable.astype(bool), not_active


def _not_adding_up(sheet: _Sheet, quarters: dict[str, pd.Series], ackumulering: pd.Series,
                   checked: pd.Series) -> pd.DataFrame:
    """``checked`` rows (quarters given and readable) whose quarters do not sum to Ackumulering.

    Both figures go to the steward; empty quarters count as 0.
    """
    quarter_sum = pd.DataFrame(quarters).sum(axis=1, skipna=True)
    wrong = checked & ackumulering.notna() & ((quarter_sum - ackumulering).abs() > TOLERANCE)
    found = "kvartal summerar " + _kronor(quarter_sum) + ", Ackumulering " + _kronor(ackumulering)
    return sheet.issue(wrong.fillna(False), "Ackumulering", "kvartalen summerar inte till Ackumulering",
                       "Ackumulering = Kvartal 1 + Kvartal 2 + Kvartal 3 + Kvartal 4", found=found)


def _totals_not_matching(sheet: _Sheet, insats: pd.Series, kostnadsslag: pd.Series,
                         ackumulering: pd.Series, is_total: pd.Series) -> pd.DataFrame:
    """A TOTALT row against the stated Ackumulering of the rows it totals.

    Insats X / Kostnadsslag TOTALT totals X's rows; Insats TOTALT totals the whole sheet (or one
    kostnadsslag across insatser, when it names one). Stated figures are compared, so a row that
    fails its own quarter check does not also fail its total; a total over a row whose Ackumulering
    is unreadable is not checked (that row already fails).
    """
    line = ~is_total
    # Each cost line counts towards its insats, its kostnadsslag and the whole sheet.
    keys = ("insats:" + insats, "kostnadsslag:" + kostnadsslag,
            pd.Series("*", index=insats.index, dtype="string"))
    contributions = pd.concat([
        pd.DataFrame({"key": key, "ack": ackumulering, "unknown": ackumulering.isna()})[line]
        for key in keys
    ])
    sums = contributions.groupby("key").agg(ack=("ack", "sum"), unknown=("unknown", "any"))
    whole_sheet = (insats == TOTAL).fillna(False)
    target = keys[0].mask(whole_sheet, "*").mask(whole_sheet & kostnadsslag.notna(), keys[1])
    basis = sums.reindex(target.to_numpy()).set_axis(insats.index)
    expected = basis["ack"].astype("float64").fillna(0.0)
    checkable = (is_total & insats.notna() & ackumulering.notna()
                 & ~basis["unknown"].fillna(False).astype(bool))
    wrong = checkable & ((expected - ackumulering).abs() > TOLERANCE).fillna(False)
    found = "raderna summerar " + _kronor(expected) + ", TOTALT " + _kronor(ackumulering)
    return sheet.issue(wrong, "Ackumulering", "TOTALT stämmer inte med raderna",
                       "TOTALT = summan av raderna", found=found)


def _conform_finansiering(sheet: _Sheet, year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    belopp, amount_issues = sheet.amount("Belopp")
    issues = combine(
        sheet.missing("Finansiär", "finansiär (medlem eller Eget kapital)"),
        sheet.missing("Belopp", "belopp i kronor"),
        *amount_issues,
    )
    frame = pd.DataFrame({
        "year": year,
        "finansiar": sheet.raw["finansiar"],
        "belopp": belopp,
        "row_number": sheet.raw["row_number"],
    }, index=sheet.raw.index)
    return sheet.passing(frame, issues), issues


def _kronor(values: pd.Series) -> pd.Series:
    """Amounts as the steward writes them (``481 500``, ``4 512,50``); formatted per distinct value."""
    text = {value: f"{value:,.2f}".replace(",", " ").replace(".", ",").removesuffix(",00")
            for value in values.dropna().unique()}
    return values.map(text).astype("string").fillna("(tomt)")
