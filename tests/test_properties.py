"""Properties of the pure core over random event sequences, mostly valid, some deliberately not.

Each example drives an :class:`Projection` with candidate events chosen from the current state
(the counter that is calling, a ticket that is waiting, ...) or at random, at times that
mostly move forward, sometimes stand still, go back, or jump to the next day.
"""

from __future__ import annotations

import json
import math
import pickle
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from queue_board.core import branch
from queue_board.core.branch import FREE, QUEUED, BranchState, CounterStatus, TicketStatus, validate
from queue_board.core.branch_config import DEMO_CONFIG
from queue_board.core.call_rule import next_ticket
from queue_board.core.events import (
    EVENT_FIELDS,
    EVENT_TYPES,
    FEEDBACK_CATEGORIES,
    FEEDBACK_CHANNELS,
    FEEDBACK_KINDS,
    FEEDBACK_STATUSES,
    MAX_HEADS_UP_MINUTES,
    MAX_NAME_LENGTH,
    MAX_PAUSE_MINUTES,
    MAX_REASON_LENGTH,
    REPROMISE_REASONS,
    WARNING_KINDS,
    WARNING_OUTCOMES,
    WARNING_SEVERITIES,
    Event,
    event_to_dict,
    event_to_json,
    format_ts,
    parse_event,
)
from queue_board.core.fields import name_problem
from queue_board.core.projection import Projection
from queue_board.forecast.durations import BranchModel
from queue_board.forecast.monte_carlo import forecast

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone(timedelta(hours=8)))
COUNTERS = ("1", "2", "3")
SERVICES = ("A", "B", "C")
FINISHED = frozenset({TicketStatus.DONE, TicketStatus.NO_SHOW, TicketStatus.CANCELLED})
KINDS = (
    "ticket_issued", "ticket_issued", "ticket_issued",
    "ticket_called", "ticket_called", "ticket_called",
    "service_started", "service_started",
    "service_finished", "service_finished",
    "counter_opened", "counter_closed", "counter_paused", "counter_resumed",
    "ticket_no_show", "ticket_cancelled", "ticket_recalled", "ticket_transferred",
    "transaction_extended",
)  # fmt: skip


@st.composite
def profiles(draw: st.DrawFn) -> list[list[str]]:
    """A work profile over SERVICES: some codes, cut into tiers."""
    codes = draw(st.permutations(SERVICES))[: draw(st.integers(1, len(SERVICES)))]
    tiers = [[codes[0]]]
    for code in codes[1:]:
        if draw(st.booleans()):
            tiers.append([code])
        else:
            tiers[-1].append(code)
    return tiers


def pick(data: st.DataObject, plausible: list[str], anything: list[str]) -> str:
    """Mostly a value that fits the state, sometimes anything at all."""
    if plausible and data.draw(st.integers(0, 9), label="fits") < 8:
        return data.draw(st.sampled_from(plausible))
    return data.draw(st.sampled_from(anything))


