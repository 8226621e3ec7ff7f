"""Who the caller is: a bearer token (devices and programs) or a signed-in staff user (people).

Token roles, from most to least powerful: ``admin`` (every branch, configuration, import),
``manager`` (one branch: everything but configuration), ``teller`` (one counter's
actions), ``kiosk`` (take and cancel tickets), ``display`` (read-only boards). A token is bound
to a branch (and a teller or display to a counter).

Staff users (:mod:`queue_board.core.staff`, signed in by :mod:`queue_board.web.staff`) get a
grant of the same kind: an ``admin`` everywhere, a ``manager`` on their branch, a ``teller`` at
the counter they are assigned or picked at sign-in, and an ``area_manager`` with a manager's
powers on each of its :attr:`Grant.branches`.

One loader turns a token into a grant, :func:`load_grant`, for HTTP (:func:`current_grant`,
from ``Authorization: Bearer …``) and Socket.IO (the ``token`` of the connect payload) alike;
without a token both fall back to the signed-in user (:func:`session_grant`). A request that
changes something on the strength of the session cookie alone must also carry the page's CSRF
token in ``X-CSRFToken``; a bearer token is never sent by a browser on its own, so it needs none.

A wall screen or kiosk (roles ``display`` and ``kiosk``), or a counter's teller console (its
counter's ``teller`` token) is opened once with ``?token=…``; the server swaps it for an
HttpOnly cookie of that screen (:func:`screen_cookie_name`, set by
:mod:`queue_board.web.boards.routes`), so the token lives in no address bar, history or script.
The screen's script names its cookie in ``X-QB-Screen`` (HTTP) or ``auth.screen`` (Socket.IO),
and :func:`screen_grant` loads the token it holds, checked like any token (a revoked one stops
at once). Such a cookie is sent by the browser on its own, so a write with it must come from a
page of this server: its ``Origin`` (or ``Referer``) is checked (:func:`require_same_origin`),
besides the cookie's ``SameSite=Strict``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app, g, request, session
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from wtforms import ValidationError

from queue_board.core.text import N_
from queue_board.service.errors import ProblemError, forbidden, unauthorized
from queue_board.store.event_store import StaffUser, TokenRecord
from queue_board.web import rate_limits
from queue_board.web.database import current_store

ROLES = ("admin", "manager", "teller", "kiosk", "display")
#: methods that change something: with a session they need the CSRF header
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: the request header carrying the page's CSRF token (the console sends it with every write)
CSRF_HEADER = "X-CSRFToken"
#: where the session keeps the counter a teller without an assigned counter picked at sign-in
PICKED_COUNTER = "qb_counter"
#: the roles a screen's cookie may hold: the unattended screens' (boards, kiosk), never a person's
SCREEN_ROLES = ("display", "kiosk")
#: the kind of screen cookie that holds a counter's teller token (its console's device)
CONSOLE_KIND = "teller"
#: the request header a screen's script names its cookie with (Socket.IO: ``auth.screen``)
SCREEN_HEADER = "X-QB-Screen"
#: every screen cookie's name starts so (``/board/forget`` clears them all)
SCREEN_COOKIE_PREFIX = "qb_screen_"
_SCREEN_COOKIE = re.compile(r"qb_screen_[a-z0-9_-]{1,48}")
_PLAIN_COUNTER = re.compile(r"[a-z0-9_-]{1,24}")


@dataclass(frozen=True, slots=True)
class Grant:
    """What the caller may do, from their token or their staff account.

    ``branch`` is the one branch of a token, a manager or a teller; ``branches`` the branches
    an area manager covers (``None`` for everyone else). ``user`` says the grant comes from a
    signed-in staff user rather than a token (the messages then speak of "you", not "this token").
    """

    name: str
    role: str
    branch: str | None
    counter: str | None
    branches: frozenset[str] | None = None
    user: bool = False
    #: the stored token's id (``None`` for a staff user): its live sockets are cut when it is revoked
    token_id: int | None = None

    @classmethod
    def from_record(cls, record: TokenRecord) -> Grant:
        """Build from a stored token."""
        return cls(name=record.name, role=record.role, branch=record.branch, counter=record.counter, token_id=record.id)

    @classmethod
    def from_user(cls, user: StaffUser, counter: str | None = None) -> Grant:
        """Build from a staff user; ``counter`` is the teller's counter for this session."""
        one_branch = user.branches[0] if user.role in ("manager", "teller") and user.branches else None
        return cls(
            name=user.username,
            role=user.role,
            branch=one_branch,
            counter=counter if user.role == "teller" else None,
            branches=frozenset(user.branches) if user.role == "area_manager" else None,
            user=True,
        )

    @property
    def actor(self) -> str:
        """How the event log names who did something."""
        return f"{self.role}:{self.name}"

    def role_at(self, branch: str) -> str | None:
        """The role this grant acts with at ``branch``: its own at its branch, ``manager`` for an
        area manager on each of its branches, ``admin`` everywhere for an admin; ``None`` elsewhere."""
        if self.role == "admin":
            return "admin"
        if self.role == "area_manager":
            return "manager" if self.branches is not None and branch in self.branches else None
        return self.role if self.branch == branch else None

    def can_read(self, branch: str) -> bool:
        """Whether boards and snapshots of ``branch`` may be read."""
        return self.role_at(branch) is not None

    def manages(self, branch: str) -> bool:
        """Whether this grant runs ``branch``: an admin, an area manager covering it, its manager."""
        return self.role_at(branch) in ("admin", "manager")

    def visible_branches(self, all_branches: Iterable[str]) -> list[str]:
        """Those of ``all_branches`` this grant may read, in the order given."""
        return [branch for branch in all_branches if self.can_read(branch)]

    def require_branch(self, branch: str, *roles: str) -> None:
        """Raise 403 unless the grant is for ``branch`` and acts there with one of ``roles``
        (admin always may; an area manager acts as ``manager`` on its branches)."""
        role = self.role_at(branch)
        if role == "admin":
            return
        if role is None:
            if self.user:
                raise ProblemError(403, "forbidden", N_("you may not act for branch %(branch)s"), params={"branch": branch})
            raise forbidden(f"this token is not for branch {branch!r}")
        if role not in roles:
            raise forbidden(f"role {self.role!r} may not do this; needs one of {list(roles)}")

    def require_counter(self, branch: str, counter: str) -> None:
        """Raise 403 unless the grant may act for ``counter`` (tellers only for their own)."""
        self.require_branch(branch, "manager", "teller")
        if self.role == "teller" and self.counter != counter:
            if self.user:
                raise ProblemError(
                    403,
                    "forbidden",
                    N_("you are signed in for counter %(mine)s, not counter %(counter)s"),
                    params={"mine": self.counter or "-", "counter": counter},
                )
            raise forbidden(f"this teller token is bound to counter {self.counter!r}, not {counter!r}")


