"""Signed-in staff sessions (Flask-Login): who is signed in, and when that ends.

A session is Flask's signed cookie (HttpOnly, SameSite=Lax, Secure where configured), made
permanent at sign-in, so that it expires after ``STAFF_IDLE_MINUTES`` without a request
(``PERMANENT_SESSION_LIFETIME``; each request pushes that forward) and, however busy the user,
``STAFF_SESSION_HOURS`` after signing in (the time is kept in the session and checked on every
load). Flask-Login's ``session_protection = "strong"`` ties a session to the browser's address and
user agent; for a permanent session Flask-Login only marks it "not fresh" when they change, so
:func:`load_user` refuses a session that is not fresh (this app never signs anyone in from a
remember-me cookie, the only other way to be not fresh).

The session names the user by an alternative id holding ``password_changed_at`` (and a digest
of the password hash): a new password or a disabled account signs the user out everywhere at
the next request or Socket.IO connect, without a table of sessions to purge.
"""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta

from flask import Flask, current_app, session
from flask_login import LoginManager, UserMixin, login_user, logout_user

from queue_board.store.event_store import StaffUser
from queue_board.web.auth import PICKED_COUNTER
from queue_board.web.database import current_store

#: when the user signed in (epoch seconds), for the absolute limit
SIGNED_IN_AT = "qb_signed_in_at"
#: what Flask-Login keeps in the session; with ours, all of it goes at sign-out or expiry
LOGIN_KEYS = ("_user_id", "_fresh", "_id", "_remember", SIGNED_IN_AT, PICKED_COUNTER)

#: Flask-Login, bound to each app by :func:`init_sessions` (it keeps nothing per app but the loader)
login_manager = LoginManager()
login_manager.session_protection = "strong"


class StaffPrincipal(UserMixin):  # type: ignore[misc]  # Flask-Login ships no type hints
    """The signed-in user as Flask-Login sees it (``current_user``); ``record`` is the stored user."""

    def __init__(self, record: StaffUser) -> None:
        self.record = record

    def get_id(self) -> str:
        """The session's name for the user: changes with the password (see :func:`session_id`)."""
        return session_id(self.record)

    @property
    def is_active(self) -> bool:
        """A disabled user is not active: Flask-Login will not sign them in."""
        return not self.record.disabled


def session_id(user: StaffUser) -> str:
    """``<id>:<password_changed_at>:<digest of the password hash>``: a session made before the
    password changed no longer names anyone (the digest covers two changes within a millisecond)."""
    digest = hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]
    return f"{user.id}:{user.password_changed_at}:{digest}"


def init_sessions(app: Flask) -> None:
    """Bind Flask-Login to ``app``; sessions idle out after ``STAFF_IDLE_MINUTES``."""
    login_manager.init_app(app)
    app.permanent_session_lifetime = timedelta(minutes=float(app.config["STAFF_IDLE_MINUTES"]))


def session_too_old() -> bool:
    """Whether this session began more than ``STAFF_SESSION_HOURS`` ago (or says nothing of when)."""
    started = session.get(SIGNED_IN_AT)
    if not isinstance(started, int | float):
        return True
    age = time.time() - float(started)
    return not -60 <= age <= float(current_app.config["STAFF_SESSION_HOURS"]) * 3600


def forget_sign_in() -> None:
    """Drop every trace of a sign-in from the session (the rest, such as the CSRF secret, stays)."""
    for key in LOGIN_KEYS:
        session.pop(key, None)


@login_manager.user_loader  # type: ignore[untyped-decorator]
def load_user(alternative_id: str) -> StaffPrincipal | None:
    """The user a session names, if it is still theirs: fresh, not past the absolute limit,
    the account live, the password unchanged since."""
    user_id, _, _ = alternative_id.partition(":")
    if not user_id.isdigit() or session.get("_fresh") is not True or session_too_old():
        forget_sign_in()
        return None
    user = current_store().get_user(int(user_id))
    if user is None or user.disabled or session_id(user) != alternative_id:
        forget_sign_in()
        return None
    return StaffPrincipal(user)


def sign_in(user: StaffUser) -> None:
    """Start a session for ``user`` (whose password was checked): a fresh session, permanent
    (so the idle limit applies), stamped with its start; the sign-in is recorded."""
    # nothing from before the sign-in survives it: a planted session cannot become someone's
    session.clear()
    login_user(StaffPrincipal(user), remember=False, fresh=True)
    session.permanent = True
    session[SIGNED_IN_AT] = time.time()
    current_store().record_sign_in(user.id)


def sign_out() -> None:
    """End the session: the user and everything the session held."""
    logout_user()
    session.clear()
