"""ekonomi: the general ledger from the accounting system (delta; key Ver.nr + Rad)."""

from sources.ekonomi import reader
from sources.ekonomi.spec import SPEC
from sources.spec import Source

SOURCE = Source(SPEC, reader)
