"""Each branch's projection, kept as far as the event store: the one place the shell reads the log.

A projection is rebuilt from the log on first use and caught up before every write and every
board sent, so several processes sharing one database (and a restart) see the same state,
configuration included (it is an event of the log).
"""

from __future__ import annotations

import threading
from typing import Any

from queue_board.core.activity import ActivityLog
from queue_board.core.branch import BranchState
from queue_board.core.branch_config import BranchConfig
from queue_board.core.feedback import FeedbackLog
from queue_board.core.projection import Projection
from queue_board.core.warning_log import WarningLog
from queue_board.forecast.durations import Priors
from queue_board.store.event_store import EventStore


class ProjectionRegistry:
    """The projections of every branch of one store, and the locks that serialise their writes."""

    def __init__(self, store: EventStore, *, priors: Priors, scenarios: int, default_config: BranchConfig) -> None:
        self.store = store
        self.priors = priors
        self.scenarios = scenarios
        self.default_config = default_config
        self._projections: dict[str, Projection] = {}
        self._locks: dict[str, threading.RLock] = {}
        self._registry_lock = threading.Lock()
        self._known_branches: set[str] = set()

    def lock(self, branch: str) -> threading.RLock:
        """The in-process lock serialising writes to ``branch``."""
        with self._registry_lock:
            return self._locks.setdefault(branch, threading.RLock())

    def get(self, branch: str) -> Projection:
        """The branch's projection, rebuilt from the log on first use and caught up with it."""
        with self.lock(branch):
            projection = self.current(branch)
            self.catch_up(branch, projection)
            return projection

    def current(self, branch: str) -> Projection:
        """The branch's projection as this process last moved it (no look at the store)."""
        with self.lock(branch):
            projection = self._projections.get(branch)
            if projection is None:
                projection = self._projections[branch] = Projection(
                    priors=self.priors,
                    scenarios=self.scenarios,
                    activity=ActivityLog(),
                    feedback=FeedbackLog(),
                    warnings=WarningLog(),
                )
            return projection

    def catch_up(self, branch: str, projection: Projection, conn: Any = None) -> None:
        """Submit what the store has after the projection's seq (another process's writes)."""
        for stored in self.store.load(branch, after_seq=projection.state.seq, conn=conn):
            rejection = projection.submit(stored.event)
            if rejection is not None or projection.state.seq != stored.seq:
                # the log is the source of truth; a stored event the core rejects is a bug to surface
                raise RuntimeError(f"stored event {branch}#{stored.seq} does not replay: {rejection}")

    def loaded(self) -> list[str]:
        """The branches whose projections this process holds."""
        with self._registry_lock:
            return sorted(self._projections)

    def drop(self, branch: str) -> None:
        """Forget a projection that moved past the log (a write that did not commit); the next
        use rebuilds it from the log."""
        with self.lock(branch):
            self._projections.pop(branch, None)

    def exists(self, branch: str) -> bool:
        """Whether the branch has a row (configuration, tokens or events); branches are never deleted."""
        if branch in self._known_branches:
            return True
        if branch in self.store.branch_ids():
            self._known_branches.add(branch)
            return True
        return False

    def config(self, branch: str) -> BranchConfig:
        """The branch's configuration: the latest ``branch_configured`` of its log (as far as the
        store has it, whichever process wrote it), else the server's default."""
        return self.config_of(self.get(branch).state)

    def config_of(self, state: BranchState) -> BranchConfig:
        """The configuration a state implies (the server's default where its log has none)."""
        return state.config if state.config is not None else self.default_config
