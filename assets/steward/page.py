"""The data steward's view as files: ``failures.csv`` for Excel and ``failures.html`` for e-mail and
the archive, rendered from the same templates as the steward's web app (``steward_web``).

Everything here reads the warehouse only; identity numbers never appear (held rows are masked at
the source, notices are counts, conflicts show the birth-date part only, and the render path masks
anything shaped like a number on top of that).
"""

from __future__ import annotations

import datetime as dt
from itertools import groupby
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, select

from assets.files import write_csv, write_text
from assets.steward import render, review
from assets.steward.review import NOTICE_TYPES, SOURCE_LABELS  # noqa: F401  (the CLI's labels)
from finsam.periods import TIMEZONE
from validation.issues import ERROR, WARNING
from warehouse import models, quarantine

COLUMNS = ("Typ", "Åtgärd", "ID", "Källa", "Fil", "Rad", "Kolumn", "Regel", "Allvarlighet",
           "Förväntat", "Hittat", "Antal", "Status", "Först sedd", "Senast sedd", "Anteckning")

CONFLICT_COLUMNS = {"försörjning vid inskrivning saknar partnerns uppgift": "Försörjning vid inskrivning"}

TO_CORRECT = "rätta i källan"
TO_DECIDE = "godkänn eller rätta i källan"
DECIDED = "ingen, beslutad"
INFORMATION = "information"


def held_rows(connection: Connection, statuses: tuple[str, ...] = (quarantine.OPEN,
                                                                    quarantine.ACCEPTED)) -> pd.DataFrame:
    table = models.HeldRow.__table__
    return pd.read_sql(select(table).where(table.c.status.in_(statuses))
                       .order_by(table.c.source, table.c.file_name, table.c.rule, table.c.row_number),
                       connection)


def _readable(moments: pd.Series) -> pd.Series:
    """Stored instants as Stockholm time to the minute, as the pages show them."""
    parsed = pd.to_datetime(moments, utc=True, format="mixed")
    return parsed.dt.tz_convert(TIMEZONE).dt.strftime("%Y-%m-%d %H:%M")


def held_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Held rows (as :mod:`assets.steward.review` reads them) with the steward's Swedish columns."""
    return _typed(_held_columns(rows).reindex(columns=list(COLUMNS)))


def _held_columns(rows: list[dict[str, Any]]) -> pd.DataFrame:
    held = pd.DataFrame(rows, columns=[*(column.name for column in review.ROW_COLUMNS),
                                       "status_label"])
    action = pd.Series(DECIDED, index=held.index).mask(
        held["status"] == quarantine.OPEN,
        held["severity"].map({ERROR: TO_CORRECT, WARNING: TO_DECIDE}))
    return pd.DataFrame({
        "Typ": held["severity"].map({ERROR: "valideringsfel"}).fillna("varning"),
        "Åtgärd": action,
        "ID": held["id"], "Källa": held["source"], "Fil": held["file_name"],
        "Rad": held["row_number"], "Kolumn": held["column"], "Regel": held["rule"],
        "Allvarlighet": held["severity"], "Förväntat": held["expected"], "Hittat": held["found"],
        "Antal": 1, "Status": held["status_label"], "Först sedd": held["first_seen"],
        "Senast sedd": held["last_seen"], "Anteckning": held["note"],
    })


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    for name in ("ID", "Rad", "Antal"):
        frame[name] = pd.to_numeric(frame[name]).astype("Int64")
    for name in ("Först sedd", "Senast sedd"):
        frame[name] = _readable(frame[name])
    return frame


