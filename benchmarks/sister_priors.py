"""A new branch's first days with and without a prior pooled from sister branches.

    .venv/bin/python benchmarks/sister_priors.py [--scenarios demo busy mixed shifts]
        [--seeds 1 2] [--sisters 5] [--sister-days 10] [--days 3] [--jobs 2]

For each scenario and seed, a new branch goes live (``--days`` simulated days from no
history). Its log is scored twice by ``queue-board evaluate``'s code, the oracle beside it:
once as ``queue-board replay`` runs it by default (fixed priors), once with the bank-wide prior
``replay --prior-from`` builds (:mod:`queue_board.forecast.pooling`) from ``--sisters`` other
branches, each ``--sister-days`` of the same scenario simulated with other seeds. Sisters of
the same design are the easy case; ``other`` rows pool sisters of another scenario with the
same services (demo's for shifts, shifts' for demo): what a bank whose branches differ gets.
Prints wait MAE ÷ the oracle's per day, and duration MAE ÷ the oracle's over the days.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import partial

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from queue_board.core.projection import Projection
from queue_board.evaluation.evaluate import ENGINE, Evaluation, evaluate, simulated_lines
from queue_board.evaluation.replay import learn_sisters
from queue_board.forecast.durations import Priors
from queue_board.forecast.pooling import bank_prior
from simulations.oracle import oracle_for

#: sisters of another design that share the services' codes
OTHER = {"shifts": "demo", "demo": "shifts"}
SISTER_SEEDS = 100


def _by_day(evaluation: Evaluation) -> list[float]:
    engine, oracle = evaluation.raw[(ENGINE, "wait")], evaluation.raw[("oracle", "wait")]
    calendar = sorted({key[0] for key in engine.keys})
    out = []
    for day in calendar:
        mine = np.array([key[0] == day for key in engine.keys])
        theirs = np.array([key[0] == day for key in oracle.keys])
        mae = np.mean(np.abs(engine.actual[mine] - engine.p50[mine]))
        out.append(float(mae / np.mean(np.abs(oracle.actual[theirs] - oracle.p50[theirs]))))
    return out


def _durations(evaluation: Evaluation) -> float:
    engine, oracle = evaluation.raw[(ENGINE, "service")], evaluation.raw[("oracle", "service")]
    return float(np.mean(np.abs(engine.actual - engine.p50)) / np.mean(np.abs(oracle.actual - oracle.p50)))


def run(scenario: str, seed: int, sister_scenario: str | None, sisters: int, sister_days: int, days: int) -> tuple[str, list[float], float]:
    """Score one new branch: without a prior (``sister_scenario`` None) or with its sisters'."""
    lines = simulated_lines(scenario, days, seed)
    priors = Priors()
    label = "fixed priors"
    if sister_scenario is not None:
        logs = [
            (f"{sister_scenario} seed {SISTER_SEEDS + i}", simulated_lines(sister_scenario, sister_days, SISTER_SEEDS + i))
            for i in range(sisters)
        ]
        priors = Priors(bank=bank_prior(learn_sisters(logs)))
        label = f"{sisters} sisters ({'same design' if sister_scenario == scenario else sister_scenario})"
    evaluation = evaluate(
        lines,
        projection_factory=partial(Projection, priors=priors),
        extra={"oracle": oracle_for(scenario)},
        name=f"{scenario} {seed} {label}",
    )
    return label, _by_day(evaluation), _durations(evaluation)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every (scenario, seed, prior) in ``--jobs`` processes and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", nargs="+", default=["demo", "busy", "mixed", "shifts"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--sisters", type=int, default=5)
    parser.add_argument("--sister-days", type=int, default=10)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    jobs = []
    for scenario in args.scenarios:
        for seed in args.seeds:
            jobs.append((scenario, seed, None))
            jobs.append((scenario, seed, scenario))
            if scenario in OTHER:
                jobs.append((scenario, seed, OTHER[scenario]))
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = list(
            pool.map(
                run,
                *zip(*jobs, strict=True),
                [args.sisters] * len(jobs),
                [args.sister_days] * len(jobs),
                [args.days] * len(jobs),
            )
        )
    head = " | ".join(f"day {d} ÷ oracle" for d in range(1, args.days + 1))
    print(f"| branch, seed | prior | {head} | days 1–{args.days} mean | durations ÷ oracle |")
    print("|---|---|" + "---:|" * (args.days + 2))
    for (scenario, seed, _), (label, by_day, durations) in zip(jobs, results, strict=True):
        cells = " | ".join(f"{r:.3f}" for r in by_day)
        print(f"| {scenario}, {seed} | {label} | {cells} | {np.mean(by_day):.3f} | {durations:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
