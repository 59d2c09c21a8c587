"""The steward's web app: the quarantine queue, filters, a row's detail and history, accepting and
reopening (one row or a filtered set of warnings), notices, conflicts and the board's files.

A Starlette app over the warehouse; pages come from the same Jinja2 templates as the static
``failures.html`` (``assets/steward/templates``), plus this package's own. Every page needs a
signed-in user, every form a CSRF token, and every decision is written with the user's name.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assets.files import neutralise_formulas
from assets.steward import page as static_page
from assets.steward import render, review
from finsam import periods
from steward_web import auth
from steward_web.settings import Settings
from warehouse import quarantine
from warehouse.db import make_engine
from warehouse.quarantine import HeldFilter

_LOG = logging.getLogger("finsam.steward")

COOKIE = "finsam_steward"
LOGIN_COOKIE = "finsam_inloggning"
ROWS_PER_PAGE = 100
GROUPS_PER_PAGE = 50
MAX_NOTE = 2000

# the status filter in URLs (ASCII) and what it selects
STATUSES = {"": None, "oppen": quarantine.OPEN, "godkand": quarantine.ACCEPTED,
            "atgardad": quarantine.RESOLVED, "stangd": quarantine.CLOSED,
            "alla": quarantine.ALL_STATUSES}
STATUS_CHOICES = [("", "Att granska och väntande"), ("oppen", "Öppna"), ("godkand", "Godkända"),
                  ("atgardad", "Åtgärdade"), ("stangd", "Stängda"), ("alla", "Alla")]
FILTER_KEYS = ("kalla", "fil", "regel", "allvarlighet", "status", "period")

_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
# the board's pages and GX's Data Docs run their own scripts: in a sandbox (an origin of their own),
# so nothing they load can read the app's pages or send its forms
_FILE_HEADERS = {"Content-Security-Policy": "sandbox allow-scripts allow-popups allow-downloads"}

LOGGED = {"godkand": "godkänd", "oppnad": "öppnad igen"}
FLASHES = {
    "godkand": "Raden är godkänd och laddas vid nästa körning.",
    "oppnad": "Raden är öppen igen och hålls kvar.",
}


class _Headers:
    """Security headers on every response, and one log line per request: method, path (held-row
    ids at most, never the query string), status and user."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in _PAGE_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            identity = scope.get("state", {}).get("identity")
            # a path the app made holds ids only, but anyone can type one with a number in it
            _LOG.info("%s %s %s %s", scope["method"], render.mask_identity_like(scope["path"]),
                      status, identity.name if identity else "-")


def with_query(path: str, query: dict[str, Any], **changes: Any) -> str:
    merged = {**query, **changes}
    kept = {key: value for key, value in merged.items() if value not in (None, "")}
    return f"{path}?{urlencode(kept)}" if kept else path


