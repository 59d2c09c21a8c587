"""One source's ingestion: scan, skip what was seen, read and conform, pseudonymise, load.

All reading happens before the database transaction; all writing happens in one transaction, so a
failure leaves the warehouse exactly as it was and the same deliveries are tried again next run.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from assets.ingest import bookkeeping, reading, revisit
from assets.ingest.context import Consents, IngestReport, RunContext
from assets.ingest.strategies import STRATEGIES
from assets.ingest.withdrawal import apply_withdrawals
from finsam.privacy import Keys
from sources.landing import scan_source
from sources.registry import REGISTRY, Registry
from sources.spec import Role


def ingest_source(source: str, landing: Path, engine: Engine, keys: Keys, *,
                  before: date | None = None, registry: Registry = REGISTRY) -> IngestReport:
    """Ingest every new delivery of ``source`` extracted before ``before``, and load the rows the
    steward has accepted since the last run."""
    entry = registry[source]
    spec = entry.spec
    report = IngestReport(source)
    deliveries, unrecognised = scan_source(landing, spec, before=before)
    with engine.connect() as connection:
        known = reading.seen(connection, source)
        revisits = revisit.deliveries_to_revisit(connection, entry, landing)
    batch = reading.read_new(entry, deliveries, known)
    new_unrecognised = [u for u in unrecognised if u.file_name not in known["unrecognised"]]
    with engine.begin() as connection:
        ctx = RunContext(connection, entry, keys, Consents(connection), registry)
        bookkeeping.record_unrecognised(ctx, new_unrecognised, report)
        for item in batch:
            item.delivery_id = bookkeeping.record_delivery(ctx, item)
        if spec.catalogue is not None:
            catalogue = revisit.catalogue(connection)
            for item in batch:
                revisit.hold_unknown_codes(ctx, item, catalogue)
            report.resolved = revisit.recheck_catalogue(ctx, revisits, catalogue)
        STRATEGIES[spec.strategy].load_batch(ctx, batch)
        report.accepted_loaded = revisit.load_ready(ctx, revisits)
        report.files += bookkeeping.finish(ctx, batch)
        report.closed = bookkeeping.close_corrected(ctx, batch)
        if spec.personal:
            # a new consent register is read afresh; every other source left it as it was
            apply_withdrawals(connection, [partner.table for partner in registry.partner_sources()],
                              None if spec.role == Role.CONSENTS else ctx.consents.frame())
    return report
