"""The steward's web app through Starlette's TestClient: sign-in, sessions, roles, CSRF, decisions
with the user's name, the proxy header, what may be served, and that no page shows a number."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pandas as pd
import pytest
from sqlalchemy import select, update
from starlette.testclient import TestClient

from assets.steward.render import IDENTITY_LIKE
from steward_web import auth
from steward_web.app import create_app
from steward_web.settings import Settings
from warehouse import models, quarantine

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
# as tests/conftest.py's fill_steward_warehouse sets them up
STEWARD_PASSWORDS = {"anna": "anna-lösenord-2024", "bertil": "bertil-lösenord-2024"}
LEAKED_NUMBER = "19550114-2284"


def _client(engine, settings: Settings | None = None, **kwargs) -> TestClient:
    settings = settings or Settings(warehouse_url=str(engine.url))
    return TestClient(create_app(settings, engine), follow_redirects=False, **kwargs)


def _sign_in(client: TestClient, name: str) -> str:
    """Signs in and returns the session's CSRF token (as a page carries it)."""
    token = CSRF.search(client.get("/login").text).group(1)
    response = client.post("/login", data={"csrf": token, "namn": name,
                                           "losenord": STEWARD_PASSWORDS[name]})
    assert response.status_code == 303 and response.headers["location"] == "/"
    return CSRF.search(client.get("/").text).group(1)


def _held(engine) -> pd.DataFrame:
    with engine.connect() as connection:
        return pd.read_sql(select(models.HeldRow.__table__), connection).set_index("id")


def _decisions(engine) -> pd.DataFrame:
    with engine.connect() as connection:
        return pd.read_sql(select(models.StewardDecision.__table__), connection)


def test_without_a_session_pages_lead_to_the_login_and_forms_are_refused(steward_warehouse):
    engine, ids = steward_warehouse
    client = _client(engine)
    for path in ("/", "/rader", f"/rad/{ids['old_age']}", "/noteringar", "/utdata"):
        response = client.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/login"
    response = client.post(f"/rad/{ids['old_age']}/godkann", data={"anteckning": "x", "csrf": "x"})
    assert response.status_code == 403 and "Inte inloggad" in response.text
    forged = client.post("/rader/godkann", data={"kalla": "fk", "antal": "12", "anteckning": "x"})
    assert forged.status_code == 403
    assert (_held(engine)["status"] == quarantine.OPEN).all()


def test_login_needs_the_right_password_and_its_own_form_token(steward_warehouse):
    engine, _ = steward_warehouse
    client = _client(engine)
    login = client.get("/login")
    token = CSRF.search(login.text).group(1)
    cookie = login.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    wrong = client.post("/login", data={"csrf": token, "namn": "anna", "losenord": "fel-lösenord-123"})
    assert wrong.status_code == 401 and "Fel användarnamn eller lösenord" in wrong.text
    unknown = client.post("/login", data={"csrf": CSRF.search(wrong.text).group(1),
                                          "namn": "okand", "losenord": "vadsomhelst-123"})
    assert unknown.status_code == 401 and "Fel användarnamn eller lösenord" in unknown.text
    # a login form posted from elsewhere carries no token that matches this browser's cookie
    other = _client(engine)
    assert other.post("/login", data={"csrf": token, "namn": "anna",
                                      "losenord": STEWARD_PASSWORDS["anna"]}).status_code == 403
    _sign_in(client, "anna")
    session = client.cookies.get("finsam_steward")
    assert session and len(session) == 64
    with engine.connect() as connection:
        stored = connection.execute(select(models.StewardSession.__table__)).mappings().all()
    # the warehouse holds the token's hash, never the token
    assert [row["token_hash"] for row in stored] != [session]
    assert all(re.fullmatch(r"[A-Za-z]{48}", row["csrf_token"]) for row in stored)


def test_failed_logins_are_throttled_even_for_the_right_password(steward_warehouse):
    engine, _ = steward_warehouse
    client = _client(engine)
    page = client.get("/login")
    for _ in range(5):
        page = client.post("/login", data={"csrf": CSRF.search(page.text).group(1),
                                           "namn": "anna", "losenord": "gissning-123456"})
        assert page.status_code == 401
    blocked = client.post("/login", data={"csrf": CSRF.search(page.text).group(1), "namn": "anna",
                                          "losenord": STEWARD_PASSWORDS["anna"]})
    assert blocked.status_code == 429 and "För många" in blocked.text
    assert "finsam_steward" not in client.cookies


