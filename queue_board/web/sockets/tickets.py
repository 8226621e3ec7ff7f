"""The ticket pages' namespace ``/ticket``: the signed link is the credential, the state is the ticket's own."""

from __future__ import annotations

from typing import Any

from flask import current_app, session
from flask_socketio import ConnectionRefusedError, emit

from queue_board.web.sockets.ticket_pages import ticket_pages_of
from queue_board.web.tickets.links import TicketRef, verify
from queue_board.web.tickets.state import ticket_state


def on_connect(auth: dict[str, Any] | None = None) -> None:
    """A ticket page connects with ``{"ticket": <link credential>}`` and gets its state, then
    again after every push of its branch (:mod:`.ticket_pages`)."""
    auth = auth if isinstance(auth, dict) else {}
    ref = verify(auth.get("ticket"))
    if ref is None:
        raise ConnectionRefusedError("unauthorized: not a ticket link of this server")
    session["ticket"] = [ref.branch, ref.day, ref.label]
    ticket_pages_of(current_app).join(ref)
    emit("ticket", ticket_state(ref))


def on_refresh(data: Any = None) -> None:
    """The page polls (its safety net; ``{"seq": …}`` from a page of before direct pushes): send
    its ticket's state again."""
    saved = session.get("ticket")
    if isinstance(saved, list) and len(saved) == 3:
        seq = data.get("seq") if isinstance(data, dict) else None
        seen = seq if isinstance(seq, int) and not isinstance(seq, bool) else None
        emit("ticket", ticket_state(TicketRef(*saved), seen))
