"""The call rule of the spec: what "call next" does and what every forecast assumes.

A free counter calls, from the first tier of its work profile that has anyone waiting,
the ticket that joined the queue earliest (FIFO within a tier, strict priority between
tiers). A paused or closed counter calls nobody.

An express counter ("express ≤ N min", ``Counter.express_minutes``; docs/event-log.md "Express
counters") extends the rule: it first applies it to the waiting tickets predicted at issue to
take at most N minutes (``Ticket.predicted_seconds``), and only when none of those waits, to
everyone, so it is never idle while someone it serves waits. A ticket without a prediction (an
old log, a transfer) is not short.
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


def is_short(ticket: Ticket, express_minutes: float) -> bool:
    """Whether an express counter of ``express_minutes`` counts ``ticket`` as short: predicted at
    issue to take at most that long (no prediction: not short)."""
    return ticket.predicted_seconds is not None and ticket.predicted_seconds <= express_minutes * 60.0


def _first_short(state: BranchState, queue: list[tuple[float, int, str]], express_minutes: float) -> tuple[float, int, str] | None:
    """The first entry of a service's queue whose ticket is short."""
    return next((entry for entry in queue if is_short(state.tickets[entry[2]], express_minutes)), None)


def next_ticket_for(state: BranchState, profile: Profile, express_minutes: float | None = None) -> Ticket | None:
    """The ticket a counter with ``profile`` calls next, or ``None`` if nobody eligible waits;
    with ``express_minutes``, the rule of an express counter (short tickets first)."""
    if express_minutes is not None:
        for tier in profile:
            short: tuple[float, int, str] | None = None
            for service in tier:
                entry = _first_short(state, state.queues.get(service, []), express_minutes)
                if entry is not None and (short is None or entry < short):
                    short = entry
            if short is not None:
                return state.tickets[short[2]]
        # nobody short waits: the express counter serves like any other
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
    return next_ticket_for(state, counter.services, counter.express_minutes)


def has_eligible_waiting(state: BranchState, profile: Profile) -> bool:
    """Whether anyone waits whom a counter with ``profile`` would call."""
    return any(state.queues.get(service) for tier in profile for service in tier)


def counters_serving(state: BranchState, service: str) -> list[Counter]:
    """Open counters (paused included) whose profile includes ``service``."""
    return [
        c for c in state.counters.values() if c.status is not CounterStatus.CLOSED and serves(c.services, service)
    ]
