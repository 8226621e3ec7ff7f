"""A day's records as numpy columns, the form every report adds up.

A closed day's columns are worked out once and kept on the day (``DayActivity.memo``): a report
over 90 days concatenates 90 sets of arrays instead of walking a quarter of a million records.
Today's are worked out afresh for each report, up to the report's ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from queue_board.core.activity import Activity, DayActivity, Segment, shown_top_seconds

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
StrArray = npt.NDArray[np.str_]

#: activities in a fixed order: the columns of counter-time arrays
ACTIVITIES: tuple[Activity, ...] = (Activity.SERVING, Activity.WRAP_UP, Activity.PAUSED, Activity.IDLE, Activity.CLOSED)


@dataclass(frozen=True, slots=True)
class TicketColumns:
    """One row per ticket of the day."""

    label: StrArray
    service: StrArray
    #: counter of the first call ("" if never called)
    counter: StrArray
    outcome: StrArray
    issued_at: FloatArray
    #: issue → first call in seconds (NaN if never called)
    wait: FloatArray
    #: issue → first call, cancellation or ``now`` (still waiting): how long they did wait
    waited: FloatArray
    #: the range the ticket was told (NaN where the log has none)
    told_p10: FloatArray
    told_p50: FloatArray
    told_p90: FloatArray
    #: the top of that range as the boards worded it (NaN where none)
    shown_top: FloatArray
    hour: IntArray
    transfers: IntArray


@dataclass(frozen=True, slots=True)
class TransactionColumns:
    """One row per call of a ticket at a counter."""

    ticket: StrArray
    service: StrArray
    counter: StrArray
    outcome: StrArray
    called_at: FloatArray
    #: start → end of a transaction that was served (NaN for no-shows and running ones)
    duration: FloatArray
    #: hour of its end (-1 while running)
    end_hour: IntArray


@dataclass(frozen=True, slots=True)
class CounterTime:
    """Seconds each counter spent in each activity, per local hour: ``seconds[c, h, a]`` for
    ``counters[c]``, hour ``h`` (0–23) and ``ACTIVITIES[a]``."""

    counters: tuple[str, ...]
    seconds: FloatArray


@dataclass(frozen=True, slots=True)
class PauseColumns:
    """One row per pause (a pause running at the report's ``now`` counts as far as it went)."""

    counter: StrArray
    reason: StrArray
    start: FloatArray
    length: FloatArray
    #: declared minutes × 60 (NaN where the teller declared none)
    declared: FloatArray
    overrun: FloatArray
    hour: IntArray


@dataclass(frozen=True, slots=True)
class DayColumns:
    """Everything a report reads of one day."""

    day: date
    weekday: int
    tickets: TicketColumns
    transactions: TransactionColumns
    counter_time: CounterTime
    pauses: PauseColumns


def day_columns(day: DayActivity, now: float | None = None) -> DayColumns:
    """The day's columns up to ``now`` (a closed day's are worked out once and kept)."""
    if day.closed:
        kept = day.memo.get("columns")
        if isinstance(kept, DayColumns):
            return kept
    until = day.last_at if now is None or day.closed else max(now, day.last_at)
    segments = day.all_segments(until)
    columns = DayColumns(
        day=day.day,
        weekday=day.day.weekday(),
        tickets=_tickets(day, until),
        transactions=_transactions(day),
        counter_time=_counter_time(day, segments),
        pauses=_pauses(day, segments, until),
    )
    if day.closed:
        day.memo["columns"] = columns
    return columns


def _hours(day: DayActivity, at: FloatArray) -> IntArray:
    return (((at + day.utc_offset) % 86400) // 3600).astype(np.int64)


def _tickets(day: DayActivity, now: float) -> TicketColumns:
    records = list(day.tickets.values())
    issued = np.array([r.issued_at for r in records], dtype=np.float64)
    told = np.array([r.told if r.told is not None else (np.nan, np.nan, np.nan) for r in records], dtype=np.float64).reshape(-1, 3)
    return TicketColumns(
        label=np.array([r.label for r in records], dtype=np.str_),
        service=np.array([r.service for r in records], dtype=np.str_),
        counter=np.array([r.counter or "" for r in records], dtype=np.str_),
        outcome=np.array([str(r.outcome) for r in records], dtype=np.str_),
        issued_at=issued,
        wait=np.array([r.wait if r.wait is not None else np.nan for r in records], dtype=np.float64),
        waited=np.array([r.waited_until(now) for r in records], dtype=np.float64),
        told_p10=told[:, 0],
        told_p50=told[:, 1],
        told_p90=told[:, 2],
        shown_top=np.array([shown_top_seconds(r.told) if r.told is not None else np.nan for r in records], dtype=np.float64),
        hour=_hours(day, issued),
        transfers=np.array([r.transfers for r in records], dtype=np.int64),
    )


def _transactions(day: DayActivity) -> TransactionColumns:
    rows = day.transactions
    ended = np.array([t.ended_at if t.ended_at is not None else np.nan for t in rows], dtype=np.float64)
    end_hour = np.where(np.isnan(ended), -1, _hours(day, np.nan_to_num(ended)))
    return TransactionColumns(
        ticket=np.array([t.ticket for t in rows], dtype=np.str_),
        service=np.array([t.service for t in rows], dtype=np.str_),
        counter=np.array([t.counter for t in rows], dtype=np.str_),
        outcome=np.array([t.outcome for t in rows], dtype=np.str_),
        called_at=np.array([t.called_at for t in rows], dtype=np.float64),
        duration=np.array([d if (d := t.duration) is not None else np.nan for t in rows], dtype=np.float64),
        end_hour=end_hour.astype(np.int64),
    )


def _counter_time(day: DayActivity, segments: list[Segment]) -> CounterTime:
    """Each segment's seconds, cut at the hour boundaries it crosses."""
    counters = tuple(day.counters)
    index = {name: i for i, name in enumerate(counters)}
    activity_index = {a: i for i, a in enumerate(ACTIVITIES)}
    seconds = np.zeros((len(counters), 24, len(ACTIVITIES)), dtype=np.float64)
    for segment in segments:
        assert segment.end is not None
        c = index[segment.counter]
        a = activity_index[segment.activity]
        start = segment.start + day.utc_offset
        end = segment.end + day.utc_offset
        while start < end:
            hour_end = (start // 3600 + 1) * 3600
            piece = min(end, hour_end) - start
            seconds[c, int((start % 86400) // 3600), a] += piece
            start += piece
    return CounterTime(counters=counters, seconds=seconds)


def _pauses(day: DayActivity, segments: list[Segment], now: float) -> PauseColumns:
    rows = [s for s in segments if s.activity is Activity.PAUSED]
    start = np.array([s.start for s in rows], dtype=np.float64)
    return PauseColumns(
        counter=np.array([s.counter for s in rows], dtype=np.str_),
        reason=np.array([s.reason or "" for s in rows], dtype=np.str_),
        start=start,
        length=np.array([s.length(now) for s in rows], dtype=np.float64),
        declared=np.array([s.declared_minutes * 60.0 if s.declared_minutes is not None else np.nan for s in rows], dtype=np.float64),
        overrun=np.array([s.overrun(now) for s in rows], dtype=np.float64),
        hour=_hours(day, start),
    )