class StewardApp:
    """The routes and what they share: the engine, the settings, the templates, the throttle."""

    def __init__(self, settings: Settings, engine: Engine | None = None):
        self.settings = settings
        self.engine = engine or make_engine(settings.warehouse_url)
        env = render.environment([jinja2.PackageLoader("steward_web", "templates")])
        env.globals.update(with_query=with_query, source_labels=review.SOURCE_LABELS)
        self.templates = Jinja2Templates(env=env)
        self.throttle = auth.LoginThrottle()

    # -- plumbing -------------------------------------------------------------------------------

    def _peer(self, request: Request) -> str:
        return request.client.host if request.client else ""

    def _https(self, request: Request) -> bool:
        if self.settings.secure_cookie or request.url.scheme == "https":
            return True
        return (self._peer(request) in self.settings.proxy_from
                and request.headers.get("x-forwarded-proto", "").lower() == "https")

    def _cookie(self, response: Response, request: Request, name: str, value: str, *,
                max_age: int | None = None, path: str = "/") -> None:
        response.set_cookie(name, value, max_age=max_age, path=path, httponly=True,
                            samesite="strict", secure=self._https(request))

    def _page(self, request: Request, name: str, context: dict[str, Any], *,
              status_code: int = 200) -> Response:
        identity = getattr(request.state, "identity", None)
        flash = FLASHES.get(request.query_params.get("klart", ""))
        if request.query_params.get("klart") == "massgodkand":
            try:
                accepted = int(request.query_params.get("antal", "0"))
            except ValueError:
                accepted = 0
            flash = (f"{render.count(accepted, 'varning', 'varningar')} godkända; de laddas vid "
                     "nästa körning.")
        base = {"identity": identity, "current": None, "flash": flash, "flash_error": False,
                "title": "Granskning"}
        return self.templates.TemplateResponse(request, name, {**base, **context},
                                               status_code=status_code)

    def _message(self, request: Request, status_code: int, title: str, text: str,
                 back: str | None = None) -> Response:
        return self._page(request, "message.html", {"title": title, "text": text, "back": back},
                          status_code=status_code)

    def _identify(self, request: Request) -> auth.Identity | None:
        token = request.cookies.get(COOKIE)
        with self.engine.begin() as connection:
            if not self.settings.proxy_header:
                return auth.session_identity(connection, token, self.settings, via_proxy=False)
            if self._peer(request) not in self.settings.proxy_from:
                return None
            user = request.headers.get(self.settings.proxy_header, "").strip()
            try:
                user = auth.check_name(user)
            except auth.AuthError:
                return None
            identity = auth.session_identity(connection, token, self.settings, via_proxy=True,
                                             proxy_user=user)
            if identity is not None:
                return identity
            role = auth.proxy_role(connection, user, self.settings)
            if role is None:
                return None
            token, csrf = auth.start_session(connection, user, via_proxy=True)
            return auth.Identity(user, role, csrf, True, new_token=token)

    def guarded(self, *, decide: bool = False):
        """A page for signed-in users (``decide``: only those who may accept and reopen); a POST
        must carry the session's CSRF token."""
        def wrap(endpoint: Callable[[Request], Awaitable[Response]]):
            @functools.wraps(endpoint)
            async def handler(request: Request) -> Response:
                identity = await run_in_threadpool(self._identify, request)
                if identity is None:
                    if self.settings.proxy_header:
                        return self._message(request, 403, "Ingen behörighet",
                                             "Inloggningen framför finsam angav ingen användare "
                                             "med behörighet till granskningen.")
                    if request.method == "GET":
                        return RedirectResponse("/login", status_code=303)
                    return self._message(request, 403, "Inte inloggad",
                                         "Du är inte inloggad, eller så har inloggningen gått ut. "
                                         "Logga in och försök igen.", back="/login")
                request.state.identity = identity
                if request.method == "POST":
                    form = await request.form(max_files=0, max_fields=64)
                    if not auth.csrf_matches(identity.csrf_token, form.get("csrf")):
                        return self._message(request, 403, "Formuläret godtogs inte",
                                             "Formuläret kom inte från den här inloggningen eller "
                                             "har gått ut. Ladda om sidan och försök igen.")
                    request.state.form = form
                if decide and not identity.may_decide:
                    return self._message(request, 403, "Ingen behörighet",
                                         f"Din roll ({identity.role}) får läsa men inte godkänna "
                                         "eller öppna rader. Fråga en dataansvarig.")
                response = await endpoint(request)
                if identity.new_token:
                    self._cookie(response, request, COOKIE, identity.new_token)
                return response
            return handler
        return wrap

    def _read(self, work: Callable[[Connection], Any]) -> Any:
        with self.engine.connect() as connection:
            return work(connection)

    def _write(self, work: Callable[[Connection], Any]) -> Any:
        # SERIALIZABLE: a bulk acceptance's audit and update see the same rows even while a
        # nightly run writes (SQLite's write lock gives that anyway)
        with self.engine.connect().execution_options(isolation_level="SERIALIZABLE") as connection:
            with connection.begin():
                return work(connection)

    # -- the filter -----------------------------------------------------------------------------

    @staticmethod
    def _query(values) -> dict[str, str]:
        return {key: str(values.get(key, "")).strip()[:255] for key in FILTER_KEYS}

    @staticmethod
    def _filter(query: dict[str, str]) -> HeldFilter:
        period = query["period"] or None
        if period is not None:
            try:
                periods.quarter(period)
            except ValueError:
                period = None
        severity = query["allvarlighet"] if query["allvarlighet"] in ("fel", "varning") else None
        return HeldFilter(source=query["kalla"] or None, file_name=query["fil"] or None,
                          rule=query["regel"] or None, severity=severity,
                          status=STATUSES.get(query["status"]), period=period)

    @staticmethod
    def _page_number(request: Request) -> int:
        try:
            return max(1, min(int(request.query_params.get("sida", "1")), 1_000_000))
        except ValueError:
            return 1

    # -- sign-in --------------------------------------------------------------------------------

    async def login_form(self, request: Request) -> Response:
        if self.settings.proxy_header:
            return self._message(request, 404, "Inloggning via organisationen",
                                 "Den här finsam loggar in via organisationens inloggning "
                                 "framför webbappen, inte med eget lösenord.")
        return self._login_page(request)

    def _login_page(self, request: Request, *, name: str = "", error: str | None = None,
                    status_code: int = 200) -> Response:
        token = auth.letters_token()
        response = self._page(request, "login.html", {
            "title": "Logga in", "login_token": token, "name": name,
            "flash": error, "flash_error": error is not None}, status_code=status_code)
        self._cookie(response, request, LOGIN_COOKIE, token, max_age=3600, path="/login")
        return response

    async def login(self, request: Request) -> Response:
        if self.settings.proxy_header:
            return self._message(request, 404, "Inloggning via organisationen",
                                 "Den här finsam loggar in via organisationens inloggning.")
        form = await request.form(max_files=0, max_fields=8)
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if not expected or not auth.csrf_matches(expected, form.get("csrf")):
            return self._login_page(request, error="Inloggningsformuläret hade gått ut. "
                                    "Försök igen.", status_code=403)
        name = str(form.get("namn", "")).strip()[:64]
        password = str(form.get("losenord", ""))[:1024]
        address = self._peer(request)
        if self.throttle.blocked(name, address):
            _LOG.warning("inloggning spärrad efter för många misslyckade försök från %s", address)
            return self._login_page(request, name=name, status_code=429,
                                    error="För många misslyckade inloggningar. Vänta en kvart "
                                          "och försök igen.")

        def sign_in(connection: Connection) -> tuple[str, str] | None:
            known = auth.authenticate(connection, name, password)
            if known is None:
                return None
            auth.purge_expired(connection, self.settings)
            return known, auth.start_session(connection, known, via_proxy=False)[0]

        signed_in = await run_in_threadpool(self._write, sign_in)
        if signed_in is None:
            self.throttle.failed(name, address)
            # the typed name is not logged: it may be anything, a mistyped password included
            _LOG.warning("misslyckad inloggning från %s", address)
            return self._login_page(request, name=name, status_code=401,
                                    error="Fel användarnamn eller lösenord.")
        known, token = signed_in
        self.throttle.succeeded(known)
        _LOG.info("%s loggade in", known)
        response = RedirectResponse("/", status_code=303)
        self._cookie(response, request, COOKIE, token)
        response.delete_cookie(LOGIN_COOKIE, path="/login", httponly=True, samesite="strict")
        return response

    async def logout(self, request: Request) -> Response:
        token = request.cookies.get(COOKIE)
        await run_in_threadpool(self._write, lambda connection: auth.end_session(connection, token))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response

    # -- pages ----------------------------------------------------------------------------------

    async def queue(self, request: Request) -> Response:
        query = self._query(request.query_params)
        held, number = self._filter(query), self._page_number(request)

        def read(connection: Connection) -> dict[str, Any]:
            return {"summary": review.summary(connection), "options": review.options(connection),
                    "page": review.queue(connection, held, number, GROUPS_PER_PAGE)}

        data = await run_in_threadpool(self._read, read)
        return self._page(request, "queue.html", {
            **data, "title": "Att granska", "current": "ko", "query": query,
            "statuses": STATUS_CHOICES})

    async def rows(self, request: Request, *, error: str | None = None,
                   status_code: int = 200) -> Response:
        values = request.state.form if error else request.query_params
        query = self._query(values)
        held, number = self._filter(query), self._page_number(request)
        identity: auth.Identity = request.state.identity

        def read(connection: Connection) -> dict[str, Any]:
            return {"options": review.options(connection),
                    "page": review.rows(connection, held, number, ROWS_PER_PAGE),
                    "acceptable": (review.acceptable_count(connection, held)
                                   if identity.may_decide else 0)}

        data = await run_in_threadpool(self._read, read)
        context = {**data, "title": "Kvarhållna rader", "current": "rader", "query": query,
                   "statuses": STATUS_CHOICES}
        if error:
            context.update(flash=error, flash_error=True)
        return self._page(request, "rows.html", context, status_code=status_code)

    async def rows_csv(self, request: Request) -> Response:
        held = self._filter(self._query(request.query_params))
        frame = await run_in_threadpool(
            self._read, lambda connection: static_page.held_frame(
                review.rows(connection, held, 1, 10**9).items))
        text = neutralise_formulas(render.mask_frame(frame)).to_csv(sep=";", index=False)
        return Response(text.encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="granskning.csv"'})

    async def accept_selection(self, request: Request) -> Response:
        form = request.state.form
        query = self._query(form)
        held = self._filter(query)
        note = str(form.get("anteckning", "")).strip()
        identity: auth.Identity = request.state.identity
        try:
            shown = int(str(form.get("antal", "")))
        except ValueError:
            shown = -1
        if not note:
            return await self.rows(request, error="Skriv en anteckning som förklarar varför "
                                   "raderna godkänns.", status_code=400)
        if len(note) > MAX_NOTE:
            return await self.rows(request, error=f"Anteckningen får vara högst {MAX_NOTE} tecken.",
                                   status_code=400)

        def accept(connection: Connection) -> int | str:
            now = review.acceptable_count(connection, held)
            if now != shown:
                return (f"Urvalet har ändrats sedan sidan visades: nu "
                        f"{render.count(now, 'öppen varning', 'öppna varningar')}. "
                        "Kontrollera urvalet och godkänn igen.")
            return quarantine.accept_many(connection, held, note, identity.name)

        try:
            outcome = await run_in_threadpool(self._write, accept)
        except OperationalError:
            outcome = "Någon annan ändrade samma rader samtidigt. Försök igen."
        if isinstance(outcome, str):
            return await self.rows(request, error=outcome, status_code=409)
        _LOG.info("%d varningar godkända av %s", outcome, identity.name)
        return RedirectResponse(with_query("/rader", {**query, "klart": "massgodkand",
                                                      "antal": outcome}), status_code=303)

    def _held_id(self, request: Request) -> int:
        return int(request.path_params["held_id"])

    async def row(self, request: Request, *, error: str | None = None,
                  status_code: int = 200) -> Response:
        held_id = self._held_id(request)

        def read(connection: Connection) -> tuple[dict | None, list[dict]]:
            return review.row(connection, held_id), review.audit(connection, held_id)

        found, decisions = await run_in_threadpool(self._read, read)
        if found is None:
            return self._message(request, 404, "Raden finns inte",
                                 f"Det finns ingen kvarhållen rad med nummer {held_id}.",
                                 back="/rader")
        context = {"title": f"Rad {held_id}", "current": "rader", "row": found,
                   "decisions": decisions}
        if error:
            context.update(flash=error, flash_error=True)
        return self._page(request, "row.html", context, status_code=status_code)

    async def _decide(self, request: Request, decide: Callable[[Connection, int, str, str], Any],
                      done: str, *, note_required: bool) -> Response:
        held_id = self._held_id(request)
        note = str(request.state.form.get("anteckning", "")).strip()
        identity: auth.Identity = request.state.identity
        if note_required and not note:
            return await self.row(request, error="Skriv en anteckning som förklarar beslutet.",
                                  status_code=400)
        if len(note) > MAX_NOTE:
            return await self.row(request, error=f"Anteckningen får vara högst {MAX_NOTE} tecken.",
                                  status_code=400)
        try:
            await run_in_threadpool(self._write, lambda connection: decide(
                connection, held_id, note, identity.name))
        except ValueError as exc:
            return await self.row(request, error=f"Det gick inte: {exc}.", status_code=409)
        except OperationalError:
            return await self.row(request, error="Någon annan ändrade raden samtidigt. Försök igen.",
                                  status_code=409)
        _LOG.info("rad %d %s av %s", held_id, LOGGED[done], identity.name)
        return RedirectResponse(f"/rad/{held_id}?klart={done}", status_code=303)

    async def accept_row(self, request: Request) -> Response:
        return await self._decide(request, lambda connection, held_id, note, who: quarantine.accept(
            connection, held_id, note, who=who), "godkand", note_required=True)

    async def reopen_row(self, request: Request) -> Response:
        return await self._decide(request, lambda connection, held_id, note, who: review.reopen(
            connection, held_id, note or None, who), "oppnad", note_required=False)

    async def notices(self, request: Request) -> Response:
        items = await run_in_threadpool(self._read, review.notices)
        return self._page(request, "notices.html", {"title": "Noteringar", "current": "noteringar",
                                                    "items": items})

    async def conflicts(self, request: Request) -> Response:
        number = self._page_number(request)
        found = await run_in_threadpool(self._read, lambda connection: review.conflicts(
            connection, number, ROWS_PER_PAGE))
        return self._page(request, "conflicts.html", {"title": "Konflikter",
                                                      "current": "konflikter", "page": found})

    async def outputs(self, request: Request) -> Response:
        out = self.settings.out
        groups = await run_in_threadpool(published_files, out) if out else []
        return self._page(request, "outputs.html", {"title": "Utdata", "current": "utdata",
                                                    "groups": groups, "configured": bool(out)})

    async def output_file(self, request: Request) -> Response:
        path = publishable(self.settings.out, request.path_params["path"])
        if path is None:
            return self._message(request, 404, "Filen finns inte",
                                 "Filen finns inte bland de publicerbara utdata.", back="/utdata")
        headers = dict(_FILE_HEADERS)
        if path.suffix in (".xlsx", ".csv"):
            return FileResponse(path, headers=headers, filename=path.name)
        return FileResponse(path, headers=headers)


# What the steward's app may show of the output folder: the board's pages and workbooks, the
# steward's own files and GX's Data Docs. Never the restricted folder, the SUS submission files,
# the internal (unsuppressed) statistics or anything hidden.
_PUBLISHED = (
    ("Granskning", "steward", ("failures.html", "failures.csv")),
    ("Datakvalitet (Great Expectations)", "steward/gx", ("oversikt.html",)),
    ("SUS-statistik", "sus", ("sus_statistik.html", "sus_statistik.xlsx")),
    ("Budgetuppföljning", "budget", ("budgetuppfoljning.html", "budgetuppfoljning.xlsx")),
)
_NEVER = ("begransad", "inregistreringar", "utregistreringar", "anonyma", "intern")
_GX_SUFFIXES = {".html", ".css", ".js", ".json", ".png", ".svg", ".ico", ".woff", ".woff2"}


def publishable(out: Path | None, relative: str) -> Path | None:
    """The file ``relative`` names under ``out`` if the steward's app may serve it, else None."""
    if out is None or not relative or "\\" in relative:
        return None
    parts = Path(relative).parts
    if any(part.startswith(".") or part == ".." for part in parts):
        return None
    if any(never in part.casefold() for part in parts for never in _NEVER):
        return None
    root = out.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    inside = path.relative_to(root).as_posix()
    if inside.startswith("steward/gx/"):
        return path if path.suffix in _GX_SUFFIXES else None
    names = {name for _, _, listed in _PUBLISHED for name in listed}
    top = inside.split("/", 1)[0]
    if path.name in names and top in ("steward", "sus", "budget"):
        return path
    return None


def published_files(out: Path) -> list[dict[str, Any]]:
    groups = []
    for title, folder, names in _PUBLISHED:
        base = out / folder
        if not base.is_dir():
            continue
        found = sorted((path for name in names for path in (
            [base / name] if folder.startswith("steward") else base.rglob(name))
            if path.is_file()), key=lambda path: path.name)
        # the newest period first (the board asks about the latest quarter), html before xlsx
        found.sort(key=lambda path: path.parent.as_posix(), reverse=not folder.startswith("steward"))
        files = [{"path": path.relative_to(out).as_posix(),
                  "label": path.relative_to(base).as_posix(),
                  "modified": dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc)}
                 for path in found if publishable(out, path.relative_to(out).as_posix())]
        if files:
            groups.append({"title": title, "files": files})
    return groups


