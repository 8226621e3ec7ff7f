"""Classic wait predictors: the yardstick the engine is measured against, and a fallback.

Each predictor is an online object fed the same events as the engine:

* ``observe(state, event)`` is called *before* the event is applied, so it reads the
  pre-event state (the ticket a ``service_finished`` ends still knows when it started),
  the way :func:`queue_board.forecast.durations.learn` does;
* ``predict_wait(state, ticket)`` is called *after* a ``ticket_issued`` is applied and
  returns seconds until the first call;
* ``predict_service(state, ticket)`` (naive only) returns the running mean transaction
  duration of the ticket's service.

References: R. Ibrahim and W. Whitt, "Real-time delay estimation based on delay history",
Manufacturing & Service Operations Management 11(3), 2009 (QL, LES, HOL in the GI/M/s
queue); R. Ibrahim and W. Whitt, "Real-time delay estimation in overloaded multiserver
queues with abandonments", Management Science 55(10), 2009.

Multi-service branches: every predictor looks only at the ticket's own service — people
ahead in *its* queue, transactions of *its* service, counters whose profile includes
*it* (whatever the tier), the last customer of *its* service called. That is what a
board with one line per service can show, and what the classic rules assume; the
engine's forecast is the one that models tiers and shared counters.

Days: the branch state resets every local day (the engine does it); what the
predictors learned about durations persists across days, while what describes the
current queue (the last customer to enter service) starts afresh each morning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol, runtime_checkable

from queue_board.core.branch import QUEUED, BranchState, Ticket
from queue_board.core.call_rule import counters_serving, next_ticket
from queue_board.core.events import Event

#: mean transaction duration assumed before any transaction has been seen (seconds)
PRIOR_SERVICE_SECONDS = 300.0

Quantiles = tuple[float, float, float]


class WaitPredictor(Protocol):
    """What :func:`queue_board.evaluation.evaluate.evaluate` needs of a predictor.

    ``predict_wait`` returns a point (seconds) or a ``(p10, p50, p90)`` tuple.
    """

    def observe(self, state: BranchState, event: Event) -> None:
        """Learn from ``event``; ``state`` is the branch before the event is applied."""

    def predict_wait(self, state: BranchState, ticket: Ticket) -> float | Quantiles:
        """Wait of the just-issued ``ticket`` (seconds until its first call)."""


@runtime_checkable
class ServicePredictor(Protocol):
    """A predictor that also predicts transaction durations."""

    def predict_service(self, state: BranchState, ticket: Ticket) -> float | Quantiles:
        """Transaction duration of ``ticket``, whose service has just started (seconds)."""


@dataclass(slots=True)
class RunningMean:
    """Running mean transaction duration per service (``service_started`` → finished/transferred).

    A service not seen yet falls back to the mean over all services, then to the prior.
    """

    prior: float = PRIOR_SERVICE_SECONDS
    totals: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    all_total: float = 0.0
    all_count: int = 0

    def observe(self, state: BranchState, event: Event) -> None:
        """Record a finished transaction; ``state`` is pre-event, so the ticket still has its start."""
        if event.type not in ("service_finished", "ticket_transferred") or event.ticket is None:
            return
        ticket = state.tickets.get(event.ticket)
        if ticket is None or ticket.started_at is None:
            return
        # a transfer ends the transaction of the service the ticket had until now
        duration = max(0.0, event.at - ticket.started_at)
        self.totals[ticket.service] = self.totals.get(ticket.service, 0.0) + duration
        self.counts[ticket.service] = self.counts.get(ticket.service, 0) + 1
        self.all_total += duration
        self.all_count += 1

    def mean(self, service: str) -> float:
        """Mean duration of ``service``, or of all services, or the prior (seconds)."""
        count = self.counts.get(service, 0)
        if count:
            return self.totals[service] / count
        if self.all_count:
            return self.all_total / self.all_count
        return self.prior


@dataclass(slots=True)
class RecentCounters:
    """Which counters called tickets of each service on the last day they were called.

    Used for the number of servers when no counter serving the service is open (a
    ticket taken before opening time, or after the last counter for it closed): the
    counters that served it most recently are the best guess of who will.
    """

    days: dict[str, date] = field(default_factory=dict)
    counters: dict[str, set[str]] = field(default_factory=dict)

    def observe(self, state: BranchState, event: Event) -> None:
        """Record a call; ``state`` is pre-event, so the ticket still names its service."""
        if event.type != "ticket_called" or event.ticket is None or event.counter is None:
            return
        ticket = state.tickets.get(event.ticket)
        if ticket is None or state.day != event.day:
            # a call on a new day cannot name yesterday's ticket; validate() rejects it
            return
        if self.days.get(ticket.service) != event.day:
            self.days[ticket.service] = event.day
            self.counters[ticket.service] = set()
        self.counters[ticket.service].add(event.counter)

    def count(self, service: str) -> int:
        """How many counters served ``service`` on the last day it was served (0 if never)."""
        return len(self.counters.get(service, ()))


def people_ahead(state: BranchState, ticket: Ticket) -> int:
    """How many tickets wait ahead of ``ticket`` in its own service queue."""
    queue = state.queued(ticket.service)
    return queue.index(ticket.label) if ticket.label in queue else len(queue)


def called_at_once(state: BranchState, ticket: Ticket) -> bool:
    """Whether a free counter would call ``ticket`` next, i.e. the customer need not wait."""
    return any(next_ticket(state, counter) is ticket for counter in state.counters.values())


@dataclass(slots=True)
class _Classic:
    """What the classic rules share: running means and the number of servers."""

    prior: float = PRIOR_SERVICE_SECONDS
    means: RunningMean = field(init=False)
    recent: RecentCounters = field(default_factory=RecentCounters)

    def __post_init__(self) -> None:
        self.means = RunningMean(prior=self.prior)

    def observe(self, state: BranchState, event: Event) -> None:
        """Learn durations and who serves what from ``event`` (pre-event ``state``)."""
        self.means.observe(state, event)
        self.recent.observe(state, event)

    def servers(self, state: BranchState, service: str) -> int:
        """Counters serving ``service``: those open now (paused included, they come back),
        else those that served it most recently, else one."""
        return len(counters_serving(state, service)) or self.recent.count(service) or 1


@dataclass(slots=True)
class NaivePredictor(_Classic):
    """The board rule most queue systems show: people ahead × mean duration ÷ counters.

    ``n × m / s`` with ``n`` people ahead in the same service queue, ``m`` the running
    mean transaction duration of that service and ``s`` the open counters serving it.
    It ignores that the counters are busy now, so nobody ahead means a wait of zero.
    """

    def predict_wait(self, state: BranchState, ticket: Ticket) -> float:
        """``people ahead × mean duration ÷ counters`` (seconds)."""
        n = people_ahead(state, ticket)
        return n * self.means.mean(ticket.service) / self.servers(state, ticket.service)

    def predict_service(self, state: BranchState, ticket: Ticket) -> float:
        """The running mean duration of the ticket's service (seconds)."""
        return self.means.mean(ticket.service)


