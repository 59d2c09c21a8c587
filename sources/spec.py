"""What a source declares about itself; everything else in finsam is derived from it.

A source is one folder ``sources/<name>/``: ``spec.py`` (this declaration), ``rules.py`` (the
contract's rules as a Pandera schema) and ``reader.py`` (read and conform). The registry
(``sources.registry``) checks every declaration when it is built, so a personal source without a
consent rule, a table without a schema or an unknown dependency stops finsam at import time instead of
passing silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import pandas as pd
from sqlalchemy import Table

from finsam.consent import ConsentRule, PartnerConsent
from finsam.masking import Domain
from validation.rules import Rule, RuleSchema


class Strategy(StrEnum):
    """How a source's deliveries become the warehouse's truth (``assets/ingest/strategies``)."""

    DELTA = "delta"          # records changed since an earlier extraction: newest wins per key
    SNAPSHOT = "snapshot"    # the whole truth for its scope: the newest delivery replaces the scope
    WORKBOOK = "workbook"    # a snapshot of several sheets, each to its own table


class Role(StrEnum):
    """What the förbund does with a source's records beyond storing them."""

    PARTICIPANTS = "deltagare"   # the insats registers: the identity vault is filled from them, and
                                 # a withdrawal keeps their spells de-identified for statistics
    CONSENTS = "samtycken"       # the consent register: the withdrawal rules follow every load
    PARTNER = "partner"          # a partner's records: consent-filtered, erased on withdrawal
    ACCOUNTS = "ekonomi"         # the förbund's money: no people in it


@dataclass(frozen=True)
class Column:
    contract_name: str     # header as the contract writes it; matched case-insensitively
    name: str              # canonical snake_case name used from here on
    required: bool = True
    domain: Domain = Domain.TEXT   # what a failing value may show (finsam.masking)


@dataclass(frozen=True)
class CatalogueCheck:
    """A code that must be in the budget workbook's insats catalogue of the record's year."""

    code_column: str
    date_column: str
    contract_column: str
    rule: str
    always_known: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceSpec:
    name: str
    label: str               # the steward's name for it
    folder: str
    pattern: str             # regex on the file name; named groups: date, and scope where relevant
    strategy: Strategy
    role: Role
    natural_key: tuple[str, ...]           # contract-level key (``pnr`` = the identity number)
    columns: tuple[Column, ...]
    description: str
    asset: str                              # the Dagster asset that loads it
    asset_description: str
    table: Table | None = None              # where its conformed records go
    record_key: tuple[str, ...] = ()        # the stored key: ``pseudonym`` in place of ``pnr``
    consent: ConsentRule | None = None      # required when ``personal``
    depends_on: tuple[str, ...] = ()        # sources whose loads this one reads
    scope_column: str | None = None         # snapshot: the column its scope replaces (None: all)
    extra_tables: dict[str, Table] = field(default_factory=dict)   # workbook: conformed.extra key
    catalogue: CatalogueCheck | None = None
    reservnummer: bool = False              # reservnummer rows are counted, never linked
    record_date: str | None = None          # the record's own date (a partner's: its time's start)
    # the longest expected gap between two deliveries (days): a partner's daily export, the ledger
    # after each month's closing, the budget once a year. The freshness check warns beyond it.
    freshness_days: int = 7

    @property
    def personal(self) -> bool:
        return self.role in (Role.PARTICIPANTS, Role.CONSENTS, Role.PARTNER)

    @property
    def kind(self) -> str:
        """Delta or snapshot: a workbook is a snapshot of its year."""
        return Strategy.DELTA if self.strategy == Strategy.DELTA else Strategy.SNAPSHOT

    def record_dates(self, frame: pd.DataFrame) -> pd.Series:
        """Each record's own date: when a partner's record begins, or the declared date column
        (enrolment, booking day); empty where the source has none or the value is unreadable."""
        if isinstance(self.consent, PartnerConsent) and self.consent.time.start in frame:
            return pd.Series(self.consent.time.interval(frame)[0], index=frame.index)
        if self.record_date is not None and self.record_date in frame:
            return pd.to_datetime(frame[self.record_date], errors="coerce")
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")

    def match(self, file_name: str) -> re.Match | None:
        return re.fullmatch(self.pattern, file_name)

    def column_map(self) -> dict[str, Column]:
        return {header_key(column.contract_name): column for column in self.columns}

    def contract_names(self) -> dict[str, str]:
        return {column.name: column.contract_name for column in self.columns}

    def domains(self) -> dict[str, Domain]:
        return {column.name: column.domain for column in self.columns}

    def rule_schema(self, rules: list[Rule]) -> RuleSchema:
        """The contract's rules for this source's columns, masked as the columns' domains say."""
        return RuleSchema(self.name, self.contract_names(), rules, domains=self.domains())


def header_key(header: object) -> str:
    """A header as it is matched: case-insensitively, surrounding and repeated spaces ignored."""
    return re.sub(r"\s+", " ", str(header)).strip().casefold()


DATE_GROUP = r"(?P<date>\d{8})"


class Reader(Protocol):
    """A source's ``reader`` module: ``read(delivery)`` gives the contract's columns as text,
    ``conform(raw, delivery)`` the typed rows and the issues (see ``sources.base``)."""

    def read(self, delivery: Any) -> Any: ...

    def conform(self, raw: Any, delivery: Any) -> Any: ...


@dataclass(frozen=True)
class Source:
    """A source's declaration with its reader."""

    spec: SourceSpec
    reader: Reader

    @property
    def name(self) -> str:
        return self.spec.name

    # through the module, so what a test or the benchmark's stage clock puts there is what runs
    def read(self, delivery: Any) -> Any:
        return self.reader.read(delivery)

    def conform(self, raw: Any, delivery: Any) -> Any:
        return self.reader.conform(raw, delivery)
