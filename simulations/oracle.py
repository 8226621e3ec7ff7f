"""The oracle: the engine's forecast run on the simulator's *true* parameters.

An :class:`Oracle` knows the :class:`~simulations.scenarios.Scenario` a log was simulated
from, and nothing the branch could not see: not a waiting customer's actual patience, not
the day's actual future arrivals, not how long the transaction in progress will really take.
From the observable :class:`~queue_board.core.branch.BranchState` it runs the branch forward
with :func:`queue_board.forecast.monte_carlo.forecast` itself, handing it a :class:`TrueModel` in place
of the learned :class:`~queue_board.forecast.durations.BranchModel`. So the oracle differs from the
engine in what it draws from, not in how it forecasts: its error is the practical limit of
the engine's, and the gap between the two is what learning leaves on the table.

How each quantity the forecast reads is answered from the truth:

- transactions, walk-up, no-show wait, wrap-up, reaction: the scenario's distributions,
  drawn *conditionally* on how long they have lasted (exact for every distribution class of
  :mod:`simulations.scenarios`: see :func:`sample_beyond`); a counter's speed factor is
  ``1 / speed`` for that service;
- patience: a customer gives up after a draw of the service's patience and then cancels
  with the scenario's ``cancel_probability``; the time to a cancellation is drawn given that
  the customer has not cancelled yet (Bayes on both the patience and the cancel type), and
  the share of called customers who had silently left is ``(1 − p) F(w) / (1 − p F(w))``;
- pauses in progress: the overrun of the pause's own reason at that counter;
- the rest of the day (the "rhythm" the forecast replays): synthetic days drawn from the
  truth from now on (Poisson arrivals at the true hourly rates, the planned and random
  pauses with their true overruns, opening and closing times), instead of recorded ones;
- which free counters' call clocks are running (``ready``) and which pauses were already
  taken today: observable, kept by a learned ``BranchModel`` fed the same events.

Approximations (where ``forecast()``'s interface cannot say what the truth needs) are listed
on :class:`TrueModel`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, time, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, cast

import numpy as np
import numpy.typing as npt

from queue_board.core.branch import BranchState, Counter, CounterStatus, Ticket
from queue_board.core.events import Event
from queue_board.forecast.durations import (
    HAZARD_EDGES,
    BranchModel,
    DayRecord,
    ReadinessTable,
    ReadyEpisode,
    learn,
    learn_after,
    time_of_day_at,
)
from queue_board.forecast.latent_priority import LatentPriority
from queue_board.forecast.monte_carlo import HORIZON, RHYTHM_DAYS, Forecast, forecast
from simulations.scenarios import (
    SCENARIOS,
    Constant,
    CounterSpec,
    Distribution,
    Exponential,
    LogNormal,
    Mixture,
    Pareto,
    Scenario,
    Uniform,
)

FloatArray = npt.NDArray[np.float64]
Quantiles = tuple[float, float, float]
Shape = int | tuple[int, ...]

PROBS = np.array([0.1, 0.5, 0.9])
#: synthetic events "at the first free moment from now" are put this far after now, because
#: the forecast replays only what happens strictly after now
JUST_AFTER = 1e-3
#: waits (seconds) on which the share of silently gone customers is tabulated
SHARE_GRID = np.concatenate(([0.0], np.geomspace(1.0, 86400.0, 1200)))


# ------------------------------------------------------------------ exact conditional laws


@dataclass(frozen=True, slots=True)
class Never(Distribution):
    """A time that never comes (a customer of a scenario without patience never gives up)."""

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        """``size`` infinities (consumes no randomness)."""
        return np.full(size, math.inf)

    def mean(self) -> float:
        """Infinite."""
        return math.inf


@dataclass(frozen=True, slots=True)
class Scaled(Distribution):
    """``factor`` times a draw of ``base`` (a pause: declared seconds times its overrun)."""

    base: Distribution
    factor: float

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        """Scaled draws of the base."""
        return self.base.sample(rng, size) * self.factor

    def mean(self) -> float:
        """The base's mean, scaled."""
        return self.base.mean() * self.factor


def _floats(values: Any) -> FloatArray:
    """``values`` as a float array (numpy's ufuncs are typed loosely)."""
    return np.asarray(values, dtype=np.float64)


def _mixture_weights(mixture: Mixture) -> FloatArray:
    weights = np.array([w for w, _ in mixture.parts], dtype=float)
    return _floats(weights / weights.sum())


_erfc = np.vectorize(math.erfc, otypes=[float])


def _normal_sf(z: FloatArray) -> FloatArray:
    """P(Z > z) for a standard normal, accurate far into the tail (no 1 − Φ cancellation)."""
    out: FloatArray = 0.5 * _erfc(np.asarray(z, dtype=float) / math.sqrt(2.0))
    return out


