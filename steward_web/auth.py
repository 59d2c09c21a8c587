"""Who may use the steward's web app: local users with argon2 password hashes in the warehouse,
or the user the operator's reverse proxy names; server-side sessions that expire; a CSRF token per
session; a throttle on failed sign-ins.

Nothing here logs or stores a password, a session token or a CSRF token: the warehouse holds the
password's argon2 hash and the session token's SHA-256 only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import string
import threading
import time
from collections import deque
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, insert, or_, select, update

from steward_web.settings import ROLES, STEWARD, Settings
from warehouse import models

USERS = models.StewardUser.__table__
SESSIONS = models.StewardSession.__table__

MIN_PASSWORD_LENGTH = 12
_NAME = re.compile(r"[\w.@-]{1,64}")
_HASHER = PasswordHasher()
# verified against when the user does not exist, so an unknown name costs what a wrong password does
_DUMMY_HASH = _HASHER.hash(secrets.token_hex(16))
# last_seen is written at most this often per session: a page view is not a write each time
_TOUCH_EVERY = dt.timedelta(seconds=60)


class AuthError(ValueError):
    """A user-management request that cannot be done; the message is Swedish and for the operator."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands stored instants back without their zone; finsam stores UTC
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def check_name(name: str) -> str:
    name = name.strip()
    if not _NAME.fullmatch(name):
        raise AuthError("användarnamnet får ha 1-64 tecken: bokstäver, siffror och . _ @ -")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AuthError(f"rollen måste vara {' eller '.join(ROLES)}")
    return role


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"lösenordet måste ha minst {MIN_PASSWORD_LENGTH} tecken")
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; a missing hash takes as long as a wrong password."""
    try:
        return _HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def add_user(connection: Connection, name: str, role: str, password: str | None) -> None:
    """A new user; ``password`` None makes one who signs in only through the reverse proxy."""
    name, role = check_name(name), check_role(role)
    if connection.execute(select(USERS.c.id).where(USERS.c.name == name)).first() is not None:
        raise AuthError(f"användaren {name} finns redan")
    password_hash = None if password is None else hash_password(password)
    connection.execute(insert(USERS).values(
        name=name, role=role, password_hash=password_hash, created_at=_now(),
        password_changed_at=None if password is None else _now()))


def remove_user(connection: Connection, name: str) -> None:
    """The user and every session of theirs; their decisions stay in the audit under their name."""
    if connection.execute(delete(USERS).where(USERS.c.name == name)).rowcount == 0:
        raise AuthError(f"det finns ingen användare {name}")
    connection.execute(delete(SESSIONS).where(SESSIONS.c.user_name == name))


def set_password(connection: Connection, name: str, password: str) -> None:
    """A new password; the user's sessions end, so a stolen session dies with the old password."""
    password_hash = hash_password(password)
    if connection.execute(update(USERS).where(USERS.c.name == name).values(
            password_hash=password_hash, password_changed_at=_now())).rowcount == 0:
        raise AuthError(f"det finns ingen användare {name}")
    connection.execute(delete(SESSIONS).where(SESSIONS.c.user_name == name))


def set_role(connection: Connection, name: str, role: str) -> None:
    if connection.execute(update(USERS).where(USERS.c.name == name).values(
            role=check_role(role))).rowcount == 0:
        raise AuthError(f"det finns ingen användare {name}")


def users(connection: Connection) -> list[dict]:
    return [dict(user) for user in connection.execute(
        select(USERS.c.name, USERS.c.role, USERS.c.created_at, USERS.c.password_changed_at,
               (USERS.c.password_hash.isnot(None)).label("has_password")).order_by(USERS.c.name)
    ).mappings()]


def authenticate(connection: Connection, name: str, password: str) -> str | None:
    """The user's name when the password is right, else None (in the same time either way)."""
    stored = connection.execute(select(USERS.c.name, USERS.c.password_hash).where(
        USERS.c.name == name.strip())).first()
    if not verify_password(stored.password_hash if stored else None, password):
        return None
    if _HASHER.check_needs_rehash(stored.password_hash):
        connection.execute(update(USERS).where(USERS.c.name == stored.name).values(
            password_hash=_HASHER.hash(password)))
    return stored.name


