"""What the branch has learned about how long things take, online, from its own log.

Every quantity (a transaction of each service, a customer's walk to the counter, a
teller's wrap-up, how far a pause overruns what was declared, ...) is a
:class:`RecencySample`: the last observations, weighted so that recent ones count more,
started from a configurable prior. Quantiles of a sample are robust to outliers: one
two-hour account opening moves the 90th percentile a little and the median not at all.
"""

from __future__ import annotations

import bisect
import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np

from queue_board.core.branch import FREE, BranchState, Counter, CounterStatus, HeadsUp
from queue_board.core.call_rule import has_eligible_waiting
from queue_board.core.events import Event, Profile
from queue_board.forecast.calibration import Calibrator, Segment
from queue_board.forecast.latent_priority import LatentPriority
from queue_board.forecast.ranges import Range

if TYPE_CHECKING:
    # pooling builds on this module's samples; the prior it makes is only named here
    from queue_board.forecast.pooling import BankPrior

FloatArray = np.ndarray


def _copied_value(value: Any, memo: dict[int, Any]) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    if value is None or isinstance(value, (int, float, str)):
        return value
    if isinstance(value, tuple) and all(isinstance(v, (np.ndarray, int, float)) for v in value):
        return tuple(v.copy() if isinstance(v, np.ndarray) else v for v in value)
    return copy.deepcopy(value, memo)


def _copy_slots(self: Any, memo: dict[int, Any]) -> Any:
    """``copy.deepcopy`` of a learner made of arrays and numbers, slot by slot: its generic walk
    cost ~9 µs an object, and a forecast's model copy holds about twenty of them."""
    cls = type(self)
    copied = object.__new__(cls)
    memo[id(self)] = copied
    for name in cls.__slots__:
        setattr(copied, name, _copied_value(getattr(self, name), memo))
    return copied


