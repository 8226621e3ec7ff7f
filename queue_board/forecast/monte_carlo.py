"""Forecasts as honest ranges: run the branch forward many times under its own call rule.

Each scenario draws, from what the branch has learned (``durations.BranchModel``):

- how long the transactions in progress still take, given how long they have lasted, at
  that counter and hour; how long each waiting customer's transaction will take where it
  is served; the walk to the counter and the wrap-up after it;
- whether a waiting customer cancels first (learned patience), or has silently left and
  becomes a no-show when called (learned share by time waited);
- when free tellers call (learned from how long free counters took with someone waiting),
  and when paused counters come back (how long declared pauses really last);
- the branch's rhythm for the rest of the day, by replaying one recent day forward:
  counters that open, close or pause, and customers who arrive and overtake (a higher tier
  at some counter);
- where the branch's calls show a hidden priority class (``latent_priority.py``), who of a
  service is a priority customer: the waiting, the new ticket and the service's arrivals.

The call rule then decides who is called when. The 10th, 50th and 90th percentiles over
the scenarios are the range a board shows, after a calibration step (``calibration.py``).
All scenarios advance together as numpy arrays.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from queue_board.core.branch import FREE, BranchState, Counter, CounterStatus, Ticket
from queue_board.core.call_rule import has_eligible_waiting, is_short
from queue_board.core.events import Profile
from queue_board.forecast.calibration import Calibrator
from queue_board.forecast.durations import (
    HAZARD_EDGES,
    BranchModel,
    DayRecord,
    ReadinessTable,
    RecencySample,
    ShareByWait,
    Survival,
    heads_up_remaining,
    heads_up_trust,
    predicted_seconds,
    ticket_segment,
    time_of_day_at,
)
from queue_board.forecast.ranges import Range

PROBS = np.array([0.1, 0.5, 0.9])
INF = float("inf")
#: how far ahead the branch's rhythm (arrivals, pauses, openings) is replayed
HORIZON = 4 * 3600.0
#: days of history that may be replayed; recent days and the same weekday are likelier
RHYTHM_DAYS = 10
#: a counter's routine pause (one it took on most recent days at about the same time, as a
#: lunch) not taken yet today is still due this long after the time it began on a replayed day
ROUTINE_LATENESS = 90 * 60.0
#: a routine pause whose start times on the replayed days span more than this is not a routine
ROUTINE_SPREAD = 90 * 60.0
#: marks an overdue routine pause in a replayed day's row: it starts as soon as the counter is free
_OVERDUE = -1e12
#: an overdue pause starts this long after now (the forecast replays only what is strictly later)
_JUST_AFTER = 1e-3


NEVER = Range(INF, INF, INF)


def quantile_table(draws: np.ndarray) -> np.ndarray:
    """The 10th, 50th and 90th percentiles of each column of ``draws`` (shape ``(3, k)``),
    as numpy's default linear quantiles but by partial sorting, which is several times faster."""
    count = draws.shape[0]
    positions = PROBS * (count - 1)
    lower = np.floor(positions).astype(int)
    upper = np.minimum(lower + 1, count - 1)
    parted = np.partition(draws, np.unique(np.concatenate((lower, upper))), axis=0)
    low, high = parted[lower], parted[upper]
    table: np.ndarray = low + (high - low) * (positions - lower)[:, None]
    return table


def range_of(values: np.ndarray) -> Range:
    """Percentile range of a 1-d array of finite draws (numpy's default linear quantiles,
    computed by partial sorting: this runs for every ticket on every refresh)."""
    count = len(values)
    positions = PROBS * (count - 1)
    lower = np.floor(positions).astype(int)
    upper = np.minimum(lower + 1, count - 1)
    parted = np.partition(values, np.unique(np.concatenate((lower, upper))))
    low, high = parted[lower], parted[upper]
    p10, p50, p90 = low + (high - low) * (positions - lower)
    return Range(float(p10), float(p50), float(p90))


def sample_range(sample: RecencySample, factor: float = 1.0) -> Range:
    """The range of a learned duration (e.g. a transaction of one service), scaled by ``factor``."""
    p10, p50, p90 = sample.quantiles(PROBS) * factor
    return Range(float(p10), float(p50), float(p90))


@dataclass(slots=True)
class Forecast:
    """What the boards show at one moment.

    ``waits`` maps each waiting ticket to the time until its first call, from ``at``;
    ``new_ticket`` maps a service to the wait a ticket taken now would have (``None``:
    no counter serves it); ``counters`` maps a busy or paused counter to the time until it
    is free to call again.
    """

    at: float
    waits: dict[str, Range] = field(default_factory=dict)
    new_ticket: dict[str, Range | None] = field(default_factory=dict)
    counters: dict[str, Range] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Forecaster:
    """Monte-Carlo forecaster; ``scenarios`` trades precision of the tails for time."""

    scenarios: int = 128
    seed: int = 20260302

    def rng_for(self, state: BranchState) -> np.random.Generator:
        """Random numbers fixed by the state's ``seq``: the same log gives the same forecast,
        live or replayed, before or after a restart."""
        return np.random.default_rng([self.seed, state.seq])

    def forecast(
        self, state: BranchState, model: BranchModel, services: Iterable[str] = (), *, focus: str | None = None
    ) -> Forecast:
        """Forecast every waiting ticket, every busy counter and a new ticket of each service."""
        return forecast(state, model, self.rng_for(state), self.scenarios, services, focus=focus)