# Acklam's rational approximation of the normal quantile (relative error < 1.2e-9)
_ACKLAM_A = (
    -39.69683028665376,
    220.9460984245205,
    -275.9285104469687,
    138.3577518672690,
    -30.66479806614716,
    2.506628277459239,
)
_ACKLAM_B = (-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572, 1.0)
_ACKLAM_C = (
    -0.007784894002430293,
    -0.3223964580411365,
    -2.400758277161838,
    -2.549732539343734,
    4.374664141464968,
    2.938163982698783,
)
_ACKLAM_D = (0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416, 1.0)
_ACKLAM_LOW = 0.02425


def _normal_isf(p: FloatArray) -> FloatArray:
    """The z with P(Z > z) = p, vectorised; small p (the far upper tail) stays accurate."""
    p = np.clip(np.asarray(p, dtype=float), 1e-300, 1.0 - 1e-16)
    z = np.empty_like(p)
    # by symmetry isf(p) = −ppf(p); ppf's lower tail works on log(p), so tiny p keeps its precision
    low = p < _ACKLAM_LOW
    high = p > 1.0 - _ACKLAM_LOW
    mid = ~(low | high)
    r = p[mid] - 0.5
    s = r * r
    z[mid] = np.polyval(_ACKLAM_A, s) * r / np.polyval(_ACKLAM_B, s)
    t = np.sqrt(-2.0 * np.log(p[low]))
    z[low] = np.polyval(_ACKLAM_C, t) / np.polyval(_ACKLAM_D, t)
    t = np.sqrt(-2.0 * np.log1p(-p[high]))
    z[high] = -np.polyval(_ACKLAM_C, t) / np.polyval(_ACKLAM_D, t)
    out: FloatArray = -z
    return out


def survival(dist: Distribution, x: FloatArray | float) -> FloatArray:
    """``P(X > x)`` of a scenario distribution, elementwise."""
    x = np.asarray(x, dtype=float)
    if isinstance(dist, Never):
        return np.ones_like(x)
    if isinstance(dist, Constant):
        return (x < dist.value).astype(float)
    if isinstance(dist, Uniform):
        if dist.high == dist.low:
            return (x < dist.low).astype(float)
        out: FloatArray = np.clip((dist.high - x) / (dist.high - dist.low), 0.0, 1.0)
        return out
    if isinstance(dist, Exponential):
        out = np.exp(-np.maximum(x, 0.0) / dist.mean_value)
        return out
    if isinstance(dist, LogNormal):
        if dist.sigma == 0:
            return (x < dist.median).astype(float)
        z = (np.log(np.maximum(x, 1e-300)) - math.log(dist.median)) / dist.sigma
        return np.where(x > 0, _normal_sf(z), 1.0)
    if isinstance(dist, Pareto):
        tail = (dist.minimum / np.maximum(x, dist.minimum)) ** dist.alpha
        if dist.cap is not None:
            # the cap is an atom: nothing lasts beyond it
            tail = np.where(x >= dist.cap, 0.0, tail)
        return np.where(x < dist.minimum, 1.0, tail)
    if isinstance(dist, Mixture):
        weights = _mixture_weights(dist)
        total: FloatArray = sum(
            (w * survival(part, x) for w, (_, part) in zip(weights, dist.parts, strict=True)), np.zeros_like(x)
        )
        return total
    if isinstance(dist, Scaled):
        return survival(dist.base, x / dist.factor)
    raise TypeError(f"the oracle has no exact survival function for {type(dist).__name__}")


