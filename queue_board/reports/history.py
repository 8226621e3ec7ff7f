"""The history report of a date range: arrivals, waits, service level, transaction lengths,
pauses, no-shows, utilisation, per day, service, counter and hour, and waits by weekday × hour.

Pure numpy over :class:`~queue_board.reports.columns.DayColumns`; the live dashboard's "today"
figures are this same report over today's columns. Definitions: docs/reports.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from queue_board.core.branch import TicketStatus
from queue_board.reports.columns import ACTIVITIES, DayColumns, FloatArray, IntArray, StrArray
from queue_board.reports.tables import Cell, Table, maximum, mean, minutes, ordered, percentile, share

#: the default service-level target: a customer called within this many minutes was served "in time"
DEFAULT_TARGET_MINUTES = 10.0

_SERVING, _WRAP_UP, _PAUSED, _IDLE, _CLOSED = range(len(ACTIVITIES))


@dataclass(frozen=True, slots=True)
class Filters:
    """Narrow a report to one service and/or one counter (``None``: all).

    A service filter keeps the tickets issued for it and the transactions of it; a counter
    filter keeps the tickets first called there, its transactions, its time and its pauses.
    """

    service: str | None = None
    counter: str | None = None


@dataclass(frozen=True, slots=True)
class _Tickets:
    service: StrArray
    counter: StrArray
    outcome: StrArray
    wait: FloatArray
    waited: FloatArray
    hour: IntArray
    weekday: IntArray
    day: StrArray


@dataclass(frozen=True, slots=True)
class _Transactions:
    service: StrArray
    counter: StrArray
    outcome: StrArray
    duration: FloatArray
    end_hour: IntArray
    day: StrArray


def _gather(days: Sequence[DayColumns], part: str, names: Sequence[str], filters: Filters) -> dict[str, np.ndarray]:
    """The columns ``names`` of each day's ``part`` ("tickets", "transactions") end to end, with
    each row's day and weekday, narrowed by ``filters``."""
    parts = [getattr(day, part) for day in days]
    found = {name: np.concatenate([getattr(p, name) for p in parts]) if parts else np.array([]) for name in names}
    sizes = [getattr(p, names[0]).size for p in parts]
    found["weekday"] = np.repeat(np.array([d.weekday for d in days], dtype=np.int64), sizes)
    found["day"] = np.repeat(np.array([d.day.isoformat() for d in days], dtype=np.str_), sizes)
    keep = np.ones(found["day"].size, dtype=bool)
    if filters.service is not None:
        keep &= found["service"].astype(np.str_) == filters.service
    if filters.counter is not None:
        keep &= found["counter"].astype(np.str_) == filters.counter
    return {name: values[keep] for name, values in found.items()}


def _concat_tickets(days: Sequence[DayColumns], filters: Filters) -> _Tickets:
    c = _gather(days, "tickets", ("service", "counter", "outcome", "wait", "waited", "hour"), filters)
    return _Tickets(
        service=c["service"].astype(np.str_),
        counter=c["counter"].astype(np.str_),
        outcome=c["outcome"].astype(np.str_),
        wait=c["wait"].astype(np.float64),
        waited=c["waited"].astype(np.float64),
        hour=c["hour"].astype(np.int64),
        weekday=c["weekday"],
        day=c["day"],
    )


def _concat_transactions(days: Sequence[DayColumns], filters: Filters) -> _Transactions:
    c = _gather(days, "transactions", ("service", "counter", "outcome", "duration", "end_hour"), filters)
    return _Transactions(
        service=c["service"].astype(np.str_),
        counter=c["counter"].astype(np.str_),
        outcome=c["outcome"].astype(np.str_),
        duration=c["duration"].astype(np.float64),
        end_hour=c["end_hour"].astype(np.int64),
        day=c["day"],
    )


def _counter_seconds(days: Sequence[DayColumns], filters: Filters) -> dict[str, FloatArray]:
    """Per counter, seconds[hour, activity] summed over the days."""
    total: dict[str, FloatArray] = {}
    for day in days:
        time = day.counter_time
        for index, name in enumerate(time.counters):
            if filters.counter is not None and name != filters.counter:
                continue
            if name in total:
                total[name] = total[name] + time.seconds[index]
            else:
                total[name] = time.seconds[index].copy()
    return total


