"""Time the manager's reports over a long log of a busy branch: the cold rebuild after a restart,
the first 90-day report, warm repeated reports, filters and the live dashboard.

    .venv/bin/python benchmarks/report_speed.py [--days 90] [--repeat 5] [--scenario busy]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--quick] [--profile]

The log is simulated once (``simulations``), imported through ``BranchService.import_log`` into a
fresh SQLite store (which tells each new ticket its promise, as the live server did) and cached
as stored, promises included, under ``$TMPDIR/queue_board_bench/``; later runs import the cached
log (``--regenerate`` makes it again). Then, each figure min / median / max over ``--repeat``
runs (the 2-core machine is shared: single figures lie):

- cold: a fresh ``BranchService`` over the store rebuilds the branch's projection (catch-up,
  every event read, parsed and replayed), then the first report over every day (each closed
  day's columns are worked out once and memoised on the day);
- warm: the same report again, over 7 days and 1 day, with a service and a counter filter;
- reference, side by side in the same run: the long report with every day's memo cleared
  first (recounting every record, as the first report does), and the last day's dashboard;
- memory of the activity records and of the memoised columns (tracemalloc);
- a check that the warm report equals the first report of each fresh rebuild (a restart gives
  the same numbers).

The clock stands still at the log's last event, so "today" is the log's last day. Nothing is
asserted: the script prints figures and exits 0. ``--profile`` adds cProfile's top functions
of one rebuild, one warm report and one report without memo.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import gc
import json
import os
import shutil
import statistics
import tempfile
import time
import tracemalloc
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

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
from sqlalchemy import delete

from queue_board.core.activity import ActivityLog
from queue_board.core.events import Event, event_to_json, read_log
from queue_board.reports.columns import DayColumns, day_columns
from queue_board.reports.history import Filters, history
from queue_board.reports.quality import quality
from queue_board.reports.tables import Table
from queue_board.service.branch_service import BranchService
from queue_board.service.clock import SystemClock
from queue_board.service.reports import MAX_RANGE_DAYS, Period
from queue_board.store.event_store import EventStore, branches, events
from simulations.branch_sim import simulate
from simulations.scenarios import SCENARIOS


# log ---------------------------------------------------------------------------------------
def cached_log_path(scenario: str, days: int, seed: int, start: date) -> Path:
    return CACHE / f"{scenario}-{days}d-seed{seed}-{start.isoformat()}.stored.jsonl"


def load_into(store: EventStore, branch: str, lines: list[str]) -> tuple[BranchService, float]:
    """Import ``lines`` into ``branch`` of ``store`` through the service; (importer, seconds)."""
    importer = BranchService(store)
    started = time.perf_counter()
    importer.import_log(branch, lines)
    return importer, time.perf_counter() - started


def prepare_log(args: argparse.Namespace, store: EventStore, branch: str) -> tuple[list[str], str]:
    """The stored log's lines (simulated and cached on first use) and how they were obtained;
    ``branch`` of ``store`` holds them afterwards."""
    path = cached_log_path(args.scenario, args.days, args.seed, args.start)
    cached = None if args.regenerate else cached_lines(path)
    if cached is not None:
        _, took = load_into(store, branch, cached)
        return cached, f"read from the cache {path}; imported in {took:.1f} s"
    started = time.perf_counter()
    simulated = simulate(SCENARIOS[args.scenario](), args.days, args.start, args.seed, "+08:00")
    simulated_in = time.perf_counter() - started
    raw = [event_to_json(e) + "\n" for e in simulated]
    importer, took = load_into(store, branch, raw)
    lines = list(importer.export_lines(branch))
    write_cached(path, lines)
    return lines, f"simulated in {simulated_in:.1f} s, imported in {took:.1f} s (each ticket told its promise), cached at {path}"


# measuring ---------------------------------------------------------------------------------
def fingerprint(tables: dict[str, Table]) -> str:
    return json.dumps({name: table.as_dict() for name, table in sorted(tables.items())}, sort_keys=True, default=str)


def totals_line(tables: dict[str, Table]) -> str:
    totals = dict(zip(tables["totals"].columns, tables["totals"].rows[0], strict=True))
    keys = ("arrivals", "served", "no_shows", "cancelled", "wait_p50_min", "wait_p90_min", "service_level", "transactions", "utilisation_open")
    return ", ".join(f"{key} {totals[key]}" for key in keys)


# the benchmark -----------------------------------------------------------------------------
def describe_log(parsed: list[Event]) -> tuple[str, Counter[str], Counter[str]]:
    issued = Counter(e.day for e in parsed if e.type == "ticket_issued")
    per_day = list(issued.values())
    services = Counter(e.service for e in parsed if e.type == "ticket_issued" and e.service is not None)
    counters = Counter(e.counter for e in parsed if e.type == "ticket_called" and e.counter is not None)
    days = len({e.day for e in parsed})
    text = (
        f"{len(parsed):,} events over {days} days ({len(parsed) / days:,.0f} events/day); "
        f"tickets/day {spread(per_day)}, "
        f"{sum(per_day):,} tickets; {len(counters)} counters, {len(services)} services"
    )
    return text, services, counters


@dataclass
class Cold:
    """The cold figures of one store."""

    name: str
    rebuild: list[float] = field(default_factory=list)
    first: list[float] = field(default_factory=list)
    read: list[float] = field(default_factory=list)
    activity: list[float] = field(default_factory=list)
    #: the first report of each fresh rebuild, to compare with the warm one
    prints: list[str] = field(default_factory=list)


def cold_runs(name: str, store: EventStore, branch: str, clock: SystemClock, period: Period, parsed: list[Event], times: int) -> Cold:
    """Rebuild from the store ``times`` times, each followed by the first report; side by side,
    the store's read alone (rows → events) and the activity records alone (events → ActivityLog)."""
    cold = Cold(name)
    for _ in range(times):
        service = BranchService(store, clock=clock)
        took, _ = timed(functools.partial(service.projections.get, branch))
        cold.rebuild.append(took)
        took, tables = timed(functools.partial(service.reports.history, branch, period))
        cold.first.append(took)
        cold.prints.append(fingerprint(tables))
        del service, tables
        took, _ = timed(lambda: sum(1 for _ in store.load(branch)))
        cold.read.append(took)
        took, _ = timed(lambda: feed(ActivityLog(), parsed))
        cold.activity.append(took)
    return cold


