"""The oracle: the engine's forecast run on the simulator's true parameters, from what is observable."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest

from queue_board.core.branch import BranchState, apply
from queue_board.core.events import Event, format_ts, parse_event
from queue_board.evaluation.evaluate import Evaluation, evaluate, simulated_lines
from queue_board.forecast.classic import CLASSIC
from simulations.oracle import Oracle, oracle_for, quantiles, sample_beyond, survival
from simulations.scenarios import LogNormal, Scenario, demo_branch, heavy_tailed, single_service_mm_c

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=8)))


def ev(kind: str, at: float = 0.0, **fields: Any) -> Event:
    """An event ``at`` seconds after 09:00 on Monday 2 March 2026 (+08:00)."""
    return parse_event({"ts": format_ts(T0 + timedelta(seconds=at)), "type": kind, **fields})


def fed(oracle: Oracle, *events: Event) -> BranchState:
    """The state after ``events``, which ``oracle`` has observed as ``evaluate`` feeds it."""
    state = BranchState()
    for event in events:
        oracle.observe(state, event)
        apply(state, event)
    return state


@pytest.fixture(scope="module")
def demo_evaluation() -> Evaluation:
    """Two simulated days of the demo branch, scored with the oracle beside the others."""
    return evaluate(simulated_lines("demo", 2, 3), extra={"oracle": oracle_for("demo")}, name="demo")


def test_oracle_waits_beat_every_classic_predictor_on_a_simulated_demo_branch(demo_evaluation: Evaluation) -> None:
    oracle = demo_evaluation.score("oracle")
    assert oracle.n > 300
    for name in CLASSIC:
        classic = demo_evaluation.score(name)
        assert classic.n == oracle.n
        assert oracle.mae < classic.mae, name
        assert oracle.pinball < classic.pinball, name
    # few broken promises (about one in ten; loosely: ~100 tails of correlated waits, 3-13 % over seeds)
    assert oracle.above_p90 <= 0.2


def erlang_quantile(k: int, rate: float, p: float) -> float:
    """The ``p`` quantile of the sum of ``k`` exponentials of ``rate``, by bisection on its CDF."""

    def cdf(t: float) -> float:
        x = rate * t
        return 1.0 - math.exp(-x) * sum(x**i / math.factorial(i) for i in range(k))

    low, high = 0.0, 100.0 * k / rate
    for _ in range(100):
        middle = (low + high) / 2
        low, high = (middle, high) if cdf(middle) < p else (low, middle)
    return high


@pytest.mark.parametrize("waiting", [0, 2, 6])
def test_mmc_wait_behind_n_with_every_counter_busy_is_n_plus_one_service_completions(waiting: int) -> None:
    """With c busy counters and exponential service, the next n + 1 completions are 1/(cμ) apart on
    average: the wait is Erlang(n + 1, cμ), whose mean is (n + 1)/(cμ) (what QL predicts)."""
    c, mean_service, draws = 3, 300.0, 4000
    oracle = Oracle(single_service_mm_c(c, 27.0, mean_service), scenarios=draws, seed=11)
    events = [ev("counter_opened", 0, counter=str(i + 1), services=[["general"]]) for i in range(c)]
    for i in range(c):
        # served for different lengths already: exponential service forgets them
        label = f"A{i + 1:03}"
        events += [
            ev("ticket_issued", 10 + i, ticket=label, service="general"),
            ev("ticket_called", 10 + i, ticket=label, counter=str(i + 1)),
            ev("service_started", 10 + i, ticket=label, counter=str(i + 1)),
        ]
    for j in range(waiting + 1):
        events.append(ev("ticket_issued", 400 + 20 * j, ticket=f"A{c + j + 1:03}", service="general"))
    state = fed(oracle, *events)
    new = state.tickets[events[-1].ticket or ""]
    predicted = oracle.predict_wait(state, new)

    k, rate = waiting + 1, c / mean_service
    for p, value in zip((0.1, 0.5, 0.9), predicted, strict=True):
        exact = erlang_quantile(k, rate, p)
        # a Monte-Carlo quantile's standard error: sqrt(p(1 − p)/N) / density there
        density = rate**k * exact ** (k - 1) * math.exp(-rate * exact) / math.factorial(k - 1)
        tolerance = 4.0 * math.sqrt(p * (1 - p) / draws) / density
        assert abs(value - exact) < tolerance, (p, value, exact)
    # and the QL number, the exact mean, lies between the median and p90
    assert predicted[1] < k / rate < predicted[2]


def test_oracle_service_percentiles_are_the_true_ones_at_that_counter() -> None:
    scenario = demo_branch()
    oracle = Oracle(scenario)
    rng = np.random.default_rng(5)
    for service in scenario.services:
        for counter in scenario.counters:
            if not any(service.code in tier for tier in counter.services):
                continue
            state = fed(
                oracle,
                ev("counter_opened", 0, counter=counter.name, services=[list(t) for t in counter.services]),
                ev("ticket_issued", 5, ticket="X001", service=service.code),
                ev("ticket_called", 6, ticket="X001", counter=counter.name),
                ev("service_started", 30, ticket="X001", counter=counter.name),
            )
            predicted = oracle.predict_service(state, state.tickets["X001"])
            truth = np.quantile(
                service.duration.sample(rng, 400_000) / counter.speed_for(service.code), [0.1, 0.5, 0.9]
            )
            np.testing.assert_allclose(predicted, truth, rtol=0.02, err_msg=f"{service.code} at {counter.name}")


def test_oracle_service_percentiles_cover_the_simulated_durations(demo_evaluation: Evaluation) -> None:
    score = demo_evaluation.score("oracle", "service")
    assert score.n > 300
    assert abs(score.above_p90 - 0.1) < 0.05
    assert abs(score.below_p10 - 0.1) < 0.05


def test_oracle_is_deterministic_for_a_seed() -> None:
    lines = simulated_lines("demo", 1, 8)[:500]
    scenario = demo_branch()
    extra = {
        "first": lambda: Oracle(scenario, seed=1),
        "again": lambda: Oracle(scenario, seed=1),
        "other": lambda: Oracle(scenario, seed=2),
    }
    raw = evaluate(lines, extra=extra).raw
    first, again, other = (raw[(name, "wait")] for name in extra)
    assert len(first.p50) > 50
    for a, b in ((first.p10, again.p10), (first.p50, again.p50), (first.p90, again.p90)):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first.p90, other.p90)


def test_oracle_knows_the_counters_that_have_not_opened_yet() -> None:
    """A ticket taken a minute before the branch opens waits for the opening, not for ever."""
    scenario: Scenario = demo_branch()
    oracle = Oracle(scenario, scenarios=512)
    state = fed(oracle, ev("ticket_issued", -60, ticket="A001", service="deposit"))
    p10, p50, p90 = oracle.predict_wait(state, state.tickets["A001"])
    assert 60 <= p10 <= p50 <= p90 < 120


@pytest.mark.parametrize(
    "dist",
    [
        pytest.param(LogNormal(20.0, 0.5), id="lognormal"),
        pytest.param(heavy_tailed(1020.0, 0.35, 0.06, 1800.0, 2.5, 5400.0), id="heavy-tailed-loan"),
    ],
)
@pytest.mark.parametrize("share_left", [1.0, 0.5, 0.05])
def test_draws_given_the_time_already_spent_follow_the_conditional_law(dist: Any, share_left: float) -> None:
    rng = np.random.default_rng(3)
    elapsed = float(quantiles(dist, [1.0 - share_left])[0]) if share_left < 1 else 0.0
    assert float(survival(dist, elapsed)) == pytest.approx(share_left, rel=1e-3)
    reference = dist.sample(rng, 2_000_000)
    reference = reference[reference > elapsed]
    drawn = sample_beyond(dist, elapsed, rng, 100_000)
    assert drawn.min() >= elapsed
    probs = [0.1, 0.5, 0.9]
    np.testing.assert_allclose(np.quantile(drawn, probs), np.quantile(reference, probs), rtol=0.02)
