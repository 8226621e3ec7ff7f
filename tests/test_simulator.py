"""The branch simulator: its logs are valid, it yields to humans, and it is true to its scenario."""

from __future__ import annotations

import dataclasses
import io
import math
import re
import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from click.testing import CliRunner

from queue_board.core.branch import FREE, QUEUED, BranchState, CounterStatus
from queue_board.core.call_rule import serves
from queue_board.core.events import Event, parse_event, read_log, write_log
from queue_board.core.projection import Projection
from simulations import BranchAgent, demo_branch, simulate, single_service_mm_c, split_shift_branch
from simulations.__main__ import main
from simulations.scenarios import Constant, Scenario

TZ = timezone(timedelta(hours=8))
MONDAY = date(2026, 3, 2)


def _by_ticket(log: list[Event]) -> dict[tuple[date, str], dict[str, Event]]:
    """For each (day, ticket): its events by type (the first of each type)."""
    out: dict[tuple[date, str], dict[str, Event]] = defaultdict(dict)
    for event in log:
        if event.ticket is not None:
            out[(event.day, event.ticket)].setdefault(event.type, event)
    return out


def _waits(log: list[Event], *, issued_after: float = 0.0) -> list[float]:
    """Seconds from issue to first call, for tickets issued ``issued_after`` s into their day or later."""
    waits = []
    for (day, _), events in _by_ticket(log).items():
        midnight = datetime.combine(day, time(0), tzinfo=TZ).timestamp()
        issued, called = events.get("ticket_issued"), events.get("ticket_called")
        if issued is not None and called is not None and issued.at - midnight >= issued_after:
            waits.append(called.at - issued.at)
    return waits


# ---------------------------------------------------------------------------- valid logs


def test_generated_log_replays_through_a_fresh_engine_after_a_round_trip() -> None:
    log = simulate(demo_branch(), 3, MONDAY, seed=11)
    buffer = io.StringIO()
    assert write_log(log, buffer) == len(log)
    projection = Projection()
    replayed = 0
    for _, event in read_log(io.StringIO(buffer.getvalue()).readlines()):
        assert projection.submit(event) is None, event
        replayed += 1
    assert replayed == len(log)
    assert {e.day for e in log} == {MONDAY + timedelta(days=d) for d in range(3)}
    assert all(e.ts.utcoffset() == timedelta(hours=8) for e in log)


def test_ticket_labels_are_prefix_and_three_digits_restarting_each_day() -> None:
    log = simulate(demo_branch(), 2, MONDAY, seed=5)
    prefixes = {"deposit": "A", "remittance": "B", "loan": "C"}
    numbers: dict[tuple[date, str], list[int]] = defaultdict(list)
    for event in log:
        if event.type == "ticket_issued":
            assert event.ticket is not None and event.service is not None
            assert re.fullmatch(r"[ABC]\d{3}", event.ticket), event.ticket
            assert event.ticket[0] == prefixes[event.service]
            numbers[(event.day, event.ticket[0])].append(int(event.ticket[1:]))
    assert len(numbers) == 6
    for issued in numbers.values():
        assert issued == list(range(1, len(issued) + 1))


def test_same_seed_gives_the_same_log_and_another_seed_another() -> None:
    first = simulate(demo_branch(), 2, MONDAY, seed=3)
    again = simulate(demo_branch(), 2, MONDAY, seed=3)
    other = simulate(demo_branch(), 2, MONDAY, seed=4)
    assert first == again
    assert [e.at for e in first] == [e.at for e in again]
    assert first != other


# ---------------------------------------------------------------------------- humans at the controls


