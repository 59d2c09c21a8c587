"""fk: Försäkringskassan's benefit periods."""

from __future__ import annotations

from sources import parsing
from sources.common_rules import identity_rules, required, unreadable
from sources.fk.spec import SPEC
from validation.rules import Rule, RuleSchema

DATE = "datum ÅÅÅÅMMDD"
OMFATTNING = (25.0, 50.0, 75.0, 100.0)
_SCALE = "25, 50, 75 eller 100 (procent)"


def schema() -> RuleSchema:
    forman = parsing.describe_codes("fk_forman")
    return SPEC.rule_schema([
        *identity_rules(),
        required("forman", forman),
        unreadable("forman", "okänd kod", forman),
        required("omfattning", _SCALE),
        Rule("omfattning", "ogiltig omfattning", _SCALE,
             lambda f: f["omfattning_text"].notna() & ~f["omfattning"].isin(OMFATTNING)),
        required("fom", DATE),
        unreadable("fom", "ogiltigt datum", DATE),
        unreadable("tom", "ogiltigt datum", DATE),
        Rule("tom", "före FOM", "samma dag som FOM eller senare", lambda f: f["tom"] < f["fom"]),
    ])
