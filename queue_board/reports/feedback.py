"""The complaint and praise log's reports (docs/reports.md "Complaints and praise"), pure: the
list of a period with its filters, the top causes, complaints per 1,000 customers, the share of
waiting complaints that followed a broken promise, the estimated unhappy customers, and the
follow-ups past their deadline; and one complaint with its history and its ticket's story.

They read the branch's :class:`~queue_board.core.feedback.FeedbackLog` and, for customers and
promises, its :class:`~queue_board.core.activity.ActivityLog` (the same records as the history).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from queue_board.core.activity import ActivityLog, shown_top_seconds
from queue_board.core.events import FEEDBACK_CATEGORIES, format_ts
from queue_board.core.feedback import FeedbackItem, FeedbackLog
from queue_board.reports.columns import day_columns
from queue_board.reports.story import ticket_story
from queue_board.reports.tables import Cell, Table, minutes, share

#: the share of unhappy customers assumed to complain formally: each complaint speaks for about
#: nineteen who just leave. An assumption from the complaint-handling literature, not a measurement
COMPLAINING_SHARE = 0.05
ESTIMATE_ASSUMPTION = (
    "estimate, not a count: assumes each broken promise made one customer unhappy and that about "
    f"{COMPLAINING_SHARE:.0%} of unhappy customers complain formally (broken promises ÷ {COMPLAINING_SHARE})"
)

LIST_COLUMNS = (
    "id", "recorded", "day", "kind", "channel", "category", "aspect", "ticket", "ticket_day",
    "status", "owner", "deadline", "overdue", "satisfaction", "wait_min", "told_high_min", "broken_promise", "text",
)  # fmt: skip
CAUSES_COLUMNS = ("category", "complaints", "share", "result", "process", "unspecified", "praise")
RATES_COLUMNS = ("day", "customers", "complaints", "complaints_per_1000", "praise", "praise_per_1000")
PROMISE_COLUMNS = ("waiting_complaints", "linked_to_a_told_ticket", "after_a_broken_promise", "share_after_broken_promise")
ESTIMATE_COLUMNS = ("broken_promises", "complaining_share", "estimated_unhappy", "complaints", "assumption")
OVERDUE_COLUMNS = ("id", "kind", "category", "status", "owner", "deadline", "overdue_h", "recorded")


@dataclass(frozen=True, slots=True)
class FeedbackFilters:
    """What the list keeps (``None``: everything); the other tables count the whole period."""

    status: str | None = None
    category: str | None = None
    channel: str | None = None
    kind: str | None = None

    def keeps(self, item: FeedbackItem) -> bool:
        """Whether ``item`` passes every filter."""
        return all(
            wanted is None or wanted == value
            for wanted, value in (
                (self.status, item.status),
                (self.category, item.category),
                (self.channel, item.channel),
                (self.kind, item.kind),
            )
        )


@dataclass(frozen=True, slots=True)
class LinkedWait:
    """What the ticket a complaint names waited, beside the range it was told."""

    wait_s: float
    #: the top of the range as the boards worded it (``None``: told nothing)
    told_high_s: float | None

    @property
    def broken(self) -> bool | None:
        """Whether the customer waited past the top of what they were told (``None``: told nothing)."""
        return None if self.told_high_s is None else self.wait_s > self.told_high_s


def linked_wait(item: FeedbackItem, activity: ActivityLog | None, now: float) -> LinkedWait | None:
    """The linked ticket's wait — to its first call, or until it gave up (or ``now``, still
    waiting) — and its promise; ``None`` for no ticket, or one the records do not have."""
    if item.ticket is None or item.ticket_day is None or activity is None:
        return None
    day = activity.days.get(item.ticket_day)
    record = day.tickets.get(item.ticket) if day is not None else None
    if day is None or record is None:
        return None
    until = now if not day.closed else day.last_at
    return LinkedWait(
        wait_s=record.waited_until(until),
        told_high_s=shown_top_seconds(record.told) if record.told is not None else None,
    )


def in_period(log: FeedbackLog, start: date, end: date) -> list[FeedbackItem]:
    """The feedback recorded from ``start`` to ``end`` (local days, inclusive), oldest first."""
    return [item for item in log.items.values() if start <= item.day <= end]


def feedback_tables(
    log: FeedbackLog,
    activity: ActivityLog | None,
    start: date,
    end: date,
    now: float,
    filters: FeedbackFilters | None = None,
) -> dict[str, Table]:
    """Every table of the period: ``feedback`` (the list, filtered), ``causes``, ``rates``,
    ``promises``, ``estimate`` (of the whole period) and ``overdue`` (at ``now``, any period)."""
    filters = filters or FeedbackFilters()
    items = in_period(log, start, end)
    return {
        "feedback": _list(items, activity, now, filters),
        "causes": _causes(items),
        "rates": _rates(items, activity, start, end, now),
        "promises": _promises(items, activity, now),
        "estimate": _estimate(items, activity, start, end, now),
        "overdue": overdue(log, now),
    }


def _list(items: list[FeedbackItem], activity: ActivityLog | None, now: float, filters: FeedbackFilters) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for item in items:
        if not filters.keeps(item):
            continue
        linked = linked_wait(item, activity, now)
        broken = linked.broken if linked is not None else None
        rows.append(
            (
                item.id, format_ts(item.recorded_ts), item.day.isoformat(), item.kind, item.channel, item.category,
                item.aspect, item.ticket, item.ticket_day.isoformat() if item.ticket_day else None, item.status,
                item.owner, format_ts(item.deadline) if item.deadline else None, int(item.overdue(now)), item.satisfaction,
                minutes(linked.wait_s) if linked is not None else None,
                minutes(linked.told_high_s) if linked is not None else None,
                None if broken is None else int(broken), item.text,
            )
        )  # fmt: skip
    return Table("feedback", LIST_COLUMNS, rows)


def _causes(items: list[FeedbackItem]) -> Table:
    """Complaints per category, most first (ties in the categories' order); praise beside them."""
    complaints = [i for i in items if i.kind == "complaint"]
    rows: list[tuple[Cell, ...]] = []
    for category in FEEDBACK_CATEGORIES:
        mine = [i for i in complaints if i.category == category]
        praise = sum(1 for i in items if i.kind == "praise" and i.category == category)
        if not mine and not praise:
            continue
        rows.append(
            (
                category,
                len(mine),
                share(len(mine), len(complaints)),
                sum(1 for i in mine if i.aspect == "result"),
                sum(1 for i in mine if i.aspect == "process"),
                sum(1 for i in mine if i.aspect is None),
                praise,
            )
        )
    rows.sort(key=lambda row: -int(row[1] or 0))  # stable: the categories' order breaks ties
    return Table("causes", CAUSES_COLUMNS, rows)


def _customers(activity: ActivityLog | None, start: date, end: date, now: float) -> dict[date, tuple[int, int]]:
    """Per recorded day: (tickets issued, broken promises), as the history and promises reports count them."""
    out: dict[date, tuple[int, int]] = {}
    if activity is None:
        return out
    for day in activity.in_range(start, end):
        tickets = day_columns(day, now).tickets
        told = np.isfinite(tickets.shown_top) & np.isfinite(tickets.wait)
        broken = int(np.count_nonzero(tickets.wait[told] > tickets.shown_top[told]))
        out[day.day] = (int(tickets.label.size), broken)
    return out


def _per_1000(count: int, customers: int) -> float | None:
    return round(1000.0 * count / customers, 1) if customers > 0 else None


def _rates(items: list[FeedbackItem], activity: ActivityLog | None, start: date, end: date, now: float) -> Table:
    """Per day with customers or feedback, then the period's total (``day`` = ``total``)."""
    customers = _customers(activity, start, end, now)
    days = sorted(set(customers) | {i.day for i in items})
    rows: list[tuple[Cell, ...]] = []
    for day in [*days, None]:
        mine = [i for i in items if day is None or i.day == day]
        issued = sum(c for c, _ in customers.values()) if day is None else customers.get(day, (0, 0))[0]
        complaints = sum(1 for i in mine if i.kind == "complaint")
        praise = sum(1 for i in mine if i.kind == "praise")
        rows.append(
            ("total" if day is None else day.isoformat(), issued, complaints, _per_1000(complaints, issued), praise, _per_1000(praise, issued))
        )
    return Table("rates", RATES_COLUMNS, rows)


def _promises(items: list[FeedbackItem], activity: ActivityLog | None, now: float) -> Table:
    """Of the complaints about waiting, those whose ticket was told a range, and of them those
    whose customer waited past its top (to the call, or until they gave up)."""
    waiting = [i for i in items if i.kind == "complaint" and i.category == "waiting"]
    linked = [w for i in waiting if (w := linked_wait(i, activity, now)) is not None and w.broken is not None]
    broken = sum(1 for w in linked if w.broken)
    return Table("promises", PROMISE_COLUMNS, [(len(waiting), len(linked), broken, share(broken, len(linked)))])


def _estimate(items: list[FeedbackItem], activity: ActivityLog | None, start: date, end: date, now: float) -> Table:
    broken = sum(b for _, b in _customers(activity, start, end, now).values())
    complaints = sum(1 for i in items if i.kind == "complaint")
    estimated = round(broken / COMPLAINING_SHARE)
    return Table("estimate", ESTIMATE_COLUMNS, [(broken, COMPLAINING_SHARE, estimated, complaints, ESTIMATE_ASSUMPTION)])


def overdue(log: FeedbackLog, now: float) -> Table:
    """Follow-ups past their deadline at ``now`` and neither resolved nor closed, most overdue first."""
    late = sorted((i for i in log.items.values() if i.overdue(now)), key=lambda i: i.deadline.timestamp() if i.deadline else 0.0)
    rows: list[tuple[Cell, ...]] = [
        (
            i.id, i.kind, i.category, i.status, i.owner, format_ts(i.deadline) if i.deadline else None,
            round((now - i.deadline.timestamp()) / 3600.0, 1) if i.deadline else None, format_ts(i.recorded_ts),
        )
        for i in late
    ]  # fmt: skip
    return Table("overdue", OVERDUE_COLUMNS, rows)


def feedback_detail(item: FeedbackItem, activity: ActivityLog | None, now: float) -> dict[str, Any]:
    """One complaint or praise: its fields, its history and, linked to a ticket, that ticket's
    wait beside the range it was told and its story (every call and pause while it waited)."""
    out = item.as_dict(now)
    linked = linked_wait(item, activity, now)
    out["wait_s"] = round(linked.wait_s, 1) if linked is not None else None
    out["told_high_s"] = linked.told_high_s if linked is not None else None
    out["broken_promise"] = linked.broken if linked is not None else None
    story = None
    if activity is not None and item.ticket is not None and item.ticket_day is not None:
        day = activity.days.get(item.ticket_day)
        story = ticket_story(day, item.ticket, now) if day is not None else None
    out["story"] = story
    return out