@dataclass
class Run:
    """A branch driven by candidate events; ``accepted`` are the events it took."""

    projection: Projection = field(default_factory=lambda: Projection(scenarios=32))
    accepted: list[Event] = field(default_factory=list)
    clock_ms: int = 0

    @property
    def state(self) -> BranchState:
        return self.projection.state

    def next_ts(self, data: st.DataObject) -> str:
        move = data.draw(st.sampled_from(["forward"] * 16 + ["same", "same", "back", "next_day"]), label="time")
        if move == "forward":
            self.clock_ms += data.draw(st.integers(1, 300_000))
        elif move == "back":
            self.clock_ms -= data.draw(st.integers(1, 60_000))
        elif move == "next_day":
            self.clock_ms += 24 * 3600 * 1000
        return format_ts(T0 + timedelta(milliseconds=self.clock_ms))

    def candidate(self, data: st.DataObject) -> dict[str, Any]:
        """A JSON object of one candidate event."""
        state = self.state
        counters = state.counters

        def with_status(*statuses: CounterStatus) -> list[str]:
            return [name for name, c in counters.items() if c.status in statuses]

        waiting = [t.label for t in state.waiting_tickets()]
        closed = [name for name in COUNTERS if name not in counters or counters[name].status is CounterStatus.CLOSED]
        free, paused = with_status(*FREE), with_status(CounterStatus.PAUSED)
        calling, serving = with_status(CounterStatus.CALLING), with_status(CounterStatus.SERVING)
        feasible = {
            "ticket_issued": True,
            "ticket_cancelled": bool(waiting),
            "counter_opened": bool(closed),
            "counter_closed": bool(free or paused),
            "counter_paused": bool(free),
            "counter_resumed": bool(paused),
            "ticket_called": bool(free and waiting),
            "service_started": bool(calling),
            "ticket_no_show": bool(calling),
            "ticket_recalled": bool(calling),
            "service_finished": bool(serving),
            "ticket_transferred": bool(serving),
            "transaction_extended": bool(serving),
        }
        kind = pick(data, [k for k in KINDS if feasible[k]], list(KINDS))
        line: dict[str, Any] = {"ts": self.next_ts(data), "type": kind}
        any_counter = [*COUNTERS, "9"]
        any_ticket = [*state.tickets, "Z999"]

        if kind == "ticket_issued":
            new = f"T{len(state.tickets) + 1:03}"
            line["ticket"] = pick(data, [new], [new, *state.tickets])
            line["service"] = data.draw(st.sampled_from(SERVICES))
        elif kind == "ticket_cancelled":
            line["ticket"] = pick(data, waiting, any_ticket)
        elif kind == "counter_opened":
            line["counter"] = pick(data, closed, any_counter)
            line["services"] = data.draw(profiles())
        elif kind in ("counter_closed", "counter_paused", "counter_resumed"):
            fits = {"counter_closed": free + paused, "counter_paused": free, "counter_resumed": paused}[kind]
            line["counter"] = pick(data, fits, any_counter)
            if kind == "counter_paused" and data.draw(st.booleans()):
                line["minutes"] = data.draw(st.integers(0, 60))
        elif kind == "ticket_called":
            line["counter"] = counter = pick(data, free, any_counter)
            proposed = next_ticket(state, counters[counter]) if counter in counters else None
            line["ticket"] = pick(data, [proposed.label] if proposed else waiting, any_ticket)
        else:
            holders = serving if kind in ("service_finished", "ticket_transferred", "transaction_extended") else calling
            line["counter"] = counter = pick(data, holders, any_counter)
            holding = counters[counter].ticket if counter in counters else None
            line["ticket"] = pick(data, [holding] if holding else [], any_ticket)
            if kind == "ticket_transferred":
                line["service"] = data.draw(st.sampled_from(SERVICES))
            if kind == "transaction_extended":
                line["minutes"] = data.draw(st.integers(1, 30))
        return line

    def step(self, data: st.DataObject) -> Event:
        """Offer one candidate event; check what must hold whether it was taken or not."""
        event = parse_event(self.candidate(data))
        assert parse_event(event_to_dict(event)) == event
        before = repr(self.state)  # dataclass reprs show every field; cheaper than a deep copy
        learned_before = model_bytes(self.projection.model)
        recorded, rejection = self.projection.submit_recorded(event)
        if rejection is None:
            # as stored: a new ticket carries the transaction length predicted for it
            self.accepted.append(recorded)
            check_invariants(self.state, len(self.accepted))
            assert self.state.now == event.at
        else:
            assert repr(self.state) == before
            assert model_bytes(self.projection.model) == learned_before
        return event


def model_bytes(model: BranchModel) -> bytes:
    """Everything the model has learned, to compare before and after an event."""
    return pickle.dumps(model)


