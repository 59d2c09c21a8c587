"""Sign-off: outputs frozen as delivered, and the corrections later runs write instead.

Deliveries are facts, quarters are views, and a sign-off freezes a view. Every output asset writes
its folders through a :class:`Publisher`, one :class:`View` at a time: the view says what output it
is, its folder (relative to ``<out>``), the quarters the folder covers (its :class:`Span`: one
quarter, or a range such as 2024Q1-2024Q4 for an årsredovisning or a year's SUS statistics), how to
write its files, what it read (its :class:`~assets.lineage.Lineage`) and, where it has them, its
cells (sheet, table, row, column, value). The publisher then either

- writes the files, ``underlag.csv`` beside them, and records the build in ``output_view`` (files
  and their SHA-256, the deliveries, the cells), or,
- when the view's span is signed off (``finsam signoff``, :func:`sign_off`), leaves its files as
  they are and writes what changed since the sign-off to ``<out>/rattelser/<span>/`` (``2024Q2``,
  or ``2024Q1_2024Q4`` for a range; restricted parts under ``<out>/begransad/rattelser/<span>/``),
  each change with the deliveries that caused it: those the view reads now and did not read when
  it was frozen, narrowed to the ones whose records feed the changed cell (by table and insats).

A sign-off of a span freezes exactly the views whose folder covers that span: ``2024Q4`` the
quarter's follow-up and SUS files of 2024Q4, ``2024Q1-2024Q4`` the årsredovisning 2024 and the
SUS statistics and submission of the year.

A sign-off freezes the builds on disk: it refuses a view whose files changed after the run that
wrote them (the cells recorded would no longer be the files'), and records who, when and why.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pandas as pd
from sqlalchemy import Connection, Engine, delete, insert, select, update

from assets import files
from assets.lineage import Deliveries, Lineage
from finsam.errors import FinsamError
from finsam.periods import label, quarter, quarter_label
from warehouse import models

CORRECTIONS = "rattelser"
CELLS_FILE = "celler.csv"
CELL_KEY = ("sheet", "table", "row", "column")
CELL_HEADERS = {"sheet": "Blad", "table": "Tabell", "row": "Rad", "column": "Kolumn"}
BEFORE, AFTER, DIFFERENCE, CAUSE = ("Signerat värde", "Nytt värde", "Skillnad",
                                    "Orsak (leveranser efter signeringen)")
NO_NEW_DELIVERY = ("ingen ny leverans: ändrad av ett beslut i granskningen, en radering efter "
                   "återkallat samtycke eller en ny version av finsam")


class SignOffError(FinsamError):
    """A sign-off that cannot be made as asked (nothing to freeze, files changed, signed before)."""


# -- what an output declares ------------------------------------------------------------------

@dataclass(frozen=True, order=True)
class Span:
    """The quarters an output folder covers, ``first`` to ``last`` (``YYYYQn``; one quarter:
    both the same). A sign-off is of one span and freezes the views of exactly that span."""

    first: str
    last: str

    def __post_init__(self) -> None:
        first, last = quarter(self.first), quarter(self.last)
        if last < first:
            raise ValueError(f"{self.first}-{self.last}: sista kvartalet ligger före det första")
        object.__setattr__(self, "first", label(first))
        object.__setattr__(self, "last", label(last))

    @classmethod
    def of(cls, start: dt.date, end: dt.date) -> Span:
        """The quarters from the one ``start`` falls in to the one ``end`` falls in."""
        return cls(quarter_label(start), quarter_label(end))

    @classmethod
    def parse(cls, text: str) -> Span:
        """``2024Q2``, or a range ``2024Q1-2024Q4`` (also written as the folders name it,
        ``2024Q1_2024Q4``)."""
        parts = re.split(r"\s*[-_–]\s*", text.strip())
        if len(parts) == 1:
            return cls(parts[0], parts[0])
        if len(parts) != 2:
            raise ValueError(f"{text!r} är varken ett kvartal (2024Q2) eller ett intervall av "
                             "kvartal (2024Q1-2024Q4)")
        return cls(*parts)

    @property
    def single(self) -> bool:
        return self.first == self.last

    @property
    def label(self) -> str:
        """As folders name it: ``2024Q2``, ``2024Q1_2024Q4``."""
        return self.first if self.single else f"{self.first}_{self.last}"

    def __str__(self) -> str:
        """As people write it: ``2024Q2``, ``2024Q1-2024Q4``."""
        return self.first if self.single else f"{self.first}-{self.last}"


# per changed cell: the tables whose records may feed it (None: any) and its insats (None: any)
Topic = Callable[[pd.DataFrame], tuple[list[frozenset[str] | None], list[str | None]]]


@dataclass(frozen=True)
class View:
    """One output folder as a run builds it."""

    kind: str                                  # e.g. "budgetuppfoljning", "sus_inlamning"
    folder: str                                # relative to <out>, "/" (where underlag.csv goes)
    span: Span | None                          # the quarters it covers (None: never frozen)
    write: Callable[[Path], list[Path]]        # writes its files under <out>, returns them
    lineage: Lineage
    cells: pd.DataFrame | None = None          # every figure (sheet, table, row, column, value)
    restricted: bool = False                   # holds identities or unsuppressed counts
    # underlag.csv says how many records each delivery gave it; not where counts are protected
    # (the published SUS statistics: the disclosure control does not protect those counts)
    lineage_counts: bool = True
    topic: Topic | None = None                 # narrows a changed cell's causes
    correct: Callable[[Correcting], Corrected] | None = None   # its own comparison (registrations)


@dataclass(frozen=True)
class Frozen:
    """A view as it was signed off."""

    kind: str
    folder: str
    span: Span                                 # the sign-off's (where its corrections go)
    files: dict[str, str]                      # path relative to <out> -> SHA-256
    deliveries: frozenset[int]
    cells: pd.DataFrame | None
    signed_at: dt.datetime
    note: str | None


@dataclass
class Correcting:
    """What a view's own comparison gets: the frozen view, the view now, and how to name and pick
    the deliveries that caused a change."""

    out: Path
    frozen: Frozen
    view: View
    deliveries: Deliveries

    @property
    def new(self) -> set[int]:
        """Deliveries the view reads now and did not read when it was frozen."""
        return self.view.lineage.delivery_ids - set(self.frozen.deliveries)

    def new_of(self, tables: Iterable[str] | None = None, insats: str | None = None) -> list[int]:
        """The new deliveries whose records come from ``tables`` (None: any) about ``insats``
        (None: any)."""
        records = self.view.lineage.records
        picked = records.loc[records["delivery_id"].isin(self.new)]
        if tables is not None:
            picked = picked.loc[picked["table"].isin(list(tables))]
        if insats is not None:
            picked = picked.loc[picked["insats"] == insats]
        return sorted({int(value) for value in picked["delivery_id"]})

    def cause(self, ids: Iterable[int]) -> str:
        named = self.deliveries.named(ids)
        return "; ".join(named) if named else NO_NEW_DELIVERY


@dataclass
class Corrected:
    """A frozen view's corrections: the files to write (name -> frame; a restricted view's under
    ``restricted``, a published view's under ``public``), a count of changes, and the deliveries
    that caused them."""

    public: dict[str, pd.DataFrame] = field(default_factory=dict)
    restricted: dict[str, pd.DataFrame] = field(default_factory=dict)
    changes: int = 0
    causes: set[int] = field(default_factory=set)


@dataclass
class Published:
    view: View
    written: list[Path] = field(default_factory=list)
    frozen: Frozen | None = None
    corrections: list[Path] = field(default_factory=list)
    changes: int = 0

    def correction_metadata(self) -> dict:
        """A frozen view's corrections as Dagster metadata: where and how many."""
        return {"mapp": self.view.folder,
                "signerad": str(self.frozen.span) if self.frozen else None,
                "ändringar": self.changes,
                "rättelser": sorted({str(path.parent) for path in self.corrections})}


