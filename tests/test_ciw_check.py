"""The simulator against an outside reference: the same M/M/c queue in ciw, and Erlang C.

Both are run as independent replications of one day (starting empty; arrivals of the first
two hours discarded as warm-up), and compared within a band of their standard errors over
replications: the mean wait, and the share of customers who wait at all (Erlang C's
probability of waiting, which has a much smaller standard error).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import ciw
import numpy as np
import pytest

from queue_board.forecast.durations import time_of_day
from simulations.branch_sim import simulate
from simulations.scenarios import single_service_mm_c

COUNTERS = 3
ARRIVALS_PER_HOUR = 27.0
MEAN_SERVICE = 300.0
#: arrivals in [WARM_UP, DOORS_CLOSE) seconds after midnight are measured
WARM_UP = 2 * 3600.0
DOORS_CLOSE = 23 * 3600.0
DAYS = 40
CIW_REPLICATIONS = 200
#: standard errors allowed: all checks pass together by chance failure with probability < 0.5 %
BAND = 3.5


@dataclass(frozen=True, slots=True)
class Estimate:
    """Mean over replications of a per-replication statistic, with its standard error."""

    mean: float
    se: float

    @classmethod
    def of(cls, values: list[float]) -> Estimate:
        array = np.asarray(values)
        return cls(float(array.mean()), float(array.std(ddof=1) / math.sqrt(len(array))))


def erlang_c(c: int, arrival_rate: float, service_rate: float) -> tuple[float, float]:
    """(probability of waiting, mean wait in seconds) of the M/M/c queue."""
    load = arrival_rate / service_rate
    top = load**c / math.factorial(c) * c / (c - load)
    waiting = top / (sum(load**k / math.factorial(k) for k in range(c)) + top)
    return waiting, waiting / (c * service_rate - arrival_rate)


@pytest.fixture(scope="module")
def ours() -> tuple[Estimate, Estimate]:
    """(mean wait, share who wait) of our simulator, one replication per simulated day."""
    # its doors are open from midnight to 23:00, so the queue drains before the day ends
    scenario = single_service_mm_c(COUNTERS, ARRIVALS_PER_HOUR, MEAN_SERVICE)
    issued: dict[tuple[date, str], float] = {}
    waits: dict[date, list[float]] = {}
    for event in simulate(scenario, DAYS, date(2026, 3, 2), seed=5):
        key = (event.day, event.ticket or "")
        if event.type == "ticket_issued" and time_of_day(event) >= WARM_UP:
            issued[key] = event.at
        elif event.type == "ticket_called" and key in issued:
            waits.setdefault(event.day, []).append(event.at - issued.pop(key))
    assert not issued, "every measured customer is called the same day"
    assert len(waits) == DAYS
    return _estimates(list(waits.values()))


@pytest.fixture(scope="module")
def reference() -> tuple[Estimate, Estimate]:
    """(mean wait, share who wait) of the same queue in ciw."""
    days: list[list[float]] = []
    for replication in range(CIW_REPLICATIONS):
        network = ciw.create_network(
            arrival_distributions=[ciw.dists.Exponential(rate=ARRIVALS_PER_HOUR / 3600.0)],
            service_distributions=[ciw.dists.Exponential(rate=1.0 / MEAN_SERVICE)],
            number_of_servers=[COUNTERS],
        )
        ciw.seed(replication)
        simulation = ciw.Simulation(network)
        # an hour past the last measured arrival: ciw records only customers who have left
        simulation.simulate_until_max_time(DOORS_CLOSE + 3600.0)
        records = simulation.get_all_records()
        days.append([r.waiting_time for r in records if WARM_UP <= r.arrival_date < DOORS_CLOSE])
    return _estimates(days)


def _estimates(days: list[list[float]]) -> tuple[Estimate, Estimate]:
    return Estimate.of([float(np.mean(d)) for d in days]), Estimate.of([float(np.mean(np.array(d) > 0)) for d in days])


def _agree(a: Estimate, b: Estimate) -> bool:
    return abs(a.mean - b.mean) < BAND * math.hypot(a.se, b.se)


EXACT_WAITING, EXACT_WAIT = erlang_c(COUNTERS, ARRIVALS_PER_HOUR / 3600.0, 1.0 / MEAN_SERVICE)
EXACT = (Estimate(EXACT_WAIT, 0.0), Estimate(EXACT_WAITING, 0.0))


@pytest.mark.parametrize("statistic", [0, 1], ids=["mean-wait", "share-waiting"])
def test_our_simulator_matches_erlang_c(ours: tuple[Estimate, Estimate], statistic: int) -> None:
    assert _agree(ours[statistic], EXACT[statistic]), (ours[statistic], EXACT[statistic])


@pytest.mark.parametrize("statistic", [0, 1], ids=["mean-wait", "share-waiting"])
def test_ciw_matches_erlang_c(reference: tuple[Estimate, Estimate], statistic: int) -> None:
    assert _agree(reference[statistic], EXACT[statistic]), (reference[statistic], EXACT[statistic])


@pytest.mark.parametrize("statistic", [0, 1], ids=["mean-wait", "share-waiting"])
def test_our_simulator_matches_ciw(
    ours: tuple[Estimate, Estimate], reference: tuple[Estimate, Estimate], statistic: int
) -> None:
    assert _agree(ours[statistic], reference[statistic]), (ours[statistic], reference[statistic])


def test_the_bands_are_narrow_enough_to_catch_a_wrong_queue(ours: tuple[Estimate, Estimate]) -> None:
    """A simulator 25 % off in the mean wait, or 10 % off in the share who wait, fails the checks."""
    (wait, waiting), (exact_wait, exact_waiting) = ours, EXACT
    assert BAND * wait.se < 0.25 * exact_wait.mean
    assert BAND * waiting.se < 0.1 * exact_waiting.mean
