"""Fan-out of one process: event posted → ``board`` push received at every board, against the
naive server, side by side in one sitting (issue 12, "Targets": the first and the 100-branch bullets).

Three servers, each a subprocess on 127.0.0.1:
- **project**: ``queue-board serve`` under gevent on SQLite in a temp folder, set up as
  benchmarks/server_load.py does (``db upgrade``, ``branch load-config``, tokens from the CLI, the
  flood limits lifted); the driver posts real kiosk and teller actions (ticket, call-next, start,
  finish on a few counters) over a queue kept at ``--backlog`` waiting tickets;
- **naive**: plain Flask-SocketIO under gevent (benchmarks/naive_server.py), one ~5.7 KB
  board-shaped snapshot per event to the branch's room, no database, no forecast;
- **floor**: the naive server with a ~50-byte payload: what the client harness and loopback
  cost by themselves, at the same board count.

Boards are raw websocket clients speaking Engine.IO/Socket.IO (benchmarks/fanout_clients.py) in
several processes; each takes the time of a push before decoding it. The driver posts at a fixed
rate and records when each POST was sent and the ``seq`` its 201 returned. An event's latency at
a board is the first arrival there of a ``board`` push with seq ≥ the event's (a push may carry
several events), minus the time the POST was sent; p50/p99 are over every (event, board) pair.

Scenarios: 100 boards × 5 events/s, 500 × 1, 500 × 5, 1,000 × 1, and 100 branches × 10 boards at
20 events/s in all; by default all of them, each with 3 passes of project, naive and floor in turn,
printed per measurement and as a table of ranges over the passes at the end. Per server: the time
to connect every board, its RSS after connecting and at the end, its CPU over the window, the
client processes' CPU (a harness that is not the bottleneck uses little), and the p99 ratio of
project to naive in the same pass. Needs ``websockets`` (a dev dependency) for the boards.

    .venv/bin/python benchmarks/fanout.py [--scenario 500x5 ...] [--passes 3] [--seconds 25] [--quick]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import multiprocessing
import multiprocessing.connection
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import print_preamble
from fanout_clients import BoardResult, run_boards

REPO = Path(__file__).resolve().parent.parent
NAIVE = Path(__file__).resolve().parent / "naive_server.py"
COUNTERS = ["1", "2", "3", "4"]
#: the teller's cycle each lane (one counter) repeats: one ticket in, one customer served
STEPS = ("tickets", "call-next", "start", "finish")
#: after the last event, how long the pushes still have to arrive
DRAIN_SECONDS = 3.0


@dataclass(frozen=True)
class Scenario:
    """``boards`` boards in each of ``branches`` branches, ``rate`` events/s over all of them."""

    name: str
    boards: int
    branches: int
    rate: float

    @property
    def branch_ids(self) -> list[str]:
        """The ids of the scenario's branches."""
        return ["main"] if self.branches == 1 else [f"b{i:03d}" for i in range(self.branches)]

    def title(self) -> str:
        """How the output names the scenario."""
        where = f"{self.boards} boards" if self.branches == 1 else f"{self.branches} branches × {self.boards} boards"
        return f"{where}, {self.rate:g} events/s{' in all' if self.branches > 1 else ''}"


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("100x5", 100, 1, 5),
        Scenario("500x1", 500, 1, 1),
        Scenario("500x5", 500, 1, 5),
        Scenario("1000x1", 1000, 1, 1),
        Scenario("100branches", 10, 100, 20),
    )
}
QUICK = Scenario("quick", 50, 1, 5)


