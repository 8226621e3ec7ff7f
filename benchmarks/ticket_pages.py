"""Ticket pages at scale: event posted → that event's state at every phone on a ticket page, this
code against a reference tree, alternated in one sitting (issue 12: "ticket views pushed directly").

A branch has 5–20 screens and 50–150 phones on ticket pages. Each measurement starts a fresh
``queue-board serve`` (gevent, SQLite; set up as benchmarks/fanout.py does) of one tree, issues a
ticket per phone in every branch, opens each phone's page on its own ticket (the signed link of
``POST /t/links``) beside the branch's boards, then posts teller and kiosk actions at a fixed rate
(ticket, call-next, start, finish on each branch's lanes) and records when each POST was sent.

An event's latency at a phone is the first arrival there of a ``ticket`` state with seq ≥ the
event's, minus the time the POST was sent; likewise at the boards (``board`` pushes). Phones are
raw websocket clients (benchmarks/ticket_clients.py) that behave like ``static/js/ticket.js`` of
either design: states pushed to them, or a ``changed`` nudge answered with ``refresh``.

    .venv/bin/python benchmarks/ticket_pages.py --reference /tmp/ref [--scenario 1x150 ...] [--passes 3] [--seconds 20]

``--reference`` is a tree of another commit (``mkdir /tmp/ref && git archive <commit> | tar -x -C
/tmp/ref``), run with ``PYTHONPATH`` on it; without it only this code is measured.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import multiprocessing
import multiprocessing.connection
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import print_preamble
from fanout import (
    DRAIN_SECONDS,
    REPO,
    Scenario,
    Server,
    Subprocesses,
    cpu_seconds,
    drive,
    expect,
    latencies,
    raise_open_files,
    rss_mb,
    span,
    start_project,
    terminated_on_sigterm,
)
from fanout_clients import BoardResult, run_boards
from ticket_clients import run_phones


@dataclass(frozen=True)
class PagesScenario:
    """``phones`` ticket pages and ``boards`` boards in each of ``branches`` branches, ``rate`` events/s in all."""

    name: str
    branches: int
    boards: int
    phones: int
    rate: float

    @property
    def fanout(self) -> Scenario:
        """The same branches and rate as benchmarks/fanout.py's scenario (its lanes, its driver)."""
        return Scenario(self.name, self.boards, self.branches, self.rate)

    def title(self) -> str:
        """How the output names the scenario."""
        return f"{self.branches} branch{'es' if self.branches > 1 else ''} × ({self.boards} boards + {self.phones} phones), {self.rate:g} events/s in all"


SCENARIOS = {
    s.name: s
    for s in (
        PagesScenario("1x150", 1, 10, 150, 5),
        PagesScenario("20x50", 20, 5, 50, 10),
    )
}


@dataclass
class PagesMeasurement:
    """The figures of one run of one tree."""

    label: str
    connect_seconds: float
    phones_ms: np.ndarray[Any, np.dtype[np.float64]]
    boards_ms: np.ndarray[Any, np.dtype[np.float64]]
    phone_pairs: int
    missing_phone_pairs: int
    missing_board_pairs: int
    accepted: int
    refused: int
    asked_per_event: float
    cpu_percent: float
    cpu_ms_per_event: float
    clients_cpu_percent: float
    rss_end: float

    def line(self) -> str:
        """The measurement on one line of the output."""

        def lat(values: np.ndarray[Any, np.dtype[np.float64]]) -> str:
            if not values.size:
                return "nothing arrived"
            return f"p50 {np.percentile(values, 50):.1f} / p99 {np.percentile(values, 99):.1f} ms"

        return (
            f"  {self.label:<9} connect {self.connect_seconds:.2f} s | phones {lat(self.phones_ms)} over {self.phone_pairs:,} pairs,"
            f" missing {self.missing_phone_pairs} | boards {lat(self.boards_ms)}, missing {self.missing_board_pairs}"
            f" | {self.accepted} events ({self.refused} refused), {self.asked_per_event:.1f} refresh asks/event"
            f" | server CPU {self.cpu_percent:.0f}% = {self.cpu_ms_per_event:.1f} ms/event, RSS {self.rss_end:.0f} MB"
            f" | clients CPU {self.clients_cpu_percent:.0f}%"
        )


