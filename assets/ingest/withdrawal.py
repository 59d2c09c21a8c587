"""Withdrawn consent: register the participant out, erase what identifies them, keep the statistics.

Two rules, both worked out from the consent register alone, so the outcome depends on which
registers arrived, never on the order:

* **AVB**: a spell open on a day when the last SUS consent for its insats is withdrawn ends that
  day with AVB (even if consent is given again later: a new consent starts a new spell only if the
  register says so). Withdrawing only a partner-sharing consent changes nothing in SUS.
* **Erasure**: a person is erased from the first day on which every consent they had given is
  withdrawn. Nothing about them dated up to that day is kept, or stored again when re-delivered:
  their vault entry, partner records, held rows and consent rows go, their spells stay only
  de-identified (no pseudonym, no pointer to a landing row; age at enrolment and kön remain so
  published statistics reproduce). A tombstone (a keyed hash in a purpose of its own, never the
  pseudonym) recognises them in later deliveries. A consent given after that day is a new legal
  basis: what is dated after it is handled as anyone's.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import (
    Column,
    Connection,
    Date,
    MetaData,
    String,
    Table,
    delete,
    exists,
    insert,
    select,
)

from assets.ingest.transforms import DEIDENTIFIED_KEY_PREFIX, TOMBSTONE
from finsam.consent import in_force_until, sus_consent_on
from warehouse import held_records, load, models

AVB = "AVB"
_ALL_INSATSER = "*"


def _withdrawal_ends(consents: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """(keys..., day) for each withdrawal day on which no consent of the group (``keys``) given by
    then is still unwithdrawn: the day the group's consent ended by withdrawal."""
    withdrawn = consents.loc[consents["aterkallat"].notna(), [*keys, "aterkallat"]]
    if withdrawn.empty:
        return pd.DataFrame(columns=[*keys, "day"])
    days = withdrawn.rename(columns={"aterkallat": "day"}).drop_duplicates()
    pairs = days.merge(consents[[*keys, "samtycke_fran", "aterkallat"]], on=keys)
    still = ((pairs["samtycke_fran"] <= pairs["day"])
             & (pairs["aterkallat"].isna() | (pairs["aterkallat"] > pairs["day"])))
    blocked = pairs.loc[still, [*keys, "day"]].drop_duplicates()
    ends = days.merge(blocked, on=[*keys, "day"], how="left", indicator=True)
    return ends.loc[ends["_merge"] == "left_only", [*keys, "day"]].reset_index(drop=True)


def erasure_days(consents: pd.DataFrame, person: str = "pseudonym") -> pd.Series:
    """Per person: the first day every consent they had given was withdrawn (none: not erased)."""
    ends = _withdrawal_ends(consents, [person])
    if ends.empty:
        # typed like the people it is merged with: an empty register must not fail the merge
        return pd.Series(dtype="datetime64[ns]", name="day",
                         index=pd.Index([], dtype="string", name=person))
    return ends.groupby(person)["day"].min()


def avb_days(consents: pd.DataFrame, person: str = "pseudonym") -> pd.DataFrame:
    """(person, insats, day): days a person's last SUS consent for the insats was withdrawn."""
    sus = consents.loc[consents["sus"].astype(bool)]
    return _withdrawal_ends(sus, [person, "insats"])


