"""Ticket-page clients of benchmarks/ticket_pages.py: one process holding many phones on raw websockets.

Each phone speaks Engine.IO v4 / Socket.IO v5 on the ``/ticket`` namespace over one websocket,
as ``static/js/ticket.js`` does: it sends ``40/ticket,{"ticket": <link credential>}``, counts as
connected once its first ``ticket`` state arrives, answers Engine.IO's ping, and records the
arrival time of every ``ticket`` frame (the clock first, the frame decoded after the run).

It talks to both designs of the server, so that one benchmark measures them side by side:
- pushed directly (this code): ``ticket`` frames arrive by themselves;
- nudged (before): a ``changed`` frame (``{"seq": N}``) arrives after every push of the branch,
  and the phone asks with ``refresh`` (``{"seq": N}``), one at a time, coalescing the nudges that
  come meanwhile into one more ask, exactly as the page did.

The parent drives a process through a pipe as benchmarks/fanout_clients.py does: ``("ready",)``;
``"connect"`` → ``("connected", count, last time, errors)``; ``"stop"`` → ``("results", …)``, each
phone's result a :class:`fanout_clients.BoardResult` (its ``seqs`` are its states' seqs).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.connection import Connection

from fanout_clients import HANDSHAKES_AT_ONCE, OPEN, PING, REFUSED, BoardResult, hold
from websockets.asyncio.client import ClientConnection

TICKET = b'42/ticket,["ticket"'
CHANGED = b'42/ticket,["changed"'
REFUSED_HERE = REFUSED + b"/ticket"


@dataclass
class Phone:
    """One ticket page's connection and what reached it."""

    credential: str
    branch: str
    connected_at: float | None = None
    error: str | None = None
    times: list[float] = field(default_factory=list)
    frames: list[bytes] = field(default_factory=list)
    #: ``refresh`` messages this phone sent (none when the server pushes states itself)
    asked: int = 0
    pending: bool = False
    more: bool = False
    heard: int = 0


def _refresh(phone: Phone) -> str:
    phone.asked += 1
    phone.pending = True
    return '42/ticket,["refresh",' + json.dumps({"seq": phone.heard}) + "]"


async def _handshake(ws: ClientConnection, phone: Phone) -> None:
    opening = await ws.recv(decode=False)
    if not opening.startswith(OPEN):
        raise RuntimeError(f"expected an Engine.IO open packet, got {opening[:40]!r}")
    await ws.send("40/ticket," + json.dumps({"ticket": phone.credential}))
    while True:
        frame = await ws.recv(decode=False)
        if frame.startswith(TICKET):
            phone.connected_at = time.monotonic()
            return
        if frame == PING:
            await ws.send("3")
        elif frame.startswith(REFUSED_HERE):
            raise RuntimeError(f"connection refused: {frame[:200].decode(errors='replace')}")


async def _listen(ws: ClientConnection, phone: Phone) -> None:
    while True:
        frame = await ws.recv(decode=False)
        # the clock first: everything after this line is outside the measured latency
        now = time.monotonic()
        assert isinstance(frame, bytes)
        if frame.startswith(TICKET):
            phone.times.append(now)
            phone.frames.append(frame)
            phone.pending = False
            if phone.more:
                phone.more = False
                await ws.send(_refresh(phone))
        elif frame.startswith(CHANGED):
            _name, nudge = json.loads(frame[len("42/ticket,") :])
            phone.heard = max(phone.heard, int(nudge.get("seq") or 0))
            if phone.pending:
                phone.more = True
            else:
                await ws.send(_refresh(phone))
        elif frame == PING:
            await ws.send("3")


def _decode(phone: Phone) -> BoardResult:
    seqs = [int(json.loads(frame[len("42/ticket,") :])[1]["seq"]) for frame in phone.frames]
    return BoardResult(phone.branch, phone.connected_at, phone.error, list(phone.times), seqs)


async def _run(url: str, auth: list[tuple[str, str]], pipe: Connection) -> None:
    loop = asyncio.get_running_loop()
    phones = [Phone(credential, branch) for credential, branch in auth]
    pipe.send(("ready",))
    await loop.run_in_executor(None, _expect, pipe, "connect")
    gate = asyncio.Semaphore(HANDSHAKES_AT_ONCE)
    connected: asyncio.Queue[None] = asyncio.Queue()
    tasks = [
        asyncio.create_task(hold(url, phone, partial(_handshake, phone=phone), partial(_listen, phone=phone), gate, connected))
        for phone in phones
    ]
    for _ in phones:
        await connected.get()
    done = [p.connected_at for p in phones if p.connected_at is not None]
    pipe.send(("connected", len(done), max(done, default=None), [p.error for p in phones if p.error][:5]))
    await loop.run_in_executor(None, _expect, pipe, "stop")
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    pipe.send(("results", [_decode(phone) for phone in phones], sum(p.asked for p in phones)))


def _expect(pipe: Connection, word: str) -> None:
    message = pipe.recv()
    if message != word:
        raise RuntimeError(f"expected {word!r} from the benchmark, got {message!r}")


def run_phones(url: str, auth: list[tuple[str, str]], pipe: Connection) -> None:
    """A client process: hold one ticket page per ``(credential, branch)`` of ``auth`` on ``url``,
    talking to the benchmark over ``pipe``."""
    asyncio.run(_run(url, auth, pipe))
