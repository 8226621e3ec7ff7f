"""Socket.IO handlers: boards join their branch's room and get a full snapshot.

Every accepted event pushes ``board`` (the full board state with the branch ``seq`` and
the event) to the room; forecast refreshes push ``board`` again with the same ``seq`` and
``event: null``. A client that connects or reconnects gets ``snapshot``; one that sees a
gap in ``seq`` emits ``sync`` and gets ``snapshot``.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, session
from flask_socketio import emit, join_room

from queue_board import current_service, room
from queue_board.web.auth import Grant
from queue_board.web.extensions import socketio


@socketio.on("connect")  # type: ignore[untyped-decorator]
def on_connect(auth: dict[str, Any] | None = None) -> None:
    """Authenticate with ``{"token": …, "branch": …}`` and join the branch room."""
    auth = auth if isinstance(auth, dict) else {}
    token = auth.get("token")
    branch = auth.get("branch") or current_app.config["DEFAULT_BRANCH"]
    service = current_service()
    record = service.store.find_token(token) if isinstance(token, str) and token else None
    if record is None:
        raise ConnectionRefusedError("unauthorized: unknown or missing token")
    grant = Grant.from_record(record)
    if not isinstance(branch, str) or not grant.can_read(branch):
        raise ConnectionRefusedError(f"forbidden: this token is not for branch {branch!r}")
    if not service.branch_exists(branch):
        raise ConnectionRefusedError(f"not found: no branch {branch!r}")
    if grant.role == "display" and grant.counter and auth.get("counter") != grant.counter:
        # a display bound to a counter is the screen above that window, and nothing else
        raise ConnectionRefusedError(f"forbidden: this display is bound to counter {grant.counter!r}")
    session["branch"] = branch
    join_room(room(branch))
    # the snapshot goes out before any refresh is scheduled, so it is the first message
    emit("snapshot", service.snapshot_without_refresh(branch))
    service.refresh_if_stale(branch)


@socketio.on("sync")  # type: ignore[untyped-decorator]
def on_sync(_data: Any = None) -> None:
    """A client saw a gap in ``seq``: send the full state again."""
    branch = session.get("branch")
    if branch:
        emit("snapshot", current_service().snapshot(branch))
