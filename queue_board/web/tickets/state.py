"""The live state of one customer's ticket, for its page and its Socket.IO channel (see
:mod:`queue_board.core.ticket_view` for what it holds)."""

from __future__ import annotations

from typing import Any

from queue_board.core.ticket_view import ticket_view
from queue_board.web.service import current_service
from queue_board.web.tickets.links import TicketRef


def ticket_state(ref: TicketRef, seen_seq: int | None = None) -> dict[str, Any]:
    """The live state of the ticket ``ref`` names.

    ``seen_seq``: the seq of the push that made the page ask (its ``changed`` nudge). When this
    process already holds that state, the page gets it without a look at the store: a branch's
    150 phones asking after every push would otherwise each cost a query.
    """
    service = current_service()
    if not service.branch_exists(ref.branch):
        return ticket_view(None, service.projections.default_config, None, branch=ref.branch, day=ref.day, label=ref.label)
    projection = service.projections.current(ref.branch)
    if seen_seq is None or projection.state.seq < seen_seq:
        projection = service.projection(ref.branch)  # caught up with what other processes wrote
    service.refresh_if_stale(ref.branch)
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
