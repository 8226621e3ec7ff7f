"""Events at wall-clock times, and feeding them to a projection: shared by the tests of the
learned model that script whole days (``from timed_events import ev, submit_all``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from queue_board.core.events import Event, format_ts, parse_event
from queue_board.core.projection import Projection


def ev(kind: str, at: datetime, **fields: Any) -> Event:
    """An event of type ``kind`` at ``at``, with ``fields``, as the log would hold it."""
    return parse_event({"ts": format_ts(at), "type": kind, **fields})


def submit_all(projection: Projection, events: Iterable[Event]) -> None:
    """Feed ``events`` as the live server does; every one of them must be accepted."""
    for event in events:
        assert projection.submit(event) is None, event
