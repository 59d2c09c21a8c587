"""insats: the participant register each insats team keeps (snapshot per insats)."""

from sources.insats import reader
from sources.insats.spec import SPEC
from sources.spec import Source

SOURCE = Source(SPEC, reader)
