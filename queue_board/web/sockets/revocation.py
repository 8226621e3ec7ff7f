"""A revoked token loses its live sockets, in every server process.

Revoking a token (``queue-board token revoke ID``) writes ``revoked_at`` in the shared database,
from a process of its own: no server process is told. HTTP checks the token with every request
(a grant found live is trusted for the same interval, :meth:`EventStore.find_token`), but a
socket is authenticated once, when it connects, and would go on receiving the branch's
boards. So every socket opened with a token joins that token's room (:func:`token_room`) in its
namespace, and each server process re-checks the tokens of its own sockets against the store
every ``TOKEN_RECHECK_SECONDS`` (one indexed query, only while it has such sockets) and
disconnects those whose token is no longer live; a ``sync`` re-checks its socket's token at once.
A socket of a revoked token thus outlives the revocation by one interval at most, with or without
a message queue (each process judges its own sockets from the database they share), and its
reconnect is refused like any unknown token's (the re-check makes the store forget the grant).

Polling, rather than a message through the Socket.IO queue: python-socketio's queue carries
emits, room changes and disconnects of known session ids to the clients, never a message to the
other processes' code, and the revoking CLI knows no session ids; nor may a revocation wait for
a message queue that a one-process deployment does not have.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict

from flask import Flask, current_app, session
from flask_socketio import SocketIO, join_room

from queue_board.store.event_store import EventStore
from queue_board.web.auth import Grant
from queue_board.web.database import database
from queue_board.web.sockets.rooms import MANAGE_NAMESPACE, token_of_room, token_room

logger = logging.getLogger(__name__)

#: the namespaces whose sockets may be opened with a token (ticket pages carry a signed link instead)
TOKEN_NAMESPACES = ("/", MANAGE_NAMESPACE)
#: where the socket's session keeps the id of the token it was opened with
SESSION_TOKEN_ID = "token_id"
EXTENSION = "queue_board.token_watch"


class TokenWatch:
    """Re-checks the tokens of this process's sockets and disconnects those of revoked tokens.

    The loop runs only while some socket opened with a token is connected here: it starts with
    the first (:meth:`watch`) and ends when none is left, so an app whose sockets are gone (a
    test's server, shut down) leaves no task behind.
    """

    def __init__(self, socketio: SocketIO, store: EventStore, interval: float) -> None:
        self.socketio = socketio
        self.store = store
        self.interval = interval
        self.lock = threading.Lock()
        self.running = False

    def watch(self) -> None:
        """A socket opened with a token has joined its room: make sure the loop runs."""
        if self.interval <= 0:
            return
        with self.lock:
            if self.running:
                return
            self.running = True
        self.socketio.start_background_task(self._run)

    def token_sockets(self) -> dict[int, list[tuple[str, str]]]:
        """Each token with sockets connected to this process: its (sid, namespace) pairs."""
        manager = self.socketio.server.manager
        found: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for namespace in TOKEN_NAMESPACES:
            try:
                rooms = list(manager.rooms.get(namespace, {}))
            except RuntimeError:  # a socket joined or left meanwhile (threading mode): next round
                continue
            for room in rooms:
                token_id = token_of_room(room)
                if token_id is None:
                    continue
                for sid, _engine_sid in manager.get_participants(namespace, room):
                    found[token_id].append((sid, namespace))
        return dict(found)

    def cut(self) -> set[int]:
        """Disconnect this process's sockets of tokens no longer live; the ids of those tokens."""
        sockets = self.token_sockets()
        dead = self.store.dead_token_ids(sockets)
        for token_id in dead:
            for sid, namespace in sockets[token_id]:
                logger.info("token %s was revoked: disconnecting socket %s (%s)", token_id, sid, namespace)
                # the sid is connected to this process: no need to tell the others through the queue
                self.socketio.server.disconnect(sid, namespace=namespace, ignore_queue=True)
        return dead

    def _run(self) -> None:
        while True:
            self.socketio.sleep(self.interval)
            with self.lock:
                # a socket joins its room before it calls watch(): none here now means none will rely on this loop
                if not self.token_sockets():
                    self.running = False
                    return
            try:
                self.cut()
            except Exception:  # a database blip must not end the watch: the next round tries again
                logger.exception("could not re-check the tokens of open sockets")


def token_watch(app: Flask) -> TokenWatch:
    """The token watch of ``app``'s Socket.IO server (made on first use)."""
    found: TokenWatch | None = app.extensions.get(EXTENSION)
    if found is None:
        made = TokenWatch(app.extensions["socketio"], database.store(app), float(app.config["TOKEN_RECHECK_SECONDS"]))
        found = app.extensions.setdefault(EXTENSION, made)
    return found


def cut_revoked_sockets(app: Flask) -> None:
    """Disconnect ``app``'s sockets of revoked tokens now (after a revocation in this process)."""
    watch: TokenWatch | None = app.extensions.get(EXTENSION)
    if watch is not None:
        watch.cut()


def follow_token(grant: Grant) -> None:
    """The socket connecting now was opened with ``grant``: if that is a token's, cut it when the token is revoked."""
    if grant.token_id is None:
        return
    session[SESSION_TOKEN_ID] = grant.token_id
    join_room(token_room(grant.token_id))
    token_watch(current_app._get_current_object()).watch()  # type: ignore[attr-defined]


def token_still_live() -> bool:
    """Whether the current socket's token (if it was opened with one) is still live."""
    token_id = session.get(SESSION_TOKEN_ID)
    if not isinstance(token_id, int):
        return True
    return not database.store(current_app).dead_token_ids([token_id])
