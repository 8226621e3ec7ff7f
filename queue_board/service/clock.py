"""Clocks: the server stamps events with one, so the demo can run a day in minutes."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, tzinfo


class SystemClock:
    """Wall-clock time in the branch's time zone."""

    def __init__(self, zone: tzinfo | None = None) -> None:
        self.zone = zone

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        return datetime.now(self.zone).astimezone(self.zone)

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of this clock's time."""
        time.sleep(seconds)


class AcceleratedClock(SystemClock):
    """Time that starts at ``start`` and runs ``speed`` times faster than the wall clock."""

    def __init__(self, start: datetime, speed: float) -> None:
        super().__init__(start.tzinfo)
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.start = start
        self.speed = speed
        self._origin = time.monotonic()

    def now(self) -> datetime:
        """Accelerated time since the clock was made."""
        return self.start + timedelta(seconds=(time.monotonic() - self._origin) * self.speed)

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of accelerated time."""
        time.sleep(seconds / self.speed)
