"""Customers' ticket pages get their own ticket's state pushed after every push of their branch.

A branch has 50–150 phones on ticket pages. Each used to hear a content-free ``changed`` nudge
and ask back with ``refresh``: per push, a message in and a handler per phone, and a second trip
before the phone saw the change. Now the server sends each page its state directly:

- The publisher still emits one ``changed`` (``{"seq": …}``) to the branch's ticket room. It is
  the only thing that crosses processes: behind a message queue every process receives it, and
  it names no ticket and carries no one's data.
- The client manager of every process (:func:`client_manager`) takes that nudge out of the
  delivery and hands it to :class:`TicketPages`, which builds, once per ticket however many
  pages show it, the state of every ticket that has a page open *on this process*, and sends it
  to that ticket's room on this process only. A page never receives another ticket's state.

A page still may send ``refresh`` (its safety poll, a page loaded before this change) and gets
its state back, as before (:mod:`.tickets`).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import socketio
from flask import Flask
from flask_socketio import join_room

from queue_board.web.service import service_of
from queue_board.web.sockets.rooms import TICKET_NAMESPACE, ticket_room, tickets_room
from queue_board.web.tickets.links import TicketRef
from queue_board.web.tickets.state import ticket_states

log = logging.getLogger(__name__)

#: the event the publisher emits to a branch's ticket room after each push of its boards
NUDGE = "changed"
#: the event that carries a ticket's state to its pages
TICKET_EVENT = "ticket"
#: where an app keeps its :class:`TicketPages`
EXTENSION = "queue_board.ticket_pages"
#: pages whose state is built between two yields to the event loop (a view takes ~0.1 ms)
VIEWS_BETWEEN_YIELDS = 25


class TicketPages:
    """The ticket pages this process holds, by branch, and their delivery after each push."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._guard = threading.Lock()
        #: per branch, the room of each ticket with a page open here, and which ticket it is
        self._rooms: dict[str, dict[str, TicketRef]] = {}
        #: branches whose delivery is running, and the newest seq heard while it ran
        self._running: set[str] = set()
        self._again: dict[str, int | None] = {}

    def join(self, ref: TicketRef) -> None:
        """Put the connecting page (in a Socket.IO handler) in its ticket's room."""
        room = ticket_room(ref.branch, ref.day, ref.label)
        join_room(room)
        with self._guard:
            self._rooms.setdefault(ref.branch, {})[room] = ref

    def rooms_of(self, branch: str) -> dict[str, TicketRef]:
        """The rooms of ``branch``'s tickets with a page held here (as last delivered to)."""
        with self._guard:
            return dict(self._rooms.get(branch, {}))

    def nudged(self, manager: socketio.Manager, branch: str, seq: int | None) -> None:
        """A push of ``branch`` happened (in this process or another): deliver its pages
        (under gevent in a greenlet of their own), coalesced: one delivery of a branch at a
        time, then one more with the newest seq if more pushes came meanwhile."""
        with self._guard:
            if branch not in self._rooms:
                return
            if branch in self._running:
                previous = self._again.get(branch)
                self._again[branch] = seq if previous is None or (seq is not None and seq > previous) else previous
                return
            self._running.add(branch)
        if manager.server.async_mode == "gevent":
            # the caller is the push after a refresh, or the message queue's listener: neither
            # waits for a branch's 150 pages
            manager.server.start_background_task(self._deliver_until_done, manager, branch, seq)
        else:
            # a thread of its own already runs each request and each refresh
            self._deliver_until_done(manager, branch, seq)

    def _deliver_until_done(self, manager: socketio.Manager, branch: str, seq: int | None) -> None:
        while True:
            try:
                self.deliver(manager, branch, seq)
            except Exception:
                # one branch's failure must not end its deliveries for good: the next push retries
                log.exception("pushing the ticket pages of branch %s failed", branch)
            with self._guard:
                if branch not in self._again:
                    self._running.discard(branch)
                    return
                seq = self._again.pop(branch)

    def deliver(self, manager: socketio.Manager, branch: str, seq: int | None) -> None:
        """Send each ticket of ``branch`` with a page on this process its state as of ``seq``
        (or newer), to its pages here only; forget the rooms whose pages have all gone."""
        present = manager.rooms.get(TICKET_NAMESPACE, {})
        with self._guard:
            rooms = self._rooms.get(branch, {})
            for gone in [room for room in rooms if room not in present]:
                del rooms[gone]
            if not rooms:
                self._rooms.pop(branch, None)
                return
            held = list(rooms.items())
        views = ticket_states(service_of(self.app), branch, [ref for _, ref in held], seq)
        for number, ((room, _), view) in enumerate(zip(held, views, strict=True), start=1):
            # the manager's own delivery to this process's sockets: never back through the queue
            socketio.Manager.emit(manager, TICKET_EVENT, view, namespace=TICKET_NAMESPACE, room=room)
            if number % VIEWS_BETWEEN_YIELDS == 0:
                manager.server.sleep(0)


