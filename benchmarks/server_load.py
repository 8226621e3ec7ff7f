"""Latency and throughput of a real server on loopback: HTTP writes and Socket.IO pushes.

Starts `queue-board serve` (gevent, SQLite in a temp folder) as a subprocess, then:
- W writer threads post events as fast as the server answers (kiosk tickets, and tellers
  calling, starting and finishing), a bounded number each;
- B board clients stay connected over websockets and record when each `board` push with a
  new seq arrives.
Prints write latency (POST → 201), push latency (POST sent → every board has a push at or past
that event's seq) and throughput. Everything stays on 127.0.0.1 and stops by itself.

    .venv/bin/python benchmarks/server_load.py [--writers 4] [--boards 20] [--events 400]
"""

from __future__ import annotations

import argparse
import multiprocessing
import multiprocessing.queues
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import requests
import socketio

REPO = Path(__file__).resolve().parent.parent
QB = [sys.executable, "-m", "queue_board"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(*args: str, env: dict[str, str]) -> str:
    return subprocess.run([*QB, *args], env=env, cwd=REPO, check=True, capture_output=True, text=True).stdout.strip()


def watch_boards(base: str, token: str, count: int, ready: Any, stop: Any, results: Any) -> None:
    """A process holding ``count`` board connections; reports, for each, the (seq, arrival time)
    of every ``board`` push it got."""
    lock = threading.Lock()
    clients = []
    received: list[list[tuple[int, float]]] = []
    for _ in range(count):
        client = socketio.Client(reconnection=False)
        pushes: list[tuple[int, float]] = []
        received.append(pushes)

        def on_board(data: dict[str, Any], pushes: list[tuple[int, float]] = pushes) -> None:
            with lock:
                pushes.append((int(data["seq"]), time.time()))

        client.on("board", on_board)
        client.connect(base, auth={"token": token, "branch": "main"}, transports=["websocket"], wait_timeout=10)
        clients.append(client)
    ready.set()
    stop.wait(600)
    for client in clients:
        client.disconnect()
    results.put(received)


def first_arrival(pushes: list[tuple[int, float]], seq: int) -> float | None:
    """When a board first had the state of ``seq``: the first push at or past it (changes made
    during one forecast refresh come in one push, so a seq may never be pushed on its own)."""
    times = [at for pushed, at in pushes if pushed >= seq]
    return min(times) if times else None


def main() -> None:
    """Run the load and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--boards", type=int, default=20)
    parser.add_argument("--events", type=int, default=400, help="events per writer")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="qb-load-")
    database = f"sqlite:///{folder}/load.db"
    config = Path(folder) / "branch.json"
    counters = [str(i + 1) for i in range(args.writers)]
    config.write_text(
        '{"name": "Load", "services": [{"code": "deposit", "prefix": "A", "names": {"en": "Deposit"}}],'
        ' "counters": [' + ",".join(f'{{"name": "{c}", "services": [["deposit"]]}}' for c in counters) + "]}"
    )
    # a load test floods on purpose: the limits against floods (docs/api.md "Limits") are lifted
    env = {**os.environ, "QB_DATABASE_URL": database, "QB_KIOSK_TICKET_LIMIT": "1000000 per minute", "QB_API_WRITE_LIMIT": "1000000 per minute"}
    # the maintenance commands refuse a database whose schema is not at head
    cli("db", "upgrade", env=env)
    cli("branch", "load-config", "main", str(config), env=env)
    manager = cli("token", "create", "--role", "manager", "--branch", "main", env=env)
    display = cli("token", "create", "--role", "display", "--branch", "main", env=env)
    port = free_port()
    server = subprocess.Popen([*QB, "serve", "--port", str(port), "--public-url", f"http://127.0.0.1:{port}"], env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    if os.environ.get("QB_LOAD_PROFILE"):
        subprocess.Popen(["py-spy", "record", "-o", os.environ["QB_LOAD_PROFILE"], "-f", "raw", "-d", "12", "-p", str(server.pid)])
    try:
        for _ in range(100):
            try:
                if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            sys.exit("the server did not start")
        headers = {"Authorization": f"Bearer {manager}"}
        for counter in counters:
            requests.post(f"{base}/api/v1/branches/main/counters/{counter}/open", headers=headers, timeout=10).raise_for_status()

        # boards live in their own processes, as real screens would, so that decoding their
        # pushes does not slow down the writers measured here
        context = multiprocessing.get_context("spawn")
        results: multiprocessing.queues.Queue[list[list[tuple[int, float]]]] = context.Queue()
        ready = context.Event()
        stop = context.Event()
        per_process = 5
        watchers = []
        for first in range(0, args.boards, per_process):
            count = min(per_process, args.boards - first)
            process = context.Process(target=watch_boards, args=(base, display, count, ready, stop, results))
            process.start()
            watchers.append(process)
            ready.wait(30)
            ready.clear()
        sent: dict[int, float] = {}
        write_latency: list[float] = []
        lock = threading.Lock()

        def writer(counter: str) -> None:
            session = requests.Session()
            session.headers.update(headers)
            steps = [("tickets", {"service": "deposit"}), (f"counters/{counter}/call-next", None), (f"counters/{counter}/start", None), (f"counters/{counter}/finish", None)]
            for i in range(args.events):
                path, body = steps[i % len(steps)]
                started = time.time()
                response = session.post(f"{base}/api/v1/branches/main/{path}", json=body, timeout=30)
                took = time.time() - started
                if response.status_code == 201:
                    with lock:
                        sent[int(response.json()["seq"])] = started
                        write_latency.append(took)

        started_all = time.time()
        threads = [threading.Thread(target=writer, args=(c,)) for c in counters]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.time() - started_all
        time.sleep(3.0)  # let the last pushes arrive
        stop.set()
        boards: list[list[tuple[int, float]]] = []
        for _ in watchers:
            boards.extend(results.get(timeout=60))
        for process in watchers:
            process.join(timeout=30)

        push: list[float] = []
        missing = 0
        for seq, t in sent.items():
            reached = [first_arrival(pushes, seq) for pushes in boards]
            if any(at is None for at in reached):
                missing += 1
                continue
            push.append(max(at for at in reached if at is not None) - t)
        pushes_per_event = sum(len(pushes) for pushes in boards) / max(1, len(boards)) / max(1, len(sent))
        w = np.array(write_latency) * 1000
        p = np.array(push) * 1000
        print(f"server: gevent, SQLite (synchronous=FULL), {args.writers} writers x {args.events} requests, {args.boards} boards on websockets")
        print(f"accepted events: {len(sent)} in {elapsed:.1f} s = {len(sent) / elapsed:,.0f} events/s")
        print(f"write latency (POST -> 201): p50 {np.percentile(w, 50):.1f} ms, p95 {np.percentile(w, 95):.1f} ms, p99 {np.percentile(w, 99):.1f} ms")
        print(f"push latency (POST sent -> every board has it): p50 {np.percentile(p, 50):.1f} ms, p95 {np.percentile(p, 95):.1f} ms, p99 {np.percentile(p, 99):.1f} ms")
        print(f"events whose state did not reach every board: {missing}; board pushes per event: {pushes_per_event:.2f}")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
