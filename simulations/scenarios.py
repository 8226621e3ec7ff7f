"""Scenarios: the true parameters of a simulated branch.

A :class:`Scenario` says who comes when (time-varying Poisson arrivals per service), how
long their transactions really take (per service, scaled per teller), how tellers behave
(opening hours, lunch and authorisation pauses that overrun what was declared, walk-up,
wrap-up) and how customers give up (patience; some say so at the kiosk, the rest are
called in vain). The agent in :mod:`simulations.branch_sim` plays it; a forecaster that
is allowed to know the truth (an "oracle") can read the same object.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time

import numpy as np
import numpy.typing as npt

from queue_board.core.branch_config import DEMO_CONFIG
from queue_board.core.events import Profile

FloatArray = npt.NDArray[np.float64]


# --------------------------------------------------------------------------- distributions


class Distribution:
    """A distribution of non-negative values (seconds, or a ratio), sampled with numpy."""

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        """``size`` independent draws."""
        raise NotImplementedError

    def draw(self, rng: np.random.Generator) -> float:
        """One draw."""
        return float(self.sample(rng, 1)[0])

    def mean(self) -> float:
        """The exact mean (what an oracle would know)."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Constant(Distribution):
    """Always ``value``."""

    value: float

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        """``size`` copies of the value (consumes no randomness)."""
        return np.full(size, float(self.value))

    def mean(self) -> float:
        """The value."""
        return float(self.value)


@dataclass(frozen=True, slots=True)
class Uniform(Distribution):
    """Uniform on ``[low, high]``."""

    low: float
    high: float

    def __post_init__(self) -> None:
        if not 0 <= self.low <= self.high:
            raise ValueError("Uniform needs 0 <= low <= high")

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        """Uniform draws."""
        return rng.uniform(self.low, self.high, size)

    def mean(self) -> float:
        """Midpoint."""
        return (self.low + self.high) / 2.0


@dataclass(frozen=True, slots=True)
class Exponential(Distribution):
    """Exponential with the given mean (memoryless: the M of M/M/c)."""

    mean_value: float

    def __post_init__(self) -> None:
        if self.mean_value <= 0:
            raise ValueError("Exponential needs a positive mean")

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        """Exponential draws."""
        return rng.exponential(self.mean_value, size)

    def mean(self) -> float:
        """The mean."""
        return float(self.mean_value)


@dataclass(frozen=True, slots=True)
class LogNormal(Distribution):
    """Log-normal given by its median and the standard deviation ``sigma`` of its log."""

    median: float
    sigma: float

    def __post_init__(self) -> None:
        if self.median <= 0 or self.sigma < 0:
            raise ValueError("LogNormal needs median > 0 and sigma >= 0")

    @classmethod
    def with_mean(cls, mean: float, sigma: float) -> LogNormal:
        """The log-normal with this mean and log-spread (median = mean · e^(−σ²/2))."""
        return cls(mean * math.exp(-sigma * sigma / 2.0), sigma)

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        """Log-normal draws."""
        return rng.lognormal(math.log(self.median), self.sigma, size)

    def mean(self) -> float:
        """median · e^(σ²/2)."""
        return self.median * math.exp(self.sigma * self.sigma / 2.0)


@dataclass(frozen=True, slots=True)
class Pareto(Distribution):
    """Classic Pareto tail: ``P(X > x) = (minimum / x) ** alpha`` for x ≥ minimum.

    ``cap`` clips the draws: a branch closes at night, so no transaction lasts for ever,
    while below the cap the tail keeps its power law.
    """

    minimum: float
    alpha: float
    cap: float | None = None

    def __post_init__(self) -> None:
        if self.minimum <= 0 or self.alpha <= 0:
            raise ValueError("Pareto needs minimum > 0 and alpha > 0")
        if self.cap is not None and self.cap < self.minimum:
            raise ValueError("Pareto cap must be at least the minimum")
        if self.cap is None and self.alpha <= 1:
            raise ValueError("an uncapped Pareto needs alpha > 1 to have a mean")

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        """Pareto draws (numpy's ``pareto`` is the Lomax form, hence the ``+ 1``)."""
        draws = (rng.pareto(self.alpha, size) + 1.0) * self.minimum
        if self.cap is not None:
            np.minimum(draws, self.cap, out=draws)
        return draws

    def mean(self) -> float:
        """E[min(X, cap)] = ∫₀^cap P(X > t) dt, in closed form."""
        m, a = self.minimum, self.alpha
        if self.cap is None:
            return a * m / (a - 1.0)
        c = self.cap
        if a == 1.0:
            return m + m * math.log(c / m)
        return m + math.pow(m, a) * (math.pow(c, 1.0 - a) - math.pow(m, 1.0 - a)) / (1.0 - a)


