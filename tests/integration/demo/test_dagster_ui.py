"""Dagster's web UI over the demo, as a newcomer opens it after `finsam demo`.

Always (cheap, on the suite's demo): every asset check's newest evaluation has the severity its
kind is meant to have, and none failed except the real problems the demo is built to show.

Opt-in (``FINSAM_UI_SCREENSHOTS=1``; the demo, `dagster dev` and a backfill take several minutes
on a loaded two-core machine): `dagster dev` as the README starts it on the demo's settings, read
through Dagster's GraphQL API (what the UI shows) and in headless Chromium:
- opening the UI starts no run: the sensor's first tick finds nothing new (the bug was a 5.5-minute
  run for zero new files, writing all-zero outputs);
- the checks as the UI shows them: none failed or erroring beyond the demo's real problems, the
  severities as intended;
- a `finsam backfill` of one quarter, run by `dagster dev`'s daemon, shows under Backfills;
- screenshots of the asset catalogue, a source's checks, an output's partitions and the
  backfills go to docs/screenshots/ (1280×800 PNG; the README links them), written only when
  ``FINSAM_UI_SCREENSHOTS=skriv`` so an ordinary opt-in run leaves the committed ones alone.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pytest

from finsam.periods import quarter
from tests.support.dagster_checks import latest_evaluations

ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = ROOT / "docs" / "screenshots"
OPT_IN = os.environ.get("FINSAM_UI_SCREENSHOTS", "")
WARN, ERROR = dg.AssetCheckSeverity.WARN, dg.AssetCheckSeverity.ERROR

# What each kind of check is meant to be, written out here rather than read from the code that
# makes the results. ERROR: a wrong or unlawful output would follow (the SUS submission then
# refuses by itself); WARN: the steward should look, every output is still right.
INTENDED = {
    "leveransfarskhet": WARN,        # a late source is a reminder, per the source's own cadence
    "kvarhallna_rader": WARN,        # held rows are the steward's normal work, counted
    "redo_for_sus": ERROR,           # a spell without its vault entry breaks the SUS files
    "filer_kompletta": ERROR,        # SUS must get all three files, no identity in anonyma.csv
    "sma_tal_dolda": ERROR,          # a small count shown is a disclosure
    "summor_stammer": ERROR,         # the board's economy must add up
    # Great Expectations: each source's own table (lineage, consent naming the partner, spells,
    # erasure) is serious; the vault's owner, distributions, codes against the catalogue and the
    # partners' completeness ask the steward to look
    "gx_identity_vault": WARN,
    "gx_partner_completeness": WARN,
}
GX_WARN_SUFFIXES = ("_distribution", "_catalogue")

# Real problems the demo is built to show, as (asset, check): nothing else may fail.
DEMO_PROBLEMS: set[tuple[str, str]] = set()


def intended(check: str) -> dg.AssetCheckSeverity:
    if check in INTENDED:
        return INTENDED[check]
    assert check.startswith("gx_"), f"a check of a kind this test does not know: {check}"
    return WARN if check.endswith(GX_WARN_SUFFIXES) else ERROR


def test_every_check_has_its_intended_severity_and_only_real_problems_fail(demo):
    instance = dg.DagsterInstance.from_config(str(demo / "dagster_home"))
    try:
        evaluations = latest_evaluations(instance)
    finally:
        instance.dispose()
    # every kind of check ran on the demo
    assert {check for _, check in evaluations} >= {
        "leveransfarskhet", "kvarhallna_rader", "redo_for_sus", "filer_kompletta",
        "sma_tal_dolda", "summor_stammer", "gx_identity_vault", "gx_partner_completeness"}
    wrong = {key: evaluation.severity for key, evaluation in evaluations.items()
             if evaluation.severity != intended(key[1])}
    assert wrong == {}
    failed = {key: evaluation.description for key, evaluation in evaluations.items()
              if not evaluation.passed and key not in DEMO_PROBLEMS}
    assert failed == {}


# --- opt-in: `dagster dev` on the demo, through GraphQL and headless Chromium ---------------------

ui_only = pytest.mark.skipif(
    not OPT_IN, reason="set FINSAM_UI_SCREENSHOTS=1 to open the demo in Dagster's UI (=skriv also "
                       "saves the screenshots)")
LOCATION = "finsam"     # pyproject.toml's [tool.dagster] code_location_name
SENSOR = "nya_leveranser"
CHECKS_QUERY = """{ assetNodes { assetKey { path } assetChecksOrError { __typename
  ... on AssetChecks { checks { name executionForLatestMaterialization { status
    evaluation { severity success description } } } } } } }"""
TICKS_QUERY = """query($selector: SensorSelector!) { sensorOrError(sensorSelector: $selector) {
  __typename ... on Sensor { sensorState { status ticks(limit: 20) { status skipReason runIds
  error { message } } } } } }"""
LOCATIONS_QUERY = """{ workspaceOrError { __typename ... on Workspace { locationEntries { name
  loadStatus locationOrLoadError { __typename } } } } }"""


def _demo_env(demo: Path) -> dict[str, str]:
    """The settings the demo wrote for `dagster dev` (``export NAME=value`` lines)."""
    values = {}
    for line in (demo / "dagster.env").read_text(encoding="utf-8").splitlines():
        name, _, value = shlex.split(line)[1].partition("=")
        values[name] = value
    return values


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def graphql(base: str, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{base}/graphql", data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as answer:
        body = json.loads(answer.read())
    assert "errors" not in body, body.get("errors")
    return body["data"]


def _wait(what: str, ready, timeout: float = 600, every: float = 2.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = ready()
        except OSError:
            found = None
        if found:
            return found
        assert time.monotonic() < deadline, f"{what}: väntade {timeout:.0f} s"
        time.sleep(every)


@pytest.fixture(scope="module")
def ui_demo(request) -> Path:
    """The suite's demo, or one made before with `finsam demo` (``FINSAM_UI_DEMO=./demo``: the
    pictures without waiting for a new demo; the backfill below is added to it)."""
    given = os.environ.get("FINSAM_UI_DEMO")
    return Path(given).resolve() if given else request.getfixturevalue("demo")


@pytest.fixture(scope="module")
def dagster_dev(ui_demo, tmp_path_factory):
    """`dagster dev` from the project root on the demo's settings, as the README says to start it:
    (base URL, the demo's settings, the number of runs before it started)."""
    settings = _demo_env(ui_demo)
    instance = dg.DagsterInstance.from_config(settings["DAGSTER_HOME"])
    runs_before = len(instance.get_runs())
    instance.dispose()
    port = _free_port()
    log = tmp_path_factory.mktemp("dagster_dev") / "dagster_dev.log"
    with log.open("w", encoding="utf-8") as handle:
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("dagster")), "dev", "-h", "127.0.0.1", "-p",
             str(port)], cwd=ROOT, env={**os.environ, **settings}, stdout=handle,
            stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        def loaded():
            assert server.poll() is None, log.read_text(encoding="utf-8")[-3000:]
            entries = graphql(base, LOCATIONS_QUERY)["workspaceOrError"]["locationEntries"]
            return [entry for entry in entries if entry["name"] == LOCATION
                    and entry["loadStatus"] == "LOADED"
                    and entry["locationOrLoadError"]["__typename"] == "RepositoryLocation"]
        _wait("dagster dev laddar finsam", loaded)
        yield base, settings, runs_before
    finally:
        # dagster dev, its webserver, daemon and code servers share the session we gave it
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@ui_only
def test_opening_the_ui_starts_no_run(dagster_dev):
    """The sensor runs as soon as the daemon does: on the demo, everything in the landing zone is
    already in the warehouse, so its tick is skipped and no run starts."""
    base, settings, runs_before = dagster_dev
    selector = {"repositoryLocationName": LOCATION, "repositoryName": "__repository__",
                "sensorName": SENSOR}

    def ticks():
        found = graphql(base, TICKS_QUERY, {"selector": selector})["sensorOrError"]
        assert found["__typename"] == "Sensor", found
        assert found["sensorState"]["status"] == "RUNNING"
        return found["sensorState"]["ticks"]
    seen = _wait("sensorns första tick", ticks, timeout=300)
    assert all(tick["status"] == "SKIPPED" and not tick["runIds"] for tick in seen), seen
    assert any("inga nya leveranser" in (tick["skipReason"] or "") for tick in seen), seen
    instance = dg.DagsterInstance.from_config(settings["DAGSTER_HOME"])
    try:
        assert len(instance.get_runs()) == runs_before
    finally:
        instance.dispose()


