"""At scale: two ``queue-board serve`` processes on one PostgreSQL database, joined by Redis.

What README "Deployment at scale" promises: an event written through either process reaches a
board connected to the other (Flask-SocketIO's message queue), both processes read the same
state (each catches up from the log before it answers), and writes through both never share a
sequence number.
"""

from __future__ import annotations

import os
import queue
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
import socketio
from conftest import LiveBoard, ServerProcess, free_port, prepare_demo_branch

REDIS_URL = os.environ.get("QB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


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
    on_left, on_right = LiveBoard(left.url, left.tokens["display"]), LiveBoard(right.url, right.tokens["display"])
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


def test_a_ticket_page_on_one_process_hears_writes_through_the_other(two_processes: tuple[ServerProcess, ServerProcess]) -> None:
    left, right = two_processes
    right.act("teller1", "/counters/1/open")
    label = right.act("kiosk", "/tickets", {"service": "deposit"})["ticket"]["ticket"]
    link = left.act("kiosk", "/t/links", {"branch": "main", "ticket": label})["path"].rsplit("/", 1)[1]
    states: queue.Queue[dict[str, Any]] = queue.Queue()
    page = socketio.Client(reconnection=False)
    page.on("ticket", states.put, namespace="/ticket")
    page.connect(left.url, namespaces=["/ticket"], auth={"ticket": link}, transports=["websocket"], wait_timeout=10)
    try:
        assert states.get(timeout=10)["status"] == "waiting"
        # called through the right-hand process: only the content-free nudge crosses Redis, and
        # the left-hand process, which holds the page, sends it its state without being asked
        called = right.act("teller1", "/counters/1/call-next")
        while (state := states.get(timeout=10))["seq"] < called["seq"]:
            pass
        assert (state["ticket"], state["status"], state["counter"]) == (label, "called", "1")
    finally:
        page.disconnect()


def test_both_processes_read_the_same_state_and_never_share_a_seq(two_processes: tuple[ServerProcess, ServerProcess]) -> None:
    left, right = two_processes
    left.act("teller1", "/counters/1/open")
    right.act("teller2", "/counters/2/open")
    seqs = []
    for index in range(6):
        server = (left, right)[index % 2]
        seqs.append(server.act("kiosk", "/tickets", {"service": "deposit"})["seq"])
    assert len(set(seqs)) == len(seqs) and seqs == sorted(seqs)
    views = [refreshed_snapshot(left, seqs[-1]), refreshed_snapshot(right, seqs[-1])]
    assert len(views[0]["waiting"]) == 6
    # the whole board, forecasts included: each process computed its own from the log alone
    assert_same(comparable(views[0]), comparable(views[1]))


def refreshed_snapshot(server: ServerProcess, seq: int, timeout: float = 20.0) -> dict[str, Any]:
    """The snapshot once the process's forecast is as far as ``seq`` (refreshes run after writes)."""
    deadline = time.monotonic() + timeout
    while True:
        view = snapshot(server)
        if view["seq"] == seq and view["forecast_at"] == view["last_event_at"] and all(w["wait"] for w in view["waiting"]):
            return view
        assert time.monotonic() < deadline, f"no forecast for seq {seq} on {server.url}: {view['forecast_at']}"
        time.sleep(0.2)


def assert_same(left: Any, right: Any, where: str = "view") -> None:
    """Equal, numbers to within 1 s: each view ages the same forecast by its own ``now`` (to the
    millisecond) and rounds it, so putting the age back is exact only to that."""
    if isinstance(left, dict) and isinstance(right, dict):
        assert left.keys() == right.keys(), where
        for key in left:
            assert_same(left[key], right[key], f"{where}.{key}")
    elif isinstance(left, list) and isinstance(right, list):
        assert len(left) == len(right), where
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            assert_same(a, b, f"{where}[{index}]")
    elif isinstance(left, float) and isinstance(right, float):
        assert abs(left - right) <= 1.0, (where, left, right)
    else:
        assert left == right, (where, left, right)


def comparable(view: dict[str, Any]) -> dict[str, Any]:
    """A snapshot without what depends on the moment it was read: ``now``, and ranges aged to it
    (put back to the moment of their forecast, to 0.1 s)."""
    age = (datetime.fromisoformat(view["now"]) - datetime.fromisoformat(view["forecast_at"])).total_seconds()

    def unaged(value: dict[str, float] | None) -> dict[str, float] | str | None:
        if value and min(value.values()) <= 0:
            # aged to (or past) zero: clamped, so the moment of reading shows; the other view may
            # already call it overdue
            return "passed"
        return {k: v + age for k, v in value.items()} if value else value

    out = {k: v for k, v in view.items() if k != "now"}
    out["waiting"] = [
        {**w, "wait": "passed" if w.get("wait_overdue") else unaged(w["wait"]), "wait_overdue": None} for w in view["waiting"]
    ]
    out["counters"] = [{**c, "remaining": unaged(c["remaining"])} for c in view["counters"]]
    return out


def test_a_configuration_change_through_either_process_is_seen_by_both(
    two_processes: tuple[ServerProcess, ServerProcess],
) -> None:
    left, right = two_processes
    on_right = LiveBoard(right.url, right.tokens["display"])
    try:
        config = requests.get(f"{left.url}/api/v1/branches/main/config", headers={"Authorization": f"Bearer {left.tokens['admin']}"}, timeout=10).json()
        renamed = requests.put(
            f"{left.url}/api/v1/branches/main/config",
            json={**config, "name": "Harbour Street"},
            headers={"Authorization": f"Bearer {left.tokens['admin']}"},
            timeout=10,
        )
        assert renamed.status_code == 200, renamed.text
        # the board on the other process is pushed the change, and that process reads it at once
        while (pushed := on_right.pushes.get(timeout=10))["event"] is None:
            pass
        assert (pushed["event"]["type"], pushed["name"]) == ("branch_configured", "Harbour Street")
        assert snapshot(right)["name"] == snapshot(left)["name"] == "Harbour Street"
        # and the other way round, through the right-hand process
        back = requests.put(
            f"{right.url}/api/v1/branches/main/config", json=config, headers={"Authorization": f"Bearer {right.tokens['admin']}"}, timeout=10
        )
        assert back.status_code == 200, back.text
        assert snapshot(left)["name"] == config["name"]
    finally:
        on_right.close()
