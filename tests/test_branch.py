"""The branch projection: the states an event must find, day rollover, queue order, the shared logs."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from conftest import BANK_LOG, SAMPLE_LOG

from queue_board.core import branch
from queue_board.core.branch import BranchState, CounterStatus, TicketStatus, apply, validate
from queue_board.core.events import Event, format_ts, parse_event, read_log
from queue_board.core.projection import Projection

TZ = timezone(timedelta(hours=8))
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)


def ev(kind: str, at: float = 0.0, **fields: Any) -> Event:
    """An event ``at`` seconds after 09:00 on 2 March 2026 (+08:00)."""
    return parse_event({"ts": format_ts(T0 + timedelta(seconds=at)), "type": kind, **fields})


def opened(counter: str, services: Any, at: float = 0.0) -> Event:
    return ev("counter_opened", at, counter=counter, services=services)


def issued(ticket: str, service: str = "A", at: float = 0.0) -> Event:
    return ev("ticket_issued", at, ticket=ticket, service=service)


def by(kind: str, ticket: str, counter: str, at: float = 0.0) -> Event:
    return ev(kind, at, ticket=ticket, counter=counter)


def transferred(ticket: str, counter: str, service: str, at: float = 0.0) -> Event:
    return ev("ticket_transferred", at, ticket=ticket, counter=counter, service=service)


def run(*events: Event) -> BranchState:
    return branch.replay(list(events))


def assert_rejected(state: BranchState, event: Event, kind: str = "conflict") -> None:
    """The event is rejected, and neither validating nor submitting it changes the state."""
    before = copy.deepcopy(state)
    rejection = validate(state, event)
    assert rejection is not None, f"{event.type} should have been rejected"
    assert rejection.kind == kind
    assert rejection.message
    assert state == before
    projection = Projection()
    projection.state = state
    assert projection.submit(event) == rejection
    assert state == before


# a branch at 09:00: counter 1 (A) and counter 2 (A) open; A001 served at 1, A002 called by 2, A003 waiting
BUSY = (
    opened("1", [["A"]]),
    opened("2", [["A"]]),
    opened("3", [["B"]]),
    issued("A001", at=1),
    issued("A002", at=2),
    issued("A003", at=3),
    issued("A004", at=4),
    by("ticket_called", "A001", "1", at=10),
    by("service_started", "A001", "1", at=20),
    by("ticket_called", "A002", "2", at=30),
    ev("ticket_cancelled", 40, ticket="A004"),
)


@pytest.fixture
def busy() -> BranchState:
    return run(*BUSY)


def test_busy_branch_is_what_its_log_says(busy: BranchState) -> None:
    assert busy.tickets["A001"].status is TicketStatus.SERVING
    assert busy.tickets["A002"].status is TicketStatus.CALLED
    assert busy.tickets["A003"].status is TicketStatus.WAITING
    assert busy.tickets["A004"].status is TicketStatus.CANCELLED
    assert busy.counters["1"].status is CounterStatus.SERVING
    assert busy.counters["2"].status is CounterStatus.CALLING
    assert busy.counters["3"].status is CounterStatus.IDLE
    assert busy.queued("A") == ["A003"]
    assert busy.seq == len(BUSY)


@pytest.mark.parametrize(
    ("event", "kind"),
    [
        # a ticket is called or cancelled only while waiting
        pytest.param(by("ticket_called", "A002", "3", at=50), "conflict", id="call-a-called-ticket"),
        pytest.param(by("ticket_called", "A001", "3", at=50), "conflict", id="call-a-served-ticket"),
        pytest.param(by("ticket_called", "A004", "3", at=50), "conflict", id="call-a-cancelled-ticket"),
        pytest.param(by("ticket_called", "A999", "3", at=50), "not_found", id="call-a-ticket-never-issued"),
        pytest.param(ev("ticket_cancelled", 50, ticket="A002"), "conflict", id="cancel-a-called-ticket"),
        pytest.param(ev("ticket_cancelled", 50, ticket="A001"), "conflict", id="cancel-a-served-ticket"),
        pytest.param(ev("ticket_cancelled", 50, ticket="A004"), "conflict", id="cancel-twice"),
        # started or marked no-show only after its call, by the counter that called it
        pytest.param(by("service_started", "A003", "3", at=50), "conflict", id="start-a-waiting-ticket"),
        pytest.param(by("service_started", "A002", "3", at=50), "conflict", id="start-at-another-counter"),
        pytest.param(by("service_started", "A001", "1", at=50), "conflict", id="start-twice"),
        pytest.param(by("ticket_no_show", "A003", "3", at=50), "conflict", id="no-show-a-waiting-ticket"),
        pytest.param(by("ticket_no_show", "A002", "1", at=50), "conflict", id="no-show-at-another-counter"),
        pytest.param(by("ticket_no_show", "A001", "1", at=50), "conflict", id="no-show-once-started"),
        pytest.param(by("ticket_recalled", "A001", "1", at=50), "conflict", id="recall-once-started"),
        # finished (or transferred) only while being served
        pytest.param(by("service_finished", "A002", "2", at=50), "conflict", id="finish-a-called-ticket"),
        pytest.param(by("service_finished", "A003", "2", at=50), "conflict", id="finish-a-waiting-ticket"),
        pytest.param(by("service_finished", "A001", "2", at=50), "conflict", id="finish-at-another-counter"),
        pytest.param(transferred("A002", "2", "B", at=50), "conflict", id="transfer-a-called-ticket"),
        pytest.param(transferred("A001", "1", "A", at=50), "conflict", id="transfer-to-same-service"),
        # a counter calls only when open, free and not paused
        pytest.param(by("ticket_called", "A003", "1", at=50), "conflict", id="serving-counter-calls"),
        pytest.param(by("ticket_called", "A003", "2", at=50), "conflict", id="calling-counter-calls-again"),
        pytest.param(by("ticket_called", "A003", "9", at=50), "not_found", id="never-opened-counter-calls"),
        # it pauses or closes only when free
        pytest.param(ev("counter_paused", 50, counter="1"), "conflict", id="pause-while-serving"),
        pytest.param(ev("counter_paused", 50, counter="2"), "conflict", id="pause-while-calling"),
        pytest.param(ev("counter_closed", 50, counter="1"), "conflict", id="close-while-serving"),
        pytest.param(ev("counter_closed", 50, counter="2"), "conflict", id="close-while-calling"),
        pytest.param(ev("counter_resumed", 50, counter="3"), "conflict", id="resume-a-counter-not-paused"),
        pytest.param(opened("3", [["A"]], at=50), "conflict", id="open-an-open-counter"),
        pytest.param(ev("counter_paused", 50, counter="9"), "not_found", id="pause-a-counter-never-opened"),
        # ticket labels are unique within a day
        pytest.param(issued("A002", "B", at=50), "conflict", id="issue-a-label-twice-a-day"),
        # the log runs forward in time
        pytest.param(issued("A005", at=39), "conflict", id="earlier-than-the-last-event"),
    ],
)
def test_event_that_does_not_fit_the_state_is_rejected_and_changes_nothing(
    busy: BranchState, event: Event, kind: str
) -> None:
    assert_rejected(busy, event, kind)


@pytest.mark.parametrize(
    ("setup", "event"),
    [
        pytest.param((ev("counter_paused", 50, counter="3"),), by("ticket_called", "A003", "3", at=60), id="paused"),
        pytest.param((ev("counter_closed", 50, counter="3"),), by("ticket_called", "A003", "3", at=60), id="closed"),
    ],
)
def test_paused_or_closed_counter_cannot_call(busy: BranchState, setup: tuple[Event, ...], event: Event) -> None:
    branch.replay(list(setup), busy)
    assert_rejected(busy, event)


def test_closed_counter_cannot_pause_resume_or_close_again(busy: BranchState) -> None:
    branch.replay([ev("counter_closed", 50, counter="3")], busy)
    for kind in ("counter_paused", "counter_resumed", "counter_closed"):
        assert_rejected(busy, ev(kind, 60, counter="3"))


def test_paused_counter_cannot_pause_again_but_can_close(busy: BranchState) -> None:
    branch.replay([ev("counter_paused", 50, counter="3", minutes=10)], busy)
    assert_rejected(busy, ev("counter_paused", 60, counter="3"))
    assert validate(busy, ev("counter_closed", 60, counter="3")) is None


def test_finished_counter_is_free_to_call_pause_or_close(busy: BranchState) -> None:
    branch.replay([by("service_finished", "A001", "1", at=50)], busy)
    counter = busy.counters["1"]
    assert counter.status is CounterStatus.WRAPPING_UP
    assert counter.ticket is None
    assert busy.tickets["A001"].status is TicketStatus.DONE
    free_to = [by("ticket_called", "A003", "1", at=60), ev("counter_paused", 60, counter="1"),
               ev("counter_closed", 60, counter="1")]
    assert [validate(busy, event) for event in free_to] == [None, None, None]


def test_no_show_frees_the_counter_and_ends_the_ticket(busy: BranchState) -> None:
    branch.replay([by("ticket_no_show", "A002", "2", at=50)], busy)
    assert busy.tickets["A002"].status is TicketStatus.NO_SHOW
    assert busy.counters["2"].status is CounterStatus.IDLE
    assert_rejected(busy, by("service_started", "A002", "2", at=60))
    assert validate(busy, by("ticket_called", "A003", "2", at=60)) is None


def test_recall_keeps_the_ticket_called_at_its_counter(busy: BranchState) -> None:
    branch.replay([by("ticket_recalled", "A002", "2", at=50)], busy)
    ticket = busy.tickets["A002"]
    assert (ticket.status, ticket.counter, ticket.recalls) == (TicketStatus.CALLED, "2", 1)
    assert validate(busy, by("service_started", "A002", "2", at=60)) is None


def test_counter_may_call_any_waiting_ticket_even_out_of_order_or_off_profile() -> None:
    state = run(opened("1", [["A"]]), issued("A001", "A", at=1), issued("B001", "B", at=2))
    assert validate(state, by("ticket_called", "B001", "1", at=3)) is None


def test_closed_counter_reopens_with_its_new_profile(busy: BranchState) -> None:
    branch.replay([ev("counter_closed", 50, counter="3"), opened("3", [["A"], ["B"]], at=60)], busy)
    counter = busy.counters["3"]
    assert counter.status is CounterStatus.IDLE
    assert counter.services == (("A",), ("B",))


def test_event_at_the_same_instant_as_the_last_is_accepted(busy: BranchState) -> None:
    assert validate(busy, issued("A005", at=40)) is None


def test_event_for_another_branch_is_rejected() -> None:
    state = run(ev("counter_opened", 0, counter="1", services=[["A"]], branch="north"))
    assert_rejected(state, ev("ticket_issued", 1, ticket="A001", service="A", branch="south"))
    assert validate(state, ev("ticket_issued", 1, ticket="A001", service="A", branch="north")) is None


def test_transferred_customer_keeps_their_place_in_the_new_queue() -> None:
    state = run(
        opened("1", [["A"]]),
        opened("2", [["B"]]),
        issued("A001", "A", at=10),
        by("ticket_called", "A001", "1", at=20),
        by("service_started", "A001", "1", at=30),
        issued("B001", "B", at=40),
        issued("B002", "B", at=50),
        transferred("A001", "1", "B", at=60),
    )
    ticket = state.tickets["A001"]
    assert ticket.status is TicketStatus.TRANSFERRED
    assert (ticket.service, ticket.counter, ticket.queued_at, ticket.transfers) == ("B", None, ticket.issued_at, 1)
    assert state.queued("B") == ["A001", "B001", "B002"]
    assert state.counters["1"].status is CounterStatus.WRAPPING_UP
    assert state.counters["1"].ticket is None
    # waiting again: another counter may call it
    assert validate(state, by("ticket_called", "A001", "2", at=70)) is None


def test_tickets_issued_in_the_same_millisecond_keep_log_order() -> None:
    state = run(issued("A003", at=5), issued("A001", at=5), issued("A002", at=5), issued("A000", at=6))
    assert state.queued("A") == ["A003", "A001", "A002", "A000"]
    assert [t.label for t in state.waiting_tickets()] == ["A003", "A001", "A002", "A000"]


def test_waiting_tickets_merges_the_queues_by_time_of_joining() -> None:
    state = run(issued("A001", "A", at=1), issued("B001", "B", at=2), issued("A002", "A", at=3))
    assert [t.label for t in state.waiting_tickets()] == ["A001", "B001", "A002"]
    assert state.waiting_count() == 3


NEXT_DAY = 24 * 3600


class TestDayRollover:
    """Numbering restarts each local day; yesterday's queue is gone; a counter busy at midnight is freed."""

    @pytest.fixture
    def next_morning(self, busy: BranchState) -> BranchState:
        branch.replay([issued("A001", "A", at=NEXT_DAY)], busy)
        return busy

    def test_a_label_can_be_issued_again_the_next_day(self, busy: BranchState) -> None:
        assert_rejected(busy, issued("A001", at=NEXT_DAY - 9 * 3600 - 1))  # 23:59:59 the same day
        assert validate(busy, issued("A001", at=NEXT_DAY)) is None

    def test_yesterdays_waiting_tickets_are_gone(self, next_morning: BranchState) -> None:
        assert next_morning.queued("A") == ["A001"]
        assert set(next_morning.tickets) == {"A001"}
        assert next_morning.tickets["A001"].issued_at == next_morning.now
        assert next_morning.day == (T0 + timedelta(days=1)).date()

    def test_counters_busy_at_midnight_are_free_the_next_day(self, next_morning: BranchState) -> None:
        for name in ("1", "2"):
            counter = next_morning.counters[name]
            assert counter.status is CounterStatus.IDLE
            assert counter.ticket is None
        assert validate(next_morning, by("ticket_called", "A001", "1", at=NEXT_DAY + 1)) is None

    def test_yesterdays_tickets_cannot_be_finished_today(self, busy: BranchState) -> None:
        assert_rejected(busy, by("service_finished", "A001", "1", at=NEXT_DAY), "not_found")
        assert_rejected(busy, ev("ticket_cancelled", NEXT_DAY, ticket="A003"), "not_found")

    def test_first_event_of_a_day_is_judged_against_the_morning(self, busy: BranchState) -> None:
        # counter 1 was serving last night; this morning it is free, so it may pause
        assert validate(busy, ev("counter_paused", NEXT_DAY, counter="1")) is None

    def test_open_counter_stays_open_overnight(self, next_morning: BranchState) -> None:
        assert next_morning.counters["3"].status is CounterStatus.IDLE
        assert next_morning.counters["3"].services == (("B",),)


