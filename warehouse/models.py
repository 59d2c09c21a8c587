"""Warehouse tables. Only ``identity_vault`` may hold a real identity number, and only encrypted.

Person-level tables carry the pseudonym (HMAC, 64 hex characters). Delta tables carry a
``record_key``: the source's natural key joined into one string (pseudonym in place of the number),
so that newest-wins merging is one indexed equality on every database.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

PSEUDONYM = String(64)
CODE = String(16)
RECORD_KEY = String(160)
MONEY = Numeric(14, 2)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Delivery(Base):
    """The manifest: every file seen in the landing zone and what became of it."""

    __tablename__ = "delivery"
    __table_args__ = (UniqueConstraint("source", "file_name", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(16), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    extraction_date: Mapped[dt.date | None] = mapped_column(Date)
    scope: Mapped[str | None] = mapped_column(String(32))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    # with the name and size, tells an unchanged file from a new one without reading it again
    mtime_ns: Mapped[int | None] = mapped_column(BigInteger)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_loaded: Mapped[int] = mapped_column(Integer, default=0)
    rows_held: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class SnapshotState(Base):
    """Which delivery is the current truth for each snapshot scope (insats, register, budget year)."""

    __tablename__ = "snapshot_state"

    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("delivery.id"))
    extraction_date: Mapped[dt.date] = mapped_column(Date)


class _Loaded:
    """Lineage columns every conformed record carries."""

    delivery_id: Mapped[int] = mapped_column(ForeignKey("delivery.id"), index=True)
    extraction_date: Mapped[dt.date] = mapped_column(Date)
    row_number: Mapped[int] = mapped_column(Integer)


class _Versioned(_Loaded):
    """A delta record's version: extraction date, file name and row of the delivery it came from,
    as one sortable text, so the newest wins whatever order the deliveries arrived in."""

    version: Mapped[str | None] = mapped_column(String(300))


class Spell(Base):
    """One participant's spell (deltagarande) in an insats, from the insats register snapshot.

    The lineage columns are empty for a de-identified spell: nothing may point back to the landing
    row that held the person's number."""

    __tablename__ = "spell"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("delivery.id"), index=True)
    extraction_date: Mapped[dt.date | None] = mapped_column(Date)
    row_number: Mapped[int | None] = mapped_column(Integer)
    record_key: Mapped[str] = mapped_column(RECORD_KEY, unique=True)
    insats: Mapped[str] = mapped_column(CODE, index=True)
    pseudonym: Mapped[str | None] = mapped_column(PSEUDONYM, index=True)
    anonym: Mapped[bool] = mapped_column(Boolean)
    skyddad_identitet: Mapped[bool] = mapped_column(Boolean)
    kon: Mapped[str | None] = mapped_column(String(1))
    # age on the enrolment day is all the outputs need of the birth date, which is not kept
    age_at_enrolment: Mapped[int | None] = mapped_column(Integer)
    # After a withdrawal the pseudonym and birth date are erased; a random token (derived from no
    # identity and no key) keeps "unique persons" countable for the quarters already reported.
    deidentified_person: Mapped[str | None] = mapped_column(String(32))
    withdrawn_on: Mapped[dt.date | None] = mapped_column(Date)
    aktualiserande_part: Mapped[str | None] = mapped_column(CODE)
    inskrivningsdatum: Mapped[dt.date] = mapped_column(Date)
    utskrivningsdatum: Mapped[dt.date | None] = mapped_column(Date)
    # the quarter the spell ended: all that is kept of an anonymous spell's end (YYYYQn)
    utskrivningskvartal: Mapped[str | None] = mapped_column(String(6))
    avslutsanledning: Mapped[str | None] = mapped_column(CODE)
    forsorjning_in: Mapped[str | None] = mapped_column(String(64))
    forsorjning_ut: Mapped[str | None] = mapped_column(String(64))
    tid_offentlig_forsorjning: Mapped[str | None] = mapped_column(String(2))
    utbildningsniva: Mapped[str | None] = mapped_column(CODE)
    kommun: Mapped[str | None] = mapped_column(String(4))


class Consent(_Loaded, Base):
    """A consent as the consent register states it, per person and insats."""

    __tablename__ = "consent"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_key: Mapped[str] = mapped_column(RECORD_KEY, unique=True)
    pseudonym: Mapped[str] = mapped_column(PSEUDONYM, index=True)
    insats: Mapped[str] = mapped_column(CODE)
    samtycke_fran: Mapped[dt.date] = mapped_column(Date)
    giltigt_till: Mapped[dt.date | None] = mapped_column(Date)
    aterkallat: Mapped[dt.date | None] = mapped_column(Date)
    parter: Mapped[str] = mapped_column(String(64))
    sus: Mapped[bool] = mapped_column(Boolean)


