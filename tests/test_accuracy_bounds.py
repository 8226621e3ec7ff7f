"""benchmarks/accuracy_bounds.py: the reference predictors behind the docs' "what the logs allow"."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from conftest import SAMPLE_LOG

from queue_board.evaluation.evaluate import evaluate
from queue_board.forecast.classic import CLASSIC

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "accuracy_bounds.py"


@pytest.fixture(scope="module")
def bounds() -> ModuleType:
    spec = importlib.util.spec_from_file_location("accuracy_bounds", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_hindsight_median_is_each_cells_median(bounds: ModuleType) -> None:
    cells = np.array([0, 0, 0, 1, 1])
    actual = np.array([1.0, 2.0, 9.0, 4.0, 6.0])
    assert bounds.hindsight_median(cells, actual).tolist() == [2.0, 2.0, 2.0, 5.0, 5.0]


def test_leave_one_day_out_never_uses_the_scored_day(bounds: ModuleType) -> None:
    cells = np.array([0, 0, 0, 0, 1])
    days = np.array([0, 0, 1, 2, 0])
    actual = np.array([100.0, 100.0, 1.0, 3.0, 7.0])
    fallback = np.full(5, -1.0)
    predicted = bounds.leave_one_day_out_median(cells, days, actual, fallback)
    # day 0 of cell 0 sees only days 1 and 2; day 1 sees days 0 and 2; cell 1 exists on one day only
    assert predicted.tolist() == [2.0, 2.0, 100.0, 100.0, -1.0]


def test_its_yardsticks_are_those_of_queue_board_evaluate(bounds: ModuleType) -> None:
    lines = SAMPLE_LOG.read_text(encoding="utf-8").splitlines()[:1500]
    printed: list[str] = []
    bounds.report("sample", bounds.collect(lines), printed.append)
    scored = evaluate(lines, name="sample")
    text = "\n".join(printed)
    for name in CLASSIC:
        assert f"MAE {scored.score(name).mae:8.1f} s" in text, name
    assert f"MAE {scored.score('naive', 'service').mae:8.1f} s   1.000" in text  # the running mean
    best = min(CLASSIC, key=lambda name: scored.score(name).mae)
    assert f"{best} (yardstick)" in text


def test_it_runs_from_the_command_line(bounds: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    bounds.main([str(SAMPLE_LOG)])
    out = capsys.readouterr().out
    assert "## sample-branch.jsonl" in out
    assert "durations, 905 transactions" in out
    assert "waits, 973 calls" in out
    with pytest.raises(SystemExit):
        bounds.main([])
