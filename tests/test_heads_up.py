"""The teller's heads-up (issue 11, item 6): during a transaction one click ("+5 min: entering your
details", from the branch's list) is a ``transaction_extended`` event of the log; the counter board
says "this transaction: about 20–25 min — entering your details", everyone's forecast moves, the
branch learns how long a heads-up of N minutes really runs, and replay honours it."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest
from conftest import SAMPLE_LOG, STAFF_PASSWORD, ManualClock, Tokens, csrf_token_in, sign_in
from flask import Flask
from flask.testing import FlaskClient

from queue_board.core import branch
from queue_board.core.board_view import board_view
from queue_board.core.branch import BranchState, CounterStatus, HeadsUp, Rejection, apply, validate
from queue_board.core.branch_config import (
    DEFAULT_HEADS_UP_REASONS,
    DEMO_CONFIG,
    LANGUAGES,
    MAX_HEADS_UP_MINUTES,
    ConfigError,
    parse_config,
)
from queue_board.core.events import Event, EventFormatError, event_to_dict, event_to_json, format_ts, parse_event
from queue_board.core.projection import Projection
from queue_board.core.teller_actions import available_actions, build_action
from queue_board.evaluation.replay import replay
from queue_board.forecast.durations import BranchModel, heads_up_trust, learn_heads_ups

TZ = timezone(timedelta(hours=8))
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
API = "/api/v1/branches/main"


def ev(kind: str, at: float = 0.0, **fields: Any) -> Event:
    """An event ``at`` seconds after 09:00 on 2 March 2026 (+08:00)."""
    return parse_event({"ts": format_ts(T0 + timedelta(seconds=at)), "type": kind, **fields})


def heads_up(at: float, minutes: float = 5, reason: str | None = "entering_details", ticket: str = "A001", counter: str = "1") -> Event:
    fields: dict[str, Any] = {"ticket": ticket, "counter": counter, "minutes": minutes}
    if reason is not None:
        fields["reason"] = reason
    return ev("transaction_extended", at, **fields)


def serving_a001() -> list[Event]:
    """Counter 1 (deposits) serves A001 from 09:01; A002 and A003 wait."""
    return [
        ev("counter_opened", 0, counter="1", services=[["deposit"]]),
        ev("ticket_issued", 10, ticket="A001", service="deposit"),
        ev("ticket_issued", 20, ticket="A002", service="deposit"),
        ev("ticket_issued", 30, ticket="A003", service="deposit"),
        ev("ticket_called", 40, ticket="A001", counter="1"),
        ev("service_started", 60, ticket="A001", counter="1"),
    ]


# ------------------------------------------------------------------------------ the event


def test_the_event_round_trips_as_an_extension_of_the_log() -> None:
    line = {"ts": format_ts(T0), "type": "transaction_extended", "ticket": "A001", "counter": "1", "reason": "counting_cash", "minutes": 3}
    event = parse_event(line)
    assert (event.ticket, event.counter, event.minutes, event.reason) == ("A001", "1", 3.0, "counting_cash")
    assert event_to_dict(event) == line
    # the reason is optional, and free text is kept (an imported log's own words)
    free = parse_event({**line, "reason": " waiting for the manager ", "minutes": 2.5})
    assert (free.reason, free.minutes) == ("waiting for the manager", 2.5)
    assert parse_event({k: v for k, v in line.items() if k != "reason"}).reason is None


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"minutes": None}, "minutes", "must be a number"),
        ({"minutes": "5"}, "minutes", "must be a number"),
        ({"minutes": True}, "minutes", "must be a number"),
        ({"minutes": 0}, "minutes", "more than 0"),
        ({"minutes": -3}, "minutes", "more than 0"),
        ({"minutes": MAX_HEADS_UP_MINUTES + 1}, "minutes", f"at most {MAX_HEADS_UP_MINUTES}"),
        ({"reason": 5}, "reason", "must be a string"),
        ({"reason": "x" * 201}, "reason", "at most 200"),
        ({"ticket": None}, "ticket", "non-empty"),
        ({"counter": ""}, "counter", "non-empty"),
    ],
)
def test_a_malformed_heads_up_is_refused_naming_the_field(change: dict[str, Any], field: str, words: str) -> None:
    line = {"ts": format_ts(T0), "type": "transaction_extended", "ticket": "A001", "counter": "1", "minutes": 5, **change}
    line = {k: v for k, v in line.items() if v is not None}
    with pytest.raises(EventFormatError) as raised:
        parse_event(line)
    assert raised.value.field == field
    assert words in raised.value.message


@pytest.mark.parametrize(
    ("events", "event", "kind", "message"),
    [
        (serving_a001()[:5], heads_up(50), "conflict", "ticket A001 is called, not serving"),
        (serving_a001(), heads_up(70, ticket="A002"), "conflict", "ticket A002 is not at counter 1"),
        (serving_a001(), heads_up(70, counter="2"), "not_found", "counter 2 has never been opened"),
        (serving_a001(), heads_up(70, ticket="A009"), "not_found", "ticket A009 was not issued today"),
        (
            [*serving_a001(), ev("service_finished", 100, ticket="A001", counter="1")],
            heads_up(110),
            "conflict",
            "ticket A001 is not at counter 1",
        ),
    ],
)
def test_a_heads_up_is_valid_only_while_that_counter_serves_that_ticket(
    events: list[Event], event: Event, kind: str, message: str
) -> None:
    state = branch.replay(events)
    rejection = validate(state, event)
    assert rejection is not None
    assert (rejection.kind, rejection.message) == (kind, message)


def test_the_running_transaction_carries_its_heads_ups_until_it_ends() -> None:
    state = branch.replay([*serving_a001(), heads_up(120, 5), heads_up(300, 3, "authorisation")])
    counter = state.counters["1"]
    assert counter.heads_ups == (
        HeadsUp(at=(T0 + timedelta(seconds=120)).timestamp(), minutes=5.0, reason="entering_details"),
        HeadsUp(at=(T0 + timedelta(seconds=300)).timestamp(), minutes=3.0, reason="authorisation"),
    )
    assert counter.status is CounterStatus.SERVING and counter.ticket == "A001", "a heads-up moves nobody"
    apply(state, ev("service_finished", 600, ticket="A001", counter="1"))
    assert state.counters["1"].heads_ups == ()
    # the next customer's transaction starts without the last one's heads-ups
    for event in (ev("ticket_called", 620, ticket="A002", counter="1"), ev("service_started", 640, ticket="A002", counter="1")):
        apply(state, event)
    assert state.counters["1"].heads_ups == ()


def test_a_transfer_and_a_new_day_end_the_heads_ups_too() -> None:
    transferred = branch.replay([*serving_a001(), heads_up(120), ev("ticket_transferred", 200, ticket="A001", counter="1", service="loan")])
    assert transferred.counters["1"].heads_ups == ()
    state = branch.replay([*serving_a001(), heads_up(120)])
    apply(state, ev("ticket_issued", 86400, ticket="A001", service="deposit"))
    assert state.counters["1"].status is CounterStatus.IDLE and state.counters["1"].heads_ups == ()


# ------------------------------------------------------------------------------ the branch's list


def test_a_branch_that_configures_no_heads_up_reasons_gets_the_defaults_in_every_language() -> None:
    assert DEMO_CONFIG.heads_up_reasons == ()
    assert DEMO_CONFIG.heads_ups == DEFAULT_HEADS_UP_REASONS
    codes = [r.code for r in DEFAULT_HEADS_UP_REASONS]
    assert len(set(codes)) == len(codes)
    assert {"entering_details", "authorisation", "checking_documents", "counting_cash"} <= set(codes)
    for reason in DEFAULT_HEADS_UP_REASONS:
        assert set(reason.names) == set(LANGUAGES), reason
        assert 0 < reason.minutes <= MAX_HEADS_UP_MINUTES
    details = DEMO_CONFIG.heads_up_reason("entering_details")
    assert details is not None and details.minutes == 5 and details.name("en") == "Entering your details"
    assert DEMO_CONFIG.heads_up_reason("authorisation").minutes == 3  # type: ignore[union-attr]
    assert DEMO_CONFIG.heads_up_reason("tea") is None and DEMO_CONFIG.heads_up_reason(None) is None
    assert "heads_up_reasons" not in DEMO_CONFIG.to_dict(), "a configuration without them reads back as it was"


HEADS_UPS = [
    {"code": "signatures", "names": {"en": "Collecting signatures", "zh-Hant": "請您簽名", "zh-Hans": "请您签名"}, "minutes": 4},
    {"code": "fx", "names": {"en": "Getting the exchange rate", "zh-Hant": "查詢匯率", "zh-Hans": "查询汇率"}, "minutes": 1.5},
]


def test_configured_heads_up_reasons_round_trip_through_the_configuration_event() -> None:
    config = parse_config({**DEMO_CONFIG.to_dict(), "heads_up_reasons": HEADS_UPS})
    assert [(r.code, r.minutes) for r in config.heads_ups] == [("signatures", 4.0), ("fx", 1.5)]
    assert config.to_dict()["heads_up_reasons"] == HEADS_UPS
    event = parse_event({"ts": format_ts(T0), "type": "branch_configured", "config": config.to_dict()})
    assert event.config == config
    assert config.heads_up_reason("entering_details") is None, "a default the branch replaced is no longer offered"


@pytest.mark.parametrize(
    ("reasons", "field", "words"),
    [
        ([], "heads_up_reasons", "non-empty"),
        ({"code": "x"}, "heads_up_reasons", "non-empty"),
        (["fx"], "heads_up_reasons[0]", "object"),
        ([{**HEADS_UPS[0], "code": "Sign"}], "heads_up_reasons[0].code", "lower-case"),
        ([HEADS_UPS[0], HEADS_UPS[0]], "heads_up_reasons[1].code", "twice"),
        ([{**HEADS_UPS[0], "names": {"en": "Signatures"}}], "heads_up_reasons[0].names", "every language"),
        ([{**HEADS_UPS[0], "minutes": 0}], "heads_up_reasons[0].minutes", "above 0"),
        ([{**HEADS_UPS[0], "minutes": 121}], "heads_up_reasons[0].minutes", "at most 120"),
        ([{**HEADS_UPS[0], "minutes": "4"}], "heads_up_reasons[0].minutes", "number"),
        ([{k: v for k, v in HEADS_UPS[0].items() if k != "minutes"}], "heads_up_reasons[0].minutes", "number"),
        ([{**HEADS_UPS[0], "icon": "pen"}], "heads_up_reasons[0]", "unknown keys"),
        ([{**HEADS_UPS[0], "code": f"r{i}"} for i in range(9)], "heads_up_reasons", "at most 8"),
    ],
)
def test_bad_heads_up_reasons_are_rejected_naming_the_field(reasons: Any, field: str, words: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({**DEMO_CONFIG.to_dict(), "heads_up_reasons": reasons})
    assert raised.value.field == field
    assert words in raised.value.message


# ------------------------------------------------------------------------------ the console's button


def test_the_button_builds_the_event_with_the_reasons_minutes_or_the_tellers() -> None:
    state = branch.replay(serving_a001())
    expected = {"type": "transaction_extended", "counter": "1", "ticket": "A001", "minutes": 5.0, "reason": "entering_details"}
    assert build_action(state, DEMO_CONFIG, "1", "heads-up", {"reason": "entering_details"}) == expected
    assert build_action(state, DEMO_CONFIG, "1", "heads-up", {"reason": "entering_details", "minutes": 8}) == {**expected, "minutes": 8}
    assert "heads-up" in available_actions(state, DEMO_CONFIG, "1")


@pytest.mark.parametrize(
    ("events", "body", "kind", "field", "words"),
    [
        (serving_a001(), {}, "invalid", "reason", "give the code"),
        (serving_a001(), {"reason": 5}, "invalid", "reason", "give the code"),
        (serving_a001(), {"reason": "tea"}, "invalid", "reason", "'tea' is not a heads-up reason of this branch"),
        (serving_a001()[:5], {"reason": "entering_details"}, "conflict", None, "serving nobody"),
        (serving_a001()[:1], {"reason": "entering_details"}, "conflict", None, "(it is idle)"),
    ],
)
def test_the_button_is_refused_with_why(events: list[Event], body: dict[str, Any], kind: str, field: str | None, words: str) -> None:
    state = branch.replay(events)
    built = build_action(state, DEMO_CONFIG, "1", "heads-up", body)
    assert isinstance(built, Rejection)
    assert (built.kind, built.field) == (kind, field)
    assert words in built.message
    if kind == "conflict":
        assert "heads-up" not in available_actions(state, DEMO_CONFIG, "1")


# ------------------------------------------------------------------------------ the counter board


def test_the_board_carries_the_latest_heads_up_and_the_branchs_reasons() -> None:
    state = branch.replay([*serving_a001(), heads_up(120, 5), heads_up(300, 3, "authorisation")])
    board = board_view(state, DEMO_CONFIG, None, branch="main")
    assert board["heads_up_reasons"] == [r.to_dict() for r in DEFAULT_HEADS_UP_REASONS]
    assert board["heads_up_reasons"][0] == {
        "code": "entering_details",
        "names": {"en": "Entering your details", "zh-Hant": "正在輸入您的資料", "zh-Hans": "正在录入您的资料"},
        "minutes": 5,
    }
    counter = board["counters"][0]
    assert counter["heads_up"] == {
        "reason": "authorisation",
        "minutes": 3,
        "at": "2026-03-02T09:05:00.000+08:00",
        "count": 2,
        "total_minutes": 8,
    }
    assert "heads-up" in counter["actions"]
    finished = branch.replay([*serving_a001(), heads_up(120), ev("service_finished", 400, ticket="A001", counter="1")])
    assert board_view(finished, DEMO_CONFIG, None, branch="main")["counters"][0]["heads_up"] is None


# ------------------------------------------------------------------------------ the forecast


def projection_of(events: list[Event]) -> Projection:
    projection = Projection(scenarios=256)
    for event in events:
        assert projection.submit(event) is None, event
    return projection


def test_a_heads_up_moves_the_running_transaction_and_everyone_waiting_later() -> None:
    events = serving_a001()
    before = projection_of(events).forecast()
    after = projection_of([*events, heads_up(120, 20)]).forecast()
    # the default deposit lasts about 5 min: a heads-up of 20 min at 09:02 keeps the counter busy
    # for at least most of those 20 min (from 09:02), and the two customers behind wait for it
    assert before.counters["1"].p50 < 8 * 60
    assert after.counters["1"].p10 >= 12 * 60
    assert after.counters["1"].p50 >= 17 * 60
    for label in ("A002", "A003"):
        assert after.waits[label].p50 > before.waits[label].p50 + 10 * 60, label
        assert after.waits[label].p10 > before.waits[label].p10, label


def test_the_forecast_with_a_heads_up_is_reproducible() -> None:
    events = [*serving_a001(), heads_up(120, 10)]
    assert projection_of(events).forecast() == projection_of(events).forecast()


def test_the_branch_learns_how_long_its_heads_ups_really_run() -> None:
    model = BranchModel()
    prior = float(model.heads_up_realised.quantiles([0.5])[0])
    assert prior == pytest.approx(1.0, abs=0.05), "before any heads-up: as declared"
    # this branch's "+5 min" steps really take 10 min, twenty times over
    for day in range(20):
        start = day * 3600.0
        learn_heads_ups(model, (HeadsUp(at=start, minutes=5.0),), start + 600.0)
    learned = float(model.heads_up_realised.quantiles([0.5])[0])
    assert 1.8 <= learned <= 2.05, learned
    # two heads-ups in one transaction: each is measured to the end (390 s after a declared 300 s,
    # 240 s after a declared 120 s), as a forecast reads the latest without knowing what follows
    model = BranchModel()
    assert heads_up_trust(model) == 0.0, "before any heads-up has ended, the usual remaining time counts too"
    learn_heads_ups(model, (HeadsUp(at=0.0, minutes=5.0), HeadsUp(at=150.0, minutes=2.0, reason="authorisation")), 390.0)
    assert model.heads_up_realised.count == 2
    assert model.heads_up_realised.quantiles([1.0])[0] == pytest.approx(2.0)
    assert 1.3 in model.heads_up_realised.quantiles(np.linspace(0.0, 1.0, 201)).round(6).tolist()
    assert heads_up_trust(model) == pytest.approx(2 / 5)


def test_learned_from_the_log_and_used_by_the_next_forecast() -> None:
    """A scripted history: ten transactions with a heads-up of 5 min, each over 15 min later.
    The next heads-up of 5 min is forecast from what this branch's heads-ups really did."""
    events: list[Event] = [ev("counter_opened", 0, counter="1", services=[["deposit"]])]
    at = 10.0
    for index in range(1, 11):
        label = f"A{index:03d}"
        events += [
            ev("ticket_issued", at, ticket=label, service="deposit"),
            ev("ticket_called", at + 5, ticket=label, counter="1"),
            ev("service_started", at + 20, ticket=label, counter="1"),
            heads_up(at + 60, 5, ticket=label),
            ev("service_finished", at + 60 + 15 * 60, ticket=label, counter="1"),
        ]
        at += 20 * 60
    learned = projection_of(events)
    assert learned.model.heads_up_realised.count == 10
    assert float(learned.model.heads_up_realised.quantiles([0.5])[0]) > 2.4
    tail = [
        ev("ticket_issued", at, ticket="A011", service="deposit"),
        ev("ticket_called", at + 5, ticket="A011", counter="1"),
        ev("service_started", at + 20, ticket="A011", counter="1"),
        heads_up(at + 60, 5, ticket="A011"),
    ]
    for event in tail:
        assert learned.submit(event) is None
    naive = projection_of([events[0], *(ev(e.type, e.at - events[0].at, **_fields(e)) for e in tail)])
    assert learned.forecast().counters["1"].p50 > naive.forecast().counters["1"].p50 + 5 * 60


