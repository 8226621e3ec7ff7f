"""The manager's live view of today, and the one-row summary of a branch for the overview of
every branch. Both are the history report over today's records up to ``now``, plus what is
happening this minute: each counter's state and for how long, queues and their longest wait,
pauses past their declared minutes, transactions running far past their expected range."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from queue_board.core.activity import WRAP_UP_LIMIT_SECONDS, Activity, DayActivity, Segment, shown_top_seconds
from queue_board.core.branch import TicketStatus
from queue_board.reports.columns import ACTIVITIES, day_columns
from queue_board.reports.history import DEFAULT_TARGET_MINUTES, history, utilisation
from queue_board.reports.quality import quality
from queue_board.reports.tables import Table, ordered, share

#: a transaction is "running long" once it passes this multiple of its learned p90
RUNNING_LONG_FACTOR = 1.5

#: how a service's transaction length is looked up: (service, counter) → (p10, p50, p90) seconds
ExpectedRange = Callable[[str, str], tuple[float, float, float]]


@dataclass(frozen=True, slots=True)
class Waiting:
    """A ticket in the queue now (from the branch state)."""

    label: str
    service: str
    issued_at: float


def _row_dict(table: Table, index: int = 0) -> dict[str, Any]:
    return dict(zip(table.columns, table.rows[index], strict=True)) if table.rows else {}


def _current(day: DayActivity | None, counter: str) -> Segment | None:
    return day.current.get(counter) if day is not None else None


@dataclass(frozen=True, slots=True)
class LiveState:
    """What is happening this minute: each counter, each queue, and what needs a look."""

    counters: list[dict[str, Any]]
    waiting: list[dict[str, Any]]
    waiting_total: int
    longest_wait_s: float | None
    paused_over: list[dict[str, Any]]
    running_long: list[dict[str, Any]]


def live_state(day: DayActivity | None, *, now: float, counters: Sequence[str], waiting: Sequence[Waiting], expected: ExpectedRange) -> LiveState:
    """Each counter's activity and since when, its running transaction against its expected
    range, each service's queue and its longest wait, pauses past their minutes."""
    names = ordered([*counters, *(day.counters if day else [])])
    running = {t.counter: t for t in (day.transactions if day else []) if t.outcome == "running"}
    views: list[dict[str, Any]] = []
    paused_over: list[dict[str, Any]] = []
    running_long: list[dict[str, Any]] = []
    for name in names:
        segment = _current(day, name)
        activity = segment.activity if segment is not None else Activity.CLOSED
        view: dict[str, Any] = {
            "counter": name,
            "activity": str(activity),
            "since": segment.start if segment is not None else None,
            "ticket": None,
            "service": None,
            "reason": segment.reason if segment is not None else None,
            "declared_minutes": segment.declared_minutes if segment is not None else None,
            "over_by_s": None,
            "expected": None,
            "running_long": False,
        }
        if segment is not None and activity is Activity.WRAP_UP and now - segment.start > WRAP_UP_LIMIT_SECONDS:
            # the same cut the reports make: a long "wrap-up" is idle time
            view["activity"] = str(Activity.IDLE)
            view["since"] = segment.start + WRAP_UP_LIMIT_SECONDS
        if segment is not None and activity is Activity.PAUSED:
            over = segment.overrun(now)
            if over > 0:
                view["over_by_s"] = round(over, 1)
                paused_over.append({"counter": name, "reason": segment.reason, "declared_minutes": segment.declared_minutes, "since": segment.start, "over_by_s": round(over, 1)})
        transaction = running.get(name)
        if transaction is not None and activity is Activity.SERVING:
            view["ticket"] = transaction.ticket
            view["service"] = transaction.service
            started = transaction.started_at if transaction.started_at is not None else transaction.called_at
            expected_range = expected(transaction.service, name)
            view["expected"] = {"p10": round(expected_range[0], 1), "p50": round(expected_range[1], 1), "p90": round(expected_range[2], 1)}
            view["started_at"] = transaction.started_at
            elapsed = now - started
            if transaction.started_at is not None and elapsed > RUNNING_LONG_FACTOR * expected_range[2]:
                view["running_long"] = True
                running_long.append(
                    {"counter": name, "ticket": transaction.ticket, "service": transaction.service, "started_at": started, "elapsed_s": round(elapsed, 1), "expected_p90_s": round(expected_range[2], 1)}
                )
        views.append(view)

    queues: dict[str, list[Waiting]] = {}
    for ticket in waiting:
        queues.setdefault(ticket.service, []).append(ticket)
    waiting_views: list[dict[str, Any]] = []
    for service, queue in sorted(queues.items()):
        oldest = min(queue, key=lambda t: t.issued_at)
        waiting_views.append({"service": service, "waiting": len(queue), "longest_wait_s": round(now - oldest.issued_at, 1), "longest_ticket": oldest.label})
    return LiveState(
        counters=views,
        waiting=waiting_views,
        waiting_total=len(waiting),
        longest_wait_s=max((float(w["longest_wait_s"]) for w in waiting_views), default=None),
        paused_over=paused_over,
        running_long=running_long,
    )


