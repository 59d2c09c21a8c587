"""The deltagaransvarig's worklist per period (Swedish, HTML and xlsx): what to do in SUS since the
last submission.

Sections: new registrations, registrations to correct, to register out, anonymous participants to
register again for a new calendar year, withdrawals needing manual handling. "Since the last
submission": each run keeps, in the restricted folder ``<out>/begransad/arbetslista/<FROM>_<TO>/`` (apart from
the submission, whose folder a sign-off freezes), what it asked to have registered (``inskickat.csv``: one row per spell, keyed by a hash of the spell's key, no
identity number). The worklist of a later period compares with the newest such record of a period
that ended before it; without one it lists what falls in the period itself.

No identity number is shown: a row names insats, kön, age, referring part and dates, which is what
the deltagaransvarig needs to find the participant in the insats's own register. The files are still
about persons, so they are written in the restricted folder.
"""


import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import dagster as dg
import jinja2
import openpyxl
import pandas as pd
from openpyxl.styles import Font

from assets.files import RESTRICTED, restricted, write_csv, write_text, write_with
from assets.resources import OutputFolder, Warehouse
from assets.retry import retry_when_busy
from assets.sus.assets import no_data, period, period_has_data
from assets.sus.warehouse_frames import read_spells, read_sus_consents
from finsam import participation
from finsam.periods import quarter_label

STATE_FILE = "inskickat.csv"
HTML_FILE = "arbetslista.html"
HTML_TEMPLATE = "arbetslista.html.j2"
XLSX_FILE = "arbetslista.xlsx"

NEW = "Nya inregistreringar"
CORRECT = "Registreringar att rätta"
OUT = "Att registrera ut"
AGAIN = "Anonyma deltagare att registrera för nytt år"
MANUAL = "Återkallade samtycken att hantera för hand"
SECTIONS = (NEW, CORRECT, OUT, AGAIN, MANUAL)

IN_FIELDS = ("insats", "inskrivningsdatum", "aktualiserande_part", "forsorjning_in",
             "tid_offentlig_forsorjning", "utbildningsniva", "kommun")
OUT_FIELDS = ("utskrivningsdatum", "avslutsanledning", "forsorjning_ut")
_LABELS = {"insats": "Insats", "kon": "Kön", "age_at_enrolment": "Ålder vid inskrivning",
           "aktualiserande_part": "Aktualiserande part", "inskrivningsdatum": "Inskrivningsdatum",
           "utskrivningsdatum": "Utskrivningsdatum", "avslutsanledning": "Avslutsanledning",
           "forsorjning_in": "Försörjning vid inskrivning",
           "forsorjning_ut": "Försörjning vid utskrivning",
           "tid_offentlig_forsorjning": "Tid i offentlig försörjning",
           "utbildningsniva": "Utbildningsnivå", "kommun": "Kommun"}
_SHOWN = ("insats", "kon", "age_at_enrolment", "aktualiserande_part", "inskrivningsdatum")
_INTRO = {
    NEW: "Registrera in i SUS med personuppgifter (underlaget finns i inregistreringar.csv).",
    CORRECT: "Redan inregistrerade; uppgifterna i insatsens register har ändrats sedan förra "
             "inlämningen. Rätta i SUS.",
    OUT: "Registrera ut i SUS. Avslutsanledning AVB = deltagaren har återkallat sitt samtycke "
         "(utskrivningsdag = dagen för återkallelsen).",
    AGAIN: "Anonyma deltagare som är kvar i insatsen ett nytt kalenderår räknas in igen för det "
           "året (antal per insats, år och kön).",
    MANUAL: "Deltagaren har återkallat alla samtycken och identiteten är raderad: registrera in "
            "och/eller ut för hand utifrån insatsens egna handlingar. Personnummer finns inte kvar.",
}


def _text(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp | dt.date):
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    return str(value)


def spell_key(spells: pd.DataFrame) -> pd.Series:
    """A stable key per spell that shows no pseudonym: a hash of its record key."""
    return spells["record_key"].astype(str).map(
        lambda key: hashlib.sha256(key.encode()).hexdigest()[:32])


def _values(spells: pd.DataFrame, fields: tuple[str, ...]) -> pd.Series:
    return spells[list(fields)].apply(lambda row: "|".join(_text(value) for value in row), axis=1) \
        if not spells.empty else pd.Series(dtype=str)