class Human:
    """A teller and a kiosk acting at random moments on whatever the state allows."""

    def __init__(self, rng: np.random.Generator, counters: list[str]) -> None:
        self.rng = rng
        self.counters = counters
        self.done: Counter[str] = Counter()

    #: how often each kind of action is chosen when it is possible (pauses and kiosk tickets rarer)
    WEIGHTS: ClassVar[dict[str, float]] = {"counter_paused": 0.2, "ticket_issued": 0.3}

    def act(self, state: BranchState) -> dict[str, Any]:
        """One valid event, chosen at random among what the state allows (the kiosk always can)."""
        possible: dict[str, list[dict[str, Any]]] = defaultdict(list)
        waiting = state.waiting_tickets()
        for name in self.counters:
            counter = state.counters.get(name)
            if counter is None or counter.status is CounterStatus.CLOSED:
                continue
            if counter.status is CounterStatus.SERVING:
                possible["service_finished"].append(
                    {"type": "service_finished", "ticket": counter.ticket, "counter": name}
                )
            elif counter.status is CounterStatus.CALLING:
                for kind in ("service_started", "ticket_no_show"):
                    possible[kind].append({"type": kind, "ticket": counter.ticket, "counter": name})
            elif counter.status is CounterStatus.PAUSED:
                possible["counter_resumed"].append({"type": "counter_resumed", "counter": name})
            else:
                assert counter.status in FREE
                possible["counter_paused"].append({"type": "counter_paused", "counter": name, "minutes": 3})
                # a teller may call out of order: any eligible waiting ticket
                for ticket in waiting:
                    if serves(counter.services, ticket.service):
                        possible["ticket_called"].append(
                            {"type": "ticket_called", "ticket": ticket.label, "counter": name}
                        )
        for ticket in waiting:
            possible["ticket_cancelled"].append({"type": "ticket_cancelled", "ticket": ticket.label})
        # the kiosk: a ticket with the next free deposit number
        used = [int(t.label[1:]) for t in state.tickets.values() if t.label.startswith("A")]
        label = f"A{max(used, default=0) + 1:03d}"
        possible["ticket_issued"].append({"type": "ticket_issued", "ticket": label, "service": "deposit"})
        kinds = sorted(possible)
        weights = np.array([self.WEIGHTS.get(kind, 1.0) for kind in kinds])
        kind = kinds[int(self.rng.choice(len(kinds), p=weights / weights.sum()))]
        options = possible[kind]
        return options[int(self.rng.integers(len(options)))]


def _run_with_human(agent: BranchAgent, human: Human, days: int, mean_gap: float) -> list[Event]:
    """Interleave the agent and a human (every ``mean_gap`` s on average, 09:05–16:55); both must be accepted."""

    def after(moment: datetime) -> datetime:
        moment += timedelta(seconds=float(human.rng.exponential(mean_gap)))
        if moment.time() > time(16, 55):
            moment = datetime.combine(moment.date() + timedelta(days=1), time(9, 5), tzinfo=TZ)
        return moment

    projection = Projection()
    now = datetime.combine(MONDAY, time(0), tzinfo=TZ)
    end = now + timedelta(days=days)
    next_human = datetime.combine(MONDAY, time(9, 5), tzinfo=TZ)
    log: list[Event] = []
    while True:
        due = agent.next_due(now, projection.state)
        assert due is not None
        if next_human < min(due, end):
            now = max(now, next_human)
            obj = human.act(projection.state)
            assert projection.submit(parse_event(obj, ts=now)) is None, obj
            human.done[obj["type"]] += 1
            next_human = after(next_human)
            continue
        if due >= end:
            return log
        now = max(now, due)
        for obj in agent.actions(now, projection.state):
            event = parse_event(obj, ts=now)
            rejection = projection.submit(event)
            assert rejection is None, (obj, rejection)
            log.append(event)


def test_agent_never_emits_a_stale_event_when_a_human_acts_first() -> None:
    agent = BranchAgent(demo_branch(), np.random.default_rng(21))
    human = Human(np.random.default_rng(22), ["1", "2", "3", "4"])
    log = _run_with_human(agent, human, days=2, mean_gap=15.0)
    # the human really did pre-empt the agent in every way it can
    for kind in ("service_finished", "service_started", "ticket_no_show", "ticket_called", "ticket_cancelled"):
        assert human.done[kind] >= 10, human.done
    assert human.done["counter_paused"] >= 5 and human.done["ticket_issued"] >= 5
    assert len(log) > 1000


