"""At scale: two ``queue-board serve`` processes on one PostgreSQL database, joined by Redis.

What README "Deployment at scale" promises: an event written through either process reaches a
board connected to the other (Flask-SocketIO's message queue), both processes read the same
state (each catches up from the log before it answers), and writes through both never share a
sequence number.
"""

from __future__ import annotations

import os
import queue
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
import socketio
from conftest import ServerProcess, free_port, prepare_demo_branch

REDIS_URL = os.environ.get("QB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


class Board:
    """A Socket.IO client of one process, recording the boards it is pushed."""

    def __init__(self, server: ServerProcess) -> None:
        self.pushes: queue.Queue[dict[str, Any]] = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("board", self.pushes.put)
        self.client.connect(server.url, auth={"token": server.tokens["display"], "branch": "main"}, transports=["websocket"], wait_timeout=10)

    def push_of(self, event_type: str, ticket: str, timeout: float = 10.0) -> dict[str, Any]:
        """The first push caused by ``event_type`` of ``ticket`` (other pushes are skipped)."""
        while True:
            board = self.pushes.get(timeout=timeout)
            event = board.get("event") or {}
            if event.get("type") == event_type and event.get("ticket") == ticket:
                return board

    def close(self) -> None:
        self.client.disconnect()


@pytest.fixture
def two_processes(postgres_url: str, tmp_path: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """The demo branch on a fresh PostgreSQL database, served by two processes on one Redis channel."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {REDIS_URL} (QB_TEST_REDIS_URL) is needed for this test: {exc}")
    tokens = prepare_demo_branch(postgres_url)
    # a channel of its own, so that parallel runs on one Redis never see each other's pushes
    env = {"QB_SOCKETIO_MESSAGE_QUEUE": REDIS_URL, "QB_SOCKETIO_CHANNEL": f"qb-test-{uuid.uuid4().hex}"}
    servers = []
    for name in ("left", "right"):
        port = free_port()
        servers.append(ServerProcess(f"http://127.0.0.1:{port}", port, postgres_url, tokens, tmp_path / f"{name}.log", env))
    try:
        for server in servers:
            server.start()
        yield servers[0], servers[1]
    finally:
        for server in servers:
            server.stop()


def snapshot(server: ServerProcess) -> dict[str, Any]:
    response = requests.get(
        f"{server.url}/api/v1/branches/main/snapshot", headers={"Authorization": f"Bearer {server.tokens['display']}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def test_an_event_written_through_one_process_reaches_boards_on_the_other(two_processes: tuple[ServerProcess, ServerProcess]) -> None:
    left, right = two_processes
    on_left, on_right = Board(left), Board(right)
    try:
        left.act("teller1", "/counters/1/open")
        issued = right.act("kiosk", "/tickets", {"service": "deposit"})
        label = issued["ticket"]["ticket"]
        # the kiosk wrote through the right-hand process; the left-hand board hears it via Redis
        pushed_left = on_left.push_of("ticket_issued", label)
        pushed_right = on_right.push_of("ticket_issued", label)
        assert pushed_left["seq"] == pushed_right["seq"] == issued["seq"]
        called = left.act("teller1", "/counters/1/call-next")
        assert called["event"]["ticket"] == label
        assert on_right.push_of("ticket_called", label)["seq"] == called["seq"]
    finally:
        on_left.close()
        on_right.close()


def test_both_processes_read_the_same_state_and_never_share_a_seq(two_processes: tuple[ServerProcess, ServerProcess]) -> None:
    left, right = two_processes
    left.act("teller1", "/counters/1/open")
    right.act("teller2", "/counters/2/open")
    seqs = []
    for index in range(6):
        server = (left, right)[index % 2]
        seqs.append(server.act("kiosk", "/tickets", {"service": "deposit"})["seq"])
    assert len(set(seqs)) == len(seqs) and seqs == sorted(seqs)
    views = [snapshot(left), snapshot(right)]
    assert views[0]["seq"] == views[1]["seq"] == seqs[-1]
    waiting = [sorted(t["ticket"] for t in view["waiting"]) for view in views]
    assert waiting[0] == waiting[1] and len(waiting[0]) == 6
