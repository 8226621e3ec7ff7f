"""Forecast accuracy of the engine against the naive board rule, on event logs.

For each log: replay it through the engine (exactly what `queue-board replay` writes) and,
in the same pass, the naive rule "people ahead in the same queue × running mean duration
÷ open counters serving the service"; score both per shared/spec/event-log.md.

    .venv/bin/python benchmarks/wait_accuracy.py ../shared/data/sample-branch.jsonl
"""

from __future__ import annotations

import io
import sys
import time
from collections import defaultdict
from pathlib import Path

from queue_board.engine import Engine
from queue_board.events import Event, format_ts
from queue_board.forecast import naive_wait
from queue_board.replay import replay
from queue_board.scoring import first_predictions, outcomes, read_predictions, score


class NaiveRule:
    """Shadows the replay's engine and writes the naive predictions beside it."""

    def __init__(self) -> None:
        self.engine = Engine()
        self.totals: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)
        self.all_total = 0.0
        self.all_count = 0
        self.rows: list[dict[str, str]] = []

    def mean(self, service: str) -> float:
        if self.counts[service]:
            return self.totals[service] / self.counts[service]
        return self.all_total / self.all_count if self.all_count else self.engine.priors.service_seconds

    def __call__(self, event: Event) -> None:
        state = self.engine.state
        if event.type == "service_finished" and event.ticket in state.tickets:
            ticket = state.tickets[event.ticket]
            if ticket.started_at is not None:
                duration = event.at - ticket.started_at
                self.totals[ticket.service] += duration
                self.counts[ticket.service] += 1
                self.all_total += duration
                self.all_count += 1
        self.engine.submit(event)
        if event.type == "ticket_issued":
            assert event.ticket is not None and event.service is not None
            guess = naive_wait(self.engine.state, self.engine.state.tickets[event.ticket], self.mean(event.service))
            self.rows.append(self._row(event, "wait", guess))
        elif event.type == "service_started":
            assert event.ticket is not None
            service = self.engine.state.tickets[event.ticket].service
            self.rows.append(self._row(event, "service", self.mean(service)))

    @staticmethod
    def _row(event: Event, quantity: str, value: float) -> dict[str, str]:
        text = f"{value:.1f}"
        return {"ts": format_ts(event.ts), "ticket": event.ticket or "", "quantity": quantity, "p10": text, "p50": text, "p90": text}


def main(paths: list[str]) -> None:
    """Print one table per log."""
    for path in paths:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        naive = NaiveRule()
        out = io.StringIO()
        started = time.perf_counter()
        stats = replay(lines, out, on_event=naive)
        seconds = time.perf_counter() - started
        out.seek(0)
        engine_predictions = read_predictions(out)
        naive_predictions = first_predictions(naive.rows)
        actual = outcomes(lines)
        print(f"\n{Path(path).name}: {stats.events} events, replayed with both predictors in {seconds:.1f} s ({stats.events / seconds:,.0f} events/s)")
        print(f"{'quantity':<8} {'predictor':<28} {'n':>6} {'MAE s':>8} {'RMSE s':>8} {'pinball':>8} {'>p90':>6} {'<p10':>6}")
        for quantity in ("wait", "service"):
            for name, predictions in (("queue_board engine", engine_predictions), ("naive / running mean", naive_predictions)):
                s = score(actual, predictions, quantity)
                tails = f"{s.above_p90:>6.1%} {s.below_p10:>6.1%}" if name.startswith("queue") else f"{'':>6} {'':>6}"
                print(f"{quantity:<8} {name:<28} {s.n:>6} {s.mae:>8.1f} {s.rmse:>8.1f} {s.pinball:>8.1f} {tails}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: benchmarks/wait_accuracy.py LOG.jsonl [LOG.jsonl …]")
    main(sys.argv[1:])
