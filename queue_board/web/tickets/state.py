"""The live state of customers' tickets, for their pages and their Socket.IO channel (see
:mod:`queue_board.core.ticket_view` for what it holds)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from queue_board.core.ticket_view import ticket_views
from queue_board.service.branch_service import BranchService
from queue_board.web.service import current_service
from queue_board.web.tickets.links import TicketRef


def ticket_state(ref: TicketRef, seen_seq: int | None = None) -> dict[str, Any]:
    """The live state of the ticket ``ref`` names (see :func:`ticket_states`)."""
    return ticket_states(current_service(), ref.branch, [ref], seen_seq)[0]


def ticket_states(
    service: BranchService, branch: str, refs: Sequence[TicketRef], seen_seq: int | None = None
) -> list[dict[str, Any]]:
    """The live state of each ticket of ``branch`` that ``refs`` name, in their order, all read
    from one state of the branch.

    ``seen_seq``: the seq of the push that prompted the read. When this process already holds
    that state, nothing is read from the store; otherwise (another process wrote it, or no seq
    is given) the branch catches up first, once for all of ``refs``.
    """
    if not service.branch_exists(branch):
        return ticket_views(None, service.projections.default_config, None, branch=branch, tickets=[(r.day, r.label) for r in refs])
    projection = service.projections.current(branch)
    if seen_seq is None or projection.state.seq < seen_seq:
        projection = service.projection(branch)  # caught up with what other processes wrote
    service.refresh_if_stale(branch)
    with service.lock(branch):
        state = projection.state
        return ticket_views(
            state,
            service.projections.config_of(state),
            service.forecasts.latest(branch),
            branch=branch,
            tickets=[(ref.day, ref.label) for ref in refs],
            now=max(state.now, service.clock.now().timestamp()) if state.seq else None,
        )
