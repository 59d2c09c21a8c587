"""The frames the Great Expectations suites judge, built from the warehouse as it stands.

Written apart from ingestion on purpose: nothing here calls the consent filter, the withdrawal
rules or the loaders. Each rule is stated again from the tables (the manifest, the snapshot
states, the consent register, the vault), so a bug in ingestion fails an expectation here instead
of agreeing with itself.

Pseudonyms are read to join tables and never leave this module: every frame it returns holds one
boolean column per rule, one row per stored row (or counts per quarter), nothing that identifies.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property

import pandas as pd
from sqlalchemy import Connection, Table, select

from finsam.consent import RecordTime
from finsam.enums import Outcome
from warehouse import models

MIN_ENROLMENTS = 20   # below this a quarter's shares are too noisy to compare

# The rules' columns (their texts and severities are in assets/quality/suites.py).
FROM_LOADED_DELIVERY = "fran_inlast_leverans_av_kallan"
SAME_EXTRACTION = "uttagsdatum_som_leveransens"
CURRENT_SNAPSHOT = "fran_omfangets_gallande_leverans"
PARTNER_CONSENT = "samtycke_som_namner_parten"
IN_VAULT = "pseudonym_i_valvet"
DEIDENTIFIED_BARE = "avidentifierad_utan_pekare"
ONE_KIND = "ett_slag_av_deltagande"
ERASED_WHEN_WITHDRAWN = "inte_helt_aterkallad"
VAULT_OWNER = "har_deltagande"
IN_CATALOGUE = "kod_i_arets_insatskatalog"


def _true(values: pd.Series) -> pd.Series:
    """Comparisons with a missing value count as not holding, whatever the dtype."""
    return values.astype("boolean").fillna(False).astype(bool)


def _days(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, errors="coerce")


def _ids(values: pd.Series) -> pd.Series:
    return values.reset_index(drop=True).astype("Int64")


class Tables:
    """The warehouse's tables as the suites need them, each read at most once per check."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def read(self, table: Table, *columns: str) -> pd.DataFrame:
        # in a stable order, so an unchanged table gives the same frame (and fingerprint)
        order = list(table.primary_key.columns)
        query = select(*[table.c[name] for name in columns]).order_by(*order)
        return pd.read_sql(query, self.connection)

    @cached_property
    def deliveries(self) -> pd.DataFrame:
        return self.read(models.Delivery.__table__, "id", "source", "outcome", "extraction_date",
                         "rows_read")

    @cached_property
    def states(self) -> pd.DataFrame:
        return self.read(models.SnapshotState.__table__, "source", "scope", "delivery_id",
                         "extraction_date")

    @cached_property
    def consents(self) -> pd.DataFrame:
        frame = self.read(models.Consent.__table__, "pseudonym", "samtycke_fran", "giltigt_till",
                          "aterkallat", "parter")
        for name in ("samtycke_fran", "giltigt_till", "aterkallat"):
            frame[name] = _days(frame[name])
        return frame

    @cached_property
    def vault(self) -> pd.Series:
        return self.read(models.IdentityVault.__table__, "pseudonym")["pseudonym"]

    @cached_property
    def catalogue(self) -> pd.DataFrame:
        return self.read(models.BudgetInsats.__table__, "year", "insats")

    def waiting_people(self, sources: Iterable[str]) -> pd.Series:
        """Pseudonyms of records still waiting to load (held for the steward or the catalogue)."""
        held = self.read(models.HeldRecord.__table__, "source", "pseudonym")
        return held.loc[held["source"].isin(list(sources)), "pseudonym"].dropna()


# -- Lineage: every stored row from a loaded delivery of its own source -------------------------