# --- the branch's rhythm, replayed from a recent day -----------------------------------------
@dataclass(slots=True)
class Rhythm:
    """Per scenario, what the rest of the day brings: one recent day replayed from now."""

    #: (n, C) next pause start (seconds from now) and its length, per counter
    pause_at: np.ndarray
    pause_length: np.ndarray
    #: (n, C) when each counter closes (inf: not today)
    close_at: np.ndarray
    #: (n, C) when each counter that is closed now opens (inf: stays closed)
    open_at: np.ndarray
    #: per overtaking service: (n, K) arrival times from now, sorted, inf-padded
    arrivals: dict[str, np.ndarray]


def _pick_days(model: BranchModel, state: BranchState, rng: np.random.Generator, n: int) -> tuple[list[DayRecord], np.ndarray]:
    """Recent days, and which of them each scenario replays (recent days and the same
    weekday are likelier)."""
    days = model.past_days()[-RHYTHM_DAYS:]
    if not days or state.day is None:
        return [], np.zeros(n, dtype=int)
    weekday = state.day.weekday()
    cumulative = _day_weights(tuple(d.day.weekday() for d in days), weekday)
    return days, np.searchsorted(cumulative, rng.random(n) * cumulative[-1], side="right").clip(0, len(days) - 1)


@functools.lru_cache(maxsize=256)
def _day_weights(weekdays: tuple[int, ...], today: int) -> np.ndarray:
    """Cumulative weights of recent days: recent days and the same weekday are likelier."""
    count = len(weekdays)
    weights = np.array([(0.85 ** (count - 1 - i)) * (3.0 if w == today else 1.0) for i, w in enumerate(weekdays)])
    cumulative: np.ndarray = np.cumsum(weights)
    return cumulative


def _rhythm(
    model: BranchModel,
    state: BranchState,
    counters: list[Counter],
    overtaking: list[str],
    rng: np.random.Generator,
    n: int,
    windows: dict[str, float] | None = None,
) -> Rhythm:
    """What the rest of the day brings in each scenario; a service in ``windows`` has its
    arrivals replayed over that many seconds only (else :data:`HORIZON`)."""
    size_c = len(counters)
    days, chosen = _pick_days(model, state, rng, n)
    if not days:
        none = np.full((n, size_c), INF)
        return Rhythm(none, np.zeros((n, size_c)), none, none, {s: np.full((n, 0), INF) for s in overtaking})
    now_tod = _time_of_day(state)
    today = model.today if model.today is not None and model.today.day == state.day else None
    taken: dict[str, set[str | None]] = {}
    if today is not None:
        for name, pauses in today.pauses.items():
            taken[name] = {p[2] for p in pauses}
    # one row per recent day, then each scenario takes its day's row; a day's replay only
    # changes when the clock passes one of its events, so it is kept for the minute
    minute = int(now_tod // 60)
    routine = routine_pauses(days)
    windows = windows or {}
    spans = tuple(windows.get(s, HORIZON) for s in overtaking)
    key_base = (tuple(c.name for c in counters), tuple(c.status is CounterStatus.CLOSED for c in counters), tuple(overtaking), spans, minute)
    taken_key = tuple(sorted((k, tuple(sorted(map(str, v)))) for k, v in taken.items()))
    routine_key = tuple(sorted((k, tuple(sorted((str(r), t) for r, t in v.items()))) for k, v in routine.items()))
    per_day = []
    # a model without a cache (e.g. the simulator's oracle) simply recomputes
    cache: dict[tuple[object, ...], DayReplay] = getattr(model, "rhythm_cache", {})
    for record in days:
        key = (record.day, record.origin, *key_base, taken_key, routine_key)
        cached = cache.get(key)
        if cached is None:
            cached = _replay_day(record, counters, overtaking, minute * 60.0, taken, routine, windows)
            if len(cache) > 256:
                cache.clear()
            cache[key] = cached
        per_day.append(cached)
    # the cached rows are relative to the start of the minute
    shift = now_tod - minute * 60.0
    pause_rows = np.array([d[0] for d in per_day])[chosen]
    overdue = pause_rows == _OVERDUE
    pause_at = _after_now(pause_rows - shift)
    pause_at[overdue] = _JUST_AFTER
    pause_length = np.array([d[1] for d in per_day])[chosen]
    close_at = _after_now(np.array([d[2] for d in per_day])[chosen] - shift)
    open_at = _after_now(np.array([d[3] for d in per_day])[chosen] - shift)
    packed: dict[str, np.ndarray] = {}
    for service in overtaking:
        width = max(len(d[4][service]) for d in per_day)
        matrix = np.full((len(days), width), INF)
        for i, d in enumerate(per_day):
            matrix[i, : len(d[4][service])] = d[4][service]
        packed[service] = _after_now(matrix[chosen] - shift)
    return Rhythm(pause_at, pause_length, close_at, open_at, packed)


def _after_now(relative: np.ndarray) -> np.ndarray:
    """Times already past (within the cached minute) did not happen today: never."""
    relative[relative <= 0] = INF
    return relative


def _time_of_day(state: BranchState) -> float:
    """Local seconds since midnight of the state's last event."""
    if state.last_ts is None:
        return 0.0
    offset = state.last_ts.utcoffset()
    return time_of_day_at(state.now, offset.total_seconds() if offset is not None else 0.0)


DayReplay = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, list[float]]]


def routine_pauses(days: list[DayRecord]) -> dict[str, dict[str | None, float]]:
    """Per counter, the pause reasons it took on most of ``days`` at about the same time of day
    (a lunch; not an authorisation that comes when it comes), each with the earliest time of day
    it began: the teller's planned time, which a day's transaction running past it delays."""
    if not days:
        return {}
    starts: dict[tuple[str, str | None], list[float]] = {}
    for record in days:
        for name, pauses in record.pauses.items():
            first: dict[str | None, float] = {}
            for start, _length, reason in pauses:
                first.setdefault(reason, start)
            for reason, start in first.items():
                starts.setdefault((name, reason), []).append(start)
    out: dict[str, dict[str | None, float]] = {}
    for (name, reason), times in starts.items():
        if 2 * len(times) >= len(days) and max(times) - min(times) <= ROUTINE_SPREAD:
            out.setdefault(name, {})[reason] = min(times)
    return out


