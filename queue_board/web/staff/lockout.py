"""The failed sign-in limit (Flask-Limiter): guessing passwords gets slow, then locked.

Two limits guard ``POST /login``, and both count only failures (``deduct_when``: the view
answers a wrong user name or password with 401, nothing else does):

- per user name (lower-cased, as stored): ``LOGIN_FAILURE_LIMIT``, ``5 per 15 minutes`` by
  default, so nobody can try many passwords on one account;
- per address: four times as many, so one machine cannot try a few passwords on every account.

Before the view runs, Flask-Limiter only *tests* a limit with a ``deduct_when``: once one is
used up, every attempt is refused with 429 (:func:`lock_page`), the right password included,
until the oldest counted failure leaves the moving window.

Each app gets a :class:`~flask_limiter.Limiter` of its own (Flask-Limiter keeps its storage on
the extension object, so one shared by two apps would count both apps' failures together),
and the limits are put around that app's login view when it is bound (:func:`init_lockout`).
Counts live in ``RATELIMIT_STORAGE_URI``: ``memory://`` for one process, ``redis://…`` when
several processes serve, so that they count together.
"""

from __future__ import annotations

import math
import time
from typing import cast

import limits
from flask import Flask, Response, current_app, request
from flask.typing import RouteCallable
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from queue_board.core.staff import normalise_username

EXTENSION = "queue_board.staff.limiter"
#: the view the limits guard
LOGIN_ENDPOINT = "staff.login"
#: how many more failures an address may have than one user name
PER_ADDRESS_FACTOR = 4
#: the status a failed sign-in is answered with: what the limits count
FAILED_SIGN_IN_STATUS = 401


def failed_sign_in(response: Response) -> bool:
    """Whether ``response`` refused a user name and password (the only thing the limits count)."""
    return response.status_code == FAILED_SIGN_IN_STATUS


def user_key() -> str:
    """The per-user limit's key: the user name as stored, so ``Alice`` and ``alice `` count together."""
    return f"user:{normalise_username(request.form.get('username', ''))}"


def address_key() -> str:
    """The per-address limit's key (the peer's address: run behind a proxy with ProxyFix)."""
    return f"address:{get_remote_address()}"


def user_limit() -> str:
    """``LOGIN_FAILURE_LIMIT``, e.g. ``5 per 15 minutes``."""
    return str(current_app.config["LOGIN_FAILURE_LIMIT"])


def address_limit() -> str:
    """:data:`PER_ADDRESS_FACTOR` times the per-user limit, over the same window."""
    item = limits.parse(user_limit())
    return f"{item.amount * PER_ADDRESS_FACTOR} per {item.multiples} {item.GRANULARITY.name}"


def limit_problem(limit: str) -> str | None:
    """Why ``limit`` is not a Flask-Limiter limit of one rate, or ``None``."""
    try:
        parsed = limits.parse_many(limit)
    except ValueError as exc:
        return f"LOGIN_FAILURE_LIMIT {limit!r} is not a rate limit such as '5 per 15 minutes': {exc}"
    if len(parsed) != 1:
        return f"LOGIN_FAILURE_LIMIT {limit!r} must be one rate, such as '5 per 15 minutes'"
    return None


def init_lockout(app: Flask) -> Limiter:
    """Give ``app`` its own limiter and put both limits around its login view (the staff
    blueprint must be registered first). A bad ``LOGIN_FAILURE_LIMIT`` stops the app at start."""
    problem = limit_problem(str(app.config["LOGIN_FAILURE_LIMIT"]))
    if problem is not None:
        raise ValueError(problem)
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=app.config["RATELIMIT_STORAGE_URI"],
        # a failure counts for exactly the window after it, not until the clock's next quarter hour
        strategy="moving-window",
        key_prefix="queue_board",
    )
    app.extensions[EXTENSION] = limiter
    view = app.view_functions[LOGIN_ENDPOINT]
    per_user = limiter.limit(user_limit, key_func=user_key, methods=["POST"], deduct_when=failed_sign_in)
    per_address = limiter.limit(address_limit, key_func=address_key, methods=["POST"], deduct_when=failed_sign_in)
    app.view_functions[LOGIN_ENDPOINT] = cast(RouteCallable, per_user(per_address(view)))
    return limiter


def locked_minutes(exc: RateLimitExceeded) -> int:
    """How many minutes (at least 1) until the limit that refused this request lets one through."""
    limiter: Limiter | None = current_app.extensions.get(EXTENSION)
    breached = limiter.current_limit if limiter is not None else None
    if breached is None:
        return max(1, math.ceil(exc.limit.limit.get_expiry() / 60))
    # Flask-Limiter rounds the reset time up by a second: a full window is 15 min, not 16
    return max(1, math.ceil((breached.reset_at - 1 - time.time()) / 60))
