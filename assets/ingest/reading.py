"""Reading a source's new deliveries: skip what the manifest has seen, read each file's bytes
once (what is hashed is what is parsed), refuse what is too large or mostly junk, and conform the
new files of the source together."""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass, field, replace
from datetime import date

import pandas as pd
from sqlalchemy import Connection, select

from assets.ingest.context import Item
from finsam.enums import Outcome, Severity
from finsam.errors import DeliveryRejected
from sources.base import Delivery, conform_many
from sources.landing import IngestSettings
from sources.spec import Source, Strategy
from warehouse import models

# A large text file is first judged on this many of its rows, spread evenly over it (issue 16)
SAMPLE_ROWS = 10_000


@dataclass
class Known:
    """What the manifest knows of a source's files."""

    signatures: set[tuple[str, int, int]] = field(default_factory=set)   # name, size, mtime
    pairs: set[tuple[str, str]] = field(default_factory=set)             # name, content hash
    first_by_hash: dict[str, tuple[date, str]] = field(default_factory=dict)
    waiting: dict[tuple[str, str], int] = field(default_factory=dict)    # -> manifest id
    unrecognised: set[str] = field(default_factory=set)


def known(connection: Connection, source: str) -> Known:
    table = models.Delivery.__table__
    rows = connection.execute(select(table.c.id, table.c.file_name, table.c.sha256,
                                     table.c.size_bytes, table.c.mtime_ns, table.c.outcome,
                                     table.c.extraction_date)
                              .where(table.c.source == source)
                              .order_by(table.c.extraction_date, table.c.file_name)).all()
    out = Known()
    for row in rows:
        if row.outcome == Outcome.UNRECOGNISED:
            out.unrecognised.add(row.file_name)
            continue
        if row.outcome == Outcome.WAITING:
            out.waiting[(row.file_name, row.sha256)] = row.id
            continue
        out.pairs.add((row.file_name, row.sha256))
        if row.mtime_ns is not None:
            out.signatures.add((row.file_name, row.size_bytes, row.mtime_ns))
        if row.outcome in (Outcome.LOADED, Outcome.SUPERSEDED, Outcome.REJECTED):
            extracted = pd.Timestamp(row.extraction_date).date() if row.extraction_date else date.min
            out.first_by_hash.setdefault(row.sha256, (extracted, row.file_name))
    return out


@dataclass
class Batch:
    items: list[Item]
    unchanged: list[Delivery]    # read again only because the manifest lacked their mtime


def read_new(source: Source, deliveries: list[Delivery], seen: Known,
             settings: IngestSettings) -> Batch:
    """The deliveries the manifest has not seen, read and conformed. The same bytes under a new
    name are a duplicate and are not parsed, except a snapshot extracted later than the file it
    repeats: that one is the newer truth of its scope (a complete file may follow a partial one)."""
    batch = Batch([], [])
    hashes = dict(seen.first_by_hash)
    snapshot = source.spec.strategy != Strategy.DELTA
    for delivery in deliveries:
        if (delivery.file_name, delivery.size, delivery.mtime_ns) in seen.signatures:
            continue
        if delivery.size > settings.max_file_bytes:
            item = Item(delivery)
            item.rejection = DeliveryRejected(
                source.name, delivery.file_name,
                f"filen är {delivery.size:,} byte, mer än gränsen {settings.max_file_bytes:,}"
                .replace(",", " "))
            item.outcome = Outcome.REJECTED
            batch.items.append(item)
            continue
        try:
            delivery = delivery.read()
        except DeliveryRejected as exc:
            item = Item(delivery, rejection=exc, outcome=Outcome.REJECTED)
            batch.items.append(item)
            continue
        pair = (delivery.file_name, delivery.sha256)
        if pair in seen.pairs:
            batch.unchanged.append(delivery)
            continue
        item = Item(delivery, waiting_id=seen.waiting.get(pair))
        original = hashes.get(delivery.sha256)
        if original is not None and not (snapshot and (delivery.extraction_date, delivery.file_name)
                                         > original):
            item.duplicate_of, item.outcome = original[1], Outcome.DUPLICATE
        else:
            if original is not None:
                item.message = f"samma innehåll som {original[1]}, men uttaget senare"
            hashes.setdefault(delivery.sha256, (delivery.extraction_date, delivery.file_name))
            _parse(source, item, settings)
        batch.items.append(item)
    conform(source, [item for item in batch.items if item.raw is not None])
    for item in batch.items:
        _refuse_junk(source, item, settings)
    return batch


