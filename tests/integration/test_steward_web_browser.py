"""The steward's web app in a real browser: headless Chromium (Debian's, driven by Playwright)
against the app served by uvicorn over a warehouse with known held rows. Each role signs in,
filters, accepts, bulk-accepts, reopens and reads the history; a reader cannot accept, a request
without a session or with a wrong CSRF token is refused, and no page shows an identity number."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from assets.steward.render import IDENTITY_LIKE
from steward_web.app import create_app
from steward_web.settings import Settings
from warehouse import models, quarantine
from warehouse.db import make_engine, migrate

CHROMIUM = (os.environ.get("FINSAM_TEST_CHROMIUM") or shutil.which("chromium")
            or shutil.which("chromium-browser") or "/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="no Chromium: install Debian's chromium (.ci/run does) or set FINSAM_TEST_CHROMIUM")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extras")

# what this machine's closed network needs: no first-run, sync or update traffic, no sandbox as root
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def served(tmp_path_factory, fill_steward):
    """(base URL, ids, engine): the app on a free port of 127.0.0.1, in this process."""
    import uvicorn

    folder = tmp_path_factory.mktemp("steward_web")
    engine = make_engine(f"sqlite:///{folder / 'warehouse.db'}")
    migrate(engine)
    ids = fill_steward(engine)
    app = create_app(Settings(warehouse_url=str(engine.url)), engine)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", ids, engine
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def as_user(browser, served):
    """``as_user(name)``: a fresh browser context signed in as ``name``, on the queue page."""
    base, ids, _ = served
    contexts = []

    def sign_in(name: str | None):
        context = browser.new_context(base_url=base)
        contexts.append(context)
        page = context.new_page()
        if name is not None:
            page.goto("/")
            assert page.url.endswith("/login")
            page.fill("#namn", name)
            page.fill("#losenord", ids["passwords"][name])
            page.click("form[aria-label=Inloggning] button[type=submit]")
            page.wait_for_url(f"{base}/")
            _no_identity(page)
        return page

    yield sign_in
    for context in contexts:
        context.close()


def _no_identity(page) -> None:
    html = page.content()
    assert not IDENTITY_LIKE.search(html), page.url
    assert "2284" not in html, page.url


def _held(engine) -> pd.DataFrame:
    with engine.connect() as connection:
        return pd.read_sql(select(models.HeldRow.__table__), connection).set_index("id")


def _csrf(page) -> str:
    return page.locator("input[name=csrf]").first.get_attribute("value")


def test_granskare_filters_and_reads_but_cannot_accept(as_user, served):
    _, ids, engine = served
    page = as_user("bertil")
    assert "bertil (granskare)" in page.inner_text("nav")
    page.select_option("select[name=kalla]", "fk")
    page.select_option("select[name=period]", "2024Q4")
    page.click("form.filter button[type=submit]")
    groups = page.locator("table.ko tbody tr")
    assert groups.count() == 2
    assert set(groups.locator("td:nth-child(2)").all_inner_texts()) == {"20241130_forman.csv"}
    _no_identity(page)
    page.click("text=Visa 12\u00a0rader")
    assert page.locator("table.rader tbody tr").count() == 12
    assert page.locator("form[aria-label='Godkänn alla varningar i urvalet']").count() == 0
    _no_identity(page)
    page.locator("table.rader tbody tr").first.locator("a").click()
    assert "Kvarhållen rad" in page.inner_text("h1")
    assert page.locator("form[aria-label='Godkänn raden']").count() == 0
    assert "får läsa men inte godkänna" in page.inner_text("main")
    _no_identity(page)
    # the form is not shown; sending it anyway, with a valid token, is refused
    held_id = ids["fk_new"][0]
    refused = page.request.post(f"/rad/{held_id}/godkann",
                                form={"csrf": _csrf(page), "anteckning": "försök"})
    assert refused.status == 403 and "granskare" in refused.text()
    assert _held(engine).loc[held_id, "status"] == quarantine.OPEN


def test_dataansvarig_accepts_reopens_and_reads_the_history(as_user, served):
    _, ids, engine = served
    page = as_user("anna")
    warnings = page.locator(".rubrik a[href='/rader?allvarlighet=varning&status=oppen']")
    held = _held(engine)
    open_warnings = ((held["status"] == quarantine.OPEN) & (held["severity"] == "varning")).sum()
    assert warnings.inner_text() == f"{open_warnings}\u00a0varningar"
    warnings.click()
    page.select_option("select[name=kalla]", "insats")
    page.click("form.filter button[type=submit]")
    rows = page.locator("table.rader tbody tr")
    assert rows.count() == 2
    _no_identity(page)
    page.click(f"table.rader a[href='/rad/{ids['old_age']}']")
    page.fill("#anteckning", "Deltagaren är 69; styrelsen beslutade undantag")
    page.click("form[aria-label='Godkänn raden'] button")
    assert "Raden är godkänd" in page.inner_text("p.meddelande")
    assert page.inner_text("dd.status-godkänd") == "godkänd, laddas vid nästa körning"
    history = page.locator("table.historik tbody tr")
    assert history.count() == 1
    assert history.first.locator("td").all_inner_texts()[1:] == [
        "godkänd", "öppen", "godkänd", "anna", "Deltagaren är 69; styrelsen beslutade undantag"]
    _no_identity(page)

    page.fill("#anteckning", "fel beslut")
    page.click("form[aria-label='Öppna raden igen'] button")
    assert "öppen igen" in page.inner_text("p.meddelande")
    assert page.inner_text("dd.status-öppen") == "öppen"
    assert [row.locator("td").all_inner_texts()[1:5] for row in
            page.locator("table.historik tbody tr").all()] == [
        ["godkänd", "öppen", "godkänd", "anna"], ["öppnad igen", "godkänd", "öppen", "anna"]]
    with engine.connect() as connection:
        decided = pd.read_sql(select(models.StewardDecision.__table__).where(
            models.StewardDecision.held_row_id == ids["old_age"]), connection)
    assert decided["decided_by"].tolist() == ["anna", "anna"]


def test_dataansvarig_bulk_accepts_a_filtered_set_of_warnings(as_user, served):
    _, ids, engine = served
    page = as_user("anna")
    page.goto("/rader")
    page.select_option("select[name=kalla]", "fk")
    page.select_option("select[name=period]", "2024Q4")
    page.select_option("select[name=allvarlighet]", "varning")
    page.click("form.filter button[type=submit]")
    bulk = page.locator("form[aria-label='Godkänn alla varningar i urvalet']")
    assert "Godkänn 12\u00a0varningar" in bulk.inner_text()
    bulk.locator("textarea").fill("Omfattningen 60 % är avtalad med FK")
    bulk.locator("button").click()
    assert "12\u00a0varningar godkända" in page.inner_text("p.meddelande")
    statuses = page.locator("table.rader tbody td.status-godkänd").all_inner_texts()
    assert statuses == ["godkänd, laddas vid nästa körning"] * 12
    assert page.locator("form[aria-label='Godkänn alla varningar i urvalet']").count() == 0
    _no_identity(page)
    held = _held(engine)
    assert (held.loc[ids["fk_new"], "status"] == quarantine.ACCEPTED).all()
    assert (held.loc[ids["fk_old"], "status"] == quarantine.OPEN).all()
    page.goto(f"/rad/{ids['fk_new'][3]}")
    assert page.locator("table.historik tbody tr").first.locator("td").all_inner_texts()[4:] == [
        "anna", "Omfattningen 60 % är avtalad med FK"]
    # the queue's headline no longer counts them as to act on, and says they wait for the run
    page.goto("/")
    headline = page.inner_text(".rubrik")
    assert "12\u00a0godkända rader" in headline and "laddas vid nästa körning" in headline


def test_requests_without_a_session_or_with_a_wrong_csrf_token_are_refused(as_user, served):
    base, ids, engine = served
    stranger = as_user(None)
    stranger.goto("/rader")
    assert stranger.url == f"{base}/login"
    held_id = ids["young_age"]
    refused = stranger.request.post(f"/rad/{held_id}/godkann",
                                    form={"csrf": "a" * 48, "anteckning": "utan inloggning"})
    assert refused.status == 403
    page = as_user("anna")
    page.goto(f"/rad/{held_id}")
    forged = page.request.post(f"/rad/{held_id}/godkann",
                               form={"csrf": _csrf(page)[::-1], "anteckning": "fel token"})
    assert forged.status == 403 and "Formuläret godtogs inte" in forged.text()
    missing = page.request.post(f"/rad/{held_id}/godkann", form={"anteckning": "ingen token"})
    assert missing.status == 403
    assert _held(engine).loc[held_id, "status"] == quarantine.OPEN


def test_no_page_shows_an_identity_number(as_user, served):
    _, ids, _ = served
    page = as_user("anna")
    paths = ["/", "/rader?status=alla", f"/rad/{ids['leaky']}", f"/rad/{ids['error']}",
             "/noteringar", "/konflikter", "/utdata", "/login", "/finns-inte"]
    for path in paths:
        page.goto(path)
        _no_identity(page)
    page.goto(f"/rad/{ids['leaky']}")
    assert "felaktig kommun 19550114-****" in page.inner_text("dl.detalj")
    page.goto("/konflikter")
    assert "19800102-****" in page.inner_text("table.konflikter")
