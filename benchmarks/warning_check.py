"""How well does ``promise_at_risk`` warn before a promise breaks? A check on simulated days.

    .venv/bin/python benchmarks/warning_check.py [--quick] [--scenarios demo busy] [--seeds 1 2 3]
        [--learn-days 3] [--eval-days 1]

For each scenario and seed: simulate ``learn-days + eval-days`` days (simulations/branch_sim.py)
and replay the log event by event through a ``Projection`` with activity records, as the live
server does (``accept``: every ticket is told its own forecast at issue). On the evaluated days,
at every whole simulated minute someone with a promise waits, forecast the branch as it stands
at that minute (the state's clock moved to the minute, so work in progress is conditioned on
how long it has lasted) and evaluate :func:`queue_board.reports.warnings.promise_at_risk`.

A promise is *broken* when the ticket waited (issue → first call, or → cancellation / the end of
the day if never called) longer than the top of the range it was shown. Per threshold setting:

- recall: share of broken promises first warned at least ``--lead`` minutes (5) before the top passed;
- precision: share of tickets warned before their top passed whose promise then broke
  (the issue's wider precision also counts a warning "followed by an action"; the log does not
  say which call was the manager's action, so only the strict figure is measured);
- false alarms per hour: warned tickets whose promise held, per hour the branch was open.

The rule is run once per minute with the thresholds opened wide (every ticket's probability is
kept), and the settings are then applied to those probabilities, which is what the rule does
(``slack <= horizon`` and ``p_break > break_likely``).
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

os.environ.setdefault("OMP_NUM_THREADS", "1")

from queue_board.core.activity import ActivityLog, shown_top_seconds
from queue_board.core.events import Event
from queue_board.core.projection import Projection
from queue_board.forecast.monte_carlo import calibrate
from queue_board.reports.warnings import WarningThresholds, promise_at_risk
from simulations.branch_sim import simulate
from simulations.scenarios import SCENARIOS

START = date(2026, 3, 2)
#: every ticket's probability is kept (the settings are applied afterwards)
WIDE_OPEN = WarningThresholds(break_likely=-1.0, horizon_minutes=1e9)
BREAK_LIKELY = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
HORIZONS = (8.0, 10.0, 15.0, 20.0, 30.0)


@dataclass(slots=True)
class TicketTrace:
    """One promised ticket of an evaluated day: its minute-by-minute (now, slack, p_break) and its fate."""

    top_at: float
    issued_at: float
    broken: bool
    points: list[tuple[float, float, float]] = field(default_factory=list)


@dataclass(slots=True)
class DayResult:
    scenario: str
    seed: int
    day: date
    open_hours: float
    tickets: list[TicketTrace]
    ticks: int
    seconds: float


def replay_and_watch(events: Sequence[Event], eval_days: set[date], scenarios: int) -> tuple[list[tuple[date, float, dict[str, TicketTrace]]], int]:
    """Replay ``events``; on the evaluated days evaluate the rule at every whole minute."""
    projection = Projection(activity=ActivityLog(), scenarios=scenarios)
    traces: dict[date, dict[str, list[tuple[float, float, float]]]] = defaultdict(lambda: defaultdict(list))
    current: date | None = None
    next_tick = 0.0
    ticks = 0
    activity = projection.activity
    assert activity is not None
    for event in events:
        day = event.day
        if day != current:
            # a new day: its first minute comes after its first event (the state is still yesterday's)
            current, next_tick = day, math.ceil(event.at / 60.0) * 60.0
        elif day in eval_days:
            while next_tick <= event.at:
                ticks += _tick(projection, next_tick, traces[day])
                next_tick += 60.0
        _, rejection = projection.accept(event)
        if rejection is not None:
            raise RuntimeError(rejection.message)
    out: list[tuple[date, float, dict[str, TicketTrace]]] = []
    for day in sorted(eval_days):
        record = activity.days[day]
        tickets: dict[str, TicketTrace] = {}
        for label, ticket in record.tickets.items():
            if ticket.told is None:
                continue
            top = shown_top_seconds(ticket.told)
            waited = ticket.waited_until(record.last_at)
            tickets[label] = TicketTrace(top_at=ticket.issued_at + top, issued_at=ticket.issued_at, broken=waited > top, points=traces[day].get(label, []))
        out.append((day, (record.last_at - record.first_at) / 3600.0, tickets))
    return out, ticks


def _tick(projection: Projection, at: float, traces: dict[str, list[tuple[float, float, float]]]) -> int:
    """Forecast the branch as it stands at ``at`` and keep every promised waiting ticket's figures."""
    state = projection.state
    today = projection.activity.today if projection.activity is not None else None
    if today is None or not any(today.tickets.get(t.label) is not None and today.tickets[t.label].told is not None for t in state.waiting_tickets()):
        return 0
    moved = state.copy_for_forecast()
    moved.now = at
    forecast = calibrate(projection.forecaster.forecast(moved, projection.model), projection.model.calibrator, moved)
    for warning in promise_at_risk(moved, today, forecast, at, WIDE_OPEN):
        assert warning.subject is not None
        slack = warning.facts["slack"]
        p_break = warning.facts["p_break"]
        assert isinstance(slack, float) and isinstance(p_break, float)
        traces[warning.subject].append((at, slack, p_break))
    return 1


