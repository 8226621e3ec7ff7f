"""Per-connection limits of Socket.IO: a socket that floods is ignored, then cut.

A ``sync`` makes the server build a whole snapshot, so a display token on a public screen,
sending ``sync`` in a loop, could stall every write of the branch (issue 12: kiosk writes went
from 13 ms to 17 s). Every message a client sends (``sync``, a ticket page's ``refresh``, and any
event no handler knows) is counted per socket against ``SOCKET_MESSAGE_LIMIT`` (``5 per 10
seconds``) over a moving window: within it a message is handled, past it ignored, and a socket
whose messages in the window reach :data:`DISCONNECT_FACTOR` times the limit is disconnected
(a real board syncs once per gap in ``seq``, and reconnects with backoff).

A ticket page gets its state pushed after every push of its branch (:mod:`.ticket_pages`) and
sends ``refresh`` only for its safety poll, once a minute; a page of an older version of the
server sent one after every push, so the namespace keeps its more generous
``SOCKET_TICKET_MESSAGE_LIMIT`` (``30 per 10 seconds``).

The count lives in the socket's own session (Flask-SocketIO keeps one per connection, in the
process that holds the connection), so it costs no storage round trip and ends with the socket.
How large one message may be is Engine.IO's ``max_http_buffer_size``
(``SOCKET_MAX_MESSAGE_BYTES``, set in :mod:`queue_board.web.live`): a larger one closes the
connection before it is parsed.

Token guessing over Socket.IO counts against the same per-address limit as over HTTP
(:func:`token_grant`).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import current_app, request, session
from flask_socketio import ConnectionRefusedError, disconnect

from queue_board.web import rate_limits
from queue_board.web.auth import Grant, guessed_grant

logger = logging.getLogger(__name__)

#: a socket whose messages within one window reach this many times the limit is disconnected
DISCONNECT_FACTOR = 2
#: the setting of the ticket pages' limit
TICKET_LIMIT = "SOCKET_TICKET_MESSAGE_LIMIT"
#: where the socket's session keeps the times (monotonic seconds) of its recent messages
SESSION_MESSAGES = "recent_messages"

Handler = Callable[..., None]
#: guards the read-count-write of a socket's message times (held for microseconds)
_counting = threading.Lock()


def admit_message(now: float, recent: list[float], amount: int, window: float) -> tuple[list[float], str]:
    """Judge one message arriving at ``now`` after ``recent`` (times still counted).

    Returns the times to keep and the verdict: ``"handle"`` while the window holds at most
    ``amount`` messages, ``"ignore"`` beyond that, ``"disconnect"`` from
    :data:`DISCONNECT_FACTOR` × ``amount`` on.
    """
    kept = [at for at in recent if now - at < window]
    kept.append(now)
    if len(kept) >= DISCONNECT_FACTOR * amount:
        return kept, "disconnect"
    return kept, "handle" if len(kept) <= amount else "ignore"


def throttled(handler: Handler, setting: str = "SOCKET_MESSAGE_LIMIT") -> Handler:
    """``handler``, run only for the messages within the socket's limit, the rate named by
    ``setting`` (see the module)."""

    @functools.wraps(handler)
    def guarded(*args: Any) -> None:
        item = rate_limits.parse_limit(str(current_app.config[setting]))
        # one socket's messages are handled in threads of their own, on one shared session dict
        with _counting:
            recent = session.get(SESSION_MESSAGES)
            kept, verdict = admit_message(
                time.monotonic(), recent if isinstance(recent, list) else [], item.amount, float(item.get_expiry())
            )
            session[SESSION_MESSAGES] = kept
        if verdict == "disconnect":
            logger.warning(
                "socket %s sent %d messages within %s: disconnected", getattr(request, "sid", "?"), len(kept), item
            )
            disconnect()
            return
        if verdict == "handle":
            handler(*args)

    return guarded


def ignore_unknown(_event: str, *_data: Any) -> None:
    """An event no handler knows: nothing to do (it still counts against the socket's limit)."""


def token_grant(token: object) -> Grant | None:
    """The grant of the token a socket connects with, counting a wrong one against the address's
    ``TOKEN_FAILURE_LIMIT``; refused outright once the address has used that up."""
    try:
        return guessed_grant(token)
    except rate_limits.TooManyRequests as exc:
        raise ConnectionRefusedError(f"too many requests: {exc.message} (retry after {exc.retry_after} s)") from None
