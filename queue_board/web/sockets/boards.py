"""The boards' namespace: a board joins its branch's room and gets a full snapshot.

Every accepted event pushes ``board`` (the full board state with the branch ``seq`` and
the event) to the room; forecast refreshes push ``board`` again with the same ``seq`` and
``event: null``. A client that connects or reconnects gets ``snapshot``; one that sees a
gap in ``seq`` emits ``sync`` and gets ``snapshot``.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, session
from flask_socketio import emit, join_room

from queue_board.web.auth import load_grant
from queue_board.web.service import current_service
from queue_board.web.sockets.rooms import board_room


def on_connect(auth: dict[str, Any] | None = None) -> None:
    """Authenticate with ``{"token": …, "branch": …}`` and join the branch room."""
    auth = auth if isinstance(auth, dict) else {}
    branch = auth.get("branch") or current_app.config["DEFAULT_BRANCH"]
    grant = load_grant(auth.get("token"))
    if grant is None:
        raise ConnectionRefusedError("unauthorized: unknown or missing token")
    if not isinstance(branch, str) or not grant.can_read(branch):
        raise ConnectionRefusedError(f"forbidden: this token is not for branch {branch!r}")
    service = current_service()
    if not service.branch_exists(branch):
        raise ConnectionRefusedError(f"not found: no branch {branch!r}")
    if grant.role == "display" and grant.counter and auth.get("counter") != grant.counter:
        # a display bound to a counter is the screen above that window, and nothing else
        raise ConnectionRefusedError(f"forbidden: this display is bound to counter {grant.counter!r}")
    session["branch"] = branch
    join_room(board_room(branch))
    # the snapshot goes out before any refresh is scheduled, so it is the first message
    emit("snapshot", service.snapshot_without_refresh(branch))
    service.refresh_if_stale(branch)


def on_sync(_data: Any = None) -> None:
    """A client saw a gap in ``seq``: send the full state again."""
    branch = session.get("branch")
    if branch:
        emit("snapshot", current_service().snapshot(branch))
