"""The live state of one customer's ticket, for its page and its Socket.IO channel (see
:mod:`queue_board.core.ticket_view` for what it holds)."""

from __future__ import annotations

from typing import Any

from queue_board.core.ticket_view import ticket_view
from queue_board.web.service import current_service
from queue_board.web.tickets.links import TicketRef


def ticket_state(ref: TicketRef) -> dict[str, Any]:
    """The live state of the ticket ``ref`` names."""
    service = current_service()
    if not service.branch_exists(ref.branch):
        return ticket_view(None, service.projections.default_config, None, branch=ref.branch, day=ref.day, label=ref.label)
    service.refresh_if_stale(ref.branch)
    projection = service.projection(ref.branch)
    with service.lock(ref.branch):
        state = projection.state
        return ticket_view(
            state,
            service.projections.config_of(state),
            service.forecasts.latest(ref.branch),
            branch=ref.branch,
            day=ref.day,
            label=ref.label,
            now=max(state.now, service.clock.now().timestamp()) if state.seq else None,
        )
