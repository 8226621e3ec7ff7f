"""A teller's buttons in the pure core: the event each action builds, why it is refused, and which
actions the board offers a counter (exactly those the core accepts)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_properties import SERVICES, Run

from queue_board.core import branch
from queue_board.core.board_view import board_view
from queue_board.core.branch import FREE, BranchState, CounterStatus, Rejection, validate
from queue_board.core.branch_config import BranchConfig, CounterInfo, ServiceInfo
from queue_board.core.events import Event, EventFormatError, format_ts, parse_event
from queue_board.core.teller_actions import ACTIONS, available_actions, build_action, check_action
from queue_board.core.text import N_

TZ = timezone(timedelta(hours=8))
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)

CONFIG = BranchConfig(
    services=(
        ServiceInfo("deposit", "A", {"en": "Deposits"}),
        ServiceInfo("loan", "C", {"en": "Loans"}),
    ),
    counters=(
        CounterInfo("1", (("deposit",), ("loan",))),
        CounterInfo("2", (("loan",),)),
    ),
)
#: a branch with no configuration: any counter and service names go
BARE = BranchConfig()


def ev(kind: str, at: float = 0.0, **fields: Any) -> Event:
    """An event ``at`` seconds after 09:00 on 2 March 2026 (+08:00)."""
    return parse_event({"ts": format_ts(T0 + timedelta(seconds=at)), "type": kind, **fields})


def state_where(counter_is: str) -> BranchState:
    """A branch whose counter 1 (deposit, then loan) is ``counter_is``; A001 and C001 wait unless called."""
    events = [ev("ticket_issued", 1, ticket="A001", service="deposit"), ev("ticket_issued", 2, ticket="C001", service="loan")]
    if counter_is != "closed":
        events.insert(0, ev("counter_opened", 0, counter="1", services=[["deposit"], ["loan"]]))
    if counter_is in ("calling", "serving"):
        events.append(ev("ticket_called", 3, ticket="A001", counter="1"))
    if counter_is == "serving":
        events.append(ev("service_started", 4, ticket="A001", counter="1"))
    if counter_is == "paused":
        events.append(ev("counter_paused", 3, counter="1", reason="lunch", minutes=30))
    state = branch.replay(events)
    assert state.counters.get("1") is None or state.counters["1"].status.value == counter_is
    return state


def empty_idle() -> BranchState:
    """Counter 1 open and free, nobody waiting."""
    return branch.replay([ev("counter_opened", 0, counter="1", services=[["deposit"]])])


# ---------------------------------------------------------------------------- the events built


@pytest.mark.parametrize(
    ("counter_is", "action", "body", "fields"),
    [
        ("closed", "open", {}, {"type": "counter_opened", "counter": "1", "services": [["deposit"], ["loan"]]}),
        ("closed", "open", {"services": [["loan"]]}, {"type": "counter_opened", "counter": "1", "services": [["loan"]]}),
        ("idle", "call-next", {}, {"type": "ticket_called", "ticket": "A001", "counter": "1"}),
        ("idle", "call", {"ticket": "C001"}, {"type": "ticket_called", "ticket": "C001", "counter": "1"}),
        ("calling", "recall", {}, {"type": "ticket_recalled", "ticket": "A001", "counter": "1"}),
        ("calling", "start", {}, {"type": "service_started", "ticket": "A001", "counter": "1"}),
        ("calling", "no-show", {}, {"type": "ticket_no_show", "ticket": "A001", "counter": "1"}),
        ("serving", "finish", {}, {"type": "service_finished", "ticket": "A001", "counter": "1"}),
        (
            "serving",
            "transfer",
            {"service": "loan"},
            {"type": "ticket_transferred", "service": "loan", "ticket": "A001", "counter": "1"},
        ),
        (
            "idle",
            "pause",
            {"reason": "lunch", "minutes": 30},
            {"type": "counter_paused", "counter": "1", "reason": "lunch", "minutes": 30},
        ),
        ("idle", "pause", {"reason": None, "minutes": None}, {"type": "counter_paused", "counter": "1"}),
        ("paused", "resume", {}, {"type": "counter_resumed", "counter": "1"}),
        ("idle", "close", {}, {"type": "counter_closed", "counter": "1"}),
        ("paused", "close", {}, {"type": "counter_closed", "counter": "1"}),
    ],
)
def test_each_action_builds_its_event_and_the_core_accepts_it(
    counter_is: str, action: str, body: dict[str, Any], fields: dict[str, Any]
) -> None:
    state = state_where(counter_is)
    built = build_action(state, CONFIG, "1", action, body)
    assert built == fields
    assert isinstance(built, dict)
    assert validate(state, parse_event(built, ts=T0 + timedelta(seconds=10))) is None


def test_call_next_follows_the_call_rule_tiers_first() -> None:
    state = branch.replay(
        [
            ev("counter_opened", 0, counter="1", services=[["loan"], ["deposit"]]),
            ev("ticket_issued", 1, ticket="A001", service="deposit"),
            ev("ticket_issued", 2, ticket="C001", service="loan"),
        ]
    )
    assert build_action(state, CONFIG, "1", "call-next", {}) == {"type": "ticket_called", "ticket": "C001", "counter": "1"}


def test_reopening_an_unconfigured_counter_uses_the_profile_it_last_had() -> None:
    state = branch.replay(
        [ev("counter_opened", 0, counter="9", services=[["x"], ["y"]]), ev("counter_closed", 1, counter="9")]
    )
    assert build_action(state, BARE, "9", "open", {}) == {"type": "counter_opened", "counter": "9", "services": [["x"], ["y"]]}


def test_building_changes_nothing() -> None:
    state = state_where("serving")
    before = repr(state)
    for action in ACTIONS:
        build_action(state, CONFIG, "1", action, {"ticket": "C001", "service": "loan"})
    assert repr(state) == before


# ---------------------------------------------------------------------------- rejections

LISTED = "['call', 'call-next', 'close', 'finish', 'heads-up', 'no-show', 'open', 'pause', 'recall', 'resume', 'start', 'transfer']"


@pytest.mark.parametrize(
    ("counter_is", "config", "counter", "action", "body", "kind", "message", "field"),
    [
        ("idle", CONFIG, "1", "fly", {}, "not_found", f"unknown counter action 'fly'; expected one of {LISTED}", None),
        ("closed", CONFIG, "7", "open", {}, "not_found", "counter '7' is not configured at this branch", None),
        (
            "closed",
            BARE,
            "7",
            "open",
            {},
            "invalid",
            "services: counter 7 has no configured work profile; give one",
            "services",
        ),
        (
            "closed",
            CONFIG,
            "1",
            "open",
            {"services": [["mortgage", "deposit"]]},
            "invalid",
            "services: unknown services ['mortgage']",
            "services",
        ),
        ("closed", CONFIG, "1", "call-next", {}, "conflict", "counter 1 is closed; open it first", None),
        ("calling", CONFIG, "1", "call-next", {}, "conflict", "counter 1 is calling; finish or resume first", None),
        ("paused", CONFIG, "1", "call-next", {}, "conflict", "counter 1 is paused; finish or resume first", None),
        ("idle", CONFIG, "2", "call-next", {}, "conflict", "counter 2 is closed; open it first", None),
        ("idle", CONFIG, "1", "call", {}, "invalid", "ticket: give the label of the ticket to call", "ticket"),
        ("idle", CONFIG, "1", "call", {"ticket": ""}, "invalid", "ticket: give the label of the ticket to call", "ticket"),
        ("idle", CONFIG, "1", "call", {"ticket": 7}, "invalid", "ticket: give the label of the ticket to call", "ticket"),
        ("idle", CONFIG, "1", "start", {}, "conflict", "counter 1 has no called ticket to start (it is idle)", None),
        ("idle", CONFIG, "1", "recall", {}, "conflict", "counter 1 has no called ticket to recall (it is idle)", None),
        ("idle", CONFIG, "1", "finish", {}, "conflict", "counter 1 has no called ticket to finish (it is idle)", None),
        (
            "closed",
            CONFIG,
            "1",
            "no-show",
            {},
            "conflict",
            "counter 1 has no called ticket to mark as no-show (it is closed)",
            None,
        ),
        (
            "serving",
            CONFIG,
            "1",
            "transfer",
            {},
            "invalid",
            "service: name the service to transfer the customer to",
            "service",
        ),
        (
            "serving",
            CONFIG,
            "1",
            "transfer",
            {"service": "mortgage"},
            "not_found",
            "service 'mortgage' is not offered at this branch",
            None,
        ),
        (
            "paused",
            CONFIG,
            "1",
            "transfer",
            {"service": "loan"},
            "conflict",
            "counter 1 has no called ticket to transfer (it is paused)",
            None,
        ),
    ],
)
def test_each_refusal_says_why_as_the_api_answers(
    counter_is: str,
    config: BranchConfig,
    counter: str,
    action: str,
    body: dict[str, Any],
    kind: str,
    message: str,
    field: str | None,
) -> None:
    built = build_action(state_where(counter_is), config, counter, action, body)
    assert isinstance(built, Rejection)
    assert (built.kind, built.message, built.field) == (kind, message, field)


def test_call_next_with_nobody_waiting_for_the_counter_is_refused() -> None:
    built = build_action(empty_idle(), CONFIG, "1", "call-next", {})
    assert isinstance(built, Rejection)
    assert built.message == "nobody is waiting for the services of counter 1"
    assert built.params == {"counter": "1"}


def test_refusals_about_the_state_are_catalogued_sentences_with_their_words_named() -> None:
    built = build_action(state_where("idle"), CONFIG, "1", "no-show", {})
    assert isinstance(built, Rejection)
    # the same template the translation catalogue has, its vocabulary marked for translation
    assert built.template == N_("counter %(counter)s has no called ticket to %(action)s (it is %(status)s)")
    assert dict(built.params) == {"counter": "1", "action": "mark as no-show", "status": "idle"}
    assert built.words == ("action", "status")


@pytest.mark.parametrize("name", ["a%(x)s", "50%", "%s"])
def test_names_with_percent_signs_are_quoted_not_formatted(name: str) -> None:
    unknown = build_action(empty_idle(), CONFIG, "1", name, {})
    assert isinstance(unknown, Rejection)
    assert unknown.message.startswith(f"unknown counter action {name!r};")
    service = build_action(state_where("serving"), CONFIG, "1", "transfer", {"service": name})
    assert isinstance(service, Rejection)
    assert service.message == f"service {name!r} is not offered at this branch"


def test_state_free_refusals_are_known_before_the_state() -> None:
    assert check_action(CONFIG, "1", "fly", {}) is not None
    assert check_action(CONFIG, "7", "open", {}) is not None
    # opening an unconfigured counter is fine when the request says what it serves
    assert check_action(CONFIG, "7", "open", {"services": [["loan"]]}) is None
    assert check_action(CONFIG, "7", "pause", {}) is None


def test_a_malformed_profile_is_left_to_the_event_parser() -> None:
    built = build_action(state_where("closed"), CONFIG, "1", "open", {"services": 5})
    assert built == {"type": "counter_opened", "counter": "1", "services": 5}
    with pytest.raises(EventFormatError):
        parse_event(built, ts=T0)


# ---------------------------------------------------------------------------- what the board offers


@pytest.mark.parametrize(
    ("counter_is", "actions"),
    [
        ("closed", ["open"]),
        ("idle", ["call-next", "call", "pause", "close"]),
        ("calling", ["recall", "start", "no-show"]),
        ("serving", ["finish", "transfer", "heads-up"]),
        ("paused", ["resume", "close"]),
    ],
)
def test_the_board_offers_each_counter_the_actions_its_state_allows(counter_is: str, actions: list[str]) -> None:
    view = board_view(state_where(counter_is), CONFIG, None, branch="main")
    assert next(c for c in view["counters"] if c["name"] == "1")["actions"] == actions


def test_nobody_waiting_offers_no_call() -> None:
    assert available_actions(empty_idle(), CONFIG, "1") == ["pause", "close"]


def test_call_next_only_when_someone_the_counter_serves_waits_but_call_for_anyone() -> None:
    state = branch.replay(
        [ev("counter_opened", 0, counter="1", services=[["deposit"]]), ev("ticket_issued", 1, ticket="C001", service="loan")]
    )
    assert available_actions(state, CONFIG, "1") == ["call", "pause", "close"]


def test_a_configured_counter_never_opened_can_only_open_and_an_unconfigured_one_nothing() -> None:
    view = board_view(BranchState(), CONFIG, None, branch="main")
    assert [(c["name"], c["actions"]) for c in view["counters"]] == [("1", ["open"]), ("2", ["open"])]
    assert available_actions(BranchState(), CONFIG, "7") == []


def test_transfer_is_offered_only_when_there_is_another_service() -> None:
    single = BranchConfig(services=(ServiceInfo("deposit", "A", {"en": "Deposits"}),))
    state = state_where("serving")
    assert "transfer" not in available_actions(state, single, "1")
    # without configured services, the services of today's tickets are the choices
    assert "transfer" in available_actions(state, BARE, "1")


# ---------------------------------------------------------------------------- one rule, over random states


def accepted(state: BranchState, config: BranchConfig, counter: str, action: str, body: dict[str, Any]) -> bool:
    """Whether the core builds ``action`` with ``body`` and then accepts the event."""
    built = build_action(state, config, counter, action, body)
    if isinstance(built, Rejection):
        return False
    try:
        event = parse_event(built, ts=state.last_ts or T0)
    except EventFormatError:
        return False
    return validate(state, event) is None


def bodies(state: BranchState, view: dict[str, Any], action: str) -> list[dict[str, Any]]:
    """Every body a console could send for ``action``: each ticket for a call, each service of the
    board for a transfer, each heads-up reason of the board for a heads-up."""
    if action == "heads-up":
        return [{"reason": reason["code"]} for reason in view["heads_up_reasons"]]
    if action == "call":
        return [{"ticket": label} for label in [*state.tickets, "Z999"]]
    if action == "transfer":
        return [{"service": service["code"]} for service in view["services"]]
    return [{}]


CONFIGS = [
    BARE,
    # counters 1 and 2 configured, 3 not: opening 3 needs a profile the console cannot give
    BranchConfig(
        services=tuple(ServiceInfo(code, code, {"en": code}) for code in SERVICES),
        counters=(CounterInfo("1", (("A",), ("B",))), CounterInfo("2", (("C",),))),
    ),
]


@settings(max_examples=100, deadline=None)
@given(data=st.data(), steps=st.integers(0, 40), config=st.sampled_from(CONFIGS))
def test_the_board_offers_exactly_the_actions_the_core_accepts(data: st.DataObject, steps: int, config: BranchConfig) -> None:
    run = Run()
    for _ in range(steps):
        run.step(data)
    state = run.state
    view = board_view(state, config, None, branch="main")
    for entry in view["counters"]:
        name = entry["name"]
        expected = [a for a in ACTIONS if any(accepted(state, config, name, a, b) for b in bodies(state, view, a))]
        assert entry["actions"] == expected, (name, entry["status"])
        counter = state.counters.get(name)
        free = counter is not None and counter.status in FREE
        assert ("call-next" in expected) == (free and entry["queue_for_counter"])
        assert ("call" in expected) == (free and state.waiting_count() > 0)
        assert ("open" in expected) == (
            (counter is None or counter.status is CounterStatus.CLOSED)
            and (config.counter(name) is not None or (not config.counters and counter is not None))
        )