def register_out(spells: pd.DataFrame, days: pd.DataFrame, person: str = "pseudonym"
                 ) -> pd.DataFrame:
    """A spell in progress on one of its insats's AVB days (the earliest from its enrolment to its
    end) is marked ``withdrawn_on`` that day; if it was still open then, it ends that day with AVB.
    A spell that ended before the withdrawal is left as it was."""
    out = spells.copy()
    if "withdrawn_on" not in out:
        # a register's rows do not carry it; a spell that ended before the withdrawal has none
        out["withdrawn_on"] = pd.NaT
    if days.empty or out.empty:
        return out
    keyed = out[[person, "insats", "inskrivningsdatum", "utskrivningsdatum"]].assign(
        _row=range(len(out)))
    pairs = keyed.merge(days.rename(columns={"day": "_day"}), on=[person, "insats"])
    start = pd.to_datetime(pairs["inskrivningsdatum"])
    end = pd.to_datetime(pairs["utskrivningsdatum"])
    during = (start <= pairs["_day"]) & (end.isna() | (end >= pairs["_day"]))
    first = pairs.loc[during].groupby("_row")["_day"].min()
    if first.empty:
        return out
    index = out.index[first.index.to_numpy()]
    day = pd.Series(first.to_numpy(), index=index)
    exit_day = pd.to_datetime(out.loc[index, "utskrivningsdatum"])
    still_open = index[(exit_day.isna() | (exit_day > day)).to_numpy()]
    out.loc[index, "withdrawn_on"] = day
    out.loc[still_open, "utskrivningsdatum"] = day[still_open]
    out.loc[still_open, "avslutsanledning"] = AVB
    out.loc[still_open, "forsorjning_ut"] = pd.NA
    if "utskrivningskvartal" in out and len(still_open):
        out.loc[still_open, "utskrivningskvartal"] = (
            pd.PeriodIndex(day[still_open].to_numpy(), freq="Q").strftime("%YQ%q"))
    return out


def deidentify(spells: pd.DataFrame, person: str = "pseudonym") -> pd.DataFrame:
    """No pseudonym and no pointer back to a landing row (delivery, row); age at enrolment and kön
    stay. One random token per person keeps "unique persons" countable."""
    people = spells[person].drop_duplicates()
    tokens = pd.Series([secrets.token_hex(16) for _ in range(len(people))], index=people.to_numpy())
    token = spells[person].map(tokens).astype("string")
    out = spells.assign(deidentified_person=token, pseudonym=pd.NA, delivery_id=pd.NA,
                        row_number=pd.NA, extraction_date=pd.NaT)
    out["record_key"] = (DEIDENTIFIED_KEY_PREFIX + token + "|" + out["insats"] + "|"
                         + pd.to_datetime(out["inskrivningsdatum"]).dt.strftime("%Y-%m-%d"))
    return out


def read_consents(connection: Connection) -> pd.DataFrame:
    table = models.Consent.__table__
    frame = pd.read_sql(select(table.c.pseudonym, table.c.insats, table.c.samtycke_fran,
                               table.c.giltigt_till, table.c.aterkallat, table.c.parter,
                               table.c.sus), connection)
    for name in ("samtycke_fran", "giltigt_till", "aterkallat"):
        frame[name] = pd.to_datetime(frame[name])
    frame["until"] = in_force_until(frame)
    return frame


def read_tombstones(connection: Connection) -> pd.DataFrame:
    """(tombstone, insats, erased_on, avb_days) of everyone erased."""
    table = models.ErasureTombstone.__table__
    frame = pd.read_sql(select(table), connection)
    frame["erased_on"] = pd.to_datetime(frame["erased_on"])
    return frame


def erased_before(frame: pd.DataFrame, dates: pd.Series, tombstones: pd.DataFrame, *,
                  erased_on: pd.Series | None = None) -> pd.Series:
    """Rows about an erased person dated on or before their erasure day (or undated): never kept.
    ``erased_on`` (``erasure_day_by_tombstone(tombstones)``) spares a caller that asks per file
    the grouping each time."""
    if TOMBSTONE not in frame or tombstones.empty:
        return pd.Series(False, index=frame.index)
    if erased_on is None:
        erased_on = erasure_day_by_tombstone(tombstones)
    day = frame[TOMBSTONE].map(erased_on)
    return (day.notna() & (dates.isna() | (pd.to_datetime(dates) <= day))).fillna(False).astype(bool)


def erasure_day_by_tombstone(tombstones: pd.DataFrame) -> pd.Series:
    """tombstone -> the person's first erasure day."""
    return tombstones.groupby("tombstone")["erased_on"].min()