def lineage(rows: pd.DataFrame, deliveries: pd.DataFrame, source: str, *,
            pointerless: pd.Series | None = None) -> pd.DataFrame:
    """Per stored row: its delivery is one of ``source``'s, loaded (``inläst``: a delivery that
    was superseded, rejected or is waiting never had rows stored), and the row carries that
    delivery's extraction date. ``pointerless`` marks rows that rightly point to no delivery (a
    de-identified spell); a row without a delivery is otherwise a failure."""
    known = deliveries.rename(columns={"id": "delivery_id", "extraction_date": "delivered"})
    merged = pd.DataFrame({"delivery_id": _ids(rows["delivery_id"]),
                           "extraction_date": rows["extraction_date"].to_numpy()}).merge(
        known[["delivery_id", "source", "outcome", "delivered"]].astype({"delivery_id": "Int64"}),
        on="delivery_id", how="left")
    loaded = _true((merged["source"] == source) & (merged["outcome"] == Outcome.LOADED))
    same = _true(_days(merged["extraction_date"]) == _days(merged["delivered"]))
    excused = _excused(rows, pointerless)
    return pd.DataFrame({FROM_LOADED_DELIVERY: (loaded | excused).to_numpy(),
                         SAME_EXTRACTION: (same | excused).to_numpy()})


def _excused(rows: pd.DataFrame, pointerless: pd.Series | None) -> pd.Series:
    if pointerless is None:
        return pd.Series(False, index=range(len(rows)))
    return pd.Series(_true(pointerless).to_numpy() & rows["delivery_id"].isna().to_numpy())


def current_snapshot(rows: pd.DataFrame, deliveries: pd.DataFrame, states: pd.DataFrame,
                     source: str, scope_column: str | None, *,
                     pointerless: pd.Series | None = None) -> pd.Series:
    """Per stored row of a snapshot source: it comes from the delivery the snapshot state names
    for its scope (the row's ``scope_column``; without one the whole table is one scope), and the
    state carries that delivery's extraction date. A scope still holding rows of a replaced
    delivery, or of two deliveries at once, fails here."""
    mine = states.loc[states["source"] == source, ["scope", "delivery_id", "extraction_date"]]
    mine = mine.merge(deliveries[["id", "extraction_date"]].rename(
        columns={"id": "delivery_id", "extraction_date": "delivered"}), on="delivery_id", how="left")
    mine = mine.assign(consistent=_true(_days(mine["extraction_date"]) == _days(mine["delivered"])),
                       truth=mine["delivery_id"].astype("Int64"))[["scope", "truth", "consistent"]]
    if scope_column is None:
        # one scope for the whole table: exactly one state may name it
        scopes = pd.Series(mine["scope"].iloc[0] if len(mine) == 1 else None,
                           index=range(len(rows)), dtype="object")
    else:
        scopes = rows[scope_column].reset_index(drop=True).astype("string").astype("object")
    merged = pd.DataFrame({"scope": scopes.to_numpy(dtype=object),
                           "delivery_id": _ids(rows["delivery_id"])}).merge(
        mine.astype({"scope": "object"}), on="scope", how="left")
    holds = _true((merged["delivery_id"] == merged["truth"]) & merged["consistent"])
    return pd.Series((holds | _excused(rows, pointerless)).to_numpy())


# -- Partner records: a consent naming the partner, in force at the record's time ---------------

def in_force_until(consents: pd.DataFrame) -> pd.Series:
    """The last day each consent is in force: the earlier of its end and the day before it was
    withdrawn (NaT: open-ended)."""
    eve = consents["aterkallat"] - pd.Timedelta(days=1)
    return pd.concat([consents["giltigt_till"], eve], axis=1).min(axis=1)


def record_interval(rows: pd.DataFrame, time: RecordTime) -> tuple[pd.Series, pd.Series]:
    """The record's time as its declaration states it: a day, a period (an open end runs on) or
    a month (``YYYY-MM``, the whole month). Unreadable times are NaT and never covered."""
    if time.month:
        start = pd.to_datetime(rows[time.start].astype("string") + "-01", format="%Y-%m-%d",
                               errors="coerce")
        return start, start + pd.offsets.MonthEnd(0)
    start = _days(rows[time.start])
    return start, start if time.end is None else _days(rows[time.end])


