"""One truth: what the boards show is rebuilt from the log alone, identically after a restart,
in another process and in ``replay``.

The live path (``BranchService.submit`` with the server's clock), a server restarted part-way
through (a new service on the same database, rebuilding its projection from the stored log),
and ``replay`` of the original log must give the same promises (the wait range each new ticket
is told, recorded on its ``ticket_issued``) and the same forecast of every waiting ticket.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from itertools import islice
from pathlib import Path

import pytest
from conftest import BANK_LOG, SAMPLE_LOG

from queue_board.core.branch_config import DEMO_CONFIG
from queue_board.core.events import event_to_json, read_log
from queue_board.core.projection import Projection
from queue_board.evaluation.evaluate import simulated_lines
from queue_board.evaluation.replay import replay
from queue_board.forecast.monte_carlo import Forecast
from queue_board.service.branch_service import BranchService
from queue_board.service.clock import SystemClock
from queue_board.store.event_store import EventStore

SCENARIOS = 32
BRANCH = "main"


class LogClock(SystemClock):
    """The server's clock set to each logged event's time, so the live path stamps what the log says."""

    def __init__(self) -> None:
        super().__init__(None)
        self.current = datetime.fromisoformat("2000-01-01T00:00:00+00:00")

    def now(self) -> datetime:
        return self.current


def _lines(source: str) -> list[str]:
    # a day and a half of each: enough to cross a day boundary and to calibrate
    if source == "sample":
        return SAMPLE_LOG.read_text().splitlines()[:1300]
    if source == "bank":
        with BANK_LOG.open() as log:
            return list(islice(log, 1500))
    return simulated_lines("demo", 2, 3)[:1500]


def _service(url: str, clock: LogClock) -> BranchService:
    return BranchService(EventStore(url), clock=clock, scenarios=SCENARIOS, default_config=DEMO_CONFIG)


def _feed(service: BranchService, clock: LogClock, lines: list[str]) -> None:
    """Send each logged event through the live write path, as a teller or kiosk would."""
    for _, event in read_log(lines):
        clock.current = event.ts
        fields = json.loads(event_to_json(event))
        del fields["ts"]
        service.submit(BRANCH, fields)


def _stored(service: BranchService) -> list[str]:
    return list(service.export_lines(BRANCH))


def _wait_rows(csv_text: str) -> list[tuple[str, ...]]:
    return [tuple(row) for row in csv.reader(io.StringIO(csv_text)) if row[2] == "wait"]


def _told_rows(exported: list[str]) -> list[tuple[str, ...]]:
    """The wait rows of the predictions CSV, written from the promises the log recorded."""
    rows = []
    for _, event in read_log(exported):
        if event.type == "ticket_issued":
            assert event.told is not None, f"{event.ticket} was told nothing"
            rows.append((json.loads(event_to_json(event))["ts"], event.ticket or "", "wait", *(f"{v:.1f}" for v in event.told)))
    return rows


@pytest.mark.slow
@pytest.mark.parametrize("source", ["sample", "bank", "simulated"])
def test_restart_at_any_seq_shows_what_an_uninterrupted_server_and_replay_show(source: str, tmp_path: Path) -> None:
    lines = _lines(source)
    clock = LogClock()
    uninterrupted = _service(f"sqlite:///{tmp_path / 'a.db'}", clock)
    uninterrupted.store.upgrade()
    _feed(uninterrupted, clock, lines)
    reference = _stored(uninterrupted)

    # a server restarted twice part-way through (at seqs no test chose by hand)
    restarted_url = f"sqlite:///{tmp_path / 'b.db'}"
    first = _service(restarted_url, clock)
    first.store.upgrade()
    cuts = [len(lines) // 3, (2 * len(lines)) // 3 + 7, len(lines)]
    _feed(first, clock, lines[: cuts[0]])
    first.store.close()
    start = cuts[0]
    for cut in cuts[1:]:
        again = _service(restarted_url, clock)
        assert again.projection(BRANCH).state.seq == start
        _feed(again, clock, lines[start:cut])
        # the forecast every board shows, at the same seq, from a projection rebuilt from the log
        assert _forecast_at(again) == _forecast_of_log(reference[:cut])
        again.store.close()
        start = cut
    assert _stored(_service(restarted_url, clock)) == reference

    # replay of the original log (no promises in it) writes byte-identical rows
    out = io.StringIO()
    replay(lines, out, projection_factory=lambda: Projection(scenarios=SCENARIOS))
    assert _wait_rows(out.getvalue()) == _told_rows(reference)
    # and replay of the stored log (promises recorded) writes the same rows again
    again_out = io.StringIO()
    replay(reference, again_out, projection_factory=lambda: Projection(scenarios=SCENARIOS))
    assert again_out.getvalue() == out.getvalue()
    uninterrupted.store.close()


def _forecast_at(service: BranchService) -> Forecast:
    return service.refresh(BRANCH)


def _forecast_of_log(lines: list[str]) -> Forecast:
    """What a projection fed the stored log (as every process's catch-up does) forecasts."""
    projection = Projection(scenarios=SCENARIOS)
    for _, event in read_log(lines):
        assert projection.submit(event) is None
    return projection.forecast([s.code for s in DEMO_CONFIG.services])


def test_forecasting_changes_nothing_a_restart_would_not_rebuild() -> None:
    """The issue's reproduction: 80% of sample-branch fed the way replay does (forecasting at
    every ticket) and the way a restarted server does (the stored log only) must agree."""
    lines = SAMPLE_LOG.read_text().splitlines()
    lines = lines[: int(len(lines) * 0.8)]
    live = Projection(scenarios=SCENARIOS)
    stored: list[str] = []
    for number, event in read_log(lines):
        recorded, rejection = live.accept(event)
        assert rejection is None
        stored.append(event_to_json(recorded))
        if number % 4 == 0 and live.state.waiting_count():
            live.forecast()  # a board refresh: must not teach the projection anything
    rebuilt = Projection(scenarios=SCENARIOS)
    for _, event in read_log(stored):
        assert rebuilt.submit(event) is None
    outcomes = sum(len(bucket) for bucket in live.model.calibrator.outcomes)
    assert outcomes > 500
    assert [list(b) for b in rebuilt.model.calibrator.outcomes] == [list(b) for b in live.model.calibrator.outcomes]
    assert rebuilt.model.calibrator.pending == live.model.calibrator.pending
    assert rebuilt.state.waiting_count() > 0
    assert rebuilt.forecast() == live.forecast()