def _service_level(tickets: _Tickets, mask: np.ndarray, target: float) -> float | None:
    """Called within ``target`` ÷ (called + cancelled + still waiting past ``target``)."""
    called = mask & np.isfinite(tickets.wait)
    in_time = int(np.count_nonzero(called & (tickets.wait <= target)))
    cancelled = int(np.count_nonzero(mask & (tickets.outcome == str(TicketStatus.CANCELLED)) & ~np.isfinite(tickets.wait)))
    waiting_late = int(np.count_nonzero(mask & ~np.isfinite(tickets.wait) & (tickets.outcome == str(TicketStatus.WAITING)) & (tickets.waited > target)))
    return share(in_time, int(np.count_nonzero(called)) + cancelled + waiting_late)


def _ticket_row(tickets: _Tickets, mask: np.ndarray, transactions: _Transactions, tmask: np.ndarray, target: float) -> tuple[Cell, ...]:
    waits = tickets.wait[mask]
    finished = int(np.count_nonzero(tmask & (transactions.outcome == "finished")))
    return (
        int(np.count_nonzero(mask)),
        finished,
        int(np.count_nonzero(mask & (tickets.outcome == str(TicketStatus.NO_SHOW)))),
        int(np.count_nonzero(mask & (tickets.outcome == str(TicketStatus.CANCELLED)))),
        minutes(percentile(waits, 50)),
        minutes(percentile(waits, 90)),
        minutes(maximum(waits)),
        _service_level(tickets, mask, target),
    )


TICKET_COLUMNS = ("arrivals", "served", "no_shows", "cancelled", "wait_p50_min", "wait_p90_min", "wait_max_min", "service_level")
DURATION_COLUMNS = ("transactions", "duration_p50_min", "duration_p90_min", "duration_mean_min")
TIME_COLUMNS = ("serving_min", "wrap_up_min", "paused_min", "idle_min", "open_min", "utilisation_open", "utilisation_staffed")


def _duration_row(transactions: _Transactions, mask: np.ndarray) -> tuple[Cell, ...]:
    durations = transactions.duration[mask]
    return (
        int(np.count_nonzero(mask & np.isfinite(transactions.duration))),
        minutes(percentile(durations, 50)),
        minutes(percentile(durations, 90)),
        minutes(mean(durations)),
    )


def _time_row(seconds: FloatArray) -> tuple[Cell, ...]:
    """From seconds per activity (summed over whatever the row covers)."""
    busy = float(seconds[_SERVING] + seconds[_WRAP_UP])
    opened = float(seconds[_SERVING] + seconds[_WRAP_UP] + seconds[_PAUSED] + seconds[_IDLE])
    staffed = opened - float(seconds[_PAUSED])
    return (
        minutes(float(seconds[_SERVING])),
        minutes(float(seconds[_WRAP_UP])),
        minutes(float(seconds[_PAUSED])),
        minutes(float(seconds[_IDLE])),
        minutes(opened),
        share(busy, opened),
        share(busy, staffed),
    )


def utilisation(seconds: FloatArray) -> tuple[float | None, float | None]:
    """(busy ÷ open time, busy ÷ staffed time) from seconds per activity."""
    row = _time_row(seconds)
    return row[5], row[6]  # type: ignore[return-value]


