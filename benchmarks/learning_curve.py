"""How fast a new branch's forecasts get good: wait MAE ÷ the oracle's by day of history.

    .venv/bin/python benchmarks/learning_curve.py [--scenarios demo busy mmc mixed shifts]
        [--seeds 1 2] [--days 15] [--jobs 2] [--plot docs/evaluation/learning-curve]

Each (scenario, seed) is one simulated branch that goes live on day 1 with no history. Its log
is scored by ``queue-board evaluate``'s own code (the engine replayed online, the classic
predictors, the simulator's oracle, :mod:`queue_board.evaluation.oracle_runs`), then the
predictions are grouped by the day they were made. Prints, per branch:

* the learning curve: for each day, the engine's wait MAE (ticket issue) over the oracle's and
  over the best classic predictor's of that day;
* issue 13's summaries, scored from day 3: the branch at 6 days of history (days 3–6) and at
  15 (days 3–15): MAE ÷ oracle, ÷ best classic (and the oracle's own ÷ best classic, what
  the best possible forecast reaches there); tails (>p90, <p10 among tickets told p50 ≥ 1 min);
  the worst service and the worst hour by share above p90 (segments with ≥ 50 such tickets);
* durations at service start: engine MAE and pinball ÷ the oracle's.

A 6-day branch scored from day 3 is days 3–6 of the longer log: learning is online, so the
first six days of a 15-day log are forecast exactly as a 6-day log's would be.
"""

from __future__ import annotations

import argparse
import os
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from queue_board.core.events import read_log
from queue_board.evaluation.evaluate import ENGINE, Evaluation, Outcomes
from queue_board.evaluation.oracle_runs import evaluate_with_oracle
from queue_board.evaluation.scoring import TAIL_MIN_P50, pinball
from queue_board.forecast.classic import CLASSIC

#: a service or hour is judged on its own once it has this many tickets told p50 ≥ 1 min
SEGMENT_MIN = 50
SHORT_HISTORY = 6


@dataclass(slots=True)
class Branch:
    """One simulated branch's scores."""

    scenario: str
    seed: int
    #: per day (1-based), engine MAE ÷ oracle and ÷ best classic
    by_day: dict[int, tuple[float, float]] = field(default_factory=dict)
    #: per span name ("6 days", "15 days"): figures of days 3 … last
    spans: dict[str, dict[str, float | str]] = field(default_factory=dict)
    durations: tuple[float, float] = (float("nan"), float("nan"))


def _mae(raw: Outcomes, mask: np.ndarray) -> float:
    return float(np.mean(np.abs(raw.actual[mask] - raw.p50[mask]))) if mask.any() else float("nan")


def _day_numbers(raw: Outcomes, days: list[date]) -> np.ndarray:
    index = {day: i + 1 for i, day in enumerate(days)}
    return np.array([index[key[0]] for key in raw.keys], dtype=int)


def _worst_segment(raw: Outcomes, mask: np.ndarray, labels: Sequence[str]) -> str:
    """The segment with the largest share of waits above p90 (among those with enough tickets)."""
    told = mask & (raw.p50 >= TAIL_MIN_P50)
    worst, share_of = "", -1.0
    for label in sorted(set(labels)):
        here = told & (np.array(labels) == label)
        if here.sum() >= SEGMENT_MIN:
            share = float(np.mean(raw.actual[here] > raw.p90[here]))
            if share > share_of:
                worst, share_of = f"{label} {share:.0%} (n {int(here.sum())})", share
    return worst or "–"


def score_branch(scenario: str, seed: int, days: int) -> Branch:
    """Simulate, replay and score one branch (runs in a worker process)."""
    evaluation: Evaluation = evaluate_with_oracle(scenario, days, seed)
    from queue_board.evaluation.evaluate import simulated_lines

    # the service and local hour of each ticket, for per-segment tails
    issued: dict[tuple[date, str], tuple[str, int]] = {}
    for _, event in read_log(simulated_lines(scenario, days, seed)):
        if event.type == "ticket_issued" and event.ticket is not None and event.service is not None:
            issued[(event.day, event.ticket)] = (event.service, event.ts.hour)
    engine, oracle = evaluation.raw[(ENGINE, "wait")], evaluation.raw[("oracle", "wait")]
    classics = {name: evaluation.raw[(name, "wait")] for name in CLASSIC}
    calendar = sorted({key[0] for key in engine.keys})
    day_of = {name: _day_numbers(raw, calendar) for name, raw in {ENGINE: engine, "oracle": oracle, **classics}.items()}
    branch = Branch(scenario, seed)
    for number in range(1, len(calendar) + 1):
        mae = _mae(engine, day_of[ENGINE] == number)
        best = min(_mae(raw, day_of[name] == number) for name, raw in classics.items())
        branch.by_day[number] = (mae / _mae(oracle, day_of["oracle"] == number), mae / best)
    services = [issued[(key[0], key[1])][0] for key in engine.keys]
    hours = [f"{issued[(key[0], key[1])][1]:02d}h" for key in engine.keys]
    for span, last in ((f"{SHORT_HISTORY} days", SHORT_HISTORY), (f"{len(calendar)} days", len(calendar))):
        if last > len(calendar) or span in branch.spans:
            continue
        scored = (day_of[ENGINE] >= 3) & (day_of[ENGINE] <= last)
        mae = _mae(engine, scored)
        oracle_mae = _mae(oracle, (day_of["oracle"] >= 3) & (day_of["oracle"] <= last))
        best_name, best = min(
            ((name, _mae(raw, (day_of[name] >= 3) & (day_of[name] <= last))) for name, raw in classics.items()),
            key=lambda pair: pair[1],
        )
        told = scored & (engine.p50 >= TAIL_MIN_P50)
        branch.spans[span] = {
            "mae": mae,
            "vs_oracle": mae / oracle_mae,
            "vs_classic": mae / best,
            "classic": best_name,
            "oracle_vs_classic": oracle_mae / best,
            "above_p90": float(np.mean(engine.actual[told] > engine.p90[told])),
            "below_p10": float(np.mean(engine.actual[told] < engine.p10[told])),
            "worst_service": _worst_segment(engine, scored, services),
            "worst_hour": _worst_segment(engine, scored, hours),
        }
    service, service_oracle = evaluation.raw[(ENGINE, "service")], evaluation.raw[("oracle", "service")]

    def pinball_of(raw: Outcomes) -> float:
        losses = pinball(raw.actual, raw.p10, 0.1) + pinball(raw.actual, raw.p50, 0.5) + pinball(raw.actual, raw.p90, 0.9)
        return float(np.mean(losses / 3.0))

    everything = np.ones(len(service.actual), dtype=bool)
    branch.durations = (
        _mae(service, everything) / _mae(service_oracle, np.ones(len(service_oracle.actual), dtype=bool)),
        pinball_of(service) / pinball_of(service_oracle),
    )
    return branch


