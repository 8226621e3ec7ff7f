"""Each teller's own habit of calling the next customer (issue 13, item 3's second half).

On the Anonymous Bank log agents stay logged in through their breaks, and some let a queue wait
far longer than others once they are free. A branch learns each counter's free-spell hazard,
shrunk toward the branch's, and the forecast draws a free counter's next call by its own.
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
from queue_board.forecast.durations import READINESS_PRIOR_EPISODES, ReadinessTable, Survival

TZ = timezone(timedelta(hours=2))
MONDAY = datetime(2026, 3, 2, 8, 0, tzinfo=TZ)


def busy_day(day: int, wrap_ups: dict[str, float], *, seed: int, calls: int = 60) -> list[Event]:
    """A day whose queue never empties: each counter calls the next customer ``wrap_ups[name]``
    seconds (exponential, on average) after finishing the last."""
    rng = np.random.default_rng(seed)
    start = MONDAY + timedelta(days=day)
    out: list[tuple[float, int, Event]] = []

    def emit(at: float, kind: str, **fields: Any) -> None:
        out.append((at, len(out), ev(kind, start + timedelta(seconds=at), **fields)))

    total = calls * len(wrap_ups)
    for i in range(total + 5):
        # everyone is there from the start, so somebody always waits while a counter is free
        emit(float(i) * 0.5, "ticket_issued", ticket=f"A{i + 1:03d}", service="A")
    for name in wrap_ups:
        emit(0.0, "counter_opened", counter=name, services=[["A"]])
    free_at = [(float(total) * 0.5 + 1.0, name) for name in wrap_ups]
    heapq.heapify(free_at)
    for i in range(total):
        at, name = heapq.heappop(free_at)
        label = f"A{i + 1:03d}"
        emit(at, "ticket_called", ticket=label, counter=name)
        emit(at + 5.0, "service_started", ticket=label, counter=name)
        finished = at + 5.0 + 60.0 + float(rng.exponential(30.0))
        emit(finished, "service_finished", ticket=label, counter=name)
        heapq.heappush(free_at, (finished + float(rng.exponential(wrap_ups[name])), name))
    last = max(at for at, _, _ in out) + 30.0
    for name in wrap_ups:
        emit(last, "counter_closed", counter=name)
    return [event for _, _, event in sorted(out, key=lambda item: (item[0], item[1]))]


def learned(wrap_ups: dict[str, float], days: int = 2) -> Projection:
    projection = Projection()
    for day in range(days):
        submit_all(projection, busy_day(day, wrap_ups, seed=day + 1))
    return projection


def median_of(table: ReadinessTable, counter: str) -> float:
    """The median of ``counter``'s wrap-up, to 0.1 s."""
    grid = np.linspace(0.0, 900.0, 9001)
    return float(grid[np.searchsorted(-table.survival(counter, grid, after_service=True), -0.5)])


def test_each_counter_learns_its_own_habit_and_a_new_one_starts_as_the_branch() -> None:
    model = learned({"FAST": 5.0, "SLOW": 150.0}).model
    table = model.readiness()
    fast, slow, newcomer = median_of(table, "FAST"), median_of(table, "SLOW"), median_of(table, "NEW")
    # exponential wrap-ups: medians of 3.5 s and 104 s
    assert fast < 10.0
    assert slow > 70.0
    assert fast < newcomer < slow
    assert table.row("NEW", after_service=True) == 0
    assert table.row("NEW", after_service=False) == 1
    # every transaction's wrap-up, ended by the next call or, cut short, by the day's close
    assert model.counter_wrap_up["SLOW"].count + model.counter_wrap_up["FAST"].count == 2 * 2 * 60
    assert model.counter_wrap_up["SLOW"].count > 40


def test_a_teller_with_a_few_spells_stays_near_the_branch() -> None:
    """Shrinkage: one teller's two slow spells do not make them slow; many do."""
    model = learned({"A1": 5.0, "A2": 5.0, "A3": 5.0}).model
    for name in ("A1", "A2", "A3"):
        assert median_of(model.readiness(), name) < 10.0
    own = model.counter_wrap_up["A1"] = Survival(None)
    for _ in range(2):
        own.add(300.0, happened=True)
    model._readiness_cache = None
    assert median_of(model.readiness(), "A1") < 15.0
    for _ in range(int(2 * READINESS_PRIOR_EPISODES)):
        own.add(300.0, happened=True)
    model._readiness_cache = None
    assert median_of(model.readiness(), "A1") > 100.0