def history(days: Sequence[DayColumns], *, target_minutes: float = DEFAULT_TARGET_MINUTES, filters: Filters | None = None) -> dict[str, Table]:
    """Every table of the history report over ``days`` (oldest first)."""
    filters = filters or Filters()
    target = target_minutes * 60.0
    tickets = _concat_tickets(days, filters)
    transactions = _concat_transactions(days, filters)
    counter_seconds = _counter_seconds(days, filters)
    every = np.ones(tickets.service.size, dtype=bool)
    every_t = np.ones(transactions.service.size, dtype=bool)
    all_time = sum(counter_seconds.values(), np.zeros((24, len(ACTIVITIES))))

    tables: dict[str, Table] = {}
    tables["totals"] = Table(
        "totals",
        TICKET_COLUMNS + DURATION_COLUMNS + TIME_COLUMNS,
        [_ticket_row(tickets, every, transactions, every_t, target) + _duration_row(transactions, every_t) + _time_row(all_time.sum(axis=0))],
    )

    by_day: list[tuple[Cell, ...]] = []
    for day in days:
        # each day from its own columns: a year's report stays linear in its days
        day_tickets = _concat_tickets([day], filters)
        day_transactions = _concat_transactions([day], filters)
        seconds = _counter_seconds([day], filters)
        day_time = sum(seconds.values(), np.zeros((24, len(ACTIVITIES)))).sum(axis=0)
        by_day.append(
            (
                day.day.isoformat(),
                *_ticket_row(
                    day_tickets,
                    np.ones(day_tickets.service.size, dtype=bool),
                    day_transactions,
                    np.ones(day_transactions.service.size, dtype=bool),
                    target,
                ),
                *_time_row(day_time)[4:],
            )
        )
    tables["by_day"] = Table("by_day", ("day", *TICKET_COLUMNS, "open_min", "utilisation_open", "utilisation_staffed"), by_day)

    services = ordered([*tickets.service.tolist(), *transactions.service.tolist()])
    tables["by_service"] = Table(
        "by_service",
        ("service", *TICKET_COLUMNS, *DURATION_COLUMNS),
        [
            (s, *_ticket_row(tickets, tickets.service == s, transactions, transactions.service == s, target), *_duration_row(transactions, transactions.service == s))
            for s in services
        ],
    )

    counters = ordered([*counter_seconds, *transactions.counter.tolist()])
    tables["by_counter"] = Table(
        "by_counter",
        ("counter", "first_calls", "served", "no_shows", *DURATION_COLUMNS, *TIME_COLUMNS),
        [
            (
                c,
                int(np.count_nonzero(tickets.counter == c)),
                int(np.count_nonzero((transactions.counter == c) & (transactions.outcome == "finished"))),
                int(np.count_nonzero((transactions.counter == c) & (transactions.outcome == "no_show"))),
                *_duration_row(transactions, transactions.counter == c),
                *_time_row(counter_seconds.get(c, np.zeros((24, len(ACTIVITIES)))).sum(axis=0)),
            )
            for c in counters
        ],
    )

    active_hours = sorted(
        {int(h) for h in tickets.hour.tolist()}
        | {int(h) for h in transactions.end_hour.tolist() if h >= 0}
        | {int(h) for h in np.nonzero(all_time[:, :_CLOSED].sum(axis=1) > 0)[0].tolist()}
    )
    tables["by_hour"] = Table(
        "by_hour",
        ("hour", *TICKET_COLUMNS, "utilisation_open", "utilisation_staffed"),
        [
            (
                h,
                # arrivals and waits of the tickets issued in the hour; "served" = finished in it
                *_ticket_row(tickets, tickets.hour == h, transactions, transactions.end_hour == h, target),
                *_time_row(all_time[h])[5:],
            )
            for h in active_hours
        ],
    )

    tables["pauses"] = _pauses(days, filters)

    heat: list[tuple[Cell, ...]] = []
    for weekday in range(7):
        for hour in active_hours:
            mask = (tickets.weekday == weekday) & (tickets.hour == hour)
            if not mask.any():
                continue
            heat.append((weekday, hour, int(np.count_nonzero(mask)), minutes(mean(tickets.waited[mask])), minutes(percentile(tickets.waited[mask], 90))))
    tables["heatmap"] = Table("heatmap", ("weekday", "hour", "tickets", "wait_mean_min", "wait_p90_min"), heat)
    return tables


def _pauses(days: Sequence[DayColumns], filters: Filters) -> Table:
    """Pauses by reason: how many, how long, what was declared, and the overrun beyond it."""
    counter = np.concatenate([d.pauses.counter for d in days]).astype(np.str_) if days else np.array([], dtype=np.str_)
    reason = np.concatenate([d.pauses.reason for d in days]).astype(np.str_) if days else np.array([], dtype=np.str_)
    length = np.concatenate([d.pauses.length for d in days]) if days else np.array([])
    declared = np.concatenate([d.pauses.declared for d in days]) if days else np.array([])
    overrun = np.concatenate([d.pauses.overrun for d in days]) if days else np.array([])
    keep = np.ones(counter.size, dtype=bool) if filters.counter is None else counter == filters.counter
    rows: list[tuple[Cell, ...]] = []
    for name in sorted(set(reason[keep].tolist())):
        mask = keep & (reason == name)
        with_declared = mask & np.isfinite(declared)
        rows.append(
            (
                name,
                int(np.count_nonzero(mask)),
                minutes(float(length[mask].sum())),
                minutes(float(declared[with_declared].sum())) if with_declared.any() else None,
                int(np.count_nonzero(with_declared & (overrun > 0))),
                minutes(float(overrun[mask].sum())),
                minutes(maximum(overrun[mask])),
                minutes(maximum(length[mask])),
            )
        )
    return Table(
        "pauses",
        ("reason", "pauses", "total_min", "declared_min", "overran", "overrun_min", "worst_overrun_min", "longest_min"),
        rows,
    )
