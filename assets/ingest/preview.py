"""What a run would take in, without changing anything: `finsam backfill --dry-run`.

Every delivery the manifest has not seen is read (as a run would read it) and summed: files, rows,
people, the quarters its records' own dates fall in (those quarters' outputs change), and how much
the ledger total moves per booking quarter. Deliveries that would wait are listed with why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, select

from assets.ingest import reading
from finsam.periods import label, quarter, quarter_of, quarters_between
from sources.landing import IngestSettings, scan_source
from sources.registry import REGISTRY
from sources.spec import Role, Strategy
from warehouse import models


def _output_of(source: str) -> str:
    """The output a source's records change: the förbund's money goes to the budget follow-up,
    everything about people to the follow-up of participants (SUS / Uppföljning Finsam)."""
    return "budget" if REGISTRY.spec(source).role == Role.ACCOUNTS else "deltagare"


@dataclass
class QuarterPreview:
    quarter: str
    files: list[dict] = field(default_factory=list)
    ledger_change: float = 0.0

    @property
    def outputs(self) -> list[str]:
        return sorted({_output_of(item["källa"]) for item in self.files})


@dataclass
class Preview:
    quarters: list[QuarterPreview]
    waiting: list[dict] = field(default_factory=list)
    outside: list[dict] = field(default_factory=list)   # new files whose records fall elsewhere


def _stored_ledger(engine: Engine) -> pd.Series:
    table = models.LedgerEntry.__table__
    with engine.connect() as connection:
        ledger = pd.read_sql(select(table.c.record_key, table.c.belopp), connection)
    return ledger.set_index("record_key")["belopp"].astype(float)


def preview(landing: Path, engine: Engine, first: str, last: str, *,
            today: date | None = None) -> Preview:
    labels = [label(period) for period in quarters_between(quarter(first), quarter(last))]
    previews = {name: QuarterPreview(name) for name in labels}
    result = Preview([previews[name] for name in labels])
    settings = IngestSettings(today=today or date.today(), settle_seconds=0)
    stored_ledger = None
    for source in REGISTRY:
        spec = source.spec
        scan = scan_source(landing, spec, today=settings.today)
        result.waiting += [{"källa": spec.name, "fil": entry.delivery.file_name, "varför": entry.reason}
                           for entry in scan.waiting]
        with engine.connect() as connection:
            seen = reading.known(connection, spec.name)
        batch = reading.read_new(source, scan.deliveries, seen, settings)
        for item in batch.items:
            if item.conformed is None:
                summary = {"källa": spec.name, "fil": item.delivery.file_name, "rader": 0,
                           "godkända": 0, "personer": 0, "avvisas": item.rejection is not None}
                quarters_hit = [quarter_of(item.delivery.extraction_date)]
            else:
                frame = item.conformed.frame
                summary = {"källa": spec.name, "fil": item.delivery.file_name,
                           "rader": item.conformed.rows_read, "godkända": len(frame),
                           "personer": int(frame["pnr"].nunique()) if "pnr" in frame else 0,
                           "avvisas": False}
                dates = spec.record_dates(frame).dropna()
                if dates.empty:
                    dates = pd.Series([pd.Timestamp(item.delivery.extraction_date)])
                quarters_hit = sorted(set(pd.PeriodIndex(dates, freq="Q")))
                if spec.role == Role.ACCOUNTS and spec.strategy == Strategy.DELTA:
                    if stored_ledger is None:
                        stored_ledger = _stored_ledger(engine)
                    for period, change in _ledger_change(frame, stored_ledger).items():
                        if label(period) in previews:
                            previews[label(period)].ledger_change += change
            inside = [label(period) for period in quarters_hit if label(period) in previews]
            for name in inside:
                previews[name].files.append(summary)
            if not inside:
                result.outside.append(summary)
    return result


def _ledger_change(frame: pd.DataFrame, stored: pd.Series) -> pd.Series:
    """How much the ledger total moves per booking quarter: incoming amounts minus what the same
    rows hold now."""
    keys = frame["ver_nr"].astype("string") + "|" + frame["rad"].astype("string")
    incoming = pd.DataFrame({"key": keys.to_numpy(), "belopp": frame["belopp"].astype(float).to_numpy(),
                             "quarter": pd.PeriodIndex(frame["bokforingsdatum"], freq="Q")})
    incoming = incoming.drop_duplicates("key", keep="last")
    change = incoming["belopp"] - stored.reindex(incoming["key"]).fillna(0.0).to_numpy()
    return change.groupby(incoming["quarter"]).sum()


def describe(result: Preview) -> str:
    """The dry run's report, in Swedish, for the terminal."""
    lines = []
    for item in result.quarters:
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
    if result.outside:
        lines.append(f"Utanför perioden: {len(result.outside)} nya filer läses också in "
                     "(deras uppgifter gäller andra kvartal).")
    for entry in result.waiting:
        lines.append(f"Väntar: {entry['källa']} {entry['fil']}: {entry['varför']}")
    return "\n".join(lines)
