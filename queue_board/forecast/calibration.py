"""Calibration: correct the simulated ranges by how right recent ranges turned out to be.

The Monte-Carlo run knows only what the model captures; real branches have more (a
teller who answers the phone, a customer who lets someone go ahead). So every wait
forecast made when a ticket is issued is remembered, and when that ticket is called the
outcome is compared with it. For each percentile q and each size of forecast (the
buckets below), the factor ``r`` that minimises the quantile loss of ``r × p_q`` on the
recent outcomes is a weighted q-quantile of ``actual / p_q`` (weights ``p_q``); forecasts
are multiplied by it, shrunk toward 1 while evidence is thin. This is a simple online
form of conformal calibration: it uses only outcomes already known, never the future.

The median is corrected only as far as correcting it has paid: each bucket scores, on every
outcome before learning from it, the median uncorrected, half-corrected (on the log scale)
and fully corrected, and applies whichever has the smallest recent absolute error. Where the
model is right, a correction fitted on a few noisy outcomes, or on another hour's queue,
only adds error (a simulated branch with a thin lunch hour: wait MAE 1.16 × the oracle's
with it, 1.06 without); where the model misses something systematic, as on the Anonymous
Bank's real calls, the correction is what brings it level with the best classic predictor
(0.97 × QL with it, 1.06 without).

The promise must hold for every kind of customer and at every hour, not only on average (on
the Anonymous Bank log 33% of prospects' waits ran past the p90 they were told, 27% of those
at 14:00, while 10% overall did). So the tails are corrected again per **segment**: the
ticket's service, then the hour it was issued. Each segment fits its p10 and p90 factors the
same way, on its own recent outcomes measured against the range as corrected so far, shrunk
toward no further correction while it has few (``SEGMENT_SHRINK``). The median is left alone:
per-segment medians on few outcomes only add error.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from queue_board.forecast.ranges import Range

#: forecast sizes (median, seconds) that are calibrated separately: a queue of one behaves
#: differently from a queue of twenty
BUCKET_EDGES = np.array([0.0, 20.0, 60.0, 180.0, 600.0, 1800.0])
WINDOW = 400
#: outcomes a bucket needs before its correction counts half
SHRINK = 40.0
QUANTILES = (0.1, 0.5, 0.9)
REFIT = 10
#: how much of the median's correction (a power of its factor) each candidate applies
MEDIAN_SHARES = (0.0, 0.5, 1.0)
#: memory of the candidates' absolute errors per outcome (about 200 outcomes' worth)
MEDIAN_MEMORY = 0.995
#: per segment: outcomes kept, outcomes before its correction counts half, and the fewest fitted
SEGMENT_WINDOW = 300
SEGMENT_SHRINK = 60.0
SEGMENT_MIN = 20
#: a segment's tail is corrected only when the share beyond it is this many standard errors off
SEGMENT_Z = 2.0

#: what a ticket's tails are corrected by beyond its forecast's size: its service and the
#: local hour it was issued
Segment = tuple[str, int]


_EDGES = tuple(float(edge) for edge in BUCKET_EDGES)


def _bucket(p50: float) -> int:
    # bisect on a tuple: called for every waiting ticket of every refresh, where numpy's
    # per-call overhead on one number would cost more than the rest of the calibration
    return bisect.bisect_right(_EDGES, p50) - 1


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of ``values`` weighted by ``weights``."""
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    index = int(np.searchsorted(cumulative, q * cumulative[-1], side="left"))
    return float(values[order][min(index, len(values) - 1)])


