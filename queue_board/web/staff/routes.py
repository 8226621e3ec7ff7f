"""The sign-in pages' views, and the table of their URLs (:func:`add_routes`).

A wrong user name or password (or a disabled account) is answered ``401`` with the form again
and one message for all three, so the page tells nobody which user names exist; that status is
also what the failed sign-in limit counts (:mod:`.lockout`). A form without its CSRF token, or
with fields missing, is ``400`` and not counted: it guessed nothing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_limiter import RateLimitExceeded

from queue_board.core.staff import normalise_username
from queue_board.store.event_store import StaffUser, spend_a_verification, verify_password
from queue_board.web.auth import PICKED_COUNTER, signed_in_user
from queue_board.web.database import current_store
from queue_board.web.pages import render_page
from queue_board.web.service import current_service
from queue_board.web.staff.forms import CounterForm, LoginForm, LogoutForm
from queue_board.web.staff.guard import current_path, forbidden_page, staff_page
from queue_board.web.staff.lockout import FAILED_SIGN_IN_STATUS, locked_minutes
from queue_board.web.staff.sessions import sign_in, sign_out

#: where managers and admins land after signing in (the manager pages)
MANAGE_PATH = "/manage"


def add_routes(staff_bp: Blueprint) -> None:
    """Every URL of the sign-in pages, and the page a locked sign-in gets."""
    staff_bp.add_url_rule("/login", view_func=login, methods=["GET", "POST"])
    staff_bp.add_url_rule("/logout", view_func=logout, methods=["POST"])
    staff_bp.add_url_rule("/sign-in/counter", view_func=pick_counter, methods=["GET", "POST"])
    staff_bp.register_error_handler(RateLimitExceeded, locked)


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site (``/manage?x=1``), else ``None``: a sign-in
    link must never send someone to another site (``//evil.example``, ``https://…``, ``/\\evil``)."""
    if not target or len(target) > 2000 or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(ord(ch) < 32 or ch == "\\" for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def teller_console_url(user: StaffUser, counter: str) -> str:
    """The console of ``counter`` at the teller's branch."""
    return url_for("boards.teller_console", counter=counter, branch=user.branches[0] if user.branches else None)


def destination(user: StaffUser, target: str | None) -> str:
    """Where ``user`` goes after signing in: a teller to their console (or to pick a counter
    first), everyone else to ``target`` if it was given, else the manager pages."""
    if user.role == "teller":
        picked = session.get(PICKED_COUNTER)
        counter = picked if isinstance(picked, str) and picked else user.counter
        return teller_console_url(user, counter) if counter else url_for("staff.pick_counter")
    return target or MANAGE_PATH


def _login_page(form: LoginForm, status: int = 200, **context: Any) -> tuple[str, int]:
    target = safe_next(request.args.get("next"))
    links = {code: url_for("staff.login", lang=code, next=target) for code in ("en", "zh-Hant", "zh-Hans")}
    return render_page("login.html", "login", form=form, action=current_path(), language_links=links, **context), status


def login() -> ResponseReturnValue:
    """``GET``: the sign-in form (or on to where a signed-in user belongs). ``POST``: check the
    user name and password; on success start a session and go on, else ``401`` and the form again."""
    # staff sign in on their own screens: their browser's language first
    g.prefer_browser_language = True
    target = safe_next(request.args.get("next"))
    form = LoginForm()
    if request.method == "GET":
        current = signed_in_user()
        if current is not None:
            return redirect(destination(current, target))
        notice = _("You have signed out.") if request.args.get("signed_out") else None
        return _login_page(form, notice=notice)
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            return _login_page(form, 400, error=_("This sign-in form has expired. Please sign in again."))
        return _login_page(form, 400, error=_("Enter your user name and password."))
    user = current_store().find_user(normalise_username(form.username.data or ""))
    if user is None:
        spend_a_verification()
        accepted = False
    else:
        # a disabled account is refused with the same words: the page does not say who exists
        accepted = verify_password(user.password_hash, form.password.data or "") and not user.disabled
    if user is None or not accepted:
        form.password.data = ""
        return _login_page(form, FAILED_SIGN_IN_STATUS, error=_("Wrong user name or password."))
    sign_in(user)
    return redirect(destination(user, target), code=303)


def locked(exc: RateLimitExceeded) -> tuple[str, int]:
    """Too many failed sign-ins for this user name (or from this address): ``429``, and for how long."""
    minutes = locked_minutes(exc)
    current_app.logger.warning("sign-in locked for %s from %s", request.form.get("username", "")[:80], request.remote_addr)
    return _login_page(
        LoginForm(),
        429,
        error=_("Sign-in is locked after too many failed attempts. Try again in %(minutes)s min.", minutes=minutes),
        locked_for=minutes,
    )


def logout() -> ResponseReturnValue:
    """End the session (a POST with the form's CSRF token) and say so on the sign-in page."""
    if signed_in_user() is None:
        sign_out()
        return redirect(url_for("staff.login", signed_out=1), code=303)
    form = LogoutForm()
    if not form.validate_on_submit():
        return forbidden_page(_("This sign-out form has expired. Reload the page and sign out again."), 400)
    sign_out()
    return redirect(url_for("staff.login", signed_out=1), code=303)


@staff_page("teller")
def pick_counter() -> ResponseReturnValue:
    """A teller without an assigned counter picks one of their branch's counters for this session."""
    g.prefer_browser_language = True
    user = signed_in_user()
    assert user is not None  # the guard let a signed-in teller through
    if user.counter:
        return redirect(teller_console_url(user, user.counter))
    branch = user.branches[0]
    g.page_branch = branch
    counters = [counter.name for counter in current_service().config(branch).counters]
    form = CounterForm()
    form.counter.choices = [(name, name) for name in counters]
    error = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            session[PICKED_COUNTER] = form.counter.data
            return redirect(teller_console_url(user, str(form.counter.data)), code=303)
        status = 400
        error = (
            _("This form has expired. Please pick your counter again.")
            if form.csrf_token.errors
            else _("Pick one of your branch's counters.")
        )
    picked = session.get(PICKED_COUNTER)
    return render_page(
        "pick_counter.html",
        "pick-counter",
        form=form,
        counters=counters,
        branch=branch,
        user=user,
        picked=picked if picked in counters else None,
        error=error,
    ), status

