"""A bank-wide prior pinned in a branch's log: the ``bank_prior_adopted`` event's record.

A new branch may start from what its sister branches learned (``queue_board.forecast.pooling``).
Taken from the store at the moment a server first sees the branch, that prior would differ
between processes and after a restart; pinned in the branch's own log as numbers, it is part
of the history every projection, process and replay reads the same way. This module is only the
record and its rules (plain data, checked like every field of the log); what it means to the
forecast is :func:`queue_board.forecast.pooling.adopt_bank_prior`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from queue_board.core.fields import EventFormatError, finite_number, name_problem

#: the hazard bins of a patience record: ``len(queue_board.forecast.durations.HAZARD_EDGES)``
#: (the forecast cannot be imported here; tests/test_sister_priors.py checks that they agree)
PATIENCE_BINS = 23
#: at most this many quantiles stand for one pooled distribution
MAX_QUANTILES = 64
#: at most this many services, and sisters named, in one record
MAX_SERVICES = 200
MAX_SISTERS = 1000
#: the largest weight (pseudo-observations) a pinned distribution may carry (the pooling itself caps it lower)
MAX_RECORD_WEIGHT = 1000.0


@dataclass(frozen=True, slots=True)
class PooledRecord:
    """One pooled distribution: ascending quantiles (seconds, or a ratio), worth ``weight``
    observations, from ``branches`` sisters."""

    values: tuple[float, ...]
    weight: float
    branches: int

    def to_dict(self) -> dict[str, Any]:
        """As the log writes it."""
        return {"values": list(self.values), "weight": self.weight, "branches": self.branches}


@dataclass(frozen=True, slots=True)
class SisterPrior:
    """What a branch adopted from its sisters: per-service lengths, pause overrun, patience
    (summed events and time at risk per hazard bin), and which branches it came from."""

    sisters: tuple[str, ...]
    services: tuple[tuple[str, PooledRecord], ...] = ()
    pause_overrun: PooledRecord | None = None
    patience: tuple[tuple[float, ...], tuple[float, ...]] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The event's ``prior`` object, absent parts left out."""
        out: dict[str, Any] = {"sisters": list(self.sisters), "services": {code: pooled.to_dict() for code, pooled in self.services}}
        if self.pause_overrun is not None:
            out["pause_overrun"] = self.pause_overrun.to_dict()
        if self.patience is not None:
            out["patience"] = {"events": list(self.patience[0]), "exposure": list(self.patience[1])}
        return out


def _numbers(value: Any, field: str, *, length: int | None = None, ascending: bool = False) -> tuple[float, ...]:
    """A list of finite numbers ≥ 0 (of ``length``, or 1 to :data:`MAX_QUANTILES`)."""
    if not isinstance(value, list):
        raise EventFormatError(field, "must be a list of numbers")
    if length is not None and len(value) != length:
        raise EventFormatError(field, f"must hold {length} numbers")
    if length is None and not 1 <= len(value) <= MAX_QUANTILES:
        raise EventFormatError(field, f"must hold 1 to {MAX_QUANTILES} numbers")
    out: list[float] = []
    for item in value:
        number = finite_number(item)
        if number is None or number < 0:
            raise EventFormatError(field, "must hold finite numbers of at least 0")
        out.append(float(number))
    if ascending and any(b < a for a, b in pairwise(out)):
        raise EventFormatError(field, "must be in ascending order (quantiles)")
    return tuple(out)


def _pooled(value: Any, field: str) -> PooledRecord:
    if not isinstance(value, Mapping):
        raise EventFormatError(field, "must be an object with values, weight and branches")
    weight = finite_number(value.get("weight"))
    if weight is None or not 0 < weight <= MAX_RECORD_WEIGHT:
        raise EventFormatError(f"{field}.weight", f"must be a number above 0 and at most {MAX_RECORD_WEIGHT:g}")
    branches = value.get("branches")
    if isinstance(branches, bool) or not isinstance(branches, int) or not 1 <= branches <= MAX_SISTERS:
        raise EventFormatError(f"{field}.branches", f"must be a whole number from 1 to {MAX_SISTERS}")
    return PooledRecord(_numbers(value.get("values"), f"{field}.values", ascending=True), float(weight), branches)


def parse_sister_prior(value: Any) -> SisterPrior:
    """The ``prior`` of a ``bank_prior_adopted`` event, or :class:`EventFormatError` naming the
    first wrong part (``prior.services.deposit.weight``, …)."""
    if not isinstance(value, Mapping):
        raise EventFormatError("prior", "must be an object with sisters, services, pause_overrun and patience")
    sisters = value.get("sisters")
    if not isinstance(sisters, list) or not 1 <= len(sisters) <= MAX_SISTERS:
        raise EventFormatError("prior.sisters", f"must list the 1 to {MAX_SISTERS} branches the prior was learned from")
    for sister in sisters:
        problem = name_problem(sister)
        if problem is not None:
            raise EventFormatError("prior.sisters", f"a branch id {problem}")
    services = value.get("services", {})
    if not isinstance(services, Mapping) or len(services) > MAX_SERVICES:
        raise EventFormatError("prior.services", f"must be an object of at most {MAX_SERVICES} service codes")
    parsed_services: list[tuple[str, PooledRecord]] = []
    for code in sorted(services):
        problem = name_problem(code)
        if problem is not None:
            raise EventFormatError("prior.services", f"a service code {problem}")
        parsed_services.append((code, _pooled(services[code], f"prior.services.{code}")))
    overrun = value.get("pause_overrun")
    patience = value.get("patience")
    parsed_patience: tuple[tuple[float, ...], tuple[float, ...]] | None = None
    if patience is not None:
        if not isinstance(patience, Mapping):
            raise EventFormatError("prior.patience", "must be an object with events and exposure")
        parsed_patience = (
            _numbers(patience.get("events"), "prior.patience.events", length=PATIENCE_BINS),
            _numbers(patience.get("exposure"), "prior.patience.exposure", length=PATIENCE_BINS),
        )
    return SisterPrior(
        sisters=tuple(str(s) for s in sisters),
        services=tuple(parsed_services),
        pause_overrun=_pooled(overrun, "prior.pause_overrun") if overrun is not None else None,
        patience=parsed_patience,
    )
