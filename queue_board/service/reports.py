"""The manager's reports over the branches' projections: the live dashboard, the history of a
date range, the promises kept and broken, one ticket's story and the overview of every branch.

Every figure comes from ``queue_board.reports`` over the activity each projection keeps
(``core.activity``), caught up with the store first, so a page, a push, the API and
``queue-board report`` give the same numbers from any process.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from queue_board.core.activity import DayActivity
from queue_board.core.branch import CounterStatus
from queue_board.core.branch_config import BranchConfig
from queue_board.core.projection import Projection
from queue_board.core.warning_log import WarningLog
from queue_board.reports.columns import day_columns
from queue_board.reports.dashboard import Waiting, branch_summary, dashboard, sort_by_attention
from queue_board.reports.express import DEFAULT_EXPRESS_MINUTES, check_minutes, express_what_if, prediction_shares
from queue_board.reports.history import DEFAULT_TARGET_MINUTES, Filters, history
from queue_board.reports.quality import quality
from queue_board.reports.staffing import Advice, Learned, learn_inputs, plan_as_dict, plan_day
from queue_board.reports.story import ticket_story
from queue_board.reports.tables import Table
from queue_board.reports.warnings import Warning, warnings_panel
from queue_board.reports.what_if import longest_queue, profiles_of, what_if
from queue_board.service.clock import SystemClock
from queue_board.service.errors import invalid, not_found
from queue_board.service.projections import ProjectionRegistry

#: the longest date range one report may cover
MAX_RANGE_DAYS = 366

#: plans (day advice) kept per branch between pushes: the key changes at most every hour
MAX_PLANS = 32

#: a what-if is kept this many seconds of the branch's time while the same counters are open
WHAT_IF_REUSE_SECONDS = 60.0

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


@dataclass(frozen=True, slots=True)
class PeriodReport:
    """Everything a period's report shows: its bounds and target, the tables, the branch's
    recorded days, each day's UTC offset (for local times) and the names to word them."""

    period: Period
    target_minutes: float
    filters: Filters
    tables: dict[str, Table]
    recorded_days: list[str]
    utc_offsets: dict[str, float]
    config: dict[str, Any]


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


#: the what-if of an express counter replays at most this many counters
MAX_WHAT_IF_COUNTERS = 50


def parse_express_minutes(value: str | None) -> tuple[float, ...]:
    """The N of an express analysis from ``3,5,8`` (default :data:`DEFAULT_EXPRESS_MINUTES`); 422 naming ``minutes``."""
    if value is None or not value.strip():
        return DEFAULT_EXPRESS_MINUTES
    try:
        return check_minutes(float(part) for part in value.split(","))
    except ValueError as exc:
        text = str(exc) if "minutes" in str(exc) else f"'minutes' must be numbers of minutes separated by commas, not {value!r}"
        raise invalid(text, field="minutes") from None


def parse_counters(value: str | None) -> int | None:
    """The what-if's number of counters (1 to :data:`MAX_WHAT_IF_COUNTERS`), ``None`` = each day's own; 422 naming ``counters``."""
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        raise invalid(f"'counters' must be a whole number, not {value!r}", field="counters") from None
    if not 1 <= number <= MAX_WHAT_IF_COUNTERS:
        raise invalid(f"'counters' must be from 1 to {MAX_WHAT_IF_COUNTERS}", field="counters")
    return number


def names_config(config: BranchConfig) -> dict[str, Any]:
    """The configuration as pages need it to word a report: services' and pause reasons' names
    in every language, the reasons in effect included (the stored form leaves out the defaults)."""
    return {**config.to_dict(), "pause_reasons": [reason.to_dict() for reason in config.reasons]}