def check_invariants(state: BranchState, accepted: int) -> None:
    """What the engine must look like after every accepted event."""
    assert state.seq == accepted
    queued: list[str] = []
    for service, queue in state.queues.items():
        assert queue, f"an empty queue for {service} is kept"
        assert queue == sorted(queue), f"queue {service} is not in order of joining"
        for queued_at, _, label in queue:
            ticket = state.tickets[label]
            assert ticket.service == service
            assert ticket.queued_at == queued_at <= state.now
            queued.append(label)
    assert len(queued) == len(set(queued)), "a ticket is queued twice"

    held: dict[str, str] = {}
    for name, counter in state.counters.items():
        if counter.status in (CounterStatus.CALLING, CounterStatus.SERVING):
            assert counter.ticket is not None
            assert counter.ticket not in held, "two counters hold one ticket"
            held[counter.ticket] = name
            ticket = state.tickets[counter.ticket]
            assert ticket.counter == name, "a ticket at a counter does not point back at it"
            want = TicketStatus.CALLED if counter.status is CounterStatus.CALLING else TicketStatus.SERVING
            assert ticket.status is want
        else:
            assert counter.ticket is None, f"counter {name} is {counter.status.value} but holds a ticket"
        if counter.status is not CounterStatus.SERVING:
            assert counter.heads_ups == (), f"counter {name} is {counter.status.value} but keeps heads-ups"

    for label, ticket in state.tickets.items():
        places = (label in queued) + (label in held) + (ticket.status in FINISHED)
        assert places == 1, f"ticket {label} ({ticket.status.value}) is in {places} places"
        assert (ticket.status in QUEUED) == (label in queued)
    assert state.waiting_count() == len(queued) == sum(t.status in QUEUED for t in state.tickets.values())
    order = [t.queued_at for t in state.waiting_tickets()]
    assert order == sorted(order)

    # the call rule proposes only calls the engine accepts
    assert state.last_ts is not None
    for name, counter in state.counters.items():
        proposed = next_ticket(state, counter)
        if proposed is not None:
            call = {"ts": format_ts(state.last_ts), "type": "ticket_called", "ticket": proposed.label, "counter": name}
            assert validate(state, parse_event(call)) is None


@settings(max_examples=100, deadline=None)
@given(data=st.data(), steps=st.integers(1, 60))
def test_random_event_sequences_keep_the_branch_consistent(data: st.DataObject, steps: int) -> None:
    run = Run()
    for _ in range(steps):
        run.step(data)
    # the state is a pure function of the events it accepted
    assert branch.replay(run.accepted) == run.state


@settings(max_examples=40, deadline=None)
@given(data=st.data(), steps=st.integers(5, 60))
def test_forecast_of_any_reachable_state_is_ordered_and_complete(data: st.DataObject, steps: int) -> None:
    run = Run()
    for _ in range(steps):
        run.step(data)
    state = run.state
    result = forecast(state, run.projection.model, np.random.default_rng(0), 32, SERVICES)
    assert set(result.waits) == {t.label for t in state.waiting_tickets()}
    assert set(result.new_ticket) >= set(SERVICES)
    assert set(result.counters) <= {name for name, c in state.counters.items() if c.status is not CounterStatus.CLOSED}
    ranges = [*result.waits.values(), *(r for r in result.new_ticket.values() if r is not None), *result.counters.values()]
    for r in ranges:
        assert not any(math.isnan(x) for x in (r.p10, r.p50, r.p90))
        assert 0 <= r.p10 <= r.p50 <= r.p90


# --- event_to_dict → parse_event round trip over arbitrary field values -------------------------

names = st.text(min_size=1, max_size=MAX_NAME_LENGTH).filter(str.strip)
#: labels and codes (ticket, counter, service, branch): names within the charset rule (docs/api.md "Limits")
labels = names.filter(lambda name: name_problem(name) is None)
offsets = st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
stamps = st.builds(
    lambda ms, zone: (datetime(1990, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)).astimezone(zone),
    st.integers(0, 100 * 365 * 24 * 3600 * 1000),
    offsets,
)


@st.composite
def work_profiles(draw: st.DrawFn) -> list[Any]:
    """Distinct codes in one or two tiers; a tier of one code sometimes written as a plain string."""
    codes = draw(st.lists(labels, min_size=1, max_size=4, unique=True))
    cut = draw(st.integers(1, len(codes)))
    tiers: list[Any] = [codes[:cut], codes[cut:]] if cut < len(codes) else [codes]
    return [tier[0] if len(tier) == 1 and draw(st.booleans()) else tier for tier in tiers]


minutes = st.one_of(st.integers(0, MAX_PAUSE_MINUTES), st.floats(0, MAX_PAUSE_MINUTES, allow_nan=False))
#: configurations as a branch_configured event carries them: the demo's, and a bare one
configurations = st.sampled_from([DEMO_CONFIG.to_dict(), {"name": "Branch", "services": [], "counters": []}])
#: a promise recorded on ticket_issued (p10 <= p50 <= p90, seconds, to 0.1 s)
promises = st.lists(st.integers(0, 100_000), min_size=3, max_size=3).map(lambda v: dict(zip(("p10", "p50", "p90"), (x / 10 for x in sorted(v)), strict=True)))

