"""The hidden priority class (issue 13, item 3): learned from calls out of turn, and forecast.

The branches here are simulated with a known share of priority customers, served by the rule
the class assumes (priority first, FIFO within each class), so the right answer is known.
"""

from __future__ import annotations

import heapq
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest
from timed_events import ev, submit_all

from queue_board.core.events import Event
from queue_board.core.projection import Projection
from queue_board.forecast.latent_priority import LatentPriority

TZ = timezone(timedelta(hours=2))
MONDAY = datetime(2026, 3, 2, 8, 0, tzinfo=TZ)


def priority_day(
    day: int, *, share: float, seed: int, counters: int = 3, customers: int = 240, mean_gap: float = 40.0, mean_service: float = 110.0
) -> list[Event]:
    """One day of a single-service branch whose customers are priority with ``share``: a free
    counter calls the earliest priority customer waiting, else the earliest ordinary one."""
    rng = np.random.default_rng(seed)
    start = MONDAY + timedelta(days=day)
    arrivals = np.cumsum(rng.exponential(mean_gap, customers))
    priority = rng.random(customers) < share
    lengths = rng.exponential(mean_service, customers) + 10.0
    out: list[tuple[float, int, Event]] = []
    order = 0

    def emit(at: float, kind: str, **fields: Any) -> None:
        nonlocal order
        out.append((at, order, ev(kind, start + timedelta(seconds=at), **fields)))
        order += 1

    names = [f"C{i + 1}" for i in range(counters)]
    for name in names:
        emit(0.0, "counter_opened", counter=name, services=[["A"]])
    free_at = [(1.0, name) for name in names]
    heapq.heapify(free_at)
    waiting: list[int] = []
    next_arrival = 0
    served = 0
    while served < customers:
        at, name = heapq.heappop(free_at)
        while next_arrival < customers and arrivals[next_arrival] <= at:
            emit(float(arrivals[next_arrival]), "ticket_issued", ticket=f"A{next_arrival + 1:03d}", service="A")
            waiting.append(next_arrival)
            next_arrival += 1
        if not waiting:
            # idle until the next customer comes
            heapq.heappush(free_at, (float(arrivals[next_arrival]) + 0.5, name))
            continue
        chosen = next((i for i in waiting if priority[i]), waiting[0])
        waiting.remove(chosen)
        label = f"A{chosen + 1:03d}"
        emit(at, "ticket_called", ticket=label, counter=name)
        emit(at + 5.0, "service_started", ticket=label, counter=name)
        emit(at + 5.0 + float(lengths[chosen]), "service_finished", ticket=label, counter=name)
        heapq.heappush(free_at, (at + 8.0 + float(lengths[chosen]), name))
        served += 1
    last = max(at for at, _, _ in out) + 60.0
    for name in names:
        emit(last, "counter_closed", counter=name)
    return [event for _, _, event in sorted(out, key=lambda item: (item[0], item[1]))]


def learned(share: float, days: int = 3, seed: int = 1) -> Projection:
    projection = Projection()
    for day in range(days):
        submit_all(projection, priority_day(day, share=share, seed=seed + day))
    return projection


@pytest.mark.parametrize("share", [0.15, 0.3, 0.5])
def test_the_share_of_hidden_priority_customers_is_learned_from_the_calls_out_of_turn(share: float) -> None:
    model = learned(share).model
    assert model.latent.share("A") == pytest.approx(share, abs=0.1)


def test_a_queue_served_in_turn_has_no_priority_class_and_forecasts_as_before() -> None:
    model = learned(0.0).model
    assert model.latent.share("A") == 0.0
    assert model.latent.shares(["A"]) == {}


