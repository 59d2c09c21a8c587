"""hsf: Hälso- och sjukvården's rehab contacts."""

from __future__ import annotations

from sources import parsing
from sources.common_rules import (
    DATE,
    before,
    identity_problem_rules,
    required,
    unreadable,
)
from sources.hsf.spec import SPEC
from validation.rules import Rule, RuleSchema

GRADES = (25.0, 50.0, 75.0, 100.0)


def schema(identity_problems: list[str]) -> RuleSchema:
    """``identity_problems``: the delivery's distinct ``id_problem`` texts, one rule each."""
    contact_types = parsing.describe_codes("hsf_kontakttyp")
    return SPEC.rule_schema([
        *identity_problem_rules("personnummer, samordningsnummer eller reservnummer",
                                identity_problems),
        required("kontaktdatum", DATE),
        unreadable("kontaktdatum", "ogiltigt datum", DATE),
        required("kontakttyp", contact_types),
        unreadable("kontakttyp", "okänd kod", contact_types),
        unreadable("sjukskriven_fom", "ogiltigt datum", DATE),
        unreadable("sjukskriven_tom", "ogiltigt datum", DATE),
        before("sjukskriven_tom", "sjukskriven_fom", "slutdatum före startdatum",
               "datum från och med SJUKSKRIVEN_FOM"),
        Rule("sjukskrivningsgrad", "ogiltig sjukskrivningsgrad", "25, 50, 75 eller 100",
             lambda f: f["sjukskrivningsgrad_text"].notna() & ~f["sjukskrivningsgrad"].isin(GRADES)),
    ])