def test_unknown_users_cost_a_password_check_like_known_ones(steward_warehouse, monkeypatch):
    engine, _ = steward_warehouse
    checked = []

    class Recording:
        def __init__(self, hasher):
            self.hasher = hasher

        def verify(self, stored, given):
            checked.append(stored)
            return self.hasher.verify(stored, given)

    monkeypatch.setattr(auth, "_HASHER", Recording(auth._HASHER))
    with engine.connect() as connection:
        assert auth.authenticate(connection, "finnsinte", "lösenord-123456") is None
        assert auth.authenticate(connection, "anna", "lösenord-123456") is None
    assert len(checked) == 2 and checked[0] == auth._DUMMY_HASH
    assert checked[1].startswith("$argon2id$")


def test_a_wrong_or_missing_csrf_token_is_refused(steward_warehouse):
    engine, ids = steward_warehouse
    client = _client(engine)
    token = _sign_in(client, "anna")
    url = f"/rad/{ids['old_age']}/godkann"
    assert client.post(url, data={"anteckning": "ok"}).status_code == 403
    # one letter changed (a token is 48 random letters: one in 52 already ends with "x")
    wrong = token[:-1] + ("y" if token.endswith("x") else "x")
    refused = client.post(url, data={"anteckning": "ok", "csrf": wrong})
    assert refused.status_code == 403 and "Formuläret godtogs inte" in refused.text
    assert _held(engine).loc[ids["old_age"], "status"] == quarantine.OPEN
    assert client.post(url, data={"anteckning": "ok", "csrf": token}).status_code == 303
    assert _held(engine).loc[ids["old_age"], "status"] == quarantine.ACCEPTED


def test_granskare_reads_everything_but_cannot_accept_or_reopen(steward_warehouse):
    engine, ids = steward_warehouse
    with engine.begin() as connection:
        quarantine.accept(connection, ids["young_age"], "undantag", who="anna")
    client = _client(engine)
    token = _sign_in(client, "bertil")
    for path in ("/", "/rader", f"/rad/{ids['old_age']}", "/noteringar", "/konflikter"):
        assert client.get(path).status_code == 200
    detail = client.get(f"/rad/{ids['old_age']}").text
    assert "Godkänn</button>" not in detail and "får läsa men inte godkänna" in detail
    assert "Godkänn alla öppna varningar" not in client.get("/rader?kalla=fk").text
    for url, data in ((f"/rad/{ids['old_age']}/godkann", {"anteckning": "ok"}),
                      (f"/rad/{ids['young_age']}/oppna", {}),
                      ("/rader/godkann", {"kalla": "fk", "antal": "15", "anteckning": "ok"})):
        refused = client.post(url, data={**data, "csrf": token})
        assert refused.status_code == 403 and "granskare" in refused.text
    held = _held(engine)
    assert held.loc[ids["old_age"], "status"] == quarantine.OPEN
    assert held.loc[ids["young_age"], "status"] == quarantine.ACCEPTED
    assert (held.loc[ids["fk_new"], "status"] == quarantine.OPEN).all()


def test_decisions_carry_the_signed_in_user_and_show_at_once(steward_warehouse):
    engine, ids = steward_warehouse
    client = _client(engine)
    token = _sign_in(client, "anna")
    row = ids["old_age"]
    empty = client.post(f"/rad/{row}/godkann", data={"csrf": token, "anteckning": "  "})
    assert empty.status_code == 400 and "anteckning" in empty.text
    error = client.post(f"/rad/{ids['error']}/godkann", data={"csrf": token, "anteckning": "ok"})
    assert error.status_code == 409 and "är ett fel" in error.text
    done = client.post(f"/rad/{row}/godkann", data={"csrf": token, "anteckning": "beslut 12/2024"})
    assert done.status_code == 303
    page = client.get(done.headers["location"]).text
    assert "godkänd, laddas vid nästa körning" in page and "beslut 12/2024" in page
    assert "Raden är godkänd" in page
    reopened = client.post(f"/rad/{row}/oppna", data={"csrf": token, "anteckning": "ångrat"})
    assert reopened.status_code == 303
    decisions = _decisions(engine)
    assert decisions[["held_row_id", "decision", "decided_by", "note"]].values.tolist() == [
        [row, "godkänd", "anna", "beslut 12/2024"], [row, "öppnad igen", "anna", "ångrat"]]
    history = client.get(f"/rad/{row}").text
    assert history.count("<td>anna</td>") == 2


