"""The one chokepoint for what finsam shows about a value it did not accept.

Everything that leaves a reader about a failing or unexpected cell (held rows, manifest messages,
steward notices, exceptions, Dagster metadata and logs, the steward's pages) goes through here. A
value is shown as it is only when its column's domain is a code list, a date or a number, it has
that shape, and it does not look like an identity number; otherwise it is described ("text, 23
tecken", "ser ut som ett personnummer: 19830908-****"). Free text is always described: a partner's
free text can hold anything, a name included.
"""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum

import numpy as np
import pandas as pd


class Domain(StrEnum):
    """What a column may hold; decides what of a failing value may be shown."""

    IDENTITY = "identitet"
    CODE = "kod"
    DATE = "datum"
    NUMBER = "tal"
    TEXT = "text"


EMPTY = "(tomt)"

# 10 or 12 digits, optionally split as date-separator-four digits (a space, - or +), not part of a
# longer run of digits; the date part must be a plausible (coordination) date to count.
_IDENTITY = re.compile(
    r"(?<![0-9])(?:(?P<century>1[89]|20))?(?P<yy>\d{2})(?P<mm>\d{2})(?P<dd>\d{2})[ \-+]?"
    r"(?P<tail>\d{4})(?![0-9])")

_SHAPES = {
    # codes hold no spaces: a value with one is text (a name, as often as not)
    Domain.CODE: re.compile(r"[0-9A-Za-zÅÄÖÉåäöé_.,/&+()\-]{1,24}"),
    Domain.DATE: re.compile(r"[0-9\-./: T]{1,25}"),
    Domain.NUMBER: re.compile(r"[0-9\s\u00a0\u202f.,+\-\u2212()%]{1,24}"),
}


def _plausible(match: re.Match) -> bool:
    month, day = int(match["mm"]), int(match["dd"])
    return 1 <= month <= 12 and (1 <= day <= 31 or 61 <= day <= 91)


def _identity_matches(text: str) -> list[re.Match]:
    return [match for match in _IDENTITY.finditer(text) if _plausible(match)]


def looks_like_identity(text: str) -> bool:
    """Whether the text holds something shaped like a personnummer or samordningsnummer,
    anywhere in it (a phone number may be taken for one: better shown masked than not)."""
    return bool(_identity_matches(text))


def _birth_part(match: re.Match) -> str:
    century = match["century"] or ""
    return f"{century}{match['yy']}{match['mm']}{match['dd']}-****"


def mask_text(text: str) -> str:
    """The text with every identity-shaped part cut to its date part (``19830908-****``)."""
    out, last = [], 0
    for match in _identity_matches(text):
        out.append(text[last:match.start()])
        out.append(_birth_part(match))
        last = match.end()
    out.append(text[last:])
    return "".join(out)


def describe(text: str) -> str:
    return f"text, {len(text)} tecken"


def show(value: object, domain: Domain) -> str:
    """One value as the steward may see it."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return EMPTY
    text = str(value).strip()
    if not text:
        return EMPTY
    matches = _identity_matches(text)
    if domain == Domain.IDENTITY:
        if matches and matches[0].group(0) == text:
            return _birth_part(matches[0])
        return describe(text)
    if matches:
        return "ser ut som ett personnummer: " + _birth_part(matches[0])
    shape = _SHAPES.get(domain)
    if shape is not None and shape.fullmatch(text):
        return text
    return describe(text)


def shown(values: pd.Series, domain: Domain) -> pd.Series:
    """``show`` for a column, worked out once per distinct value."""
    codes, uniques = pd.factorize(values.astype("object"), use_na_sentinel=True)
    table = np.array([show(value, domain) for value in uniques] + [EMPTY], dtype=object)
    return pd.Series(table[codes], index=values.index, dtype="string")


def identity_like(values: pd.Series) -> pd.Series:
    """Per value: does it hold something shaped like an identity number? Once per distinct value."""
    codes, uniques = pd.factorize(values.astype("object"), use_na_sentinel=True)
    table = np.array([looks_like_identity(str(value)) for value in uniques] + [False], dtype=bool)
    return pd.Series(table[codes], index=values.index)


_SAFE_NAME = re.compile(r"[A-Za-z0-9_\-()]{1,40}")
# two capitalised words in a row: a person's name as often as not ("Anna_Svensson")
_NAME_LIKE = re.compile(r"[A-ZÅÄÖ][a-zåäöéü]+[ _\-]+[A-ZÅÄÖ][a-zåäöéü]+")
_DATED = re.compile(r"(?P<date>\d{8}(?!\d))?(?P<sep>_?)(?P<middle>.*?)(?P<suffix>\.[A-Za-z0-9]{1,5})?")


def file_name(name: str) -> str:
    """A delivery's file name as finsam stores and shows it. A name is chosen by whoever saved the
    file and may hold anything, a person's name or number included: the extraction date and the
    extension are shown, and the rest only when it is a plain word-like code (``forman``,
    ``DEMO1``, ``budget_2024``); otherwise it is described, with a short tag that tells two such
    files apart (``20241130_[fritext, 21 tecken, 3fa9c1].csv``)."""
    match = _DATED.fullmatch(name)
    if match is None:
        return _shown_part(name)
    middle = match["middle"]
    shown = _shown_part(middle, whole=name) if middle else ""
    return f"{match['date'] or ''}{match['sep']}{shown}{match['suffix'] or ''}"


def _shown_part(part: str, whole: str | None = None) -> str:
    if (_SAFE_NAME.fullmatch(part) and not looks_like_identity(part)
            and not _NAME_LIKE.search(part)):
        return part
    tag = hashlib.sha256((whole or part).encode("utf-8")).hexdigest()[:6]
    return f"[fritext, {len(part)} tecken, {tag}]"