# -- writing through the publisher --------------------------------------------------------------

class Publisher:
    """Writes an asset's views, or their corrections when their span is signed off. Reads the
    manifest and the frozen views once."""

    def __init__(self, engine: Engine, out: Path, run_id: str | None = None) -> None:
        self.engine = engine
        self.out = Path(out)
        self.run_id = run_id
        with engine.connect() as connection:
            self.deliveries = Deliveries.read(connection)
            self.frozen = frozen_views(connection)

    def publish(self, view: View, *, only_corrections: bool = False) -> Published:
        """Write ``view`` (files, ``underlag.csv``, the build's record), or its corrections when
        it is frozen; with ``only_corrections`` a view that is not frozen is left unwritten."""
        frozen = self.frozen.get((view.kind, view.folder))
        if frozen is not None:
            return self._correct(view, frozen)
        if only_corrections:
            return Published(view)
        written = view.write(self.out)
        folder = self.out / view.folder
        written.append(files.write_csv(self._lineage_table(view, view.lineage),
                                       folder / "underlag.csv", private=view.restricted))
        self._record(view, written)
        return Published(view, written=written)

    def _lineage_table(self, view: View, read: Lineage) -> pd.DataFrame:
        """``underlag.csv`` of ``read``; without counts (and without the line counting
        de-identified spells) for a view whose counts are protected."""
        if view.lineage_counts:
            return self.deliveries.table(read, self.run_id)
        return self.deliveries.table(Lineage(read.records), self.run_id).assign(Poster="")

    def _record(self, view: View, written: list[Path]) -> None:
        hashes = {_relative(path, self.out): sha256(path) for path in written}
        span = view.span
        values = {"kind": view.kind, "folder": view.folder,
                  "first_quarter": span.first if span else None,
                  "last_quarter": span.last if span else None,
                  "restricted": view.restricted, "run_id": self.run_id,
                  "built_at": dt.datetime.now(dt.UTC),
                  "files": json.dumps(hashes, ensure_ascii=False, sort_keys=True),
                  "deliveries": json.dumps(sorted(view.lineage.delivery_ids)),
                  "deidentified": view.lineage.deidentified,
                  "cells": None if view.cells is None else cells_json(view.cells)}
        table = models.OutputView.__table__
        with self.engine.begin() as connection:
            # a frozen build is never replaced: were it signed off meanwhile, the insert fails
            connection.execute(delete(table).where(table.c.kind == view.kind,
                                                   table.c.folder == view.folder,
                                                   table.c.signoff_id.is_(None)))
            connection.execute(insert(table).values(**values))

    def _correct(self, view: View, frozen: Frozen) -> Published:
        correcting = Correcting(self.out, frozen, view, self.deliveries)
        corrected = (view.correct or correct_cells)(correcting)
        # a view is corrected on its own side only: a restricted view's corrections stay
        # restricted, and two views whose folders differ only by begransad/ (the SUS submission
        # and the published statistics of a range) never share, or clear, one folder
        frames, other = ((corrected.restricted, corrected.public) if view.restricted
                         else (corrected.public, corrected.restricted))
        if other:
            raise ValueError(f"{view.folder}: rättelserna hör till "
                             f"{'den begränsade' if view.restricted else 'den publicerade'} sidan")
        folder = correction_folder(self.out, frozen.span, view.folder,
                                   restricted=view.restricted)
        _remove_stale(folder)
        written: list[Path] = []
        if frames and corrected.changes:
            if view.restricted:
                folder = files.restricted(self.out, *folder.relative_to(
                    self.out / files.RESTRICTED).parts)
            for name, frame in frames.items():
                written.append(files.write_csv(frame, folder / name, private=view.restricted))
            causes = Lineage(view.lineage.records.loc[
                view.lineage.records["delivery_id"].isin(corrected.causes)])
            written.append(files.write_csv(self._lineage_table(view, causes),
                                           folder / "underlag.csv", private=view.restricted))
        return Published(view, frozen=frozen, corrections=written, changes=corrected.changes)