@dataclass(slots=True)
class Score:
    broken: int = 0
    #: broken promises whose shown top was more than the lead after issue: a warning that early was possible
    warnable: int = 0
    warned_in_time: int = 0
    warned: int = 0
    warned_broken: int = 0
    hours: float = 0.0
    promises: int = 0

    def add(self, tickets: Sequence[TicketTrace], hours: float, break_likely: float, horizon_min: float, lead_min: float) -> None:
        self.hours += hours
        self.promises += len(tickets)
        for ticket in tickets:
            first = next(
                (at for at, slack, p in ticket.points if slack <= horizon_min * 60.0 and p > break_likely and slack > 0), None
            )
            self.broken += ticket.broken
            self.warnable += ticket.broken and ticket.top_at - ticket.issued_at > lead_min * 60.0
            if first is not None:
                self.warned += 1
                self.warned_broken += ticket.broken
                if ticket.broken and first <= ticket.top_at - lead_min * 60.0:
                    self.warned_in_time += 1

    @property
    def recall(self) -> float:
        return self.warned_in_time / self.broken if self.broken else float("nan")

    @property
    def recall_warnable(self) -> float:
        return self.warned_in_time / self.warnable if self.warnable else float("nan")

    @property
    def precision(self) -> float:
        return self.warned_broken / self.warned if self.warned else float("nan")

    @property
    def false_per_hour(self) -> float:
        return (self.warned - self.warned_broken) / self.hours if self.hours else float("nan")


def pct(value: float) -> str:
    return "   –" if math.isnan(value) else f"{100 * value:4.0f}%"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="demo only, seeds 1 and 2, 2 learning days")
    parser.add_argument("--scenarios", nargs="+", default=["demo", "busy"], choices=sorted(SCENARIOS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--learn-days", type=int, default=3)
    parser.add_argument("--eval-days", type=int, default=1)
    parser.add_argument("--lead", type=float, default=5.0, help="minutes of warning that count for recall")
    parser.add_argument("--mc-scenarios", type=int, default=128, help="Monte-Carlo scenarios per forecast")
    args = parser.parse_args(argv)
    if args.quick:
        args.scenarios, args.seeds, args.learn_days = ["demo"], [1, 2], 2
    print(f"command: .venv/bin/python benchmarks/warning_check.py {shlex.join(sys.argv[1:] if argv is None else list(argv))}".rstrip())
    defaults = WarningThresholds()
    print(
        f"defaults: break_likely {defaults.break_likely}, horizon {defaults.horizon_minutes:g} min; "
        f"recall counts warnings >= {args.lead:g} min before the shown top; {args.mc_scenarios} Monte-Carlo scenarios"
    )
    results: list[DayResult] = []
    for name in args.scenarios:
        for seed in args.seeds:
            started = time.perf_counter()
            days = args.learn_days + args.eval_days
            events = simulate(SCENARIOS[name](), days, START, seed)
            eval_days = {d for d in sorted({e.day for e in events})[args.learn_days :]}
            watched, ticks = replay_and_watch(events, eval_days, args.mc_scenarios)
            elapsed = time.perf_counter() - started
            for day, hours, tickets in watched:
                results.append(DayResult(name, seed, day, hours, list(tickets.values()), ticks, elapsed))
    print()
    print("per day, default thresholds")
    print(f"{'scenario':9} {'seed':>4} {'day':10} {'promises':>8} {'broken':>6} {'>lead':>5} {'warned':>6} {'recall':>6} {'r>lead':>6} {'precision':>9} {'false/h':>7} {'ticks':>5} {'time':>6}")
    total = Score()
    by_scenario: dict[str, Score] = defaultdict(Score)
    for r in results:
        score = Score()
        for s in (score, total, by_scenario[r.scenario]):
            s.add(r.tickets, r.open_hours, defaults.break_likely, defaults.horizon_minutes, args.lead)
        print(
            f"{r.scenario:9} {r.seed:4} {r.day.isoformat():10} {score.promises:8} {score.broken:6} {score.warnable:5} {score.warned:6} "
            f"{pct(score.recall):>6} {pct(score.recall_warnable):>6} {pct(score.precision):>9} {score.false_per_hour:7.2f} {r.ticks:5} {r.seconds:5.1f}s"
        )
    for name, score in by_scenario.items():
        print(f"{name + ' (all)':20} {score.promises:>19} {score.broken:6} {score.warnable:5} {score.warned:6} {pct(score.recall):>6} {pct(score.recall_warnable):>6} {pct(score.precision):>9} {score.false_per_hour:7.2f}")
    print(f"{'all':20} {total.promises:>19} {total.broken:6} {total.warnable:5} {total.warned:6} {pct(total.recall):>6} {pct(total.recall_warnable):>6} {pct(total.precision):>9} {total.false_per_hour:7.2f}")
    print()
    print(
        "columns: broken = promises broken; >lead = of them, shown a top more than the lead after issue (a warning "
        "that early was possible); recall = broken warned >= lead ahead / broken; r>lead = the same / >lead"
    )
    print()
    print("all days: recall (r>lead) / precision / false alarms per hour by setting (issue 11 aims at recall >= 70% at precision >= 50%)")
    print(f"{'break_likely':>12} " + " ".join(f"{f'horizon {h:g} min':>27}" for h in HORIZONS))
    for likely in BREAK_LIKELY:
        cells = []
        for horizon in HORIZONS:
            score = Score()
            for r in results:
                score.add(r.tickets, r.open_hours, likely, horizon, args.lead)
            mark = "*" if likely == defaults.break_likely and horizon == defaults.horizon_minutes else " "
            cells.append(f"{pct(score.recall)} ({pct(score.recall_warnable).strip()}) {pct(score.precision)} {score.false_per_hour:4.2f}{mark}")
        print(f"{likely:12.1f} " + " ".join(f"{c:>27}" for c in cells))
    print("(* = the defaults)")


if __name__ == "__main__":
    main()
