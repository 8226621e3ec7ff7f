"""Time the overview of every branch: 200 mid-size branches with one simulated day each, in one
SQLite store.

    .venv/bin/python benchmarks/overview_speed.py [--branches 200] [--distinct 20] [--repeat 5]
        [--scenario demo] [--quick] [--profile]

Each branch's day is simulated (``simulations``, the ``demo`` scenario by default: 4 counters,
about 200 customers) and imported once through ``BranchService`` after its configuration, so
that every ticket carries the promise the live server would have told it; the stored logs are
cached under ``$TMPDIR/queue_board_bench/``. ``--distinct`` days (seeds) are made and the
branches take them in turn (``--distinct`` = ``--branches``: a day of its own for each). Two
stores are filled by bulk insert of those stored logs: one with the whole day (the clock at the
last event of any branch) and one with each day's events up to noon (the clock at 12:00).

Each figure is min / median / max over ``--repeat`` runs (the 2-core machine is shared):

- cold start: a fresh ``BranchService`` rebuilds every branch's projection from the store, and
  its first overview (which also learns which branches exist);
- the overview of every branch, ``BranchReports.overview``, at the end of the day and at noon,
  and side by side in the same rounds the overview of 20 branches (does it scale linearly?),
  its pure part (each branch's row without the catch-up read, ``BranchReports.summary``) and the
  catch-up reads alone (one query per branch);
- one branch's push after one event at noon, what the server computes per push: its dashboard
  (``dashboard(branch, catch_up=False)``) and its overview row (``summary(branch, catch_up=False)``).

Nothing is asserted; the script prints figures and exits 0. ``--profile`` adds cProfile's top
functions of one noon overview.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from bench_common import (
    CACHE,
    Figures,
    FixedClock,
    cached_lines,
    print_preamble,
    profile,
    rate_range,
    spread,
    timed,
    write_cached,
)

from queue_board.core.branch_config import DEMO_CONFIG
from queue_board.core.events import Event, event_to_json, parse_event, read_log
from queue_board.reports.dashboard import sort_by_attention
from queue_board.service.branch_service import BranchService
from queue_board.store.event_store import EventStore
from simulations.branch_sim import simulate
from simulations.scenarios import SCENARIOS


# logs --------------------------------------------------------------------------------------
def stored_day(scenario: str, seed: int, day: date) -> tuple[list[Event], bool]:
    """One branch's stored log (its configuration, then the simulated day with promises), and
    whether it came from the cache."""
    path = CACHE / f"overview-{scenario}-seed{seed}-{day.isoformat()}.stored.jsonl"
    cached = cached_lines(path)
    if cached is not None:
        return [event for _, event in read_log(cached)], True
    simulated = simulate(SCENARIOS[scenario](), 1, day, seed, "+08:00")
    folder = tempfile.mkdtemp(prefix="qb-overview-gen-")
    try:
        store = EventStore(f"sqlite:///{folder}/gen.db")
        store.upgrade()
        # the configuration is stamped before the day opens, as a branch set up the evening before
        service = BranchService(store, clock=FixedClock(simulated[0].ts - timedelta(hours=1)))
        service.set_config("gen", DEMO_CONFIG.to_dict())
        service.import_log("gen", [event_to_json(e) + "\n" for e in simulated])
        lines = list(service.export_lines("gen"))
        store.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    write_cached(path, lines)
    return [event for _, event in read_log(lines)], False


def fill(store: EventStore, logs: dict[str, list[Event]]) -> None:
    """Bulk-insert each branch's stored log (as the server stored it: checked, promises told)."""
    for branch, log in logs.items():
        with store.writing(branch) as conn:
            store.append_many(conn, branch, 1, log, actor=None)


# measuring ---------------------------------------------------------------------------------
def per_branch(seconds: Sequence[float], branches: int) -> str:
    return f"{statistics.median(seconds) / branches * 1000:.2f} ms/branch"


@dataclass
class Fleet:
    """One store's branches and a service over it with a clock that stands still."""

    name: str
    store: EventStore
    clock: FixedClock
    branches: list[str]
    events: int

    def service(self) -> BranchService:
        return BranchService(self.store, clock=self.clock)