def test_replay_refuses_an_impossible_event_naming_why() -> None:
    with pytest.raises(ValueError, match="not waiting"):
        run(issued("A001", at=1), opened("1", [["A"]], at=1), by("ticket_called", "A001", "1", at=2),
            opened("2", [["A"]], at=2), by("ticket_called", "A001", "2", at=3))


def test_apply_counts_every_accepted_event(busy: BranchState) -> None:
    seq = busy.seq
    apply(busy, issued("A005", at=50))
    assert busy.seq == seq + 1
    assert busy.now == (T0 + timedelta(seconds=50)).timestamp()


def _replay_counting_rejections(path: Path) -> tuple[int, int, BranchState]:
    state = BranchState()
    rejected = accepted = 0
    with path.open(encoding="utf-8") as lines:
        for _, event in read_log(lines):
            if validate(state, event) is None:
                apply(state, event)
                accepted += 1
            else:
                rejected += 1
    return accepted, rejected, state


def test_sample_branch_log_replays_without_a_rejection() -> None:
    accepted, rejected, state = _replay_counting_rejections(SAMPLE_LOG)
    assert (accepted, rejected) == (3914, 0)
    assert state.seq == accepted


@pytest.mark.slow
def test_anonymous_bank_log_replays_without_a_rejection() -> None:
    accepted, rejected, state = _replay_counting_rejections(BANK_LOG)
    assert rejected == 0
    assert accepted == state.seq > 60_000