def _parse(source: Source, item: Item, settings: IngestSettings) -> None:
    data = item.delivery.data
    lines = 0 if item.delivery.path.suffix.casefold() == ".xlsx" else data.count(b"\n")
    if lines > settings.max_rows:
        item.rejection = DeliveryRejected(source.name, item.delivery.file_name,
                                          f"filen har fler än {settings.max_rows} rader")
        item.outcome = Outcome.REJECTED
        return
    if lines > 2 * SAMPLE_ROWS and _junk_by_sample(source, item, settings, lines):
        return
    try:
        raw = source.read(item.delivery)
    except DeliveryRejected as exc:
        item.rejection, item.outcome = exc, Outcome.REJECTED
        return
    rows = sum(len(frame) for frame in raw.values()) if isinstance(raw, dict) else len(raw)
    if rows > settings.max_rows:
        item.rejection = DeliveryRejected(source.name, item.delivery.file_name,
                                          f"filen har fler än {settings.max_rows} rader")
        item.outcome = Outcome.REJECTED
        return
    item.raw = raw


def conform(source: Source, items: list[Item]) -> None:
    """The new files of a source conformed as one frame; a workbook's files one by one, since its
    rules compare rows across its sheets (every other reader's rules keep to a row, or to the rows
    of one delivery)."""
    if source.spec.strategy != Strategy.WORKBOOK and len(items) > 1:
        try:
            conformed = conform_many(source.conform, [(item.raw, item.delivery) for item in items])
        except DeliveryRejected:
            pass  # one of them is unreadable as a whole: find out which, file by file
        else:
            for item, result in zip(items, conformed):
                item.conformed = result
            return
    for item in items:
        try:
            item.conformed = source.conform(item.raw, item.delivery)
        except DeliveryRejected as exc:
            item.rejection, item.outcome = exc, Outcome.REJECTED


def _junk_by_sample(source: Source, item: Item, settings: IngestSettings, lines: int) -> bool:
    """A large text file mostly of junk is refused on a sample of its rows, spread evenly over
    it, before the whole of it is parsed: a 30 MB file of junk lines parsed whole took gigabytes
    of memory (every row a frame row, then a held row) only to be refused afterwards."""
    step = lines // SAMPLE_ROWS
    stream = io.BytesIO(item.delivery.data)
    header = stream.readline()
    sampled = replace(item.delivery, data=header + b"".join(
        itertools.islice(stream, step - 1, None, step)))
    try:
        conformed = source.conform(source.read(sampled), sampled)
    except DeliveryRejected:
        return False     # what is wrong is found, and named with its line, in the whole file
    issues = conformed.issues
    failing = issues.loc[issues["severity"] == Severity.ERROR, "row_number"].nunique()
    if (conformed.rows_read < settings.junk_min_rows
            or failing <= settings.junk_share * conformed.rows_read):
        return False
    item.rejection = DeliveryRejected(
        source.name, item.delivery.file_name,
        f"{failing} av {conformed.rows_read} rader i ett urval ur filens {lines} är ogiltiga: "
        f"filen ser inte ut som en leverans av {source.spec.label}")
    item.outcome = Outcome.REJECTED
    return True


def _refuse_junk(source: Source, item: Item, settings: IngestSettings) -> None:
    """A file where most rows fail is refused whole: it is not a delivery of this source, and
    holding every row of it would bury the steward (and the warehouse)."""
    conformed = item.conformed
    if conformed is None or conformed.rows_read < settings.junk_min_rows:
        return
    issues = conformed.issues
    failing = issues.loc[issues["severity"] == Severity.ERROR, "row_number"].nunique()
    if failing > settings.junk_share * conformed.rows_read:
        item.rejection = DeliveryRejected(
            source.name, item.delivery.file_name,
            f"{failing} av {conformed.rows_read} rader är ogiltiga: filen ser inte ut som en "
            f"leverans av {source.spec.label}")
        item.outcome, item.conformed, item.raw = Outcome.REJECTED, None, None