def dashboard(
    day: DayActivity | None,
    *,
    now: float,
    counters: Sequence[str],
    waiting: Sequence[Waiting],
    expected: ExpectedRange,
    target_minutes: float = DEFAULT_TARGET_MINUTES,
) -> dict[str, Any]:
    """Today's live dashboard as JSON-ready data. ``counters`` are the branch's configured
    counters (a counter that has not opened today is shown closed)."""
    columns = day_columns(day, now) if day is not None else None
    report = history([columns] if columns else [], target_minutes=target_minutes)
    promises = quality([columns] if columns else [])
    by_counter = {row[0]: dict(zip(report["by_counter"].columns, row, strict=True)) for row in report["by_counter"].rows}
    live = live_state(day, now=now, counters=counters, waiting=waiting, expected=expected)
    for view in live.counters:
        mine = by_counter.get(view["counter"], {})
        view["served"] = mine.get("served", 0)
        view["utilisation_open"] = mine.get("utilisation_open")
        view["utilisation_staffed"] = mine.get("utilisation_staffed")

    timeline: dict[str, list[list[Any]]] = {view["counter"]: [] for view in live.counters}
    for segment in day.all_segments(now) if day is not None else []:
        timeline.setdefault(segment.counter, []).append([segment.start, segment.end, str(segment.activity), segment.reason])

    seconds = columns.counter_time.seconds.sum(axis=(0, 1)) if columns is not None and columns.counter_time.counters else None
    util_open, util_staffed = utilisation(seconds) if seconds is not None else (None, None)
    return {
        "now": now,
        "day": day.day.isoformat() if day else None,
        "utc_offset": day.utc_offset if day else None,
        "target_minutes": target_minutes,
        "activities": [str(a) for a in ACTIVITIES],
        "counters": live.counters,
        "timeline": timeline,
        "utilisation": {"open": util_open, "staffed": util_staffed},
        "waiting": live.waiting,
        "waiting_total": live.waiting_total,
        "longest_wait_s": live.longest_wait_s,
        "alerts": {"paused_over": live.paused_over, "running_long": live.running_long},
        "today": _row_dict(report["totals"]),
        "promises": _row_dict(promises["quality_totals"]),
        "by_service": report["by_service"].as_dict(),
        "by_hour": report["by_hour"].as_dict(),
    }


