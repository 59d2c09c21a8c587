"""soc: Socialtjänsten's försörjningsstöd payments."""

from __future__ import annotations

from sources.common_rules import identity_problem_rules, required, unreadable
from sources.soc.spec import SPEC
from validation.rules import Rule, RuleSchema

MONTH = "månad ÅÅÅÅ-MM"
_AMOUNT = "belopp i kronor"


def schema(identity_problems: list[str]) -> RuleSchema:
    """``identity_problems``: the delivery's distinct ``id_problem`` texts, one rule each."""
    return SPEC.rule_schema([
        *identity_problem_rules("personnummer ÅÅMMDD-NNNN", identity_problems),
        required("manad", MONTH),
        unreadable("manad", "ogiltig månad", "en verklig " + MONTH),
        required("belopp", _AMOUNT),
        unreadable("belopp", "ogiltigt belopp", _AMOUNT + ", t.ex. 4 512,50"),
        Rule("belopp", "belopp ska vara positivt", "belopp större än 0", lambda f: f["belopp"] <= 0),
    ])
