"""National-scale landing zones for benchmarks: one per samordningsförbund, built with numpy.

``generate_national(root, scale=..., seed=...)`` writes ``root/<förbund>/`` for every förbund, each a
complete landing zone in the input contract's formats, quirks included (the input
contract, inputs.md): cp1252 + CRLF for fk and ekonomi, UTF-8 with BOM and quoted
``"4 512,50"`` amounts for soc, an ``Uttag`` sheet with two title rows and a ``Summa: N`` trailer for
af, ``|``-separated hsf, budget workbooks with Insatser/Budget/Finansiering sheets and TOTALT rows.
``next_day(root, ...)`` adds one more day's deliveries for measuring the nightly run.

Volumes. ``scale`` is the share of a national reference of 100,000 spells a year (1,000,000 over the
default ten years) with about ten partner rows (fk+af+soc+hsf, as delivered, overlaps included) per
spell; ``forbund`` splits that volume between förbund of varying size, ``years`` sets the span.
Ledgers and budgets are per förbund and year (monthly rows per insats and kostnadsslag), so they
depend on ``forbund`` and ``years``, not on ``scale``.

How it stays fast and bounded. Everything is built per förbund as numpy arrays (people, spells,
consents), and partner records are generated per year of consent start and written as soon as their
quarter is complete, so no more than one förbund, and of its partner records about a year, is held
at once. CSV text is built by vectorised string concatenation; workbooks get their package (styles,
workbook, content types) from openpyxl once per sheet layout, and their sheet XML from numpy, so no
Python loop runs per row. Deterministic: every random choice comes from a numpy generator keyed by
(seed, förbund, purpose[, year]), and workbooks have fixed zip and document timestamps.

Realism kept from ``demodata.generator``: identity numbers only from Skatteverket's test list
(people aged 16-64 at enrolment; a number may recur in several förbund), names and case officers
that the readers must drop, consents per spell naming the partners, partner records inside those
consents (so the pipeline stores them), registers whose Försörjning vid inskrivning agrees with the
partners' records on the enrolment day, delta deliveries that overlap by a month, AF end dates only
once passed, ledger exports of the year to date each quarter. Deliberate mistakes: about
``mistake_rate`` of the partner rows (bad check digit, unknown code; never more than 2 % of a file,
never in a row that is re-sent), a few regional reservnummer in hsf, and a few bad rows among the
spells new in the newest insats snapshots.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import time
import zipfile
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
from openpyxl.writer.excel import ExcelWriter

from demodata.generator import (
    AF_COLUMNS,
    BUDGET_COLUMNS,
    CATALOGUE_COLUMNS,
    EKONOMI_COLUMNS,
    FIRST_NAMES,
    FK_COLUMNS,
    HSF_COLUMNS,
    INSATS_COLUMNS,
    SAMTYCKE_COLUMNS,
    SOC_COLUMNS,
    SURNAMES,
)
from finsam.reference import test_personnummer

__all__ = ["PARTNER_SOURCES", "SOURCES", "ScaleManifest", "generate_national", "next_day"]

SOURCES = ("insats", "samtycke", "fk", "af", "soc", "hsf", "ekonomi", "budget")
PARTNER_SOURCES = ("fk", "af", "soc", "hsf")

#: National spells a year at scale 1.0 (1,000,000 over ten years).
SPELLS_PER_YEAR = 100_000
#: Partner rows delivered per spell, roughly (the generator's mix gives about this many).
PARTNER_ROWS_PER_SPELL = 10
#: A nightly delivery holds about this share of the national rows.
DAILY_SHARE = 0.001

_EPOCH = date(1970, 1, 1)
NA = np.int64(-(10**9))          # missing day
_FAR = np.int64(10**9)           # open end
_FIXED_TIME = datetime(2024, 1, 1)
_ZIP_TIME = (2024, 1, 1, 0, 0, 0)
_FORBUND_DIR = re.compile(r"sf(\d+)")

# --------------------------------------------------------------------------------------------------
# code lists and the partners' habits (as in demodata.generator)

ADM = "ADM"
PARTNERS = ("AF", "FK", "SOC", "HSF", "UAF", "PRIV")
_PARTNER_SHARE = np.array([0.9, 0.9, 0.85, 0.85, 0.5, 0.3])
_SOURCE_BIT = {"af": 0, "fk": 1, "soc": 2, "hsf": 3}          # bit of the partner in PARTNERS
_SOURCE_SHARE = np.array([0.5, 0.45, 0.35, 0.4])               # af, fk, soc, hsf: reporting share
_AKTUALISERANDE = np.array(("AF", "FK", "SOC", "HSF", "UAF", "PRIV", "EXT", "EGEN"), dtype=object)
_AKTUALISERANDE_P = np.array((0.25, 0.2, 0.2, 0.15, 0.08, 0.04, 0.03, 0.05))
_FORSORJNING = ("SJP", "AKE", "SJE", "AKS", "AKA", "ETA", "FSB", "STS", "LON", "ING", "OKA")
_BIT = {code: 1 << number for number, code in enumerate(_FORSORJNING)}
_EXCLUSIVE = _BIT["ING"] | _BIT["OKA"]
_UTBILDNING = np.array(("FGY_KORT", "FGY", "GY_KORT", "GY", "EGY_KORT", "EGY", "OKAND"), dtype=object)
_AVSLUT = np.array(("ARB", "STU", "REH", "SJK", "FLY", "FLED", "AVB", "OVR", "FEL"), dtype=object)
_AVSLUT_P = np.array((0.3, 0.12, 0.15, 0.1, 0.05, 0.04, 0.1, 0.1, 0.04))
_FEL, _AVB = 8, 6
_EXIT_INCOME = {0: "LON", 1: "STS", 2: "SJP"}                  # ARB, STU, REH
_FK_FORMAN = np.array(("SJP", "RHP", "AKE", "SJE"), dtype=object)
_FK_FORMAN_P = (0.5, 0.2, 0.15, 0.15)
_FK_BITS = np.array((_BIT["SJP"], _BIT["SJP"], _BIT["AKE"], _BIT["SJE"]))
_OMFATTNING = np.array(("100", "50", "75", "25", "100,0"), dtype=object)
_OMFATTNING_P = (0.5, 0.2, 0.1, 0.1, 0.1)
_AF_STOD = np.array(("AKST", "UTV", "ETAB", "AKASSA", "INGEN"), dtype=object)
_AF_STOD_P = (0.45, 0.1, 0.1, 0.15, 0.2)
_AF_BITS = np.array((_BIT["AKS"], _BIT["AKS"], _BIT["ETA"], _BIT["AKA"], 0))
_INGEN = 4
_KATEGORI = np.array(("11", "21", "68", "70", "97"), dtype=object)
_KONTAKTTYP = np.array(("REHABKOORD", "LAKARBESOK", "SAMORDNINGSMOTE", "ARBETSTERAPI"), dtype=object)
_GRAD = np.array(("25", "50", "75", "100"), dtype=object)

_OFFICERS = np.array(("H. Lindqvist", "M. Sandberg", "R. Ekström", "S. Nyberg", "T. Holm",
                      "A. Virtanen", "K. Öhman"), dtype=object)
_STREETS = np.array(("Storgatan", "Drottninggatan", "Ågatan", "Kungsgatan", "Östra Promenaden",
                     "Vasavägen", "Skolgatan", "Järnvägsgatan"), dtype=object)
_HUSHALL = np.array(("Ensamstående", "Ensamstående med barn", "Sammanboende",
                     "Sammanboende med barn"), dtype=object)
_DIAGNOSES = np.array(("F32.1", "F33.1", "F41.1", "F43.1", "F43.2", "F43.8", "M54.5", "M79.7",
                       "F90.0", "G47.0", "F84.5", "M75.1"), dtype=object)
_MONTHS = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september",
           "oktober", "november", "december")

# insats code stem -> name
_INSATS_POOL = (
    ("JOBBSAM", "Jobbsamverkan"), ("GEMTAG", "Gemensamma tag"), ("SAMTEAM", "Samverkansteamet"),
    ("REHABTEAM", "Rehabteamet"), ("VAGENUT", "Vägen ut"), ("STEGVIS", "Stegvis"),
    ("UNGKRAFT", "Ung kraft"), ("NYSTART", "Nystart"), ("FRAMSTEG", "Framsteg"),
    ("KOMPASSEN", "Kompassen"), ("BRYGGAN", "Bryggan"), ("LOTSEN", "Lotsen"), ("PORTEN", "Porten"),
    ("TRAMPOLIN", "Trampolinen"), ("BALANS", "Balans i vardagen"), ("ARBETSLIV", "Väg till arbetsliv"),
    ("INDIVIDEN", "Individen i centrum"), ("MOTIVERA", "Motivera mera"), ("HALLBAR", "Hållbar återgång"),
    ("FOKUS", "Fokus arbete"),
)
# kostnadsslag -> (BAS account, label the coordinator sometimes writes, day of month or 0 = any)
_KOSTNADSSLAG = {
    "LON": (7010, "Löner och arvoden (inkl. sociala avgifter)", 25),
    "LOK": (5010, "Lokaler", 1), "RES": (5610, "Resor och bil", 0),
    "IT": (6540, "Dator, telefon, post och IT-tjänster", 5), "FOR": (6310, "Försäkring", 15),
    "UTB": (7610, "Utbildningsinsatser", 0), "BED": (6550, "Ersättning bedömningsteam", 0),
    "OVR": (6990, "Övriga kostnader", 0),
}
_SLAG = tuple(_KOSTNADSSLAG)
_SOCIAL_FEES_ACCOUNT = 7510
_CREDIT_ACCOUNT = 5010
_INCOME_ACCOUNT = 3990
_BASE_YEAR = 2015            # budgets grow 3 % a year from here

# län -> (region, ((kommunkod, kommun), ...))
_LAN = {
    "01": ("Region Stockholm", (("0180", "Stockholm"), ("0181", "Södertälje"), ("0182", "Nacka"),
                                ("0184", "Solna"), ("0126", "Huddinge"), ("0127", "Botkyrka"),
                                ("0136", "Haninge"), ("0188", "Norrtälje"))),
    "03": ("Region Uppsala", (("0380", "Uppsala"), ("0381", "Enköping"), ("0382", "Östhammar"),
                              ("0360", "Tierp"))),
    "04": ("Region Sörmland", (("0480", "Nyköping"), ("0484", "Eskilstuna"), ("0483", "Katrineholm"),
                               ("0486", "Strängnäs"))),
    "05": ("Region Östergötland", (("0580", "Linköping"), ("0581", "Norrköping"), ("0583", "Motala"),
                                   ("0582", "Söderköping"), ("0586", "Mjölby"))),
    "06": ("Region Jönköpings län", (("0680", "Jönköping"), ("0683", "Värnamo"), ("0686", "Eksjö"))),
    "07": ("Region Kronoberg", (("0780", "Växjö"), ("0781", "Ljungby"))),
    "08": ("Region Kalmar län", (("0880", "Kalmar"), ("0882", "Oskarshamn"), ("0883", "Västervik"))),
    "09": ("Region Gotland", (("0980", "Gotland"),)),
    "10": ("Region Blekinge", (("1080", "Karlskrona"), ("1082", "Karlshamn"))),
    "12": ("Region Skåne", (("1280", "Malmö"), ("1281", "Lund"), ("1283", "Helsingborg"),
                            ("1282", "Landskrona"), ("1290", "Kristianstad"), ("1293", "Hässleholm"))),
    "13": ("Region Halland", (("1380", "Halmstad"), ("1383", "Varberg"), ("1382", "Falkenberg"),
                              ("1384", "Kungsbacka"))),
    "14": ("Västra Götalandsregionen", (("1480", "Göteborg"), ("1490", "Borås"),
                                        ("1488", "Trollhättan"), ("1485", "Uddevalla"),
                                        ("1496", "Skövde"), ("1487", "Vänersborg"))),
    "17": ("Region Värmland", (("1780", "Karlstad"), ("1784", "Arvika"), ("1781", "Kristinehamn"))),
    "18": ("Region Örebro län", (("1880", "Örebro"), ("1883", "Karlskoga"), ("1885", "Lindesberg"))),
    "19": ("Region Västmanland", (("1980", "Västerås"), ("1983", "Köping"), ("1984", "Arboga"))),
    "20": ("Region Dalarna", (("2080", "Falun"), ("2081", "Borlänge"), ("2085", "Ludvika"))),
    "21": ("Region Gävleborg", (("2180", "Gävle"), ("2181", "Sandviken"), ("2184", "Hudiksvall"))),
    "22": ("Region Västernorrland", (("2281", "Sundsvall"), ("2280", "Härnösand"),
                                     ("2284", "Örnsköldsvik"))),
    "23": ("Region Jämtland Härjedalen", (("2380", "Östersund"), ("2361", "Härjedalen"))),
    "24": ("Region Västerbotten", (("2480", "Umeå"), ("2482", "Skellefteå"), ("2462", "Vilhelmina"))),
    "25": ("Region Norrbotten", (("2580", "Luleå"), ("2581", "Piteå"), ("2584", "Kiruna"),
                                 ("2582", "Boden"))),
}
_LAN_KEYS = tuple(_LAN)

_INSATS_DATES = ("Inskrivningsdatum", "Utskrivningsdatum")
# source -> file name after the date
_DELTA_NAME = {"fk": "forman.csv", "af": "uttag.xlsx", "soc": "fbs.csv", "hsf": "rehab.txt",
               "ekonomi": "huvudbok.csv"}

# independent random streams per förbund
_STREAMS = {"profile": 1, "spells": 2, "register": 3, "partner": 4, "mistakes": 5, "ledger": 6,
            "budget": 7, "next": 8, "touched": 9}


def _rng(seed: int, forbund: int, purpose: str, *more: int) -> np.random.Generator:
    return np.random.default_rng([seed, forbund, _STREAMS[purpose], *more])


# --------------------------------------------------------------------------------------------------
# the manifest


@dataclass
class ScaleManifest:
    """What one call wrote.

    ``rows``: data rows per source over all files written (budget: the three sheets together, as the
    reader counts them); ``spells``: spells in the newest insats snapshots (for ``next_day``: spells
    enrolled that day); ``partner_rows``: rows in fk+af+soc+hsf files; ``persons``: distinct
    identified participants, summed over förbund (for ``next_day``: new participants);
    ``mistakes``: rows spoiled on purpose (reservnummer rows not counted).
    """

    root: Path
    forbund: tuple[str, ...]
    files: list[Path]
    rows: dict[str, int]
    spells: int
    partner_rows: int
    persons: int
    consents: int
    mistakes: int
    bytes: int
    seconds: float
    parameters: dict = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def summary(self) -> dict:
        return {"root": str(self.root), "forbund": len(self.forbund), "files": len(self.files),
                "rows": dict(self.rows), "total_rows": self.total_rows, "spells": self.spells,
                "partner_rows": self.partner_rows, "persons": self.persons,
                "consents": self.consents, "mistakes": self.mistakes,
                "megabytes": round(self.bytes / 1e6, 1), "seconds": round(self.seconds, 2),
                "parameters": self.parameters}


@dataclass
class _Result:
    fid: str
    files: list[Path] = field(default_factory=list)
    rows: Counter = field(default_factory=Counter)
    spells: int = 0
    persons: int = 0
    consents: int = 0
    mistakes: int = 0
    bytes: int = 0


def _manifest(root: Path, results: list[_Result], started: float, parameters: dict) -> ScaleManifest:
    rows = Counter()
    for result in results:
        rows.update(result.rows)
    return ScaleManifest(
        root=root, forbund=tuple(result.fid for result in results),
        files=sorted(path for result in results for path in result.files),
        rows={source: int(rows.get(source, 0)) for source in SOURCES},
        spells=sum(result.spells for result in results),
        partner_rows=int(sum(rows.get(source, 0) for source in PARTNER_SOURCES)),
        persons=sum(result.persons for result in results),
        consents=sum(result.consents for result in results),
        mistakes=sum(result.mistakes for result in results),
        bytes=sum(result.bytes for result in results),
        seconds=time.perf_counter() - started, parameters=parameters)


# --------------------------------------------------------------------------------------------------
# days as int64 (days since 1970-01-01), formatted through lookup tables

_TABLE_FIRST = (date(1850, 1, 1) - _EPOCH).days
_TABLE_LAST = (date(2100, 12, 31) - _EPOCH).days


def _day(value: date) -> int:
    return (value - _EPOCH).days


def _as_date(days: int) -> date:
    return _EPOCH + timedelta(days=int(days))


@lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray]:
    days = np.arange(_TABLE_FIRST, _TABLE_LAST + 1).astype("datetime64[D]")
    iso = np.datetime_as_string(days)
    compact = np.char.replace(iso, "-", "")
    return iso.astype(object), compact.astype(object)


def _format(days: np.ndarray, table: np.ndarray) -> np.ndarray:
    days = np.asarray(days, dtype=np.int64)
    missing = (days == NA) | (days >= _FAR)
    out = table[np.where(missing, 0, days - _TABLE_FIRST)]
    out[missing] = ""
    return out


def _iso(days: np.ndarray) -> np.ndarray:
    return _format(days, _tables()[0])


def _compact(days: np.ndarray) -> np.ndarray:
    return _format(days, _tables()[1])


def _serial(days: np.ndarray) -> np.ndarray:
    """Excel's day number (1970-01-01 is 25569); empty for a missing day."""
    days = np.asarray(days, dtype=np.int64)
    missing = (days == NA) | (days >= _FAR)
    out = (days + 25569).astype(str).astype(object)
    out[missing] = ""
    return out


