"""Extensions created at import time and bound to an app by ``init_app`` in the factory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask_socketio import SocketIO

T = TypeVar("T")

#: live push to the boards; one room per branch
socketio = SocketIO()


def offload(task: Callable[..., T], *args: Any) -> T:
    """Run CPU-heavy ``task`` where it cannot stall the Socket.IO event loop.

    Under gevent a greenlet that computes for 10 ms freezes every socket for 10 ms, so
    the work goes to gevent's pool of real OS threads (numpy releases the GIL in its
    inner loops). Under threading the caller already runs in a worker thread.
    """
    if socketio.async_mode == "gevent":
        import gevent

        return gevent.get_hub().threadpool.apply(task, args)  # type: ignore[no-any-return]
    return task(*args)
