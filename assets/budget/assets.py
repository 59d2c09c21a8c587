"""The board's economy for each quarter of the run: follow-up, delårsrapport, årsredovisning.

Each asset is thin: read the warehouse as it stands, compute with the pure functions of
:mod:`assets.budget.followup` and :mod:`assets.budget.statements`, write the files, and read them
back for the output check (:mod:`assets.budget.checks`). Every figure is selected by the dates in
the data (booking, enrolment and exit days), so a quarter built later from later deliveries shows
what those deliveries say about the quarter. Outputs (publishable: no personal data):

- ``<out>/budget/<YYYY>Q<n>/budgetuppfoljning.xlsx`` and ``.html``: every quarter with data;
- ``<out>/delarsrapport/<YYYY>T<n>/`` (or ``<YYYY>H1``) ``delarsrapport.xlsx`` and ``.html``: each
  tertial (or half-year) that ends within the run's quarters, once it has ended;
- ``<out>/arsredovisning/<YYYY>/arsredovisning.xlsx`` and ``.html``: each year whose last quarter
  is in the run, once the year has ended.

A period without a budget and without bookings gets no files; the asset says ``ingen data``.
The förbund chooses tertial or half-year reports (``OutputFolder.delarsperiod``, set from
``FINSAM_DELARSPERIOD`` in ``orchestration/settings.py``).
"""


import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pandas as pd
from sqlalchemy import Connection, select

from assets import readiness
from assets.budget import (
    checks,
    followup,
    layout,
    report,
    statement_report,
    statements,
    views,
)
from assets.budget.followup import HALVAR, KVARTAL, TERTIAL, Period
from assets.resources import OutputFolder, Warehouse
from assets.retry import retry_when_busy
from assets.signoff import Published, Publisher
from finsam import periods
from finsam.periods import TIMEZONE
from sources.registry import REGISTRY
from warehouse import models, quarantine

DATES = ("bokforingsdatum", "inskrivningsdatum", "utskrivningsdatum", "startdatum", "slutdatum",
         "record_date")
_DELARSPERIOD_NAMES = {"tertial": TERTIAL, "halvår": HALVAR}
NO_DATA = "ingen data"
NOT_ENDED = "inte avslutad"
_BUDGET_TABLES = {"lines": models.BudgetLine, "annual": models.BudgetAnnual,
                  "catalogue": models.BudgetInsats, "financing": models.BudgetFinancing}
# what the reports read: the budget workbook, the ledger and the participants' spells
_DEPS = [REGISTRY.spec(name).asset for name in ("budget", "ekonomi", "insats")]


def delarsperiod(out: OutputFolder) -> str:
    """The förbund's choice of part-year report (tertial or halvår)."""
    return _DELARSPERIOD_NAMES[out.delarsperiod]


def today() -> dt.date:
    return dt.datetime.now(ZoneInfo(TIMEZONE)).date()


def _read(connection: Connection, model, columns: tuple[str, ...], **where) -> pd.DataFrame:
    """The ``columns`` of ``model``'s rows that match ``where``. Only what the reports use (and
    ``delivery_id``, the reports' lineage): the spells and the ledger are wide, and reading all
    their columns took longer than a follow-up."""
    table = model.__table__
    query = select(*(table.c[name] for name in (*columns, "delivery_id")))
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


def _held_ledger_rows(connection: Connection) -> pd.DataFrame:
    """Open ledger rows held for an unknown Projekt, with the booking date of the row itself."""
    table = models.HeldRow.__table__
    frame = pd.read_sql(select(table.c.record_date, table.c.match_key, table.c.delivery_id).where(
        table.c.source == "ekonomi", table.c.status == quarantine.OPEN,
        table.c.rule == "okänt projekt"), connection)
    frame["record_date"] = pd.to_datetime(frame["record_date"])
    return frame