def sample_beyond(
    dist: Distribution, elapsed: FloatArray | float, rng: np.random.Generator, shape: Shape
) -> FloatArray:
    """Draws of ``X`` given ``X > elapsed`` (``elapsed`` broadcast to ``shape``).

    Exact for every class of :mod:`simulations.scenarios`: inverse survival for the
    log-normal, memorylessness for the exponential, scale invariance for the Pareto, and for
    a mixture the parts reweighted by how likely each is to have lasted that long. Where
    lasting that long is impossible under the truth (a pause a human declared differently)
    the draw is ``elapsed`` itself: nothing is left.
    """
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    # survival is computed on `elapsed` as given (few values), then broadcast to the draws
    given = np.asarray(elapsed, dtype=float)
    given = given.reshape((1,) * (len(shape) - given.ndim) + given.shape)
    e = np.broadcast_to(given, shape)
    if isinstance(dist, Never):
        return np.full(shape, math.inf)
    if isinstance(dist, Constant):
        return _floats(np.maximum(e, dist.value))
    if isinstance(dist, Uniform):
        low = np.clip(e, dist.low, dist.high)
        return _floats(np.maximum(low + rng.random(shape) * (dist.high - low), e))
    if isinstance(dist, Exponential):
        out: FloatArray = np.maximum(e, 0.0) + rng.exponential(dist.mean_value, shape)
        return out
    if isinstance(dist, LogNormal):
        if dist.sigma == 0:
            return _floats(np.maximum(e, dist.median))
        # a uniform share of the survival left beyond `elapsed`, mapped back through it
        beyond = (1.0 - rng.random(shape)) * survival(dist, given)
        draws = dist.median * np.exp(dist.sigma * _normal_isf(beyond))
        return _floats(np.maximum(draws, e))
    if isinstance(dist, Pareto):
        draws = np.maximum(e, dist.minimum) * (1.0 - rng.random(shape)) ** (-1.0 / dist.alpha)
        if dist.cap is not None:
            draws = np.minimum(draws, dist.cap)
        return _floats(np.maximum(draws, e))
    if isinstance(dist, Mixture):
        prior = _mixture_weights(dist)
        parts = [part for _, part in dist.parts]
        weights = np.stack([w * survival(part, given) for w, part in zip(prior, parts, strict=True)])
        total = weights.sum(axis=0)
        # lasting this long is impossible in every part: keep the prior (each part returns `elapsed`)
        fallback = prior.reshape((-1,) + (1,) * given.ndim)
        weights = np.where(total > 0, weights / np.where(total > 0, total, 1.0), fallback)
        which = (rng.random(shape)[None, ...] > np.cumsum(weights, axis=0)).sum(axis=0)
        which = np.minimum(which, len(parts) - 1)
        draws = np.empty(shape)
        for index, part in enumerate(parts):
            chosen = which == index
            count = int(chosen.sum())
            if count:
                # each draw from its own part only: the work stays one draw per element
                draws[chosen] = sample_beyond(part, e[chosen], rng, count)
        return draws
    if isinstance(dist, Scaled):
        scaled: FloatArray = sample_beyond(dist.base, given / dist.factor, rng, shape) * dist.factor
        return scaled
    raise TypeError(f"the oracle cannot draw {type(dist).__name__} conditionally")


def quantiles(dist: Distribution, probs: Sequence[float] | FloatArray) -> FloatArray:
    """Exact quantiles (``P(X ≤ q) ≥ p``, smallest such ``q``) by bisection on the survival."""
    target = 1.0 - np.asarray(probs, dtype=float)
    high = np.ones_like(target)
    for _ in range(200):
        short = survival(dist, high) > target
        if not short.any():
            break
        high = np.where(short, high * 2.0, high)
    else:
        return np.full_like(target, math.inf)
    low = np.zeros_like(target)
    for _ in range(80):
        middle = (low + high) / 2.0
        above = survival(dist, middle) > target
        low = np.where(above, middle, low)
        high = np.where(above, high, middle)
    return high


# ------------------------------------------------------------------ the quantities forecast() reads


class TrueDuration:
    """A true duration in the shape of a learned ``RecencySample``."""

    __slots__ = ("dist",)

    def __init__(self, dist: Distribution) -> None:
        self.dist = dist

    def sample(self, rng: np.random.Generator, size: Shape) -> FloatArray:
        """Unconditional draws, by the scenario's own sampler."""
        count = int(np.prod(size))
        return self.dist.sample(rng, count).reshape(size)

    def sample_remaining(self, elapsed: float, rng: np.random.Generator, size: int) -> FloatArray:
        """The time still to go of something that has lasted ``elapsed``."""
        return sample_beyond(self.dist, elapsed, rng, size) - elapsed

    def sample_remaining_many(self, elapsed: FloatArray, rng: np.random.Generator, size: int) -> FloatArray:
        """:meth:`sample_remaining` for several elapsed times: shape ``(size, len(elapsed))``."""
        e = np.asarray(elapsed, dtype=float)
        return _floats(sample_beyond(self.dist, e[None, :], rng, (size, len(e))) - e[None, :])

    def quantiles(self, probs: Sequence[float] | FloatArray) -> FloatArray:
        """Exact quantiles."""
        return quantiles(self.dist, probs)


class TrueHazard:
    """A true waiting time in the shape of a learned ``Survival`` (per column or scalar)."""

    __slots__ = ("dist",)

    def __init__(self, dist: Distribution) -> None:
        self.dist = dist

    def sample_remaining(self, elapsed: FloatArray | float, rng: np.random.Generator, size: int) -> FloatArray:
        """Time still to go after ``elapsed``: shape ``(size, len(elapsed))``, or ``(size,)``."""
        if np.ndim(elapsed) == 0:
            return sample_beyond(self.dist, elapsed, rng, size) - float(elapsed)
        e = np.asarray(elapsed, dtype=float)
        return _floats(sample_beyond(self.dist, e[None, :], rng, (size, len(e))) - e[None, :])