@dataclass(frozen=True, slots=True)
class Mixture(Distribution):
    """A mixture: with probability ``weight`` a draw comes from that part.

    A log-normal body with a small Pareto part is what real transaction times look
    like: most deposits take two minutes, and now and then one takes forty.
    """

    parts: tuple[tuple[float, Distribution], ...]

    def __post_init__(self) -> None:
        if not self.parts or any(w < 0 for w, _ in self.parts) or sum(w for w, _ in self.parts) <= 0:
            raise ValueError("Mixture needs parts with non-negative weights and a positive total")

    def _weights(self) -> FloatArray:
        weights = np.array([w for w, _ in self.parts], dtype=float)
        weights /= weights.sum()
        return weights

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        """Pick a part per draw, then draw from it."""
        which = rng.choice(len(self.parts), size=size, p=self._weights())
        out = np.empty(size)
        for index, (_, part) in enumerate(self.parts):
            chosen = which == index
            count = int(chosen.sum())
            if count:
                out[chosen] = part.sample(rng, count)
        return out

    def mean(self) -> float:
        """Weighted mean of the parts."""
        return float(sum(w * part.mean() for w, (_, part) in zip(self._weights(), self.parts, strict=True)))


def heavy_tailed(median: float, sigma: float, tail_share: float, tail_from: float, alpha: float, cap: float) -> Mixture:
    """A log-normal body (``1 − tail_share``) with a capped Pareto tail starting at ``tail_from``."""
    return Mixture(((1.0 - tail_share, LogNormal(median, sigma)), (tail_share, Pareto(tail_from, alpha, cap))))


# --------------------------------------------------------------------------- the branch


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """A transaction type: its ticket prefix, true duration and arrival rate by hour."""

    code: str
    prefix: str
    #: the transaction's length in seconds at a teller of speed 1
    duration: Distribution
    #: local hour of day (0–23) → mean customers per hour; a time-varying Poisson process
    arrivals_per_hour: Mapping[int, float] = field(default_factory=dict)
    #: how long these customers wait before giving up; ``None`` = the scenario's
    patience: Distribution | None = None


@dataclass(frozen=True, slots=True)
class PlannedPause:
    """A pause the teller takes every day (lunch): starts when free at or after ``start``."""

    reason: str
    start: time
    #: what the teller declares
    minutes: float
    #: actual length / declared: tellers come back late more often than early
    overrun: Distribution = field(default_factory=lambda: Constant(1.0))
    #: a pause that cannot start within this long after ``start`` (a queue that never ends) is skipped
    max_delay_minutes: float = 90.0


@dataclass(frozen=True, slots=True)
class RandomPauses:
    """Short pauses at random moments (a supervisor's authorisation, a jammed printer)."""

    reason: str
    #: mean pauses per open hour (a Poisson process over the counter's hours)
    per_hour: float
    minutes: float
    overrun: Distribution = field(default_factory=lambda: Constant(1.0))
    max_delay_minutes: float = 30.0


@dataclass(frozen=True, slots=True)
class CounterSpec:
    """A counter: its work profile, hours, teller speed and pauses."""

    name: str
    #: tiers, highest priority first, as in the spec's ``counter_opened.services``
    services: Profile
    opens: time = time(9, 0)
    #: stops calling at this time; at or after the branch's closing it first serves whoever is still inside
    closes: time = time(17, 0)
    #: > 1 is a faster teller: a transaction takes duration / speed
    speed: float = 1.0
    #: per-service speed overriding ``speed`` (a loan officer is quick at loans, slow at remittance)
    speed_by_service: Mapping[str, float] = field(default_factory=dict)
    pauses: tuple[PlannedPause, ...] = ()
    random_pauses: tuple[RandomPauses, ...] = ()
    #: opens as "express ≤ N min" (``counter_opened.express_minutes``); ``None``: an ordinary counter
    express_minutes: float | None = None

    def speed_for(self, service: str) -> float:
        """The teller's speed factor for ``service``."""
        return self.speed_by_service.get(service, self.speed)