def correction_folder(out: Path, span: Span, folder: str, *, restricted: bool) -> Path:
    """``<out>/rattelser/<span>/<folder>`` (restricted: under ``<out>/begransad/``), the view's
    folder without its own ``begransad/``."""
    parts = PurePosixPath(folder).parts
    if parts and parts[0] == files.RESTRICTED:
        parts = parts[1:]
    base = out / files.RESTRICTED if restricted else out
    return base.joinpath(CORRECTIONS, span.label, *parts)


def _remove_stale(folder: Path) -> None:
    """A run writes a view's corrections anew: what an earlier run wrote there goes first (a
    change may have been undone since)."""
    if folder.is_dir():
        for path in folder.iterdir():
            if path.is_file() and path.suffix == ".csv":
                path.unlink()


def _relative(path: Path, out: Path) -> str:
    return Path(path).resolve().relative_to(out.resolve()).as_posix()


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- cells ----------------------------------------------------------------------------------------

def cells_json(cells: pd.DataFrame) -> str:
    rows = cells[list(CELL_KEY) + ["value"]].astype(object).to_numpy().tolist()
    return json.dumps([[_plain(value) for value in row] for row in rows], ensure_ascii=False)


def cells_frame(text: str | None) -> pd.DataFrame | None:
    if text is None:
        return None
    rows = json.loads(text)
    return pd.DataFrame(rows, columns=[*CELL_KEY, "value"], dtype=object)