@dataclass(slots=True)
class Calibrator:
    """Recent (forecast at issue, outcome) pairs and the corrections they imply."""

    pending: dict[tuple[object, str], tuple[Range, Segment | None]] = field(default_factory=dict)
    outcomes: list[deque[tuple[float, float, float, float]]] = field(
        default_factory=lambda: [deque(maxlen=WINDOW) for _ in BUCKET_EDGES]
    )
    _factors: list[tuple[float, float, float] | None] = field(default_factory=lambda: [None for _ in BUCKET_EDGES])
    _fresh: list[int] = field(default_factory=lambda: [0 for _ in BUCKET_EDGES])
    #: per bucket, the recency-weighted absolute error of each of ``MEDIAN_SHARES``
    _median_errors: list[list[float]] = field(default_factory=lambda: [[0.0] * len(MEDIAN_SHARES) for _ in BUCKET_EDGES])
    #: per bucket, the share of the median's correction applied (the best of ``MEDIAN_SHARES``;
    #: none until correcting has been seen to pay)
    _median_share: list[float] = field(default_factory=lambda: [0.0 for _ in BUCKET_EDGES])
    #: per segment (``("service", code)``, ``("hour", h)``): recent (p10, p90, actual), the
    #: range as corrected before that segment's own factors, and the fitted (p10, p90) factors
    _segment_outcomes: dict[tuple[str, object], deque[tuple[float, float, float]]] = field(default_factory=dict)
    _segment_factors: dict[tuple[str, object], tuple[float, float]] = field(default_factory=dict)
    _segment_fresh: dict[tuple[str, object], int] = field(default_factory=dict)

    def remember(self, key: tuple[object, str], raw: Range, segment: Segment | None = None) -> None:
        """The uncorrected forecast of a ticket's whole wait, made when it was issued (and the
        ticket's service and local hour of issue)."""
        self.pending.setdefault(key, (raw, segment))

    def resolve(self, key: tuple[object, str], waited: float) -> None:
        """The ticket was called after ``waited`` seconds."""
        remembered = self.pending.pop(key, None)
        if remembered is None:
            return
        raw, segment = remembered
        if segment is not None and np.isfinite(raw.p90):
            self._learn_segments(raw, segment, waited)
        bucket = _bucket(raw.p50)
        self._score_median(bucket, raw.p50, waited)
        self.outcomes[bucket].append((raw.p10, raw.p50, raw.p90, waited))
        self._fresh[bucket] += 1
        # refitting after every outcome buys nothing measurable; every REFIT outcomes does. The
        # fit runs here, not when a forecast first asks, so the factors depend on the log alone
        # and not on how often something forecast in between (a restarted server forecasts less)
        if self._fresh[bucket] >= REFIT or len(self.outcomes[bucket]) < 2 * REFIT:
            self._factors[bucket] = self._fit(bucket)
            self._fresh[bucket] = 0

    def _score_median(self, bucket: int, p50: float, waited: float) -> None:
        """Score each share of the bucket's current median correction on one new outcome."""
        factors = self._factors[bucket]
        if factors is None:
            return
        errors = self._median_errors[bucket]
        for i, share in enumerate(MEDIAN_SHARES):
            errors[i] = MEDIAN_MEMORY * errors[i] + abs(waited - p50 * factors[1] ** share)
        best = min(range(len(MEDIAN_SHARES)), key=errors.__getitem__)
        self._median_share[bucket] = MEDIAN_SHARES[best]

    def _learn_segments(self, raw: Range, segment: Segment, waited: float) -> None:
        """Score the range as corrected before each segment's own factors, and refit them."""
        corrected = raw.scaled(self.factors(raw.p50))
        for part in _parts(segment):
            rows = self._segment_outcomes.get(part)
            if rows is None:
                rows = self._segment_outcomes[part] = deque(maxlen=SEGMENT_WINDOW)
            rows.append((corrected.p10, corrected.p90, waited))
            fresh = self._segment_fresh[part] = self._segment_fresh.get(part, 0) + 1
            # as the buckets: refit every REFIT outcomes (the window stays full once it is)
            if len(rows) >= SEGMENT_MIN and (fresh >= REFIT or len(rows) < 2 * REFIT + SEGMENT_MIN):
                self._segment_factors[part] = _fit_segment(rows)
                self._segment_fresh[part] = 0
            factors = self._segment_factors.get(part)
            if factors is not None:
                corrected = Range(corrected.p10 * factors[0], corrected.p50, corrected.p90 * factors[1])

    def forget(self, key: tuple[object, str]) -> None:
        """The ticket was cancelled: no outcome to learn from."""
        self.pending.pop(key, None)

    def new_day(self) -> None:
        """Yesterday's unresolved tickets will never be called."""
        self.pending.clear()

    def corrections_only(self) -> Calibrator:
        """A calibrator that corrects exactly as this one does now and learns nothing: what a
        forecast computed off the lock applies, so that its result depends on the seq it was
        made at and not on what arrived while it ran."""
        return Calibrator(
            _factors=list(self._factors), _median_share=list(self._median_share), _segment_factors=dict(self._segment_factors)
        )

    def factors(self, p50: float) -> tuple[float, float, float]:
        """The multiplicative correction of each percentile for a forecast of this size."""
        bucket = _bucket(p50)
        factors = self._factors[bucket]
        if factors is None:
            return (1.0, 1.0, 1.0)
        return (factors[0], factors[1] ** self._median_share[bucket], factors[2])

    def _fit(self, bucket: int) -> tuple[float, float, float]:
        rows = self.outcomes[bucket]
        data = np.array(rows)
        actual = data[:, 3]
        shrink = len(rows) / (len(rows) + SHRINK)
        out = []
        for column, q in enumerate(QUANTILES):
            predicted = data[:, column]
            usable = predicted > 1.0
            if usable.sum() < 10:
                out.append(1.0)
                continue
            out.append(_shrunk(weighted_quantile(actual[usable] / predicted[usable], predicted[usable], q), shrink))
        return (out[0], out[1], out[2])

    def adjust(self, raw: Range, segment: Segment | None = None) -> Range:
        """The calibrated range of a raw forecast (of a ticket of ``segment``)."""
        if not np.isfinite(raw.p90):
            return raw
        adjusted = raw.scaled(self.factors(raw.p50))
        if segment is None:
            return adjusted
        low, high = 1.0, 1.0
        for part in _parts(segment):
            extra = self._segment_factors.get(part, (1.0, 1.0))
            low, high = low * extra[0], high * extra[1]
        # a segment's tails never move its median
        return Range(min(adjusted.p10 * low, adjusted.p50), adjusted.p50, max(adjusted.p90 * high, adjusted.p50))


