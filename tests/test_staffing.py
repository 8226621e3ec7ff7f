"""Staffing mathematics (queue_board/reports/staffing.py) against published values, an
independent library, an independent derivation, and a scripted set of days."""

from __future__ import annotations

import itertools
import math
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from queue_board.core.activity import ActivityLog
from queue_board.core.events import format_ts, parse_event
from queue_board.core.projection import Projection
from queue_board.reports import staffing_sim
from queue_board.reports.staffing import (
    ErlangA,
    ErlangC,
    counters_needed,
    erlang_b,
    erlang_c,
    fixed_layout,
    hourly_advice,
    leaning_layout,
    learn_arrival_rates,
    learn_handling_samples,
    learn_handling_times,
    learn_inputs,
    learn_patience,
    learn_pause_share,
    p90_wait,
    plan_day,
    refine_advice,
    split_counters,
)
from queue_board.reports.staffing_sim import DayInputs, DaySimulation


def _sig3(value: float, expected: float) -> None:
    """Equal to 3 significant digits."""
    assert value == pytest.approx(expected, rel=5e-3, abs=0.0), (value, expected)


# --------------------------------------------------------------------------- Erlang C: published values


def test_erlang_c_against_the_call_centre_helper_worked_example() -> None:
    # Call Centre Helper, "Erlang C Formula – Made Simple With an Easy Worked Example"
    # (https://www.callcentrehelper.com/erlang-c-formula-example-121281.htm): 100 calls in 30
    # minutes, 180 s handling time (10 erlangs), 14 agents, 20 s target: probability of waiting
    # 17.4 %, service level 88.8 %, average speed of answer 7.8 s; 11 agents: 68.2 % wait.
    q = ErlangC(arrival_rate=100 / 1800, mean_service=180, servers=14)
    _sig3(q.load, 10.0)
    _sig3(q.p_wait(), 0.1741)
    _sig3(1.0 - q.p_wait_exceeds(20), 0.888)
    _sig3(q.mean_wait(), 7.84)
    _sig3(erlang_c(11, 10.0), 0.682)


def test_erlang_c_against_a_textbook_exercise() -> None:
    # the textbook exercise quoted in "Queuing Theory: … probability of a customer joining a
    # queue via Erlang C curve" (Nemotron-CC-Math copy of a Math StackExchange question): 120
    # customers an hour, 3 minutes each, 10 assistants (6 erlangs): "from the Erlang C curve,
    # the probability of waiting is about 0.10" (read off a curve: one significant digit)
    assert erlang_c(10, 6.0) == pytest.approx(0.10, abs=0.005)


def test_erlang_b_against_the_classic_table() -> None:
    # Erlang B table (e.g. ITU-T E.800 handbook "Teletraffic Engineering", Iversen, Table of
    # Erlang's B-formula): 10 erlangs on 10 trunks block 21.5 %; 1 erlang on 1 trunk 50 %
    _sig3(erlang_b(10, 10.0), 0.215)
    assert erlang_b(1, 1.0) == pytest.approx(0.5)
    assert erlang_b(0, 3.0) == 1.0


@pytest.mark.parametrize(
    ("transactions", "aht_min", "interval_min", "agents", "asa_min"),
    [(100, 3, 30, 14, 20 / 60), (100, 3, 30, 11, 1.0), (360, 4, 30, 55, 0.25), (30, 5, 60, 4, 2.0), (950, 5, 60, 90, 0.5)],
)
def test_erlang_c_against_pyworkforce(transactions: float, aht_min: float, interval_min: int, agents: int, asa_min: float) -> None:
    # pyworkforce 0.5 (https://github.com/rodrigo-arenas/pyworkforce), queuing.ErlangC: its
    # own implementation of P(wait) and the service level P(W <= asa), in minutes
    pyworkforce = pytest.importorskip("pyworkforce.queuing")
    theirs = pyworkforce.ErlangC(transactions=transactions, aht=aht_min, asa=asa_min, interval=interval_min)
    ours = ErlangC(arrival_rate=transactions / (interval_min * 60), mean_service=aht_min * 60, servers=agents)
    _sig3(ours.p_wait(), theirs.waiting_probability(agents))
    _sig3(1.0 - ours.p_wait_exceeds(asa_min * 60), theirs.service_level(agents))


def test_erlang_c_is_stable_for_a_hundred_counters() -> None:
    # a^c / c! overflows a float from c ≈ 170; the recursion does not, and matches the ratio of
    # sums computed in logs
    c, load = 100, 95.0
    logs = np.array([k * math.log(load) - math.lgamma(k + 1) for k in range(c)])
    top = c * math.log(load) - math.lgamma(c + 1) + math.log(c / (c - load))
    reference = 1.0 / (1.0 + np.exp(np.logaddexp.reduce(logs) - top))
    _sig3(erlang_c(c, load), float(reference))
    assert 0.0 < erlang_c(300, 290.0) < 1.0


def test_erlang_c_quantile_is_the_inverse_of_the_tail() -> None:
    q = ErlangC(arrival_rate=1 / 600, mean_service=300, servers=1)
    # M/M/1 at ρ = 0.5: C = 0.5, P(W > t) = 0.5·e^{−t/600}, so p90 = 600·ln 5
    _sig3(q.p_wait(), 0.5)
    _sig3(q.wait_quantile(0.9), 600 * math.log(5))
    assert q.p_wait_exceeds(q.wait_quantile(0.9)) == pytest.approx(0.1)
    assert q.wait_quantile(0.4) == 0.0  # half wait not at all: the 40th percentile is 0
    assert ErlangC(arrival_rate=1 / 100, mean_service=300, servers=2).wait_quantile() == math.inf


