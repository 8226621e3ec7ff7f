"""Live push to the screens as a Flask extension: each app gets a Socket.IO server of its own.

Flask-SocketIO binds one server per ``SocketIO`` object, so one module-level ``SocketIO``
shared by several apps (tests, scripts) would push each app's boards through whichever app was
built last. :class:`LivePush` instead makes a ``SocketIO`` per app in ``init_app`` (Flask-SocketIO
keeps it in ``app.extensions["socketio"]``, where its ``emit``/``join_room`` look for it), registers
every handler on it there (:func:`queue_board.web.sockets.register_handlers`), and hands out what
belongs to that server: the branch service's publish, background tasks, CPU offloading, serving.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app
from flask_socketio import SocketIO
from socketio.packet import Packet

from queue_board.service.branch_service import Publisher
from queue_board.web.service import service_of
from queue_board.web.sockets import manager_pushes, publisher, register_handlers, ticket_pages

T = TypeVar("T")


def run_here(task: Callable[..., T], *args: Any) -> T:
    """Run ``task`` in the caller's thread (inline forecasts; offloading under threading)."""
    return task(*args)


def _in_os_thread(task: Callable[..., T], *args: Any) -> T:
    import gevent

    return gevent.get_hub().threadpool.apply(task, args)  # type: ignore[no-any-return]


class JsonPacket(Packet):  # type: ignore[misc]
    """Socket.IO packets that carry JSON only, as every push of this server does.

    python-socketio walks each payload it sends, every dict and list of it, looking for bytes to
    send as binary attachments: per emit, not per client, but with a branch's 150 ticket pages
    each getting its own state that walk was 14% of the server's CPU (py-spy,
    benchmarks/ticket_pages.py). Its own msgpack packets turn the walk off the same way. A
    payload holding bytes now fails to encode instead of going out as an attachment.
    """

    uses_binary_events = False


class LivePush:
    """Binds a Socket.IO server, with every handler, to each app."""

    def init_app(self, app: Flask) -> None:
        """Give ``app`` its own Socket.IO server, configured from its settings, handlers registered."""
        pages = app.extensions[ticket_pages.EXTENSION] = ticket_pages.TicketPages(app)
        socketio = SocketIO(
            app,
            async_mode=app.config["SOCKETIO_ASYNC_MODE"],
            # in memory or behind the message queue, and delivering the ticket pages' pushes
            client_manager=ticket_pages.client_manager(
                pages, app.config["SOCKETIO_MESSAGE_QUEUE"] or None, app.config["SOCKETIO_CHANNEL"]
            ),
            serializer=JsonPacket,
            # a larger message closes its connection before it is parsed (docs/api.md "Limits")
            max_http_buffer_size=int(app.config["SOCKET_MAX_MESSAGE_BYTES"]),
        )
        register_handlers(socketio)

    def server(self, app: Flask | None = None) -> SocketIO:
        """The Socket.IO server of ``app`` (by default the current app)."""
        owner = current_app if app is None else app
        socketio: SocketIO | None = owner.extensions.get("socketio")
        if socketio is None:
            raise RuntimeError("no Socket.IO server bound to this app: call live.init_app(app)")
        return socketio

    def publisher(self, app: Flask) -> Publisher:
        """How ``app``'s branch service pushes boards (and nudges ticket pages)."""
        return publisher(self.server(app))

    def manager_pushes(self, app: Flask) -> tuple[Publisher, Publisher, Callable[[str], bool]]:
        """How ``app``'s reports push a branch's dashboard and its row of the overview, and
        whether anyone may be watching them."""
        return manager_pushes(self.server(app))

    def task_starter(self, app: Flask) -> Callable[..., Any]:
        """How ``app`` starts a background task: a greenlet under gevent, else a thread."""
        starter: Callable[..., Any] = self.server(app).start_background_task
        return starter

    def offloader(self, app: Flask) -> Callable[..., Any]:
        """How ``app`` runs CPU-heavy work where it cannot stall the Socket.IO event loop.

        Under gevent a greenlet that computes for 10 ms freezes every socket for 10 ms, so
        the work goes to gevent's pool of real OS threads (numpy releases the GIL in its
        inner loops). Under threading the caller already runs in a worker thread.
        """
        return _in_os_thread if self.server(app).async_mode == "gevent" else run_here

    def start_sweeps(self, app: Flask) -> None:
        """Start the server's own periodic work: the early-warning sweep, for conditions that no
        event prompts (a counter idle for minutes). Once per server process (``serve``, or each
        gunicorn worker through :mod:`queue_board.wsgi`)."""
        socketio = self.server(app)
        sweeper = service_of(app).warnings
        if sweeper.enabled and sweeper.sweep_seconds > 0:
            socketio.start_background_task(sweeper.sweep_forever, socketio.sleep)

    def serve_forever(self, app: Flask, host: str, port: int) -> None:
        """Run ``app``'s Socket.IO server; under gevent, on a listener with Nagle's algorithm off.

        A reply written in pieces (headers, then body) otherwise waits for the client's delayed
        ACK: 40 ms added to every API call, measured by benchmarks/server_load.py.
        """
        socketio = self.server(app)
        self.start_sweeps(app)
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


#: live push to the screens; bound per app by the factory
live = LivePush()
