"""What the steward reviews, read from the warehouse for both the static page and the web app.

The split the steward works by: **to act on** (open errors, corrected at the source; open warnings,
accepted or corrected) apart from **what is known** (accepted rows waiting for the next run, and
information: duplicates, replaced files, data without consent, vanished records, conflicts).
Every query is set-wise and paged in the database, so a warehouse with a national backfill's held
rows answers as fast as the demo's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, case, distinct, func, not_, select

from assets.ingest.bookkeeping import WAITING_NOTICE
from finsam import periods
from finsam.enums import Outcome
from sources.landing import NOT_A_FILE, UNRECOGNISED
from sources.registry import REGISTRY
from validation.issues import ERROR, WARNING
from warehouse import models, quarantine
from warehouse.quarantine import HeldFilter

HELD = models.HeldRow.__table__
DELIVERIES = models.Delivery.__table__
NOTICES = models.StewardNotice.__table__
CONFLICTS = models.ReconciliationConflict.__table__
DECISIONS = models.StewardDecision.__table__

SOURCE_LABELS = REGISTRY.labels()


def reopen(connection, held_id: int, note: str | None, who: str | None) -> dict:
    """Reopen an accepted row; if it was loaded it is taken out of its source's table again."""
    tables = {spec.name: spec.table for spec in REGISTRY.specs()}
    return quarantine.reopen(connection, held_id, note, who=who, tables=tables)

# (kind, its name in the review's "Typ" column, a count's singular and plural, what it means for
# the steward), in the order the page lists them: files that could not be used first, then data
# the förbund must not have, then the rest
NOTICE_KINDS = (
    ("avvisad_fil", "avvisad fil", "avvisad fil", "avvisade filer",
     "filen kunde inte läsas; be parten leverera den igen"),
    (UNRECOGNISED, "okänd leverans", "okänd leverans", "okända leveranser",
     "filnamnet känns inte igen; byt namn eller flytta filen"),
    (NOT_A_FILE, "inte en fil", "länk eller mapp", "länkar eller mappar",
     "länkar och mappar i leveranszonen läses aldrig; lägg själva filen där"),
    (WAITING_NOTICE, "väntande leverans", "väntande leverans", "väntande leveranser",
     "filen läses när den är färdigskriven, dess datum har kommit eller ett samtyckesregister "
     "lika nytt har lästs in"),
    ("utan_samtycke", "data utan samtycke", "post utan samtycke", "poster utan samtycke",
     "parten skickade uppgifter om personer utan samtycke; uppgifterna lästes inte in"),
    ("återkallat", "data efter återkallat samtycke", "post efter återkallat samtycke",
     "poster efter återkallat samtycke",
     "uppgifter om personer som återkallat sitt samtycke; de raderades"),
    ("reservnummer", "reservnummer", "rad med reservnummer", "rader med reservnummer",
     "reservnummer kan inte kopplas mellan parterna; raderna lästes inte in"),
    ("försvunna_poster", "försvunna poster", "försvunnen post", "försvunna poster",
     "poster som fanns i förra ögonblicksbilden men saknas i den nya"),
    ("dubblett", "dubblett", "dubblett", "dubbletter",
     "samma fil levererades igen under ett annat namn"),
)
NOTICE_TYPES = {kind: label for kind, label, *_ in NOTICE_KINDS}
NOTICE_ORDER = {kind: place for place, (kind, *_) in enumerate(NOTICE_KINDS)}
_DESCRIBED = {kind: {"label": label, "singular": singular, "plural": plural, "meaning": meaning}
              for kind, label, singular, plural, meaning in NOTICE_KINDS}


def _described(kind: str) -> dict[str, str]:
    return _DESCRIBED.get(kind, {"label": kind, "singular": kind, "plural": kind, "meaning": ""})


SEVERITY_LABELS = {ERROR: "fel", WARNING: "varning"}
def status_label(status: str, loaded: bool, waiting: bool = False) -> str:
    """What the status means for the row: whether and when it loads."""
    if status in (quarantine.ACCEPTED, quarantine.RESOLVED):
        if loaded:
            return f"{status}, inläst"
        if waiting:
            return f"{status}, väntar på andra fel i raden"
        return f"{status}, laddas vid nästa körning"
    return status


@dataclass
class Page:
    items: list[dict[str, Any]]
    total: int
    number: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def first(self) -> int:
        return (self.number - 1) * self.size + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.total, self.number * self.size)