class PauseOverrun(TrueDuration):
    """The overrun (actual / declared length) of the pause in progress.

    ``forecast()`` passes only ``elapsed / declared``; each paused counter is recognised by
    that ratio, computed the same way from the same state, and answered with the overrun of
    its own reason there (a lunch and a supervisor's signature overrun very differently).
    An unrecognised ratio gets ``dist``: all the scenario's pauses by how often they occur.
    """

    __slots__ = ("by_ratio",)

    def __init__(self, dist: Distribution, by_ratio: Mapping[float, Distribution]) -> None:
        super().__init__(dist)
        self.by_ratio = dict(by_ratio)

    def sample_remaining(self, elapsed: float, rng: np.random.Generator, size: int) -> FloatArray:
        """The overrun still to go, for the pause whose elapsed ratio this is."""
        dist = self.by_ratio.get(elapsed, self.dist)
        return sample_beyond(dist, elapsed, rng, size) - elapsed


class TruePatience:
    """Time until a waiting customer *cancels* (``inf``: never), given they have not yet.

    A customer gives up after their patience ``T`` and then cancels with probability ``p``
    (else leaves silently). Having waited ``w`` without cancelling, they cancel at all with
    probability ``p S(w) / (p S(w) + 1 − p)``, and then at ``T`` given ``T > w``.

    Patience may differ by service, which ``forecast()`` does not pass: columns are given as
    an array of times waited. The waiting tickets' array is recognised exactly (it is
    ``now − issued_at`` in the state's queue order) and each column gets its own service's
    patience; any other array (future arrivals) gets ``pooled``, the mixture of the
    services' patience by arrival rate.
    """

    __slots__ = ("cancel_probability", "columns", "pooled", "waited")

    def __init__(
        self,
        cancel_probability: float,
        pooled: Distribution,
        waited: FloatArray | None = None,
        columns: Sequence[Distribution] = (),
    ) -> None:
        self.cancel_probability = cancel_probability
        self.pooled = pooled
        self.waited = waited
        self.columns = tuple(columns)

    def for_queue(self, waited: FloatArray, columns: Sequence[Distribution]) -> TruePatience:
        """The same patience, recognising the queue whose times waited are ``waited``."""
        return TruePatience(self.cancel_probability, self.pooled, waited, columns)

    def sample_remaining(self, elapsed: FloatArray | float, rng: np.random.Generator, size: int) -> FloatArray:
        """Time until each customer cancels, ``(size, len(elapsed))`` or ``(size,)``."""
        scalar = np.ndim(elapsed) == 0
        e = np.atleast_1d(np.asarray(elapsed, dtype=float))
        known = self.waited is not None and self.waited.shape == e.shape and bool(np.array_equal(self.waited, e))
        dists = list(self.columns) if known else [self.pooled] * len(e)
        out = np.full((size, len(e)), math.inf)
        p = self.cancel_probability
        if p > 0:
            for dist in {id(d): d for d in dists}.values():
                cols = np.array([j for j, d in enumerate(dists) if d is dist])
                waited = e[cols]
                still = p * survival(dist, waited)
                cancels = np.where(still > 0, still / np.maximum(still + (1.0 - p), 1e-300), 0.0)
                when = sample_beyond(dist, waited[None, :], rng, (size, len(cols))) - waited[None, :]
                out[:, cols] = np.where(rng.random((size, len(cols))) < cancels[None, :], when, math.inf)
        return out[:, 0] if scalar else out


class SilentLeaving:
    """Share of called customers who had silently left, by how long they waited.

    Among customers still holding their ticket after ``w`` (not cancelled), the share whose
    patience ran out without cancelling: ``(1 − p) F(w) / (1 − p F(w))`` per service, pooled
    over services by arrival rate (``forecast()`` passes only the times waited).
    """

    __slots__ = ("bins", "table")

    def __init__(self, patience: Sequence[tuple[float, Distribution]], cancel_probability: float) -> None:
        self.table = self._share(patience, cancel_probability, SHARE_GRID)
        # the forecast draws each customer's silent leaving on the learned model's bins, as the
        # first bin whose share exceeds a uniform draw: the truth is given at each bin's middle
        middles = np.append((HAZARD_EDGES[:-1] + HAZARD_EDGES[1:]) / 2.0, HAZARD_EDGES[-1])
        self.bins = np.maximum.accumulate(self._share(patience, cancel_probability, middles))

    @staticmethod
    def _share(patience: Sequence[tuple[float, Distribution]], p: float, waited: FloatArray) -> FloatArray:
        gone = np.zeros_like(waited)
        holding = np.zeros_like(waited)
        for weight, dist in patience:
            given_up = 1.0 - survival(dist, waited)
            gone += weight * (1.0 - p) * given_up
            holding += weight * (1.0 - p * given_up)
        return _floats(np.where(holding > 0, gone / np.maximum(holding, 1e-300), 1.0))

    def at(self, waited: FloatArray) -> FloatArray:
        """Share for each wait in ``waited``."""
        return _floats(np.interp(np.asarray(waited, dtype=float), SHARE_GRID, self.table))

    def shares(self) -> FloatArray:
        """The share per bin of ``HAZARD_EDGES`` (non-decreasing), as ``ShareByWait`` gives it."""
        return self.bins