def today_figures(day: DayActivity | None, *, now: float, target_minutes: float = DEFAULT_TARGET_MINUTES) -> dict[str, Any]:
    """Today's arrivals, service level, broken-promise share and utilisation: the figures of
    :func:`history` and :func:`quality` for one day, by the same definitions, in plain Python —
    what the overview needs of each of hundreds of branches (numpy's per-call cost would
    dominate such small arrays; ``tests/test_reports.py`` checks both agree)."""
    if day is None:
        return {"arrivals": 0, "service_level": None, "broken_share": None, "utilisation_open": None, "utilisation_staffed": None}
    target = target_minutes * 60.0
    called = in_time = gave_up = waiting_late = promised = broken = 0
    for record in day.tickets.values():
        wait = record.wait
        if wait is not None:
            called += 1
            in_time += wait <= target
            if record.told is not None:
                promised += 1
                broken += wait > shown_top_seconds(record.told)
        elif record.outcome is TicketStatus.CANCELLED:
            gave_up += 1
        elif record.outcome is TicketStatus.WAITING and record.waited_until(now) > target:
            waiting_late += 1
    seconds = dict.fromkeys(ACTIVITIES, 0.0)
    for segment in day.all_segments(now):
        seconds[segment.activity] += segment.length(now)
    busy = seconds[Activity.SERVING] + seconds[Activity.WRAP_UP]
    opened = busy + seconds[Activity.PAUSED] + seconds[Activity.IDLE]
    return {
        "arrivals": len(day.tickets),
        "service_level": share(in_time, called + gave_up + waiting_late),
        "broken_share": share(broken, promised),
        "utilisation_open": share(busy, opened),
        "utilisation_staffed": share(busy, opened - seconds[Activity.PAUSED]),
    }


def branch_summary(
    branch: str,
    day: DayActivity | None,
    *,
    now: float,
    counters: Sequence[str],
    waiting: Sequence[Waiting],
    expected: ExpectedRange,
    target_minutes: float = DEFAULT_TARGET_MINUTES,
    warnings_on: Sequence[str] = (),
    unacknowledged_alerts: int = 0,
) -> dict[str, Any]:
    """The overview's row for a branch, with why it needs attention (docs/reports.md).
    ``warnings_on`` are the severities of its early warnings on now; ``unacknowledged_alerts``
    how many alerts no manager has seen yet."""
    live = live_state(day, now=now, counters=counters, waiting=waiting, expected=expected)
    figures = today_figures(day, now=now, target_minutes=target_minutes)
    open_counters = [c for c in live.counters if c["activity"] != str(Activity.CLOSED)]
    staffed = [c for c in open_counters if c["activity"] != str(Activity.PAUSED)]
    target = target_minutes * 60.0
    longest = live.longest_wait_s
    reasons: list[str] = []
    score = 0.0
    if live.waiting_total and not staffed:
        reasons.append("queue_no_staffed_counter")
        score += 100.0
    if longest is not None and longest > target:
        reasons.append("wait_over_target")
        score += 10.0 * longest / target
    if live.paused_over:
        reasons.append("pause_overrun")
        score += 5.0 * len(live.paused_over)
    if live.running_long:
        reasons.append("transaction_running_long")
        score += 2.0 * len(live.running_long)
    service_level = figures["service_level"]
    if service_level is not None and service_level < 0.8:
        reasons.append("service_level_low")
        score += 10.0 * (0.8 - service_level)
    broken = figures["broken_share"]
    if broken is not None and broken > 0.1:
        reasons.append("promises_broken")
        score += 10.0 * broken
    if unacknowledged_alerts:
        # an alert nobody has seen yet is the overview's first call on a manager's attention
        reasons.append("alert_unseen")
        score += 20.0 * unacknowledged_alerts
    if longest is not None:
        # among branches with nothing flagged, the longer queue first
        score += longest / target
    return {
        "branch": branch,
        "now": now,
        "open_counters": len(open_counters),
        "staffed_counters": len(staffed),
        "counters": len(live.counters),
        "waiting": live.waiting_total,
        "longest_wait_s": longest,
        "utilisation_open": figures["utilisation_open"],
        "utilisation_staffed": figures["utilisation_staffed"],
        "service_level": service_level,
        "arrivals": figures["arrivals"],
        "broken_share": broken,
        "warnings_on": len(warnings_on),
        "alerts_on": sum(1 for severity in warnings_on if severity == "alert"),
        "attention": reasons,
        "attention_score": round(score, 3),
    }


def sort_by_attention(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Branches that need attention first (highest score), then by name."""
    return sorted(rows, key=lambda row: (-float(row["attention_score"]), str(row["branch"])))
