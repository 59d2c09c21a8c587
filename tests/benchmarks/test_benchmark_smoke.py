"""The benchmark script end to end at a tiny size: it runs and reports every stage (no timings
are asserted: speed is shown in BENCHMARKS.md, never in a test)."""

from __future__ import annotations

import json

from benchmarks.run import STAGE_ORDER, _markdown, run


def test_benchmark_runs_and_reports_every_stage(tmp_path):
    report = run(0.0005, tmp_path / "bench", forbund=2, years=1, seed=3)
    sqlite = report["backends"]["sqlite"]
    assert sqlite["full"]["rows"] > 0 and sqlite["reference"]["rows"] > 0
    assert set(STAGE_ORDER) <= set(sqlite["full"]["stages"])
    assert sqlite["full"]["stages"]["read"] > 0 and sqlite["full"]["stages"]["load"] > 0
    assert sqlite["full"]["size_bytes"] > 0 and sqlite["full"]["peak_rss_mb"] > 0
    assert sqlite["nightly"]["forbund"] >= 1 and sqlite["nightly"]["rows"] > 0
    saved = json.loads((tmp_path / "bench" / "results.json").read_text(encoding="utf-8"))
    assert saved["scale"] == 0.0005
    text = _markdown(report)
    assert "finsam / reference" in text and "nightly run" in text
