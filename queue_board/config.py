"""Settings: one object, every field overridable by a ``QB_`` environment variable."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

#: where the code runs from: ``templates/``, ``static/``, ``translations/`` and ``node_modules/`` are here
ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: Any) -> Any:
    raw = os.environ.get(f"QB_{name}")
    if raw is None:
        return default
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


class Config:
    """Defaults for one machine with SQLite; see README "Configuration" for each setting."""

    def __init__(self) -> None:
        #: SQLAlchemy URL of the event store (``postgresql+psycopg://…`` at scale)
        self.DATABASE_URL: str = _env("DATABASE_URL", "sqlite:///instance/queue_board.db")
        #: Flask-SocketIO message queue joining several server processes (``redis://…``)
        self.SOCKETIO_MESSAGE_QUEUE: str = _env("SOCKETIO_MESSAGE_QUEUE", "")
        #: channel on that queue: deployments sharing one Redis each need their own
        self.SOCKETIO_CHANNEL: str = _env("SOCKETIO_CHANNEL", "queue_board")
        #: ``gevent`` for serve/demo, ``threading`` inside tests
        self.SOCKETIO_ASYNC_MODE: str = _env("SOCKETIO_ASYNC_MODE", "threading")
        #: branch time zone: IANA name or ``+08:00``; empty = the machine's
        self.TIMEZONE: str = _env("TIMEZONE", "")
        #: branch used by pages and the demo when none is named
        self.DEFAULT_BRANCH: str = _env("DEFAULT_BRANCH", "main")
        #: branch configuration file (services, counters) loaded at start if the branch has none
        self.BRANCH_CONFIG_FILE: str = _env("BRANCH_CONFIG_FILE", "")
        #: Monte-Carlo scenarios per forecast refresh
        self.FORECAST_SCENARIOS: int = _env("FORECAST_SCENARIOS", 128)
        #: refresh forecasts inside the request instead of a background task (scripts, tests)
        self.FORECAST_INLINE: bool = _env("FORECAST_INLINE", False)
        #: prior median transaction length before a service has history (seconds)
        self.PRIOR_SERVICE_SECONDS: float = _env("PRIOR_SERVICE_SECONDS", 300.0)
        #: service level: a customer called within this many minutes was served in time (reports' default)
        self.SERVICE_LEVEL_TARGET_MINUTES: float = _env("SERVICE_LEVEL_TARGET_MINUTES", 10.0)
        #: early warnings and re-promises (docs/reports.md "Early warnings"): judged after every
        #: forecast refresh, and swept this often (seconds) for conditions no event prompts (a
        #: counter idle for minutes); 0 = no sweep
        self.WARNINGS_ENABLED: bool = _env("WARNINGS_ENABLED", True)
        self.WARNING_SWEEP_SECONDS: float = _env("WARNING_SWEEP_SECONDS", 30.0)
        #: a branch configured for the first time pins in its log the prior its sister branches
        #: (every other branch of the store) teach: per-service lengths, pause overrun, patience
        #: (docs/forecasting.md "Sister branches in the live server"); off: it starts from fixed priors
        self.SISTER_PRIORS: bool = _env("SISTER_PRIORS", False)
        #: each server process re-checks the tokens of its open sockets this often (seconds) and
        #: disconnects those of a revoked token (docs/api.md "Socket.IO"); 0 = never
        self.TOKEN_RECHECK_SECONDS: float = _env("TOKEN_RECHECK_SECONDS", 2.0)
        #: largest accepted request body (an import of a year of logs fits): the import's limit
        self.MAX_CONTENT_LENGTH: int = _env("MAX_CONTENT_LENGTH", 256 * 1024 * 1024)
        #: largest body of every other API write (a ticket, a teller's button, an event,
        #: feedback); docs/api.md "Limits"
        self.MAX_REQUEST_LENGTH: int = _env("MAX_REQUEST_LENGTH", 64 * 1024)
        #: largest branch configuration (``PUT …/config``: names in three languages, reasons)
        self.MAX_CONFIG_LENGTH: int = _env("MAX_CONFIG_LENGTH", 1024 * 1024)
        #: public address of the server, for the QR codes on printed tickets (e.g. https://queue.bank.example);
        #: required by ``serve`` outside the demo (ticket links never take their host from a request)
        self.PUBLIC_URL: str = _env("PUBLIC_URL", "")
        #: how many reverse proxies in front of the server set ``X-Forwarded-For/-Proto/-Host``
        #: (Werkzeug's ProxyFix); 0 = none: those headers are ignored, so nobody can claim HTTPS
        #: (and get HSTS, Secure cookies) or another address by sending them (docs/api.md "Security headers")
        self.PROXY_HOPS: int = _env("PROXY_HOPS", 0)
        #: bearer token a Prometheus scraper sends to ``/metrics`` (an admin's token works too);
        #: empty = admin tokens only (docs/api.md "Metrics")
        self.METRICS_TOKEN: str = _env("METRICS_TOKEN", "")
        #: the host names the server answers to (comma-separated; empty = any): a request naming
        #: another ``Host`` is refused with 400 (the demo's ticket links, built from the request
        #: when it has no PUBLIC_URL, then cannot point at a host an attacker chose; docs/api.md "Limits")
        hosts = [name.strip() for name in str(_env("TRUSTED_HOSTS", "")).split(",") if name.strip()]
        self.TRUSTED_HOSTS: list[str] | None = hosts or None
        #: demo mode: the index page lists the demo's board links with their tokens
        self.DEMO: bool = _env("DEMO", False)
        #: signs ticket links; empty = generated once and kept in the instance folder, so printed
        #: tickets stay valid across restarts (set it explicitly when several processes serve)
        self.SECRET_KEY: str = _env("SECRET_KEY", "")
        # staff sign-in (docs/staff-accounts.md) ----------------------------------------------
        #: a signed-in staff user is signed out after this many minutes without a request
        self.STAFF_IDLE_MINUTES: int = _env("STAFF_IDLE_MINUTES", 60)
        #: and, however busy, this many hours after signing in (a shift, then sign in again)
        self.STAFF_SESSION_HOURS: float = _env("STAFF_SESSION_HOURS", 12.0)
        #: failed sign-ins allowed per user name (a Flask-Limiter limit); each address gets 4 times as many
        self.LOGIN_FAILURE_LIMIT: str = _env("LOGIN_FAILURE_LIMIT", "5 per 15 minutes")
        #: where those failures are counted: ``memory://`` for one process, ``redis://…`` when
        #: several share the load (else each process counts its own, and the limit multiplies)
        self.RATELIMIT_STORAGE_URI: str = _env("RATELIMIT_STORAGE_URI", "memory://")
        # limits against floods (docs/api.md "Limits"; counted in RATELIMIT_STORAGE_URI too) -----
        #: failed bearer-token authentications per client address (HTTP and Socket.IO); once
        #: used up, every token from that address is refused with 429 until the window passes
        self.TOKEN_FAILURE_LIMIT: str = _env("TOKEN_FAILURE_LIMIT", "20 per minute")
        #: tickets one token may issue (``POST …/tickets``): a real kiosk prints a few a minute
        self.KIOSK_TICKET_LIMIT: str = _env("KIOSK_TICKET_LIMIT", "60 per minute")
        #: API writes (POST/PUT/PATCH/DELETE) per bearer token, whatever the endpoint
        self.API_WRITE_LIMIT: str = _env("API_WRITE_LIMIT", "600 per minute")
        #: messages a Socket.IO connection may send (``sync``, ``refresh``, anything else) that
        #: are answered; more in the window are ignored, twice as many disconnect the socket
        self.SOCKET_MESSAGE_LIMIT: str = _env("SOCKET_MESSAGE_LIMIT", "5 per 10 seconds")
        #: the same for a customer's ticket page, which refreshes after every push of its branch
        self.SOCKET_TICKET_MESSAGE_LIMIT: str = _env("SOCKET_TICKET_MESSAGE_LIMIT", "30 per 10 seconds")
        #: largest Socket.IO message (Engine.IO ``max_http_buffer_size``): more closes the connection
        self.SOCKET_MAX_MESSAGE_BYTES: int = _env("SOCKET_MAX_MESSAGE_BYTES", 64 * 1024)
        #: send the session cookie over HTTPS only: turn on wherever the server is behind HTTPS
        #: (off by default because ``serve`` and ``demo`` speak plain HTTP themselves)
        self.SESSION_COOKIE_SECURE: bool = _env("SESSION_COOKIE_SECURE", False)
        #: never readable by scripts, never sent with another site's requests (CSRF's first line)
        self.SESSION_COOKIE_HTTPONLY: bool = True
        self.SESSION_COOKIE_SAMESITE: str = "Lax"
        #: every request of a signed-in user pushes the idle expiry forward
        self.SESSION_REFRESH_EACH_REQUEST: bool = True
        #: CSRF tokens live as long as the session (a console stays open all day), not an hour
        self.WTF_CSRF_TIME_LIMIT: int | None = None
        self.TESTING: bool = False

    def as_mapping(self) -> dict[str, Any]:
        """The settings as a plain dict for ``app.config.from_mapping``."""
        return {k: v for k, v in vars(self).items() if k.isupper()}
