"""The Uppföljning Finsam target: one asset per quarter range, writing
``<out>/uppfoljning/<FROM>_<TO>/`` (deltagare.csv, ekonomi.csv, uppfoljning_finsam.xlsx).

It reads spells, consents and the budget tables; it never asks for the keys, so with only this target
chosen the identity vault is never decrypted and nothing identity-bearing is written."""


import datetime as dt

import dagster as dg

from assets.budget import assets as budget_assets
from assets.resources import OutputFolder, Warehouse
from assets.retry import retry_when_busy
from assets.sus.assets import no_data, period, period_has_data
from assets.sus.warehouse_frames import read_spells, read_sus_consents
from assets.uppfoljning import adapter, counts
from finsam.periods import quarter_label

GROUP = "uppfoljning"



def folder_name(start: dt.date, end: dt.date) -> str:
    return f"{quarter_label(start)}_{quarter_label(end)}"


def content(connection, start: dt.date, end: dt.date) -> adapter.Content:
    """The period's content from the warehouse as it stands."""
    spells = read_spells(connection)
    consents = read_sus_consents(connection)
    data = budget_assets.inputs(connection, end.year)
    catalogue = data["catalogue"]
    names = (catalogue.sort_values("year").drop_duplicates("insats", keep="last")
             .set_index("insats")["namn"].to_dict())
    return adapter.Content(start=start, end=end,
                           deltagare=counts.deltagare(spells, consents, catalogue, start, end),
                           ekonomi=counts.ekonomi(end, **data), names=names)


def build_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.asset(name="uppfoljning_finsam", group_name=GROUP, partitions_def=partitions,
              deps=["insats_spells", "samtycke_consents", "budget_workbook", "ekonomi_ledger"],
              kinds={"csv", "excel"})
    def uppfoljning_finsam(context: dg.AssetExecutionContext, warehouse: Warehouse,
                           out: OutputFolder) -> dg.MaterializeResult:
        """Uppföljning Finsam för perioden: deltagare per individinriktad insats och kön, budget
        och utfall, budgeterat antal deltagare, inriktning, medel per medlem och eget kapital.
        Inga personnummer."""
        start, end = period(context)
        with retry_when_busy(context.retry_number), warehouse.engine().connect() as connection:
            # a quarter no register has reached yet gets no files (as SUS and the board's)
            if not period_has_data(connection, read_spells(connection), start, end):
                return no_data(start, end)
            made = content(connection, start, end)
        folder = out.root / "uppfoljning" / folder_name(start, end)
        files = adapter.UppfoljningAdapter().write(made, folder)
        by_kon = made.deltagare.groupby("Kön")["Antal"].sum()
        return dg.MaterializeResult(metadata={
            "deltagare": int(made.deltagare["Antal"].sum()),
            **{f"deltagare_{kon.lower()}": int(count) for kon, count in by_kon.items()},
            "ekonomi": "saknas (ingen budget eller bokföring)" if made.ekonomi is None else
                       str(made.ekonomi.year),
            "mapp": dg.MetadataValue.path(str(folder)),
            "filer": dg.MetadataValue.json([path.name for path in files]),
        })

    return [uppfoljning_finsam]



