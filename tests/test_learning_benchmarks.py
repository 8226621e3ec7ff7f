"""benchmarks/learning_curve.py and benchmarks/sister_priors.py: the figures issue 13's docs quote."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_learning_curve_scores_each_day_against_the_oracle() -> None:
    curve = load("learning_curve")
    branch = curve.score_branch("mmc", 1, 3)
    assert sorted(branch.by_day) == [1, 2, 3]
    for vs_oracle, vs_classic in branch.by_day.values():
        # M/M/3 is learned within a day: the engine is near the oracle and QL there
        assert 0.8 < vs_oracle < 1.25 and 0.8 < vs_classic < 1.3
    span = branch.spans["3 days"]
    assert span["classic"] in ("naive", "QL", "LES", "HOL")
    assert 0.0 < float(span["above_p90"]) < 0.3 and 0.0 < float(span["below_p10"]) < 0.3
    assert str(span["worst_service"]).startswith("general ")
    assert all(np.isfinite(branch.durations)) and 0.95 < branch.durations[0] < 1.1


def test_learning_curve_refuses_too_short_a_branch(capsys: pytest.CaptureFixture[str]) -> None:
    curve = load("learning_curve")
    with pytest.raises(SystemExit) as exit_info:
        curve.main(["--days", "2"])
    assert exit_info.value.code != 0
    assert "at least 3" in capsys.readouterr().err


def test_sister_priors_start_a_new_branchs_loans_from_its_sisters() -> None:
    sisters = load("sister_priors")
    plain_label, _plain_days, plain_durations = sisters.run("demo", 1, None, 2, 3, 1)
    pooled_label, pooled_days, pooled_durations = sisters.run("demo", 1, "demo", 2, 3, 1)
    assert plain_label == "fixed priors" and pooled_label == "2 sisters (same design)"
    assert len(pooled_days) == 1 and np.isfinite(pooled_days[0])
    # a fixed prior of 300 s for every service against sisters who know loans take ~17 min
    assert pooled_durations < plain_durations
