"""SUS outputs per quarter range: the submission files and the statistics.

Files that hold identity numbers or every count go to the restricted folder: the submission to
``<out>/begransad/sus/<FROM>_<TO>/``, the internal workbook to
``<out>/begransad/sus_statistik/<FROM>_<TO>/``; the published workbook and page to
``<out>/sus/<FROM>_<TO>/``, so the wrong file cannot be picked up with the right ones. Each folder
is a sign-off view of the range (``assets/signoff.py``): once ``finsam signoff FROM-TO`` froze it,
later runs write its corrections instead (``submission_views.py``, ``statistics_views.py``).
"""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pandas as pd
from pydantic import Field
from sqlalchemy import Connection, func, select

from assets import lineage
from assets.files import RESTRICTED, restricted
from assets.resources import OutputFolder, SecretKeys, Warehouse
from assets.retry import retry_when_busy
from assets.signoff import Published, Publisher, Span
from assets.sus import (
    disclosure,
    publish,
    register,
    statistics,
    statistics_views,
    submission,
    submission_views,
    suppression,
)
from assets.sus.checks import not_ready, readiness
from assets.sus.warehouse_frames import (
    read_catalogue,
    read_counted_spells,
    read_spells,
    read_sus_consents,
)
from finsam.periods import parse_quarter, quarter_end, quarter_label
from sources.registry import REGISTRY
from sources.spec import Role
from warehouse import models

NO_DATA = "ingen data"


def period(context: dg.AssetExecutionContext) -> tuple[dt.date, dt.date]:
    """The run's quarters (partition keys ``2024Q4``) as a closed date interval."""
    keys = context.partition_key_range
    return parse_quarter(keys.start), quarter_end(keys.end)


def period_has_data(connection: Connection, spells: pd.DataFrame, start: dt.date,
                    end: dt.date) -> bool:
    """Whether anything is known about the period: a spell active in it, from a register delivered
    on or after its first day. A quarter no register has reached yet gets no files (a spell still
    open at the last delivery says nothing about the quarters after it)."""
    table = models.Delivery.__table__
    registers = [spec.name for spec in REGISTRY.specs() if spec.role == Role.PARTICIPANTS]
    newest = connection.execute(select(func.max(table.c.extraction_date))
                                .where(table.c.source.in_(registers))).scalar()
    if newest is None or pd.Timestamp(newest).date() < start:
        return False
    enrolled = pd.to_datetime(spells["inskrivningsdatum"])
    ended = pd.to_datetime(spells["utskrivningsdatum"])
    active = (enrolled <= pd.Timestamp(end)) & (ended.isna() | (ended >= pd.Timestamp(start)))
    return bool(active.any())


def no_data(start: dt.date, end: dt.date) -> dg.MaterializeResult:
    """What an output of a quarter without data materialises: no files, and why."""
    return dg.MaterializeResult(metadata={"status": NO_DATA,
                                          "period": period_folder(start, end),
                                          "filer": dg.MetadataValue.json([])})


def period_folder(start: dt.date, end: dt.date) -> str:
    return f"{quarter_label(start)}_{quarter_label(end)}"


class SusConfig(dg.Config):
    insats: str | None = Field(default=None, description="bara denna insats (kod)")
    min_cell: int = Field(default=3, description="minsta visade antal i publicerad statistik")
    tidsgrans_sekunder: float = Field(
        default=disclosure.DEFAULT_TIME_LIMIT, gt=0,
        description="längsta tid för röjandeskyddet; hinner det inte publiceras inget")


