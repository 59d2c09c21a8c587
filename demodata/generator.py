"""A demo landing zone: every source as the partners deliver it, with their usual mistakes in it.

Deterministic: one numpy ``default_rng(seed)`` drives every choice, and workbooks get fixed document
and zip timestamps, so one seed always gives byte-identical files. Every mistake put into the files is
listed in ``injected`` (never with an identity number), so the failures the pipeline reports can be
compared one-to-one with what was put in. A row-level mistake is the only thing wrong with its row,
and sits in the newest delivery holding that row.

The partners' data agrees with the insats register: every participant with consent has records from
at least two of the partners their consent names, and the register's Försörjning vid inskrivning
holds every code the partners' stored records show on the enrolment day. A few spells are made to
disagree on purpose (``conflict_income``, ``conflict_partners``), listed at their row in the newest
insats snapshot, so the steward's reconciliation conflicts are exactly those.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Callable, Sequence, TypeVar

import numpy as np
import openpyxl
import pandas as pd
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from finsam import identity, reference
from finsam.reference import test_personnummer

T = TypeVar("T")

INJECTED_FILE_NAME = "demo_injected_mistakes.csv"
INJECTED_COLUMNS = ("source", "file", "row_number", "column", "kind")

# Kinds a reader reports itself; the others need history, other sources or the landing scan.
READER_VISIBLE_KINDS = ("bad_check_digit", "unknown_code", "kon_mismatch", "date_order",
                        "avslut_without_utskrivning", "age_out_of_range", "budget_not_adding_up",
                        "budget_parenthesised")

_FIXED_TIME = datetime(2024, 1, 1)
_ZIP_TIME = (2024, 1, 1, 0, 0, 0)

ADM = "ADM"
# code -> (name, target participants a year, target share, file format the team keeps)
INSATSER: dict[str, tuple[str, int, str, str]] = {
    "JOBBSAM3": ("Jobbsamverkan 3", 60, "55 %", "xlsx"),
    "GEMTAG": ("Gemensamma tag", 40, "45 %", "csv"),
    "SAMTEAM": ("Samverkansteamet", 50, "50 %", "xlsx"),
}
_INSATS_SHARE = (0.4, 0.3, 0.3)

# kostnadsslag -> (BAS account, label the coordinator sometimes writes instead of the code)
_KOSTNADSSLAG = {
    "LON": (7010, "Löner och arvoden (inkl. sociala avgifter)"), "LOK": (5010, "Lokaler"),
    "RES": (5610, "Resor och bil"), "IT": (6540, "Dator, telefon, post och IT-tjänster"),
    "FOR": (6310, "Försäkring"), "UTB": (7610, "Utbildningsinsatser"),
    "BED": (6550, "Ersättning bedömningsteam"), "OVR": (6990, "Övriga kostnader"),
}
_INCOME_ACCOUNT = 3990
# Annual budget in kronor for the first year; later years grow by 3 %.
_ANNUAL = {
    "JOBBSAM3": {"LON": 1_880_000, "LOK": 52_000, "RES": 30_000, "IT": 24_000, "FOR": 8_000,
                 "UTB": 40_000, "BED": 120_000, "OVR": 20_000},
    "GEMTAG": {"LON": 1_200_000, "LOK": 48_000, "RES": 20_000, "IT": 18_000, "FOR": 6_000,
               "UTB": 25_000, "OVR": 15_000},
    "SAMTEAM": {"LON": 1_500_000, "LOK": 60_000, "RES": 40_000, "IT": 20_000, "FOR": 7_000,
                "UTB": 30_000, "BED": 90_000, "OVR": 15_000},
    ADM: {"LON": 680_000, "LOK": 90_000, "RES": 15_000, "IT": 80_000, "FOR": 10_000, "OVR": 40_000},
}
_ANNUAL_ONLY = ("JOBBSAM3", "IT")   # one row per year the coordinator fills in as a yearly sum
_FINANSIARER = (("Försäkringskassan", 0.50), ("Region Östergötland", 0.25),
                ("Linköpings kommun", 0.1125), ("Norrköpings kommun", 0.0875),
                ("Motala kommun", 0.03), ("Söderköpings kommun", 0.02))

# -- the board's economy (issue 19): budget and ledger only, no participants ---------------------
# A strukturövergripande insats every year; an individinriktad insats that starts in mid-May of the
# last year with yearly amounts only; income booked on an insats each September.
_STRUCTURAL = "SAMVERK"
_MID_YEAR = "UNGVAG"
_BOARD_INSATSER: dict[str, tuple[str, str, int | None]] = {
    _STRUCTURAL: ("Samverkan och kompetens", "Strukturövergripande", None),
    _MID_YEAR: ("Unga vägen", "Individinriktad", 20),
}
_BOARD_ANNUAL = {
    _STRUCTURAL: {"LON": 240_000, "UTB": 60_000, "OVR": 24_000},
    _MID_YEAR: {"LON": 360_000, "LOK": 32_000},
}
_UTB_MONTHS = (3, 10)                  # the structural insats's two training days a year
_INSATS_INCOME = ("SAMTEAM", 3590, 25_000, 9)   # insats, account, amount, month

_KOMMUNER = ("0580", "0581", "0583", "0582")
_KOMMUN_WEIGHTS = (0.45, 0.35, 0.12, 0.08)
_AKTUALISERANDE = ("AF", "FK", "SOC", "HSF", "UAF", "PRIV", "EXT", "EGEN")
_AKTUALISERANDE_WEIGHTS = (0.25, 0.2, 0.2, 0.15, 0.08, 0.04, 0.03, 0.05)
_FORSORJNING = ("SJP", "AKE", "SJE", "AKS", "AKA", "ETA", "FSB", "STS", "LON")
_UTBILDNING = ("FGY_KORT", "FGY", "GY_KORT", "GY", "EGY_KORT", "EGY", "OKAND")
_AVSLUT = {"ARB": 0.3, "STU": 0.12, "REH": 0.15, "SJK": 0.1, "FLY": 0.05, "FLED": 0.04,
           "AVB": 0.1, "OVR": 0.1, "FEL": 0.04}
_FORSORJNING_UT = {"ARB": "LON", "STU": "STS", "REH": "SJP"}
_PARTNERS = {"AF": 0.9, "FK": 0.9, "SOC": 0.85, "HSF": 0.85, "UAF": 0.5, "PRIV": 0.3}
# The partners that deliver data, and the source folder of each.
_DATA_PARTNERS = {"FK": "fk", "AF": "af", "SOC": "soc", "HSF": "hsf"}
_EXCLUSIVE_FORSORJNING = ("ING", "OKA")
# Deliberate reconciliation conflicts: how many spells of each kind, and the register column.
_CONFLICTS = {"conflict_income": (3, "Försörjning vid inskrivning"), "conflict_partners": (3, None)}

# Names for the columns a reader must drop; the scale generator uses the same ones.
FIRST_NAMES = {
    "K": ("Anna", "Maria", "Karin", "Sara", "Fatima", "Åsa", "Linnéa", "Elin", "Amina", "Birgitta",
          "Ingrid", "Malin", "Sofia", "Jenny", "Zahra"),
    "M": ("Erik", "Lars", "Johan", "Mohammed", "Björn", "Örjan", "Anders", "Per", "Ali", "Mikael",
          "Jonas", "Ahmed", "Stefan", "Oskar", "Peter"),
}
SURNAMES = ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson",
             "Persson", "Svensson", "Gustafsson", "Pettersson", "Jönsson", "Hassan", "Ali",
             "Lindström", "Åberg", "Öberg", "Sjögren", "Mahmoud", "Berglund")
_OFFICERS = ("H. Lindqvist", "M. Sandberg", "R. Ekström", "S. Nyberg", "T. Holm")
_FK_KONTOR = ("Linköping", "Norrköping", "Motala")
_STREETS = ("Storgatan", "Drottninggatan", "Ågatan", "Kungsgatan", "Östra Promenaden", "Vasavägen")
_HUSHALL = ("Ensamstående", "Ensamstående med barn", "Sammanboende", "Sammanboende med barn")
_DIAGNOSES = ("F32.1", "F33.1", "F41.1", "F43.1", "F43.2", "F43.8", "M54.5", "M79.7", "F90.0",
              "G47.0", "F84.5", "M75.1")
_MONTHS = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september",
           "oktober", "november", "december")

INSATS_COLUMNS = ("Insats", "Personnummer", "Namn", "Anonym", "Kön", "Skyddad identitet",
                  "Aktualiserande part", "Inskrivningsdatum", "Utskrivningsdatum", "Avslutsanledning",
                  "Försörjning vid inskrivning", "Försörjning vid utskrivning",
                  "Tid i offentlig försörjning", "Utbildningsnivå", "Kommun")
SAMTYCKE_COLUMNS = ("Personnummer", "Insats", "Samtycke från", "Giltigt till", "Återkallat", "Parter",
                    "SUS")
FK_COLUMNS = ("PERSONNR", "NAMN", "FORMAN", "OMFATTNING", "FOM", "TOM", "KONTOR")
AF_COLUMNS = ("Personnummer", "Inskriven från", "Inskriven till", "Sökandekategori", "Ersättning",
              "Ersättning från", "Ersättning till", "Handläggare")
SOC_COLUMNS = ("pnr", "manad", "belopp", "hushallstyp", "adress")
HSF_COLUMNS = ("PATIENT_ID", "KONTAKTDATUM", "KONTAKTTYP", "SJUKSKRIVEN_FOM", "SJUKSKRIVEN_TOM",
               "SJUKSKRIVNINGSGRAD", "DIAGNOSKOD")
EKONOMI_COLUMNS = ("Ver.nr", "Rad", "Bokföringsdatum", "Konto", "Projekt", "Belopp", "Text")
BUDGET_COLUMNS = ("Insats", "Kostnadsslag", "Kvartal 1", "Kvartal 2", "Kvartal 3", "Kvartal 4",
                  "Ackumulering", "Årsbudget")
CATALOGUE_COLUMNS = ("Insats", "Namn", "Startdatum", "Slutdatum", "Inriktning", "Mål deltagare per år",
                     "Mål andel")

# Mistakes in the newest insats snapshots: each gets a participant enrolled in the last quarter, so
# the faulty row was never delivered clean before (no spurious "vanished record").
_INSATS_MISTAKES: dict[str, str] = {
    "bad_check_digit": "Personnummer", "unknown_code": "Avslutsanledning", "kon_mismatch": "Kön",
    "date_order": "Utskrivningsdatum", "avslut_without_utskrivning": "Avslutsanledning",
    "age_out_of_range": "Personnummer",
}
_INSATS_MISTAKE_PLAN = ("bad_check_digit", "unknown_code", "kon_mismatch", "kon_mismatch", "date_order",
                        "date_order", "avslut_without_utskrivning", "avslut_without_utskrivning",
                        "age_out_of_range", "age_out_of_range")
# (source, kind, column, replacement or None for a broken check digit)
_DELTA_MISTAKES = (
    ("fk", "bad_check_digit", "PERSONNR", None),
    ("af", "bad_check_digit", "Personnummer", None),
    ("soc", "bad_check_digit", "pnr", None),
    ("fk", "unknown_code", "FORMAN", "ABC"),
    ("hsf", "unknown_code", "KONTAKTTYP", "OKAND"),
)


@dataclass
class GeneratedLandingZone:
    landing: Path
    injected: pd.DataFrame   # one row per injected mistake; columns INJECTED_COLUMNS
    files: list[Path]


@dataclass
class _Person:
    pnr: str | None          # 12 digits; None for anonymous participants
    kon: str
    name: str | None


@dataclass
class _Spell:
    person: _Person
    insats: str
    start: date
    end: date | None         # the real end, which a snapshot only shows once it has happened
    reason: str | None
    values: dict[str, str]
    anonym: bool = False
    skyddad: bool = False
    pnr_text: str | None = None   # how the team wrote the number
    skyddad_text: str | None = None
    exit_income: str | None = None   # Försörjning vid utskrivning when the reason does not imply it
    kon_given: bool = False
    name_given: bool = False
    mistake: str | None = None
    conflict: str | None = None   # a deliberate reconciliation conflict, marked in the newest snapshot


@dataclass
class _Consent:
    pnr: str
    insats: str
    start: date
    valid_to: date | None
    withdrawn: date | None
    parter: tuple[str, ...]
    sus: bool

    def last_day(self) -> date | None:
        ends = [day for day in (self.valid_to, self.withdrawn and self.withdrawn - timedelta(days=1))
                if day is not None]
        return min(ends, default=None)


@dataclass
class _File:
    source: str
    name: str
    extracted: date
    columns: tuple[str, ...]
    rows: list[dict]
    first_row: int = 2       # line or sheet row of the first data row, as the steward sees it
    options: dict = field(default_factory=dict)

    def marked(self) -> bool:
        return any("_mistake" in row for row in self.rows)


def generate(landing: Path, *, seed: int = 20241130, first_year: int = 2022, years: int = 3,
             participants: int = 300) -> GeneratedLandingZone:
    """Write a landing zone under ``landing`` and ``demo_injected_mistakes.csv`` next to it."""
    builder = _Builder(np.random.default_rng(seed), first_year, years, participants)
    builder.build()
    landing = Path(landing)
    files = builder.write(landing)
    injected = builder.injected_frame()
    injected.to_csv(landing.parent / INJECTED_FILE_NAME, index=False)
    return GeneratedLandingZone(landing=landing, injected=injected, files=sorted(files))


# ---------------------------------------------------------------------------------------------------
# small helpers


def _month_end(day: date) -> date:
    following = day.replace(day=28) + timedelta(days=4)
    return following - timedelta(days=following.day)


def _quarter_end(day: date) -> date:
    return _month_end(date(day.year, (day.month - 1) // 3 * 3 + 3, 1))


def _years_before(day: date, years: int) -> date:
    return date(day.year - years, day.month, min(day.day, 28))


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _birth(pnr: str) -> date:
    return date(int(pnr[:4]), int(pnr[4:6]), int(pnr[6:8]))


def _kon_of(pnr: str) -> str:
    return "M" if int(pnr[10]) % 2 else "K"


def _kronor(amount: float) -> str:
    """``4 512,50``: space as thousands separator, decimal comma."""
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",")


def _spaced(amount: int) -> str:
    return f"{amount:,}".replace(",", " ")


def _soc_pnr(pnr: str, extracted: date) -> str:
    """Socialtjänsten's 10-digit form; ``+`` marks someone 100 or older in the extraction year."""
    separator = "+" if extracted.year - int(pnr[:4]) >= 100 else "-"
    return pnr[2:8] + separator + pnr[8:]


