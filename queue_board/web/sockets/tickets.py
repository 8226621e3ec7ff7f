"""The ticket pages' namespace ``/ticket``: the signed link is the credential, the state is the ticket's own."""

from __future__ import annotations

from typing import Any

from flask import session
from flask_socketio import ConnectionRefusedError, emit, join_room

from queue_board.web.sockets.rooms import tickets_room
from queue_board.web.tickets.links import TicketRef, verify
from queue_board.web.tickets.state import ticket_state


def on_connect(auth: dict[str, Any] | None = None) -> None:
    """A ticket page connects with ``{"ticket": <link credential>}`` and gets its state."""
    auth = auth if isinstance(auth, dict) else {}
    ref = verify(auth.get("ticket"))
    if ref is None:
        raise ConnectionRefusedError("unauthorized: not a ticket link of this server")
    session["ticket"] = [ref.branch, ref.day, ref.label]
    join_room(tickets_room(ref.branch))
    emit("ticket", ticket_state(ref))


def on_refresh(data: Any = None) -> None:
    """The page heard ``changed`` (``{"seq": …}``, the push's) or polls (no seq): send its
    ticket's state again."""
    saved = session.get("ticket")
    if isinstance(saved, list) and len(saved) == 3:
        seq = data.get("seq") if isinstance(data, dict) else None
        seen = seq if isinstance(seq, int) and not isinstance(seq, bool) else None
        emit("ticket", ticket_state(TicketRef(*saved), seen))
