"""The call rule of the spec: what "call next" does and what every forecast assumes.

A free counter calls, from the first tier of its work profile that has anyone waiting,
the ticket that joined the queue earliest (FIFO within a tier, strict priority between
tiers). A paused or closed counter calls nobody.
"""

from __future__ import annotations

from queue_board.core.branch import FREE, BranchState, Counter, CounterStatus, Ticket
from queue_board.core.events import Profile


def tier_of(profile: Profile, service: str) -> int | None:
    """The tier (0 = highest priority) in which ``profile`` serves ``service``, if any."""
    for index, tier in enumerate(profile):
        if service in tier:
            return index
    return None


def serves(profile: Profile, service: str) -> bool:
    """Whether a counter with this work profile serves ``service`` at all."""
    return tier_of(profile, service) is not None


def next_ticket_for(state: BranchState, profile: Profile) -> Ticket | None:
    """The ticket a counter with ``profile`` calls next, or ``None`` if nobody eligible waits."""
    for tier in profile:
        best: tuple[float, int, str] | None = None
        for service in tier:
            queue = state.queues.get(service)
            if queue and (best is None or queue[0] < best):
                best = queue[0]
        if best is not None:
            return state.tickets[best[2]]
    return None


def next_ticket(state: BranchState, counter: Counter) -> Ticket | None:
    """The ticket ``counter`` calls next now: nobody if it is not free."""
    if counter.status not in FREE:
        return None
    return next_ticket_for(state, counter.services)


def has_eligible_waiting(state: BranchState, profile: Profile) -> bool:
    """Whether anyone waits whom a counter with ``profile`` would call."""
    return any(state.queues.get(service) for tier in profile for service in tier)


def counters_serving(state: BranchState, service: str) -> list[Counter]:
    """Open counters (paused included) whose profile includes ``service``."""
    return [
        c for c in state.counters.values() if c.status is not CounterStatus.CLOSED and serves(c.services, service)
    ]
