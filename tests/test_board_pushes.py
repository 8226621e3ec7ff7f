"""One push per change, with its forecast (issue 12's fan-out: every event used to send every
board two full states, the second only to bring the new forecast)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from conftest import ManualClock

from queue_board.core.branch_config import DEMO_CONFIG
from queue_board.service.branch_service import BranchService
from queue_board.store.event_store import EventStore


class Pushes:
    """What the service published, in order (thread-safe: refreshes run in threads here)."""

    def __init__(self) -> None:
        self.boards: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, branch: str, board: dict[str, Any]) -> None:
        with self._lock:
            self.boards.append(board)


def service(tmp_path: Path, clock: ManualClock, pushes: Pushes, **parts: Any) -> BranchService:
    store = EventStore(f"sqlite:///{tmp_path / 'store.db'}")
    store.upgrade()
    return BranchService(store, clock=clock, scenarios=32, default_config=DEMO_CONFIG, publish=pushes, **parts)


def test_each_write_is_pushed_once_with_the_forecast_made_after_it(tmp_path: Path, clock: ManualClock) -> None:
    pushes = Pushes()
    branch = service(tmp_path, clock, pushes)
    branch.counter_action("main", "1", "open", {})
    for _ in range(3):
        branch.issue_ticket("main", "deposit")
    branch.counter_action("main", "1", "call-next", {})
    seqs = [board["seq"] for board in pushes.boards]
    assert seqs == sorted(set(seqs)) and seqs[-1] == branch.projection("main").state.seq
    assert len(seqs) == 5  # the configuration, then one push for each of the five writes
    for board in pushes.boards[1:]:
        assert board["event"] is not None
        # the forecast it carries was made after the change: every waiting ticket has its range
        assert all(w["wait"] is not None for w in board["waiting"])
    assert pushes.boards[-1]["event"]["type"] == "ticket_called"


def test_a_failed_forecast_still_pushes_the_change(tmp_path: Path, clock: ManualClock) -> None:
    pushes = Pushes()

    def broken(task: Any, *args: Any) -> Any:
        if getattr(task, "__name__", "") == "_calibrated_forecast":
            raise RuntimeError("the forecast failed")
        return task(*args)

    branch = service(tmp_path, clock, pushes, offload=broken)
    branch.counter_action("main", "1", "open", {})
    branch.issue_ticket("main", "deposit")
    assert [board["event"]["type"] for board in pushes.boards if board["event"]] == ["counter_opened", "ticket_issued"]
    assert pushes.boards[-1]["waiting"][0]["ticket"] == "A001"


def test_writes_during_a_refresh_go_out_together(tmp_path: Path, clock: ManualClock) -> None:
    pushes = Pushes()

    def in_thread(task: Any, *args: Any) -> None:
        threading.Thread(target=task, args=args, daemon=True).start()

    def slow(task: Any, *args: Any) -> Any:
        time.sleep(0.05)  # a refresh long enough for the next writes to arrive while it runs
        return task(*args)

    branch = service(tmp_path, clock, pushes, start_task=in_thread, offload=slow)
    branch.counter_action("main", "1", "open", {})
    for _ in range(12):
        branch.issue_ticket("main", "deposit")  # ~12 writes within about one refresh
    written = branch.projection("main").state.seq
    deadline = time.monotonic() + 10
    while not pushes.boards or pushes.boards[-1]["seq"] < written or branch.forecasts.made_at("main") < written:
        assert time.monotonic() < deadline, "the last write was never pushed"
        time.sleep(0.01)
    time.sleep(0.2)  # nothing more is on its way
    seqs = [board["seq"] for board in pushes.boards]
    assert seqs == sorted(seqs)
    assert len(seqs) < 12, f"the burst was not coalesced: {seqs}"
    assert pushes.boards[-1]["seq"] == written
    # the last write's event rides a push of the final state; a refresh that finished after it
    # (its board was built from a state the write had already reached) may follow with the
    # forecast made at that seq and no event of its own
    with_event = [i for i, board in enumerate(pushes.boards) if board["event"] is not None]
    assert pushes.boards[with_event[-1]]["event"]["ticket"] == "A012"
    assert all(board["seq"] == written and board["event"] is None for board in pushes.boards[with_event[-1] + 1 :])
    assert all(w["wait"] is not None for w in pushes.boards[-1]["waiting"])


def test_screens_connecting_together_share_one_snapshot(tmp_path: Path, clock: ManualClock) -> None:
    """After a restart a branch's screens reconnect at once: within one second of the server's
    clock, at one seq and forecast, they get the board built once; a change or the next second
    builds it again."""
    branch = service(tmp_path, clock, Pushes())
    branch.counter_action("main", "1", "open", {})
    branch.issue_ticket("main", "deposit")
    first = branch.snapshot_without_refresh("main")
    assert branch.snapshot_without_refresh("main") is first
    clock.advance(1)
    later = branch.snapshot_without_refresh("main")
    assert later is not first and later["now"] != first["now"]
    branch.issue_ticket("main", "deposit")
    changed = branch.snapshot_without_refresh("main")
    assert changed["seq"] == later["seq"] + 1 and [w["ticket"] for w in changed["waiting"]] == ["A001", "A002"]