def shared_inputs(connection: Connection) -> dict:
    """What every period's reports read: the ledger, the spells, the held ledger rows and every
    year's budget tables (read once per run)."""
    columns = followup.INPUT_COLUMNS
    return {"ledger": _read(connection, models.LedgerEntry, columns["ledger"]),
            "spells": _read(connection, models.Spell, columns["spells"]),
            "held_ledger_rows": _held_ledger_rows(connection),
            **{name: _read(connection, model, columns[name])
               for name, model in _BUDGET_TABLES.items()}}


def inputs(connection: Connection, year: int, shared: dict | None = None) -> dict:
    """Everything a report of ``year`` reads: :func:`shared_inputs` and the year's held budget
    rows."""
    return {**(shared or shared_inputs(connection)),
            "held_budget_rows": _held_budget_rows(connection, year)}


def quarter_report(year: int, quarter: int, *, as_of: dt.date | None = None,
                   tertial: bool = True, **data) -> tuple[followup.FollowUp, report.Report] | None:
    """Pure: the quarter's follow-up and its report (None without data). ``tertial``: the last
    ended tertial's sheet too (a förbund that reports by half-year has no use for it)."""
    period = Period(year, KVARTAL, quarter)
    if not followup.has_data(year, period.next_start, **data):
        return None
    result, last_tertial = followup.quarter_followups(year, quarter, as_of=as_of, **data)
    history = followup.accumulated_history(year, quarter, lines=data["lines"],
                                           ledger=data["ledger"], catalogue=data["catalogue"])
    return result, report.followup_report(result, last_tertial if tertial else None, history)


def quarter_cells(year: int, quarter: int, *, as_of: dt.date | None = None, tertial: bool = True,
                  **data) -> pd.DataFrame | None:
    """Pure: the cells of the quarter's workbook (sheet, table, row, column, value), as
    :func:`write_quarter` writes it; None when the quarter has no data."""
    made = quarter_report(year, quarter, as_of=as_of, tertial=tertial, **data)
    return None if made is None else layout.cells(made[1])


def write_quarter(connection: Connection, out: Path, year: int, quarter: int,
                  shared: dict | None = None, *, as_of: dt.date | None = None,
                  tertial: bool = True, publisher: Publisher | None = None) -> dict | None:
    """The quarter's workbook and page under ``<out>/budget/<YYYY>Q<n>/`` (with ``underlag.csv``),
    or, once the quarter is signed off, what changed since under ``<out>/rattelser/``; None
    (nothing written) when the quarter has no data."""
    data = inputs(connection, year, shared)
    made = quarter_report(year, quarter, as_of=as_of, tertial=tertial, **data)
    if made is None:
        return None
    result, model = made
    publisher = publisher or Publisher(connection.engine, out)
    period = Period(year, KVARTAL, quarter)
    view = views.view("budgetuppfoljning", f"budget/{year}Q{quarter}", views.span_of(period),
                      model, (report.WORKBOOK_NAME, report.HTML_NAME),
                      views.period_lineage([period], data), publisher.deliveries,
                      publisher.run_id)
    total = result.tables[followup.FORBUNDET].loc[followup.TOTAL]
    return {**_published(publisher.publish(view), out),
            "utfall_ackumulerat": float(total["Utfall ackumulerat"]),
            "budget_ackumulerat": float(total["Budget ackumulerat"])}


def _published(published: Published, out: Path) -> dict:
    """What an asset reports of a view: its folder, the workbook written (none when frozen) and
    the publication itself (for the metadata)."""
    workbooks = [path for path in published.written if path.suffix == ".xlsx"]
    return {"folder": out / published.view.folder, "published": published,
            "workbook": workbooks[0] if workbooks else None}


def statement_cells(period: Period, *, as_of: dt.date | None = None,
                    **data) -> pd.DataFrame | None:
    """Pure: the cells of the delårsrapport's or årsredovisning's workbook; None when the period
    has not ended by ``as_of`` or has no data."""
    made = statements.statement(period, as_of=as_of, **data)
    return None if made is None else statement_report.statement_cells(made)