@dataclass(frozen=True, slots=True)
class Scenario:
    """Everything that is true about a simulated branch."""

    name: str
    services: tuple[ServiceSpec, ...]
    counters: tuple[CounterSpec, ...]
    #: customers arrive (take tickets) from ``doors_open`` until ``doors_close``, local time
    doors_open: time = time(9, 0)
    doors_close: time = time(17, 0)
    #: seconds from a call until the customer reaches the counter
    walk_up: Distribution = field(default_factory=lambda: Constant(0.0))
    #: seconds of paperwork after a transaction before the next call
    wrap_up: Distribution = field(default_factory=lambda: Constant(0.0))
    #: seconds an idle teller takes to call a customer who just arrived
    reaction: Distribution = field(default_factory=lambda: Constant(0.0))
    #: seconds a customer waits before leaving; ``None`` = never leaves
    patience: Distribution | None = None
    #: share of customers who, when they give up, cancel their ticket (kiosk, app) rather than just leave
    cancel_probability: float = 0.0
    #: seconds a counter waits for a called customer who has left before marking the no-show
    no_show_wait: Distribution = field(default_factory=lambda: Uniform(50.0, 70.0))

    def __post_init__(self) -> None:
        codes = [s.code for s in self.services]
        prefixes = [s.prefix for s in self.services]
        if len(set(codes)) != len(codes) or len(set(prefixes)) != len(prefixes):
            raise ValueError("service codes and ticket prefixes must be unique")
        names = [c.name for c in self.counters]
        if len(set(names)) != len(names):
            raise ValueError("counter names must be unique")
        for counter in self.counters:
            unknown = [code for tier in counter.services for code in tier if code not in codes]
            if unknown or not counter.services:
                raise ValueError(f"counter {counter.name}: unknown or missing services {unknown}")
            if counter.speed <= 0 or any(v <= 0 for v in counter.speed_by_service.values()):
                raise ValueError(f"counter {counter.name}: speeds must be positive")
        for service in self.services:
            if any(not 0 <= h <= 23 or r < 0 for h, r in service.arrivals_per_hour.items()):
                raise ValueError(f"service {service.code}: arrival rates need hours 0–23 and rates >= 0")
        if not 0.0 <= self.cancel_probability <= 1.0:
            raise ValueError("cancel_probability must be between 0 and 1")
        if self.doors_close <= self.doors_open:
            raise ValueError("doors must close after they open on the same day")

    def service(self, code: str) -> ServiceSpec:
        """The service with this code."""
        for spec in self.services:
            if spec.code == code:
                return spec
        raise KeyError(code)

    def counter(self, name: str) -> CounterSpec:
        """The counter with this name."""
        for spec in self.counters:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def patience_for(self, service: str) -> Distribution | None:
        """How long a customer of ``service`` is willing to wait."""
        spec = self.service(service)
        return spec.patience if spec.patience is not None else self.patience

    def expected_arrivals(self) -> dict[str, float]:
        """Mean tickets per day and service, within the doors' hours."""
        return {
            s.code: sum(rate * _open_share(self, hour) for hour, rate in s.arrivals_per_hour.items())
            for s in self.services
        }


def _open_share(scenario: Scenario, hour: int) -> float:
    """The fraction of local hour ``hour`` during which the doors are open."""
    start = hour * 60.0
    opens = scenario.doors_open.hour * 60 + scenario.doors_open.minute + scenario.doors_open.second / 60
    closes = scenario.doors_close.hour * 60 + scenario.doors_close.minute + scenario.doors_close.second / 60
    return max(0.0, min(start + 60.0, closes) - max(start, opens)) / 60.0


# --------------------------------------------------------------------------- the scenarios


def _profile(counter: str) -> Profile:
    info = DEMO_CONFIG.counter(counter)
    assert info is not None, f"DEMO_CONFIG has no counter {counter}"
    return info.services


def _prefix(service: str) -> str:
    info = DEMO_CONFIG.service(service)
    assert info is not None, f"DEMO_CONFIG has no service {service}"
    return info.prefix


def _reason(code: str) -> str:
    """A pause reason's code, as the log records it: one the branch's configuration names
    (the demo configures none, so these are the defaults) in every language."""
    info = DEMO_CONFIG.pause_reason(code)
    assert info is not None and info.code == code, f"DEMO_CONFIG has no pause reason {code}"
    return code


#: the codes of the pauses the simulated tellers take
LUNCH = _reason("lunch")
AUTHORISATION = _reason("authorisation")


def _hours(*rates: float, first: int = 9) -> dict[int, float]:
    return {first + index: rate for index, rate in enumerate(rates)}