def test_agent_drops_its_plan_when_a_human_finishes_first() -> None:
    scenario = single_service_mm_c(1, 6.0, 600.0, doors_open=time(9), doors_close=time(17))
    agent = BranchAgent(scenario, np.random.default_rng(1))
    projection = Projection()
    now = datetime.combine(MONDAY, time(0), tzinfo=TZ)
    # run the agent until counter 1 serves someone
    while projection.state.counters.get("1") is None or projection.state.counters["1"].status is not CounterStatus.SERVING:
        due = agent.next_due(now, projection.state)
        assert due is not None
        now = max(now, due)
        for obj in agent.actions(now, projection.state):
            assert projection.submit(parse_event(obj, ts=now)) is None
    serving = projection.state.counters["1"].ticket
    planned = agent.next_due(now, projection.state)
    assert planned is not None and planned > now
    # the human teller finishes that transaction before the agent would have
    early = now + (planned - now) / 2
    assert projection.submit(parse_event({"type": "service_finished", "ticket": serving, "counter": "1"}, ts=early)) is None
    after = agent.next_due(early, projection.state)
    assert after is not None and after != planned
    emitted = agent.actions(planned, projection.state)
    assert all(obj.get("ticket") != serving for obj in emitted)
    for obj in emitted:
        assert projection.submit(parse_event(obj, ts=planned)) is None


def test_counters_the_agent_does_not_manage_are_left_alone() -> None:
    agent = BranchAgent(demo_branch(), np.random.default_rng(8), manage_counters=["1", "2", "3"])
    human = Human(np.random.default_rng(9), ["4"])
    log = _run_with_human(agent, human, days=1, mean_gap=60.0)
    assert not any(e.counter == "4" for e in log)
    assert any(e.type == "ticket_issued" and e.service == "loan" for e in log)
    # nobody opened counter 4, so the agent never called a loan ticket
    called = {e.ticket for e in log if e.type == "ticket_called"}
    assert not any(e.ticket in called for e in log if e.type == "ticket_issued" and e.service == "loan")


def test_unknown_managed_counter_is_refused() -> None:
    with pytest.raises(ValueError, match="not in scenario"):
        BranchAgent(demo_branch(), np.random.default_rng(0), manage_counters=["9"])


# ---------------------------------------------------------------------------- true to the scenario


def test_demo_branch_has_a_plausible_daily_volume_and_transaction_lengths() -> None:
    scenario = demo_branch()
    assert 150 <= sum(scenario.expected_arrivals().values()) <= 250
    means = {s.code: s.duration.mean() for s in scenario.services}
    assert 120 <= means["deposit"] <= 180 and 300 <= means["remittance"] <= 360 and 1080 <= means["loan"] <= 1440

    log = simulate(scenario, 5, MONDAY, seed=2026)
    per_day = Counter(e.day for e in log if e.type == "ticket_issued")
    assert len(per_day) == 5 and all(150 <= n <= 250 for n in per_day.values()), per_day
    # each service takes what the scenario says, scaled by the speed of the teller who served it
    lengths: dict[str, list[float]] = defaultdict(list)
    for events in _by_ticket(log).values():
        if "service_finished" in events:
            finished = events["service_finished"]
            service = events["ticket_issued"].service
            assert service is not None and finished.counter is not None
            speed = scenario.counter(finished.counter).speed_for(service)
            lengths[service].append((finished.at - events["service_started"].at) * speed)
    for service, values in lengths.items():
        standard_error = statistics.stdev(values) / math.sqrt(len(values))
        assert abs(statistics.mean(values) - means[service]) < 4 * standard_error, service
    assert statistics.stdev(lengths["deposit"]) / math.sqrt(len(lengths["deposit"])) < 0.05 * means["deposit"]
    served = {service: len(values) for service, values in lengths.items()}
    assert 5 <= served["loan"] / 5 <= 25 and served["deposit"] > served["remittance"] > served["loan"]


