"""soc: Socialtjänsten's försörjningsstöd payments."""

from __future__ import annotations

from sources.specs import SOC
from validation.rules import Rule, RuleSchema
from validation.sources.common import identity_problem_rules, required, unreadable

MONTH = "månad ÅÅÅÅ-MM"
_AMOUNT = "belopp i kronor"


def schema(identity_problems: list[str]) -> RuleSchema:
    """``identity_problems``: the delivery's distinct ``id_problem`` texts, one rule each."""
    return RuleSchema(SOC.name, {c.name: c.contract_name for c in SOC.columns}, [
        *identity_problem_rules("personnummer ÅÅMMDD-NNNN", identity_problems),
        required("manad", MONTH),
        unreadable("manad", "ogiltig månad", "en verklig " + MONTH),
        required("belopp", _AMOUNT),
        unreadable("belopp", "ogiltigt belopp", _AMOUNT + ", t.ex. 4 512,50"),
        Rule("belopp", "belopp ska vara positivt", "belopp större än 0", lambda f: f["belopp"] <= 0),
    ])