#: lunch comes back a little late, typically a few minutes over
LUNCH_OVERRUN = LogNormal(1.06, 0.12)
#: waiting for a supervisor's signature: "five minutes" is often seven or ten
AUTHORISATION_OVERRUN = LogNormal(1.3, 0.3)


def demo_branch() -> Scenario:
    """The demo branch of ``DEMO_CONFIG``: 4 counters, 09:00–17:00, about 200 customers a day.

    Deposits take about 2.6 minutes, remittances about 6, loans about 20 with a long tail;
    every teller lunches (declaring 30 or 45 minutes, coming back a little late), and
    counters 2 and 3 now and then wait for an authorisation.
    """
    authorisation = RandomPauses(AUTHORISATION, per_hour=0.15, minutes=5.0, overrun=AUTHORISATION_OVERRUN)
    services = (
        ServiceSpec(
            "deposit",
            _prefix("deposit"),
            heavy_tailed(median=135.0, sigma=0.45, tail_share=0.02, tail_from=420.0, alpha=2.5, cap=1800.0),
            _hours(14, 17, 21, 22, 18, 15, 14, 17),
        ),
        ServiceSpec(
            "remittance",
            _prefix("remittance"),
            heavy_tailed(median=260.0, sigma=0.45, tail_share=0.05, tail_from=720.0, alpha=2.5, cap=3600.0),
            _hours(4, 5, 7, 8, 7, 6, 5, 6),
        ),
        ServiceSpec(
            "loan",
            _prefix("loan"),
            heavy_tailed(median=1020.0, sigma=0.35, tail_share=0.06, tail_from=1800.0, alpha=2.5, cap=5400.0),
            _hours(1.5, 2, 2, 1.5, 1.5, 2, 2, 1),
            # loan customers usually came for it on purpose and wait longer
            patience=LogNormal(75 * 60.0, 0.6),
        ),
    )
    counters = (
        CounterSpec("1", _profile("1"), speed=1.05, pauses=(PlannedPause(LUNCH, time(12, 0), 30, LUNCH_OVERRUN),)),
        CounterSpec(
            "2",
            _profile("2"),
            pauses=(PlannedPause(LUNCH, time(12, 45), 30, LUNCH_OVERRUN),),
            random_pauses=(authorisation,),
        ),
        CounterSpec(
            "3",
            _profile("3"),
            speed=0.95,
            pauses=(PlannedPause(LUNCH, time(13, 0), 30, LUNCH_OVERRUN),),
            random_pauses=(authorisation,),
        ),
        CounterSpec(
            "4",
            _profile("4"),
            # the loan officer is quick at loans and slower than the cashiers at remittances
            speed_by_service={"loan": 1.0, "remittance": 0.85},
            pauses=(PlannedPause(LUNCH, time(12, 0), 45, LUNCH_OVERRUN),),
        ),
    )
    return Scenario(
        name="demo",
        services=services,
        counters=counters,
        walk_up=LogNormal(20.0, 0.5),
        wrap_up=LogNormal(15.0, 0.6),
        reaction=LogNormal(3.0, 0.6),
        # a few take a ticket, see the hall and leave within minutes; most wait half an hour or more
        patience=Mixture(((0.12, LogNormal(150.0, 0.7)), (0.88, LogNormal(40 * 60.0, 0.6)))),
        cancel_probability=0.3,
    )


def single_service_mm_c(
    c: int,
    arrival_rate: float,
    mean_service: float,
    *,
    doors_open: time = time(0, 0),
    doors_close: time = time(23, 0),
) -> Scenario:
    """An M/M/c queue: ``c`` counters, Poisson arrivals (``arrival_rate`` per hour), exponential
    service (``mean_service`` seconds), nothing else (no pauses, walk-up, wrap-up, abandonment).

    The doors are open 23 hours by default so that most of the day is in steady state and the
    queue still drains before midnight; the mean wait should match Erlang C.
    """
    if c < 1 or arrival_rate <= 0 or mean_service <= 0:
        raise ValueError("M/M/c needs c >= 1, a positive arrival rate and a positive mean service")
    # a rate for every hour: the doors decide when customers actually come
    hours = range(24)
    service = ServiceSpec("general", "A", Exponential(mean_service), {h: arrival_rate for h in hours})
    counters = tuple(CounterSpec(str(i + 1), (("general",),), opens=doors_open, closes=doors_close) for i in range(c))
    return Scenario(
        name=f"mm{c}",
        services=(service,),
        counters=counters,
        doors_open=doors_open,
        doors_close=doors_close,
    )