def test_bulk_acceptance_takes_the_filtered_warnings_once_and_refuses_a_changed_selection(
        steward_warehouse):
    engine, ids = steward_warehouse
    client = _client(engine)
    token = _sign_in(client, "anna")
    page = client.get("/rader?kalla=fk&period=2024Q4").text
    assert "Godkänn 12\xa0varningar" in page
    form = {"csrf": token, "kalla": "fk", "fil": "", "regel": "", "status": "",
            "period": "2024Q4", "anteckning": "omfattning 60 % är avtalad"}
    stale = client.post("/rader/godkann", data={**form, "antal": "11"})
    assert stale.status_code == 409 and "Urvalet har ändrats" in stale.text
    assert (_held(engine).loc[ids["fk_new"], "status"] == quarantine.OPEN).all()
    done = client.post("/rader/godkann", data={**form, "antal": "12"})
    assert done.status_code == 303
    assert "12\xa0varningar godkända" in client.get(done.headers["location"]).text
    held = _held(engine)
    assert (held.loc[ids["fk_new"], "status"] == quarantine.ACCEPTED).all()
    assert (held.loc[ids["fk_old"] + [ids["formula"]], "status"] == quarantine.OPEN).all()
    assert set(_decisions(engine)["decided_by"]) == {"anna"}


def test_sessions_expire_and_end_on_logout_and_password_change(steward_warehouse):
    engine, _ = steward_warehouse
    sessions = models.StewardSession.__table__
    client = _client(engine)
    token = _sign_in(client, "anna")
    with engine.begin() as connection:
        connection.execute(update(sessions).values(
            last_seen=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=8, minutes=1)))
    assert client.get("/").headers["location"] == "/login"

    token = _sign_in(client, "anna")
    with engine.begin() as connection:
        connection.execute(update(sessions).values(
            created_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=25)))
    assert client.get("/").headers["location"] == "/login"

    token = _sign_in(client, "anna")
    assert client.post("/logout", data={"csrf": token}).headers["location"] == "/login"
    assert client.get("/").status_code == 303

    _sign_in(client, "anna")
    with engine.begin() as connection:
        auth.set_password(connection, "anna", "ett-helt-nytt-lösenord")
    assert client.get("/").status_code == 303


def test_cookies_are_secure_behind_https(steward_warehouse):
    engine, _ = steward_warehouse
    proxied = _client(engine, client=("127.0.0.1", 40000))
    cookie = proxied.get("/login", headers={"X-Forwarded-Proto": "https"}).headers["set-cookie"]
    assert "Secure" in cookie
    # the header counts only from the configured proxy
    direct = _client(engine, client=("10.1.2.3", 40000))
    assert "Secure" not in direct.get("/login", headers={"X-Forwarded-Proto": "https"}
                                      ).headers["set-cookie"]
    forced = _client(engine, Settings(warehouse_url=str(engine.url), secure_cookie=True))
    assert "Secure" in forced.get("/login").headers["set-cookie"]


def test_proxy_header_signs_in_known_users_from_the_proxy_only(steward_warehouse):
    engine, ids = steward_warehouse
    settings = Settings(warehouse_url=str(engine.url), proxy_header="X-Remote-User")
    proxy = _client(engine, settings, client=("127.0.0.1", 40000))
    assert proxy.get("/login").status_code == 404
    assert proxy.get("/").status_code == 403
    page = proxy.get(f"/rad/{ids['old_age']}", headers={"X-Remote-User": "anna"})
    assert page.status_code == 200 and "anna (dataansvarig)" in page.text
    assert "Logga ut" not in page.text      # the proxy's own sign-out is the way out
    token = CSRF.search(page.text).group(1)
    done = proxy.post(f"/rad/{ids['old_age']}/godkann", headers={"X-Remote-User": "anna"},
                      data={"csrf": token, "anteckning": "via proxyn"})
    assert done.status_code == 303
    assert _decisions(engine)["decided_by"].tolist() == ["anna"]
    # the same browser session cannot be carried over to another name in the header
    assert proxy.get("/", headers={"X-Remote-User": "bertil"}).text.count("bertil (granskare)") == 1
    assert proxy.get("/", headers={"X-Remote-User": "okand"}).status_code == 403
    outside = _client(engine, settings, client=("10.1.2.3", 40000))
    assert outside.get("/", headers={"X-Remote-User": "anna"}).status_code == 403

    default = Settings(warehouse_url=str(engine.url), proxy_header="X-Remote-User",
                       proxy_role="granskare")
    reader = _client(engine, default, client=("127.0.0.1", 40000))
    assert "okand (granskare)" in reader.get("/", headers={"X-Remote-User": "okand"}).text


