"""soc: Socialtjänsten's försörjningsstöd payments, one row per person and month (delta)."""

from sources.soc import reader
from sources.soc.spec import SPEC
from sources.spec import Source

SOURCE = Source(SPEC, reader)
