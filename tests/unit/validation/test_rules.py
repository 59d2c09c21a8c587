"""The bridge from contract rules to Pandera and back to the issue frame."""

from __future__ import annotations

import pandas as pd
import pytest

from validation.rules import Rule, RuleSchema


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"row_number": [2, 3, 4], "personnummer_text": ["198001022386", "x", None],
                         "kod_text": ["A", "B", None], "kod": ["A", None, None]})


def _schema(*rules: Rule) -> RuleSchema:
    return RuleSchema("test", {"kod": "Kod", "personnummer": "Personnummer"}, list(rules))


def test_failing_rows_become_issues_with_contract_names_and_masked_identity():
    issues = _schema(
        Rule("kod", "okänd kod", "A", lambda f: f["kod_text"].notna() & f["kod"].isna()),
        Rule("personnummer", "ogiltigt", "giltigt", lambda f: f["row_number"] != 3),
    ).issues(_frame(), file="f.csv")
    assert issues[["row_number", "column", "rule", "found"]].astype(str).values.tolist() == [
        ["2", "Personnummer", "ogiltigt", "19800102-****"],
        ["3", "Kod", "okänd kod", "B"],
        ["4", "Personnummer", "ogiltigt", "(tomt)"],
    ]


def test_a_passing_frame_has_no_issues():
    assert _schema(Rule("kod", "r", "e", lambda f: f["kod"] == "Z")).issues(_frame(), file="f").empty


def test_a_rule_that_cannot_run_is_an_error_not_a_pass():
    broken = Rule("kod", "trasig", "e", lambda f: f["no_such_column"].isna())
    with pytest.raises(RuntimeError, match="could not be evaluated"):
        _schema(broken).issues(_frame(), file="f.csv")