def busy_tiered_branch() -> Scenario:
    """A busy city branch: 6 counters, a VIP tier, heavy-tailed transactions, about 400 customers a day."""
    authorisation = RandomPauses(AUTHORISATION, per_hour=0.25, minutes=5.0, overrun=AUTHORISATION_OVERRUN)
    services = (
        ServiceSpec(
            "vip",
            "V",
            heavy_tailed(median=360.0, sigma=0.5, tail_share=0.08, tail_from=900.0, alpha=2.2, cap=3600.0),
            _hours(3, 4, 4, 3, 3, 4, 4, 3),
            patience=LogNormal(20 * 60.0, 0.6),
        ),
        ServiceSpec(
            "deposit",
            "A",
            heavy_tailed(median=130.0, sigma=0.5, tail_share=0.03, tail_from=480.0, alpha=2.2, cap=2400.0),
            _hours(26, 30, 36, 38, 32, 28, 26, 30),
        ),
        ServiceSpec(
            "remittance",
            "B",
            heavy_tailed(median=300.0, sigma=0.5, tail_share=0.06, tail_from=900.0, alpha=2.0, cap=3600.0),
            _hours(7, 9, 11, 12, 11, 10, 9, 9),
        ),
        ServiceSpec(
            "fx",
            "D",
            heavy_tailed(median=220.0, sigma=0.45, tail_share=0.05, tail_from=600.0, alpha=2.3, cap=2400.0),
            _hours(3, 4, 5, 5, 4, 4, 3, 3),
        ),
        ServiceSpec(
            "loan",
            "C",
            heavy_tailed(median=1080.0, sigma=0.4, tail_share=0.08, tail_from=2100.0, alpha=2.2, cap=7200.0),
            _hours(1.5, 2, 2, 1.5, 1.5, 2, 2, 1.5),
            patience=LogNormal(80 * 60.0, 0.6),
        ),
    )
    lunch = LUNCH_OVERRUN
    counters = (
        CounterSpec(
            "1",
            (("vip",), ("deposit", "remittance")),
            speed=1.1,
            pauses=(PlannedPause(LUNCH, time(11, 30), 30, lunch),),
        ),
        CounterSpec(
            "2",
            (("vip",), ("fx",), ("deposit",)),
            pauses=(PlannedPause(LUNCH, time(13, 0), 30, lunch),),
            random_pauses=(authorisation,),
        ),
        CounterSpec("3", (("deposit",),), speed=1.1, pauses=(PlannedPause(LUNCH, time(12, 0), 30, lunch),)),
        CounterSpec(
            "4",
            (("deposit", "remittance"),),
            speed=0.9,
            pauses=(PlannedPause(LUNCH, time(12, 30), 30, lunch),),
            random_pauses=(authorisation,),
        ),
        CounterSpec(
            "5",
            (("remittance", "fx"), ("loan",), ("deposit",)),
            pauses=(PlannedPause(LUNCH, time(13, 30), 30, lunch),),
            random_pauses=(authorisation,),
        ),
        CounterSpec(
            "6",
            (("loan",), ("remittance",)),
            speed_by_service={"remittance": 0.85},
            pauses=(PlannedPause(LUNCH, time(12, 0), 45, lunch),),
        ),
    )
    return Scenario(
        name="busy",
        services=services,
        counters=counters,
        walk_up=LogNormal(25.0, 0.55),
        wrap_up=LogNormal(20.0, 0.6),
        reaction=LogNormal(3.0, 0.6),
        patience=LogNormal(30 * 60.0, 0.7),
        cancel_probability=0.35,
    )