class FkBenefit(_Versioned, Base):
    __tablename__ = "fk_benefit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_key: Mapped[str] = mapped_column(RECORD_KEY, unique=True)
    pseudonym: Mapped[str] = mapped_column(PSEUDONYM, index=True)
    forman: Mapped[str] = mapped_column(CODE)
    forsorjning: Mapped[str] = mapped_column(CODE)
    omfattning: Mapped[float] = mapped_column(Float)
    fom: Mapped[dt.date] = mapped_column(Date)
    tom: Mapped[dt.date | None] = mapped_column(Date)


class AfSupport(_Versioned, Base):
    __tablename__ = "af_support"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_key: Mapped[str] = mapped_column(RECORD_KEY, unique=True)
    pseudonym: Mapped[str] = mapped_column(PSEUDONYM, index=True)
    inskriven_fran: Mapped[dt.date] = mapped_column(Date)
    inskriven_till: Mapped[dt.date | None] = mapped_column(Date)
    sokandekategori: Mapped[str | None] = mapped_column(String(2))
    ersattning: Mapped[str] = mapped_column(CODE)
    forsorjning: Mapped[str | None] = mapped_column(CODE)
    ersattning_fran: Mapped[dt.date | None] = mapped_column(Date)
    ersattning_till: Mapped[dt.date | None] = mapped_column(Date)


class SocPayment(_Versioned, Base):
    __tablename__ = "soc_payment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_key: Mapped[str] = mapped_column(RECORD_KEY, unique=True)
    pseudonym: Mapped[str] = mapped_column(PSEUDONYM, index=True)
    manad: Mapped[str] = mapped_column(String(7))
    belopp: Mapped[float] = mapped_column(MONEY)


class HsfContact(_Versioned, Base):
    __tablename__ = "hsf_contact"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_key: Mapped[str] = mapped_column(RECORD_KEY, unique=True)
    pseudonym: Mapped[str] = mapped_column(PSEUDONYM, index=True)
    kontaktdatum: Mapped[dt.date] = mapped_column(Date)
    kontakttyp: Mapped[str] = mapped_column(CODE)
    sjukskriven_fom: Mapped[dt.date | None] = mapped_column(Date)
    sjukskriven_tom: Mapped[dt.date | None] = mapped_column(Date)
    sjukskrivningsgrad: Mapped[float | None] = mapped_column(Float)


class LedgerEntry(_Versioned, Base):
    __tablename__ = "ledger_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_key: Mapped[str] = mapped_column(RECORD_KEY, unique=True)
    ver_nr: Mapped[str] = mapped_column(String(32))
    rad: Mapped[int] = mapped_column(Integer)
    bokforingsdatum: Mapped[dt.date] = mapped_column(Date, index=True)
    konto: Mapped[int] = mapped_column(Integer)
    projekt: Mapped[str] = mapped_column(CODE)
    belopp: Mapped[float] = mapped_column(MONEY)
    kostnadsslag: Mapped[str | None] = mapped_column(CODE)
    account_class: Mapped[str] = mapped_column(String(8))


