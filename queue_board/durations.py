"""What the branch has learned about how long things take, online, from its own log.

Every quantity (a transaction of each service, a customer's walk to the counter, a
teller's wrap-up, how far a pause overruns what was declared, ...) is a
:class:`RecencySample`: the last observations, weighted so that recent ones count more,
started from a configurable prior. Quantiles of a sample are robust to outliers: one
two-hour account opening moves the 90th percentile a little and the median not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np

from .branch import FREE, BranchState, CounterStatus
from .events import Event

FloatArray = np.ndarray


class RecencySample:
    """A bounded, recency-weighted sample of non-negative durations (seconds).

    The newest observation has weight 1, one ``half_life`` observations older 1/2, and
    so on. The prior enters as ``prior_weight`` pseudo-observations spread as a
    log-normal around ``prior_median``; they age like real ones, so data soon outweighs them.
    """

    __slots__ = ("_cache", "_capacity", "_count", "_decay", "_stamps", "_values", "count")

    def __init__(
        self,
        prior_median: float,
        *,
        prior_spread: float = 0.6,
        prior_weight: float = 5.0,
        half_life: float = 150.0,
        capacity: int = 600,
    ) -> None:
        self._capacity = capacity
        self._decay = float(np.log(2.0) / half_life)
        self._values = np.empty(capacity)
        self._stamps = np.empty(capacity)
        self._count = 0
        self.count = 0  # real observations seen, prior excluded
        self._cache: tuple[FloatArray, FloatArray] | None = None
        # the prior as evenly spaced log-normal quantiles, stamped as if just seen
        if prior_weight > 0:
            n = max(3, round(prior_weight * 3))
            probs = (np.arange(n) + 0.5) / n
            z = np.array([NormalDist().inv_cdf(float(p)) for p in probs])
            prior = prior_median * np.exp(prior_spread * z)
            # each pseudo-observation weighs prior_weight / n
            age = np.log(n / prior_weight) / self._decay if prior_weight < n else 0.0
            for value in prior:
                self._push(float(value), -float(age))

    def _push(self, value: float, stamp: float) -> None:
        index = self._count % self._capacity
        self._values[index] = value
        self._stamps[index] = stamp
        self._count += 1
        self._cache = None

    def add(self, value: float) -> None:
        """Record one observation (negative values are clipped to zero)."""
        self.count += 1
        self._push(max(0.0, float(value)), float(self.count))

    def _sorted(self) -> tuple[FloatArray, FloatArray]:
        """Values sorted ascending with their cumulative normalised weights."""
        if self._cache is None:
            size = min(self._count, self._capacity)
            values = self._values[:size]
            weights = np.exp(-self._decay * (self.count - self._stamps[:size]))
            order = np.argsort(values, kind="stable")
            cumulative = np.cumsum(weights[order])
            cumulative /= cumulative[-1]
            self._cache = (values[order], cumulative)
        return self._cache

    def quantiles(self, probs: FloatArray | list[float]) -> FloatArray:
        """Weighted quantiles (inverse of the weighted empirical distribution)."""
        values, cumulative = self._sorted()
        index = np.searchsorted(cumulative, np.asarray(probs, dtype=float), side="left")
        return values[np.minimum(index, len(values) - 1)]

    def mean(self) -> float:
        """Weighted mean."""
        values, cumulative = self._sorted()
        weights = np.diff(cumulative, prepend=0.0)
        return float(np.dot(values, weights))

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> FloatArray:
        """Draw from the weighted empirical distribution."""
        values, cumulative = self._sorted()
        index = np.searchsorted(cumulative, rng.random(size), side="left")
        return values[np.minimum(index, len(values) - 1)]

    def sample_remaining(self, elapsed: float, rng: np.random.Generator, size: int) -> FloatArray:
        """Draw the time still to go of something that has lasted ``elapsed`` already.

        Drawn from the observations longer than ``elapsed`` (the empirical conditional
        distribution). When too little history lies beyond ``elapsed`` the tail is
        extrapolated: the remaining time is taken proportional to the time already spent,
        which is what heavy-tailed real transactions do.
        """
        values, cumulative = self._sorted()
        start = int(np.searchsorted(values, elapsed, side="right"))
        low = float(cumulative[start - 1]) if start > 0 else 0.0
        # enough observations beyond `elapsed`, and enough weight on them after recency decay
        if len(values) - start >= 5 and 1.0 - low > 1e-6:
            draws = low + rng.random(size) * (1.0 - low)
            index = np.searchsorted(cumulative, draws, side="left")
            index = np.clip(index, start, len(values) - 1)
            return values[index] - elapsed
        median = float(self.quantiles([0.5])[0])
        scale = max(elapsed, median) * 0.35
        return scale * rng.lognormal(0.0, 0.8, size)


@dataclass(slots=True)
class Priors:
    """What the branch assumes before it has seen anything (seconds, or a ratio)."""

    service_seconds: float = 300.0
    walk_up_seconds: float = 30.0
    wrap_up_seconds: float = 20.0
    no_show_seconds: float = 90.0
    pause_seconds: float = 600.0
    pause_overrun: float = 1.2
    no_show_rate: float = 0.05


@dataclass(slots=True)
class BranchModel:
    """Learned durations of one branch; updated by :func:`learn` from each accepted event."""

    priors: Priors = field(default_factory=Priors)
    services: dict[str, RecencySample] = field(default_factory=dict)
    walk_up: RecencySample = field(init=False)
    wrap_up: RecencySample = field(init=False)
    reaction: RecencySample = field(init=False)
    no_show_wait: RecencySample = field(init=False)
    pause_length: RecencySample = field(init=False)
    pause_overrun: RecencySample = field(init=False)
    calls: float = 0.0
    no_shows: float = 0.0

    def __post_init__(self) -> None:
        p = self.priors
        self.walk_up = RecencySample(p.walk_up_seconds, prior_spread=0.7)
        self.wrap_up = RecencySample(p.wrap_up_seconds, prior_spread=0.8)
        self.reaction = RecencySample(p.wrap_up_seconds / 2, prior_spread=0.8)
        self.no_show_wait = RecencySample(p.no_show_seconds, prior_spread=0.5)
        self.pause_length = RecencySample(p.pause_seconds, prior_spread=0.7, half_life=40)
        self.pause_overrun = RecencySample(p.pause_overrun, prior_spread=0.2, half_life=40)
        # a pseudo-count of 20 calls carrying the prior rate
        self.calls = 20.0
        self.no_shows = 20.0 * p.no_show_rate

    def service(self, code: str) -> RecencySample:
        """The duration sample of one service (created from the prior on first use)."""
        sample = self.services.get(code)
        if sample is None:
            sample = self.services[code] = RecencySample(self.priors.service_seconds, prior_spread=0.7)
        return sample

    @property
    def no_show_rate(self) -> float:
        """Share of calls that ended in a no-show (recency-weighted)."""
        return self.no_shows / self.calls


NO_SHOW_MEMORY = 0.995  # per call: the no-show rate forgets with a half-life of ~140 calls


def learn(model: BranchModel, state: BranchState, event: Event) -> None:
    """Update ``model`` from an accepted event, *before* ``apply`` changes ``state``."""
    kind = event.type
    now = event.at
    if kind == "service_finished":
        ticket = state.tickets[event.ticket]  # type: ignore[index]
        if ticket.started_at is not None:
            model.service(ticket.service).add(now - ticket.started_at)
    elif kind == "service_started":
        ticket = state.tickets[event.ticket]  # type: ignore[index]
        if ticket.called_at is not None:
            model.walk_up.add(now - ticket.called_at)
        _count_call(model, no_show=False)
    elif kind == "ticket_no_show":
        ticket = state.tickets[event.ticket]  # type: ignore[index]
        if ticket.called_at is not None:
            model.no_show_wait.add(now - ticket.called_at)
        _count_call(model, no_show=True)
    elif kind == "ticket_called":
        counter = state.counters[event.counter]  # type: ignore[index]
        ticket = state.tickets[event.ticket]  # type: ignore[index]
        if counter.status in FREE and counter.free_since is not None:
            # the teller could have called as soon as both were there: free counter, waiting ticket
            ready = max(counter.free_since, ticket.queued_at)
            sample = model.wrap_up if counter.status is CounterStatus.WRAPPING_UP else model.reaction
            if counter.status is CounterStatus.WRAPPING_UP and ticket.queued_at > counter.free_since:
                sample = model.reaction
            sample.add(now - ready)
    elif kind in ("counter_resumed", "counter_closed"):
        counter = state.counters[event.counter]  # type: ignore[index]
        if counter.status is CounterStatus.PAUSED and state.day == event.day:
            # a pause left open overnight says nothing about how long pauses last
            length = now - counter.since
            model.pause_length.add(length)
            if counter.pause_minutes and kind == "counter_resumed":
                model.pause_overrun.add(length / (counter.pause_minutes * 60.0))


def _count_call(model: BranchModel, *, no_show: bool) -> None:
    model.calls = model.calls * NO_SHOW_MEMORY + 1.0
    model.no_shows = model.no_shows * NO_SHOW_MEMORY + (1.0 if no_show else 0.0)