def partner_consent(rows: pd.DataFrame, consents: pd.DataFrame, partner: str,
                    time: RecordTime) -> pd.Series:
    """Per stored partner record (``pseudonym``, ``extraction_date`` and its time columns): some
    consent of the same person whose ``parter`` names ``partner`` was in force on some day of the
    record's time, counted only up to the day the partner extracted the record (a consent given
    after the data was shared does not cover it)."""
    if rows.empty:
        return pd.Series(dtype=bool)
    start, end = record_interval(rows, time)
    extracted = _days(rows["extraction_date"])
    known_end = end.where(end.notna() & (end <= extracted), extracted)
    names = ("," + consents["parter"].astype("string") + ",").str.contains(f",{partner},",
                                                                         regex=False)
    usable = consents.loc[_true(names), ["pseudonym", "samtycke_fran"]].assign(
        until=in_force_until(consents.loc[_true(names)]))
    # a consent withdrawn before it began, or ending before it began, was never in force
    usable = usable.loc[usable["until"].isna() | (usable["until"] >= usable["samtycke_fran"])]
    records = pd.DataFrame({"pseudonym": rows["pseudonym"].to_numpy(),
                            "start": start.to_numpy(), "end": known_end.to_numpy(),
                            "position": range(len(rows))})
    pairs = records.merge(usable, on="pseudonym", how="inner")
    overlaps = (pairs["start"].notna() & _true(pairs["samtycke_fran"] <= pairs["end"])
                & (pairs["until"].isna() | _true(pairs["until"] >= pairs["start"])))
    covered = pd.Index(pairs.loc[overlaps, "position"].unique())
    return pd.Series(pd.RangeIndex(len(rows)).isin(covered))


# -- The consent register: nobody fully withdrawn is still stored ------------------------------

def not_fully_withdrawn(consents: pd.DataFrame) -> pd.Series:
    """Per consent row: its person is not someone whose every consent given by some day was
    withdrawn by that day, with this row dated on or before it. Such a person is erased on that
    day (vault, partner records, consents up to it); a consent row still there means the erasure
    did not happen."""
    withdrawn = consents.loc[consents["aterkallat"].notna(), ["pseudonym", "aterkallat"]]
    if withdrawn.empty:
        return pd.Series(True, index=range(len(consents)))
    days = withdrawn.rename(columns={"aterkallat": "day"}).drop_duplicates()
    pairs = days.merge(consents[["pseudonym", "samtycke_fran", "aterkallat"]], on="pseudonym")
    unwithdrawn = ((pairs["samtycke_fran"] <= pairs["day"])
                   & (pairs["aterkallat"].isna() | (pairs["aterkallat"] > pairs["day"])))
    kept = pairs.assign(unwithdrawn=unwithdrawn).groupby(["pseudonym", "day"])["unwithdrawn"].any()
    ends = kept.loc[~kept].reset_index().groupby("pseudonym", as_index=False)["day"].min()
    dated = pd.DataFrame({"pseudonym": consents["pseudonym"].to_numpy(),
                          "samtycke_fran": consents["samtycke_fran"].to_numpy()})
    erased_on = dated.merge(ends, on="pseudonym", how="left")["day"]
    return ~_true(erased_on.notna() & (dated["samtycke_fran"] <= erased_on))


# -- Spells and the identity vault ---------------------------------------------------------------

def spell_rules(spells: pd.DataFrame, vault: pd.Series) -> pd.DataFrame:
    """Per spell: a pseudonym is in the vault (the SUS submission decrypts it from there); a
    de-identified spell has no pseudonym and points to no landing row; and each spell is exactly
    one kind: identified (pseudonym), de-identified (random token) or anonymous (Anonym or
    protected identity, no person at all)."""
    spells = spells.reset_index(drop=True)
    pseudonym = spells["pseudonym"].notna()
    token = spells["deidentified_person"].notna()
    anonymous = _true(spells["anonym"]) | _true(spells["skyddad_identitet"])
    pointer = (spells["delivery_id"].notna() | spells["row_number"].notna()
               | spells["extraction_date"].notna())
    identified = pseudonym & ~token & ~anonymous
    # an erasure writes into ``anonym`` whether the spell was registered anonymously in SUS (its
    # consents go with the person), so a de-identified spell may carry it; never protected identity
    deidentified = token & ~pseudonym & ~_true(spells["skyddad_identitet"])
    nobody = anonymous & ~pseudonym & ~token
    return pd.DataFrame({
        IN_VAULT: (~pseudonym | spells["pseudonym"].isin(set(vault))).to_numpy(),
        DEIDENTIFIED_BARE: (~token | (~pseudonym & ~pointer)).to_numpy(),
        ONE_KIND: (identified | deidentified | nobody).to_numpy(),
    })


