"""The landing zone on disk: which files are deliveries of which source, and which are not.

The landing zone is a boundary. Only regular files directly inside a source's folder are
deliveries; a symlink, a folder or a device there is reported and never opened, so nothing outside
the landing zone is ever read. A file is read only once it has settled (not modified for a while:
it may still be uploading) and once its extraction date is not in the future.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from finsam import masking
from sources.base import Delivery, extraction_date_from
from sources.registry import REGISTRY
from sources.spec import SourceSpec

UNRECOGNISED = "okänd_leverans"
NOT_A_FILE = "inte_en_fil"
FUTURE = "framtida_datum"
UNSETTLED = "skrivs_fortfarande"


@dataclass(frozen=True)
class IngestSettings:
    """What a run may read: today (deliveries dated later wait), how long a file must have been
    left alone before it is read, and the bounds beyond which a file is refused whole."""

    today: date
    settle_seconds: float = 60.0
    max_file_bytes: int = 512 * 1024 * 1024
    max_rows: int = 5_000_000
    # a file where most rows fail is no delivery of the source (a wrong or broken file): refused
    # whole instead of millions of held rows
    junk_share: float = 0.5
    junk_min_rows: int = 1000
    # a snapshot this much smaller than the truth it would replace waits for the steward
    shrink_share: float = 0.5
    shrink_min_records: int = 20


@dataclass(frozen=True)
class Unrecognised:
    folder: str
    file_name: str       # masked
    reason: str
    kind: str = UNRECOGNISED


@dataclass(frozen=True)
class Waiting:
    delivery: Delivery
    kind: str
    reason: str


@dataclass
class Scan:
    """One source's folder: deliveries to consider, files that are no deliveries, and deliveries
    that must wait (extraction date ahead of today, or still being written)."""

    deliveries: list[Delivery] = field(default_factory=list)
    unrecognised: list[Unrecognised] = field(default_factory=list)
    waiting: list[Waiting] = field(default_factory=list)


def scan_source(landing: Path, spec: SourceSpec, *, today: date | None = None,
                settle_seconds: float = 0, now: float | None = None) -> Scan:
    """The folder's deliveries, oldest first (extraction date, then name). Nothing is read here."""
    folder = landing / spec.folder
    scan = Scan()
    try:
        if folder.is_symlink() or not folder.is_dir():
            if folder.is_symlink():
                scan.unrecognised.append(Unrecognised(spec.folder, spec.folder,
                                                      "mappen är en länk: den läses inte", NOT_A_FILE))
            return scan
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:
        return scan
    now = time.time() if now is None else now
    for entry in entries:
        if entry.name.startswith("."):
            continue
        shown = masking.file_name(entry.name)
        info = entry.stat(follow_symlinks=False)
        if not stat.S_ISREG(info.st_mode):
            what = "en länk" if stat.S_ISLNK(info.st_mode) else "ingen vanlig fil"
            scan.unrecognised.append(Unrecognised(spec.folder, shown,
                                                  f"{what}: läses inte (leveranszonen är en gräns)",
                                                  NOT_A_FILE))
            continue
        match = spec.match(entry.name)
        extracted = extraction_date_from(match) if match else None
        if extracted is None:
            scan.unrecognised.append(Unrecognised(spec.folder, shown,
                                                  "filnamnet följer inte mönstret för mappen"))
            continue
        scope = match.groupdict().get("scope")
        delivery = Delivery(spec.name, Path(entry.path), extracted, scope.upper() if scope else None,
                            file_name=shown, size=info.st_size, mtime_ns=info.st_mtime_ns)
        if today is not None and extracted > today:
            scan.waiting.append(Waiting(delivery, FUTURE,
                                        f"uttagsdatumet {extracted} är senare än i dag: filen "
                                        "väntar till dess och går aldrig före en äkta leverans"))
        elif now - info.st_mtime < settle_seconds:
            scan.waiting.append(Waiting(delivery, UNSETTLED,
                                        "filen ändrades nyss och kan fortfarande skrivas: den läses "
                                        "vid nästa körning"))
        else:
            scan.deliveries.append(delivery)
    scan.deliveries.sort(key=lambda delivery: (delivery.extraction_date, delivery.file_name))
    return scan


def _extraction_dates(landing: Path) -> list[date]:
    return [delivery.extraction_date for spec in REGISTRY.specs()
            for delivery in scan_source(landing, spec).deliveries]


def earliest_extraction(landing: Path) -> date | None:
    """The oldest extraction date among the recognised deliveries of every source."""
    return min(_extraction_dates(landing), default=None)


def latest_extraction(landing: Path) -> date | None:
    """The newest extraction date among the recognised deliveries of every source."""
    return max(_extraction_dates(landing), default=None)
