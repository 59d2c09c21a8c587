"""Contract rules as Pandera checks, validated lazily, failure cases turned into the issue frame.

A source's rules are stated once, as data: the column they concern (canonical name), a Swedish rule
and expectation for the steward, a severity, and ``fails(frame) -> bool Series``. The frame they run
on is the reader's *prepared* frame: every raw text column under ``<name>_text`` next to its parsed
value under ``<name>``, so a rule can tell "empty" from "unreadable" from "out of range".

Pandera runs every check before reporting (lazy), so a file shows all its problems at once; its
failure cases (check, index) are mapped back to row number, contract column, rule and found value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa

from finsam import identity
from validation.issues import ERROR, ISSUE_COLUMNS, empty_issues

TEXT_SUFFIX = "_text"
IDENTITY = "personnummer"

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
    """A source's rules for one delivery, as a Pandera DataFrameSchema."""

    source: str
    contract_names: dict[str, str]
    rules: Sequence[Rule]
    required_columns: Sequence[str] = ("row_number",)

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
            "found": _found(rule, hit).fillna("(tomt)").astype("string"),
        })


def _found(rule: Rule, hit: pd.DataFrame) -> pd.Series:
    if rule.found is not None:
        return rule.found(hit).astype("string")
    text = rule.column + TEXT_SUFFIX
    values = hit[text] if text in hit else hit[rule.column]
    if rule.column == IDENTITY:
        # the steward sees the birth date part only, never a complete identity number
        return identity.mask(values)
    return values.astype("string")


def with_text(raw: pd.DataFrame) -> pd.DataFrame:
    """The raw text columns renamed ``<name>_text`` (row_number kept as is)."""
    return raw.rename(columns={name: name + TEXT_SUFFIX for name in raw.columns if name != "row_number"})