def test_a_branch_whose_heads_ups_end_the_transaction_comes_to_trust_them() -> None:
    """Here a heads-up is the last step: each transaction ends as declared after it. Once the branch
    has seen that, a heads-up of 2 min is forecast as about 2 min, though its deposits usually last
    longer; a branch that has seen no heads-up end keeps the usual remaining time as a floor."""
    events: list[Event] = [ev("counter_opened", 0, counter="1", services=[["deposit"]])]
    at = 10.0
    for index in range(1, 31):
        label = f"A{index:03d}"
        declared = 2 + index % 3
        events += [
            ev("ticket_issued", at, ticket=label, service="deposit"),
            ev("ticket_called", at + 5, ticket=label, counter="1"),
            ev("service_started", at + 20, ticket=label, counter="1"),
            heads_up(at + 20 + 240, declared, ticket=label),
            ev("service_finished", at + 20 + 240 + declared * 60, ticket=label, counter="1"),
        ]
        at += 15 * 60
    learned = projection_of(events)
    tail = [
        ev("ticket_issued", at, ticket="A031", service="deposit"),
        ev("ticket_called", at + 5, ticket="A031", counter="1"),
        ev("service_started", at + 20, ticket="A031", counter="1"),
        heads_up(at + 30, 2, ticket="A031"),
    ]
    for event in tail:
        assert learned.submit(event) is None
    trusted = learned.forecast().counters["1"]
    assert 90 <= trusted.p50 <= 150, trusted
    # the same moment in a branch that learned the deposits' lengths but saw no heads-up end
    plain = projection_of([e for e in events if e.type != "transaction_extended"])
    for event in tail:
        assert plain.submit(event) is None
    assert plain.forecast().counters["1"].p50 > 4 * 60