def test_split_shift_branch_has_a_thin_hour_between_its_shifts() -> None:
    log = simulate(split_shift_branch(), 2, MONDAY, seed=5)
    spells: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for event in log:
        if event.type in ("counter_opened", "counter_closed") and event.counter is not None:
            hour = event.ts.hour + event.ts.minute / 60
            spells[event.counter].append((hour, 1.0 if event.type == "counter_opened" else 0.0))
    opened = {name: [h for h, kind in marks if kind] for name, marks in spells.items()}
    closed = {name: [h for h, kind in marks if not kind] for name, marks in spells.items()}
    # the morning shift closes at 13:00, the afternoon shift opens at 14:00, counter 5 stays
    assert all(13.0 <= h < 14.0 for name in ("1", "2") for h in closed[name])
    assert all(14.0 <= h < 14.1 for name in ("3", "4") for h in opened[name])
    assert all(h >= 17.0 for h in closed["5"])
    lunches = [e for e in log if e.type == "counter_paused" and e.counter == "5"]
    assert len(lunches) == 2 and all(13.0 <= e.ts.hour + e.ts.minute / 60 < 14.0 for e in lunches)


def test_lunch_and_authorisation_pauses_are_taken_and_overrun() -> None:
    log = simulate(demo_branch(), 5, MONDAY, seed=7)
    paused: dict[str, Event] = {}
    overruns: dict[str, list[float]] = defaultdict(list)
    for event in log:
        assert event.counter is not None or event.type.startswith("ticket")
        if event.type == "counter_paused":
            assert event.counter is not None and event.minutes is not None
            paused[event.counter] = event
        elif event.type == "counter_resumed":
            assert event.counter is not None
            start = paused.pop(event.counter)
            assert start.minutes is not None and start.reason is not None
            overruns[start.reason].append((event.at - start.at) / (start.minutes * 60))
    assert len(overruns["lunch"]) == 20  # four tellers, five days
    assert 1.0 < statistics.median(overruns["lunch"]) < 1.15
    assert len(overruns["authorisation"]) >= 3 and statistics.median(overruns["authorisation"]) > 1.1


# Erlang C (A. K. Erlang, 1917): in an M/M/c queue with arrival rate λ, service rate μ and
# offered load a = λ/μ < c, an arrival waits with probability
#     C(c, a) = (a^c / c! · c / (c − a)) / (Σ_{k<c} a^k / k! + a^c / c! · c / (c − a)),
# its wait exceeds t with probability C(c, a) · exp(−(cμ − λ) t), and the mean wait is
# C(c, a) / (cμ − λ). See e.g. Gross, Shortle, Thompson & Harris, "Fundamentals of
# Queueing Theory", 4th ed., section 2.3 (the M/M/c model).
def erlang_c(c: int, arrival_rate: float, mean_service: float) -> tuple[float, float]:
    """(probability of waiting, decay rate cμ − λ of the wait's tail) of an M/M/c queue."""
    a = arrival_rate * mean_service
    assert a < c
    top = a**c / math.factorial(c) * c / (c - a)
    probability = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return probability, c / mean_service - arrival_rate


def test_mm3_waits_match_erlang_c() -> None:
    c, per_hour, mean_service, days = 3, 27.0, 300.0, 40  # 75 % load
    log = simulate(single_service_mm_c(c, per_hour, mean_service), days, MONDAY, seed=7)
    p_wait, decay = erlang_c(c, per_hour / 3600.0, mean_service)
    mean_wait = p_wait / decay  # 227 s
    # the day starts empty: leave out the first hour's arrivals (warm-up)
    by_day: dict[date, list[float]] = defaultdict(list)
    for (day, _), events in _by_ticket(log).items():
        issued, called = events["ticket_issued"], events["ticket_called"]
        if issued.ts.time() >= time(1):
            by_day[day].append(called.at - issued.at)
    assert len(by_day) == days

    # waits within a day are correlated; days are independent, so judge by day means
    def check(statistic: Any, expected: float, tight: float) -> None:
        values = [statistic(np.array(waits)) for waits in by_day.values()]
        estimate, error = float(np.mean(values)), float(np.std(values, ddof=1)) / math.sqrt(days)
        assert error < tight * expected, "too few days for a meaningful check"
        print(f"erlang-c check: simulated {estimate:.4g} ± {error:.2g}, formula {expected:.4g}")
        assert abs(estimate - expected) < 3 * error, (estimate, expected, error)

    check(lambda w: float(np.mean(w > 0)), p_wait, 0.03)
    check(lambda w: float(np.mean(w > 1 / decay)), p_wait * math.exp(-1.0), 0.08)
    check(lambda w: float(np.mean(w)), mean_wait, 0.08)
    # and the service it saw was the exponential the scenario promised
    lengths = [e["service_finished"].at - e["service_started"].at for e in _by_ticket(log).values()]
    assert statistics.mean(lengths) == pytest.approx(mean_service, rel=0.03)


