"""Boards: the view every screen renders, built from a branch's projection, configuration and
latest forecast, and handed to whoever pushes it (the web layer's Socket.IO, ticket pages)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from queue_board.core.board_view import board_view
from queue_board.core.events import Event, event_to_dict
from queue_board.service.clock import SystemClock
from queue_board.service.projections import ProjectionRegistry
from queue_board.service.refresh import ForecastRefresher

Publisher = Callable[[str, dict[str, Any]], None]


class BoardPublisher:
    """Builds board views and pushes one after every change."""

    def __init__(
        self, projections: ProjectionRegistry, forecasts: ForecastRefresher, clock: SystemClock, publish: Publisher | None
    ) -> None:
        self.projections = projections
        self.forecasts = forecasts
        self.clock = clock
        self.publish = publish
        self._listeners: list[Publisher] = []
        #: told ``(branch, seconds)`` after each push: building the view and handing it to ``publish``
        self.on_timing: Callable[[str, float], None] | None = None

    def board(self, branch: str, *, catch_up: bool = True) -> dict[str, Any]:
        """The board state of ``branch``; caught up first with what other processes (or the
        command line) wrote, unless the caller just did."""
        projection = self.projections.get(branch) if catch_up else self.projections.current(branch)
        with self.projections.lock(branch):
            state = projection.state
            return board_view(
                state,
                self.projections.config_of(state),
                self.forecasts.latest(branch),
                branch=branch,
                now=max(state.now, self.clock.now().timestamp()) if state.seq else None,
                model=projection.model,
            )

    def subscribe(self, listener: Publisher) -> None:
        """Also call ``listener(branch, board)`` after every push (e.g. to nudge ticket pages)."""
        self._listeners.append(listener)

    def push(self, branch: str, event: Event | None) -> None:
        """Send the board after ``event`` (``None``: a refreshed forecast or an import)."""
        if self.publish is None and not self._listeners:
            return
        started = time.perf_counter()
        # the write that pushes has just caught up: no second look at the store
        payload = self.board(branch, catch_up=False)
        payload["event"] = event_to_dict(event) if event is not None else None
        if self.publish is not None:
            self.publish(branch, payload)
        if self.on_timing is not None:
            # before the listeners: they start the managers' views, which are not the boards' push
            self.on_timing(branch, time.perf_counter() - started)
        for listener in self._listeners:
            listener(branch, payload)
