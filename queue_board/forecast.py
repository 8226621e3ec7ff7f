"""Forecasts as honest ranges: run the branch forward many times under its own call rule.

Each scenario draws, from what the branch has learned (``durations.BranchModel``), how long
the transactions in progress still take (given how long they have lasted), how long each
waiting customer's transaction will take, the walk to the counter, the wrap-up after it,
whether the customer still turns up, and when paused counters come back. The call rule
then decides who is called when. The 10th, 50th and 90th percentiles over the scenarios
are the range a board shows. All scenarios advance together as numpy arrays.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from .branch import BranchState, Counter, CounterStatus, Ticket
from .call_rule import has_eligible_waiting, tier_of
from .durations import BranchModel, RecencySample

PROBS = np.array([0.1, 0.5, 0.9])


@dataclass(frozen=True, slots=True)
class Range:
    """A forecast in seconds: the 10th, 50th and 90th percentiles."""

    p10: float
    p50: float
    p90: float

    def shifted(self, seconds: float) -> Range:
        """The same range, ``seconds`` later."""
        return Range(self.p10 + seconds, self.p50 + seconds, self.p90 + seconds)

    def as_dict(self) -> dict[str, float]:
        """JSON-ready, rounded to 0.1 s."""
        return {"p10": round(self.p10, 1), "p50": round(self.p50, 1), "p90": round(self.p90, 1)}


def range_of(values: np.ndarray) -> Range:
    """Percentile range of a 1-d array of finite draws."""
    p10, p50, p90 = np.quantile(values, PROBS)
    return Range(float(p10), float(p50), float(p90))


def sample_range(sample: RecencySample) -> Range:
    """The range of a learned duration (e.g. a transaction of one service)."""
    p10, p50, p90 = sample.quantiles(PROBS)
    return Range(float(p10), float(p50), float(p90))


@dataclass(slots=True)
class Forecast:
    """What the boards show at one moment.

    ``waits`` maps each waiting ticket to the time until its first call, from ``at``;
    ``new_ticket`` maps a service to the wait a ticket taken now would have (``None``:
    no counter serves it); ``counters`` maps a busy or paused counter to the time until it
    is free to call again.
    """

    at: float
    waits: dict[str, Range] = field(default_factory=dict)
    new_ticket: dict[str, Range | None] = field(default_factory=dict)
    counters: dict[str, Range] = field(default_factory=dict)
    #: tickets whose forecast had to assume a closed counter will open
    assumed_opening: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Forecaster:
    """Monte-Carlo forecaster; ``scenarios`` trades precision of the tails for time."""

    scenarios: int = 256
    seed: int = 20260302

    def rng_for(self, state: BranchState) -> np.random.Generator:
        """Random numbers fixed by the state's ``seq``: the same log gives the same forecast,
        live or replayed, before or after a restart."""
        return np.random.default_rng([self.seed, state.seq])

    def forecast(self, state: BranchState, model: BranchModel, services: Iterable[str] = ()) -> Forecast:
        """Forecast every waiting ticket, every busy counter and a new ticket of each service."""
        return forecast(state, model, self.rng_for(state), self.scenarios, services)


def _busy_draws(counter: Counter, state: BranchState, model: BranchModel, rng: np.random.Generator, n: int) -> np.ndarray | None:
    """Draws of the time until ``counter`` is free again (``None`` if it is free now)."""
    now = state.now
    status = counter.status
    if status is CounterStatus.SERVING:
        ticket = state.tickets[counter.ticket]  # type: ignore[index]
        return model.service(ticket.service).sample_remaining(now - (ticket.started_at or now), rng, n)
    if status is CounterStatus.CALLING:
        ticket = state.tickets[counter.ticket]  # type: ignore[index]
        elapsed = now - (ticket.called_at or now)
        shows = model.walk_up.sample_remaining(elapsed, rng, n) + model.service(ticket.service).sample(rng, n)
        absent = model.no_show_wait.sample_remaining(elapsed, rng, n)
        return np.where(rng.random(n) < model.no_show_rate, absent, shows)
    if status is CounterStatus.PAUSED:
        elapsed = now - counter.since
        if counter.pause_minutes:
            declared = counter.pause_minutes * 60.0
            return model.pause_overrun.sample_remaining(elapsed / declared, rng, n) * declared
        return model.pause_length.sample_remaining(elapsed, rng, n)
    return None


def forecast(
    state: BranchState,
    model: BranchModel,
    rng: np.random.Generator,
    scenarios: int = 256,
    services: Iterable[str] = (),
) -> Forecast:
    """Run the branch forward ``scenarios`` times from ``state``; see the module docstring."""
    now = state.now
    n = scenarios
    tickets: list[Ticket] = state.waiting_tickets()
    open_counters = [c for c in state.counters.values() if c.status is not CounterStatus.CLOSED]
    wanted = list(dict.fromkeys([*services, *(t.service for t in tickets), *(s for c in open_counters for tier in c.services for s in tier)]))
    served = {s for c in open_counters for tier in c.services for s in tier}
    # a service nobody open serves: assume a closed counter that served it will open
    standby = [
        c
        for c in state.counters.values()
        if c.status is CounterStatus.CLOSED and any(s not in served and tier_of(c.services, s) is not None for s in wanted)
    ]
    counters = open_counters + standby
    result = Forecast(at=now)
    if standby:
        result.assumed_opening = frozenset(t.label for t in tickets if t.service not in served)

    size_t, size_x, size_c = len(tickets), len(wanted), len(counters)
    width = size_t + size_x
    if size_c == 0:
        never = Range(float("inf"), float("inf"), float("inf"))
        result.waits = {t.label: never for t in tickets}
        result.new_ticket = {s: None for s in wanted}
        return result

    # rank[c, j]: lower is called first by counter c; inf = c never calls j
    rank = np.full((size_c, width), np.inf)
    tier_step = float(width + 1)
    for ci, counter in enumerate(counters):
        tiers = {s: i for i, tier in enumerate(counter.services) for s in tier}
        for ti, ticket in enumerate(tickets):
            tier = tiers.get(ticket.service)
            if tier is not None:
                rank[ci, ti] = tier * tier_step + ti
        for xi, service in enumerate(wanted):
            tier = tiers.get(service)
            if tier is not None:
                rank[ci, size_t + xi] = tier * tier_step + size_t

    # what each waiting customer will cost the counter that calls them, plus its wrap-up
    cost = np.empty((n, size_t))
    by_service: dict[str, list[int]] = {}
    for ti, ticket in enumerate(tickets):
        by_service.setdefault(ticket.service, []).append(ti)
    for service, columns in by_service.items():
        shape = (n, len(columns))
        shows = model.walk_up.sample(rng, shape) + model.service(service).sample(rng, shape)
        absent = model.no_show_wait.sample(rng, shape)
        cost[:, columns] = np.where(rng.random(shape) < model.no_show_rate, absent, shows)
    if size_t:
        cost += model.wrap_up.sample(rng, (n, size_t))

    free = np.empty((n, size_c))
    for ci, counter in enumerate(counters):
        if counter in standby:
            free[:, ci] = model.pause_length.sample(rng, n) + model.reaction.sample(rng, n)
            continue
        busy = _busy_draws(counter, state, model, rng, n)
        if busy is not None:
            result.counters[counter.name] = range_of(busy)
            after = model.wrap_up if counter.status is not CounterStatus.PAUSED else model.reaction
            free[:, ci] = busy + after.sample(rng, n)
        else:
            since = now - (counter.free_since if counter.free_since is not None else now)
            waiting = has_eligible_waiting(state, counter.services)
            sample = model.wrap_up if counter.status is CounterStatus.WRAPPING_UP and waiting else model.reaction
            free[:, ci] = sample.sample_remaining(since, rng, n) if waiting else sample.sample(rng, n)
            if counter.status is CounterStatus.WRAPPING_UP and waiting:
                result.counters[counter.name] = range_of(free[:, ci])

    called = _run_call_rule(rank, cost, free, size_t)
    remaining = called  # scenario clocks start at 0 = now
    for ti, ticket in enumerate(tickets):
        result.waits[ticket.label] = _finite_range(remaining[:, ti])
    for xi, service in enumerate(wanted):
        column = remaining[:, size_t + xi]
        result.new_ticket[service] = _finite_range(column) if np.isfinite(column).mean() >= 0.5 else None
    return result


def _finite_range(draws: np.ndarray) -> Range:
    finite = draws[np.isfinite(draws)]
    if finite.size == 0:
        return Range(float("inf"), float("inf"), float("inf"))
    # scenarios where nobody ever calls the ticket count as the longest waits
    fill = np.where(np.isfinite(draws), draws, finite.max())
    return range_of(fill)


def _run_call_rule(rank: np.ndarray, cost: np.ndarray, free: np.ndarray, size_t: int) -> np.ndarray:
    """Apply the call rule in every scenario at once; returns the call time of each column.

    Columns ``0..size_t-1`` are real tickets, the rest hypothetical new tickets: a
    hypothetical ticket is "called" the first time a counter that serves it frees up
    with no real ticket it ranks higher, but it takes no time, so real forecasts do not
    depend on it.
    """
    n, size_c = free.shape
    width = rank.shape[1]
    called = np.full((n, width), np.inf)
    pending = np.ones((n, size_t), dtype=bool)
    rows = np.arange(n)
    for _ in range(size_t + size_c + 1):
        which = np.argmin(free, axis=1)
        when = free[rows, which]
        live = np.isfinite(when)
        if not live.any():
            break
        ranks = rank[which]
        real = np.where(pending, ranks[:, :size_t], np.inf)
        pick = np.argmin(real, axis=1) if size_t else np.zeros(n, dtype=int)
        best = real[rows, pick] if size_t else np.full(n, np.inf)
        hypothetical = called[:, size_t:]
        newly = (ranks[:, size_t:] < best[:, None]) & ~np.isfinite(hypothetical) & live[:, None]
        hypothetical[newly] = np.broadcast_to(when[:, None], newly.shape)[newly]
        takes = live & np.isfinite(best)
        idle = live & ~takes
        r, p, c = rows[takes], pick[takes], which[takes]
        called[r, p] = when[takes]
        pending[r, p] = False
        free[r, c] = when[takes] + cost[r, p]
        free[rows[idle], which[idle]] = np.inf
    return called


def naive_wait(state: BranchState, ticket: Ticket, mean_service: float) -> float:
    """The classic board rule: people ahead in the same queue × mean duration ÷ open counters."""
    queue = state.queued(ticket.service)
    ahead = queue.index(ticket.label) if ticket.label in queue else 0
    counters = sum(
        1
        for c in state.counters.values()
        if c.status is not CounterStatus.CLOSED and tier_of(c.services, ticket.service) is not None
    )
    return ahead * mean_service / max(counters, 1)