# --------------------------------------------------------------------------- Erlang A: independent derivation


def _mandelbaum_zeltyn(lam: float, mean_service: float, c: int, mean_patience: float) -> dict[str, object]:
    """M/M/n+M by the other route: the offered-wait density of Mandelbaum & Zeltyn (2004) for
    M/M/n+G, v(x) = λ·π_{n−1}·exp(λ·H(x) − nμx) with H(x) = ∫₀ˣ P(τ > u) du = (1 − e^{−θx})/θ,
    π_j ∝ a^j/j! below n, integrated numerically on a fine grid (no birth–death chain)."""
    mu, theta = 1 / mean_service, 1 / mean_patience
    a = lam * mean_service  # offered load λ/μ
    x = np.linspace(0.0, 200 * max(mean_service, mean_patience) / c + 20 * mean_service, 400_001)
    exponent = lam * (-np.expm1(-theta * x)) / theta - c * mu * x
    v_shape = np.exp(exponent)  # v(x) / (λ π_{n−1})
    weights = np.array([a**j / math.factorial(j) for j in range(c)])
    below = weights.sum() / weights[-1]  # Σ_{j<n} π_j / π_{n−1}
    norm = below + lam * np.trapezoid(v_shape, x)
    v = lam * v_shape / norm
    p_zero = below / norm
    survive = np.exp(-theta * x)
    p_served = p_zero + np.trapezoid(survive * v, x)
    tail = np.trapezoid(v, x) - np.concatenate(([0.0], np.cumsum((v[1:] + v[:-1]) / 2 * np.diff(x))))
    return {
        "p_wait": float(np.trapezoid(v, x)),
        "p_abandon": float(np.trapezoid((1 - survive) * v, x)),
        "mean_wait_served": float(np.trapezoid(x * survive * v, x) / p_served),
        "x": x,
        "tail": tail,
    }


@pytest.mark.parametrize(
    ("per_hour", "mean_service", "servers", "mean_patience"),
    [(20, 300, 2, 600), (40, 180, 2, 900), (30, 300, 3, 1800), (100, 240, 6, 300), (60, 200, 4, 60)],
)
def test_erlang_a_against_the_offered_wait_density(per_hour: float, mean_service: float, servers: int, mean_patience: float) -> None:
    # pyworkforce has no Erlang A; the check is an independent derivation (the density of the
    # offered wait, integrated numerically) against the module's birth–death chain
    lam = per_hour / 3600
    ours = ErlangA(lam, mean_service, servers, mean_patience)
    theirs = _mandelbaum_zeltyn(lam, mean_service, servers, mean_patience)
    _sig3(ours.p_wait(), theirs["p_wait"])  # type: ignore[arg-type]
    _sig3(ours.p_abandon(), theirs["p_abandon"])  # type: ignore[arg-type]
    _sig3(ours.mean_wait_served(), theirs["mean_wait_served"])  # type: ignore[arg-type]
    x, tail = theirs["x"], theirs["tail"]
    assert isinstance(x, np.ndarray) and isinstance(tail, np.ndarray)
    for t in (30.0, 120.0, 600.0):
        expected = float(np.interp(t, x, tail))
        _sig3(ours.p_wait_exceeds(t), expected)
        _sig3(ours.p_wait_exceeds(t, offered=False), expected * math.exp(-t / mean_patience))
    p90 = ours.wait_quantile(0.9)
    if p90 > 0:
        assert float(np.interp(p90, x, tail)) == pytest.approx(0.1, rel=5e-3)


def test_erlang_a_abandonment_by_little_and_by_phases_agree() -> None:
    # θ·E[Q]/λ (rate conservation) against 1 − P(served), P(served) from the phase chain
    q = ErlangA(50 / 3600, 300, 4, 900)
    law = q.pi[q.servers :]
    theta = 1 / q.mean_patience
    rates = q.servers / q.mean_service + np.arange(law.size) * theta
    served = 1 - q.p_wait() + float(np.dot(law, np.cumprod(rates / (rates + theta))))
    _sig3(q.p_abandon(), 1 - served)
    # and the chain solved as a linear system (the generator's null space), not by the recursion
    n = len(q.pi)
    generator = np.zeros((n, n))
    for k in range(n):
        if k + 1 < n:
            generator[k, k + 1] = q.arrival_rate
        if k > 0:
            generator[k, k - 1] = min(k, q.servers) / q.mean_service + max(0, k - q.servers) * theta
        generator[k, k] = -generator[k].sum()
    system = np.vstack([generator.T, np.ones(n)])
    pi = np.linalg.lstsq(system, np.concatenate([np.zeros(n), [1.0]]), rcond=None)[0]
    _sig3(q.p_wait(), float(pi[q.servers :].sum()))


