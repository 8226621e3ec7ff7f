"""The "what if now": the waits of everyone waiting now with one more counter open, and with one fewer.

Pure: a hypothetical ``counter_opened`` or ``counter_closed`` event is validated and applied to a
copy of the branch state (:meth:`~queue_board.core.branch.BranchState.copy_for_forecast`) and the
branch's Monte-Carlo forecast runs on that copy, calibrated as the boards' is. The real state, its
model's caches and its log are not touched: the forecasts read a shallow copy of the model with a
rhythm cache of their own (the boards' cache would otherwise be filled with counters that are
not really open or closed).

The three forecasts (as it is, one more, one fewer) share their random numbers: the copies keep
the real state's ``seq``, which seeds the forecaster, so the difference between them is the
counter and not the luck of the draw (common random numbers).

Which counter:

- *one more*: the best closed counter for the longest queue (most customers waiting; then the
  longest wait) — among the closed counters whose profile serves that service, the one that
  puts it in its highest tier, then the one with the fewest other services in the tiers before
  and in it, then by name; its configured profile (or the one it last opened with). When no
  closed counter serves it, the closed counter that serves the most waiting customers;
- *one fewer*: the least needed open counter, the one with the fewest waiting customers per
  open counter over the services it takes (its lower tiers count half), then a paused one, then a
  free one, then a busy one, then by name. A counter calling or serving closes once its customer
  is done: for the customers waiting that is the same as closing now (it would call none of them
  meanwhile), so the copy finishes that customer and closes it at once.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from queue_board.core.branch import FREE, BranchState, CounterStatus, apply, validate
from queue_board.core.events import Profile, parse_event
from queue_board.forecast.durations import BranchModel
from queue_board.forecast.monte_carlo import Forecast, Forecaster, calibrate


@dataclass(frozen=True, slots=True)
class WaitSummary:
    """The forecast waits (seconds from now until the first call) of the customers waiting now."""

    #: customers waiting now
    waiting: int
    #: of them, how many no counter that is or will be open would call (left out of the figures)
    never: int
    mean_p50_s: float | None
    max_p50_s: float | None
    mean_p90_s: float | None
    max_p90_s: float | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, in minutes rounded to 0.1."""
        return {
            "waiting": self.waiting,
            "never": self.never,
            "mean_p50_min": _minutes(self.mean_p50_s),
            "max_p50_min": _minutes(self.max_p50_s),
            "mean_p90_min": _minutes(self.mean_p90_s),
            "max_p90_min": _minutes(self.max_p90_s),
        }


@dataclass(frozen=True, slots=True)
class Hypothesis:
    """One hypothetical change: which counter, with which profile, and the waits it would give."""

    action: str  # "open" or "close"
    counter: str
    #: the service it was chosen for (open: the longest queue's), "" if none
    service: str
    profile: Profile
    waits: WaitSummary


@dataclass(frozen=True, slots=True)
class WhatIf:
    """The waits now, with one more counter and with one fewer (``None``: no such counter)."""

    now: WaitSummary
    one_more: Hypothesis | None
    one_fewer: Hypothesis | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""

        def hypothesis(h: Hypothesis | None) -> dict[str, Any] | None:
            if h is None:
                return None
            return {
                "action": h.action,
                "counter": h.counter,
                "service": h.service,
                "services": [list(tier) for tier in h.profile],
                **h.waits.as_dict(),
            }

        return {"now": self.now.as_dict(), "one_more": hypothesis(self.one_more), "one_fewer": hypothesis(self.one_fewer)}


def summarise(forecast: Forecast, labels: Iterable[str]) -> WaitSummary:
    """Mean and max of the p50 and p90 waits of ``labels`` in ``forecast`` (infinite ones counted apart)."""
    p50: list[float] = []
    p90: list[float] = []
    never = 0
    count = 0
    for label in labels:
        count += 1
        found = forecast.waits.get(label)
        if found is None or not math.isfinite(found.p90) or not math.isfinite(found.p50):
            never += 1
            continue
        p50.append(max(0.0, found.p50))
        p90.append(max(0.0, found.p90))
    return WaitSummary(
        waiting=count,
        never=never,
        mean_p50_s=sum(p50) / len(p50) if p50 else None,
        max_p50_s=max(p50) if p50 else None,
        mean_p90_s=sum(p90) / len(p90) if p90 else None,
        max_p90_s=max(p90) if p90 else None,
    )


def longest_queue(state: BranchState) -> str | None:
    """The service with the most customers waiting (then the one waiting longest, then by code)."""
    best: tuple[int, float, str] | None = None
    for service, queue in state.queues.items():
        if not queue:
            continue
        key = (-len(queue), min(entry[0] for entry in queue), service)
        if best is None or key < best:
            best = key
    return best[2] if best is not None else None


def _profile_rank(profile: Profile, service: str) -> tuple[int, int] | None:
    """Where ``profile`` puts ``service``: (tier, services in the tiers up to it), ``None`` if absent."""
    before = 0
    for index, tier in enumerate(profile):
        before += len(tier)
        if service in tier:
            return (index, before)
    return None


def closed_candidates(state: BranchState, profiles: Mapping[str, Profile]) -> dict[str, Profile]:
    """Counters that could open now and the profile each would open with: the configured ones not
    open (their configured profile) and any other closed counter (the profile it last had)."""
    result: dict[str, Profile] = {}
    for name, profile in profiles.items():
        counter = state.counters.get(name)
        if (counter is None or counter.status is CounterStatus.CLOSED) and profile:
            result[name] = profile
    for name, counter in state.counters.items():
        if counter.status is CounterStatus.CLOSED and name not in result and counter.services:
            result[name] = counter.services
    return result


