"""The managers' namespace ``/manage``: a branch's live dashboard, and the overview of every
branch a manager runs, pushed after every board push (never polled).

Connect with ``{"branch": …}`` for a dashboard (``dashboard`` snapshot, then a ``dashboard``
after each change) or ``{"overview": true}`` for the overview (``overview`` with every row, then
``branch_row`` for a branch that changed). A signed-in manager's session authenticates; a
program may send ``{"token": …}`` with a manager token instead.
"""

from __future__ import annotations

from typing import Any

from flask_socketio import ConnectionRefusedError, emit, join_room

from queue_board.core.staff import MANAGER_ROLES
from queue_board.web.auth import Grant, session_grant
from queue_board.web.database import current_store
from queue_board.web.service import current_service
from queue_board.web.sockets.flood import token_grant
from queue_board.web.sockets.revocation import follow_token
from queue_board.web.sockets.rooms import dashboard_room, overview_room


def _grant(auth: dict[str, Any]) -> Grant:
    grant = token_grant(auth.get("token")) if auth.get("token") else session_grant()
    if grant is None:
        raise ConnectionRefusedError("unauthorized: sign in as a manager (or send a manager token)")
    if grant.role not in MANAGER_ROLES:
        raise ConnectionRefusedError(f"forbidden: role {grant.role!r} has no manager's view")
    return grant


def on_connect(auth: dict[str, Any] | None = None) -> None:
    """Join a branch's dashboard room or the overview rooms of every branch the caller runs."""
    auth = auth if isinstance(auth, dict) else {}
    grant = _grant(auth)
    reports = current_service().reports
    if auth.get("overview"):
        branches = [b for b in sorted(current_store().branch_ids()) if grant.manages(b)]
        follow_token(grant)
        for shown in branches:
            join_room(overview_room(shown))
        emit("overview", {"branches": reports.overview(branches), "target_minutes": reports.target_minutes})
        return
    branch = auth.get("branch")
    if not isinstance(branch, str) or not branch:
        raise ConnectionRefusedError("bad request: name a branch, or ask for the overview")
    if not grant.manages(branch):
        raise ConnectionRefusedError(f"forbidden: you do not manage branch {branch!r}")
    if not current_service().branch_exists(branch):
        raise ConnectionRefusedError(f"not found: no branch {branch!r}")
    follow_token(grant)
    join_room(dashboard_room(branch))
    emit("dashboard", reports.dashboard(branch))