def _plain(value: object) -> object:
    if value is None or isinstance(value, (str, bool, int, float)):
        return None if isinstance(value, float) and math.isnan(value) else value
    if hasattr(value, "item"):
        return _plain(value.item())
    return str(value)


def _same(before: object, after: object) -> bool:
    if before is None or after is None:
        return before is None and after is None
    numbers = (int, float)
    if isinstance(before, numbers) and isinstance(after, numbers) \
            and not isinstance(before, bool) and not isinstance(after, bool):
        return math.isclose(float(before), float(after), rel_tol=1e-9, abs_tol=1e-9)
    return before == after


def changed_cells(frozen: pd.DataFrame, now: pd.DataFrame) -> pd.DataFrame:
    """Cells whose value differs, appeared or went, with the value at sign-off and now."""
    key = list(CELL_KEY)

    def keyed(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.astype({name: str for name in key}).set_index(key)["value"]

    before, after = keyed(frozen), keyed(now)
    index = before.index.union(after.index, sort=False)
    before, after = before.reindex(index), after.reindex(index)
    differs = [not _same(_plain(one), _plain(other)) for one, other in zip(before, after)]
    frame = pd.DataFrame({"before": before.astype(object), "after": after.astype(object)},
                         index=index).loc[differs].reset_index()
    for column in ("before", "after"):
        frame[column] = [_plain(value) for value in frame[column]]
    return frame


def correct_cells(correcting: Correcting) -> Corrected:
    """The generic comparison: every cell that changed since the sign-off, with its causes."""
    frozen, view = correcting.frozen, correcting.view
    if frozen.cells is None or view.cells is None:
        return Corrected()
    changed = changed_cells(frozen.cells, view.cells)
    if changed.empty:
        return Corrected()
    tables, insatser = (view.topic(changed) if view.topic is not None
                        else ([None] * len(changed), [None] * len(changed)))
    causes: list[list[int]] = []
    cache: dict[tuple, list[int]] = {}
    for table_set, insats in zip(tables, insatser):
        key = (table_set, insats)
        if key not in cache:
            cache[key] = (correcting.new_of(table_set, insats)
                          or correcting.new_of(table_set) or correcting.new_of())
        causes.append(cache[key])
    frame = pd.DataFrame({CELL_HEADERS[name]: changed[name] for name in CELL_KEY})
    frame[BEFORE] = changed["before"].to_numpy(dtype=object)
    frame[AFTER] = changed["after"].to_numpy(dtype=object)
    frame[DIFFERENCE] = [_difference(one, other) for one, other
                         in zip(changed["before"], changed["after"])]
    frame[CAUSE] = [correcting.cause(ids) for ids in causes]
    name = CELLS_FILE
    corrected = Corrected(changes=len(frame), causes={value for ids in causes for value in ids})
    if view.restricted:
        corrected.restricted[name] = frame
    else:
        corrected.public[name] = frame
    return corrected


def _difference(before: object, after: object) -> object:
    numbers = (int, float)
    if isinstance(before, numbers) and isinstance(after, numbers) \
            and not isinstance(before, bool) and not isinstance(after, bool):
        return after - before
    return None


def topic_by_words(words: Mapping[str, Iterable[str]]) -> Topic:
    """A :data:`Topic` from the words of a cell's labels: the first of its column, row and table
    that holds any of ``words``' keys decides the tables (the union of those keys' tables; none
    found: any table); its insats is the sheet, or the code a table or row label begins with
    (``JOBB: Budget``, ``JOBB – Jobbcoachning``), when that code is an insats the view read."""
    lowered = {word.casefold(): frozenset(tables) for word, tables in words.items()}

    def tables_of(text: str) -> frozenset[str] | None:
        text = text.casefold()
        found = [tables for word, tables in lowered.items() if word in text]
        return frozenset().union(*found) if found else None

    def topic(cells: pd.DataFrame, codes: set[str] | None = None):
        tables = []
        for column, row, table in zip(cells["column"], cells["row"], cells["table"]):
            picked = None
            for text in (column, row, table):
                picked = tables_of(str(text))
                if picked is not None:
                    break
            tables.append(picked)
        return tables, [_insats_of(sheet, table, row)
                        for sheet, table, row in zip(cells["sheet"], cells["table"], cells["row"])]

    return topic


def _insats_of(sheet: str, table: str, row: str) -> str | None:
    """The insats code a cell is about: a sheet named by a code (upper case letters and digits),
    else a table or row label that begins with one (``CODE: ...``, ``CODE – ...``)."""
    for text, separator in ((str(sheet), None), (str(table), ":"), (str(row), " – ")):
        code = text if separator is None else text.split(separator)[0]
        if code and code == code.upper() and code.replace("_", "").isalnum() \
                and any(character.isalpha() for character in code) and " " not in code \
                and (separator is None or separator in text):
            return code
    return None


# -- the sign-off itself --------------------------------------------------------------------------

@dataclass
class Signed:
    span: Span
    signed_at: dt.datetime
    signed_by: str
    note: str | None
    views: list[dict]                 # kind, folder, files: {path: state}, deliveries
    corrections: list[Path] = field(default_factory=list)


def _span(row: Mapping) -> Span:
    return Span(row["first_quarter"], row["last_quarter"])


def frozen_views(connection: Connection) -> dict[tuple[str, str], Frozen]:
    views = models.OutputView.__table__
    signoffs = models.SignOff.__table__
    rows = connection.execute(
        select(views.c.kind, views.c.folder, views.c.files, views.c.deliveries, views.c.cells,
               signoffs.c.first_quarter, signoffs.c.last_quarter, signoffs.c.signed_at,
               signoffs.c.note)
        .join(signoffs, signoffs.c.id == views.c.signoff_id)).mappings().all()
    return {(row["kind"], row["folder"]): Frozen(
        kind=row["kind"], folder=row["folder"], span=_span(row),
        files=json.loads(row["files"]), deliveries=frozenset(json.loads(row["deliveries"])),
        cells=cells_frame(row["cells"]), signed_at=row["signed_at"], note=row["note"])
        for row in rows}


def signed_spans(connection: Connection) -> set[Span]:
    signoffs = models.SignOff.__table__
    return {_span(row) for row in connection.execute(
        select(signoffs.c.first_quarter, signoffs.c.last_quarter)).mappings()}


def sign_off(engine: Engine, out: Path, span_text: str | Span, *, note: str | None = None,
             who: str | None = None) -> Signed:
    """Freeze the views whose folder covers exactly ``span_text`` (``2024Q2``, ``2024Q1-2024Q4``)
    as the runs last built them. Refused when the span is signed off already, has no outputs, or
    a file changed (or went) after the run that wrote it."""
    span = span_text if isinstance(span_text, Span) else Span.parse(span_text)
    views = models.OutputView.__table__
    signoffs = models.SignOff.__table__
    with engine.begin() as connection:
        if connection.execute(select(signoffs.c.id).where(
                signoffs.c.first_quarter == span.first,
                signoffs.c.last_quarter == span.last)).first():
            raise SignOffError(f"{span} är redan signerat (se finsam signoff --list)")
        built = connection.execute(select(views).where(views.c.first_quarter == span.first,
                                                       views.c.last_quarter == span.last,
                                                       views.c.signoff_id.is_(None))
                                   .order_by(views.c.folder)).mappings().all()
        if not built:
            raise SignOffError(f"{span} har inga utdata att signera: kör perioden först "
                               f"({_how_to_run(span)})")
        problems = [f"{path}: {state}" for row in built
                    for path, state in file_states(out, json.loads(row["files"])).items()
                    if state != UNCHANGED]
        if problems:
            raise SignOffError(
                f"{span} signeras inte: filerna är inte de som körningen skrev ("
                + "; ".join(problems[:5]) + (" …" if len(problems) > 5 else "")
                + f"). Kör perioden igen ({_how_to_run(span)}) och signera sedan.")
        signed_at = dt.datetime.now(dt.UTC)
        signer = who or _user()
        identifier = connection.execute(insert(signoffs).values(
            first_quarter=span.first, last_quarter=span.last, signed_at=signed_at,
            signed_by=signer, note=note)).inserted_primary_key[0]
        connection.execute(update(views).where(views.c.id.in_([row["id"] for row in built]))
                           .values(signoff_id=identifier))
    return Signed(span, signed_at, signer, note, [_listed(out, row) for row in built])


def _how_to_run(span: Span) -> str:
    """The command that builds a span's views: a quarter's run builds its own folders and the
    board's reports that end in it; a range's SUS statistics come from `finsam report sus`."""
    if span.single:
        return f"finsam run --from {span.first}"
    return (f"finsam run --from {span.first} --to {span.last}, eller finsam report sus --from "
            f"{span.first} --to {span.last}")


UNCHANGED, CHANGED, MISSING = "oförändrad", "ändrad efter körningen", "saknas"


def file_states(out: Path, hashes: Mapping[str, str]) -> dict[str, str]:
    states = {}
    for path, digest in hashes.items():
        target = out / path
        if not target.is_file():
            states[path] = MISSING
        else:
            states[path] = UNCHANGED if sha256(target) == digest else CHANGED
    return states


def _listed(out: Path, row: Mapping) -> dict:
    return {"kind": row["kind"], "folder": row["folder"],
            "files": file_states(out, json.loads(row["files"])),
            "deliveries": len(json.loads(row["deliveries"]))}


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "okänd"


def list_signed(engine: Engine, out: Path) -> list[Signed]:
    """Every sign-off with its views, the state of their files, and its corrections."""
    views = models.OutputView.__table__
    signoffs = models.SignOff.__table__
    with engine.connect() as connection:
        quarters = connection.execute(select(signoffs).order_by(
            signoffs.c.first_quarter, signoffs.c.last_quarter)).mappings().all()
        frozen = connection.execute(select(views).where(views.c.signoff_id.isnot(None))
                                    .order_by(views.c.folder)).mappings().all()
    listed = []
    for row in quarters:
        mine = [_listed(out, view) for view in frozen if view["signoff_id"] == row["id"]]
        span = _span(row)
        corrections = sorted(path for base in (out, out / files.RESTRICTED)
                             for path in (base / CORRECTIONS / span.label).rglob("*.csv"))
        listed.append(Signed(span, row["signed_at"], row["signed_by"], row["note"], mine,
                             corrections))
    return listed


def describe(signed: Signed, out: Path) -> list[str]:
    """A sign-off in a few lines for the terminal (Swedish)."""
    when = pd.Timestamp(signed.signed_at).tz_convert("Europe/Stockholm") \
        if pd.Timestamp(signed.signed_at).tzinfo else pd.Timestamp(signed.signed_at)
    lines = [f"{signed.span}: signerat {when:%Y-%m-%d %H:%M} av {signed.signed_by}"
             + (f" – {signed.note}" if signed.note else "")]
    for view in signed.views:
        states = list(view["files"].values())
        changed = [path for path, state in view["files"].items() if state != UNCHANGED]
        state = ("filerna oförändrade" if not changed
                 else f"{len(changed)} av {len(states)} filer ändrade eller borta: "
                      + ", ".join(f"{path} ({view['files'][path]})" for path in changed))
        lines.append(f"  {view['folder']}: {len(states)} filer, {view['deliveries']} leveranser; "
                     f"{state}")
    folders = sorted({str(path.parent.relative_to(out)) for path in signed.corrections})
    if folders:
        lines.append("  rättelser sedan signeringen: " + ", ".join(folders))
    else:
        lines.append("  inga rättelser sedan signeringen")
    return lines
