"""The board's budget follow-up for each quarter of the run, from the ledger and the budget."""

import datetime as dt

import dagster as dg
import pandas as pd
from sqlalchemy import Connection, select

from assets.budget import followup, report
from assets.resources import OutputFolder, Warehouse
from assets.retry import retry_when_busy
from finsam.periods import quarter_label
from warehouse import models, quarantine

DATES = ("bokforingsdatum", "inskrivningsdatum", "utskrivningsdatum", "startdatum", "slutdatum")


def _read(connection: Connection, model, columns: tuple[str, ...], **where) -> pd.DataFrame:
    """The ``columns`` of ``model``'s rows that match ``where``. Only what the follow-up uses: the
    spells and the ledger are wide, and reading all their columns took longer than a follow-up."""
    table = model.__table__
    query = select(*(table.c[name] for name in columns))
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    frame = pd.read_sql(query, connection)
    for name in DATES:
        if name in frame:
            frame[name] = pd.to_datetime(frame[name])
    return frame


def _held_budget_rows(connection: Connection, year: int) -> pd.DataFrame:
    table = models.HeldRow.__table__
    held = pd.read_sql(select(table.c.match_key).where(
        table.c.source == "budget", table.c.status == quarantine.OPEN, table.c.scope == str(year),
        table.c.match_key.isnot(None)), connection)
    parts = held["match_key"].drop_duplicates().str.split("|", n=1, expand=True)
    return (parts.set_axis(["insats", "kostnadsslag"], axis=1) if not parts.empty
            else pd.DataFrame(columns=["insats", "kostnadsslag"]))


def _held_ledger_rows(connection: Connection) -> int:
    table = models.HeldRow.__table__
    return len(pd.read_sql(select(table.c.id).where(
        table.c.source == "ekonomi", table.c.status == quarantine.OPEN,
        table.c.rule == "okänt projekt"), connection))


def shared_inputs(connection: Connection) -> dict:
    """What every quarter's follow-up reads: the ledger and the spells (read once per run)."""
    columns = followup.INPUT_COLUMNS
    return {"ledger": _read(connection, models.LedgerEntry, columns["ledger"]),
            "spells": _read(connection, models.Spell, columns["spells"]),
            "held_ledger_rows": _held_ledger_rows(connection)}


def inputs(connection: Connection, year: int, shared: dict | None = None) -> dict:
    columns = followup.INPUT_COLUMNS
    return {
        "lines": _read(connection, models.BudgetLine, columns["lines"], year=year),
        "annual": _read(connection, models.BudgetAnnual, columns["annual"], year=year),
        "catalogue": _read(connection, models.BudgetInsats, columns["catalogue"], year=year),
        "financing": _read(connection, models.BudgetFinancing, columns["financing"], year=year),
        "held_budget_rows": _held_budget_rows(connection, year),
        **(shared or shared_inputs(connection)),
    }


def write_quarter(connection: Connection, out, year: int, quarter: int,
                  shared: dict | None = None) -> dict:
    data = inputs(connection, year, shared)
    result, tertial = followup.quarter_followups(year, quarter, **data)
    history = followup.accumulated_history(year, quarter, lines=data["lines"], ledger=data["ledger"])
    folder = out / "budget" / f"{year}Q{quarter}"
    folder.mkdir(parents=True, exist_ok=True)
    workbook = report.write_workbook(result, folder / "budgetuppfoljning.xlsx", tertial=tertial)
    page = report.write_html(result, folder / "budgetuppfoljning.html", history=history)
    total = result.tables["Förbundet"].loc["Totalt"]
    return {"folder": folder, "workbook": workbook, "page": page,
            "utfall_ackumulerat": float(total["Utfall ackumulerat"]),
            "budget_ackumulerat": float(total["Budget ackumulerat"])}


def quarters_of(context: dg.AssetExecutionContext) -> list[tuple[int, int]]:
    window = context.partition_time_window
    months = pd.period_range(window.start.date(), window.end.date() - dt.timedelta(days=1), freq="Q")
    return [(period.year, period.quarter) for period in months]


def build_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.asset(name="budget_followup", group_name="ekonomi", partitions_def=partitions,
              backfill_policy=dg.BackfillPolicy.single_run(),
              deps=["budget_workbook", "ekonomi_ledger", "insats_spells"], kinds={"excel", "html"})
    def budget_followup(context: dg.AssetExecutionContext, warehouse: Warehouse,
                        out: OutputFolder) -> dg.MaterializeResult:
        """Budget mot utfall per kvartal och insats, med helårsprognos, till styrelsen."""
        written = {}
        with retry_when_busy(context.retry_number), warehouse.engine().connect() as connection:
            shared = shared_inputs(connection)
            for year, quarter in quarters_of(context):
                label = quarter_label(dt.date(year, 3 * quarter - 2, 1))
                written[label] = write_quarter(connection, out.root, year, quarter, shared)
        latest = written[max(written)]
        return dg.MaterializeResult(metadata={
            "kvartal": dg.MetadataValue.json(sorted(written)),
            "senaste_utfall_ackumulerat": latest["utfall_ackumulerat"],
            "senaste_budget_ackumulerat": latest["budget_ackumulerat"],
            "mapp": dg.MetadataValue.path(str(latest["folder"])),
        })

    return [budget_followup]