def build_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.asset(name="sus_submission", group_name="sus", partitions_def=partitions,
              deps=["insats_spells", "samtycke_consents"], kinds={"csv"})
    def sus_submission(context: dg.AssetExecutionContext, warehouse: Warehouse,
                       secrets: SecretKeys, out: OutputFolder) -> dg.MaterializeResult:
        """In-, ut- och anonyma registreringar till SUS för perioden; personnummer bara med samtycke."""
        start, end = period(context)
        with retry_when_busy(context.retry_number), warehouse.engine().connect() as connection:
            # issue 16: the check redo_for_sus blocks only this asset, by refusing here; and the
            # keys are checked against the warehouse before the vault is opened
            refused = not_ready(*readiness(connection))
            if refused:
                raise dg.Failure(description=f"SUS-filerna skrivs inte: {refused} "
                                             "(se kontrollen redo_for_sus)")
            keys = secrets.verified(warehouse.engine())
            spells = read_spells(connection)
            if not period_has_data(connection, spells, start, end):
                return no_data(start, end)
            selection = submission.selection_for(spells, read_sus_consents(connection),
                                          start, end)
            people = pd.concat([selection.enrolled["pseudonym"], selection.ended["pseudonym"]])
            identities = submission.identities(connection, keys.vault, people)
            # identity numbers: only ever in the restricted folder (0700); a signed-off quarter's
            # files stay as they were and the registrations to make since are written instead
            files, lineage = submission_views.publish_submission(
                connection, Publisher(warehouse.engine(), out.root, context.run_id), selection,
                identities, period_folder(start, end))
        folder = restricted(out.root, "sus", period_folder(start, end))
        return dg.MaterializeResult(metadata={**lineage,
            "inregistreringar": len(selection.enrolled),
            "utregistreringar": len(selection.ended),
            "anonyma": int(selection.anonymous["antal"].sum()),
            "utskrivna_utan_identitet": selection.ended_without_identity,
            "mapp": dg.MetadataValue.path(str(folder)),
            "filer": dg.MetadataValue.json([path.name for path in files]),
        })

    @dg.asset(name="sus_statistics", group_name="sus", partitions_def=partitions,
              deps=["insats_spells"], kinds={"excel", "html"})
    def sus_statistics(context: dg.AssetExecutionContext, config: SusConfig, warehouse: Warehouse,
                       out: OutputFolder) -> dg.MaterializeResult:
        """SUS-statistiken för perioden: intern arbetsbok, publicerad arbetsbok och webbsida,
        skyddade tillsammans med allt som publicerats tidigare (publiceringsregistret)."""
        start, end = period(context)
        with retry_when_busy(context.retry_number), warehouse.engine().begin() as connection:
            # the register is held from reading it to recording this release
            register.lock(connection)
            spells = read_counted_spells(connection)
            if not period_has_data(connection, spells, start, end):
                return no_data(start, end)
            catalogue = read_catalogue(connection, end.year)
            earlier = register.read(connection)
            prepared = prepare(spells, catalogue, start, end, config.min_cell,
                               insats=config.insats, register=earlier,
                               time_limit=config.tidsgrans_sekunder)
            # recorded whether the span is signed off or not: its files, or its corrections
            # (which show the new values that changed), publish this release
            recorded = register.record(connection, start, end, prepared.scope,
                                       prepared.protected.cells, config.min_cell, earlier)
        # issue 14: both workbooks and the page go through the publisher, so a signed-off span
        # keeps its files and later runs write what changed (shown values only, in public); a
        # retry runs the step again, which protects the same release and records nothing new
        with retry_when_busy(context.retry_number):
            publisher = Publisher(warehouse.engine(), out.root, context.run_id)
            published = publish_statistics(publisher, prepared, config.insats)
        report = prepared.protected.report
        if prepared.protected.unprotected:
            context.log.warning(f"{len(prepared.protected.unprotected)} dolda tal går att räkna "
                                "fram ur det som publicerats tidigare")
        public = published[statistics_views.PUBLISHED_KIND]
        metadata = {
            "underlag": dg.MetadataValue.json(publisher.deliveries.metadata(public.view.lineage)),
            "deltaganden": len(prepared.spells), "minsta_visade_antal": config.min_cell,
            "celler": report["celler"], "dolda_sma_tal": report["dolda_primart"],
            "dolda": report["dolda"], "ej_skyddade": report["ej_skyddade"],
            "tidigare_publiceringar": report["tidigare_publiceringar"],
            "nya_registerrader": recorded, "sekunder_skydd": report["sekunder"],
            "mapp": dg.MetadataValue.path(str(out.root / public.view.folder)),
            "filer": dg.MetadataValue.json([path.name for path in public.written
                                            if path.name != lineage.FILE_NAME]),
        }
        corrected = [one.correction_metadata() for one in published.values()
                     if one.frozen is not None]
        if corrected:
            metadata["signerad_rattelse"] = dg.MetadataValue.json(corrected)
        return dg.MaterializeResult(metadata=metadata)

    return [sus_submission, sus_statistics]


def folder_for(out: Path, start: dt.date, end: dt.date, insats: str | None) -> Path:
    """Where the published workbook and page of a period go."""
    folder = out / "sus" / period_folder(start, end)
    return folder / insats.upper() if insats else folder


def restricted_parts(start: dt.date, end: dt.date, insats: str | None) -> list[str]:
    """The internal workbook's folder under ``begransad/``: a folder of its own, not the
    submission's (a view of its own, frozen with the published statistics)."""
    return ["sus_statistik", period_folder(start, end), *([insats.upper()] if insats else [])]


