"""Staffing advice: how many counters each hour needs to keep the p90 wait under a target.

Pure mathematics over learned inputs (arrival rates per weekday × hour and service, mean
handling times, mean patience); no IO. Two queue models, both with Poisson arrivals and
exponential handling times:

- **Erlang C** (M/M/c, nobody leaves): closed forms, the fast path;
- **Erlang A** (M/M/c+M, each customer leaves after an exponential patience of mean 1/θ):
  the birth–death chain of Garnett, Mandelbaum & Reiman, "Designing a call center with
  impatient customers", *M&SOM* 4(3), 2002, §2, truncated where its tail is negligible; the
  offered-wait distribution as in Mandelbaum & Zeltyn, "The M/M/n+G queue: summary of
  performance measures" (Technion note, 2004) specialised to exponential patience.

Units: rates per second, times in seconds, unless a name says ``per_hour``.

The *offered wait* V is how long a customer would wait for a counter if they never gave up;
the *actual wait* is min(V, patience). Advice is made on the offered wait's p90: it is what a
customer who stays experiences, and a plan that counts on people leaving to keep the queue
short is not a plan a branch manager wants (see :func:`counters_needed`).

The learned share of open time counters spend paused (lunch, authorisations) is taken off each
counter's capacity (:func:`learn_pause_share`, :attr:`HourAdvice.capacity_service_s`), and a day
plan is then checked on simulated days (:mod:`queue_board.reports.staffing_sim`,
:func:`refine_advice`): Erlang's count is where the search starts, and the simulation decides the
fewest counter-hours that keep each hour's p90 within the target.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from queue_board.core.activity import OPEN_ACTIVITIES, WRAP_UP_LIMIT_SECONDS, Activity, DayActivity, Transaction
from queue_board.reports import staffing_sim
from queue_board.reports.staffing_sim import DayInputs, DaySimulation, Layout, Profile

FloatArray = npt.NDArray[np.float64]

#: the p90 the advice is about (the top of the ranges the boards show)
P90 = 0.9
#: the birth–death chain is cut once a state's probability falls this far below the largest
TRUNCATION = 1e-15
#: never more states in the chain than this (an overloaded queue with nearly infinite patience)
MAX_STATES = 200_000
#: the advice never goes above this many counters (the search stops there)
DEFAULT_MAX_COUNTERS = 100
#: a weekday with fewer recorded days than this borrows the mean of all days
MIN_WEEKDAY_DAYS = 3
#: the day simulation draws from at most this many of each service's latest handling times
MAX_HANDLING_SAMPLES = 5000
#: a learned pause share is capped here (a counter open but paused most of an hour is a data problem)
MAX_PAUSE_SHARE = staffing_sim.MAX_PAUSE_SHARE
#: the simulated check keeps an hour's p90 offered wait within the target on this share of days
SIMULATED_SHARE = 0.8
#: the simulated check's counters take every service in one tier (one queue, as Erlang counts)
POOLED = "pooled"
#: each counter takes the service the advice's split gives it first, every other one after
LEANING = "leaning"

#: which services the stacked counters of a staffing (local hour → counters) take, for the
#: simulated check (:data:`staffing_sim.Layout`)
LayoutRule = Callable[[Mapping[int, int]], Layout]


# --------------------------------------------------------------------------- Erlang B / C


def erlang_b(c: int, load: float) -> float:
    """Erlang B blocking probability for ``c`` servers and offered ``load`` = λ/μ erlangs.

    The recursion B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1)) never forms a^c or c!, so it is
    stable for hundreds of servers where the textbook ratio of sums overflows.
    """
    if c < 0 or load < 0:
        raise ValueError("erlang_b needs c >= 0 and load >= 0")
    b = 1.0
    for k in range(1, c + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(c: int, load: float) -> float:
    """Erlang C: the probability that an arrival waits, M/M/c with ``load`` = λ/μ erlangs.

    C = c·B / (c − a·(1 − B)) from Erlang B (same stability); 1 when the load reaches ``c``
    (the queue grows without bound, everyone waits).
    """
    if c < 1:
        raise ValueError("erlang_c needs at least one server")
    if load <= 0:
        return 0.0
    if load >= c:
        return 1.0
    b = erlang_b(c, load)
    return c * b / (c - load * (1.0 - b))


@dataclass(frozen=True, slots=True)
class ErlangC:
    """An M/M/c queue: ``arrival_rate`` λ per second, ``mean_service`` 1/μ seconds, ``servers`` c."""

    arrival_rate: float
    mean_service: float
    servers: int

    def __post_init__(self) -> None:
        if self.arrival_rate < 0 or self.mean_service <= 0 or self.servers < 1:
            raise ValueError("ErlangC needs λ >= 0, a positive mean service and at least one server")

    @property
    def load(self) -> float:
        """Offered load a = λ/μ in erlangs (the mean number of busy counters if stable)."""
        return self.arrival_rate * self.mean_service

    @property
    def stable(self) -> bool:
        """Whether the queue has a steady state (a < c)."""
        return self.load < self.servers

    def p_wait(self) -> float:
        """P(wait > 0) for an arrival (Erlang C)."""
        return erlang_c(self.servers, self.load)

    def _drain_rate(self) -> float:
        # cμ − λ: the rate at which a waiting customer's remaining wait runs out (the wait
        # given that one waits is exponential with this rate in M/M/c FCFS)
        return self.servers / self.mean_service - self.arrival_rate

    def mean_wait(self) -> float:
        """Mean wait in queue E[W] = C / (cμ − λ), seconds (∞ if unstable)."""
        if not self.stable:
            return math.inf
        return self.p_wait() / self._drain_rate()

    def p_wait_exceeds(self, t: float) -> float:
        """P(W > t) = C·e^{−(cμ−λ)t} (1 for an unstable queue)."""
        if not self.stable:
            return 1.0
        if t < 0:
            return 1.0
        return self.p_wait() * math.exp(-self._drain_rate() * t)

    def wait_quantile(self, q: float = P90) -> float:
        """The ``q``-quantile of the wait, seconds: 0 when P(W > 0) ≤ 1 − q, else
        ln(C / (1 − q)) / (cμ − λ); ∞ if unstable."""
        _check_quantile(q)
        if not self.stable:
            return math.inf
        c = self.p_wait()
        if c <= 1.0 - q:
            return 0.0
        return math.log(c / (1.0 - q)) / self._drain_rate()


# --------------------------------------------------------------------------- Erlang A


@dataclass(frozen=True, slots=True)
class ErlangA:
    """An M/M/c+M queue: as :class:`ErlangC` plus exponential patience of mean ``mean_patience`` s.

    Garnett, Mandelbaum & Reiman (2002), §2: the number in the branch is a birth–death chain
    with birth rate λ and death rate min(n, c)·μ + (n − c)⁺·θ. Its stationary law gives, by
    PASTA (arrivals see time averages): P(W > 0) = Σ_{n≥c} π_n; P(abandon) = θ·E[Q]/λ (the
    rate of abandonments equals θ times the mean queue). The offered wait of an arrival that
    finds q = n − c waiting ahead is a sum of q + 1 exponential phases of rates cμ + jθ,
    j = q … 0 (a server frees or someone ahead leaves; FCFS, so people behind do not matter) —
    the M/M/n+M case of Mandelbaum & Zeltyn (2004). Its tail is computed by uniformising that
    pure-death chain, started from the law of q seen by arrivals who wait.
    """

    arrival_rate: float
    mean_service: float
    servers: int
    mean_patience: float
    #: the stationary law (filled in ``__post_init__``): index n = customers in the branch
    pi: FloatArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.arrival_rate < 0 or self.mean_service <= 0 or self.servers < 1 or self.mean_patience <= 0:
            raise ValueError("ErlangA needs λ >= 0, positive mean service and patience, at least one server")
        object.__setattr__(self, "pi", self._stationary())

    @property
    def load(self) -> float:
        """Offered load a = λ/μ in erlangs."""
        return self.arrival_rate * self.mean_service

    def _stationary(self) -> FloatArray:
        lam, mu, theta, c = self.arrival_rate, 1.0 / self.mean_service, 1.0 / self.mean_patience, self.servers
        if lam == 0:
            return np.array([1.0])
        # log-weights log π_n − log π_0 = Σ_{k≤n} log(λ / death_k), kept in logs so that neither
        # a^n nor n! is formed (c up to hundreds, loads near c)
        logs = [0.0]
        best = 0.0
        n = 0
        while True:
            n += 1
            death = min(n, c) * mu + max(0, n - c) * theta
            logs.append(logs[-1] + math.log(lam / death))
            best = max(best, logs[-1])
            # beyond c the ratio λ/death falls towards 0 (abandonment), so once a state is
            # negligible past c every later one is more so: cut there
            if n > c and death > lam and logs[-1] - best < math.log(TRUNCATION):
                break
            if n >= MAX_STATES:
                raise ValueError("ErlangA: the chain needs more states than MAX_STATES (patience far too long for this load)")
        weights = np.exp(np.array(logs) - best)
        result: FloatArray = weights / weights.sum()
        return result

    def _queue_law(self) -> FloatArray:
        """π_{c+q}, q = 0, 1, …: what an arrival finds waiting ahead, if it must wait."""
        c = self.servers
        tail: FloatArray = self.pi[c:] if len(self.pi) > c else np.zeros(0)
        return tail

    def p_wait(self) -> float:
        """P(wait > 0) = Σ_{n≥c} π_n (GMR 2002, eq. for P{W>0})."""
        return float(self._queue_law().sum())

    def mean_queue(self) -> float:
        """E[Q] = Σ (n − c)⁺ π_n, customers waiting."""
        law = self._queue_law()
        return float(np.dot(np.arange(len(law)), law))

    def p_abandon(self) -> float:
        """P(abandon) = θ·E[Q] / λ: abandonments happen at rate θ per waiting customer."""
        if self.arrival_rate == 0:
            return 0.0
        return self.mean_queue() / self.mean_patience / self.arrival_rate

    def _phase_rates(self, size: int) -> FloatArray:
        # rate of the phase with j customers ahead: a server frees (cμ) or one of them leaves (jθ)
        rates: FloatArray = self.servers / self.mean_service + np.arange(size) / self.mean_patience
        return rates

    def mean_wait(self) -> float:
        """Mean actual wait of all arrivals E[min(V, τ)] = E[Q] / λ (Little), seconds."""
        if self.arrival_rate == 0:
            return 0.0
        return self.mean_queue() / self.arrival_rate

    def mean_wait_served(self) -> float:
        """Mean wait of the customers who are served (zeros of those served at once included).

        With j ahead, a waiting customer's own patience competes with the phase rate r_j: it
        advances with probability r_j / (r_j + θ) after an Exp(r_j + θ) time (the time does
        not depend on which clock rang), so for q ahead P(served | q) = Π_{j≤q} r_j/(r_j+θ)
        and E[wait | served, q] = Σ_{j≤q} 1/(r_j+θ) (Mandelbaum & Zeltyn 2004, exponential case).
        """
        law = self._queue_law()
        if law.size == 0 or law.sum() == 0:
            return 0.0
        theta = 1.0 / self.mean_patience
        rates = self._phase_rates(law.size)
        served = np.cumprod(rates / (rates + theta))
        time = np.cumsum(1.0 / (rates + theta))
        p_immediate = 1.0 - float(law.sum())
        p_served = p_immediate + float(np.dot(law, served))
        return float(np.dot(law, served * time)) / p_served

    def _absorption_curve(self) -> tuple[float, FloatArray]:
        """The uniformised phase chain: its rate Λ and m_k = P(V > 0 and still waiting after k
        jumps), so that P(V > t) = Σ_k Poisson(k; Λt)·m_k for every t at once."""
        law = self._queue_law()
        if law.size == 0:
            return 1.0, np.zeros(0)
        rates = self._phase_rates(law.size)
        uniform = float(rates[-1])
        # state j (customers ahead) moves to j − 1 with probability r_j/Λ, else stays; from j = 0
        # a move means being served. Propagating the arrivals' start law is O(states) per jump.
        move = rates / uniform
        x = law.astype(float).copy()
        masses = [float(x.sum())]
        while masses[-1] > 1e-14 * max(masses[0], 1e-300) and masses[-1] > 1e-300:
            moved = x * move
            x = x - moved
            x[:-1] += moved[1:]
            masses.append(float(x.sum()))
            if len(masses) > 5_000_000:
                break
        return uniform, np.array(masses)

    def p_wait_exceeds(self, t: float, *, offered: bool = True) -> float:
        """P(V > t), the offered wait's tail (``offered=True``), or the actual wait's
        P(min(V, τ) > t) = P(V > t)·e^{−θt} (GMR 2002's P{W > t}; patience is independent of V)."""
        if t <= 0:
            value = self.p_wait()
        else:
            uniform, masses = self._absorption_curve()
            value = _poisson_mix(uniform * t, masses)
        if not offered:
            value *= math.exp(-max(0.0, t) / self.mean_patience)
        return value

    def wait_quantile(self, q: float = P90, *, offered: bool = True) -> float:
        """The ``q``-quantile of the offered (default) or actual wait, seconds (0 if fewer than
        1 − q of arrivals wait), by bisection on the tail (it is decreasing in t)."""
        _check_quantile(q)
        target = 1.0 - q
        if self.p_wait() <= target:
            return 0.0
        uniform, masses = self._absorption_curve()

        def tail(t: float) -> float:
            value = _poisson_mix(uniform * t, masses)
            return value * math.exp(-t / self.mean_patience) if not offered else value

        high = self.mean_service
        while tail(high) > target:
            high *= 2.0
        low = 0.0
        # 60 halvings: far below a second for any wait a branch sees
        for _ in range(60):
            mid = (low + high) / 2.0
            if tail(mid) > target:
                low = mid
            else:
                high = mid
        return (low + high) / 2.0


def _poisson_mix(mean: float, masses: FloatArray) -> float:
    """Σ_k Poisson(k; mean)·m_k, m_k taken as 0 past the end (the chain is absorbed by then)."""
    if masses.size == 0:
        return 0.0
    if mean <= 0:
        return float(masses[0])
    k = np.arange(masses.size, dtype=float)
    # log k! as a running sum of logs: exact enough and vectorised (no scipy in the core)
    log_factorial = np.concatenate(([0.0], np.cumsum(np.log(k[1:]))))
    log_pmf = k * math.log(mean) - mean - log_factorial
    return float(np.dot(np.exp(log_pmf), masses))


def _check_quantile(q: float) -> None:
    if not 0.0 < q < 1.0:
        raise ValueError("a quantile must be strictly between 0 and 1")


# --------------------------------------------------------------------------- how many counters


def p90_wait(arrivals_per_hour: float, mean_service_s: float, counters: int, patience_s: float | None = None) -> float:
    """The p90 offered wait (seconds) with ``counters`` counters: Erlang A when a mean patience
    is given, else Erlang C (∞ for an overloaded Erlang C queue)."""
    rate = arrivals_per_hour / 3600.0
    if patience_s is None:
        return ErlangC(rate, mean_service_s, counters).wait_quantile(P90)
    return ErlangA(rate, mean_service_s, counters, patience_s).wait_quantile(P90)


def counters_needed(
    arrivals_per_hour: float,
    mean_service_s: float,
    target_p90_s: float,
    patience_s: float | None = None,
    max_counters: int = DEFAULT_MAX_COUNTERS,
) -> int:
    """The smallest number of counters whose p90 offered wait is at most ``target_p90_s``.

    Erlang A when ``patience_s`` is given, else Erlang C. No arrivals need no counter (0).
    The offered wait, not the actual one: under Erlang A the actual p90 can look fine only
    because the customers who would have waited longest left. The p90 falls as counters are
    added, so the first c that meets the target is the answer; the search starts at the load
    (below it Erlang C is unstable and the waits are hopeless anyway). Raises ``ValueError`` if
    even ``max_counters`` do not meet the target.
    """
    if arrivals_per_hour < 0 or mean_service_s <= 0 or target_p90_s < 0:
        raise ValueError("counters_needed needs arrivals >= 0, a positive mean service and a target >= 0")
    if arrivals_per_hour == 0:
        return 0
    load = arrivals_per_hour / 3600.0 * mean_service_s
    start = max(1, math.floor(load) if patience_s is not None else math.floor(load) + 1)
    for c in range(start, max_counters + 1):
        if p90_wait(arrivals_per_hour, mean_service_s, c, patience_s) <= target_p90_s:
            return c
    raise ValueError(f"even {max_counters} counters do not keep the p90 wait under {target_p90_s} s")


# --------------------------------------------------------------------------- hourly advice


@dataclass(frozen=True, slots=True)
class HourAdvice:
    """What one hour needs."""

    hour: int
    #: arrivals per hour, all services
    arrivals_per_hour: float
    #: the arrival-weighted mean handling time, seconds
    mean_service_s: float
    #: counters needed, every counter taking every service (pooled)
    counters: int
    #: p90 offered wait with that many counters, seconds
    p90_s: float
    #: how the pooled counters split between services: integer counters by offered load
    by_service: dict[str, int]
    #: the counters each service would need on its own (dedicated counters), for comparison
    dedicated: dict[str, int]
    #: the scheduled counters this hour and their p90 (``None`` when no plan was given)
    planned: int | None = None
    planned_p90_s: float | None = None
    #: the learned share of an open counter's time spent paused this hour (lunch, authorisations)
    paused_share: float = 0.0
    #: what Erlang alone advised, when the day simulation changed it (:func:`refine_advice`)
    erlang_counters: int | None = None

    @property
    def capacity_service_s(self) -> float:
        """The handling time as a counter's capacity sees it: a counter paused a share p of the
        hour serves only 1 − p of it, as if each customer took 1 / (1 − p) times as long."""
        return self.mean_service_s / (1.0 - self.paused_share)


@dataclass(frozen=True, slots=True)
class Change:
    """A run of hours where the advice differs from the plan, ready to be put into words:
    "open one more counter for deposits from 11:00 to 13:00: p90 wait 32 → 14 min"."""

    #: ``"open"`` (more counters than planned) or ``"close"`` (fewer are enough)
    action: str
    #: how many counters to open or close
    count: int
    #: the service the extra counter should take (or the closed one gave up)
    service: str
    #: local hours: from the start of ``from_hour`` to the start of ``to_hour``
    from_hour: int
    to_hour: int
    #: the worst hour's p90 offered wait in the run, with the plan and with the advice, seconds
    p90_before_s: float
    p90_after_s: float
    #: counters still missing in the run's worst hour once every counter is open (see
    #: :func:`cap_changes`; 0 when the branch has enough)
    short: int = 0


@dataclass(frozen=True, slots=True)
class Advice:
    """Hour by hour advice and the changes to the plan."""

    hours: list[HourAdvice]
    changes: list[Change]

    def counter_hours(self) -> int:
        """Counter-hours the advice uses."""
        return sum(h.counters for h in self.hours)


def split_counters(counters: int, loads: Mapping[str, float]) -> dict[str, int]:
    """Split ``counters`` between services in proportion to their offered loads (λ·E[S]),
    largest remainder first; a service with load gets at least one counter when there are
    enough to go round (every service must be served by someone)."""
    total = sum(v for v in loads.values() if v > 0)
    result = {code: 0 for code in loads}
    if counters <= 0 or total <= 0:
        return result
    active = sorted((code for code, v in loads.items() if v > 0), key=lambda code: (-loads[code], code))
    quotas = {code: counters * loads[code] / total for code in active}
    for code in active:
        result[code] = math.floor(quotas[code])
    if counters >= len(active):
        for code in active:
            if result[code] == 0:
                result[code] = 1
    left = counters - sum(result.values())
    # too many after the minimum of one: take back from the biggest shares over their quota
    while left < 0:
        code = max((c for c in active if result[c] > 1), key=lambda c: result[c] - quotas[c])
        result[code] -= 1
        left += 1
    for code in sorted(active, key=lambda c: (-(quotas[c] - math.floor(quotas[c])), c)):
        if left == 0:
            break
        result[code] += 1
        left -= 1
    return result


def leading_services(counters: Mapping[int, int], loads: Mapping[int, Mapping[str, float]]) -> dict[tuple[int, int], str]:
    """(hour, k) → the service the k-th counter open in that hour takes first: the split of that
    hour's counters by offered load (:func:`split_counters`), the services with the most
    counters on the lowest k (ties: by code); ``""`` where the split has no counter left."""
    lead: dict[tuple[int, int], str] = {}
    for hour, count in counters.items():
        shares = split_counters(count, loads.get(hour, {}))
        levels = [code for code in sorted(shares, key=lambda c: (-shares[c], c)) for _ in range(shares[code])]
        for level in range(1, count + 1):
            lead[(hour, level)] = levels[level - 1] if level <= len(levels) else ""
    return lead


def leaning_layout(loads: Mapping[int, Mapping[str, float]]) -> LayoutRule:
    """The "leaning" counters (``loads``: hour → service → offered load): the k-th counter takes
    the service the split gives it first and every other service in a second tier. A counter
    keeps one profile while it stays open: the first hour of each run of hours it is open
    decides (a teller does not change desks at every hour), as the branch would be told."""
    codes = sorted({code for per in loads.values() for code, load in per.items() if load > 0})

    def layout(counters: Mapping[int, int]) -> Layout:
        lead = leading_services(counters, loads)
        hours = sorted(counters)
        result: list[dict[int, Profile]] = []
        for level in range(1, max(counters.values(), default=0) + 1):
            per_hour: dict[int, Profile] = {}
            profile: Profile | None = None
            previous: int | None = None
            for hour in hours:
                if counters[hour] < level:
                    previous = None
                    continue
                if previous is None or hour != previous + 1:
                    first = lead.get((hour, level), "")
                    profile = ((first,), tuple(c for c in codes if c != first)) if first else (tuple(codes),)
                assert profile is not None
                per_hour[hour] = profile
                previous = hour
            result.append(per_hour)
        return result

    return layout


def fixed_layout(profiles: Sequence[Profile]) -> LayoutRule:
    """Counters with given work profiles (the branch's own): the k-th counter opened has
    ``profiles[k]`` (cycling when more are open than there are profiles) in every hour."""
    if not profiles:
        raise ValueError("a fixed layout needs at least one profile")
    chosen = [tuple(tuple(tier) for tier in profile) for profile in profiles]

    def layout(counters: Mapping[int, int]) -> Layout:
        every_hour = list(counters)
        return [dict.fromkeys(every_hour, chosen[k % len(chosen)]) for k in range(max(counters.values(), default=0))]

    return layout


def hourly_advice(
    rates: Mapping[int, Mapping[str, float]],
    durations: Mapping[str, float],
    target_p90_s: float,
    patience_s: float | None = None,
    *,
    planned: Mapping[int, int] | None = None,
    max_counters: int = DEFAULT_MAX_COUNTERS,
    pause_share: Mapping[int, float] | None = None,
) -> Advice:
    """For each hour of ``rates`` (local hour → service → arrivals per hour), the counters that
    keep the p90 offered wait under ``target_p90_s`` given mean handling times ``durations``
    (service → seconds) and, optionally, mean patience (Erlang A).

    ``pause_share`` (hour → share of open time paused, :func:`learn_pause_share`) takes the
    pauses off each counter's capacity (:attr:`HourAdvice.capacity_service_s`): the counters
    advised are the ones to have open, their tellers' lunches and authorisations included.

    Pooled: the count assumes every open counter takes every service (one queue, a mixed
    handling time with the arrival-weighted mean). A pooled queue needs fewer counters than
    the same services on dedicated counters (Erlang's economy of scale), and the branch's
    call rule lets counters share services; ``dedicated`` shows what separate queues would
    need, ``by_service`` which services the pooled counters should lean to (by offered load).

    With ``planned`` (hour → counters scheduled) the result lists :class:`Change` s: runs of
    consecutive hours with the same difference and the same service to open (or close) for.
    """
    hours: list[HourAdvice] = []
    for hour in sorted(rates):
        by_service = {code: float(rate) for code, rate in rates[hour].items() if rate > 0}
        for code in by_service:
            if code not in durations:
                raise KeyError(f"no mean handling time for service {code!r}")
        total = sum(by_service.values())
        loads = {code: rate * durations[code] / 3600.0 for code, rate in by_service.items()}
        mean_service = sum(rate * durations[code] for code, rate in by_service.items()) / total if total else 0.0
        paused = min(MAX_PAUSE_SHARE, max(0.0, (pause_share or {}).get(hour, 0.0)))
        capacity_service = mean_service / (1.0 - paused)
        if total == 0:
            counters, p90 = 0, 0.0
        else:
            counters = counters_needed(total, capacity_service, target_p90_s, patience_s, max_counters)
            p90 = p90_wait(total, capacity_service, counters, patience_s)
        dedicated = {
            code: counters_needed(rate, durations[code] / (1.0 - paused), target_p90_s, patience_s, max_counters)
            for code, rate in by_service.items()
        }
        plan = planned.get(hour) if planned is not None else None
        plan_p90: float | None = None
        if plan is not None:
            plan_p90 = _p90_or_inf(total, capacity_service, plan, patience_s)
        hours.append(
            HourAdvice(
                hour=hour,
                arrivals_per_hour=total,
                mean_service_s=mean_service,
                counters=counters,
                p90_s=p90,
                by_service=split_counters(counters, loads),
                dedicated=dedicated,
                planned=plan,
                planned_p90_s=plan_p90,
                paused_share=paused,
            )
        )
    changes = _changes(hours, rates, durations) if planned is not None else []
    return Advice(hours=hours, changes=changes)


def _p90_or_inf(arrivals_per_hour: float, mean_service_s: float, counters: int, patience_s: float | None) -> float:
    if arrivals_per_hour == 0:
        return 0.0
    if counters <= 0:
        return math.inf
    return p90_wait(arrivals_per_hour, mean_service_s, counters, patience_s)


def _changes(hours: list[HourAdvice], rates: Mapping[int, Mapping[str, float]], durations: Mapping[str, float]) -> list[Change]:
    """Runs of consecutive hours with the same (action, count, service)."""
    keyed: list[tuple[HourAdvice, tuple[str, int, str] | None]] = []
    for advice in hours:
        assert advice.planned is not None
        diff = advice.counters - advice.planned
        if diff == 0:
            keyed.append((advice, None))
            continue
        loads = {code: rate * durations[code] / 3600.0 for code, rate in rates[advice.hour].items() if rate > 0}
        # an extra counter goes to the service with the most load per counter it has under the
        # plan (the most under-served); a closed one comes from the one with the least under
        # the advice. Proportional rounding alone can hand the extra counter to a small service.
        split = split_counters(advice.planned if diff > 0 else advice.counters, loads)
        pressure = {code: load / split[code] if split.get(code) else math.inf for code, load in loads.items()}
        ordered = sorted(pressure, key=lambda code: (pressure[code], code))
        service = (ordered[-1] if diff > 0 else ordered[0]) if ordered else ""
        keyed.append((advice, ("open" if diff > 0 else "close", abs(diff), service)))
    # group consecutive hours that share a key (an hour without a change breaks a run)
    runs: list[tuple[tuple[str, int, str], list[HourAdvice]]] = []
    for advice, key in keyed:
        if key is None:
            continue
        if runs and runs[-1][0] == key and runs[-1][1][-1].hour + 1 == advice.hour:
            runs[-1][1].append(advice)
        else:
            runs.append((key, [advice]))
    changes = [
        Change(
            action=key[0],
            count=key[1],
            service=key[2],
            from_hour=run[0].hour,
            to_hour=run[-1].hour + 1,
            p90_before_s=max(h.planned_p90_s if h.planned_p90_s is not None else math.inf for h in run),
            p90_after_s=max(h.p90_s for h in run),
        )
        for key, run in runs
    ]
    return changes


# --------------------------------------------------------------------------- learning from the log


@dataclass(frozen=True, slots=True)
class ArrivalRates:
    """Mean arrivals per hour by weekday (0 = Monday), local hour and service."""

    #: weekday → hour → service → arrivals per hour
    by_weekday: dict[int, dict[int, dict[str, float]]]
    #: hour → service → arrivals per hour over all recorded days (the fallback)
    overall: dict[int, dict[str, float]]
    #: recorded days per weekday
    days: dict[int, int]
    min_days: int = MIN_WEEKDAY_DAYS

    def for_weekday(self, weekday: int) -> dict[int, dict[str, float]]:
        """The rates to plan a ``weekday`` with: its own mean when it has at least ``min_days``
        recorded days, else the mean of all days (a single Monday is too noisy to trust)."""
        if self.days.get(weekday, 0) >= self.min_days:
            return self.by_weekday[weekday]
        return self.overall


def learn_arrival_rates(days: Iterable[DayActivity], min_days: int = MIN_WEEKDAY_DAYS) -> ArrivalRates:
    """Learn arrivals per hour from recorded days: tickets counted by the local hour they were
    issued and the service they were issued for (a transfer is extra work, not an arrival),
    then the mean over the recorded days (a day without tickets in some hour counts 0 there,
    so a quiet hour is not mistaken for a busy one seen once)."""
    counts: dict[int, list[dict[int, dict[str, int]]]] = defaultdict(list)
    for day in days:
        per_hour: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for ticket in day.tickets.values():
            per_hour[day.local_hour(ticket.issued_at)][ticket.service] += 1
        counts[day.day.weekday()].append(per_hour)
    by_weekday = {weekday: _mean_counts(days_counts) for weekday, days_counts in counts.items()}
    overall = _mean_counts([c for days_counts in counts.values() for c in days_counts])
    return ArrivalRates(
        by_weekday=by_weekday, overall=overall, days={w: len(c) for w, c in counts.items()}, min_days=min_days
    )


def _mean_counts(days: list[dict[int, dict[str, int]]]) -> dict[int, dict[str, float]]:
    if not days:
        return {}
    hours = sorted({hour for day in days for hour in day})
    services = sorted({code for day in days for per in day.values() for code in per})
    return {
        hour: {code: sum(day.get(hour, {}).get(code, 0) for day in days) / len(days) for code in services}
        for hour in hours
    }


def learn_handling_times(days: Iterable[DayActivity]) -> dict[str, float]:
    """Mean seconds a counter is taken per customer of each service: from the call to the end
    of the transaction (the walk to the window included: the counter is not free meanwhile),
    plus the branch's mean wrap-up. This, not the bare transaction, is the Erlang models'
    "service time".

    The wrap-up is measured only between a finish and the next call at the same counter when
    the called customer was already waiting at the finish (and the gap is under the reports'
    wrap-up limit): the reports' *wrap-up* activity lasts until the next call, so with nobody
    waiting it would count idle minutes as work and overstate the counters needed.
    """
    return {code: float(np.mean(values)) for code, values in learn_handling_samples(days).items()}


def learn_handling_samples(days: Iterable[DayActivity], limit: int = MAX_HANDLING_SAMPLES) -> dict[str, FloatArray]:
    """Every handling time seen per service, seconds (the latest ``limit``): call → end of the
    transaction plus the branch's mean wrap-up, as :func:`learn_handling_times` averages them.
    The day simulation draws from them, so the real shape of the tail is kept."""
    spans, wrap = _handling_spans(days)
    return {code: np.asarray(values[-limit:], dtype=float) + wrap for code, values in spans.items() if values}


def _handling_spans(days: Iterable[DayActivity]) -> tuple[dict[str, list[float]], float]:
    """Call → end of each served transaction per service, in the days' order, and the mean wrap-up."""
    spans: dict[str, list[float]] = defaultdict(list)
    gaps: list[float] = []
    for day in days:
        by_counter: dict[str, list[Transaction]] = defaultdict(list)
        for transaction in day.transactions:
            by_counter[transaction.counter].append(transaction)
            if transaction.outcome in ("finished", "transferred") and transaction.ended_at is not None:
                spans[transaction.service].append(transaction.ended_at - transaction.called_at)
        for calls in by_counter.values():
            calls.sort(key=lambda t: t.called_at)
            for previous, following in itertools.pairwise(calls):
                if previous.ended_at is None or previous.outcome not in ("finished", "transferred"):
                    continue
                record = day.tickets.get(following.ticket)
                gap = following.called_at - previous.ended_at
                if record is not None and record.issued_at <= previous.ended_at and 0 <= gap <= WRAP_UP_LIMIT_SECONDS:
                    gaps.append(gap)
    wrap = sum(gaps) / len(gaps) if gaps else 0.0
    return spans, wrap


def learn_pause_share(days: Iterable[DayActivity]) -> dict[int, float]:
    """Per local hour, the share of the counters' open time they spent paused (lunch,
    authorisations…): paused seconds ÷ open seconds (serving, wrap-up, paused, idle) over all the
    days, each segment cut at the local hours it spans. Hours no counter was open in are left out."""
    paused: dict[int, float] = defaultdict(float)
    opened: dict[int, float] = defaultdict(float)
    for day in days:
        for segment in day.all_segments():
            if segment.activity not in OPEN_ACTIVITIES or segment.end is None:
                continue
            start = segment.start
            while start < segment.end:
                # the end of this local hour (from local time: a +05:30 offset works too)
                hour_end = start + (3600.0 - (start + day.utc_offset) % 3600.0)
                piece = min(segment.end, hour_end) - start
                hour = day.local_hour(start)
                opened[hour] += piece
                if segment.activity is Activity.PAUSED:
                    paused[hour] += piece
                start += piece
    return {hour: paused[hour] / total for hour, total in sorted(opened.items()) if total > 0}


def learn_patience(days: Iterable[DayActivity]) -> float | None:
    """Mean patience in seconds, the exponential model's maximum-likelihood estimate with
    censoring: time waited by everyone (called or not) ÷ the number who gave up (cancelled or
    no-show). ``None`` when nobody gave up (no evidence of impatience: use Erlang C)."""
    exposure = 0.0
    gave_up = 0
    for day in days:
        for ticket in day.tickets.values():
            exposure += ticket.waited_until(day.last_at)
            if ticket.outcome.value in ("cancelled", "no_show"):
                gave_up += 1
    return exposure / gave_up if gave_up else None


# --------------------------------------------------------------------------- the dashboard's plan


@dataclass(frozen=True, slots=True)
class Learned:
    """What the advice learns from a branch's closed days (they never change: cache it by them)."""

    rates: ArrivalRates
    durations: dict[str, float]
    patience_s: float | None
    days: int
    #: each service's handling times seen (:func:`learn_handling_samples`): the day simulation's
    handling_samples: dict[str, FloatArray] = field(default_factory=dict, compare=False)
    #: hour → share of open counter time paused (:func:`learn_pause_share`)
    pause_share: dict[int, float] = field(default_factory=dict)


def learn_inputs(days: Iterable[DayActivity], min_days: int = MIN_WEEKDAY_DAYS) -> Learned:
    """Arrival rates, handling times (means and samples), patience and the pauses' share of
    open time, learned from ``days`` (the closed ones)."""
    chosen = list(days)
    spans, wrap = _handling_spans(chosen)
    return Learned(
        rates=learn_arrival_rates(chosen, min_days=min_days),
        durations={code: float(np.mean(values)) + wrap for code, values in spans.items() if values},
        patience_s=learn_patience(chosen),
        days=len(chosen),
        handling_samples={code: np.asarray(v[-MAX_HANDLING_SAMPLES:], dtype=float) + wrap for code, v in spans.items() if v},
        pause_share=learn_pause_share(chosen),
    )


def plan_day(
    learned: Learned,
    weekday: int,
    target_p90_s: float,
    *,
    from_hour: int = 0,
    planned: int | None = None,
    max_counters: int = DEFAULT_MAX_COUNTERS,
    refine: bool = True,
    simulated_days: int = staffing_sim.DEFAULT_DAYS,
    simulated_share: float = SIMULATED_SHARE,
    layout: str | Sequence[Profile] = POOLED,
) -> Advice | None:
    """The advice for the hours from ``from_hour`` of a ``weekday`` (``planned`` counters open in
    each, if given), its changes capped at the branch's ``max_counters`` (:func:`cap_changes`).

    Erlang with the learned pauses taken off each counter's capacity, then (``refine``, when
    handling times were seen) checked hour by hour on ``simulated_days`` simulated days
    (:func:`refine_advice`). Today's plan starts the simulated day at ``from_hour`` with nobody
    waiting (the customers waiting now are the "what if now"'s). Services never yet served (no
    handling time) are left out; ``simulated_share``: of the simulated days each hour must keep
    its p90 within the target on (:data:`SIMULATED_SHARE`). ``layout``: which services the
    simulated counters take, :data:`POOLED` (every one), :data:`LEANING` (the split's service
    first, :func:`leaning_layout`) or the branch's work profiles in the order they open
    (:func:`fixed_layout`); tiers make some services wait longer than one pooled queue does, so
    the check then adds what they need (``ValueError`` for an unknown layout or profiles that
    leave a service with arrivals to nobody). ``None`` if nothing is learned or even
    :data:`DEFAULT_MAX_COUNTERS` counters cannot meet the target."""
    if isinstance(layout, str) and layout not in (POOLED, LEANING):
        raise ValueError(f"unknown layout {layout!r}: {POOLED!r}, {LEANING!r} or work profiles")
    rates = {
        hour: {code: rate for code, rate in per.items() if code in learned.durations}
        for hour, per in learned.rates.for_weekday(weekday).items()
        if hour >= from_hour
    }
    if not rates or not learned.durations:
        return None
    plan = {hour: planned for hour in rates} if planned is not None else None
    try:
        advice = hourly_advice(rates, learned.durations, target_p90_s, learned.patience_s, planned=plan, pause_share=learned.pause_share)
    except ValueError:
        return None
    if refine and learned.handling_samples and any(h.arrivals_per_hour > 0 for h in advice.hours):
        inputs = DayInputs(
            rates=rates,
            handling=learned.handling_samples,
            patience_s=learned.patience_s,
            pause_share=learned.pause_share,
        )
        loads = {hour: {code: rate * learned.durations[code] / 3600.0 for code, rate in per.items() if rate > 0} for hour, per in rates.items()}
        rule: LayoutRule | None = None
        if layout == LEANING:
            rule = leaning_layout(loads)
        elif not isinstance(layout, str):
            # a service no counter takes would never be called: the check would add counters
            # to the limit for nothing
            taken = {code for profile in layout for tier in profile for code in tier}
            missing = sorted({code for per in loads.values() for code in per} - taken)
            if missing:
                raise ValueError(f"no work profile takes {', '.join(missing)}")
            rule = fixed_layout(layout)
        advice = refine_advice(
            advice,
            DaySimulation(inputs, days=simulated_days),
            target_p90_s,
            rates,
            learned.durations,
            share=simulated_share,
            layout=rule,
        )
    return Advice(hours=advice.hours, changes=cap_changes(advice, max_counters, learned.patience_s))


def refine_advice(
    advice: Advice,
    simulation: DaySimulation,
    target_p90_s: float,
    rates: Mapping[int, Mapping[str, float]],
    durations: Mapping[str, float],
    *,
    share: float = SIMULATED_SHARE,
    max_counters: int = DEFAULT_MAX_COUNTERS,
    layout: LayoutRule | None = None,
) -> Advice:
    """Erlang's hourly advice checked on simulated days (:class:`DaySimulation`): no more
    counter-hours than the simulation needs to keep every hour's p90 offered wait within
    ``target_p90_s`` on ``share`` of the days.

    Erlang treats each hour as a steady state with exponential handling times; a real hour
    inherits the previous hour's queue (or its empty hall) and real transactions are mostly
    short with a long tail. So: first, an hour the simulation says misses gets one counter more,
    the earliest such hour first (its queue is what the next hours inherit), until every hour
    meets the target or is at ``max_counters``; then counter-hours are taken away one at a time,
    the hours with the fewest counters first, wherever every hour that met the target still does,
    until none can go (a greedy search: the same simulated days judge every try). An hour with
    arrivals keeps at least one counter. The hours' ``p90_s`` (and ``planned_p90_s``) become the
    simulated p90 that ``share`` of the days stay within; ``erlang_counters`` keeps Erlang's count.
    ``layout``: which services each simulated counter takes with each staffing tried (``None``:
    every one, pooled).
    """
    counters = {h.hour: h.counters for h in advice.hours}

    def simulate_many(trials: Sequence[Mapping[int, int]]) -> list[dict[int, FloatArray]]:
        return simulation.hourly_p90_many(trials, [layout(t) for t in trials] if layout is not None else None)

    def simulate(trial: Mapping[int, int]) -> dict[int, FloatArray]:
        return simulate_many([trial])[0]
    busy = {h.hour for h in advice.hours if h.arrivals_per_hour > 0}

    def meeting(p90s: Mapping[int, FloatArray]) -> dict[int, bool]:
        return staffing_sim.hours_meeting(p90s, target_p90_s, share)

    p90s = simulate(counters)
    met = meeting(p90s)
    # one counter more in every hour that misses, until none does (the trimming below takes
    # back any that one hour's extra counter made needless in the next); at most max_counters rounds
    for _ in range(max_counters):
        missing = [hour for hour in sorted(busy) if not met.get(hour, True) and counters[hour] < max_counters]
        if not missing:
            break
        for hour in missing:
            counters[hour] += 1
        p90s = simulate(counters)
        met = meeting(p90s)
    kept = {hour for hour, ok in met.items() if ok}

    def holds(trial_p90s: Mapping[int, FloatArray]) -> bool:
        trial_met = meeting(trial_p90s)
        return all(trial_met.get(h, True) for h in kept)

    # fewer counters anywhere never shortens a wait, so an hour that could not lose a counter
    # cannot later either: each round tries again only the hours that could
    candidates = sorted(counters, key=lambda h: (counters[h], h))
    while True:
        # every single counter-hour that could go, tried side by side; the fewest-counter hours first
        candidates = [h for h in candidates if counters[h] > (1 if h in busy else 0)]
        if not candidates:
            break
        trials = [{**counters, h: counters[h] - 1} for h in candidates]
        passing = [(h, trial_p90s) for h, trial_p90s in zip(candidates, simulate_many(trials), strict=True) if holds(trial_p90s)]
        if not passing:
            break
        # each one alone holds; all of them together usually do too (they are in different
        # hours), else take the first alone and try the others again from there
        together = {**counters, **{h: counters[h] - 1 for h, _ in passing}}
        together_p90s = simulate(together) if len(passing) > 1 else passing[0][1]
        if holds(together_p90s):
            counters, p90s = together, together_p90s
        else:
            hour, p90s = passing[0]
            counters = {**counters, hour: counters[hour] - 1}
        candidates = [h for h, _ in passing]
    planned_p90s = simulate({h.hour: h.planned for h in advice.hours if h.planned is not None}) if any(
        h.planned is not None for h in advice.hours
    ) else {}
    hours: list[HourAdvice] = []
    for h in advice.hours:
        loads = {code: rate * durations[code] / 3600.0 for code, rate in rates.get(h.hour, {}).items() if rate > 0}
        simulated = p90s.get(h.hour)
        planned = planned_p90s.get(h.hour)
        hours.append(
            dataclasses.replace(
                h,
                counters=counters[h.hour],
                p90_s=staffing_sim.p90_on_share(simulated, share) if simulated is not None else h.p90_s,
                by_service=split_counters(counters[h.hour], loads),
                planned_p90_s=staffing_sim.p90_on_share(planned, share) if planned is not None else h.planned_p90_s,
                erlang_counters=h.counters,
            )
        )
    changes = _changes(hours, rates, durations) if any(h.planned is not None for h in hours) else []
    return Advice(hours=hours, changes=changes)


def cap_changes(advice: Advice, max_counters: int, patience_s: float | None) -> list[Change]:
    """The advice's changes where the branch has only ``max_counters`` counters: an "open" asks
    for no more than are left closed (its p90 after is then the p90 with every counter open) and
    says in ``short`` how many would still be missing."""
    by_hour = {h.hour: h for h in advice.hours}
    capped: list[Change] = []
    for change in advice.changes:
        if change.action != "open":
            capped.append(change)
            continue
        run = [by_hour[h] for h in range(change.from_hour, change.to_hour) if h in by_hour]
        planned = max((h.planned or 0) for h in run) if run else 0
        count = max(0, min(change.count, max_counters - planned))
        short = max((h.counters - max(max_counters, planned) for h in run), default=0)
        if count == change.count and short <= 0:
            capped.append(change)
            continue
        after = max(_p90_or_inf(h.arrivals_per_hour, h.capacity_service_s, (h.planned or 0) + count, patience_s) for h in run) if run else change.p90_after_s
        capped.append(
            Change(
                action=change.action,
                count=count,
                service=change.service,
                from_hour=change.from_hour,
                to_hour=change.to_hour,
                p90_before_s=change.p90_before_s,
                p90_after_s=after,
                short=max(0, short),
            )
        )
    return capped


def plan_as_dict(
    advice: Advice,
    max_counters: int,
    patience_s: float | None,
    *,
    current_hour: int | None = None,
    now_label: str | None = None,
) -> dict[str, Any]:
    """A day's advice as the dashboard words it (minutes rounded to 0.1, ∞ as ``None``, hours as
    "HH:00"; a run or an hour that starts at ``current_hour`` starts at ``now_label`` instead).

    ``hours``: per hour the arrivals, the counters ``needed`` and the ``counters`` advised (the
    needed ones, at most ``max_counters``) with their p90, the pooled counters' split by service,
    and the ``planned`` counters with theirs (when the advice had a plan); ``erlang_needed``
    (Erlang's count before the simulated check, ``None`` without it) and ``paused_share``. ``changes``: the
    :class:`Change` s in words-ready form. ``counter_hours``, ``peak``: of the advised counters.
    """

    def label(hour: int, *, start: bool = True) -> str:
        if start and current_hour is not None and now_label is not None and hour == current_hour:
            return now_label
        return f"{hour % 24:02d}:00"

    hours: list[dict[str, Any]] = []
    for h in advice.hours:
        counters = min(h.counters, max_counters)
        p90 = h.p90_s if counters == h.counters else _p90_or_inf(h.arrivals_per_hour, h.capacity_service_s, counters, patience_s)
        hours.append(
            {
                "hour": h.hour,
                "arrivals": round(h.arrivals_per_hour, 1),
                "mean_service_min": _min(h.mean_service_s),
                "needed": h.counters,
                "counters": counters,
                "p90_min": _min(p90),
                "by_service": dict(h.by_service),
                "planned": h.planned,
                "planned_p90_min": _min(h.planned_p90_s) if h.planned is not None else None,
                "erlang_needed": h.erlang_counters,
                "paused_share": round(h.paused_share, 3),
            }
        )
    changes = [
        {
            "action": c.action,
            "count": c.count,
            "service": c.service,
            "from": label(c.from_hour),
            "to": label(c.to_hour, start=False),
            "from_hour": c.from_hour,
            "to_hour": c.to_hour,
            "p90_before_min": _min(c.p90_before_s),
            "p90_after_min": _min(c.p90_after_s),
            "short": c.short,
        }
        for c in advice.changes
    ]
    advised = [row["counters"] for row in hours]
    return {
        "hours": hours,
        "changes": changes,
        "counter_hours": sum(advised),
        "peak": max(advised, default=0),
        "short_hours": sum(1 for row in hours if row["needed"] > max_counters),
    }


def _min(seconds: float | None) -> float | None:
    """Seconds as minutes rounded to 0.1; ∞ (an overloaded queue, no counter) as ``None``."""
    if seconds is None or not math.isfinite(seconds):
        return None
    return round(seconds / 60.0, 1)