@dataclass
class Summary:
    """The page's headline: what to act on, what waits, what is information."""

    errors: int = 0
    error_files: int = 0
    warnings: int = 0
    warning_files: int = 0
    accepted_pending: int = 0
    notices: list[dict[str, Any]] = field(default_factory=list)
    replaced_files: int = 0
    conflicts: int = 0

    @property
    def to_act_on(self) -> int:
        return self.errors + self.warnings


def summary(connection: Connection) -> Summary:
    result = Summary()
    pending = (HELD.c.status.in_([quarantine.ACCEPTED, quarantine.RESOLVED])
               & not_(HELD.c.loaded))
    open_errors = (HELD.c.status == quarantine.OPEN) & (HELD.c.severity == ERROR)
    open_warnings = (HELD.c.status == quarantine.OPEN) & (HELD.c.severity == WARNING)
    counted = connection.execute(select(
        func.count().filter(open_errors),
        func.count(distinct(case((open_errors, HELD.c.file_name)))),
        func.count().filter(open_warnings),
        func.count(distinct(case((open_warnings, HELD.c.file_name)))),
        func.count().filter(pending),
    )).one()
    (result.errors, result.error_files, result.warnings, result.warning_files,
     result.accepted_pending) = (int(value or 0) for value in counted)
    notices = connection.execute(select(NOTICES.c.kind, func.sum(NOTICES.c.count),
                                        func.count()).group_by(NOTICES.c.kind)).all()
    result.notices = sorted(
        ({"kind": kind, "count": int(total or 0), "files": int(files), **_described(kind)}
         for kind, total, files in notices),
        key=lambda notice: NOTICE_ORDER.get(notice["kind"], len(NOTICE_ORDER)))
    result.replaced_files = int(connection.execute(
        select(func.count()).where(DELIVERIES.c.outcome == Outcome.SUPERSEDED)).scalar() or 0)
    result.conflicts = int(connection.execute(select(func.count()).select_from(CONFLICTS)).scalar()
                           or 0)
    return result


def _offset(number: int, size: int) -> int:
    return (max(1, number) - 1) * size


def queue(connection: Connection, held: HeldFilter, number: int = 1, size: int = 50) -> Page:
    """Held rows grouped by source, file, rule and severity, with counts per status group."""
    conditions = held.conditions()
    keys = (HELD.c.source, HELD.c.file_name, HELD.c.rule, HELD.c.severity)
    grouped = select(
        *keys,
        func.count().label("total"),
        func.count().filter(HELD.c.status == quarantine.OPEN).label("open"),
        func.count().filter(HELD.c.status == quarantine.ACCEPTED).label("accepted"),
        func.max(HELD.c.last_seen).label("last_seen"),
    ).where(*conditions).group_by(*keys)
    total = connection.execute(select(func.count()).select_from(grouped.subquery())).scalar() or 0
    items = [dict(row) for row in connection.execute(
        grouped.order_by(*keys).limit(size).offset(_offset(number, size))).mappings()]
    for item in items:
        item["source_label"] = SOURCE_LABELS.get(item["source"], item["source"])
    return Page(items, int(total), max(1, number), size)


ROW_COLUMNS = (HELD.c.id, HELD.c.delivery_id, HELD.c.source, HELD.c.file_name,
                HELD.c.row_number, HELD.c.column, HELD.c.rule, HELD.c.severity, HELD.c.expected,
                HELD.c.found, HELD.c.status, HELD.c.loaded, HELD.c.note, HELD.c.first_seen,
                HELD.c.last_seen)


def _with_labels(connection: Connection, items: list[dict[str, Any]],
                 open_keys: set[tuple[int, int]] | None = None) -> list[dict[str, Any]]:
    """Each row's status label; ``open_keys`` (delivery, row) with an open issue, read for the
    rows' deliveries when not given."""
    waiting_candidates = [item for item in items if item["status"] in (
        quarantine.ACCEPTED, quarantine.RESOLVED) and not item["loaded"]]
    if open_keys is None and waiting_candidates:
        deliveries = sorted({item["delivery_id"] for item in waiting_candidates
                             if item["delivery_id"] is not None})
        open_keys = set()
        for start in range(0, len(deliveries), 500):
            open_keys |= {(delivery, row) for delivery, row in connection.execute(
                select(HELD.c.delivery_id, HELD.c.row_number).where(
                    HELD.c.status == quarantine.OPEN,
                    HELD.c.delivery_id.in_(deliveries[start:start + 500])))}
    for item in items:
        waiting = (item["delivery_id"], item["row_number"]) in (open_keys or set())
        item["status_label"] = status_label(item["status"], bool(item["loaded"]), waiting)
        item["source_label"] = SOURCE_LABELS.get(item["source"], item["source"])
    return items


