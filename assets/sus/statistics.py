"""SUS statistics for a period: the seven tables of the outputs contract, per insats and in total.

The input is the warehouse's spell frame (one row per deltagarande). Counting unit is the spell.
A spell ended with an avslutsanledning whose outcome is ``excluded`` (Felregistrering) counts
nowhere; anonymous spells (anonym, which protected identity implies) count only in the overview.
Every count is computed on whole columns; nothing loops over spells.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from finsam import participation, reference

ALL_INSATSER = "Alla insatser"
TOTAL = "Totalt"
COUNT = "Antal"

OVERVIEW = "Översikt"
FORSORJNING = "Försörjning vid inskrivning"
TID_OFFENTLIG = "Tid i offentlig försörjning"
ALDER = "Ålder vid inskrivning"
AVSLUT = "Utskrivna per avslutsanledning"
MAL = "Måluppfyllelse"
TID_INSATS = "Tid i insatsen"
# Outcome before and after: the spells ended in the period, by försörjning at enrolment beside
# försörjning at exit (the movement from public support to work or studies boards ask about).
FORSORJNING_FORE = "Försörjning vid inskrivning, utskrivna"
FORSORJNING_EFTER = "Försörjning vid utskrivning"
# A spell ended by a withdrawal has no försörjning at exit (nothing more may be recorded)
MISSING = "Uppgift saknas"
TABLE_NAMES = (OVERVIEW, FORSORJNING, TID_OFFENTLIG, ALDER, AVSLUT, MAL, TID_INSATS,
               FORSORJNING_FORE, FORSORJNING_EFTER)

AT_START = "Inskrivna vid periodens början"
NEW = "Nyinskrivna"
NEW_ANONYMOUS = "varav anonyma"
ENDED = "Utskrivna"
AT_END = "Inskrivna vid periodens slut"
PERSONS = "Unika personer"
OVERVIEW_ROWS = (AT_START, NEW, NEW_ANONYMOUS, ENDED, AT_END, PERSONS)

# Whole years on the enrolment day, inclusive bounds.
AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("16–29", 16, 29), ("30–39", 30, 39), ("40–49", 40, 49), ("50–64", 50, 64))
# The contract's bands stop at 16-64, but validation only warns about other ages, so such spells are
# accepted. A row of their own keeps the table's total equal to the enrolments instead of losing
# them silently. A missing age (only possible for anonymous spells, which are not counted here) has
# no row.
OUTSIDE_AGES = "Utanför 16–64"
AGE_ROWS = (*(label for label, _, _ in AGE_BANDS), OUTSIDE_AGES)

# (label, months after enrolment the spell must have ended by, on or before that day).
MONTH_BANDS: tuple[tuple[str, int], ...] = (
    ("Upp till 12 mån", 12), ("13–18 mån", 18), ("19–24 mån", 24))
LONGER = "Mer än 24 mån"
MONTH_ROWS = (*(label for label, _ in MONTH_BANDS), LONGER)

GOAL = "Andel arbete, studier eller fortsatt rehabilitering"
SICKNESS = "Andel sjukdom"
OTHER = "Andel övriga"
# The contract reports Sjukdom's share separately; the code list has no column for that, so its
# code is named here (and checked against the list in goal_groups).
SICKNESS_CODE = "SJK"

# Table columns say "Kvinnor"/"Män"; the kon list's labels are singular (used as row labels).
_PLURAL = {"Kvinna": "Kvinnor", "Man": "Män"}

COUNTING_RULES = (
    ("Statistiken räknar deltaganden (inskrivningar i en insats), inte personer. En person som "
    "deltagit två gånger räknas två gånger, utom i raden Unika personer."),
    "En inskrivning som avslutats med Felregistrering räknas inte någonstans.",
    ("Anonyma deltagare (utan samtycke till SUS eller med skyddade personuppgifter) räknas bara i "
    "översikten, eftersom inga uppgifter om dem registreras."),
    ("Inskrivna vid periodens början: inskrivna före periodens första dag och inte utskrivna före "
    "den. Inskrivna vid periodens slut: fortfarande inskrivna efter periodens sista dag."),
    "Försörjning vid inskrivning: en deltagare med två försörjningskällor räknas under båda.",
    "Ålder: hela år på inskrivningsdagen. Deltagare utanför 16–64 år redovisas på en egen rad.",
    ("Tid i insatsen: den som skrivs ut senast samma datum tolv månader efter inskrivningen räknas "
    "till Upp till 12 mån, senast 18 månader efter till 13–18 mån, och så vidare."),
    ("Måluppfyllelse: andelen av de utskrivna (utom Felregistrering) som gick till arbete, studier "
    "eller fortsatt rehabilitering, till sjukdom respektive av övriga skäl."),
    ("En deltagare som återkallat sitt samtycke skrivs ut med Avbrutet av deltagaren och räknas "
    "fortfarande i statistiken, utan uppgifter som kan identifiera personen."),
    ("Försörjning före och efter: de som skrivits ut under perioden, efter försörjning vid "
     "inskrivningen och vid utskrivningen. Den som återkallat sitt samtycke har ingen uppgift vid "
     "utskrivningen (Uppgift saknas)."),
    ("Anonym är den som registrerats med Anonym = Ja, har skyddade personuppgifter eller inte "
     "hade samtycke till SUS på inskrivningsdagen; samma avgränsning som i SUS-filerna och "
     "Uppföljning Finsam. Anonyma räknas bara i översikten."),
)


# The code lists are read once per process (reference.code_list is cached), so what is derived
# from them is kept too: every table of every sheet asks for it again.
@functools.cache
def _label_pairs(name: str) -> tuple[tuple[str, str], ...]:
    return tuple(reference.labels(name).items())


def _labels(name: str) -> dict[str, str]:
    """code -> label of a code list (a fresh dict, the caller may change it)."""
    return dict(_label_pairs(name))


@functools.cache
def _outcome_tuple(outcome: str, excluded: bool = False) -> tuple[str, ...]:
    """The avslutsanledningar with ``outcome`` (with any other outcome when ``excluded``)."""
    frame = reference.code_list("avslutsanledning")
    return tuple(frame.loc[(frame["outcome"] == outcome) != excluded, "code"])


def kon_codes() -> list[str]:
    return [code for code, _ in _label_pairs("kon")]


def kon_columns() -> list[str]:
    """Column labels per kön ("Kvinnor", "Män") in code-list order."""
    return [_PLURAL[label] for _, label in _label_pairs("kon")]


def kon_rows() -> list[str]:
    """Row labels per kön ("Kvinna", "Man") in code-list order."""
    return [label for _, label in _label_pairs("kon")]


def _outcome_codes(outcome: str) -> list[str]:
    return list(_outcome_tuple(outcome))


def counted_exit_codes() -> list[str]:
    """Every avslutsanledning that counts in the statistics (all but the excluded ones)."""
    return list(_outcome_tuple("excluded", excluded=True))


@functools.cache
def _goal_groups() -> tuple[tuple[str, tuple[str, ...]], ...]:
    names = _labels("avslutsanledning")
    others = _outcome_codes("other")
    if SICKNESS_CODE not in others:
        raise ValueError(f"{SICKNESS_CODE} is no longer an 'other' outcome in the code list")
    return ((GOAL, tuple(names[code] for code in _outcome_codes("goal"))),
            (SICKNESS, (names[SICKNESS_CODE],)),
            (OTHER, tuple(names[code] for code in others if code != SICKNESS_CODE)))


def goal_groups() -> dict[str, list[str]]:
    """Måluppfyllelse row -> the avslutsanledning labels it adds up."""
    return {group: list(labels) for group, labels in _goal_groups()}


@dataclass(frozen=True)
class _Flags:
    """Boolean masks over the spells, all aligned with the spell frame."""

    counted: pd.Series
    anonymous: pd.Series
    at_start: pd.Series
    new: pd.Series
    ended: pd.Series
    at_end: pd.Series
    active: pd.Series


def _flags(spells: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> _Flags:
    enrolled_on = pd.to_datetime(spells["inskrivningsdatum"])
    ended_on = pd.to_datetime(spells["utskrivningsdatum"])
    counted = ~spells["avslutsanledning"].isin(_outcome_codes("excluded"))
    # who is anonymous is decided in one place (finsam.participation), with the consents, by
    # whoever reads the spells; a frame without that column is judged by its flags alone
    anonymous = (spells[participation.ANONYMOUS_COLUMN].astype(bool)
                 if participation.ANONYMOUS_COLUMN in spells
                 else participation.anonymous(spells, None))
    # A spell that ends on the first day was still enrolled that day.
    open_at_start = ended_on.isna() | (ended_on >= start)
    return _Flags(
        counted=counted,
        anonymous=anonymous,
        at_start=counted & (enrolled_on < start) & open_at_start,
        new=counted & (enrolled_on >= start) & (enrolled_on <= end),
        ended=counted & (ended_on >= start) & (ended_on <= end),
        at_end=counted & (enrolled_on <= end) & (ended_on.isna() | (ended_on > end)),
        active=counted & (enrolled_on <= end) & open_at_start,
    )


# The spells the kön tables count, by the overview flow they are part of: enrolled spells that
# are not anonymous are a part of Nyinskrivna (beside varav anonyma), ended ones a part of
# Utskrivna. The disclosure control links the tables through these populations.
INSKRIVNA = "inskrivna"
UTSKRIVNA = "utskrivna"
POPULATION_FLOWS = {INSKRIVNA: NEW, UTSKRIVNA: ENDED}


def _populations(flags: _Flags) -> dict[str, np.ndarray]:
    return {INSKRIVNA: (flags.new & ~flags.anonymous).to_numpy(),
            UTSKRIVNA: (flags.ended & ~flags.anonymous).to_numpy()}


def _person(spells: pd.DataFrame) -> np.ndarray:
    """Who a spell belongs to, as a number: the pseudonym, else the token left after a withdrawal,
    else the spell itself (an anonymous spell cannot be linked to any other). The three kinds are
    numbered apart, so a token never meets a pseudonym with the same text."""
    pseudonym = pd.factorize(spells["pseudonym"].astype("string"))[0]
    token = pd.factorize(spells["deidentified_person"].astype("string"))[0]
    people, tokens = pseudonym.max(initial=-1) + 1, token.max(initial=-1) + 1
    own = people + tokens + np.arange(len(spells))
    return np.where(pseudonym >= 0, pseudonym, np.where(token >= 0, people + token, own))


def _codes(values: pd.Series | pd.Index, order: Sequence[str]) -> np.ndarray:
    """Each value's position in ``order``; -1 for a missing value or one outside the order."""
    return pd.Index(order).get_indexer(values).astype(np.intp)