def ticket_pages_of(app: Flask) -> TicketPages:
    """The ticket pages held by ``app``'s Socket.IO server."""
    pages: TicketPages = app.extensions[EXTENSION]
    return pages


def nudged_branch(event: Any, namespace: Any, room: Any) -> str | None:
    """The branch whose ticket pages a manager's emit nudges, or ``None`` for any other emit."""
    if event != NUDGE or namespace != TICKET_NAMESPACE or not isinstance(room, str):
        return None
    prefix = tickets_room("")
    return room[len(prefix) :] if room.startswith(prefix) else None


def _nudge_seq(data: Any) -> int | None:
    if isinstance(data, list | tuple) and len(data) == 1:
        data = data[0]
    seq = data.get("seq") if isinstance(data, dict) else None
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else None


class _LocalManager(socketio.Manager):  # type: ignore[misc]
    """One process's client manager, that delivers ticket pages itself."""

    def __init__(self, pages: TicketPages) -> None:
        super().__init__()
        self.ticket_pages = pages

    def emit(self, event: Any, data: Any, namespace: Any = None, room: Any = None, **kwargs: Any) -> Any:
        """As :meth:`socketio.Manager.emit`, but a ticket-page nudge goes to :class:`TicketPages`."""
        branch = nudged_branch(event, namespace, kwargs.get("to") or room)
        if branch is not None:
            self.ticket_pages.nudged(self, branch, _nudge_seq(data))
            return None
        return super().emit(event, data, namespace, room=room, **kwargs)


def _queued_manager(base: type[socketio.PubSubManager]) -> type[socketio.PubSubManager]:
    class QueuedManager(base):  # type: ignore[misc]
        """A client manager behind a message queue, that delivers ticket pages itself: every
        emit, this process's own and the others', reaches ``_handle_emit`` here once."""

        ticket_pages: TicketPages

        def _handle_emit(self, message: dict[str, Any]) -> None:
            branch = nudged_branch(message.get("event"), message.get("namespace"), message.get("room"))
            if branch is not None:
                self.ticket_pages.nudged(self, branch, _nudge_seq(message.get("data")))
                return
            super()._handle_emit(message)

    QueuedManager.__name__ = QueuedManager.__qualname__ = f"Queued{base.__name__}"
    return QueuedManager


def client_manager(pages: TicketPages, message_queue: str | None, channel: str) -> socketio.Manager:
    """The Socket.IO client manager of one process: in memory, or joined to the others by
    ``message_queue`` (Redis, else any Kombu URL, as Flask-SocketIO chooses), delivering ticket
    pages through ``pages``."""
    if not message_queue:
        return _LocalManager(pages)
    base = socketio.RedisManager if message_queue.startswith(("redis://", "rediss://")) else socketio.KombuManager
    manager = _queued_manager(base)(message_queue, channel=channel, write_only=False)
    manager.ticket_pages = pages
    return manager
