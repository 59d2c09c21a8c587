"""af: Arbetsförmedlingen's enrolment and support periods (delta)."""

from sources.af import reader
from sources.af.spec import SPEC
from sources.spec import Source

SOURCE = Source(SPEC, reader)
