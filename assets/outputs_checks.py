"""Checks on the SUS outputs: what SUS and the board receive is complete and protected."""

from pathlib import Path

import dagster as dg
import openpyxl
import pandas as pd

from assets.resources import OutputFolder

HIDDEN = ".."
PUBLISHED_WORKBOOK = "sus_statistik.xlsx"
ABOUT_SHEET = "Om statistiken"


def _latest(folder_glob, out: OutputFolder):
    found = sorted(out.root.glob(folder_glob), key=lambda path: path.stat().st_mtime)
    return found[-1] if found else None


@dg.asset_check(asset="sus_submission", name="filer_kompletta",
                description="De tre SUS-filerna finns och anonyma.csv har inga personnummer.")
def sus_files_complete(out: OutputFolder) -> dg.AssetCheckResult:
    folder = _latest("begransad/sus/*_*", out)
    names = ("inregistreringar.csv", "utregistreringar.csv", "anonyma.csv")
    missing = [name for name in names if folder is None or not (folder / name).exists()]
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
    event = context.instance.get_latest_materialization_event(dg.AssetKey("sus_statistics"))
    if event is None or event.run_id != context.run.run_id:
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.ERROR,
                                   metadata={"fel": "ingen SUS-statistik i körningen"})
    metadata = event.asset_materialization.metadata
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
