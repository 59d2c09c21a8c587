"""budget: the year's budget workbook, kept by the coordinator in Excel.

Three sheets: ``Insatser`` (the insats catalogue), ``Budget`` (one row per insats and kostnadsslag)
and ``Finansiering`` (the year's income). The coordinator's workbook contains mistakes, so nothing is
guessed: a parenthesised amount, quarters that do not add up to Ackumulering and a TOTALT row that
does not match its rows are all failures for the steward, shown with the figures involved.

A row with only Ackumulering is an annual amount: it is spread evenly over the quarters of the year
in which the insats is active (from the Insatser sheet) and marked ``spread``. TOTALT rows are
checked, never loaded as cost lines; a TOTALT row's Årsbudget becomes ``extra["arsbudget"]``.
The rules of each sheet are stated in ``sources.budget.rules``.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from finsam import reference
from finsam.errors import DeliveryRejected
from finsam.masking import Domain
from sources import parsing
from sources.base import Conformed, Delivery
from sources.budget import rules
from sources.budget.rules import INRIKTNING, QUARTERS, TOTAL
from sources.budget.spec import SPEC
from sources.spec import Column, SourceSpec
from validation.issues import ERROR, combine
from validation.rules import with_text

INSATSER = replace(
    SPEC, natural_key=("year", "insats"), description="Budgetarbetsbok, fliken Insatser",
    columns=(
        Column("Insats", "insats", domain=Domain.CODE),
        Column("Namn", "namn", domain=Domain.TEXT),
        Column("Startdatum", "startdatum", domain=Domain.DATE),
        Column("Slutdatum", "slutdatum", required=False, domain=Domain.DATE),
        Column("Inriktning", "inriktning", domain=Domain.CODE),
        Column("Mål deltagare per år", "mal_deltagare", required=False, domain=Domain.NUMBER),
        Column("Mål andel", "mal_andel", required=False, domain=Domain.NUMBER),
    ),
)

# The quarter columns may be missing altogether: every row is then an annual amount to spread.
BUDGET_LINES = replace(
    SPEC, description="Budgetarbetsbok, fliken Budget",
    columns=(
        Column("Insats", "insats", domain=Domain.CODE),
        Column("Kostnadsslag", "kostnadsslag", domain=Domain.CODE),
        *(Column(f"Kvartal {n}", quarter, required=False, domain=Domain.NUMBER) for n, quarter in enumerate(QUARTERS, 1)),
        Column("Ackumulering", "ackumulering", domain=Domain.NUMBER),
        Column("Årsbudget", "arsbudget", required=False, domain=Domain.NUMBER),
    ),
)

FINANSIERING = replace(
    SPEC, natural_key=("year", "finansiar"), description="Budgetarbetsbok, fliken Finansiering",
    columns=(
        Column("Finansiär", "finansiar", domain=Domain.TEXT),
        Column("Belopp", "belopp", domain=Domain.NUMBER),
    ),
)

# key in read()'s dict -> (sheet name in the workbook, its column spec)
SHEETS: dict[str, tuple[str, SourceSpec]] = {
    "insatser": ("Insatser", INSATSER),
    "budget": ("Budget", BUDGET_LINES),
    "finansiering": ("Finansiering", FINANSIERING),
}

_CATALOGUE_COLUMNS = ("year", "insats", "namn", "startdatum", "slutdatum", "inriktning",
                      "mal_deltagare", "mal_andel", "row_number")
_LINE_COLUMNS = ("year", "insats", "kostnadsslag", *QUARTERS, "ackumulering", "arsbudget", "spread",
                 "row_number")
_FINANSIERING_COLUMNS = ("year", "finansiar", "belopp", "row_number")
_DATE = "datetime64[us]"   # an all-empty date column would otherwise come out in seconds


def read(delivery: Delivery) -> dict[str, pd.DataFrame]:
    return {key: parsing.read_sheet(delivery, spec, sheet=sheet)
            for key, (sheet, spec) in SHEETS.items()}


def prepare(raw: dict[str, pd.DataFrame], delivery: Delivery) -> dict[str, pd.DataFrame]:
    """Per sheet, raw text (``<name>_text``) beside the parsed values the rules and the warehouse
    need."""
    return {
        "insatser": _prepare_insatser(raw["insatser"]),
        "budget": _prepare_lines(raw["budget"]),
        "finansiering": _prepare_finansiering(raw["finansiering"]),
    }


def conform(raw: dict[str, pd.DataFrame], delivery: Delivery) -> Conformed:
    """Budget lines as ``frame``; ``extra`` holds insatser, finansiering and arsbudget.

    ``rows_read`` counts the data rows of all three sheets, as issues come from all three.
    """
    year = _year(delivery)
    file = delivery.file_name
    prepared = prepare(raw, delivery)

    insatser = prepared["insatser"]
    insatser_issues = rules.insatser(*SHEETS["insatser"]).issues(insatser, file=file)
    catalogue = _passing(insatser, insatser_issues).assign(year=year).astype(
        {"startdatum": _DATE, "slutdatum": _DATE})[list(_CATALOGUE_COLUMNS)]
    active = active_quarters(catalogue, year)

    budget = prepared["budget"]
    lines_schema = rules.lines(*SHEETS["budget"], year=year, active=active,
                               totals=rules.stated_totals(budget))
    line_issues = lines_schema.issues(budget, file=file)
    lines, arsbudget = _lines(_passing(budget, line_issues), active, year)

    finansiering = prepared["finansiering"]
    finansiering_issues = rules.finansiering(*SHEETS["finansiering"]).issues(finansiering, file=file)
    income = _passing(finansiering, finansiering_issues).assign(year=year)
    return Conformed(
        frame=lines,
        issues=combine(insatser_issues, line_issues, finansiering_issues),
        rows_read=sum(len(frame) for frame in raw.values()),
        extra={"insatser": catalogue, "finansiering": income[list(_FINANSIERING_COLUMNS)],
               "arsbudget": arsbudget},
    )


def active_quarters(catalogue: pd.DataFrame, year: int) -> pd.DataFrame:
    """Per insats of the catalogue (index), whether it is active in each quarter of ``year``."""
    starts, ends = catalogue["startdatum"], catalogue["slutdatum"]
    active = {}
    for number, quarter in enumerate(QUARTERS, 1):
        first_day = pd.Timestamp(year, 3 * number - 2, 1)
        last_day = first_day + pd.offsets.QuarterEnd(0)
        active[quarter] = ((starts <= last_day) & (ends.isna() | (ends >= first_day))).to_numpy(bool)
    return pd.DataFrame(active, index=pd.Index(catalogue["insats"], name="insats"))


def _year(delivery: Delivery) -> int:
    if delivery.scope is None or not delivery.scope.isdigit():
        raise DeliveryRejected(SPEC.name, delivery.file_name,
                               "the file name does not give the budget year (<YYYYMMDD>_budget_<YYYY>.xlsx)")
    return int(delivery.scope)


def _amounts(values: pd.Series) -> pd.Series:
    return parsing.parse_amounts(values)[0]


def _prepare_insatser(raw: pd.DataFrame) -> pd.DataFrame:
    inriktning = raw["inriktning"].str.casefold().map({name.casefold(): name for name in INRIKTNING})
    return with_text(raw).assign(
        insats=raw["insats"].str.upper(),
        namn=raw["namn"],
        startdatum=parsing.parse_dates(raw["startdatum"])[0],
        slutdatum=parsing.parse_dates(raw["slutdatum"])[0],
        inriktning=inriktning.astype("string"),
        mal_deltagare=_amounts(raw["mal_deltagare"]),
        mal_andel=_parse_share(raw["mal_andel"]),
    )


def _parse_share(values: pd.Series) -> pd.Series:
    """``55 %`` -> 0.55. Without a ``%`` only a fraction (an Excel percent cell) is unambiguous,
    which is why the rules accept 0..1 only."""
    percent = values.str.endswith("%").fillna(False)
    number = _amounts(values.str.removesuffix("%"))
    return number.where(~percent, number / 100)


def _parse_kostnadsslag(values: pd.Series) -> pd.Series:
    """Code or label, case-insensitively, to the code; NA when neither."""
    frame = reference.code_list("kostnadsslag")
    lookup = {**dict(zip(frame["label"].str.casefold(), frame["code"])),
              **dict(zip(frame["code"].str.casefold(), frame["code"]))}
    return values.str.casefold().map(lookup).astype("string")


def _prepare_lines(raw: pd.DataFrame) -> pd.DataFrame:
    """Besides the values, each row's kind: a TOTALT row, a row with quarters, or an annual amount
    (a cost line with only Ackumulering)."""
    insats = raw["insats"].str.upper()
    is_total = ((insats == TOTAL) | (raw["kostnadsslag"].str.upper() == TOTAL)).fillna(False).astype(bool)
    # A quarter cell that is filled but unreadable still means "quarters given": never spread it.
    quarterly = raw[list(QUARTERS)].notna().any(axis=1)
    ackumulering = _amounts(raw["ackumulering"])
    return with_text(raw).assign(
        insats=insats,
        kostnadsslag=_parse_kostnadsslag(raw["kostnadsslag"]),
        **{quarter: _amounts(raw[quarter]) for quarter in QUARTERS},
        ackumulering=ackumulering,
        arsbudget=_amounts(raw["arsbudget"]),
        is_total=is_total,
        quarterly=quarterly,
        annual=~is_total & ~quarterly & ackumulering.notna(),
    )


def _prepare_finansiering(raw: pd.DataFrame) -> pd.DataFrame:
    return with_text(raw).assign(finansiar=raw["finansiar"], belopp=_amounts(raw["belopp"]))


def _passing(frame: pd.DataFrame, issues: pd.DataFrame) -> pd.DataFrame:
    """The rows without an error; the workbook's rules have no warnings to hold."""
    failed = frame["row_number"].isin(issues.loc[issues["severity"] == ERROR, "row_number"])
    return frame.loc[~failed].reset_index(drop=True)