def test_erlang_a_tends_to_erlang_c_as_patience_grows() -> None:
    lam, mean_service, servers = 100 / 1800, 180, 14
    c = ErlangC(lam, mean_service, servers)
    a = ErlangA(lam, mean_service, servers, mean_patience=1e8)
    _sig3(a.p_wait(), c.p_wait())
    _sig3(a.mean_wait(), c.mean_wait())
    _sig3(a.wait_quantile(0.9), c.wait_quantile(0.9))
    _sig3(a.p_wait_exceeds(30), c.p_wait_exceeds(30))
    assert a.p_abandon() < 1e-4
    # and monotonically: less patience, fewer wait and less long
    waits = [ErlangA(lam, mean_service, servers, p).wait_quantile(0.9) for p in (60, 300, 1800, 1e5)]
    assert waits == sorted(waits)


def test_erlang_a_copes_with_an_overloaded_branch() -> None:
    # more work than counters: Erlang C has no steady state, Erlang A does (people leave)
    q = ErlangA(60 / 3600, 300, 4, 1200)
    assert q.load > q.servers
    assert 0.2 < q.p_abandon() < 1
    assert math.isfinite(q.wait_quantile(0.9))
    assert ErlangC(60 / 3600, 300, 4).wait_quantile(0.9) == math.inf


@pytest.mark.parametrize("patience", [None, 600.0, 3600.0])
def test_more_counters_never_increase_the_wait(patience: float | None) -> None:
    for per_hour, mean_service in ((30, 300), (80, 180), (12, 1200)):
        p90s = [p90_wait(per_hour, mean_service, c, patience) for c in range(1, 20)]
        assert all(later <= earlier for earlier, later in itertools.pairwise(p90s))
        if patience is None:
            means = [ErlangC(per_hour / 3600, mean_service, c).mean_wait() for c in range(1, 20)]
        else:
            means = [ErlangA(per_hour / 3600, mean_service, c, patience).mean_wait() for c in range(1, 20)]
        assert all(later <= earlier for earlier, later in itertools.pairwise(means))


# --------------------------------------------------------------------------- counters needed


def test_counters_needed_on_known_cases() -> None:
    # M/M/1 at ρ = 0.5 with 300 s service: p90 = 600·ln 5 = 965.7 s
    assert counters_needed(6, 300, 966) == 1
    assert counters_needed(6, 300, 965) == 2
    # Call Centre Helper's example: 14 agents answer 88.8 % within 20 s (P(W > 20) = 11.2 %,
    # the p90 is above 20 s), 15 agents are the first to answer 90 % within 20 s
    assert counters_needed(200, 180, 20) == 15
    assert ErlangC(200 / 3600, 180, 15).p_wait_exceeds(20) <= 0.1
    # no arrivals, no counter; a target nobody can meet within the limit raises
    assert counters_needed(0, 300, 60) == 0
    with pytest.raises(ValueError):
        counters_needed(500, 600, 0, max_counters=5)
    # patience only helps (the offered wait is shorter when people ahead leave)
    assert counters_needed(100, 300, 300, patience_s=600) <= counters_needed(100, 300, 300)


def test_counters_needed_agrees_with_pyworkforce_required_positions() -> None:
    # pyworkforce sizes for a service level: P(W <= asa) >= 90 % is "p90 <= asa"
    pyworkforce = pytest.importorskip("pyworkforce.queuing")
    for transactions, aht, asa in ((100, 3, 20 / 60), (300, 4, 2.0), (40, 6, 5.0)):
        theirs = pyworkforce.ErlangC(transactions=transactions, aht=aht, asa=asa, interval=60)
        positions = theirs.required_positions(service_level=0.9)["raw_positions"]
        assert counters_needed(transactions, aht * 60, asa * 60) == positions


# --------------------------------------------------------------------------- hourly advice


def test_hourly_advice_pools_and_splits_and_says_what_to_change() -> None:
    rates = {9: {"deposit": 14.0, "loan": 1.5}, 10: {"deposit": 30.0, "loan": 2.0}, 11: {"deposit": 32.0, "loan": 2.0}, 12: {"deposit": 10.0, "loan": 1.0}}
    durations = {"deposit": 180.0, "loan": 1200.0}
    advice = hourly_advice(rates, durations, target_p90_s=600, planned={9: 2, 10: 2, 11: 2, 12: 2})
    by_hour = {h.hour: h for h in advice.hours}
    ten = by_hour[10]
    assert ten.arrivals_per_hour == 32.0
    _sig3(ten.mean_service_s, (30 * 180 + 2 * 1200) / 32)
    assert ten.counters == counters_needed(32.0, ten.mean_service_s, 600)
    assert ten.p90_s <= 600 < (ten.planned_p90_s or 0)
    assert sum(ten.by_service.values()) == ten.counters and ten.by_service["loan"] >= 1
    # pooling never needs more counters than dedicated queues
    assert all(h.counters <= sum(h.dedicated.values()) for h in advice.hours)
    assert advice.counter_hours() == sum(h.counters for h in advice.hours)
    # the words-ready change: open one more counter for deposits from 10:00 to 12:00
    opens = [c for c in advice.changes if c.action == "open"]
    assert len(opens) == 1
    change = opens[0]
    assert (change.count, change.service, change.from_hour, change.to_hour) == (1, "deposit", 10, 12)
    assert change.p90_before_s > 600 >= change.p90_after_s
    assert all(c.action == "close" for c in advice.changes if c is not change)


def test_split_counters_by_load_gives_every_service_a_counter_when_it_can() -> None:
    assert split_counters(3, {"deposit": 2.0, "remittance": 0.6, "loan": 0.4}) == {"deposit": 1, "remittance": 1, "loan": 1}
    assert split_counters(5, {"deposit": 3.0, "loan": 1.0}) == {"deposit": 4, "loan": 1}
    assert split_counters(1, {"deposit": 3.0, "loan": 1.0}) == {"deposit": 1, "loan": 0}
    assert split_counters(0, {"deposit": 3.0}) == {"deposit": 0}