def _shrunk(ratio: float, shrink: float) -> float:
    """A correction factor shrunk on the log scale toward 1 ("no correction") by ``shrink``."""
    return float(np.exp(shrink * np.log(max(ratio, 1e-3))))


def _parts(segment: Segment) -> tuple[tuple[str, object], tuple[str, object]]:
    return (("service", segment[0]), ("hour", segment[1]))


def _fit_segment(rows: deque[tuple[float, float, float]]) -> tuple[float, float]:
    """A segment's (p10, p90) factors: those that put a tenth of its recent waits beyond each
    tail, shrunk toward 1."""
    data = np.array(rows)
    actual = data[:, 2]
    shrink = len(rows) / (len(rows) + SEGMENT_SHRINK)
    out = []
    for column, q in ((0, 0.1), (1, 0.9)):
        predicted = data[:, column]
        usable = predicted > 1.0
        if usable.sum() < SEGMENT_MIN:
            out.append(1.0)
            continue
        beyond = float(np.mean(actual[usable] > predicted[usable])) if q > 0.5 else float(np.mean(actual[usable] < predicted[usable]))
        expected = 1.0 - q if q > 0.5 else q
        # only a segment whose tail is missed by more than chance is corrected: a noisy factor
        # per hour of the day, applied to every hour, puts more waits beyond the tails than none
        if abs(beyond - expected) <= SEGMENT_Z * np.sqrt(expected * (1.0 - expected) / usable.sum()):
            out.append(1.0)
            continue
        # unweighted: a segment's promise is about the share of its customers beyond the tail,
        # whatever the size of their forecasts (weights by size made the big ones rule)
        out.append(_shrunk(float(np.quantile(actual[usable] / predicted[usable], q)), shrink))
    return (out[0], out[1])