def vault_owners(vault: pd.Series, spells: pd.DataFrame, waiting: pd.Series) -> pd.Series:
    """Per vault entry: a stored spell, or a spell record waiting to load, is that person's. An
    identity number kept for nobody the förbund follows is kept without a purpose."""
    owners = set(spells["pseudonym"].dropna()) | set(waiting)
    return pd.Series(vault.reset_index(drop=True).isin(owners).to_numpy())


# -- Codes that must agree with the budget workbook --------------------------------------------

def in_catalogue(codes: pd.Series, days: pd.Series, catalogue: pd.DataFrame,
                 always_known: Iterable[str] = ()) -> pd.Series:
    """Per stored row: its code is on the Insatser sheet of the budget year its date falls in. A
    year no budget workbook covers is judged by every year's sheet (the first spells of a year
    arrive before its budget); ``always_known`` codes (ADM) need no sheet. A code that was on the
    sheet when the row loaded and is gone from the workbook that replaced it fails here."""
    rows = pd.DataFrame({"year": _days(days).dt.year.astype("Int64").to_numpy(),
                         "code": codes.astype("string").str.upper().to_numpy(),
                         "position": range(len(codes))})
    sheet = pd.DataFrame({"year": catalogue["year"].astype("Int64"),
                          "code": catalogue["insats"].astype("string").str.upper()})
    listed = rows.merge(sheet.drop_duplicates(), on=["year", "code"], how="inner")["position"]
    uncovered = ~rows["year"].isin(sheet["year"].dropna().unique())
    anywhere = uncovered & rows["code"].isin(sheet["code"].dropna().unique())
    fixed = rows["code"].isin([code.upper() for code in always_known])
    known = rows["position"].isin(listed) | _true(anywhere) | _true(fixed)
    return pd.Series(known.to_numpy(dtype=bool))


# -- Distributions: worth a look, never blocking -------------------------------------------------

def delivered_rows(manifest: pd.DataFrame, partners: Iterable[str]) -> pd.DataFrame:
    """Rows each partner delivered per quarter of extraction, from the partner's first delivery to
    the last quarter anyone delivered, zeros included: a zero is a quarter the partner sent
    nothing readable (a partner that stops delivering shows up; one that joined late does not)."""
    partners = list(partners)
    readable = manifest.loc[manifest["source"].isin(partners)
                            & manifest["outcome"].isin([Outcome.LOADED, Outcome.SUPERSEDED])]
    if readable.empty:
        return pd.DataFrame(columns=["partner", "quarter", "rows"])
    quarters = pd.to_datetime(readable["extraction_date"]).dt.to_period("Q")
    span = pd.period_range(quarters.min(), quarters.max(), freq="Q")
    table = (readable.assign(quarter=quarters).pivot_table(index="quarter", columns="source",
                                                           values="rows_read", aggfunc="sum")
             .reindex(index=span, columns=partners).fillna(0).astype(int))
    started = table.where(table.gt(0).cummax())
    long = started.stack().dropna().astype(int).rename("rows").reset_index()
    long.columns = ["quarter", "partner", "rows"]
    return long.assign(quarter=long["quarter"].astype(str))[["partner", "quarter", "rows"]]


def share_changes(spells: pd.DataFrame) -> pd.DataFrame:
    """Share of women among each quarter's enrolments and its change from the quarter before."""
    quarter = pd.to_datetime(spells["inskrivningsdatum"]).dt.to_period("Q")
    table = pd.crosstab(quarter, spells["kon"])
    total = table.sum(axis=1)
    share = (table.get("K", 0) / total).where(total >= MIN_ENROLMENTS)
    change = share.diff().abs()
    return pd.DataFrame({"quarter": share.index.astype(str), "share_women": share.to_numpy(),
                         "share_change": change.to_numpy()}).dropna()