def participants_view(frame: pd.DataFrame, tombstones: pd.DataFrame) -> pd.DataFrame:
    """A participant register's spells as they may be kept: an erased person's spells enrolled
    up to the erasure only de-identified (ended AVB where the SUS consent was withdrawn while they
    were in progress). The same whether the withdrawal arrived before or after the spells."""
    erased = erased_before(frame, frame["inskrivningsdatum"], tombstones)
    if not erased.any():
        return frame
    gone = frame.loc[erased].rename(columns={TOMBSTONE: "tombstone"})
    gone = register_out(gone, tombstone_avb_days(tombstones), "tombstone")
    # The person's consents went with the erasure; their tombstone kept the SUS consents' periods,
    # so the spell is anonymous exactly when it would have been had it arrived first. A tombstone
    # from before finsam kept them knows only the withdrawals: a spell a SUS withdrawal ended was
    # registered with personal data, the rest can only be counted anonymously.
    recorded = gone["tombstone"].isin(_recorded(tombstones))
    kept = tombstone_sus_consents(tombstones)
    consent = (pd.Series(False, index=gone.index) if kept.empty else
               sus_consent_on(gone[["tombstone", "insats", "inskrivningsdatum"]]
                              .rename(columns={"tombstone": "pseudonym"}), kept))
    fallback = gone["withdrawn_on"].notna()
    gone = gone.assign(anonym=gone["anonym"].astype(bool)
                       | ~consent.where(recorded, fallback).astype(bool))
    gone = deidentify(gone).drop(columns="tombstone")
    return pd.concat([frame.loc[~erased], gone], ignore_index=True)


def _recorded(tombstones: pd.DataFrame) -> pd.Series:
    """The tombstones whose SUS consents were recorded with them."""
    if "sus_periods" not in tombstones:
        return pd.Series([], dtype=object)
    person = tombstones.loc[(tombstones["insats"] == _ALL_INSATSER)
                            & tombstones["sus_periods"].notna(), "tombstone"]
    return person.drop_duplicates()


def tombstone_sus_consents(tombstones: pd.DataFrame) -> pd.DataFrame:
    """The SUS consents kept with the tombstones, shaped as :func:`sus_consent_on` reads them
    (the tombstone in the ``pseudonym`` column)."""
    columns = ["pseudonym", "insats", "samtycke_fran", "giltigt_till", "aterkallat", "sus"]
    if "sus_periods" not in tombstones:
        return pd.DataFrame(columns=columns)
    rows = tombstones.loc[(tombstones["insats"] != _ALL_INSATSER)
                          & tombstones["sus_periods"].fillna("").ne(""),
                          ["tombstone", "insats", "sus_periods"]]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    periods = rows.assign(period=rows["sus_periods"].str.split(",")).explode("period")
    ends = periods["period"].str.split(":", expand=True)
    return pd.DataFrame({
        "pseudonym": periods["tombstone"].to_numpy(), "insats": periods["insats"].to_numpy(),
        "samtycke_fran": pd.to_datetime(ends[0]).to_numpy(),
        "giltigt_till": pd.to_datetime(ends[1].replace("", None)).to_numpy(),
        "aterkallat": pd.NaT, "sus": True})


def tombstone_avb_days(tombstones: pd.DataFrame) -> pd.DataFrame:
    """(tombstone, insats, day) from the stored tombstones."""
    rows = tombstones.loc[tombstones["avb_days"].notna(), ["tombstone", "insats", "avb_days"]]
    if rows.empty:
        return pd.DataFrame(columns=["tombstone", "insats", "day"])
    rows = rows.assign(day=rows["avb_days"].str.split(",")).explode("day")
    return rows.assign(day=pd.to_datetime(rows["day"]))[["tombstone", "insats", "day"]]


