"""Staff accounts in the browser: sign-in pages, sessions, the failed sign-in limit, page guards.

Managers and tellers sign in with a user name and password (``/login``); tellers without an
assigned counter pick one (``/sign-in/counter``); ``POST /logout`` ends the session. Devices and
programs keep their bearer tokens (:mod:`queue_board.web.auth`). See docs/staff-accounts.md.

- :mod:`.routes`: the views; :mod:`.forms`: their Flask-WTF forms (CSRF-checked);
- :mod:`.sessions`: Flask-Login, session expiry (idle and absolute), sign-in and sign-out;
- :mod:`.lockout`: the failed sign-in limit (Flask-Limiter);
- :mod:`.guard`: :func:`~.guard.staff_page` and :func:`~.guard.staff_json`, for the views of
  other blueprints that only staff may open.

The factory registers :data:`staff_bp` and then binds :data:`staff_accounts` (after the
blueprint, because the failed sign-in limit is put around that app's login view).
"""

from __future__ import annotations

from flask import Blueprint, Flask
from flask_wtf.csrf import generate_csrf

from queue_board.web.staff import routes
from queue_board.web.staff.lockout import init_lockout
from queue_board.web.staff.sessions import init_sessions

staff_bp = Blueprint("staff", __name__)
routes.add_routes(staff_bp)


class StaffAccounts:
    """Binds staff sign-in to each app: Flask-Login, the failed sign-in limit, ``csrf_token()``."""

    def init_app(self, app: Flask) -> None:
        """Bind to ``app``, whose staff blueprint is registered already."""
        init_sessions(app)
        init_lockout(app)
        # templates put the session's CSRF token into their forms (and the console's data-csrf)
        app.jinja_env.globals["csrf_token"] = generate_csrf


#: staff sign-in; bound per app by the factory
staff_accounts = StaffAccounts()
