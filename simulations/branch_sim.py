"""A simulated branch: an agent that plays customers and tellers against a live state.

:class:`BranchAgent` never keeps its own copy of the branch. Each time it is asked, it
looks at the :class:`~queue_board.core.branch.BranchState` it is given and says which events
are due now. Random draws (how long this transaction takes, how long this teller
wraps up) are remembered under what they belong to (ticket and call time, counter and
the moment it became free), so asking twice gives the same answer, and a plan whose
subject has changed under it — a human teller called, finished or paused first — is
simply never looked up again. That is what lets the same code fill an offline log
(:func:`simulate`) and play the other tellers and the customers in the live demo.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

import numpy as np
from tqdm import tqdm

from queue_board.core.branch import FREE, QUEUED, BranchState, Counter, CounterStatus, Ticket
from queue_board.core.call_rule import has_eligible_waiting, next_ticket
from queue_board.core.events import Event, parse_event, parse_timezone
from queue_board.core.projection import Projection
from queue_board.core.tickets import next_label
from simulations.scenarios import CounterSpec, Distribution, LogNormal, Scenario

#: plans due within this many seconds after ``now`` count as due (clock rounding)
TOLERANCE = 1e-4
#: a human's pause without declared minutes is taken to last this long
DEFAULT_PAUSE_MINUTES = 5.0
#: how a human teller's declared pause overruns (the agent resumes it for them)
HUMAN_PAUSE_OVERRUN = LogNormal(1.1, 0.2)
#: consecutive empty batches at one instant after which a run is declared stuck
STALL_LIMIT = 1000

Batch = list[dict[str, Any]]


class SimulationError(RuntimeError):
    """The engine rejected an event the agent emitted, or the agent stopped making progress."""


@dataclass(slots=True)
class Customer:
    """A simulated customer of the current day (what only the simulator knows)."""

    service: str
    arrives: float
    #: seconds they are willing to wait for the first call (``inf``: for ever)
    patience: float
    #: whether they cancel their ticket when patience runs out (else they just leave)
    cancels: bool
    label: str | None = None

    @property
    def gives_up_at(self) -> float:
        """When the customer stops waiting."""
        return self.arrives + self.patience


@dataclass(slots=True)
class _Pause:
    start: float
    latest: float
    reason: str
    minutes: float
    #: the real length in seconds (declared minutes times the overrun drawn for it)
    length: float


@dataclass(slots=True)
class _CounterDay:
    opens: float
    closes: float
    #: closing before the doors do: a part-time teller leaves even if customers wait
    early: bool
    pauses: list[_Pause]
    next_pause: int = 0
    #: opened (by anyone) today: a counter a human closed is not reopened
    opened: bool = False


@dataclass(slots=True)
class _Plan:
    due: float
    event: dict[str, Any]
    #: the ticket a ``ticket_called`` plan calls (two counters must not call the same one)
    calls: str | None = None
    #: index of the pause a ``counter_paused`` plan takes
    pause: int | None = None


def _local(day: date, at: time, zone: tzinfo | None) -> float:
    """POSIX seconds of a local wall-clock time (DST-aware with a ZoneInfo zone)."""
    return datetime.combine(day, at, tzinfo=zone).timestamp()


class BranchAgent:
    """Plays a :class:`~simulations.scenarios.Scenario`'s customers and tellers against a live state.

    ``manage_counters`` names the counters the agent works (all by default); the others are
    left to humans, including the start and end of transactions called there. With
    ``issue_tickets=False`` no customers arrive (tickets come from a real kiosk).
    """

    def __init__(
        self,
        scenario: Scenario,
        rng: np.random.Generator,
        *,
        manage_counters: Iterable[str] | None = None,
        issue_tickets: bool = True,
    ) -> None:
        self.scenario = scenario
        names = [c.name for c in scenario.counters]
        managed = names if manage_counters is None else list(manage_counters)
        unknown = sorted(set(managed) - set(names))
        if unknown:
            raise ValueError(f"counters {unknown} are not in scenario {scenario.name!r} (it has {names})")
        self.managed: tuple[str, ...] = tuple(n for n in names if n in set(managed))
        self.issue_tickets = issue_tickets
        # separate streams, so that changing how tellers behave leaves who arrives when alone
        arrivals, traits, durations, behaviour, pauses = rng.spawn(5)
        self._arrival_rng = arrivals
        self._trait_rng = traits
        self._duration_rng = durations
        self._behaviour_rng = behaviour
        self._pause_rng = pauses
        self._specs = {c.name: c for c in scenario.counters}
        self._services = {s.code: s for s in scenario.services}
        self._prefixes = {s.code: s.prefix for s in scenario.services}
        self._day: date | None = None
        self._zone: tzinfo | None = None
        self._arrivals: list[Customer] = []
        self._next_arrival = 0
        #: today's customers by ticket label
        self.customers: dict[str, Customer] = {}
        self._cancels: list[tuple[float, str]] = []
        self._counters: dict[str, _CounterDay] = {}
        self._draws: dict[tuple[Any, ...], float] = {}
        self._pending_pause: dict[str, _Pause] = {}
        self._tomorrow = 0.0
        # plans are asked for twice per step (next_due, then actions): remember them until the
        # state changes (its sequence number) or the agent itself uses something up
        self._generation = 0
        self._plans: dict[str, tuple[tuple[int, int, int], _Plan | None]] = {}

    # ------------------------------------------------------------------ public interface

    def actions(self, now: datetime, state: BranchState) -> list[dict[str, Any]]:
        """Event dicts (spec vocabulary, without ``ts``) due at ``now`` given ``state``.

        Apply them in order. They never depend on one another: customers' events come in one
        batch, tellers' in the next, calls last, so ask again at the same ``now`` until the
        answer is empty to get everything that is due.
        """
        at = now.timestamp()
        self._start_day(now)
        fresh = self._fresh(state)
        batch = self._customer_events(now, state, fresh)
        if batch:
            return batch
        plans = [(name, self._cached_plan(name, state, fresh)) for name in self.managed]
        for name, plan in plans:
            if plan is not None and plan.calls is None and plan.due <= at + TOLERANCE:
                batch.append(plan.event)
                self._commit(name, plan)
        if batch:
            return batch
        # calls last, earliest-ready counter first; a counter whose ticket another counter
        # calls in this batch asks again next time (removing a different ticket from the
        # queue does not change what the call rule picks for the others)
        calls = sorted(
            (plan.due, index, plan)
            for index, (_, plan) in enumerate(plans)
            if plan is not None and plan.calls is not None and plan.due <= at + TOLERANCE
        )
        taken: set[str] = set()
        for _, _, plan in calls:
            if plan.calls not in taken:
                taken.add(plan.calls)  # type: ignore[arg-type]
                batch.append(plan.event)
        return batch

    def next_due(self, now: datetime, state: BranchState) -> datetime | None:
        """When the agent next has something to do (``now`` or earlier: something is due)."""
        self._start_day(now)
        fresh = self._fresh(state)
        candidates: list[float] = []
        if self.issue_tickets and self._next_arrival < len(self._arrivals):
            candidates.append(self._arrivals[self._next_arrival].arrives)
        # a cancellation is moot once the ticket was called; drop those now
        while self._cancels and fresh and not self._still_waiting(state, self._cancels[0][1]):
            heapq.heappop(self._cancels)
        if self._cancels:
            candidates.append(self._cancels[0][0])
        for name in self.managed:
            plan = self._cached_plan(name, state, fresh)
            if plan is not None:
                candidates.append(plan.due)
        if self.issue_tickets or self.managed:
            candidates.append(self._tomorrow)
        if not candidates:
            return None
        return datetime.fromtimestamp(min(candidates), now.tzinfo)

    # ------------------------------------------------------------------ the day's plan

    def _start_day(self, now: datetime) -> None:
        """On the first call of a local day, draw its arrivals and the tellers' pauses."""
        day = now.date()
        if day == self._day:
            return
        self._day = day
        self._zone = now.tzinfo
        self._arrivals = self._draw_arrivals(day, now.timestamp())
        self._next_arrival = 0
        self.customers = {}
        self._cancels = []
        self._draws = {}
        self._pending_pause = {}
        self._generation += 1
        self._tomorrow = self._next_day_start()
        start = now.timestamp()
        doors_close = _local(day, self.scenario.doors_close, self._zone)
        self._counters = {}
        for name in self.managed:
            spec = self._specs[name]
            opens = _local(day, spec.opens, self._zone)
            closes = _local(day, spec.closes, self._zone)
            self._counters[name] = _CounterDay(
                opens=opens,
                closes=closes,
                early=closes < doors_close,
                pauses=self._draw_pauses(spec, day, opens, closes),
                # an agent started after a counter's hours does not open it today
                opened=start >= closes,
            )

    def _draw_arrivals(self, day: date, now: float) -> list[Customer]:
        """The day's customers: a Poisson process per service, constant within each hour."""
        rng = self._arrival_rng
        doors_open = _local(day, self.scenario.doors_open, self._zone)
        doors_close = _local(day, self.scenario.doors_close, self._zone)
        drawn: list[tuple[float, str]] = []
        for service in self.scenario.services:
            for hour, rate in sorted(service.arrivals_per_hour.items()):
                hour_end = _local(day + timedelta(days=1), time(0), self._zone) if hour == 23 else None
                start = max(_local(day, time(hour), self._zone), doors_open)
                end = min(hour_end or _local(day, time(hour + 1), self._zone), doors_close)
                if end <= start or rate <= 0:
                    continue
                count = int(rng.poisson(rate * (end - start) / 3600.0))
                drawn.extend((float(t), service.code) for t in rng.uniform(start, end, count))
        drawn.sort()
        customers: list[Customer] = []
        for arrives, code in drawn:
            patience = self.scenario.patience_for(code)
            wait = patience.draw(self._trait_rng) if patience is not None else math.inf
            cancels = bool(self._trait_rng.random() < self.scenario.cancel_probability)
            # drawn for every customer, so a live agent started at noon sees the same afternoon
            if arrives >= now - TOLERANCE:
                customers.append(Customer(code, arrives, wait, cancels))
        return customers

    def _draw_pauses(self, spec: CounterSpec, day: date, opens: float, closes: float) -> list[_Pause]:
        """The counter's pauses today: its planned ones and a Poisson number of random ones."""
        rng = self._pause_rng
        pauses: list[_Pause] = []
        for planned in spec.pauses:
            start = _local(day, planned.start, self._zone)
            length = planned.minutes * 60.0 * planned.overrun.draw(rng)
            latest = start + planned.max_delay_minutes * 60.0
            pauses.append(_Pause(start, latest, planned.reason, planned.minutes, length))
        busy = [(p.start, p.latest + p.length) for p in pauses]
        for random_pauses in spec.random_pauses:
            count = int(rng.poisson(random_pauses.per_hour * max(0.0, closes - opens) / 3600.0))
            for start in rng.uniform(opens, closes, count):
                length = random_pauses.minutes * 60.0 * random_pauses.overrun.draw(rng)
                # an authorisation does not interrupt lunch: drop those that would
                if any(lo <= start <= hi for lo, hi in busy):
                    continue
                latest = float(start) + random_pauses.max_delay_minutes * 60.0
                pauses.append(_Pause(float(start), latest, random_pauses.reason, random_pauses.minutes, length))
        pauses.sort(key=lambda p: p.start)
        return pauses

    def _next_day_start(self) -> float:
        """When tomorrow's first counter opens or the doors do, whichever is first."""
        assert self._day is not None
        tomorrow = self._day + timedelta(days=1)
        times = [self.scenario.doors_open] + [self._specs[n].opens for n in self.managed]
        return _local(tomorrow, min(times), self._zone)

    # ------------------------------------------------------------------ customers

    def _fresh(self, state: BranchState) -> bool:
        """Whether ``state`` is today's: until today's first event, it still shows yesterday."""
        return state.day is None or state.day == self._day

    def _still_waiting(self, state: BranchState, label: str) -> bool:
        ticket = state.tickets.get(label)
        return ticket is not None and ticket.status in QUEUED

    def _customer_events(self, now: datetime, state: BranchState, fresh: bool) -> Batch:
        """New tickets and cancellations due at ``now``."""
        at = now.timestamp()
        batch: Batch = []
        while self.issue_tickets and self._next_arrival < len(self._arrivals):
            customer = self._arrivals[self._next_arrival]
            if customer.arrives > at + TOLERANCE:
                break
            self._next_arrival += 1
            # the kiosk's numbering rule; this batch's labels are not in the state yet
            pending = [event["ticket"] for event in batch]
            customer.label = next_label(state, self._prefixes[customer.service], now, pending)
            self.customers[customer.label] = customer
            if customer.cancels and math.isfinite(customer.patience):
                heapq.heappush(self._cancels, (customer.gives_up_at, customer.label))
            batch.append({"type": "ticket_issued", "ticket": customer.label, "service": customer.service})
        issued = {event["ticket"] for event in batch}
        while self._cancels and self._cancels[0][0] <= at + TOLERANCE:
            _, label = heapq.heappop(self._cancels)
            # a ticket issued in this very batch is not in the state yet: give it one more round
            if label in issued:
                heapq.heappush(self._cancels, (at, label))
                break
            if fresh and self._still_waiting(state, label):
                batch.append({"type": "ticket_cancelled", "ticket": label})
        return batch

    def _present(self, ticket: Ticket) -> bool:
        """Whether the customer is still there when called.

        A ticket a human issued has no simulated customer behind it, and a customer a teller
        transferred to another service stays for it: both always come.
        """
        customer = self.customers.get(ticket.label)
        if customer is None or ticket.transfers or ticket.called_at is None:
            return True
        return ticket.called_at - ticket.issued_at <= customer.patience

    # ------------------------------------------------------------------ tellers

    def _draw(self, key: tuple[Any, ...], distribution: Distribution, rng: np.random.Generator) -> float:
        """One draw per key: asking again about the same plan gives the same answer."""
        value = self._draws.get(key)
        if value is None:
            value = self._draws[key] = distribution.draw(rng)
        return value

    def _cached_plan(self, name: str, state: BranchState, fresh: bool) -> _Plan | None:
        """:meth:`_plan`, computed once per state and agent change."""
        key = (id(state), state.seq, self._generation)
        cached = self._plans.get(name)
        if cached is not None and cached[0] == key:
            return cached[1]
        plan = self._plan(name, state, fresh)
        self._plans[name] = (key, plan)
        return plan

    def _plan(self, name: str, state: BranchState, fresh: bool) -> _Plan | None:
        """The next thing managed counter ``name`` does (or its customer does there), and when."""
        day = self._counters[name]
        counter = state.counters.get(name)
        if counter is None or counter.status is CounterStatus.CLOSED:
            if day.opened:
                return None
            spec = self._specs[name]
            opened: dict[str, Any] = {"type": "counter_opened", "counter": name, "services": [list(tier) for tier in spec.services]}
            if spec.express_minutes is not None:
                opened["express_minutes"] = spec.express_minutes
            return _Plan(day.opens, opened)
        day.opened = True
        if counter.status is CounterStatus.PAUSED:
            return self._resume_plan(counter)
        if counter.status in FREE:
            return self._free_plan(counter, day, state, fresh)
        if not fresh:
            # yesterday's transaction: the new day's first event will end it (roll-over)
            return None
        assert counter.ticket is not None
        ticket = state.tickets[counter.ticket]
        label = ticket.label
        if counter.status is CounterStatus.CALLING:
            assert ticket.called_at is not None
            called = ticket.called_at
            if self._present(ticket):
                walk = self._draw(("walk", label, called), self.scenario.walk_up, self._behaviour_rng)
                return _Plan(called + walk, {"type": "service_started", "ticket": label, "counter": name})
            wait = self._draw(("no_show", label, called), self.scenario.no_show_wait, self._behaviour_rng)
            return _Plan(called + wait, {"type": "ticket_no_show", "ticket": label, "counter": name})
        assert counter.status is CounterStatus.SERVING and ticket.started_at is not None
        started = ticket.started_at
        service = self._services[ticket.service]
        length = self._draw(("service", label, started), service.duration, self._duration_rng)
        due = started + length / self._specs[name].speed_for(ticket.service)
        return _Plan(due, {"type": "service_finished", "ticket": label, "counter": name})

    def _resume_plan(self, counter: Counter) -> _Plan:
        """Come back from a pause: ours last what was drawn, a human's what they declared, overrun."""
        key = ("pause", counter.name, counter.since)
        length = self._draws.get(key)
        if length is None:
            ours = self._pending_pause.pop(counter.name, None)
            if ours is not None and ours.reason == counter.pause_reason:
                length = ours.length
            else:
                minutes = counter.pause_minutes if counter.pause_minutes else DEFAULT_PAUSE_MINUTES
                length = minutes * 60.0 * HUMAN_PAUSE_OVERRUN.draw(self._pause_rng)
            self._draws[key] = length
        return _Plan(counter.since + length, {"type": "counter_resumed", "counter": counter.name})

    def _free_plan(self, counter: Counter, day: _CounterDay, state: BranchState, fresh: bool) -> _Plan:
        """A free counter closes, pauses or calls, whichever is due first (in that order on a tie)."""
        name = counter.name
        free_since = counter.free_since if counter.free_since is not None else counter.since
        ready = free_since
        if counter.status is CounterStatus.WRAPPING_UP:
            ready += self._draw(("wrap", name, free_since), self.scenario.wrap_up, self._behaviour_rng)
        waiting = fresh and has_eligible_waiting(state, counter.services)
        best: _Plan | None = None
        if day.early or not waiting:
            best = _Plan(max(ready, day.closes), {"type": "counter_closed", "counter": name})
        for index in range(day.next_pause, len(day.pauses)):
            pause = day.pauses[index]
            start = max(ready, pause.start)
            if start > pause.latest or start >= day.closes:
                continue
            if best is None or start < best.due:
                event = {"type": "counter_paused", "counter": name, "reason": pause.reason, "minutes": pause.minutes}
                best = _Plan(start, event, pause=index)
            break
        if waiting:
            ticket = next_ticket(state, counter)
            assert ticket is not None
            reaction = self._draw(("reaction", name, free_since), self.scenario.reaction, self._behaviour_rng)
            due = max(ready, ticket.queued_at + reaction)
            if best is None or due < best.due:
                event = {"type": "ticket_called", "ticket": ticket.label, "counter": name}
                best = _Plan(due, event, calls=ticket.label)
        assert best is not None
        return best

    def _commit(self, name: str, plan: _Plan) -> None:
        """Remember what an emitted teller event used up."""
        day = self._counters[name]
        self._generation += 1
        kind = plan.event["type"]
        if kind == "counter_opened":
            day.opened = True
        elif kind == "counter_paused":
            assert plan.pause is not None
            self._pending_pause[name] = day.pauses[plan.pause]
            day.next_pause = plan.pause + 1


