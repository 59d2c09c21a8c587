"""Counts in Swedish as people read them: ``1 rad``, ``2 rader``, ``12 345 rader``."""

from __future__ import annotations

NO_BREAK_SPACE = "\u00a0"   # the figure and its unit stay on one line


def number(value: int | None) -> str:
    """``12 345``: thousands spaced the Swedish way."""
    return f"{int(value or 0):,}".replace(",", NO_BREAK_SPACE)


def count(value: int | None, singular: str, plural: str) -> str:
    """The number with the singular for exactly one and the plural otherwise (also for 0)."""
    amount = int(value or 0)
    return f"{number(amount)}{NO_BREAK_SPACE}{singular if amount == 1 else plural}"
