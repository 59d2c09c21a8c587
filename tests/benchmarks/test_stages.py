"""Stage timing stays correct when one process measures several runs in turn."""

from __future__ import annotations

import importlib
import sys

import finsam.consent
from benchmarks.stages import StageClock, install

PROBE = "finsam_stage_probe"


def test_second_measurement_rebinds_names_imported_during_the_first(tmp_path, monkeypatch):
    # A module doing ``from finsam.consent import consented``, first imported while a clock is
    # installed: as the ingestion pipeline is in a benchmark worker measuring förbund in turn.
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / f"{PROBE}.py").write_text("from finsam.consent import consented\n")
    sys.modules.pop(PROBE, None)
    try:
        restore = install(StageClock())
        probe = importlib.import_module(PROBE)
        restore()

        restore = install(StageClock())
        try:
            assert probe.consented is finsam.consent.consented  # the second clock's wrapper
        finally:
            restore()
        assert probe.consented is finsam.consent.consented  # and the original again after it
    finally:
        sys.modules.pop(PROBE, None)