# ---------------------------------------------------------------------- offline runs


def _at_millisecond(seconds: float, zone: tzinfo | None) -> datetime:
    """The first whole millisecond not before ``seconds`` (the log keeps milliseconds)."""
    millis = math.ceil((seconds - TOLERANCE / 10) * 1000.0)
    return datetime.fromtimestamp(millis / 1000.0, zone)


def run_agent(
    agent: BranchAgent, projection: Projection, start: datetime, end: datetime, *, progress: bool = False
) -> list[Event]:
    """Drive ``agent`` against ``projection`` from ``start`` until nothing is due before ``end``.

    The clock jumps from one due time to the next; every event goes through
    ``projection.submit`` and a rejection raises :class:`SimulationError`.
    """
    zone = start.tzinfo
    log: list[Event] = []
    now = start
    idle_rounds = 0
    bar = tqdm(total=max(1, (end.date() - start.date()).days), unit="day", disable=not progress)
    day = now.date()
    try:
        while True:
            due = agent.next_due(now, projection.state)
            if due is None or due >= end:
                break
            if due > now:
                now = max(now, _at_millisecond(due.timestamp(), zone))
                idle_rounds = 0
                if now.date() != day:
                    bar.update((now.date() - day).days)
                    day = now.date()
            batch = agent.actions(now, projection.state)
            idle_rounds = 0 if batch else idle_rounds + 1
            if idle_rounds > STALL_LIMIT:
                raise SimulationError(f"the agent promised events at {now.isoformat()} but produces none")
            for obj in batch:
                # logged as the agent emitted it (the spec's fields, as a kiosk or teller posts
                # them): the predictions the projection adds are recomputed alike on replay
                event = parse_event(obj, ts=now)
                rejection = projection.submit(event)
                if rejection is not None:
                    raise SimulationError(f"{now.isoformat()} {obj}: rejected ({rejection.message})")
                log.append(event)
    finally:
        bar.close()
    return log


def simulate(
    scenario: Scenario,
    days: int,
    start: date,
    seed: int,
    tz: tzinfo | str = "+08:00",
    *,
    progress: bool = False,
) -> list[Event]:
    """Simulate ``days`` consecutive local days from ``start``; returns the event log.

    The same seed gives the same log. Every event has been accepted by a fresh
    :class:`~queue_board.core.projection.Projection`, as the live server would.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    zone = parse_timezone(tz) if isinstance(tz, str) else tz
    if zone is None:
        raise ValueError("a time zone is needed")
    agent = BranchAgent(scenario, np.random.default_rng(seed))
    first = datetime.combine(start, time(0), tzinfo=zone)
    end = datetime.combine(start + timedelta(days=days), time(0), tzinfo=zone)
    return run_agent(agent, Projection(), first, end, progress=progress)