def write_statement(connection: Connection, out: Path, period: Period,
                    shared: dict | None = None, *, as_of: dt.date | None = None,
                    publisher: Publisher | None = None) -> dict | None:
    """A delårsrapport (a part-year) or the årsredovisning (the year), or its corrections once
    its span is signed off (the year's first quarter to the one it ends in); None (nothing
    written) when the period has not ended by ``as_of`` or has no data."""
    data = inputs(connection, period.year, shared)
    made = statements.statement(period, as_of=as_of, **data)
    if made is None:
        return None
    history = None
    if made.kind == statements.ARSREDOVISNING:
        history = followup.accumulated_history(period.year, 4, lines=data["lines"],
                                               ledger=data["ledger"], catalogue=data["catalogue"])
    kind = "arsredovisning" if made.kind == statements.ARSREDOVISNING else "delarsrapport"
    publisher = publisher or Publisher(connection.engine, out)
    lineage = views.period_lineage([period, period.previous_year()], data)
    view = views.view(kind, f"{kind}/{period.code}", views.span_of(period),
                      statement_report.statement_report(made, history),
                      statement_report.file_names(made), lineage, publisher.deliveries,
                      publisher.run_id)
    return {**_published(publisher.publish(view), out),
            "resultat": float(made.resultat.iloc[-1, 0])}


def quarters_of(context: dg.AssetExecutionContext) -> list[tuple[int, int]]:
    keys = context.partition_key_range
    return [(period.year, period.quarter) for period in
            periods.quarters_between(periods.quarter(keys.start), periods.quarter(keys.end))]


def _metadata(written: dict[str, dict], skipped: dict[str, str], publisher: Publisher,
              arrived: readiness.Arrived) -> dict:
    """What the run wrote (and what it only corrected, the period being signed off), left out and
    why, each period's deliveries, and what data the periods still lack."""
    made = {code: files for code, files in written.items() if files["workbook"] is not None}
    corrected = {code: files["published"] for code, files in written.items()
                 if files["published"].frozen is not None}
    metadata: dict = {"skrivna": dg.MetadataValue.json(sorted(made)),
                      "ej_skrivna": dg.MetadataValue.json(dict(sorted(skipped.items())))}
    if not written:
        metadata["status"] = NO_DATA
    else:
        latest = written[max(written)]
        metadata["mapp"] = dg.MetadataValue.path(str(latest["folder"]))
        metadata["underlag"] = dg.MetadataValue.json(
            {code: publisher.deliveries.metadata(files["published"].view.lineage)
             for code, files in sorted(written.items())})
    if corrected:
        metadata["signerade_rattelser"] = dg.MetadataValue.json(
            {code: published.correction_metadata() for code, published in sorted(corrected.items())})
    gaps = {code: files["saknas"] for code, files in sorted(written.items()) if files["saknas"]}
    metadata["underlag_saknas"] = dg.MetadataValue.json(gaps)
    return metadata


def _gaps(arrived: readiness.Arrived, period: Period) -> list[str]:
    return readiness.missing(arrived, period.start.date(), period.end.date(), readiness.BUDGET)


def _workbooks(written: dict[str, dict]) -> list[Path]:
    return [files["workbook"] for files in written.values() if files["workbook"] is not None]


