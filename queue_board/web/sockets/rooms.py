"""Where pushes go: one room per branch for its boards, one in ``/ticket`` per ticket for its pages,
and in ``/manage`` one for its dashboard and one for its row of the managers' overview; and one
room per token (in each namespace) holding the sockets opened with it, to cut them on revocation."""

from __future__ import annotations

#: the Socket.IO namespace of the customers' ticket pages
TICKET_NAMESPACE = "/ticket"
#: the Socket.IO namespace of the managers' dashboards and overview
MANAGE_NAMESPACE = "/manage"


def board_room(branch: str) -> str:
    """The Socket.IO room of a branch's boards."""
    return f"branch:{branch}"


def tickets_room(branch: str) -> str:
    """The ``/ticket`` room a branch's pushes nudge (no page is in it: see :mod:`.ticket_pages`)."""
    return f"tickets:{branch}"


def ticket_room(branch: str, day: str, label: str) -> str:
    """The ``/ticket`` room of one ticket's pages (labels are unique per branch and day)."""
    return f"ticket:{branch}/{day}/{label}"


def dashboard_room(branch: str) -> str:
    """The ``/manage`` room of a branch's live dashboard."""
    return f"dashboard:{branch}"


def overview_room(branch: str) -> str:
    """The ``/manage`` room of the managers' overviews that show ``branch``."""
    return f"overview:{branch}"


#: what every token's room is named with, followed by the token's id
TOKEN_ROOM_PREFIX = "token:"


def token_room(token_id: int) -> str:
    """The room of the sockets opened with the token ``token_id`` (in whichever namespace)."""
    return f"{TOKEN_ROOM_PREFIX}{token_id}"


def token_of_room(room: object) -> int | None:
    """The token id of a token's room, or ``None`` for any other room."""
    if not isinstance(room, str) or not room.startswith(TOKEN_ROOM_PREFIX):
        return None
    digits = room[len(TOKEN_ROOM_PREFIX) :]
    return int(digits) if digits.isdigit() else None
