"""How accurate could any predictor be on a log? Reference points for the accuracy targets.

    .venv/bin/python benchmarks/accuracy_bounds.py LOG.jsonl ... [--simulate demo 15 1 ...]

The targets of ``queue-board evaluate`` are ratios to a yardstick (the best classic wait
predictor; a per-service running mean of durations). Whether a ratio is reachable depends
on how much of the outcome the log makes predictable at all, so this prints, per log:

Durations (at service start), MAE in seconds and as a ratio to the running mean:
  * ``running mean``: the yardstick, online (each transaction predicted from earlier ones);
  * ``running median``: the plain online median of the service, the best constant for MAE;
  * ``hindsight median (service)``: each service's median over the *whole* log. No predictor
    that knows only the service can beat it on this log, however much it learns;
  * ``hindsight median (service × counter × hour)``: the same per cell of everything the log
    records about a transaction. It is fitted on the outcomes it scores, so it is optimistic.

Waits (at ticket issue), MAE in seconds and as a ratio to the best of the classic predictors
(naive, QL, LES, HOL of :mod:`queue_board.forecast.classic`, run online as ``queue-board evaluate`` does):
  * ``cells: …``: the median wait of calls that found the same queue state, learned from
    *every other day of the log*, the future included (leave one day out). The cells are
    people ahead in the ticket's queue (0…5+), free counters serving it (0…8+), and either
    how many of those became free in the last 10 minutes or the two-hour slot of the day.
    A predictor of the queue state allowed to peek at the future, so an optimistic reference
    for any predictor of the same information.

Everything is numpy over the core's own engine (:mod:`queue_board.core.branch`); the classic
predictors are :mod:`queue_board.forecast.classic`'s. Nothing here is used by the server.
"""

from __future__ import annotations

import argparse
import bisect
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from queue_board.core.branch import FREE, BranchState, apply, validate
from queue_board.core.call_rule import counters_serving
from queue_board.core.events import read_log
from queue_board.evaluation.evaluate import simulated_lines
from queue_board.forecast.classic import CLASSIC, RunningMean, people_ahead

#: a counter free for less than this is "just freed": likely really available
RECENTLY_FREE_SECONDS = 600.0
TARGET_WAIT_RATIO = 0.85
TARGET_DURATION_RATIO = 0.9

IntArray = np.ndarray
FloatArray = np.ndarray


@dataclass(slots=True)
class Observations:
    """What one pass over a log collected: per call at issue, per transaction at start."""

    wait_day: list[date] = field(default_factory=list)
    wait_cells: list[tuple[int, int, int, int]] = field(default_factory=list)
    wait_classic: dict[str, list[float]] = field(default_factory=lambda: {name: [] for name in CLASSIC})
    wait_actual: list[float] = field(default_factory=list)
    duration_cells: list[tuple[str, str, int]] = field(default_factory=list)
    duration_running_mean: list[float] = field(default_factory=list)
    duration_running_median: list[float] = field(default_factory=list)
    duration_actual: list[float] = field(default_factory=list)


def _local_hour(state: BranchState) -> int:
    assert state.last_ts is not None
    return state.last_ts.hour


