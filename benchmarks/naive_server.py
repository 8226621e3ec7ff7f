"""The naive server of benchmarks/fanout.py: plain Flask-SocketIO under gevent, one snapshot per event.

No database, no forecast, no queue model: ``POST /event`` with ``{"branch": …, "payload":
"full" | "tiny"}`` numbers the event in its branch, builds one JSON snapshot shaped like the
project's board (its services, counters, now serving and waiting tickets, with ``seq``; about
5.7 KB) or a tiny one (about 50 bytes, the harness's floor) and emits it once as ``board`` to the
room every board of that branch joined on connect; the answer is 201 ``{"seq": n}``. A board
connecting with auth ``{"branch": …}`` gets ``snapshot`` first, as the project's boards do. It
is the floor of "a Socket.IO server pushing one snapshot per event", served the way
``queue_board.web.live.LivePush.serve_forever`` serves (gevent pywsgi, the geventwebsocket
handler, Nagle's algorithm off on the listener).

    .venv/bin/python benchmarks/naive_server.py --port 5100
"""

from __future__ import annotations

from gevent import monkey

# must run before anything imports socket/threading (as queue_board/__main__.py does)
monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import socket  # noqa: E402
from typing import Any  # noqa: E402

from flask import Flask, request  # noqa: E402
from flask_socketio import SocketIO, emit, join_room  # noqa: E402
from gevent import pywsgi  # noqa: E402
from geventwebsocket.handler import WebSocketHandler  # noqa: E402

#: the size a full snapshot is grown to, in bytes of JSON (the project's board in issue 12)
FULL_BYTES = 5700
COUNTERS = 4


def _grown_board() -> dict[str, Any]:
    """A board-shaped snapshot grown with waiting tickets to just under :data:`FULL_BYTES` bytes of JSON
    (as Flask-SocketIO encodes it: Flask's compact separators)."""
    board: dict[str, Any] = {
        "branch": "main",
        "name": "Naive",
        "seq": 0,
        "now": "10:42",
        "services": [{"code": "deposit", "prefix": "A", "names": {"en": "Deposit"}, "waiting": 0, "counters": ["1", "2", "3", "4"]}],
        "counters": [
            {
                "name": str(c + 1),
                "status": "serving",
                "since": "10:40",
                "services": [["deposit"]],
                "ticket": f"A{100 + c:03d}",
                "service": "deposit",
                "remaining": {"p10": 60.0, "p50": 180.0, "p90": 420.0},
                "pause_reason": None,
            }
            for c in range(COUNTERS)
        ],
        "now_serving": [{"ticket": f"A{100 + c:03d}", "counter": str(c + 1), "status": "serving", "called_at": "10:40"} for c in range(COUNTERS)],
        "waiting": [],
    }
    waiting: list[dict[str, Any]] = board["waiting"]
    while len(json.dumps(board, separators=(",", ":"))) < FULL_BYTES:
        position = len(waiting) + 1
        waiting.append(
            {
                "ticket": f"A{200 + position:03d}",
                "service": "deposit",
                "status": "waiting",
                "issued_at": "10:30",
                "position": position,
                "wait": {"p10": 60.0 * position, "p50": 90.0 * position, "p90": 150.0 * position},
            }
        )
    waiting.pop()  # the one that crossed the size
    board["services"][0]["waiting"] = len(waiting)
    return board


#: grown once: the server's own work per event stays a dict copy, as in a server holding its state
_BOARD = _grown_board()


def full_snapshot(branch: str, seq: int) -> dict[str, Any]:
    """The board-shaped snapshot of ``branch`` at ``seq`` (about :data:`FULL_BYTES` bytes)."""
    return {**_BOARD, "branch": branch, "seq": seq}


def tiny_snapshot(branch: str, seq: int) -> dict[str, Any]:
    """About 50 bytes: what the harness and loopback cost without a payload worth the name."""
    return {"seq": seq, "branch": branch[:8], "pad": "x" * 12}


def create_app() -> tuple[Flask, SocketIO]:
    """The naive server: one POST endpoint that emits one snapshot per event to its branch's room."""
    app = Flask(__name__)
    socketio = SocketIO(app, async_mode="gevent")
    seqs: dict[str, int] = {}

    def on_connect(auth: dict[str, Any] | None = None) -> None:
        branch = str((auth or {}).get("branch") or "main")
        join_room(branch)
        emit("snapshot", full_snapshot(branch, seqs.get(branch, 0)))

    socketio.on_event("connect", on_connect)

    @app.post("/event")
    def event() -> tuple[dict[str, Any], int]:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("branch"), str) or body.get("payload") not in ("full", "tiny"):
            return {"error": 'expected {"branch": "<id>", "payload": "full" | "tiny"}'}, 400
        branch = body["branch"]
        # one greenlet runs at a time and nothing below yields before the emit, so seqs stay in order
        seq = seqs.get(branch, 0) + 1
        seqs[branch] = seq
        make = full_snapshot if body["payload"] == "full" else tiny_snapshot
        socketio.emit("board", make(branch, seq), to=branch)
        return {"seq": seq}, 201

    @app.get("/healthz")
    def healthz() -> tuple[dict[str, str], int]:
        return {"status": "ok"}, 200

    return app, socketio


def main() -> None:
    """Serve on 127.0.0.1 until killed."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app, _ = create_app()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by accepted sockets
    listener.bind((args.host, args.port))
    listener.listen(1024)
    pywsgi.WSGIServer(listener, app, handler_class=WebSocketHandler, log=None).serve_forever()


if __name__ == "__main__":
    main()