# --------------------------------------------------------------------------- learning from the log

TZ = timezone(timedelta(hours=8))


def _scripted_days() -> Projection:
    """Three Mondays (2, 9, 16 March 2026) and one Tuesday (3 March), +08:00.

    Mondays: 09:xx deposits 2, 4, 6 (mean 4 an hour), one loan at 10:xx on the first Monday
    only (mean 1/3); the Tuesday: 10 deposits at 09:xx. Each day two deposits at 11:xx are
    called and served (60 s from call to finish each; the second, already waiting, is called
    30 s after the first finished: the wrap-up), and the last deposit of 09:xx cancels after
    10 minutes' wait.
    """
    projection = Projection(activity=ActivityLog())

    def submit(at: datetime, kind: str, **fields: object) -> None:
        rejection = projection.submit(parse_event({"ts": format_ts(at), "type": kind, **fields}))
        assert rejection is None, rejection

    plan = {2: (2, 1), 9: (4, 0), 16: (6, 0), 3: (10, 0)}
    for day in sorted(plan):
        deposits, loans = plan[day]
        start = datetime(2026, 3, day, 9, 0, tzinfo=TZ)
        submit(start, "counter_opened", counter="1", services=[["deposit", "loan"]])
        for i in range(deposits):
            submit(start + timedelta(minutes=1 + i), "ticket_issued", ticket=f"A{i + 1:03d}", service="deposit")
        submit(start + timedelta(minutes=1 + deposits + 10), "ticket_cancelled", ticket=f"A{deposits:03d}")
        for i in range(loans):
            submit(start + timedelta(hours=1, minutes=5 + i), "ticket_issued", ticket=f"C{i + 1:03d}", service="loan")
        served = start + timedelta(hours=2, minutes=10)
        submit(served, "ticket_issued", ticket="A100", service="deposit")
        submit(served + timedelta(seconds=10), "ticket_issued", ticket="A101", service="deposit")
        submit(served + timedelta(seconds=40), "ticket_called", ticket="A100", counter="1")
        submit(served + timedelta(seconds=60), "service_started", ticket="A100", counter="1")
        submit(served + timedelta(seconds=100), "service_finished", ticket="A100", counter="1")
        submit(served + timedelta(seconds=130), "ticket_called", ticket="A101", counter="1")
        submit(served + timedelta(seconds=150), "service_started", ticket="A101", counter="1")
        submit(served + timedelta(seconds=190), "service_finished", ticket="A101", counter="1")
        submit(served + timedelta(seconds=220), "counter_paused", counter="1", reason="break", minutes=5)
        submit(served + timedelta(seconds=520), "counter_resumed", counter="1")
        submit(start + timedelta(hours=8), "counter_closed", counter="1")
    return projection


def test_arrival_rates_per_weekday_and_hour_with_a_fallback() -> None:
    activity = _scripted_days().activity
    assert activity is not None and len(activity.days) == 4
    rates = learn_arrival_rates(activity.days.values(), min_days=3)
    assert rates.days == {0: 3, 1: 1}
    monday = rates.for_weekday(0)
    assert monday[9]["deposit"] == pytest.approx(4.0)
    assert monday[10]["loan"] == pytest.approx(1 / 3)
    assert monday[10]["deposit"] == 0.0
    assert monday[11]["deposit"] == pytest.approx(2.0)
    # one Tuesday is too few: all four days' mean instead, (2 + 4 + 6 + 10) / 4 deposits at 9
    tuesday = rates.for_weekday(1)
    assert tuesday is rates.overall
    assert tuesday[9]["deposit"] == pytest.approx(5.5)
    assert tuesday[10]["loan"] == pytest.approx(0.25)
    # with a lower bar the Tuesday stands on its own
    assert learn_arrival_rates(activity.days.values(), min_days=1).for_weekday(1)[9]["deposit"] == pytest.approx(10.0)
    # a weekday never recorded falls back too
    assert rates.for_weekday(4) is rates.overall


def test_handling_times_and_patience_from_the_log() -> None:
    activity = _scripted_days().activity
    assert activity is not None
    # call → finish 60 s, plus the 30 s wrap-up between the two calls (not the 30 s before the
    # pause: nobody was waiting then)
    assert learn_handling_times(activity.days.values()) == {"deposit": pytest.approx(90.0)}
    patience = learn_patience(activity.days.values())
    assert patience is not None
    # 4 cancellations; everyone else waited until the day's last event (censored) or was called
    assert patience > 600


def test_pause_share_and_handling_samples_from_the_log() -> None:
    activity = _scripted_days().activity
    assert activity is not None
    shares = learn_pause_share(activity.days.values())
    # open 09:00–17:00 every day; the 5-minute break at 11:13:40 is the only pause
    assert sorted(shares) == list(range(9, 17))
    assert shares[11] == pytest.approx(300 / 3600)
    assert all(shares[h] == 0.0 for h in shares if h != 11)
    samples = learn_handling_samples(activity.days.values())
    assert set(samples) == {"deposit"} and samples["deposit"].tolist() == pytest.approx([90.0] * 8)
    learned = learn_inputs(activity.days.values())
    assert learned.pause_share == shares and learned.durations == {"deposit": pytest.approx(90.0)}
    assert learned.handling_samples["deposit"].tolist() == samples["deposit"].tolist()