def collect(lines: Sequence[str]) -> Observations:
    """Replay ``lines`` through the core's projection, noting features and outcomes."""
    state = BranchState()
    classic = {name: factory() for name, factory in CLASSIC.items()}
    means = RunningMean()
    seen: dict[str, list[float]] = {}  # per service, sorted durations so far
    issued: dict[tuple[date, str], int] = {}  # ticket -> index in the wait lists
    started: dict[tuple[date, str], int] = {}
    obs = Observations()
    for number, event in read_log(lines):
        rejection = validate(state, event)
        if rejection is not None:
            raise SystemExit(f"line {number}: {rejection.message}")
        key = (event.day, event.ticket or "")
        for predictor in classic.values():
            predictor.observe(state, event)
        means.observe(state, event)
        if event.type == "ticket_called" and key in issued and obs.wait_actual[issued[key]] < 0:
            obs.wait_actual[issued[key]] = event.at - state.tickets[key[1]].issued_at
        if event.type == "service_finished" and key in started:
            index = started.pop(key)
            duration = max(0.0, event.at - (state.tickets[key[1]].started_at or event.at))
            obs.duration_actual[index] = duration
            bisect.insort(seen.setdefault(obs.duration_cells[index][0], []), duration)
        apply(state, event)
        if event.type == "ticket_issued":
            ticket = state.tickets[key[1]]
            serving = counters_serving(state, ticket.service)
            free = [c for c in serving if c.status in FREE]
            just_freed = sum(1 for c in free if c.free_since is not None and event.at - c.free_since < RECENTLY_FREE_SECONDS)
            issued[key] = len(obs.wait_actual)
            obs.wait_day.append(event.day)
            obs.wait_cells.append((min(people_ahead(state, ticket), 5), min(len(free), 8), min(just_freed, 8), _local_hour(state) // 2))
            for name, predictor in classic.items():
                prediction = predictor.predict_wait(state, ticket)
                obs.wait_classic[name].append(float(prediction if isinstance(prediction, float) else prediction[1]))
            obs.wait_actual.append(-1.0)
        elif event.type == "service_started":
            service = state.tickets[key[1]].service
            started[key] = len(obs.duration_actual)
            history = seen.get(service)
            obs.duration_cells.append((service, event.counter or "", _local_hour(state)))
            obs.duration_running_mean.append(means.mean(service))
            obs.duration_running_median.append(float(np.median(history)) if history else means.mean(service))
            obs.duration_actual.append(-1.0)
    return obs


def _codes(keys: Sequence[object]) -> IntArray:
    """Each key as an integer code (equal keys, equal codes)."""
    index: dict[object, int] = {}
    return np.array([index.setdefault(key, len(index)) for key in keys], dtype=np.int64)


def hindsight_median(cells: IntArray, actual: FloatArray) -> FloatArray:
    """Each outcome predicted by the median of its cell over all outcomes (its own included)."""
    predicted = np.empty_like(actual)
    for cell in np.unique(cells):
        members = cells == cell
        predicted[members] = np.median(actual[members])
    return predicted


def leave_one_day_out_median(cells: IntArray, days: IntArray, actual: FloatArray, fallback: FloatArray) -> FloatArray:
    """Each outcome predicted by the median of its cell on every *other* day (``fallback``
    where the cell never occurs on another day)."""
    predicted = fallback.copy()
    for cell in np.unique(cells):
        members = np.flatnonzero(cells == cell)
        for day in np.unique(days[members]):
            target = members[days[members] == day]
            others = members[days[members] != day]
            if others.size:
                predicted[target] = np.median(actual[others])
    return predicted


def _mae(predicted: FloatArray, actual: FloatArray) -> float:
    return float(np.mean(np.abs(predicted - actual)))


def report(name: str, obs: Observations, out: Callable[[str], None] = print) -> None:
    """Print the reference points of one log."""
    out(f"\n## {name}")
    durations = np.array(obs.duration_actual)
    done = durations >= 0
    if done.any():
        actual = durations[done]
        cells = [cell for cell, ok in zip(obs.duration_cells, done, strict=True) if ok]
        yardstick = _mae(np.array(obs.duration_running_mean)[done], actual)
        rows = [
            ("running mean (yardstick)", yardstick),
            ("running median", _mae(np.array(obs.duration_running_median)[done], actual)),
            ("hindsight median (service)", _mae(hindsight_median(_codes([c[0] for c in cells]), actual), actual)),
            ("hindsight median (service × counter × hour)", _mae(hindsight_median(_codes(cells), actual), actual)),
        ]
        out(f"durations, {actual.size} transactions (target ≤ {TARGET_DURATION_RATIO} × running mean):")
        for label, value in rows:
            out(f"  {label:<56} MAE {value:8.1f} s   {value / yardstick:5.3f}")
    waits = np.array(obs.wait_actual)
    called = waits >= 0
    if called.any():
        actual = waits[called]
        scores = {name: _mae(np.array(values)[called], actual) for name, values in obs.wait_classic.items()}
        best = min(scores, key=scores.__getitem__)
        best_prediction = np.array(obs.wait_classic[best])[called]
        days = _codes([d for d, ok in zip(obs.wait_day, called, strict=True) if ok])
        states = [c for c, ok in zip(obs.wait_cells, called, strict=True) if ok]
        yardstick = scores[best]
        out(f"waits, {actual.size} calls (target ≤ {TARGET_WAIT_RATIO} × best classic = {TARGET_WAIT_RATIO * yardstick:.1f} s):")
        for name, value in scores.items():
            out(f"  {name + (' (yardstick)' if name == best else ''):<56} MAE {value:8.1f} s   {value / yardstick:5.3f}")
        for label, pick in (
            ("cells: ahead × free", lambda c: c[:2]),
            ("cells: ahead × free × freed in last 10 min", lambda c: c[:3]),
            ("cells: ahead × free × 2-hour slot", lambda c: (c[0], c[1], c[3])),
        ):
            codes = _codes([pick(c) for c in states])
            value = _mae(leave_one_day_out_median(codes, days, actual, best_prediction), actual)
            out(f"  {label + ', other days':<56} MAE {value:8.1f} s   {value / yardstick:5.3f}")


def main(argv: Sequence[str] | None = None) -> None:
    """Parse arguments, collect each log, print its reference points."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logs", nargs="*", help="event logs (JSON Lines)")
    parser.add_argument("--simulate", nargs=3, action="append", default=[], metavar=("SCENARIO", "DAYS", "SEED"))
    args = parser.parse_args(argv)
    if not args.logs and not args.simulate:
        parser.error("give at least one log or --simulate")
    for path in args.logs:
        report(Path(path).name, collect(Path(path).read_text(encoding="utf-8").splitlines()))
    for scenario, days, seed in args.simulate:
        report(f"simulated {scenario}, {days} d, seed {seed}", collect(simulated_lines(scenario, int(days), int(seed))))


if __name__ == "__main__":
    main()