@dataclass(slots=True)
class QLPredictor(_Classic):
    """The queue-length (QL) estimator of Ibrahim & Whitt (M&SOM 2009; Mgmt Sci 2009).

    In the GI/M/s queue an arrival who finds ``n`` people waiting and all ``s`` servers
    busy waits ``n + 1`` service completions, each ``1 / (s μ)`` apart on average:
    ``(n + 1) × m / s`` with ``m`` the running mean transaction duration of the service.
    The estimator is defined for a customer who must wait; one that a free counter
    would call at once is predicted zero.
    """

    def predict_wait(self, state: BranchState, ticket: Ticket) -> float:
        """``(people ahead + 1) × mean duration ÷ counters``, or 0 if a free counter calls it next."""
        if called_at_once(state, ticket):
            return 0.0
        n = people_ahead(state, ticket)
        return (n + 1) * self.means.mean(ticket.service) / self.servers(state, ticket.service)


@dataclass(slots=True)
class LESPredictor(_Classic):
    """The last-to-enter-service (LES) estimator of Ibrahim & Whitt (M&SOM 2009).

    Predicts the wait of the last customer of the same service to be (first) called.
    As for QL, a customer a free counter would call at once is predicted zero. Before
    anyone of that service has been called today (yesterday's last wait says nothing of
    this morning's queue) it falls back to the QL estimate.
    """

    last_wait: dict[str, float] = field(default_factory=dict)
    day: date | None = None

    def observe(self, state: BranchState, event: Event) -> None:
        """Remember the wait of each customer as they are first called."""
        _Classic.observe(self, state, event)
        if self.day != event.day:
            self.day = event.day
            self.last_wait.clear()
        if event.type != "ticket_called" or event.ticket is None or state.day != event.day:
            return
        ticket = state.tickets.get(event.ticket)
        # a transferred customer's second call is not the end of a wait from the issue
        if ticket is not None and ticket.status in QUEUED and ticket.transfers == 0:
            self.last_wait[ticket.service] = max(0.0, event.at - ticket.issued_at)

    def predict_wait(self, state: BranchState, ticket: Ticket) -> float:
        """The last wait of the service today, 0 if called at once, QL before any call today."""
        if called_at_once(state, ticket):
            return 0.0
        last = self.last_wait.get(ticket.service)
        if last is not None:
            return last
        n = people_ahead(state, ticket)
        return (n + 1) * self.means.mean(ticket.service) / self.servers(state, ticket.service)


@dataclass(slots=True)
class HOLPredictor(_Classic):
    """The head-of-the-line (HOL) estimator of Ibrahim & Whitt (M&SOM 2009).

    Predicts the time the customer at the head of the same service queue has waited so
    far; zero when nobody of that service waits ahead (Ibrahim & Whitt assume at least
    one does; a board shows "next" then).
    """

    def predict_wait(self, state: BranchState, ticket: Ticket) -> float:
        """Elapsed wait of the head of the ticket's queue, 0 if the ticket is the head."""
        queue = state.queued(ticket.service)
        if not queue or queue[0] == ticket.label:
            return 0.0
        head = state.tickets[queue[0]]
        return max(0.0, state.now - head.queued_at)


#: the classic predictors by the names tables and plots use, each a factory
CLASSIC: dict[str, Callable[[], WaitPredictor]] = {
    "naive": NaivePredictor,
    "QL": QLPredictor,
    "LES": LESPredictor,
    "HOL": HOLPredictor,
}