def test_one_table_draws_as_each_survival_would() -> None:
    """``ReadinessTable.remaining`` is each row's ``Survival.remaining_given``, in one pass, for
    every elapsed time (within the bins, past the last edge) and a hazard that is zero."""
    rng = np.random.default_rng(3)
    survivals = []
    for k in range(4):
        survival = Survival(15.0 * (k + 1))
        for _ in range(40):
            survival.add(float(rng.exponential(40.0 * (k + 1))), happened=bool(rng.random() < 0.8))
        survivals.append(survival)
    survivals.append(Survival(None))  # nothing ever happened: never
    tables = [survival._cumulative() for survival in survivals]
    table = ReadinessTable(rows={}, rates=np.array([t[0] for t in tables]), cumulative=np.array([t[1] for t in tables]))
    rows = np.array([0, 1, 2, 3, 4, 1])
    elapsed = np.array([0.0, 3.0, 50.0, 20000.0, 7.0, 400.0])
    draws = rng.exponential(1.0, (300, len(rows)))
    together = table.remaining(rows, elapsed, draws)
    one_by_one = np.column_stack(
        [survivals[row].remaining_given(elapsed[[j]], draws[:, [j]])[:, 0] for j, row in enumerate(rows)]
    )
    assert np.array_equal(np.isinf(together), np.isinf(one_by_one))
    assert np.isinf(together[:, 4]).all()
    finite = np.isfinite(together)
    assert np.allclose(together[finite], one_by_one[finite], rtol=1e-9, atol=1e-6)


def _slow_teller_just_finished(projection: Projection) -> None:
    """Day 3: FAST busy with a transaction just begun, SLOW just finished one, one customer waiting."""
    at = MONDAY + timedelta(days=2, hours=2)
    submit_all(
        projection,
        [
            ev("counter_opened", at, counter="FAST", services=[["A"]]),
            ev("counter_opened", at, counter="SLOW", services=[["A"]]),
            ev("ticket_issued", at + timedelta(seconds=1), ticket="B001", service="A"),
            ev("ticket_issued", at + timedelta(seconds=2), ticket="B002", service="A"),
            ev("ticket_issued", at + timedelta(seconds=3), ticket="B003", service="A"),
            ev("ticket_called", at + timedelta(seconds=10), ticket="B001", counter="FAST"),
            ev("ticket_called", at + timedelta(seconds=10), ticket="B002", counter="SLOW"),
            ev("service_started", at + timedelta(seconds=15), ticket="B002", counter="SLOW"),
            ev("service_started", at + timedelta(seconds=60), ticket="B001", counter="FAST"),
            ev("service_finished", at + timedelta(seconds=70), ticket="B002", counter="SLOW"),
        ],
    )


def test_the_forecast_waits_for_a_slow_teller_by_their_own_habit() -> None:
    with_habits = learned({"FAST": 5.0, "SLOW": 150.0})
    branch_only = learned({"FAST": 5.0, "SLOW": 150.0})
    for projection in (with_habits, branch_only):
        _slow_teller_just_finished(projection)
    # the same branch, forecast as if every teller called like the branch's average
    branch_only.model.counter_wrap_up.clear()
    branch_only.model._readiness_cache = None
    slow = with_habits.forecast(focus="B003").waits["B003"]
    average = branch_only.forecast(focus="B003").waits["B003"]
    assert slow.p50 > average.p50 + 20.0
    assert slow.p90 > average.p90
    # the hall's forecast draws the same habit
    assert with_habits.forecast(["A"]).waits["B003"].p50 == pytest.approx(slow.p50, rel=0.25)


