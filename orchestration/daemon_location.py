"""The code location ``finsam`` as the daemon that `finsam backfill` starts loads it: the same job,
assets and partitions as ``orchestration/definitions.py``, without the schedule and the sensor, so
that daemon runs the backfill's queue and starts nothing of its own."""

from orchestration import settings
from orchestration.definitions import build_definitions

defs = build_definitions(settings.from_environment(), settings.first_quarter(), automation=False)
