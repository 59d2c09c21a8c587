"""hsf: Hälso- och sjukvården's rehab contacts (delta)."""

from sources.hsf import reader
from sources.hsf.spec import SPEC
from sources.spec import Source

SOURCE = Source(SPEC, reader)
