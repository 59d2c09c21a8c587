"""fk: Försäkringskassan's benefit periods (delta; key PERSONNR + FORMAN + FOM)."""

from sources.fk import reader
from sources.fk.spec import SPEC
from sources.spec import Source

SOURCE = Source(SPEC, reader)