def test_a_segment_across_hours_is_cut_at_the_local_hour_in_a_half_hour_offset() -> None:
    projection = Projection(activity=ActivityLog())
    zone = timezone(timedelta(hours=5, minutes=30))

    def submit(at: datetime, kind: str, **fields: object) -> None:
        assert projection.submit(parse_event({"ts": format_ts(at), "type": kind, **fields})) is None

    start = datetime(2026, 3, 2, 9, 0, tzinfo=zone)
    submit(start, "counter_opened", counter="1", services=[["deposit"]])
    submit(start + timedelta(minutes=45), "counter_paused", counter="1", reason="lunch", minutes=30)
    submit(start + timedelta(minutes=75), "counter_resumed", counter="1")
    submit(start + timedelta(hours=2), "counter_closed", counter="1")
    assert projection.activity is not None
    # 15 of the pause's minutes in 09:xx, 15 in 10:xx, local time
    assert learn_pause_share(projection.activity.days.values()) == {9: pytest.approx(0.25), 10: pytest.approx(0.25)}


# --------------------------------------------------------------------------- pauses and the day simulation


def test_pauses_take_capacity_off_each_counter() -> None:
    rates = {9: {"deposit": 40.0}, 12: {"deposit": 40.0}}
    durations = {"deposit": 240.0}
    advice = hourly_advice(rates, durations, 600, pause_share={12: 0.4})
    nine, noon = advice.hours
    assert nine.paused_share == 0.0 and noon.paused_share == pytest.approx(0.4)
    assert noon.capacity_service_s == pytest.approx(400.0)
    assert nine.counters == counters_needed(40.0, 240.0, 600)
    assert noon.counters == counters_needed(40.0, 400.0, 600) > nine.counters
    # a share past the cap is a data problem, not a reason to staff for ever
    capped = hourly_advice(rates, durations, 600, pause_share={12: 0.99}).hours[1]
    assert capped.paused_share == pytest.approx(0.5)


def _exponential_day(servers_rate: float, mean: float, hours: range, **extra: object) -> DayInputs:
    rng = np.random.default_rng(7)
    return DayInputs(rates={h: {"g": servers_rate} for h in hours}, handling={"g": rng.exponential(mean, 40_000)}, **extra)  # type: ignore[arg-type]


def test_the_day_simulation_agrees_with_erlang_c_in_steady_hours() -> None:
    # M/M/3 at 75 %: 27 an hour, 5 minutes each; the middle hours of a long day are steady
    simulation = DaySimulation(_exponential_day(27.0, 300.0, range(0, 23)), days=200, seed=3)
    waits = simulation.offered_waits({h: 3 for h in range(23)})
    steady = waits[(simulation.slot_of >= 3) & (simulation.slot_of <= 20)]
    queue = ErlangC(27 / 3600, 300.0, 3)
    assert float(np.mean(steady > 0)) == pytest.approx(queue.p_wait(), abs=0.03)
    assert float(np.mean(steady)) == pytest.approx(queue.mean_wait(), rel=0.15)
    assert float(np.quantile(steady, 0.9)) == pytest.approx(queue.wait_quantile(0.9), rel=0.15)
    # the batched run is the same run
    again = simulation.offered_waits_many([{h: 2 for h in range(23)}, {h: 3 for h in range(23)}])[1]
    assert np.array_equal(np.nan_to_num(again), np.nan_to_num(waits))


@pytest.mark.parametrize("servers", [1, 2])
def test_customers_who_cannot_wait_make_it_erlang_b(servers: int) -> None:
    # patience ~0: whoever finds every counter busy leaves at once, so the chance of finding them
    # busy is Erlang B's blocking, whatever the handling times' shape (Erlang's insensitivity)
    rng = np.random.default_rng(11)
    inputs = DayInputs(rates={h: {"g": 6.0} for h in range(8)}, handling={"g": rng.lognormal(math.log(500), 0.8, 20_000)}, patience_s=1e-6)
    simulation = DaySimulation(inputs, days=400, seed=5)
    waits = simulation.offered_waits({h: servers for h in range(8)})
    load = 6.0 / 3600 * float(np.mean(inputs.handling["g"]))
    found_busy = float(np.mean(waits[(simulation.slot_of >= 2)] > 0))
    assert found_busy == pytest.approx(erlang_b(servers, load), abs=0.025)


def test_a_pause_is_taken_as_its_share_of_the_hour() -> None:
    # one counter, customers rare and instant: one in four arrives while the teller is paused
    inputs = DayInputs(rates={h: {"g": 0.5} for h in range(9, 17)}, handling={"g": np.array([1.0])}, pause_share={h: 0.25 for h in range(9, 17)})
    simulation = DaySimulation(inputs, days=2000, seed=1)
    waits = simulation.offered_waits({h: 1 for h in range(9, 17)})
    valid = waits[np.isfinite(waits)]
    assert float(np.mean(valid > 0)) == pytest.approx(0.25, abs=0.03)
    # a pause lasts its share: a customer who finds it waits half of it on average
    assert float(np.mean(valid[valid > 0])) == pytest.approx(0.25 * 3600 / 2, rel=0.1)


