"""A bank-wide prior: what a new branch assumes from its sister branches until its own data speaks.

A branch that goes live knows nothing of its own tellers and customers; its sisters in the
same bank do. :func:`bank_prior` pools what their learned models hold (partial pooling, as in
a hierarchical model):

- **transaction length per service**: each sister's learned distribution (its quantiles), mixed
  with equal weight per branch; a new branch starts from that mixture as ``k`` pseudo-
  observations, where ``k = σ² / τ²`` is the number of its own transactions at which their
  mean log length is as reliable as the bank's: ``σ²`` the spread of log lengths within a
  branch, ``τ²`` how much branches' mean log lengths really differ (method of moments: their
  observed variance minus the noise of each mean). Sisters that agree make a strong prior,
  sisters that differ a weak one (``k`` within ``[MIN_WEIGHT, MAX_WEIGHT]``). The pseudo-
  observations age like the branch's own (:class:`~queue_board.forecast.durations.RecencySample`),
  so its own transactions take over;
- **pause overrun** (actual ÷ declared minutes): pooled the same way;
- **patience**: the sisters' censored hazards (events and time at risk per bin) summed, scaled
  to ``PATIENCE_WEIGHT`` episodes;
- **the day's rhythm**: each sister's latest finished day (when its counters opened, paused and
  closed, and its arrivals), replayed by the new branch's forecast until it has finished a day of
  its own (:meth:`~queue_board.forecast.durations.BranchModel.past_days`).

Pure numpy over :class:`~queue_board.forecast.durations.BranchModel`; no I/O. Offline,
``queue-board replay --prior-from LOG…`` learns the sisters from their logs and replays with it.
Live, ``queue-board branch adopt-prior`` pins the prior in the branch's own log as a
``bank_prior_adopted`` event (:meth:`BankPrior.to_record`), which every projection of that log
adopts the same way (:func:`adopt_bank_prior`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from queue_board.core.sister_prior import PooledRecord, RhythmDay, SisterPrior
from queue_board.forecast.durations import BranchModel, DayRecord, RecencySample, Survival

#: quantiles that stand for one sister's learned distribution
PROBS = (np.arange(15) + 0.5) / 15
#: a sister's sample counts once it holds this many of its own observations
MIN_OBSERVATIONS = 20
#: bounds of the pseudo-observations a pooled prior is worth
MIN_WEIGHT = 3.0
MAX_WEIGHT = 30.0
#: episodes the pooled patience is worth
PATIENCE_WEIGHT = 20.0
#: sister days a prior carries at most (the forecast replays this many recent days: RHYTHM_DAYS)
MAX_PRIOR_DAYS = 10


@dataclass(frozen=True, slots=True)
class PooledSample:
    """A pooled distribution as evenly spaced quantiles, worth ``weight`` observations."""

    values: tuple[float, ...]
    weight: float
    #: how many sisters it pools
    branches: int

    def sample(self, *, half_life: float = 150.0) -> RecencySample:
        """A fresh branch's recency sample, started from this prior."""
        return RecencySample(float(np.median(self.values)), prior_values=self.values, prior_weight=self.weight, half_life=half_life)

    def to_record(self) -> PooledRecord:
        """As the log keeps it (values to the millisecond, or the ten-thousandth of a ratio)."""
        return PooledRecord(tuple(round(v, 4) for v in self.values), round(self.weight, 4), self.branches)

    @classmethod
    def from_record(cls, record: PooledRecord) -> PooledSample:
        """Back from the log."""
        return cls(values=record.values, weight=record.weight, branches=record.branches)


@dataclass(frozen=True, slots=True)
class BankPrior:
    """What sister branches teach a new one (see the module docstring)."""

    services: dict[str, PooledSample] = field(default_factory=dict)
    pause_overrun: PooledSample | None = None
    #: summed (events, time at risk) per hazard bin, already scaled to ``PATIENCE_WEIGHT`` episodes
    patience: tuple[tuple[float, ...], tuple[float, ...]] | None = None
    #: the sisters' latest finished days, oldest first, each marked with its ``origin``
    days: tuple[DayRecord, ...] = ()

    def patience_survival(self) -> Survival:
        """A fresh branch's patience, started from the sisters'."""
        survival = Survival(None)
        if self.patience is not None:
            survival.prior_events = np.array(self.patience[0])
            survival.prior_exposure = np.array(self.patience[1])
        return survival

    def to_record(self, sisters: Sequence[str]) -> SisterPrior:
        """The ``prior`` of a ``bank_prior_adopted`` event, naming the ``sisters`` it came from."""
        patience = None
        if self.patience is not None:
            patience = (tuple(round(v, 6) for v in self.patience[0]), tuple(round(v, 3) for v in self.patience[1]))
        return SisterPrior(
            sisters=tuple(sisters),
            services=tuple((code, pooled.to_record()) for code, pooled in sorted(self.services.items())),
            pause_overrun=self.pause_overrun.to_record() if self.pause_overrun is not None else None,
            patience=patience,
            days=tuple(_rhythm_record(day) for day in self.days),
        )

    @classmethod
    def from_record(cls, record: SisterPrior) -> BankPrior:
        """The prior a ``bank_prior_adopted`` event pinned."""
        return cls(
            services={code: PooledSample.from_record(pooled) for code, pooled in record.services},
            pause_overrun=PooledSample.from_record(record.pause_overrun) if record.pause_overrun is not None else None,
            patience=record.patience,
            days=tuple(_day_record(day, index) for index, day in enumerate(record.days)),
        )


