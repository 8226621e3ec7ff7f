"""Sister-branch priors (issue 13): partial pooling of what other branches learned, and
``replay --prior-from`` that uses it offline."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from queue_board.cli import cli
from queue_board.evaluation.evaluate import simulated_lines
from queue_board.evaluation.replay import ReplayError, learn_sisters
from queue_board.forecast.durations import BranchModel, Priors, RecencySample, Survival
from queue_board.forecast.pooling import MAX_WEIGHT, MIN_WEIGHT, bank_prior, pool_samples


def sample_of(values: np.ndarray) -> RecencySample:
    sample = RecencySample(300.0)
    for value in values:
        sample.add(float(value))
    return sample


def test_sisters_that_agree_make_a_strong_prior_at_their_common_distribution() -> None:
    rng = np.random.default_rng(1)
    pooled = pool_samples([sample_of(rng.lognormal(np.log(140.0), 0.5, 300)) for _ in range(5)])
    assert pooled is not None and pooled.branches == 5
    assert pooled.weight == MAX_WEIGHT
    assert 125 < float(np.median(pooled.values)) < 155
    # the spread is the branches', not a fixed prior's: p10/p90 of a log-normal with sigma 0.5
    assert 65 < pooled.values[1] < 90 and 230 < pooled.values[-2] < 330


def test_sisters_that_differ_make_a_weak_prior() -> None:
    rng = np.random.default_rng(2)
    medians = (60.0, 120.0, 240.0, 480.0, 960.0)
    pooled = pool_samples([sample_of(rng.lognormal(np.log(m), 0.3, 300)) for m in medians])
    assert pooled is not None and pooled.weight == MIN_WEIGHT


def test_a_sister_with_too_few_observations_teaches_nothing() -> None:
    assert pool_samples([sample_of(np.full(5, 100.0))]) is None


def test_a_new_branch_starts_from_the_bank_and_moves_to_its_own_data() -> None:
    rng = np.random.default_rng(3)
    sisters = []
    for _ in range(5):
        model = BranchModel()
        for value in rng.lognormal(np.log(1000.0), 0.35, 200):
            model.service("loan").add(float(value))
        sisters.append(model)
    bank = bank_prior(sisters)
    fresh, alone = BranchModel(priors=Priors(bank=bank)), BranchModel()
    # before any loan of its own: the sisters' ~1,000 s, not the fixed prior's 300 s
    assert 850 < float(fresh.service("loan").quantiles([0.5])[0]) < 1150
    assert float(alone.service("loan").quantiles([0.5])[0]) == pytest.approx(300.0, rel=0.2)
    # a service no sister has seen still starts from the fixed prior
    assert float(fresh.service("fx").quantiles([0.5])[0]) == pytest.approx(300.0, rel=0.2)
    # this branch's loans really take ~2,000 s: after 300 of them its own data rules
    for value in rng.lognormal(np.log(2000.0), 0.35, 300):
        fresh.service("loan").add(float(value))
    assert 1800 < float(fresh.service("loan").quantiles([0.5])[0]) < 2200


def test_pooled_patience_is_the_sisters_censored_hazard() -> None:
    rng = np.random.default_rng(4)
    sisters = []
    for _ in range(3):
        model = BranchModel()
        for patience, call in zip(rng.exponential(600.0, 400), rng.uniform(60, 900, 400), strict=True):
            model.patience.add(float(min(patience, call)), happened=bool(patience < call))
        sisters.append(model)
    fresh = BranchModel(priors=Priors(bank=bank_prior(sisters)))
    alone = Survival(None)
    assert fresh.patience.survival(300.0) == pytest.approx(np.exp(-300 / 600), abs=0.08)
    assert alone.survival(300.0) == 1.0  # with no prior, nobody is known to give up


def test_learn_sisters_names_the_log_and_line_of_an_impossible_event() -> None:
    good = simulated_lines("mmc", 1, 1)[:50]
    bad = [good[0], '{"ts": "2026-03-02T09:00:00+08:00", "type": "service_finished", "ticket": "Z999", "counter": "1"}']
    with pytest.raises(ReplayError, match=r"line 2: b\.jsonl"):
        learn_sisters([("a.jsonl", good), ("b.jsonl", bad)])


def test_replay_prior_from_uses_the_sisters_and_refuses_a_broken_one(tmp_path: Path) -> None:
    target = tmp_path / "new.jsonl"
    target.write_text("\n".join(simulated_lines("demo", 1, 1)) + "\n", encoding="utf-8")
    sisters = []
    for seed in (101, 102):
        path = tmp_path / f"sister{seed}.jsonl"
        path.write_text("\n".join(simulated_lines("demo", 3, seed)) + "\n", encoding="utf-8")
        sisters += ["--prior-from", str(path)]

    def first_loan_start(out: Path) -> float:
        with out.open() as handle:
            rows = [r for r in csv.DictReader(handle) if r["quantity"] == "service" and r["ticket"].startswith("C")]
        return float(rows[0]["p50"])

    plain, pooled = tmp_path / "plain.csv", tmp_path / "pooled.csv"
    assert CliRunner().invoke(cli, ["replay", str(target), "--out", str(plain)]).exit_code == 0
    result = CliRunner().invoke(cli, ["replay", str(target), "--out", str(pooled), *sisters])
    assert result.exit_code == 0, result.output
    # the first loan of the new branch: the fixed prior says ~300 s, the sisters ~1,000 s
    assert first_loan_start(plain) < 500 < 800 < first_loan_start(pooled)

    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"ts": "oops"}\n', encoding="utf-8")
    refused = tmp_path / "refused.csv"
    result = CliRunner().invoke(cli, ["replay", str(target), "--out", str(refused), "--prior-from", str(broken)])
    assert result.exit_code != 0
    assert "--prior-from" in result.output and "broken.jsonl" in result.output and "line 1" in result.output
    assert not refused.exists()
