"""samtycke: the consent register, every consent ever given (snapshot)."""

from sources.samtycke import reader
from sources.samtycke.spec import SPEC
from sources.spec import Source

SOURCE = Source(SPEC, reader)