def counter_to_open(state: BranchState, profiles: Mapping[str, Profile]) -> tuple[str, Profile, str] | None:
    """(counter, profile, service) of the best closed counter for the longest queue; ``None``
    when nobody waits or every counter is open."""
    service = longest_queue(state)
    candidates = closed_candidates(state, profiles)
    if service is None or not candidates:
        return None
    ranked = [(rank, name) for name, profile in candidates.items() if (rank := _profile_rank(profile, service)) is not None]
    if ranked:
        _, name = min(ranked)
        return name, candidates[name], service
    waiting = {code: len(queue) for code, queue in state.queues.items()}
    served = {name: sum(waiting.get(code, 0) for tier in profile for code in tier) for name, profile in candidates.items()}
    name = min(served, key=lambda n: (-served[n], n))
    return (name, candidates[name], "") if served[name] > 0 else None


def counter_to_close(state: BranchState) -> tuple[str, Profile, str] | None:
    """(counter, profile, its first service) of the least needed open counter that may close now."""
    open_counters = [c for c in state.counters.values() if c.status is not CounterStatus.CLOSED and c.services]
    if not open_counters:
        return None
    waiting = {code: len(queue) for code, queue in state.queues.items()}
    serving: dict[str, int] = {}
    for counter in open_counters:
        for tier in counter.services:
            for code in tier:
                serving[code] = serving.get(code, 0) + 1

    def need(profile: Profile) -> float:
        return sum(
            (1.0 if index == 0 else 0.5) * waiting.get(code, 0) / max(1, serving.get(code, 0))
            for index, tier in enumerate(profile)
            for code in tier
        )

    def busy(status: CounterStatus) -> int:
        return 0 if status is CounterStatus.PAUSED else 1 if status in FREE else 2

    chosen = min(open_counters, key=lambda c: (need(c.services), busy(c.status), c.name))
    first = chosen.services[0][0] if chosen.services and chosen.services[0] else ""
    return chosen.name, chosen.services, first


def hypothetical(state: BranchState, event_objects: Sequence[Mapping[str, Any]]) -> BranchState | None:
    """A forecast copy of ``state`` with events (decoded JSON objects, stamped at the state's own
    ``now``) validated and applied in turn, keeping the state's ``seq`` (the forecaster's seed);
    ``None`` if the state would reject one."""
    trial = state.copy_for_forecast()
    zone = state.tz if state.tz is not None else UTC
    stamp = datetime.fromtimestamp(state.now, zone)
    for event_object in event_objects:
        event = parse_event(dict(event_object), ts=stamp)
        if validate(trial, event) is not None:
            return None
        apply(trial, event)
    trial.seq = state.seq
    return trial


def _events(state: BranchState, action: str, name: str, profile: Profile) -> list[dict[str, Any]]:
    """The hypothetical events: open ``name`` with ``profile``, or close it (after its customer)."""
    if action == "open":
        return [{"type": "counter_opened", "counter": name, "services": [list(tier) for tier in profile]}]
    counter = state.counters[name]
    events: list[dict[str, Any]] = []
    if counter.ticket is not None and counter.status in (CounterStatus.CALLING, CounterStatus.SERVING):
        if counter.status is CounterStatus.CALLING:
            events.append({"type": "service_started", "counter": name, "ticket": counter.ticket})
        events.append({"type": "service_finished", "counter": name, "ticket": counter.ticket})
    events.append({"type": "counter_closed", "counter": name})
    return events


def what_if(
    state: BranchState,
    model: BranchModel,
    forecaster: Forecaster,
    profiles: Mapping[str, Profile],
    *,
    rhythm_cache: dict[tuple[Any, ...], Any] | None = None,
) -> WhatIf:
    """The waits of everyone waiting now as things are, with one more counter (see the module's
    docstring for which) and with one fewer. ``profiles``: each configured counter's default
    profile. ``rhythm_cache`` (kept by the caller between calls) speeds up the forecasts' replay
    of recent days; the model's own cache is never touched. Changes nothing."""
    reader = copy.copy(model)
    reader.rhythm_cache = rhythm_cache if rhythm_cache is not None else {}
    labels = [t.label for t in state.waiting_tickets()]

    def waits(trial: BranchState) -> WaitSummary:
        return summarise(calibrate(forecaster.forecast(trial, reader), reader.calibrator, trial), labels)

    now = waits(state.copy_for_forecast())
    if not labels:
        return WhatIf(now=now, one_more=None, one_fewer=None)
    results: list[Hypothesis | None] = []
    for action, chosen in (("open", counter_to_open(state, profiles)), ("close", counter_to_close(state))):
        if chosen is None:
            results.append(None)
            continue
        name, profile, service = chosen
        trial = hypothetical(state, _events(state, action, name, profile))
        results.append(None if trial is None else Hypothesis(action, name, service, profile, waits(trial)))
    return WhatIf(now=now, one_more=results[0], one_fewer=results[1])


def profiles_of(counters: Sequence[Any]) -> dict[str, Profile]:
    """Each configured counter's default profile (``BranchConfig.counters``)."""
    return {c.name: c.services for c in counters}


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60.0, 1)
