"""A fast simulation of a branch's day, to check hour-by-hour staffing before advising it.

Erlang's formulas describe a queue in steady state with exponential handling times. A branch's
hour is neither: the queue of one hour carries into the next, and real handling times are not
exponential (a mostly short transaction with a long tail). So the advice starts from Erlang and
then asks this simulation which counter-hours can go without the hour's p90 wait passing the
target (``queue_board.reports.staffing.refine_advice``).

The model, pure and seeded (the same inputs always give the same answer):

- arrivals per service and local hour are Poisson with the learned rates, uniform within the hour;
- each customer's handling time is drawn from that service's learned handling times (call →
  end plus the mean wrap-up, the same quantity Erlang's mean is taken from: a bootstrap, so the
  real shape of the tail is kept);
- patience is exponential with the learned mean (``None``: nobody leaves). A customer whose
  offered wait passes their patience leaves without taking a counter;
- the call rule (``queue_board.core.call_rule``): a counter free to call takes, from the first
  tier of its work profile with anyone waiting, the earliest arrival there. By default every
  counter takes every service in one tier (pooled: one queue in order of arrival, as the advice
  counts); a :data:`Layout` gives each stacked counter its tiers hour by hour (the advice's
  "leaning" counters, or the branch's own profiles), for with tiers some services wait longer
  than one pooled queue says;
- the advice's counters are stacked: the k-th counter is open in the hours that have at least k.
  A counter that closes finishes its customer first; the counters open in the last hour serve
  whoever is still in;
- pauses: in each hour a counter is open it is paused for the hour's learned share of open
  time, as one block starting at a random moment of the hour; a teller pauses when free at or
  after that moment, before calling the next customer (the pause comes first, as in the branch).

What is measured is the *offered* wait (arrival → first call, or how long a customer who left
would have waited), the quantity the advice's target is about.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: simulated days per check (common random numbers: the same days for every staffing tried)
DEFAULT_DAYS = 60
#: the seed of the simulated days (fixed: the advice must not change from one call to the next)
DEFAULT_SEED = 20_260_302
#: a pause share is capped here: a counter "open" but paused most of an hour is a data problem
MAX_PAUSE_SHARE = 0.5
#: the offered wait of a customer no counter would ever call (none open for the rest of the day)
NEVER = 1e9
HOUR = 3600.0
#: the most counters one simulation stacks (far above any branch's)
DEFAULT_MAX_SERVERS = 100
#: a counter's pick orders by tier × this + arrival time (seconds: a day is far shorter)
TIER_STRIDE = 1e7

#: a counter's work profile: its tiers, the first taken first (as ``queue_board.core.call_rule``)
Profile = tuple[tuple[str, ...], ...]
#: which services each stacked counter takes: the k-th counter's local hour → its profile (a
#: counter or hour left out takes every service in one tier)
Layout = Sequence[Mapping[int, Profile]]


@dataclass(frozen=True, slots=True)
class DayInputs:
    """What the simulation knows of a day: all learned from the branch's closed days."""

    #: local hour → service → arrivals per hour
    rates: Mapping[int, Mapping[str, float]]
    #: service → handling times seen (seconds): drawn from with replacement
    handling: Mapping[str, FloatArray]
    #: mean patience, seconds (``None``: nobody leaves)
    patience_s: float | None = None
    #: local hour → share of an open counter's time spent paused
    pause_share: Mapping[int, float] | None = None


