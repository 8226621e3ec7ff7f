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


def serve_forever(app: Any, host: str, port: int) -> None:
    """Run the Socket.IO server; under gevent, on a listener with Nagle's algorithm off.

    A reply written in pieces (headers, then body) otherwise waits for the client's delayed
    ACK: 40 ms added to every API call, measured by benchmarks/server_load.py.
    """
    if socketio.async_mode != "gevent":
        socketio.run(app, host=host, port=port)
        return
    import socket as sockets

    from gevent import pywsgi
    from geventwebsocket.handler import WebSocketHandler

    family = sockets.AF_INET6 if ":" in host else sockets.AF_INET
    listener = sockets.socket(family, sockets.SOCK_STREAM)
    listener.setsockopt(sockets.SOL_SOCKET, sockets.SO_REUSEADDR, 1)
    listener.setsockopt(sockets.IPPROTO_TCP, sockets.TCP_NODELAY, 1)  # inherited by accepted sockets
    listener.bind((host, port))
    listener.listen(1024)
    pywsgi.WSGIServer(listener, app, handler_class=WebSocketHandler, log=None).serve_forever()