def load_grant(token: object) -> Grant | None:
    """The grant of a live bearer token, or ``None`` if it is missing, unknown or revoked."""
    if not isinstance(token, str) or not token.strip():
        return None
    # a token pasted with a stray space is still that token, over HTTP and Socket.IO alike
    record = current_store().find_token(token.strip())
    return Grant.from_record(record) if record is not None else None


def guessed_grant(token: object) -> Grant | None:
    """:func:`load_grant`, as a guess of the request's address: refused (429) once the address
    has used up its ``TOKEN_FAILURE_LIMIT``, and a wrong token counted against it."""
    # an address that has guessed too many tokens is refused before its next guess is judged
    rate_limits.refuse_token_guessing()
    found = load_grant(token)
    if found is None:
        rate_limits.count_token_failure()
    return found


def screen_cookie_name(kind: str, counter: str | None = None) -> str:
    """The cookie holding the token of a screen of ``kind`` (``hall``, ``kiosk``, ``counter``): one
    per kind, and per counter for counter boards, so screens sharing a browser do not clash."""
    if counter is None:
        return f"{SCREEN_COOKIE_PREFIX}{kind}"
    # a cookie's name is a plain, case-insensitive token: another counter name is named by its hash
    suffix = counter if _PLAIN_COUNTER.fullmatch(counter) else hashlib.sha256(counter.encode()).hexdigest()[:16]
    return f"{SCREEN_COOKIE_PREFIX}{kind}_{suffix}"


def is_screen_cookie_name(name: object) -> bool:
    """Whether ``name`` is a name :func:`screen_cookie_name` gives."""
    return isinstance(name, str) and _SCREEN_COOKIE.fullmatch(name) is not None


def cookie_kind(name: str) -> str:
    """The screen kind a cookie name of :func:`screen_cookie_name` was given for (``hall``, ``teller``, …)."""
    return name[len(SCREEN_COOKIE_PREFIX) :].split("_", 1)[0]


def screen_token_problem(grant: Grant | None, kind: str = "hall", counter: str | None = None) -> str | None:
    """Why the cookie of a screen of ``kind`` (and ``counter``) cannot keep this token, or ``None``:
    unknown or revoked; a board or kiosk keeps a display or kiosk token, never a person's; a teller
    console keeps the teller token of its own counter (the counter's device, not a person's)."""
    if grant is None:
        return "unknown or revoked token"
    if kind == CONSOLE_KIND:
        if grant.role != "teller":
            return f"a {grant.role} token is not a console's: a teller console keeps a teller token of its counter"
        if counter is not None and grant.counter != counter:
            return f"this teller token is bound to counter {grant.counter!r}, not {counter!r}"
        return None
    if grant.role not in SCREEN_ROLES:
        return f"a {grant.role} token is not a screen's: a screen keeps a display or kiosk token"
    return None