class DaySimulation:
    """``days`` simulated days of one set of inputs, drawn once (seeded) and replayed with any
    staffing: :meth:`hourly_p90` (common random numbers make two staffings comparable)."""

    def __init__(self, inputs: DayInputs, *, days: int = DEFAULT_DAYS, seed: int = DEFAULT_SEED) -> None:
        if days < 1:
            raise ValueError("DaySimulation needs at least one day")
        hours = sorted(h for h, per in inputs.rates.items() if any(r > 0 for r in per.values()))
        if not hours:
            raise ValueError("DaySimulation needs an hour with arrivals")
        for per in inputs.rates.values():
            for code, rate in per.items():
                if rate > 0 and (code not in inputs.handling or len(inputs.handling[code]) == 0):
                    raise KeyError(f"no handling times for service {code!r}")
        if inputs.patience_s is not None and inputs.patience_s <= 0:
            raise ValueError("patience must be positive")
        self.first_hour = hours[0]
        #: hour slots from the first hour with arrivals to the last one, gaps included
        self.hours = list(range(hours[0], hours[-1] + 1))
        self.days = days
        rng = np.random.default_rng(seed)
        #: the services customers come for (index → code), in code order
        self.services = sorted({code for per in inputs.rates.values() for code, rate in per.items() if rate > 0})
        index = {code: i for i, code in enumerate(self.services)}
        per_day: list[tuple[FloatArray, FloatArray, IntArray]] = []
        for _ in range(days):
            times: list[FloatArray] = []
            lengths: list[FloatArray] = []
            kinds: list[IntArray] = []
            for slot, hour in enumerate(self.hours):
                for code, rate in sorted(inputs.rates.get(hour, {}).items()):
                    if rate <= 0:
                        continue
                    count = int(rng.poisson(rate))
                    times.append(rng.uniform(slot * HOUR, (slot + 1) * HOUR, count))
                    samples = np.asarray(inputs.handling[code], dtype=float)
                    lengths.append(samples[rng.integers(0, samples.size, count)])
                    kinds.append(np.full(count, index[code], dtype=np.int64))
            arrivals = np.concatenate(times) if times else np.zeros(0)
            handling = np.concatenate(lengths) if lengths else np.zeros(0)
            kind = np.concatenate(kinds) if kinds else np.zeros(0, dtype=np.int64)
            order = np.argsort(arrivals, kind="stable")
            per_day.append((arrivals[order], handling[order], kind[order]))
        width = max(1, max(a.size for a, _, _ in per_day))
        #: (days, customers) arrival times in seconds from the first hour, padded with ∞
        self.arrivals = np.full((days, width), math.inf)
        self.handling = np.zeros((days, width))
        #: (days, customers) each customer's service (index into :attr:`services`), −1 for the padding
        self.service_of = np.full((days, width), -1, dtype=np.int64)
        for day, (arrivals, handling, kind) in enumerate(per_day):
            self.arrivals[day, : arrivals.size] = arrivals
            self.handling[day, : handling.size] = handling
            self.service_of[day, : kind.size] = kind
        # each day's customers by service, then arrival (the padding last): a service's queue is
        # the stretch [first, end) of it, called in that order
        kinds_n = len(self.services)
        sortable = np.where(self.service_of >= 0, self.service_of, kinds_n)
        self._by_service = np.argsort(sortable, axis=1, kind="stable").astype(np.int64)
        counts = np.stack([(self.service_of == k).sum(axis=1) for k in range(kinds_n)], axis=1)
        self._service_end = np.cumsum(counts, axis=1).astype(np.int64)
        self._service_first = self._service_end - counts
        self.patience = (
            rng.exponential(inputs.patience_s, (days, width)) if inputs.patience_s is not None else np.full((days, width), math.inf)
        )
        #: each customer's hour slot (index into :attr:`hours`), −1 for the padding
        self.slot_of = np.floor(np.where(np.isfinite(self.arrivals), self.arrivals, -HOUR) / HOUR).astype(np.int64)
        shares = inputs.pause_share or {}
        self.pause_share = np.array([min(MAX_PAUSE_SHARE, max(0.0, shares.get(h, 0.0))) for h in self.hours])
        #: where in its hour each counter's pause starts, as a share of the free part of the hour
        self._pause_offsets = rng.uniform(0.0, 1.0, (days, DEFAULT_MAX_SERVERS, len(self.hours)))

    def offered_waits(self, counters: Mapping[int, int], layout: Layout | None = None) -> FloatArray:
        """(days, customers) offered waits in seconds with ``counters`` (local hour → counters
        open; missing hours have none) laid out as ``layout`` (``None``: pooled); padding is
        ``nan``, a customer never called :data:`NEVER`."""
        return self.offered_waits_many([counters], [layout])[0]

    def offered_waits_many(
        self, staffings: Sequence[Mapping[int, int]], layouts: Sequence[Layout | None] | None = None
    ) -> list[FloatArray]:
        """:meth:`offered_waits` of several staffings (each with its layout, ``None``: pooled),
        simulated side by side (one pass over the customers for all of them: the cost is in the
        number of customers, not of staffings).

        Each step, in every (staffing, day) row, the counter that can call someone soonest calls
        (pauses and closings due first): from the first of its tiers with anyone waiting, the
        earliest arrival. A service's customers are always called in their order of arrival, so
        each service's queue is a pointer into its customers sorted by arrival."""
        plans = [[max(0, int(counters.get(h, 0))) for h in self.hours] for counters in staffings]
        chosen_layouts = list(layouts) if layouts is not None else [None] * len(plans)
        if len(chosen_layouts) != len(plans):
            raise ValueError("one layout per staffing")
        servers = max((max(plan, default=0) for plan in plans), default=0)
        days, width = self.arrivals.shape
        count = len(plans)
        if servers > DEFAULT_MAX_SERVERS:
            raise ValueError(f"the simulation handles at most {DEFAULT_MAX_SERVERS} counters")
        waits = np.full((count * days, width), np.nan)
        if servers == 0 or count == 0:
            waits[np.tile(np.isfinite(self.arrivals), (count, 1))] = NEVER
            return list(waits.reshape(count, days, width))
        # rows are (staffing, day): the same customers for every staffing
        rows_n = count * days
        rows = np.arange(rows_n)
        blocks = [self._blocks(plan, servers) for plan in plans]
        depth = max(b[0].shape[2] for b in blocks)
        starts = np.full((rows_n, servers, depth), math.inf)
        lengths = np.zeros((rows_n, servers, depth))
        floors = np.zeros((rows_n, servers, depth))
        for index, (start, length, floor) in enumerate(blocks):
            cut = slice(index * days, (index + 1) * days)
            starts[cut, :, : start.shape[2]] = start
            lengths[cut, :, : length.shape[1]] = length
            floors[cut, :, : floor.shape[1]] = floor
        # flat indexing: a block is at (row · servers + server) · depth + pointer
        starts_flat, lengths_flat, floors_flat = starts.reshape(-1), lengths.reshape(-1), floors.reshape(-1)
        base = (np.arange(rows_n * servers, dtype=np.int64) * depth).reshape(rows_n, servers)
        free = np.zeros((rows_n, servers))
        pointer = base.copy()
        kinds = len(self.services)
        slots = len(self.hours)
        # (staffing, server, slot, service) → the tier the server takes the service in (∞: not at all)
        tiered = any(layout is not None for layout in chosen_layouts)
        ranks_flat = np.concatenate([self._ranks(layout, servers).reshape(-1) for layout in chosen_layouts]) if tiered else np.zeros(0)
        row_offset = ((rows // days) * servers * slots)[:, None] + (np.arange(servers) * slots)[None, :]
        # each service's queue: a pointer into its customers by arrival, one row per (staffing,
        # day). Flat indices (row · width + column) throughout: one gather instead of two
        row_start = rows * width
        row_last = row_start + width - 1
        order = (np.tile(self._by_service, (count, 1)) + row_start[:, None]).reshape(-1)
        head = np.tile(self._service_first, (count, 1)) + row_start[:, None]
        stop = np.tile(self._service_end, (count, 1)) + row_start[:, None]
        arrivals = np.tile(self.arrivals, (count, 1)).reshape(-1)
        handling = np.tile(self.handling, (count, 1)).reshape(-1)
        patience = np.tile(self.patience, (count, 1)).reshape(-1)
        waits_flat = waits.reshape(-1)
        # the arrival of each queue's first customer (∞: nobody left in that queue)
        heads = np.where(head < stop, arrivals[order[np.minimum(head, row_last[:, None])]], math.inf)
        queue_base = rows * kinds

        last_second = slots * HOUR - 1.0
        kind_offsets = np.arange(kinds)[None, :]
        # 0 where a counter takes the service, ∞ where not: added to the queues' heads
        shut_flat = np.where(np.isinf(ranks_flat), math.inf, 0.0)
        rank = np.zeros((rows_n, servers, kinds))
        shut = np.zeros((rows_n, servers, kinds))

        def refresh(row: IntArray, server: IntArray) -> None:
            """Re-read these counters' tiers for the hour they are free again in (a counter
            closed for good, free at ∞, keeps the last hour's)."""
            slot = (np.minimum(free[row, server], last_second) // HOUR).astype(np.int64)
            at = ((row_offset[row, server] + slot) * kinds)[:, None] + kind_offsets
            rank[row, server] = ranks_flat[at]
            shut[row, server] = shut_flat[at]

        if tiered:
            every_row, every_server = (axis.reshape(-1) for axis in np.indices((rows_n, servers)))
            refresh(every_row, every_server)
        active = np.ones(rows_n, dtype=bool)
        while True:
            # when each counter could next call someone: free, and someone it takes has arrived
            first = (heads[:, None, :] + shut).min(axis=2) if tiered else heads.min(axis=1)[:, None]
            ready = np.maximum(free, first)
            # take every pause or closing due by the time each counter could next call someone
            while True:
                start = starts_flat[pointer]
                due = (start <= ready) & np.isfinite(start) & active[:, None]
                if not due.any():
                    break
                free = np.where(due, np.maximum(np.maximum(free, start) + lengths_flat[pointer], floors_flat[pointer]), free)
                pointer += due
                if tiered:
                    # a counter back after a closed stretch may take other services now
                    row, server = np.nonzero(due)
                    refresh(row, server)
                    first[row, server] = (heads[row] + shut[row, server]).min(axis=1)
                ready = np.maximum(free, first)
            chosen = np.argmin(ready, axis=1)
            call = ready[rows, chosen]
            # a row where no counter will ever call anyone again is done: its rest are NEVER
            active &= np.isfinite(call)
            if not active.any():
                break
            # the chosen counter's pick: its first tier with anyone arrived, the earliest there
            # (∞ tiers and heads not yet arrived are left out)
            key = rank[rows, chosen] * TIER_STRIDE + heads
            service = np.argmin(np.where(heads <= call[:, None], key, math.inf), axis=1)
            queue = queue_base + service
            taken = head.reshape(-1)[queue]
            customer = order[np.minimum(taken, row_last)]
            # (a finished row's call is ∞ and its "customer" padding: kept out of the arithmetic)
            wait = np.where(active, call, 0.0) - np.where(active, arrivals[customer], 0.0)
            stays = active & (wait <= patience[customer])
            free[rows, chosen] = np.where(stays, call + handling[customer], free[rows, chosen])
            if tiered:
                refresh(rows, chosen)
            waits_flat[customer[active]] = wait[active]
            moved = taken + active
            head.reshape(-1)[queue] = moved
            heads.reshape(-1)[queue] = np.where(moved < stop.reshape(-1)[queue], arrivals[order[np.minimum(moved, row_last)]], math.inf)
        waits_flat[np.isnan(waits_flat) & np.isfinite(arrivals)] = NEVER
        return list(waits.reshape(count, days, width))

    def _ranks(self, layout: Layout | None, servers: int) -> FloatArray:
        """(servers, slots, services): the tier (0 first) each counter takes each service in,
        in each hour; ∞ where it does not take it. A counter or hour the layout leaves out takes
        every service in one tier (pooled)."""
        ranks = np.zeros((servers, len(self.hours), len(self.services)))
        if layout is None:
            return ranks
        index = {code: i for i, code in enumerate(self.services)}
        for server, per_hour in enumerate(layout[:servers]):
            for slot, hour in enumerate(self.hours):
                profile = per_hour.get(hour)
                if profile is None:
                    continue
                ranks[server, slot, :] = math.inf
                for tier, codes in enumerate(profile):
                    for code in codes:
                        if code in index and math.isinf(ranks[server, slot, index[code]]):
                            ranks[server, slot, index[code]] = tier
        return ranks

    def _blocks(self, plan: list[int], servers: int) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Per counter, in time order, the stretches it is away: (start per day, length, free
        not before), shapes (days, servers, n) and (servers, n).

        A pause is (moment, its length, 0): taken when free at or after the moment. A closed
        stretch is (its first hour's start, 0, its end): a counter busy then finishes first. The
        last column is a sentinel at +∞ that is never due."""
        days = self.arrivals.shape[0]
        slots = len(plan)
        depth = 2 * slots + 2
        starts = np.full((days, servers, depth), math.inf)
        lengths = np.zeros((servers, depth))
        floors = np.zeros((servers, depth))
        for server in range(servers):
            column = 0
            slot = 0
            while slot < slots:
                if plan[slot] > server:
                    share = self.pause_share[slot]
                    if share > 0:
                        length = share * HOUR
                        starts[:, server, column] = slot * HOUR + self._pause_offsets[:, server, slot] * (HOUR - length)
                        lengths[server, column] = length
                        column += 1
                    slot += 1
                    continue
                end = slot
                while end < slots and plan[end] <= server:
                    end += 1
                starts[:, server, column] = slot * HOUR
                # closed to the end of the day: never free again
                floors[server, column] = end * HOUR if end < slots else math.inf
                column += 1
                slot = end
        return starts, lengths, floors

    def hourly_p90(self, counters: Mapping[int, int], layout: Layout | None = None) -> dict[int, FloatArray]:
        """Local hour → the p90 offered wait of that hour's arrivals on each simulated day
        (seconds, shape (days,); 0 on a day without arrivals in the hour), the counters laid out
        as ``layout`` (``None``: pooled)."""
        return self.hourly_p90_many([counters], [layout])[0]

    def hourly_p90_many(
        self, staffings: Sequence[Mapping[int, int]], layouts: Sequence[Layout | None] | None = None
    ) -> list[dict[int, FloatArray]]:
        """:meth:`hourly_p90` of several staffings (each with its layout), simulated side by side."""
        return [self._hourly_p90(waits) for waits in self.offered_waits_many(staffings, layouts)]

    def _hourly_p90(self, waits: FloatArray) -> dict[int, FloatArray]:
        result: dict[int, FloatArray] = {}
        rows = np.arange(waits.shape[0])
        for slot, hour in enumerate(self.hours):
            mine = self.slot_of == slot
            counts = mine.sum(axis=1)
            # the other hours' customers (waits are >= 0) sort before this hour's
            ordered = np.sort(np.where(mine, waits, -1.0), axis=1)
            width = ordered.shape[1]
            # numpy's default (linear) quantile of each day's own values, which sit at the end
            position = np.maximum(counts - 1, 0) * 0.9
            low = np.floor(position).astype(np.int64)
            high = np.minimum(low + 1, np.maximum(counts - 1, 0))
            first = width - counts
            lower = ordered[rows, np.minimum(first + low, width - 1)]
            upper = ordered[rows, np.minimum(first + high, width - 1)]
            p90 = lower + (position - low) * (upper - lower)
            result[hour] = np.where(counts > 0, p90, 0.0)
        return result


def hours_meeting(p90s: Mapping[int, FloatArray], target_s: float, share: float) -> dict[int, bool]:
    """Per hour, whether its p90 offered wait is at most ``target_s`` on at least ``share`` of
    the simulated days."""
    return {hour: bool(np.mean(values <= target_s) >= share) for hour, values in p90s.items()}


def p90_on_share(values: FloatArray, share: float) -> float:
    """The hour's p90 that ``share`` of the simulated days stay within (the ``share``-quantile
    of the days' p90s, seconds; ∞ if customers would never be called)."""
    value = float(np.quantile(values, share))
    return math.inf if value >= NEVER else value