@dataclass(frozen=True)
class Erasure:
    """Who a consent register erases: per person their pseudonym and tombstone (in memory only),
    the erasure day, and the AVB days per insats."""

    people: pd.DataFrame        # pseudonym, tombstone, erased_on
    avb: pd.DataFrame           # tombstone, insats, day
    # their consents as the register states them (pseudonym, insats, samtycke_fran, giltigt_till,
    # aterkallat, sus): erased with them, so read once more to settle who was anonymous
    consents: pd.DataFrame = field(default_factory=pd.DataFrame)

    def of(self, people: pd.DataFrame) -> Erasure:
        """The same erasure for some of its people."""
        pseudonyms = people["pseudonym"]
        consents = (self.consents.loc[self.consents["pseudonym"].isin(pseudonyms)]
                    if not self.consents.empty else self.consents)
        return Erasure(people, self.avb, consents)

    def freeze_anonymous(self, spells: pd.DataFrame) -> pd.DataFrame:
        """``anonym`` set on the spells (still with their pseudonym) that had no SUS consent in
        force on the enrolment day: after the erasure nothing else can tell
        (finsam.participation.anonymous reads only the flag of a de-identified spell)."""
        if spells.empty:
            return spells
        if self.consents.empty:
            consent = pd.Series(False, index=spells.index)
        else:
            consent = sus_consent_on(spells, self.consents)
        return spells.assign(anonym=spells["anonym"].astype(bool) | ~consent)

    def tombstone_rows(self) -> pd.DataFrame:
        """The rows of ``erasure_tombstone``: one per person (insats ``*``) and one per insats
        with AVB days or SUS consents, both joined as text. ``sus_periods`` on the person's row is
        "" (their SUS consents were recorded: a spell that arrives after the erasure is counted
        as it would have been before it)."""
        days = self.avb.assign(day=pd.to_datetime(self.avb["day"]).dt.strftime("%Y-%m-%d"))
        avb = (days.groupby(["tombstone", "insats"])["day"].agg(lambda d: ",".join(sorted(d)))
               .rename("avb_days"))
        joined = pd.concat([avb, self._sus_periods()], axis=1).reset_index()
        person = self.people[["tombstone", "erased_on"]].assign(insats=_ALL_INSATSER,
                                                                sus_periods="")
        rows = pd.concat([person, joined.merge(self.people[["tombstone", "erased_on"]],
                                               on="tombstone")], ignore_index=True)
        rows["sus_periods"] = rows["sus_periods"].fillna("")
        return rows.drop_duplicates(["tombstone", "insats"], keep="last")

    def _sus_periods(self) -> pd.Series:
        """(tombstone, insats) -> the SUS consents' periods in force, ``from:until`` (until empty
        while open-ended), comma-separated: all that decides whether a spell was anonymous once
        the consents themselves are erased."""
        index = pd.MultiIndex.from_arrays([[], []], names=["tombstone", "insats"])
        if self.consents.empty:
            return pd.Series([], index=index, dtype=object, name="sus_periods")
        sus = self.consents.loc[self.consents["sus"].astype(bool)]
        sus = sus.merge(self.people[["pseudonym", "tombstone", "erased_on"]], on="pseudonym")
        # a consent given after the erasure is a new legal basis, not part of what was erased (and
        # a register that shows it must not give the tombstone other periods than one that does not)
        sus = sus.loc[pd.to_datetime(sus["samtycke_fran"]) <= pd.to_datetime(sus["erased_on"])]
        if sus.empty:
            return pd.Series([], index=index, dtype=object, name="sus_periods")
        dates = {name: pd.to_datetime(sus[name]) for name in ("giltigt_till", "aterkallat")}
        until = in_force_until(sus.assign(**dates))
        period = (pd.to_datetime(sus["samtycke_fran"]).dt.strftime("%Y-%m-%d") + ":"
                  + until.dt.strftime("%Y-%m-%d").fillna(""))
        return (sus.assign(period=period.to_numpy()).groupby(["tombstone", "insats"])["period"]
                .agg(lambda p: ",".join(sorted(set(p)))).rename("sus_periods"))


def erasure_in_register(register: pd.DataFrame) -> Erasure:
    """Everyone a consent register shows fully withdrawn (``register``: its rows with pseudonym
    and tombstone)."""
    days = erasure_days(register).rename("erased_on").rename_axis("pseudonym").reset_index()
    people = (register[["pseudonym", TOMBSTONE]].drop_duplicates("pseudonym")
              .merge(days, on="pseudonym").rename(columns={TOMBSTONE: "tombstone"}))
    avb = avb_days(register)
    avb = avb.loc[avb["pseudonym"].isin(people["pseudonym"])].merge(
        people[["pseudonym", "tombstone"]], on="pseudonym")[["tombstone", "insats", "day"]]
    consents = register.loc[register["pseudonym"].isin(people["pseudonym"]),
                            ["pseudonym", "insats", "samtycke_fran", "giltigt_till", "aterkallat",
                             "sus"]]
    return Erasure(people, avb, consents)