# processes ------------------------------------------------------------------------------------
class Subprocesses:
    """Every process the benchmark starts, so that all of them end with it, whatever happens."""

    def __init__(self) -> None:
        self.popens: list[subprocess.Popen[bytes]] = []
        self.workers: list[multiprocessing.process.BaseProcess] = []

    def popen(self, args: list[str], env: dict[str, str], log: Path, cwd: Path = REPO) -> subprocess.Popen[bytes]:
        """Start ``args`` in ``cwd`` (stdout and stderr to ``log``) and keep it."""
        with log.open("ab") as out:
            process = subprocess.Popen(args, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        self.popens.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        """End one server: SIGTERM, then SIGKILL if it lingers."""
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if process in self.popens:
            self.popens.remove(process)

    def stop_all(self) -> None:
        """End every process still running (client processes first, then servers)."""
        for worker in self.workers:
            if worker.is_alive():
                worker.kill()
            worker.join(timeout=5)
        self.workers.clear()
        for process in list(self.popens):
            self.stop(process)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Return once ``base``/healthz answers 200; exit with the server's log if it died or never did."""
    for _ in range(300):
        if process.poll() is not None:
            break
        try:
            if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    sys.exit(f"the server at {base} did not start; its log ({log}):\n{log.read_text(errors='replace')[-3000:]}")


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MB (VmRSS of /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds ``pid`` has used (utime + stime of /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # after the command's ")": state is field 3 of stat(5), so utime (14) and stime (15) are 11 and 12 here
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# servers -----------------------------------------------------------------------------------
@dataclass
class Server:
    """A running server under test and how the driver and the boards reach it."""

    kind: str  # "project" or "naive"
    process: subprocess.Popen[bytes]
    base: str
    #: per branch, the token its boards authenticate with (the naive server ignores it)
    board_tokens: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)
    #: per (branch, counter), the next step of its teller cycle: a pass ends mid-cycle, the next goes on from there
    next_step: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The websocket address of the server's Engine.IO endpoint."""
        return self.base.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"


def branch_config() -> str:
    """The branch of benchmarks/server_load.py: one service, a counter per lane."""
    counters = ",".join(f'{{"name": "{c}", "services": [["deposit"]]}}' for c in COUNTERS)
    return '{"name": "Fan-out", "services": [{"code": "deposit", "prefix": "A", "names": {"en": "Deposit"}}], "counters": [' + counters + "]}"


def run_cli(batch: list[list[str]], env: dict[str, str], tree: Path = REPO) -> list[str]:
    """Run the CLI commands of ``batch`` of the project at ``tree`` in one process (each as
    ``queue-board …``), their outputs in order: a hundred branches' tokens would take two minutes
    one process each."""
    script = (
        "import json, sys\n"
        "from click.testing import CliRunner\n"
        "from queue_board.cli import cli\n"
        "runner = CliRunner()\n"
        "out = []\n"
        "for args in json.load(sys.stdin):\n"
        "    result = runner.invoke(cli, args, prog_name='queue-board')\n"
        "    if result.exit_code != 0:\n"
        "        sys.exit(f'queue-board {\" \".join(args)}: {result.output}{result.exception!r}')\n"
        "    out.append(result.output.strip())\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], input=json.dumps(batch), env=env, cwd=tree, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"setting up the project's server failed:\n{done.stderr[-3000:]}")
    outputs: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return outputs


def start_project(scenario: Scenario, folder: Path, spawned: Subprocesses, backlog: int, tree: Path = REPO) -> Server:
    """``queue-board serve`` of the project at ``tree`` (this checkout, or a reference one run with
    ``PYTHONPATH`` on it) on a fresh SQLite database with the scenario's branches, counters open,
    ``backlog`` tickets waiting in each branch."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config = folder / "branch.json"
    config.write_text(branch_config())
    # a load test floods on purpose: the limits against floods (docs/api.md "Limits") are lifted
    env = {
        **os.environ,
        "QB_DATABASE_URL": f"sqlite:///{folder}/fanout.db",
        "QB_KIOSK_TICKET_LIMIT": "1000000 per minute",
        "QB_API_WRITE_LIMIT": "1000000 per minute",
        "QB_PUBLIC_URL": base,
    }
    if tree != REPO:
        env["PYTHONPATH"] = str(tree)
    branches = scenario.branch_ids
    batch = [["db", "upgrade"], ["token", "create", "--role", "admin"]]
    for branch in branches:
        batch += [["branch", "load-config", branch, str(config)], ["token", "create", "--role", "display", "--branch", branch]]
    outputs = run_cli(batch, env, tree)
    admin = outputs[1]
    tokens = {branch: outputs[3 + 2 * i] for i, branch in enumerate(branches)}
    log = folder / "project.log"
    process = spawned.popen([sys.executable, "-m", "queue_board", "serve", "--port", str(port)], env, log, tree)
    wait_healthy(base, process, log)
    server = Server("project", process, base, tokens, {"Authorization": f"Bearer {admin}"})
    session = requests.Session()
    session.headers.update(server.headers)
    for branch, counter in lanes(scenario):
        session.post(f"{base}/api/v1/branches/{branch}/counters/{counter}/open", timeout=30).raise_for_status()
    for branch in branches:
        for _ in range(backlog):
            session.post(f"{base}/api/v1/branches/{branch}/tickets", json={"service": "deposit"}, timeout=30).raise_for_status()
    return server


def start_naive(scenario: Scenario, folder: Path, spawned: Subprocesses) -> Server:
    """benchmarks/naive_server.py, under the same Python and libraries."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = folder / "naive.log"
    process = spawned.popen([sys.executable, str(NAIVE), "--port", str(port)], dict(os.environ), log)
    wait_healthy(base, process, log)
    return Server("naive", process, base, {branch: "naive" for branch in scenario.branch_ids})


def lanes(scenario: Scenario) -> list[tuple[str, str]]:
    """The (branch, counter) pairs the driver cycles: every counter of one branch, or counter 1
    of each of many branches."""
    if scenario.branches == 1:
        return [("main", c) for c in COUNTERS]
    return [(branch, COUNTERS[0]) for branch in scenario.branch_ids]


# one measurement -----------------------------------------------------------------------------
@dataclass
class Sent:
    """One event the driver posted: when it was sent, and what the server answered."""

    branch: str
    at: float
    took: float
    status: int
    seq: int | None
    #: the start of the answer's body when it was not 201
    detail: str = ""


@dataclass
class Measurement:
    """The figures of one run of one server at one payload."""

    label: str
    connect_seconds: float
    connected: int
    rss_connected: float
    rss_end: float
    cpu_percent: float
    #: the client processes' CPU over the same window, in % of one core (all of them together)
    clients_cpu_percent: float
    latencies_ms: np.ndarray[Any, np.dtype[np.float64]]
    #: per event, its latency at the board it reached first
    first_board_ms: np.ndarray[Any, np.dtype[np.float64]]
    pairs: int
    missing_pairs: int
    silent_boards: int
    dropped_boards: int
    accepted: int
    #: the answers other than 201, by status (0: no answer)
    refused: dict[int, int]
    first_refusal: str
    rate: float
    post_ms: np.ndarray[Any, np.dtype[np.float64]]
    frame_bytes: float
    pushes_per_board: float

    def p(self, q: float) -> float:
        """The ``q``-th percentile of the latencies, in ms (NaN when nothing arrived)."""
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms.size else float("nan")

    def refusals(self) -> str:
        """The answers other than 201, as "0 refused" or "3 refused: 409 ×3"."""
        total = sum(self.refused.values())
        detail = ", ".join(f"{status} ×{count}" for status, count in sorted(self.refused.items()))
        return f"{total} refused" + (f": {detail}, e.g. {self.first_refusal!r}" if detail else "")

    def line(self) -> str:
        """The measurement on one line of the output."""
        first = float(np.percentile(self.first_board_ms, 50)) if self.first_board_ms.size else float("nan")
        post = f"POST p50 {np.percentile(self.post_ms, 50):.1f} ms" if self.post_ms.size else "no POST answered"
        return (
            f"  {self.label:<8} connect {self.connected} in {self.connect_seconds:.2f} s | latency p50 {self.p(50):.1f} / p99 {self.p(99):.1f}"
            f" / max {self.p(100):.1f} ms (first board p50 {first:.1f} ms) over {self.pairs:,} pairs, missing {self.missing_pairs}, silent boards {self.silent_boards},"
            f" dropped {self.dropped_boards} | {self.accepted} events at {self.rate:.2f}/s ({self.refusals()}), {post}"
            f" | push {self.frame_bytes / 1000:.1f} KB, {self.pushes_per_board:.2f} pushes/board/event"
            f" | server RSS {self.rss_connected:.0f} → {self.rss_end:.0f} MB, CPU {self.cpu_percent:.0f}%"
            f" | clients CPU {self.clients_cpu_percent:.0f}%"
        )


def poster(server: Server, payload: str) -> Callable[[requests.Session, str, str, int], requests.Response]:
    """How the driver posts an event to ``server``: the lane's next teller step, or the naive event."""
    if server.kind == "project":

        def post_project(session: requests.Session, branch: str, counter: str, step: int) -> requests.Response:
            action = STEPS[step % len(STEPS)]
            path = "tickets" if action == "tickets" else f"counters/{counter}/{action}"
            body = {"service": "deposit"} if action == "tickets" else None
            return session.post(f"{server.base}/api/v1/branches/{branch}/{path}", json=body, timeout=30)

        return post_project

    def post_naive(session: requests.Session, branch: str, _counter: str, _step: int) -> requests.Response:
        return session.post(f"{server.base}/event", json={"branch": branch, "payload": payload}, timeout=30)

    return post_naive


def drive(server: Server, payload: str, scenario: Scenario, seconds: float) -> list[Sent]:
    """Post ``rate × seconds`` events on a fixed schedule (event i due at start + i / rate), each
    lane (a counter) in a thread of its own so that its steps stay in order."""
    post = poster(server, payload)
    paths = lanes(scenario)
    total = max(1, round(scenario.rate * seconds))
    sent: list[Sent] = []
    lock = threading.Lock()
    start = time.monotonic() + 0.2

    def lane(index: int) -> None:
        branch, counter = paths[index]
        session = requests.Session()
        session.headers.update(server.headers)
        for event in range(index, total, len(paths)):
            step = server.next_step.get(paths[index], 0)
            server.next_step[paths[index]] = step + 1
            due = start + event / scenario.rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            at = time.monotonic()
            try:
                response = post(session, branch, counter, step)
            except requests.RequestException as exc:
                # counted as refused (status 0) rather than ending the lane: the schedule goes on
                status, seq, detail = 0, None, str(exc)
            else:
                status = response.status_code
                seq = int(response.json()["seq"]) if status == 201 else None
                detail = "" if status == 201 else response.text[:160]
            took = time.monotonic() - at
            with lock:
                sent.append(Sent(branch, at, took, status, seq, detail))

    threads = [threading.Thread(target=lane, args=(i,), daemon=True) for i in range(len(paths))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sent


Floats = np.ndarray[Any, np.dtype[np.float64]]


def latencies(sent: Sequence[Sent], boards: Sequence[BoardResult]) -> tuple[Floats, Floats, int]:
    """Every (event, board) latency in ms for the boards of the event's branch, each event's
    latency at its first board (where the server's fan-out starts), and how many pairs never
    arrived: an event reached a board at the first push there with seq ≥ the event's."""
    events: dict[str, tuple[np.ndarray[Any, np.dtype[np.int64]], Floats]] = {}
    for branch in {s.branch for s in sent}:
        mine = [s for s in sent if s.branch == branch and s.seq is not None]
        events[branch] = (np.array([s.seq for s in mine], dtype=np.int64), np.array([s.at for s in mine], dtype=np.float64))
    # per branch, a row per board and a column per event; NaN where the event never arrived
    rows: dict[str, list[Floats]] = {branch: [] for branch in events}
    for board in boards:
        if board.connected_at is None or board.branch not in events:
            continue
        seqs, at = events[board.branch]
        row = np.full(seqs.size, np.nan)
        if board.seqs:
            # the highest seq seen so far never decreases along the arrivals, so the first arrival
            # with seq ≥ s is where that running maximum first reaches s
            reached = np.maximum.accumulate(np.array(board.seqs, dtype=np.int64))
            arrived = np.array(board.times, dtype=np.float64)
            where = np.searchsorted(reached, seqs, side="left")
            ok = where < reached.size
            row[ok] = (arrived[where[ok]] - at[ok]) * 1000
        rows[board.branch].append(row)
    every: list[Floats] = []
    first: list[Floats] = []
    missing = 0
    for branch_rows in rows.values():
        if not branch_rows or branch_rows[0].size == 0:
            continue
        grid = np.vstack(branch_rows)
        missing += int(np.isnan(grid).sum())
        every.append(grid[~np.isnan(grid)])
        reached_any = ~np.isnan(grid).all(axis=0)
        first.append(np.nanmin(grid[:, reached_any], axis=0))
    empty = np.array([], dtype=np.float64)
    return (np.concatenate(every) if every else empty), (np.concatenate(first) if first else empty), missing


def measure(server: Server, payload: str, label: str, scenario: Scenario, seconds: float, processes: int, spawned: Subprocesses) -> Measurement:
    """Connect every board of ``scenario`` to ``server``, drive it for ``seconds``, collect the figures."""
    auth = [(server.board_tokens[branch], branch) for branch in scenario.branch_ids for _ in range(scenario.boards)]
    count = min(processes, len(auth))
    context = multiprocessing.get_context("spawn")
    pipes: list[multiprocessing.connection.Connection] = []
    workers = []
    for i in range(count):
        mine, theirs = context.Pipe()
        # boards dealt round-robin, so every process holds some of every branch
        worker = context.Process(target=run_boards, args=(server.url, auth[i::count], theirs), daemon=True)
        worker.start()
        spawned.workers.append(worker)
        workers.append(worker)
        pipes.append(mine)
    try:
        for pipe in pipes:
            expect(pipe, "ready", 60)
        go = time.monotonic()
        for pipe in pipes:
            pipe.send("connect")
        connected = 0
        last = go
        errors: list[str] = []
        for pipe in pipes:
            _, ok, last_at, some_errors = expect(pipe, "connected", 300)
            connected += ok
            last = max(last, last_at or go)
            errors += some_errors
        if errors:
            print(f"    {len(auth) - connected} boards failed to connect, e.g. {errors[0]}", flush=True)
        pid = server.process.pid
        rss_connected = rss_mb(pid)
        clients = [w.pid for w in workers if w.pid is not None]
        cpu_before, clients_before, wall_before = cpu_seconds(pid), sum(map(cpu_seconds, clients)), time.monotonic()
        sent = drive(server, payload, scenario, seconds)
        time.sleep(DRAIN_SECONDS)
        cpu_after, clients_after, wall_after = cpu_seconds(pid), sum(map(cpu_seconds, clients)), time.monotonic()
        rss_end = rss_mb(pid)
        results: list[BoardResult] = []
        sizes: list[float] = []
        for pipe in pipes:
            pipe.send("stop")
        for pipe in pipes:
            _, boards, size = expect(pipe, "results", 300)
            results += boards
            sizes.append(size)
    except BaseException:
        # interrupted (Ctrl-C, an error): the clients wait for a word that will not come
        for worker in workers:
            worker.kill()
        raise
    finally:
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.kill()
                worker.join(timeout=5)
            spawned.workers.remove(worker)
    accepted = [s for s in sent if s.seq is not None]
    window = max(s.at for s in sent) - min(s.at for s in sent) if len(sent) > 1 else 0.0
    found, first_board, missing = latencies(sent, results)
    live = [b for b in results if b.connected_at is not None]
    first = min(s.at for s in sent)
    # pushes before the first event (a refresh after connecting) are not the events' pushes
    pushes = [sum(1 for t in b.times if t >= first) for b in live]
    return Measurement(
        label=label,
        connect_seconds=last - go,
        connected=connected,
        rss_connected=rss_connected,
        rss_end=rss_end,
        cpu_percent=100 * (cpu_after - cpu_before) / (wall_after - wall_before),
        clients_cpu_percent=100 * (clients_after - clients_before) / (wall_after - wall_before),
        latencies_ms=found,
        first_board_ms=first_board,
        pairs=found.size + missing,
        missing_pairs=missing,
        silent_boards=sum(1 for n in pushes if n == 0),
        dropped_boards=sum(1 for b in live if b.error is not None and b.error.startswith("dropped")),
        accepted=len(accepted),
        refused=dict(Counter(s.status for s in sent if s.seq is None)),
        first_refusal=next((s.detail for s in sent if s.seq is None), ""),
        rate=(len(sent) - 1) / window if window > 0 else 0.0,
        post_ms=np.array([s.took * 1000 for s in accepted]),
        frame_bytes=statistics.fmean(sizes) if sizes else 0.0,
        pushes_per_board=sum(pushes) / len(live) / len(accepted) * scenario.branches if live and accepted else 0.0,
    )


def expect(pipe: multiprocessing.connection.Connection, word: str, timeout: float) -> tuple[Any, ...]:
    """The next message of a client process, which must be ``word``'s."""
    if not pipe.poll(timeout):
        raise RuntimeError(f"a client process sent no {word!r} within {timeout:.0f} s")
    message: tuple[Any, ...] = pipe.recv()
    if message[0] != word:
        raise RuntimeError(f"expected {word!r} from a client process, got {message[0]!r}")
    return message


# the sitting ---------------------------------------------------------------------------------
def span(values: Sequence[float], digits: int = 0) -> str:
    """``values`` as "min–max" (one value alone when they agree at that precision)."""
    low, high = f"{min(values):.{digits}f}", f"{max(values):.{digits}f}"
    return low if low == high else f"{low}–{high}"


def run_scenario(scenario: Scenario, args: argparse.Namespace, spawned: Subprocesses) -> dict[str, list[Measurement]]:
    """Both servers up for the scenario, then ``passes`` rounds of project, naive and floor, alternated."""
    print(f"\n{scenario.title()}: {args.passes} passes of {args.seconds:g} s, {args.processes} client processes", flush=True)
    folder = Path(tempfile.mkdtemp(prefix="qb-fanout-"))
    runs: dict[str, list[Measurement]] = {"project": [], "naive": [], "floor": []}
    servers: list[Server] = []
    try:
        started = time.monotonic()
        if "project" in args.servers:
            project = start_project(scenario, folder, spawned, args.backlog)
            servers.append(project)
            print(f"  project server ready in {time.monotonic() - started:.1f} s (pid {project.process.pid}, log {folder / 'project.log'})", flush=True)
        if "naive" in args.servers:
            naive = start_naive(scenario, folder, spawned)
            servers.append(naive)
        for number in range(1, args.passes + 1):
            # other work on the machine moves every figure: the load says how much there was
            print(f"  pass {number} (load average {os.getloadavg()[0]:.1f})", flush=True)
            for server in servers:
                plan = [("project", "full")] if server.kind == "project" else [("naive", "full"), ("floor", "tiny")]
                for label, payload in plan:
                    result = measure(server, payload, label, scenario, args.seconds, args.processes, spawned)
                    runs[label].append(result)
                    print(result.line(), flush=True)
    finally:
        for server in servers:
            spawned.stop(server.process)
    # kept when something failed: the servers' logs are in it
    shutil.rmtree(folder, ignore_errors=True)
    return runs


def summary(results: list[tuple[Scenario, dict[str, list[Measurement]]]]) -> None:
    """The table README can quote: ranges over the passes."""
    print("\n| scenario | project p50 / p99 | naive p50 / p99 | floor p50 / p99 | p99 ratio project/naive | project RSS connected → end | "
          "connect all (project / naive) | server CPU (project / naive) | missing pairs (project / naive) |")
    print("|---|---|---|---|---|---|---|---|---|")

    def lat(runs: list[Measurement]) -> str:
        if not runs:
            return "–"
        return f"{span([m.p(50) for m in runs], 1)} / {span([m.p(99) for m in runs], 1)} ms"

    for scenario, runs in results:
        project, naive, floor = runs["project"], runs["naive"], runs["floor"]
        ratios = [p.p(99) / n.p(99) for p, n in zip(project, naive, strict=False) if n.p(99) > 0]
        ratio = span(ratios, 2) if ratios else "–"
        rss = f"{span([m.rss_connected for m in project])} → {span([m.rss_end for m in project])} MB" if project else "–"
        connect = " / ".join(f"{span([m.connect_seconds for m in r], 2)} s" if r else "–" for r in (project, naive))
        cpu = " / ".join(f"{span([m.cpu_percent for m in r])}%" if r else "–" for r in (project, naive))
        missing = " / ".join(str(sum(m.missing_pairs for m in r)) if r else "–" for r in (project, naive))
        print(f"| {scenario.title()} | {lat(project)} | {lat(naive)} | {lat(floor)} | {ratio} | {rss} | {connect} | {cpu} | {missing} |")
    print(
        "\nlatency: POST sent → first board push with seq ≥ the event's, at each board, over all (event, board) pairs;"
        " ratio per pass (project p99 / naive p99 of the same pass), range over passes;"
        " floor: the naive server with a ~50-byte payload (harness + loopback); CPU: server process over the window"
    )


def raise_open_files() -> None:
    """Lift the soft limit of open files to the hard one: the servers (which inherit it) hold a
    socket per board, and so do the client processes."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@contextmanager
def terminated_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into SystemExit, so that the cleanup of ``finally`` runs as it does on Ctrl-C."""

    def leave(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, leave)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main() -> None:
    """Run the chosen scenarios (all by default) and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS), help="repeatable; default: all five")
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=25.0, help="of events per measurement, after every board connected")
    parser.add_argument("--processes", type=int, default=4, help="client processes holding the boards")
    parser.add_argument("--backlog", type=int, default=5, help="tickets kept waiting in each project branch (sets its board's size)")
    parser.add_argument("--servers", default="project,naive", help="comma-separated: project, naive (naive also runs the floor)")
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK.boards} boards, {QUICK.rate:g} events/s, 5 s, one pass")
    args = parser.parse_args()
    args.servers = {name.strip() for name in args.servers.split(",") if name.strip()}
    if not args.servers or args.servers - {"project", "naive"}:
        parser.error("--servers takes project, naive or both")
    scenarios = [QUICK] if args.quick else [SCENARIOS[name] for name in (args.scenario or SCENARIOS)]
    if args.quick:
        args.seconds, args.passes = 5.0, 1
    raise_open_files()
    print_preamble("fanout.py")
    print(
        f"open files: {resource.getrlimit(resource.RLIMIT_NOFILE)[0]}; boards: raw websockets in {args.processes} processes;"
        f" load average {os.getloadavg()[0]:.1f}"
    )
    spawned = Subprocesses()
    results: list[tuple[Scenario, dict[str, list[Measurement]]]] = []
    try:
        with terminated_on_sigterm():
            for scenario in scenarios:
                results.append((scenario, run_scenario(scenario, args, spawned)))
    finally:
        spawned.stop_all()
    summary(results)


if __name__ == "__main__":
    main()