def page_links(server: Server, scenario: PagesScenario) -> list[tuple[str, str]]:
    """``(credential, branch)`` of a page on each of the first ``phones`` tickets of every branch
    (issued by :func:`fanout.start_project` as its backlog: A001, A002, …)."""
    session = requests.Session()
    session.headers.update(server.headers)
    links = []
    for branch in scenario.fanout.branch_ids:
        for number in range(1, scenario.phones + 1):
            answer = session.post(f"{server.base}/t/links", json={"branch": branch, "ticket": f"A{number:03d}"}, timeout=30)
            answer.raise_for_status()
            links.append((answer.json()["path"].rsplit("/", 1)[1], branch))
    return links


def spawn_clients(
    target: Callable[..., None], url: str, auth: list[tuple[str, str]], count: int, spawned: Subprocesses
) -> list[tuple[multiprocessing.process.BaseProcess, multiprocessing.connection.Connection]]:
    """``count`` client processes running ``target``, ``auth`` dealt round-robin among them."""
    context = multiprocessing.get_context("spawn")
    out = []
    for i in range(min(count, len(auth))):
        mine, theirs = context.Pipe()
        worker = context.Process(target=target, args=(url, auth[i::count], theirs), daemon=True)
        worker.start()
        spawned.workers.append(worker)
        out.append((worker, mine))
    return out


def measure(tree: Path, label: str, scenario: PagesScenario, args: argparse.Namespace, spawned: Subprocesses) -> PagesMeasurement:
    """A fresh server of ``tree`` with the scenario's boards and phones, driven for ``args.seconds``."""
    folder = Path(tempfile.mkdtemp(prefix="qb-pages-"))
    server = start_project(scenario.fanout, folder, spawned, scenario.phones, tree)
    try:
        phones_auth = page_links(server, scenario)
        boards_auth = [(server.board_tokens[b], b) for b in scenario.fanout.branch_ids for _ in range(scenario.boards)]
        clients = spawn_clients(run_boards, server.url, boards_auth, 1, spawned)
        clients += spawn_clients(run_phones, server.url, phones_auth, max(1, args.processes - 1), spawned)
        try:
            for _, pipe in clients:
                expect(pipe, "ready", 60)
            go = time.monotonic()
            for _, pipe in clients:
                pipe.send("connect")
            last = go
            for _, pipe in clients:
                _, _ok, last_at, errors = expect(pipe, "connected", 300)
                last = max(last, last_at or go)
                if errors:
                    print(f"    some clients failed to connect, e.g. {errors[0]}", flush=True)
            pid = server.process.pid
            client_pids = [w.pid for w, _ in clients if w.pid is not None]
            cpu_before, clients_before, wall_before = cpu_seconds(pid), sum(map(cpu_seconds, client_pids)), time.monotonic()
            sent = drive(server, "", scenario.fanout, args.seconds)
            time.sleep(DRAIN_SECONDS)
            cpu_after, clients_after, wall_after = cpu_seconds(pid), sum(map(cpu_seconds, client_pids)), time.monotonic()
            rss_end = rss_mb(pid)
            for _, pipe in clients:
                pipe.send("stop")
            boards: list[BoardResult] = []
            phones: list[BoardResult] = []
            asked = 0
            for index, (_, pipe) in enumerate(clients):
                _, results, extra = expect(pipe, "results", 300)
                if index == 0:
                    boards += results
                else:
                    phones += results
                    asked += int(extra)
        finally:
            for worker, _ in clients:
                worker.join(timeout=10)
                if worker.is_alive():
                    worker.kill()
                    worker.join(timeout=5)
                spawned.workers.remove(worker)
    finally:
        spawned.stop(server.process)
        shutil.rmtree(folder, ignore_errors=True)
    accepted = [s for s in sent if s.seq is not None]
    phone_ms, _, missing_phones = latencies(sent, phones)
    board_ms, _, missing_boards = latencies(sent, boards)
    window = wall_after - wall_before
    return PagesMeasurement(
        label=label,
        connect_seconds=last - go,
        phones_ms=phone_ms,
        boards_ms=board_ms,
        phone_pairs=phone_ms.size + missing_phones,
        missing_phone_pairs=missing_phones,
        missing_board_pairs=missing_boards,
        accepted=len(accepted),
        refused=len(sent) - len(accepted),
        asked_per_event=asked / len(accepted) if accepted else 0.0,
        cpu_percent=100 * (cpu_after - cpu_before) / window,
        cpu_ms_per_event=1000 * (cpu_after - cpu_before) / len(accepted) if accepted else float("nan"),
        clients_cpu_percent=100 * (clients_after - clients_before) / window,
        rss_end=rss_end,
    )