def store_tombstones(connection: Connection, erasure: Erasure) -> pd.DataFrame:
    """Add the tombstones not held yet (an erasure is never undone); returns the new ones."""
    rows = erasure.tombstone_rows()
    if rows.empty:
        return rows
    table = models.ErasureTombstone.__table__
    held = pd.read_sql(select(table.c.tombstone, table.c.insats), connection)
    new = rows.merge(held, on=["tombstone", "insats"], how="left", indicator=True)
    new = new.loc[new["_merge"] == "left_only"].drop(columns="_merge")
    load.insert_frame(connection, table, new.assign(erased_on=pd.to_datetime(new["erased_on"])))
    return new


def apply_erasure(connection: Connection, erasure: Erasure, partner_tables: Mapping[Table, str],
                  participant_sources: Iterable[str]) -> dict[str, int]:
    """Erase the people of ``erasure`` from what is already stored; ``partner_tables``: each
    partner table with the column its records' time starts in; ``participant_sources``: the
    sources whose records are spells. Returns rows changed per table."""
    people = erasure.people
    if people.empty:
        return {}
    changed: dict[str, int] = {}
    spells = _spells_of(connection, pd.Index(people["pseudonym"]))
    if not spells.empty:
        dated = spells.merge(people[["pseudonym", "tombstone", "erased_on"]], on="pseudonym")
        dated = dated.loc[pd.to_datetime(dated["inskrivningsdatum"]) <= dated["erased_on"]]
        dated = erasure.freeze_anonymous(dated)
        dated = register_out(dated.drop(columns="erased_on"), erasure.avb, "tombstone")
        _rewrite(connection, deidentify(dated).drop(columns="tombstone"))
        changed["spell (avidentifierad)"] = len(dated)
    pseudonyms = pd.Index(people["pseudonym"])
    changed["identity_vault"] = _delete_people(connection, models.IdentityVault.__table__, pseudonyms)
    with _erasure_days(connection, people) as days:
        for table, start in partner_tables.items():
            changed[table.name] = _delete_dated(connection, table, start, days)
        changed["held_row"] = _delete_held_rows(connection, pseudonyms)
        changed["held_record"] = _erase_held_records(connection, erasure, list(participant_sources))
        changed["consent"] = _delete_dated(connection, models.Consent.__table__, "samtycke_fran",
                                           days)
    _audit(connection, changed)
    return {name: rows for name, rows in changed.items() if rows}


def _erase_held_records(connection: Connection, erasure: Erasure, participants: list[str]) -> int:
    """Records still waiting to load: an erased person's partner records go; their spells wait on
    de-identified (as they would have been erased had they loaded first), under no landing row's
    number (a random negative one keeps the key unique)."""
    kept = held_records.of_people(connection, erasure.people["pseudonym"].tolist())
    if kept.empty:
        return 0
    held_records.remove_ids(connection, kept["id"].astype(int).tolist())
    spells = kept.loc[kept["source"].isin(participants)].reset_index(drop=True)
    if spells.empty:
        return len(kept)
    frame = held_records.payloads(spells, models.Spell.__table__).assign(
        _source=spells["source"].to_numpy(), _waits=spells["waits_for"].to_numpy(),
        **{held_records.HELD_DELIVERY: spells["delivery_id"].astype("int64").to_numpy()})
    frame = frame.merge(erasure.people[["pseudonym", "tombstone"]], on="pseudonym")
    frame = erasure.freeze_anonymous(frame)
    frame = deidentify(register_out(frame, erasure.avb, "tombstone")).drop(columns="tombstone")
    frame[held_records.HELD_ROW] = [-secrets.randbelow(2**31 - 1) - 1 for _ in range(len(frame))]
    for (source, reason), group in frame.groupby(["_source", "_waits"]):
        held_records.store(connection, source, models.Spell.__table__, group, waits_for=reason)
    return len(kept)


