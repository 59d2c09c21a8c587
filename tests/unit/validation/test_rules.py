"""The bridge from contract rules to Pandera and back to the issue frame."""

from __future__ import annotations

import pandas as pd
import pytest

from finsam.masking import Domain
from validation.rules import WRONG_COLUMN, Rule, RuleSchema


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"row_number": [2, 3, 4], "personnummer_text": ["198001022386", "x", None],
                         "kod_text": ["A", "B", None], "kod": ["A", None, None],
                         "text_text": ["Kontor Visby", "Anna Svensson", None]})


def _schema(*rules: Rule) -> RuleSchema:
    return RuleSchema("test", {"kod": "Kod", "personnummer": "Personnummer", "text": "Text"},
                      list(rules), domains={"kod": Domain.CODE, "text": Domain.TEXT})


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


def test_what_is_shown_of_a_failing_value_follows_its_column_domain():
    """A code is shown; free text never is; an identity number is cut to its birth date."""
    fails = lambda f: f["row_number"] <= 3   # noqa: E731
    issues = _schema(Rule("text", "r", "e", fails), Rule("personnummer", "r", "e", fails),
                     Rule("kod", "r", "e", fails)).issues(_frame(), file="f.csv")
    shown = dict(zip(zip(issues["row_number"], issues["column"]), issues["found"]))
    assert shown[(2, "Text")] == "text, 12 tecken" and shown[(3, "Text")] == "text, 13 tecken"
    assert shown[(3, "Personnummer")] == "text, 1 tecken"
    assert shown[(2, "Kod")] == "A"


def test_an_identity_number_in_any_other_column_holds_the_row_masked():
    frame = _frame()
    frame.loc[0, "kod_text"] = "19800102-2386"
    frame.loc[1, "text_text"] = "ring Anna på 198001022386"
    issues = _schema().issues(frame, file="f.csv")
    assert issues[["row_number", "column", "rule", "found"]].values.tolist() == [
        [2, "Kod", WRONG_COLUMN, "ser ut som ett personnummer: 19800102-****"],
        [3, "Text", WRONG_COLUMN, "ser ut som ett personnummer: 19800102-****"],
    ]


def test_a_passing_frame_has_no_issues():
    assert _schema(Rule("kod", "r", "e", lambda f: f["kod"] == "Z")).issues(_frame(), file="f").empty


def test_a_rule_that_cannot_run_is_an_error_not_a_pass():
    broken = Rule("kod", "trasig", "e", lambda f: f["no_such_column"].isna())
    with pytest.raises(RuntimeError, match="could not be evaluated"):
        _schema(broken).issues(_frame(), file="f.csv")