def _fields(event: Event) -> dict[str, Any]:
    return {k: v for k, v in event_to_dict(event).items() if k not in ("ts", "type")}


# ------------------------------------------------------------------------------ replay


def sample_lines(count: int = 400) -> list[str]:
    with SAMPLE_LOG.open(encoding="utf-8") as handle:
        return [next(handle) for _ in range(count)]


def with_heads_ups(lines: list[str], how_many: int = 3) -> tuple[list[str], int]:
    """The lines with a heads-up right after each of the first ``how_many`` service starts (same
    ts), and the index of the first inserted line."""
    out: list[str] = []
    first = -1
    added = 0
    for line in lines:
        out.append(line)
        obj = json.loads(line)
        if obj["type"] == "service_started" and added < how_many:
            if first < 0:
                first = len(out)
            extra = {"ts": obj["ts"], "type": "transaction_extended", "ticket": obj["ticket"], "counter": obj["counter"], "minutes": 15, "reason": "entering_details"}
            out.append(json.dumps(extra))
            added += 1
    return out, first


def replay_rows(lines: list[str]) -> list[str]:
    out = io.StringIO()
    replay(lines, out)
    return out.getvalue().splitlines()


def test_a_log_with_heads_ups_replays_and_the_rows_before_them_are_unchanged() -> None:
    plain = sample_lines()
    extended, first = with_heads_ups(plain)
    assert first > 0
    old_rows = replay_rows(plain)
    new_rows = replay_rows(extended)
    first_ts = json.loads(extended[first])["ts"]
    before = [row for row in old_rows[1:] if row.split(",")[0] < first_ts]
    assert before and new_rows[1 : 1 + len(before)] == before, "what happened before the first heads-up is told the same"
    assert old_rows[0] == new_rows[0]
    assert len(new_rows) == len(old_rows), "a heads-up is no ticket and no service start: no row of its own"
    assert new_rows != old_rows, "the heads-ups of 15 min changed what later customers were told"