def mixed_length_branch() -> Scenario:
    """A branch of short and long transactions where every counter serves everything: 4 counters,
    about 250 customers a day, one tier (no type-based "simple transactions" window).

    Cash takes about 1.7 minutes, transfers 3.5, foreign exchange 6.5, card and account
    services 15, loans 25 (medians, log-spread 0.5); each teller lunches for 30 minutes,
    staggered. Used to measure an express counter (benchmarks/express_check.py).
    """
    everything: Profile = (("cash", "transfer", "fx", "account", "loan"),)
    spread = 0.5
    services = (
        ServiceSpec("cash", "A", LogNormal(100.0, spread), _hours(12, 14, 16, 16, 14, 12, 12, 14)),
        ServiceSpec("transfer", "B", LogNormal(210.0, spread), _hours(5, 6, 7, 7, 6, 6, 5, 6)),
        ServiceSpec("fx", "D", LogNormal(390.0, spread), _hours(5, 6, 7, 7, 6, 6, 5, 6)),
        ServiceSpec("account", "E", LogNormal(900.0, spread), _hours(2.5, 3, 3, 3, 3, 3, 3, 2.5)),
        ServiceSpec("loan", "C", LogNormal(1500.0, spread), _hours(1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5)),
    )
    lunches = (time(11, 30), time(12, 0), time(12, 30), time(13, 0))
    counters = tuple(
        CounterSpec(str(index + 1), everything, pauses=(PlannedPause(LUNCH, lunch, 30, LUNCH_OVERRUN),))
        for index, lunch in enumerate(lunches)
    )
    return Scenario(
        name="mixed",
        services=services,
        counters=counters,
        walk_up=LogNormal(20.0, 0.5),
        wrap_up=LogNormal(15.0, 0.6),
        reaction=LogNormal(3.0, 0.6),
        patience=LogNormal(60 * 60.0, 0.6),
        cancel_probability=0.3,
    )


def split_shift_branch() -> Scenario:
    """A branch working in shifts, with a thin hour between them: 5 counters, about 230
    customers a day. Counters 1 and 2 work the morning (09:00–13:00), 3 and 4 the afternoon
    (14:00–17:00); counter 5 works all day and lunches at 13:00, so from 13:00 to 14:00 one
    teller (then none) faces the lunchtime crowd. Counter 5 ranks loans first."""
    services = (
        ServiceSpec(
            "deposit",
            _prefix("deposit"),
            heavy_tailed(median=140.0, sigma=0.45, tail_share=0.03, tail_from=420.0, alpha=2.4, cap=1800.0),
            _hours(16, 19, 22, 24, 22, 18, 16, 18),
        ),
        ServiceSpec(
            "remittance",
            _prefix("remittance"),
            heavy_tailed(median=270.0, sigma=0.45, tail_share=0.05, tail_from=720.0, alpha=2.4, cap=3600.0),
            _hours(4, 5, 6, 7, 7, 6, 5, 5),
        ),
        ServiceSpec(
            "loan",
            _prefix("loan"),
            heavy_tailed(median=960.0, sigma=0.35, tail_share=0.06, tail_from=1800.0, alpha=2.5, cap=5400.0),
            _hours(1, 1.5, 1.5, 1, 1, 1.5, 1.5, 1),
            patience=LogNormal(70 * 60.0, 0.6),
        ),
    )
    everything: Profile = (("deposit", "remittance", "loan"),)
    counters = (
        CounterSpec("1", everything, closes=time(13, 0), speed=1.05),
        CounterSpec("2", everything, closes=time(13, 0), speed=0.95),
        CounterSpec("3", everything, opens=time(14, 0), speed=1.05),
        CounterSpec("4", everything, opens=time(14, 0)),
        CounterSpec(
            "5",
            (("loan",), ("deposit", "remittance")),
            pauses=(PlannedPause(LUNCH, time(13, 0), 30, LUNCH_OVERRUN),),
        ),
    )
    return Scenario(
        name="shifts",
        services=services,
        counters=counters,
        walk_up=LogNormal(20.0, 0.5),
        wrap_up=LogNormal(15.0, 0.6),
        reaction=LogNormal(3.0, 0.6),
        patience=Mixture(((0.1, LogNormal(150.0, 0.7)), (0.9, LogNormal(45 * 60.0, 0.6)))),
        cancel_probability=0.3,
    )


def with_express(scenario: Scenario, counter: str, minutes: float) -> Scenario:
    """The same branch with ``counter`` opening as "express ≤ ``minutes`` min"."""
    if not any(c.name == counter for c in scenario.counters):
        raise ValueError(f"scenario {scenario.name!r} has no counter {counter!r}")
    counters = tuple(dataclasses.replace(c, express_minutes=minutes) if c.name == counter else c for c in scenario.counters)
    return dataclasses.replace(scenario, name=f"{scenario.name}-express{minutes:g}", counters=counters)


#: the scenarios the command line knows, by name
SCENARIOS: dict[str, Callable[[], Scenario]] = {
    "demo": demo_branch,
    "busy": busy_tiered_branch,
    # three tellers at 75 % load: 27 customers an hour, 5 minutes each
    "mmc": lambda: single_service_mm_c(3, 27.0, 300.0),
    "mixed": mixed_length_branch,
    "shifts": split_shift_branch,
}
