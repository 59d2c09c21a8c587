"""samtycke: the consent register."""

from __future__ import annotations

from sources import parsing
from sources.common_rules import DATE, before, identity_rules, required, unreadable
from sources.samtycke.spec import SPEC
from validation.rules import RuleSchema

_YES_NO = "Ja eller Nej"
_AFTER_START = "samma dag som Samtycke från eller senare"


def schema() -> RuleSchema:
    partners = parsing.describe_codes("partner", multi=True)
    return SPEC.rule_schema([
        *identity_rules(),
        required("insats", "insatsens kod"),
        required("samtycke_fran", DATE),
        unreadable("samtycke_fran", "ogiltigt datum", DATE),
        unreadable("giltigt_till", "ogiltigt datum", DATE),
        before("giltigt_till", "samtycke_fran", "före samtycke från", _AFTER_START),
        unreadable("aterkallat", "ogiltigt datum", DATE),
        before("aterkallat", "samtycke_fran", "före samtycke från", _AFTER_START),
        required("parter", partners),
        unreadable("parter", "okänd kod", partners),
        required("sus", _YES_NO),
        unreadable("sus", "ogiltigt värde", _YES_NO),
    ])
