"""The manager's reports over the branches' projections: the live dashboard, the history of a
date range, the promises kept and broken, one ticket's story and the overview of every branch.

Every figure comes from ``queue_board.reports`` over the activity each projection keeps
(``core.activity``), caught up with the store first, so a page, a push, the API and
``queue-board report`` give the same numbers from any process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from queue_board.core.activity import DayActivity
from queue_board.core.branch_config import BranchConfig
from queue_board.core.projection import Projection
from queue_board.reports.columns import day_columns
from queue_board.reports.dashboard import Waiting, branch_summary, dashboard, sort_by_attention
from queue_board.reports.history import DEFAULT_TARGET_MINUTES, Filters, history
from queue_board.reports.quality import quality
from queue_board.reports.story import ticket_story
from queue_board.reports.tables import Table
from queue_board.service.clock import SystemClock
from queue_board.service.errors import invalid, not_found
from queue_board.service.projections import ProjectionRegistry

#: the longest date range one report may cover
MAX_RANGE_DAYS = 366

#: pushes a dashboard or an overview row: (branch, payload)
Push = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class Period:
    """A report's days, first and last included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        """How many calendar days the period spans."""
        return (self.end - self.start).days + 1

    def as_dict(self) -> dict[str, str]:
        """JSON-ready."""
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def parse_period(start: str | None, end: str | None, *, latest: date | None) -> Period:
    """A period from ``YYYY-MM-DD`` bounds; missing ones default to the 7 days up to the
    branch's latest recorded day. Raises a 422 naming the bad field."""

    def one(value: str | None, name: str) -> date | None:
        if value is None or value == "":
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise invalid(f"{name!r} must be a date as YYYY-MM-DD, not {value!r}", field=name) from None

    last = one(end, "to") or latest or date.today()
    first = one(start, "from") or last - timedelta(days=6)
    if first > last:
        raise invalid(f"'from' ({first}) is after 'to' ({last})", field="from")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise invalid(f"a report covers at most {MAX_RANGE_DAYS} days", field="from")
    return Period(first, last)


def parse_target(value: str | None, default: float) -> float:
    """The service-level target in minutes (0 < target ≤ 240)."""
    if value is None or value == "":
        return default
    try:
        minutes = float(value)
    except ValueError:
        raise invalid(f"'target' must be a number of minutes, not {value!r}", field="target") from None
    if not 0 < minutes <= 240:
        raise invalid("'target' must be more than 0 and at most 240 minutes", field="target")
    return minutes


def names_config(config: BranchConfig) -> dict[str, Any]:
    """The configuration as pages need it to word a report: services' and pause reasons' names
    in every language, the reasons in effect included (the stored form leaves out the defaults)."""
    return {**config.to_dict(), "pause_reasons": [reason.to_dict() for reason in config.reasons]}


