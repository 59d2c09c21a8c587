"""af: Arbetsförmedlingen's enrolment and support periods."""

from __future__ import annotations

import pandas as pd

from sources import parsing
from sources.af.spec import SPEC
from sources.common_rules import DATE, before, identity_rules, required, unreadable
from validation.rules import Rule, RuleSchema

_NO_SUPPORT = "INGEN"
_DATES = ("inskriven_fran", "inskriven_till", "ersattning_fran", "ersattning_till")


def schema() -> RuleSchema:
    stod = parsing.describe_codes("af_stod")
    return SPEC.rule_schema([
        *identity_rules(),
        required("ersattning", stod),
        unreadable("ersattning", "okänd kod", stod),
        unreadable("sokandekategori", "ogiltig sökandekategori", "två siffror, t.ex. 11"),
        *(unreadable(name, "ogiltigt datum", DATE) for name in _DATES),
        required("inskriven_fran", DATE),
        Rule("ersattning_fran", "värde saknas", "ett datum när Ersättning inte är INGEN",
             lambda f: _with_support(f) & f["ersattning_fran_text"].isna()),
        before("inskriven_till", "inskriven_fran", "före inskriven från",
               "samma dag som Inskriven från eller senare"),
        before("ersattning_till", "ersattning_fran", "före ersättning från",
               "samma dag som Ersättning från eller senare"),
    ])


def _with_support(frame: pd.DataFrame) -> pd.Series:
    # A missing or unknown Ersättning already fails; it does not also excuse Ersättning från.
    return (frame["ersattning"] != _NO_SUPPORT).fillna(True).astype(bool)
