"""Early warnings and re-promises, kept in the log: evaluate the rules, record what changed.

After each forecast refresh, and every ``sweep_seconds`` for branches with anything going on (a
counter idle for three minutes raises a warning with no event to prompt it), :meth:`check`
evaluates ``queue_board.reports.warnings`` and ``queue_board.reports.repromise`` over the
projection and the latest forecast, and submits the events that bring the log in line:
``warning_cleared`` / ``warning_raised`` and ``ticket_repromised``. Two processes that check
the same branch at once cannot record a warning twice: the second event is rejected by the
state (``warning … is already on``) after its write caught up, and is dropped here.
Framework-free; the web layer starts :meth:`sweep_forever` as a background task.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from queue_board.core.activity import ActivityLog, DayActivity
from queue_board.core.branch import CounterStatus
from queue_board.core.feedback import FeedbackLog
from queue_board.core.warning_log import WarningLog
from queue_board.core.warning_thresholds import WarningThresholds
from queue_board.reports.repromise import repromises_due
from queue_board.reports.warnings import (
    FORECAST_KINDS,
    Norm,
    Warning,
    evaluate,
    feedback_overdue_warnings,
    learn_norms,
    plan_warning_events,
    thresholds_for,
)
from queue_board.service.clock import SystemClock
from queue_board.service.commands import Accepted, BranchCommands
from queue_board.service.errors import ProblemError, not_found
from queue_board.service.projections import ProjectionRegistry
from queue_board.service.refresh import ForecastRefresher

log = logging.getLogger(__name__)

#: earlier days whose transactions give each teller's norm for the drift rule (its window is the
#: latest 200 of a counter and service: a fortnight holds them for any busy counter)
NORM_DAYS = 14
#: the actor the store records for the server's own decisions
SERVER_ACTOR = "queue-board"
#: a transaction "runs long" (a reason for a re-promise) past this many times its learned p90
RUNNING_LONG_FACTOR = 1.5


class BranchWarnings:
    """The warnings and re-promises of the branches of one store."""

    def __init__(
        self,
        projections: ProjectionRegistry,
        commands: BranchCommands,
        forecasts: ForecastRefresher,
        clock: SystemClock,
        *,
        target_minutes: float,
        enabled: bool = True,
        sweep_seconds: float = 30.0,
    ) -> None:
        self.projections = projections
        self.commands = commands
        self.forecasts = forecasts
        self.clock = clock
        self.target_minutes = target_minutes
        #: ``False``: nothing is judged or recorded (a deployment that wants none)
        self.enabled = enabled
        self.sweep_seconds = sweep_seconds
        #: the latest evaluation of each branch (the dashboard's live severity and figures)
        self._latest: dict[str, list[Warning]] = {}
        self._kept_norms: dict[str, tuple[tuple[Any, ...], dict[tuple[str, str], Norm]]] = {}

    def latest(self, branch: str) -> list[Warning]:
        """What the latest evaluation of ``branch`` found (in this process)."""
        return list(self._latest.get(branch, ()))

    # deciding -----------------------------------------------------------------------------
    def planned(self, branch: str, *, catch_up: bool = True) -> list[dict[str, Any]]:
        """The events :meth:`check` would submit now (changes nothing); judged on the state as far
        as the store has it, or without ``catch_up`` as this process holds it."""
        projection = self.projections.get(branch) if catch_up else self.projections.current(branch)
        with self.projections.lock(branch):
            state = projection.state
            activity = projection.activity
            now = max(state.now, self.clock.now().timestamp())
            today = activity.today if activity is not None and activity.today is not None and activity.today.day == state.day else None
            config = self.projections.config_of(state)
            limits = thresholds_for(config, self.target_minutes)
            history, norms = self._norms(branch, state.day, activity, limits)
            forecast = self.forecasts.latest(branch)
            if forecast is not None and forecast.at < state.now - 600:
                forecast = None  # older than the state by ten minutes: it speaks for another moment
            feedback = projection.feedback if projection.feedback is not None else FeedbackLog()
            overdue = [item for item in feedback.items.values() if item.overdue(now)]
            zone = state.tz or self.clock.now().tzinfo
            live = state.day is not None and datetime.fromtimestamp(now, zone).date() == state.day
            if live:
                found = evaluate(
                    state, today, forecast, now,
                    config=config, history=history, thresholds=limits, overdue_feedback=overdue, norms=norms,
                )
            else:
                # the branch's last day is not today (an imported log, a day the branch did not
                # open): nothing of that day is live any more; a late complaint still is
                found = feedback_overdue_warnings(overdue, now)
                forecast = None
            self._latest[branch] = found
            warnings = projection.warnings if projection.warnings is not None else WarningLog()
            unjudged = FORECAST_KINDS if forecast is None and live else frozenset()
            events: list[dict[str, Any]] = list(plan_warning_events(warnings.on_now(), found, state, today, unjudged=unjudged))
            if forecast is not None:
                running_long = []
                for counter in state.counters.values():
                    ticket = state.tickets.get(counter.ticket or "")
                    if counter.status is CounterStatus.SERVING and ticket is not None and ticket.started_at is not None:
                        usual = projection.service_range(ticket.service, counter.name).p90
                        if now - ticket.started_at > RUNNING_LONG_FACTOR * usual:
                            running_long.append(counter.name)
                events += repromises_due(state, today, forecast, now, running_long=running_long)
        return events

    def _norms(
        self, branch: str, day: date | None, activity: ActivityLog | None, limits: WarningThresholds
    ) -> tuple[list[DayActivity], dict[tuple[str, str], Norm]]:
        """The drift rule's past days and norms, learned once per branch, day and thresholds (the
        past days do not change during a day; learning them is the dearest part of a check)."""
        if activity is None or day is None:
            return [], {}
        first = day - timedelta(days=NORM_DAYS)
        history = [d for past, d in sorted(activity.days.items()) if first <= past < day]
        key = (day, len(history), limits)
        kept = self._kept_norms.get(branch)
        if kept is None or kept[0] != key:
            kept = self._kept_norms[branch] = (key, learn_norms(history, limits))
        return history, kept[1]

    def check(self, branch: str, *, catch_up: bool = True) -> int:
        """Evaluate ``branch`` now and record what changed; how many events were recorded."""
        recorded = 0
        for fields in self.planned(branch, catch_up=catch_up):
            try:
                self.commands.submit(branch, fields, actor=SERVER_ACTOR)
                recorded += 1
            except ProblemError as problem:
                # another process recorded the same change first, or the state moved on since the
                # evaluation (the ticket was called): the next check judges the new state
                log.debug("warning event for %s dropped: %s", branch, problem)
        return recorded

    def after_refresh(self, branch: str) -> None:
        """:meth:`check` after a forecast, logging instead of raising (a background task). It
        judges the state that forecast was made from, which this process holds: no look at the
        store (a second read per write); the sweep
        and the writes it makes catch up."""
        try:
            self.check(branch, catch_up=False)
        except Exception:
            log.exception("warning check of branch %s failed", branch)

    def sweep_once(self) -> int:
        """Check every branch this process holds that has something going on; events recorded."""
        recorded = 0
        for branch in self.projections.loaded():
            projection = self.projections.current(branch)
            state = projection.state
            busy = state.waiting_count() or any(c.status is not CounterStatus.CLOSED for c in state.counters.values())
            on = projection.warnings is not None and projection.warnings.current
            if busy or on or state.feedback:
                try:
                    recorded += self.check(branch)
                except Exception:
                    log.exception("warning sweep of branch %s failed", branch)
        return recorded

    def sweep_forever(self, sleep: Callable[[float], Any] = time.sleep) -> None:
        """Sweep every ``sweep_seconds`` (a background task of the web server)."""
        while True:
            sleep(self.sweep_seconds)
            self.sweep_once()

    # the manager's side -------------------------------------------------------------------
    def acknowledge(self, branch: str, key: str, *, by: str | None, note: str | None = None, **meta: Any) -> Accepted:
        """A manager has seen warning ``key`` (and perhaps says what they did): recorded once."""
        if not self.projections.exists(branch):
            raise not_found(f"no branch {branch!r}")
        fields: dict[str, Any] = {"type": "warning_acknowledged", "key": key}
        if by is not None:
            fields["by"] = by
        if note is not None:
            fields["note"] = note
        return self.commands.submit(branch, fields, **meta)

    def listing(self, branch: str) -> dict[str, Any]:
        """The warnings on now and every warning of the branch's current day, with how each ended."""
        if not self.projections.exists(branch):
            raise not_found(f"no branch {branch!r}")
        projection = self.projections.get(branch)
        with self.projections.lock(branch):
            warnings = projection.warnings if projection.warnings is not None else WarningLog()
            day = projection.state.day
            today = warnings.between(day, day) if day is not None else []
            return {
                "branch": branch,
                "day": day.isoformat() if day is not None else None,
                "on": [r.as_dict() for r in warnings.on_now()],
                "today": [r.as_dict() for r in today],
            }
