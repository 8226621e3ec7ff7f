"""Guards for staff views of any blueprint: who must be signed in, with which role, for which branch.

For HTML pages::

    from queue_board.web.staff.guard import signed_in_grant, staff_page

    @staff_page("admin", "area_manager", "manager")
    def branch_overview(branch: str) -> str:
        grant = signed_in_grant()  # never None inside a guarded view
        ...

- not signed in (or the session expired): ``302`` to ``/login?next=<this path and query>``,
  which comes back here after signing in;
- signed in, but the user's role is not one of ``roles``: ``403``, the ``forbidden.html`` page;
- the view takes a ``branch`` argument: the user must also :meth:`~queue_board.web.auth.Grant.manages`
  it (admin: every branch; area manager: its branches; manager: its own), a teller must work at
  it; ``403`` otherwise.

For JSON endpoints fetched by those pages, :func:`staff_json` does the same with JSON answers
(``401``/``403`` as ``{"error", "message"}``) and, for POST/PUT/PATCH/DELETE, requires the
page's CSRF token in ``X-CSRFToken`` (a template gets it with ``csrf_token()``, or as
``data-csrf`` on the body as the teller console does).

Roles are the staff users' roles, :data:`~queue_board.core.staff.USER_ROLES`: ``admin``,
``area_manager``, ``manager``, ``teller``; no roles means any signed-in staff user. Both guards
look at the session only: a bearer token does not open a staff page (tokens are for devices;
the JSON API under ``/api/v1`` takes either, see :func:`queue_board.web.auth.current_grant`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import Response, g, jsonify, make_response, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from queue_board.core.staff import USER_ROLES
from queue_board.service.errors import ProblemError
from queue_board.web.auth import UNSAFE_METHODS, Grant, require_csrf_header, session_grant, signed_in_user
from queue_board.web.pages import render_page

P = ParamSpec("P")
R = TypeVar("R")


def signed_in_grant() -> Grant | None:
    """The grant of the staff user signed in with this request's session, or ``None``
    (bearer tokens are not looked at). Computed once per request."""
    if "staff_grant" not in g:
        g.staff_grant = session_grant()
    grant: Grant | None = g.staff_grant
    return grant


def current_path() -> str:
    """This request's path and query, as a ``next`` to come back to after signing in."""
    query = request.query_string.decode("utf-8", "replace")
    return f"{request.path}?{query}" if query else request.path


def login_redirect() -> BaseResponse:
    """``302`` to the sign-in page, which comes back to this page afterwards."""
    return redirect(url_for("staff.login", next=current_path()), code=302)


def forbidden_page(reason: str, status: int = 403) -> Response:
    """The "not allowed" page with ``reason`` (translated by the caller)."""
    html = render_page("forbidden.html", "forbidden", reason=reason, user=signed_in_user())
    return make_response(html, status)


def refusal(grant: Grant, roles: tuple[str, ...], branch: object) -> str | None:
    """Why ``grant`` may not use a view for ``roles`` (at ``branch``, if the view has one), in
    the reader's language; ``None`` if it may."""
    if roles and grant.role not in roles:
        return str(_("Your account (%(role)s) cannot open this page.", role=_role_name(grant.role)))
    if isinstance(branch, str):
        allowed = grant.branch == branch if grant.role == "teller" else grant.manages(branch)
        if not allowed:
            return str(_("Your account does not cover branch %(branch)s.", branch=branch))
    return None


def _role_name(role: str) -> str:
    names = {
        "admin": _("administrator"),
        "area_manager": _("area manager"),
        "manager": _("branch manager"),
        "teller": _("teller"),
    }
    return str(names.get(role, role))


def _checked_roles(roles: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [role for role in roles if role not in USER_ROLES]
    if unknown:
        # a typo in a decorator would lock everyone out (or in): fail when the module loads
        raise ValueError(f"unknown staff roles {unknown}; expected some of {list(USER_ROLES)}")
    return roles


def staff_page(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R | BaseResponse]]:
    """Guard an HTML view: signed in (else ``302`` to ``/login?next=…``), with one of ``roles``
    (any staff role if none given), managing the view's ``branch`` argument if it has one
    (else ``403`` with ``forbidden.html``). See the module's docstring."""
    wanted = _checked_roles(roles)

    def decorate(view: Callable[P, R]) -> Callable[P, R | BaseResponse]:
        @wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R | BaseResponse:
            grant = signed_in_grant()
            if grant is None:
                return login_redirect()
            reason = refusal(grant, wanted, kwargs.get("branch"))
            if reason is not None:
                return forbidden_page(reason)
            return view(*args, **kwargs)

        return guarded

    return decorate


def staff_json(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R | tuple[Response, int]]]:
    """Guard a JSON view like :func:`staff_page`, answering ``401``/``403`` with
    ``{"error", "message"}`` instead of pages; a write (POST, PUT, PATCH, DELETE) must carry
    the page's CSRF token in ``X-CSRFToken`` (``403`` ``csrf_failed`` otherwise)."""
    wanted = _checked_roles(roles)

    def decorate(view: Callable[P, R]) -> Callable[P, R | tuple[Response, int]]:
        @wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R | tuple[Response, int]:
            grant = signed_in_grant()
            if grant is None:
                return _json_problem(401, "unauthorized", _("Sign in first: your session has ended or you never signed in."))
            reason = refusal(grant, wanted, kwargs.get("branch"))
            if reason is not None:
                return _json_problem(403, "forbidden", reason)
            if request.method in UNSAFE_METHODS:
                try:
                    require_csrf_header()
                except ProblemError as exc:
                    return _json_problem(exc.status, exc.code, exc.message)
            return view(*args, **kwargs)

        return guarded

    return decorate


def _json_problem(status: int, code: str, message: str) -> tuple[Response, int]:
    return jsonify(error=code, message=message), status