@dataclass
class Prepared:
    """A period's statistics ready to be written: the release's spells, every count, the
    protected release, and what the page needs from the catalogue."""

    spells: pd.DataFrame
    stats: dict[str, dict[str, pd.DataFrame]]
    protected: suppression.ProtectedRelease
    scope: str
    period: tuple[dt.date, dt.date]
    names: dict[str, str]
    targets: dict[str, float]
    min_cell: int


def prepare(spells: pd.DataFrame, catalogue: pd.DataFrame, start: dt.date, end: dt.date,
            min_cell: int, *, insats: str | None = None,
            register: pd.DataFrame | None = None,
            time_limit: float = disclosure.DEFAULT_TIME_LIMIT) -> Prepared:
    """Counts and protection for one period (``insats``: only that insats's spells), protected
    against ``register`` (None: nothing published before). ``spells``: every spell."""
    scope = (insats or "").upper()
    mine = spells.loc[spells["insats"] == scope] if scope else spells
    stats = statistics.sus_statistics(mine, start, end)
    quarterly = statistics.quarterly_counts(mine, start, end)
    protected = suppression.protect_release(spells, stats, quarterly, start, end, scope=scope,
                                            register=register, min_cell=min_cell,
                                            time_limit=time_limit)
    names = dict(zip(catalogue["insats"], catalogue["namn"]))
    targets = dict(zip(catalogue["insats"], catalogue["mal_andel"].astype(float)))
    targets = {code: share for code, share in targets.items() if pd.notna(share)}
    return Prepared(mine, stats, protected, scope, (start, end), names, targets, min_cell)


def write_files(prepared: Prepared, folder: Path, restricted_folder: Path) -> dict[str, Path]:
    """The internal workbook (restricted) and the published workbook and page (not through the
    publisher: no lineage, no sign-off; for tests and benchmarks of the files themselves)."""
    return {"intern": publish.write_internal_workbook(
                prepared.stats, restricted_folder / publish.INTERNAL_FILE,
                period=prepared.period, names=prepared.names),
            **write_published_files(prepared, folder)}


def write_published_files(prepared: Prepared, folder: Path) -> dict[str, Path]:
    """The published workbook and page of the protected release."""
    protected, span, min_cell = prepared.protected, prepared.period, prepared.min_cell
    return {
        "publicerad": publish.write_published_workbook(
            protected.tables, folder / publish.PUBLISHED_FILE, min_cell, period=span,
            names=prepared.names),
        "html": publish.write_html(protected.tables, folder / publish.HTML_FILE,
                                   min_cell=min_cell, quarterly=protected.quarterly,
                                   targets=prepared.targets, names=prepared.names, period=span),
    }


def write_statistics(spells: pd.DataFrame, catalogue: pd.DataFrame, start: dt.date, end: dt.date,
                     folder: Path, min_cell: int, *, insats: str | None = None,
                     restricted_folder: Path | None = None,
                     register: pd.DataFrame | None = None) -> dict[str, Path]:
    """The internal and the published workbook and the board's page for one period, protected
    against ``register`` (nothing is recorded: the asset does that). The internal workbook goes
    to ``restricted_folder``, by default ``begransad/`` beside the folder's parent."""
    prepared = prepare(spells, catalogue, start, end, min_cell, insats=insats, register=register)
    if restricted_folder is None:
        restricted_folder = restricted(folder.parent, folder.name)
    return write_files(prepared, folder, restricted_folder)


def publish_statistics(publisher: Publisher, prepared: Prepared,
                       insats: str | None) -> dict[str, Published]:
    """The published workbook and page, and the internal workbook, as the two views of the
    period's span: written, or (the span signed off) their corrections."""
    start, end = prepared.period
    span = Span.of(start, end)
    folder = folder_for(Path(), start, end, insats).as_posix()
    internal = restricted_parts(start, end, insats)
    read = statistics_views.statistics_lineage(prepared.spells, start, end)

    def write_published(out: Path) -> list[Path]:
        return list(write_published_files(prepared, out / folder).values())

    def write_internal(out: Path) -> list[Path]:
        return [publish.write_internal_workbook(
            prepared.stats, restricted(out, *internal) / publish.INTERNAL_FILE,
            period=prepared.period, names=prepared.names)]

    views = (statistics_views.published_view(folder, span, write_published,
                                             prepared.protected.cells, read),
             statistics_views.internal_view("/".join([RESTRICTED, *internal]), span,
                                            write_internal, prepared.stats, read))
    return {view.kind: publisher.publish(view) for view in views}