def _replay_day(
    record: DayRecord,
    counters: list[Counter],
    overtaking: list[str],
    now_tod: float,
    taken: dict[str, set[str | None]],
    routine: dict[str, dict[str | None, float]],
    windows: dict[str, float],
) -> DayReplay:
    """What ``record``'s day did after ``now_tod``, relative to now, for these counters. A routine
    pause the day took a little before now and today has not taken yet is overdue: it is
    marked to start as soon as the counter is free (else the forecast forgets a lunch for the
    minutes between the time it began that day and the time the teller goes today). On the
    branch's own days a routine pause begins at its planned time (``routine_pauses``), not at
    the day's own start, which that day's queue had delayed."""
    size_c = len(counters)
    pause_at = np.full(size_c, INF)
    pause_length = np.zeros(size_c)
    close_at = np.full(size_c, INF)
    open_at = np.full(size_c, INF)
    end = now_tod + HORIZON
    for ci, counter in enumerate(counters):
        name = counter.name
        earlier: set[str | None] = set()
        for start, length, reason in record.pauses.get(name, ()):
            first_of_reason = reason not in earlier
            earlier.add(reason)
            if length is None or reason in taken.get(name, set()):
                continue
            planned = routine.get(name, {}).get(reason)
            if planned is not None and first_of_reason and not record.origin:
                # the teller goes when free after the planned time; the day's own start (of its
                # first pause of the reason, the one routine_pauses timed) was already delayed by
                # that day's transaction, and replaying it would delay twice. Not on a sister's
                # day: the earliest of several branches' lunches is none's plan
                start = planned
            if start <= now_tod and now_tod - start <= ROUTINE_LATENESS and planned is not None:
                pause_at[ci] = _OVERDUE
                pause_length[ci] = length
                break
            if now_tod < start < end:
                pause_at[ci] = start - now_tod
                pause_length[ci] = length
                break
        closes = [t for t in record.closed.get(name, ()) if now_tod < t < end]
        if closes:
            close_at[ci] = closes[0] - now_tod
        opens = [t for t, _ in record.opened.get(name, ()) if now_tod < t < end]
        if opens and counter.status is CounterStatus.CLOSED:
            open_at[ci] = opens[0] - now_tod
    arrivals = {}
    for service in overtaking:
        # a day's arrivals are in the order of its log: by time
        times = record.arrivals.get(service, [])
        first = bisect.bisect_right(times, now_tod)
        last = bisect.bisect_left(times, now_tod + windows.get(service, HORIZON), lo=first)
        arrivals[service] = [t - now_tod for t in times[first:last]]
    return pause_at, pause_length, close_at, open_at, arrivals


def _counters_of_past_days(model: BranchModel, state: BranchState) -> list[Counter]:
    """Counters the replayed days opened that this branch has not opened yet, closed, with the
    services they last opened for: a branch on its first day, replaying its sisters' days, has
    not met its afternoon shift's counters (its own first days do not name them either)."""
    seen: dict[str, Profile] = {}
    for record in model.past_days()[-RHYTHM_DAYS:]:
        for name, openings in record.opened.items():
            if name not in state.counters and openings:
                seen[name] = openings[-1][1]
    return [Counter(name, services=profile) for name, profile in sorted(seen.items())]


def _overtaking_services(counters: list[Counter], tickets: list[Ticket], wanted: list[str]) -> list[str]:
    """Services whose future customers would be called before someone already waiting, or
    before a new ticket of a wanted service (a higher tier at some counter)."""
    present = frozenset(t.service for t in tickets) | frozenset(wanted)
    profiles = frozenset(c.services for c in counters if len(c.services) > 1)
    return _higher_tiers(profiles, present)


def _express_overtaking(counters: list[Counter], model: BranchModel, hour: int) -> list[str]:
    """Services whose future customers an express counter would call before anyone predicted
    long who waits (those of its profile predicted short at this hour)."""
    out: set[str] = set()
    for counter in counters:
        if counter.express_minutes is not None:
            limit = counter.express_minutes * 60.0
            out.update(s for tier in counter.services for s in tier if predicted_seconds(model, s, hour) <= limit)
    return sorted(out)


@functools.lru_cache(maxsize=1024)
def _higher_tiers(profiles: frozenset[Profile], present: frozenset[str]) -> list[str]:
    out: set[str] = set()
    for profile in profiles:
        tiers = {s: i for i, tier in enumerate(profile) for s in tier}
        for service in present:
            tier = tiers.get(service)
            if tier is not None:
                out.update(s for s, i in tiers.items() if i < tier)
    return sorted(out)