def _lines(passed: pd.DataFrame, active: pd.DataFrame,
           year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cost lines, annual amounts spread; and the Årsbudget of each insats's TOTALT row."""
    quarters, spread = _spread(passed, active)
    frame = passed.assign(year=year, **quarters, spread=spread)
    insats_total = frame["is_total"] & (frame["insats"] != TOTAL).fillna(False)
    totals = frame.loc[insats_total & frame["arsbudget"].notna(),
                       ["year", "insats", "arsbudget", "row_number"]]
    return (frame.loc[~frame["is_total"], list(_LINE_COLUMNS)].reset_index(drop=True),
            totals.reset_index(drop=True))


def _spread(lines: pd.DataFrame, active: pd.DataFrame) -> tuple[dict[str, pd.Series], pd.Series]:
    """Annual amounts spread evenly over the quarters in which the insats is active (its inactive
    quarters 0); given quarters are kept as they are. Also the ``spread`` flag."""
    by_row = active.reindex(lines["insats"].to_numpy(), fill_value=False).set_axis(lines.index)
    count = by_row.sum(axis=1)
    spreadable = lines["annual"] & (count > 0)
    share = lines["ackumulering"] / count.where(count > 0)
    quarters = {quarter: lines[quarter].mask(spreadable, share.where(by_row[quarter], 0.0))
                .astype("Float64") for quarter in QUARTERS}
    return quarters, spreadable.astype(bool)