def summary(results: list[tuple[PagesScenario, dict[str, list[PagesMeasurement]]]]) -> None:
    """The table README can quote: ranges over the passes."""
    print("\n| scenario | code | phones p50 / p99 | boards p50 / p99 | refresh asks/event | server CPU | CPU/event | missing (phones / boards) |")
    print("|---|---|---|---|---|---|---|---|")
    for scenario, runs in results:
        for label, measured in runs.items():
            if not measured:
                continue
            phones = f"{span([float(np.percentile(m.phones_ms, 50)) for m in measured], 1)} / {span([float(np.percentile(m.phones_ms, 99)) for m in measured], 1)} ms"
            boards = f"{span([float(np.percentile(m.boards_ms, 50)) for m in measured], 1)} / {span([float(np.percentile(m.boards_ms, 99)) for m in measured], 1)} ms"
            print(
                f"| {scenario.title()} | {label} | {phones} | {boards} | {span([m.asked_per_event for m in measured], 1)}"
                f" | {span([m.cpu_percent for m in measured])}% | {span([m.cpu_ms_per_event for m in measured], 1)} ms"
                f" | {sum(m.missing_phone_pairs for m in measured)} / {sum(m.missing_board_pairs for m in measured)} |"
            )


def main() -> None:
    """Run the chosen scenarios (both by default) and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS), help="repeatable; default: both")
    parser.add_argument("--reference", type=Path, help="a tree of another commit, measured alternately with this one")
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0, help="of events per measurement, after every page connected")
    parser.add_argument("--processes", type=int, default=4, help="client processes: one for the boards, the rest for the phones")
    args = parser.parse_args()
    if args.reference is not None and not (args.reference / "queue_board").is_dir():
        parser.error(f"--reference {args.reference}: no queue_board package there")
    trees = [("this", REPO)] + ([("reference", args.reference.resolve())] if args.reference else [])
    raise_open_files()
    print_preamble("ticket_pages.py")
    spawned = Subprocesses()
    results: list[tuple[PagesScenario, dict[str, list[PagesMeasurement]]]] = []
    try:
        with terminated_on_sigterm():
            for scenario in [SCENARIOS[name] for name in (args.scenario or SCENARIOS)]:
                print(f"\n{scenario.title()}: {args.passes} passes of {args.seconds:g} s", flush=True)
                runs: dict[str, list[PagesMeasurement]] = {label: [] for label, _ in trees}
                for number in range(1, args.passes + 1):
                    print(f"  pass {number} (load average {os.getloadavg()[0]:.1f})", flush=True)
                    for label, tree in trees:
                        result = measure(tree, label, scenario, args, spawned)
                        runs[label].append(result)
                        print(result.line(), flush=True)
                results.append((scenario, runs))
    finally:
        spawned.stop_all()
    summary(results)


if __name__ == "__main__":
    main()
