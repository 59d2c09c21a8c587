"""Rules that several sources state the same way."""

from __future__ import annotations

from finsam import identity
from validation.rules import IDENTITY, Rule

DATE = "datum ÅÅÅÅ-MM-DD"
PERSON = "personnummer eller samordningsnummer"


def identity_rules(*, required=lambda frame: True) -> list[Rule]:
    """Missing (where required) and invalid identity numbers, from ``identity.normalise``'s columns."""
    return [
        Rule(IDENTITY, "värde saknas", PERSON,
             lambda frame: (frame["id_kind"] == identity.MISSING) & required(frame)),
        Rule(IDENTITY, "ogiltigt personnummer", "giltigt " + PERSON,
             lambda frame: frame["id_kind"] == identity.INVALID),
    ]


def required(column: str, expected: str) -> Rule:
    return Rule(column, "värde saknas", expected, lambda frame: frame[column + "_text"].isna())


def unreadable(column: str, rule: str, expected: str) -> Rule:
    """Text present but no parsed value: an unreadable date, amount or code."""
    return Rule(column, rule, expected,
                lambda frame: frame[column + "_text"].notna() & frame[column].isna())


def before(column: str, start: str, rule: str, expected: str) -> Rule:
    """A period that ends before it starts (parsed dates; an empty or unreadable one passes here)."""
    return Rule(column, rule, expected, lambda frame: frame[column] < frame[start])


def identity_problem_rules(missing: str, problems: list[str]) -> list[Rule]:
    """Missing identity numbers, and invalid ones as one rule per kind of problem so the steward's
    report groups them. ``problems``: the distinct ``id_problem`` texts of the delivery (the rule's
    expectation is the problem itself)."""
    return [
        Rule(IDENTITY, "värde saknas", missing, lambda frame: frame["id_kind"] == identity.MISSING),
        *(_identity_problem(problem) for problem in problems),
    ]


def _identity_problem(problem: str) -> Rule:
    return Rule(IDENTITY, "ogiltigt identitetsnummer", problem,
                lambda frame: frame["id_problem"] == problem)