def _months(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def _month_first(months: np.ndarray) -> np.ndarray:
    return np.asarray(months, dtype=np.int64).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _month_last(months: np.ndarray) -> np.ndarray:
    return _month_first(np.asarray(months) + 1) - 1


def _quarter_last(days: np.ndarray) -> np.ndarray:
    return _month_last(_months(days) // 3 * 3 + 2)


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    months = _months(days)
    return months // 12 + 1970, months % 12 + 1, np.asarray(days) - _month_first(months) + 1


def _age(birth: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Whole years at ``day``, as the insats reader computes it."""
    birth_year, birth_month, birth_day = _ymd(birth)
    year, month, day_of_month = _ymd(day)
    return year - birth_year - ((month * 100 + day_of_month) < (birth_month * 100 + birth_day))


def _quarter_ends(first_year: int, years: int) -> np.ndarray:
    months = np.arange((first_year - 1970) * 12 + 2, (first_year + years - 1970) * 12, 3)
    return _month_last(months)


# --------------------------------------------------------------------------------------------------
# text helpers (object arrays of str)


def _strs(values: np.ndarray) -> np.ndarray:
    return np.asarray(values).astype(str).astype(object)


def _zfill(values: np.ndarray, width: int) -> np.ndarray:
    return np.char.zfill(np.asarray(values).astype(str), width).astype(object)


def _choose(mask: np.ndarray, yes: np.ndarray | str, no: np.ndarray | str) -> np.ndarray:
    out = np.empty(len(mask), dtype=object)
    out[:] = no
    if isinstance(yes, np.ndarray):
        out[mask] = yes[mask]
    else:
        out[mask] = yes
    return out


def _thousands(kronor: np.ndarray) -> np.ndarray:
    """``4 512``: whole kronor with a space as thousands separator (below a milliard)."""
    kronor = np.asarray(kronor, dtype=np.int64)
    millions, thousands, units = kronor // 1_000_000, kronor // 1000 % 1000, kronor % 1000
    small = _strs(units)
    middle = _strs(thousands) + " " + _zfill(units, 3)
    large = _strs(millions) + " " + _zfill(thousands, 3) + " " + _zfill(units, 3)
    return np.where(millions > 0, large, np.where(thousands > 0, middle, small)).astype(object)


def _kronor(cents: np.ndarray, *, spaced: bool) -> np.ndarray:
    """``-1234,50`` (ledger) or ``4 512,50`` (soc): decimal comma, minus for credits."""
    cents = np.asarray(cents, dtype=np.int64)
    whole = np.abs(cents) // 100
    text = (_thousands(whole) if spaced else _strs(whole)) + "," + _zfill(np.abs(cents) % 100, 2)
    return _choose(cents < 0, "-", "") + text


def _join(columns: list[np.ndarray], sep: str) -> np.ndarray:
    line = columns[0]
    for column in columns[1:]:
        line = line + sep + column
    return line


def _delimited(header: tuple[str, ...], columns: list[np.ndarray], *, sep: str, newline: str,
               quote: bool = False) -> str:
    if quote:
        header = tuple(f'"{name}"' for name in header)
        columns = ['"' + column + '"' for column in columns]
    return sep.join(header) + newline + newline.join(_join(columns, sep).tolist()) + newline


def _broken(numbers: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The numbers with another last (check) digit: the Luhn check then always fails."""
    shift = rng.integers(1, 10, size=len(numbers))
    return np.array([text[:-1] + str((int(text[-1]) + int(step)) % 10)
                     for text, step in zip(numbers, shift)], dtype=object)


def _take(table: dict, index) -> dict:
    return {name: values[index] for name, values in table.items()}


def _concat(tables: list[dict]) -> dict:
    tables = [table for table in tables if table]
    if not tables:
        return {}
    return {name: np.concatenate([table[name] for table in tables]) for name in tables[0]}


def _size(table: dict) -> int:
    return len(table["date"]) if table else 0


def _group_position(counts: np.ndarray) -> np.ndarray:
    """0, 1, ... within each group of a ``np.repeat(..., counts)``."""
    total = int(counts.sum())
    return np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)


# --------------------------------------------------------------------------------------------------
# xlsx: openpyxl builds the package once per sheet layout; numpy builds each sheet's XML


class _FixedZip(zipfile.ZipFile):
    """A zip whose entries all carry one fixed timestamp, so bytes depend on the content only."""

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if isinstance(zinfo_or_arcname, str):
            zinfo_or_arcname = zipfile.ZipInfo(zinfo_or_arcname, date_time=_ZIP_TIME)
            zinfo_or_arcname.compress_type = zipfile.ZIP_DEFLATED
        return super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        with open(filename, "rb") as fh:
            self.writestr(arcname or Path(filename).name, fh.read())


@cache
def _skeleton(sheet_names: tuple[str, ...]) -> tuple[tuple[tuple[str, bytes], ...], str]:
    """openpyxl's package for a write-only workbook with these sheets, and the date style id."""
    workbook = openpyxl.Workbook(write_only=True)
    for name in sheet_names:
        workbook.create_sheet(name).append([_FIXED_TIME])
    workbook.properties.created = workbook.properties.modified = _FIXED_TIME
    workbook.properties.creator = "finsam"
    buffer = io.BytesIO()
    with _FixedZip(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).save()
    with zipfile.ZipFile(buffer) as archive:
        entries = tuple((info.filename, archive.read(info.filename)) for info in archive.infolist())
    sheet = dict(entries)["xl/worksheets/sheet1.xml"].decode()
    style = re.search(r'<c r="A1" s="(\d+)"', sheet).group(1)
    return entries, style


@dataclass
class _Sheet:
    """One sheet: rows above the header, the header, data columns, blank rows and rows below.

    A data column is (texts, kind) with kind ``s`` (text), ``n`` (number) or ``d`` (Excel day
    number shown as a date), or an object array of those per cell. Empty texts are no cell.
    """

    name: str
    header: tuple[str, ...]
    columns: list[tuple[np.ndarray, object]]
    above: tuple[tuple[str, ...], ...] = ()
    blank: int = 0
    below: tuple[tuple[str, ...], ...] = ()


def _escape(values: np.ndarray) -> np.ndarray:
    joined = "".join(values.tolist())
    if "&" not in joined and "<" not in joined and ">" not in joined:
        return values
    return np.array([value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                     for value in values], dtype=object)


def _letter(index: int) -> str:
    return chr(ord("A") + index) if index < 26 else "A" + chr(ord("A") + index - 26)


def _static_row(number: int, values: tuple[str, ...]) -> str:
    cells = "".join(f'<c r="{_letter(j)}{number}" t="inlineStr"><is><t>{_escape(np.array([value], dtype=object))[0]}</t></is></c>'
                    for j, value in enumerate(values) if value != "")
    return f'<row r="{number}">{cells}</row>'


def _sheet_xml(sheet: _Sheet, date_style: str) -> bytes:
    rows = len(sheet.columns[0][0]) if sheet.columns else 0
    width = max(len(sheet.header), *(len(row) for row in sheet.above + sheet.below), 1)
    last_row = len(sheet.above) + 1 + rows + sheet.blank + len(sheet.below)
    parts = [('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             f'<dimension ref="A1:{_letter(width - 1)}{last_row}"/><sheetData>')]
    number = 1
    for row in sheet.above:
        parts.append(_static_row(number, row))
        number += 1
    parts.append(_static_row(number, sheet.header))
    number += 1
    if rows:
        row_numbers = _strs(np.arange(number, number + rows))
        xml = '<row r="' + row_numbers + '">'
        for j, (values, kind) in enumerate(sheet.columns):
            reference = '<c r="' + _letter(j) + row_numbers
            text = reference + '" t="inlineStr"><is><t>' + _escape(values) + "</t></is></c>"
            if isinstance(kind, str):
                if kind == "s":
                    cell = text
                else:
                    style = f' s="{date_style}"' if kind == "d" else ""
                    cell = reference + '"' + style + "><v>" + values + "</v></c>"
            else:
                number_cell = reference + '"><v>' + values + "</v></c>"
                date_cell = reference + f'" s="{date_style}"><v>' + values + "</v></c>"
                cell = np.where(kind == "s", text, np.where(kind == "d", date_cell, number_cell))
            xml = xml + np.where(values == "", "", cell).astype(object)
        parts.append("".join((xml + "</row>").tolist()))
        number += rows
    number += sheet.blank
    for row in sheet.below:
        parts.append(_static_row(number, row))
        number += 1
    parts.append("</sheetData></worksheet>")
    return "".join(parts).encode("utf-8")


def _xlsx(sheets: list[_Sheet]) -> bytes:
    entries, date_style = _skeleton(tuple(sheet.name for sheet in sheets))
    replaced = {f"xl/worksheets/sheet{number}.xml": _sheet_xml(sheet, date_style)
                for number, sheet in enumerate(sheets, 1)}
    buffer = io.BytesIO()
    with _FixedZip(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, replaced.get(name, data))
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------------
# the test numbers, by birth date


@dataclass(frozen=True)
class _Pool:
    numbers: np.ndarray      # 12 digits, sorted by birth date
    birth: np.ndarray        # day
    birth_year: np.ndarray
    kon: np.ndarray          # K / M
    dash: np.ndarray         # YYYYMMDD-NNNN
    short: np.ndarray        # YYMMDD-NNNN
    short_plus: np.ndarray   # YYMMDD+NNNN
    names: np.ndarray        # a name per number (first name by kön, surname)


@lru_cache(maxsize=1)
def _pool() -> _Pool:
    numbers = np.array(test_personnummer(), dtype=str)
    birth = np.array([f"{n[:4]}-{n[4:6]}-{n[6:8]}" for n in numbers.tolist()],
                     dtype="datetime64[D]").astype(np.int64)
    order = np.lexsort((numbers, birth))
    numbers, birth = numbers[order].astype(object), birth[order]
    date_part = np.array([n[:8] for n in numbers], dtype=object)
    tail = np.array([n[8:] for n in numbers], dtype=object)
    kon = np.where(np.array([int(n[10]) for n in numbers]) % 2 == 1, "M", "K").astype(object)
    index = np.arange(len(numbers))
    women, men = np.array(FIRST_NAMES["K"], dtype=object), np.array(FIRST_NAMES["M"], dtype=object)
    first = np.where(kon == "M", men[index % len(men)], women[index % len(women)])
    names = first + " " + np.array(SURNAMES, dtype=object)[(index // 7) % len(SURNAMES)]
    short_date = np.array([n[2:8] for n in numbers], dtype=object)
    return _Pool(numbers=numbers, birth=birth, birth_year=_ymd(birth)[0], kon=kon,
                 dash=date_part + "-" + tail, short=short_date + "-" + tail,
                 short_plus=short_date + "+" + tail, names=names.astype(object))


def _draw_people(rng: np.random.Generator, starts: np.ndarray) -> np.ndarray:
    """A test number per start day for someone aged 16-64 that day; -1 when none fits."""
    pool = _pool()
    low = np.searchsorted(pool.birth, starts - 23741 + 3, side="left")     # 65 years, 3 days' margin
    high = np.searchsorted(pool.birth, starts - 5844 - 3, side="right")    # 16 years, 3 days' margin
    span = np.maximum(high - low, 1)
    person = low + np.floor(rng.random(len(starts)) * span).astype(np.int64)
    person = np.where(high > low, np.minimum(person, len(pool.birth) - 1), -1)
    ages = _age(pool.birth[np.maximum(person, 0)], starts)
    return np.where((ages >= 16) & (ages <= 64), person, -1)


# --------------------------------------------------------------------------------------------------
# a förbund's profile: insatser, kommuner, budget


@dataclass
class _Profile:
    index: int
    fid: str
    size: float
    codes: tuple[str, ...]
    names: tuple[str, ...]
    shares: np.ndarray
    started: tuple[date, ...]
    target_share: tuple[str, ...]
    kommuner: np.ndarray
    kommun_names: np.ndarray
    kommun_weights: np.ndarray
    region: str
    xlsx_register: bool
    register_bom: bool
    annual: dict[str, dict[str, int]]      # project -> kostnadsslag -> kronor in _BASE_YEAR

    @property
    def projects(self) -> tuple[str, ...]:
        return (*self.codes, ADM)


def _fid(index: int) -> str:
    return f"sf{index:02d}"


def _profile(seed: int, index: int) -> _Profile:
    rng = _rng(seed, index, "profile")
    size = float(rng.lognormal(0.0, 0.6))
    count = int(rng.integers(3, 8))
    picks = rng.choice(len(_INSATS_POOL), size=count, replace=False)
    numbered = rng.random(count) < 0.4
    digits = rng.integers(2, 6, size=count)
    codes = tuple(_INSATS_POOL[p][0] + (str(d) if n else "") for p, n, d in zip(picks, numbered, digits))
    names = tuple(_INSATS_POOL[p][1] + (f" {d}" if n else "") for p, n, d in zip(picks, numbered, digits))
    started = tuple(date(int(y), int(m), 1) for y, m in zip(rng.integers(2005, 2014, size=count),
                                                            rng.integers(1, 13, size=count)))
    target_share = tuple(f"{int(v)} %" for v in rng.integers(40, 61, size=count))
    region, kommuner = _LAN[_LAN_KEYS[(index - 1) % len(_LAN_KEYS)]]
    members = int(rng.integers(1, len(kommuner) + 1))
    offset = int(rng.integers(0, len(kommuner) - members + 1))
    chosen = kommuner[offset:offset + members]
    factor = size ** 0.5
    annual: dict[str, dict[str, int]] = {}
    for code in codes:
        lines = {"LON": rng.uniform(800_000, 2_000_000), "LOK": rng.uniform(40_000, 90_000),
                 "RES": rng.uniform(15_000, 45_000), "IT": rng.uniform(15_000, 30_000),
                 "FOR": rng.uniform(5_000, 10_000), "UTB": rng.uniform(20_000, 50_000),
                 "BED": rng.uniform(60_000, 150_000), "OVR": rng.uniform(10_000, 25_000)}
        keep_utb, keep_bed = rng.random() < 0.7, rng.random() < 0.5
        annual[code] = {slag: int(round(value * factor, -3)) for slag, value in lines.items()
                        if (slag != "UTB" or keep_utb) and (slag != "BED" or keep_bed)}
    annual[ADM] = {slag: int(round(rng.uniform(low, high) * factor, -3)) for slag, (low, high) in {
        "LON": (500_000, 900_000), "LOK": (60_000, 120_000), "RES": (10_000, 20_000),
        "IT": (50_000, 100_000), "FOR": (8_000, 15_000), "OVR": (30_000, 60_000)}.items()}
    return _Profile(
        index=index, fid=_fid(index), size=size, codes=codes, names=names,
        shares=rng.dirichlet(np.full(count, 4.0)), started=started, target_share=target_share,
        kommuner=np.array([code for code, _ in chosen], dtype=object),
        kommun_names=np.array([name for _, name in chosen], dtype=object),
        kommun_weights=rng.dirichlet(np.full(members, 3.0)), region=region,
        xlsx_register=index % 10 == 2, register_bom=bool(rng.random() < 0.5), annual=annual)


# --------------------------------------------------------------------------------------------------
# spells and consents


def _new_spells(rng: np.random.Generator, person: np.ndarray, insats: np.ndarray,
                start: np.ndarray) -> dict:
    n = len(person)
    reason = rng.choice(len(_AVSLUT), size=n, p=_AVSLUT_P)
    days = np.where(reason == _FEL, rng.integers(5, 30, size=n), rng.integers(182, 731, size=n))
    return {"person": person, "insats": insats, "start": start, "end": start + days, "reason": reason}


def _other_insats(rng: np.random.Generator, insats: np.ndarray, count: int) -> np.ndarray:
    if count < 2:
        return insats
    return (insats + rng.integers(1, count, size=len(insats))) % count


def _spells(rng: np.random.Generator, profile: _Profile, target: int, first: int, final: int) -> dict:
    """Spells of one förbund, sorted by start; a person's spells in one insats never overlap."""
    latest = final - 20
    count = len(profile.codes)
    pool = _pool()
    n0 = max(1, round(target / 1.2))
    start = rng.integers(first, latest + 1, size=n0)
    person = _draw_people(rng, start)
    insats = rng.choice(count, size=n0, p=profile.shares)
    base = _take(_new_spells(rng, person, insats, start), person >= 0)
    n = len(base["person"])
    base["anon"] = rng.random(n) < 0.06
    base["skyddad"] = ~base["anon"] & (rng.random(n) < 0.02)

    # Some come back after leaving (same or another insats), some join a second insats meanwhile.
    back = ~base["anon"] & (base["reason"] != _FEL) & (rng.random(n) < 0.15)
    back_start = base["end"][back] + rng.integers(30, 181, size=int(back.sum()))
    same = rng.random(int(back.sum())) < 0.6
    back_insats = np.where(same, base["insats"][back],
                           _other_insats(rng, base["insats"][back], count))
    second = ~base["anon"] & (rng.random(n) < 0.10) & (count > 1)
    second_start = base["start"][second] + rng.integers(0, 366, size=int(second.sum()))
    second_insats = _other_insats(rng, base["insats"][second], count)
    extra_person = np.concatenate([base["person"][back], base["person"][second]])
    extra_start = np.concatenate([back_start, second_start])
    extra = _new_spells(rng, extra_person, np.concatenate([back_insats, second_insats]), extra_start)
    extra["anon"] = np.zeros(len(extra_person), dtype=bool)
    extra["skyddad"] = np.concatenate([base["skyddad"][back], base["skyddad"][second]])
    fits = (extra_start <= latest)
    fits &= (_age(pool.birth[extra_person], np.minimum(extra_start, latest)) <= 64)
    spells = _concat([base, _take(extra, fits)])
    spells["seq"] = np.arange(len(spells["person"]))
    return _sorted_spells(_without_overlaps(rng, spells))


def _without_overlaps(rng: np.random.Generator, spells: dict) -> dict:
    """Per person and insats: drop a spell starting within 14 days of the previous one, then end
    each spell before the next one starts (the participant left and came back)."""
    while True:
        order = np.lexsort((spells["seq"], spells["start"], spells["insats"], spells["person"]))
        person, insats, start = (spells[name][order] for name in ("person", "insats", "start"))
        named = ~spells["anon"][order]
        same = (person[1:] == person[:-1]) & (insats[1:] == insats[:-1]) & named[1:] & named[:-1]
        close = same & (start[1:] - start[:-1] < 14)
        if not close.any():
            break
        keep = np.ones(len(person), dtype=bool)
        keep[order[1:][close]] = False
        spells = _take(spells, keep)
    previous, following = order[:-1][same], order[1:][same]
    room = spells["start"][following] - spells["start"][previous] - 1
    gap = 1 + np.floor(rng.random(len(previous)) * np.minimum(room, 30)).astype(np.int64)
    overlapping = spells["end"][previous] >= spells["start"][following]
    end = spells["end"].copy()
    end[previous[overlapping]] = (spells["start"][following] - gap)[overlapping]
    spells["end"] = end
    return spells


def _sorted_spells(spells: dict) -> dict:
    order = np.lexsort((spells["seq"], spells["person"], spells["start"]))
    spells = _take(spells, order)
    spells["seq"] = np.arange(len(order))
    return spells


def _register_values(rng: np.random.Generator, spells: dict, profile: _Profile, final: int) -> None:
    """How the insats team registered each spell (added to ``spells`` in place)."""
    n = len(spells["person"])
    spells["form"] = rng.choice(3, size=n, p=(0.5, 0.3, 0.2))       # YYYYMMDD-NNNN, 12 digits, YYMMDD-NNNN
    spells["kon_given"] = spells["anon"] | spells["skyddad"] | (rng.random(n) < 0.5)
    spells["name_given"] = rng.random(n) < 0.7
    spells["skyddad_blank"] = rng.random(n) < 0.2
    spells["akt"] = rng.choice(len(_AKTUALISERANDE), size=n, p=_AKTUALISERANDE_P)
    exclusive = rng.random(n) < 0.05
    first, step = rng.integers(0, 9, size=n), rng.integers(1, 9, size=n)
    two = rng.random(n) < 0.35
    mask = (1 << first) | np.where(two, 1 << ((first + step) % 9), 0)
    mask = np.where(exclusive, np.where(rng.random(n) < 0.5, _BIT["ING"], _BIT["OKA"]), mask)
    spells["fors_in"] = mask.astype(np.int64)
    spells["tid"] = np.where(mask == _BIT["ING"], 0, rng.integers(1, 10, size=n))
    spells["utb"] = rng.integers(0, len(_UTBILDNING), size=n)
    spells["kommun"] = rng.choice(len(profile.kommuner), size=n, p=profile.kommun_weights)
    exit_code = rng.integers(0, 9, size=n)
    for reason, code in _EXIT_INCOME.items():
        exit_code = np.where(spells["reason"] == reason, _FORSORJNING.index(code), exit_code)
    spells["fors_ut"] = exit_code
    # Withdrawing consent ends the spell (AVB): some of the ended, identified spells.
    identified = ~spells["anon"] & ~spells["skyddad"]
    withdrawn = identified & (spells["reason"] != _FEL) & (spells["end"] <= final) & (rng.random(n) < 0.07)
    spells["reason"] = np.where(withdrawn, _AVB, spells["reason"])
    spells["withdrawn"] = withdrawn
    spells["evidence"] = np.zeros(n, dtype=np.int64)


def _consents(rng: np.random.Generator, spells: dict, final: int) -> dict:
    """One consent per identified spell, sorted by (start, number, insats)."""
    spell = np.flatnonzero(~spells["anon"] & ~spells["skyddad"])
    n = len(spell)
    parter = ((rng.random((n, len(PARTNERS))) < _PARTNER_SHARE) * (1 << np.arange(len(PARTNERS)))).sum(axis=1)
    # The target group needs coordinated support: at least two of the partners that deliver data.
    data = (parter[:, None] >> np.arange(4)) & 1
    keys = rng.random((n, 4)) - 2 * data
    top = np.argsort(keys, axis=1)[:, :2]
    parter = parter | (1 << top[:, 0]) | (1 << top[:, 1])
    start = spells["start"][spell] - rng.integers(0, 15, size=n)
    end = spells["end"][spell]
    valid_to = np.where(rng.random(n) < 0.2, end + 90, NA)
    withdrawn = np.where(spells["withdrawn"][spell], end, NA)
    consents = {"spell": spell, "person": spells["person"][spell], "insats": spells["insats"][spell],
                "start": start, "valid_to": valid_to, "withdrawn": withdrawn,
                "parter": parter.astype(np.int64), "sus": rng.random(n) < 0.85}
    # One consent per person, insats and day (the register's natural key).
    key = (consents["person"] * 64 + consents["insats"]) * 200_000 + (start - _TABLE_FIRST)
    _, first = np.unique(key, return_index=True)
    consents = _take(consents, np.sort(first))
    last_day = np.minimum(np.where(consents["valid_to"] == NA, _FAR, consents["valid_to"]),
                          np.where(consents["withdrawn"] == NA, _FAR, consents["withdrawn"] - 1))
    # Partner records fall inside the consent, around the participation.
    window = np.minimum(np.minimum(last_day, spells["end"][consents["spell"]] + 180), final)
    consents["last"] = np.maximum(window, consents["start"])
    numbers = _pool().numbers[consents["person"]].astype(str)
    order = np.lexsort((consents["insats"], numbers, consents["start"]))
    return _take(consents, order)


# --------------------------------------------------------------------------------------------------
# partner records, vectorised per batch of consents


def _record_keys(*parts: tuple[np.ndarray, int]) -> np.ndarray:
    key = np.zeros(len(parts[0][0]), dtype=np.int64)
    for values, width in parts:
        key = key * width + np.asarray(values, dtype=np.int64)
    return key


def _uniform_day(rng: np.random.Generator, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    return first + np.floor(rng.random(len(first)) * (last - first + 1)).astype(np.int64)


def _fk_records(rng: np.random.Generator, c: dict, profile: _Profile) -> dict:
    n = len(c["person"])
    count = 1 + (rng.random(n) < 0.3) + (rng.random(n) < 0.1)
    i = np.repeat(np.arange(n), count)
    m = len(i)
    fom = _uniform_day(rng, c["first"][i], c["last"][i])
    tom = np.where(rng.random(m) < 0.25, NA, fom + rng.integers(30, 366, size=m))
    forman = rng.choice(4, size=m, p=_FK_FORMAN_P)
    person = c["person"][i]
    return {"date": fom, "key": _record_keys((person, 1), (forman, 4), (fom - _TABLE_FIRST, 1 << 17)),
            "person": person, "forman": forman, "omfattning": rng.choice(5, size=m, p=_OMFATTNING_P),
            "tom": tom, "kontor": rng.integers(0, len(profile.kommun_names), size=m)}


def _af_records(rng: np.random.Generator, c: dict, profile: _Profile) -> dict:
    n = len(c["person"])
    count = 1 + (rng.random(n) < 0.25)
    i = np.repeat(np.arange(n), count)
    m = len(i)
    start = _uniform_day(rng, c["first"][i], c["last"][i])
    end = np.where(rng.random(m) < 0.4, NA, start + rng.integers(60, 401, size=m))
    stod = rng.choice(5, size=m, p=_AF_STOD_P)
    # Support is decided within the quarter of enrolment, so the first delivery knows it.
    paid_from = np.where(stod == _INGEN, NA,
                         np.minimum(start + rng.integers(0, 30, size=m), _quarter_last(start)))
    paid_to = np.where((stod != _INGEN) & (end != NA) & (paid_from <= end), end, NA)
    person = c["person"][i]
    offset = np.where(paid_from == NA, 31, paid_from - start)
    return {"date": start, "key": _record_keys((person, 1), (start - _TABLE_FIRST, 1 << 17), (stod, 8),
                                               (offset, 32)),
            "person": person, "end": end, "stod": stod, "paid_from": paid_from, "paid_to": paid_to,
            "kategori": rng.integers(0, len(_KATEGORI), size=m),
            "officer": rng.integers(0, len(_OFFICERS), size=m)}


def _soc_records(rng: np.random.Generator, c: dict, profile: _Profile, *,
                 months: tuple[int, int] = (2, 17)) -> dict:
    n = len(c["person"])
    first_month = _months(c["first"])
    starts_on_first = _ymd(c["first"])[2] == 1
    m0 = np.where(starts_on_first, first_month, first_month + 1)
    m0 = np.where(_month_last(m0) > c["last"], first_month, m0)   # a short consent: its first month
    count = rng.integers(months[0], months[1], size=n)
    i = np.repeat(np.arange(n), count)
    month = m0[i] + _group_position(count)
    keep = (month == m0[i]) | (_month_last(month) <= c["last"][i])
    household = rng.integers(0, len(_HUSHALL), size=n)
    street, number = rng.integers(0, len(_STREETS), size=n), rng.integers(1, 60, size=n)
    town = rng.integers(0, len(profile.kommun_names), size=n)
    address = (_STREETS[street] + " " + _strs(number) + ", " + profile.kommun_names[town])
    m = len(i)
    cents = (np.round(rng.uniform(1500, 12000, size=m) * 2) * 50).astype(np.int64)
    records = {"date": _month_first(month), "key": _record_keys((c["person"][i], 1), (month, 1 << 12)),
               "person": c["person"][i], "month": month, "cents": cents,
               "household": household[i], "address": address[i]}
    return _take(records, keep)


def _hsf_records(rng: np.random.Generator, c: dict, profile: _Profile, *,
                 contacts: tuple[int, int] = (1, 10)) -> dict:
    n = len(c["person"])
    count = rng.integers(contacts[0], contacts[1], size=n)
    i = np.repeat(np.arange(n), count)
    m = len(i)
    day = _uniform_day(rng, c["first"][i], c["last"][i])
    kind = rng.integers(0, len(_KONTAKTTYP), size=m)
    sick = rng.random(m) < 0.4
    sick_from = np.where(sick, day - rng.integers(0, 60, size=m), NA)
    sick_to = np.where(sick, sick_from + rng.integers(14, 181, size=m), NA)
    person = c["person"][i]
    diagnosis = rng.integers(0, len(_DIAGNOSES), size=n)[i]
    return {"date": day, "key": _record_keys((person, 1), (day - _TABLE_FIRST, 1 << 17), (kind, 4)),
            "person": person, "patient": _pool().numbers[person], "kind": kind,
            "sick_from": sick_from, "sick_to": sick_to, "grade": rng.integers(0, 4, size=m),
            "diagnosis": diagnosis}


def _reservnummer_records(rng: np.random.Generator, count: int, first: int, last: int,
                          serial: int) -> dict:
    """Contacts with a regional reservnummer: birth date + letter + digits, or ``99`` + digits."""
    if count <= 0:
        return {}
    day = _uniform_day(rng, np.full(count, first), np.full(count, last))
    born = _iso(rng.integers(_day(date(1950, 1, 1)), _day(date(2000, 12, 31)), size=count))
    letters = np.array(("K", "M", "X"), dtype=object)[rng.integers(0, 3, size=count)]
    with_letter = (np.char.replace(born.astype(str), "-", "").astype(object) + letters
                   + _zfill(rng.integers(0, 1000, size=count), 3))
    ninety_nine = ("99" + _zfill(rng.integers(0, 100, size=count), 2) + "00"
                   + _zfill(rng.integers(1, 29, size=count), 2) + _zfill(rng.integers(0, 10_000, size=count), 4))
    patient = np.where(rng.random(count) < 0.5, with_letter, ninety_nine).astype(object)
    kind = rng.integers(0, len(_KONTAKTTYP), size=count)
    return {"date": day, "key": -(serial * 1_000_000 + np.arange(1, count + 1, dtype=np.int64)),
            "person": np.full(count, -1), "patient": patient, "kind": kind,
            "sick_from": np.full(count, NA), "sick_to": np.full(count, NA),
            "grade": np.zeros(count, dtype=np.int64),
            "diagnosis": rng.integers(0, len(_DIAGNOSES), size=count)}


_MAKERS = {"fk": _fk_records, "af": _af_records, "soc": _soc_records, "hsf": _hsf_records}


def _last_delivery(days: np.ndarray, final: int) -> np.ndarray:
    """The extraction date of the newest quarterly delta holding a record of this day."""
    months = _months(days)
    own = _month_last(months // 3 * 3 + 2)
    following = _month_last(months // 3 * 3 + 5)
    resent = (months % 3 == 2) & (following <= final)
    return np.where(resent, following, own)


def _evidence(source: str, records: dict, final: int) -> tuple[np.ndarray, ...]:
    """(person, försörjning bit, first day, last day) the stored records show."""
    if source == "fk":
        return (records["person"], _FK_BITS[records["forman"]], records["date"],
                np.where(records["tom"] == NA, _FAR, records["tom"]))
    if source == "af":
        known = (records["paid_to"] != NA) & (records["paid_to"] <= _last_delivery(records["date"], final))
        has = records["stod"] != _INGEN
        return (records["person"][has], _AF_BITS[records["stod"]][has], records["paid_from"][has],
                np.where(known, records["paid_to"], _FAR)[has])
    if source == "soc":
        return (records["person"], np.full(len(records["person"]), _BIT["FSB"]), records["date"],
                _month_last(records["month"]))
    raise ValueError(source)


def _mark_evidence(spells: dict, evidence: tuple[np.ndarray, ...]) -> None:
    """OR into each spell the försörjning codes partner records show on its enrolment day."""
    person, bit, first, last = evidence
    if not len(person):
        return
    named = np.flatnonzero(~spells["anon"])
    named = named[np.argsort(spells["person"][named], kind="stable")]
    by_person = spells["person"][named]
    low = np.searchsorted(by_person, person, side="left")
    count = np.searchsorted(by_person, person, side="right") - low
    record = np.repeat(np.arange(len(person)), count)
    spell = named[np.repeat(low, count) + _group_position(count)]
    start = spells["start"][spell]
    covers = (first[record] <= start) & (start <= last[record])
    np.bitwise_or.at(spells["evidence"], spell[covers], bit[record][covers])


# --------------------------------------------------------------------------------------------------
# rendering partner rows for one delivery


def _render_fk(records: dict, extracted: int, profile: _Profile) -> list[np.ndarray]:
    pool = _pool()
    return [pool.numbers[records["person"]], pool.names[records["person"]],
            _FK_FORMAN[records["forman"]], _OMFATTNING[records["omfattning"]],
            _compact(records["date"]), _compact(records["tom"]), profile.kommun_names[records["kontor"]]]


def _render_af(records: dict, extracted: int, profile: _Profile) -> list[np.ndarray]:
    # AF exports an end date only once it has passed; until then the enrolment is open.
    end = np.where(records["end"] > extracted, NA, records["end"])
    paid_to = np.where(records["paid_to"] > extracted, NA, records["paid_to"])
    return [_pool().dash[records["person"]], _serial(records["date"]), _serial(end),
            _KATEGORI[records["kategori"]], _AF_STOD[records["stod"]], _serial(records["paid_from"]),
            _serial(paid_to), _OFFICERS[records["officer"]]]


_AF_KINDS = ("s", "d", "d", "s", "s", "d", "d", "s")


def _render_soc(records: dict, extracted: int, profile: _Profile) -> list[np.ndarray]:
    pool = _pool()
    year = _ymd(np.array([extracted]))[0][0]
    old = year - pool.birth_year[records["person"]] >= 100
    pnr = np.where(old, pool.short_plus[records["person"]], pool.short[records["person"]]).astype(object)
    month = np.datetime_as_string(records["month"].astype("datetime64[M]")).astype(object)
    return [pnr, month, _kronor(records["cents"], spaced=True), _HUSHALL[records["household"]],
            records["address"]]


def _render_hsf(records: dict, extracted: int, profile: _Profile) -> list[np.ndarray]:
    sick = records["sick_from"] != NA
    return [records["patient"], _iso(records["date"]), _KONTAKTTYP[records["kind"]],
            _iso(records["sick_from"]), _iso(records["sick_to"]),
            _choose(sick, _GRAD[records["grade"]], ""), _DIAGNOSES[records["diagnosis"]]]


_RENDER = {"fk": _render_fk, "af": _render_af, "soc": _render_soc, "hsf": _render_hsf}
# source -> (column spoiled, replacement or None for a broken check digit) per mistake kind
_MISTAKES = {"fk": ((0, None), (2, "ABC")), "af": ((0, None),), "soc": ((0, None),),
             "hsf": ((2, "OKAND"),)}


def _spoil(source: str, columns: list[np.ndarray], rows: np.ndarray, rng: np.random.Generator) -> None:
    kinds = _MISTAKES[source]
    which = rng.integers(0, len(kinds), size=len(rows))
    for number, (column, replacement) in enumerate(kinds):
        chosen = rows[which == number]
        if not len(chosen):
            continue
        values = columns[column].copy()
        values[chosen] = _broken(values[chosen], rng) if replacement is None else replacement
        columns[column] = values


def _delta_bytes(source: str, columns: list[np.ndarray], extracted: int) -> bytes:
    if source == "fk":
        return _delimited(FK_COLUMNS, columns, sep=";", newline="\r\n").encode("cp1252")
    if source == "soc":
        return _delimited(SOC_COLUMNS, columns, sep=",", newline="\n", quote=True).encode("utf-8-sig")
    if source == "hsf":
        return _delimited(HSF_COLUMNS, columns, sep="|", newline="\n").encode("utf-8")
    rows = len(columns[0])
    # The export sometimes ends with blank rows and a count; both are layout, not records.
    trailer = rows % 2 == 0
    sheet = _Sheet("Uttag", AF_COLUMNS, list(zip(columns, _AF_KINDS)),
                   above=(("Uttag deltagare Finsam",), (f"Uttagsdatum {_as_date(extracted):%Y-%m-%d}",)),
                   blank=rows % 3 if trailer else 0, below=((f"Summa: {rows}",),) if trailer else ())
    return _xlsx([sheet])


# --------------------------------------------------------------------------------------------------
# writing


class _Writer:
    def __init__(self, landing: Path, result: _Result):
        self.landing = landing
        self.result = result

    def put(self, source: str, name: str, data: bytes, rows: int) -> None:
        path = self.landing / source / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.result.files.append(path)
        self.result.rows[source] += rows
        self.result.bytes += len(data)


class _PartnerDeliveries:
    """Partner records waiting for their quarterly deltas; flushed once a year is complete."""

    def __init__(self, writer: _Writer, profile: _Profile, quarter_ends: np.ndarray,
                 rng: np.random.Generator, mistake_rate: float):
        self.writer = writer
        self.profile = profile
        self.quarter_ends = quarter_ends
        self.rng = rng
        self.mistake_rate = mistake_rate
        self.pending: dict[str, list[dict]] = {source: [] for source in PARTNER_SOURCES}
        self.seen: dict[str, np.ndarray] = {source: np.empty(0, dtype=np.int64) for source in PARTNER_SOURCES}
        self.next_quarter = 0

    def add(self, source: str, records: dict) -> dict:
        """Keep the records whose natural key is new; returns them."""
        if not _size(records):
            return records
        _, first = np.unique(records["key"], return_index=True)
        records = _take(records, np.sort(first))
        fresh = ~np.isin(records["key"], self.seen[source])
        records = _take(records, fresh)
        self.seen[source] = np.union1d(self.seen[source], records["key"])
        self.pending[source].append(records)
        return records

    def flush(self, through: int) -> None:
        """Write every quarter ending on or before ``through``; keep what the next one re-sends."""
        last = self.next_quarter
        while last < len(self.quarter_ends) and self.quarter_ends[last] <= through:
            last += 1
        if last == self.next_quarter:
            return
        for source in PARTNER_SOURCES:
            records = _concat(self.pending[source])
            if not _size(records):
                continue
            order = np.lexsort((records["key"], records["date"]))
            records = _take(records, order)
            for quarter in range(self.next_quarter, last):
                self._write(source, records, quarter)
            keep_from = _month_first(_months(np.array([self.quarter_ends[last - 1]])))[0]
            self.pending[source] = [_take(records, records["date"] >= keep_from)]
        self.next_quarter = last

    def _window(self, quarter: int) -> tuple[int, int]:
        """A delta re-sends the last month of the previous one, so deliveries overlap."""
        if quarter == 0:
            return -_FAR, int(self.quarter_ends[0])
        previous = self.quarter_ends[quarter - 1]
        return int(_month_first(_months(np.array([previous])))[0]), int(self.quarter_ends[quarter])

    def _write(self, source: str, records: dict, quarter: int) -> None:
        first, extracted = self._window(quarter)
        low, high = np.searchsorted(records["date"], [first, extracted + 1])
        if high <= low:
            return
        rows = _take(records, slice(low, high))
        columns = _RENDER[source](rows, extracted, self.profile)
        self._mistakes(source, rows, columns, quarter)
        name = f"{_as_date(extracted):%Y%m%d}_{_DELTA_NAME[source]}"
        self.writer.put(source, name, _delta_bytes(source, columns, extracted), high - low)

    def _mistakes(self, source: str, rows: dict, columns: list[np.ndarray], quarter: int) -> None:
        """A few spoiled rows, never more than 2 % of the file, only in rows no other delta re-sends."""
        n = _size(rows)
        count = min(int(n * self.mistake_rate + self.rng.random()), int(n * 0.02))
        if count <= 0:
            return
        own_from = self.quarter_ends[quarter - 1] + 1 if quarter else -_FAR
        resent_from = _month_first(_months(np.array([self.quarter_ends[quarter]])))[0]
        eligible = np.flatnonzero((rows["date"] >= own_from) & (rows["date"] < resent_from)
                                  & (rows["person"] >= 0))
        if not len(eligible):
            return
        chosen = np.sort(self.rng.choice(eligible, size=min(count, len(eligible)), replace=False))
        _spoil(source, columns, chosen, self.rng)
        self.writer.result.mistakes += len(chosen)


def _partner_records(rng: np.random.Generator, consents: dict, profile: _Profile,
                     deliveries: _PartnerDeliveries, spells: dict, final: int, year: int) -> None:
    """Records for a batch of consents from the partners each chose to report (at least two)."""
    n = len(consents["person"])
    if not n:
        return
    named = ((consents["parter"][:, None] >> np.array([_SOURCE_BIT[s] for s in ("af", "fk", "soc", "hsf")]))
             & 1).astype(bool)
    chosen = named & (rng.random((n, 4)) < _SOURCE_SHARE)
    keys = rng.random((n, 4)) - 2 * chosen + 2 * ~named
    top = np.argsort(keys, axis=1)[:, :2]
    rows = np.arange(n)
    chosen[rows, top[:, 0]] = True
    chosen[rows, top[:, 1]] = True
    for column, source in enumerate(("af", "fk", "soc", "hsf")):
        batch = {name: consents[name][chosen[:, column]] for name in ("person", "first", "last")}
        records = _MAKERS[source](rng, batch, profile)
        if source == "hsf":
            count = int(rng.binomial(_size(records), 0.003))
            first = max(_day(date(year, 1, 1)), int(consents["first"].min()))
            last = max(min(_day(date(year, 12, 31)), final), first)
            records = _concat([records, _reservnummer_records(rng, count, first, last, year)])
        stored = deliveries.add(source, records)
        if source != "hsf":
            _mark_evidence(spells, _evidence(source, stored, final))


# --------------------------------------------------------------------------------------------------
# insats and samtycke snapshots


def _fors_text() -> np.ndarray:
    texts = []
    for mask in range(1 << len(_FORSORJNING)):
        texts.append(",".join(sorted(code for code, bit in _BIT.items() if mask & bit)))
    return np.array(texts, dtype=object)


_FORS_TEXT = _fors_text()
_PARTER_TEXT = np.array([",".join(code for bit, code in enumerate(PARTNERS) if mask >> bit & 1)
                         for mask in range(1 << len(PARTNERS))], dtype=object)


def _register_columns(spells: dict, profile: _Profile) -> dict[str, np.ndarray]:
    """Per spell, the register's text in every column that does not depend on the extraction."""
    pool = _pool()
    person, anon, skyddad = spells["person"], spells["anon"], spells["skyddad"]
    forms = np.stack([pool.dash[person], pool.numbers[person], pool.short[person]])
    pnr = forms[spells["form"], np.arange(len(person))]
    # The partners' records on the enrolment day are in the register; ING/OKA then give way.
    evidence = spells["evidence"]
    registered = spells["fors_in"]
    fors_in = np.where(evidence > 0, (registered & ~_EXCLUSIVE) | evidence, registered)
    tid = np.where((evidence > 0) & (registered == _BIT["ING"]),
                   np.maximum(spells["tid"], 1 + spells["seq"] % 9), spells["tid"])
    return {
        "Insats": np.array(profile.codes, dtype=object)[spells["insats"]],
        "Personnummer": _choose(anon, "", pnr),
        "Namn": _choose(~anon & spells["name_given"], pool.names[person], ""),
        "Anonym": _choose(anon, "Ja", "Nej"),
        "Kön": _choose(spells["kon_given"], pool.kon[person], ""),
        "Skyddad identitet": _choose(skyddad, "Ja", _choose(anon | spells["skyddad_blank"], "", "Nej")),
        "Aktualiserande part": _choose(anon, "", _AKTUALISERANDE[spells["akt"]]),
        "Inskrivningsdatum": spells["start"],
        "Försörjning vid inskrivning": _choose(anon, "", _FORS_TEXT[fors_in]),
        "Tid i offentlig försörjning": _choose(anon, "", _strs(tid)),
        "Utbildningsnivå": _choose(anon, "", _UTBILDNING[spells["utb"]]),
        "Kommun": _choose(anon, "", profile.kommuner[spells["kommun"]]),
        "_reason": _AVSLUT[spells["reason"]],
        "_fors_ut": _choose(spells["reason"] == _FEL, "",
                            np.array(_FORSORJNING, dtype=object)[spells["fors_ut"]]),
    }


def _register_table(columns: dict[str, np.ndarray], spells: dict, rows: np.ndarray,
                    extracted: int) -> dict[str, np.ndarray]:
    """The register as extracted on ``extracted``: end, reason and exit income once it has ended."""
    end = spells["end"][rows]
    ended = (end <= extracted) & ~spells["anon"][rows]
    table = {name: columns[name][rows] for name in INSATS_COLUMNS if name in columns}
    table["Utskrivningsdatum"] = np.where(ended, end, NA)
    table["Avslutsanledning"] = _choose(ended, columns["_reason"][rows], "")
    table["Försörjning vid utskrivning"] = _choose(ended, columns["_fors_ut"][rows], "")
    return table


def _register_bytes(table: dict[str, np.ndarray], xlsx: bool, bom: bool) -> bytes:
    if xlsx:
        columns = [(_serial(table[name]), "d") if name in _INSATS_DATES else (table[name], "s")
                   for name in INSATS_COLUMNS]
        return _xlsx([_Sheet("Deltagare", INSATS_COLUMNS, columns)])
    columns = [_iso(table[name]) if name in _INSATS_DATES else table[name] for name in INSATS_COLUMNS]
    return _delimited(INSATS_COLUMNS, columns, sep=";", newline="\n").encode("utf-8-sig" if bom else "utf-8")


def _write_registers(writer: _Writer, spells: dict, consents: dict, profile: _Profile,
                     snapshots: np.ndarray, rng: np.random.Generator, mistake_rate: float) -> None:
    columns = _register_columns(spells, profile)
    suffix = "xlsx" if profile.xlsx_register else "csv"
    for number, extracted in enumerate(snapshots):
        newest = number == len(snapshots) - 1
        previous = snapshots[number - 1] if number else -_FAR
        for insats, code in enumerate(profile.codes):
            rows = np.flatnonzero((spells["insats"] == insats) & (spells["start"] <= extracted))
            if not len(rows):
                continue
            table = _register_table(columns, spells, rows, extracted)
            if newest:
                writer.result.mistakes += _register_mistakes(table, spells, rows, previous, rng,
                                                             mistake_rate)
            writer.put("insats", f"{_as_date(extracted):%Y%m%d}_{code}.{suffix}",
                       _register_bytes(table, profile.xlsx_register, profile.register_bom), len(rows))
    for extracted in snapshots:
        rows = np.flatnonzero(consents["start"] <= extracted)
        if len(rows):
            writer.put("samtycke", f"{_as_date(extracted):%Y%m%d}.csv",
                       _samtycke_bytes(consents, rows, extracted, profile), len(rows))


def _register_mistakes(table: dict, spells: dict, rows: np.ndarray, previous: int,
                       rng: np.random.Generator, rate: float) -> int:
    """Bad rows among the spells new in this snapshot (never delivered clean before)."""
    n = len(rows)
    count = min(int(n * rate / 5 + rng.random()), int(n * 0.02))
    new = np.flatnonzero((spells["start"][rows] > previous) & ~spells["anon"][rows])
    if count <= 0 or not len(new):
        return 0
    chosen = np.sort(rng.choice(new, size=min(count, len(new)), replace=False))
    broken = rng.random(len(chosen)) < 0.5
    numbers = table["Personnummer"].copy()
    numbers[chosen[broken]] = _broken(numbers[chosen[broken]], rng)
    table["Personnummer"] = numbers
    education = table["Utbildningsnivå"].copy()
    education[chosen[~broken]] = "GYMNASIUM"
    table["Utbildningsnivå"] = education
    return len(chosen)


def _samtycke_bytes(consents: dict, rows: np.ndarray, extracted: int, profile: _Profile) -> bytes:
    withdrawn = consents["withdrawn"][rows]
    columns = [_pool().numbers[consents["person"][rows]],
               np.array(profile.codes, dtype=object)[consents["insats"][rows]],
               _iso(consents["start"][rows]), _iso(consents["valid_to"][rows]),
               _iso(np.where(withdrawn <= extracted, withdrawn, NA)),
               _PARTER_TEXT[consents["parter"][rows]], _choose(consents["sus"][rows], "Ja", "Nej")]
    return _delimited(SAMTYCKE_COLUMNS, columns, sep=";", newline="\n").encode("utf-8")


# --------------------------------------------------------------------------------------------------
# ledger and budget, per förbund and year


def _growth(year: int) -> float:
    return 1.03 ** (year - _BASE_YEAR)


def _annual_budget(profile: _Profile, project: str, year: int) -> int:
    """The means set aside for a project: its cost lines plus a margin, in whole ten thousands."""
    stated = sum(int(round(v * _growth(year), -2)) for v in profile.annual[project].values())
    return int(-(-stated * 1.04 // 10_000) * 10_000)


def _financing(profile: _Profile, year: int) -> list[tuple[str, int]]:
    total = sum(_annual_budget(profile, project, year) for project in profile.projects)
    surplus = int(round(total * 0.06, -3))
    members = [("Försäkringskassan", 0.5), (profile.region, 0.25)]
    members += [(f"{name} kommun", 0.25 * float(w))
                for name, w in zip(profile.kommun_names, profile.kommun_weights)]
    return [(name, int(round((total - surplus) * share, -3))) for name, share in members] + \
        [("Eget kapital", surplus)]


def _ledger(seed: int, profile: _Profile, year: int) -> dict:
    """The year's ledger rows, sorted by voucher: monthly rows per project and kostnadsslag."""
    rng = _rng(seed, profile.index, "ledger", year)
    combos = [(p, slag, amount * _growth(year)) for p, project in enumerate(profile.projects)
              for slag, amount in profile.annual[project].items()]
    project = np.repeat([c[0] for c in combos], 12)
    slag = np.repeat([_SLAG.index(c[1]) for c in combos], 12)
    annual = np.repeat([c[2] for c in combos], 12)
    month = np.tile(np.arange(1, 13), len(combos))
    m = len(month)
    u = rng.uniform(0.85, 1.15, size=m)
    amount = annual / 12 * u
    code = np.array(_SLAG, dtype=object)[slag]
    amount = np.where(code == "FOR", np.where(month % 3 == 1, annual / 4, 0.0), amount)
    occasional = (code == "UTB") | (code == "BED")
    amount = np.where(occasional, np.where(rng.random(m) < 0.4, annual / 5 * rng.uniform(0.7, 1.3, size=m), 0.0),
                      amount)
    amount = np.where(code == "RES", annual / 12 * rng.uniform(0.5, 1.5, size=m), amount)
    fixed_day = np.array([_KOSTNADSSLAG[s][2] for s in _SLAG])[slag]
    day = np.where(fixed_day > 0, fixed_day, rng.integers(2, 29, size=m))
    account = np.array([_KOSTNADSSLAG[s][0] for s in _SLAG])[slag]
    cents = np.round(amount * 100).astype(np.int64)
    # Salaries come with social fees on their own account.
    salary = np.flatnonzero(code == "LON")
    fees = np.round(cents[salary] * 0.24).astype(np.int64)
    cents[salary] -= fees
    person_text = rng.random(m) < 0.3
    lines = {"project": np.concatenate([project, project[salary]]),
             "month": np.concatenate([month, month[salary]]),
             "day": np.concatenate([day, day[salary]]),
             "account": np.concatenate([account, np.full(len(salary), _SOCIAL_FEES_ACCOUNT)]),
             "cents": np.concatenate([cents, fees]),
             "slag": np.concatenate([code, np.full(len(salary), "AVG", dtype=object)]),
             "named": np.concatenate([person_text, np.zeros(len(salary), dtype=bool)]),
             "kind": np.zeros(m + len(salary), dtype=np.int64)}
    lines = _take(lines, lines["cents"] != 0)
    # Credits: a few corrections of the rent.
    credit = rng.random((len(profile.projects), 12)) < 0.05
    p, mo = np.nonzero(credit)
    credits = {"project": p, "month": mo + 1, "day": np.full(len(p), 20),
               "account": np.full(len(p), _CREDIT_ACCOUNT),
               "cents": -rng.integers(5, 31, size=len(p)) * 10_000,
               "slag": np.full(len(p), "KRED", dtype=object), "named": np.zeros(len(p), dtype=bool),
               "kind": np.ones(len(p), dtype=np.int64)}
    # Income: the members' contributions each quarter, on the förbund's own account (ADM).
    financing = _financing(profile, year)
    members = [(name, amount) for name, amount in financing if name != "Eget kapital"]
    q = np.repeat(np.arange(1, 5), len(members))
    member = np.tile(np.arange(len(members)), 4)
    income = {"project": np.full(len(q), len(profile.codes)), "month": q * 3, "day": np.full(len(q), 28),
              "account": np.full(len(q), _INCOME_ACCOUNT),
              "cents": -np.array([amount for _, amount in members], dtype=np.int64)[member] * 25,
              "slag": np.full(len(q), "INK", dtype=object), "named": np.zeros(len(q), dtype=bool),
              "kind": np.full(len(q), 2, dtype=np.int64)}
    rows = _concat([lines, credits, income])
    booked = _month_first((year - 1970) * 12 + rows["month"] - 1) + rows["day"] - 1
    order = np.lexsort((np.arange(len(booked)), rows["kind"], rows["project"], booked))
    rows = _take(rows, order)
    booked = booked[order]
    voucher_key = (booked * 64 + rows["project"]) * 4 + rows["kind"]
    new_voucher = np.r_[True, voucher_key[1:] != voucher_key[:-1]]
    voucher = np.cumsum(new_voucher)
    starts = np.flatnonzero(new_voucher)
    rad = np.arange(len(voucher)) - np.repeat(starts, np.diff(np.r_[starts, len(voucher)])) + 1
    names = np.array(profile.projects, dtype=object)
    project_code = names[rows["project"]]
    month_text = np.array(_MONTHS, dtype=object)[rows["month"] - 1] + f" {year}"
    someone = _pool().names[rng.integers(0, len(_pool().names), size=len(voucher))]
    text = _ledger_text(rows, project_code, month_text, someone, financing)
    return {"date": booked, "ver": _zfill((year % 100) * 10_000 + voucher, 6), "rad": _strs(rad),
            "konto": _strs(rows["account"]), "projekt": _choose(project_code == ADM, "", project_code),
            "belopp": _kronor(rows["cents"], spaced=False), "text": text}


def _ledger_text(rows: dict, project: np.ndarray, when: np.ndarray, someone: np.ndarray,
                 financing: list[tuple[str, int]]) -> np.ndarray:
    # Some bookkeepers write who a cost concerns: names that must not pass ingestion.
    slag, named = rows["slag"], rows["named"]
    text = "Övrigt " + project + " " + when
    templates = {"LON": "Löner ", "AVG": "Arbetsgivaravgifter ", "LOK": "Hyra ", "RES": "Resor ",
                 "IT": "Licenser och support ", "FOR": "Försäkringspremie ",
                 "UTB": "Utbildning MI-samtal ", "BED": "Arvode bedömningsteam ",
                 "OVR": "Samverkansmöte ", "KRED": "Kreditering hyra "}
    for code, prefix in templates.items():
        text = np.where(slag == code, prefix + project + " " + when, text)
    text = np.where((slag == "LON") & named, "Lön " + someone + " " + when, text)
    text = np.where((slag == "RES") & named, "Resa " + someone + " " + when, text)
    members = np.array([name for name, _ in financing if name != "Eget kapital"], dtype=object)
    income = np.flatnonzero(slag == "INK")
    if len(income):
        order_in_quarter = np.arange(len(income)) % len(members)
        text = text.astype(object)
        text[income] = "Medlemsbidrag " + members[order_in_quarter] + " – " + when[income]
    return text.astype(object)


def _ledger_bytes(ledger: dict, upto: int) -> tuple[bytes, int]:
    rows = int(np.searchsorted(ledger["date"], upto + 1))
    columns = [ledger["ver"][:rows], ledger["rad"][:rows], _iso(ledger["date"][:rows]),
               ledger["konto"][:rows], ledger["projekt"][:rows], ledger["belopp"][:rows],
               ledger["text"][:rows]]
    return _delimited(EKONOMI_COLUMNS, columns, sep=";", newline="\r\n").encode("cp1252"), rows


def _budget_bytes(seed: int, profile: _Profile, year: int, spells_per_year: float) -> tuple[bytes, int]:
    """The coordinator's workbook: the insats catalogue, one row per insats and kostnadsslag with
    TOTALT rows, and the year's financing. Small, so built row by row."""
    rng = _rng(seed, profile.index, "budget", year)
    catalogue = [(code, name, _day(started), "Individinriktad", str(max(5, round(spells_per_year * s))),
                  share) for code, name, started, s, share in
                 zip(profile.codes, profile.names, profile.started, profile.shares, profile.target_share)]
    catalogue.append((ADM, "Förbundets kansli", _day(date(2004, 1, 1)), "Strukturövergripande", "", ""))
    cat_columns = [
        (np.array([r[0] for r in catalogue], dtype=object), "s"),
        (np.array([r[1] for r in catalogue], dtype=object), "s"),
        (_serial(np.array([r[2] for r in catalogue])), "d"),
        (np.full(len(catalogue), "", dtype=object), "s"),
        (np.array([r[3] for r in catalogue], dtype=object), "s"),
        (np.array([r[4] for r in catalogue], dtype=object), "n"),
        (np.array([r[5] for r in catalogue], dtype=object), "s"),
    ]
    lines: list[list[tuple[str, str]]] = []
    for p, project in enumerate(profile.projects):
        stated = 0
        for slag, annual in profile.annual[project].items():
            total = int(round(annual * _growth(year), -2))
            stated += total
            label = slag if rng.random() < 0.7 else _KOSTNADSSLAG[slag][1]
            row = [(project, "s"), (label, "s")]
            if p == 0 and slag == "IT":     # one row the coordinator fills in as a yearly sum
                row += [("", "s")] * 4 + [(str(total), "n"), ("", "s")]
            else:
                quarter = int(round(total / 4, -2))
                quarters = [quarter, quarter, quarter, total - 3 * quarter]
                if rng.random() < 0.2:      # typed with spaces, as the coordinator writes them
                    row += [(f"{v:,}".replace(",", " "), "s") for v in quarters]
                    row += [(f"{total:,}".replace(",", " "), "s"), ("", "s")]
                else:
                    row += [(str(v), "n") for v in quarters] + [(str(total), "n"), ("", "s")]
            lines.append(row)
        lines.append([(project, "s"), ("TOTALT", "s")] + [("", "s")] * 4
                     + [(str(stated), "n"), (str(_annual_budget(profile, project, year)), "n")])
    budget_columns = [(np.array([r[j][0] for r in lines], dtype=object),
                       np.array([r[j][1] for r in lines], dtype=object)) for j in range(len(BUDGET_COLUMNS))]
    financing = _financing(profile, year)
    financing_columns = [(np.array([name for name, _ in financing], dtype=object), "s"),
                         (_strs(np.array([amount for _, amount in financing])), "n")]
    data = _xlsx([_Sheet("Insatser", CATALOGUE_COLUMNS, cat_columns),
                  _Sheet("Budget", BUDGET_COLUMNS, budget_columns),
                  _Sheet("Finansiering", ("Finansiär", "Belopp"), financing_columns)])
    return data, len(catalogue) + len(lines) + len(financing)


# --------------------------------------------------------------------------------------------------
# one förbund


@dataclass(frozen=True)
class _Job:
    root: Path
    seed: int
    index: int
    spells: int
    first_year: int
    years: int
    mistake_rate: float
    snapshot_quarters: int


def _generate_forbund(job: _Job) -> _Result:
    profile = _profile(job.seed, job.index)
    result = _Result(profile.fid)
    writer = _Writer(job.root / profile.fid, result)
    quarter_ends = _quarter_ends(job.first_year, job.years)
    first, final = _day(date(job.first_year, 1, 1)), int(quarter_ends[-1])

    spells = _spells(_rng(job.seed, job.index, "spells"), profile, job.spells, first, final)
    _register_values(_rng(job.seed, job.index, "register"), spells, profile, final)
    consents = _consents(_rng(job.seed, job.index, "register", 1), spells, final)
    consents["first"] = consents["start"]
    result.spells = len(spells["person"])
    result.persons = len(np.unique(spells["person"][~spells["anon"]]))
    result.consents = len(consents["person"])

    partner_rng = _rng(job.seed, job.index, "partner")
    deliveries = _PartnerDeliveries(writer, profile, quarter_ends, _rng(job.seed, job.index, "mistakes"),
                                    job.mistake_rate)
    consent_year = _ymd(consents["start"])[0]
    spells_per_year = job.spells / max(job.years, 1)
    for year in range(job.first_year, job.first_year + job.years):
        in_year = consent_year == year
        if year == job.first_year:
            in_year |= consent_year < year
        _partner_records(partner_rng, _take(consents, in_year), profile, deliveries, spells, final, year)
        deliveries.flush(_day(date(year, 12, 31)))
        data, rows = _budget_bytes(job.seed, profile, year, spells_per_year)
        writer.put("budget", f"{year}0115_budget_{year}.xlsx", data, rows)
        ledger = _ledger(job.seed, profile, year)
        for extracted in quarter_ends[_ymd(quarter_ends)[0] == year]:
            data, rows = _ledger_bytes(ledger, int(extracted))
            writer.put("ekonomi", f"{_as_date(extracted):%Y%m%d}_{_DELTA_NAME['ekonomi']}", data, rows)
    snapshots = quarter_ends[-min(job.snapshot_quarters, len(quarter_ends)):]
    _write_registers(writer, spells, consents, profile, snapshots,
                     _rng(job.seed, job.index, "mistakes", 1), job.mistake_rate)
    return result


def generate_national(root: Path, *, scale: float = 0.01, seed: int = 1, forbund: int = 75,
                      years: int = 10, first_year: int = 2015, workers: int = 1,
                      mistake_rate: float = 0.01, snapshot_quarters: int = 4) -> ScaleManifest:
    """Write one landing zone per förbund under ``root/<sfNN>/``; see the module docstring.

    ``workers`` > 1 builds förbund in parallel processes (same bytes as ``workers=1``).
    ``snapshot_quarters``: how many of the newest quarters get insats and samtycke snapshots (the
    newest holds every spell and consent). Refuses to write into a non-empty förbund folder.
    """
    started = time.perf_counter()
    root = Path(root)
    if forbund < 1 or years < 1 or scale <= 0:
        raise ValueError("forbund and years must be at least 1 and scale positive")
    sizes = np.array([_profile(seed, index).size for index in range(1, forbund + 1)])
    total = scale * SPELLS_PER_YEAR * years
    targets = np.maximum(1, np.round(total * sizes / sizes.sum())).astype(int)
    jobs = [_Job(root, seed, index, int(target), first_year, years, mistake_rate, snapshot_quarters)
            for index, target in zip(range(1, forbund + 1), targets)]
    for job in jobs:
        folder = root / _fid(job.index)
        if folder.exists() and any(folder.iterdir()):
            raise FileExistsError(f"{folder} is not empty")
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_generate_forbund, jobs))
    else:
        results = [_generate_forbund(job) for job in jobs]
    parameters = {"scale": scale, "seed": seed, "forbund": forbund, "years": years,
                  "first_year": first_year, "mistake_rate": mistake_rate,
                  "snapshot_quarters": snapshot_quarters}
    return _manifest(root, results, started, parameters)


# --------------------------------------------------------------------------------------------------
# the next day: a few förbund deliver


def _newest(folder: Path, pattern: str) -> dict[str, Path]:
    """scope -> newest file, for names ``<YYYYMMDD>_<scope>.<ext>`` (or ``<YYYYMMDD>.csv``)."""
    newest: dict[str, tuple[str, Path]] = {}
    if not folder.is_dir():
        return {}
    for path in folder.iterdir():
        match = re.fullmatch(pattern, path.name)
        if match:
            scope = match.groupdict().get("scope") or ""
            if scope not in newest or match["date"] > newest[scope][0]:
                newest[scope] = (match["date"], path)
    return {scope: path for scope, (_, path) in newest.items()}


def _latest_extraction(landing: Path) -> date | None:
    days = [name[:8] for path in landing.rglob("*") if path.is_file()
            for name in [path.name] if re.match(r"\d{8}", name)]
    return datetime.strptime(max(days), "%Y%m%d").date() if days else None


def _read_register(path: Path) -> tuple[dict[str, np.ndarray], bool]:
    """A register file we wrote, as text columns (dates ISO); and whether it had a BOM."""
    if path.suffix == ".xlsx":
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            rows = list(workbook["Deltagare"].iter_rows(values_only=True))
        finally:
            workbook.close()
        header = [str(cell) for cell in rows[0]]
        body = [[("" if cell is None else cell.date().isoformat() if isinstance(cell, datetime)
                  else str(cell)) for cell in row] for row in rows[1:]]
        frame = pd.DataFrame(body, columns=header, dtype=object)
        bom = False
    else:
        raw = path.read_bytes()
        bom = raw.startswith(b"\xef\xbb\xbf")
        frame = pd.read_csv(io.BytesIO(raw), sep=";", dtype=str, keep_default_na=False,
                            encoding="utf-8-sig")
    return {name: frame[name].to_numpy(dtype=object) for name in frame.columns}, bom


def _twelve_digits(texts: np.ndarray, year: int) -> np.ndarray:
    """The register's forms as 12 digits (people under 100)."""
    digits = pd.Series(texts, dtype=object).str.replace(r"[-+]", "", regex=True)
    short = digits.str.len() == 10
    century = np.where(pd.to_numeric(digits.str[:2], errors="coerce").fillna(0) <= year % 100, "20", "19")
    return np.where(short, century + digits.to_numpy(dtype=object), digits.to_numpy(dtype=object)).astype(object)


def _positions(numbers: np.ndarray) -> np.ndarray:
    """Each 12-digit number's position in the pool, -1 when it is not a test number."""
    return pd.Index(_pool().numbers).get_indexer(pd.Index(numbers)).astype(np.int64)


def _next_day_forbund(root: Path, seed: int, index: int, day: date, spells_today: int,
                      partner_rows_today: int) -> _Result:
    profile = _profile(seed, index)
    landing = root / profile.fid
    result = _Result(profile.fid)
    writer = _Writer(landing, result)
    rng = _rng(seed, index, "next", day.toordinal())
    today = _day(day)
    stamp = f"{day:%Y%m%d}"
    pool = _pool()

    registers = {scope: _read_register(path)
                 for scope, path in _newest(landing / "insats", r"(?P<date>\d{8})_(?P<scope>[A-Za-z0-9]+)\.(?:xlsx|csv)").items()}
    samtycke_path = _newest(landing / "samtycke", r"(?P<date>\d{8})\.csv").get("")
    consents = pd.read_csv(samtycke_path, sep=";", dtype=str, keep_default_na=False) if samtycke_path else None
    identified = [(table["Personnummer"] != "", table) for table, _ in registers.values()]
    numbers = np.concatenate([_twelve_digits(t["Personnummer"][given], day.year) for given, t in identified]
                             + [np.empty(0, dtype=object)])
    starts = np.concatenate([_day_array(t["Inskrivningsdatum"][given]) for given, t in identified]
                            + [np.empty(0, dtype=np.int64)])
    last_start = pd.Series(starts).groupby(numbers).max() if len(numbers) else pd.Series(dtype=np.int64)

    # New participants enrolled in the last week, and some who left today.
    count = len(profile.codes)
    start = today - rng.integers(0, 7, size=max(spells_today * 3, 3))
    person = _draw_people(rng, start)
    fresh = (person >= 0) & ~np.isin(pool.numbers[np.maximum(person, 0)].astype(str), numbers.astype(str))
    _, first_seen = np.unique(np.where(fresh, person, -1), return_index=True)
    candidates = np.sort(first_seen[fresh[first_seen]])[:spells_today]
    new = _new_spells(rng, person[candidates], rng.choice(count, size=len(candidates), p=profile.shares),
                      start[candidates])
    n = len(candidates)
    new.update(anon=np.zeros(n, dtype=bool), skyddad=np.zeros(n, dtype=bool), seq=np.arange(n),
               end=np.full(n, _FAR))
    _register_values(rng, new, profile, today)
    new["withdrawn"] = np.zeros(n, dtype=bool)
    new_columns = _register_columns(new, profile)
    for insats, code in enumerate(profile.codes):
        rows = np.flatnonzero(new["insats"] == insats)
        table, bom = registers.get(code, ({name: np.empty(0, dtype=object) for name in INSATS_COLUMNS},
                                          profile.register_bom))
        table = {name: table[name].astype(object) for name in INSATS_COLUMNS}
        closing = _closings(rng, table, today, max(1, len(rows)))
        if not len(rows) and not closing:
            continue
        added = _register_table(new_columns, new, rows, today)
        added = {name: (_iso(values) if name in _INSATS_DATES else values) for name, values in added.items()}
        table = {name: np.concatenate([table[name], added[name]]) for name in INSATS_COLUMNS}
        dates = {name: _day_array(table[name]) for name in _INSATS_DATES}
        suffix = "xlsx" if profile.xlsx_register else "csv"
        writer.put("insats", f"{stamp}_{code}.{suffix}",
                   _register_bytes({**table, **dates}, profile.xlsx_register, bom), len(table["Insats"]))
    result.spells = n
    result.persons = n

    # Consents for the new participants.
    new_consents = _consents(rng, {**new, "end": np.full(n, today + 365)}, today)
    if consents is not None and len(new_consents["person"]):
        added = pd.DataFrame({
            "Personnummer": pool.numbers[new_consents["person"]],
            "Insats": np.array(profile.codes, dtype=object)[new_consents["insats"]],
            "Samtycke från": _iso(new_consents["start"]), "Giltigt till": "", "Återkallat": "",
            "Parter": _PARTER_TEXT[new_consents["parter"]],
            "SUS": _choose(new_consents["sus"], "Ja", "Nej")})
        register = pd.concat([consents, added], ignore_index=True)
        columns = [register[name].to_numpy(dtype=object) for name in SAMTYCKE_COLUMNS]
        writer.put("samtycke", f"{stamp}.csv",
                   _delimited(SAMTYCKE_COLUMNS, columns, sep=";", newline="\n").encode("utf-8"),
                   len(register))
        result.consents = len(new_consents["person"])

    # Partner deltas: the last month's news about participants with consent in force.
    if consents is not None and len(consents):
        _next_day_partners(rng, writer, profile, consents, last_start, today, stamp, partner_rows_today)

    # The ledger: the year to date.
    year = day.year
    ledger = _ledger(seed, profile, year)
    data, rows = _ledger_bytes(ledger, today)
    writer.put("ekonomi", f"{stamp}_{_DELTA_NAME['ekonomi']}", data, rows)
    if not _newest(landing / "budget", rf"(?P<date>\d{{8}})_budget_(?P<scope>{year})\.xlsx"):
        data, rows = _budget_bytes(seed, profile, year, float((starts > today - 365).sum()))
        writer.put("budget", f"{stamp}_budget_{year}.xlsx", data, rows)
    return result


def _day_array(texts: np.ndarray) -> np.ndarray:
    texts = np.asarray(texts, dtype=object)
    out = np.full(len(texts), NA, dtype=np.int64)
    given = texts != ""
    if given.any():
        out[given] = np.array(texts[given].tolist(), dtype="datetime64[D]").astype(np.int64)
    return out


def _closings(rng: np.random.Generator, table: dict[str, np.ndarray], today: int, wanted: int) -> int:
    """Some open, identified spells end today or in the last few days (in place); how many."""
    start = _day_array(table["Inskrivningsdatum"])
    open_ = ((table["Utskrivningsdatum"] == "") & (table["Anonym"] == "Nej")
             & (table["Personnummer"] != "") & (start < today - 30)
             & (table["Skyddad identitet"] != "Ja"))
    candidates = np.flatnonzero(open_)
    if not len(candidates):
        return 0
    chosen = np.sort(rng.choice(candidates, size=min(wanted, len(candidates)), replace=False))
    reason = rng.choice(8, size=len(chosen), p=_AVSLUT_P[:8] / _AVSLUT_P[:8].sum())
    reason = np.where(reason == _AVB, 7, reason)        # a withdrawal would change the consent too
    end = today - rng.integers(0, 4, size=len(chosen))
    exit_code = rng.integers(0, 9, size=len(chosen))
    for code, income in _EXIT_INCOME.items():
        exit_code = np.where(reason == code, _FORSORJNING.index(income), exit_code)
    for name, values in (("Utskrivningsdatum", _iso(end)), ("Avslutsanledning", _AVSLUT[reason]),
                         ("Försörjning vid utskrivning", np.array(_FORSORJNING, dtype=object)[exit_code])):
        column = table[name].copy()
        column[chosen] = values
        table[name] = column
    return len(chosen)


def _next_day_partners(rng: np.random.Generator, writer: _Writer, profile: _Profile,
                       consents: pd.DataFrame, last_start: pd.Series, today: int, stamp: str,
                       rows_today: int) -> None:
    start = _day_array(consents["Samtycke från"].to_numpy(dtype=object))
    valid_to = _day_array(consents["Giltigt till"].to_numpy(dtype=object))
    withdrawn = _day_array(consents["Återkallat"].to_numpy(dtype=object))
    numbers = consents["Personnummer"].to_numpy(dtype=object)
    person = _positions(numbers)
    recent = last_start.reindex(numbers).fillna(NA).to_numpy(dtype=np.int64)
    # In force the whole last month, and no enrolment within it (the register already agrees).
    in_force = ((start < today - 45) & ((valid_to == NA) | (valid_to >= today))
                & ((withdrawn == NA) | (withdrawn > today)) & (person >= 0) & (recent < today - 45))
    shares = {"fk": 0.09, "af": 0.08, "soc": 0.5, "hsf": 0.33}
    for source in PARTNER_SOURCES:
        partner = source.upper()
        names = consents["Parter"].str.contains(rf"(?:^|,){partner}(?:,|$)", regex=True).to_numpy(bool)
        eligible = np.flatnonzero(in_force & names)
        if not len(eligible):
            continue
        wanted = max(1, round(rows_today * shares[source]))
        picked = rng.choice(eligible, size=wanted, replace=True)
        batch = {"person": person[picked], "first": np.full(wanted, today - 30),
                 "last": np.full(wanted, today - 1)}
        if source == "soc":
            records = _soc_records(rng, {**batch, "first": np.full(wanted, _month_first(_months(np.array([today - 1])))[0])},
                                   profile, months=(1, 2))
        elif source == "hsf":
            records = _hsf_records(rng, batch, profile, contacts=(1, 2))
        else:
            records = _MAKERS[source](rng, batch, profile)
        if not _size(records):
            continue
        _, first = np.unique(records["key"], return_index=True)
        records = _take(records, np.sort(first))
        records = _take(records, np.lexsort((records["key"], records["date"])))
        columns = _RENDER[source](records, today, profile)
        writer.put(source, f"{stamp}_{_DELTA_NAME[source]}", _delta_bytes(source, columns, today),
                   _size(records))


def next_day(root: Path, *, scale: float = 0.01, seed: int = 1, day: date) -> ScaleManifest:
    """One more day's deliveries, dated ``day``, for about a tenth of the förbund under ``root``.

    Each chosen förbund gets new insats snapshots (new participants enrolled in the last week and a
    few who left) and a new consent register, partner deltas about the last month, a ledger export
    of the year to date and, in a new year, that year's budget workbook. Together about
    ``DAILY_SHARE`` of the national rows at ``scale``. The landing zones are read back, so calls
    for successive days build on each other. ``day`` must be after every delivery of those förbund.
    """
    started = time.perf_counter()
    root = Path(root)
    folders = sorted(int(match.group(1)) for path in root.iterdir() if path.is_dir()
                     for match in [_FORBUND_DIR.fullmatch(path.name)] if match)
    if not folders:
        raise FileNotFoundError(f"no förbund folders (sfNN) under {root}")
    rng = _rng(seed, 0, "touched", day.toordinal())
    touched = np.sort(rng.choice(folders, size=max(1, round(len(folders) * 0.1)), replace=False))
    for index in touched:
        latest = _latest_extraction(root / _fid(int(index)))
        if latest is not None and day <= latest:
            raise ValueError(f"{_fid(int(index))}: {day} is not after its newest delivery ({latest})")
    spells = max(len(touched), round(DAILY_SHARE * scale * SPELLS_PER_YEAR * 10))
    partner_rows = spells * PARTNER_ROWS_PER_SPELL
    results = [_next_day_forbund(root, seed, int(index), day, max(1, spells // len(touched)),
                                 max(4, partner_rows // len(touched))) for index in touched]
    parameters = {"scale": scale, "seed": seed, "day": day.isoformat(),
                  "forbund": [_fid(int(index)) for index in touched]}
    return _manifest(root, results, started, parameters)


# --------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--forbund", type=int, default=75)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--first-year", type=int, default=2015)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--next-day", type=date.fromisoformat, default=None,
                        help="instead of a national set, add this day's deliveries under ROOT")
    args = parser.parse_args(argv)
    if args.next_day:
        manifest = next_day(args.root, scale=args.scale, seed=args.seed, day=args.next_day)
    else:
        manifest = generate_national(args.root, scale=args.scale, seed=args.seed, forbund=args.forbund,
                                     years=args.years, first_year=args.first_year, workers=args.workers)
    print(json.dumps(manifest.summary(), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