class BudgetInsats(_Loaded, Base):
    """The insats catalogue of a budget year (sheet Insatser)."""

    __tablename__ = "budget_insats"
    __table_args__ = (UniqueConstraint("year", "insats"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    insats: Mapped[str] = mapped_column(CODE)
    namn: Mapped[str] = mapped_column(String(128))
    startdatum: Mapped[dt.date] = mapped_column(Date)
    slutdatum: Mapped[dt.date | None] = mapped_column(Date)
    inriktning: Mapped[str] = mapped_column(String(32))
    mal_deltagare: Mapped[float | None] = mapped_column(Float)
    mal_andel: Mapped[float | None] = mapped_column(Float)


class BudgetLine(_Loaded, Base):
    """One insats x kostnadsslag row of the Budget sheet (TOTALT rows are checked, not stored)."""

    __tablename__ = "budget_line"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    insats: Mapped[str] = mapped_column(CODE)
    kostnadsslag: Mapped[str] = mapped_column(CODE)
    q1: Mapped[float | None] = mapped_column(MONEY)
    q2: Mapped[float | None] = mapped_column(MONEY)
    q3: Mapped[float | None] = mapped_column(MONEY)
    q4: Mapped[float | None] = mapped_column(MONEY)
    ackumulering: Mapped[float] = mapped_column(MONEY)
    arsbudget: Mapped[float | None] = mapped_column(MONEY)
    spread: Mapped[bool] = mapped_column(Boolean)


class BudgetAnnual(_Loaded, Base):
    """Årsbudget per insats as stated on its TOTALT row."""

    __tablename__ = "budget_annual"
    __table_args__ = (UniqueConstraint("year", "insats"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    insats: Mapped[str] = mapped_column(CODE)
    arsbudget: Mapped[float] = mapped_column(MONEY)


class BudgetFinancing(_Loaded, Base):
    __tablename__ = "budget_financing"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    finansiar: Mapped[str] = mapped_column(String(64))
    belopp: Mapped[float] = mapped_column(MONEY)


class IdentityVault(Base):
    """The only place a real identity number lives: Fernet-encrypted, read only by the SUS adapter."""

    __tablename__ = "identity_vault"

    pseudonym: Mapped[str] = mapped_column(PSEUDONYM, primary_key=True)
    ciphertext: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class HeldRow(Base):
    """Quarantine: one row per (delivery row, column, rule) held for the data steward."""

    __tablename__ = "held_row"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("delivery.id"), index=True)
    source: Mapped[str] = mapped_column(String(16), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    row_number: Mapped[int | None] = mapped_column(Integer)
    column: Mapped[str | None] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(128))
    severity: Mapped[str] = mapped_column(String(8))
    expected: Mapped[str | None] = mapped_column(String(512))
    found: Mapped[str | None] = mapped_column(String(512))
    status: Mapped[str] = mapped_column(String(16), default="öppen", index=True)
    scope: Mapped[str | None] = mapped_column(String(32))
    # The row's natural key without the failing column, identity reduced to its birth-date part:
    # a corrected redelivery of the same record carries the same match key and closes this row.
    match_key: Mapped[str | None] = mapped_column(String(255), index=True)
    # whose row it is, when the number was valid: a withdrawal erases the person's held rows too
    pseudonym: Mapped[str | None] = mapped_column(PSEUDONYM, index=True)
    # the record's own date (enrolment, booking, contact day), when it could be read
    record_date: Mapped[dt.date | None] = mapped_column(Date)
    loaded: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)
    first_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class StewardDecision(Base):
    """Audit of every change to a held row's status: the steward's and the pipeline's own."""

    __tablename__ = "steward_decision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    held_row_id: Mapped[int] = mapped_column(ForeignKey("held_row.id"), index=True)
    decision: Mapped[str] = mapped_column(String(32))
    status_before: Mapped[str] = mapped_column(String(16))
    status_after: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class StewardNotice(Base):
    """What the steward must see besides row failures: unrecognised or rejected files, vanished
    snapshot records, unlinkable reservnummer rows, data received without consent. Counts only."""

    __tablename__ = "steward_notice"
    __table_args__ = (UniqueConstraint("kind", "source", "file_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    file_name: Mapped[str] = mapped_column(String(255))
    count: Mapped[int] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(Text)
    first_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ReconciliationConflict(Base):
    """Partner data contradicting the insats register; recomputed on every run (derived)."""

    __tablename__ = "reconciliation_conflict"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    insats: Mapped[str] = mapped_column(CODE)
    spell_key: Mapped[str] = mapped_column(RECORD_KEY)
    # where the steward finds the spell: the register delivery and its row
    file_name: Mapped[str] = mapped_column(String(255))
    row_number: Mapped[int] = mapped_column(Integer)
    inskrivningsdatum: Mapped[dt.date] = mapped_column(Date)
    person: Mapped[str] = mapped_column(String(40))
    rule: Mapped[str] = mapped_column(String(128))
    expected: Mapped[str] = mapped_column(String(512))
    found: Mapped[str] = mapped_column(String(512))
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ErasureAudit(Base):
    """Each erasure after a withdrawal: when, which rule, how many rows. Never who."""

    __tablename__ = "erasure_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    erased_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    rule: Mapped[str] = mapped_column(String(128))
    table_name: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)


class HeldRecord(Base):
    """A held row's record as it would be loaded (pseudonymised, keyed, JSON), for the rows that
    may load later: warnings the steward may accept, and rows waiting for a code the budget
    catalogue does not know yet. Kept so that no delivery file is ever needed again."""

    __tablename__ = "held_record"
    __table_args__ = (UniqueConstraint("delivery_id", "row_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(16), index=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("delivery.id"))
    row_number: Mapped[int] = mapped_column(Integer)
    pseudonym: Mapped[str | None] = mapped_column(PSEUDONYM, index=True)
    # what it waits for: the steward ("granskning") or a code in the budget catalogue ("katalog")
    waits_for: Mapped[str] = mapped_column(String(16), default="granskning")
    payload: Mapped[str] = mapped_column(Text)


class ErasureTombstone(Base):
    """A person who withdrew every consent, by a keyed hash in a purpose of its own (never the
    pseudonym): nothing about them dated up to ``erased_on`` is stored again, whatever is
    re-delivered. Per insats, the days a SUS consent ended by withdrawal (a spell open then ends AVB)."""

    __tablename__ = "erasure_tombstone"

    tombstone: Mapped[str] = mapped_column(String(64), primary_key=True)
    insats: Mapped[str] = mapped_column(CODE, primary_key=True)
    erased_on: Mapped[dt.date] = mapped_column(Date)
    # the days (ISO, comma-separated) a SUS consent for the insats ended by withdrawal
    avb_days: Mapped[str | None] = mapped_column(String(400))
    # the SUS consents' periods in force (``from:until``, comma-separated; "" on the person's row):
    # whether a spell that arrives after the erasure was anonymous; NULL: erased before they were kept
    sus_periods: Mapped[str | None] = mapped_column(String(400))


class StewardUser(Base):
    """Who may use the steward's web app, and as what: ``granskare`` reads, ``dataansvarig`` also
    accepts and reopens. A user without a password hash signs in only through the operator's
    reverse proxy; the name is what ``steward_decision.decided_by`` records."""

    __tablename__ = "steward_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class StewardSession(Base):
    """A signed-in browser. Only the SHA-256 of the cookie's token is stored, so a copy of the
    warehouse signs nobody in; the CSRF token every form must carry belongs to the session."""

    __tablename__ = "steward_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(64), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    via_proxy: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class KeyCheck(Base):
    """Per key role, a value that tells the right key from a wrong one without revealing it
    (``pseudonym``, ``vault``: HMAC-SHA256 of a fixed label under the key file's bytes). Stored by
    the first run, compared before every later run writes anything; replaced only by a deliberate
    key rotation. Role ``erasure``: after a rotation, the tombstone domain's key of the first
    pseudonym key, Fernet-encrypted with the vault key (erased people's numbers are gone, so their
    tombstones cannot be re-keyed; this keeps recognising them)."""

    __tablename__ = "key_check"

    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class SignOff(Base):
    """A span of quarters (one quarter, or a range such as 2024Q1-2024Q4) frozen as delivered to
    the board / the national system (``finsam signoff``): its outputs (``output_view`` rows
    pointing here) are never written again; later runs write what changed since, with the
    deliveries that caused each change."""

    __tablename__ = "signoff"
    __table_args__ = (UniqueConstraint("first_quarter", "last_quarter"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_quarter: Mapped[str] = mapped_column(String(6))
    last_quarter: Mapped[str] = mapped_column(String(6))
    signed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    signed_by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)


class OutputView(Base):
    """The latest build of one output folder (a quarter's view, or a range's): the quarters it
    covers (``first_quarter`` to ``last_quarter``), which run wrote it, its files and their
    SHA-256, the deliveries it was built from (JSON list of delivery ids) and, for outputs that
    have them, its cells (JSON: sheet, table, row, column, value). Once its span is signed off
    (``signoff_id``) the row and the files stay as they were."""

    __tablename__ = "output_view"
    __table_args__ = (UniqueConstraint("kind", "folder"),
                      Index("ix_output_view_span", "first_quarter", "last_quarter"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    folder: Mapped[str] = mapped_column(String(255))
    first_quarter: Mapped[str | None] = mapped_column(String(6))
    last_quarter: Mapped[str | None] = mapped_column(String(6))
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    run_id: Mapped[str | None] = mapped_column(String(64))
    built_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    files: Mapped[str] = mapped_column(Text)
    deliveries: Mapped[str] = mapped_column(Text)
    deidentified: Mapped[int] = mapped_column(Integer, default=0)
    cells: Mapped[str | None] = mapped_column(Text)
    signoff_id: Mapped[int | None] = mapped_column(ForeignKey("signoff.id"), index=True)


class SusReleaseCell(Base):
    """The release register: every cell of the published SUS statistics, once for each value it
    was shown with. A reader may put every publication together, so each new release is
    protected against all of them (``assets/sus/disclosure.py``). ``scope`` is the one insats a
    release was made for, "" for all; ``shown`` what the cell showed (".." when hidden; a share
    as Python writes the float, "" where there was none); ``value`` what it counted then (a
    share as the fraction), which tells whether the cell still says something about today's
    data."""

    __tablename__ = "sus_release_cell"
    __table_args__ = (
        UniqueConstraint("period_start", "period_end", "scope", "sheet", "table_name",
                         "row_label", "column_label", "shown", "value"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    scope: Mapped[str] = mapped_column(String(16))
    sheet: Mapped[str] = mapped_column(String(64))
    table_name: Mapped[str] = mapped_column(String(64))
    row_label: Mapped[str] = mapped_column(String(128))
    column_label: Mapped[str] = mapped_column(String(128))
    shown: Mapped[str] = mapped_column(String(32))
    value: Mapped[float | None] = mapped_column(Float)
    min_cell: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