# ------------------------------------------------------------------ the interface forecast() uses


class DurationModel(Protocol):
    """A duration as ``forecast()`` draws it (``RecencySample``, :class:`TrueDuration`)."""

    def sample(self, rng: np.random.Generator, size: Shape) -> FloatArray: ...

    def sample_remaining(self, elapsed: float, rng: np.random.Generator, size: int) -> FloatArray: ...

    def sample_remaining_many(self, elapsed: FloatArray, rng: np.random.Generator, size: int) -> FloatArray: ...


class HazardModel(Protocol):
    """A waiting time as ``forecast()`` draws it (``Survival``, :class:`TrueHazard`)."""

    def sample_remaining(self, elapsed: FloatArray | float, rng: np.random.Generator, size: int) -> FloatArray: ...


class ShareModel(Protocol):
    """A share by time waited (``ShareByWait``, :class:`SilentLeaving`)."""

    def at(self, waited: FloatArray) -> FloatArray: ...

    def shares(self) -> FloatArray: ...


class ForecastModel(Protocol):
    """Everything :func:`queue_board.forecast.monte_carlo.forecast` reads of its ``model`` argument.

    ``BranchModel`` satisfies it (checked statically below); so does :class:`TrueModel`.
    Declared here until ``forecast()`` takes it as its parameter type.
    """

    @property
    def walk_up(self) -> DurationModel: ...
    @property
    def no_show_wait(self) -> DurationModel: ...
    @property
    def pause_length(self) -> DurationModel: ...
    @property
    def pause_overrun(self) -> DurationModel: ...
    @property
    def wrap_up(self) -> HazardModel: ...
    @property
    def reaction(self) -> HazardModel: ...
    @property
    def patience(self) -> HazardModel: ...
    @property
    def silent_leaving(self) -> ShareModel: ...
    @property
    def ready(self) -> Mapping[str, ReadyEpisode]: ...
    @property
    def today(self) -> DayRecord | None: ...
    @property
    def closes(self) -> float: ...
    @property
    def closes_with_queue(self) -> float: ...
    @property
    def latent(self) -> LatentPriority: ...

    def service(self, code: str) -> DurationModel: ...

    def duration_factor(self, service: str, counter: str | None, hour: int | None) -> float: ...

    def readiness(self) -> ReadinessTable | None: ...

    def past_days(self) -> list[DayRecord]: ...


@dataclass(slots=True)
class TrueModel:
    """The truth of one scenario, at one moment, in the shape of a learned ``BranchModel``.

    Approximations, where ``forecast()``'s interface cannot carry the truth:

    - patience of *future arrivals* and the share of silently gone customers are pooled
      over services by arrival rate (``forecast()`` passes times waited, not services; the
      waiting tickets' patience is recognised, see :class:`TruePatience`), and the silent
      leaving is drawn on the learned model's bins (``HAZARD_EDGES``), its share taken at
      each bin's middle;
    - a paused counter's overrun is recognised by its elapsed ratio (see :class:`PauseOverrun`);
    - the rhythm is ``RHYTHM_DAYS`` synthetic days per forecast (``forecast()`` replays at
      most that many distinct futures; 64 instead changed the wait MAE by under 1 %);
    - what ``forecast()`` itself simplifies, for the engine and the oracle alike: only the
      first pause of each counter within the horizon, taken however late (the simulator
      skips one it cannot start within ``max_delay_minutes``); no reaction time before an
      idle counter calls a new arrival; a wrap-up after a no-show (the simulator has none);
      a called customer's chance of being a no-show not updated by how long they have not
      come; the clock of a free counter's next call (``ready``) is the learned model's,
      which for a teller wrapping up with an empty queue starts when the queue fills.
    """

    services: Mapping[str, TrueDuration]
    speeds: Mapping[tuple[str, str], float]
    walk_up: TrueDuration
    no_show_wait: TrueDuration
    pause_length: TrueDuration
    pause_overrun: PauseOverrun
    wrap_up: TrueHazard
    reaction: TrueHazard
    patience: TruePatience
    silent_leaving: SilentLeaving
    closes: float
    closes_with_queue: float
    ready: dict[str, ReadyEpisode] = field(default_factory=dict)
    today: DayRecord | None = None
    days: list[DayRecord] = field(default_factory=list)
    #: the simulated tellers call by the rule, so nobody is of a hidden priority class (share 0)
    latent: LatentPriority = field(default_factory=LatentPriority)

    def service(self, code: str) -> TrueDuration:
        """The true transaction length of ``code`` at a teller of speed 1."""
        return self.services[code]

    def duration_factor(self, service: str, counter: str | None, hour: int | None) -> float:
        """How much longer than at speed 1 the transaction takes at ``counter`` (any hour)."""
        if counter is None:
            return 1.0
        return 1.0 / self.speeds.get((service, counter), 1.0)

    def readiness(self) -> ReadinessTable | None:
        """How soon each free counter calls: the simulated tellers all share one habit, ``wrap_up`` or ``reaction``."""
        return None

    def past_days(self) -> list[DayRecord]:
        """The synthetic days whose rhythm the forecast replays."""
        return self.days