def _checks_in_the_ui(base: str) -> dict[tuple[str, str], dict | None]:
    found = {}
    for node in graphql(base, CHECKS_QUERY)["assetNodes"]:
        checks = node["assetChecksOrError"]
        if checks["__typename"] != "AssetChecks":
            continue
        for check in checks["checks"]:
            found[("/".join(node["assetKey"]["path"]), check["name"])] = (
                check["executionForLatestMaterialization"])
    return found


@ui_only
def test_the_ui_shows_no_failed_check_but_the_demos_real_problems(dagster_dev):
    base, _, _ = dagster_dev
    shown = _checks_in_the_ui(base)
    assert len(shown) > 20
    never = sorted(key for key, execution in shown.items() if execution is None)
    assert never == []
    statuses = {key: execution["status"] for key, execution in shown.items()}
    assert {key: status for key, status in statuses.items()
            if status != "SUCCEEDED" and key not in DEMO_PROBLEMS} == {}
    severities = {key: execution["evaluation"]["severity"] for key, execution in shown.items()}
    assert {key: severity for key, severity in severities.items()
            if severity != intended(key[1]).value} == {}


def quarter_start(key: str):
    return quarter(key).start_time.date()


def _browser():
    # the steward app's browser test knows where Chromium is and how it runs here
    from tests.integration.test_steward_web_browser import (
        BROWSER_ARGS,
        CHROMIUM,
        sync_api,
    )

    return sync_api, CHROMIUM, BROWSER_ARGS