def test_no_page_or_export_shows_an_identity_number_and_pages_carry_security_headers(
        steward_warehouse, tmp_path, caplog):
    engine, ids = steward_warehouse
    out = tmp_path / "out"
    (out / "steward").mkdir(parents=True)
    (out / "steward" / "failures.html").write_text("<p>granskning</p>", encoding="utf-8")
    client = _client(engine, Settings(warehouse_url=str(engine.url), out=out))
    caplog.set_level(logging.INFO, logger="finsam.steward")
    _sign_in(client, "anna")
    pages = ["/", "/rader", "/rader?status=alla", f"/rad/{ids['leaky']}", "/noteringar",
             "/konflikter", "/utdata", "/rader.csv", "/rader?kalla=fk&fil=" + LEAKED_NUMBER]
    pages += [f"/rad/{held_id}" for held_id in _held(engine).index]
    assert client.get(f"/rad/{LEAKED_NUMBER}").status_code == 404
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        digits = LEAKED_NUMBER.replace("-", "")
        assert LEAKED_NUMBER not in response.text and digits not in response.text, path
        assert not IDENTITY_LIKE.search(response.text), path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"
    assert "felaktig kommun 19550114-****" in client.get(f"/rad/{ids['leaky']}").text
    export = client.get("/rader.csv").content.decode("utf-8-sig")
    assert "'=HYPERLINK" in export and "\n=HYPERLINK" not in export
    logged = caplog.text
    assert LEAKED_NUMBER not in logged and "fil=" not in logged and "lösenord" not in logged
    assert "GET /rader 200 anna" in logged
    assert f"GET /rad/{LEAKED_NUMBER[:8]}-**** 404 -" in logged
    token = CSRF.search(client.get(f"/rad/{ids['old_age']}").text).group(1)
    client.post(f"/rad/{ids['old_age']}/godkann", data={"csrf": token, "anteckning": "ok"})
    assert f"rad {ids['old_age']} godkänd av anna" in caplog.text


def test_only_publishable_outputs_are_served(steward_warehouse, tmp_path):
    engine, _ = steward_warehouse
    out = tmp_path / "out"
    files = {"steward/failures.html": "<p>ok</p>", "steward/gx/oversikt.html": "<p>gx</p>",
             "steward/gx/static/styles/data_docs.css": "p {}",
             "sus/2024Q1_2024Q4/sus_statistik.html": "<p>sus</p>",
             "sus/2024Q1_2024Q4/inregistreringar.csv": "Personnummer\n195501142284\n",
             "sus/2024Q1_2024Q4/sus_statistik_intern.xlsx": "x",
             "begransad/sus/2024Q1_2024Q4/inregistreringar.csv": "x",
             "budget/2024Q4/budgetuppfoljning.html": "<p>budget</p>", "steward/.hemlig": "x"}
    for name, text in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text, encoding="utf-8")
    (tmp_path / "utanfor.html").write_text("x", encoding="utf-8")
    (out / "steward" / "lank.html").symlink_to(tmp_path / "utanfor.html")
    client = _client(engine, Settings(warehouse_url=str(engine.url), out=out))
    _sign_in(client, "bertil")
    listing = client.get("/utdata").text
    for shown in ("steward/failures.html", "steward/gx/oversikt.html",
                  "sus/2024Q1_2024Q4/sus_statistik.html", "budget/2024Q4/budgetuppfoljning.html"):
        assert f'href="/utdata/{shown}"' in listing
        served = client.get(f"/utdata/{shown}")
        assert served.status_code == 200 and "sandbox" in served.headers["content-security-policy"]
    assert client.get("/utdata/steward/gx/static/styles/data_docs.css").status_code == 200
    for refused in ("sus/2024Q1_2024Q4/inregistreringar.csv",
                    "sus/2024Q1_2024Q4/sus_statistik_intern.xlsx",
                    "begransad/sus/2024Q1_2024Q4/inregistreringar.csv", "steward/.hemlig",
                    "steward/lank.html", "../utanfor.html", "steward/%2e%2e/%2e%2e/utanfor.html"):
        assert client.get(f"/utdata/{refused}").status_code == 404, refused
    assert "inregistreringar" not in listing and "intern" not in listing


def test_user_management_checks_names_roles_and_password_length(steward_warehouse):
    engine, _ = steward_warehouse
    with engine.begin() as connection:
        with pytest.raises(auth.AuthError, match="finns redan"):
            auth.add_user(connection, "anna", "granskare", "ett-långt-lösenord")
        with pytest.raises(auth.AuthError, match="minst 12"):
            auth.add_user(connection, "cecilia", "granskare", "kort")
        with pytest.raises(auth.AuthError, match="rollen"):
            auth.add_user(connection, "cecilia", "admin", "ett-långt-lösenord")
        with pytest.raises(auth.AuthError, match="användarnamnet"):
            auth.add_user(connection, "ce cilia", "granskare", "ett-långt-lösenord")
        auth.add_user(connection, "åsa.lind", "granskare", None)
        assert auth.authenticate(connection, "åsa.lind", "") is None
        auth.remove_user(connection, "bertil")
        with pytest.raises(auth.AuthError, match="ingen användare"):
            auth.remove_user(connection, "bertil")
        listed = {user["name"]: (user["role"], user["has_password"])
                  for user in auth.users(connection)}
    assert listed == {"anna": ("dataansvarig", True), "åsa.lind": ("granskare", False)}