# ---------------------------------------------------------------------------- giving up


def _impatient(cancel_probability: float, patience: float | None) -> Scenario:
    """Two tellers and far too many customers (125 % load), each waiting exactly ``patience`` s."""
    base = single_service_mm_c(2, 30.0, 300.0, doors_open=time(9), doors_close=time(17))
    return dataclasses.replace(
        base,
        patience=None if patience is None else Constant(patience),
        cancel_probability=cancel_probability,
        no_show_wait=Constant(60.0),
    )


def test_no_show_happens_exactly_when_patience_ran_out_before_the_call() -> None:
    log = simulate(_impatient(0.0, 600.0), 2, MONDAY, seed=3)
    no_shows = served = 0
    for events in _by_ticket(log).values():
        if "ticket_called" not in events:
            continue
        called = events["ticket_called"]
        wait = called.at - events["ticket_issued"].at
        if "ticket_no_show" in events:
            assert wait > 600.0
            assert events["ticket_no_show"].at - called.at == pytest.approx(60.0, abs=0.002)
            no_shows += 1
        else:
            assert wait <= 600.0 + 0.002 and "service_started" in events
            served += 1
    assert no_shows >= 50 and served >= 100
    assert not any(e.type == "ticket_cancelled" for e in log)


def test_customers_who_say_so_cancel_when_patience_runs_out() -> None:
    log = simulate(_impatient(1.0, 600.0), 2, MONDAY, seed=3)
    cancelled = 0
    for events in _by_ticket(log).values():
        if "ticket_cancelled" in events:
            assert events["ticket_cancelled"].at - events["ticket_issued"].at == pytest.approx(600.0, abs=0.002)
            assert "ticket_called" not in events
            cancelled += 1
    assert cancelled >= 50
    assert not any(e.type == "ticket_no_show" for e in log)


def test_patient_customers_never_give_up() -> None:
    log = simulate(_impatient(1.0, None), 1, MONDAY, seed=3)
    kinds = Counter(e.type for e in log)
    assert kinds["ticket_no_show"] == kinds["ticket_cancelled"] == 0
    assert kinds["service_finished"] == kinds["ticket_issued"] > 200
    assert max(_waits(log)) > 3600  # they did wait long


# ---------------------------------------------------------------------------- command line


def test_generate_writes_a_log_in_the_shared_format(tmp_path: Path) -> None:
    out = tmp_path / "demo.jsonl"
    result = CliRunner().invoke(
        main, ["generate", "--scenario", "demo", "--days", "2", "--seed", "1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as handle:
        events = [event for _, event in read_log(handle)]
    assert events == simulate(demo_branch(), 2, MONDAY, seed=1)
    state = Projection()
    assert all(state.submit(e) is None for e in events)
    assert any(e.type == "ticket_issued" for e in events)
    assert not any(t.status in QUEUED for t in state.state.tickets.values())  # the day's queue drained


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--days", "0"], "--days"),
        (["--scenario", "nope"], "--scenario"),
        (["--tz", "Mars/Base"], "unknown time zone"),
        (["--start", "2026-13-01"], "--start"),
    ],
)
def test_generate_refuses_bad_arguments(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["generate", "--out", str(tmp_path / "x.jsonl"), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "x.jsonl").exists()


def test_generate_reports_an_unwritable_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["generate", "--days", "1", "--out", str(tmp_path / "missing" / "x.jsonl")])
    assert result.exit_code == 1
    assert "cannot write" in result.output
