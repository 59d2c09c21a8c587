"""Reading a source's new deliveries: skip what the manifest has seen, read each file once, and
conform the new files of the source together."""

from __future__ import annotations

from sqlalchemy import Connection, select

from assets.ingest.context import Item
from finsam.enums import Outcome
from finsam.errors import DeliveryRejected
from sources.base import Delivery, conform_many
from sources.spec import Source, Strategy
from warehouse import models


def seen(connection: Connection, source: str) -> dict:
    """What the manifest knows of a source's files: (name, hash) pairs, hashes, unrecognised names."""
    rows = connection.execute(select(models.Delivery.file_name, models.Delivery.sha256,
                                     models.Delivery.outcome)
                              .where(models.Delivery.source == source)).all()
    return {
        "files": {(row.file_name, row.sha256) for row in rows if row.outcome != Outcome.UNRECOGNISED},
        "hash_to_file": {row.sha256: row.file_name for row in rows
                         if row.outcome in (Outcome.LOADED, Outcome.SUPERSEDED, Outcome.REJECTED)},
        "unrecognised": {row.file_name for row in rows if row.outcome == Outcome.UNRECOGNISED},
    }


def read_new(source: Source, deliveries: list[Delivery], known: dict) -> list[Item]:
    """The deliveries the manifest has not seen, read; the same bytes under a new name are a
    duplicate and are not read again."""
    batch: list[Item] = []
    hashes = dict(known["hash_to_file"])
    for delivery in deliveries:
        if (delivery.file_name, delivery.sha256) in known["files"]:
            continue
        item = Item(delivery)
        if delivery.sha256 in hashes:
            item.duplicate_of, item.outcome = hashes[delivery.sha256], Outcome.DUPLICATE
        else:
            hashes[delivery.sha256] = delivery.file_name
            try:
                item.raw = source.read(delivery)
            except DeliveryRejected as exc:
                item.rejection, item.outcome = exc, Outcome.REJECTED
        batch.append(item)
    conform(source, [item for item in batch if item.raw is not None])
    return batch


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
