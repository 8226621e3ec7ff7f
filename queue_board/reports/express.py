"""Express counters defined by duration: which transactions are predicted short at ticket time,
how often that prediction held, and what reserving one counter for them does to everyone's wait.

A ticket is *short at N minutes* when the transaction length the server predicted as it was
issued (``ticket_issued.predicted_seconds``: the learned median for its service at that hour)
is at most N minutes — the same test an "express ≤ N min" counter applies
(``core.call_rule.is_short``). A ticket without a prediction (an old log) is not short.

- :func:`prediction_shares`: per service and N, the share of tickets predicted short, and
  against the transactions' real lengths how often a short prediction was really short (at
  most N minutes) and a long one really long;
- :func:`wait_summary`: the mean and p90 wait of short and of long tickets (issue → first
  call; a customer who gave up counts with the time they had waited, a lower bound);
- :func:`express_what_if`: the branch's own served customers replayed at ``counters`` counters
  that serve everything, under the plain call rule and with one counter "express ≤ N min"
  (the call rule of ``core.call_rule``, through ``core.branch``: no walk-up, no wrap-up, no
  pauses; each customer arrives when they took their ticket and takes as long as their first
  transaction really took).

The figures are defined in docs/express-counter.md.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np

from queue_board.core.activity import WRAP_UP_LIMIT_SECONDS, Activity, DayActivity
from queue_board.core.branch import BranchState, apply
from queue_board.core.branch_config import MAX_EXPRESS_MINUTES
from queue_board.core.call_rule import next_ticket
from queue_board.core.events import Event
from queue_board.reports.tables import Cell, Table, minutes, ordered, percentile, share

#: the N the analysis looks at unless asked for others
DEFAULT_EXPRESS_MINUTES = (3.0, 5.0, 8.0)
#: a report compares at most this many N
MAX_EXPRESS_CHOICES = 6

SHARE_COLUMNS = (
    "minutes",
    "service",
    "tickets",
    "predicted",
    "predicted_short",
    "short_share",
    "short_served",
    "short_really_short",
    "long_served",
    "long_really_long",
)
WAIT_COLUMNS = ("short_tickets", "short_mean_min", "short_p90_min", "long_tickets", "long_mean_min", "long_p90_min", "all_mean_min", "all_p90_min")
WHAT_IF_COLUMNS = ("minutes", "rule", *WAIT_COLUMNS)


def check_minutes(values: Iterable[float]) -> tuple[float, ...]:
    """The N of an analysis, in order and without repeats; ``ValueError`` names what is wrong."""
    chosen = sorted(set(values))
    if not chosen:
        raise ValueError("give at least one number of minutes")
    if len(chosen) > MAX_EXPRESS_CHOICES:
        raise ValueError(f"give at most {MAX_EXPRESS_CHOICES} numbers of minutes")
    for value in chosen:
        if not math.isfinite(value) or not 0 < value <= MAX_EXPRESS_MINUTES:
            raise ValueError(f"minutes must be more than 0 and at most {MAX_EXPRESS_MINUTES:g}, not {value:g}")
    return tuple(chosen)


def _first_durations(day: DayActivity) -> dict[str, float]:
    """Each ticket's first served transaction's length (its first call's, if it was served there)."""
    out: dict[str, float] = {}
    for transaction in sorted(day.transactions, key=lambda t: t.called_at):
        if transaction.ticket in out:
            continue
        duration = transaction.duration
        if duration is not None:
            out[transaction.ticket] = duration
    return out


def _is_short(predicted: float | None, limit_minutes: float) -> bool:
    return predicted is not None and predicted <= limit_minutes * 60.0


def prediction_shares(days: Sequence[DayActivity], express_minutes: Sequence[float] = DEFAULT_EXPRESS_MINUTES) -> Table:
    """Per N and service (and ``all``): tickets, those with a prediction, the share predicted
    short, and of the served ones the share whose real length agreed with the prediction."""
    records: list[tuple[str, float | None, float | None]] = []
    for day in days:
        durations = _first_durations(day)
        records.extend((t.service, t.predicted_seconds, durations.get(t.label)) for t in day.tickets.values())
    services = ordered([service for service, _, _ in records])
    rows: list[tuple[Cell, ...]] = []
    for limit in express_minutes:
        for service in [*services, "all"]:
            chosen = [r for r in records if service == "all" or r[0] == service]
            predicted = [r for r in chosen if r[1] is not None]
            short = [r for r in predicted if _is_short(r[1], limit)]
            short_served = [r[2] for r in short if r[2] is not None]
            long_served = [r[2] for r in chosen if not _is_short(r[1], limit) and r[1] is not None and r[2] is not None]
            rows.append(
                (
                    limit,
                    service,
                    len(chosen),
                    len(predicted),
                    len(short),
                    share(len(short), len(predicted)),
                    len(short_served),
                    share(sum(d <= limit * 60.0 for d in short_served), len(short_served)),
                    len(long_served),
                    share(sum(d > limit * 60.0 for d in long_served), len(long_served)),
                )
            )
    return Table("express_shares", SHARE_COLUMNS, rows)


@dataclass(frozen=True, slots=True)
class WaitSummary:
    """Waits (seconds) of short and of long tickets at one N."""

    short: tuple[float, ...]
    long: tuple[float, ...]

    def row(self) -> tuple[Cell, ...]:
        """The :data:`WAIT_COLUMNS` of a table: counts, then means and p90s in minutes."""
        cells: list[Cell] = []
        for waits in (self.short, self.long):
            values = np.array(waits, dtype=float)
            cells += [len(waits), minutes(float(values.mean())) if waits else None, minutes(percentile(values, 90))]
        every = np.array(self.short + self.long, dtype=float)
        cells += [minutes(float(every.mean())) if every.size else None, minutes(percentile(every, 90))]
        return tuple(cells)


def wait_summary(days: Sequence[DayActivity], limit_minutes: float) -> WaitSummary:
    """The waits of the days' tickets split by their prediction at ``limit_minutes``: issue to
    first call, or to giving up (a lower bound of that customer's wait); tickets still waiting
    at the end of the records are left out."""
    short: list[float] = []
    long: list[float] = []
    for day in days:
        for ticket in day.tickets.values():
            if ticket.called_at is None and ticket.ended_at is None:
                continue
            waited = ticket.waited_until(day.last_at)
            (short if _is_short(ticket.predicted_seconds, limit_minutes) else long).append(waited)
    return WaitSummary(tuple(short), tuple(long))


@dataclass(frozen=True, slots=True)
class TraceCustomer:
    """A served customer of a recorded day, as the what-if replays them."""

    label: str
    service: str
    arrives: float
    #: seconds they keep a counter: from the call to the end of the transaction, and the wrap-up after it
    occupies: float
    predicted_seconds: float | None


@dataclass(frozen=True, slots=True)
class DayTrace:
    """What the what-if replays of one recorded day: its served customers, and its counters with
    the stretches each was away (closed or paused)."""

    customers: tuple[TraceCustomer, ...]
    away: dict[str, tuple[tuple[float, float], ...]]
    utc_offset: float = 0.0


def day_trace(day: DayActivity) -> DayTrace:
    """The day's served customers in the order they took their tickets, and its counters' absences."""
    wraps = {
        (s.counter, s.start): min(s.length(day.last_at), WRAP_UP_LIMIT_SECONDS)
        for s in day.segments
        if s.activity is Activity.WRAP_UP
    }
    occupies: dict[str, float] = {}
    for transaction in sorted(day.transactions, key=lambda t: t.called_at):
        if transaction.ticket in occupies or transaction.duration is None or transaction.ended_at is None:
            continue
        wrap = wraps.get((transaction.counter, transaction.ended_at), 0.0)
        occupies[transaction.ticket] = transaction.ended_at - transaction.called_at + wrap
    customers = sorted(
        (
            TraceCustomer(t.label, t.service, t.issued_at, occupies[t.label], t.predicted_seconds)
            for t in day.tickets.values()
            if t.label in occupies
        ),
        key=lambda c: (c.arrives, c.label),
    )
    away: dict[str, list[tuple[float, float]]] = {}
    first_seen: dict[str, float] = {}
    for segment in sorted([*day.segments, *day.current.values()], key=lambda s: s.start):
        first_seen.setdefault(segment.counter, segment.start)
        stretches = away.setdefault(segment.counter, [])
        if segment.activity in (Activity.CLOSED, Activity.PAUSED):
            stretches.append((segment.start, segment.end if segment.end is not None else math.inf))
    for counter, since in first_seen.items():
        # closed until its first activity of the day
        away[counter].insert(0, (-math.inf, since))
    return DayTrace(tuple(customers), {c: tuple(v) for c, v in away.items()}, day.utc_offset)


def _away_until(stretches: Sequence[tuple[float, float]], at: float) -> float | None:
    """The end of the absence ``at`` falls in, ``None`` if the counter is there."""
    for start, end in stretches:
        if start <= at < end:
            return end
    return None


def replay_trace(trace: DayTrace, express_minutes: float | None, *, express_counter: str | None = None, counters: int | None = None) -> dict[str, float]:
    """Each customer's wait (first call − arrival, seconds) when the day's counters work through
    its served customers under the core's call rule, every counter serving every service and
    absent when it was recorded closed or paused (with ``counters``, that many counters that are
    never absent). With ``express_minutes``, ``express_counter`` (default: the first counter) is
    "express ≤ N min". Customers still waiting when every counter is gone for the day are served
    after hours, as tellers do."""
    if counters is not None and counters < 1:
        raise ValueError("the what-if needs at least one counter")
    customers = trace.customers
    waits: dict[str, float] = {}
    if not customers:
        return waits
    ideal: dict[str, tuple[tuple[float, float], ...]] = {str(index + 1): () for index in range(counters or 0)}
    away = ideal if counters is not None else dict(trace.away) or {"1": ()}
    names = ordered(list(away))
    chosen = express_counter if express_counter is not None else names[0]
    zone = timezone(timedelta(seconds=trace.utc_offset))
    profile = (tuple(sorted({c.service for c in customers})),)
    by_label = {c.label: c for c in customers}
    state = BranchState()

    def event(at: float, kind: str, **fields: object) -> Event:
        return Event(ts=datetime.fromtimestamp(at, zone), type=kind, at=at, **fields)  # type: ignore[arg-type]

    start = customers[0].arrives
    for name in names:
        express = express_minutes if name == chosen else None
        apply(state, event(start, "counter_opened", counter=name, services=profile, express_minutes=express))
    # (when, kind, order, label, counter): 0 a transaction ends, 1 a customer arrives, 2 a counter is back
    pending: list[tuple[float, int, int, str, str]] = [(c.arrives, 1, i, c.label, "") for i, c in enumerate(customers)]
    heapq.heapify(pending)
    order = len(customers)
    after_hours = False
    while pending or (state.waiting_count() and not after_hours):
        if not pending:
            after_hours = True  # nobody comes back today: whoever waits is served anyway
            at = state.now
        else:
            at, kind, _, label, name = heapq.heappop(pending)
            if kind == 0:
                apply(state, event(at, "service_finished", ticket=label, counter=name))
            elif kind == 1:
                customer = by_label[label]
                apply(state, event(at, "ticket_issued", ticket=label, service=customer.service, predicted_seconds=customer.predicted_seconds))
        # every free counter that is there calls, in name order (the core's rule picks whom)
        for name in names:
            counter = state.counters[name]
            if counter.ticket is not None or not state.waiting_count():
                continue
            back = None if after_hours else _away_until(away[name], at)
            if back is not None:
                if math.isfinite(back):
                    order += 1
                    heapq.heappush(pending, (back, 2, order, "", name))
                continue
            ticket = next_ticket(state, counter)
            if ticket is None:
                continue
            apply(state, event(at, "ticket_called", ticket=ticket.label, counter=name))
            apply(state, event(at, "service_started", ticket=ticket.label, counter=name))
            waits[ticket.label] = at - ticket.issued_at
            order += 1
            heapq.heappush(pending, (at + by_label[ticket.label].occupies, 0, order, ticket.label, name))
    return waits


def express_what_if(
    days: Sequence[DayActivity],
    express_minutes: Sequence[float] = DEFAULT_EXPRESS_MINUTES,
    *,
    counters: int | None = None,
    express_counter: str | None = None,
) -> Table:
    """Per N: the mean and p90 wait of the recorded days' short and long served customers
    replayed (:func:`replay_trace`) under the plain call rule (``rule`` = ``fifo``) and with one
    counter "express ≤ N min" (``express``)."""
    traces = [day_trace(day) for day in days]
    plain = [replay_trace(trace, None, counters=counters) for trace in traces]
    rows: list[tuple[Cell, ...]] = []
    for limit in express_minutes:
        for rule in ("fifo", "express"):
            short: list[float] = []
            long: list[float] = []
            for trace, baseline in zip(traces, plain, strict=True):
                waits = baseline if rule == "fifo" else replay_trace(trace, limit, express_counter=express_counter, counters=counters)
                for customer in trace.customers:
                    (short if _is_short(customer.predicted_seconds, limit) else long).append(waits[customer.label])
            rows.append((limit, rule, *WaitSummary(tuple(short), tuple(long)).row()))
    return Table("express_what_if", WHAT_IF_COLUMNS, rows)