if TYPE_CHECKING:
    # static proof that the protocol describes the learned model, and that the truth fits it
    def _learned_model_conforms(model: BranchModel) -> ForecastModel:
        return model

    def _true_model_conforms(model: TrueModel) -> ForecastModel:
        return model


def _seconds(at: time) -> float:
    return at.hour * 3600.0 + at.minute * 60.0 + at.second + at.microsecond / 1e6


def _pause_specs(counter: CounterSpec) -> dict[str, Distribution]:
    """The overrun of each pause reason of a counter."""
    overruns: dict[str, Distribution] = {r.reason: r.overrun for r in counter.random_pauses}
    overruns.update((p.reason, p.overrun) for p in counter.pauses)
    return overruns


class Truth:
    """What is true of a scenario at any moment; :meth:`model` adds the moment's part."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.services = {s.code: TrueDuration(s.duration) for s in scenario.services}
        self.speeds = {(s.code, c.name): c.speed_for(s.code) for s in scenario.services for c in scenario.counters}
        self.opens = {c.name: _seconds(c.opens) for c in scenario.counters}
        self.closes = {c.name: _seconds(c.closes) for c in scenario.counters}
        self.doors = (_seconds(scenario.doors_open), _seconds(scenario.doors_close))
        self.overruns = {c.name: _pause_specs(c) for c in scenario.counters}
        self.planned = {c.name: {p.reason for p in c.pauses} for c in scenario.counters}
        # every pause of the day, by how often it occurs: for pauses of unknown reason
        pauses: list[tuple[float, Distribution, float]] = []
        for c in scenario.counters:
            hours = max(0.0, self.closes[c.name] - self.opens[c.name]) / 3600.0
            pauses += [(1.0, p.overrun, p.minutes * 60.0) for p in c.pauses]
            pauses += [(r.per_hour * hours, r.overrun, r.minutes * 60.0) for r in c.random_pauses if r.per_hour > 0]
        if pauses:
            overrun: Distribution = Mixture(tuple((w, d) for w, d, _ in pauses))
            length: Distribution = Mixture(tuple((w, Scaled(d, s)) for w, d, s in pauses))
        else:
            overrun, length = Constant(1.0), Constant(300.0)
        self.pause_overrun, self.pause_length = overrun, TrueDuration(length)
        arrivals = scenario.expected_arrivals()
        total = sum(arrivals.values())
        self.patience_of = {s.code: scenario.patience_for(s.code) or Never() for s in scenario.services}
        # services that share a patience share a part (fewer, larger draws)
        shares: dict[Distribution, float] = {}
        for spec in scenario.services:
            share = arrivals[spec.code] / total if total > 0 else 1.0
            shares[self.patience_of[spec.code]] = shares.get(self.patience_of[spec.code], 0.0) + share
        weighted = [(w, d) for d, w in shares.items()]
        pooled = Mixture(tuple(weighted)) if len(weighted) > 1 else weighted[0][1]
        self.patience = TruePatience(scenario.cancel_probability, pooled)
        self.silent_leaving = SilentLeaving(weighted, scenario.cancel_probability)
        self.walk_up = TrueDuration(scenario.walk_up)
        self.no_show_wait = TrueDuration(scenario.no_show_wait)
        self.wrap_up = TrueHazard(scenario.wrap_up)
        self.reaction = TrueHazard(scenario.reaction)
        doors_close = _seconds(scenario.doors_close)
        # a counter closing before the doors leaves with customers waiting; the others serve everyone first
        self.early = sum(1.0 for c in scenario.counters if _seconds(c.closes) < doors_close)

    def model(self, state: BranchState, learned: BranchModel, rng: np.random.Generator) -> TrueModel:
        """The truth at the moment of ``state``; ``learned`` supplies what is observable."""
        offset = state.last_ts.utcoffset() if state.last_ts is not None else None
        now_tod = time_of_day_at(state.now, offset.total_seconds() if offset is not None else 0.0)
        today = learned.today if learned.today is not None and learned.today.day == state.day else None
        # only planned pauses are "taken" for the day; random ones may come again
        taken: dict[str, list[list[Any]]] = {}
        if today is not None:
            taken = {
                name: [p for p in ps if p[2] in self.planned.get(name, set())] for name, ps in today.pauses.items()
            }
        by_ratio: dict[float, Distribution] = {}
        for counter in state.counters.values():
            if counter.status is CounterStatus.PAUSED and counter.pause_minutes:
                overrun = self.overruns.get(counter.name, {}).get(counter.pause_reason or "")
                if overrun is not None:
                    by_ratio[(state.now - counter.since) / (counter.pause_minutes * 60.0)] = overrun
        waiting = state.waiting_tickets()
        patience = self.patience.for_queue(
            np.array([state.now - t.issued_at for t in waiting]),
            [self.patience_of.get(t.service, self.patience.pooled) for t in waiting],
        )
        days = []
        if state.day is not None:
            taken_reasons = {name: {p[2] for p in pauses} for name, pauses in taken.items()}
            # dated on the same weekday of past weeks, oldest first: the forecast weighs and
            # caches the days it replays by their date, and these are all equally likely futures
            dates = [state.day - timedelta(weeks=RHYTHM_DAYS - i) for i in range(RHYTHM_DAYS)]
            days = [self.day(state, dated, now_tod, taken_reasons, rng) for dated in dates]
        return TrueModel(
            services=self.services,
            speeds=self.speeds,
            walk_up=self.walk_up,
            no_show_wait=self.no_show_wait,
            pause_length=self.pause_length,
            pause_overrun=PauseOverrun(self.pause_overrun, by_ratio),
            wrap_up=self.wrap_up,
            reaction=self.reaction,
            patience=patience,
            silent_leaving=self.silent_leaving,
            closes=float(len(self.scenario.counters)),
            closes_with_queue=self.early,
            ready=learned.ready,
            today=DayRecord(day=today.day, pauses=taken) if today is not None else None,
            days=days,
        )

    def day(
        self, state: BranchState, dated: date, now_tod: float, taken: Mapping[str, set[str]], rng: np.random.Generator
    ) -> DayRecord:
        """One possible rest of today, drawn from the truth given what is observable now."""
        soon = now_tod + JUST_AFTER
        record = DayRecord(day=dated)
        doors_open, doors_close = self.doors
        for spec in self.scenario.services:
            times: list[float] = []
            for hour, rate in spec.arrivals_per_hour.items():
                start = max(hour * 3600.0, doors_open, now_tod)
                end = min((hour + 1) * 3600.0, doors_close, now_tod + HORIZON)
                if end > start and rate > 0:
                    count = int(rng.poisson(rate * (end - start) / 3600.0))
                    times.extend(rng.uniform(start, end, count).tolist())
            record.arrivals[spec.code] = sorted(times)
        for counter_spec in self.scenario.counters:
            name = counter_spec.name
            counter = state.counters.get(name)
            opens, closes = self.opens[name], self.closes[name]
            closed_now = counter is None or counter.status is CounterStatus.CLOSED
            if closed_now:
                # the simulator closes a counter only at its closing time: closed before it means not yet opened
                if now_tod < closes:
                    record.opened[name] = [(max(opens, soon), counter_spec.services)]
                record.closed[name] = [closes]
            else:
                # past its closing time an open counter closes at its first free moment with its queue served
                record.closed[name] = [max(closes, soon)]
            record.pauses[name] = self._pauses(counter_spec, counter, state, now_tod, taken.get(name, set()), rng)
        return record

    def _pauses(
        self,
        spec: CounterSpec,
        counter: Counter | None,
        state: BranchState,
        now_tod: float,
        taken: set[str],
        rng: np.random.Generator,
    ) -> list[list[object]]:
        """The counter's pauses from now: (start, length, reason), a pause overdue at ``soon``."""
        soon = now_tod + JUST_AFTER
        opens, closes = self.opens[spec.name], self.closes[spec.name]
        pauses: list[list[object]] = []
        windows: list[tuple[float, float]] = []
        for planned in spec.pauses:
            start = _seconds(planned.start)
            latest = start + planned.max_delay_minutes * 60.0
            length = planned.minutes * 60.0 * planned.overrun.draw(rng)
            # the simulator drops random pauses that would fall into lunch, taken or not
            windows.append((start, latest + length))
            if planned.reason not in taken and now_tod <= latest and start < closes:
                pauses.append([max(start, soon), length, planned.reason])
        # random pauses since the teller was last seen free are still pending (a free teller
        # takes a due pause at once): a busy teller's since the call, a paused one's since the pause
        seen_free = now_tod
        if counter is None or counter.status is CounterStatus.CLOSED:
            seen_free = opens
        elif counter.status is CounterStatus.PAUSED:
            seen_free = now_tod - (state.now - counter.since)
        elif counter.status in (CounterStatus.CALLING, CounterStatus.SERVING) and counter.ticket is not None:
            called = state.tickets[counter.ticket].called_at
            seen_free = now_tod - (state.now - called) if called is not None else now_tod
        first = max(opens, seen_free)
        for random_pauses in spec.random_pauses:
            if closes <= first or random_pauses.per_hour <= 0:
                continue
            count = int(rng.poisson(random_pauses.per_hour * (closes - first) / 3600.0))
            for start in rng.uniform(first, closes, count).tolist():
                length = random_pauses.minutes * 60.0 * random_pauses.overrun.draw(rng)
                if any(low <= start <= high for low, high in windows):
                    continue
                if now_tod > start + random_pauses.max_delay_minutes * 60.0:
                    continue
                pauses.append([max(start, soon), length, random_pauses.reason])
        pauses.sort(key=lambda p: cast(float, p[0]))
        return pauses


