"""Forecast refreshes: after a write, off the request path, coalesced per branch.

A refresh copies the branch's state and model under its lock, runs the Monte-Carlo forecast
where it cannot stall the event loop, and keeps the result with the seq it was made at. The
copy carries the calibration's corrections as they were at that seq, so the result depends on
the log up to it and on nothing that happened while it ran.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from queue_board.core.branch import BranchState
from queue_board.forecast.durations import BranchModel
from queue_board.forecast.monte_carlo import Forecast, calibrate, forecast
from queue_board.service.projections import ProjectionRegistry

log = logging.getLogger(__name__)


class ForecastRefresher:
    """The latest forecast of each branch, and the background work that keeps it fresh."""

    def __init__(
        self,
        projections: ProjectionRegistry,
        *,
        scenarios: int,
        start_task: Callable[..., Any],
        offload: Callable[..., Any],
        on_refreshed: Callable[[str], None],
        on_failed: Callable[[str], None] | None = None,
        on_timing: Callable[[str, float], None] | None = None,
    ) -> None:
        self.projections = projections
        #: told ``(branch, seconds)`` after each refresh (the web layer's metrics)
        self.on_timing = on_timing
        self.scenarios = scenarios
        self.start_task = start_task
        self.offload = offload
        self.on_refreshed = on_refreshed
        self.on_failed = on_failed
        self._latest: dict[str, tuple[int, Forecast]] = {}
        self._guard = threading.Lock()
        self._running: set[str] = set()
        self._dirty: set[str] = set()

    def latest(self, branch: str) -> Forecast | None:
        """The newest forecast made for ``branch`` (it may be older than the state)."""
        kept = self._latest.get(branch)
        return kept[1] if kept is not None else None

    def pending(self, branch: str) -> bool:
        """Whether another refresh of ``branch`` is due after the one running (a write came meanwhile)."""
        with self._guard:
            return branch in self._dirty

    def made_at(self, branch: str) -> int:
        """The seq the latest forecast of ``branch`` was made at (0: none yet)."""
        kept = self._latest.get(branch)
        return kept[0] if kept is not None else 0

    def refresh_if_stale(self, branch: str) -> None:
        """Schedule a refresh if the latest forecast is older than the state this process holds
        (no look at the store: a caller that wants another process's writes catches up first)."""
        projection = self.projections.current(branch)
        kept = self._latest.get(branch)
        if kept is None or kept[0] < projection.state.seq:
            self.schedule(branch)

    def schedule(self, branch: str) -> None:
        """Ask for a refresh; refreshes of one branch coalesce, never pile up."""
        with self._guard:
            if branch in self._running:
                self._dirty.add(branch)
                return
            self._running.add(branch)
        self.start_task(self._loop, branch)

    def _loop(self, branch: str) -> None:
        try:
            while True:
                self.refresh(branch)
                with self._guard:
                    if branch in self._dirty:
                        self._dirty.discard(branch)
                        continue
                    self._running.discard(branch)
                    return
        except Exception:
            with self._guard:
                self._running.discard(branch)
                self._dirty.discard(branch)
            log.exception("forecast refresh of branch %s failed", branch)
            if self.on_failed is not None:
                self.on_failed(branch)

    def refresh(self, branch: str) -> Forecast:
        """Recompute the branch's forecast now (off the lock), keep it, and tell ``on_refreshed``."""
        started = time.perf_counter()
        # no look at the store: a refresh follows a write (which caught up) or a read (likewise)
        projection = self.projections.current(branch)
        with self.projections.lock(branch):
            state = projection.state.copy_for_forecast()
            model = projection.model.copy_for_forecast()
            services = [s.code for s in self.projections.config_of(state).services]
            rng = projection.forecaster.rng_for(state)
        # the CPU-heavy part runs where it cannot stall the event loop (see web.live.offload)
        result: Forecast = self.offload(_calibrated_forecast, state, model, rng, self.scenarios, services)
        with self._guard:
            kept = self._latest.get(branch)
            if kept is None or kept[0] <= state.seq:
                self._latest[branch] = (state.seq, result)
        if self.on_timing is not None:
            # the refresh itself, not the pushes that follow it
            self.on_timing(branch, time.perf_counter() - started)
        self.on_refreshed(branch)
        return result


def _calibrated_forecast(
    state: BranchState, model: BranchModel, rng: np.random.Generator, scenarios: int, services: list[str]
) -> Forecast:
    return calibrate(forecast(state, model, rng, scenarios, services), model.calibrator, state)
