"""Durable ingest: closed-loop writers, each on a branch of its own, against a real server.

Starts `queue-board serve` (gevent) on SQLite (`synchronous=FULL`) or PostgreSQL, gives it
``--branches`` branches with one counter each, and runs one closed-loop writer per branch (a
kiosk ticket, then call-next, start, finish at that counter, over and over) from client
processes of their own. Prints accepted events/s, POST → 201 latency, and the server's CPU per
event (its utime+stime from /proc over the run ÷ events), then how many SQL statements each kind
of write runs (counted in-process on the same code).

With ``--reference DIR`` (a source tree of another version, e.g. ``git worktree add /tmp/ref
39821fd``), the same load runs against that version's server too, alternated pass by pass in one
sitting, so the two are compared on the same machine at the same moment.

    .venv/bin/python benchmarks/ingest.py [--database sqlite|postgres] [--branches 20] [--seconds 15] [--passes 3] [--reference DIR] [--server-processes 1,2]

``--server-processes 1,2`` alternates one server process with two on the same database, joined
by Redis (``QB_TEST_REDIS_URL``), each branch's writer on one of them as a sticky balancer would;
the CPU is the processes' sum.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

# numpy's own threads would fight the server's for 2 cores (bench_common's preamble names the setting)
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import requests
from bench_common import print_preamble
from server_load import free_port

REPO = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get("QB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("QB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CONFIG = (
    '{"name": "Ingest", "services": [{"code": "deposit", "prefix": "A", "names": {"en": "Deposit"}}],'
    ' "counters": [{"name": "1", "services": [["deposit"]]}]}'
)


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fresh_database(kind: str, folder: Path) -> tuple[str, Any]:
    """A new empty database and how to drop it."""
    if kind == "sqlite":
        return f"sqlite:///{folder}/ingest.db", lambda: None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"qb_ingest_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(POSTGRES).set(database=name).render_as_string(hide_password=False), drop


def writers(homes: dict[str, str], token: str, seconds: float, start_at: float, results: Any) -> None:
    """One closed-loop writer thread per branch in this process, each to its branch's server
    (``homes``: branch → base URL); puts the latencies of the accepted writes."""
    latencies: list[float] = []
    lock = threading.Lock()

    def loop(branch: str) -> None:
        base = homes[branch]
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        steps = [("tickets", {"service": "deposit"}), ("counters/1/call-next", None), ("counters/1/start", None), ("counters/1/finish", None)]
        time.sleep(max(0.0, start_at - time.time()))
        i = 0
        mine: list[float] = []
        while time.time() < start_at + seconds:
            path, body = steps[i % len(steps)]
            started = time.perf_counter()
            response = session.post(f"{base}/api/v1/branches/{branch}/{path}", json=body, timeout=60)
            if response.status_code == 201:
                mine.append(time.perf_counter() - started)
                i += 1
            elif response.status_code != 409:  # a call-next with nobody waiting: the loop moves on
                raise RuntimeError(f"{path}: {response.status_code} {response.text[:200]}")
            else:
                i += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=loop, args=(b,)) for b in homes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put(latencies)


def run_once(tree: Path, kind: str, branches: int, seconds: float, client_processes: int, servers: int = 1) -> dict[str, float]:
    """One pass against ``servers`` server processes of source tree ``tree`` (more than one:
    joined by Redis, each branch's writer on one of them); its figures."""
    folder = Path(tempfile.mkdtemp(prefix="qb-ingest-"))
    database, drop = fresh_database(kind, folder)
    env = {
        **os.environ,
        "PYTHONPATH": str(tree),
        "QB_DATABASE_URL": database,
        "QB_KIOSK_TICKET_LIMIT": "1000000 per minute",
        "QB_API_WRITE_LIMIT": "1000000 per minute",
        "QB_FORECAST_SCENARIOS": "128",
        "QB_SECRET_KEY": "ingest-benchmark",
    }
    if servers > 1:
        env["QB_SOCKETIO_MESSAGE_QUEUE"] = REDIS
        env["QB_SOCKETIO_CHANNEL"] = f"qb-ingest-{uuid.uuid4().hex}"
    qb = [sys.executable, "-m", "queue_board"]

    def cli(*args: str) -> str:
        return subprocess.run([*qb, *args], env=env, cwd=tree, check=True, capture_output=True, text=True).stdout.strip()

    cli("db", "upgrade")
    config = folder / "branch.json"
    config.write_text(CONFIG)
    names = [f"b{i:03d}" for i in range(branches)]
    for name in names:
        cli("branch", "load-config", name, str(config))
    token = cli("token", "create", "--role", "admin")
    bases: list[str] = []
    started: list[subprocess.Popen[bytes]] = []
    for _ in range(servers):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        bases.append(base)
        started.append(
            subprocess.Popen(
                [*qb, "serve", "--port", str(port)],
                env={**env, "QB_PUBLIC_URL": base},
                cwd=tree,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    try:
        for base in bases:
            for _ in range(300):
                try:
                    if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except (requests.ConnectionError, requests.Timeout):
                    pass
                time.sleep(0.1)
            else:
                raise RuntimeError("a server did not start")
        # each branch's writer talks to one process, as a sticky load balancer would send it
        home = {name: bases[i % servers] for i, name in enumerate(names)}
        for name in names:
            requests.post(f"{home[name]}/api/v1/branches/{name}/counters/1/open", headers={"Authorization": f"Bearer {token}"}, timeout=30).raise_for_status()
        context = multiprocessing.get_context("spawn")
        results: Any = context.Queue()
        start_at = time.time() + 3.0  # every client process up before the clock starts
        groups = [names[i::client_processes] for i in range(client_processes)]
        processes = [
            context.Process(target=writers, args=({name: home[name] for name in group}, token, seconds, start_at, results)) for group in groups if group
        ]
        for process in processes:
            process.start()
        time.sleep(max(0.0, start_at - time.time()))
        cpu_before = sum(cpu_seconds(server.pid) for server in started)
        latencies: list[float] = []
        for _ in processes:
            latencies.extend(results.get(timeout=seconds + 120))
        cpu = sum(cpu_seconds(server.pid) for server in started) - cpu_before
        for process in processes:
            process.join(timeout=30)
        ms = np.array(latencies) * 1000
        return {
            "events_per_s": len(latencies) / seconds,
            "p50": float(np.percentile(ms, 50)),
            "p99": float(np.percentile(ms, 99)),
            "cpu_ms_per_event": cpu * 1000 / max(1, len(latencies)),
            "cpu_share": cpu / seconds,
        }
    finally:
        for server in started:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        drop()


def statements_per_write(kind: str) -> dict[str, int]:
    """SQL statements each kind of write runs on this tree's code (a caught-up, single process)."""
    sys.path.insert(0, str(REPO))
    from datetime import UTC

    from sqlalchemy import event as sql_events

    from queue_board.core.branch_config import DEMO_CONFIG
    from queue_board.service.branch_service import BranchService
    from queue_board.service.clock import SystemClock
    from queue_board.store.event_store import EventStore

    folder = Path(tempfile.mkdtemp(prefix="qb-statements-"))
    database, drop = fresh_database(kind, folder)
    store = EventStore(database)
    try:
        store.upgrade()
        service = BranchService(store, clock=SystemClock(UTC), default_config=DEMO_CONFIG)
        service.counter_action("b", "1", "open", {})
        service.issue_ticket("b", "deposit")
        seen: list[str] = []
        for engine in {store.engine, store.reader}:
            sql_events.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
        counts: dict[str, int] = {}
        for name, write in (
            ("kiosk ticket", lambda: service.issue_ticket("b", "deposit")),
            ("kiosk ticket with Idempotency-Key", lambda: service.issue_ticket("b", "deposit", idempotency_key=uuid.uuid4().hex)),
            ("call-next", lambda: service.counter_action("b", "1", "call-next", {})),
            ("start", lambda: service.counter_action("b", "1", "start", {})),
        ):
            seen.clear()
            write()
            # BEGIN is the transaction's own (SQLite: BEGIN IMMEDIATE, the write lock), not a query
            counts[name] = sum(1 for statement in seen if not statement.startswith("BEGIN"))
        return counts
    finally:
        store.close()
        drop()


def main() -> None:
    """Run the passes and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--branches", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--client-processes", type=int, default=4)
    parser.add_argument("--reference", type=Path, help="source tree of another version, measured alternately")
    parser.add_argument(
        "--server-processes", default="1", help="comma-separated counts of server processes to alternate, e.g. 1,2 (more than one: joined by Redis)"
    )
    args = parser.parse_args()
    print_preamble(Path(__file__).name)
    counts = [int(c) for c in args.server_processes.split(",")]
    versions = [("this code", REPO)] + ([("reference", args.reference.resolve())] if args.reference else [])
    trees = [
        (name if len(counts) == 1 else f"{name} × {count}", tree, count) for name, tree in versions for count in counts
    ]
    figures: dict[str, list[dict[str, float]]] = {name: [] for name, _, _ in trees}
    for number in range(args.passes):
        for name, tree, count in trees:
            result = run_once(tree, args.database, args.branches, args.seconds, args.client_processes, count)
            figures[name].append(result)
            print(
                f"pass {number + 1} {name:13s}: {result['events_per_s']:6.0f} events/s, POST p50 {result['p50']:.1f} ms,"
                f" p99 {result['p99']:.1f} ms, server CPU {result['cpu_ms_per_event']:.2f} ms/event ({result['cpu_share']:.0%} of a core)",
                flush=True,
            )
    print(f"\n{args.database}, {args.branches} writers on {args.branches} branches, {args.seconds:.0f} s a pass, {args.passes} passes (ranges over passes):")
    for name, runs in figures.items():

        def span(key: str, digits: int = 0, runs: list[dict[str, float]] = runs) -> str:
            values = [run[key] for run in runs]
            return f"{min(values):.{digits}f}–{max(values):.{digits}f}"

        print(
            f"  {name:13s}: {span('events_per_s')} events/s; POST p50 {span('p50', 1)} ms, p99 {span('p99', 1)} ms;"
            f" server CPU {span('cpu_ms_per_event', 2)} ms/event"
        )
    print("\nSQL statements per write (this code, caught up, one process; BEGIN not counted):")
    for name, count in statements_per_write(args.database).items():
        print(f"  {name}: {count}")


if __name__ == "__main__":
    main()
