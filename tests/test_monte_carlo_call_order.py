"""The Monte-Carlo kernel calls tickets in exactly the order the call rule gives.

With every random draw made degenerate (each transaction a fixed length, distinct per ticket;
walk-up, wrap-up and reaction zero; a pause in progress of fixed length; nobody cancels or
leaves silently; no rhythm, so no arrivals, new pauses, openings or closings), every scenario of
:func:`queue_board.forecast.monte_carlo.forecast` is the same deterministic run. Its predicted
call time of each waiting ticket must then equal that of a step-by-step run of the core itself:
:func:`queue_board.core.call_rule.next_ticket` picks, :func:`queue_board.core.branch.apply`
applies ``ticket_called`` / ``service_started`` / ``service_finished``.

The model here stands in for ``BranchModel`` the way ``simulations.oracle.TrueModel`` does.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, cast

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from queue_board.core.branch import FREE, BranchState, CounterStatus, apply, validate
from queue_board.core.call_rule import next_ticket
from queue_board.core.events import Event, Profile
from queue_board.forecast.durations import HAZARD_EDGES, BranchModel, DayRecord, ReadyEpisode
from queue_board.forecast.latent_priority import LatentPriority
from queue_board.forecast.monte_carlo import forecast

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=8)))
SERVICES = ("A", "B", "C", "D")
INF = math.inf
#: scenarios per forecast: a few, to see that they all agree
SCENARIOS = 3

Shape = int | tuple[int, ...]


# ---------------------------------------------------------------- a model with no randomness


def _full(size: Shape, value: float) -> np.ndarray:
    return np.full(size, value, dtype=float)


@dataclass(frozen=True, slots=True)
class Fixed:
    """A duration that is always ``value`` (walk-up, no-show wait, pauses)."""

    value: float

    def sample(self, rng: np.random.Generator, size: Shape) -> np.ndarray:
        return _full(size, self.value)

    def sample_remaining(self, elapsed: Any, rng: np.random.Generator, size: int) -> np.ndarray:
        # scalar elapsed → (size,), an array → (size, len): the shapes of RecencySample and Survival
        shape = (size,) if np.ndim(elapsed) == 0 else (size, len(np.atleast_1d(elapsed)))
        return _full(shape, self.value)

    def sample_remaining_many(self, elapsed: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
        return _full((size, len(elapsed)), self.value)


@dataclass(frozen=True, slots=True)
class FixedService:
    """One service's transactions: a fixed length per waiting ticket and per transaction in progress.

    ``forecast()`` draws a service's new transactions as one ``(n, k)`` block whose columns are
    its waiting tickets in queue order, and the rest of its transactions in progress as one
    block whose columns are its serving counters in counter order; the tuples follow that layout.
    """

    code: str
    columns: tuple[float, ...]
    remaining: tuple[float, ...]

    def sample(self, rng: np.random.Generator, size: Shape) -> np.ndarray:
        assert size == (SCENARIOS, len(self.columns)), f"{self.code}: unexpected draw of shape {size}"
        return np.tile(np.array(self.columns, dtype=float), (SCENARIOS, 1))

    def sample_remaining_many(self, elapsed: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
        assert len(elapsed) == len(self.remaining), f"{self.code}: unexpected transactions in progress"
        return np.tile(np.array(self.remaining, dtype=float), (size, 1))


@dataclass(frozen=True, slots=True)
class NobodyLeaves:
    """No called customer has silently left, whatever their wait."""

    def at(self, waited: np.ndarray) -> np.ndarray:
        return np.zeros(np.shape(waited))

    def shares(self) -> np.ndarray:
        return np.zeros(len(HAZARD_EDGES))


@dataclass(slots=True)
class DegenerateModel:
    """Everything ``forecast()`` reads of a ``BranchModel``, with every draw fixed."""

    by_service: dict[str, FixedService]
    walk_up: Fixed = Fixed(0.0)
    no_show_wait: Fixed = Fixed(0.0)
    wrap_up: Fixed = Fixed(0.0)
    reaction: Fixed = Fixed(0.0)
    patience: Fixed = Fixed(INF)
    # a pause in progress lasts this much longer (undeclared), or this many times its declared length
    pause_length: Fixed = Fixed(5000.0)
    pause_overrun: Fixed = Fixed(3.0)
    silent_leaving: NobodyLeaves = NobodyLeaves()
    ready: dict[str, ReadyEpisode] = field(default_factory=dict)
    today: DayRecord | None = None
    closes: float = 0.0
    closes_with_queue: float = 0.0
    # nobody is called out of turn: no hidden priority class
    latent: LatentPriority = field(default_factory=LatentPriority)

    def service(self, code: str) -> FixedService:
        return self.by_service.get(code, FixedService(code, (), ()))

    def duration_factor(self, service: str, counter: str | None, hour: int | None) -> float:
        return 1.0

    def readiness(self) -> None:
        # every counter calls as ``wrap_up`` and ``reaction`` say
        return None

    def past_days(self) -> list[DayRecord]:
        # no recorded day: no arrivals, openings, closings or pauses to replay
        return []


def degenerate_model(state: BranchState, lengths: dict[str, float], remaining: dict[str, float]) -> DegenerateModel:
    """The model whose only run is: ticket ``t`` takes ``lengths[t]``, counter ``c`` is busy ``remaining[c]`` more."""
    waiting = state.waiting_tickets()
    serving = [c for c in state.counters.values() if c.status is CounterStatus.SERVING]
    by_service = {}
    for code in {t.service for t in waiting} | {state.tickets[c.ticket].service for c in serving if c.ticket}:
        columns = tuple(lengths[t.label] for t in waiting if t.service == code)
        busy = tuple(remaining[c.name] for c in serving if c.ticket and state.tickets[c.ticket].service == code)
        by_service[code] = FixedService(code, columns, busy)
    return DegenerateModel(by_service)


# ---------------------------------------------------------------- branch states, built from events


@dataclass(slots=True)
class Case:
    """A branch state reached through valid events, and the fixed length of everything to come."""

    state: BranchState
    lengths: dict[str, float]
    remaining: dict[str, float]


def _event(at: float, kind: str, **fields: Any) -> Event:
    ts = T0 + timedelta(seconds=at)
    return Event(ts=ts, type=kind, at=ts.timestamp(), **fields)


@st.composite
def profiles(draw: st.DrawFn, services: tuple[str, ...]) -> Profile:
    """A work profile: some of the services, in tiers, highest priority first."""
    chosen = draw(st.permutations(services).map(lambda p: p[: draw(st.integers(1, len(services)))]))
    cuts = sorted(draw(st.sets(st.integers(1, len(chosen) - 1), max_size=2))) if len(chosen) > 1 else []
    bounds = [0, *cuts, len(chosen)]
    return tuple(tuple(chosen[a:b]) for a, b in itertools.pairwise(bounds))


#: what happens before the forecast, weighted so that queues build up and most counters stay open
ACTIONS = ("issue",) * 6 + ("serve",) * 3 + ("finish",) * 2 + ("transfer", "pause", "close")


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """Counters with random tiered profiles, tickets of several services, counters free, busy, paused or closed."""
    services = SERVICES[: draw(st.integers(2, len(SERVICES)))]
    state = BranchState()
    clock = 0.0

    def submit(kind: str, **fields: Any) -> None:
        nonlocal clock
        # several events may share a millisecond: the queue keeps their log order
        clock += draw(st.sampled_from((0.0, 1.0, 7.0, 30.0, 95.0)))
        event = _event(clock, kind, **fields)
        rejection = validate(state, event)
        assert rejection is None, rejection.message
        apply(state, event)

    names = [f"{i + 1}" for i in range(draw(st.integers(1, 4)))]
    for name in names:
        submit("counter_opened", counter=name, services=draw(profiles(services)))
    issued = 0
    # a drawn length rather than st.lists' own, which favours very short lists
    length = draw(st.integers(4, 40))
    step = st.tuples(st.sampled_from(ACTIONS), st.sampled_from(names), st.sampled_from(services))
    steps = draw(st.lists(step, min_size=length, max_size=length))
    for action, name, service in steps:
        counter = state.counters[name]
        if action == "issue":
            issued += 1
            submit("ticket_issued", ticket=f"{service}{issued:03d}", service=service)
        elif action == "serve" and counter.status in FREE:
            ticket = next_ticket(state, counter)
            if ticket is not None:
                submit("ticket_called", ticket=ticket.label, counter=name)
                submit("service_started", ticket=ticket.label, counter=name)
        elif action in ("finish", "transfer") and counter.status is CounterStatus.SERVING:
            assert counter.ticket is not None
            if action == "finish":
                submit("service_finished", ticket=counter.ticket, counter=name)
            elif state.tickets[counter.ticket].service != service:
                # back in the queue for another service, keeping the place it had
                submit("ticket_transferred", ticket=counter.ticket, counter=name, service=service)
        elif action == "pause" and counter.status in FREE:
            submit("counter_paused", counter=name, minutes=draw(st.sampled_from((None, 5.0))))
        elif action == "close" and (counter.status in FREE or counter.status is CounterStatus.PAUSED):
            submit("counter_closed", counter=name)

    labels = sorted(state.tickets)
    # (at most 40 tickets of at most 15 minutes: the run ends before midnight, when the queue would reset)
    # distinct lengths per ticket; sums may still tie, which both runs break by counter order
    lengths = draw(st.lists(st.integers(20, 900), min_size=len(labels), max_size=len(labels), unique=True))
    serving = [c.name for c in state.counters.values() if c.status is CounterStatus.SERVING]
    remaining = draw(st.lists(st.integers(1, 900), min_size=len(serving), max_size=len(serving)))
    return Case(
        state,
        dict(zip(labels, map(float, lengths), strict=True)),
        dict(zip(serving, map(float, remaining), strict=True)),
    )


# ---------------------------------------------------------------- the reference: the core, step by step


def reference_calls(case: Case) -> dict[str, float]:
    """When (seconds from now) each waiting ticket is first called, by the core's call rule.

    The counter that is free first acts first; two free at the same instant act in the
    branch's counter order (the call rule leaves that open; the kernel's choice is this one).
    """
    state = case.state.copy_for_forecast()
    assert state.last_ts is not None
    now = state.last_ts
    pauses = DegenerateModel({})
    free_at: dict[str, float] = {}
    for name, counter in state.counters.items():
        if counter.status in FREE:
            free_at[name] = 0.0
        elif counter.status is CounterStatus.SERVING:
            free_at[name] = case.remaining[name]
        elif counter.status is CounterStatus.PAUSED:
            if counter.pause_minutes:
                free_at[name] = pauses.pause_overrun.value * counter.pause_minutes * 60.0
            else:
                free_at[name] = pauses.pause_length.value
        else:  # closed, and no rhythm to open it again: calls nobody
            free_at[name] = INF
    calls = {t.label: INF for t in state.waiting_tickets()}

    def submit(at: float, kind: str, **fields: Any) -> None:
        ts = now + timedelta(seconds=at)
        assert ts.date() == now.date(), "the run crossed midnight, where the core starts a new day"
        event = Event(ts=ts, type=kind, at=ts.timestamp(), **fields)
        rejection = validate(state, event)
        assert rejection is None, rejection.message
        apply(state, event)

    while True:
        name = min(free_at, key=free_at.__getitem__)  # min() keeps the first of equals: counter order
        at = free_at[name]
        if not math.isfinite(at):
            return calls
        counter = state.counters[name]
        if counter.status is CounterStatus.SERVING:
            submit(at, "service_finished", ticket=counter.ticket, counter=name)
        elif counter.status is CounterStatus.PAUSED:
            submit(at, "counter_resumed", counter=name)
        ticket = next_ticket(state, counter)
        if ticket is None:
            # nobody it serves waits and nobody will arrive: it never calls again
            free_at[name] = INF
            continue
        # no transfers from here on: everyone called was waiting now, and is called once
        assert calls[ticket.label] == INF
        calls[ticket.label] = at
        submit(at, "ticket_called", ticket=ticket.label, counter=name)
        submit(at, "service_started", ticket=ticket.label, counter=name)
        free_at[name] = at + case.lengths[ticket.label]


def kernel_calls(case: Case) -> dict[str, float]:
    """When each waiting ticket is first called in ``forecast()``'s run (the same in every scenario)."""
    model = degenerate_model(case.state, case.lengths, case.remaining)
    result = forecast(case.state, cast(BranchModel, model), np.random.default_rng(0), SCENARIOS)
    out = {}
    for label, wait in result.waits.items():
        assert wait.p10 == wait.p50 == wait.p90, f"{label}: scenarios differ ({wait})"
        out[label] = wait.p50
    return out