def review_frame(connection: Connection, rows: list[dict[str, Any]] | None = None) -> pd.DataFrame:
    """Held rows the steward acts on or has decided (open, or accepted or resolved but not loaded
    yet), notices and conflicts in one frame with the steward's Swedish columns."""
    failures = _held_columns(review.every_row(connection) if rows is None else rows)
    notices = pd.read_sql(select(models.StewardNotice.__table__), connection)
    notice_rows = pd.DataFrame({
        "Typ": notices["kind"].map(NOTICE_TYPES).fillna(notices["kind"]),
        "Åtgärd": INFORMATION,
        "Källa": notices["source"], "Fil": notices["file_name"], "Regel": notices["detail"],
        "Antal": notices["count"], "Först sedd": notices["first_seen"],
        "Senast sedd": notices["last_seen"],
    })
    conflicts = pd.read_sql(select(models.ReconciliationConflict.__table__), connection)
    conflict_rows = pd.DataFrame({
        "Typ": "konflikt", "Åtgärd": INFORMATION, "Källa": "insats", "Fil": conflicts["file_name"],
        "Rad": conflicts["row_number"],
        "Kolumn": conflicts["rule"].map(CONFLICT_COLUMNS),
        "Regel": conflicts["rule"], "Förväntat": conflicts["expected"],
        "Hittat": conflicts["person"] + ", inskriven " + conflicts["inskrivningsdatum"].astype(str)
                  + ": " + conflicts["found"],
        "Antal": 1, "Senast sedd": conflicts["computed_at"],
    })
    frames = [frame for frame in (failures, notice_rows, conflict_rows) if not frame.empty]
    if not frames:
        return pd.DataFrame(columns=list(COLUMNS))
    return _typed(pd.concat(frames, ignore_index=True).reindex(columns=list(COLUMNS)))


_SECTIONS = (
    ("fel", "Fel att rätta i källan", ""),
    ("varningar", "Varningar att godkänna eller rätta i källan", "varning"),
    ("godkanda", "Godkända, laddas vid nästa körning", "godkand"),
)


def _section_of(item: dict[str, Any]) -> str:
    if item["status"] != quarantine.OPEN:
        return "godkanda"
    return "fel" if item["severity"] == ERROR else "varningar"


def sections(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The page's three parts, each grouped by source and then by file, rule and severity (the
    rows come sorted by source, file, rule and row)."""
    by_section: dict[str, list[dict[str, Any]]] = {anchor: [] for anchor, _, _ in _SECTIONS}
    for item in rows:
        by_section[_section_of(item)].append(item)
    out = []
    for anchor, title, css in _SECTIONS:
        sources = []
        for source, of_source in groupby(by_section[anchor], key=lambda item: item["source"]):
            of_source = list(of_source)
            groups = [{"file_name": file_name, "rule": rule, "severity": severity,
                       "rows": list(group_rows)}
                      for (file_name, rule, severity), group_rows in groupby(
                          of_source, key=lambda item: (item["file_name"], item["rule"],
                                                       item["severity"]))]
            sources.append({"label": SOURCE_LABELS.get(source, source), "count": len(of_source),
                            "groups": groups})
        out.append({"anchor": anchor, "title": title, "css": css,
                    "count": len(by_section[anchor]), "sources": sources})
    return out


def render_html(connection: Connection, rows: list[dict[str, Any]] | None = None) -> str:
    """The self-contained Swedish page: what to act on first, then what is decided, then
    information; a filter box narrows the rows (no network, no cap)."""
    rows = review.every_row(connection) if rows is None else rows
    template = render.static_environment().get_template("failures.html")
    return template.render(
        created=dt.datetime.now(dt.timezone.utc), summary=review.summary(connection),
        sections=sections(rows), notices=review.notices(connection),
        conflicts=review.all_conflicts(connection))


def write_reports(connection: Connection, out: Path) -> dict[str, Path]:
    """``<out>/steward/failures.csv`` and ``failures.html``; returns their paths."""
    folder = out / "steward"
    rows = review.every_row(connection)
    csv_path = folder / "failures.csv"
    # utf-8-sig and ';' so that Excel with Swedish settings opens it directly; formulas neutralised
    write_csv(render.mask_frame(review_frame(connection, rows)), csv_path, encoding="utf-8-sig")
    html_path = write_text(folder / "failures.html", render_html(connection, rows))
    return {"csv": csv_path, "html": html_path}