def _shoot(page, base: str, path: str, name: str, shown: str, *, then: str | None = None) -> str:
    """Open ``path``, wait until ``shown`` is on the page (then click ``then``), save it as
    ``name`` when asked to; the page's text."""
    page.goto(base + path)
    page.get_by_text(shown, exact=False).first.wait_for(timeout=120_000)
    if then is not None:
        page.get_by_text(then, exact=True).first.click()
    page.wait_for_load_state("networkidle")
    # statuses fill in after the page (the UI's own content policy forbids wait_for_function)
    deadline = time.monotonic() + 120
    while page.get_by_text("Loading...").count() and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    page.wait_for_timeout(1500)      # the UI's last fetches settle into the page
    if OPT_IN == "skriv":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name))
    return page.inner_text("body")


def _decline_invitation(page, base: str, timeout_error) -> None:
    """Dagster invites a new browser to its community once; the demo's pictures show finsam."""
    page.goto(base + "/assets")
    try:
        page.get_by_role("button", name="Skip").click(timeout=30_000)
    except timeout_error:
        pass


@ui_only
def test_screenshots_of_the_catalogue_checks_partitions_and_a_backfill(dagster_dev):
    base, settings, _ = dagster_dev
    first = settings["FINSAM_FIRST_QUARTER"]
    # a backfill of the demo's first quarter, run by `dagster dev`'s daemon (no daemon of its own)
    done = subprocess.run(
        [str(Path(sys.executable).with_name("finsam")), "backfill", "--landing",
         settings["FINSAM_LANDING"], "--warehouse", settings["FINSAM_WAREHOUSE_URL"], "--out",
         settings["FINSAM_OUT"], "--from", first, "--to", first],
        cwd=ROOT, env={**os.environ, **settings, "FINSAM_SETTLE_SECONDS": "0"},
        capture_output=True, text=True, timeout=1800, check=False)
    assert done.returncode == 0, done.stderr
    assert f"{first}: klart" in done.stdout
    sync_api, chromium_path, arguments = _browser()
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path, args=arguments)
        try:
            page = chromium.new_page(viewport={"width": 1280, "height": 800})
            _decline_invitation(page, base, sync_api.TimeoutError)
            catalogue = _shoot(page, base, "/assets", "katalog.png", "insats_spells")
            assert "sus_statistics" in catalogue and "budget_followup" in catalogue
            checks = _shoot(page, base, "/assets/insats_spells?view=checks",
                            "kontroller_insats.png", "leveransfarskhet", then="kvarhallna_rader")
            assert "kvarhallna_rader" in checks and "redo_for_sus" in checks
            assert "Execution failed" not in checks
            partitions = _shoot(page, base, "/assets/sus_statistics?view=partitions",
                                "partitioner_sus.png", first)
            # keys read as the command line says them (2024Q4), not as the quarter's first day
            start = quarter_start(first).isoformat()
            assert start not in partitions
            backfills = _shoot(page, base, "/runs?view=backfills", "backfills.png", "allt")
            assert "Completed" in backfills or "Success" in backfills, backfills[:2000]
        finally:
            chromium.close()