def _curve_table(branches: list[Branch]) -> str:
    days = max(len(b.by_day) for b in branches)
    head = "| branch, seed | " + " | ".join(f"d{d}" for d in range(1, days + 1)) + " |"
    rule = "|---|" + "---:|" * days
    rows = [head, rule]
    for b in branches:
        cells = [f"{b.by_day[d][0]:.2f}" if d in b.by_day else "" for d in range(1, days + 1)]
        rows.append(f"| {b.scenario}, {b.seed} | " + " | ".join(cells) + " |")
    mean = [np.nanmean([b.by_day[d][0] for b in branches if d in b.by_day]) for d in range(1, days + 1)]
    rows.append("| **mean** | " + " | ".join(f"**{m:.2f}**" for m in mean) + " |")
    return "\n".join(rows)


def _span_table(branches: list[Branch]) -> str:
    rows = [
        "| branch, seed | history | MAE s | ÷ oracle | ÷ best classic | oracle ÷ best classic | >p90 | <p10 | worst service >p90 | worst hour >p90 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for b in branches:
        for span, f in b.spans.items():
            rows.append(
                f"| {b.scenario}, {b.seed} | {span} | {f['mae']:.1f} | {f['vs_oracle']:.3f} | {f['vs_classic']:.2f} ({f['classic']}) "
                f"| {f['oracle_vs_classic']:.2f} | {f['above_p90']:.1%} | {f['below_p10']:.1%} | {f['worst_service']} | {f['worst_hour']} |"
            )
    return "\n".join(rows)


def _durations_table(branches: list[Branch]) -> str:
    rows = ["| branch, seed | duration MAE ÷ oracle | pinball ÷ oracle |", "|---|---:|---:|"]
    rows += [f"| {b.scenario}, {b.seed} | {b.durations[0]:.3f} | {b.durations[1]:.3f} |" for b in branches]
    return "\n".join(rows)


def _plot(branches: list[Branch], stem: Path) -> None:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.5, 4.2))
    ax = figure.subplots()
    by_scenario: dict[str, list[Branch]] = defaultdict(list)
    for b in branches:
        by_scenario[b.scenario].append(b)
    for scenario, group in by_scenario.items():
        days = sorted(set().union(*(b.by_day for b in group)))
        ratios = [np.nanmean([b.by_day[d][0] for b in group if d in b.by_day]) for d in days]
        ax.plot(days, ratios, marker="o", markersize=3, label=f"{scenario} ({len(group)} seeds)")
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.axhline(1.10, color="grey", linewidth=0.8, linestyle="--")
    ax.axhline(1.05, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xlabel("day of the branch's life (history = day − 1)")
    ax.set_ylabel("wait MAE ÷ oracle's, that day")
    ax.set_title("Learning curve: simulated branches going live with no history")
    ax.legend(fontsize=8)
    figure.tight_layout()
    stem.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(stem.with_suffix(".png"), dpi=110)
    figure.savefig(stem.with_suffix(".svg"))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the branches (in ``--jobs`` processes) and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", nargs="+", default=["demo", "busy", "mmc", "mixed", "shifts"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--days", type=int, default=15)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--plot", type=Path, help="write the curve to PATH.png and PATH.svg")
    args = parser.parse_args(argv)
    if args.days < 3:
        parser.error("--days must be at least 3: scoring starts on day 3")
    runs = [(scenario, seed) for scenario in args.scenarios for seed in args.seeds]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        branches = list(pool.map(score_branch, *zip(*runs, strict=True), [args.days] * len(runs)))
    print("## Wait MAE ÷ oracle by day (the engine starts with no history on day 1)\n")
    print(_curve_table(branches))
    print("\n## Scored from day 3\n")
    print(_span_table(branches))
    print("\n## Durations at service start, all days\n")
    print(_durations_table(branches))
    if args.plot is not None:
        _plot(branches, args.plot)
        print(f"\nplot: {args.plot.with_suffix('.png')}, {args.plot.with_suffix('.svg')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
