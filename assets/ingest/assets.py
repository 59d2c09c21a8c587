"""One asset per partner source: its deliveries, from the landing zone to a conformed table."""

from dataclasses import dataclass

import dagster as dg

from assets.ingest.pipeline import ingest_source
from assets.resources import LandingZone, SecretKeys, Warehouse
from assets.retry import retry_when_busy


@dataclass(frozen=True)
class SourceAsset:
    source: str
    name: str
    description: str
    deps: tuple[str, ...] = ()


SOURCE_ASSETS = (
    SourceAsset("budget", "budget_workbook",
                "Styrelsens budget per år: insatskatalog, budgetrader och finansiering."),
    SourceAsset("insats", "insats_spells",
                "Deltagarregistren från insatserna: ett deltagande per rad, pseudonymiserat.",
                ("budget_workbook",)),
    SourceAsset("samtycke", "samtycke_consents",
                "Samtyckesregistret: vilka parter som får samverka om deltagaren, och hur länge."),
    SourceAsset("fk", "fk_benefits", "Försäkringskassans förmånsperioder för deltagare med samtycke.",
                ("samtycke_consents", "insats_spells")),
    SourceAsset("af", "af_support", "Arbetsförmedlingens inskrivningar och ersättningar.",
                ("samtycke_consents", "insats_spells")),
    SourceAsset("soc", "soc_payments", "Socialtjänstens utbetalningar av försörjningsstöd per månad.",
                ("samtycke_consents", "insats_spells")),
    SourceAsset("hsf", "hsf_contacts", "Hälso- och sjukvårdens rehabkontakter och sjukskrivningar.",
                ("samtycke_consents", "insats_spells")),
    SourceAsset("ekonomi", "ekonomi_ledger", "Huvudboken: utfall per insats och kostnadsslag.",
                ("budget_workbook",)),
)


def _build(spec: SourceAsset, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(name=spec.name, group_name="leveranser", description=spec.description,
              partitions_def=partitions, backfill_policy=dg.BackfillPolicy.single_run(),
              deps=list(spec.deps), kinds={"pandas", "sqlalchemy"})
    def _asset(context: dg.AssetExecutionContext, landing: LandingZone, warehouse: Warehouse,
               secrets: SecretKeys) -> dg.MaterializeResult:
        before = context.partition_time_window.end.date()
        with retry_when_busy(context.retry_number):
            report = ingest_source(spec.source, landing.root, warehouse.engine(), secrets.load(),
                                   before=before)
        files = [{"fil": item.file_name, "utfall": item.outcome, "lästa": item.rows_read,
                  "inlästa": item.rows_loaded, "kvarhållna": item.rows_held}
                 for item in report.files]
        context.log.info(f"{spec.source}: {report.metadata()}")
        return dg.MaterializeResult(metadata={
            **report.metadata(),
            "files": dg.MetadataValue.json(files),
        })

    return _asset


def build_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    return [_build(spec, partitions) for spec in SOURCE_ASSETS]