def test_the_habits_depend_on_the_log_alone_not_on_when_something_forecast() -> None:
    """A live server forecasts after every event, a replay or a restarted server far less: the
    habits (refitted every few spells) must come out the same, so their forecasts are identical."""
    live, replayed = Projection(), Projection()
    for day in range(2):
        for index, event in enumerate(busy_day(day, {"FAST": 5.0, "SLOW": 150.0}, seed=day + 1)):
            assert live.submit(event) is None and replayed.submit(event) is None
            if index % 7 == 3:
                live.forecast(["A"])
    for projection in (live, replayed):
        _slow_teller_just_finished(projection)
    assert live.forecast(["A"]).waits == replayed.forecast(["A"]).waits
    assert live.model.readiness().rates.tolist() == replayed.model.readiness().rates.tolist()


def away_day(day: int, *, seed: int, customers: int = 90) -> list[Event]:
    """One counter whose teller calls at once after a short idle, but takes minutes once they
    have been idle for a quarter of an hour (away from the desk, though logged in)."""
    rng = np.random.default_rng(seed)
    start = MONDAY + timedelta(days=day)
    events = [ev("counter_opened", start, counter="C1", services=[["A"]])]
    free = 10.0
    for k in range(customers):
        idle = 900.0 if k % 3 == 0 else 30.0
        arrival = free + idle
        wait = float(rng.exponential(240.0 if idle >= 600.0 else 5.0))
        label = f"A{k + 1:03d}"
        events.append(ev("ticket_issued", start + timedelta(seconds=arrival), ticket=label, service="A"))
        events.append(ev("ticket_called", start + timedelta(seconds=arrival + wait), ticket=label, counter="C1"))
        events.append(ev("service_started", start + timedelta(seconds=arrival + wait + 5.0), ticket=label, counter="C1"))
        free = arrival + wait + 65.0
        events.append(ev("service_finished", start + timedelta(seconds=free), ticket=label, counter="C1"))
    events.append(ev("counter_closed", start + timedelta(seconds=free + 10.0), counter="C1"))
    return events


def away_learned(days: int = 2) -> Projection:
    projection = Projection()
    for day in range(days):
        submit_all(projection, away_day(day, seed=day + 5))
    return projection


def _arrives_after_idle(projection: Projection, idle: float) -> None:
    """Day 3: C1 serves one customer, then the next arrives ``idle`` seconds after it finished."""
    at = MONDAY + timedelta(days=2, hours=1)
    submit_all(
        projection,
        [
            ev("counter_opened", at, counter="C1", services=[["A"]]),
            ev("ticket_issued", at + timedelta(seconds=5), ticket="B001", service="A"),
            ev("ticket_called", at + timedelta(seconds=6), ticket="B001", counter="C1"),
            ev("service_started", at + timedelta(seconds=10), ticket="B001", counter="C1"),
            ev("service_finished", at + timedelta(seconds=70), ticket="B001", counter="C1"),
            ev("ticket_issued", at + timedelta(seconds=70 + idle), ticket="B002", service="A"),
        ],
    )


def test_a_teller_idle_for_long_is_expected_to_answer_slowly() -> None:
    """Spells that began after ten idle minutes are learned apart, for the whole branch, and a
    customer who comes to a counter idle that long is told a longer wait than one who comes to a
    counter just freed; without the idle classes both would be told the same."""
    model = away_learned().model
    assert model.idle_readiness[(2, True)].count >= 50
    table = model.readiness()
    away, present = table.row("C1", after_service=True, idle_before=900.0), table.row("C1", after_service=True)
    assert away != present
    assert table.survival("C1", 60.0, after_service=True, idle_before=900.0) > 0.5
    assert table.survival("C1", 60.0, after_service=True) < 0.5
    just_freed, long_idle, ignoring_idle = away_learned(), away_learned(), away_learned()
    _arrives_after_idle(just_freed, 30.0)
    _arrives_after_idle(long_idle, 900.0)
    _arrives_after_idle(ignoring_idle, 900.0)
    ignoring_idle.model.idle_readiness.clear()
    ignoring_idle.model._readiness_cache = None
    after_long_idle = long_idle.forecast(focus="B002").waits["B002"]
    assert after_long_idle.p50 > 60.0
    assert just_freed.forecast(focus="B002").waits["B002"].p50 < 30.0
    assert ignoring_idle.forecast(focus="B002").waits["B002"].p50 < after_long_idle.p50 / 2
