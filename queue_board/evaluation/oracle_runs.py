"""Evaluation runs that score the oracle beside the engine and the classic predictors.

Lives here rather than in :mod:`simulations.oracle` so that imports go one way only: the
evaluation (an offline tool) uses the simulator and its oracle; the simulator never imports
the evaluation (``tests/test_layers.py`` checks it).
"""

from __future__ import annotations

from queue_board.evaluation.evaluate import Evaluation, evaluate, simulated_lines
from simulations.oracle import oracle_for


def evaluate_with_oracle(scenario_name: str, days: int, seed: int, **options: int) -> Evaluation:
    """Simulate ``days`` of a scenario and score the engine, the classic predictors and the oracle."""
    lines = simulated_lines(scenario_name, days, seed)
    name = f"simulated {scenario_name}, {days} d, seed {seed}"
    return evaluate(lines, extra={"oracle": oracle_for(scenario_name, **options)}, name=name)


__all__ = ["evaluate_with_oracle"]
