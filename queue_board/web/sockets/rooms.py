"""Where pushes go: one room per branch for its boards, one in ``/ticket`` for its ticket pages."""

from __future__ import annotations

#: the Socket.IO namespace of the customers' ticket pages
TICKET_NAMESPACE = "/ticket"


def board_room(branch: str) -> str:
    """The Socket.IO room of a branch's boards."""
    return f"branch:{branch}"


def tickets_room(branch: str) -> str:
    """The ``/ticket`` room of a branch's ticket pages."""
    return f"tickets:{branch}"