def state(spells: pd.DataFrame, is_anonymous: pd.Series, end: dt.date) -> pd.DataFrame:
    """What is registered in SUS once this period's worklist is done: every personal spell
    enrolled by ``end`` with its in-values, and its out-values once it has ended by then."""
    last = pd.Timestamp(end)
    personal = spells.loc[~is_anonymous & spells["pseudonym"].notna()
                          & (pd.to_datetime(spells["inskrivningsdatum"]) <= last)]
    ended = pd.to_datetime(personal["utskrivningsdatum"]) <= last
    return pd.DataFrame({"nyckel": spell_key(personal).to_numpy(),
                         "in": _values(personal, IN_FIELDS).to_numpy(),
                         "ut": _values(personal, OUT_FIELDS).where(ended, "").to_numpy()})


@dataclass(frozen=True)
class Worklist:
    start: dt.date
    end: dt.date
    since: str | None            # the period of the submission compared with, or None
    sections: dict[str, pd.DataFrame]

    @property
    def counts(self) -> dict[str, int]:
        return {name: len(frame) for name, frame in self.sections.items()}


def _shown(spells: pd.DataFrame, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    columns = [*_SHOWN, *(name for name in extra if name not in _SHOWN)]
    frame = spells[columns].copy()
    for name in ("inskrivningsdatum", "utskrivningsdatum"):
        if name in frame:
            frame[name] = pd.to_datetime(frame[name]).dt.strftime("%Y-%m-%d")
    frame["age_at_enrolment"] = frame["age_at_enrolment"].astype("Int64")
    return frame.rename(columns=_LABELS).sort_values(["Insats", "Inskrivningsdatum"],
                                                      kind="stable").reset_index(drop=True)


def worklist(spells: pd.DataFrame, consents: pd.DataFrame, start: dt.date, end: dt.date,
             previous: pd.DataFrame | None = None, since: str | None = None) -> Worklist:
    """The period's worklist; ``previous``: the :func:`state` of the last submission (None: the
    first one, and the period's own events are listed)."""
    first, last = pd.Timestamp(start), pd.Timestamp(end)
    is_anonymous = participation.anonymous(spells, consents)
    enrolled_on = pd.to_datetime(spells["inskrivningsdatum"])
    ended_on = pd.to_datetime(spells["utskrivningsdatum"])
    personal = ~is_anonymous & spells["pseudonym"].notna()
    key = spell_key(spells)
    if previous is None:
        new = personal & enrolled_on.between(first, last)
        out = personal & ended_on.between(first, last)
        correct = pd.Series(False, index=spells.index)
    else:
        registered_in = key.isin(previous["nyckel"])
        registered_out = key.isin(previous.loc[previous["ut"].fillna("") != "", "nyckel"])
        new = personal & (enrolled_on <= last) & ~registered_in
        out = personal & (ended_on <= last) & ~registered_out
        before = previous.set_index("nyckel")
        now_in, now_out = _values(spells, IN_FIELDS), _values(spells, OUT_FIELDS)
        was_in = key.map(before["in"])
        was_out = key.map(before["ut"]).fillna("")
        changed = registered_in & ((now_in != was_in) | (registered_out & (now_out != was_out)))
        correct = personal & changed
    erased = ~is_anonymous & spells["pseudonym"].isna()
    manual = erased & (enrolled_on.between(first, last) | ended_on.between(first, last))
    registrations = participation.anonymous_registrations(spells, is_anonymous, start, end)
    again = registrations.loc[~registrations["ny"]]
    again_counts = (again.groupby(["insats", "ar", "kon"]).size().rename("Antal").reset_index()
                    .rename(columns={"insats": "Insats", "ar": "År", "kon": "Kön"}))
    return Worklist(start, end, since, {
        NEW: _shown(spells.loc[new], ("forsorjning_in", "tid_offentlig_forsorjning",
                                      "utbildningsniva", "kommun")),
        CORRECT: _shown(spells.loc[correct], (*IN_FIELDS, *OUT_FIELDS)),
        OUT: _shown(spells.loc[out], ("utskrivningsdatum", "avslutsanledning", "forsorjning_ut")),
        AGAIN: again_counts,
        MANUAL: _shown(spells.loc[manual], ("utskrivningsdatum", "avslutsanledning")),
    })


def previous_state(folder: Path, start: dt.date) -> tuple[pd.DataFrame | None, str | None]:
    """The newest recorded submission of a period that ended before ``start`` (folders are named
    ``<FROM>_<TO>``)."""
    best: tuple[pd.Period, Path] | None = None
    for candidate in folder.glob(f"*_*/{STATE_FILE}"):
        try:
            period_end = pd.Period(candidate.parent.name.split("_")[1], freq="Q")
        except (IndexError, ValueError):
            continue
        if period_end.end_time.date() < start and (best is None or period_end > best[0]):
            best = (period_end, candidate)
    if best is None:
        return None, None
    frame = pd.read_csv(best[1], sep=";", dtype=str, keep_default_na=False)
    return frame, best[1].parent.name


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    # autoescape: insats names, codes and dates come from the insatser's own registers
    return jinja2.Environment(loader=jinja2.PackageLoader("assets.sus", "templates"),
                              autoescape=True, keep_trailing_newline=True)


def _html(work: Worklist) -> str:
    sections = [{"name": name, "intro": _INTRO[name],
                 "columns": [str(column) for column in frame.columns],
                 "rows": [[_text(value) for value in row] for row in frame.itertuples(index=False)]}
                for name, frame in work.sections.items()]
    return _environment().get_template(HTML_TEMPLATE).render(
        span=f"{quarter_label(work.start)}–{quarter_label(work.end)}", since=work.since,
        sections=sections)


def _workbook(work: Worklist) -> openpyxl.Workbook:
    workbook = openpyxl.Workbook()
    summary = workbook.active
    summary.title = "Sammanfattning"
    summary.append([(f"Arbetslista för deltagaransvarig, {quarter_label(work.start)}–"
                    f"{quarter_label(work.end)}")])
    summary["A1"].font = Font(bold=True)
    summary.append([f"Jämfört med inlämningen för {work.since}" if work.since
                    else "Ingen tidigare inlämning"])
    for name, frame in work.sections.items():
        summary.append([name, len(frame)])
    summary.column_dimensions["A"].width = 50
    for name, frame in work.sections.items():
        sheet = workbook.create_sheet(name[:31])
        sheet.append([_INTRO[name]])
        sheet.append(list(frame.columns))
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in frame.itertuples(index=False):
            sheet.append([_text(value) if not isinstance(value, int | float) or pd.isna(value)
                          else value for value in row])
    return workbook


def write(work: Worklist, current_state: pd.DataFrame, folder: Path) -> list[Path]:
    """The worklist (HTML, xlsx) and this submission's record, all private."""
    return [write_text(folder / HTML_FILE, _html(work), private=True),
            write_with(folder / XLSX_FILE, lambda path: _workbook(work).save(path), private=True),
            write_csv(current_state, folder / STATE_FILE, private=True)]


def build_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.asset(name="sus_arbetslista", group_name="sus", partitions_def=partitions,
              deps=["insats_spells", "samtycke_consents"], kinds={"html", "excel"})
    def sus_arbetslista(context: dg.AssetExecutionContext, warehouse: Warehouse,
                        out: OutputFolder) -> dg.MaterializeResult:
        """Arbetslista för deltagaransvarig: nya inregistreringar sedan förra inlämningen,
        registreringar att rätta, att registrera ut, anonyma att registrera för nytt år och
        återkallade samtycken att hantera för hand. Inga personnummer; i begränsad mapp."""
        start, end = period(context)
        with retry_when_busy(context.retry_number), warehouse.engine().connect() as connection:
            spells = read_spells(connection)
            if not period_has_data(connection, spells, start, end):
                return no_data(start, end)
            consents = read_sus_consents(connection)
        # a folder of its own: a signed-off submission's folder is frozen, the worklist is not
        base = out.root / RESTRICTED / "arbetslista"
        previous, since = previous_state(base, start)
        work = worklist(spells, consents, start, end, previous, since)
        folder = restricted(out.root, "arbetslista", f"{quarter_label(start)}_{quarter_label(end)}")
        current = state(spells, participation.anonymous(spells, consents), end)
        files = write(work, current, folder)
        return dg.MaterializeResult(metadata={
            **{name: count for name, count in work.counts.items()},
            "jamfort_med": since or "ingen tidigare inlämning",
            "mapp": dg.MetadataValue.path(str(folder)),
            "filer": dg.MetadataValue.json([path.name for path in files]),
        })

    return [sus_arbetslista]
