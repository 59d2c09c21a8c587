"""SUS outputs per quarter range: the submission files and the statistics."""

import datetime as dt
from pathlib import Path

import dagster as dg
import pandas as pd
from pydantic import Field
from sqlalchemy import Connection, func, select

from assets.files import restricted
from assets.resources import OutputFolder, SecretKeys, Warehouse
from assets.retry import retry_when_busy
from assets.sus import publish, statistics, submission, suppression
from assets.sus.warehouse_frames import read_catalogue, read_spells, read_sus_consents
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


def _no_data(start: dt.date, end: dt.date) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"status": NO_DATA,
                                          "period": period_folder(start, end),
                                          "filer": dg.MetadataValue.json([])})


def period_folder(start: dt.date, end: dt.date) -> str:
    return f"{quarter_label(start)}_{quarter_label(end)}"


class SusConfig(dg.Config):
    insats: str | None = Field(default=None, description="bara denna insats (kod)")
    min_cell: int = Field(default=3, description="minsta visade antal i publicerad statistik")


def build_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.asset(name="sus_submission", group_name="sus", partitions_def=partitions,
              deps=["insats_spells", "samtycke_consents"], kinds={"csv"})
    def sus_submission(context: dg.AssetExecutionContext, warehouse: Warehouse,
                       secrets: SecretKeys, out: OutputFolder) -> dg.MaterializeResult:
        """In-, ut- och anonyma registreringar till SUS för perioden; personnummer bara med samtycke."""
        start, end = period(context)
        with retry_when_busy(context.retry_number), warehouse.engine().connect() as connection:
            spells = read_spells(connection)
            if not period_has_data(connection, spells, start, end):
                return _no_data(start, end)
            selection = submission.selection_for(spells, read_sus_consents(connection),
                                          start, end)
            people = pd.concat([selection.enrolled["pseudonym"], selection.ended["pseudonym"]])
            identities = submission.identities(connection, secrets.load().vault, people)
        # identity numbers: only ever in the restricted folder (0700), never beside what is published
        folder = restricted(out.root, "sus", period_folder(start, end))
        files = submission.SusAdapter().write(selection, identities, folder)
        return dg.MaterializeResult(metadata={
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
        """SUS-statistiken för perioden: intern arbetsbok, publicerad arbetsbok och webbsida."""
        start, end = period(context)
        with retry_when_busy(context.retry_number), warehouse.engine().connect() as connection:
            spells = read_spells(connection, config.insats)
            if not period_has_data(connection, spells, start, end):
                return _no_data(start, end)
            catalogue = read_catalogue(connection, end.year)
        files = write_statistics(spells, catalogue, start, end,
                                 folder_for(out.root, start, end, config.insats), config.min_cell)
        return dg.MaterializeResult(metadata={
            "deltaganden": len(spells), "minsta_visade_antal": config.min_cell,
            "mapp": dg.MetadataValue.path(str(files["html"].parent)),
            "filer": dg.MetadataValue.json([path.name for path in files.values()]),
        })

    return [sus_submission, sus_statistics]


def folder_for(out: Path, start: dt.date, end: dt.date, insats: str | None) -> Path:
    folder = out / "sus" / period_folder(start, end)
    return folder / insats.upper() if insats else folder


def write_statistics(spells: pd.DataFrame, catalogue: pd.DataFrame, start: dt.date, end: dt.date,
                     folder: Path, min_cell: int) -> dict[str, Path]:
    """The internal and the published workbook and the board's page for one period."""
    folder.mkdir(parents=True, exist_ok=True)
    stats = statistics.sus_statistics(spells, start, end)
    names = dict(zip(catalogue["insats"], catalogue["namn"]))
    targets = dict(zip(catalogue["insats"], catalogue["mal_andel"].astype(float)))
    targets = {code: share for code, share in targets.items() if pd.notna(share)}
    span = (start, end)
    # the protection is the expensive part of publishing: worked out once for workbook and page
    protected = suppression.protect_statistics(stats, min_cell=min_cell)
    return {
        "intern": publish.write_internal_workbook(stats, folder / publish.INTERNAL_FILE,
                                                  period=span, names=names),
        "publicerad": publish.write_published_workbook(stats, folder / publish.PUBLISHED_FILE,
                                                       min_cell, period=span, names=names,
                                                       protected=protected),
        "html": publish.write_html(stats, folder / publish.HTML_FILE, min_cell=min_cell,
                                   quarterly=statistics.quarterly_counts(spells, start, end),
                                   targets=targets, names=names, period=span,
                                   protected=protected),
    }