quantities = st.floats(0, 1e6, allow_nan=False, allow_infinity=False)
pooled_priors = st.fixed_dictionaries(
    {
        "values": st.lists(quantities, min_size=1, max_size=15).map(sorted),
        "weight": st.floats(0.01, 1000, allow_nan=False),
        "branches": st.integers(1, 50),
    }
)
#: a bank_prior_adopted's prior: sisters, per-service pooled lengths, optional overrun and patience
sister_priors = st.fixed_dictionaries(
    {"sisters": st.lists(labels, min_size=1, max_size=3), "services": st.dictionaries(labels, pooled_priors, max_size=3)},
    optional={
        "pause_overrun": pooled_priors,
        "patience": st.fixed_dictionaries(
            {"events": st.lists(quantities, min_size=23, max_size=23), "exposure": st.lists(quantities, min_size=23, max_size=23)}
        ),
    },
)
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "ticket": labels, "service": labels, "counter": labels, "services": work_profiles(), "config": configurations,
    # the complaint and praise log's required fields
    "id": names, "text": names, "kind": st.sampled_from(FEEDBACK_KINDS), "channel": st.sampled_from(FEEDBACK_CHANNELS),
    "category": st.sampled_from(FEEDBACK_CATEGORIES), "status": st.sampled_from(FEEDBACK_STATUSES),
    # the warnings' and the re-promise's
    "key": names, "severity": st.sampled_from(WARNING_SEVERITIES), "outcome": st.sampled_from(WARNING_OUTCOMES),
    "told": promises,
    "prior": sister_priors,
}


@st.composite
def event_objects(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(sorted(EVENT_TYPES)))
    obj: dict[str, Any] = {"ts": format_ts(draw(stamps)), "type": kind}
    if draw(st.booleans()):
        obj["branch"] = draw(labels)
    for key in EVENT_FIELDS[kind]:
        obj[key] = draw(FIELD_VALUES[key])
    if kind == "ticket_issued" and draw(st.booleans()):
        obj["told"], obj["told_raw"] = draw(promises), draw(promises)
    if kind == "counter_paused":
        if draw(st.booleans()):
            obj["reason"] = draw(st.text(max_size=MAX_REASON_LENGTH))
        if draw(st.booleans()):
            obj["minutes"] = draw(minutes)
    if kind == "warning_raised":
        # the warning's own words (``kind`` is also feedback's field name)
        obj["kind"] = draw(st.sampled_from(WARNING_KINDS))
        if draw(st.booleans()):
            obj["subject"] = draw(names)
        if draw(st.booleans()):
            obj["facts"] = draw(st.dictionaries(names, st.one_of(st.integers(-1000, 1000), names, st.none()), max_size=4))
    if kind == "warning_acknowledged" and draw(st.booleans()):
        obj["by"], obj["note"] = draw(names), draw(names)
    if kind == "ticket_repromised" and draw(st.booleans()):
        obj["reason"] = draw(st.sampled_from(REPROMISE_REASONS))
    if kind == "transaction_extended":
        # the teller's heads-up: minutes required (above 0), reason optional
        obj["minutes"] = draw(st.one_of(st.integers(1, MAX_HEADS_UP_MINUTES), st.floats(0.1, MAX_HEADS_UP_MINUTES, allow_nan=False)))
        if draw(st.booleans()):
            obj["reason"] = draw(st.text(max_size=MAX_REASON_LENGTH))
    return obj


@settings(max_examples=300, deadline=None)
@given(obj=event_objects())
def test_event_survives_serialising_and_parsing(obj: dict[str, Any]) -> None:
    event = parse_event(obj)
    line = event_to_dict(event)
    again = parse_event(line)
    assert again == event
    assert again.at == event.at
    assert again.ts.utcoffset() == event.ts.utcoffset()
    assert event_to_dict(again) == line
    assert parse_event(json.loads(event_to_json(event))) == event
    assert line["ts"] == obj["ts"]
