"""Redis restarted under two server processes: no acknowledged write is lost, and the boards
catch up from the log once pushes flow again (issue 12). Redis here is a private
``redis-server`` on a port of its own, so that restarting it disturbs nothing else."""

from __future__ import annotations

import queue
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
from conftest import LiveBoard, ServerProcess, free_port, prepare_demo_branch, stop_process

REDIS_SERVER = shutil.which("redis-server")


class PrivateRedis:
    """A redis-server without persistence, killable and restartable on the same port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert REDIS_SERVER is not None
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url, socket_timeout=1).ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    if REDIS_SERVER is None:
        pytest.fail("redis-server is needed for this test (apt-get install redis-server)")
    server = PrivateRedis(free_port())
    server.start()
    try:
        yield server
    finally:
        stop_process(server.process)


def test_redis_restarted_mid_stream_loses_nothing_and_boards_catch_up(
    postgres_url: str, tmp_path: Path, private_redis: PrivateRedis
) -> None:
    tokens = prepare_demo_branch(postgres_url)
    env = {"QB_SOCKETIO_MESSAGE_QUEUE": private_redis.url, "QB_SOCKETIO_CHANNEL": f"qb-test-{uuid.uuid4().hex}"}
    left, right = (
        ServerProcess(f"http://127.0.0.1:{port}", port, postgres_url, tokens, tmp_path / f"{name}.log", env)
        for name, port in (("left", free_port()), ("right", free_port()))
    )
    left.start()
    right.start()
    board = LiveBoard(left.url, tokens["display"])
    try:
        left.act("teller1", "/counters/1/open")
        before = right.act("kiosk", "/tickets", {"service": "deposit"})
        board.reaches(before["seq"])  # through Redis: right wrote, left's board heard it
        private_redis.kill()
        # Redis down: every write is still acknowledged and stored (pushes are best effort)
        during = [right.act("kiosk", "/tickets", {"service": "deposit"}) for _ in range(3)]
        during.append(left.act("teller1", "/counters/1/call-next"))
        seqs = [d["seq"] for d in during]
        assert seqs == sorted(set(seqs)) and seqs[0] > before["seq"]
        private_redis.start()
        # the processes' subscriptions reconnect by themselves (python-socketio retries after
        # 1, 2, 4… s); the first push after that carries the whole state, from the log
        deadline = time.monotonic() + 30
        while True:
            after = right.act("kiosk", "/tickets", {"service": "deposit"})
            try:
                state = board.reaches(after["seq"], timeout=2.0)
                break
            except queue.Empty:
                assert time.monotonic() < deadline, "no push reached the board after Redis came back"
        snapshot = requests.get(
            f"{left.url}/api/v1/branches/main/snapshot", headers={"Authorization": f"Bearer {tokens['display']}"}, timeout=10
        ).json()
        assert state["seq"] >= after["seq"]
        # the board now shows every ticket written while Redis was down, and the call
        issued_during = [d["ticket"]["ticket"] for d in during[:3]]
        called = during[3]["event"]["ticket"]
        shown = [w["ticket"] for w in state["waiting"]] + [s["ticket"] for s in state["now_serving"]]
        assert set(issued_during) <= set(shown)
        assert called in [s["ticket"] for s in state["now_serving"]]
        # and it is the state the log gives (a snapshot of either process, at that seq or later)
        assert snapshot["seq"] >= state["seq"]
        assert [w["ticket"] for w in state["waiting"] if w["ticket"] != after["ticket"]["ticket"]] == [
            w["ticket"] for w in snapshot["waiting"] if w["ticket"] != after["ticket"]["ticket"]
        ]
    finally:
        board.close()
        left.stop()
        right.stop()