def test_closed_counters_leave_customers_uncalled_and_close_after_their_customer() -> None:
    inputs = DayInputs(rates={9: {"g": 20.0}, 10: {"g": 20.0}}, handling={"g": np.array([600.0])})
    simulation = DaySimulation(inputs, days=20, seed=2)
    nobody = simulation.hourly_p90({9: 0, 10: 0})
    assert all(staffing_sim.p90_on_share(v, 0.8) == math.inf for v in nobody.values())
    # one counter at 09:xx only: the 10:xx customers are never called
    morning = simulation.offered_waits({9: 1, 10: 0})
    assert np.all(morning[simulation.slot_of == 1] == staffing_sim.NEVER)
    # a counter closing at 10:00 still finishes the customer it called before: nobody is called
    # after 10:00 + one handling time
    calls = simulation.arrivals + morning
    finite = calls[np.isfinite(calls) & (morning < staffing_sim.NEVER)]
    assert finite.max() <= HOUR + 600.0 + 1e-6


HOUR = 3600.0


def _refine_inputs() -> tuple[dict[int, dict[str, float]], dict[str, float], DaySimulation]:
    # nearly constant handling times: Erlang's exponential assumption overstates the waits
    rng = np.random.default_rng(4)
    rates = {h: {"deposit": r} for h, r in zip(range(9, 15), (20.0, 40.0, 55.0, 40.0, 25.0, 15.0), strict=True)}
    samples = rng.uniform(270.0, 330.0, 5000)
    simulation = DaySimulation(DayInputs(rates=rates, handling={"deposit": samples}, patience_s=3000.0), days=60, seed=9)
    return rates, {"deposit": float(np.mean(samples))}, simulation


def test_the_refined_advice_meets_the_target_with_no_counter_hour_to_spare() -> None:
    rates, durations, simulation = _refine_inputs()
    erlang = hourly_advice(rates, durations, 300.0, 3000.0, planned={h: 5 for h in rates})
    refined = refine_advice(erlang, simulation, 300.0, rates, durations)
    counters = {h.hour: h.counters for h in refined.hours}
    assert refined.counter_hours() < erlang.counter_hours()
    assert all(h.erlang_counters == e.counters for h, e in zip(refined.hours, erlang.hours, strict=True))
    p90s = simulation.hourly_p90(counters)
    assert all(staffing_sim.hours_meeting(p90s, 300.0, 0.8).values())
    assert all(h.p90_s == pytest.approx(staffing_sim.p90_on_share(p90s[h.hour], 0.8)) and h.p90_s <= 300.0 for h in refined.hours)
    # none of the hours can give up one more counter
    for hour in counters:
        trial = {**counters, hour: counters[hour] - 1}
        assert not all(staffing_sim.hours_meeting(simulation.hourly_p90(trial), 300.0, 0.8).values()), hour
    assert all(sum(h.by_service.values()) == h.counters for h in refined.hours)
    # the plan's p90 and the changes come from the same simulated days
    assert refined.changes and all(c.p90_after_s <= 300.0 for c in refined.changes if c.action == "open")


def test_a_stricter_check_never_advises_fewer_counters() -> None:
    rates, durations, simulation = _refine_inputs()
    erlang = hourly_advice(rates, durations, 300.0, 3000.0)
    lenient = refine_advice(erlang, simulation, 300.0, rates, durations, share=0.5)
    strict = refine_advice(erlang, simulation, 300.0, rates, durations, share=0.95)
    assert strict.counter_hours() > lenient.counter_hours()
    counters = {h.hour: h.counters for h in strict.hours}
    assert all(staffing_sim.hours_meeting(simulation.hourly_p90(counters), 300.0, 0.95).values())


def test_the_refined_advice_adds_where_erlang_falls_short() -> None:
    # Erlang told nothing of a long lunch hour (every counter away 24 minutes of it) falls
    # short there and after (the queue carries over): the simulation adds the counters
    rng = np.random.default_rng(8)
    samples = rng.exponential(240.0, 5000)
    rates = {h: {"deposit": 45.0} for h in range(11, 15)}
    durations = {"deposit": float(np.mean(samples))}
    inputs = DayInputs(rates=rates, handling={"deposit": samples}, pause_share={12: 0.4})
    simulation = DaySimulation(inputs, days=60, seed=9)
    erlang = hourly_advice(rates, durations, 300.0)
    erlang_met = staffing_sim.hours_meeting(simulation.hourly_p90({h.hour: h.counters for h in erlang.hours}), 300.0, 0.8)
    assert not erlang_met[12]
    refined = refine_advice(erlang, simulation, 300.0, rates, durations)
    by_hour = {h.hour: h for h in refined.hours}
    assert by_hour[12].counters > by_hour[12].erlang_counters  # type: ignore[operator]
    assert all(staffing_sim.hours_meeting(simulation.hourly_p90({h.hour: h.counters for h in refined.hours}), 300.0, 0.8).values())
    # told of the pauses, Erlang itself asks for more at noon
    told = hourly_advice(rates, durations, 300.0, pause_share={12: 0.4})
    assert told.hours[1].counters > erlang.hours[1].counters


def test_plan_day_refines_unless_told_not_to() -> None:
    activity = _scripted_days().activity
    assert activity is not None
    learned = learn_inputs(activity.days.values())
    plain = plan_day(learned, 0, 600.0, refine=False)
    refined = plan_day(learned, 0, 600.0)
    assert plain is not None and refined is not None
    assert all(h.erlang_counters is None for h in plain.hours)
    assert all(h.erlang_counters is not None for h in refined.hours)
    # the same inputs give the same advice (the simulated days are seeded)
    assert plan_day(learned, 0, 600.0) == refined