# ------------------------------------------------------------------ the predictor


class Oracle:
    """A wait and duration predictor that knows the scenario (the ``extra`` of ``evaluate``).

    ``observe`` is called before each event is applied and ``predict_wait`` after a
    ``ticket_issued`` is; ``predict_service`` after a ``service_started``. The same log and
    seed give the same predictions.
    """

    def __init__(self, scenario: Scenario, *, scenarios: int = 256, seed: int = 20260302) -> None:
        self.truth = Truth(scenario)
        self.scenarios = scenarios
        self.seed = seed
        # only its observable bookkeeping is read: free counters' call clocks, today's pauses
        self.learned = BranchModel()
        self._pending: Event | None = None
        self._service_ranges: dict[tuple[str, str | None], Quantiles] = {}

    def _settle(self, state: BranchState) -> None:
        """Finish learning the last event now that ``state`` shows its effect."""
        if self._pending is not None:
            learn_after(self.learned, state, self._pending)
            self._pending = None

    def observe(self, state: BranchState, event: Event) -> None:
        """Follow the observable bookkeeping (``state`` is the branch before ``event``)."""
        self._settle(state)
        learn(self.learned, state, event)
        self._pending = event

    def forecast(self, state: BranchState, services: Iterable[str] = (), *, focus: str | None = None) -> Forecast:
        """``queue_board.forecast.monte_carlo.forecast`` on the truth, from ``state`` (after its last event)."""
        self._settle(state)
        rhythm_rng, forecast_rng = np.random.default_rng([self.seed, state.seq]).spawn(2)
        model = self.truth.model(state, self.learned, rhythm_rng)
        # the oracle knows every counter of the branch, including those not opened yet today
        missing = {
            c.name: Counter(name=c.name, services=c.services)
            for c in self.truth.scenario.counters
            if c.name not in state.counters or not state.counters[c.name].services
        }
        if missing:
            state = replace(state, counters={**state.counters, **missing})
        return forecast(state, cast(BranchModel, model), forecast_rng, self.scenarios, services, focus=focus)

    def predict_wait(self, state: BranchState, ticket: Ticket) -> Quantiles:
        """p10, p50 and p90 of the wait of ``ticket``, just issued (seconds until its first call)."""
        wait = self.forecast(state, focus=ticket.label).waits[ticket.label]
        if not math.isfinite(wait.p90):
            raise RuntimeError(f"the oracle sees no counter that would ever call {ticket.label}")
        return (wait.p10, wait.p50, wait.p90)

    def predict_service(self, state: BranchState, ticket: Ticket) -> Quantiles:
        """True p10, p50 and p90 of the transaction of ``ticket`` at the counter serving it."""
        key = (ticket.service, ticket.counter)
        cached = self._service_ranges.get(key)
        if cached is None:
            factor = self.truth.scenario.counter(ticket.counter).speed_for(ticket.service) if ticket.counter else 1.0
            p10, p50, p90 = (self.truth.services[ticket.service].quantiles(PROBS) / factor).tolist()
            cached = self._service_ranges[key] = (p10, p50, p90)
        return cached


def oracle_for(scenario_name: str, **options: int) -> Callable[[], Oracle]:
    """A factory of oracles for the scenario of that name (``simulations.SCENARIOS``)."""
    if scenario_name not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario_name!r}; expected one of {sorted(SCENARIOS)}")
    return partial(Oracle, SCENARIOS[scenario_name](), **options)


__all__ = [
    "ForecastModel",
    "Oracle",
    "TrueModel",
    "Truth",
    "oracle_for",
    "quantiles",
    "sample_beyond",
    "survival",
]
