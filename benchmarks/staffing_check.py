"""Does the staffing advice keep the p90 wait near the target with no more counter-hours than needed?

    .venv/bin/python benchmarks/staffing_check.py [--quick] [--scenarios demo busy] [--target-min 10]
        [--seeds 1 2 3] [--layouts pooled leaning real] [--holdout-days 10] [--no-search]
        [--share 0.8] [--plan-slack 1.0] [--no-refine] [--no-pauses] [--erlang-c]

For each scenario and seed:

1. simulate ``--learn-days`` days with the scenario's own staffing and learn from their
   :class:`~queue_board.core.activity.DayActivity` records what the dashboard learns
   (:func:`queue_board.reports.staffing.learn_inputs`): arrival rates per weekday × hour and
   service, handling times per service (call → finish, plus wrap-up: their means and the
   samples), mean patience and the share of open counter time paused per hour;
2. advise, hour by hour, the counters to have open so that the p90 offered wait stays under
   the target, as the dashboard does (:func:`queue_board.reports.staffing.plan_day`): Erlang A
   with the learned patience and the pauses taken off each counter's capacity, then refined on
   simulated days, each hour meeting the target on ``--share`` of them (``--no-refine``: Erlang
   alone; ``--no-pauses``: pauses ignored; ``--erlang-c``; ``--plan-slack``: advise for a
   target that many times the checked one);
3. re-simulate ``--eval-days`` next days with the same customers (same seed) with the
   scenario's own counters and with the advice laid out as stacked counters (the k-th opens in
   the hours that need at least k; a :class:`~simulations.scenarios.CounterSpec` has one
   opening interval, so a counter open in two runs of hours is two specs). ``--layouts``:
   ``pooled`` — each advised counter takes every service in one tier, with the pauses (lunch,
   authorisations) of one of the scenario's counters (the k-th, cycling); ``real`` — the k-th
   advised counter *is* one of the scenario's counters, with its tiers, speeds and pauses, taken
   in an order that covers every service first (the branch's real mix);
4. measure the p90 wait of the tickets issued in each hour (issue → first call; a customer
   who gave up counts with the time they had waited, a lower bound of their wait);
5. search the simulator's own fewest counters per hour in the same layout: from the advice (or
   one more everywhere, if it misses), take counters away one hour at a time while every hour
   still keeps p90 <= 1.1 × target on 80 % of the evaluation days. A greedy search on the very
   days it scores: an optimistic yardstick for "no more counter-hours than needed";
6. simulate ``--holdout-days`` later days (seeds of their own, never searched on) with the
   advice and with the search's best: whether the search's fewer counter-hours were needed or
   the luck of the days it was fitted to.

Printed per scenario and layout: the share of hours whose simulated p90 is within 10 % of the
target (at most 1.1 × target) and at most the target, with the advice and with the scenario's
own staffing; the counter-hours per day each uses and the search's, per seed; and per hour the
Erlang prediction at the scenario's own staffing against its simulated p90.
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, time, timedelta

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from queue_board.core.activity import ActivityLog, DayActivity
from queue_board.core.events import Event
from queue_board.reports.staffing import (
    LEANING,
    POOLED,
    SIMULATED_SHARE,
    Advice,
    learn_inputs,
    plan_day,
    split_counters,
)
from simulations.branch_sim import simulate
from simulations.scenarios import SCENARIOS, CounterSpec, Scenario

START = date(2026, 3, 2)
LAYOUTS = ("pooled", "leaning", "real")


def activity_of(events: Sequence[Event]) -> ActivityLog:
    """The manager's records of a simulated log (every event was accepted by the simulator's
    own projection, so feeding the records directly is what a ``Projection`` would do)."""
    log = ActivityLog()
    for event in events:
        log.record(event)
    return log


def door_hours(scenario: Scenario) -> list[int]:
    """The local hours in which customers arrive."""
    first = scenario.doors_open.hour
    last = scenario.doors_close.hour - (1 if scenario.doors_close.minute == 0 else 0)
    return list(range(first, last + 1))


def planned_counters(scenario: Scenario) -> dict[int, int]:
    """Counters the scenario has open in each door hour (its gross schedule: pauses not taken off)."""
    plan: dict[int, int] = {}
    for hour in door_hours(scenario):
        start, end = time(hour), time(hour + 1) if hour < 23 else time(23, 59, 59)
        plan[hour] = sum(1 for c in scenario.counters if c.opens < end and c.closes > start)
    return plan


def scenario_counter_hours(scenario: Scenario) -> float:
    """Hours the scenario's counters are scheduled open within the doors' hours."""
    total = 0.0
    doors = (_minutes(scenario.doors_open), _minutes(scenario.doors_close))
    for counter in scenario.counters:
        total += max(0.0, min(_minutes(counter.closes), doors[1]) - max(_minutes(counter.opens), doors[0])) / 60.0
    return total


def _minutes(at: time) -> float:
    return at.hour * 60 + at.minute + at.second / 60


def covering_order(scenario: Scenario) -> list[CounterSpec]:
    """The scenario's counters in the order the advice opens them: each next one the counter that
    serves the most services no earlier one serves (ties: the scenario's order), so that a few
    counters already serve everyone."""
    left = list(scenario.counters)
    covered: set[str] = set()
    order: list[CounterSpec] = []
    while left:
        best = max(left, key=lambda c: (len({code for tier in c.services for code in tier} - covered), -left.index(c)))
        order.append(best)
        covered |= {code for tier in best.services for code in tier}
        left.remove(best)
    return order


def leading_services(counters: dict[int, int], split: dict[int, dict[str, int]]) -> dict[tuple[int, int], str]:
    """(hour, k) → the service the k-th counter open in that hour leads with: the advice's split
    of that hour's counters by service, the services with the most counters on the lowest k."""
    lead: dict[tuple[int, int], str] = {}
    for hour, count in counters.items():
        shares = split.get(hour, {})
        levels = [code for code in sorted(shares, key=lambda c: (-shares[c], c)) for _ in range(shares[code])]
        for level in range(1, count + 1):
            lead[(hour, level)] = levels[level - 1] if level <= len(levels) else ""
    return lead


def advised_scenario(
    scenario: Scenario, counters: dict[int, int], layout: str = "pooled", split: dict[int, dict[str, int]] | None = None
) -> Scenario:
    """The scenario with its counters replaced by the advice: the k-th counter is open in every
    run of consecutive hours needing at least k (one spec per run: a spec has one interval).
    A run that reaches the doors' closing closes with them, so it serves whoever is still in.

    ``pooled``: every counter takes every service in one tier, with the pauses of the scenario's
    k-th counter (cycling when the advice has more). ``leaning``: the same, but each counter
    takes the service the advice's split gives it (``split``: hour → service → counters; the
    run's first hour decides) first and every other one in a second tier. ``real``: the k-th
    counter of :func:`covering_order` (cycling) as it is, tiers, speeds and pauses."""
    every = (tuple(s.code for s in scenario.services),)
    lead = leading_services(counters, split or {}) if layout == "leaning" else {}
    order = covering_order(scenario)
    specs: list[CounterSpec] = []
    hours = sorted(counters)
    for level in range(1, max(counters.values(), default=0) + 1):
        model = order[(level - 1) % len(order)]
        run: list[int] = []
        for hour in [*hours, None]:
            if hour is not None and counters[hour] >= level and (not run or hour == run[-1] + 1):
                run.append(hour)
                continue
            if run:
                closes = scenario.doors_close if run[-1] == hours[-1] else time(run[-1] + 1)
                services: tuple[tuple[str, ...], ...] = every
                first_service = lead.get((run[0], level), "")
                if first_service:
                    services = ((first_service,), tuple(code for code in every[0] if code != first_service))
                shape = model if layout == "real" else replace(model, services=services, speed=1.0, speed_by_service={})
                specs.append(replace(shape, name=f"{len(specs) + 1}", opens=time(run[0]), closes=closes))
            run = [hour] if hour is not None and counters[hour] >= level else []
    return replace(scenario, name=f"{scenario.name}-advised-{layout}", counters=tuple(specs))


def hourly_p90(day: DayActivity) -> dict[int, float]:
    """The p90 wait of each hour's tickets (by issue hour), seconds."""
    waits: dict[int, list[float]] = defaultdict(list)
    for ticket in day.tickets.values():
        wait = ticket.wait if ticket.wait is not None else ticket.waited_until(day.last_at)
        waits[day.local_hour(ticket.issued_at)].append(wait)
    return {hour: float(np.quantile(values, 0.9)) for hour, values in waits.items() if values}


@dataclass(slots=True)
class Tally:
    """Hours counted for one staffing."""

    hours: int = 0
    within_10: int = 0
    within: int = 0
    counter_hours: float = 0.0

    def add(self, p90: float, target: float) -> None:
        self.hours += 1
        self.within_10 += p90 <= 1.1 * target
        self.within += p90 <= target

    def merge(self, other: Tally) -> None:
        self.hours += other.hours
        self.within_10 += other.within_10
        self.within += other.within
        self.counter_hours += other.counter_hours


def simulated_p90s(
    scenario: Scenario, counters: dict[int, int], first: date, eval_days: int, seed: int, layout: str, split: dict[int, dict[str, int]]
) -> list[dict[int, float]]:
    """Per evaluation day, the hourly p90 waits with ``counters`` per hour (same customers as
    every other staffing of the same day: same seed)."""
    staffing = advised_scenario(scenario, counters, layout, split)
    result = []
    for offset in range(eval_days):
        log = activity_of(simulate(staffing, 1, first + timedelta(days=offset), seed * 1000 + offset + 1))
        (record,) = log.days.values()
        result.append(hourly_p90(record))
    return result


def _meets(p90s: list[dict[int, float]], target: float) -> bool:
    """Every hour keeps p90 <= 1.1 × target on at least 80 % of the evaluation days."""
    hours = {hour for day in p90s for hour in day}
    return all(sum(day.get(hour, 0.0) <= 1.1 * target for day in p90s) >= 0.8 * len(p90s) for hour in hours)


def search_fewest(
    scenario: Scenario, start: dict[int, int], first: date, eval_days: int, seed: int, target: float, layout: str, loads: dict[int, dict[str, float]]
) -> dict[int, int]:
    """The simulator's own choice: from the advice (or above it, if the advice misses), take
    counters away one hour at a time while every hour still meets the target on 80 % of the
    evaluation days, until no hour can lose one. A greedy search on the days it scores, so an
    optimistic yardstick for "no more counter-hours than needed"."""
    counters = dict(start)

    def meets(trial: dict[int, int]) -> bool:
        split = {hour: split_counters(count, loads.get(hour, {})) for hour, count in trial.items()}
        return _meets(simulated_p90s(scenario, trial, first, eval_days, seed, layout, split), target)

    while not meets(counters):
        counters = {hour: c + 1 for hour, c in counters.items()}
    improved = True
    while improved:
        improved = False
        # the busiest hours last: freeing a quiet hour's counter is the likeliest to hold
        for hour in sorted(counters, key=lambda h: counters[h]):
            if counters[hour] <= 1:
                continue
            trial = {**counters, hour: counters[hour] - 1}
            if meets(trial):
                counters, improved = trial, True
    return counters


@dataclass(slots=True)
class Outcome:
    """One scenario, seed and layout: the tallies, the hourly means and the search's best."""

    ours: Tally
    own: Tally
    simulated_own: dict[int, float]
    simulated_ours: dict[int, float]
    best: dict[int, int]
    #: on held-out days (neither learned from nor searched on): the advice and the search's best
    holdout_ours: Tally
    holdout_best: Tally


def advice_layout(scenario: Scenario, layout: str) -> str | list[tuple[tuple[str, ...], ...]]:
    """What the advice's simulated check is told of the counters laid out as ``layout``: the
    split's service first (``leaning``), the scenario's own profiles in :func:`covering_order`
    (``real``; their speeds are not told) or one pooled queue."""
    if layout == "real":
        return [tuple(tuple(tier) for tier in c.services) for c in covering_order(scenario)]
    return LEANING if layout == "leaning" else POOLED


def advise(
    scenario: Scenario,
    seed: int,
    learn_days: int,
    target: float,
    *,
    erlang_c: bool,
    refine: bool,
    pauses: bool,
    share: float = SIMULATED_SHARE,
    layout: str = "pooled",
) -> tuple[Advice, dict[int, dict[str, float]]]:
    """Learn from ``learn_days`` simulated days and advise the next day as the dashboard would,
    its simulated check told of the counters' ``layout`` (:func:`advice_layout`); with the
    learned offered loads per hour and service (what the split by service follows)."""
    learned = learn_inputs(activity_of(simulate(scenario, learn_days, START, seed)).days.values())
    if erlang_c:
        learned = replace(learned, patience_s=None)
    if not pauses:
        learned = replace(learned, pause_share={})
    first = START + timedelta(days=learn_days)
    plan = planned_counters(scenario)
    advice = plan_day(
        learned,
        first.weekday(),
        target,
        planned=max(plan.values()),
        refine=refine,
        simulated_share=share,
        layout=advice_layout(scenario, layout),
    )
    assert advice is not None, "nothing learned"
    rates = learned.rates.for_weekday(first.weekday())
    loads = {
        hour: {code: rate * learned.durations[code] for code, rate in per.items() if code in learned.durations and rate > 0}
        for hour, per in rates.items()
    }
    return advice, loads


def evaluate(
    scenario: Scenario,
    advised_: tuple[Advice, dict[int, dict[str, float]]],
    seed: int,
    first: date,
    eval_days: int,
    target: float,
    layout: str,
    search: bool,
    holdout_days: int,
) -> Outcome:
    """Re-simulate the evaluation days with the advice and with the scenario's own staffing."""
    advice, loads = advised_
    counters = {hour: 0 for hour in door_hours(scenario)} | {h.hour: h.counters for h in advice.hours}
    split = {h.hour: dict(h.by_service) for h in advice.hours}
    advised = advised_scenario(scenario, counters, layout, split)
    ours, own = Tally(), Tally()
    store_own: dict[int, list[float]] = defaultdict(list)
    store_ours: dict[int, list[float]] = defaultdict(list)
    for offset in range(eval_days):
        day = first + timedelta(days=offset)
        day_seed = seed * 1000 + offset + 1
        for staffing, tally, store in ((advised, ours, store_ours), (scenario, own, store_own)):
            log = activity_of(simulate(staffing, 1, day, day_seed))
            (record,) = log.days.values()
            for hour, p90 in hourly_p90(record).items():
                tally.add(p90, target)
                store[hour].append(p90)
        ours.counter_hours += sum(counters.values())
        own.counter_hours += scenario_counter_hours(scenario)
    best = search_fewest(scenario, counters, first, eval_days, seed, target, layout, loads) if search else counters
    # days after the evaluation days, with seeds of their own: the search never saw them
    holdout_ours, holdout_best = Tally(), Tally()
    later = first + timedelta(days=eval_days)
    for per_hour, tally in ((counters, holdout_ours), (best, holdout_best)):
        split = {hour: split_counters(count, loads.get(hour, {})) for hour, count in per_hour.items()}
        for held in simulated_p90s(scenario, per_hour, later, holdout_days, seed + HOLDOUT_SEED, layout, split):
            for p90 in held.values():
                tally.add(p90, target)
        tally.counter_hours = float(sum(per_hour.values()) * holdout_days)
    return Outcome(
        ours=ours,
        own=own,
        simulated_own={h: float(np.mean(v)) for h, v in store_own.items()},
        simulated_ours={h: float(np.mean(v)) for h, v in store_ours.items()},
        best=best,
        holdout_ours=holdout_ours,
        holdout_best=holdout_best,
    )


#: added to a seed for the held-out days' seeds (far from every evaluation day's)
HOLDOUT_SEED = 500


def _share(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:5.1f} %" if whole else "   n/a"


def _min(seconds: float) -> str:
    return "   ∞" if math.isinf(seconds) else ("   -" if math.isnan(seconds) else f"{seconds / 60:4.1f}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the check and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--scenarios", nargs="+", default=["demo", "busy"], choices=sorted(SCENARIOS))
    parser.add_argument("--target-min", type=float, default=10.0, help="p90 wait target, minutes (default 10)")
    parser.add_argument(
        "--plan-slack", type=float, default=1.0, help="advise for target × this (1.1: plan to the check's 10 %% tolerance)"
    )
    parser.add_argument("--learn-days", type=int, default=20)
    parser.add_argument("--eval-days", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--layouts", nargs="+", default=list(LAYOUTS), choices=LAYOUTS)
    parser.add_argument("--erlang-c", action="store_true", help="advise with Erlang C (ignore patience)")
    parser.add_argument("--no-refine", action="store_true", help="Erlang alone: no check on simulated days")
    parser.add_argument("--no-pauses", action="store_true", help="ignore the learned pauses")
    parser.add_argument("--no-search", action="store_true", help="skip the simulator's search (the slow part)")
    parser.add_argument("--holdout-days", type=int, default=10, help="days neither learned from nor searched on")
    parser.add_argument("--share", type=float, default=SIMULATED_SHARE, help="simulated days each hour must meet the target on")
    parser.add_argument(
        "--pooled-advice",
        action="store_true",
        help="check the advice on one pooled queue whatever the layout (before the check knew tiers)",
    )
    parser.add_argument("--quick", action="store_true", help="5 learning days, 2 evaluation days, one seed")
    args = parser.parse_args(argv)
    if args.quick:
        args.learn_days, args.eval_days, args.seeds = 5, 2, args.seeds[:1]
    target = args.target_min * 60.0
    print("$ " + shlex.join(["python", "benchmarks/staffing_check.py", *(sys.argv[1:] if argv is None else argv)]))
    model = "Erlang C" if args.erlang_c else "Erlang A (learned patience)"
    model += "" if args.no_pauses else " · pauses off capacity"
    model += " · Erlang alone" if args.no_refine else " · refined on simulated days"
    model += f" · advised for {args.plan_slack:g} × target" if args.plan_slack != 1.0 else ""
    model += f" · each hour on {args.share:.0%} of simulated days" if not args.no_refine else ""
    model += " · checked pooled" if args.pooled_advice else " · checked in each layout's tiers"
    print(
        f"target p90 {args.target_min:g} min · {model} · learn {args.learn_days} days · "
        f"evaluate {args.eval_days} days × seeds {args.seeds}"
    )
    for name in args.scenarios:
        scenario = SCENARIOS[name]()
        first = START + timedelta(days=args.learn_days)
        print(f"\n== {name}: {len(scenario.counters)} counters, {sum(scenario.expected_arrivals().values()):.0f} customers a day")
        for layout in args.layouts:
            advices = {
                seed: advise(
                    scenario,
                    seed,
                    args.learn_days,
                    target * args.plan_slack,
                    erlang_c=args.erlang_c,
                    refine=not args.no_refine,
                    pauses=not args.no_pauses,
                    share=args.share,
                    layout="pooled" if args.pooled_advice else layout,
                )
                for seed in args.seeds
            }
            last = advices[args.seeds[-1]][0]
            print(f"advice for layout {layout} (last seed), hour: counters [Erlang alone] · learned pause share")
            print(
                "  "
                + "  ".join(
                    f"{h.hour:02d}:{h.counters}" + (f"[{h.erlang_counters}]" if h.erlang_counters is not None else "") + f"·{h.paused_share:.2f}"
                    for h in last.hours
                )
            )
            total_ours, total_own = Tally(), Tally()
            holdout_ours, holdout_best = Tally(), Tally()
            per_hour: dict[int, list[tuple[float, float, float]]] = defaultdict(list)
            per_seed: list[str] = []
            searched = 0
            for seed in args.seeds:
                advice = advices[seed][0]
                outcome = evaluate(scenario, advices[seed], seed, first, args.eval_days, target, layout, not args.no_search, args.holdout_days)
                total_ours.merge(outcome.ours)
                total_own.merge(outcome.own)
                holdout_ours.merge(outcome.holdout_ours)
                holdout_best.merge(outcome.holdout_best)
                searched += sum(outcome.best.values())
                per_seed.append(f"seed {seed}: {advice.counter_hours()} vs {sum(outcome.best.values())}")
                for h in advice.hours:
                    predicted = h.planned_p90_s if h.planned_p90_s is not None else math.nan
                    per_hour[h.hour].append(
                        (predicted, outcome.simulated_own.get(h.hour, math.nan), outcome.simulated_ours.get(h.hour, math.nan))
                    )
            days = max(1, len(args.seeds) * args.eval_days)
            print(f"-- layout {layout}")
            print(f"{'staffing':<22}{'hours':>6}{'p90<=1.1T':>11}{'p90<=T':>9}{'counter-h/day':>15}")
            for label, tally in (("advised", total_ours), ("scenario's own", total_own)):
                print(
                    f"{label:<22}{tally.hours:>6}{_share(tally.within_10, tally.hours):>11}"
                    f"{_share(tally.within, tally.hours):>9}{tally.counter_hours / days:>15.1f}"
                )
            if not args.no_search:
                print(
                    f"simulator's fewest by search (every hour p90 <= 1.1T on 80 % of days): "
                    f"{searched / len(args.seeds):.1f} counter-h/day; advised vs search per seed: " + "; ".join(per_seed)
                )
            if args.holdout_days > 0:
                held = max(1, len(args.seeds) * args.holdout_days)
                print(f"on {args.holdout_days} held-out days per seed (never searched on):")
                shown = (("advised", holdout_ours),) if args.no_search else (("advised", holdout_ours), ("search's best", holdout_best))
                for label, tally in shown:
                    print(
                        f"{label:<22}{tally.hours:>6}{_share(tally.within_10, tally.hours):>11}"
                        f"{_share(tally.within, tally.hours):>9}{tally.counter_hours / held:>15.1f}"
                    )
            print("hour  advised  | plan's p90 as advised (own staffing) · simulated own · simulated advised (min, mean over days)")
            for h in last.hours:
                rows_h = per_hour[h.hour]
                predicted = float(np.nanmean([r[0] for r in rows_h])) if rows_h else math.nan
                sim_own = float(np.nanmean([r[1] for r in rows_h])) if rows_h else math.nan
                sim_ours = float(np.nanmean([r[2] for r in rows_h])) if rows_h else math.nan
                print(f"{h.hour:02d}:00 {h.counters:>7}  | {_min(predicted)} · {_min(sim_own)} · {_min(sim_ours)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
