"""Events of shared/spec/event-log.md: parsing, serialising, and the errors that name the bad field."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from queue_board.core.branch_config import DEMO_CONFIG
from queue_board.core.events import (
    EVENT_TYPES,
    MAX_NAME_LENGTH,
    EventFormatError,
    LogFormatError,
    event_to_dict,
    event_to_json,
    parse_event,
    parse_profile,
    read_log,
)

TS = "2026-03-02T09:00:05.250+08:00"

#: one canonical line of every type, the spec's ten and the three extensions, written as
#: event_to_dict writes them (so a round trip must give back exactly the same object)
EVERY_TYPE: list[dict[str, Any]] = [
    {"ts": TS, "type": "counter_opened", "counter": "3", "services": [["vip"], ["deposit", "transfer"]]},
    {"ts": TS, "type": "counter_closed", "counter": "3"},
    {"ts": TS, "type": "counter_paused", "counter": "3"},
    {"ts": TS, "type": "counter_paused", "counter": "3", "reason": "lunch", "minutes": 30},
    {"ts": TS, "type": "counter_paused", "counter": "3", "reason": "authorisation", "minutes": 7.5},
    {"ts": TS, "type": "counter_resumed", "counter": "3"},
    {"ts": TS, "type": "ticket_issued", "ticket": "A001", "service": "deposit"},
    {"ts": TS, "type": "ticket_called", "ticket": "A001", "counter": "3"},
    {"ts": TS, "type": "service_started", "ticket": "A001", "counter": "3"},
    {"ts": TS, "type": "service_finished", "ticket": "A001", "counter": "3"},
    {"ts": TS, "type": "ticket_no_show", "ticket": "A001", "counter": "3"},
    {"ts": TS, "type": "ticket_cancelled", "ticket": "A001"},
    {"ts": TS, "type": "ticket_recalled", "ticket": "A001", "counter": "3"},
    {"ts": TS, "type": "ticket_transferred", "ticket": "A001", "service": "loan", "counter": "3"},
    {"ts": TS, "type": "ticket_issued", "branch": "north", "ticket": "A001", "service": "deposit"},
    {
        "ts": TS, "type": "ticket_issued", "ticket": "A002", "service": "deposit",
        "told": {"p10": 60.0, "p50": 120.5, "p90": 300.0}, "told_raw": {"p10": 55.0, "p50": 130.0, "p90": 280.0},
    },
    {"ts": TS, "type": "branch_configured", "config": DEMO_CONFIG.to_dict()},
    {"ts": TS, "type": "feedback_recorded", "id": "F0001", "kind": "praise", "channel": "app", "category": "empathy", "text": "Kind teller"},
    {
        "ts": TS, "type": "feedback_recorded", "id": "F0002", "kind": "complaint", "channel": "in_person", "ticket": "A001",
        "ticket_day": "2026-03-01", "category": "waiting", "aspect": "process", "text": "Waited far too long",
        "owner": "Ms Lin", "deadline": "2026-03-04T17:00:00.000+08:00",
    },
    {"ts": TS, "type": "feedback_updated", "id": "F0002", "status": "in_progress", "owner": "Mr Wu", "note": "called back"},
    {"ts": TS, "type": "feedback_updated", "id": "F0002", "status": "closed", "satisfaction": 4},
    {"ts": TS, "type": "transaction_extended", "ticket": "A001", "counter": "3", "reason": "entering_details", "minutes": 5},
    {"ts": TS, "type": "transaction_extended", "ticket": "A001", "counter": "3", "minutes": 2.5},
    {"ts": TS, "type": "warning_raised", "key": "idle:3", "kind": "counter_idle_with_queue", "severity": "warning", "subject": "3", "facts": {"idle": 190.5, "waiting": 2}},
    {"ts": TS, "type": "warning_raised", "key": "many_paused", "kind": "many_paused", "severity": "alert"},
    {"ts": TS, "type": "warning_acknowledged", "key": "idle:3", "by": "manager", "note": "walked over"},
    {"ts": TS, "type": "warning_acknowledged", "key": "many_paused"},
    {"ts": TS, "type": "warning_cleared", "key": "idle:3", "outcome": "called"},
    {"ts": TS, "type": "ticket_repromised", "ticket": "A001", "told": {"p10": 900, "p50": 1100, "p90": 1300}, "reason": "counter_paused", "counter": "2"},
    {"ts": TS, "type": "ticket_repromised", "ticket": "A002", "told": {"p10": 900, "p50": 1100.5, "p90": 1300}},
    {
        "ts": TS, "type": "bank_prior_adopted",
        "prior": {
            "sisters": ["north", "south"],
            "services": {"deposit": {"values": [60.5, 120.0, 300.0], "weight": 12.5, "branches": 2}},
            "pause_overrun": {"values": [0.9, 1.1], "weight": 5.0, "branches": 1},
            "patience": {"events": [0.01] * 23, "exposure": [30.0] * 23},
        },
    },
]


@pytest.mark.parametrize("line", EVERY_TYPE, ids=lambda line: line["type"])
def test_every_event_type_survives_a_round_trip(line: dict[str, Any]) -> None:
    event = parse_event(line)
    assert event.type == line["type"]
    assert event_to_dict(event) == line
    assert json.loads(event_to_json(event)) == line
    assert parse_event(event_to_dict(event)) == event


def test_every_type_of_the_spec_and_the_extensions_is_covered() -> None:
    spec = {
        "counter_opened", "counter_closed", "counter_paused", "counter_resumed", "ticket_issued",
        "ticket_called", "service_started", "service_finished", "ticket_no_show", "ticket_cancelled",
    }
    extensions = {"ticket_recalled", "ticket_transferred", "branch_configured", "feedback_recorded", "feedback_updated"}
    extensions |= {"transaction_extended"}
    extensions |= {"warning_raised", "warning_acknowledged", "warning_cleared", "ticket_repromised"}
    extensions |= {"bank_prior_adopted"}
    assert {line["type"] for line in EVERY_TYPE} == spec | extensions == EVENT_TYPES


@pytest.mark.parametrize(
    ("told", "problem"),
    [
        ({"p10": 1, "p50": 2}, "p10, p50 and p90"),
        ({"p10": 5, "p50": 2, "p90": 9}, "p10 <= p50 <= p90"),
        ({"p10": -1, "p50": 2, "p90": 9}, "non-negative"),
        ({"p10": "1", "p50": 2, "p90": 9}, "non-negative"),
        ([1, 2, 3], "p10, p50 and p90"),
    ],
)
def test_a_malformed_promise_is_refused_naming_the_field(told: Any, problem: str) -> None:
    with pytest.raises(EventFormatError) as caught:
        parse_event({"ts": TS, "type": "ticket_issued", "ticket": "A001", "service": "deposit", "told": told})
    assert caught.value.field == "told" and problem in caught.value.message


def test_parsed_event_keeps_the_fields_and_the_instant() -> None:
    event = parse_event({"ts": TS, "type": "ticket_transferred", "ticket": "A001", "counter": "3", "service": "loan"})
    assert (event.ticket, event.counter, event.service) == ("A001", "3", "loan")
    assert event.ts.utcoffset() == timedelta(hours=8)
    assert event.at == event.ts.timestamp()
    assert str(event.day) == "2026-03-02"


def test_local_day_is_the_date_part_of_ts_not_the_utc_date() -> None:
    # 07:30 at +08:00 is still the previous day in UTC
    event = parse_event({"ts": "2026-03-02T07:30:00.000+08:00", "type": "counter_closed", "counter": "1"})
    assert str(event.day) == "2026-03-02"


def test_ts_without_milliseconds_is_written_with_them() -> None:
    event = parse_event({"ts": "2026-03-02T09:00:05+08:00", "type": "counter_closed", "counter": "1"})
    assert event_to_dict(event)["ts"] == "2026-03-02T09:00:05.000+08:00"


def test_utc_designator_z_is_an_offset() -> None:
    event = parse_event({"ts": "2026-03-02T01:00:05.000Z", "type": "counter_closed", "counter": "1"})
    assert event.ts.utcoffset() == timedelta(0)


def test_a_tier_given_as_one_plain_code_is_a_tier_of_one() -> None:
    event = parse_event({"ts": TS, "type": "counter_opened", "counter": "1", "services": ["vip", ["deposit", "loan"]]})
    assert event.services == (("vip",), ("deposit", "loan"))
    assert event_to_dict(event)["services"] == [["vip"], ["deposit", "loan"]]


def test_blank_pause_reason_is_no_reason() -> None:
    event = parse_event({"ts": TS, "type": "counter_paused", "counter": "1", "reason": "   "})
    assert event.reason is None
    assert "reason" not in event_to_dict(event)


def test_server_stamp_overrides_a_missing_ts() -> None:
    stamp = parse_event(EVERY_TYPE[1]).ts + timedelta(minutes=1)
    event = parse_event({"type": "counter_closed", "counter": "1"}, ts=stamp)
    assert event.ts == stamp


def test_names_of_the_maximum_length_are_accepted() -> None:
    name = "x" * MAX_NAME_LENGTH
    event = parse_event({"ts": TS, "type": "ticket_issued", "ticket": name, "service": name, "branch": name})
    assert event.ticket == event.service == event.branch == name


ISSUED = {"ts": TS, "type": "ticket_issued", "ticket": "A001", "service": "deposit"}
OPENED = {"ts": TS, "type": "counter_opened", "counter": "1", "services": [["deposit"]]}
PAUSED = {"ts": TS, "type": "counter_paused", "counter": "1"}
CALLED = {"ts": TS, "type": "ticket_called", "ticket": "A001", "counter": "1"}
TRANSFERRED = {"ts": TS, "type": "ticket_transferred", "ticket": "A001", "counter": "1", "service": "loan"}
LONG = "x" * (MAX_NAME_LENGTH + 1)


def _without(line: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in line.items() if k != key}


@pytest.mark.parametrize(
    ("line", "field"),
    [
        pytest.param(["not", "an", "object"], "event", id="not-an-object"),
        pytest.param(_without(ISSUED, "type"), "type", id="type-missing"),
        pytest.param({**ISSUED, "type": "ticket_printed"}, "type", id="type-unknown"),
        pytest.param({**ISSUED, "type": 7}, "type", id="type-not-a-string"),
        pytest.param(_without(ISSUED, "ts"), "ts", id="ts-missing"),
        pytest.param({**ISSUED, "ts": "2026-03-02T09:00:05.250"}, "ts", id="ts-without-offset"),
        pytest.param({**ISSUED, "ts": "2026-03-02"}, "ts", id="ts-date-only"),
        pytest.param({**ISSUED, "ts": "yesterday at nine"}, "ts", id="ts-not-iso"),
        pytest.param({**ISSUED, "ts": 1772413205.25}, "ts", id="ts-a-number"),
        pytest.param(_without(ISSUED, "ticket"), "ticket", id="ticket-missing"),
        pytest.param({**ISSUED, "ticket": 1}, "ticket", id="ticket-a-number"),
        pytest.param({**ISSUED, "ticket": ""}, "ticket", id="ticket-empty"),
        pytest.param({**ISSUED, "ticket": "   "}, "ticket", id="ticket-blank"),
        pytest.param({**ISSUED, "ticket": LONG}, "ticket", id="ticket-too-long"),
        pytest.param(_without(ISSUED, "service"), "service", id="service-missing"),
        pytest.param({**ISSUED, "service": ["deposit"]}, "service", id="service-a-list"),
        pytest.param({**ISSUED, "service": LONG}, "service", id="service-too-long"),
        pytest.param({**ISSUED, "branch": 5}, "branch", id="branch-a-number"),
        pytest.param({**ISSUED, "branch": LONG}, "branch", id="branch-too-long"),
        pytest.param(_without(CALLED, "counter"), "counter", id="counter-missing"),
        pytest.param({**CALLED, "counter": 3}, "counter", id="counter-a-number"),
        pytest.param({**PAUSED, "counter": LONG}, "counter", id="counter-too-long"),
        pytest.param(_without(TRANSFERRED, "service"), "service", id="transfer-without-service"),
        pytest.param(_without(OPENED, "services"), "services", id="profile-missing"),
        pytest.param({**OPENED, "services": []}, "services", id="profile-empty"),
        pytest.param({**OPENED, "services": "deposit"}, "services", id="profile-a-string"),
        pytest.param({**OPENED, "services": [[]]}, "services", id="profile-empty-tier"),
        pytest.param({**OPENED, "services": [["deposit"], []]}, "services", id="profile-second-tier-empty"),
        pytest.param({**OPENED, "services": [[""]]}, "services", id="profile-empty-code"),
        pytest.param({**OPENED, "services": [[1]]}, "services", id="profile-code-a-number"),
        pytest.param({**OPENED, "services": [[LONG]]}, "services", id="profile-code-too-long"),
        pytest.param({**OPENED, "services": [["vip"], ["deposit", "vip"]]}, "services", id="profile-code-in-two-tiers"),
        pytest.param({**OPENED, "services": ["deposit", ["deposit"]]}, "services", id="profile-plain-code-repeated"),
        pytest.param({**PAUSED, "minutes": -1}, "minutes", id="minutes-negative"),
        pytest.param({**PAUSED, "minutes": 24 * 60 + 1}, "minutes", id="minutes-over-a-day"),
        pytest.param({**PAUSED, "minutes": "10"}, "minutes", id="minutes-a-string"),
        pytest.param({**PAUSED, "minutes": True}, "minutes", id="minutes-a-bool"),
        pytest.param({**PAUSED, "minutes": float("nan")}, "minutes", id="minutes-nan"),
        pytest.param({**PAUSED, "minutes": float("inf")}, "minutes", id="minutes-infinite"),
        pytest.param({**PAUSED, "reason": 12}, "reason", id="reason-a-number"),
        pytest.param({**PAUSED, "reason": "r" * 201}, "reason", id="reason-too-long"),
    ],
)
def test_malformed_event_is_rejected_naming_the_field(line: Any, field: str) -> None:
    with pytest.raises(EventFormatError) as caught:
        parse_event(line)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}:")


@pytest.mark.parametrize("minutes", [0, 0.5, 24 * 60])
def test_pause_minutes_at_the_bounds_are_accepted(minutes: float) -> None:
    assert parse_event({**PAUSED, "minutes": minutes}).minutes == minutes


def test_profile_error_names_the_field_it_was_read_from() -> None:
    with pytest.raises(EventFormatError) as caught:
        parse_profile([["a"], ["a"]], field_name="profile")
    assert caught.value.field == "profile"


def test_read_log_numbers_lines_and_skips_blank_ones() -> None:
    lines = [json.dumps(OPENED), "", "   ", json.dumps(ISSUED)]
    assert [(number, event.type) for number, event in read_log(lines)] == [(1, "counter_opened"), (4, "ticket_issued")]


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        pytest.param("{not json", "not JSON", id="not-json"),
        pytest.param(json.dumps({**ISSUED, "type": "ticket_printed"}), "type", id="unknown-type"),
        pytest.param(json.dumps({**ISSUED, "ts": "2026-03-02T09:00:05"}), "ts", id="no-offset"),
        pytest.param(json.dumps([1, 2]), "event", id="not-an-object"),
    ],
)
def test_read_log_names_the_line_of_a_bad_line(bad: str, words: str) -> None:
    lines = [json.dumps(OPENED), "", json.dumps(ISSUED), bad, json.dumps(ISSUED)]
    with pytest.raises(LogFormatError) as caught:
        list(read_log(lines))
    assert caught.value.line_number == 4
    assert str(caught.value).startswith("line 4:")
    assert words in caught.value.message