@dataclass(frozen=True)
class Identity:
    """The signed-in user of a request."""

    name: str
    role: str
    csrf_token: str
    via_proxy: bool
    # set when this request started the session: the response must carry the cookie
    new_token: str | None = None

    @property
    def may_decide(self) -> bool:
        """Whether the user may accept and reopen (everyone signed in may read)."""
        return self.role == STEWARD


def letters_token() -> str:
    """A CSRF token of letters only: the pages print it, and a token with digits could hold a run
    that looks like an identity number, which the render path would mask (and so break)."""
    return "".join(secrets.choice(string.ascii_letters) for _ in range(48))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(connection: Connection, name: str, *, via_proxy: bool) -> tuple[str, str]:
    """A new session for ``name``: (cookie token, CSRF token). Always a fresh token, so a token
    planted before signing in never becomes a signed-in one."""
    token, csrf = secrets.token_hex(32), letters_token()
    now = _now()
    connection.execute(insert(SESSIONS).values(token_hash=_token_hash(token), user_name=name,
                                               csrf_token=csrf, via_proxy=via_proxy,
                                               created_at=now, last_seen=now))
    return token, csrf


def end_session(connection: Connection, token: str | None) -> None:
    if token:
        connection.execute(delete(SESSIONS).where(SESSIONS.c.token_hash == _token_hash(token)))


def purge_expired(connection: Connection, settings: Settings) -> int:
    now = _now()
    return connection.execute(delete(SESSIONS).where(or_(
        SESSIONS.c.last_seen < now - dt.timedelta(hours=settings.idle_hours),
        SESSIONS.c.created_at < now - dt.timedelta(hours=settings.max_hours)))).rowcount


def session_identity(connection: Connection, token: str | None, settings: Settings, *,
                     via_proxy: bool, proxy_user: str | None = None) -> Identity | None:
    """The identity behind a session cookie, or None when there is none, it has expired, the
    user is gone, or it does not belong to the way users sign in now."""
    if not token:
        return None
    found = connection.execute(select(SESSIONS).where(
        SESSIONS.c.token_hash == _token_hash(token))).mappings().first()
    if found is None or bool(found["via_proxy"]) != via_proxy:
        return None
    now = _now()
    last_seen, created = _aware(found["last_seen"]), _aware(found["created_at"])
    if (now - last_seen > dt.timedelta(hours=settings.idle_hours)
            or now - created > dt.timedelta(hours=settings.max_hours)):
        connection.execute(delete(SESSIONS).where(SESSIONS.c.token_hash == found["token_hash"]))
        return None
    if via_proxy:
        if proxy_user != found["user_name"]:
            return None
        role = proxy_role(connection, found["user_name"], settings)
    else:
        role = connection.execute(select(USERS.c.role).where(
            USERS.c.name == found["user_name"])).scalar()
    if role is None:
        return None
    if now - last_seen > _TOUCH_EVERY:
        connection.execute(update(SESSIONS).where(SESSIONS.c.token_hash == found["token_hash"])
                           .values(last_seen=now))
    return Identity(found["user_name"], role, found["csrf_token"], via_proxy)


def proxy_role(connection: Connection, name: str, settings: Settings) -> str | None:
    """A proxy user's role: their own in ``steward_user``, else the configured default (or none)."""
    role = connection.execute(select(USERS.c.role).where(USERS.c.name == name)).scalar()
    return role or settings.proxy_role


def csrf_matches(expected: str, given: object) -> bool:
    """Constant-time comparison of the form's token with the session's."""
    if not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


class LoginThrottle:
    """At most ``limit`` failed sign-ins per user name and per client address within
    ``window`` seconds; further tries are refused before a password is even checked. Kept in the
    process (the app runs as one), so a restart forgets it, which only ever helps the owner."""

    def __init__(self, limit: int = 5, window: float = 15 * 60, *, per_address: int = 20):
        self.limit, self.window, self.per_address = limit, window, per_address
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def blocked(self, name: str, address: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return (len(self._recent(("namn", name.casefold()), now)) >= self.limit
                    or len(self._recent(("adress", address), now)) >= self.per_address)

    def failed(self, name: str, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > 10_000:
                # names tried once and long ago: forgotten, so guessing names cannot fill memory
                for key in [key for key in self._failures if not self._recent(key, now)]:
                    del self._failures[key]
            self._recent(("namn", name.casefold()), now).append(now)
            self._recent(("adress", address), now).append(now)

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(("namn", name.casefold()), None)
