"""The steward's review, rebuilt after every ingestion: conflicts, failures.csv and failures.html."""

import datetime as dt

import dagster as dg
import pandas as pd
from sqlalchemy import Connection, delete, func, select

from assets.resources import OutputFolder, Warehouse
from assets.retry import retry_when_busy
from assets.steward.conflicts import find_conflicts, partner_evidence
from assets.steward.page import write_reports
from assets.sus.warehouse_frames import read_frame
from sources.registry import REGISTRY
from warehouse import load, models


def _frame(connection: Connection, model, *columns: str, distinct: bool = False) -> pd.DataFrame:
    table = model.__table__
    query = select(*[table.c[name] for name in columns])
    return read_frame(connection, query.distinct() if distinct else query)


def _soc_months(connection: Connection) -> pd.DataFrame:
    """pseudonym, manad: each month with försörjningsstöd. The months come joined, one row per
    person, so a few thousand rows are fetched instead of one per payment. That changes the order
    of the rows, which does not matter: they differ only in the month."""
    table = models.SocPayment.__table__
    per_person = read_frame(connection, select(
        table.c.pseudonym, func.aggregate_strings(table.c.manad, ",").label("manader"),
    ).group_by(table.c.pseudonym))
    months = per_person["manader"].str.split(",")
    return pd.DataFrame({"pseudonym": per_person["pseudonym"].repeat(months.str.len()).to_numpy(),
                         "manad": months.explode().to_numpy()})


def _evidence(connection: Connection) -> tuple[pd.DataFrame, pd.Series]:
    return partner_evidence(
        _frame(connection, models.FkBenefit, "pseudonym", "forsorjning", "fom", "tom"),
        _frame(connection, models.AfSupport, "pseudonym", "forsorjning", "ersattning_fran",
               "ersattning_till"),
        _soc_months(connection),
        # only whom health care has seen counts, so each person once is enough
        _frame(connection, models.HsfContact, "pseudonym", distinct=True))


def refresh_conflicts(connection: Connection) -> int:
    spells = _frame(connection, models.Spell, "record_key", "insats", "pseudonym",
                    "inskrivningsdatum", "kon", "age_at_enrolment", "forsorjning_in",
                    "delivery_id", "row_number")
    files = _frame(connection, models.Delivery, "id", "file_name").set_index("id")["file_name"]
    spells["file_name"] = spells["delivery_id"].map(files)
    evidence, partners = _evidence(connection)
    conflicts = find_conflicts(spells, evidence, partners).assign(
        computed_at=dt.datetime.now(dt.timezone.utc))
    table = models.ReconciliationConflict.__table__
    connection.execute(delete(table))
    load.insert_frame(connection, table, conflicts.assign(
        inskrivningsdatum=pd.to_datetime(conflicts["inskrivningsdatum"])))
    return len(conflicts)


def build_assets() -> list[dg.AssetsDefinition]:
    @dg.asset(name="steward_review", group_name="granskning",
              deps=[spec.asset for spec in REGISTRY.specs()], kinds={"pandas", "html", "csv"})
    def steward_review(context: dg.AssetExecutionContext, warehouse: Warehouse,
                       out: OutputFolder) -> dg.MaterializeResult:
        """Allt som förvaltaren ska granska: kvarhållna rader, avvikande leveranser och konflikter."""
        with retry_when_busy(context.retry_number), warehouse.engine().begin() as connection:
            conflicts = refresh_conflicts(connection)
            paths = write_reports(connection, out.root)
        review = pd.read_csv(paths["csv"], sep=";", encoding="utf-8-sig")
        counts = review.groupby("Typ")["Antal"].sum().astype(int).to_dict()
        context.log.info(f"granskning: {counts}")
        return dg.MaterializeResult(metadata={
            "poster": len(review), "konflikter": conflicts,
            "per_typ": dg.MetadataValue.json(counts),
            "failures_csv": dg.MetadataValue.path(str(paths["csv"])),
            "failures_html": dg.MetadataValue.path(str(paths["html"])),
        })

    return [steward_review]
