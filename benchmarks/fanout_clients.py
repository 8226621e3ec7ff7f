"""Board clients of benchmarks/fanout.py: one process holding many boards on raw websockets.

Each board speaks Engine.IO v4 / Socket.IO v5 itself over one websocket (the ``websockets``
package, no compression, no websocket-level pings): it reads the ``0{…}`` open packet, sends
``40{"token", "branch"}`` (the boards' auth, queue_board/web/sockets/boards.py), counts as
connected once the ``snapshot`` push arrives, answers Engine.IO's ping ``2`` with ``3``, and for
every ``42["board",…]`` frame takes the time first and keeps the raw frame. Nothing is parsed
while the clock runs: frames are decoded after the run, to find each push's ``seq``. A frame
that reaches several boards of the process is the same bytes, so it is kept once (interned)
and the boards keep its index, which holds memory to one copy per push whatever the board count.

The parent drives a process through a pipe: the process says ``("ready",)``; on ``"connect"``
it opens its boards (a bounded number of handshakes at once) and answers ``("connected", …)``;
on ``"stop"`` it closes them and answers ``("results", …)``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.connection import Connection
from typing import Protocol

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

#: the frames that matter, recognised by their first bytes before anything is decoded
OPEN = b"0"
CONNECTED = b"40"
REFUSED = b"44"
SNAPSHOT = b'42["snapshot"'
BOARD = b'42["board"'
PING = b"2"
#: handshakes one process runs at once: all boards at once would overflow the listen backlog
HANDSHAKES_AT_ONCE = 64


@dataclass
class Board:
    """One board connection and what reached it."""

    token: str
    branch: str
    connected_at: float | None = None
    error: str | None = None
    #: monotonic arrival time of each ``board`` frame, and that frame's index in the frame table
    times: list[float] = field(default_factory=list)
    frames: list[int] = field(default_factory=list)


@dataclass
class BoardResult:
    """What a process hands back per board: its branch, when it connected, and each ``board``
    push as (arrival time, seq) in arrival order; ``error`` if it failed or dropped."""

    branch: str
    connected_at: float | None
    error: str | None
    times: list[float]
    seqs: list[int]


async def _handshake(ws: ClientConnection, board: Board) -> None:
    """Open the Socket.IO session of ``board`` on ``ws``; return once its snapshot arrived."""
    opening = await ws.recv(decode=False)
    if not opening.startswith(OPEN):
        raise RuntimeError(f"expected an Engine.IO open packet, got {opening[:40]!r}")
    await ws.send("40" + json.dumps({"token": board.token, "branch": board.branch}))
    while True:
        frame = await ws.recv(decode=False)
        if frame.startswith(SNAPSHOT):
            board.connected_at = time.monotonic()
            return
        if frame == PING:
            await ws.send("3")
        elif frame.startswith(REFUSED):
            raise RuntimeError(f"connection refused: {frame[2:200].decode(errors='replace')}")


async def _listen(ws: ClientConnection, board: Board, table: dict[bytes, int]) -> None:
    """Record every ``board`` push until the connection closes."""
    times = board.times
    frames = board.frames
    while True:
        frame = await ws.recv(decode=False)
        # the clock first: everything after this line is outside the measured latency
        now = time.monotonic()
        if frame.startswith(BOARD):
            assert isinstance(frame, bytes)
            index = table.setdefault(frame, len(table))
            times.append(now)
            frames.append(index)
        elif frame == PING:
            await ws.send("3")


async def open_websocket(url: str) -> ClientConnection:
    """A raw websocket to ``url``: no compression, no websocket-level pings (Engine.IO pings)."""
    return await connect(url, compression=None, ping_interval=None, ping_timeout=None, max_size=None, max_queue=1024, open_timeout=60, close_timeout=1, proxy=None)


class Held(Protocol):
    """What :func:`hold` records on a client: why it failed or dropped."""

    error: str | None


async def hold(
    url: str,
    client: Held,
    handshake: Callable[[ClientConnection], Awaitable[None]],
    listen: Callable[[ClientConnection], Awaitable[None]],
    gate: asyncio.Semaphore,
    connected: asyncio.Queue[None],
) -> None:
    """Connect ``client`` (``handshake`` within 60 s, at most ``gate``'s count at once), tell
    ``connected`` either way, then ``listen`` until cancelled or dropped."""
    try:
        async with gate:
            ws = await open_websocket(url)
            await asyncio.wait_for(handshake(ws), 60)
    except Exception as exc:
        client.error = f"{type(exc).__name__}: {exc}"
        connected.put_nowait(None)
        return
    connected.put_nowait(None)
    try:
        await listen(ws)
    except ConnectionClosed as exc:
        client.error = f"dropped: {exc}"
    finally:
        ws.transport.abort()


def _decode(board: Board, frames: list[bytes]) -> BoardResult:
    """``board``'s pushes as (time, seq) pairs, its frames decoded now that the clock has stopped."""
    seqs: dict[int, int] = {}
    times: list[float] = []
    found: list[int] = []
    for at, index in zip(board.times, board.frames, strict=True):
        if index not in seqs:
            _name, payload = json.loads(frames[index][2:])
            seqs[index] = int(payload["seq"]) if isinstance(payload, dict) and payload.get("seq") is not None else -1
        if seqs[index] >= 0:
            times.append(at)
            found.append(seqs[index])
    return BoardResult(board.branch, board.connected_at, board.error, times, found)


async def _run(url: str, auth: list[tuple[str, str]], pipe: Connection) -> None:
    loop = asyncio.get_running_loop()
    boards = [Board(token, branch) for token, branch in auth]
    table: dict[bytes, int] = {}
    pipe.send(("ready",))
    await loop.run_in_executor(None, _expect, pipe, "connect")
    gate = asyncio.Semaphore(HANDSHAKES_AT_ONCE)
    connected: asyncio.Queue[None] = asyncio.Queue()
    tasks = [
        asyncio.create_task(hold(url, board, partial(_handshake, board=board), partial(_listen, board=board, table=table), gate, connected))
        for board in boards
    ]
    for _ in boards:
        await connected.get()
    done = [b.connected_at for b in boards if b.connected_at is not None]
    pipe.send(("connected", len(done), max(done, default=None), [b.error for b in boards if b.error][:5]))
    await loop.run_in_executor(None, _expect, pipe, "stop")
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    frames = list(table)
    results = [_decode(board, frames) for board in boards]
    sizes = [len(frame) for frame in frames]
    pipe.send(("results", results, sum(sizes) / len(sizes) if sizes else 0.0))


def _expect(pipe: Connection, word: str) -> None:
    message = pipe.recv()
    if message != word:
        raise RuntimeError(f"expected {word!r} from the benchmark, got {message!r}")


def run_boards(url: str, auth: list[tuple[str, str]], pipe: Connection) -> None:
    """A client process: hold one board per ``(token, branch)`` of ``auth`` on ``url``
    (``ws://…/socket.io/?EIO=4&transport=websocket``), talking to the benchmark over ``pipe``."""
    asyncio.run(_run(url, auth, pipe))
