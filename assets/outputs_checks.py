"""Checks on the SUS outputs: what SUS and the board receive is complete and protected."""

import dagster as dg
import openpyxl
import pandas as pd

from assets.resources import OutputFolder

HIDDEN = ".."


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


@dg.asset_check(asset="sus_statistics", name="sma_tal_dolda",
                description="Den publicerade arbetsboken visar inga antal mellan 1 och min_cell−1.")
def small_counts_hidden(out: OutputFolder) -> dg.AssetCheckResult:
    path = _latest("sus/**/sus_statistik.xlsx", out)
    if path is None:
        return dg.AssetCheckResult(passed=False, metadata={"fel": "ingen publicerad arbetsbok"})
    workbook = openpyxl.load_workbook(path, read_only=True)
    small = [f"{sheet.title}!{cell.coordinate}" for sheet in workbook if sheet.title != "Om statistiken"
             for row in sheet.iter_rows() for cell in row
             if isinstance(cell.value, int) and not isinstance(cell.value, bool)
             and 0 < cell.value < 3 and cell.number_format != "0%"]
    workbook.close()
    return dg.AssetCheckResult(passed=not small, severity=dg.AssetCheckSeverity.ERROR,
                               metadata={"synliga_sma_tal": len(small),
                                         "exempel": dg.MetadataValue.json(small[:10])})


# The board's economy checks its own workbooks as it writes them (assets/budget/checks.py).
CHECKS = [sus_files_complete, small_counts_hidden]
