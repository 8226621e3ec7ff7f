"""A bank-wide prior pinned in a branch's log: the ``bank_prior_adopted`` event's record.

A new branch may start from what its sister branches learned (``queue_board.forecast.pooling``).
Taken from the store at the moment a server first sees the branch, that prior would differ
between processes and after a restart; pinned in the branch's own log as numbers, it is part
of the history every projection, process and replay reads the same way. This module is only the
record and its rules (plain data, checked like every field of the log); what it means to the
forecast is :func:`queue_board.forecast.pooling.adopt_bank_prior`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Any, TypeVar

from queue_board.core.fields import EventFormatError, Profile, finite_number, name_problem, parse_profile

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
#: at most this many sister days in one record, names (counters, services) in one day, and times under one name
MAX_RHYTHM_DAYS = 31
MAX_DAY_NAMES = 200
MAX_DAY_TIMES = 5000
#: a pause reason as long as the log allows (queue_board.core.events.MAX_REASON_LENGTH, which imports this module)
MAX_PAUSE_REASON_LENGTH = 200
SECONDS_A_DAY = 86400.0

T = TypeVar("T")


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
class RhythmDay:
    """One finished day of a sister branch, for a branch with no day of its own to replay its
    rhythm from: in local seconds since midnight, each counter's openings (with the services it
    opened for), closings and pauses (start, length or ``None`` if never resumed, reason), and
    each service's arrivals."""

    day: date
    opened: tuple[tuple[str, tuple[tuple[float, Profile], ...]], ...] = ()
    closed: tuple[tuple[str, tuple[float, ...]], ...] = ()
    pauses: tuple[tuple[str, tuple[tuple[float, float | None, str | None], ...]], ...] = ()
    arrivals: tuple[tuple[str, tuple[float, ...]], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """As the log writes it."""
        return {
            "day": self.day.isoformat(),
            "opened": {name: [[at, [list(tier) for tier in profile]] for at, profile in items] for name, items in self.opened},
            "closed": {name: list(times) for name, times in self.closed},
            "pauses": {name: [[start, length, reason] for start, length, reason in items] for name, items in self.pauses},
            "arrivals": {code: list(times) for code, times in self.arrivals},
        }


@dataclass(frozen=True, slots=True)
class SisterPrior:
    """What a branch adopted from its sisters: per-service lengths, pause overrun, patience
    (summed events and time at risk per hazard bin), their latest days' rhythm, and which
    branches it came from."""

    sisters: tuple[str, ...]
    services: tuple[tuple[str, PooledRecord], ...] = ()
    pause_overrun: PooledRecord | None = None
    patience: tuple[tuple[float, ...], tuple[float, ...]] | None = None
    #: the sisters' latest finished days, the rhythm a branch replays until it has a day of its own
    days: tuple[RhythmDay, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The event's ``prior`` object, absent parts left out."""
        out: dict[str, Any] = {"sisters": list(self.sisters), "services": {code: pooled.to_dict() for code, pooled in self.services}}
        if self.pause_overrun is not None:
            out["pause_overrun"] = self.pause_overrun.to_dict()
        if self.patience is not None:
            out["patience"] = {"events": list(self.patience[0]), "exposure": list(self.patience[1])}
        if self.days:
            out["days"] = [day.to_dict() for day in self.days]
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


def _time_of_day(value: Any, field: str) -> float:
    number = finite_number(value)
    if number is None or not 0 <= number <= SECONDS_A_DAY:
        raise EventFormatError(field, f"must hold seconds since local midnight (0 to {SECONDS_A_DAY:g})")
    return float(number)


def _by_name(value: Any, field: str, item: Callable[[Any, str], T]) -> tuple[tuple[str, tuple[T, ...]], ...]:
    """An object of at most :data:`MAX_DAY_NAMES` names (counters or services), each a list of at
    most :data:`MAX_DAY_TIMES` items read by ``item``."""
    if value is None:
        return ()
    if not isinstance(value, Mapping) or len(value) > MAX_DAY_NAMES:
        raise EventFormatError(field, f"must be an object of at most {MAX_DAY_NAMES} names")
    out = []
    for name in sorted(value):
        problem = name_problem(name)
        if problem is not None:
            raise EventFormatError(field, f"a name {problem}")
        items = value[name]
        if not isinstance(items, list) or len(items) > MAX_DAY_TIMES:
            raise EventFormatError(f"{field}.{name}", f"must be a list of at most {MAX_DAY_TIMES} entries")
        out.append((name, tuple(item(entry, f"{field}.{name}") for entry in items)))
    return tuple(out)


def _opening(value: Any, field: str) -> tuple[float, Profile]:
    if not isinstance(value, list) or len(value) != 2:
        raise EventFormatError(field, "must hold [seconds since midnight, services] pairs")
    return _time_of_day(value[0], field), parse_profile(value[1], field)


def _pause(value: Any, field: str) -> tuple[float, float | None, str | None]:
    if not isinstance(value, list) or len(value) != 3:
        raise EventFormatError(field, "must hold [start, length or null, reason or null] triples")
    start, length, reason = value
    if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_PAUSE_REASON_LENGTH):
        raise EventFormatError(field, f"a pause reason must be a string of at most {MAX_PAUSE_REASON_LENGTH} characters")
    return _time_of_day(start, field), (_time_of_day(length, field) if length is not None else None), reason


def _rhythm_day(value: Any, field: str) -> RhythmDay:
    if not isinstance(value, Mapping):
        raise EventFormatError(field, "must be an object with day, opened, closed, pauses and arrivals")
    text = value.get("day")
    try:
        day = date.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        day = None
    if day is None:
        raise EventFormatError(f"{field}.day", "must be a date (YYYY-MM-DD)")
    return RhythmDay(
        day=day,
        opened=_by_name(value.get("opened"), f"{field}.opened", _opening),
        closed=_by_name(value.get("closed"), f"{field}.closed", _time_of_day),
        pauses=_by_name(value.get("pauses"), f"{field}.pauses", _pause),
        arrivals=_by_name(value.get("arrivals"), f"{field}.arrivals", _time_of_day),
    )


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
    days = value.get("days", [])
    if not isinstance(days, list) or len(days) > MAX_RHYTHM_DAYS:
        raise EventFormatError("prior.days", f"must be a list of at most {MAX_RHYTHM_DAYS} sister days")
    return SisterPrior(
        sisters=tuple(str(s) for s in sisters),
        services=tuple(parsed_services),
        pause_overrun=_pooled(overrun, "prior.pause_overrun") if overrun is not None else None,
        patience=parsed_patience,
        days=tuple(_rhythm_day(day, f"prior.days[{index}]") for index, day in enumerate(days)),
    )
