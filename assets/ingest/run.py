"""One source's ingestion: scan, skip what was seen, read and conform, pseudonymise, load.

Every delivery in the landing zone that the manifest has not seen is taken in, whatever its
extraction date: deliveries are facts, and a quarter is only a view of the warehouse. All reading
happens before the database transaction; all writing happens in one transaction, so a failure
leaves the warehouse exactly as it was and the same deliveries are tried again next run.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Engine, func, select

from assets.ingest import bookkeeping, held, reading
from assets.ingest.context import Consents, IngestReport, RunContext
from assets.ingest.strategies import STRATEGIES
from assets.ingest.withdrawal import read_consents, register_out_withdrawn
from finsam import faults, heap
from finsam.consent import PartnerConsent
from finsam.enums import Outcome
from finsam.privacy import Keys
from sources.landing import IngestSettings, Scan, Waiting, scan_source
from sources.registry import REGISTRY, Registry
from sources.spec import Role, SourceSpec
from warehouse import db, models

# restricted output files that may hold the numbers of people just erased: (numbers) -> files changed
Scrub = Callable[[set[str]], int]


def ingest_source(source: str, landing: Path, engine: Engine, keys: Keys, *,
                  settings: IngestSettings | None = None, registry: Registry = REGISTRY,
                  scrub: Scrub | None = None) -> IngestReport:
    """Ingest every new delivery of ``source``, and load the held rows that may load now."""
    settings = settings or IngestSettings(today=date.today(), settle_seconds=0)
    heap.freeze_imported()
    entry = registry[source]
    spec = entry.spec
    report = IngestReport(source)
    scan = scan_source(landing, spec, today=settings.today, settle_seconds=settings.settle_seconds)
    with engine.connect() as connection:
        seen = reading.known(connection, source)
        _wait_for_consents(connection, spec, registry, scan)
    batch = reading.read_new(entry, scan.deliveries, seen, settings)
    new_unrecognised = [u for u in scan.unrecognised if u.file_name not in seen.unrecognised]
    with engine.begin() as connection:
        ctx = RunContext(connection, entry, keys, Consents(connection), registry, settings)
        bookkeeping.record_unrecognised(ctx, new_unrecognised, report)
        bookkeeping.record_waiting(ctx, scan.waiting, report)
        bookkeeping.refresh_signatures(ctx, batch.unchanged)
        bookkeeping.record_deliveries(ctx, batch.items)
        if spec.catalogue is not None:
            catalogue = held.catalogue(connection)
            for item in batch.items:
                held.hold_unknown_codes(ctx, item, catalogue)
            report.resolved = held.resolve_catalogue(ctx, catalogue)
        STRATEGIES[spec.strategy].load_batch(ctx, batch.items)
        report.files += bookkeeping.finish(ctx, batch.items)
        report.accepted_loaded = held.load_ready(ctx)
        report.closed = bookkeeping.close_corrected(ctx, batch.items)
        if spec.personal:
            # only the consent register's own run changes the register (its load, and the
            # erasure it starts): any other source's run already holds it as it stands
            consents = (read_consents(connection) if spec.role == Role.CONSENTS
                        else ctx.consents.frame())
            register_out_withdrawn(connection, consents)
        ctx.flush_notices()
        if ctx.erased_numbers and scrub is not None:
            # before the commit: if the run dies here the erasure is redone, and scrubbing twice
            # removes nothing more
            scrub(ctx.erased_numbers)
        erased_tables = ctx.erased_tables
        faults.point(f"before_commit:{source}")
    faults.point(f"after_commit:{source}")
    report.erased = bool(erased_tables)
    if erased_tables:
        db.compact(engine, sorted(erased_tables))
    return report


def _wait_for_consents(connection: Connection, spec: SourceSpec, registry: Registry,
                       scan: Scan) -> None:
    """A partner's file waits until a consent register extracted the same day or later has been
    read: only such a register says for certain whether its records were shared under consent, so
    the outcome never depends on which of the two arrived first."""
    if not isinstance(spec.consent, PartnerConsent):
        return
    registers = [other.name for other in registry.specs() if other.role == Role.CONSENTS]
    table = models.Delivery.__table__
    newest = connection.execute(select(func.max(table.c.extraction_date)).where(
        table.c.source.in_(registers),
        table.c.outcome.in_([Outcome.LOADED, Outcome.SUPERSEDED]))).scalar()
    known_through = pd.Timestamp(newest).date() if newest is not None else None
    ready = []
    for delivery in scan.deliveries:
        if known_through is not None and delivery.extraction_date <= known_through:
            ready.append(delivery)
            continue
        scan.waiting.append(Waiting(delivery, "väntar_på_samtycken",
                                    f"väntar på ett samtyckesregister uttaget {delivery.extraction_date}"
                                    " eller senare: först då går det att avgöra om uppgifterna fick "
                                    "lämnas"))
    scan.deliveries = ready