def feed(activity: ActivityLog, parsed: list[Event]) -> ActivityLog:
    for event in parsed:
        activity.record(event)
    return activity


def report_tables(columns: list[DayColumns]) -> dict[str, Table]:
    """What ``BranchReports.history`` computes once it has the days' columns."""
    tables = history(columns)
    tables.update(quality(columns))
    return tables


def shifted(columns: list[DayColumns], times: int) -> list[DayColumns]:
    """``columns`` over and over, ``times`` times in a row with later dates: a longer period
    with the same days' contents."""
    span = timedelta(days=len(columns))
    return [dataclasses.replace(c, day=c.day + span * i) for i in range(times) for c in columns]


def activity_memory(parsed: list[Event]) -> tuple[int, int, int]:
    """Bytes held by an ActivityLog fed the whole log, then by the memoised columns of its
    closed days, and tracemalloc's peak over both (the events themselves are not counted)."""
    gc.collect()
    tracemalloc.start()
    activity = feed(ActivityLog(), parsed)
    gc.collect()
    records, _ = tracemalloc.get_traced_memory()
    for day in activity.days.values():
        day_columns(day, day.last_at)
    gc.collect()
    both, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del activity
    return records, both - records, peak


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="busy", help="simulations.scenarios name (default: busy)")
    parser.add_argument("--days", type=int, default=90, help="days of log; the long report covers all of them (default 90)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 3, 2), help="first day (YYYY-MM-DD)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each measurement (default 5)")
    parser.add_argument("--cold-repeat", type=int, default=None, help="runs of the cold rebuild (default: --repeat)")
    parser.add_argument("--database-url", default=None, help="also time the rebuild over this store (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    parser.add_argument("--regenerate", action="store_true", help="simulate the log again instead of reading the cache")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 14 days, 2 runs")
    parser.add_argument("--profile", action="store_true", help="also print cProfile's top functions")
    args = parser.parse_args()
    if args.quick:
        args.days, args.repeat = min(args.days, 14), min(args.repeat, 2)
    cold_times = args.cold_repeat or args.repeat

    print_preamble("report_speed.py")
    folder = tempfile.mkdtemp(prefix="qb-report-")
    stores: list[tuple[str, EventStore, str]] = []
    try:
        sqlite = EventStore(f"sqlite:///{folder}/report.db")
        sqlite.upgrade()
        branch = "bench"
        lines, how = prepare_log(args, sqlite, branch)
        stores.append(("SQLite (temp file)", sqlite, branch))
        parsed = [event for _, event in read_log(lines)]
        described, services, counters = describe_log(parsed)
        print(f"log: scenario {args.scenario!r}, seed {args.seed}, {args.days} days from {args.start}: {described}")
        print(f"     {how}")
        if args.database_url:
            other = EventStore(args.database_url)
            other.upgrade()
            other_branch = f"bench-report-{uuid.uuid4().hex[:8]}"
            _, took = load_into(other, other_branch, lines)
            stores.append((f"{other.engine.dialect.name} ({other.engine.url.render_as_string(hide_password=True)})", other, other_branch))
            print(f"     also imported into {stores[-1][0]} as branch {other_branch!r} in {took:.1f} s")

        last = parsed[-1]
        clock = FixedClock(last.ts)
        last_day = last.day
        long_period = Period(last_day - timedelta(days=args.days - 1), last_day)
        week = Period(last_day - timedelta(days=6), last_day)
        one_day = Period(last_day, last_day)
        service_name = services.most_common(1)[0][0]
        counter_name = counters.most_common(1)[0][0]
        n = args.days

        # cold: a restart, per store
        cold = [cold_runs(name, store, store_branch, clock, long_period, parsed, cold_times) for name, store, store_branch in stores]

        # warm: one service whose projection is rebuilt and whose days are memoised
        service = BranchService(sqlite, clock=clock, warnings_enabled=True)
        reports = service.reports
        projection = service.projections.get(branch)
        assert projection.activity is not None
        activity = projection.activity
        reports.history(branch, long_period)
        now = clock.at.timestamp()

        def clear_memo() -> None:
            for day in activity.days.values():
                day.memo.clear()

        def columns_only() -> list[DayColumns]:
            return [day_columns(day, now) for day in activity.in_range(long_period.start, long_period.end)]

        memoised = columns_only()
        longer = {k: shifted(memoised, k) for k in (2, 4)}
        service.refresh(branch)  # the warning check reads the latest forecast, as the server's does
        # every measurement once per round, round after round: the machine's noise falls on all
        measurements: list[tuple[str, str, Callable[[], object], Callable[[], None] | None]] = [
            ("warm", f"{n}-day report", lambda: reports.history(branch, long_period), None),
            ("warm", f"  of which the {n} days' columns (memo + today)", columns_only, None),
            ("warm", "  of which history() + quality() on them", lambda: report_tables(memoised), None),
            ("warm", "7-day report", lambda: reports.history(branch, week), None),
            ("warm", "1-day report (today, never memoised)", lambda: reports.history(branch, one_day), None),
            ("warm", f"{n}-day report, service {service_name!r}", lambda: reports.history(branch, long_period, filters=Filters(service=service_name)), None),
            ("warm", f"{n}-day report, counter {counter_name!r}", lambda: reports.history(branch, long_period, filters=Filters(counter=counter_name)), None),
            ("reference", f"{n}-day report, memo cleared before each run", lambda: reports.history(branch, long_period), clear_memo),
            ("reference", f"  of which the {n} days' columns (recounted)", columns_only, clear_memo),
            ("reference", "dashboard of the last day", lambda: reports.dashboard(branch), None),
            # what the server judges after every forecast (and every 30 s): the early-warning and
            # re-promise rules, nothing written (service.warnings.planned)
            ("reference", "early-warning check of the last day", lambda: service.warnings.planned(branch), None),
            ("reference", f"history() + quality() on {2 * n} days' columns", lambda: report_tables(longer[2]), None),
            ("reference", f"history() + quality() on {4 * n} days' columns", lambda: report_tables(longer[4]), None),
        ]
        compared = {measurements[i][1] for i in (7, 11, 12)}
        results: dict[str, list[float]] = {label: [] for _, label, _, _ in measurements}
        for _ in range(args.repeat):
            for _, label, run, before in measurements:
                if before is not None:
                    before()
                took, _ = timed(run)
                results[label].append(took)
        warm_tables = reports.history(branch, long_period)
        records, memo, peak = activity_memory(parsed)

        closed = sum(1 for day in activity.days.values() if day.closed)
        print(f"clock fixed at the last event, {clock.at.isoformat()}; 'today' is {last_day} ({closed} closed days memoised)")
        print(f"filters: service {service_name!r} (the most issued), counter {counter_name!r} (the most calls)")
        print(f"longer periods: the {n} days' memoised columns repeated 2 and 4 times with later dates (a report may cover {MAX_RANGE_DAYS} days)")
        print()
        figures = Figures(46)
        print(figures.header())
        for c in cold:
            print(f"  cold, {c.name}:")
            print(figures.row("rebuild the projection from the store", c.rebuild, rate_range(len(parsed), c.rebuild)))
            print(figures.row(f"first {n}-day report after the rebuild", c.first, "works out every closed day's columns once"))
            print(figures.row("  side by side: read the store alone", c.read, "rows → parsed events"))
            print(figures.row("  side by side: activity records alone", c.activity, "parsed events → ActivityLog"))
        warm_median = statistics.median(results[f"{n}-day report"])
        section = ""
        for kind, label, _, _ in measurements:
            if kind != section:
                print("  warm (one rebuilt projection, closed days memoised):" if kind == "warm" else "  reference, side by side (same rounds):")
                section = kind
            note = "target: under 1 s" if label == f"{n}-day report" else ""
            if label in compared:
                note = f"{statistics.median(results[label]) / warm_median:.1f}x the warm {n}-day median"
            print(figures.row(label, results[label], note))
        print()
        megabyte = 1024 * 1024
        print(
            f"memory: activity records of {n} days {records / megabyte:.1f} MB ({records / len(parsed):.0f} B/event), "
            f"memoised columns {memo / megabyte:.1f} MB, tracemalloc peak {peak / megabyte:.1f} MB"
        )
        warm_print = fingerprint(warm_tables)
        for c in cold:
            same = sum(1 for p in c.prints if p == warm_print)
            verdict = "yes" if same == len(c.prints) else "NO"
            print(f"restart check ({c.name}): warm {n}-day report == first report of a fresh rebuild: {verdict} ({same}/{len(c.prints)} rebuilds, every table)")
        print(f"  totals: {totals_line(warm_tables)}")

        if args.profile:
            fresh = BranchService(sqlite, clock=clock)
            profile("rebuild the projection from the store", lambda: fresh.projections.get(branch), 25)
            profile(f"warm {n}-day report", lambda: reports.history(branch, long_period), 20, "cumulative")
            clear_memo()
            profile(f"{n}-day report, memo cleared", lambda: reports.history(branch, long_period), 20)
    finally:
        for _, store, store_branch in stores[1:]:
            with store.engine.begin() as conn:
                conn.execute(delete(events).where(events.c.branch == store_branch))
                conn.execute(delete(branches).where(branches.c.id == store_branch))
        for _, store, _ in stores:
            store.close()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