def build_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.asset(name="budget_followup", group_name="ekonomi", partitions_def=partitions,
              deps=_DEPS, kinds={"excel", "html"},
              check_specs=checks.check_specs("budget_followup"))
    def budget_followup(context: dg.AssetExecutionContext, warehouse: Warehouse,
                        out: OutputFolder) -> dg.MaterializeResult:
        """Budget mot utfall per kvartal och insats, med helårsprognos, årets resultat och eget
        kapital, till styrelsen; med den senast avslutade tertialen. Kvartal utan budget och
        utan bokföring får ingen arbetsbok (ingen data)."""
        written, skipped = {}, {}
        tertial = delarsperiod(out) == TERTIAL
        with retry_when_busy(context.retry_number), warehouse.engine().connect() as connection:
            publisher = Publisher(warehouse.engine(), out.root, context.run_id)
            arrived = readiness.Arrived.read(connection)
            shared = shared_inputs(connection)
            for year, quarter in quarters_of(context):
                label = f"{year}Q{quarter}"
                files = write_quarter(connection, out.root, year, quarter, shared,
                                      as_of=today(), tertial=tertial, publisher=publisher)
                if files is None:
                    skipped[label] = NO_DATA
                else:
                    written[label] = {**files,
                                      "saknas": _gaps(arrived, Period(year, KVARTAL, quarter))}
        metadata = _metadata(written, skipped, publisher, arrived)
        metadata["kvartal"] = dg.MetadataValue.json(sorted(written))
        if written:
            latest = written[max(written)]
            metadata["senaste_utfall_ackumulerat"] = latest["utfall_ackumulerat"]
            metadata["senaste_budget_ackumulerat"] = latest["budget_ackumulerat"]
        return dg.MaterializeResult(metadata=metadata,
                                    check_results=[checks.result(_workbooks(written))])

    @dg.asset(name="delarsrapport", group_name="ekonomi", partitions_def=partitions,
              deps=_DEPS, kinds={"excel", "html"},
              check_specs=checks.check_specs("delarsrapport"))
    def delarsrapport(context: dg.AssetExecutionContext, warehouse: Warehouse,
                      out: OutputFolder) -> dg.MaterializeResult:
        """Delårsrapport per avslutad tertial (30 april, 31 augusti) eller halvår (30 juni), som
        förbundet valt: resultaträkning, eget kapital, medlemmarnas finansiering, insatser,
        deltagare mot mål, jämfört med samma period året före."""
        unit = delarsperiod(out)
        written, skipped = {}, {}
        with retry_when_busy(context.retry_number), warehouse.engine().connect() as connection:
            publisher = Publisher(warehouse.engine(), out.root, context.run_id)
            arrived = readiness.Arrived.read(connection)
            shared = shared_inputs(connection)
            for year, quarter in quarters_of(context):
                for period in statements.delarsperioder(unit, year, quarter):
                    _write_or_skip(connection, out.root, period, shared, written, skipped,
                                   publisher, arrived)
        return dg.MaterializeResult(metadata=_metadata(written, skipped, publisher, arrived),
                                    check_results=[checks.result(_workbooks(written))])

    @dg.asset(name="arsredovisning", group_name="ekonomi", partitions_def=partitions,
              deps=_DEPS, kinds={"excel", "html"},
              check_specs=checks.check_specs("arsredovisning"))
    def arsredovisning(context: dg.AssetExecutionContext, warehouse: Warehouse,
                       out: OutputFolder) -> dg.MaterializeResult:
        """Årsredovisningens tabeller för varje avslutat år vars fjärde kvartal ingår i körningen:
        resultaträkning, eget kapital, medlemmarnas andelar av finansieringen, jämförelse med
        föregående år, deltagare mot mål och kostnad per deltagare, strukturövergripande insatser."""
        written, skipped = {}, {}
        with retry_when_busy(context.retry_number), warehouse.engine().connect() as connection:
            publisher = Publisher(warehouse.engine(), out.root, context.run_id)
            arrived = readiness.Arrived.read(connection)
            shared = shared_inputs(connection)
            for year, quarter in quarters_of(context):
                if quarter == 4:
                    _write_or_skip(connection, out.root, statements.annual_period(year), shared,
                                   written, skipped, publisher, arrived)
        return dg.MaterializeResult(metadata=_metadata(written, skipped, publisher, arrived),
                                    check_results=[checks.result(_workbooks(written))])

    return [budget_followup, delarsrapport, arsredovisning]


def _write_or_skip(connection: Connection, out: Path, period: Period, shared: dict,
                   written: dict, skipped: dict, publisher: Publisher,
                   arrived: readiness.Arrived) -> None:
    as_of = today()
    if not period.ended(as_of):
        skipped[period.code] = NOT_ENDED
        return
    files = write_statement(connection, out, period, shared, as_of=as_of, publisher=publisher)
    if files is None:
        skipped[period.code] = NO_DATA
    else:
        written[period.code] = {**files, "saknas": _gaps(arrived, period)}