def rows(connection: Connection, held: HeldFilter, number: int = 1, size: int = 100) -> Page:
    conditions = held.conditions()
    total = connection.execute(select(func.count()).select_from(HELD).where(*conditions)
                               ).scalar() or 0
    items = [dict(row) for row in connection.execute(
        select(*ROW_COLUMNS).where(*conditions)
        .order_by(HELD.c.source, HELD.c.file_name, HELD.c.rule, HELD.c.row_number, HELD.c.id)
        .limit(size).offset(_offset(number, size))).mappings()]
    return Page(_with_labels(connection, items), int(total), max(1, number), size)


def acceptable_count(connection: Connection, held: HeldFilter) -> int:
    """How many open warnings a bulk acceptance of ``held`` would accept."""
    return int(connection.execute(select(func.count()).select_from(HELD)
                                  .where(quarantine.acceptable(held))).scalar() or 0)


def every_row(connection: Connection) -> list[dict[str, Any]]:
    """Every row the static page lists (open, and accepted or resolved but not loaded), sorted
    as the page groups them."""
    items = [dict(row) for row in connection.execute(
        select(*ROW_COLUMNS).where(*HeldFilter().conditions())
        .order_by(HELD.c.source, HELD.c.file_name, HELD.c.rule, HELD.c.row_number, HELD.c.id)
    ).mappings()]
    open_keys = {(item["delivery_id"], item["row_number"]) for item in items
                 if item["status"] == quarantine.OPEN}
    return _with_labels(connection, items, open_keys)


def row(connection: Connection, held_id: int) -> dict[str, Any] | None:
    found = connection.execute(select(*ROW_COLUMNS, DELIVERIES.c.extraction_date)
                               .select_from(HELD.outerjoin(DELIVERIES,
                                                           DELIVERIES.c.id == HELD.c.delivery_id))
                               .where(HELD.c.id == held_id)).mappings().first()
    if found is None:
        return None
    return _with_labels(connection, [dict(found)])[0]


def audit(connection: Connection, held_id: int) -> list[dict[str, Any]]:
    return [dict(decision) for decision in connection.execute(
        select(DECISIONS).where(DECISIONS.c.held_row_id == held_id)
        .order_by(DECISIONS.c.decided_at, DECISIONS.c.id)).mappings()]


def notices(connection: Connection) -> list[dict[str, Any]]:
    items = [dict(notice) for notice in connection.execute(
        select(NOTICES).order_by(NOTICES.c.source, NOTICES.c.file_name)).mappings()]
    for item in items:
        item.update(_described(item["kind"]),
                    source_label=SOURCE_LABELS.get(item["source"], item["source"]))
    return sorted(items, key=lambda item: NOTICE_ORDER.get(item["kind"], len(NOTICE_ORDER)))


def conflicts(connection: Connection, number: int = 1, size: int = 100) -> Page:
    total = connection.execute(select(func.count()).select_from(CONFLICTS)).scalar() or 0
    items = [dict(conflict) for conflict in connection.execute(
        select(CONFLICTS).order_by(CONFLICTS.c.insats, CONFLICTS.c.file_name,
                                   CONFLICTS.c.row_number, CONFLICTS.c.id)
        .limit(size).offset(_offset(number, size))).mappings()]
    return Page(items, int(total), max(1, number), size)


def all_conflicts(connection: Connection) -> list[dict[str, Any]]:
    return conflicts(connection, 1, 10**9).items


def options(connection: Connection) -> dict[str, list[str]]:
    """What the filters offer: the values held rows actually have."""
    def values(column) -> list[str]:
        return [value for (value,) in connection.execute(
            select(column).distinct().where(column.isnot(None)).order_by(column))]

    days = connection.execute(select(DELIVERIES.c.extraction_date).distinct().where(
        DELIVERIES.c.id.in_(select(HELD.c.delivery_id)),
        DELIVERIES.c.extraction_date.isnot(None))).scalars()
    quarters = sorted({periods.label(periods.quarter_of(value)) for value in days}, reverse=True)
    return {"source": values(HELD.c.source), "rule": values(HELD.c.rule),
            "file_name": values(HELD.c.file_name), "period": quarters}
