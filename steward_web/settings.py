"""What the steward's web app reads from the command line and the environment."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

from finsam.errors import ConfigurationError

READER = "granskare"
STEWARD = "dataansvarig"
ROLES = {READER: "läsa", STEWARD: "läsa, godkänna och öppna igen"}

SESSION_HOURS_ENV = "FINSAM_STEWARD_SESSION_HOURS"
PROXY_HEADER_ENV = "FINSAM_STEWARD_PROXY_HEADER"
PROXY_ROLE_ENV = "FINSAM_STEWARD_PROXY_ROLE"
PROXY_FROM_ENV = "FINSAM_STEWARD_PROXY_FROM"
SECURE_COOKIE_ENV = "FINSAM_STEWARD_SECURE_COOKIE"

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


@dataclass(frozen=True)
class Settings:
    warehouse_url: str
    out: Path | None = None
    # a session ends after this long without a request, and at the latest after max_hours
    idle_hours: float = 8.0
    max_hours: float = 24.0
    # the operator's reverse proxy names the signed-in user in this header (None: local users)
    proxy_header: str | None = None
    # role of a proxy user who is not in steward_user (None: such users are refused)
    proxy_role: str | None = None
    # the header and X-Forwarded-Proto count only from these peers
    proxy_from: frozenset[str] = field(default_factory=lambda: frozenset({"127.0.0.1", "::1"}))
    # Secure on the cookie always (otherwise only when the request came over https)
    secure_cookie: bool = False


def from_environment(warehouse_url: str, out: Path | None,
                     environ: os._Environ | dict[str, str] = os.environ) -> Settings:
    """The settings for ``finsam steward serve``; a wrong value is refused with what to set."""
    hours_text = environ.get(SESSION_HOURS_ENV, "").strip()
    try:
        idle = float(hours_text) if hours_text else 8.0
    except ValueError:
        raise ConfigurationError(SESSION_HOURS_ENV, "ange ett antal timmar, t.ex. 8") from None
    if not 0 < idle <= 24 * 7:
        raise ConfigurationError(SESSION_HOURS_ENV, "ange mellan 0 och 168 timmar")
    header = environ.get(PROXY_HEADER_ENV, "").strip() or None
    role = environ.get(PROXY_ROLE_ENV, "").strip() or None
    if role is not None and role not in ROLES:
        raise ConfigurationError(PROXY_ROLE_ENV, f"ange {' eller '.join(ROLES)}")
    peers = frozenset(part.strip() for part in
                      environ.get(PROXY_FROM_ENV, "127.0.0.1,::1").split(",") if part.strip())
    for peer in peers:
        try:
            ipaddress.ip_address(peer)
        except ValueError:
            raise ConfigurationError(PROXY_FROM_ENV,
                                     "ange proxyns IP-adresser, kommaseparerade") from None
    secure = environ.get(SECURE_COOKIE_ENV, "").strip().lower() in ("1", "ja", "true", "yes")
    return Settings(warehouse_url=warehouse_url, out=out, idle_hours=idle,
                    max_hours=max(24.0, idle), proxy_header=header, proxy_role=role,
                    proxy_from=peers, secure_cookie=secure)
