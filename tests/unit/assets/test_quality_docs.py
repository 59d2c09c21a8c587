"""The quality checks' Data Docs: only the newest result of each suite, built beside the old
folder and swapped in, readable offline; and GX runs only for a suite whose frame changed."""

from __future__ import annotations

import dataclasses
import threading

import pandas as pd
import pytest

from assets.files import write_folder
from assets.quality import docs
from assets.quality.suites import PLANS
from validation import quality
from validation.quality import Rule, RuleResult, Suite, SuiteResult, validate

PSEUDONYM = "ab" * 32


def _result(suite: str, success: bool = True, unexpected: int = 0) -> SuiteResult:
    rule = RuleResult("ok", "Regeln håller.", success, 5, unexpected)
    return SuiteResult(suite, success, 5, (rule,), f"fp-{suite}", "2024-12-01T02:00:00+00:00")


def _files(folder):
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*")
                  if path.is_file())


def test_earlier_results_and_the_old_gx_site_do_not_survive_a_run(tmp_path):
    folder = tmp_path / "steward" / "gx"
    legacy = folder / "validations" / "spell" / "__none__" / "20241130T010000Z" / "lager-spell.html"
    legacy.parent.mkdir(parents=True)
    legacy.write_text(f"<td>{PSEUDONYM}</td>", encoding="utf-8")
    (folder / "static").mkdir()
    with docs.locked(folder):
        docs.publish(folder, {"spell": _result("spell")}, PLANS, "körning-1")
    assert _files(folder) == ["index.html", "oversikt.html", "resultat.json", "sviter/spell.html"]
    assert not list(folder.parent.glob(".gx.*.tmp"))


def test_each_step_adds_its_suites_to_the_others_newest(tmp_path):
    folder = tmp_path / "gx"
    with docs.locked(folder):
        docs.publish(folder, {"spell": _result("spell", False, 2)}, PLANS, "körning-1")
    with docs.locked(folder):
        docs.publish(folder, {"fk_benefit": _result("fk_benefit")}, PLANS, "körning-2")
    stored = docs.read_results(folder)
    assert {name: run for name, (_, run) in stored.items()} == {"spell": "körning-1",
                                                                "fk_benefit": "körning-2"}
    assert not stored["spell"][0].success
    overview = (folder / "oversikt.html").read_text(encoding="utf-8")
    assert 'href="sviter/spell.html"' in overview and 'href="sviter/fk_benefit.html"' in overview
    assert "1\u00a0regel uppfylls inte" in overview
    # a suite judged again and found unchanged keeps the run that computed it
    with docs.locked(folder):
        docs.publish(folder, {"spell": dataclasses.replace(_result("spell", False, 2), reused=True)},
                     PLANS, "körning-3")
    assert docs.read_results(folder)["spell"][1] == "körning-1"


def test_the_pages_open_without_network(tmp_path):
    folder = tmp_path / "gx"
    with docs.locked(folder):
        docs.publish(folder, {plan.suite.name: _result(plan.suite.name) for plan in PLANS},
                     PLANS, "körning-1")
    pages = [path for path in folder.rglob("*.html")]
    assert len(pages) == len(PLANS) + 2
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "http" not in text and "<script" not in text and "<link" not in text
        assert "src=" not in text and "@import" not in text
    assert (folder / "index.html").read_bytes() == (folder / "oversikt.html").read_bytes()


def test_steps_at_once_lose_nothing(tmp_path):
    folder = tmp_path / "gx"
    names = [plan.suite.name for plan in PLANS]

    def step(name: str) -> None:
        with docs.locked(folder):
            docs.publish(folder, {name: _result(name)}, PLANS, f"körning-{name}")

    threads = [threading.Thread(target=step, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(docs.read_results(folder)) == set(names)


def test_an_unreadable_results_file_only_means_everything_runs_again(tmp_path):
    folder = tmp_path / "gx"
    folder.mkdir()
    (folder / docs.RESULTS).write_text("{inte json", encoding="utf-8")
    assert docs.read_results(folder) == {}


def test_a_failed_build_leaves_the_old_folder_whole(tmp_path):
    folder = tmp_path / "gx"
    write_folder(folder, lambda new: (new / "a.html").write_text("gammal", encoding="utf-8"))

    def broken(new):
        (new / "a.html").write_text("ny", encoding="utf-8")
        raise RuntimeError("avbrott")

    with pytest.raises(RuntimeError):
        write_folder(folder, broken)
    assert _files(folder) == ["a.html"] and (folder / "a.html").read_text() == "gammal"
    assert not list(tmp_path.glob(".gx.*.tmp"))


SUITE = Suite("prov", "Prov", (Rule("ok", "Varje rad håller."),))


def test_gx_judges_a_suite_only_when_its_frame_changed(monkeypatch):
    frame = pd.DataFrame({"ok": [True, True, False]})
    first = validate({"prov": frame}, [SUITE])["prov"]
    assert not first.success and first.failed[0].unexpected == 1 and first.rows == 3

    def no_gx(*args, **kwargs):
        raise AssertionError("GX ran for an unchanged frame")

    monkeypatch.setattr(quality, "_run_gx", no_gx)
    again = validate({"prov": frame.copy()}, [SUITE], {"prov": first})["prov"]
    assert again.reused and again == first
    with pytest.raises(AssertionError):
        validate({"prov": frame.assign(ok=True)}, [SUITE], {"prov": first})


def test_results_carry_counts_only():
    frame = pd.DataFrame({"ok": [False] * 30, "pseudonym": [PSEUDONYM] * 30})
    result = validate({"prov": frame}, [SUITE])["prov"]
    assert result.failed[0].unexpected == 30 and result.failed[0].evaluated == 30
    assert PSEUDONYM not in str(result.to_json())
    restored = SuiteResult.from_json(result.to_json())
    assert restored == result


def test_a_rule_gx_cannot_judge_fails():
    result = validate({"prov": pd.DataFrame({"annat": [True]})}, [SUITE])["prov"]
    assert not result.success and result.rules[0].error


def test_an_empty_frame_passes_without_gx(monkeypatch):
    monkeypatch.setattr(quality, "_run_gx", lambda *args: pytest.fail("GX ran"))
    result = validate({"prov": pd.DataFrame({"ok": pd.Series(dtype=bool)})}, [SUITE])["prov"]
    assert result.success and result.rows == 0