def pure_overview(service: BranchService, branches: Sequence[str]) -> list[dict[str, Any]]:
    """The overview without the catch-up reads: every row from the projection as it is."""
    reports = service.reports
    return sort_by_attention([reports.summary(b, catch_up=False) for b in branches])


def catch_up_only(service: BranchService, branches: Sequence[str]) -> None:
    """The reads the overview makes before each dashboard (nothing new to read)."""
    for branch in branches:
        service.projections.get(branch)


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--branches", type=int, default=200, help="branches in the store (default 200)")
    parser.add_argument("--reference", type=int, default=20, help="branches of the side-by-side overview (default 20)")
    parser.add_argument("--distinct", type=int, default=20, help="distinct simulated days the branches take in turn (default 20)")
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="demo", help="simulations.scenarios name (default: demo)")
    parser.add_argument("--day", type=date.fromisoformat, default=date(2026, 3, 2), help="the simulated day (YYYY-MM-DD)")
    parser.add_argument("--seed", type=int, default=1000, help="seed of the first distinct day (then +1, +2, ...)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each measurement (default 5)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 40 branches, 5 distinct days, 2 runs")
    parser.add_argument("--profile", action="store_true", help="also print cProfile's top functions of one noon overview")
    args = parser.parse_args()
    if args.quick:
        args.branches, args.distinct, args.repeat = min(args.branches, 40), min(args.distinct, 5), min(args.repeat, 2)
    args.distinct = max(1, min(args.distinct, args.branches))
    args.reference = max(1, min(args.reference, args.branches))

    print_preamble("overview_speed.py")

    started = time.perf_counter()
    days: list[list[Event]] = []
    made = 0
    for k in range(args.distinct):
        log, cached = stored_day(args.scenario, args.seed + k, args.day)
        days.append(log)
        made += 0 if cached else 1
    prepared = time.perf_counter() - started
    tickets = [sum(1 for e in log if e.type == "ticket_issued") for log in days]
    sizes = [len(log) for log in days]
    print(
        f"days: scenario {args.scenario!r}, {args.day}, seeds {args.seed}–{args.seed + args.distinct - 1}: "
        f"tickets/day {spread(tickets)}, events/day {spread(sizes)}"
    )
    print(f"      {made} simulated and imported now, {args.distinct - made} read from the cache {CACHE} ({prepared:.1f} s)")

    folder = tempfile.mkdtemp(prefix="qb-overview-")
    fleets: list[Fleet] = []
    try:
        names = [f"branch-{i + 1:03d}" for i in range(args.branches)]
        whole = {name: days[i % args.distinct] for i, name in enumerate(names)}
        zone = days[0][-1].ts.tzinfo
        noon_at = datetime.combine(args.day, datetime.min.time().replace(hour=12), tzinfo=zone)
        noon = {name: [e for e in log if e.ts < noon_at] for name, log in whole.items()}
        end_at = max(log[-1].ts for log in whole.values())
        for label, logs, at in (("end of day", whole, end_at), ("noon", noon, noon_at)):
            store = EventStore(f"sqlite:///{folder}/{label.replace(' ', '-')}.db")
            store.upgrade()
            took, _ = timed(functools.partial(fill, store, logs))
            fleet = Fleet(label, store, FixedClock(at), names, sum(len(log) for log in logs.values()))
            fleets.append(fleet)
            print(f"store ({label}): {args.branches} branches, {fleet.events:,} events, SQLite temp file, bulk insert {took:.1f} s; clock {at.isoformat()}")
        end_fleet, noon_fleet = fleets
        reference = names[: args.reference]

        # cold start: a fresh service per run rebuilds every projection, then its first overview
        cold: dict[str, list[float]] = {"rebuild": [], "first": []}
        for _ in range(args.repeat):
            service = end_fleet.service()
            took, _ = timed(functools.partial(catch_up_only, service, names))
            cold["rebuild"].append(took)
            took, _ = timed(functools.partial(service.reports.overview, names))
            cold["first"].append(took)
            del service

        # warm: one service per store, every projection rebuilt
        services = {fleet.name: fleet.service() for fleet in fleets}
        for fleet in fleets:
            services[fleet.name].reports.overview(fleet.branches)
        end_service, noon_service = services["end of day"], services["noon"]
        measurements: list[tuple[str, Callable[[], object], int]] = [
            (f"end of day: overview of {args.branches} branches", lambda: end_service.reports.overview(names), args.branches),
            (f"end of day: overview of {args.reference} branches", lambda: end_service.reports.overview(reference), args.reference),
            ("  of which the rows alone (no catch-up read)", lambda: pure_overview(end_service, names), args.branches),
            ("  of which the catch-up reads alone", lambda: catch_up_only(end_service, names), args.branches),
            (f"noon: overview of {args.branches} branches", lambda: noon_service.reports.overview(names), args.branches),
            (f"noon: overview of {args.reference} branches", lambda: noon_service.reports.overview(reference), args.reference),
            ("  of which the rows alone (no catch-up read)", lambda: pure_overview(noon_service, names), args.branches),
            ("  of which the catch-up reads alone", lambda: catch_up_only(noon_service, names), args.branches),
        ]
        results: dict[int, list[float]] = {i: [] for i in range(len(measurements))}
        for _ in range(args.repeat):
            for i, (_, run, _) in enumerate(measurements):
                took, _ = timed(run)
                results[i].append(took)

        # one push at noon: a ticket is issued at one branch, then its dashboard and its row
        pushed = names[0]
        projection = noon_service.projections.get(pushed)
        push_times: list[float] = []
        apply_times: list[float] = []
        row_after: dict[str, Any] = {}
        for k in range(args.repeat):
            at = max(noon_at, datetime.fromtimestamp(projection.state.now, zone)) + timedelta(seconds=20)
            noon_fleet.clock.at = at
            event = parse_event({"type": "ticket_issued", "ticket": f"A{901 + k}", "service": "deposit"}, ts=at)
            with noon_service.projections.lock(pushed):
                took, (_, rejection) = timed(functools.partial(projection.accept, event))
            assert rejection is None, rejection
            apply_times.append(took)

            def push() -> dict[str, Any]:
                noon_service.reports.dashboard(pushed, catch_up=False)
                return noon_service.reports.summary(pushed, catch_up=False)

            took, row_after = timed(push)
            push_times.append(took)

        print()
        figures = Figures(52)
        print(figures.header())
        print(f"  cold start ({end_fleet.name}, {end_fleet.events:,} events), a fresh service each run:")
        print(figures.row(f"rebuild {args.branches} projections from the store", cold["rebuild"], rate_range(end_fleet.events, cold["rebuild"])))
        print(figures.row("first overview after it", cold["first"], per_branch(cold["first"], args.branches)))
        print("  warm (every projection rebuilt), all in the same rounds:")
        for i, (label, _, count) in enumerate(measurements):
            note = per_branch(results[i], count)
            if label.endswith(f"overview of {args.branches} branches"):
                note += "  target: well under 1 s"
            print(figures.row(label, results[i], note))
        print(f"  one push at noon ({pushed}, a ticket issued each run):")
        print(figures.row("apply the event (validate, learn, apply, promise)", apply_times))
        print(figures.row("the branch's dashboard + its overview row", push_times))
        print()
        end_per, noon_per = (statistics.median(results[i]) / count for i, (_, _, count) in ((0, measurements[0]), (4, measurements[4])))
        ref_end, ref_noon = (statistics.median(results[i]) / measurements[i][2] for i in (1, 5))
        print(
            f"scaling: per branch, {args.branches} vs {args.reference} branches: end of day {end_per * 1000:.2f} vs {ref_end * 1000:.2f} ms, "
            f"noon {noon_per * 1000:.2f} vs {ref_noon * 1000:.2f} ms (equal per-branch cost = linear)"
        )
        attention = sorted({reason for r in noon_service.reports.overview(names) for reason in r["attention"]})
        print(f"noon overview flags: {', '.join(attention) or 'none'}; the pushed row: waiting {row_after['waiting']}, longest wait {row_after['longest_wait_s']} s, score {row_after['attention_score']}")

        if args.profile:
            profile(f"noon overview of {args.branches} branches", lambda: noon_service.reports.overview(names), 30, "cumulative")
            profile(f"noon overview of {args.branches} branches", lambda: noon_service.reports.overview(names), 25)
    finally:
        for fleet in fleets:
            fleet.store.close()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
