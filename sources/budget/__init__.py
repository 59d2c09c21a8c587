"""budget: the year's budget workbook (snapshot per year); its sheets' columns are in ``reader``."""

from sources.budget import reader
from sources.budget.spec import SPEC
from sources.spec import Source

SOURCE = Source(SPEC, reader)
