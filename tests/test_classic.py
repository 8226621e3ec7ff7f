"""The classic wait predictors on tiny hand-built days whose right answers are worked out by hand."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from conftest import TZ

from queue_board.core.branch import BranchState, Ticket, apply, validate
from queue_board.core.events import Event, parse_event
from queue_board.forecast.classic import (
    PRIOR_SERVICE_SECONDS,
    HOLPredictor,
    LESPredictor,
    NaivePredictor,
    QLPredictor,
    RunningMean,
    WaitPredictor,
)

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
TUESDAY = MONDAY + timedelta(days=1)


class Branch:
    """A branch fed by hand: every predictor observes each event before it is applied, as in a replay."""

    def __init__(self, start: datetime = MONDAY) -> None:
        self.state = BranchState()
        self.start = start
        self.t = 0.0
        self.naive = NaivePredictor()
        self.ql = QLPredictor()
        self.les = LESPredictor()
        self.hol = HOLPredictor()
        self.means = RunningMean()

    @property
    def predictors(self) -> list[WaitPredictor | RunningMean]:
        return [self.naive, self.ql, self.les, self.hol, self.means]

    def at(self, seconds: float, start: datetime | None = None) -> Branch:
        """Move the clock to ``seconds`` after the start (of ``start`` if given: a new day)."""
        if start is not None:
            self.start = start
        self.t = seconds
        return self

    def event(self, kind: str, **fields: Any) -> Event:
        event = parse_event({"type": kind, **fields}, ts=self.start + timedelta(seconds=self.t))
        rejection = validate(self.state, event)
        assert rejection is None, rejection.message
        for predictor in self.predictors:
            predictor.observe(self.state, event)
        apply(self.state, event)
        return event

    def open(self, counter: str, *services: str) -> None:
        self.event("counter_opened", counter=counter, services=[list(services)])

    def issue(self, ticket: str, service: str = "A") -> Ticket:
        self.event("ticket_issued", ticket=ticket, service=service)
        return self.state.tickets[ticket]

    def call(self, ticket: str, counter: str) -> None:
        self.event("ticket_called", ticket=ticket, counter=counter)

    def start_service(self, ticket: str, counter: str) -> None:
        self.event("service_started", ticket=ticket, counter=counter)

    def finish(self, ticket: str, counter: str) -> None:
        self.event("service_finished", ticket=ticket, counter=counter)

    def serve(self, ticket: str, counter: str, seconds: float) -> None:
        """Call, start and finish ``ticket`` at ``counter``, the transaction lasting ``seconds``."""
        self.call(ticket, counter)
        self.start_service(ticket, counter)
        self.t += seconds
        self.finish(ticket, counter)

    def waits(self, ticket: Ticket) -> dict[str, float]:
        return {
            "naive": self.naive.predict_wait(self.state, ticket),
            "QL": self.ql.predict_wait(self.state, ticket),
            "LES": self.les.predict_wait(self.state, ticket),
            "HOL": self.hol.predict_wait(self.state, ticket),
        }


def busy_two_counters() -> Branch:
    """Two counters for A; transactions of 60 s and 140 s seen (mean 100 s); both counters now busy."""
    branch = Branch()
    branch.open("1", "A")
    branch.open("2", "A")
    branch.issue("A001")
    branch.issue("A002")
    branch.serve("A001", "1", 60.0)
    branch.at(200.0).serve("A002", "2", 140.0)
    branch.at(400.0).issue("A003")
    branch.issue("A004")
    branch.at(410.0).call("A003", "1")
    branch.start_service("A003", "1")
    branch.call("A004", "2")
    branch.start_service("A004", "2")
    return branch


def test_naive_and_ql_with_two_busy_counters_and_three_ahead() -> None:
    branch = busy_two_counters()
    branch.at(500.0).issue("A005")
    branch.at(510.0).issue("A006")
    branch.at(520.0).issue("A007")
    ticket = branch.at(530.0).issue("A008")
    waits = branch.waits(ticket)
    assert waits["naive"] == pytest.approx(3 * 100.0 / 2)
    assert waits["QL"] == pytest.approx((3 + 1) * 100.0 / 2)
    # the head of the line, A005, has waited 30 s
    assert waits["HOL"] == pytest.approx(30.0)


def test_running_mean_is_the_service_prediction() -> None:
    branch = busy_two_counters()
    ticket = branch.state.tickets["A004"]
    assert branch.naive.predict_service(branch.state, ticket) == pytest.approx(100.0)
    assert branch.means.mean("A") == pytest.approx(100.0)


def test_nobody_ahead_and_a_free_counter_means_no_wait() -> None:
    branch = Branch()
    branch.open("1", "A")
    branch.issue("A001")
    branch.serve("A001", "1", 60.0)
    ticket = branch.at(100.0).issue("A002")
    assert branch.waits(ticket) == {"naive": 0.0, "QL": 0.0, "LES": 0.0, "HOL": 0.0}


def test_ql_counts_the_customer_in_service_when_every_counter_is_busy() -> None:
    branch = busy_two_counters()
    ticket = branch.at(500.0).issue("A005")
    waits = branch.waits(ticket)
    assert waits["naive"] == 0.0  # the naive rule forgets the counters are busy
    assert waits["QL"] == pytest.approx(100.0 / 2)
    assert waits["HOL"] == 0.0  # nobody ahead


def test_without_history_the_prior_mean_is_used() -> None:
    branch = Branch()
    branch.open("1", "A")
    branch.issue("A001")
    branch.call("A001", "1")
    branch.at(5.0).issue("A002")
    ticket = branch.at(10.0).issue("A003")
    waits = branch.waits(ticket)
    assert waits["naive"] == pytest.approx(1 * PRIOR_SERVICE_SECONDS)
    assert waits["QL"] == pytest.approx(2 * PRIOR_SERVICE_SECONDS)
    # A001 entered service after 0 s: that is LES's prediction
    assert waits["LES"] == 0.0
    assert waits["HOL"] == pytest.approx(5.0)


def test_a_service_never_seen_borrows_the_mean_of_all_services() -> None:
    branch = Branch()
    branch.open("1", "A", "B")
    branch.issue("A001")
    branch.serve("A001", "1", 80.0)
    branch.issue("A002")
    branch.call("A002", "1")
    branch.issue("B001", "B")
    ticket = branch.issue("B002", "B")
    assert branch.naive.predict_wait(branch.state, ticket) == pytest.approx(80.0)
    assert branch.naive.predict_service(branch.state, ticket) == pytest.approx(80.0)


def test_a_paused_counter_still_counts_as_serving() -> None:
    branch = busy_two_counters()
    branch.at(510.0).finish("A003", "1")  # 100 s: the mean stays 100 s
    branch.event("counter_paused", counter="1", minutes=5)
    branch.at(520.0).issue("A005")
    ticket = branch.issue("A006")
    assert branch.naive.predict_wait(branch.state, ticket) == pytest.approx(100.0 / 2)


def test_no_counter_open_uses_the_counters_that_served_most_recently() -> None:
    branch = Branch()
    for counter in ("1", "2", "3"):
        branch.open(counter, "A")
    for i, counter in enumerate(("1", "2", "3"), start=1):
        branch.issue(f"A00{i}")
        branch.serve(f"A00{i}", counter, 90.0)
    for counter in ("1", "2", "3"):
        branch.event("counter_closed", counter=counter)
    # Tuesday, before opening time: nobody serves A yet, three counters did on Monday
    branch.at(-600.0, TUESDAY).issue("A001")
    ticket = branch.at(-590.0).issue("A002")
    assert branch.naive.predict_wait(branch.state, ticket) == pytest.approx(1 * 90.0 / 3)
    assert branch.ql.predict_wait(branch.state, ticket) == pytest.approx(2 * 90.0 / 3)


def test_no_counter_ever_open_assumes_one() -> None:
    branch = Branch()
    branch.issue("A001")
    ticket = branch.at(10.0).issue("A002")
    waits = branch.waits(ticket)
    assert waits["naive"] == pytest.approx(PRIOR_SERVICE_SECONDS)
    assert waits["QL"] == pytest.approx(2 * PRIOR_SERVICE_SECONDS)
    assert waits["LES"] == pytest.approx(2 * PRIOR_SERVICE_SECONDS)  # nobody called yet: QL
    assert waits["HOL"] == pytest.approx(10.0)


def test_les_is_the_wait_of_the_last_customer_of_the_same_service_to_be_called() -> None:
    branch = Branch()
    branch.open("1", "A", "B")
    branch.issue("A001")
    branch.at(30.0).issue("B001", "B")
    branch.at(120.0).call("A001", "1")  # waited 120 s
    branch.start_service("A001", "1")
    branch.at(180.0).finish("A001", "1")
    branch.call("B001", "1")  # waited 150 s
    branch.start_service("B001", "1")
    branch.at(200.0).issue("B002", "B")
    ticket = branch.issue("A002")
    assert branch.les.predict_wait(branch.state, ticket) == pytest.approx(120.0)
    assert branch.les.predict_wait(branch.state, branch.state.tickets["B002"]) == pytest.approx(150.0)


def test_les_ignores_the_second_call_of_a_transferred_customer() -> None:
    branch = Branch()
    branch.open("1", "A", "B")
    branch.open("2", "B")
    branch.issue("A001")
    branch.at(50.0).call("A001", "1")  # waited 50 s
    branch.start_service("A001", "1")
    branch.at(100.0).event("ticket_transferred", ticket="A001", counter="1", service="B")
    branch.issue("B001", "B")
    branch.at(130.0).call("B001", "2")  # waited 30 s
    branch.start_service("B001", "2")
    branch.at(400.0).call("A001", "1")  # a call for B 400 s after the issue, but not the end of a wait
    branch.start_service("A001", "1")
    b002 = branch.issue("B002", "B")
    a002 = branch.issue("A002")
    assert branch.les.predict_wait(branch.state, b002) == pytest.approx(30.0)
    assert branch.les.predict_wait(branch.state, a002) == pytest.approx(50.0)
    # the transaction that ended in the transfer counts for A: 50 s
    assert branch.means.mean("A") == pytest.approx(50.0)


def test_hol_is_the_elapsed_wait_of_the_head_of_the_same_queue() -> None:
    branch = Branch()
    branch.open("1", "A", "B")
    branch.issue("B001", "B")
    branch.at(40.0).issue("A001")
    branch.at(60.0).issue("A002")
    branch.call("B001", "1")
    branch.at(100.0).issue("A003")
    ticket = branch.at(130.0).issue("A004")
    assert branch.hol.predict_wait(branch.state, ticket) == pytest.approx(90.0)
    branch.at(140.0).event("ticket_cancelled", ticket="A001")
    assert branch.hol.predict_wait(branch.state, ticket) == pytest.approx(80.0)


def test_at_a_new_day_running_means_persist_and_les_starts_afresh() -> None:
    branch = busy_two_counters()
    branch.at(500.0).issue("A005")
    branch.at(510.0).finish("A003", "1")  # every transaction lasts 100 s from here on
    branch.finish("A004", "2")
    branch.event("counter_closed", counter="2")
    branch.at(1000.0).call("A005", "1")  # Monday's last wait: 500 s
    branch.start_service("A005", "1")
    branch.at(1100.0).finish("A005", "1")
    branch.event("counter_closed", counter="1")
    ticket = branch.at(0.0, TUESDAY).issue("A001")  # no counter open yet on Tuesday morning
    assert branch.state.day == TUESDAY.date()
    assert branch.state.queued("A") == ["A001"]
    waits = branch.waits(ticket)
    # QL with Monday's mean (100 s) and Monday's two counters
    assert waits["QL"] == pytest.approx(100.0 / 2)
    assert waits["LES"] == pytest.approx(100.0 / 2)  # not Monday's 500 s
    assert waits["naive"] == 0.0
    branch.open("1", "A")
    branch.serve("A001", "1", 100.0)
    assert branch.les.last_wait == {"A": 0.0}
