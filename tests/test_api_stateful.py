"""Random days at the branch, through the API only (hypothesis stateful testing): kiosk tickets,
cancellations and every teller's button on two of the demo branch's counters, in any order.

After every step: each ticket is in one place at most (waiting, or at one counter), a counter
holds one ticket at most, a closed counter none; every accepted write moved ``seq`` by exactly
one, every refused one (4xx) changed nothing; a new ticket's ``people_ahead`` is the queue it
joined. At the end the branch's exported log, replayed from scratch into a new projection, shows
the board the live server shows."""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from conftest import TZ, ManualClock, create_tokens, make_test_app
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, multiple, rule

from queue_board.core.board_view import board_view
from queue_board.core.branch_config import DEMO_CONFIG
from queue_board.core.events import read_log
from queue_board.core.projection import Projection

API = "/api/v1/branches/main"
#: two of the demo's counters (counter 1 serves deposits, 2 deposits and remittances): a day on
#: few counters gets further in 25 steps than one spread over four
COUNTERS = [counter.name for counter in DEMO_CONFIG.counters][:2]
SERVICES = [service.code for service in DEMO_CONFIG.services]
#: what a forecast or the passing time decides: left out when two boards are compared
UNSTABLE = frozenset({"now", "forecast_at", "wait", "remaining", "new_ticket_wait", "wait_overdue"})
SCENARIOS = 16


def stable(value: Any) -> Any:
    """A board without what forecasts and the clock decide."""
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items() if k not in UNSTABLE}
    if isinstance(value, list):
        return [stable(v) for v in value]
    return value


