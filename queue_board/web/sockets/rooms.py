"""Where pushes go: one room per branch for its boards, one in ``/ticket`` for its ticket pages,
and in ``/manage`` one for its dashboard and one for its row of the managers' overview."""

from __future__ import annotations

#: the Socket.IO namespace of the customers' ticket pages
TICKET_NAMESPACE = "/ticket"
#: the Socket.IO namespace of the managers' dashboards and overview
MANAGE_NAMESPACE = "/manage"


def board_room(branch: str) -> str:
    """The Socket.IO room of a branch's boards."""
    return f"branch:{branch}"


def tickets_room(branch: str) -> str:
    """The ``/ticket`` room of a branch's ticket pages."""
    return f"tickets:{branch}"


def dashboard_room(branch: str) -> str:
    """The ``/manage`` room of a branch's live dashboard."""
    return f"dashboard:{branch}"


def overview_room(branch: str) -> str:
    """The ``/manage`` room of the managers' overviews that show ``branch``."""
    return f"overview:{branch}"