def test_an_old_log_replays_as_before_and_an_exported_heads_up_reads_back() -> None:
    plain = sample_lines(200)
    for line in plain:
        assert event_to_dict(parse_event(json.loads(line))) == json.loads(line)
    # exported again by this server, the old log replays to the very same rows
    exported = [event_to_json(parse_event(json.loads(line))) for line in plain]
    assert replay_rows(exported) == replay_rows(plain)
    extended, first = with_heads_ups(plain, 1)
    assert json.loads(extended[first]) == event_to_dict(parse_event(json.loads(extended[first])))


# ------------------------------------------------------------------------------ the API


def act(client: FlaskClient, tokens: Tokens, action: str, body: dict[str, Any] | None = None, role: str = "teller1", counter: str = "1") -> Any:
    return client.post(f"{API}/counters/{counter}/{action}", json=body, headers=tokens.auth(role))


def events_stored(client: FlaskClient, tokens: Tokens) -> list[dict[str, Any]]:
    return [e["event"] for e in client.get(f"{API}/events", headers=tokens.auth("manager")).json["events"]]


def serve_one(client: FlaskClient, tokens: Tokens, clock: ManualClock) -> None:
    assert act(client, tokens, "open").status_code == 201
    for _ in range(3):
        assert client.post(f"{API}/tickets", json={"service": "deposit"}, headers=tokens.auth("kiosk")).status_code == 201
    clock.advance(20)
    assert act(client, tokens, "call-next").status_code == 201
    clock.advance(30)
    assert act(client, tokens, "start").status_code == 201
    clock.advance(60)


