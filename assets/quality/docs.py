"""The Data Docs of the warehouse's quality checks: ``<out>/steward/gx/``, readable offline.

One page per suite (``sviter/<suite>.html``) and an overview (``oversikt.html``, also written as
``index.html``, which the README and the steward's app point to), all plain HTML with the style
inline: no script, no font or stylesheet from the internet, so they open on a machine without
network. The pages show counts only; ``resultat.json`` keeps each suite's newest result (counts,
and the fingerprint that lets an unchanged suite skip GX) for the next run.

The folder holds only the newest result of each suite: every run builds it anew beside the old
one and swaps it in (``assets.files.write_folder``), so nothing an earlier run showed survives,
and the Data Docs GX itself used to write here (with examples of failing values) go with the
first run. The checks of one run run in several steps (Dagster splits the multi-asset check
around its blocking checks), possibly at once: each takes a lock, reads what the others wrote,
adds its own suites and swaps.
"""

from __future__ import annotations

import fcntl
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import jinja2

from assets.files import write_folder
from assets.quality.suites import Plan
from assets.steward.render import environment
from validation.quality import SuiteResult

OVERVIEW = "oversikt.html"
INDEX = "index.html"
RESULTS = "resultat.json"
PAGES = "sviter"

_LOG = logging.getLogger("finsam.quality")


def page_of(docs_dir: Path, suite: str) -> Path:
    return docs_dir / PAGES / f"{suite}.html"


@contextmanager
def locked(docs_dir: Path) -> Iterator[None]:
    """One writer at a time: the steps of a run (and two runs) each read, add and swap."""
    docs_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(docs_dir.parent / f".{docs_dir.name}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_results(docs_dir: Path) -> dict[str, tuple[SuiteResult, str]]:
    """Each suite's newest result and the run that produced it; nothing if the folder is new,
    from before this layout or unreadable (every suite then runs GX again)."""
    try:
        stored = json.loads((docs_dir / RESULTS).read_text(encoding="utf-8"))
        return {name: (SuiteResult.from_json(entry["resultat"]), entry["korning"])
                for name, entry in stored["sviter"].items()}
    except FileNotFoundError:
        return {}
    except (ValueError, KeyError, TypeError):
        _LOG.warning("%s i %s gick inte att läsa: alla sviter prövas på nytt", RESULTS, docs_dir)
        return {}


def publish(docs_dir: Path, results: Mapping[str, SuiteResult], plans: Sequence[Plan],
            run_id: str) -> Path:
    """Rebuild the folder with ``results`` (this run's) and the newest stored result of every
    other suite still planned; returns the overview page. Call it holding :func:`locked`."""
    known = {plan.suite.name: plan for plan in plans}
    entries = {name: entry for name, entry in read_results(docs_dir).items() if name in known}
    for name, result in results.items():
        if name in known:
            # an unchanged suite's result stands as of the run that computed it
            run = entries[name][1] if result.reused and name in entries else run_id
            entries[name] = (result, run)
    shown = [_row(known[name], *entries[name]) for name in known if name in entries]
    env = _environment()

    def fill(folder: Path) -> None:
        (folder / PAGES).mkdir()
        for row in shown:
            page = env.get_template("kvalitet_svit.html").render(svit=row)
            (folder / PAGES / f"{row['namn']}.html").write_text(page, encoding="utf-8")
        overview = env.get_template("kvalitet_oversikt.html").render(
            sviter=shown, fel=sum(1 for row in shown if row["blockerande"] and not row["godkand"]),
            varningar=sum(1 for row in shown if not row["blockerande"] and not row["godkand"]))
        for name in (OVERVIEW, INDEX):
            (folder / name).write_text(overview, encoding="utf-8")
        stored = {"sviter": {name: {"resultat": result.to_json(), "korning": run}
                             for name, (result, run) in entries.items()}}
        (folder / RESULTS).write_text(json.dumps(stored, ensure_ascii=False, indent=1),
                                      encoding="utf-8")

    write_folder(docs_dir, fill)
    return docs_dir / OVERVIEW


def _row(plan: Plan, result: SuiteResult, run_id: str) -> dict:
    return {"namn": plan.suite.name, "titel": plan.suite.title, "tillgang": plan.asset,
            "kontroll": plan.check_name, "blockerande": plan.blocking,
            "godkand": result.success, "rader": result.rows, "provad": result.validated_at,
            "korning": run_id, "regler": [{
                "text": rule.text, "kolumn": rule.column, "godkand": rule.success,
                "provade": rule.evaluated, "avvikande": rule.unexpected, "fel": rule.error}
                for rule in result.rules],
            "misslyckade": len(result.failed)}


def _environment() -> jinja2.Environment:
    # the steward's look and its guards (autoescape, identity-shaped values masked), own pages
    return environment([jinja2.PackageLoader("assets.quality", "templates")])
