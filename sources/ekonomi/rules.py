"""ekonomi: the general ledger."""

from __future__ import annotations

from sources.common_rules import DATE, required, unreadable
from sources.ekonomi.spec import SPEC
from validation.rules import Rule, RuleSchema

_ACCOUNT = "BAS-konto med 4 siffror"
_REQUIRED = (("ver_nr", "verifikationsnummer"), ("rad", "radnummer"), ("bokforingsdatum", DATE),
             ("konto", _ACCOUNT), ("belopp", "belopp i kronor"))


def schema() -> RuleSchema:
    return SPEC.rule_schema([
        *(required(name, expected) for name, expected in _REQUIRED),
        unreadable("rad", "ogiltigt radnummer", "ett heltal"),
        unreadable("bokforingsdatum", "ogiltigt datum", DATE),
        unreadable("konto", "ogiltigt konto", _ACCOUNT),
        # account_class is NA only for an account that no range of the chart (or ignore list) holds
        Rule("konto", "konto utanför kontoplanen", "BAS-konto 1000-8999",
             lambda f: f["konto"].notna() & f["account_class"].isna()),
        unreadable("belopp", "ogiltigt belopp", "belopp i kronor, t.ex. -1 500,00"),
    ])