def _rhythm_record(day: DayRecord) -> RhythmDay:
    """A sister's day as the log keeps it (times to 0.1 s)."""

    def tenth(value: float) -> float:
        return round(float(value), 1)

    return RhythmDay(
        day=day.day,
        opened=tuple((name, tuple((tenth(at), profile) for at, profile in items)) for name, items in sorted(day.opened.items())),
        closed=tuple((name, tuple(tenth(at) for at in times)) for name, times in sorted(day.closed.items())),
        pauses=tuple(
            (name, tuple((tenth(start), None if length is None else tenth(length), reason) for start, length, reason in items))
            for name, items in sorted(day.pauses.items())
        ),
        arrivals=tuple((code, tuple(tenth(at) for at in times)) for code, times in sorted(day.arrivals.items())),
    )


def _day_record(record: RhythmDay, index: int) -> DayRecord:
    """A pinned sister day, as the forecast replays it."""
    return DayRecord(
        day=record.day,
        arrivals={code: list(times) for code, times in record.arrivals},
        opened={name: list(items) for name, items in record.opened},
        closed={name: list(times) for name, times in record.closed},
        pauses={name: [list(item) for item in items] for name, items in record.pauses},
        origin=f"sister day {index + 1}",
    )


def adopt_bank_prior(model: BranchModel, prior: BankPrior) -> None:
    """Start what ``model`` has not learned yet from ``prior``: a service, pause overrun or
    patience with none of the branch's own observations takes the sisters' (a service first seen
    later does too); whatever the branch has already seen keeps its own data. A later prior
    replaces an earlier one for what is still unlearned."""
    model.priors = dataclasses.replace(model.priors, bank=prior)
    for code, pooled in prior.services.items():
        sample = model.services.get(code)
        if sample is None or sample.count == 0:
            model.services[code] = pooled.sample()
    if prior.pause_overrun is not None and model.pause_overrun.count == 0:
        model.pause_overrun = prior.pause_overrun.sample(half_life=40)
    if prior.patience is not None and model.patience.count == 0:
        model.patience = prior.patience_survival()
    model._factor_cache.clear()


def pool_samples(samples: Sequence[RecencySample]) -> PooledSample | None:
    """The partial-pooling prior of several branches' samples of one quantity (``None``: no
    sister has enough observations)."""
    usable = [s for s in samples if s.count >= MIN_OBSERVATIONS]
    if not usable:
        return None
    quantiles = [np.maximum(s.quantiles(PROBS), 1e-3) for s in usable]
    logs = [np.log(q) for q in quantiles]
    within = float(np.mean([np.var(q) for q in logs]))
    means = np.array([np.mean(q) for q in logs])
    counts = np.array([min(s.count, 2 * 150) for s in usable], dtype=float)
    # one sister says nothing of how branches differ: a weak prior (between = within)
    between = float(np.var(means, ddof=1)) - float(np.mean(within / counts)) if len(usable) > 1 else within
    weight = MAX_WEIGHT if between <= 0 else float(np.clip(within / between, MIN_WEIGHT, MAX_WEIGHT))
    mixed = np.sort(np.concatenate(quantiles))
    values = np.quantile(mixed, PROBS)
    return PooledSample(values=tuple(float(v) for v in values), weight=weight, branches=len(usable))


def bank_prior(models: Sequence[BranchModel]) -> BankPrior:
    """Pool the learned models of sister branches into a new branch's prior."""
    codes = sorted({code for model in models for code in model.services})
    services = {}
    for code in codes:
        pooled = pool_samples([model.services[code] for model in models if code in model.services])
        if pooled is not None:
            services[code] = pooled
    overrun = pool_samples([model.pause_overrun for model in models])
    patience = None
    episodes = sum(model.patience.episodes for model in models)
    if episodes > 0:
        events = sum((model.patience.events for model in models), np.zeros_like(models[0].patience.events))
        exposure = sum((model.patience.exposure for model in models), np.zeros_like(models[0].patience.exposure))
        scale = PATIENCE_WEIGHT / episodes
        patience = (tuple(float(v) for v in events * scale), tuple(float(v) for v in exposure * scale))
    latest = [model.days[-1] for model in models if model.days][-MAX_PRIOR_DAYS:]
    # through the log's own record, so that a prior pooled here and one read back from a
    # branch's log replay the same days to the tenth of a second
    days = tuple(_day_record(_rhythm_record(day), index) for index, day in enumerate(latest))
    return BankPrior(services=services, pause_overrun=overrun, patience=patience, days=days)
