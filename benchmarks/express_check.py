"""What does one "express ≤ N min" counter do to short and long transactions' waits? Simulated.

    .venv/bin/python benchmarks/express_check.py [--quick] [--scenario mixed] [--counter 1] [--seeds 1 2 3] [--days 6]

For each seed, the scenario (default ``mixed``: 4 counters that all serve cash, transfers, foreign
exchange, account services and loans, about 250 customers a day) is simulated for one warm-up
day and ``--days`` measured days (``simulations.branch_sim``: walk-up, wrap-up, lunches, patience,
the core's call rule), once as it is and once per N = 3, 5, 8 with ``--counter`` opening as
"express ≤ N min" (``counter_opened.express_minutes``); the customers' arrivals are the same in
every run of a seed. The warm-up day lets the server learn the transaction lengths it predicts
at ticket time (``ticket_issued.predicted_seconds``): a ticket is *short* at N when that
prediction is at most N minutes, in both runs.

Printed, pooled over seeds and measured days: per N, the share of tickets predicted short,
and for the plain and the express branch the mean and p90 wait (issue → first call; a customer
who gave up counts with what they had waited) of short, long and all tickets, then the change.
The last table is the report's own estimate from the plain runs' records
(``reports.express.express_what_if``: the served customers replayed at the same counters
without walk-up, wrap-up or pauses), to compare with the simulated change.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from collections.abc import Sequence
from datetime import date, timedelta

os.environ.setdefault("OMP_NUM_THREADS", "1")

from queue_board.core.activity import ActivityLog, DayActivity
from queue_board.core.events import Event
from queue_board.core.projection import Projection
from queue_board.reports.express import (
    DEFAULT_EXPRESS_MINUTES,
    WaitSummary,
    express_what_if,
    prediction_shares,
    wait_summary,
)
from queue_board.reports.tables import Cell
from simulations.branch_sim import simulate
from simulations.scenarios import SCENARIOS, with_express

START = date(2026, 3, 2)


def measured_days(events: Sequence[Event], first: date) -> list[DayActivity]:
    """The manager's records of a simulated log, from ``first`` on, as a server that was sent it
    keeps them: each new ticket with the transaction length predicted for it then (the same
    prediction the simulator's own projection gave it, a pure function of the log so far)."""
    projection = Projection(activity=ActivityLog())
    for event in events:
        rejection = projection.submit(event)
        assert rejection is None, rejection.message
    assert projection.activity is not None
    return [day for when, day in sorted(projection.activity.days.items()) if when >= first]


def pooled(parts: Sequence[WaitSummary]) -> WaitSummary:
    """One summary of several runs' waits."""
    return WaitSummary(tuple(w for p in parts for w in p.short), tuple(w for p in parts for w in p.long))


def _cell(value: Cell) -> str:
    return "–" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _change(after: Cell, before: Cell) -> str:
    if not isinstance(after, int | float) or not isinstance(before, int | float):
        return "–"
    return f"{after - before:+.1f}"


HEADER = f"{'N':>3}  {'branch':<16}{'short n':>8}{'mean':>7}{'p90':>7}{'long n':>8}{'mean':>7}{'p90':>7}{'all mean':>10}{'all p90':>9}"


def print_row(minutes: float, label: str, row: tuple[Cell, ...]) -> None:
    """One line of the table: counts, then minutes."""
    sn, sm, sp, ln, lm, lp, am, ap = row
    print(
        f"{minutes:>3g}  {label:<16}{_cell(sn):>8}{_cell(sm):>7}{_cell(sp):>7}{_cell(ln):>8}{_cell(lm):>7}{_cell(lp):>7}"
        f"{_cell(am):>10}{_cell(ap):>9}"
    )


def print_change(minutes: float, after: tuple[Cell, ...], before: tuple[Cell, ...]) -> None:
    """The express row minus the plain one (minutes)."""
    pairs = [(after[i], before[i]) for i in (1, 2, 4, 5, 6, 7)]
    sm, sp, lm, lp, am, ap = (_change(a, b) for a, b in pairs)
    print(f"{minutes:>3g}  {'change':<16}{'':>8}{sm:>7}{sp:>7}{'':>8}{lm:>7}{lp:>7}{am:>10}{ap:>9}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the check and print its tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--scenario", default="mixed", choices=sorted(SCENARIOS))
    parser.add_argument("--counter", default="1", help="the counter that becomes express (default 1)")
    parser.add_argument("--minutes", type=float, nargs="+", default=list(DEFAULT_EXPRESS_MINUTES))
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5, 6, 7, 8])
    parser.add_argument("--days", type=int, default=6, help="measured days per seed, after one warm-up day")
    parser.add_argument("--quick", action="store_true", help="two seeds, two measured days")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.days = args.seeds[:2], 2
    print("$ " + shlex.join(["python", "benchmarks/express_check.py", *(sys.argv[1:] if argv is None else argv)]))
    scenario = SCENARIOS[args.scenario]()
    first = START + timedelta(days=1)
    total_days = args.days + 1
    print(
        f"scenario {scenario.name}: {len(scenario.counters)} counters, {sum(scenario.expected_arrivals().values()):.0f} customers a day · "
        f"express counter {args.counter} · seeds {args.seeds} · 1 warm-up + {args.days} measured days each"
    )
    started = time.perf_counter()
    plain_days: list[DayActivity] = []
    plain: dict[float, list[WaitSummary]] = {m: [] for m in args.minutes}
    express: dict[float, list[WaitSummary]] = {m: [] for m in args.minutes}
    for seed in args.seeds:
        days = measured_days(simulate(scenario, total_days, START, seed), first)
        plain_days.extend(days)
        for minutes in args.minutes:
            plain[minutes].append(wait_summary(days, minutes))
            variant = with_express(scenario, args.counter, minutes)
            express[minutes].append(wait_summary(measured_days(simulate(variant, total_days, START, seed), first), minutes))
    print(f"({time.perf_counter() - started:.0f} s)")

    shares = prediction_shares(plain_days, args.minutes)
    print("\nTickets predicted short at ticket time (plain runs), and how often the prediction held:")
    print(f"{'N':>3}  {'predicted short':>16}{'short really ≤ N':>18}{'long really > N':>17}")
    for row in shares.rows:
        if row[1] == "all":
            print(f"{_cell(row[0]):>3}  {_cell(row[5]):>16}{_cell(row[7]):>18}{_cell(row[9]):>17}")

    print("\nSimulated waits, minutes (short = predicted ≤ N min at ticket time):")
    print(HEADER)
    for minutes in args.minutes:
        before = pooled(plain[minutes]).row()
        after = pooled(express[minutes]).row()
        print_row(minutes, "plain", before)
        print_row(minutes, f"express ≤ {minutes:g}", after)
        print_change(minutes, after, before)

    estimate = express_what_if(plain_days, args.minutes)
    print("\nThe report's estimate from the plain runs' records (express_what_if), minutes:")
    print(HEADER)
    rows = {(row[0], row[1]): row[2:] for row in estimate.rows}
    for minutes in args.minutes:
        before, after = rows[(minutes, "fifo")], rows[(minutes, "express")]
        print_row(minutes, "plain", before)
        print_row(minutes, f"express ≤ {minutes:g}", after)
        print_change(minutes, after, before)
    return 0


if __name__ == "__main__":
    sys.exit(main())