class BranchDay(RuleBasedStateMachine):
    """The demo branch driven by its kiosk and its tellers (the manager's token presses every
    counter's buttons), with the clock moving between steps."""

    tickets = Bundle("tickets")

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="qb-stateful-"))
        self.clock = ManualClock(datetime(2026, 3, 2, 9, 0, 0, tzinfo=TZ))
        self.app = make_test_app(
            self.folder,
            self.clock,
            FORECAST_SCENARIOS=SCENARIOS,
            API_WRITE_LIMIT="100000 per minute",
            KIOSK_TICKET_LIMIT="100000 per minute",
        )
        self.client = self.app.test_client()
        self.tokens = create_tokens(self.app)
        self.accepted = 0

    def teardown(self) -> None:
        """The exported log, replayed from scratch, shows the live board; then clean up."""
        try:
            if self.accepted:
                self.check_replay()
        finally:
            self.app.extensions["queue_board"].store.close()
            shutil.rmtree(self.folder, ignore_errors=True)

    # the API, as the screens use it ----------------------------------------------------------
    def board(self) -> dict[str, Any]:
        """The live snapshot."""
        response = self.client.get(f"{API}/snapshot", headers=self.tokens.auth("display"))
        assert response.status_code == 200, response.json
        board = response.json
        assert isinstance(board, dict)
        return board

    def write(self, path: str, body: dict[str, Any] | None, role: str) -> Any:
        """POST a write and check what it did: 201 moved ``seq`` by one and answered the new
        ``seq``; a 4xx changed nothing; nothing else is answered."""
        before = self.board()
        response = self.client.post(API + path, json=body, headers=self.tokens.auth(role))
        after = self.board()
        status = response.status_code
        assert status < 500, (path, body, status, response.get_data(as_text=True)[:300])
        if status == 201:
            assert after["seq"] == before["seq"] + 1, (path, before["seq"], after["seq"])
            assert response.get_json()["seq"] == after["seq"]
            self.accepted += 1
        else:
            assert 400 <= status < 500, (path, status)
            assert response.mimetype == "application/json" and response.get_json()["error"], response.get_data(as_text=True)[:300]
            assert stable(after) == stable(before), (path, body, status)
        return response

    # rules -----------------------------------------------------------------------------------
    @rule(target=tickets, service=st.sampled_from(SERVICES))
    def take_ticket(self, service: str) -> Any:
        queued = [t for t in self.board()["waiting"] if t["service"] == service]
        response = self.write("/tickets", {"service": service}, "kiosk")
        if response.status_code != 201:
            return multiple()
        ticket = response.json["ticket"]
        # the people ahead are the queue it joined, and the board agrees
        assert ticket["people_ahead"] == len(queued)
        shown = next(t for t in self.board()["waiting"] if t["ticket"] == ticket["ticket"])
        assert shown["ahead_in_service"] == ticket["people_ahead"]
        return ticket["ticket"]

    @initialize(target=tickets)
    def open_the_branch(self) -> Any:
        # the day starts with the counters open and people at the door (closing, reopening and
        # new tickets are steps of it too)
        for counter in COUNTERS:
            assert self.write(f"/counters/{counter}/open", None, "manager").status_code == 201
        return multiple(*(self.take_ticket(service) for service in ("deposit", "remittance", "deposit")))

    # one rule per step of a visit, so that a day gets far: open, call, serve, and the rest
    @rule(counter=st.sampled_from(COUNTERS))
    def open_counter(self, counter: str) -> None:
        self.write(f"/counters/{counter}/open", None, "manager")

    @rule(counter=st.sampled_from(COUNTERS))
    def call_next(self, counter: str) -> None:
        self.write(f"/counters/{counter}/call-next", None, "manager")

    @rule(counter=st.sampled_from(COUNTERS), action=st.sampled_from(["start", "finish"]))
    def serve(self, counter: str, action: str) -> None:
        self.write(f"/counters/{counter}/{action}", None, "manager")

    @rule(counter=st.sampled_from(COUNTERS), action=st.sampled_from(["no-show", "recall", "pause", "resume", "close"]))
    def press(self, counter: str, action: str) -> None:
        body = {"reason": "lunch", "minutes": 10} if action == "pause" else None
        self.write(f"/counters/{counter}/{action}", body, "manager")

    @rule(counter=st.sampled_from(COUNTERS), ticket=tickets)
    def call_out_of_turn(self, counter: str, ticket: str) -> None:
        self.write(f"/counters/{counter}/call", {"ticket": ticket}, "manager")

    @rule(counter=st.sampled_from(COUNTERS), service=st.sampled_from(SERVICES))
    def transfer(self, counter: str, service: str) -> None:
        self.write(f"/counters/{counter}/transfer", {"service": service}, "manager")

    @rule(ticket=tickets)
    def cancel(self, ticket: str) -> None:
        self.write(f"/tickets/{ticket}/cancel", None, "kiosk")

    @rule(seconds=st.integers(min_value=1, max_value=900))
    def time_passes(self, seconds: int) -> None:
        self.clock.advance(seconds)

    # invariants ------------------------------------------------------------------------------
    @invariant()
    def each_ticket_is_in_one_place_and_a_counter_holds_one_at_most(self) -> None:
        board = self.board()
        waiting = [t["ticket"] for t in board["waiting"]]
        held = [c["ticket"] for c in board["counters"] if c["ticket"] is not None]
        assert len(set(waiting)) == len(waiting), waiting
        assert len(set(held)) == len(held), held
        assert not set(waiting) & set(held), (waiting, held)
        assert all(c["ticket"] is None for c in board["counters"] if c["status"] == "closed")
        # the hall's list of recent calls keeps finished visits a while: those still at a counter are its ticket
        at_counters = [(s["ticket"], s["counter"]) for s in board["now_serving"] if s["status"] in ("called", "serving")]
        assert sorted(at_counters) == sorted((c["ticket"], c["name"]) for c in board["counters"] if c["ticket"] is not None)
        # the queue's positions are its order, per service too
        assert [t["position"] for t in board["waiting"]] == list(range(1, len(waiting) + 1))
        for service in SERVICES:
            ahead = [t["ahead_in_service"] for t in board["waiting"] if t["service"] == service]
            assert ahead == list(range(len(ahead)))

    # the log tells the same story ------------------------------------------------------------
    def check_replay(self) -> None:
        exported = self.client.get(f"{API}/export", headers=self.tokens.auth("manager"))
        assert exported.status_code == 200
        projection = Projection(scenarios=SCENARIOS)
        for number, event in read_log(exported.get_data(as_text=True).splitlines()):
            _, rejection = projection.accept(event)
            assert rejection is None, (number, rejection)
        state = projection.state
        replayed = board_view(
            state,
            state.config if state.config is not None else DEMO_CONFIG,
            None,
            branch="main",
            now=self.clock.now().timestamp(),
            model=projection.model,
        )
        assert stable(replayed) == stable(self.board())


BranchDay.TestCase.settings = settings(
    max_examples=15,
    stateful_step_count=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_branch_day_through_the_api = BranchDay.TestCase
