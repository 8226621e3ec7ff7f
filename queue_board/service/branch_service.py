"""The shell's one entry point for the web layer and the command line.

:class:`BranchService` wires its parts, each in a module of its own, and lends the web layer
their public methods:

- :class:`~queue_board.service.projections.ProjectionRegistry`: each branch's projection,
  caught up with the event store (configuration included);
- :class:`~queue_board.service.commands.BranchCommands`: every write, one event at a time;
- :class:`~queue_board.service.refresh.ForecastRefresher`: forecasts, off the request path;
- :class:`~queue_board.service.boards.BoardPublisher`: board views and their pushes;
- :class:`~queue_board.service.reports.BranchReports`: the manager's dashboard, history and
  overview (pushed after every board);
- :class:`~queue_board.service.sister_priors.SisterPriors`: a new branch's prior from its
  sister branches, pinned in its log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from queue_board.core.branch_config import BranchConfig
from queue_board.core.events import QUIET_TYPES, Event, event_to_dict, event_to_json
from queue_board.core.projection import Projection
from queue_board.forecast.durations import Priors
from queue_board.service.boards import BoardPublisher, Publisher
from queue_board.service.clock import SystemClock
from queue_board.service.commands import Accepted, BranchCommands
from queue_board.service.errors import ProblemError
from queue_board.service.feedback import BranchFeedback
from queue_board.service.projections import ProjectionRegistry
from queue_board.service.refresh import ForecastRefresher
from queue_board.service.reports import BranchReports
from queue_board.service.sister_priors import SisterPriors
from queue_board.service.warnings import BranchWarnings
from queue_board.store.event_store import EventStore

#: how long a change may wait for a newer forecast before it is pushed with an older one (a
#: burst of writes keeps the refresher busy; its boards still move at least this often)
MAX_PUSH_DELAY_SECONDS = 0.2


def _direct(task: Callable[..., Any], *args: Any) -> Any:
    return task(*args)


class BranchService:
    """The branches of one event store: their projections, writes, forecasts and boards."""

    def __init__(
        self,
        store: EventStore,
        *,
        clock: SystemClock | None = None,
        priors: Priors | None = None,
        scenarios: int = 128,
        default_config: BranchConfig | None = None,
        target_minutes: float = 10.0,
        warnings_enabled: bool = False,
        warning_sweep_seconds: float = 30.0,
        sister_priors: bool = False,
        publish: Publisher | None = None,
        start_task: Callable[..., Any] = _direct,
        offload: Callable[..., Any] = _direct,
    ) -> None:
        self.store = store
        self.clock = clock or SystemClock()
        self.projections = ProjectionRegistry(
            store, priors=priors or Priors(), scenarios=scenarios, default_config=default_config or BranchConfig()
        )
        self.forecasts = ForecastRefresher(
            self.projections,
            scenarios=scenarios,
            start_task=start_task,
            offload=offload,
            on_refreshed=self._refreshed,
            # the boards must not wait for a forecast that failed: they get the state without it
            on_failed=self._refresh_failed,
        )
        self.boards = BoardPublisher(self.projections, self.forecasts, self.clock, publish)
        self.reports = BranchReports(self.projections, self.clock, target_minutes=target_minutes, offload=offload)
        self._start_task = start_task
        self._write_listeners: list[Callable[[str, Event | None], None]] = []
        self.boards.subscribe(self._push_reports)
        self.commands = BranchCommands(self.projections, clock=self.clock, offload=offload, after_write=self._written)
        #: the complaint and praise log (events of the branch's log, through ``commands``)
        self.feedback = BranchFeedback(self.projections, self.commands, self.clock)
        #: early warnings and re-promises (events of the branch's log, through ``commands``)
        self.warnings = BranchWarnings(
            self.projections, self.commands, self.forecasts, self.clock,
            target_minutes=target_minutes, enabled=warnings_enabled, sweep_seconds=warning_sweep_seconds,
        )
        self.reports.live_warnings = self.warnings.latest
        #: bank-wide priors pinned in a new branch's log (events of its log, through ``commands``)
        self.sister_priors = SisterPriors(self.projections, self.commands)
        self.adopts_sister_priors = sister_priors
        # what the web layer calls, by the part that does it
        self.lock = self.projections.lock
        self.projection = self.projections.get
        self.branch_exists = self.projections.exists
        self.config = self.projections.config
        self.submit = self.commands.submit
        self.counter_action = self.commands.counter_action
        self.issue_ticket = self.commands.issue_ticket
        self.import_log = self.commands.import_log
        self.adopt_bank_prior = self.sister_priors.adopt
        self.refresh = self.forecasts.refresh
        self.refresh_if_stale = self.forecasts.refresh_if_stale
        self.schedule_refresh = self.forecasts.schedule
        self.subscribe = self.boards.subscribe
        self.snapshot_without_refresh = self.boards.connect_snapshot

    def _push_reports(self, branch: str, board: dict[str, Any]) -> None:
        # the managers' views follow the boards in a task of their own (a busy day's dashboard
        # takes ~10 ms): the write answers and its boards go out without waiting for them. Not
        # in the OS-thread pool the forecasts use: it reads the projection under the branch's
        # lock, which under gevent is a greenlet lock that a foreign thread must not take
        if self.reports.wants_push(branch) and self.reports.claim_push(branch):
            self._start_task(self.reports.board_pushed, branch, board)

    def on_written(self, listener: Callable[[str, Event | None], None]) -> None:
        """Also call ``listener(branch, event)`` after every committed write (``None``: an import)."""
        self._write_listeners.append(listener)

    def _written(self, branch: str, event: Event | None) -> None:
        for listener in self._write_listeners:
            listener(branch, event)
        if event is not None and event.type in QUIET_TYPES:
            # a complaint or a warning changes no board and no forecast: only the managers' views
            if self.reports.wants_push(branch) and self.reports.claim_push(branch):
                self._start_task(self.reports.board_pushed, branch, {})
            return
        # one push per change, after the forecast: boards get the new state and its forecast
        # together (two pushes an event, the second with the forecast, doubled every socket's
        # writes: issue 12's fan-out). Events accepted while a refresh runs ride its next push
        self.boards.hold(branch, event)
        self.forecasts.schedule(branch)

    def _refreshed(self, branch: str) -> None:
        behind = self.forecasts.made_at(branch) < self.projections.current(branch).state.seq
        if behind and self.forecasts.pending(branch) and self.boards.held_for(branch) < MAX_PUSH_DELAY_SECONDS:
            # writes came while this forecast ran, and the refresh that covers them is next: its
            # push carries them with their forecast, instead of two pushes for one seq
            return
        self.boards.push(branch)
        # a new forecast may put a promise at risk (or out of it): judged in a task of its own,
        # after the boards went out
        if self.warnings.enabled:
            self._start_task(self.warnings.after_refresh, branch)

    def _refresh_failed(self, branch: str) -> None:
        self.boards.push(branch)

    def set_config(self, branch: str, raw: Any, *, actor: str | None = None) -> BranchConfig:
        """:meth:`BranchCommands.set_config`; with ``sister_priors`` on, a branch configured for
        the first time then pins the prior its sister branches teach (none if they have learned
        nothing yet, or there are none: it starts from the fixed priors)."""
        first = not self.projections.exists(branch) or self.projections.get(branch).state.seq == 0
        parsed = self.commands.set_config(branch, raw, actor=actor)
        if first and self.adopts_sister_priors and self.sister_priors.sisters_of(branch):
            try:
                self.sister_priors.adopt(branch, actor="server:sister-priors")
            except ProblemError as exc:
                if exc.status != 409:
                    raise
        return parsed

    def snapshot(self, branch: str) -> dict[str, Any]:
        """The full board state of ``branch``; a stale forecast is refreshed first (in the
        background when the server runs one, so the view may carry the previous forecast)."""
        self.projections.get(branch)  # caught up with what other processes wrote
        self.forecasts.refresh_if_stale(branch)
        return self.boards.board(branch, catch_up=False)

    def export_lines(self, branch: str) -> Iterator[str]:
        """The branch's log as JSON Lines, the spec's format (with the server's extensions)."""
        for stored in self.store.load(branch):
            yield event_to_json(stored.event) + "\n"

    def events_page(self, branch: str, after: int, limit: int) -> list[dict[str, Any]]:
        """Stored events after ``after``, with their sequence numbers and actors."""
        return [
            {"seq": s.seq, "actor": s.actor, "event": event_to_dict(s.event)}
            for s in self.store.load(branch, after_seq=after, limit=limit)
        ]


__all__ = ["Accepted", "BranchService", "ProblemError", "Projection", "Publisher"]
