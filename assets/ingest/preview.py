"""What a backfill would change, without changing anything: `finsam backfill --dry-run`.

Reads the deliveries the warehouse has not seen, assigns each to the quarter whose run would take
it in, and sums what would change: files, rows, people, and the ledger total per booking quarter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, select

from finsam.errors import DeliveryRejected
from finsam.periods import parse_quarter
from sources.landing import scan_source
from sources.registry import REGISTRY
from sources.spec import Role, Strategy
from warehouse import models


def _output_of(source: str) -> str:
    """The output a source's records change: the förbund's money goes to the budget follow-up,
    everything about people to SUS."""
    return "budget" if REGISTRY.spec(source).role == Role.ACCOUNTS else "SUS"


@dataclass
class QuarterPreview:
    quarter: str
    files: list[dict] = field(default_factory=list)
    ledger_change: float = 0.0

    @property
    def outputs(self) -> list[str]:
        return sorted({_output_of(item["källa"]) for item in self.files})


def _quarter_of(extracted: date, quarters: list[str]) -> str | None:
    """The first quarter of the range whose run takes the delivery in (extracted before its end)."""
    for quarter in quarters:
        end = pd.Period(quarter, freq="Q").end_time.date()
        if extracted <= end:
            return quarter
    return None


def _seen(engine: Engine) -> set[tuple[str, str, str]]:
    table = models.Delivery.__table__
    with engine.connect() as connection:
        rows = connection.execute(select(table.c.source, table.c.file_name, table.c.sha256)).all()
    return {tuple(row) for row in rows}


def _stored_ledger(engine: Engine) -> pd.Series:
    table = models.LedgerEntry.__table__
    with engine.connect() as connection:
        ledger = pd.read_sql(select(table.c.record_key, table.c.belopp), connection)
    return ledger.set_index("record_key")["belopp"].astype(float)


def preview(landing: Path, engine: Engine, first: str, last: str) -> list[QuarterPreview]:
    quarters = [str(period) for period in pd.period_range(parse_quarter(first), parse_quarter(last),
                                                          freq="Q")]
    before = pd.Period(last, freq="Q").end_time.date()
    seen = _seen(engine)
    previews = {quarter: QuarterPreview(quarter) for quarter in quarters}
    stored_ledger = None
    for source in REGISTRY:
        spec = source.spec
        deliveries, _ = scan_source(landing, spec)
        for delivery in deliveries:
            quarter = _quarter_of(delivery.extraction_date, quarters)
            if (delivery.extraction_date > before or quarter is None
                    or (spec.name, delivery.file_name, delivery.sha256) in seen):
                continue
            try:
                conformed = source.conform(source.read(delivery), delivery)
            except DeliveryRejected:
                previews[quarter].files.append({"källa": spec.name, "fil": delivery.file_name,
                                                "rader": 0, "godkända": 0, "personer": 0,
                                                "avvisas": True})
                continue
            frame = conformed.frame
            persons = int(frame["pnr"].nunique()) if "pnr" in frame else 0
            previews[quarter].files.append({
                "källa": spec.name, "fil": delivery.file_name, "rader": conformed.rows_read,
                "godkända": len(frame), "personer": persons, "avvisas": False})
            if spec.role == Role.ACCOUNTS and spec.strategy == Strategy.DELTA:
                if stored_ledger is None:
                    stored_ledger = _stored_ledger(engine)
                previews[quarter].ledger_change += _ledger_change(frame, stored_ledger)
    return [previews[quarter] for quarter in quarters]


def _ledger_change(frame: pd.DataFrame, stored: pd.Series) -> float:
    """How much the ledger total moves: incoming amounts minus what the same rows hold now."""
    keys = frame["ver_nr"].astype("string") + "|" + frame["rad"].astype("string")
    incoming = pd.Series(frame["belopp"].astype(float).to_numpy(), index=keys.to_numpy())
    incoming = incoming[~incoming.index.duplicated(keep="last")]
    return float((incoming - stored.reindex(incoming.index).fillna(0.0)).sum())


def describe(previews: list[QuarterPreview]) -> str:
    """The dry run's report, in Swedish, for the terminal."""
    lines = []
    for item in previews:
        if not item.files:
            lines.append(f"{item.quarter}: inget nytt, inga utdata ändras")
            continue
        rows = sum(file["rader"] for file in item.files)
        accepted = sum(file["godkända"] for file in item.files)
        people = sum(file["personer"] for file in item.files)
        rejected = sum(file["avvisas"] for file in item.files)
        lines.append(f"{item.quarter}: {len(item.files)} nya filer ({rejected} avvisas), {rows} rader, "
                     f"{accepted} godkända, {people} personer; ändrar {', '.join(item.outputs)}"
                     + (f"; huvudboken ändras med {item.ledger_change:,.0f} kr".replace(",", " ")
                        if item.ledger_change else ""))
        for file in item.files:
            lines.append(f"    {file['källa']:8} {file['fil']}: {file['rader']} rader, "
                         f"{file['godkända']} godkända" + (" (avvisas)" if file["avvisas"] else ""))
    return "\n".join(lines)