def _order(calls: dict[str, float]) -> list[tuple[float, str]]:
    return sorted((at, label) for label, at in calls.items())


@settings(max_examples=150, derandomize=True, deadline=None, database=None)
@given(case=cases())
def test_kernel_calls_in_the_call_rules_order(case: Case) -> None:
    """Every waiting ticket's predicted call time is the one the call rule gives, step by step."""
    expected = reference_calls(case)
    got = kernel_calls(case)
    assert got == expected, f"call rule: {_order(expected)}\nkernel:    {_order(got)}"


def test_reference_sees_tiers_fifo_and_ties() -> None:
    """A hand-checked case, so that the property is not vacuous: a higher tier overtakes,
    FIFO within a tier, two counters free at once call in counter order."""
    state = BranchState()
    events = [
        _event(0, "counter_opened", counter="1", services=(("B",), ("A",))),
        _event(0, "counter_opened", counter="2", services=(("A",),)),
        _event(1, "ticket_issued", ticket="A001", service="A"),
        _event(2, "ticket_issued", ticket="A002", service="A"),
        _event(3, "ticket_issued", ticket="B003", service="B"),
        _event(4, "ticket_issued", ticket="A004", service="A"),
    ]
    for event in events:
        apply(state, event)
    case = Case(state, {"A001": 100.0, "A002": 50.0, "B003": 40.0, "A004": 10.0}, {})
    expected = {"B003": 0.0, "A001": 0.0, "A002": 40.0, "A004": 90.0}
    assert reference_calls(case) == expected
    assert kernel_calls(case) == expected
