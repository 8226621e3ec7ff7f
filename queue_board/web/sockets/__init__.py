"""Socket.IO: every handler of both namespaces, registered in one place, and what the branch
service pushes through them.

``/`` is the boards' namespace (:mod:`.boards`), ``/ticket`` the customers' ticket pages'
(:mod:`.tickets`), ``/manage`` the managers' dashboards and overview (:mod:`.manage`); the
sockets of a revoked token are cut by :mod:`.revocation`, a socket that floods by :mod:`.flood`. :func:`register_handlers` runs once per app, on the app's own server, when
:class:`~queue_board.web.live.LivePush` binds it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app
from flask_socketio import ConnectionRefusedError, SocketIO
from socketio import PubSubManager

from queue_board.service.branch_service import Publisher
from queue_board.web.database import database
from queue_board.web.sockets import boards, manage, ticket_pages, tickets
from queue_board.web.sockets.flood import TICKET_LIMIT, ignore_unknown, throttled
from queue_board.web.sockets.rooms import (
    MANAGE_NAMESPACE,
    TICKET_NAMESPACE,
    board_room,
    dashboard_room,
    overview_room,
    tickets_room,
)

Connect = Callable[[dict[str, Any] | None], None]


def register_handlers(socketio: SocketIO) -> None:
    """Register the boards' and the ticket pages' handlers on ``socketio`` (bound to one app)."""
    socketio.on_event("connect", _when_schema_at_head(boards.on_connect))
    # every message a client sends counts against its socket's limit (flood.py), unknown ones too
    socketio.on_event("sync", throttled(boards.on_sync))
    socketio.on_event("*", throttled(ignore_unknown))
    socketio.on_event("connect", _when_schema_at_head(tickets.on_connect), namespace=TICKET_NAMESPACE)
    # a ticket page refreshes after every push of its branch: a looser limit (flood.py)
    socketio.on_event("refresh", throttled(tickets.on_refresh, TICKET_LIMIT), namespace=TICKET_NAMESPACE)
    socketio.on_event("*", throttled(ignore_unknown, TICKET_LIMIT), namespace=TICKET_NAMESPACE)
    socketio.on_event("connect", _when_schema_at_head(manage.on_connect), namespace=MANAGE_NAMESPACE)
    socketio.on_event("*", throttled(ignore_unknown), namespace=MANAGE_NAMESPACE)


def _when_schema_at_head(connect: Connect) -> Connect:
    """``connect``, refusing while the database's schema is behind (as HTTP answers 503)."""

    def guarded(auth: dict[str, Any] | None = None) -> None:
        problem = database.schema_problem(current_app)
        if problem is not None:
            raise ConnectionRefusedError(f"unavailable: {problem}")
        connect(auth)

    guarded.__doc__ = connect.__doc__
    return guarded


def publisher(socketio: SocketIO) -> Publisher:
    """What the branch service calls after every accepted event and forecast refresh."""

    def publish(branch: str, payload: dict[str, Any]) -> None:
        socketio.emit("board", payload, to=board_room(branch))
        # one content-free nudge for all the branch's ticket pages, in every process: each
        # process's client manager turns it into each page's own state (ticket_pages.py)
        socketio.emit(ticket_pages.NUDGE, {"seq": payload.get("seq")}, to=tickets_room(branch), namespace=TICKET_NAMESPACE)

    return publish


def manager_pushes(socketio: SocketIO) -> tuple[Publisher, Publisher, Callable[[str], bool]]:
    """What the reports push after every board: a branch's dashboard and its overview row; and
    whether anyone may be watching them (a dashboard costs ~4 ms a write to build)."""

    def push_dashboard(branch: str, view: dict[str, Any]) -> None:
        socketio.emit("dashboard", view, to=dashboard_room(branch), namespace=MANAGE_NAMESPACE)

    def push_row(branch: str, row: dict[str, Any]) -> None:
        socketio.emit("branch_row", row, to=overview_room(branch), namespace=MANAGE_NAMESPACE)

    def watched(branch: str) -> bool:
        manager = socketio.server.manager
        if isinstance(manager, PubSubManager):
            # behind a message queue the watchers may be on another process: this one cannot know
            return True
        rooms = (dashboard_room(branch), overview_room(branch))
        return any(True for _ in manager.get_participants(MANAGE_NAMESPACE, rooms))

    return push_dashboard, push_row, watched