# --------------------------------------------------------------------------- tiers in the day simulation


def _two_services(rates: tuple[float, float], mean: float, hours: range, **extra: object) -> DayInputs:
    # both services with the same exponential handling times: only the call rule tells them apart
    rng = np.random.default_rng(12)
    samples = rng.exponential(mean, 40_000)
    return DayInputs(rates={h: {"a": rates[0], "b": rates[1]} for h in hours}, handling={"a": samples, "b": samples}, **extra)  # type: ignore[arg-type]


def _everywhere(profile: tuple[tuple[str, ...], ...], counters: int, hours: range) -> list[dict[int, tuple[tuple[str, ...], ...]]]:
    return [dict.fromkeys(hours, profile) for _ in range(counters)]


def test_tiers_give_the_first_service_priority_as_cobham_says() -> None:
    # M/M/2, 5 minutes each, 12 "a" and 8 "b" an hour (83 % busy); both counters take "a" first.
    # Non-preemptive priority with equal service rates (Cobham 1954): the mean wait of class k is
    # P(wait) / (c·μ·(1 − σ_{k−1})(1 − σ_k)), σ_k the load of the classes up to k per counter.
    # One pooled queue gives both the same wait, between the two.
    hours = range(0, 23)
    simulation = DaySimulation(_two_services((12.0, 8.0), 300.0, hours), days=200, seed=21)
    staffing = dict.fromkeys(hours, 2)
    steady = (simulation.slot_of >= 3) & (simulation.slot_of <= 20)
    a, b = (simulation.service_of == simulation.services.index(code) for code in ("a", "b"))
    tiered = simulation.offered_waits(staffing, _everywhere((("a",), ("b",)), 2, hours))
    pooled = simulation.offered_waits(staffing)
    mu, load = 1 / 300.0, 20 * 300.0 / 3600
    p_wait = erlang_c(2, load)
    sigma_a, sigma = 12 * 300.0 / 3600 / 2, load / 2
    assert float(np.mean(tiered[steady & a])) == pytest.approx(p_wait / (2 * mu * (1 - sigma_a)), rel=0.15)
    assert float(np.mean(tiered[steady & b])) == pytest.approx(p_wait / (2 * mu * (1 - sigma_a) * (1 - sigma)), rel=0.15)
    fifo = p_wait / (2 * mu * (1 - sigma))
    assert float(np.mean(pooled[steady & a])) == pytest.approx(fifo, rel=0.15)
    assert float(np.mean(pooled[steady & b])) == pytest.approx(fifo, rel=0.15)
    # the pooled queue underestimates the second tier's p90
    assert float(np.quantile(tiered[steady & b], 0.9)) > 1.3 * float(np.quantile(pooled[steady & b], 0.9))


def test_a_counter_never_calls_a_lower_tier_while_its_first_tier_waits() -> None:
    hours = range(9, 13)
    simulation = DaySimulation(_two_services((14.0, 10.0), 300.0, hours, patience_s=900.0), days=30, seed=5)
    waits = simulation.offered_waits(dict.fromkeys(hours, 2), _everywhere((("a",), ("b",)), 2, hours))
    a_code, b_code = simulation.services.index("a"), simulation.services.index("b")
    checked = 0
    for day in range(simulation.days):
        called = simulation.arrivals[day] + waits[day]
        kind = simulation.service_of[day]
        # an "a" customer who stayed waits from arrival to call; every "b" call falls outside
        # such a wait (who left went before their call: their "offered" call is not a wait seen)
        stayed_a = (kind == a_code) & (waits[day] <= simulation.patience[day])
        for at in called[(kind == b_code) & (waits[day] <= simulation.patience[day])]:
            assert not np.any((simulation.arrivals[day][stayed_a] < at) & (called[stayed_a] > at))
            checked += 1
    assert checked > 500


def test_dedicated_counters_are_separate_queues_and_a_service_nobody_takes_is_never_called() -> None:
    # one counter only for "a", one only for "b": two M/M/1 queues, however busy the other is
    hours = range(0, 23)
    simulation = DaySimulation(_two_services((9.0, 4.0), 300.0, hours), days=200, seed=8)
    steady = (simulation.slot_of >= 3) & (simulation.slot_of <= 20)
    a, b = (simulation.service_of == simulation.services.index(code) for code in ("a", "b"))
    layout = [dict.fromkeys(hours, (("a",),)), dict.fromkeys(hours, (("b",),))]
    waits = simulation.offered_waits(dict.fromkeys(hours, 2), layout)
    for mask, rate in ((a, 9.0), (b, 4.0)):
        assert float(np.mean(waits[steady & mask])) == pytest.approx(ErlangC(rate / 3600, 300.0, 1).mean_wait(), rel=0.15)
    only_a = simulation.offered_waits(dict.fromkeys(hours, 1), [dict.fromkeys(hours, (("a",),))])
    assert np.all(only_a[b] == staffing_sim.NEVER)
    assert np.all(only_a[a] < staffing_sim.NEVER)