def create_app(settings: Settings, engine: Engine | None = None) -> Starlette:
    steward = StewardApp(settings, engine)
    guarded, decides = steward.guarded(), steward.guarded(decide=True)

    async def not_found(request: Request, exc: HTTPException) -> Response:
        titles = {404: "Sidan finns inte", 405: "Otillåten metod"}
        return steward._message(request, exc.status_code, titles.get(exc.status_code, "Fel"),
                                "Adressen finns inte i granskningen.")

    async def server_error(request: Request, exc: Exception) -> Response:
        # the exception's text can hold anything; the log gets its type only
        _LOG.error("internt fel: %s", type(exc).__name__)
        return Response("Ett internt fel inträffade i finsams granskning.", status_code=500,
                        media_type="text/plain; charset=utf-8")

    async def no_icon(request: Request) -> Response:
        return Response(status_code=204)

    routes = [
        Route("/login", steward.login_form, methods=["GET"]),
        Route("/login", steward.login, methods=["POST"]),
        Route("/logout", guarded(steward.logout), methods=["POST"]),
        Route("/", guarded(steward.queue), methods=["GET"]),
        Route("/rader", guarded(steward.rows), methods=["GET"]),
        Route("/rader.csv", guarded(steward.rows_csv), methods=["GET"]),
        Route("/rader/godkann", decides(steward.accept_selection), methods=["POST"]),
        Route("/rad/{held_id:int}", guarded(steward.row), methods=["GET"]),
        Route("/rad/{held_id:int}/godkann", decides(steward.accept_row), methods=["POST"]),
        Route("/rad/{held_id:int}/oppna", decides(steward.reopen_row), methods=["POST"]),
        Route("/noteringar", guarded(steward.notices), methods=["GET"]),
        Route("/konflikter", guarded(steward.conflicts), methods=["GET"]),
        Route("/utdata", guarded(steward.outputs), methods=["GET"]),
        Route("/utdata/{path:path}", guarded(steward.output_file), methods=["GET"]),
        Route("/favicon.ico", no_icon, methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found,
                                                       500: server_error},
                    max_body_size=256 * 1024)
    app.add_middleware(_Headers)
    app.state.steward = steward
    return app
