"""Boards: the view every screen renders, built from a branch's projection, configuration and
latest forecast, and handed to whoever pushes it (the web layer's Socket.IO, ticket pages).

A write holds its event (:meth:`BoardPublisher.hold`) and asks for a forecast; the board is
pushed once that forecast is made (:meth:`BoardPublisher.push`), with the newest event held. So
each change reaches every screen in one push that carries the forecast too, and a burst of
events during one refresh reaches them in one push.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from queue_board.core.board_view import board_view
from queue_board.core.events import Event, event_to_dict
from queue_board.forecast.monte_carlo import Forecast
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
        #: per branch, the last connect snapshot and what it was built at: (seq, forecast, second)
        self._snapshots: dict[str, tuple[int, Forecast | None, int, dict[str, Any]]] = {}
        #: per branch, the newest event accepted since its last push, and since when one is held
        self._held: dict[str, tuple[Event | None, float]] = {}
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

    def connect_snapshot(self, branch: str) -> dict[str, Any]:
        """The board a screen gets when it connects: :meth:`board`, built once for all the screens
        that connect within the same second of the server's clock at the same seq and forecast
        (after a restart a branch's screens all reconnect at once, and a thousand boards took
        4.4 s to connect). Its ``now`` and aged ranges are then under a second old; the next push
        is built afresh."""
        projection = self.projections.get(branch)
        seq, forecast, second = projection.state.seq, self.forecasts.latest(branch), int(self.clock.now().timestamp())
        kept = self._snapshots.get(branch)
        if kept is not None and kept[0] == seq and kept[1] is forecast and kept[2] == second:
            return kept[3]
        board = self.board(branch, catch_up=False)
        self._snapshots[branch] = (seq, forecast, second, board)
        return board

    def subscribe(self, listener: Publisher) -> None:
        """Also call ``listener(branch, board)`` after every push (e.g. to nudge ticket pages)."""
        self._listeners.append(listener)

    def hold(self, branch: str, event: Event | None) -> None:
        """Keep ``event`` (the newest accepted; ``None``: an import) for the branch's next push."""
        since = self._held[branch][1] if branch in self._held else time.monotonic()
        self._held[branch] = (event, since)

    def held_for(self, branch: str) -> float:
        """Seconds since the oldest change not pushed yet was held (0 when none is)."""
        kept = self._held.get(branch)
        return time.monotonic() - kept[1] if kept is not None else 0.0

    def push(self, branch: str) -> None:
        """Send the board, with the newest event accepted since the last push (``None``: none, as
        after a refresh that only aged the forecast, or an import)."""
        kept = self._held.pop(branch, None)
        event = kept[0] if kept is not None else None
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