def local_hour(state: BranchState) -> int:
    """The local hour (0–23) of the state's last event."""
    return int(_time_of_day(state) // 3600)


# --- the forecast -----------------------------------------------------------------------------
def _after_heads_up(
    remaining: np.ndarray, counter: Counter, now: float, model: BranchModel, rng: np.random.Generator
) -> np.ndarray:
    """The remaining time of a transaction in progress, given the teller's latest heads-up: the
    learned realisation of its declared minutes; while the branch has seen few heads-ups end, in a
    share of scenarios at least the usual remaining time too (a step may be one of many, and the
    prior knows nothing of what follows it). Draws nothing without a heads-up, so a log without
    them forecasts exactly as before."""
    if not counter.heads_ups:
        return remaining
    after = heads_up_remaining(model, counter.heads_ups[-1], now, rng, len(remaining))
    trusted = rng.random(len(remaining)) < heads_up_trust(model)
    draws: np.ndarray = np.where(trusted, after, np.maximum(remaining, after))
    return draws


def _busy_draws(counter: Counter, state: BranchState, model: BranchModel, hour: int, rng: np.random.Generator, n: int) -> np.ndarray | None:
    """Draws of the time until ``counter`` is free again (``None`` if it is free now)."""
    now = state.now
    status = counter.status
    if status is CounterStatus.SERVING:
        ticket = state.tickets[counter.ticket]  # type: ignore[index]
        factor = model.duration_factor(ticket.service, counter.name, hour)
        elapsed = (now - (ticket.started_at or now)) / factor
        return _after_heads_up(model.service(ticket.service).sample_remaining(elapsed, rng, n) * factor, counter, now, model, rng)
    if status is CounterStatus.CALLING:
        ticket = state.tickets[counter.ticket]  # type: ignore[index]
        factor = model.duration_factor(ticket.service, counter.name, hour)
        elapsed = now - (ticket.called_at or now)
        shows = model.walk_up.sample_remaining(elapsed, rng, n) + model.service(ticket.service).sample(rng, n) * factor
        absent = model.no_show_wait.sample_remaining(elapsed, rng, n)
        waited = (ticket.called_at or now) - ticket.issued_at
        gone = float(model.silent_leaving.at(np.array([waited]))[0])
        return np.where(rng.random(n) < gone, absent, shows)
    if status is CounterStatus.PAUSED:
        elapsed = now - counter.since
        if counter.pause_minutes:
            declared = counter.pause_minutes * 60.0
            return model.pause_overrun.sample_remaining(elapsed / declared, rng, n) * declared
        return model.pause_length.sample_remaining(elapsed, rng, n)
    return None


def forecast(
    state: BranchState,
    model: BranchModel,
    rng: np.random.Generator,
    scenarios: int = 128,
    services: Iterable[str] = (),
    *,
    focus: str | None = None,
) -> Forecast:
    """Run the branch forward ``scenarios`` times from ``state``; see the module docstring.

    With ``focus`` (a waiting ticket's label) only that ticket's wait is needed: the run
    stops once it is called and no new-ticket ranges are computed (used by ``replay``).
    """
    now = state.now
    n = scenarios
    tickets: list[Ticket] = state.waiting_tickets()
    known = [c for c in state.counters.values() if c.services] + _counters_of_past_days(model, state)
    open_counters = [c for c in known if c.status is not CounterStatus.CLOSED]
    wanted: list[str] = []
    if focus is None:
        wanted = list(dict.fromkeys([*services, *(t.service for t in tickets), *(s for c in open_counters for tier in c.services for s in tier)]))
    result = Forecast(at=now)
    hour = local_hour(state)

    overtaking = _overtaking_services(known, tickets, wanted)
    if any(c.express_minutes is not None for c in known):
        overtaking = sorted({*overtaking, *_express_overtaking(known, model, hour)})
    # a hidden priority class (latent_priority.py): its future customers overtake ordinary ones
    latent = model.latent.shares(sorted({*(t.service for t in tickets), *wanted}))
    tier_arrivals = set(overtaking)
    if latent:
        overtaking = sorted({*overtaking, *latent})
    # one who comes after everyone waiting now has been called overtakes nobody: a service whose
    # arrivals matter only for its priority class is replayed over its window
    windows = {s: model.latent.window(s) for s in latent if s not in tier_arrivals}
    rhythm = _rhythm(model, state, known, overtaking, rng, n, windows)
    # a closed counter that opens in no scenario plays no part: leave it out of every array
    opens = np.isfinite(rhythm.open_at).any(axis=0).tolist()
    keep = [ci for ci, c in enumerate(known) if c.status is not CounterStatus.CLOSED or opens[ci]]
    counters = [known[ci] for ci in keep]
    if len(keep) < len(known):
        rhythm = Rhythm(
            rhythm.pause_at[:, keep], rhythm.pause_length[:, keep], rhythm.close_at[:, keep], rhythm.open_at[:, keep], rhythm.arrivals
        )
    size_c = len(counters)
    if size_c == 0:
        result.waits = {t.label: NEVER for t in tickets}
        result.new_ticket = dict.fromkeys(wanted)
        return result

    # columns: waiting tickets, then future arrivals that may overtake, then hypothetical new tickets
    priority_arrivals: dict[str, np.ndarray] = {}
    for service, share in latent.items():
        block = rhythm.arrivals[service]
        within = block <= model.latent.window(service)
        if service in tier_arrivals:
            # every arrival of a higher tier is a column already; its priority ones move up
            priority_arrivals[service] = (rng.random(block.shape) < share) & within
            continue
        # an ordinary arrival of a service no higher tier is about is called after everyone
        # waiting now: only the priority ones within the window matter, packed to the left
        # (each row is sorted, so the window is a prefix)
        block = block[:, : int(within.any(axis=0).sum())]
        chosen = (rng.random(block.shape) < share) & within[:, : block.shape[1]]
        packed = np.sort(np.where(chosen, block, INF), axis=1)
        packed = packed[:, : int(np.isfinite(packed).any(axis=0).sum())]
        rhythm.arrivals[service] = packed
        priority_arrivals[service] = np.isfinite(packed)
    arrival_blocks = [(s, rhythm.arrivals[s]) for s in overtaking if rhythm.arrivals[s].shape[1]]
    size_t = len(tickets)
    size_a = sum(block.shape[1] for _, block in arrival_blocks)
    size_x = len(wanted)
    real = size_t + size_a
    width = real + size_x
    column_services = [t.service for t in tickets] + [s for s, block in arrival_blocks for _ in range(block.shape[1])]

    # rank[c, j] (static part): lower is called first by counter c; inf = never. Within a tier
    # the ranks (with order_in_tier) span -(size_t + 2) (a priority customer waiting now) to
    # size_t + 2 (an ordinary future arrival); a tier's step must be wider than that
    tier_step = float(width + size_t + 5)
    # each counter's tier of each service in one (counter, service) table, read by column: the
    # same sums as a loop over counters and columns, in a few array operations
    column_kinds = list(dict.fromkeys([*column_services, *wanted]))
    kind_of = {s: k for k, s in enumerate(column_kinds)}
    tier_of = np.full((size_c, max(len(column_kinds), 1)), INF)
    for ci, counter in enumerate(counters):
        for i, tier in enumerate(counter.services):
            for service in tier:
                k = kind_of.get(service)
                if k is not None:
                    tier_of[ci, k] = i
    # a column's place within its tier: waiting tickets in turn, then arrivals, with new tickets before them
    place = np.concatenate((np.arange(size_t, dtype=float), np.full(size_a, float(size_t + 1)), np.full(size_x, float(size_t))))
    rank = tier_of[:, [kind_of[s] for s in (*column_services, *wanted)]] * tier_step + place[None, :]
    for ci in range(size_c):
        express = counters[ci].express_minutes
        if express is not None:
            # an express counter calls every short ticket before any long one, each group by the
            # usual rule: a long ticket ranks as if in a tier below the profile's last
            # (future arrivals and new tickets are predicted as the kiosk would at this hour)
            limit = express * 60.0
            short_service = {s: predicted_seconds(model, s, hour) <= limit for s in {*column_services, *wanted}}
            long_columns = [j for j, t in enumerate(tickets) if not is_short(t, express)]
            long_columns += [j for j in range(size_t, real) if not short_service[column_services[j]]]
            long_columns += [real + xi for xi, s in enumerate(wanted) if not short_service[s]]
            rank[ci, long_columns] += len(counters[ci].services) * tier_step

    # per scenario: when each column can be called, and when it is gone (cancelled)
    available = np.zeros((n, real))
    order_in_tier = np.zeros((n, real))
    offset = size_t
    for arriving, block in arrival_blocks:
        k = block.shape[1]
        available[:, offset : offset + k] = block
        # FIFO among arrivals: by arrival time, after everyone waiting now
        order_in_tier[:, offset : offset + k] = np.where(np.isfinite(block), block / (HORIZON + 1.0), 0.0)
        priority = priority_arrivals.get(arriving)
        if priority is not None:
            # a priority arrival: after the priority customers waiting now, before every ordinary one
            order_in_tier[:, offset : offset + k] -= np.where(priority, size_t + 2.0, 0.0)
        offset += k
    # which hypothetical new tickets are priority customers, per scenario (their rank moves too)
    new_ticket_shift = np.zeros((n, size_x))
    if latent:
        for j, ticket in enumerate(tickets):
            if ticket.service in latent and not model.latent.known_ordinary(ticket):
                order_in_tier[:, j] -= np.where(rng.random(n) < latent[ticket.service], size_t + 2.0, 0.0)
        for xi, service in enumerate(wanted):
            if service in latent:
                new_ticket_shift[:, xi] = np.where(rng.random(n) < latent[service], -(size_t + 2.0), 0.0)
    waited_now = np.array([now - t.issued_at for t in tickets] + [0.0] * size_a)
    gone_at = np.full((n, real), INF)
    if size_t:
        gone_at[:, :size_t] = model.patience.sample_remaining(waited_now[:size_t], rng, n)
    if size_a:
        arrived = available[:, size_t:]
        gone_at[:, size_t:] = arrived + model.patience.sample_remaining(np.zeros(size_a), rng, n)
    pending = np.ones((n, real), dtype=bool)
    if size_a:
        pending[:, size_t:] = np.isfinite(available[:, size_t:])

    # cost of serving each column: walk-up + transaction (scaled at the counter that calls), or a no-show
    base_service = np.empty((n, real))
    # sorted, not a set's order: the random draws must not depend on Python's string hashing,
    # or a forecast would not be a pure function of the log
    distinct = sorted(set(column_services))
    for service in distinct:
        columns = [j for j, s in enumerate(column_services) if s == service]
        base_service[:, columns] = model.service(service).sample(rng, (n, len(columns)))
    walk = model.walk_up.sample(rng, (n, real)) if real else np.zeros((n, 0))
    absent = model.no_show_wait.sample(rng, (n, real)) if real else np.zeros((n, 0))
    factor = np.ones((size_c, max(real, 1)))
    if real:
        # per counter and service, then spread to the columns by service
        by_service = np.array([[model.duration_factor(service, counter.name, hour) for service in distinct] for counter in counters])
        slot = {service: i for i, service in enumerate(distinct)}
        factor[:, :real] = by_service[:, [slot[service] for service in column_services]]
    leave_draw = rng.random((n, real))

    # when each counter is first free to call
    free = np.empty((n, size_c))
    # one draw each of every fresh wrap-up the run may need, and of every reaction
    reaction_elapsed = np.zeros(2 * size_c)
    wrap_columns: list[int] = []
    wrap_elapsed: list[float] = []
    serving: dict[str, tuple[list[int], list[float], list[float]]] = {}
    # a counter's next call is its own teller's habit: per counter, the row of the one column it
    # reads (-1 for the columns it does not), a spell in progress by how long it was idle first
    habits = model.readiness()

    def habit(counter: Counter, *, after_service: bool, idle_before: float = 0.0) -> int:
        return habits.row(counter.name, after_service=after_service, idle_before=idle_before) if habits is not None else 0

    wrap_rows = np.full(size_c, -1)
    running_rows: list[int] = []
    reaction_rows = np.full(2 * size_c, -1)
    for ci, counter in enumerate(counters):
        status = counter.status
        if status is CounterStatus.SERVING:
            ticket = state.tickets[counter.ticket]  # type: ignore[index]
            scale = model.duration_factor(ticket.service, counter.name, hour)
            group = serving.setdefault(ticket.service, ([], [], []))
            group[0].append(ci)
            group[1].append((now - (ticket.started_at or now)) / scale)
            group[2].append(scale)
            wrap_rows[ci] = habit(counter, after_service=True)
        elif status in FREE:
            episode = model.ready.get(counter.name)
            if episode is not None and episode.idle_before is not None:
                idle = episode.idle_before
            else:
                # nobody it serves has waited yet this spell: idle all along
                idle = now - (counter.free_since if counter.free_since is not None else now)
            if episode is not None and episode.after_service:
                wrap_columns.append(ci)
                wrap_elapsed.append(episode.elapsed(now))
                running_rows.append(habit(counter, after_service=True, idle_before=idle))
            else:
                reaction_elapsed[size_c + ci] = episode.elapsed(now) if episode is not None else 0.0
                reaction_rows[size_c + ci] = habit(counter, after_service=False, idle_before=idle)
        elif status is CounterStatus.CLOSED or status is CounterStatus.PAUSED:
            reaction_rows[ci] = habit(counter, after_service=False)
        else:
            wrap_rows[ci] = habit(counter, after_service=True)
    # one draw of every wrap-up the run may need (fresh ones, then those already running) and of
    # every reaction; later wrap-ups are the branch's
    wrap_elapsed_all = np.concatenate((np.zeros(size_c + real), wrap_elapsed))
    if habits is None:
        wraps = _finite(model.wrap_up.sample_remaining(wrap_elapsed_all, rng, n))
        reactions = _finite(model.reaction.sample_remaining(reaction_elapsed, rng, n))
    else:
        wraps, reactions = _draw_readiness(
            habits,
            model.wrap_up,
            np.concatenate((wrap_rows, np.array(running_rows, dtype=int))),
            reaction_rows,
            wrap_elapsed_all,
            reaction_elapsed,
            size_c,
            real,
            rng,
            n,
        )
        wraps, reactions = _finite(wraps), _finite(reactions)
    after_busy, wrap_more, wraps_running = wraps[:, :size_c], wraps[:, size_c : size_c + real], wraps[:, size_c + real :]
    after_pause, free_reaction = reactions[:, :size_c], reactions[:, size_c:]
    for service, (columns, elapsed, scales) in serving.items():
        # the rest of the transactions in progress, given how long they have lasted
        remaining = model.service(service).sample_remaining_many(np.array(elapsed), rng, n) * np.array(scales)
        for k, ci in enumerate(columns):
            remaining[:, k] = _after_heads_up(remaining[:, k], counters[ci], now, model, rng)
        free[:, columns] = remaining + after_busy[:, columns]
        if focus is None:
            table = quantile_table(remaining)
            for k, ci in enumerate(columns):
                result.counters[counters[ci].name] = Range(float(table[0, k]), float(table[1, k]), float(table[2, k]))
    if wrap_columns:
        free[:, wrap_columns] = wraps_running
        if focus is None:
            for ci in wrap_columns:
                if has_eligible_waiting(state, counters[ci].services):
                    result.counters[counters[ci].name] = range_of(free[:, ci])
    for ci, counter in enumerate(counters):
        status = counter.status
        if status is CounterStatus.CLOSED:
            free[:, ci] = rhythm.open_at[:, ci] + after_pause[:, ci]
        elif status in FREE:
            if ci not in wrap_columns:
                free[:, ci] = free_reaction[:, ci]
        elif status is not CounterStatus.SERVING:
            busy = _busy_draws(counter, state, model, hour, rng, n)
            assert busy is not None
            if focus is None:
                result.counters[counter.name] = range_of(busy)
            after = after_pause if status is CounterStatus.PAUSED else after_busy
            free[:, ci] = busy + after[:, ci]

    closes_anyway = model.closes > 0 and model.closes_with_queue / model.closes >= 0.5
    focus_column = next((i for i, t in enumerate(tickets) if t.label == focus), None)
    called = _run_call_rule(
        rank=rank,
        order_in_tier=order_in_tier,
        available=available,
        gone_at=gone_at,
        pending=pending,
        free=free,
        base_service=base_service,
        walk=walk,
        absent=absent,
        factor=factor,
        leave_draw=leave_draw,
        waited_now=waited_now,
        wrap=wrap_more,
        leaving=model.silent_leaving,
        rhythm=rhythm,
        closes_anyway=closes_anyway,
        size_x=size_x,
        focus_column=focus_column,
        reordered=_has_reorder(order_in_tier),
        new_ticket_shift=new_ticket_shift,
    )
    if focus is not None:
        if focus_column is not None:
            result.waits[focus] = _range_or_never(called[:, focus_column])
        return result
    waits = called[:, :size_t]
    complete = np.isfinite(waits).all(axis=0)
    if complete.any():
        # one quantile call for all tickets called in every scenario (the usual case)
        table = quantile_table(waits[:, complete])
        for index, ti in enumerate(np.flatnonzero(complete)):
            result.waits[tickets[ti].label] = Range(float(table[0, index]), float(table[1, index]), float(table[2, index]))
    for ti in np.flatnonzero(~complete):
        result.waits[tickets[ti].label] = _range_or_never(waits[:, ti])
    served = {s for c in counters for tier in c.services for s in tier if c.status is not CounterStatus.CLOSED}
    for xi, service in enumerate(wanted):
        column = called[:, real + xi]
        usable = service in served and np.isfinite(column).mean() >= 0.5
        result.new_ticket[service] = _range_or_never(column) if usable else None
    return result


def _has_reorder(order_in_tier: np.ndarray) -> bool:
    """Whether any column's rank differs between scenarios (arrivals, priority customers)."""
    return bool(order_in_tier.size) and bool(order_in_tier.any())


def _draw_readiness(
    table: ReadinessTable,
    branch_wrap_up: Survival,
    wrap_rows: np.ndarray,
    reaction_rows: np.ndarray,
    wrap_elapsed: np.ndarray,
    reaction_elapsed: np.ndarray,
    size_c: int,
    real: int,
    rng: np.random.Generator,
    n: int,
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` draws of the time still to go after ``wrap_elapsed`` and ``reaction_elapsed``: the
    wrap-ups' columns are the ``size_c`` counters', then ``real`` after each ticket's service (by the
    branch's habit: who will serve it is not known), then the counters' already running; the
    reactions' all the counters' twice (after a pause, in a free spell). Each counter's column is
    drawn by its row of ``table`` (``wrap_rows`` for the counters' wrap-up columns, ``reaction_rows``),
    all in one pass, from the random numbers that one survival each would draw; a column whose
    row is -1 is read by nobody and left 0."""
    wrap_draws = rng.exponential(1.0, (n, len(wrap_elapsed)))
    reaction_draws = rng.exponential(1.0, (n, len(reaction_elapsed)))
    later = slice(size_c, size_c + real)
    own = np.concatenate((np.arange(size_c), np.arange(size_c + real, len(wrap_elapsed))))
    wrap_needed, reaction_needed = wrap_rows >= 0, reaction_rows >= 0
    wraps = np.zeros_like(wrap_draws)
    reactions = np.zeros_like(reaction_draws)
    wrap_own = own[wrap_needed]
    if wrap_own.size or reaction_needed.any():
        drawn = table.remaining(
            np.concatenate((wrap_rows[wrap_needed], reaction_rows[reaction_needed])),
            np.concatenate((wrap_elapsed[wrap_own], reaction_elapsed[reaction_needed])),
            np.hstack((wrap_draws[:, wrap_own], reaction_draws[:, reaction_needed])),
        )
        wraps[:, wrap_own] = drawn[:, : wrap_own.size]
        reactions[:, reaction_needed] = drawn[:, wrap_own.size :]
    if real:
        wraps[:, later] = branch_wrap_up.remaining_given(wrap_elapsed[later], wrap_draws[:, later])
    return wraps, reactions


def _finite(draws: np.ndarray) -> np.ndarray:
    """Replace 'never' draws (a hazard that died out) by the largest finite one."""
    finite = draws[np.isfinite(draws)]
    if finite.size == draws.size:
        return draws
    return np.where(np.isfinite(draws), draws, finite.max() if finite.size else 0.0)


#: a call further off than this is no call: a hazard learned from a few days can die out
#: (a teller who never called from a long wrap-up) and put a "call" at 10^200 seconds, which
#: no customer can be told; such scenarios count as never
HORIZON_SECONDS = 24 * 3600.0


def _range_or_never(draws: np.ndarray) -> Range:
    """Range over the scenarios in which the ticket is called within a day (a customer told
    a wait is assumed to stay); a ticket called in no scenario is never called."""
    draws = np.where(draws > HORIZON_SECONDS, np.inf, draws)
    finite = draws[np.isfinite(draws)]
    if finite.size == 0:
        return NEVER
    if finite.size < draws.size * 0.5:
        # called in few scenarios: the rest wait at least as long as the longest seen
        finite = np.where(np.isfinite(draws), draws, finite.max())
    return range_of(finite)


def _run_call_rule(
    *,
    rank: np.ndarray,
    order_in_tier: np.ndarray,
    available: np.ndarray,
    gone_at: np.ndarray,
    pending: np.ndarray,
    free: np.ndarray,
    base_service: np.ndarray,
    walk: np.ndarray,
    absent: np.ndarray,
    factor: np.ndarray,
    leave_draw: np.ndarray,
    waited_now: np.ndarray,
    wrap: np.ndarray,
    leaving: ShareByWait,
    rhythm: Rhythm,
    closes_anyway: bool,
    size_x: int,
    focus_column: int | None,
    reordered: bool,
    new_ticket_shift: np.ndarray,
) -> np.ndarray:
    """Apply the call rule in every scenario at once; returns the call time of each column.

    Columns are the real tickets (waiting now, then future arrivals), then hypothetical new
    tickets: a hypothetical ticket is "called" the first time a counter that serves it is
    free with no real ticket it ranks higher, but takes no time, so real forecasts do not
    depend on it.
    """
    n, size_c = free.shape
    real = pending.shape[1]
    width = rank.shape[1]
    called = np.full((n, width), INF)
    rows = np.arange(n)
    pause_at = rhythm.pause_at.copy()
    close_at = rhythm.close_at
    wrap_index = np.zeros(n, dtype=int)
    # each customer's silent patience: gone (a no-show when called) once they have waited this long
    shares = leaving.shares()
    first_gone = np.searchsorted(shares, leave_draw, side="right")
    gone_after = np.where(first_gone < len(shares), HAZARD_EDGES[np.minimum(first_gone, len(shares) - 1)], INF)
    has_arrivals = bool(real) and bool((available > 0).any())
    may_pause = bool(np.isfinite(pause_at).any())
    may_close = bool(np.isfinite(close_at).any())
    may_cancel = bool(np.isfinite(gone_at).any())
    # what calling each ticket costs at each counter, if they turn up: walk-up + transaction there
    show_cost = walk[None, :, :] + base_service[None, :, :] * factor[:, None, :real]
    rank_real = np.ascontiguousarray(rank[:, :real])
    # the rank of each real ticket at each counter in each scenario, inf once it is called or
    # gone: one gather per step instead of gather, add and mask (this loop is the refresh's cost)
    ranks_left = rank_real[:, None, :] + order_in_tier[None, :, :] if has_arrivals or reordered else np.repeat(rank_real[:, None, :], n, 1)
    ranks_left[:, ~pending] = INF
    next_gone = np.where(pending, gone_at, INF).min(axis=1) if real else np.full(n, INF)
    steps = real + 3 * size_c + 2
    # per step: which counter acted, when, and the rank of the real ticket it could call
    # (hypothetical tickets are resolved from this record after the run)
    step_which = np.zeros((steps, n), dtype=int)
    step_when = np.full((steps, n), INF)
    step_best = np.zeros((steps, n))
    taken_steps = 0
    for _ in range(steps):
        which = np.argmin(free, axis=1)
        when = free[rows, which]
        live = np.isfinite(when)
        if not live.any():
            break
        if focus_column is not None and not (pending[:, focus_column] & live).any():
            break
        acting = live
        if may_pause:
            # a teller due a pause takes it at the first free moment
            pausing = live & (pause_at[rows, which] <= when)
            if pausing.any():
                r, c = rows[pausing], which[pausing]
                free[r, c] = when[pausing] + rhythm.pause_length[r, c]
                pause_at[r, c] = INF
                acting = live & ~pausing
        # customers who have cancelled by now are gone; only scenarios whose earliest
        # cancellation (a lower bound, kept up to date lazily) has come need looking at
        if may_cancel:
            due = when >= next_gone
            if due.any():
                r = rows[due]
                left = pending[r] & (gone_at[r] <= when[r, None])
                if left.any():
                    pending[r] &= ~left
                    rr, cc = np.nonzero(left)
                    ranks_left[:, r[rr], cc] = INF
                next_gone[r] = np.where(pending[r], gone_at[r], INF).min(axis=1)
        real_ranks = ranks_left[which, rows]
        if has_arrivals:
            real_ranks = np.where(available <= when[:, None], real_ranks, INF)
        pick = np.argmin(real_ranks, axis=1) if real else np.zeros(n, dtype=int)
        best = real_ranks[rows, pick] if real else np.full(n, INF)
        if may_close:
            # a counter past its closing time closes once nobody it serves waits (or anyway, if this branch does)
            closing = acting & (close_at[rows, which] <= when)
            if not closes_anyway:
                closing &= ~np.isfinite(best)
            if closing.any():
                free[rows[closing], which[closing]] = INF
                acting = acting & ~closing
        if size_x:
            step_which[taken_steps] = which
            step_when[taken_steps] = np.where(acting, when, INF)
            step_best[taken_steps] = best
            taken_steps += 1
        takes = acting & np.isfinite(best)
        everyone = bool(takes.all())
        idle = acting & ~takes
        if everyone or takes.any():
            # the common step: every scenario calls someone; skip the masking then
            r, p, c, t = (rows, pick, which, when) if everyone else (rows[takes], pick[takes], which[takes], when[takes])
            called[r, p] = t
            pending[r, p] = False
            ranks_left[:, r, p] = INF
            # waiting now: waited so far plus time to the call; an arrival: since it arrived
            waited = waited_now[p] + t - available[r, p]
            gone = waited >= gone_after[r, p]
            # a customer who turned up costs their transaction and a wrap-up; one who did not,
            # the time the teller waited for them
            k = wrap_index[r]
            wrap_index[r] += 1
            free[r, c] = t + np.where(gone, absent[r, p], show_cost[c, r, p] + wrap[r, k])
        if not everyone and idle.any():
            # nobody eligible now: wait for the next eligible arrival, if any
            r, c = rows[idle], which[idle]
            if has_arrivals:
                future = pending[r] & (available[r] > when[idle, None]) & np.isfinite(rank_real[c])
                free[r, c] = np.where(future, available[r], INF).min(axis=1)
            else:
                free[r, c] = INF
    if size_x and taken_steps:
        # a hypothetical ticket is called at the first step whose counter serves it and has no
        # real ticket it ranks higher
        hyp_rank = rank[:, real:][step_which[:taken_steps]] + new_ticket_shift[None, :, :]  # (steps, n, X)
        eligible = hyp_rank < step_best[:taken_steps, :, None]
        times = np.where(eligible, step_when[:taken_steps, :, None], INF)
        called[:, real:] = times.min(axis=0)
    return called


def calibrate(raw: Forecast, calibrator: Calibrator, state: BranchState) -> Forecast:
    """The calibrated forecast of ``state``; changes nothing (the calibrator learns from the
    log, see ``durations.learn_promise``), so forecasting as often as one likes never alters a
    promise."""
    waits = {label: calibrator.adjust(remaining, ticket_segment(state, label)) for label, remaining in raw.waits.items()}
    hour = local_hour(state)
    new_ticket = {s: (calibrator.adjust(r, (s, hour)) if r is not None else None) for s, r in raw.new_ticket.items()}
    return Forecast(at=raw.at, waits=waits, new_ticket=new_ticket, counters=raw.counters)


__all__ = ["NEVER", "Forecast", "Forecaster", "Range", "forecast", "range_of", "sample_range"]
