"""The landing zone on disk: which files are deliveries of which source, and which are not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sources.base import Delivery, extraction_date_from, file_sha256
from sources.registry import REGISTRY
from sources.spec import SourceSpec


@dataclass(frozen=True)
class Unrecognised:
    folder: str
    file_name: str
    reason: str


def scan_source(landing: Path, spec: SourceSpec, *, before: date | None = None
                ) -> tuple[list[Delivery], list[Unrecognised]]:
    """Deliveries of one source extracted before ``before`` (all when None), oldest first.

    Files whose name does not follow the folder's pattern are returned as unrecognised, never read.
    """
    folder = landing / spec.folder
    if not folder.is_dir():
        return [], []
    deliveries: list[Delivery] = []
    unrecognised: list[Unrecognised] = []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        match = spec.match(path.name)
        extracted = extraction_date_from(match) if match else None
        if extracted is None:
            unrecognised.append(Unrecognised(spec.folder, path.name,
                                             "filnamnet följer inte mönstret för mappen"))
            continue
        if before is not None and extracted >= before:
            continue
        scope = match.groupdict().get("scope")
        deliveries.append(Delivery(spec.name, path, extracted,
                                   scope.upper() if scope else None, file_sha256(path)))
    deliveries.sort(key=lambda delivery: (delivery.extraction_date, delivery.file_name))
    return deliveries, unrecognised


def _extraction_dates(landing: Path) -> list[date]:
    return [delivery.extraction_date for spec in REGISTRY.specs() for delivery in scan_source(landing, spec)[0]]


def earliest_extraction(landing: Path) -> date | None:
    """The oldest extraction date among the recognised deliveries of every source."""
    return min(_extraction_dates(landing), default=None)


def latest_extraction(landing: Path) -> date | None:
    """The newest extraction date among the recognised deliveries of every source."""
    return max(_extraction_dates(landing), default=None)
