"""Evaluation: the engine and the classic predictors scored in one pass, tables, plots, the command."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLE_LOG

from queue_board.core.branch import BranchState, Ticket
from queue_board.core.events import Event
from queue_board.evaluation.evaluate import (
    ENGINE,
    Evaluation,
    EvaluationError,
    evaluate,
    format_markdown,
    format_table,
    plot,
    run_evaluate,
)
from queue_board.evaluation.replay import ReplayError, replay
from queue_board.evaluation.scoring import Key, outcomes, read_predictions, score
from queue_board.forecast.classic import CLASSIC

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def morning() -> list[str]:
    """The first 600 lines of the sample branch (one morning)."""
    return SAMPLE_LOG.read_text(encoding="utf-8").splitlines()[:600]


@pytest.fixture(scope="module")
def evaluation(morning: list[str]) -> Evaluation:
    return evaluate(morning, name="morning")


def called_tickets(lines: list[str]) -> set[tuple[str, str]]:
    """(day, ticket) of every ticket issued and called within ``lines``, read straight from the JSON."""
    issued: set[tuple[str, str]] = set()
    called: set[tuple[str, str]] = set()
    for line in lines:
        obj = json.loads(line)
        key = (obj["ts"][:10], obj.get("ticket", ""))
        if obj["type"] == "ticket_issued":
            issued.add(key)
        elif obj["type"] == "ticket_called" and key in issued:
            called.add(key)
    return called


def score_rows(report: str, title: str) -> list[str]:
    """The score lines of the block of ``report`` whose headline starts with ``title``."""
    block = next(b for b in report.split("\n\n") if b.startswith(title))
    return [line for line in block.splitlines() if line.startswith(("wait ", "service "))]


class Oracle:
    """Knows every outcome in advance: a test that predictions and outcomes are matched by ticket."""

    def __init__(self, actual: dict[Key, float]) -> None:
        self.actual = actual

    def observe(self, state: BranchState, event: Event) -> None:
        pass

    def predict_wait(self, state: BranchState, ticket: Ticket) -> tuple[float, float, float]:
        assert state.day is not None
        wait = self.actual.get((state.day, ticket.label, "wait"), 0.0)
        return (wait, wait, wait)

    def predict_service(self, state: BranchState, ticket: Ticket) -> float:
        assert state.day is not None
        return self.actual.get((state.day, ticket.label, "service"), 0.0)


def test_every_predictor_is_scored_on_every_called_ticket(morning: list[str], evaluation: Evaluation) -> None:
    called = len(called_tickets(morning))
    assert called > 100
    assert evaluation.predictors("wait") == [ENGINE, *CLASSIC]
    for name in evaluation.predictors("wait"):
        s = evaluation.score(name, "wait")
        assert s.n == called, name
        assert np.isfinite([s.mae, s.rmse, s.pinball]).all(), name
        raw = evaluation.raw[(name, "wait")]
        assert len(raw.actual) == len(raw.p50) == called
        assert float(np.mean(np.abs(raw.actual - raw.p50))) == pytest.approx(s.mae)


def test_service_is_scored_for_the_engine_and_the_running_mean(morning: list[str], evaluation: Evaluation) -> None:
    finished = sum(json.loads(line)["type"] == "service_finished" for line in morning)
    assert evaluation.predictors("service") == [ENGINE, "naive"]
    assert evaluation.score(ENGINE, "service").n == evaluation.score("naive", "service").n == finished


def test_engine_scores_are_exactly_those_of_replay(morning: list[str], evaluation: Evaluation) -> None:
    out = io.StringIO()
    replay(morning, out)
    out.seek(0)
    predicted = read_predictions(out)
    actual = outcomes(morning)
    assert evaluation.score(ENGINE, "wait") == score(actual, predicted, "wait")
    assert evaluation.score(ENGINE, "service") == score(actual, predicted, "service")
    assert evaluation.events == 600
    assert evaluation.events_per_second > 0


def test_point_predictors_have_no_spread(evaluation: Evaluation) -> None:
    raw = evaluation.raw[("QL", "wait")]
    assert np.array_equal(raw.p10, raw.p50) and np.array_equal(raw.p50, raw.p90)
    projection = evaluation.raw[(ENGINE, "wait")]
    assert (projection.p10 <= projection.p50).all() and (projection.p50 <= projection.p90).all()
    assert (projection.p90 > projection.p10).any()


def test_an_extra_predictor_is_fed_the_same_events(morning: list[str]) -> None:
    actual = outcomes(morning)
    result = evaluate(morning, extra={"oracle": lambda: Oracle(actual)})
    assert result.predictors("wait") == [ENGINE, *CLASSIC, "oracle"]
    assert result.predictors("service") == [ENGINE, "naive", "oracle"]
    perfect = result.score("oracle", "wait")
    assert perfect.n == len(called_tickets(morning))
    assert perfect.mae == pytest.approx(0.0, abs=1e-6)
    assert result.score("oracle", "service").mae == pytest.approx(0.0, abs=1e-6)


def test_an_extra_predictor_may_not_take_a_used_name(morning: list[str]) -> None:
    with pytest.raises(ValueError, match="'QL' is taken"):
        evaluate(morning[:5], extra={"QL": CLASSIC["naive"]})


class Broken:
    def observe(self, state: BranchState, event: Event) -> None:
        pass

    def predict_wait(self, state: BranchState, ticket: Ticket) -> float:
        raise ZeroDivisionError("no luck")


def test_a_failing_predictor_names_itself_and_the_line(morning: list[str]) -> None:
    lines = ["", *morning[:40]]  # a blank first line: the error still names the right line
    first_issue = next(n for n, line in enumerate(lines, start=1) if '"ticket_issued"' in line)
    with pytest.raises(EvaluationError, match=rf"^line {first_issue}: predictor 'broken' failed on ticket_issued"):
        evaluate(lines, extra={"broken": Broken})


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{not json", "not JSON"),
        ('{"ts": "2026-02-02T09:30:00+08:00", "type": "ticket_called", "ticket": "Z999", "counter": "1"}', "Z999"),
        ('{"ts": "2026-02-02T09:30:00+08:00", "type": "teleport"}', "unknown event type"),
    ],
)
def test_a_bad_log_line_is_named(morning: list[str], bad: str, message: str) -> None:
    lines = [*morning[:20], bad, *morning[20:40]]
    with pytest.raises(ReplayError, match=rf"^line 21: .*{message}"):
        evaluate(lines)


def test_plots_are_written(evaluation: Evaluation, tmp_path: Path) -> None:
    written = plot(evaluation, tmp_path / "plots", "morning")
    assert sorted(p.name for p in written) == [
        "morning-calibration.png",
        "morning-calibration.svg",
        "morning-wait-scatter.png",
        "morning-wait-scatter.svg",
    ]
    for path in written:
        assert path.stat().st_size > 5000, path
    for path in (p for p in written if p.suffix == ".png"):
        assert path.read_bytes().startswith(PNG_MAGIC)


def test_a_log_without_calls_still_plots(morning: list[str], tmp_path: Path) -> None:
    quiet = [line for line in morning[:30] if json.loads(line)["type"] in ("counter_opened", "ticket_issued")]
    result = evaluate(quiet)
    assert result.score(ENGINE, "wait").n == 0
    written = plot(result, tmp_path, "quiet", formats=("png",))
    assert all(p.read_bytes().startswith(PNG_MAGIC) for p in written)


def test_tables_have_a_block_per_log_and_a_row_per_predictor(evaluation: Evaluation) -> None:
    text = format_table([evaluation, evaluation])
    assert text.count("morning: 600 events") == 2
    rows = [line.split() for line in text.splitlines() if line.startswith(("wait ", "service "))]
    assert [r[1] for r in rows[:7]] == [ENGINE, *CLASSIC, ENGINE, "naive"]
    assert rows[0][2] == str(evaluation.score(ENGINE).n)
    assert rows[0][3] == f"{evaluation.score(ENGINE).mae:.1f}"
    markdown = format_markdown([evaluation])
    table = [line for line in markdown.splitlines() if line.startswith("|")]
    assert len(table) == 2 + len(evaluation.rows)
    assert table[2].startswith(f"| wait | {ENGINE} | {evaluation.score(ENGINE).n} |")


def test_run_evaluate_reads_logs_simulates_and_plots(morning: list[str], tmp_path: Path) -> None:
    log = tmp_path / "morning.jsonl"
    log.write_text("\n".join(morning) + "\n", encoding="utf-8")
    report = run_evaluate([str(log)], str(tmp_path / "plots"), [("demo", 2, 7)])
    assert "morning.jsonl: 600 events" in report
    assert "simulated demo, 2 d, seed 7:" in report
    listed = [Path(line.strip()) for line in report.splitlines() if line.startswith("  ")]
    assert {p.name for p in listed} >= {"morning-wait-scatter.png", "sim-demo-2d-seed7-calibration.png"}
    assert all(p.is_file() for p in listed)
    # a simulated log is also scored by its oracle (wait and service rows); a log on disk is not
    simulated = score_rows(report, "simulated demo")
    assert len(simulated) == len(CLASSIC) + 3 + 2
    assert sum("oracle" in row for row in simulated) == 2
    assert not any("oracle" in row for row in score_rows(report, "morning.jsonl"))


def test_run_evaluate_rejects_an_unknown_scenario() -> None:
    with pytest.raises(ValueError, match="unknown scenario 'nope'"):
        run_evaluate([], None, [("nope", 1, 1)])