def screen_grant(name: object) -> Grant:
    """The grant of the token in the screen cookie ``name`` of this request (HTTP or the
    Socket.IO handshake); 401 when there is none or its token is unknown or revoked, 403 for a
    token of a role no screen has. Unknown tokens count against the address's guesses."""
    if not is_screen_cookie_name(name):
        raise unauthorized(f"{SCREEN_HEADER} must name one of this browser's screen cookies")
    token = request.cookies.get(str(name))
    if not token:
        raise unauthorized("this browser holds no token for this screen: open the screen's link with ?token=… once")
    found = guessed_grant(token)
    if found is None:
        raise unauthorized("unknown or revoked token in this screen's cookie: open the screen's link with a new token")
    kind = cookie_kind(str(name))
    problem = screen_token_problem(found, kind)
    if problem is None and kind == CONSOLE_KIND and screen_cookie_name(kind, found.counter) != name:
        # a console's cookie is named after its counter: another counter's token is not its own
        problem = f"this teller token is bound to counter {found.counter!r}, not to this console's"
    if problem is not None:
        raise forbidden(problem)
    return found


def _origin(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:  # a Referer such as "http://[": no origin, not a 500
        return None
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def this_origin_problem() -> str | None:
    """Why this request may not come from a page of this server (its ``Origin``, else its
    ``Referer``, names another origin, or neither is there), or ``None``. This server's origin
    is the request's own (scheme and host, after a trusted proxy's ProxyFix) or ``PUBLIC_URL``'s."""
    claimed = request.headers.get("Origin")
    if not claimed or claimed == "null":
        # a privacy setting may blank the Origin of a same-origin write; the Referer then says it
        referer = request.headers.get("Referer")
        claimed = _origin(referer) if referer else None
        if claimed is None:
            return "the request names no Origin"
    ours = {_origin(request.host_url), _origin(str(current_app.config.get("PUBLIC_URL") or ""))}
    if claimed.lower().rstrip("/") not in ours:
        return f"Origin {claimed} is not this server"
    return None


def require_same_origin() -> None:
    """Raise 403 unless the request comes from a page of this server (a write on a cookie the
    browser sends by itself: another site's page must not make it)."""
    problem = this_origin_problem()
    if problem is not None:
        raise ProblemError(403, "csrf_failed", f"a screen's change must come from this server's page: {problem}")


def signed_in_user() -> StaffUser | None:
    """The staff user signed in with this request's session (Flask-Login), or ``None``.

    Expiry, disabling and password changes are judged when the session is loaded
    (:mod:`queue_board.web.staff.sessions`): a user returned here is live.
    """
    record = getattr(current_user, "record", None)
    return record if isinstance(record, StaffUser) else None


def session_grant() -> Grant | None:
    """The grant of the signed-in staff user, or ``None``. A teller's counter is the one they
    picked at sign-in (kept in the session), else the one they are assigned."""
    user = signed_in_user()
    if user is None:
        return None
    counter = None
    if user.role == "teller":
        picked = session.get(PICKED_COUNTER)
        counter = picked if isinstance(picked, str) and picked else user.counter
    return Grant.from_user(user, counter)


def require_csrf_header() -> None:
    """Raise 403 unless the request carries this session's CSRF token in ``X-CSRFToken``."""
    try:
        validate_csrf(request.headers.get(CSRF_HEADER))
    except ValidationError as exc:
        raise ProblemError(
            403,
            "csrf_failed",
            N_("a signed-in change needs the page's CSRF token in the X-CSRFToken header (%(reason)s); reload the page"),
            params={"reason": str(exc)},
        ) from None


def current_grant() -> Grant:
    """The HTTP caller's grant (once per request): ``Authorization: Bearer …`` if the request
    has that header, else the screen cookie named by ``X-QB-Screen`` (writes from this server's
    pages only), else the signed-in staff user, whose writes must carry the CSRF header; 401 if none."""
    cached: Grant | None = g.get("grant")
    if cached is not None:
        return cached
    header = request.headers.get("Authorization")
    if header is not None:
        # a program that sends a header means its token: never fall back to a cookie it may also hold
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("send a token as 'Authorization: Bearer <token>' (create one with 'queue-board token create')")
        found = guessed_grant(token)
        if found is None:
            raise unauthorized("unknown or revoked token")
        if request.method in UNSAFE_METHODS:
            rate_limits.spend_write(f"token:{found.token_id}")
    elif SCREEN_HEADER in request.headers:
        # a screen's script names its cookie: the token it holds, from a page of this server
        found = screen_grant(request.headers[SCREEN_HEADER])
        if request.method in UNSAFE_METHODS:
            require_same_origin()
            rate_limits.spend_write(f"token:{found.token_id}")
    else:
        found = session_grant()
        if found is None:
            raise unauthorized(
                "send a token as 'Authorization: Bearer <token>' (create one with 'queue-board token create'), or sign in at /login"
            )
        if request.method in UNSAFE_METHODS:
            require_csrf_header()
    g.grant = found
    return found


def validate_grant(role: str, branch: str | None, counter: str | None) -> str | None:
    """Why a token with this grant cannot be created, or ``None``."""
    if role not in ROLES:
        return f"unknown role {role!r}; expected one of {list(ROLES)}"
    if role != "admin" and not branch:
        return f"a {role} token needs a branch"
    if role == "teller" and not counter:
        return "a teller token needs a counter"
    if counter and role not in ("teller", "display"):
        return f"a {role} token cannot be bound to a counter"
    return None
