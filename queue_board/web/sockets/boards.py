"""The boards' namespace: a board joins its branch's room and gets a full snapshot.

Every change pushes ``board`` to the room once its forecast is made: the full board state
with the branch ``seq`` and the newest event it includes (changes made during one refresh go
out together, so ``seq`` may jump). A client that connects or reconnects gets ``snapshot``;
one that emits ``sync`` gets ``snapshot`` again. A socket opened with a token is cut when
the token is revoked (:mod:`.revocation`).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request, session

# python-socketio's ConnectionRefusedError: its reason reaches the client (the builtin of that name arrives as
# "Connection refused by server", and the board's banner could not say why)
from flask_socketio import ConnectionRefusedError, disconnect, emit, join_room

from queue_board.service.errors import ProblemError
from queue_board.web.auth import Grant, screen_grant, session_grant, this_origin_problem
from queue_board.web.service import current_service
from queue_board.web.sockets.flood import token_grant
from queue_board.web.sockets.revocation import follow_token, token_still_live
from queue_board.web.sockets.rooms import board_room


def _screen_cookie_grant(name: object) -> Grant:
    """The grant of the screen cookie ``name`` the handshake carried (:func:`screen_grant`),
    refused when another site's page opened the socket."""
    # a browser's websocket names its page's origin; a polling handshake (a GET) may name none,
    # and is same-origin only anyway (Engine.IO's CORS check); another site's page gets no
    # SameSite=Strict cookie in the first place
    problem = this_origin_problem() if request.headers.get("Origin") else None
    if problem is not None:
        raise ConnectionRefusedError(f"forbidden: a screen's cookie connects from this server's pages only ({problem})")
    try:
        return screen_grant(name)
    except ProblemError as exc:
        label = {401: "unauthorized", 429: "too many requests"}.get(exc.status, "forbidden")
        raise ConnectionRefusedError(f"{label}: {exc.message}") from None


def on_connect(auth: dict[str, Any] | None = None) -> None:
    """Authenticate with ``{"token": …, "branch": …}`` and join the branch room; without a
    token, with the screen cookie named by ``{"screen": …}`` (a wall screen or kiosk), else as the
    staff user signed in with the handshake's session cookie (the teller console)."""
    auth = auth if isinstance(auth, dict) else {}
    branch = auth.get("branch") or current_app.config["DEFAULT_BRANCH"]
    token = auth.get("token")
    screen = auth.get("screen")
    # a token that is given but wrong is refused: it never falls back to a cookie
    if token:
        grant = token_grant(token)
    elif screen:
        grant = _screen_cookie_grant(screen)
    else:
        grant = session_grant()
    if grant is None:
        if token:
            raise ConnectionRefusedError("unauthorized: unknown or revoked token")
        raise ConnectionRefusedError("unauthorized: no token, and nobody is signed in (or the session has ended)")
    if not isinstance(branch, str) or not grant.can_read(branch):
        who = "you are not signed in" if grant.user else "this token is not"
        raise ConnectionRefusedError(f"forbidden: {who} for branch {branch!r}")
    service = current_service()
    if not service.branch_exists(branch):
        raise ConnectionRefusedError(f"not found: no branch {branch!r}")
    if grant.role == "display" and grant.counter and auth.get("counter") != grant.counter:
        # a display bound to a counter is the screen above that window, and nothing else
        raise ConnectionRefusedError(f"forbidden: this display is bound to counter {grant.counter!r}")
    session["branch"] = branch
    join_room(board_room(branch))
    follow_token(grant)
    # the snapshot goes out before any refresh is scheduled, so it is the first message
    emit("snapshot", service.snapshot_without_refresh(branch))
    service.refresh_if_stale(branch)


def on_sync(_data: Any = None) -> None:
    """A client saw a gap in ``seq``: send the full state again (unless its token was revoked meanwhile)."""
    if not token_still_live():
        disconnect()
        return
    branch = session.get("branch")
    if branch:
        emit("snapshot", current_service().snapshot(branch))
