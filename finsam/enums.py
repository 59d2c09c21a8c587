"""The small closed vocabularies finsam stores and shows, as string enums (their values are the
Swedish words the warehouse, the steward and the reports use)."""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    ERROR = "fel"          # fixed at the source: a corrected delivery closes it
    WARNING = "varning"    # the steward may accept it; the row then loads


class Outcome(StrEnum):
    """What became of a delivery file (the manifest's ``outcome``)."""

    LOADED = "inläst"
    DUPLICATE = "dubblett"
    REJECTED = "avvisad"
    SUPERSEDED = "ersatt"
    UNRECOGNISED = "okänt namn"
    WAITING = "väntar"          # read, but held back until the steward confirms it (or a newer one)


class HeldStatus(StrEnum):
    OPEN = "öppen"
    ACCEPTED = "godkänd"
    RESOLVED = "åtgärdad"
    CLOSED = "stängd"
