"""The complaint and praise log: record and update (events of the branch's log, through
:meth:`BranchCommands.submit`), and the reads (``queue_board.reports.feedback`` over the
projection's feedback and activity records, caught up with the store first). Framework-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from queue_board.core.branch import BranchState
from queue_board.core.events import FEEDBACK_CATEGORIES, FEEDBACK_CHANNELS, FEEDBACK_KINDS, FEEDBACK_STATUSES
from queue_board.core.feedback import FeedbackLog
from queue_board.core.projection import Projection
from queue_board.core.text import N_
from queue_board.reports.feedback import FeedbackFilters, feedback_detail, feedback_tables
from queue_board.reports.tables import Table
from queue_board.service.clock import SystemClock
from queue_board.service.commands import Accepted, BranchCommands
from queue_board.service.errors import invalid, not_found
from queue_board.service.projections import ProjectionRegistry
from queue_board.service.reports import Period

#: what a client may send to record, and to update (the server adds ``type`` and ``id``)
RECORD_FIELDS = frozenset({"kind", "channel", "ticket", "ticket_day", "category", "aspect", "text", "owner", "deadline"})
UPDATE_FIELDS = frozenset({"status", "owner", "deadline", "note", "satisfaction"})
#: the filters of the list, and the words each may take
FILTER_WORDS: dict[str, tuple[str, ...]] = {
    "status": FEEDBACK_STATUSES,
    "category": FEEDBACK_CATEGORIES,
    "channel": FEEDBACK_CHANNELS,
    "kind": FEEDBACK_KINDS,
}


def next_feedback_id(state: BranchState) -> str:
    """``F0001``, ``F0002``, …: the first free number after those the log holds."""
    number = len(state.feedback) + 1
    while f"F{number:04d}" in state.feedback:
        number += 1
    return f"F{number:04d}"


def parse_filters(args: dict[str, str | None]) -> FeedbackFilters:
    """The list's filters from query arguments; 422 naming a filter with an unknown word."""
    values: dict[str, str | None] = {}
    for name, words in FILTER_WORDS.items():
        value = args.get(name) or None
        if value is not None and value not in words:
            raise invalid(f"{name!r} must be one of {', '.join(words)}", field=name)
        values[name] = value
    return FeedbackFilters(**values)


def _only(body: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise invalid(f"{unknown[0]!r} is not a field here; expected some of {sorted(allowed)}", field=unknown[0])


@dataclass(slots=True)
class BranchFeedback:
    """The complaint and praise log of the branches of one store."""

    projections: ProjectionRegistry
    commands: BranchCommands
    clock: SystemClock

    # writing ----------------------------------------------------------------------------
    def record(self, branch: str, body: dict[str, Any], *, by: str | None = None, **meta: Any) -> Accepted:
        """Record a complaint or praise (status open); its id is the branch's next. ``by`` is who
        records it (the server's word: a client cannot send it)."""
        _only(body, RECORD_FIELDS)
        signed = {"by": by} if by is not None else {}

        def build(state: BranchState) -> dict[str, Any]:
            self._check_past_ticket(branch, state, body)
            return {**body, **signed, "type": "feedback_recorded", "id": next_feedback_id(state)}

        return self.commands.submit(branch, build, **meta)

    def update(self, branch: str, feedback_id: str, body: dict[str, Any], *, by: str | None = None, **meta: Any) -> Accepted:
        """Change a complaint's status, owner or deadline, or add a note (closing it may carry
        the customer's satisfaction); ``by`` as for :meth:`record`."""
        _only(body, UPDATE_FIELDS)
        signed = {"by": by} if by is not None else {}
        return self.commands.submit(branch, {**body, **signed, "type": "feedback_updated", "id": feedback_id}, **meta)

    def _check_past_ticket(self, branch: str, state: BranchState, body: dict[str, Any]) -> None:
        """A ticket of an earlier day than the state holds must be in that day's records (the
        core checks the current day's; it keeps no earlier day)."""
        ticket, day = body.get("ticket"), body.get("ticket_day")
        if not isinstance(ticket, str) or not isinstance(day, str):
            return
        try:
            wanted = date.fromisoformat(day)
        except ValueError:
            return  # parse_event names the field
        if wanted == state.day or wanted >= self.clock.now().date():
            return  # the core's to judge
        activity = self.projections.current(branch).activity
        record = activity.days.get(wanted) if activity is not None else None
        if record is None or ticket not in record.tickets:
            raise not_found(N_("ticket %(ticket)s was not issued on %(day)s"), params={"ticket": ticket, "day": day}, field="ticket")

    # reading ----------------------------------------------------------------------------
    def _projection(self, branch: str) -> Projection:
        if not self.projections.exists(branch):
            raise not_found(f"no branch {branch!r}")
        return self.projections.get(branch)

    def _now(self, projection: Projection) -> float:
        return max(projection.state.now, self.clock.now().timestamp())

    @staticmethod
    def _log(projection: Projection) -> FeedbackLog:
        return projection.feedback if projection.feedback is not None else FeedbackLog()

    def latest_day(self, branch: str) -> date | None:
        """The latest day with feedback or queue records (the default period ends there)."""
        projection = self._projection(branch)
        days = [self._log(projection).latest_day()]
        if projection.activity is not None and projection.activity.today is not None:
            days.append(projection.activity.today.day)
        found = [d for d in days if d is not None]
        return max(found) if found else None

    def tables(self, branch: str, period: Period, filters: FeedbackFilters | None = None) -> dict[str, Table]:
        """Every feedback table of ``period`` (the list filtered by ``filters``)."""
        projection = self._projection(branch)
        with self.projections.lock(branch):
            return feedback_tables(self._log(projection), projection.activity, period.start, period.end, self._now(projection), filters)

    def listing(self, branch: str, period: Period, filters: FeedbackFilters | None = None) -> dict[str, Any]:
        """The feedback of ``period`` (each with its history) and every report table."""
        filters = filters or FeedbackFilters()
        projection = self._projection(branch)
        with self.projections.lock(branch):
            now = self._now(projection)
            log = self._log(projection)
            items = [
                item.as_dict(now) for item in log.items.values() if period.start <= item.day <= period.end and filters.keeps(item)
            ]
            tables = feedback_tables(log, projection.activity, period.start, period.end, now, filters)
        return {
            "branch": branch,
            "period": period.as_dict(),
            "filters": {"status": filters.status, "category": filters.category, "channel": filters.channel, "kind": filters.kind},
            "items": items,
            "tables": {name: table.as_dict() for name, table in tables.items()},
        }

    def one(self, branch: str, feedback_id: str) -> dict[str, Any]:
        """One complaint or praise with its history and, if linked, its ticket's story."""
        projection = self._projection(branch)
        with self.projections.lock(branch):
            item = self._log(projection).items.get(feedback_id)
            if item is None:
                raise not_found(f"no feedback {feedback_id!r} at branch {branch!r}")
            return feedback_detail(item, projection.activity, self._now(projection))
