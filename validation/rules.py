"""Contract rules as Pandera checks, validated lazily, failure cases turned into the issue frame.

A source's rules are stated once, as data: the column they concern (canonical name), a Swedish rule
and expectation for the steward, a severity, and ``fails(frame) -> bool Series``. The frame they run
on is the reader's *prepared* frame: every raw text column under ``<name>_text`` next to its parsed
value under ``<name>``, so a rule can tell "empty" from "unreadable" from "out of range".

Pandera runs every check before reporting (lazy), so a file shows all its problems at once; its
failure cases (check, index) are mapped back to row number, contract column, rule and found value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd
import pandera.pandas as pa

from finsam import masking
from finsam.masking import Domain
from validation.issues import ERROR, ISSUE_COLUMNS, empty_issues

TEXT_SUFFIX = "_text"
IDENTITY = "personnummer"
WRONG_COLUMN = "ser ut som ett personnummer"

Fails = Callable[[pd.DataFrame], pd.Series]


@dataclass(frozen=True)
class Rule:
    column: str
    rule: str
    # text, or per row where it depends on the delivery (several are validated together)
    expected: str | Fails
    fails: Fails
    severity: str = ERROR
    found: Fails | None = None


def _passes(rule: Rule) -> Callable[[pd.DataFrame], pd.Series]:
    def check(frame: pd.DataFrame) -> pd.Series:
        return ~rule.fails(frame).fillna(False).astype(bool)
    return check


@dataclass
class RuleSchema:
    """A source's rules for one delivery, as a Pandera DataFrameSchema.

    ``domains`` (canonical column -> Domain) decides what the steward may see of a failing value
    (``finsam.masking``); a column without one is free text and only described. Every column that
    is not an identity column also gets the rule that it may not hold anything shaped like an
    identity number: such a row is held (masked), never stored and never a reason to refuse a
    whole load.
    """

    source: str
    contract_names: dict[str, str]
    rules: Sequence[Rule]
    domains: Mapping[str, Domain] = field(default_factory=dict)
    required_columns: Sequence[str] = ("row_number",)

    def __post_init__(self) -> None:
        guarded = [name for name, domain in self.domains.items() if domain != Domain.IDENTITY]
        self.rules = [*self.rules, *(_wrong_column(name) for name in guarded), _FIELD_COUNT]
        self.contract_names = {**self.contract_names, FIELDS: "(hela raden)"}

    def _ids(self) -> list[str]:
        return [f"{number:03d} {rule.column}: {rule.rule}" for number, rule in enumerate(self.rules)]

    def schema(self) -> pa.DataFrameSchema:
        # ignore_na would scan the whole frame for empty rows once per rule; _passes already
        # decides NA itself
        checks = [pa.Check(_passes(rule), name=check_id, error=check_id, ignore_na=False)
                  for check_id, rule in zip(self._ids(), self.rules)]
        columns = {name: pa.Column(nullable=True, required=True) for name in self.required_columns}
        return pa.DataFrameSchema(columns=columns, checks=checks, strict=False, name=self.source)

    def issues(self, frame: pd.DataFrame, *, file: str) -> pd.DataFrame:
        """Validate lazily; every failing (row, rule) as one issue row."""
        try:
            self.schema().validate(frame, lazy=True)
        except pa.errors.SchemaErrors as errors:
            return self._to_issues(errors.failure_cases, frame, file)
        return empty_issues()

    def _to_issues(self, cases: pd.DataFrame, frame: pd.DataFrame, file: str) -> pd.DataFrame:
        by_id = dict(zip(self._ids(), self.rules))
        parts = []
        for check_id, group in cases.groupby("check", sort=False):
            rule = by_id.get(check_id)
            if rule is None:
                raise RuntimeError(f"{self.source}: schema problem not tied to a rule: {check_id}")
            if group["index"].isna().all():
                # the rule itself raised (e.g. a missing column): never let it pass rows silently
                raise RuntimeError(f"{self.source}: rule {check_id!r} could not be evaluated")
            rows = pd.Index(group["index"].dropna().unique())
            parts.append(self._rows(rule, frame, rows, file))
        issues = pd.concat(parts, ignore_index=True) if parts else empty_issues()
        return issues.sort_values(["row_number", "column"], kind="stable", ignore_index=True)[
            list(ISSUE_COLUMNS)]

    def _rows(self, rule: Rule, frame: pd.DataFrame, rows: pd.Index, file: str) -> pd.DataFrame:
        hit = frame.loc[rows]
        return pd.DataFrame({
            "source": self.source,
            "file": file,
            "row_number": hit["row_number"].astype("Int64"),
            "column": self.contract_names.get(rule.column, rule.column),
            "rule": rule.rule,
            "severity": rule.severity,
            "expected": (rule.expected(hit).to_numpy(dtype=object) if callable(rule.expected)
                         else rule.expected),
            "found": self._found(rule, hit),
        })

    def _found(self, rule: Rule, hit: pd.DataFrame) -> pd.Series:
        """What the steward sees of the failing value: through the masking chokepoint."""
        if rule.found is not None:
            # composed by the rule from parsed values; identity-shaped parts are still cut
            composed = rule.found(hit).astype("string")
            return composed.map(masking.mask_text, na_action="ignore").fillna(masking.EMPTY)
        text = rule.column + TEXT_SUFFIX
        values = hit[text] if text in hit else hit[rule.column]
        domain = Domain.IDENTITY if rule.column == IDENTITY else self.domains.get(rule.column,
                                                                                  Domain.TEXT)
        return masking.shown(values, domain)


FIELDS = "fields"   # a reader's count of a row's fields, when not every row had the header's


def _wrong_field_count(frame: pd.DataFrame) -> pd.Series:
    counted, expected = FIELDS + TEXT_SUFFIX, "fields_expected" + TEXT_SUFFIX
    if counted not in frame or expected not in frame:
        return pd.Series(False, index=frame.index)
    return (pd.to_numeric(frame[counted]) != pd.to_numeric(frame[expected])).fillna(False)


_FIELD_COUNT = Rule(FIELDS, "fel antal fält", "lika många fält som rubrikraden", _wrong_field_count,
                    found=lambda f: f[FIELDS + TEXT_SUFFIX].astype("string") + " fält")


def _wrong_column(column: str) -> Rule:
    def fails(frame: pd.DataFrame) -> pd.Series:
        values = frame[column + TEXT_SUFFIX] if column + TEXT_SUFFIX in frame else frame[column]
        return masking.identity_like(values)

    return Rule(column, WRONG_COLUMN, "inget personnummer i denna kolumn", fails)


def with_text(raw: pd.DataFrame) -> pd.DataFrame:
    """The raw text columns renamed ``<name>_text`` (row_number kept as is)."""
    return raw.rename(columns={name: name + TEXT_SUFFIX for name in raw.columns if name != "row_number"})
