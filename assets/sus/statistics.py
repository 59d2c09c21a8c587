"""SUS statistics for a period: the seven tables of the outputs contract, per insats and in total.

The input is the warehouse's spell frame (one row per deltagarande). Counting unit is the spell.
A spell ended with an avslutsanledning whose outcome is ``excluded`` (Felregistrering) counts
nowhere; anonymous spells (anonym, which protected identity implies) count only in the overview.
Every count is computed on whole columns; nothing loops over spells.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from finsam import reference

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
TABLE_NAMES = (OVERVIEW, FORSORJNING, TID_OFFENTLIG, ALDER, AVSLUT, MAL, TID_INSATS)

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

# (label, months after enrolment the spell must have ended by, on or before that day).
MONTH_BANDS: tuple[tuple[str, int], ...] = (
    ("Upp till 12 mån", 12), ("13–18 mån", 18), ("19–24 mån", 24))
LONGER = "Mer än 24 mån"

GOAL = "Andel arbete, studier eller fortsatt rehabilitering"
SICKNESS = "Andel sjukdom"
OTHER = "Andel övriga"
# The contract reports Sjukdom's share separately; the code list has no column for that, so its
# code is named here (and checked against the list in goal_groups).
SICKNESS_CODE = "SJK"

# Table columns say "Kvinnor"/"Män"; the kon list's labels are singular (used as row labels).
_PLURAL = {"Kvinna": "Kvinnor", "Man": "Män"}

COUNTING_RULES = (
    "Statistiken räknar deltaganden (inskrivningar i en insats), inte personer. En person som "
    "deltagit två gånger räknas två gånger, utom i raden Unika personer.",
    "En inskrivning som avslutats med Felregistrering räknas inte någonstans.",
    "Anonyma deltagare (utan samtycke till SUS eller med skyddade personuppgifter) räknas bara i "
    "översikten, eftersom inga uppgifter om dem registreras.",
    "Inskrivna vid periodens början: inskrivna före periodens första dag och inte utskrivna före "
    "den. Inskrivna vid periodens slut: fortfarande inskrivna efter periodens sista dag.",
    "Försörjning vid inskrivning: en deltagare med två försörjningskällor räknas under båda.",
    "Ålder: hela år på inskrivningsdagen. Deltagare utanför 16–64 år redovisas på en egen rad.",
    "Tid i insatsen: den som skrivs ut senast samma datum tolv månader efter inskrivningen räknas "
    "till Upp till 12 mån, senast 18 månader efter till 13–18 mån, och så vidare.",
    "Måluppfyllelse: andelen av de utskrivna (utom Felregistrering) som gick till arbete, studier "
    "eller fortsatt rehabilitering, till sjukdom respektive av övriga skäl.",
    "En deltagare som återkallat sitt samtycke skrivs ut med Avbrutet av deltagaren och räknas "
    "fortfarande i statistiken, utan uppgifter som kan identifiera personen.",
)


def kon_codes() -> list[str]:
    return list(reference.labels("kon"))


def kon_columns() -> list[str]:
    """Column labels per kön ("Kvinnor", "Män") in code-list order."""
    return [_PLURAL[label] for label in reference.labels("kon").values()]


def _outcome_codes(outcome: str) -> list[str]:
    frame = reference.code_list("avslutsanledning")
    return frame.loc[frame["outcome"] == outcome, "code"].tolist()


def counted_exit_codes() -> list[str]:
    """Every avslutsanledning that counts in the statistics (all but the excluded ones)."""
    frame = reference.code_list("avslutsanledning")
    return frame.loc[frame["outcome"] != "excluded", "code"].tolist()


def goal_groups() -> dict[str, list[str]]:
    """Måluppfyllelse row -> the avslutsanledning labels it adds up."""
    names = reference.labels("avslutsanledning")
    others = _outcome_codes("other")
    if SICKNESS_CODE not in others:
        raise ValueError(f"{SICKNESS_CODE} is no longer an 'other' outcome in the code list")
    return {GOAL: [names[code] for code in _outcome_codes("goal")],
            SICKNESS: [names[SICKNESS_CODE]],
            OTHER: [names[code] for code in others if code != SICKNESS_CODE]}


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
    # Protected identity always means anonymous; or-ing both guards a row where only one is set.
    anonymous = (spells["anonym"].fillna(False).astype(bool)
                 | spells["skyddad_identitet"].fillna(False).astype(bool))
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


def _person(spells: pd.DataFrame) -> pd.Series:
    """Who a spell belongs to: the pseudonym, else the token left after a withdrawal, else the spell
    itself (an anonymous spell cannot be linked to any other)."""
    position = pd.Series(np.arange(len(spells)).astype(str), index=spells.index, dtype="string")
    return (("p:" + spells["pseudonym"].astype("string"))
            .fillna("d:" + spells["deidentified_person"].astype("string"))
            .fillna("s:" + position))


def _overview(spells: pd.DataFrame, flags: _Flags) -> pd.DataFrame:
    counts = [flags.at_start.sum(), flags.new.sum(), (flags.new & flags.anonymous).sum(),
              flags.ended.sum(), flags.at_end.sum(), _person(spells)[flags.active].nunique()]
    return pd.DataFrame({COUNT: [int(count) for count in counts]}, index=list(OVERVIEW_ROWS))


def _count_by_kon(keys: pd.Series, kon: pd.Series, order: list[str]) -> pd.DataFrame:
    """Counts of ``keys`` (one per spell, or several rows per spell) × kön code, every key in
    ``order`` present (zeros included); keys outside the order and missing keys are not counted."""
    frame = pd.DataFrame({"key": pd.Categorical(keys, categories=order),
                          "kon": pd.Categorical(kon, categories=kon_codes())})
    counts = frame.groupby(["key", "kon"], observed=False).size().unstack("kon")
    return counts.reindex(index=order, columns=kon_codes(), fill_value=0).astype(int)


def _by_kon_table(keys: pd.Series, kon: pd.Series, order: list[str],
                  labels: list[str]) -> pd.DataFrame:
    """Rows = labels, columns Kvinnor, Män, Totalt."""
    counts = _count_by_kon(keys, kon, order)
    table = pd.DataFrame(counts.to_numpy(), index=labels, columns=kon_columns())
    table[TOTAL] = table.sum(axis=1)
    return table


def _forsorjning(spells: pd.DataFrame) -> pd.DataFrame:
    pairs = spells.assign(code=spells["forsorjning_in"].str.split(",")).explode("code")
    pairs = pairs.assign(code=pairs["code"].str.strip()).set_index("code", append=True)
    # A code repeated on one spell still counts that spell once under the code.
    pairs = pairs.loc[~pairs.index.duplicated()].reset_index("code")
    names = reference.labels("forsorjning")
    return _by_kon_table(pairs["code"], pairs["kon"], list(names), list(names.values()))


def _tid_offentlig(spells: pd.DataFrame) -> pd.DataFrame:
    names = reference.labels("tid_offentlig_forsorjning")
    codes = spells["tid_offentlig_forsorjning"].astype("string").str.strip()
    return _by_kon_table(codes, spells["kon"], list(names), list(names.values()))


def _age_band(ages: pd.Series) -> pd.Series:
    age = pd.to_numeric(ages).astype("Float64")
    band = pd.Series(OUTSIDE_AGES, index=ages.index, dtype="string")
    for label, low, high in AGE_BANDS:
        band = band.mask(age.between(low, high).fillna(False), label)
    return band.where(age.notna())


def _alder(spells: pd.DataFrame) -> pd.DataFrame:
    order = [label for label, _, _ in AGE_BANDS] + [OUTSIDE_AGES]
    return _by_kon_table(_age_band(spells["age_at_enrolment"]), spells["kon"], order, order)


def _avslut(spells: pd.DataFrame) -> pd.DataFrame:
    """Rows Kvinna, Man, Totalt × each counted avslutsanledning, Totalt."""
    codes = counted_exit_codes()
    counts = _count_by_kon(spells["avslutsanledning"], spells["kon"], codes).T
    names = reference.labels("avslutsanledning")
    table = pd.DataFrame(counts.to_numpy(), index=list(reference.labels("kon").values()),
                         columns=[names[code] for code in codes])
    table.loc[TOTAL] = table.sum(axis=0)
    table[TOTAL] = table.sum(axis=1)
    return table


def goal_counts(avslut: pd.DataFrame) -> pd.DataFrame:
    """Måluppfyllelse's numerators from the avslutsanledning table: rows as Måluppfyllelse,
    columns Kvinnor, Män, Totalt."""
    rows = {group: avslut[labels].sum(axis=1) for group, labels in goal_groups().items()}
    counts = pd.DataFrame(rows).T
    counts.columns = kon_columns() + [TOTAL]
    return counts.astype(int)


def _mal(avslut: pd.DataFrame) -> pd.DataFrame:
    counts = goal_counts(avslut)
    ended = pd.Series(avslut[TOTAL].to_numpy(), index=counts.columns)
    return counts.div(ended.where(ended > 0), axis=1).astype(float)


def _tid_insats(spells: pd.DataFrame) -> pd.DataFrame:
    enrolled_on = pd.to_datetime(spells["inskrivningsdatum"])
    ended_on = pd.to_datetime(spells["utskrivningsdatum"])
    # Calendar months (Jan 31 + 1 month = Feb 28/29), as the contract counts them.
    within = [ended_on <= enrolled_on + pd.DateOffset(months=months) for _, months in MONTH_BANDS]
    band = pd.Series(np.select(within, [label for label, _ in MONTH_BANDS], default=LONGER),
                     index=spells.index)
    order = [label for label, _ in MONTH_BANDS] + [LONGER]
    return _by_kon_table(band, spells["kon"], order, order)


def _period(start: date | str | pd.Timestamp,
            end: date | str | pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    return pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()


def sus_tables(spells: pd.DataFrame, start: date | str | pd.Timestamp,
               end: date | str | pd.Timestamp) -> dict[str, pd.DataFrame]:
    """The seven tables for the spells in the closed period [start, end], keyed by name."""
    start, end = _period(start, end)
    flags = _flags(spells, start, end)
    enrolled = spells.loc[flags.new & ~flags.anonymous]
    ended = spells.loc[flags.ended & ~flags.anonymous]
    avslut = _avslut(ended)
    return {
        OVERVIEW: _overview(spells, flags),
        FORSORJNING: _forsorjning(enrolled),
        TID_OFFENTLIG: _tid_offentlig(enrolled),
        ALDER: _alder(enrolled),
        AVSLUT: avslut,
        MAL: _mal(avslut),
        TID_INSATS: _tid_insats(ended),
    }


def sus_statistics(spells: pd.DataFrame, start: date | str | pd.Timestamp,
                   end: date | str | pd.Timestamp) -> dict[str, dict[str, pd.DataFrame]]:
    """{"Alla insatser": tables over every spell, <insats>: tables per insats (sorted)}."""
    stats = {ALL_INSATSER: sus_tables(spells, start, end)}
    for insats in sorted(spells["insats"].dropna().unique()):
        stats[str(insats)] = sus_tables(spells.loc[spells["insats"] == insats], start, end)
    return stats


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

    def per_quarter(mask: pd.Series, column: str) -> pd.Series:
        day = pd.to_datetime(spells.loc[mask, column])
        keys = [spells.loc[mask, "insats"], day.dt.to_period("Q").astype(str).rename("kvartal")]
        return spells.loc[mask].groupby(keys).size().reindex(grid, fill_value=0).astype(int)

    frame = pd.DataFrame({"nyinskrivna": per_quarter(flags.new, "inskrivningsdatum"),
                          "utskrivna": per_quarter(flags.ended, "utskrivningsdatum")}, index=grid)
    return frame.reset_index()
