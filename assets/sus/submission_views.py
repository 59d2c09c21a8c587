"""The SUS submission as a sign-off view: its folder, its lineage, and its own comparison.

A submission is frozen when its span (the quarter, or the range of quarters, its folder covers) is
signed off: the deltagaransvarig has registered those rows in SUS. What changes after that is not
a figure but work to do, so the comparison is per registration, keyed by person, insats and
enrolment day:

- ``registrera``: an enrolment (or an exit) in the period that was not in the signed files;
- ``rätta``: a registration whose fields changed (each changed field with old and new value);
- ``makulera``: a registration in the signed files that should not have been made (the spell went,
  or the participant's SUS consent no longer allows it);
- anonymous counts per insats, year and kön with their old and new number.

Identity numbers are only ever in the restricted folders: the comparison reads the frozen files
where they lie (``<out>/begransad/...``), renders the new ones into a private working folder there,
and writes the corrections to ``<out>/begransad/rattelser/<span>/``. The warehouse's record of
the build keeps file digests and delivery ids only.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import dagster as dg
import pandas as pd
from sqlalchemy import Connection, select

from assets import files, lineage
from assets.lineage import Lineage
from assets.signoff import Corrected, Correcting, Publisher, Span, View
from assets.sus.submission import Selection, SusAdapter
from warehouse import models

KIND = "sus_inlamning"
FILE = "registreringar.csv"
ANONYMOUS_FILE = "anonyma.csv"
KEY = ("Personnummer", "Insats", "Inskrivningsdatum")
REGISTER, CORRECT, CANCEL = "registrera", "rätta", "makulera"
COLUMNS = ("Åtgärd", "Fil", *KEY, "Fält", "Signerat värde", "Nytt värde",
           "Orsak (leveranser efter signeringen)")
_WORK = ".arbete"
SPELLS = models.Spell.__tablename__
CONSENTS = models.Consent.__tablename__


def submission_lineage(connection: Connection, selection: Selection) -> Lineage:
    """The spells the submission registers and the consents that let it name them."""
    chosen = pd.concat([selection.enrolled, selection.ended])
    table = models.Consent.__table__
    consents = pd.read_sql(select(table.c.pseudonym, table.c.insats, table.c.delivery_id),
                           connection)
    used = consents.loc[consents["pseudonym"].isin(chosen["pseudonym"].dropna())]
    return Lineage.of(lineage.records(chosen, SPELLS), lineage.records(used, CONSENTS))


def publish_submission(connection: Connection, publisher: Publisher, selection: Selection,
                       identities: pd.Series, folder: str) -> tuple[list[Path], dict]:
    """Write the submission's files under ``<out>/begransad/sus/<folder>`` (with their
    ``underlag.csv``), or, when its span is signed off, the registrations to make since.
    Returns the files written and the materialisation's metadata about them (the deliveries,
    and the corrections when frozen)."""
    relative = f"{files.RESTRICTED}/sus/{folder}"

    def write(out: Path) -> list[Path]:
        return SusAdapter().write(selection, identities, files.restricted(out, "sus", folder))

    def correct(correcting: Correcting) -> Corrected:
        return _registrations(correcting, selection, identities)

    view = View(kind=KIND, folder=relative, span=Span.of(selection.start, selection.end),
                write=write,
                lineage=submission_lineage(connection, selection), restricted=True,
                correct=correct)
    published = publisher.publish(view)
    metadata = {"underlag": dg.MetadataValue.json(publisher.deliveries.metadata(view.lineage))}
    if published.frozen is not None:
        metadata["signerad_rattelse"] = dg.MetadataValue.json(published.correction_metadata())
    return (published.written or published.corrections), metadata


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        return pd.DataFrame()
    return pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)


def _rendered(out: Path, selection: Selection, identities: pd.Series) -> dict[str, pd.DataFrame]:
    """The submission's files as the adapter writes them now, read back from a private working
    folder under ``begransad`` (they hold identity numbers) that is removed at once."""
    base = files.restricted(out, _WORK)
    work = Path(tempfile.mkdtemp(dir=base))
    try:
        return {path.name: _read(path) for path in SusAdapter().write(selection, identities, work)}
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not any(base.iterdir()):
            base.rmdir()


def _registrations(correcting: Correcting, selection: Selection,
                   identities: pd.Series) -> Corrected:
    out, frozen = correcting.out, correcting.frozen
    now = _rendered(out, selection, identities)
    rows: list[dict] = []
    for name in ("inregistreringar.csv", "utregistreringar.csv"):
        before = _read(out / frozen.folder / name)
        rows += _compare(name, before, now.get(name, pd.DataFrame()))
    anonymous = _anonymous(_read(out / frozen.folder / ANONYMOUS_FILE),
                           now.get(ANONYMOUS_FILE, pd.DataFrame()))
    corrected = Corrected(changes=len(rows) + len(anonymous))
    if not corrected.changes:
        return corrected
    by_insats: dict[str | None, list[int]] = {}
    for insats in {row["Insats"] for row in rows} | set(anonymous.get("Insats", [])):
        by_insats[insats] = (correcting.new_of((SPELLS, CONSENTS), insats)
                             or correcting.new_of((SPELLS, CONSENTS)) or correcting.new_of())
    for row in rows:
        row[COLUMNS[-1]] = correcting.cause(by_insats[row["Insats"]])
    if rows:
        corrected.restricted[FILE] = pd.DataFrame(rows, columns=list(COLUMNS))
    if not anonymous.empty:
        anonymous[COLUMNS[-1]] = [correcting.cause(by_insats[code]) for code in anonymous["Insats"]]
        # counts without identities: still restricted, as unsuppressed small counts
        corrected.restricted[ANONYMOUS_FILE] = anonymous
    corrected.causes = {value for ids in by_insats.values() for value in ids}
    return corrected


def _compare(name: str, before: pd.DataFrame, after: pd.DataFrame) -> list[dict]:
    """Registrations in ``after`` and not in ``before`` (registrera), the other way (makulera),
    and those in both whose other fields differ (rätta, one row per field)."""
    key = list(KEY)
    if before.empty and after.empty:
        return []
    columns = list(after.columns if not after.empty else before.columns)
    before = before.reindex(columns=columns).fillna("").astype(str).set_index(key)
    after = after.reindex(columns=columns).fillna("").astype(str).set_index(key)
    rows = []
    for index in after.index.difference(before.index):
        rows.append(_row(REGISTER, name, index))
    for index in before.index.difference(after.index):
        rows.append(_row(CANCEL, name, index))
    both = before.index.intersection(after.index)
    for index in both:
        old, new = before.loc[[index]].iloc[0], after.loc[[index]].iloc[0]
        for field in old.index:
            if old[field] != new[field]:
                rows.append(_row(CORRECT, name, index, field, old[field], new[field]))
    return sorted(rows, key=lambda row: (row["Fil"], row["Insats"], row["Inskrivningsdatum"],
                                         row["Åtgärd"], row["Fält"]))


def _row(action: str, name: str, index: tuple, field: str = "", old: str = "",
         new: str = "") -> dict:
    return {"Åtgärd": action, "Fil": name, **dict(zip(KEY, index)), "Fält": field,
            "Signerat värde": old, "Nytt värde": new}


def _anonymous(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Anonymous counts per insats, year and kön that differ, with the signed and the new count."""
    key = ["Insats", "År", "Kön"]
    empty = pd.DataFrame(columns=[*key, "Antal"])
    before = (before if not before.empty else empty).astype(str).set_index(key)["Antal"]
    after = (after if not after.empty else empty).astype(str).set_index(key)["Antal"]
    index = before.index.union(after.index)
    old = pd.to_numeric(before.reindex(index), errors="coerce").fillna(0).astype(int)
    new = pd.to_numeric(after.reindex(index), errors="coerce").fillna(0).astype(int)
    differs = old != new
    frame = pd.DataFrame({"Signerat antal": old[differs], "Nytt antal": new[differs]})
    frame["Skillnad"] = frame["Nytt antal"] - frame["Signerat antal"]
    return frame.reset_index()
