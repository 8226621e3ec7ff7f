"""Evaluation: the engine against the classic predictors, on one pass over a log.

:func:`evaluate` replays a log through the engine exactly as ``queue-board replay`` does
(its predictions CSV, written to memory, is what gets scored) and, in the replay's
``on_event`` hook, feeds the same events to the classic predictors of
:mod:`queue_board.forecast.classic` (and any extra ones) on a engine of their own. Everything
is scored as ``shared/spec/event-log.md`` says (:func:`queue_board.evaluation.scoring.score`).
:func:`plot` draws predicted against actual waits and the engine's calibration;
:func:`format_table` and :func:`format_markdown` print the scores; :func:`run_evaluate`
is the ``queue-board evaluate`` command without its argument parsing.
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from queue_board.core.branch import BranchState, apply
from queue_board.core.events import Event, event_to_json
from queue_board.core.projection import Projection
from queue_board.evaluation.replay import replay
from queue_board.evaluation.scoring import TAIL_MIN_P50, Key, Score, outcomes, read_predictions, score
from queue_board.forecast.classic import CLASSIC, Quantiles, ServicePredictor, WaitPredictor

FloatArray = np.ndarray
PredictorFactory = Callable[[], WaitPredictor]

#: the name of the engine's rows in tables and plots
ENGINE = "engine"
QUANTITIES = ("wait", "service")
#: simulated logs start on this (Monday) date
SIMULATION_START = date(2026, 3, 2)
#: waits below this are drawn at it on the log-log scatter (an idle counter's wait is 0)
PLOT_FLOOR_SECONDS = 10.0
#: predicted-median buckets (seconds) of the interval reliability plot
MEDIAN_BUCKETS = (0.0, 60.0, 300.0, 600.0, 1200.0, 2400.0, math.inf)
BUCKET_LABELS = ("< 1 min", "1-5 min", "5-10 min", "10-20 min", "20-40 min", ">= 40 min")


class EvaluationError(ValueError):
    """A predictor failed on an event; names the log line."""

    def __init__(self, line_number: int, message: str) -> None:
        super().__init__(f"line {line_number}: {message}")
        self.line_number = line_number
        self.message = message

    def __reduce__(self) -> tuple[type[EvaluationError], tuple[int, str]]:
        # rebuilt from its arguments: a benchmark's worker process sends it back to the parent
        return (type(self), (self.line_number, self.message))


@dataclass(frozen=True, slots=True)
class Outcomes:
    """Raw predictions of one predictor and quantity beside what happened, in log order."""

    actual: FloatArray
    p10: FloatArray
    p50: FloatArray
    p90: FloatArray
    #: the (local day, ticket, quantity) of each prediction: to score by day of history, by
    #: service or by hour
    keys: tuple[Key, ...] = ()


@dataclass(frozen=True, slots=True)
class ScoreRow:
    """The score of one predictor for one quantity."""

    predictor: str
    quantity: str
    score: Score


@dataclass(slots=True)
class Evaluation:
    """Scores and raw predictions of every predictor on one log."""

    name: str
    events: int
    #: wall time of the whole pass, and of it the time spent on the classic/extra predictors
    seconds: float
    shadow_seconds: float
    rows: list[ScoreRow] = field(default_factory=list)
    raw: dict[tuple[str, str], Outcomes] = field(default_factory=dict)

    @property
    def events_per_second(self) -> float:
        """Replay speed of the engine alone (the pass minus the other predictors' share)."""
        return self.events / max(self.seconds - self.shadow_seconds, 1e-9)

    def predictors(self, quantity: str = "wait") -> list[str]:
        """Names of the predictors scored for ``quantity``, engine first."""
        return [row.predictor for row in self.rows if row.quantity == quantity]

    def score(self, predictor: str, quantity: str = "wait") -> Score:
        """The score of ``predictor`` for ``quantity``; ``KeyError`` if it was not scored."""
        for row in self.rows:
            if row.predictor == predictor and row.quantity == quantity:
                return row.score
        raise KeyError((predictor, quantity))


def _as_quantiles(value: float | Quantiles) -> Quantiles:
    """A point prediction is its own p10, p50 and p90."""
    if isinstance(value, tuple):
        if len(value) != 3:
            raise TypeError(f"a prediction tuple must be (p10, p50, p90), got {len(value)} values")
        return (float(value[0]), float(value[1]), float(value[2]))
    return (float(value), float(value), float(value))


class _Panel:
    """The non-engine predictors, fed in replay's hook on their own engine per branch."""

    def __init__(self, factories: Mapping[str, PredictorFactory], line_numbers: list[int]) -> None:
        self.factories = factories
        self.line_numbers = line_numbers
        self.branches: dict[str | None, tuple[BranchState, dict[str, WaitPredictor]]] = {}
        self.predictions: dict[str, dict[Key, Quantiles]] = {name: {} for name in factories}
        self.events = 0
        self.seconds = 0.0

    def __call__(self, event: Event) -> None:
        started = time.perf_counter()
        shadow = self.branches.get(event.branch)
        if shadow is None:
            shadow = self.branches[event.branch] = (BranchState(), {n: f() for n, f in self.factories.items()})
        state, predictors = shadow
        culprit = ""  # whose call failed, for the error message
        try:
            for culprit in predictors:
                predictors[culprit].observe(state, event)
            culprit = ""
            # the replay's projection accepted the event already (the hook runs after submit)
            apply(state, event)
            if event.type in ("ticket_issued", "service_started"):
                assert event.ticket is not None
                ticket = state.tickets[event.ticket]
                wait = event.type == "ticket_issued"
                key: Key = (event.day, event.ticket, "wait" if wait else "service")
                for culprit, predictor in predictors.items():
                    if wait:
                        value = predictor.predict_wait(state, ticket)
                    elif isinstance(predictor, ServicePredictor):
                        value = predictor.predict_service(state, ticket)
                    else:
                        continue
                    self.predictions[culprit].setdefault(key, _as_quantiles(value))
        except Exception as exc:
            where = self.line_numbers[self.events] if self.events < len(self.line_numbers) else 0
            label = f" {event.ticket}" if event.ticket else ""
            raise EvaluationError(where, f"predictor {culprit!r} failed on {event.type}{label}: {exc!r}") from exc
        self.events += 1
        self.seconds += time.perf_counter() - started


def evaluate(
    lines: Iterable[str],
    *,
    projection_factory: Callable[[], Projection] = Projection,
    extra: Mapping[str, PredictorFactory] | None = None,
    name: str = "log",
) -> Evaluation:
    """Score the engine, the classic predictors and ``extra`` on one log, in one pass.

    ``extra`` maps names to factories (one predictor per branch) of objects with the
    interface of :class:`queue_board.forecast.classic.WaitPredictor`. Raises
    :class:`queue_board.evaluation.replay.ReplayError` naming the first bad line of the log, or
    :class:`EvaluationError` naming the line a predictor failed on.
    """
    lines = list(lines)
    factories: dict[str, PredictorFactory] = dict(CLASSIC)
    for extra_name, factory in (extra or {}).items():
        if extra_name == ENGINE or extra_name in factories:
            raise ValueError(f"predictor name {extra_name!r} is taken")
        factories[extra_name] = factory
    # replay skips blank lines; the hook's n-th event is the n-th non-blank line
    panel = _Panel(factories, [n for n, line in enumerate(lines, start=1) if line.strip()])
    out = io.StringIO()
    started = time.perf_counter()
    stats = replay(lines, out, projection_factory=projection_factory, on_event=panel)
    seconds = time.perf_counter() - started
    out.seek(0)
    predictions = {ENGINE: read_predictions(out), **panel.predictions}
    actual = outcomes(lines)
    evaluation = Evaluation(name=name, events=stats.events, seconds=seconds, shadow_seconds=panel.seconds)
    for quantity in QUANTITIES:
        for predictor, predicted in predictions.items():
            keys = [k for k in predicted if k[2] == quantity and k in actual]
            if quantity == "service" and not any(k[2] == quantity for k in predicted):
                continue  # this predictor does not predict durations
            evaluation.rows.append(ScoreRow(predictor, quantity, score(actual, predicted, quantity)))
            p = np.array([predicted[k] for k in keys], dtype=float).reshape(-1, 3)
            evaluation.raw[(predictor, quantity)] = Outcomes(
                actual=np.array([actual[k] for k in keys], dtype=float),
                p10=p[:, 0],
                p50=p[:, 1],
                p90=p[:, 2],
                keys=tuple(keys),
            )
    return evaluation


# ---------------------------------------------------------------- tables


def _pct(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1%}"


def _num(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"


def _headline(evaluation: Evaluation) -> str:
    waits = evaluation.score(ENGINE, "wait").n if ENGINE in evaluation.predictors("wait") else 0
    return (
        f"{evaluation.name}: {evaluation.events:,} events, {waits:,} waits scored; "
        f"engine replay {evaluation.events_per_second:,.0f} events/s (whole pass {evaluation.seconds:.1f} s)"
    )


_COLUMNS = ("quantity", "predictor", "n", "MAE s", "RMSE s", "pinball", ">p90", "<p10", "tail n")
_NOTE = (
    f"tails (>p90, <p10) are counted among predictions with p50 >= {TAIL_MIN_P50:.0f} s (tail n); "
    "naive, QL, LES and HOL give one number, so for them p10 = p50 = p90 "
    "and >p90 is the share of waits longer than the number shown; naive's service row is the running mean."
)


def _cells(row: ScoreRow) -> tuple[str, ...]:
    s = row.score
    return (
        row.quantity,
        row.predictor,
        str(s.n),
        _num(s.mae),
        _num(s.rmse),
        _num(s.pinball),
        _pct(s.above_p90),
        _pct(s.below_p10),
        str(s.tail_n),
    )


def format_table(evaluations: Sequence[Evaluation]) -> str:
    """Plain-text tables, one block per log."""
    blocks: list[str] = []
    for evaluation in evaluations:
        lines = [_headline(evaluation), f"{_COLUMNS[0]:<9}{_COLUMNS[1]:<12}" + "".join(f"{c:>9}" for c in _COLUMNS[2:])]
        for row in evaluation.rows:
            cells = _cells(row)
            lines.append(f"{cells[0]:<9}{cells[1]:<12}" + "".join(f"{c:>9}" for c in cells[2:]))
        blocks.append("\n".join(lines))
    if blocks:
        blocks.append(_NOTE)
    return "\n\n".join(blocks) + "\n"


def format_markdown(evaluations: Sequence[Evaluation]) -> str:
    """The same tables in Markdown (for the README)."""
    blocks: list[str] = []
    for evaluation in evaluations:
        lines = [
            f"**{_headline(evaluation)}**",
            "",
            "| " + " | ".join(_COLUMNS) + " |",
            "|" + "|".join(":---" if i < 2 else "---:" for i in range(len(_COLUMNS))) + "|",
        ]
        lines += ["| " + " | ".join(_cells(row)) + " |" for row in evaluation.rows]
        blocks.append("\n".join(lines))
    if blocks:
        blocks.append(f"_{_NOTE}_")
    return "\n\n".join(blocks) + "\n"


# ---------------------------------------------------------------- plots


def _band(ax: Axes, raw: Outcomes) -> None:
    """The engine's typical [p10, p90] as a function of its median, binned on a log scale."""
    x = np.maximum(raw.p50, PLOT_FLOOR_SECONDS)
    if len(x) < 2 or x.max() <= x.min():
        return
    edges = np.geomspace(x.min(), x.max() * (1 + 1e-9), 21)
    index = np.digitize(x, edges) - 1
    centres, low, high = [], [], []
    for b in range(len(edges) - 1):
        inside = index == b
        if inside.sum() >= 3:
            centres.append(float(np.sqrt(edges[b] * edges[b + 1])))
            low.append(max(float(np.median(raw.p10[inside])), PLOT_FLOOR_SECONDS))
            high.append(max(float(np.median(raw.p90[inside])), PLOT_FLOOR_SECONDS))
    if len(centres) >= 2:
        ax.fill_between(centres, low, high, color="tab:orange", alpha=0.25, linewidth=0, label="median [p10, p90]")


def _scatter_figure(evaluation: Evaluation) -> Figure:
    names = [n for n in evaluation.predictors("wait") if len(evaluation.raw[(n, "wait")].actual)]
    cols = min(3, max(1, len(names)))
    rows = max(1, math.ceil(len(names) / cols))
    fig = Figure(figsize=(4.2 * cols, 4.0 * rows), layout="constrained")
    fig.suptitle(
        f"{evaluation.name}: predicted median vs actual wait (s, waits under {PLOT_FLOOR_SECONDS:.0f} s drawn at it)"
    )
    if not names:
        fig.text(0.5, 0.5, "no called tickets", ha="center")
        return fig
    top = max(
        float(max(evaluation.raw[(n, "wait")].actual.max(), evaluation.raw[(n, "wait")].p50.max())) for n in names
    )
    limits = (PLOT_FLOOR_SECONDS * 0.8, max(top, PLOT_FLOOR_SECONDS * 10) * 1.25)
    for i, name in enumerate(names):
        ax = fig.add_subplot(rows, cols, i + 1)
        raw = evaluation.raw[(name, "wait")]
        if name == ENGINE:
            _band(ax, raw)
        x = np.maximum(raw.p50, PLOT_FLOOR_SECONDS)
        y = np.maximum(raw.actual, PLOT_FLOOR_SECONDS)
        # rasterized: thousands of dots would make the SVG heavy
        ax.scatter(x, y, s=4, alpha=0.3, linewidths=0, color="tab:blue", rasterized=True)
        ax.plot(limits, limits, color="black", linewidth=0.8, label="actual = predicted")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(limits)
        ax.set_ylim(limits)
        # decades only: log minor ticks cost most of the drawing time and add little here
        ax.xaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_minor_locator(NullLocator())
        ax.grid(True, linewidth=0.3, alpha=0.5)
        s = evaluation.score(name, "wait")
        ax.set_title(f"{name}: MAE {s.mae:.0f} s, n = {s.n}", fontsize=10)
        ax.set_xlabel("predicted median wait (s)")
        ax.set_ylabel("actual wait (s)")
        ax.legend(loc="upper left", fontsize=8)
    return fig


def _calibration_figure(evaluation: Evaluation, predictor: str = ENGINE) -> Figure:
    fig = Figure(figsize=(10.0, 4.2), layout="constrained")
    fig.suptitle(f"{evaluation.name}: calibration of the {predictor}")
    left = fig.add_subplot(1, 2, 1)
    right = fig.add_subplot(1, 2, 2)
    nominal = np.array([0.1, 0.5, 0.9])
    left.plot([0, 1], [0, 1], color="black", linewidth=0.8, label="ideal")
    series = [
        (q, sel, label)
        for q, sel, label in (
            ("wait", False, "wait, all"),
            ("wait", True, f"wait, p50 >= {TAIL_MIN_P50:.0f} s"),
            ("service", False, "service"),
        )
        if (predictor, q) in evaluation.raw
    ]
    for quantity, tail_only, label in series:
        raw = evaluation.raw[(predictor, quantity)]
        keep = raw.p50 >= TAIL_MIN_P50 if tail_only else np.ones(len(raw.actual), dtype=bool)
        if not keep.any():
            continue
        y = raw.actual[keep]
        shares = [float(np.mean(y <= p[keep])) for p in (raw.p10, raw.p50, raw.p90)]
        left.plot(nominal, shares, marker="o", label=f"{label} (n = {int(keep.sum())})")
    left.set_xlim(0, 1)
    left.set_ylim(0, 1)
    left.set_xticks(nominal)
    left.set_xlabel("predicted quantile")
    left.set_ylabel("share of outcomes at or below it")
    left.set_title("quantiles", fontsize=10)
    left.legend(loc="upper left", fontsize=8)

    right.set_title("wait inside [p10, p90] by predicted median", fontsize=10)
    if (predictor, "wait") in evaluation.raw:
        raw = evaluation.raw[(predictor, "wait")]
        bucket = np.digitize(raw.p50, MEDIAN_BUCKETS[1:-1])
        below, inside, above, counts = [], [], [], []
        for b in range(len(BUCKET_LABELS)):
            sel = bucket == b
            n = int(sel.sum())
            counts.append(n)
            y = raw.actual[sel]
            below.append(float(np.mean(y < raw.p10[sel])) if n else 0.0)
            above.append(float(np.mean(y > raw.p90[sel])) if n else 0.0)
            inside.append(1.0 - below[-1] - above[-1] if n else 0.0)
        positions = np.arange(len(BUCKET_LABELS))
        right.bar(positions, below, color="tab:blue", label="below p10")
        right.bar(positions, inside, bottom=below, color="tab:green", alpha=0.6, label="inside")
        right.bar(positions, above, bottom=np.add(below, inside), color="tab:red", label="above p90")
        for position, n in zip(positions, counts, strict=True):
            right.text(float(position), 1.01, f"n={n}", ha="center", va="bottom", fontsize=7)
        right.set_xticks(positions, BUCKET_LABELS, fontsize=8)
    right.axhline(0.1, color="black", linestyle="--", linewidth=0.8)
    right.axhline(0.9, color="black", linestyle="--", linewidth=0.8)
    right.set_ylim(0, 1.08)
    right.set_ylabel("share of tickets")
    right.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=3, fontsize=8, frameon=False)
    return fig


def plot(
    evaluation: Evaluation, out_dir: str | Path, stem: str, *, formats: Sequence[str] = ("png", "svg")
) -> list[Path]:
    """Write the scatter and calibration plots of ``evaluation``; returns the files written."""
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for suffix, figure in (
        ("wait-scatter", _scatter_figure(evaluation)),
        ("calibration", _calibration_figure(evaluation)),
    ):
        for fmt in formats:
            path = directory / f"{stem}-{suffix}.{fmt}"
            figure.savefig(path, format=fmt, dpi=110)
            written.append(path)
    return written


# ---------------------------------------------------------------- command


def simulated_lines(scenario: str, days: int, seed: int) -> list[str]:
    """A simulated log of ``scenario`` (a name of ``simulations.SCENARIOS``) as JSON Lines."""
    # imported here: the simulator is a tool, not part of what the server loads
    from simulations.branch_sim import simulate
    from simulations.scenarios import SCENARIOS

    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; expected one of {sorted(SCENARIOS)}")
    return [event_to_json(event) for event in simulate(SCENARIOS[scenario](), days, SIMULATION_START, seed)]


def _read_lines(path: str) -> list[str]:
    return Path(path).read_text(encoding="utf-8").splitlines()


def run_evaluate(
    paths: Sequence[str],
    plots_dir: str | None,
    simulate: Sequence[tuple[str, int, int]],
    *,
    extra: Mapping[str, PredictorFactory] | None = None,
    markdown: bool = False,
) -> str:
    """Evaluate logs on disk and simulated ``(scenario, days, seed)`` logs; returns the report.

    With ``plots_dir`` the plots of each log are written there too and listed in the report.
    """
    # (label, file stem, loader): logs are read one at a time, the bank log is large
    # (label, file stem, loader, extra predictors): logs are read one at a time, the bank log is large
    sources: list[tuple[str, str, Callable[[], list[str]], Mapping[str, PredictorFactory] | None]] = [
        (Path(path).name, Path(path).stem, partial(_read_lines, path), extra) for path in paths
    ]
    for scenario, days, seed in simulate:
        label = f"simulated {scenario}, {days} d, seed {seed}"
        # a simulated log is also scored by the oracle that knows its true parameters
        from simulations.oracle import oracle_for

        with_oracle = {**(extra or {}), "oracle": oracle_for(scenario)}
        sources.append((label, f"sim-{scenario}-{days}d-seed{seed}", partial(simulated_lines, scenario, days, seed), with_oracle))
    evaluations: list[Evaluation] = []
    written: list[Path] = []
    stems: set[str] = set()
    for label, stem, load, predictors in sources:
        evaluation = evaluate(load(), extra=predictors, name=label)
        evaluations.append(evaluation)
        if plots_dir is not None:
            unique, n = stem, 1
            while unique in stems:  # the same log named twice still gets its own files
                n += 1
                unique = f"{stem}-{n}"
            stems.add(unique)
            written += plot(evaluation, plots_dir, unique)
    report = format_markdown(evaluations) if markdown else format_table(evaluations)
    if written:
        report += "\nplots:\n" + "".join(f"  {path}\n" for path in written)
    return report
