"""Limits against floods over HTTP (docs/api.md "Limits"), counted by the app's Flask-Limiter.

Three limits, each a Flask-Limiter rate (``"60 per minute"``) from the settings:

- ``TOKEN_FAILURE_LIMIT`` per client address: only *failed* bearer-token authentications
  count (an unknown or revoked token, over HTTP or a Socket.IO connect). Once an address has
  used it up, every token it sends is refused with 429 until the oldest failure leaves the
  window, the right one included: otherwise the answer (429 for a wrong token, 200 for the
  right one) would go on telling a guesser when it has found a token.
- ``KIOSK_TICKET_LIMIT`` per token (or staff user) on ``POST …/tickets``: a flood of tickets is
  refused before anything is stored.
- ``API_WRITE_LIMIT`` per token on every write of the API.

The counts live in the storage of the app's one :class:`~flask_limiter.Limiter` (the sign-in's,
:mod:`queue_board.web.staff.lockout`), so ``RATELIMIT_STORAGE_URI=redis://…`` makes several
processes count together, with the same moving window. A refusal is
:class:`TooManyRequests`: ``429 {"error": "too_many_requests", "message", "retry_after"}`` with a
``Retry-After`` header (seconds).
"""

from __future__ import annotations

import math
import time
from functools import lru_cache

import limits
from flask import current_app
from flask.sansio.app import App
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from queue_board.service.errors import ProblemError

#: the settings that are rate limits, checked when the app starts
LIMIT_SETTINGS = (
    "TOKEN_FAILURE_LIMIT",
    "KIOSK_TICKET_LIMIT",
    "API_WRITE_LIMIT",
    "SOCKET_MESSAGE_LIMIT",
    "SOCKET_TICKET_MESSAGE_LIMIT",
)


class TooManyRequests(ProblemError):
    """429: a limit is used up; ``retry_after`` seconds until the next request may pass."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(429, "too_many_requests", message, retry_after=retry_after)
        self.retry_after = retry_after


@lru_cache(maxsize=32)
def parse_limit(limit: str) -> limits.RateLimitItem:
    """The one rate of ``limit`` (e.g. ``"5 per 10 seconds"``); ``ValueError`` if it is not one."""
    parsed = limits.parse_many(limit)
    if len(parsed) != 1:
        raise ValueError(f"{limit!r} must be one rate, such as '60 per minute'")
    return parsed[0]


def check_limit_settings(app: App) -> None:
    """Stop the app at start if one of :data:`LIMIT_SETTINGS` is not a single rate."""
    for name in LIMIT_SETTINGS:
        value = str(app.config[name])
        try:
            parse_limit(value)
        except ValueError as exc:
            raise ValueError(f"{name} {value!r} is not a rate limit such as '60 per minute': {exc}") from None


def _limiter() -> Limiter | None:
    # imported here: the staff package imports web.auth, which imports this module
    from queue_board.web.staff.lockout import EXTENSION as LIMITER_EXTENSION

    limiter: Limiter | None = current_app.extensions.get(LIMITER_EXTENSION)
    return limiter if limiter is not None and limiter.enabled else None


def _retry_after(limiter: Limiter, item: limits.RateLimitItem, identifiers: tuple[str, ...]) -> int:
    reset_at = limiter.limiter.get_window_stats(item, *identifiers).reset_time
    return max(1, math.ceil(reset_at - time.time()))


def _identifiers(kind: str, key: str) -> tuple[str, ...]:
    return ("queue_board", kind, key)


def _spend(setting: str, kind: str, key: str, message: str) -> None:
    """Count one request against ``setting`` for ``key``; raise 429 once it is used up."""
    limiter = _limiter()
    if limiter is None:
        return
    item = parse_limit(str(current_app.config[setting]))
    identifiers = _identifiers(kind, key)
    if not limiter.limiter.hit(item, *identifiers):
        raise TooManyRequests(
            message % {"limit": str(current_app.config[setting])}, _retry_after(limiter, item, identifiers)
        )


def client_address() -> str:
    """The peer's address (run behind a proxy with ProxyFix, or every client is the proxy)."""
    return get_remote_address()


def refuse_token_guessing() -> None:
    """Raise 429 if this address has used up its failed token authentications."""
    limiter = _limiter()
    if limiter is None:
        return
    item = parse_limit(str(current_app.config["TOKEN_FAILURE_LIMIT"]))
    identifiers = _identifiers("token-failures", client_address())
    if not limiter.limiter.test(item, *identifiers):
        raise TooManyRequests(
            f"too many unknown or revoked tokens from this address (limit {current_app.config['TOKEN_FAILURE_LIMIT']}); "
            "wait before trying again",
            _retry_after(limiter, item, identifiers),
        )


def count_token_failure() -> None:
    """An unknown or revoked token was sent from this address: count it (never refuses by itself)."""
    limiter = _limiter()
    if limiter is not None:
        item = parse_limit(str(current_app.config["TOKEN_FAILURE_LIMIT"]))
        limiter.limiter.hit(item, *_identifiers("token-failures", client_address()))


def spend_write(who: str) -> None:
    """One API write by ``who`` (a token's id or a staff user's name); 429 past ``API_WRITE_LIMIT``."""
    _spend("API_WRITE_LIMIT", "writes", who, "too many writes with this token (limit %(limit)s); slow down")


def spend_ticket(who: str) -> None:
    """One ticket issued by ``who``; 429 past ``KIOSK_TICKET_LIMIT``, before anything is stored."""
    _spend("KIOSK_TICKET_LIMIT", "tickets", who, "too many tickets issued by this kiosk (limit %(limit)s); slow down")
