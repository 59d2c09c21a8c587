"""The Uppföljning Finsam files: two CSV files to upload and one workbook laid out in the order the
förbund keys the figures in (the förbund's money, the administration, each insats, the participants).
Publishable: counts and money only, never a person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
from openpyxl.styles import Font

from assets.files import write_csv, write_with
from assets.uppfoljning.counts import COUNTING_RULES, Ekonomi
from finsam import reference
from finsam.periods import quarter_label

DELTAGARE_FILE = "deltagare.csv"
EKONOMI_FILE = "ekonomi.csv"
WORKBOOK_FILE = "uppfoljning_finsam.xlsx"
# The form's order: the förbundsadministratör's money first, then the deltagaransvarig's counts.
SHEETS = ("1 Medel och eget kapital", "2 Administration", "3 Insatser", "4 Deltagare",
          "Om uppgifterna")
_BOLD = Font(bold=True)


@dataclass(frozen=True)
class Content:
    """One period's Uppföljning Finsam content."""

    start: date
    end: date
    deltagare: pd.DataFrame          # Insats, Kön, Antal
    ekonomi: Ekonomi | None
    names: dict[str, str]


class UppfoljningAdapter:
    """Writes :class:`Content` as Uppföljning Finsam wants it."""

    name = "Uppföljning Finsam"

    def write(self, content: Content, folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        written = [write_csv(content.deltagare, folder / DELTAGARE_FILE)]
        if content.ekonomi is not None:
            written.append(write_csv(content.ekonomi.rows(), folder / EKONOMI_FILE))
        written.append(write_with(folder / WORKBOOK_FILE,
                                  lambda path: _workbook(content).save(path)))
        return written


def _sheet(workbook: openpyxl.Workbook, title: str, heading: str,
           frame: pd.DataFrame | None) -> None:
    sheet = workbook.create_sheet(title)
    sheet.append([heading])
    sheet["A1"].font = _BOLD
    sheet.append([])
    if frame is None or frame.empty:
        sheet.append(["Inga uppgifter för perioden."])
        return
    sheet.append(list(frame.columns))
    for cell in sheet[3]:
        cell.font = _BOLD
    for row in frame.itertuples(index=False):
        sheet.append([None if pd.isna(value) else value for value in row])
    for column in sheet.columns:
        width = max(len(str(cell.value or "")) for cell in column)
        sheet.column_dimensions[column[0].column_letter].width = min(max(width + 2, 10), 60)


def participants_wide(content: Content) -> pd.DataFrame:
    """Insats × kön as the form shows it: one row per insats, a column per kön and Totalt."""
    if content.deltagare.empty:
        return content.deltagare
    wide = content.deltagare.pivot_table(index="Insats", columns="Kön", values="Antal",
                                         aggfunc="sum", fill_value=0, sort=False)
    order = [label for label in reference.labels("kon").values() if label in wide.columns]
    wide = wide[[*order, *(name for name in wide.columns if name not in order)]]
    wide["Totalt"] = wide.sum(axis=1)
    wide.insert(0, "Namn", [content.names.get(code, "") for code in wide.index])
    return wide.reset_index()


def _workbook(content: Content) -> openpyxl.Workbook:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    span = f"{quarter_label(content.start)}–{quarter_label(content.end)}"
    economy = content.ekonomi
    money = None if economy is None else pd.concat([
        economy.members.rename(columns={"Medlem": "Post"}),
        pd.DataFrame({"Post": ["Eget kapital vid årets början"],
                      "Belopp": [economy.opening_equity]})], ignore_index=True)
    insatser = None if economy is None else economy.insatser
    adm = None if insatser is None else insatser.loc[insatser["Kod"] == "ADM",
                                                     ["Namn", "Budget", "Utfall"]]
    rest = None if insatser is None else insatser.loc[insatser["Kod"] != "ADM"]
    year = "" if economy is None else f" {economy.year}"
    _sheet(workbook, SHEETS[0], f"Medel från medlemmarna och eget kapital{year}", money)
    _sheet(workbook, SHEETS[1], f"Administration{year}: budget och utfall hittills i år", adm)
    _sheet(workbook, SHEETS[2], f"Insatser{year}: inriktning, budgeterat antal deltagare, budget "
                                f"och utfall hittills i år", rest)
    _sheet(workbook, SHEETS[3], f"Deltagare i individinriktade insatser {span}, per kön",
           participants_wide(content))
    about = workbook.create_sheet(SHEETS[4])
    about.append([f"Uppföljning Finsam {span}"])
    about["A1"].font = _BOLD
    about.append([(f"Perioden {content.start.isoformat()} – {content.end.isoformat()}. Fyll i "
                  "formuläret i flikarnas ordning.")])
    for rule in COUNTING_RULES:
        about.append([rule])
    about.column_dimensions["A"].width = 120
    return workbook
