"""The quality checks' Data Docs: only the newest result of each suite, built beside the old
folder and swapped in, readable offline; and GX runs only for a suite whose frame changed."""

from __future__ import annotations

import dataclasses
import json
import re
import tempfile
import threading
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pandas as pd
import pytest

from assets.files import write_folder
from assets.quality import checks, docs
from assets.quality.suites import PLANS, Plan
from assets.steward.render import IDENTITY_LIKE
from finsam.reference import test_personnummer as skatteverket_numbers
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


# -- attacker: identifiers in the very values GX judges -------------------------------------

def _identifiers() -> list[str]:
    """The test numbers in every written form, and a pseudonym: none may leave GX."""
    numbers = list(skatteverket_numbers()[:3])
    return [*numbers, *(number[2:] for number in numbers),
            *(f"{number[2:8]}-{number[8:]}" for number in numbers), PSEUDONYM]


# GX's own random ids (validation_id, each expectation's id): a UUID's hex groups are now and then
# all digits ("12345678-1234-…") and then look like an identity number; they never hold data
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _scan(text: str) -> list[str]:
    found = [one for one in _identifiers() if one in text]
    text = _UUID.sub("<uuid>", text)
    if IDENTITY_LIKE.search(text) or re.search(r"[0-9a-f]{64}", text):
        found.append("identity- or pseudonym-shaped run")
    return found


def test_no_identifier_gx_sees_reaches_a_result_the_metadata_or_the_pages(monkeypatch, tmp_path):
    """Break every rule with the identifiers themselves as the failing values: GX is asked for no
    examples (its raw result holds no value list), and nothing but counts is copied out of it."""
    values = _identifiers()
    frame = pd.DataFrame({"ok": [*values, True], "tal": [*range(len(values)), 0]})
    suite = Suite("prov", "Prov", (Rule("ok", "Varje rad håller."),
                                  Rule("tal", "Talet är högst 1.", 0, 1)))
    raw = []
    summarise = quality._summarise

    def keep_raw(suite, rows, validation, mark, stamp):
        raw.append(json.dumps(validation.to_json_dict(), default=str))
        return summarise(suite, rows, validation, mark, stamp)

    monkeypatch.setattr(quality, "_summarise", keep_raw)
    # whatever GX writes on its own goes to the temporary folder: it must leave nothing there
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    result = validate({"prov": frame}, [suite])["prov"]
    assert not list(scratch.iterdir())
    assert [rule.unexpected for rule in result.rules] == [len(values), len(values) - 2]
    # GX itself kept no example values: BASIC with partial_unexpected_count 0
    assert raw and not _scan(raw[0])
    assert '"partial_unexpected_list": [' not in raw[0].replace('"partial_unexpected_list": []', "")

    plan = Plan(suite, "insats_spells", True, lambda tables: frame)
    metadata = checks._result(plan, result, docs.page_of(tmp_path, "prov")).metadata
    shown = json.dumps({key: getattr(value, "value", value) for key, value in metadata.items()},
                       ensure_ascii=False, default=str)
    assert set(metadata) <= {"förväntningar", "misslyckade", "rader", "avvikelser", "data_docs",
                             "oförändrad_sedan", "kommentar"}
    assert f'"avvikande_rader": {len(values)}' in shown and not _scan(shown)
    folder = tmp_path / "gx"
    with docs.locked(folder):
        docs.publish(folder, {"prov": result}, [plan], "körning-1")
    written = "".join(path.read_text(encoding="utf-8") for path in folder.rglob("*")
                      if path.is_file())
    # the only 64-hex run allowed is the fingerprint of the boolean frame (resultat.json)
    assert "uppfylls inte" in written and not _scan(written.replace(result.fingerprint, ""))


# -- bounded: the folder holds the newest result of each suite, however many runs -------------

def _everything(root) -> list[str]:
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*"))


def test_the_folder_stays_the_same_size_after_many_runs_and_killed_ones(tmp_path):
    folder = tmp_path / "steward" / "gx"
    names = [plan.suite.name for plan in PLANS]
    sizes = []
    for run in range(12):
        # a run killed half-way leaves its new folder behind; the next run clears it
        (folder.parent / f".gx.ny-{run:08x}.tmp" / "sviter").mkdir(parents=True)
        # the steps of a run publish a few suites each, failing ones and passing ones
        chosen = names[run % 3::3]
        with docs.locked(folder):
            docs.publish(folder, {name: _result(name, run % 2 == 0, run) for name in chosen},
                         PLANS, f"körning-{run}")
        sizes.append(len(_everything(folder.parent)))
    expected = [".gx.lock", "gx", *(f"gx/{name}" for name in ("index.html", "oversikt.html", "resultat.json",
                                                  "sviter")),
                *(f"gx/sviter/{name}.html" for name in names)]
    assert _everything(folder.parent) == sorted(expected)
    assert max(sizes[3:]) == min(sizes[3:]) == len(expected)
    assert {name: run for name, (_, run) in docs.read_results(folder).items()} == {
        name: f"körning-{9 + index % 3}" for index, name in enumerate(names)}


# -- offline: every page renders with nothing to fetch ----------------------------------------

class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.links: list[str] = []
        self.styles: list[str] = []
        self.text: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in ("href", "src", "srcset", "action", "poster", "data", "formaction"):
                self.links.append(value or "")
            if name == "style":
                self.styles.append(value or "")

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        (self.styles if self._in_style else self.text).append(data)


def test_every_page_renders_offline_and_links_only_to_pages_beside_it(tmp_path):
    folder = tmp_path / "gx"
    results = {plan.suite.name: _result(plan.suite.name) for plan in PLANS}
    results["spell"] = _result("spell", False, 3)
    with docs.locked(folder):
        docs.publish(folder, results, PLANS, "körning-1")
    for page in folder.rglob("*.html"):
        parsed = _Links()
        parsed.feed(page.read_text(encoding="utf-8"))
        assert not {"script", "link", "img", "iframe", "object", "embed", "base", "source",
                    "video", "audio"} & set(parsed.tags), page
        for link in parsed.links:
            target = urlsplit(link)
            assert not target.scheme and not target.netloc and not link.startswith("/"), link
            assert (page.parent / target.path).resolve().is_file(), link
        style = " ".join(parsed.styles)
        assert "url(" not in style and "@import" not in style and "@font-face" not in style
    overview = _Links()
    overview.feed((folder / "oversikt.html").read_text(encoding="utf-8"))
    text = " ".join(overview.text)
    assert all(plan.suite.title in text for plan in PLANS)
    assert sorted(overview.links) == sorted(f"sviter/{plan.suite.name}.html" for plan in PLANS)
    spell = _Links()
    spell.feed((folder / "sviter" / "spell.html").read_text(encoding="utf-8"))
    assert "uppfylls inte" in " ".join(spell.text) and "../oversikt.html" in spell.links