class BranchReports:
    """Reports of the branches of one store."""

    def __init__(self, projections: ProjectionRegistry, clock: SystemClock, *, target_minutes: float = DEFAULT_TARGET_MINUTES) -> None:
        self.projections = projections
        self.clock = clock
        self.target_minutes = target_minutes
        self._pushes: list[tuple[Push, Push]] = []
        #: branches whose dashboard push is scheduled and not yet built: a burst of events
        #: makes one push of the latest state, not one each
        self._pending: set[str] = set()
        self._pending_lock = threading.Lock()

    # reading ----------------------------------------------------------------------------
    def _projection(self, branch: str, catch_up: bool) -> Projection:
        if not self.projections.exists(branch):
            raise not_found(f"no branch {branch!r}")
        return self.projections.get(branch) if catch_up else self.projections.current(branch)

    def _now(self, projection: Projection) -> float:
        return max(projection.state.now, self.clock.now().timestamp())

    @staticmethod
    def _today(projection: Projection, now: float) -> DayActivity | None:
        """The activity of the branch's current local day, ``None`` if nothing happened today."""
        activity = projection.activity
        if activity is None or activity.today is None:
            return None
        day = activity.today
        local = datetime.fromtimestamp(now, timezone(timedelta(seconds=day.utc_offset))).date()
        return day if day.day == local else None

    def _live_inputs(self, projection: Projection) -> dict[str, Any]:
        """What the dashboard and the overview row read of a projection now (under its lock)."""
        now = self._now(projection)
        state = projection.state

        def expected(service: str, counter: str) -> tuple[float, float, float]:
            found = projection.service_range(service, counter)
            return (found.p10, found.p50, found.p90)

        return {
            "day": self._today(projection, now),
            "now": now,
            "counters": [c.name for c in self.projections.config_of(state).counters],
            "waiting": [Waiting(t.label, t.service, t.issued_at) for t in state.waiting_tickets()],
            "expected": expected,
        }

    def dashboard(self, branch: str, *, target_minutes: float | None = None, catch_up: bool = True) -> dict[str, Any]:
        """Today's live dashboard of ``branch``."""
        projection = self._projection(branch, catch_up)
        with self.projections.lock(branch):
            inputs = self._live_inputs(projection)
            day = inputs.pop("day")
            view = dashboard(day, **inputs, target_minutes=target_minutes or self.target_minutes)
            view["seq"] = projection.state.seq
            config = self.projections.config_of(projection.state)
        view["branch"] = branch
        view["config"] = names_config(config)
        return view

    def summary(self, branch: str, *, catch_up: bool = True) -> dict[str, Any]:
        """The branch's row of the overview (cheap: plain Python over today's records)."""
        projection = self._projection(branch, catch_up)
        with self.projections.lock(branch):
            inputs = self._live_inputs(projection)
            day = inputs.pop("day")
            row = branch_summary(branch, day, **inputs, target_minutes=self.target_minutes)
            row["seq"] = projection.state.seq
        return row

    def latest_day(self, branch: str) -> date | None:
        """The branch's latest recorded day."""
        activity = self._projection(branch, True).activity
        return activity.today.day if activity is not None and activity.today is not None else None

    def recorded_days(self, branch: str) -> list[str]:
        """Every day the branch's log has, oldest first."""
        activity = self._projection(branch, True).activity
        return [d.isoformat() for d in sorted(activity.days)] if activity is not None else []

    def history(self, branch: str, period: Period, *, target_minutes: float | None = None, filters: Filters | None = None) -> dict[str, Table]:
        """The history and forecast-quality tables of ``period``."""
        projection = self._projection(branch, True)
        with self.projections.lock(branch):
            now = self._now(projection)
            days = projection.activity.in_range(period.start, period.end) if projection.activity is not None else []
            columns = [day_columns(day, now) for day in days]
        filters = filters or Filters()
        tables = history(columns, target_minutes=target_minutes or self.target_minutes, filters=filters)
        tables.update(quality(columns, service=filters.service, counter=filters.counter))
        return tables

    def utc_offsets(self, branch: str, period: Period) -> dict[str, float]:
        """Each recorded day's UTC offset in seconds (for local times of a report's rows)."""
        activity = self._projection(branch, True).activity
        return {d.day.isoformat(): d.utc_offset for d in activity.in_range(period.start, period.end)} if activity is not None else {}

    def story(self, branch: str, day: str, ticket: str) -> dict[str, Any]:
        """One ticket's timeline; 404 if the day or the ticket is not in the log."""
        try:
            wanted = date.fromisoformat(day)
        except ValueError:
            raise invalid(f"'day' must be a date as YYYY-MM-DD, not {day!r}", field="day") from None
        projection = self._projection(branch, True)
        with self.projections.lock(branch):
            activity = projection.activity
            record = activity.days.get(wanted) if activity is not None else None
            story = ticket_story(record, ticket, self._now(projection)) if record is not None else None
        if story is None:
            raise not_found(f"no ticket {ticket!r} on {day} at branch {branch!r}")
        story["config"] = names_config(self.projections.config_of(projection.state))
        return story

    def overview(self, branches: Sequence[str]) -> list[dict[str, Any]]:
        """One row per branch, the ones that need attention first."""
        return sort_by_attention([self.summary(b) for b in branches if self.projections.exists(b)])

    # pushing ----------------------------------------------------------------------------
    def on_push(self, dashboard_push: Push, overview_push: Push) -> None:
        """Also push the dashboard and the overview row of a branch after each board push."""
        self._pushes.append((dashboard_push, overview_push))

    @property
    def pushes(self) -> bool:
        """Whether anyone takes the dashboards and overview rows (a web app does, a command does not)."""
        return bool(self._pushes)

    def claim_push(self, branch: str) -> bool:
        """Whether a push of ``branch``'s dashboard must be scheduled (``False``: one is already
        waiting to be built, and it will show this change too)."""
        with self._pending_lock:
            if branch in self._pending:
                return False
            self._pending.add(branch)
            return True

    def board_pushed(self, branch: str, _board: dict[str, Any]) -> None:
        """A board went out for ``branch`` (after an event or a refresh): so do its dashboard
        and its overview row (the pushing write has just caught up: no second look at the store)."""
        with self._pending_lock:
            self._pending.discard(branch)
        if not self._pushes:
            return
        view = self.dashboard(branch, catch_up=False)
        row = self.summary(branch, catch_up=False)
        for push_dashboard, push_overview in self._pushes:
            push_dashboard(branch, view)
            push_overview(branch, row)
