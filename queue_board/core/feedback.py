"""The complaint and praise log: a projection of the branch's ``feedback_recorded`` and
``feedback_updated`` events (docs/event-log.md "Feedback").

A :class:`FeedbackLog` is fed every event a branch's :class:`~queue_board.core.projection.Projection`
accepts (it keeps only the feedback ones), so the API, a restarted server and a replay hold the
same complaints, each with its current state and every change that led to it. The figures made
of them are in ``queue_board/reports/feedback.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from queue_board.core.events import FEEDBACK_TYPES, Event, format_ts

#: statuses in which a complaint's follow-up is done: a deadline no longer applies
SETTLED = frozenset({"resolved", "closed"})


@dataclass(frozen=True, slots=True)
class FeedbackChange:
    """One event of a complaint's history: its recording or one update, as the log has it."""

    seq: int
    at: float
    ts: datetime
    type: str
    #: the status after this change
    status: str
    owner: str | None = None
    deadline: datetime | None = None
    note: str | None = None
    satisfaction: int | None = None
    #: who made the change, as the event names them (older logs: ``None``)
    by: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "seq": self.seq,
            "at": self.at,
            "ts": format_ts(self.ts),
            "type": self.type,
            "status": self.status,
            "owner": self.owner,
            "deadline": format_ts(self.deadline) if self.deadline is not None else None,
            "note": self.note,
            "satisfaction": self.satisfaction,
            "by": self.by,
        }


@dataclass(slots=True)
class FeedbackItem:
    """One complaint or praise: what was recorded, where it stands now, and how it got there."""

    id: str
    kind: str
    channel: str
    category: str
    text: str
    recorded_at: float
    recorded_ts: datetime
    aspect: str | None = None
    ticket: str | None = None
    ticket_day: date | None = None
    status: str = "open"
    owner: str | None = None
    deadline: datetime | None = None
    satisfaction: int | None = None
    #: when it last became resolved / closed (``None`` while it is not)
    resolved_at: float | None = None
    closed_at: float | None = None
    history: list[FeedbackChange] = field(default_factory=list)

    @property
    def day(self) -> date:
        """The local day it was recorded (the day a report's period counts it in)."""
        return self.recorded_ts.date()

    def overdue(self, now: float) -> bool:
        """Whether its follow-up deadline has passed and it is neither resolved nor closed."""
        return self.deadline is not None and self.status not in SETTLED and self.deadline.timestamp() < now

    def as_dict(self, now: float | None = None) -> dict[str, Any]:
        """JSON-ready, with the history; ``now`` adds whether it is overdue."""
        out: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "channel": self.channel,
            "category": self.category,
            "aspect": self.aspect,
            "text": self.text,
            "ticket": self.ticket,
            "ticket_day": self.ticket_day.isoformat() if self.ticket_day is not None else None,
            "recorded_at": self.recorded_at,
            "recorded_ts": format_ts(self.recorded_ts),
            "day": self.day.isoformat(),
            "status": self.status,
            "owner": self.owner,
            "deadline": format_ts(self.deadline) if self.deadline is not None else None,
            "satisfaction": self.satisfaction,
            "resolved_at": self.resolved_at,
            "closed_at": self.closed_at,
            "history": [change.as_dict() for change in self.history],
        }
        if now is not None:
            out["overdue"] = self.overdue(now)
        return out


@dataclass(slots=True)
class FeedbackLog:
    """Every complaint and praise of one branch, in the order they were recorded."""

    items: dict[str, FeedbackItem] = field(default_factory=dict)
    #: events seen (of every type), to number the history's changes by the log's ``seq``
    seq: int = 0

    def record(self, event: Event) -> None:
        """Take one event the branch state has just applied (it must have passed ``validate``)."""
        self.seq += 1
        if event.type not in FEEDBACK_TYPES:
            return
        fields = event.feedback
        assert fields is not None
        if event.type == "feedback_recorded":
            assert fields.kind is not None and fields.channel is not None and fields.category is not None and fields.text is not None
            item = FeedbackItem(
                id=fields.id,
                kind=fields.kind,
                channel=fields.channel,
                category=fields.category,
                aspect=fields.aspect,
                text=fields.text,
                ticket=fields.ticket,
                ticket_day=fields.ticket_day,
                recorded_at=event.at,
                recorded_ts=event.ts,
                owner=fields.owner,
                deadline=fields.deadline,
            )
            self.items[item.id] = item
            status = "open"
        else:
            item = self.items[fields.id]
            assert fields.status is not None
            status = fields.status
            if fields.owner is not None:
                item.owner = fields.owner
            if fields.deadline is not None:
                item.deadline = fields.deadline
            if status != item.status:
                item.resolved_at = event.at if status == "resolved" else (item.resolved_at if status == "closed" else None)
                item.closed_at = event.at if status == "closed" else None
                if status != "closed":
                    item.satisfaction = None
            if status == "closed" and fields.satisfaction is not None:
                item.satisfaction = fields.satisfaction
            item.status = status
        item.history.append(
            FeedbackChange(
                seq=self.seq,
                at=event.at,
                ts=event.ts,
                type=event.type,
                status=status,
                owner=fields.owner,
                deadline=fields.deadline,
                note=fields.note,
                satisfaction=fields.satisfaction,
                by=fields.by,
            )
        )

    def latest_day(self) -> date | None:
        """The day the latest feedback was recorded."""
        days = [item.day for item in self.items.values()]
        return max(days) if days else None