def _cell(value: object) -> object:
    # openpyxl writes datetimes as date cells; a plain date would carry a different number format.
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    return value


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# ---------------------------------------------------------------------------------------------------
# the builder: people, spells, consents and partner records, then the files


class _Builder:
    def __init__(self, rng: np.random.Generator, first_year: int, years: int, participants: int):
        self.rng = rng
        self.first_year = first_year
        self.years = years
        self.participants = participants
        self.quarter_ends = [_month_end(date(year, 3 * quarter, 1))
                             for year in range(first_year, first_year + years) for quarter in (1, 2, 3, 4)]
        self.period_start = date(first_year, 1, 1)
        self.final = self.quarter_ends[-1]
        self.spells: list[_Spell] = []
        self.consents: list[_Consent] = []
        self.files: list[_File] = []
        self.whole_file: list[dict] = []
        self.copies: list[tuple[str, str, str]] = []   # (folder, file copied, new name)
        self._pool = _IdentityPool(rng)
        self.single_partner: dict[str, str] = {}   # pnr -> the one partner reporting (a conflict)
        self._ledger_result: dict[int, tuple[float, float]] = {}   # year -> (costs, insats income)

    # -- random choices -------------------------------------------------------------------------
    def pick(self, options: Sequence[T], weights: Sequence[float] | None = None) -> T:
        if weights is None:
            return options[int(self.rng.integers(len(options)))]
        probabilities = np.asarray(weights, dtype=float)
        return options[int(self.rng.choice(len(options), p=probabilities / probabilities.sum()))]

    def chance(self, probability: float) -> bool:
        return bool(self.rng.random() < probability)

    def day_between(self, first: date, last: date) -> date:
        return first + timedelta(days=int(self.rng.integers(0, max((last - first).days, 0) + 1)))

    def name(self, kon: str) -> str:
        return f"{self.pick(FIRST_NAMES[kon])} {self.pick(SURNAMES)}"

    # -- the whole build -------------------------------------------------------------------------
    def build(self) -> None:
        self._people_and_spells()
        self._mistake_spells()
        self._consents()
        self._partner_conflicts()
        self._partner_files()
        self._income_on_enrolment()
        self._insats_files()
        self._samtycke_files()
        self._ekonomi_files()
        self._budget_files()
        self._whole_file_mistakes()

    # -- participants ----------------------------------------------------------------------------
    def _people_and_spells(self) -> None:
        codes = tuple(INSATSER)
        for _ in range(self.participants):
            insats = self.pick(codes, _INSATS_SHARE)
            start = self.day_between(self.period_start, self.final - timedelta(days=20))
            roll = self.rng.random()
            if roll < 0.06:
                self.spells.append(self._anonymous_spell(insats, start))
                continue
            # Born so that any later spell still starts before the 65th birthday.
            pnr = self._pool.draw(_years_before(start, 61), _years_before(start, 18))
            person = _Person(pnr, _kon_of(pnr), None)
            person.name = self.name(person.kon)
            spell = self._spell(person, insats, start, skyddad=roll < 0.08)
            self.spells.append(spell)
            if not spell.skyddad:
                self._further_spells(spell)

    def _anonymous_spell(self, insats: str, start: date) -> _Spell:
        person = _Person(None, self.pick(("K", "M")), None)
        return _Spell(person, insats, start, None, None, {}, anonym=True, kon_given=True)

    def _spell(self, person: _Person, insats: str, start: date, *, skyddad: bool = False) -> _Spell:
        reason = self.pick(tuple(_AVSLUT), tuple(_AVSLUT.values()))
        days = int(self.rng.integers(5, 30)) if reason == "FEL" else int(self.rng.integers(182, 731))
        assert person.pnr is not None
        form = self.pick(("long_dash", "long", "short"), (0.5, 0.3, 0.2))
        pnr_text = {"long_dash": f"{person.pnr[:8]}-{person.pnr[8:]}", "long": person.pnr,
                    "short": f"{person.pnr[2:8]}-{person.pnr[8:]}"}[form]
        return _Spell(person, insats, start, start + timedelta(days=days), reason, self._values(),
                      skyddad=skyddad, pnr_text=pnr_text, kon_given=skyddad or self.chance(0.5),
                      name_given=self.chance(0.7),
                      skyddad_text="Ja" if skyddad else self.pick(("Nej", None), (0.8, 0.2)),
                      exit_income=self.pick(_FORSORJNING))

    def _values(self) -> dict[str, str]:
        if self.chance(0.05):
            forsorjning = self.pick(("ING", "OKA"))
        else:
            count = 1 + int(self.chance(0.35))
            forsorjning = ",".join(sorted(self.rng.choice(_FORSORJNING, size=count, replace=False)))
        return {
            "Aktualiserande part": self.pick(_AKTUALISERANDE, _AKTUALISERANDE_WEIGHTS),
            "Försörjning vid inskrivning": forsorjning,
            "Tid i offentlig försörjning": "0" if forsorjning == "ING" else str(self.rng.integers(1, 10)),
            "Utbildningsnivå": self.pick(_UTBILDNING),
            "Kommun": self.pick(_KOMMUNER, _KOMMUN_WEIGHTS),
        }

    def _further_spells(self, first: _Spell) -> None:
        """Some come back to the same insats after leaving, some join a second insats."""
        latest_start = self.final - timedelta(days=20)
        assert first.end is not None
        if first.end <= self.final and self.chance(0.15):
            again = first.end + timedelta(days=int(self.rng.integers(30, 181)))
            if again <= latest_start:
                self.spells.append(self._spell(first.person, first.insats, again))
        if self.chance(0.1):
            other = self.pick(tuple(code for code in INSATSER if code != first.insats))
            start = first.start + timedelta(days=int(self.rng.integers(0, 366)))
            if start <= latest_start:
                self.spells.append(self._spell(first.person, other, start))

    def _mistake_spells(self) -> None:
        """Participants enrolled in the last quarter whose only row carries one mistake."""
        first_day = self.quarter_ends[-2] + timedelta(days=1)
        codes = tuple(INSATSER)
        for index, kind in enumerate(_INSATS_MISTAKE_PLAN):
            start = self.day_between(first_day, self.final - timedelta(days=25))
            if kind == "age_out_of_range":
                pnr = self._pool.draw(_years_before(start, 70), _years_before(start, 66))
            else:
                pnr = self._pool.draw(_years_before(start, 60), _years_before(start, 20))
            person = _Person(pnr, _kon_of(pnr), None)
            person.name = self.name(person.kon)
            spell = self._spell(person, codes[index % len(codes)], start)
            ended = kind in ("unknown_code", "date_order", "avslut_without_utskrivning")
            spell.end = start + timedelta(days=int(self.rng.integers(5, 20))) if ended else None
            spell.reason = self.pick(("ARB", "STU", "OVR")) if ended else None
            spell.kon_given = spell.kon_given or kind == "kon_mismatch"
            spell.mistake = kind
            self.spells.append(spell)

    # -- consents --------------------------------------------------------------------------------
    def _consents(self) -> None:
        for spell in sorted(self._identified_spells(), key=lambda s: (s.start, s.person.pnr)):
            # Participants take part on consent; only the mistake rows' people have none.
            if spell.mistake or self._in_force(spell.person.pnr, spell.insats, spell.start):
                continue
            self.consents.append(self._consent(spell))

    def _identified_spells(self) -> list[_Spell]:
        return [spell for spell in self.spells if not spell.anonym and not spell.skyddad]

    def _in_force(self, pnr: str | None, insats: str, day: date) -> bool:
        return any(c.pnr == pnr and c.insats == insats and c.start <= day
                   and (c.last_day() is None or day <= c.last_day()) for c in self.consents)

    def _consent(self, spell: _Spell) -> _Consent:
        assert spell.person.pnr is not None
        named = {code for code, share in _PARTNERS.items() if self.chance(share)}
        # The target group needs coordinated support: at least two partners that deliver data.
        for code in self.rng.permutation(list(_DATA_PARTNERS)):
            if len(named & set(_DATA_PARTNERS)) >= 2:
                break
            named.add(str(code))
        parter = tuple(code for code in _PARTNERS if code in named)
        start = spell.start - timedelta(days=int(self.rng.integers(0, 15)))
        valid_to = None
        if self.chance(0.2):
            valid_to = (spell.end or spell.start) + timedelta(days=90)
        withdrawn = None
        if spell.end is not None and spell.end <= self.final and self.chance(0.07):
            # Withdrawing consent ends the spell: the participant left (AVB).
            withdrawn, spell.reason = spell.end, "AVB"
        return _Consent(spell.person.pnr, spell.insats, start, valid_to, withdrawn, parter,
                        self.chance(0.85))

    def _erased(self) -> set[str]:
        """People erased at some point: on a day they withdrew a consent, no consent they had
        given by then was left. The pipeline erases what they had up to then, so no rule applies."""
        erased = set()
        for consent in self.consents:
            day = consent.withdrawn
            if day is None or consent.pnr in erased:
                continue
            given = [other for other in self.consents if other.pnr == consent.pnr
                     and other.start <= day]
            if all(other.withdrawn is not None and other.withdrawn <= day for other in given):
                erased.add(consent.pnr)
        return erased

    # -- deliberate reconciliation conflicts ----------------------------------------------------
    def _partner_conflicts(self) -> None:
        """A few participants with a single spell get data from one partner only, not two."""
        count, _ = _CONFLICTS["conflict_partners"]
        spells_per_person: dict[str, int] = {}
        for spell in self.spells:
            if spell.person.pnr:
                spells_per_person[spell.person.pnr] = spells_per_person.get(spell.person.pnr, 0) + 1
        consent_of = {c.pnr: c for c in self.consents}
        erased = self._erased()
        candidates = [s for s in self._identified_spells()
                      if not s.mistake and spells_per_person[s.person.pnr or ""] == 1
                      and s.person.pnr in consent_of and s.person.pnr not in erased]
        for index in sorted(self.rng.choice(len(candidates), size=min(count, len(candidates)),
                                            replace=False)):
            spell = candidates[int(index)]
            assert spell.person.pnr is not None
            named = [p for p in _DATA_PARTNERS if p in consent_of[spell.person.pnr].parter]
            self.single_partner[spell.person.pnr] = self.pick(named)
            spell.conflict = "conflict_partners"

    def _income_on_enrolment(self) -> None:
        """Försörjning vid inskrivning holds every code the partners' stored records show on the
        enrolment day (a register that said ING or OKA then takes the partners' codes instead);
        a few spells then lose one of those codes, as deliberate conflicts."""
        shown_by_person = self._stored_income()
        erased = self._erased()
        candidates: list[tuple[_Spell, set[str]]] = []
        for spell in self._identified_spells():
            if spell.mistake:
                continue
            shown = {code for code, first, last in shown_by_person.get(spell.person.pnr or "", ())
                     if first <= spell.start and (last is None or spell.start <= last)}
            registered = spell.values["Försörjning vid inskrivning"].split(",")
            if not shown <= set(registered):
                if registered[0] in _EXCLUSIVE_FORSORJNING:
                    if registered[0] == "ING":
                        spell.values["Tid i offentlig försörjning"] = str(self.rng.integers(1, 10))
                    registered = []
                spell.values["Försörjning vid inskrivning"] = ",".join(sorted(set(registered) | shown))
            if shown and spell.person.pnr not in erased and not spell.conflict:
                candidates.append((spell, shown))
        count, _ = _CONFLICTS["conflict_income"]
        for index in sorted(self.rng.choice(len(candidates), size=min(count, len(candidates)),
                                            replace=False)):
            spell, shown = candidates[int(index)]
            dropped = self.pick(sorted(shown))
            kept = [code for code in spell.values["Försörjning vid inskrivning"].split(",")
                    if code != dropped]
            if not kept:   # the team wrote another code instead
                kept = [self.pick(tuple(code for code in _FORSORJNING if code not in shown))]
            spell.values["Försörjning vid inskrivning"] = ",".join(sorted(kept))
            spell.conflict = "conflict_income"

    def _stored_income(self) -> dict[str, list[tuple[str, date, date | None]]]:
        """pnr -> (försörjning, first day, last day or None) from the partner rows the pipeline
        stores: per record the newest delivery holding it, leaving out rows with a mistake."""
        fk_codes = reference.mapping("fk_forman", "forsorjning")
        af_codes = reference.mapping("af_stod", "forsorjning")
        stored: dict[tuple, tuple[str, dict]] = {}
        for f in self.files:
            if f.source in ("fk", "af", "soc"):
                for row in f.rows:
                    if "_mistake" not in row:
                        stored[(f.source, row["_key"])] = (f.source, row)
        income: dict[str, list[tuple[str, date, date | None]]] = {}
        for (_, key), (source, row) in stored.items():
            if source == "fk":
                tom = row["TOM"] and datetime.strptime(row["TOM"], "%Y%m%d").date()
                entry = (fk_codes[row["FORMAN"]], datetime.strptime(row["FOM"], "%Y%m%d").date(),
                         tom or None)
            elif source == "af":
                code = af_codes[row["Ersättning"]]
                if not code or row["Ersättning från"] is None:
                    continue
                entry = (code, row["Ersättning från"], row["Ersättning till"])
            else:
                entry = ("FSB", row["_date"], _month_end(row["_date"]))
            income.setdefault(key[0], []).append(entry)
        return income

    # -- insats snapshots ------------------------------------------------------------------------
    def _insats_files(self) -> None:
        for insats, (_, _, _, suffix) in INSATSER.items():
            spells = sorted((s for s in self.spells if s.insats == insats),
                            key=lambda s: (s.start, s.person.pnr or "", s.person.kon))
            snapshots = []
            for extracted in self.quarter_ends:
                rows = [self._insats_row(s, extracted) for s in spells if s.start <= extracted]
                if rows:
                    snapshots.append(_File("insats", f"{extracted:%Y%m%d}_{insats}.{suffix}", extracted,
                                           INSATS_COLUMNS, rows))
            self._vanish_one(snapshots)
            for row in snapshots[-1].rows if snapshots else ():
                conflict = row["_spell"].conflict
                if conflict:
                    row["_mistake"] = (conflict, _CONFLICTS[conflict][1])
            self.files += snapshots

    def _insats_row(self, spell: _Spell, extracted: date) -> dict:
        row: dict = {"Insats": spell.insats, "Anonym": "Ja" if spell.anonym else "Nej",
                     "Inskrivningsdatum": spell.start, "_spell": spell}
        if spell.kon_given:
            row["Kön"] = spell.person.kon
        if spell.anonym:
            return row
        row.update(spell.values)
        row["Personnummer"] = spell.pnr_text
        row["Namn"] = spell.person.name if spell.name_given else None
        row["Skyddad identitet"] = spell.skyddad_text
        if spell.end is not None and spell.end <= extracted:
            row["Utskrivningsdatum"] = spell.end
            row["Avslutsanledning"] = spell.reason
            if spell.reason != "FEL":
                row["Försörjning vid utskrivning"] = _FORSORJNING_UT.get(spell.reason or "",
                                                                         spell.exit_income)
        if spell.mistake:
            self._spoil_insats_row(row, spell)
        return row

    def _spoil_insats_row(self, row: dict, spell: _Spell) -> None:
        kind = spell.mistake
        assert kind is not None
        if kind == "bad_check_digit":
            row["Personnummer"] = self.broken(row["Personnummer"])
        elif kind == "unknown_code":
            row["Avslutsanledning"] = "XYZ"
        elif kind == "kon_mismatch":
            row["Kön"] = "K" if spell.person.kon == "M" else "M"
        elif kind == "date_order":
            row["Utskrivningsdatum"] = spell.start - timedelta(days=int(self.rng.integers(3, 40)))
        elif kind == "avslut_without_utskrivning":
            row["Utskrivningsdatum"] = row["Försörjning vid utskrivning"] = None
        row["_mistake"] = (kind, _INSATS_MISTAKES[kind])

    def broken(self, number: str) -> str:
        """The number with another check digit: the Luhn check then always fails."""
        digit = (int(number[-1]) + int(self.rng.integers(1, 10))) % 10
        return number[:-1] + str(digit)

    def _vanish_one(self, snapshots: list[_File]) -> None:
        """A spell the team deleted by mistake: in the previous snapshot, missing from the newest."""
        if len(snapshots) < 2:
            return
        previous, newest = snapshots[-2], snapshots[-1]
        candidates = [i for i, row in enumerate(previous.rows)
                      if row["Anonym"] == "Nej" and row.get("Skyddad identitet") != "Ja"
                      and not row["_spell"].conflict]
        if not candidates:
            return
        index = self.pick(candidates)
        gone = previous.rows[index]["_spell"]
        previous.rows[index]["_mistake"] = ("vanished_record", None)
        newest.rows = [row for row in newest.rows if row["_spell"] is not gone]

    # -- consent snapshots -----------------------------------------------------------------------
    def _samtycke_files(self) -> None:
        consents = sorted(self.consents, key=lambda c: (c.start, c.pnr, c.insats))
        for extracted in self.quarter_ends:
            rows = [self._samtycke_row(c, extracted) for c in consents if c.start <= extracted]
            if rows:
                self.files.append(_File("samtycke", f"{extracted:%Y%m%d}.csv", extracted,
                                        SAMTYCKE_COLUMNS, rows))

    @staticmethod
    def _samtycke_row(consent: _Consent, extracted: date) -> dict:
        withdrawn = consent.withdrawn if consent.withdrawn and consent.withdrawn <= extracted else None
        return {"Personnummer": consent.pnr, "Insats": consent.insats, "Samtycke från": consent.start,
                "Giltigt till": consent.valid_to, "Återkallat": withdrawn,
                "Parter": ",".join(consent.parter), "SUS": "Ja" if consent.sus else "Nej"}

    # -- partner deltas --------------------------------------------------------------------------
    def _partner_files(self) -> None:
        people = {s.person.pnr: s.person for s in self._identified_spells()}
        records: dict[str, dict[tuple, dict]] = {"fk": {}, "af": {}, "soc": {}, "hsf": {}}
        makers: dict[str, tuple[str, float, Callable]] = {
            "fk": ("FK", 0.45, self._fk_records), "af": ("AF", 0.5, self._af_records),
            "soc": ("SOC", 0.35, self._soc_records), "hsf": ("HSF", 0.4, self._hsf_records),
        }
        for consent in sorted(self.consents, key=lambda c: (c.start, c.pnr, c.insats)):
            last = min(consent.last_day() or self.final, self.final)
            named = [partner for partner, _, _ in makers.values() if partner in consent.parter]
            if consent.pnr in self.single_partner:
                chosen = {self.single_partner[consent.pnr]}
            else:
                chosen = {partner for partner, share, _ in makers.values()
                          if partner in named and self.chance(share)}
                # At least two of the partners the consent names report on every participant.
                for partner in self.rng.permutation(named):
                    if len(chosen) >= 2:
                        break
                    chosen.add(str(partner))
            for source, (partner, _, make) in makers.items():
                if partner in chosen:
                    for record in make(people[consent.pnr], consent.start, last):
                        records[source].setdefault(record["_key"], record)
        for source, by_key in records.items():
            files = self._delta_files(source, sorted(by_key.values(), key=lambda r: (r["_date"], r["_key"])))
            self._overlap_one(files)
            self.files += files
        self._delta_mistakes()
        self._no_consent_rows()
        self._reservnummer_rows()

    def _fk_records(self, person: _Person, first: date, last: date) -> list[dict]:
        records = []
        for _ in range(1 + int(self.chance(0.3))):
            fom = self.day_between(first, last)
            tom = None if self.chance(0.25) else fom + timedelta(days=int(self.rng.integers(30, 366)))
            forman = self.pick(("SJP", "RHP", "AKE", "SJE"), (0.5, 0.2, 0.15, 0.15))
            records.append({
                "PERSONNR": person.pnr, "NAMN": person.name, "FORMAN": forman,
                "OMFATTNING": self.pick(("100", "50", "75", "25", "100,0"), (0.5, 0.2, 0.1, 0.1, 0.1)),
                "FOM": f"{fom:%Y%m%d}", "TOM": f"{tom:%Y%m%d}" if tom else None,
                "KONTOR": self.pick(_FK_KONTOR), "_key": (person.pnr, forman, fom), "_date": fom,
            })
        return records

    def _af_records(self, person: _Person, first: date, last: date) -> list[dict]:
        start = self.day_between(first, last)
        end = None if self.chance(0.4) else start + timedelta(days=int(self.rng.integers(60, 400)))
        ersattning = self.pick(("AKST", "UTV", "ETAB", "AKASSA", "INGEN"), (0.45, 0.1, 0.1, 0.15, 0.2))
        paid_from = paid_to = None
        if ersattning != "INGEN":
            # Support is decided within the quarter of enrolment, so the first delivery knows it.
            paid_from = min(start + timedelta(days=int(self.rng.integers(0, 30))), _quarter_end(start))
            if end is not None and paid_from <= end:
                paid_to = end
        assert person.pnr is not None
        return [{
            "Personnummer": f"{person.pnr[:8]}-{person.pnr[8:]}", "Inskriven från": start,
            "Inskriven till": end, "Sökandekategori": self.pick(("11", "21", "68", "70", "97")),
            "Ersättning": ersattning, "Ersättning från": paid_from, "Ersättning till": paid_to,
            "Handläggare": self.pick(_OFFICERS), "_key": (person.pnr, start, ersattning, paid_from),
            "_date": start,
        }]

    def _soc_records(self, person: _Person, first: date, last: date) -> list[dict]:
        month = first if first.day == 1 else _add_months(first, 1)
        if _month_end(month) > last:
            month = first.replace(day=1)   # a short consent: the month it starts in
        household = self.pick(_HUSHALL)
        address = f"{self.pick(_STREETS)} {self.rng.integers(1, 60)}, {self.pick(_FK_KONTOR)}"
        records = []
        for number in range(int(self.rng.integers(2, 13))):
            if number and _month_end(month) > last:
                break
            amount = round(float(self.rng.uniform(1500, 12000)) * 2) / 2
            records.append({"_pnr": person.pnr, "manad": f"{month:%Y-%m}", "belopp": _kronor(amount),
                            "hushallstyp": household, "adress": address,
                            "_key": (person.pnr, month), "_date": month})
            month = _add_months(month, 1)
        return records

    def _hsf_records(self, person: _Person, first: date, last: date) -> list[dict]:
        diagnosis = self.pick(_DIAGNOSES)
        return [self._hsf_record(person.pnr, self.day_between(first, last), diagnosis)
                for _ in range(int(self.rng.integers(1, 5)))]

    def _hsf_record(self, patient: str | None, day: date, diagnosis: str) -> dict:
        kind = self.pick(("REHABKOORD", "LAKARBESOK", "SAMORDNINGSMOTE", "ARBETSTERAPI"))
        record = {"PATIENT_ID": patient, "KONTAKTDATUM": day, "KONTAKTTYP": kind,
                  "DIAGNOSKOD": diagnosis, "_key": (patient, day, kind), "_date": day}
        if self.chance(0.4):
            sick_from = day - timedelta(days=int(self.rng.integers(0, 60)))
            record.update({"SJUKSKRIVEN_FOM": sick_from,
                           "SJUKSKRIVEN_TOM": sick_from + timedelta(days=int(self.rng.integers(14, 181))),
                           "SJUKSKRIVNINGSGRAD": self.pick(("25", "50", "75", "100"))})
        return record

    def window_start(self, index: int) -> date:
        """A delta re-sends the last month of the previous one, so deliveries overlap."""
        if index == 0:
            return date.min
        previous = self.quarter_ends[index - 1]
        return previous.replace(day=1)

    def exclusive_window(self, index: int) -> tuple[date, date]:
        """The days only delivery ``index`` holds: its quarter's first two months."""
        end = self.quarter_ends[index]
        return date(end.year, end.month - 2, 1), end.replace(day=1) - timedelta(days=1)

    def _delta_files(self, source: str, records: list[dict]) -> list[_File]:
        name, columns, first_row = _DELTA_LAYOUT[source]
        files = []
        for index, extracted in enumerate(self.quarter_ends):
            start = self.window_start(index)
            rows = [self._delta_row(source, r, extracted) for r in records
                    if start <= r["_date"] <= extracted]
            if rows:
                files.append(_File(source, f"{extracted:%Y%m%d}_{name}", extracted, columns, rows, first_row,
                                   {"index": index}))
        return files

    @staticmethod
    def _delta_row(source: str, record: dict, extracted: date) -> dict:
        row = dict(record)
        if source == "soc":
            row["pnr"] = _soc_pnr(record["_pnr"], extracted)
        if source == "af":
            # AF exports an end date only once it has passed; until then the enrolment is open.
            for column in ("Inskriven till", "Ersättning till"):
                if row[column] is not None and row[column] > extracted:
                    row[column] = None
        return row

    def _overlap_one(self, files: list[_File]) -> None:
        """One delivery that re-sends every record of the previous one, not only its last month."""
        if len(files) < 3 or files[0].source not in ("fk", "hsf"):
            return
        index = int(self.rng.integers(1, len(files) - 1))
        target, previous = files[index], files[index - 1]
        present = {row["_key"] for row in target.rows}
        resent = [self._delta_row(target.source, row, target.extracted)
                  for row in previous.rows if row["_key"] not in present]
        target.rows = sorted(resent + target.rows, key=lambda r: (r["_date"], r["_key"]))
        self.whole_file.append(_whole(target, "overlapping_delta"))

    def _delta_mistakes(self) -> None:
        for source, kind, column, replacement in _DELTA_MISTAKES:
            files = [f for f in self.files if f.source == source]
            appearances: dict[tuple, int] = {}
            for f in files:
                for row in f.rows:
                    appearances[row["_key"]] = appearances.get(row["_key"], 0) + 1
            # A spoiled row is never stored: it must not be the person's last record of the source,
            # or the person would have data from one partner fewer.
            kept: dict[str, set] = {}
            for f in files:
                for row in f.rows:
                    if "_mistake" not in row:
                        kept.setdefault(row["_key"][0], set()).add(row["_key"])
            candidates = [(f, row) for f in files for row in f.rows
                          if appearances[row["_key"]] == 1 and "_mistake" not in row
                          and len(kept[row["_key"][0]]) >= 2
                          and row["_key"][0] not in self.single_partner]
            if not candidates:
                continue
            _, row = candidates[int(self.rng.integers(len(candidates)))]
            row[column] = self.broken(row[column]) if replacement is None else replacement
            row["_mistake"] = (kind, column)

    def _no_consent_rows(self) -> None:
        """Partner records about people with no consent naming that partner in force."""
        consented = {c.pnr for c in self.consents}
        unconsented = [s.person for s in self.spells
                       if s.person.pnr and not s.skyddad and s.person.pnr not in consented
                       and s.mistake != "bad_check_digit"]
        for source in ("fk", "af", "soc"):
            files = [f for f in self.files if f.source == source]
            if not files or not unconsented:
                continue
            target = files[int(self.rng.integers(len(files)))]
            first, last = self.exclusive_window(target.options["index"])
            person = unconsented[int(self.rng.integers(len(unconsented)))]
            record = self._record_for(source, person, first, last)
            row = self._delta_row(source, record, target.extracted)
            row["_mistake"] = ("no_consent", _IDENTITY_COLUMN[source])
            target.rows.append(row)

    def _record_for(self, source: str, person: _Person, first: date, last: date) -> dict:
        if source == "fk":
            return self._fk_records(person, first, last)[0]
        if source == "af":
            return self._af_records(person, first, last)[0]
        return self._soc_records(person, first.replace(day=1), _month_end(first))[0]

    def _reservnummer_rows(self) -> None:
        files = [f for f in self.files if f.source == "hsf"]
        if not files:
            return
        for number in range(3):
            target = files[int(self.rng.integers(len(files)))]
            first, last = self.exclusive_window(target.options["index"])
            row = self._hsf_record(self._reservnummer(number), self.day_between(first, last),
                                   self.pick(_DIAGNOSES))
            row["_mistake"] = ("reservnummer", "PATIENT_ID")
            target.rows.append(row)

    def _reservnummer(self, number: int) -> str:
        """A regional reservnummer: birth date, a letter and digits, or ``99`` and ten digits."""
        while True:
            if number % 2 == 0:
                born = self.day_between(date(1950, 1, 1), date(2000, 12, 31))
                candidate = f"{born:%Y%m%d}{self.pick(('K', 'M'))}{self.rng.integers(0, 1000):03d}"
            else:
                candidate = "99" + "".join(str(d) for d in self.rng.integers(0, 10, size=10))
            kind = identity.normalise(pd.Series([candidate]), self.final, allow_reservnummer=True)
            if kind["id_kind"].iloc[0] == identity.RESERVNUMMER:
                return candidate

    # -- ledger ----------------------------------------------------------------------------------
    def _ekonomi_files(self) -> None:
        for year in range(self.first_year, self.first_year + self.years):
            rows = self._ledger_year(year)
            year_ends = [e for e in self.quarter_ends if e.year == year]
            for extracted in year_ends:
                # Each delivery is the year to date, so a row is re-sent until the year ends.
                delivered = [dict(row) for row in rows if row["_date"] <= extracted]
                self.files.append(_File("ekonomi", f"{extracted:%Y%m%d}_huvudbok.csv", extracted,
                                        EKONOMI_COLUMNS, delivered))
            self._unknown_projekt(self.files[-1], year_ends[-1])

    def _ledger_year(self, year: int) -> list[dict]:
        factor = 1.03 ** (year - self.first_year)
        vouchers: list[tuple[date, int, list[dict]]] = []
        for month in range(1, 13):
            for order, project in enumerate((*INSATSER, ADM)):
                lines = self._ledger_lines(project, year, month, factor)
                vouchers.append((date(year, month, 25), order, lines))
            for order, project in enumerate(self._board_insatser(year), len(INSATSER) + 1):
                lines = self._board_ledger_lines(project, year, month, factor)
                if lines:
                    vouchers.append((date(year, month, 25), order, lines))
            if month == _INSATS_INCOME[3]:
                vouchers.append((date(year, month, 20), 8, self._insats_income_lines(year, factor)))
            if month % 3 == 0:
                vouchers.append((date(year, month, 28), 9, self._income_lines(year, month // 3, factor)))
        rows = []
        for number, (day, _, lines) in enumerate(sorted(vouchers, key=lambda v: (v[0], v[1])), 1):
            for line_number, line in enumerate(lines, 1):
                rows.append({**line, "Ver.nr": f"{year % 100:02d}{number:04d}", "Rad": str(line_number),
                             "Bokföringsdatum": day, "_date": day})
        self._ledger_result[year] = _result_of(rows)
        return rows

    def _ledger_lines(self, project: str, year: int, month: int, factor: float) -> list[dict]:
        when = f"{_MONTHS[month - 1]} {year}"
        lines = []
        for slag, annual in _ANNUAL[project].items():
            amount = self._monthly_amount(slag, annual * factor, month)
            if amount:
                lines.append(self._ledger_line(project, _KOSTNADSSLAG[slag][0], amount,
                                               self._ledger_text(slag, project, when)))
        if self.chance(0.05):
            lines.append(self._ledger_line(project, 5010, -float(self.rng.integers(5, 30)) * 100,
                                           f"Kreditering hyra {project} {when}"))
        return lines

    def _monthly_amount(self, slag: str, annual: float, month: int) -> float:
        if slag == "FOR":
            return round(annual / 4, 2) if month % 3 == 1 else 0.0
        if slag in ("UTB", "BED"):
            return round(annual / 5 * float(self.rng.uniform(0.7, 1.3)), 2) if self.chance(0.4) else 0.0
        return round(annual / 12 * float(self.rng.uniform(0.85, 1.15)), 2)

    def _ledger_text(self, slag: str, project: str, when: str) -> str:
        # Some bookkeepers write who a cost concerns: names that must not pass ingestion.
        person = self.name(self.pick(("K", "M")))
        texts = {
            "LON": f"Lön {person} {when}" if self.chance(0.3) else f"Löner {project} {when}",
            "LOK": f"Hyra {self.pick(_STREETS)} {project} {when}",
            "RES": f"Resa {person} {when}" if self.chance(0.5) else f"Resor {project} {when}",
            "IT": f"Licenser och support {project} {when}",
            "FOR": f"Försäkringspremie {project} {when}",
            "UTB": f"Utbildning MI-samtal {project} {when}",
            "BED": f"Arvode bedömningsteam {project} {when}",
            "OVR": f"Samverkansmöte {project} {when}",
        }
        return texts[slag]

    @staticmethod
    def _ledger_line(project: str, account: int, amount: float, text: str) -> dict:
        return {"Konto": str(account), "Projekt": "" if project == ADM else project,
                "Belopp": f"{amount:.2f}".replace(".", ","), "Text": text}

    def _income_lines(self, year: int, quarter: int, factor: float) -> list[dict]:
        """Each member pays a quarter of its contribution in the Finansiering sheet (eget kapital
        is no payment)."""
        return [self._ledger_line(ADM, _INCOME_ACCOUNT, -round(amount / 4, 2),
                                  f"Medlemsbidrag {name} kvartal {quarter} {year}")
                for name, amount in self._members(year, factor)]

    def _unknown_projekt(self, year_end: _File, extracted: date) -> None:
        """A project code the accounts use but the catalogue does not know, in the year's last rows."""
        last_quarter = date(extracted.year, 10, 1)
        candidates = [row for row in year_end.rows if row["Projekt"] and row["_date"] >= last_quarter]
        if not candidates or len(self._marked("ekonomi")) >= 3:
            return
        row = candidates[int(self.rng.integers(len(candidates)))]
        row["Projekt"] = self.pick(("JOBBSAM2", "GEMTAGET", "SAMTEAM1"))
        row["_mistake"] = ("unknown_projekt", "Projekt")

    def _marked(self, source: str) -> list[dict]:
        return [row for f in self.files if f.source == source for row in f.rows if "_mistake" in row]

    # -- budget ----------------------------------------------------------------------------------
    def _budget_files(self) -> None:
        budget_files = []
        for year in range(self.first_year, self.first_year + self.years):
            factor = 1.03 ** (year - self.first_year)
            rows = []
            for project in (*INSATSER, ADM):
                rows += self._budget_rows(project, factor)
            for project in self._board_insatser(year):
                rows += self._board_budget_rows(project, factor)
            extracted = date(year, 1, 15)
            sheets = {"catalogue": self._catalogue(self.first_year) + self._board_catalogue(year),
                      "financing": self._financing(year, factor)}
            budget_files.append(_File("budget", f"{extracted:%Y%m%d}_budget_{year}.xlsx", extracted,
                                      BUDGET_COLUMNS, rows, options=sheets))
        self._budget_mistakes(budget_files)
        self.files += budget_files

    def _budget_rows(self, project: str, factor: float) -> list[dict]:
        rows = []
        for slag, annual in _ANNUAL[project].items():
            total = int(round(annual * factor, -2))
            row = {"Insats": project, "Kostnadsslag": slag if self.chance(0.7) else _KOSTNADSSLAG[slag][1],
                   "Ackumulering": total}
            if (project, slag) != _ANNUAL_ONLY:
                quarter = int(round(total / 4, -2))
                quarters = [quarter, quarter, quarter, total - 3 * quarter]
                as_text = self.chance(0.2)   # typed with spaces, as the coordinator writes them
                for number, value in enumerate(quarters, 1):
                    row[f"Kvartal {number}"] = _spaced(value) if as_text else value
                if as_text:
                    row["Ackumulering"] = _spaced(total)
            row["_total"] = total
            rows.append(row)
        stated = sum(row["_total"] for row in rows)
        rows.append({"Insats": project, "Kostnadsslag": "TOTALT", "Ackumulering": stated,
                     "Årsbudget": _annual_budget(project, factor), "_total": stated})
        return rows

    @staticmethod
    def _catalogue(first_year: int) -> list[dict]:
        started = date(first_year - 1, 9, 1)
        rows: list[dict] = [{"Insats": code, "Namn": name, "Startdatum": started, "Slutdatum": None,
                             "Inriktning": "Individinriktad", "Mål deltagare per år": target,
                             "Mål andel": share}
                            for code, (name, target, share, _) in INSATSER.items()]
        rows.append({"Insats": ADM, "Namn": "Förbundets kansli", "Startdatum": date(2008, 1, 1),
                     "Inriktning": "Strukturövergripande"})
        return rows

    def _financing(self, year: int, factor: float) -> list[dict]:
        rows = [{"Finansiär": name, "Belopp": amount} for name, amount in self._members(year, factor)]
        rows.append({"Finansiär": "Eget kapital", "Belopp": self._eget_kapital(year)})
        return rows

    # -- the board's economy (issue 19): members, eget kapital and the budget-only insatser -------
    def _members(self, year: int, factor: float) -> list[tuple[str, int]]:
        """The members' contributions: the year's Årsbudget less the 6 % the budget plans to take
        from eget kapital, shared as the förbund's members share it."""
        total = sum(_annual_budget(project, factor) for project in (*INSATSER, ADM))
        total += sum(_board_annual_budget(project, factor) for project in self._board_insatser(year))
        surplus = int(round(total * 0.06, -3))
        return [(name, int(round((total - surplus) * share, -3))) for name, share in _FINANSIARER]

    def _eget_kapital(self, year: int) -> int:
        """Brought forward: 6 % of the first year's Årsbudget, then last year's closing balance as
        the books show it (the members' contributions + income on insatser - costs)."""
        if year == self.first_year:
            factor = 1.0
            total = sum(_annual_budget(project, factor) for project in (*INSATSER, ADM))
            total += sum(_board_annual_budget(project, factor)
                         for project in self._board_insatser(year))
            return int(round(total * 0.06, -3))
        previous = year - 1
        members = sum(amount for _, amount in self._members(previous, 1.03 ** (previous - self.first_year)))
        costs, other_income = self._ledger_result[previous]
        return int(round(self._eget_kapital(previous) + members + other_income - costs))

    def _board_insatser(self, year: int) -> list[str]:
        last = self.first_year + self.years - 1
        return [_STRUCTURAL, *([_MID_YEAR] if year == last else [])]

    def _board_start(self, project: str, year: int) -> date:
        return date(year, 5, 15) if project == _MID_YEAR else date(self.first_year - 1, 1, 1)

    def _board_catalogue(self, year: int) -> list[dict]:
        return [{"Insats": code, "Namn": name, "Startdatum": self._board_start(code, year),
                 "Slutdatum": None, "Inriktning": inriktning, "Mål deltagare per år": target}
                for code, (name, inriktning, target) in _BOARD_INSATSER.items()
                if code in self._board_insatser(year)]

    def _board_ledger_lines(self, project: str, year: int, month: int, factor: float) -> list[dict]:
        """Whole months of the yearly amounts from the insats's first month; no randomness, so
        the rest of the demo draws the same numbers as before."""
        start = self._board_start(project, year)
        first = start.month if start.year == year else 1
        if month < first:
            return []
        when = f"{_MONTHS[month - 1]} {year}"
        lines = []
        for slag, annual in _BOARD_ANNUAL[project].items():
            if slag == "UTB":
                amount = round(annual * factor / len(_UTB_MONTHS), 2) if month in _UTB_MONTHS else 0.0
            else:
                amount = round(annual * factor / (13 - first), 2)
            if amount:
                lines.append(self._ledger_line(project, _KOSTNADSSLAG[slag][0], amount,
                                               f"{_KOSTNADSSLAG[slag][1]} {project} {when}"))
        return lines

    def _insats_income_lines(self, year: int, factor: float) -> list[dict]:
        project, account, amount, month = _INSATS_INCOME
        return [self._ledger_line(project, account, -round(amount * factor, 2),
                                  f"Ersättning från regionen för handledning {project} "
                                  f"{_MONTHS[month - 1]} {year}")]

    def _board_budget_rows(self, project: str, factor: float) -> list[dict]:
        """The structural insats per quarter (training in Q1 and Q4); the mid-year insats as
        yearly amounts only, which the reader spreads over its active months."""
        rows = []
        for slag, annual in _BOARD_ANNUAL[project].items():
            total = int(round(annual * factor, -2))
            row = {"Insats": project, "Kostnadsslag": slag, "Ackumulering": total, "_total": total}
            if project == _STRUCTURAL:
                if slag == "UTB":
                    quarters = [total // 2, 0, 0, total - total // 2]
                else:
                    quarter = int(round(total / 4, -2))
                    quarters = [quarter, quarter, quarter, total - 3 * quarter]
                for number, value in enumerate(quarters, 1):
                    row[f"Kvartal {number}"] = value
            rows.append(row)
        stated = sum(row["_total"] for row in rows)
        rows.append({"Insats": project, "Kostnadsslag": "TOTALT", "Ackumulering": stated,
                     "Årsbudget": _board_annual_budget(project, factor), "_total": stated})
        return rows

    def _budget_mistakes(self, files: list[_File]) -> None:
        for kind in ("budget_not_adding_up", "budget_parenthesised") * 2:
            target = files[int(self.rng.integers(len(files)))]
            candidates = [row for row in target.rows if isinstance(row.get("Kvartal 3"), int)
                          and "_mistake" not in row]
            if not candidates:
                continue
            row = candidates[int(self.rng.integers(len(candidates)))]
            if kind == "budget_not_adding_up":
                # A quarter changed without Ackumulering: the TOTALT row still matches the stated totals.
                row["Kvartal 3"] += int(self.rng.integers(1, 20)) * 1000
                row["_mistake"] = (kind, "Ackumulering")
            else:
                column = f"Kvartal {self.rng.integers(1, 5)}"
                row[column] = f"({_spaced(int(str(row[column]).replace(' ', '')))})"
                row["_mistake"] = (kind, column)

    # -- whole-file mistakes ---------------------------------------------------------------------
    def _whole_file_mistakes(self) -> None:
        for source in ("insats", "fk", "af", "soc", "hsf", "ekonomi"):
            newest = [f for f in self.files if f.source == source][-1]
            self.whole_file.append(_whole(newest, "extra_columns"))
        self._rejected_files("soc", "fbs_rattelse.csv", "wrong_encoding")
        self._rejected_files("fk", "forman_komplettering.csv", "missing_column")
        for source, suffix in (("ekonomi", "huvudbok_kopia.csv"), ("af", "uttag_kopia.xlsx")):
            clean = [f for f in self.files if f.source == source and not f.marked()]
            if clean:
                original = clean[int(self.rng.integers(len(clean)))]
                copy = f"{original.extracted:%Y%m%d}_{suffix}"
                self.copies.append((source, original.name, copy))
                self.whole_file.append({"source": source, "file": copy, "kind": "duplicate_delivery"})
        for source, name in (("insats", "deltagare_final(2).xlsx"), ("fk", "forman_dec.csv")):
            original = [f for f in self.files if f.source == source][0]
            self.copies.append((source, original.name, name))
            self.whole_file.append({"source": source, "file": name, "kind": "unrecognised_file"})

    def _rejected_files(self, source: str, suffix: str, kind: str) -> None:
        """Two re-sent deliveries the reader must reject whole (so their rows never count)."""
        files = [f for f in self.files if f.source == source]
        for index in sorted({int(i) for i in self.rng.choice(len(files), size=min(2, len(files)),
                                                               replace=False)}):
            original = files[index]
            rows = [dict(row) for row in original.rows if "_mistake" not in row]
            rejected = _File(source, f"{original.extracted:%Y%m%d}_{suffix}", original.extracted,
                             original.columns, rows, original.first_row)
            if kind == "wrong_encoding":
                rejected.options["encoding"] = "cp1252"
                rows[0]["hushallstyp"] = "Ensamstående"   # bytes that are not UTF-8
            else:
                rejected.columns = tuple(column for column in original.columns if column != "FOM")
            self.files.append(rejected)
            self.whole_file.append(_whole(rejected, kind))

    # -- output ----------------------------------------------------------------------------------
    def write(self, landing: Path) -> list[Path]:
        paths = []
        for f in self.files:
            path = landing / f.source / f.name
            path.parent.mkdir(parents=True, exist_ok=True)
            _WRITERS[f.source](f, path)
            paths.append(path)
        for folder, original, name in self.copies:
            path = landing / folder / name
            path.write_bytes((landing / folder / original).read_bytes())
            paths.append(path)
        return paths

    def injected_frame(self) -> pd.DataFrame:
        rows = [{"source": f.source, "file": f.name, "row_number": f.first_row + index,
                 "column": row["_mistake"][1], "kind": row["_mistake"][0]}
                for f in self.files for index, row in enumerate(f.rows) if "_mistake" in row]
        rows += [{"source": w["source"], "file": w["file"], "row_number": None, "column": None,
                  "kind": w["kind"]} for w in self.whole_file]
        frame = pd.DataFrame(rows, columns=list(INJECTED_COLUMNS))
        frame = frame.astype({"source": "string", "file": "string", "row_number": "Int64",
                              "column": "string", "kind": "string"})
        return frame.sort_values(["source", "file", "row_number", "kind"], na_position="first",
                                 ignore_index=True)


def _whole(f: _File, kind: str) -> dict:
    return {"source": f.source, "file": f.name, "kind": kind}


def _annual_budget(project: str, factor: float) -> int:
    """The means set aside for an insats: its cost lines plus a margin, in whole ten thousands."""
    stated = sum(int(round(annual * factor, -2)) for annual in _ANNUAL[project].values())
    return int(-(-stated * 1.04 // 10_000) * 10_000)


def _board_annual_budget(project: str, factor: float) -> int:
    """As :func:`_annual_budget`, for the budget-only insatser of the board's economy."""
    stated = sum(int(round(annual * factor, -2)) for annual in _BOARD_ANNUAL[project].values())
    return int(-(-stated * 1.04 // 10_000) * 10_000)


def _result_of(rows: list[dict]) -> tuple[float, float]:
    """A year's costs (accounts 4000-7999) and income booked on insatser (3000-3999 with a
    Projekt), as the ledger rows say."""
    costs = other_income = 0.0
    for row in rows:
        account, amount = int(row["Konto"]), float(row["Belopp"].replace(",", "."))
        if 4000 <= account <= 7999:
            costs += amount
        elif 3000 <= account <= 3999 and row["Projekt"]:
            other_income -= amount
    return costs, other_income


_IDENTITY_COLUMN = {"fk": "PERSONNR", "af": "Personnummer", "soc": "pnr", "hsf": "PATIENT_ID"}
# source -> (file name after the date, columns, row number of the first data row)
_DELTA_LAYOUT = {
    "fk": ("forman.csv", FK_COLUMNS, 2),
    "af": ("uttag.xlsx", AF_COLUMNS, 4),
    "soc": ("fbs.csv", SOC_COLUMNS, 2),
    "hsf": ("rehab.txt", HSF_COLUMNS, 2),
}


class _IdentityPool:
    """Skatteverket's test numbers by birth date; each is handed out once."""

    def __init__(self, rng: np.random.Generator):
        self._rng = rng
        numbers = sorted(test_personnummer(), key=lambda pnr: (_birth(pnr), pnr))
        self._numbers = numbers
        self._born = np.array([_birth(pnr).toordinal() for pnr in numbers])
        self._used: set[str] = set()

    def draw(self, earliest: date, latest: date) -> str:
        low = int(np.searchsorted(self._born, earliest.toordinal(), side="left"))
        high = int(np.searchsorted(self._born, latest.toordinal(), side="right"))
        if high <= low:
            raise ValueError(f"no test personnummer born {earliest} - {latest}")
        offset = int(self._rng.integers(low, high))
        for step in range(high - low):
            candidate = self._numbers[low + (offset - low + step) % (high - low)]
            if candidate not in self._used:
                self._used.add(candidate)
                return candidate
        raise ValueError(f"every test personnummer born {earliest} - {latest} is taken")


# ---------------------------------------------------------------------------------------------------
# writers: one per source, each in the partner's own habits


def _delimited(f: _File, *, sep: str, newline: str, quoting: int = csv.QUOTE_MINIMAL) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator=newline, quoting=quoting)
    writer.writerow(f.columns)
    for row in f.rows:
        writer.writerow([_text(row.get(column)) for column in f.columns])
    return buffer.getvalue()


def _save_workbook(workbook: openpyxl.Workbook, path: Path) -> None:
    """Save with fixed document and zip timestamps, so the bytes depend on the content only.

    openpyxl's ``save`` stamps ``modified`` with the clock; its ExcelWriter does not.
    """
    workbook.properties.created = workbook.properties.modified = _FIXED_TIME
    buffer = io.BytesIO()
    ExcelWriter(workbook, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED)).save()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, source.read(info.filename))


def _fill_sheet(sheet: Worksheet, columns: tuple[str, ...], rows: list[dict]) -> None:
    sheet.append(list(columns))
    for row in rows:
        sheet.append([_cell(row.get(column)) for column in columns])


def _write_insats(f: _File, path: Path) -> None:
    if path.suffix == ".csv":
        path.write_bytes(_delimited(f, sep=";", newline="\n").encode("utf-8-sig"))
        return
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Deltagare"
    _fill_sheet(sheet, f.columns, f.rows)
    _save_workbook(workbook, path)


def _write_samtycke(f: _File, path: Path) -> None:
    path.write_bytes(_delimited(f, sep=";", newline="\n").encode("utf-8"))


def _write_windows_csv(f: _File, path: Path) -> None:
    """FK's benefit file and the ledger: Windows-1252, ``;``, CRLF."""
    path.write_bytes(_delimited(f, sep=";", newline="\r\n").encode("cp1252"))


def _write_af(f: _File, path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Uttag"
    sheet.append(["Uttag deltagare Finsam"])
    sheet.append([f"Uttagsdatum {f.extracted:%Y-%m-%d}"])
    _fill_sheet(sheet, f.columns, f.rows)
    # The export sometimes ends with blank rows and a count; both are layout, not records.
    if len(f.rows) % 2 == 0:
        for _ in range(len(f.rows) % 3):
            sheet.append([None])
        sheet.append([f"Summa: {len(f.rows)}"])
    _save_workbook(workbook, path)


def _write_soc(f: _File, path: Path) -> None:
    text = _delimited(f, sep=",", newline="\n", quoting=csv.QUOTE_ALL)
    encoding = f.options.get("encoding", "utf-8-sig")
    path.write_bytes(text.encode(encoding))


def _write_hsf(f: _File, path: Path) -> None:
    lines = ["|".join(f.columns)]
    lines += ["|".join(_text(row.get(column)) for column in f.columns) for row in f.rows]
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))


def _write_budget(f: _File, path: Path) -> None:
    workbook = openpyxl.Workbook()
    catalogue = workbook.active
    catalogue.title = "Insatser"
    _fill_sheet(catalogue, CATALOGUE_COLUMNS, f.options["catalogue"])
    _fill_sheet(workbook.create_sheet("Budget"), f.columns, f.rows)
    _fill_sheet(workbook.create_sheet("Finansiering"), ("Finansiär", "Belopp"), f.options["financing"])
    _save_workbook(workbook, path)


_WRITERS: dict[str, Callable[[_File, Path], None]] = {
    "insats": _write_insats, "samtycke": _write_samtycke, "fk": _write_windows_csv, "af": _write_af,
    "soc": _write_soc, "hsf": _write_hsf, "ekonomi": _write_windows_csv, "budget": _write_budget,
}