@dataclass(frozen=True)
class _Sheets:
    """Where each spell counts: every spell in sheet 0 ("Alla insatser"), a spell with an insats
    also in sheet 1 + the insats' place in ``insatser``. Counting every table once over all sheets
    is far cheaper than counting it again for each insats."""

    insatser: list[str]
    own: np.ndarray  # per spell: the insats' place in ``insatser``, -1 for none (the total only)

    @property
    def count(self) -> int:
        return len(self.insatser) + 1

    def expand(self, spell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(item, sheet) for items belonging to ``spell`` (a position per item): each item once in
        sheet 0 and once more in its spell's insats sheet."""
        own = self.own[spell]
        has = own >= 0
        items = np.concatenate([np.arange(len(spell)), np.flatnonzero(has)])
        sheets = np.concatenate([np.zeros(len(spell), dtype=np.intp), own[has] + 1])
        return items, sheets


def _count_by_kon(sheets: _Sheets, spell: np.ndarray, keys: np.ndarray, kon: np.ndarray,
                  n_keys: int) -> np.ndarray:
    """Counts per sheet × key × kön code (zeros included) of items (one per spell, or several per
    spell) given by ``spell`` positions and ``keys``; a key or kön of -1 is not counted."""
    n_kon = len(kon_codes())
    items, sheet = sheets.expand(spell)
    keys, kon = keys[items], kon[spell[items]]
    valid = (keys >= 0) & (kon >= 0)
    flat = (sheet[valid] * n_keys + keys[valid]) * n_kon + kon[valid]
    counts = np.bincount(flat, minlength=sheets.count * n_keys * n_kon)
    return counts.astype(np.int64).reshape(sheets.count, n_keys, n_kon)


def _by_kon_table(counts: np.ndarray, labels: list[str]) -> pd.DataFrame:
    """Rows = labels, columns Kvinnor, Män, Totalt (``counts``: key × kön)."""
    return pd.DataFrame(np.column_stack([counts, counts.sum(axis=1)]), index=labels,
                        columns=[*kon_columns(), TOTAL])


def _forsorjning_pairs(spells: pd.DataFrame, mask: np.ndarray, column: str = "forsorjning_in",
                       *, missing: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(spell position, code position) once per försörjning code of each spell in ``mask``;
    ``missing``: a spell without any code counts once under the row after the codes."""
    # Few distinct code combinations occur, so each is split once, not once per spell. A frame
    # without the column (spells made for a test of other tables) has no codes in it.
    values = spells[column] if column in spells else pd.Series(pd.NA, index=spells.index,
                                                               dtype="string")
    number, combinations = pd.factorize(values.loc[mask])
    listed = pd.Series(combinations, dtype="string").str.split(",").explode().str.strip()
    # A code repeated on one spell still counts that spell once under the code.
    codes = pd.DataFrame({"number": listed.index, "code": listed.to_numpy()}).drop_duplicates()
    spells_with = pd.DataFrame({"spell": np.flatnonzero(mask), "number": number})
    pairs = spells_with.merge(codes, on="number")
    known = list(_labels("forsorjning"))
    spell, code = pairs["spell"].to_numpy(), _codes(pairs["code"], known)
    if missing:
        without = spells_with.loc[spells_with["number"] < 0, "spell"].to_numpy()
        spell = np.concatenate([spell, without])
        code = np.concatenate([code, np.full(len(without), len(known), dtype=np.intp)])
    return spell, code


def _age_band(ages: pd.Series) -> pd.Series:
    age = pd.to_numeric(ages).astype("Float64")
    band = pd.Series(OUTSIDE_AGES, index=ages.index, dtype="string")
    for label, low, high in AGE_BANDS:
        band = band.mask(age.between(low, high).fillna(False), label)
    return band.where(age.notna())


def _avslut(counts: np.ndarray) -> pd.DataFrame:
    """Rows Kvinna, Man, Totalt × each counted avslutsanledning, Totalt (``counts``: code × kön)."""
    names = _labels("avslutsanledning")
    by_kon = np.vstack([counts.T, counts.sum(axis=1)])
    return pd.DataFrame(np.column_stack([by_kon, by_kon.sum(axis=1)]),
                        index=[*kon_rows(), TOTAL],
                        columns=[*(names[code] for code in counted_exit_codes()), TOTAL])


def _positions(columns: pd.Index, labels: tuple[str, ...]) -> np.ndarray:
    positions = columns.get_indexer_for(labels)
    if (positions < 0).any():
        raise KeyError(f"{[label for label in labels if label not in columns]} not in the table")
    return positions


def goal_counts(avslut: pd.DataFrame) -> pd.DataFrame:
    """Måluppfyllelse's numerators from the avslutsanledning table: rows as Måluppfyllelse,
    columns Kvinnor, Män, Totalt."""
    values = avslut.to_numpy()
    sums = [values[:, _positions(avslut.columns, labels)].sum(axis=1)
            for _, labels in _goal_groups()]
    return pd.DataFrame(np.vstack(sums), index=[group for group, _ in _goal_groups()],
                        columns=[*kon_columns(), TOTAL]).astype(int)


def _mal(avslut: pd.DataFrame) -> pd.DataFrame:
    counts = goal_counts(avslut)
    # ended spells per kön (the rows of avslut) divide the columns of the same kön
    ended = avslut[TOTAL].to_numpy(dtype=float)
    return pd.DataFrame(counts.to_numpy() / np.where(ended > 0, ended, np.nan),
                        index=counts.index, columns=counts.columns)


def _month_band(spells: pd.DataFrame) -> np.ndarray:
    """Each spell's place in the Tid i insatsen rows."""
    enrolled_on = pd.to_datetime(spells["inskrivningsdatum"])
    ended_on = pd.to_datetime(spells["utskrivningsdatum"])
    # Calendar months (Jan 31 + 1 month = Feb 28/29), as the contract counts them.
    within = [ended_on <= enrolled_on + pd.DateOffset(months=months) for _, months in MONTH_BANDS]
    return np.select(within, list(range(len(MONTH_BANDS))), default=len(MONTH_BANDS))


def _period(start: date | str | pd.Timestamp,
            end: date | str | pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    return pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()


def _overview_counts(spells: pd.DataFrame, flags: _Flags, sheets: _Sheets) -> np.ndarray:
    """Sheet × overview row."""
    spell, sheet = sheets.expand(np.arange(len(spells)))
    masks = [flags.at_start, flags.new, flags.new & flags.anonymous, flags.ended, flags.at_end]
    counts = [np.bincount(sheet[mask.to_numpy()[spell]], minlength=sheets.count)
              for mask in masks]
    person = _person(spells).astype(np.int64)
    people = person.max(initial=0) + 1
    active = flags.active.to_numpy()[spell]
    pairs = np.unique(sheet[active] * people + person[spell][active])
    counts.append(np.bincount(pairs // people, minlength=sheets.count))
    return np.column_stack(counts)


def _stripped_codes(values: pd.Series, order: Sequence[str]) -> np.ndarray:
    """``_codes`` of the values as text without surrounding blanks. The few distinct values are
    cleaned once instead of once per spell; a missing value (numbered -1) takes the -1 appended."""
    number, distinct = pd.factorize(values)
    return np.append(_codes(distinct.astype("string").str.strip(), order), -1)[number]


def _table_counts(spells: pd.DataFrame, flags: _Flags, sheets: _Sheets) -> dict[str, np.ndarray]:
    """Each table's counts for every sheet: sheet × row × kön, the overview's sheet × row."""
    kon = _codes(spells["kon"], kon_codes())
    every = np.arange(len(spells))
    populations = _populations(flags)
    enrolled, ended = populations[INSKRIVNA], populations[UTSKRIVNA]
    tid = tuple(_labels("tid_offentlig_forsorjning"))
    exits = counted_exit_codes()
    return {
        OVERVIEW: _overview_counts(spells, flags, sheets),
        FORSORJNING: _count_by_kon(sheets, *_forsorjning_pairs(spells, enrolled), kon,
                                   len(_labels("forsorjning"))),
        TID_OFFENTLIG: _count_by_kon(
            sheets, every[enrolled],
            _stripped_codes(spells["tid_offentlig_forsorjning"], tid)[enrolled], kon, len(tid)),
        ALDER: _count_by_kon(sheets, every[enrolled],
                             _codes(_age_band(spells["age_at_enrolment"]), AGE_ROWS)[enrolled],
                             kon, len(AGE_ROWS)),
        AVSLUT: _count_by_kon(sheets, every[ended],
                              _codes(spells["avslutsanledning"], exits)[ended], kon, len(exits)),
        TID_INSATS: _count_by_kon(sheets, every[ended], _month_band(spells)[ended], kon,
                                  len(MONTH_ROWS)),
        FORSORJNING_FORE: _count_by_kon(
            sheets, *_forsorjning_pairs(spells, ended, "forsorjning_in", missing=True), kon,
            len(_labels("forsorjning")) + 1),
        FORSORJNING_EFTER: _count_by_kon(
            sheets, *_forsorjning_pairs(spells, ended, "forsorjning_ut", missing=True), kon,
            len(_labels("forsorjning")) + 1),
    }


def _tables(counts: dict[str, np.ndarray], sheet: int) -> dict[str, pd.DataFrame]:
    """The seven tables of one sheet from ``_table_counts``."""
    avslut = _avslut(counts[AVSLUT][sheet])
    return {
        OVERVIEW: pd.DataFrame({COUNT: [int(count) for count in counts[OVERVIEW][sheet]]},
                               index=list(OVERVIEW_ROWS)),
        FORSORJNING: _by_kon_table(counts[FORSORJNING][sheet],
                                   list(_labels("forsorjning").values())),
        TID_OFFENTLIG: _by_kon_table(counts[TID_OFFENTLIG][sheet],
                                     list(_labels("tid_offentlig_forsorjning").values())),
        ALDER: _by_kon_table(counts[ALDER][sheet], list(AGE_ROWS)),
        AVSLUT: avslut,
        MAL: _mal(avslut),
        TID_INSATS: _by_kon_table(counts[TID_INSATS][sheet], list(MONTH_ROWS)),
        FORSORJNING_FORE: _by_kon_table(counts[FORSORJNING_FORE][sheet], _outcome_rows()),
        FORSORJNING_EFTER: _by_kon_table(counts[FORSORJNING_EFTER][sheet], _outcome_rows()),
    }


def _outcome_rows() -> list[str]:
    return [*_labels("forsorjning").values(), MISSING]


def _all_tables(spells: pd.DataFrame, start: date | str | pd.Timestamp,
                end: date | str | pd.Timestamp, sheets: _Sheets) -> list[dict[str, pd.DataFrame]]:
    """The seven tables for every sheet of ``sheets``, in sheet order."""
    counts = _table_counts(spells, _flags(spells, *_period(start, end)), sheets)
    return [_tables(counts, sheet) for sheet in range(sheets.count)]


def sus_tables(spells: pd.DataFrame, start: date | str | pd.Timestamp,
               end: date | str | pd.Timestamp) -> dict[str, pd.DataFrame]:
    """The seven tables for the spells in the closed period [start, end], keyed by name."""
    alone = _Sheets([], np.full(len(spells), -1, dtype=np.intp))
    return _all_tables(spells, start, end, alone)[0]


def sus_statistics(spells: pd.DataFrame, start: date | str | pd.Timestamp,
                   end: date | str | pd.Timestamp) -> dict[str, dict[str, pd.DataFrame]]:
    """{"Alla insatser": tables over every spell, <insats>: tables per insats (sorted)}."""
    insatser = sorted(spells["insats"].dropna().unique())
    sheets = _Sheets(insatser, _codes(spells["insats"], insatser))
    tables = _all_tables(spells, start, end, sheets)
    return {ALL_INSATSER: tables[0],
            **{str(insats): table for insats, table in zip(insatser, tables[1:])}}


def quarterly_counts(spells: pd.DataFrame, start: date | str | pd.Timestamp,
                     end: date | str | pd.Timestamp) -> pd.DataFrame:
    """insats, kvartal ('YYYYQn'), nyinskrivna, utskrivna for every insats and every quarter the
    period touches (zeros included). Same population as the overview, so the quarters add up to
    its Nyinskrivna and Utskrivna; a quarter cut by the period counts only its days in it."""
    start, end = _period(start, end)
    flags = _flags(spells, start, end)
    quarters = [str(quarter) for quarter in pd.period_range(start, end, freq="Q")]
    insatser = sorted(spells["insats"].dropna().unique())
    grid = pd.MultiIndex.from_product([insatser, quarters], names=["insats", "kvartal"])
    insats = _codes(spells["insats"], insatser)

    def per_quarter(mask: pd.Series, column: str) -> np.ndarray:
        """Counts per insats × quarter, in the grid's order (spells without insats left out)."""
        day = pd.to_datetime(spells[column])
        quarter = ((day.dt.year - start.year) * 4 + day.dt.quarter - start.quarter).to_numpy()
        counted = mask.to_numpy() & (insats >= 0)
        return np.bincount(insats[counted] * len(quarters) + quarter[counted].astype(np.intp),
                           minlength=len(grid)).astype(np.int64)

    frame = pd.DataFrame({"nyinskrivna": per_quarter(flags.new, "inskrivningsdatum"),
                          "utskrivna": per_quarter(flags.ended, "utskrivningsdatum")}, index=grid)
    return frame.reset_index()


# --- the tables as data, and the counts the disclosure control reasons about -----------------

@dataclass(frozen=True)
class CountTable:
    """A table of spells of one population per category and kön, with a Totalt column (and,
    when kön are its rows, a Totalt row). ``keys``: the category labels in the order the counts
    are kept; ``multiple``: a spell can count under several categories, except under the
    ``exclusive`` ones, which it counts under alone."""

    name: str
    population: str
    keys: tuple[str, ...]
    kon_rows: bool = False
    multiple: bool = False
    exclusive: tuple[str, ...] = ()


@dataclass(frozen=True)
class ShareTable:
    """Shares of a count table's spells per kön: each row's numerator is the sum of a group of
    the table's categories, the denominator all its spells of the kön."""

    name: str
    of: str
    groups: tuple[tuple[str, tuple[str, ...]], ...]


# The overview's rows as what they measure: stocks at the period's two edges, flows in it, and
# the persons (which do not add up over periods or insatser).
OVERVIEW_MEASURES = {AT_START: "start", NEW: "new", NEW_ANONYMOUS: "anonymous", ENDED: "ended",
                     AT_END: "end", PERSONS: "persons"}


@functools.cache
def declarations() -> tuple[CountTable | ShareTable, ...]:
    """Every table but the overview, as the disclosure control sees it, in the sheets' order."""
    forsorjning = reference.code_list("forsorjning")
    names = _labels("avslutsanledning")
    return (
        CountTable(FORSORJNING, INSKRIVNA, tuple(forsorjning["label"]), multiple=True,
                   exclusive=tuple(forsorjning.loc[forsorjning["exclusive"] == "true", "label"])),
        CountTable(TID_OFFENTLIG, INSKRIVNA, tuple(_labels("tid_offentlig_forsorjning").values())),
        CountTable(ALDER, INSKRIVNA, AGE_ROWS),
        CountTable(AVSLUT, UTSKRIVNA, tuple(names[code] for code in counted_exit_codes()),
                   kon_rows=True),
        ShareTable(MAL, AVSLUT, _goal_groups()),
        CountTable(TID_INSATS, UTSKRIVNA, MONTH_ROWS),
        # before and after, over the same ended spells: linked through that population, so a
        # hidden cell of one cannot be worked out from the other
        *(CountTable(name, UTSKRIVNA, (*forsorjning["label"], MISSING), multiple=True,
                     exclusive=(*forsorjning.loc[forsorjning["exclusive"] == "true", "label"],
                                MISSING))
          for name in (FORSORJNING_FORE, FORSORJNING_EFTER)),
    )


def count_tables() -> dict[str, CountTable]:
    return {table.name: table for table in declarations() if isinstance(table, CountTable)}


def segment_counts(spells: pd.DataFrame, start: date | str | pd.Timestamp,
                   end: date | str | pd.Timestamp, insatser: Sequence[str]) -> dict[str, np.ndarray]:
    """Each count table's counts per insats × category × kön for the period (insatser in the
    given order; a spell of another insats is left out)."""
    sheets = _Sheets(list(insatser), _codes(spells["insats"], list(insatser)))
    counts = _table_counts(spells, _flags(spells, *_period(start, end)), sheets)
    return {name: counts[name][1:] for name in count_tables()}


@dataclass(frozen=True)
class QuarterFlows:
    """Per quarter × insats: the overview's flows and the kön tables' populations (spells with a
    kön), and the spells enrolled at each quarter's start (one more row: after the last)."""

    new: np.ndarray
    anonymous: np.ndarray
    ended: np.ndarray
    population: dict[str, np.ndarray]
    stock: np.ndarray


def quarter_flows(spells: pd.DataFrame, quarters: Sequence[pd.Period],
                  insatser: Sequence[str]) -> QuarterFlows:
    """The flows of consecutive ``quarters`` per insats (spells of other insatser left out)."""
    insats = _codes(spells["insats"], list(insatser))
    has_kon = _codes(spells["kon"], kon_codes()) >= 0
    shape = (len(quarters), len(insatser))
    parts: dict[str, list[np.ndarray]] = defaultdict(list)
    stock = []
    for quarter in quarters:
        flags = _flags(spells, quarter.start_time.normalize(), quarter.end_time.normalize())
        populations = _populations(flags)
        masks = {"new": flags.new.to_numpy(), "anonymous": (flags.new & flags.anonymous).to_numpy(),
                 "ended": flags.ended.to_numpy(),
                 **{name: mask & has_kon for name, mask in populations.items()}}
        for name, mask in masks.items():
            parts[name].append(np.bincount(insats[mask & (insats >= 0)], minlength=len(insatser)))
        stock.append(np.bincount(insats[flags.at_start.to_numpy() & (insats >= 0)],
                                 minlength=len(insatser)))
    if quarters:
        stock.append(np.bincount(insats[flags.at_end.to_numpy() & (insats >= 0)],
                                 minlength=len(insatser)))
    array = {name: (np.vstack(rows) if rows else np.zeros(shape)).astype(np.int64)
             for name, rows in parts.items()}
    empty = np.zeros(shape, dtype=np.int64)
    return QuarterFlows(
        new=array.get("new", empty), anonymous=array.get("anonymous", empty),
        ended=array.get("ended", empty),
        population={name: array.get(name, empty) for name in POPULATION_FLOWS},
        stock=(np.vstack(stock) if stock else np.zeros((1, len(insatser)))).astype(np.int64))


def persons(spells: pd.DataFrame, start: date | str | pd.Timestamp,
            end: date | str | pd.Timestamp, insatser: Collection[str]) -> int:
    """Unika personer of the period among the spells of ``insatser``."""
    flags = _flags(spells, *_period(start, end))
    active = flags.active.to_numpy() & spells["insats"].isin(list(insatser)).to_numpy()
    return int(np.unique(_person(spells)[active]).size)