class BranchReports:
    """Reports of the branches of one store."""

    def __init__(
        self,
        projections: ProjectionRegistry,
        clock: SystemClock,
        *,
        target_minutes: float = DEFAULT_TARGET_MINUTES,
        offload: Callable[..., Any] | None = None,
    ) -> None:
        self.projections = projections
        self.clock = clock
        self.target_minutes = target_minutes
        # the what-if's forecasts run where the forecasts' refresh runs: under gevent in an OS
        # thread, so that 50–100 ms of Monte-Carlo never freezes the boards' sockets
        self._offload: Callable[..., Any] = offload if offload is not None else (lambda task, *args: task(*args))
        self._pushes: list[tuple[Push, Push]] = []
        self._watched: list[Callable[[str], bool]] = []
        #: the latest evaluation of a branch's warning rules (set by the branch service)
        self.live_warnings: Callable[[str], list[Warning]] = lambda _branch: []
        #: branches whose dashboard push is scheduled and not yet built: a burst of events
        #: makes one push of the latest state, not one each
        self._pending: set[str] = set()
        #: branches whose dashboard changed while one was being built
        self._dirty: set[str] = set()
        self._pending_lock = threading.Lock()
        #: staffing advice, per branch: the inputs learned from its closed days (keyed by them),
        #: the day plans worked out from them, the what-if of the latest state and its forecasts'
        #: rhythm cache (see :meth:`staffing`)
        self._learned: dict[str, tuple[tuple[date, ...], Learned]] = {}
        self._plans: dict[str, dict[tuple[Any, ...], Advice | None]] = {}
        self._what_ifs: dict[str, tuple[tuple[int, float, tuple[Any, ...]], dict[str, Any]]] = {}
        self._rhythms: dict[str, dict[tuple[Any, ...], Any]] = {}
        #: how often the staffing inputs were learned and a what-if made, per branch (tests read them)
        self.learned_count: dict[str, int] = {}
        self.what_if_count: dict[str, int] = {}

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

    def _warnings(self, branch: str, projection: Projection, now: float) -> dict[str, Any]:
        """The dashboard's early warnings (``reports.warnings.warnings_panel``) from the log's."""
        log = projection.warnings if projection.warnings is not None else WarningLog()
        day = projection.state.day
        records = log.between(day, day) if day is not None else []
        return warnings_panel(records, self.live_warnings(branch), log.on_now(), now)

    def dashboard(self, branch: str, *, target_minutes: float | None = None, catch_up: bool = True) -> dict[str, Any]:
        """Today's live dashboard of ``branch``."""
        projection = self._projection(branch, catch_up)
        with self.projections.lock(branch):
            inputs = self._live_inputs(projection)
            day = inputs.pop("day")
            view = dashboard(day, **inputs, target_minutes=target_minutes or self.target_minutes)
            view["seq"] = projection.state.seq
            view["warnings"] = self._warnings(branch, projection, inputs["now"])
            config = self.projections.config_of(projection.state)
            view["staffing"], pending = self._staffing(branch, projection, target_minutes or self.target_minutes)
        for job in pending:
            self._offload(job)
        view["branch"] = branch
        view["config"] = names_config(config)
        return view

    # staffing advice ----------------------------------------------------------------------
    def staffing(self, branch: str, *, target_minutes: float | None = None, catch_up: bool = True) -> dict[str, Any]:
        """Staffing advice for the rest of today and for tomorrow, and "what if now" (docs/reports.md
        "Staffing advice"): the dashboard's ``staffing``."""
        projection = self._projection(branch, catch_up)
        with self.projections.lock(branch):
            result, pending = self._staffing(branch, projection, target_minutes or self.target_minutes)
        for job in pending:
            self._offload(job)
        return result

    def _learned_inputs(self, branch: str, projection: Projection) -> Learned | None:
        """Arrival rates, handling times and patience of the branch's closed days, learned once
        per set of closed days (a closed day never changes; a new one changes the key)."""
        activity = projection.activity
        if activity is None:
            return None
        closed = [d for d in activity.days.values() if d.closed]
        if not closed:
            return None
        key = tuple(sorted(d.day for d in closed))
        kept = self._learned.get(branch)
        if kept is not None and kept[0] == key:
            return kept[1]
        learned = learn_inputs(closed)
        self._learned[branch] = (key, learned)
        self._plans.pop(branch, None)
        self.learned_count[branch] = self.learned_count.get(branch, 0) + 1
        return learned

    def _plan(
        self, branch: str, learned: Learned, key: tuple[Any, ...], weekday: int, target_s: float, max_counters: int, **options: Any
    ) -> dict[str, Any] | None:
        """A day's advice, kept by what decides it (the learned days, the weekday, the target, the
        counters, the first hour and how many are open): the minute it is shown at only words it."""
        plans = self._plans.setdefault(branch, {})
        from_hour, planned = options.get("from_hour", 0), options.get("planned")
        full = (key, weekday, target_s, max_counters, from_hour, planned)
        if full in plans:
            advice = plans[full]
        else:
            # checked with each counter leaning on the service the advice gives it (then the rest), as
            # the advice words it: "open one more counter for deposits"
            advice = plan_day(
                learned, weekday, target_s, from_hour=from_hour, planned=planned, max_counters=max_counters, layout="leaning"
            )
            if len(plans) >= MAX_PLANS:
                plans.clear()
            plans[full] = advice
        if advice is None:
            return None
        return plan_as_dict(advice, max_counters, learned.patience_s, current_hour=options.get("current_hour"), now_label=options.get("now_label"))

    def _staffing(self, branch: str, projection: Projection, target_minutes: float) -> tuple[dict[str, Any], list[Callable[[], None]]]:
        """The dashboard's ``staffing`` (read under the branch's lock), and the jobs that finish it
        after the lock is released: a plan not made yet (a plan checks its advice on simulated days:
        up to a second, which must not hold the branch's writes) and a new what-if. Cheap after the
        first call of an hour: the learned inputs and the plans are cached (see :meth:`_what_if`)."""
        state = projection.state
        config = self.projections.config_of(state)
        now = self._now(projection)
        today = self._today(projection, now)
        zone = timezone(timedelta(seconds=today.utc_offset)) if today is not None else state.tz or self.clock.now().tzinfo or UTC
        local = datetime.fromtimestamp(now, zone)
        open_now = sum(1 for c in state.counters.values() if c.status is not CounterStatus.CLOSED)
        max_counters = max(len(config.counters), len(state.counters))
        target_s = target_minutes * 60.0
        learned = self._learned_inputs(branch, projection)
        result: dict[str, Any] = {
            "available": learned is not None,
            "days_learned": learned.days if learned is not None else 0,
            "target_minutes": target_minutes,
            "model": "erlang_a" if learned is not None and learned.patience_s is not None else "erlang_c",
            "patience_min": round(learned.patience_s / 60.0, 1) if learned is not None and learned.patience_s is not None else None,
            "max_counters": max_counters,
            "open_now": open_now,
            "now_label": local.strftime("%H:%M"),
            "today": None,
            "tomorrow": None,
        }
        jobs: list[Callable[[], None]] = []
        if learned is not None:
            key = self._learned[branch][0]
            tomorrow = local.date() + timedelta(days=1)
            inputs = learned

            def plan_today() -> None:
                plan = self._plan(
                    branch, inputs, key, local.weekday(), target_s, max_counters,
                    from_hour=local.hour, planned=open_now, current_hour=local.hour, now_label=local.strftime("%H:%M"),
                )
                result["today"] = {"day": local.date().isoformat(), "weekday": local.weekday(), **plan} if plan is not None else None

            def plan_tomorrow() -> None:
                plan = self._plan(branch, inputs, key, tomorrow.weekday(), target_s, max_counters)
                result["tomorrow"] = {"day": tomorrow.isoformat(), "weekday": tomorrow.weekday(), **plan} if plan is not None else None

            jobs += [plan_today, plan_tomorrow]
        kept, pending = self._what_if(branch, projection, config)
        if kept is not None:
            result["what_if"] = kept
        elif pending is not None:
            make = pending

            def what_if() -> None:
                result["what_if"] = make()

            jobs.append(what_if)
        return result, jobs

    def _what_if(self, branch: str, projection: Projection, config: BranchConfig) -> tuple[dict[str, Any] | None, Callable[[], dict[str, Any]] | None]:
        """One more counter and one fewer now (``queue_board.reports.what_if``): (the kept one, or
        the job that makes a new one). Three Monte-Carlo forecasts are the dearest part of the
        dashboard, so they run after the branch's lock is released, on copies (as the boards'
        refresh does), and one is kept for :data:`WHAT_IF_REUSE_SECONDS` of the branch's time
        while the same counters stay open (a burst of tickets and calls makes one, not one each)."""
        state = projection.state
        # the counters open and the services people wait for, the longest queue's first (the
        # hypotheses are chosen by them): a what-if made while nobody, or nobody a closed counter
        # serves, waited must not be shown once someone does. One more customer in a queue that
        # was there already only moves the figures, which may be a minute old
        signature = (
            id(projection),
            state.day,
            tuple(sorted((c.name, c.services) for c in state.counters.values() if c.status is not CounterStatus.CLOSED)),
            longest_queue(state),
            tuple(sorted(service for service, queue in state.queues.items() if queue)),
        )
        kept = self._what_ifs.get(branch)
        if kept is not None:
            (seq, made_at, kept_signature), result = kept
            if kept_signature == signature and (seq == state.seq or 0 <= state.now - made_at < WHAT_IF_REUSE_SECONDS):
                return result, None
        key = (state.seq, state.now, signature)
        snapshot = state.copy_for_forecast()
        model = projection.model.copy_for_forecast()
        forecaster = projection.forecaster
        profiles = profiles_of(config.counters)
        rhythm = self._rhythms.setdefault(branch, {})

        def make() -> dict[str, Any]:
            made = what_if(snapshot, model, forecaster, profiles, rhythm_cache=rhythm).as_dict()
            made["at"] = snapshot.now
            self._what_ifs[branch] = (key, made)
            self.what_if_count[branch] = self.what_if_count.get(branch, 0) + 1
            return made

        return None, make

    def summary(self, branch: str, *, catch_up: bool = True) -> dict[str, Any]:
        """The branch's row of the overview (cheap: plain Python over today's records)."""
        projection = self._projection(branch, catch_up)
        with self.projections.lock(branch):
            inputs = self._live_inputs(projection)
            day = inputs.pop("day")
            log = projection.warnings if projection.warnings is not None else WarningLog()
            on = log.on_now()
            row = branch_summary(
                branch,
                day,
                **inputs,
                target_minutes=self.target_minutes,
                warnings_on=[r.severity for r in on],
                unacknowledged_alerts=sum(1 for r in on if r.severity == "alert" and r.acknowledged_at is None),
            )
            row["seq"] = projection.state.seq
        return row

    def latest_day(self, branch: str) -> date | None:
        """The branch's latest recorded day."""
        activity = self._projection(branch, True).activity
        return activity.today.day if activity is not None and activity.today is not None else None

    def history(self, branch: str, period: Period, *, target_minutes: float | None = None, filters: Filters | None = None) -> dict[str, Table]:
        """The history and forecast-quality tables of ``period``."""
        return self._tables(self._projection(branch, True), branch, period, target_minutes or self.target_minutes, filters or Filters())

    def period_report(
        self, branch: str, start: str | None, end: str | None, *, target: str | None = None, filters: Filters | None = None
    ) -> PeriodReport:
        """A period's report as the pages, the API and the CLI ask for it: bounds and target as
        given (checked, 422 naming the field), the tables, the recorded days and their offsets,
        the names — all from one look at the store."""
        projection = self._projection(branch, True)
        activity = projection.activity
        period = parse_period(start, end, latest=activity.today.day if activity is not None and activity.today is not None else None)
        minutes = parse_target(target, self.target_minutes)
        filters = filters or Filters()
        tables = self._tables(projection, branch, period, minutes, filters)
        with self.projections.lock(branch):
            days = activity.in_range(period.start, period.end) if activity is not None else []
            return PeriodReport(
                period=period,
                target_minutes=minutes,
                filters=filters,
                tables=tables,
                recorded_days=[d.isoformat() for d in sorted(activity.days)] if activity is not None else [],
                utc_offsets={d.day.isoformat(): d.utc_offset for d in days},
                config=names_config(self.projections.config_of(projection.state)),
            )

    def _tables(self, projection: Projection, branch: str, period: Period, target_minutes: float, filters: Filters) -> dict[str, Table]:
        with self.projections.lock(branch):
            now = self._now(projection)
            days = projection.activity.in_range(period.start, period.end) if projection.activity is not None else []
            columns = [day_columns(day, now) for day in days]
        tables = history(columns, target_minutes=target_minutes, filters=filters)
        tables.update(quality(columns, service=filters.service, counter=filters.counter))
        return tables

    def express(
        self, branch: str, start: str | None, end: str | None, *, minutes: str | None = None, counters: str | None = None
    ) -> tuple[Period, dict[str, Table]]:
        """The express-counter analysis of a period (docs/express-counter.md): the share of
        tickets predicted under each N by service, and the what-if of one counter "express ≤ N
        min". ``minutes`` is a comma-separated list of N (default 3,5,8), ``counters`` the
        what-if's counters (default: each day's counters that served); 422 naming the field."""
        chosen = parse_express_minutes(minutes)
        size = parse_counters(counters)
        projection = self._projection(branch, True)
        activity = projection.activity
        with self.projections.lock(branch):
            latest = activity.today.day if activity is not None and activity.today is not None else None
            period = parse_period(start, end, latest=latest)
            found = activity.in_range(period.start, period.end) if activity is not None else []
            # a day still open changes under the lock's next holder: read a copy of it
            days = [day if day.closed else copy.deepcopy(day) for day in found]
        return period, {
            "express_shares": prediction_shares(days, chosen),
            "express_what_if": express_what_if(days, chosen, counters=size),
        }

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
    def on_push(self, dashboard_push: Push, overview_push: Push, watched: Callable[[str], bool] | None = None) -> None:
        """Also push the dashboard and the overview row of a branch after each board push, while
        ``watched(branch)`` says someone may be looking (``None``: always). A manager who opens a
        dashboard is sent one built then, so nothing is missed by not building it meanwhile."""
        self._pushes.append((dashboard_push, overview_push))
        if watched is not None:
            self._watched.append(watched)

    def wants_push(self, branch: str) -> bool:
        """Whether ``branch``'s dashboard and overview row must be built after a board push: a
        web app takes them (a command does not), and someone may be watching."""
        return bool(self._pushes) and (not self._watched or any(watched(branch) for watched in self._watched))

    def claim_push(self, branch: str) -> bool:
        """Whether a push of ``branch``'s dashboard must be scheduled (``False``: one is waiting to
        be built or being built; it, or the one it builds next, will show this change too)."""
        with self._pending_lock:
            if branch in self._pending:
                # being built: build once more when it is done (a change may have come after its read)
                self._dirty.add(branch)
                return False
            self._pending.add(branch)
            return True

    def board_pushed(self, branch: str, _board: dict[str, Any]) -> None:
        """A board went out for ``branch`` (after an event or a refresh): so do its dashboard
        and its overview row (the pushing write has just caught up: no second look at the store).

        One build per branch at a time: a staffing plan may take a second, and a burst of events
        that each started a build of its own would have every one of them make the same plan at
        once (seen as kiosk requests waiting 10 s for the CPU). Changes that arrive meanwhile are
        shown by one more build when it ends."""
        try:
            while True:
                with self._pending_lock:
                    self._dirty.discard(branch)
                if self._pushes:
                    view = self.dashboard(branch, catch_up=False)
                    row = self.summary(branch, catch_up=False)
                    for push_dashboard, push_overview in self._pushes:
                        push_dashboard(branch, view)
                        push_overview(branch, row)
                with self._pending_lock:
                    if branch not in self._dirty:
                        self._pending.discard(branch)
                        return
        except BaseException:
            with self._pending_lock:
                self._pending.discard(branch)
                self._dirty.discard(branch)
            raise