def test_a_higher_tier_called_first_is_no_call_out_of_turn() -> None:
    """A counter that serves V before A calls a V customer who came after an A one: that is the
    rule of its profile, not a hidden class of A (nor of V, whose own queue was called in turn)."""
    projection = Projection()
    t = MONDAY
    events = [ev("counter_opened", t, counter="C1", services=[["V"], ["A"]])]
    for k in range(40):
        base = t + timedelta(minutes=10 * k + 1)
        events += [
            ev("ticket_issued", base, ticket=f"A{k + 1:03d}", service="A"),
            ev("ticket_issued", base + timedelta(seconds=5), ticket=f"A{k + 101:03d}", service="A"),
            ev("ticket_issued", base + timedelta(seconds=10), ticket=f"V{k + 1:03d}", service="V"),
            ev("ticket_called", base + timedelta(seconds=20), ticket=f"V{k + 1:03d}", counter="C1"),
            ev("ticket_no_show", base + timedelta(seconds=80), ticket=f"V{k + 1:03d}", counter="C1"),
            ev("ticket_called", base + timedelta(seconds=90), ticket=f"A{k + 1:03d}", counter="C1"),
            ev("ticket_no_show", base + timedelta(seconds=150), ticket=f"A{k + 1:03d}", counter="C1"),
            ev("ticket_called", base + timedelta(seconds=160), ticket=f"A{k + 101:03d}", counter="C1"),
            ev("ticket_no_show", base + timedelta(seconds=220), ticket=f"A{k + 101:03d}", counter="C1"),
        ]
    submit_all(projection, events)
    assert projection.model.latent.calls["A"].sum() > 30  # it saw the A queue's choices
    assert projection.model.latent.share("A") == 0.0
    assert projection.model.latent.share("V") == 0.0


def test_someone_passed_over_by_a_call_is_known_to_be_ordinary() -> None:
    projection = Projection()
    submit_all(
        projection,
        [
            ev("counter_opened", MONDAY, counter="C1", services=[["A"]]),
            ev("ticket_issued", MONDAY + timedelta(seconds=10), ticket="A001", service="A"),
            ev("ticket_issued", MONDAY + timedelta(seconds=20), ticket="A004", service="A"),
            ev("ticket_called", MONDAY + timedelta(seconds=30), ticket="A004", counter="C1"),
            ev("ticket_issued", MONDAY + timedelta(seconds=40), ticket="A003", service="A"),
        ],
    )
    latent, tickets = projection.model.latent, projection.state.tickets
    assert latent.known_ordinary(tickets["A001"])
    assert not latent.known_ordinary(tickets["A003"])
    # the one call with a choice went out of turn
    assert latent.calls["A"][:, :, 1].sum() == pytest.approx(1.0)


def _day_four_queue(projection: Projection) -> None:
    """Day 4 at 10:00: the three counters busy, six customers passed over by their calls, then a
    new one."""
    at = MONDAY + timedelta(days=3, hours=2)
    events = [ev("counter_opened", at, counter=f"C{c}", services=[["A"]]) for c in (1, 2, 3)]
    events += [ev("ticket_issued", at + timedelta(seconds=5 + i), ticket=f"A{i + 1:03d}", service="A") for i in range(9)]
    events += [ev("ticket_called", at + timedelta(seconds=20 + c), ticket=f"A{c:03d}", counter=f"C{c}") for c in (1, 2, 3)]
    events += [ev("service_started", at + timedelta(seconds=25 + c), ticket=f"A{c:03d}", counter=f"C{c}") for c in (1, 2, 3)]
    events.append(ev("ticket_issued", at + timedelta(seconds=30), ticket="A010", service="A"))
    submit_all(projection, events)


def test_priority_arrivals_lengthen_an_ordinary_wait_and_a_new_ticket_may_go_first() -> None:
    """With a third of customers priority, the ordinary customer at the head of the queue is
    expected to be overtaken by priority customers yet to come; the newest ticket, whose class
    nobody knows, may be called before the six ahead of it."""
    with_class = learned(0.35)
    without = learned(0.35)
    without.model.latent = LatentPriority()  # the same branch, forecast by the plain call rule
    for projection in (with_class, without):
        _day_four_queue(projection)
    assert with_class.model.latent.share("A") > 0.2
    head_with = with_class.forecast(focus="A004").waits["A004"]
    head_without = without.forecast(focus="A004").waits["A004"]
    assert head_with.p50 > head_without.p50 + 10
    newest_with = with_class.forecast(focus="A010").waits["A010"]
    newest_without = without.forecast(focus="A010").waits["A010"]
    assert newest_with.p10 < 0.6 * newest_without.p10
    # the hall's whole forecast agrees with the single-ticket one on who goes first
    hall = with_class.forecast(["A"])
    assert hall.waits["A010"].p10 < 0.6 * newest_without.p10
    assert hall.new_ticket["A"] is not None and hall.new_ticket["A"].p10 < without.forecast(["A"]).new_ticket["A"].p10  # type: ignore[union-attr]