def test_one_click_is_stored_and_shown_on_the_board(client: FlaskClient, tokens: Tokens, clock: ManualClock) -> None:
    serve_one(client, tokens, clock)
    before = client.get(f"{API}/snapshot", headers=tokens.auth("display")).json
    response = act(client, tokens, "heads-up", {"reason": "entering_details"})
    assert response.status_code == 201, response.json
    assert response.json["event"] == {
        "ts": "2026-03-02T09:01:50.000+08:00",
        "type": "transaction_extended",
        "ticket": "A001",
        "counter": "1",
        "reason": "entering_details",
        "minutes": 5,
    }
    board = client.get(f"{API}/snapshot", headers=tokens.auth("display")).json
    counter = board["counters"][0]
    assert counter["heads_up"]["reason"] == "entering_details" and counter["heads_up"]["minutes"] == 5
    assert counter["remaining"]["p10"] >= 4 * 60, "at least most of the five minutes from now"
    waits = {t["ticket"]: t["wait"] for t in board["waiting"]}
    old = {t["ticket"]: t["wait"] for t in before["waiting"]}
    assert waits["A002"]["p50"] > old["A002"]["p50"]
    # the teller may declare other minutes than the reason's
    clock.advance(60)
    assert act(client, tokens, "heads-up", {"reason": "authorisation", "minutes": 7}).json["event"]["minutes"] == 7


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 422, "reason"),
        ({"reason": "tea"}, 422, "reason"),
        ({"reason": "entering_details", "minutes": 0}, 422, "minutes"),
        ({"reason": "entering_details", "minutes": 500}, 422, "minutes"),
        ({"reason": "entering_details", "minutes": "five"}, 422, "minutes"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field_and_stores_nothing(
    client: FlaskClient, tokens: Tokens, clock: ManualClock, body: dict[str, Any], status: int, field: str
) -> None:
    serve_one(client, tokens, clock)
    count = len(events_stored(client, tokens))
    response = act(client, tokens, "heads-up", body)
    assert response.status_code == status, response.json
    assert response.json["error"] == "invalid" and response.json["field"] == field
    assert response.json["message"]
    assert len(events_stored(client, tokens)) == count


def test_a_counter_serving_nobody_gets_a_conflict(client: FlaskClient, tokens: Tokens) -> None:
    assert act(client, tokens, "open").status_code == 201
    response = act(client, tokens, "heads-up", {"reason": "entering_details"})
    assert response.status_code == 409
    assert response.json == {
        "error": "conflict",
        "message": "counter 1 is serving nobody: a heads-up is for a transaction in progress (it is idle)",
    }
    assert [e["type"] for e in events_stored(client, tokens)] == ["branch_configured", "counter_opened"]


@pytest.mark.parametrize(("role", "counter", "status"), [("teller2", "1", 403), ("display", "1", 403), ("kiosk", "1", 403), ("manager", "1", 201)])
def test_only_the_counters_teller_or_a_manager_may_give_a_heads_up(
    client: FlaskClient, tokens: Tokens, clock: ManualClock, role: str, counter: str, status: int
) -> None:
    serve_one(client, tokens, clock)
    response = act(client, tokens, "heads-up", {"reason": "counting_cash"}, role=role, counter=counter)
    assert response.status_code == status, response.json
    no_token = client.post(f"{API}/counters/1/heads-up", json={"reason": "counting_cash"})
    assert no_token.status_code == 401


def test_a_signed_in_teller_gives_a_heads_up_with_the_consoles_csrf_token(
    app: Flask, client: FlaskClient, tokens: Tokens, clock: ManualClock
) -> None:
    serve_one(client, tokens, clock)
    app.extensions["queue_board"].store.create_user("tina", STAFF_PASSWORD, "teller", ("main",), "1", None)
    teller = app.test_client()
    assert sign_in(teller, "tina").status_code == 303
    csrf = csrf_token_in(teller.get("/teller/1").get_data(as_text=True))
    path = f"{API}/counters/1/heads-up"
    refused = teller.post(path, json={"reason": "printing"})
    assert refused.status_code == 403 and refused.json["error"] == "csrf_failed"
    assert teller.post(path, json={"reason": "printing"}, headers={"X-CSRFToken": csrf}).status_code == 201
    other = teller.post(f"{API}/counters/2/heads-up", json={"reason": "printing"}, headers={"X-CSRFToken": csrf})
    assert other.status_code == 403, "a teller's session is bound to their counter"


def test_a_heads_up_posted_as_an_event_is_judged_by_the_same_rules(client: FlaskClient, tokens: Tokens, clock: ManualClock) -> None:
    serve_one(client, tokens, clock)

    def post(body: dict[str, Any]) -> Any:
        return client.post(f"{API}/events", json=body, headers=tokens.auth("manager"))

    assert post({"type": "transaction_extended", "ticket": "A002", "counter": "1", "minutes": 5}).status_code == 409
    assert post({"type": "transaction_extended", "ticket": "A001", "counter": "1", "minutes": -1}).status_code == 422
    ok = post({"type": "transaction_extended", "ticket": "A001", "counter": "1", "minutes": 4, "reason": "waiting for the branch manager"})
    assert ok.status_code == 201
    counter = client.get(f"{API}/snapshot", headers=tokens.auth("display")).json["counters"][0]
    assert counter["heads_up"]["reason"] == "waiting for the branch manager"


def test_the_state_is_unchanged_by_a_refused_heads_up() -> None:
    state: BranchState = branch.replay(serving_a001()[:5])
    before = repr(state)
    assert validate(state, heads_up(50)) is not None
    build_action(state, DEMO_CONFIG, "1", "heads-up", {"reason": "entering_details"})
    assert repr(state) == before