class RecencySample:
    """A bounded, recency-weighted sample of non-negative durations (seconds).

    The newest observation has weight 1, one ``half_life`` observations older 1/2, and
    so on. The prior enters as ``prior_weight`` pseudo-observations spread as a
    log-normal around ``prior_median`` (or as the ``prior_values`` given); they age like real
    ones, so data soon outweighs them.
    """

    __slots__ = ("_cache", "_capacity", "_count", "_decay", "_stamps", "_tail_cache", "_values", "count")
    __deepcopy__ = _copy_slots

    def __init__(
        self,
        prior_median: float,
        *,
        prior_spread: float = 0.6,
        prior_weight: float = 5.0,
        half_life: float = 150.0,
        capacity: int = 600,
        prior_values: Sequence[float] | None = None,
    ) -> None:
        self._capacity = capacity
        self._decay = float(np.log(2.0) / half_life)
        self._values = np.empty(capacity)
        self._stamps = np.empty(capacity)
        self._count = 0
        self.count = 0  # real observations seen, prior excluded
        self._cache: tuple[FloatArray, FloatArray] | None = None
        self._tail_cache: tuple[float, float, float, float] | None = None
        # the prior as evenly spaced log-normal quantiles (or the values given, e.g. a bank's
        # pooled quantiles), stamped as if just seen
        if prior_weight > 0:
            if prior_values is not None:
                prior = np.asarray(prior_values, dtype=float)
                n = len(prior)
            else:
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
        self._tail_cache = None

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
        distribution) while enough of them lie beyond it; past that, from a generalised Pareto
        tail fitted to the longest observations (:meth:`tail`), whose scale grows with the time
        already spent, as heavy-tailed real transactions do.
        """
        return self.sample_remaining_many(np.array([elapsed], dtype=float), rng, size)[:, 0]

    def tail(self) -> tuple[float, float, float, float]:
        """``(blend_from, threshold, scale, shape)`` of the tail beyond the data: a generalised
        Pareto distribution with the weighted median and p90 of the excesses of the longest
        observations (:func:`tail_size`) over the next longest (the threshold). Between
        ``blend_from`` (three times as many longer) and the threshold, draws come from it in a
        share growing from 0 to 1, the others from the empirical conditional distribution.

        Past the threshold, what is left of something that has lasted ``e`` is that distribution
        with scale ``scale + max(shape, MIN_TAIL_GROWTH) * (e - threshold)``. It starts where the
        empirical conditional distribution of the same observations stops (the same median, and
        the same p90 unless their tail is lighter than exponential),
        so a running transaction's range moves smoothly when it outlasts the data: with a fixed
        switch to "a third of the time spent" the counter board's "up to about 7 min left" became
        "about 1–14 min left" two minutes later. Past the data the longer it runs, the longer it
        may still go (:data:`MIN_TAIL_GROWTH`, even where the data's tail is light); the shape
        stays within [:data:`MIN_TAIL_SHAPE`, :data:`MAX_TAIL_SHAPE`], so the mean stays finite.
        """
        if self._tail_cache is None:
            values, cumulative = self._sorted()
            weights = np.diff(cumulative, prepend=0.0)
            size = min(tail_size(len(values)), len(values))
            threshold = float(values[-size - 1]) if len(values) > size else 0.0
            blend_from = _blend_from(values)
            excess = values[-size:] - threshold
            w = weights[-size:]
            if float(w.sum()) <= 1e-12:  # the longest ones have faded out of the weights: count them alike
                w = np.ones(size)
            share = np.cumsum(w) / float(w.sum())
            median, p90 = (float(excess[min(int(np.searchsorted(share, q)), size - 1)]) for q in (0.5, 0.9))
            shape = _gpd_shape(p90 / median) if median > 0 else 0.0
            # the same median and p90 as the longest observations' excesses: no leap at the threshold
            scale = median / _gpd_quantile(shape, 0.5)
            # identical observations leave no spread to fit: then a small one, from the typical length
            typical = float(self.quantiles([0.5])[0])
            scale = max(scale, MIN_TAIL_SCALE * max(typical, threshold), 1e-3)
            self._tail_cache = (blend_from, threshold, scale, shape)
        return self._tail_cache

    def sample_remaining_many(self, elapsed: FloatArray, rng: np.random.Generator, size: int) -> FloatArray:
        """:meth:`sample_remaining` for several elapsed times at once: shape ``(size, len(elapsed))``."""
        values, cumulative = self._sorted()
        e = np.asarray(elapsed, dtype=float)
        start = np.searchsorted(values, e, side="right")
        low = np.where(start > 0, cumulative[np.maximum(start - 1, 0)], 0.0)
        draws = low + rng.random((size, len(e))) * (1.0 - low)
        # np.minimum/np.maximum, not np.clip: the same numbers at a fraction of its overhead, on a hot path
        index = np.minimum(np.maximum(np.searchsorted(cumulative, draws, side="left"), start), len(values) - 1)
        out: FloatArray = values[index] - e
        weighty = 1.0 - low > 1e-6
        if weighty.all() and float(e.max(initial=0.0)) < _blend_from(values):
            return out  # every elapsed time short of the tail: the empirical draws alone (and no tail to fit)
        blend_from, threshold, scale, shape = self.tail()
        # the share of draws from the tail: none short of `blend_from`, all from the threshold on,
        # and all where the observations beyond `elapsed` have lost their weight to recency decay
        share = np.minimum(np.maximum((e - blend_from) / max(threshold - blend_from, 1e-9), 0.0), 1.0)
        share = np.where(weighty, share, 1.0)
        if (share > 0).any():
            grown = scale + max(shape, MIN_TAIL_GROWTH) * np.maximum(e - threshold, 0.0)
            survivor = 1.0 - rng.random((size, len(e)))  # in (0, 1]
            tail = grown * _gpd_quantile(shape, 1.0 - survivor)
            out = np.where(rng.random((size, len(e))) < share, tail, out)
        never_negative: FloatArray = np.maximum(out, 0.0)
        return never_negative


def _blend_from(values: FloatArray) -> float:
    """Where the tail of the sorted ``values`` starts to blend in: three times as many longer
    as the tail is fitted to (see :meth:`RecencySample.tail`)."""
    size = min(tail_size(len(values)), len(values))
    return float(values[-3 * size - 1]) if len(values) > 3 * size else 0.0


def tail_size(count: int) -> int:
    """How many of ``count`` observations the tail beyond the data is fitted to: the longest
    tenth, 20 to 60 of them (a quarter of a small sample, at least 3)."""
    if count < 80:
        return max(3, count // 4)
    return min(60, max(20, count // 10))


def _gpd_quantile(shape: float, q: FloatArray | float) -> Any:
    """The ``q`` quantile of the generalised Pareto distribution of scale 1 and ``shape``
    (exponential at shape 0, heavier above)."""
    if abs(shape) < 1e-9:
        return -np.log1p(-np.asarray(q, dtype=float))
    return ((1.0 - np.asarray(q, dtype=float)) ** (-shape) - 1.0) / shape


def _gpd_shape(ratio: float) -> float:
    """The generalised Pareto shape whose p90 is ``ratio`` times its median, within the bounds
    (bisection: the ratio grows with the shape, from ln 10 / ln 2 at 0)."""

    def ratio_at(shape: float) -> float:
        # _gpd_quantile(shape, 0.9) / _gpd_quantile(shape, 0.5) in plain floats: the bisection
        # evaluates it ~40 times whenever a service's tail is refitted (its arrays cost ~5 µs each)
        if abs(shape) < 1e-9:
            return -math.log1p(-0.9) / -math.log1p(-0.5)
        return float((((1.0 - 0.9) ** -shape - 1.0) / shape) / (((1.0 - 0.5) ** -shape - 1.0) / shape))

    low, high = MIN_TAIL_SHAPE, MAX_TAIL_SHAPE
    if ratio <= ratio_at(low):
        return low
    if ratio >= ratio_at(high):
        return high
    for _ in range(40):
        middle = 0.5 * (low + high)
        low, high = (middle, high) if ratio_at(middle) < ratio else (low, middle)
    return 0.5 * (low + high)


#: bounds of the tail's shape: at the lower one the excesses are exponential (a lighter, bounded
#: tail fitted to a few dozen excesses promised too little: the mixed branch's tails went from 12.9%
#: to 15.3% above p90 with it). The upper one keeps what is left growing about as fast as the time
#: spent (its p90 by ~1 minute a minute, as "a third of the time spent" did): at 0.5 the demo's
#: loans showed "about 3–52 min left" after 26 minutes. The bank log's mean time to go grows by
#: ~0.24 s a second (170 s at 60 s, 300 s at 600 s), a shape of about 0.2
MIN_TAIL_SHAPE = 0.0
MAX_TAIL_SHAPE = 0.3
#: past the data, what is left grows at least by this share of any extra time spent
MIN_TAIL_GROWTH = 0.1
#: the tail's smallest scale, as a share of the median (identical observations have no spread)
MIN_TAIL_SCALE = 0.05


#: bin edges (seconds) of the piecewise-constant hazards: fine where waits usually end, coarse in the tail
HAZARD_EDGES = np.array(
    [0, 5, 10, 20, 30, 45, 60, 90, 120, 180, 240, 300, 420, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200, 10800, 14400],
    dtype=float,
)


#: width of each hazard bin; the last one never ends
HAZARD_WIDTHS = np.append(np.diff(HAZARD_EDGES), np.inf)


#: the episodes a fresh :class:`Survival`'s prior is worth, by default
SURVIVAL_PRIOR_WEIGHT = 2.0


class Survival:
    """Time until something happens, learned from complete and cut-short (censored) episodes.

    A piecewise-constant hazard on :data:`HAZARD_EDGES`: each bin's rate is its
    recency-weighted number of events divided by the time at risk spent in it. Censoring is
    what makes it honest: a customer called after 4 minutes tells us their patience was
    *more than* 4 minutes; a teller whose queue emptied before they called tells us nothing
    about the call but still spent that time at risk.
    """

    __slots__ = ("_cache", "count", "events", "exposure", "memory", "prior_events", "prior_exposure")
    __deepcopy__ = _copy_slots

    def __init__(self, prior_median: float | None, *, memory: float = 0.998, prior_weight: float = SURVIVAL_PRIOR_WEIGHT) -> None:
        bins = len(HAZARD_EDGES)
        self.events = np.zeros(bins)
        self.exposure = np.zeros(bins)
        self.memory = memory
        self.count = 0
        self._cache: tuple[np.ndarray, np.ndarray] | None = None
        # the prior: a constant hazard with the given median, worth `prior_weight` episodes
        self.prior_events = np.zeros(bins)
        self.prior_exposure = np.zeros(bins)
        if prior_median is not None and prior_median > 0:
            rate = np.log(2.0) / prior_median
            widths = self._widths()
            share = np.exp(-rate * HAZARD_EDGES) * (1 - np.exp(-rate * np.minimum(widths, 1e7)))
            self.prior_events = prior_weight * share
            self.prior_exposure = np.where(share > 0, self.prior_events / rate, 0.0)

    @staticmethod
    def _widths() -> np.ndarray:
        return HAZARD_WIDTHS

    def add(self, duration: float, *, happened: bool) -> None:
        """One episode of ``duration`` seconds that ended in the event, or was cut short."""
        duration = max(0.0, float(duration))
        self.events *= self.memory
        self.exposure *= self.memory
        self.exposure += np.minimum(np.maximum(duration - HAZARD_EDGES, 0.0), HAZARD_WIDTHS)
        if happened:
            self.events[int(np.searchsorted(HAZARD_EDGES, duration, side="right")) - 1] += 1.0
        self.count += 1
        self._cache = None

    @property
    def episodes(self) -> float:
        """How many episodes its recency-weighted counts are worth: all it has seen, up to the
        horizon of its memory."""
        return min(float(self.count), 1.0 / (1.0 - self.memory))

    def hazards(self) -> np.ndarray:
        """Events per second of each bin (the last bin's rate continues forever)."""
        events = self.events + self.prior_events
        exposure = self.exposure + self.prior_exposure
        return np.where(exposure > 0, events / np.maximum(exposure, 1e-12), 0.0)

    def _cumulative(self) -> tuple[np.ndarray, np.ndarray]:
        if self._cache is None:
            rates = self.hazards()
            widths = np.diff(HAZARD_EDGES)
            cumulative = np.concatenate(([0.0], np.cumsum(rates[:-1] * widths)))
            self._cache = (rates, cumulative)
        return self._cache

    def survival(self, t: np.ndarray | float) -> np.ndarray:
        """P(nothing has happened by ``t``)."""
        rates, cumulative = self._cumulative()
        survival: np.ndarray = np.exp(-self._cumulative_at(np.asarray(t, dtype=float), rates, cumulative))
        return survival

    @staticmethod
    def _cumulative_at(t: np.ndarray, rates: np.ndarray, cumulative: np.ndarray) -> np.ndarray:
        inside = np.interp(t, HAZARD_EDGES, cumulative)
        beyond = cumulative[-1] + rates[-1] * np.maximum(t - HAZARD_EDGES[-1], 0.0)
        at: np.ndarray = np.where(t > HAZARD_EDGES[-1], beyond, inside)
        return at

    def sample_remaining(self, elapsed: np.ndarray | float, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draws of the time still to go after ``elapsed`` (shape ``(size, len(elapsed))``,
        or ``(size,)`` for a scalar); ``inf`` where the event never happens."""
        scalar = np.ndim(elapsed) == 0
        e = np.atleast_1d(np.asarray(elapsed, dtype=float))
        rates, cumulative = self._cumulative()
        if cumulative[-1] == 0.0 and rates[-1] == 0.0:
            # nothing has ever happened (e.g. no customer ever cancelled): it never will
            never: np.ndarray = np.full((size, len(e)), np.inf)
            return never[:, 0] if scalar else never
        when = self.remaining_given(e, rng.exponential(1.0, (size, len(e))))
        return when[:, 0] if scalar else when

    def remaining_given(self, elapsed: np.ndarray, exponentials: np.ndarray) -> np.ndarray:
        """The time still to go after each ``elapsed`` (one per column) for unit-exponential
        draws of the cumulative hazard still to come: the inverse of :meth:`survival`, so that
        several survivals can share one stream of random numbers."""
        rates, cumulative = self._cumulative()
        # nothing elapsed (a wrap-up not begun, a customer not yet come): the hazard starts at 0
        target = exponentials if not elapsed.any() else self._cumulative_at(elapsed, rates, cumulative) + exponentials
        # invert the piecewise-linear cumulative hazard
        return _past_the_edges(np.interp(target, cumulative, HAZARD_EDGES), target, elapsed, cumulative[-1], rates[-1])


def _past_the_edges(when: np.ndarray, target: np.ndarray, elapsed: np.ndarray, last_cumulative: Any, last_rate: Any) -> np.ndarray:
    """Finish inverting a cumulative hazard: ``when`` interpolated within :data:`HAZARD_EDGES`
    for each ``target``; past the last edge the last bin's rate goes on (``inf`` if it is 0);
    then the time still to go after ``elapsed``. ``last_cumulative`` and ``last_rate`` are one
    number, or one per column."""
    beyond = target > last_cumulative
    if beyond.any():
        with np.errstate(divide="ignore"):
            past = HAZARD_EDGES[-1] + (target - last_cumulative) / last_rate
        when = np.where(beyond, np.where(last_rate > 0, past, np.inf), when)
    when = when - elapsed
    # where the hazard is flat zero the interpolation can land before elapsed; nothing happens there
    when[when < 0] = np.inf
    return when


@dataclass(frozen=True, slots=True)
class ReadinessTable:
    """Per counter, the hazard of its next call after a transaction and otherwise (see
    :meth:`BranchModel.readiness`); rows 0 and 1 are the branch's own two, for a counter with no
    spell of its own yet."""

    #: by (counter, after a transaction?), and by (:func:`idle_class`, after a transaction?)
    rows: dict[tuple[str | int, bool], int]
    #: per row, each :data:`HAZARD_EDGES` bin's rate and the cumulative hazard at its start
    rates: np.ndarray
    cumulative: np.ndarray

    def row(self, counter: str, *, after_service: bool, idle_before: float = 0.0) -> int:
        """The row of ``counter``'s habit after a transaction, or otherwise, in a spell that began
        ``idle_before`` seconds after it was free: the branch's for its idle class past the first,
        else the counter's own."""
        default = 0 if after_service else 1
        idle = idle_class(idle_before)
        if idle > 0:
            return self.rows.get((idle, after_service), default)
        return self.rows.get((counter, after_service), default)

    def survival(self, counter: str, t: np.ndarray | float, *, after_service: bool, idle_before: float = 0.0) -> np.ndarray:
        """P(``counter`` has not called by ``t`` seconds into a spell (that began ``idle_before`` after it was free))."""
        row = self.row(counter, after_service=after_service, idle_before=idle_before)
        return np.asarray(np.exp(-Survival._cumulative_at(np.asarray(t, dtype=float), self.rates[row], self.cumulative[row])))

    def remaining(self, rows: np.ndarray, elapsed: np.ndarray, exponentials: np.ndarray) -> np.ndarray:
        """:meth:`Survival.remaining_given` with a row per column, in one pass: the time still
        to go after ``elapsed[j]`` by row ``rows[j]``, for the unit-exponential draws in column
        ``j`` of ``exponentials`` (``inf`` where the event never happens)."""
        rates, cumulative = self.rates[rows], self.cumulative[rows]
        columns = np.arange(len(rows))
        # every row shares the bin edges: one lookup of the bin each column stands in now
        at = np.maximum(np.searchsorted(HAZARD_EDGES, elapsed, side="right") - 1, 0)
        start = cumulative[columns, at] + rates[columns, at] * (elapsed - HAZARD_EDGES[at])
        target = start[None, :] + exponentials
        # invert each column's piecewise-linear cumulative hazard in one interpolation: column j's
        # is shifted up by j × a span larger than any of them, which keeps the joined curve increasing
        span = float(max(cumulative[:, -1].max(), target.max())) + 1.0
        shift = columns * span
        when = np.interp(target + shift[None, :], (cumulative + shift[:, None]).ravel(), np.tile(HAZARD_EDGES, len(rows)))
        return _past_the_edges(when, target, elapsed[None, :], cumulative[None, :, -1], rates[None, :, -1])


class ShareByWait:
    """Share of called customers who had silently left, as a non-decreasing function of their wait.

    Per wait bin, recency-weighted counts of calls and no-shows, made monotone by pooling
    adjacent violators: the longer someone waited, the likelier they are gone.
    """

    __slots__ = ("_cache", "calls", "memory", "misses", "prior_rate", "prior_weight")
    __deepcopy__ = _copy_slots

    def __init__(self, prior_rate: float, *, prior_weight: float = 3.0, memory: float = 0.998) -> None:
        self.calls = np.zeros(len(HAZARD_EDGES))
        self.misses = np.zeros(len(HAZARD_EDGES))
        self.prior_rate = prior_rate
        self.prior_weight = prior_weight
        self.memory = memory
        self._cache: np.ndarray | None = None

    def add(self, waited: float, *, missed: bool) -> None:
        """One call after ``waited`` seconds; ``missed`` if it ended in a no-show."""
        self.calls *= self.memory
        self.misses *= self.memory
        index = int(np.searchsorted(HAZARD_EDGES, max(0.0, waited), side="right")) - 1
        self.calls[index] += 1.0
        self.misses[index] += 1.0 if missed else 0.0
        self._cache = None

    def shares(self) -> np.ndarray:
        """The monotone share per bin."""
        if self._cache is None:
            weights = self.calls + self.prior_weight
            rates = (self.misses + self.prior_rate * self.prior_weight) / weights
            self._cache = _pool_adjacent_violators(rates, weights)
        return self._cache

    def at(self, waited: np.ndarray) -> np.ndarray:
        """Share for each wait in ``waited``."""
        index = np.maximum(np.searchsorted(HAZARD_EDGES, waited, side="right") - 1, 0)
        shares: np.ndarray = self.shares()[index]
        return shares

    @property
    def overall(self) -> float:
        """The recency-weighted share over all waits."""
        total = float(self.calls.sum())
        return float(self.misses.sum()) / total if total > 0 else self.prior_rate


def _pool_adjacent_violators(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The non-decreasing sequence closest to ``values`` in weighted least squares."""
    blocks: list[list[float]] = []  # [value, weight, length]
    for value, weight in zip(values.tolist(), weights.tolist(), strict=True):
        blocks.append([value, weight, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            v2, w2, n2 = blocks.pop()
            v1, w1, n1 = blocks.pop()
            total = w1 + w2
            blocks.append([(v1 * w1 + v2 * w2) / total if total > 0 else (v1 + v2) / 2, total, n1 + n2])
    return np.repeat([v for v, _, _ in blocks], [int(n) for _, _, n in blocks])


@dataclass(slots=True)
class DayRecord:
    """What one local day looked like, to replay its rhythm forward on later days.

    Times are seconds since local midnight.
    """

    day: date
    arrivals: dict[str, list[float]] = field(default_factory=dict)
    opened: dict[str, list[tuple[float, Profile]]] = field(default_factory=dict)
    closed: dict[str, list[float]] = field(default_factory=dict)
    #: per counter: (start, length or None while running, reason)
    pauses: dict[str, list[list[Any]]] = field(default_factory=dict)
    #: "" for the branch's own day; a sister's day borrowed from a bank prior says which, since
    #: two sisters' days may share a date
    origin: str = ""

    def __deepcopy__(self, memo: dict[int, Any]) -> DayRecord:
        # times, counter names and profiles are immutable: only the containers are copied
        # (copy.deepcopy walked every float and tuple: a fifth of a forecast's model copy)
        return DayRecord(
            day=self.day,
            origin=self.origin,
            arrivals={k: list(v) for k, v in self.arrivals.items()},
            opened={k: list(v) for k, v in self.opened.items()},
            closed={k: list(v) for k, v in self.closed.items()},
            pauses={k: [list(p) for p in v] for k, v in self.pauses.items()},
        )


#: how far (seconds) a sister's first opening of a counter may be from the branch's own today
RHYTHM_TOLERANCE = 1800.0


def same_rhythm(sister: DayRecord, today: DayRecord) -> bool:
    """Whether a sister's day agrees with what the branch has done today so far: every counter
    the branch opened today first opened within :data:`RHYTHM_TOLERANCE` of the same time there,
    and the sister opened no counter well before now that the branch has not. A sister of another
    design (other counters, other shifts) would otherwise replay a day this branch does not have:
    measured, a branch in shifts replaying a four-counter branch's days forecast its first day
    5–9 times worse than the oracle (benchmarks/sister_priors.py)."""
    times = [t for v in today.arrivals.values() for t in v] + [t for v in today.opened.values() for t, _ in v]
    times += [t for v in today.closed.values() for t in v] + [p[0] for v in today.pauses.values() for p in v]
    now = max(times, default=0.0)
    for name, openings in today.opened.items():
        theirs = sister.opened.get(name)
        if not openings or not theirs or abs(theirs[0][0] - openings[0][0]) > RHYTHM_TOLERANCE:
            return False
    return all(name in today.opened or not openings or openings[0][0] + RHYTHM_TOLERANCE >= now for name, openings in sister.opened.items())


def time_of_day(event: Event) -> float:
    """Seconds since local midnight."""
    ts = event.ts
    return ts.hour * 3600.0 + ts.minute * 60.0 + ts.second + ts.microsecond / 1e6


@dataclass(slots=True)
class LogMeans:
    """Recency-weighted mean and spread of log durations per key, for multiplicative effects.

    Keys are ``("service", code)`` for a service's baseline and ``(kind, code, group)`` for its
    effects (``kind`` = ``"counter"`` or ``"hour"``).
    """

    sums: dict[Any, float] = field(default_factory=dict)
    squares: dict[Any, float] = field(default_factory=dict)
    weights: dict[Any, float] = field(default_factory=dict)
    #: groups seen per (kind, service), in order of first sight (a dict, not a set: sums over
    #: them must not depend on Python's string hashing)
    groups: dict[tuple[str, str], dict[Any, None]] = field(default_factory=dict)
    memory: float = 0.995

    def __deepcopy__(self, memo: dict[int, Any]) -> LogMeans:
        # keys are tuples of strings and numbers, values floats: copying the dicts is enough
        # (copy.deepcopy walked every key: half of a forecast's model copy)
        return LogMeans(
            sums=dict(self.sums),
            squares=dict(self.squares),
            weights=dict(self.weights),
            groups={k: dict(v) for k, v in self.groups.items()},
            memory=self.memory,
        )

    def add(self, key: Any, log_value: float) -> None:
        """Record one observation of ``key``."""
        self.sums[key] = self.sums.get(key, 0.0) * self.memory + log_value
        self.squares[key] = self.squares.get(key, 0.0) * self.memory + log_value * log_value
        self.weights[key] = self.weights.get(key, 0.0) * self.memory + 1.0
        if len(key) == 3:
            self.groups.setdefault((key[0], key[1]), {})[key[2]] = None

    def mean(self, key: Any) -> tuple[float, float]:
        """(mean, weight) of ``key``; weight 0 when never seen."""
        weight = self.weights.get(key, 0.0)
        return (self.sums[key] / weight if weight > 0 else 0.0), weight

    def variance(self, key: Any) -> float:
        """Spread of the log durations of ``key`` (0 when unknown)."""
        mean, weight = self.mean(key)
        return max(self.squares.get(key, 0.0) / weight - mean * mean, 0.0) if weight > 0 else 0.0

    def between_groups(self, kind: str, service: str) -> float:
        """How much the groups of ``kind`` really differ (variance of their true effects),
        by the method of moments: the spread of group means minus what sampling alone explains."""
        base, _ = self.mean(("service", service))
        within = self.variance(("service", service))
        spreads, noise = [], []
        for group in self.groups.get((kind, service), ()):
            mean, weight = self.mean((kind, service, group))
            if weight >= 2.0:
                spreads.append((mean - base) ** 2)
                noise.append(within / weight)
        if len(spreads) < 2:
            return 0.0
        return max(float(np.mean(spreads)) - float(np.mean(noise)), 0.0)


@dataclass(slots=True)
class Priors:
    """What the branch assumes before it has seen anything (seconds, or a ratio)."""

    service_seconds: float = 300.0
    walk_up_seconds: float = 30.0
    wrap_up_seconds: float = 20.0
    reaction_seconds: float = 10.0
    no_show_seconds: float = 90.0
    pause_seconds: float = 600.0
    pause_overrun: float = 1.2
    no_show_rate: float = 0.05
    #: how long a transaction really lasts after a teller's heads-up, in declared minutes: 1 = as declared
    heads_up_realised: float = 1.0
    #: what sister branches teach (``queue_board.forecast.pooling.bank_prior``): per-service
    #: lengths, pause overrun and patience start from it instead of the numbers above
    bank: BankPrior | None = None


@dataclass(slots=True)
class ReadyEpisode:
    """A counter's free spell: how long someone it serves has been waiting during it.

    The clock runs only while the counter is free *and* someone eligible waits, and it is
    not reset when the queue empties: a teller who let callers wait for two minutes of a
    free spell is probably on a break, however often the queue emptied meanwhile.
    """

    after_service: bool
    accumulated: float = 0.0
    since: float | None = None
    #: how long the counter had been free before anyone it serves first waited (an agent idle
    #: for ten minutes is often away, though logged in)
    idle_before: float | None = None

    def elapsed(self, now: float) -> float:
        """Seconds of the spell with someone eligible waiting, up to ``now``."""
        return self.accumulated + (now - self.since if self.since is not None else 0.0)


@dataclass(slots=True)
class BranchModel:
    """What one branch has learned; updated by :func:`learn` and :func:`learn_after` per event."""

    priors: Priors = field(default_factory=Priors)
    services: dict[str, RecencySample] = field(default_factory=dict)
    walk_up: RecencySample = field(init=False)
    no_show_wait: RecencySample = field(init=False)
    pause_length: RecencySample = field(init=False)
    pause_overrun: RecencySample = field(init=False)
    #: per heads-up, the time from it to the end of the transaction over the minutes declared;
    #: see :func:`learn_heads_ups`
    heads_up_realised: RecencySample = field(init=False)
    #: free counter, someone waiting → call: after a transaction (wrap-up) or otherwise (reaction)
    wrap_up: Survival = field(init=False)
    reaction: Survival = field(init=False)
    #: the same, per counter: only its own episodes (see :meth:`readiness`)
    counter_wrap_up: dict[str, Survival] = field(default_factory=dict)
    counter_reaction: dict[str, Survival] = field(default_factory=dict)
    #: the same, for the whole branch, of spells that began after the counter had been idle long
    #: (keyed by :func:`idle_class` ≥ 1 and whether the spell followed a transaction)
    idle_readiness: dict[tuple[int, bool], Survival] = field(default_factory=dict)
    #: how long a waiting customer stays before cancelling (kiosk, hang-up)
    patience: Survival = field(init=False)
    #: share of called customers who had silently left, by how long they waited
    silent_leaving: ShareByWait = field(init=False)
    #: multiplicative effects on transaction length: per (service, counter) and per (service, hour)
    log_durations: LogMeans = field(default_factory=LogMeans)
    #: finished days, oldest first, and the day in progress
    days: list[DayRecord] = field(default_factory=list)
    today: DayRecord | None = None
    #: closes of a counter with customers it serves still waiting, and all closes
    closes_with_queue: float = 0.0
    closes: float = 0.0
    ready: dict[str, ReadyEpisode] = field(default_factory=dict)
    _factor_cache: dict[tuple[str, str | None, int | None], float] = field(default_factory=dict)
    _readiness_cache: ReadinessTable | None = None
    #: spells ended since the table was last fitted (see :func:`learn_after`)
    _spells_since_readiness: int = 0
    _between: dict[tuple[str, str], float] = field(default_factory=dict)
    _finished: dict[str, int] = field(default_factory=dict)
    #: the forecast's replays of recent days, kept per minute (see forecast._rhythm)
    rhythm_cache: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    #: recent forecasts and outcomes, for calibration (see calibration.py)
    calibrator: Calibrator = field(default_factory=Calibrator)
    #: who is called out of turn: the hidden priority class (see latent_priority.py)
    latent: LatentPriority = field(default_factory=LatentPriority)

    def __post_init__(self) -> None:
        p = self.priors
        self.walk_up = RecencySample(p.walk_up_seconds, prior_spread=0.7)
        self.no_show_wait = RecencySample(p.no_show_seconds, prior_spread=0.5)
        self.pause_length = RecencySample(p.pause_seconds, prior_spread=0.7, half_life=40)
        self.pause_overrun = RecencySample(p.pause_overrun, prior_spread=0.2, half_life=40)
        if p.bank is not None and p.bank.pause_overrun is not None:
            self.pause_overrun = p.bank.pause_overrun.sample(half_life=40)
        # a small prior (three observations' worth) around "as declared": a branch's own tellers
        # soon say how their five minutes run
        self.heads_up_realised = RecencySample(p.heads_up_realised, prior_spread=0.3, prior_weight=3.0, half_life=40)
        self.wrap_up = Survival(p.wrap_up_seconds)
        self.reaction = Survival(p.reaction_seconds)
        self.patience = p.bank.patience_survival() if p.bank is not None else Survival(None)
        self.silent_leaving = ShareByWait(p.no_show_rate)

    def readiness(self) -> ReadinessTable:
        """How soon each counter calls once it is free and someone it serves waits, after a
        transaction (wrap-up) or otherwise (reaction): its own episodes, shrunk toward the branch's.

        Tellers differ far more here than in their transactions (issue 13, item 3): on the
        Anonymous Bank log one agent's median is 4 s with 0.2% of spells past ten minutes, and
        another's 66 s with 15%, breaks taken while logged in. Per hazard bin, the branch's
        counts are a prior worth :data:`READINESS_PRIOR_EPISODES` of its episodes, so a new
        teller starts as the branch's average and their own spells take over as they accrue.
        """
        if self._readiness_cache is not None:
            return self._readiness_cache
        return self._fit_readiness()

    def _fit_readiness(self) -> ReadinessTable:
        """The table of :meth:`readiness` from the spells so far (refitted by :func:`learn_after`)."""
        rows: dict[tuple[str | int, bool], int] = {}
        hazards = [self.wrap_up.hazards()[None, :], self.reaction.hazards()[None, :]]
        for after_service, branch, by_counter in ((True, self.wrap_up, self.counter_wrap_up), (False, self.reaction, self.counter_reaction)):
            # each counter's own spells, and the branch's that began after a long idle
            own: dict[str | int, Survival] = {name: survival for name, survival in by_counter.items()}
            own.update({group: survival for (group, after), survival in self.idle_readiness.items() if after == after_service})
            if not own:
                continue
            names = sorted(own, key=str)
            # the branch's prior counts are worth SURVIVAL_PRIOR_WEIGHT episodes on top of its own
            scale = READINESS_PRIOR_EPISODES / (branch.episodes + SURVIVAL_PRIOR_WEIGHT)
            events = np.array([own[name].events for name in names]) + scale * (branch.events + branch.prior_events)
            exposure = np.array([own[name].exposure for name in names]) + scale * (branch.exposure + branch.prior_exposure)
            first = sum(len(block) for block in hazards)
            rows.update({(name, after_service): first + k for k, name in enumerate(names)})
            hazards.append(np.where(exposure > 0, events / np.maximum(exposure, 1e-12), 0.0))
        rates = np.vstack(hazards)
        cumulative = np.hstack((np.zeros((len(rates), 1)), np.cumsum(rates[:, :-1] * HAZARD_WIDTHS[None, :-1], axis=1)))
        return ReadinessTable(rows=rows, rates=rates, cumulative=cumulative)

    def service(self, code: str) -> RecencySample:
        """The duration sample of one service (created from the prior on first use)."""
        sample = self.services.get(code)
        if sample is None:
            pooled = self.priors.bank.services.get(code) if self.priors.bank is not None else None
            if pooled is not None:
                sample = self.services[code] = pooled.sample()
            else:
                sample = self.services[code] = RecencySample(self.priors.service_seconds, prior_spread=0.7)
        return sample

    @property
    def no_show_rate(self) -> float:
        """Share of calls that ended in a no-show (recency-weighted)."""
        return self.silent_leaving.overall

    def duration_factor(self, service: str, counter: str | None, hour: int | None) -> float:
        """How much longer than the service's usual a transaction is at ``counter`` in ``hour``.

        Each effect is the difference of mean log durations, shrunk toward zero by empirical
        Bayes: by ``τ² / (τ² + σ²/n)``, where ``τ²`` is how much tellers (or hours) of this
        service really differ and ``σ²/n`` the noise in one group's mean. Where groups do not
        really differ nothing is applied; a new teller is assumed average.
        """
        cached = self._factor_cache.get((service, counter, hour))
        if cached is not None:
            return cached
        base, base_weight = self.log_durations.mean(("service", service))
        effect = 0.0
        if base_weight > 0:
            within = self.log_durations.variance(("service", service))
            for kind, group in (("counter", counter), ("hour", hour)):
                if group is None:
                    continue
                mean, weight = self.log_durations.mean((kind, service, group))
                if weight <= 0:
                    continue
                between = self._between.get((kind, service))
                if between is None:
                    between = self._between[(kind, service)] = self.log_durations.between_groups(kind, service)
                if between > 0:
                    effect += (mean - base) * between / (between + within / weight)
        factor = self._factor_cache[(service, counter, hour)] = float(np.exp(effect))
        return factor

    def past_days(self) -> list[DayRecord]:
        """Finished days, oldest first, whose rhythm the forecast replays: the branch's own, or
        until it has finished one, its sisters' latest days from the bank prior (issue 13: a new
        branch's first day otherwise knows nothing of when its counters open, pause and close)."""
        if self.days or self.priors.bank is None:
            return self.days
        return [day for day in self.priors.bank.days if self.today is None or same_rhythm(day, self.today)]

    def copy_for_forecast(self) -> BranchModel:
        """A copy a forecast can read while this model keeps learning.

        Finished days never change, so they are shared rather than copied; the calibrator
        keeps its corrections but not its history, and the caches start empty.
        """
        memo: dict[int, Any] = {id(day): day for day in self.days}
        # priors are replaced whole, never changed: shared (a bank prior carries sister days)
        memo[id(self.priors)] = self.priors
        memo[id(self.calibrator)] = self.calibrator.corrections_only()
        memo[id(self.rhythm_cache)] = {}
        memo[id(self._factor_cache)] = {}
        if self._readiness_cache is not None:
            # replaced whole when it changes, never changed in place: shared
            memo[id(self._readiness_cache)] = self._readiness_cache
        memo[id(self._between)] = dict(self._between)
        copied: BranchModel = copy.deepcopy(self, memo)
        return copied


#: seconds a counter had been free with nobody it serves waiting that start a new idle class:
#: a wrap-up that long is no wrap-up; ten minutes is a break (``idle_class``)
IDLE_EDGES = (120.0, 600.0)


def idle_class(idle_before: float) -> int:
    """0 for a spell that began within :data:`IDLE_EDGES`' first of the counter being free,
    1 and 2 for the longer idle classes."""
    return bisect.bisect_right(IDLE_EDGES, idle_before)


#: what the branch's free-spell hazard is worth, in episodes, as the prior of one counter's
#: (:meth:`BranchModel.readiness`): about a morning of a teller's own calls
READINESS_PRIOR_EPISODES = 20.0
#: spells between two fits of the tellers' habits (the forecast's table): a fit costs about
#: a tenth of a millisecond, which every spell would pay on the bank log
READINESS_REFIT = 10

#: transactions of a service between two estimates of how much its tellers and hours differ
BETWEEN_REFIT = 20

#: days of history kept for the rhythm of the branch
MAX_DAYS = 28


def _day_record(model: BranchModel, event: Event) -> DayRecord:
    if model.today is None or model.today.day != event.day:
        model.calibrator.new_day()
        if model.today is not None:
            model.days.append(model.today)
            del model.days[:-MAX_DAYS]
        model.today = DayRecord(day=event.day)
    return model.today


#: how many heads-ups a branch must have seen before its forecasts trust their learned realisation
#: half the time (see :func:`heads_up_trust`)
HEADS_UP_TRUST_PRIOR = 3.0


def learn_heads_ups(model: BranchModel, heads_ups: tuple[HeadsUp, ...], ended_at: float) -> None:
    """Learn how long a heads-up of N minutes really adds, from a transaction that ended at
    ``ended_at``: per heads-up, the time from it to the end over the N minutes declared.

    To the end, not to the next heads-up: a forecast reads the latest heads-up without knowing
    whether another will follow, and every heads-up of the past was once the latest one, so the
    sample is what the transaction really did after a heads-up, whatever came after it."""
    for heads_up in heads_ups:
        model.heads_up_realised.add((ended_at - heads_up.at) / (heads_up.minutes * 60.0))


def heads_up_trust(model: BranchModel) -> float:
    """The share of scenarios in which a transaction's remaining time after a heads-up is the
    learned realisation alone (else at least the usual remaining time too): none before the branch
    has seen a heads-up end, half after :data:`HEADS_UP_TRUST_PRIOR`, most after a few dozen."""
    seen = float(model.heads_up_realised.count)
    return seen / (seen + HEADS_UP_TRUST_PRIOR)


def heads_up_remaining(model: BranchModel, heads_up: HeadsUp, now: float, rng: np.random.Generator, size: int) -> FloatArray:
    """Draws of the seconds still to go, at ``now``, of a transaction after a heads-up: the learned
    realisation of its declared minutes, given how long ago it was given (as a declared pause)."""
    declared = heads_up.minutes * 60.0
    since = max(0.0, now - heads_up.at)
    draws: FloatArray = model.heads_up_realised.sample_remaining(since / declared, rng, size) * declared
    return draws


def learn(model: BranchModel, state: BranchState, event: Event) -> None:
    """Update ``model`` from an accepted event, *before* ``apply`` changes ``state``."""
    kind = event.type
    now = event.at
    record = _day_record(model, event)
    tod = time_of_day(event)
    if kind in ("service_finished", "ticket_transferred"):
        ending = state.counters.get(event.counter or "")
        if ending is not None and ending.heads_ups:
            learn_heads_ups(model, ending.heads_ups, now)
    if kind == "ticket_issued":
        assert event.service is not None
        record.arrivals.setdefault(event.service, []).append(tod)
    elif kind == "service_finished":
        ticket = state.tickets[event.ticket]  # type: ignore[index]
        if ticket.started_at is not None:
            duration = now - ticket.started_at
            model.service(ticket.service).add(duration)
            log_value = float(np.log(max(duration, 1.0)))
            offset = event.ts.utcoffset()
            hour = int(time_of_day_at(ticket.started_at, offset.total_seconds() if offset else 0.0) // 3600)
            model.log_durations.add(("service", ticket.service), log_value)
            model.log_durations.add(("counter", ticket.service, event.counter), log_value)
            model.log_durations.add(("hour", ticket.service, hour), log_value)
            model._factor_cache.clear()
            model._finished[ticket.service] = model._finished.get(ticket.service, 0) + 1
            if model._finished[ticket.service] % BETWEEN_REFIT == 0 or model._finished[ticket.service] < 2 * BETWEEN_REFIT:
                # how much tellers really differ changes slowly: re-estimated every few transactions,
                # here rather than when a forecast first asks, so that it depends on the log alone
                for group_kind in ("counter", "hour"):
                    model._between[(group_kind, ticket.service)] = model.log_durations.between_groups(group_kind, ticket.service)
    elif kind == "service_started":
        ticket = state.tickets[event.ticket]  # type: ignore[index]
        if ticket.called_at is not None:
            model.walk_up.add(now - ticket.called_at)
            model.silent_leaving.add(ticket.called_at - ticket.issued_at, missed=False)
    elif kind == "ticket_no_show":
        ticket = state.tickets[event.ticket]  # type: ignore[index]
        if ticket.called_at is not None:
            model.no_show_wait.add(now - ticket.called_at)
            model.silent_leaving.add(ticket.called_at - ticket.issued_at, missed=True)
    elif kind == "ticket_called":
        ticket = state.tickets[event.ticket]  # type: ignore[index]
        if ticket.transfers == 0:
            # patience outlasted this wait: a censored observation
            model.patience.add(now - ticket.issued_at, happened=False)
            model.calibrator.resolve((state.day, ticket.label), now - ticket.issued_at)
        model.latent.observe_call(state, ticket, state.counters.get(event.counter or ""), now)
    elif kind == "ticket_cancelled":
        ticket = state.tickets[event.ticket]  # type: ignore[index]
        model.patience.add(now - ticket.issued_at, happened=True)
        model.calibrator.forget((state.day, ticket.label))
    elif kind == "counter_opened":
        assert event.counter is not None and event.services is not None
        record.opened.setdefault(event.counter, []).append((tod, event.services))
    elif kind == "counter_paused":
        assert event.counter is not None
        record.pauses.setdefault(event.counter, []).append([tod, None, event.reason])
    elif kind in ("counter_resumed", "counter_closed"):
        counter = state.counters[event.counter]  # type: ignore[index]
        if counter.status is CounterStatus.PAUSED and state.day == event.day:
            # a pause left open overnight says nothing about how long pauses last
            length = now - counter.since
            model.pause_length.add(length)
            if counter.pause_minutes and kind == "counter_resumed":
                model.pause_overrun.add(length / (counter.pause_minutes * 60.0))
            running = record.pauses.get(counter.name)
            if running and running[-1][1] is None:
                running[-1][1] = length
        if kind == "counter_closed":
            assert event.counter is not None
            record.closed.setdefault(event.counter, []).append(tod)
            model.closes += 1.0
            if has_eligible_waiting(state, counter.services):
                model.closes_with_queue += 1.0


def predicted_seconds(model: BranchModel, service: str, hour: int | None) -> float:
    """The transaction length a ticket of ``service`` taken in local ``hour`` is predicted to
    have, before anyone knows its counter: the learned median, scaled by the hour's effect.

    Recorded on ``ticket_issued`` (``predicted_seconds``) and read by express counters; the
    forecast predicts future arrivals with the same function, to 0.1 s as the log keeps it.
    """
    median = float(model.service(service).quantiles([0.5])[0]) * model.duration_factor(service, None, hour)
    return round(median, 1)


def time_of_day_at(at: float, utc_offset_seconds: float) -> float:
    """Seconds since local midnight of the POSIX time ``at`` at that UTC offset."""
    return (at + utc_offset_seconds) % 86400.0


def ticket_segment(state: BranchState, label: str) -> Segment:
    """What a ticket's tails are calibrated by beyond its forecast's size: its service and the
    local hour it was issued (at the offset of the state's last event)."""
    ticket = state.tickets[label]
    offset = state.last_ts.utcoffset() if state.last_ts is not None else None
    hour = int(time_of_day_at(ticket.issued_at, offset.total_seconds() if offset is not None else 0.0) // 3600)
    return (ticket.service, hour)


def _touched_counters(state: BranchState, event: Event) -> list[tuple[str, Counter]]:
    """Counters whose free spell ``event`` can start, pause or end: the one it names, and
    those serving the service whose queue it changed."""
    if event.type in ("ticket_issued", "ticket_cancelled", "ticket_called", "ticket_transferred"):
        ticket = state.tickets.get(event.ticket or "")
        services = {ticket.service} if ticket is not None else set()
        if event.service:
            services.add(event.service)
        return [
            (name, c)
            for name, c in state.counters.items()
            if name == event.counter or any(s in tier for tier in c.services for s in services)
        ]
    counter = state.counters.get(event.counter or "")
    return [(counter.name, counter)] if counter is not None else []


def learn_promise(model: BranchModel, state: BranchState, event: Event) -> None:
    """Remember the raw forecast a new ticket's promise came from, to calibrate by its outcome.

    Read from the ``ticket_issued`` event itself (``told_raw``), so a restarted server, another
    process and ``replay`` all calibrate from the same inputs: the log.
    """
    if event.told_raw is not None and event.ticket is not None:
        # ``state`` already holds the new ticket: the segment it is told by is the one it learns in
        segment = ticket_segment(state, event.ticket)
        model.calibrator.remember((state.day, event.ticket), Range(*event.told_raw), segment)


def learn_after(model: BranchModel, state: BranchState, event: Event) -> None:
    """Update what needs the state *after* ``event``: the clocks of free counters' next calls,
    and the promise a new ticket was told.

    A free spell ends with the counter's call (an observed wrap-up or reaction time, on the
    clock of :class:`ReadyEpisode`) or, censored, when it pauses or closes.
    """
    now = event.at
    if event.type == "ticket_issued":
        learn_promise(model, state, event)
    for name, counter in _touched_counters(state, event):
        episode = model.ready.get(name)
        if counter.status in FREE:
            if episode is None or (counter.free_since == now and event.counter == name):
                episode = model.ready[name] = ReadyEpisode(after_service=counter.status is CounterStatus.WRAPPING_UP)
            ready = has_eligible_waiting(state, counter.services)
            if ready and episode.since is None:
                episode.since = now
                if episode.idle_before is None:
                    episode.idle_before = now - (counter.free_since if counter.free_since is not None else now)
            elif not ready and episode.since is not None:
                episode.accumulated += now - episode.since
                episode.since = None
        elif episode is not None:
            called = event.type == "ticket_called" and event.counter == name
            waited = episode.elapsed(now)
            if called or waited > 0:
                sample = model.wrap_up if episode.after_service else model.reaction
                sample.add(waited, happened=called)
                own = model.counter_wrap_up if episode.after_service else model.counter_reaction
                own.setdefault(name, Survival(None)).add(waited, happened=called)
                idle = idle_class(episode.idle_before or 0.0)
                if idle > 0:
                    model.idle_readiness.setdefault((idle, episode.after_service), Survival(None)).add(waited, happened=called)
                # refit here, every few spells, not when a forecast first asks: the table then
                # depends on the log alone, not on when something forecast (as the calibrator)
                model._spells_since_readiness += 1
                if model._spells_since_readiness >= READINESS_REFIT:
                    model._readiness_cache = model._fit_readiness()
                    model._spells_since_readiness = 0
            del model.ready[name]