def test_one_tier_of_every_service_is_the_pooled_queue_and_batches_agree() -> None:
    hours = range(9, 14)
    inputs = _two_services((20.0, 10.0), 300.0, hours, patience_s=1200.0, pause_share={11: 0.3})
    simulation = DaySimulation(inputs, days=20, seed=4)
    staffing = {9: 2, 10: 3, 11: 4, 12: 3, 13: 2}
    one_tier = _everywhere((("a", "b"),), 4, hours)
    pooled = simulation.offered_waits(staffing)
    assert np.array_equal(np.nan_to_num(simulation.offered_waits(staffing, one_tier)), np.nan_to_num(pooled))
    tiers = _everywhere((("b",), ("a",)), 4, hours)
    batched = simulation.offered_waits_many([staffing, staffing, staffing], [None, tiers, one_tier])
    assert np.array_equal(np.nan_to_num(batched[0]), np.nan_to_num(pooled))
    assert np.array_equal(np.nan_to_num(batched[1]), np.nan_to_num(simulation.offered_waits(staffing, tiers)))
    with pytest.raises(ValueError, match="one layout per staffing"):
        simulation.offered_waits_many([staffing], [None, None])


def test_leaning_layout_follows_the_split_and_keeps_a_counter_s_profile_while_open() -> None:
    loads = {9: {"a": 2.0, "b": 1.0}, 10: {"a": 1.0, "b": 2.0}, 11: {"a": 1.0, "b": 2.0}}
    layout = leaning_layout(loads)({9: 3, 10: 3, 11: 1})
    # 09:00 splits 2 "a", 1 "b": the lowest counters lead with "a"; they keep it at 10:00
    assert [per[9] for per in layout] == [(("a",), ("b",)), (("a",), ("b",)), (("b",), ("a",))]
    assert all(per[10] == per[9] for per in layout)
    assert [sorted(per) for per in layout] == [[9, 10, 11], [9, 10], [9, 10]]
    # a counter opening in a run of its own leads with that run's first hour's split
    reopened = leaning_layout(loads)({9: 1, 10: 2, 11: 2})
    assert reopened[1] == {10: (("b",), ("a",)), 11: (("b",), ("a",))}
    fixed = fixed_layout([(("a",), ("b",)), (("b",),)])({9: 3, 10: 1})
    assert fixed == [{9: (("a",), ("b",)), 10: (("a",), ("b",))}, {9: (("b",),), 10: (("b",),)}, {9: (("a",), ("b",)), 10: (("a",), ("b",))}]
    with pytest.raises(ValueError):
        fixed_layout([])


def test_the_refined_advice_adds_the_counter_hours_tiers_need() -> None:
    # every counter takes the rare, slow "b" first: the many "a" customers wait behind it, longer
    # than in one pooled queue, so the plan the pooled check trims to misses in these tiers
    rng = np.random.default_rng(6)
    rates = {h: {"a": 40.0, "b": 8.0} for h in range(9, 15)}
    samples = {"a": rng.exponential(240.0, 5000), "b": rng.exponential(600.0, 5000)}
    durations = {code: float(np.mean(v)) for code, v in samples.items()}
    simulation = DaySimulation(DayInputs(rates=rates, handling=samples, patience_s=3000.0), days=60, seed=9)
    erlang = hourly_advice(rates, durations, 300.0, 3000.0)
    rule = fixed_layout([(("b",), ("a",))])
    pooled = refine_advice(erlang, simulation, 300.0, rates, durations)
    tiered = refine_advice(erlang, simulation, 300.0, rates, durations, layout=rule)
    assert tiered.counter_hours() > pooled.counter_hours()
    pooled_counters = {h.hour: h.counters for h in pooled.hours}
    tiered_counters = {h.hour: h.counters for h in tiered.hours}
    assert not all(staffing_sim.hours_meeting(simulation.hourly_p90(pooled_counters, rule(pooled_counters)), 300.0, 0.8).values())
    tiered_p90s = simulation.hourly_p90(tiered_counters, rule(tiered_counters))
    assert all(staffing_sim.hours_meeting(tiered_p90s, 300.0, 0.8).values())
    # the hours' p90s are the tiered simulation's
    assert all(h.p90_s == pytest.approx(staffing_sim.p90_on_share(tiered_p90s[h.hour], 0.8)) for h in tiered.hours)
    # leaning counters are checked in their own tiers too
    loads = {h: {code: rate * durations[code] / 3600 for code, rate in per.items()} for h, per in rates.items()}
    leaning_rule = leaning_layout(loads)
    leaning = {h.hour: h.counters for h in refine_advice(erlang, simulation, 300.0, rates, durations, layout=leaning_rule).hours}
    assert all(staffing_sim.hours_meeting(simulation.hourly_p90(leaning, leaning_rule(leaning)), 300.0, 0.8).values())


def test_plan_day_checks_the_layout_it_is_told() -> None:
    activity = _scripted_days().activity
    assert activity is not None
    learned = learn_inputs(activity.days.values())
    pooled = plan_day(learned, 0, 600.0)
    assert pooled is not None
    assert plan_day(learned, 0, 600.0, layout="pooled") == pooled
    assert plan_day(learned, 0, 600.0, layout="leaning") is not None
    codes = tuple(sorted(learned.durations))
    assert plan_day(learned, 0, 600.0, layout=[(codes,)]) == pooled
    with pytest.raises(ValueError, match="unknown layout"):
        plan_day(learned, 0, 600.0, layout="tiered")
    with pytest.raises(ValueError, match=f"no work profile takes {codes[-1]}"):
        plan_day(learned, 0, 600.0, layout=[(codes[:-1],)])
