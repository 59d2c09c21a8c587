"""Checks on the SUS outputs: what SUS and the board receive is complete and protected."""

from pathlib import Path

import dagster as dg
import openpyxl
import pandas as pd

HIDDEN = ".."
PUBLISHED_WORKBOOK = "sus_statistik.xlsx"
ABOUT_SHEET = "Om statistiken"


def _own_metadata(context: dg.AssetCheckExecutionContext, asset: str) -> dict | None:
    """The metadata of ``asset`` as this run materialised it (None: not in this run). Another
    period's folder, or the newest folder on disk, would check something else than was written."""
    event = context.instance.get_latest_materialization_event(dg.AssetKey(asset))
    if event is None or event.run_id != context.run.run_id:
        return None
    return event.asset_materialization.metadata


@dg.asset_check(asset="sus_submission", name="filer_kompletta",
                description="De tre SUS-filerna som körningen skrev finns och anonyma.csv har "
                            "inga personnummer.")
def sus_files_complete(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    metadata = _own_metadata(context, "sus_submission")
    if metadata is None:
        return dg.AssetCheckResult(passed=False, metadata={"fel": "ingen SUS-inlämning i körningen"})
    if "mapp" not in metadata:
        # a quarter without data: nothing was written, and nothing was to be
        return dg.AssetCheckResult(passed=True, metadata={"kommentar": "ingen data för perioden"})
    folder = Path(str(metadata["mapp"].value))
    names = ("inregistreringar.csv", "utregistreringar.csv", "anonyma.csv")
    missing = [name for name in names if not (folder / name).exists()]
    identities = 0
    if not missing:
        anonymous = pd.read_csv(folder / "anonyma.csv", sep=";", dtype=str)
        cells = anonymous.stack()
        identities = int(cells.str.fullmatch(r"\d{10,12}").sum()) if not cells.empty else 0
    return dg.AssetCheckResult(passed=not missing and identities == 0,
                               metadata={"saknade_filer": dg.MetadataValue.json(missing),
                                         "personnummer_i_anonyma": identities})


def visible_small_counts(path: Path, min_cell: int) -> list[str]:
    """The cells of a published workbook that show a count from 1 to min_cell - 1 (shares, in
    percent format, are not counts)."""
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        return [f"{sheet.title}!{cell.coordinate}" for sheet in workbook
                if sheet.title != ABOUT_SHEET for row in sheet.iter_rows() for cell in row
                if isinstance(cell.value, int) and not isinstance(cell.value, bool)
                and 0 < cell.value < min_cell and cell.number_format != "0%"]
    finally:
        workbook.close()


@dg.asset_check(asset="sus_statistics", name="sma_tal_dolda",
                description="Den publicerade arbetsboken från körningen visar inga antal mellan 1 "
                            "och min_cell−1, och inget dolt tal går att räkna fram ur det som "
                            "publicerats.")
def small_counts_hidden(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    # The run's own statistics, where they were written and with its min_cell: another period's
    # folder or the default threshold would check something else than was just published.
    metadata = _own_metadata(context, "sus_statistics")
    if metadata is None:
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.ERROR,
                                   metadata={"fel": "ingen SUS-statistik i körningen"})
    if "mapp" not in metadata:
        return dg.AssetCheckResult(passed=True, metadata={"kommentar": "ingen data för perioden"})
    min_cell = int(metadata["minsta_visade_antal"].value)
    path = Path(str(metadata["mapp"].value)) / PUBLISHED_WORKBOOK
    if not path.exists():
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.ERROR,
                                   metadata={"fel": f"{path.name} saknas"})
    small = visible_small_counts(path, min_cell)
    exposed = int(metadata["ej_skyddade"].value) if "ej_skyddade" in metadata else 0
    return dg.AssetCheckResult(passed=not small and not exposed,
                               severity=dg.AssetCheckSeverity.ERROR,
                               metadata={"synliga_sma_tal": len(small),
                                         "minsta_visade_antal": min_cell,
                                         "harledbara_dolda_tal": exposed,
                                         "exempel": dg.MetadataValue.json(small[:10])})


# The board's economy checks its own workbooks as it writes them (assets/budget/checks.py).
CHECKS = [sus_files_complete, small_counts_hidden]