def register_out_withdrawn(connection: Connection, consents: pd.DataFrame) -> int:
    """Spells of people still identified whose SUS consent for the insats was withdrawn while
    the spell was open: ended that day with AVB. Run after every load that can bring a spell back."""
    days = avb_days(consents)
    if days.empty:
        return 0
    spells = _spells_of(connection, pd.Index(days["pseudonym"].unique()))
    if spells.empty:
        return 0
    marked = register_out(spells, days)
    before = pd.to_datetime(spells["utskrivningsdatum"])
    after = pd.to_datetime(marked["utskrivningsdatum"])
    changed = ~((before == after) | (before.isna() & after.isna())) | (
        spells["withdrawn_on"].isna() & marked["withdrawn_on"].notna())
    _rewrite(connection, marked.loc[changed])
    if changed.any():
        _audit(connection, {"spell (utskriven AVB)": int(changed.sum())})
    return int(changed.sum())


def _audit(connection: Connection, changed: Mapping[str, int]) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    rows = [{"erased_at": now, "rule": "återkallat samtycke", "table_name": name, "rows": count}
            for name, count in changed.items() if count]
    if rows:
        connection.execute(insert(models.ErasureAudit), rows)


def _spells_of(connection: Connection, people: pd.Index) -> pd.DataFrame:
    table = models.Spell.__table__
    frames = [pd.read_sql(select(table).where(table.c.pseudonym.in_(list(chunk))), connection)
              for chunk in _chunks(people)]
    frames = [frame for frame in frames if not frame.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _chunks(values: Iterable, size: int = 500):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _rewrite(connection: Connection, spells: pd.DataFrame) -> None:
    if spells.empty:
        return
    table = models.Spell.__table__
    for chunk in _chunks(spells["id"].tolist()):
        connection.execute(delete(table).where(table.c.id.in_(chunk)))
    load.insert_frame(connection, table, spells)


def _delete_held_rows(connection: Connection, people: pd.Index) -> int:
    """The person's held rows and the decisions about them (a note may name them)."""
    held, decisions = models.HeldRow.__table__, models.StewardDecision.__table__
    deleted = 0
    for chunk in _chunks(people):
        ids = connection.execute(select(held.c.id).where(held.c.pseudonym.in_(chunk))).scalars().all()
        for part in _chunks(ids):
            connection.execute(delete(decisions).where(decisions.c.held_row_id.in_(part)))
            deleted += int(connection.execute(delete(held).where(held.c.id.in_(part))).rowcount or 0)
    return deleted


def _delete_people(connection: Connection, table: Table, people: pd.Index) -> int:
    deleted = 0
    for chunk in _chunks(people):
        result = connection.execute(delete(table).where(table.c.pseudonym.in_(chunk)))
        deleted += int(result.rowcount or 0)
    return deleted


@contextmanager
def _erasure_days(connection: Connection, people: pd.DataFrame):
    """The people's erasure days as a temporary table (pseudonym, day, and the day's month as
    ``YYYY-MM`` for tables that date their records by month), dropped again when done: each
    table's dated rows then go in one statement, not one per person."""
    days = (people.assign(erased_on=pd.to_datetime(people["erased_on"]))
            .groupby("pseudonym", as_index=False)["erased_on"].max())
    table = Table("erasure_days", MetaData(),
                  Column("pseudonym", models.PSEUDONYM, primary_key=True), Column("day", Date),
                  Column("month", String(7)), prefixes=["TEMPORARY"])
    table.create(connection)
    load.insert_frame(connection, table, pd.DataFrame({
        "pseudonym": days["pseudonym"].astype("string"), "day": days["erased_on"],
        "month": days["erased_on"].dt.strftime("%Y-%m").astype("string")}))
    yield table
    # not in a finally: after a failed statement PostgreSQL refuses the DROP and would hide the
    # error; the failed transaction's rollback removes the table anyway
    table.drop(connection)


def _delete_dated(connection: Connection, table: Table, start: str, days: Table) -> int:
    """The people's rows dated up to their erasure day (``days``: ``_erasure_days``; a month as
    ``YYYY-MM`` compares as text)."""
    column = table.c[start]
    bound = days.c.month if column.type.python_type is str else days.c.day
    up_to_erasure = exists().where(days.c.pseudonym == table.c.pseudonym, column <= bound)
    result = connection.execute(delete(table).where(
        table.c.pseudonym.in_(select(days.c.pseudonym)), up_to_erasure))
    return int(result.rowcount or 0)
