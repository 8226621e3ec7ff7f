"""The complaint and praise log (issue 11 item 5): events of the branch log, their projection,
every report figure on the scripted day of tests/report_day.py, and the API workflow."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import TZ, ManualClock, Tokens, make_test_app
from flask.testing import FlaskClient
from report_day import report_day_events, report_day_lines

from queue_board.core.activity import ActivityLog
from queue_board.core.branch import BranchState, apply, validate
from queue_board.core.events import Event, EventFormatError, format_ts, parse_event
from queue_board.core.feedback import FeedbackLog
from queue_board.core.projection import Projection
from queue_board.reports.feedback import COMPLAINING_SHARE, FeedbackFilters, feedback_detail, feedback_tables

DAY = datetime(2026, 3, 2, tzinfo=TZ).date()


def _ts(hour: int, minute: int = 0, day: int = 2) -> str:
    return format_ts(datetime(2026, 3, day, hour, minute, tzinfo=TZ))


def _event(**fields: Any) -> Event:
    return parse_event(fields)


def recorded(fid: str, hour: int = 11, **extra: Any) -> Event:
    body = {"ts": _ts(hour), "type": "feedback_recorded", "id": fid, "kind": "complaint", "channel": "in_person",
            "category": "waiting", "text": "waited too long", **extra}  # fmt: skip
    return _event(**body)


def updated(fid: str, status: str, hour: int = 12, **extra: Any) -> Event:
    return _event(ts=_ts(hour), type="feedback_updated", id=fid, status=status, **extra)


def day_projection() -> Projection:
    projection = Projection(activity=ActivityLog(), feedback=FeedbackLog())
    for event in report_day_events():
        projection.accept(event)
    return projection


# the events' shapes ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "grumble"}, "kind"),
        ({"channel": "fax"}, "channel"),
        ({"category": "price"}, "category"),
        ({"aspect": "both"}, "aspect"),
        ({"text": "  "}, "text"),
        ({"text": "x" * 4001}, "text"),
        ({"ticket_day": "2026-03-01"}, "ticket_day"),
        ({"ticket": "A001", "ticket_day": "yesterday"}, "ticket_day"),
        ({"deadline": "2026-03-03"}, "deadline"),
        ({"owner": ""}, "owner"),
    ],
)
def test_a_malformed_record_is_refused_naming_the_field(fields: dict[str, Any], field: str) -> None:
    body = {"ts": _ts(11), "type": "feedback_recorded", "id": "F1", "kind": "complaint", "channel": "app",
            "category": "waiting", "text": "slow", **fields}  # fmt: skip
    with pytest.raises(EventFormatError) as caught:
        parse_event(body)
    assert caught.value.field == field


def test_satisfaction_only_closes_and_is_one_to_five() -> None:
    for status, value, field in (("resolved", 4, "satisfaction"), ("closed", 6, "satisfaction"), ("closed", True, "satisfaction"), ("done", None, "status")):
        body = {"ts": _ts(12), "type": "feedback_updated", "id": "F1", "status": status}
        if value is not None:
            body["satisfaction"] = value
        with pytest.raises(EventFormatError) as caught:
            parse_event(body)
        assert caught.value.field == field
    assert updated("F1", "closed", satisfaction=5).feedback.satisfaction == 5  # type: ignore[union-attr]


def test_a_ticket_without_its_day_is_a_ticket_of_the_day_recorded() -> None:
    event = recorded("F1", ticket="A003")
    assert event.ticket is None  # the event moves no ticket
    assert event.feedback is not None and event.feedback.ticket_day == DAY
    assert parse_event(json.loads(json.dumps({"ts": _ts(11), **{k: v for k, v in _dict(event).items() if k != "ts"}}))) == event


def _dict(event: Event) -> dict[str, Any]:
    from queue_board.core.events import event_to_dict

    return event_to_dict(event)


# the branch state ------------------------------------------------------------------------
def test_feedback_changes_no_queue_state_and_does_not_start_a_day() -> None:
    projection = day_projection()
    state = projection.state
    before = copy.deepcopy(state)
    model_days = len(projection.model.days)
    for event in (recorded("F1", ticket="A003"), updated("F1", "in_progress", hour=13)):
        assert projection.submit(event) is None
    # next day: still the old day's state (the day starts at its first queue event)
    assert projection.submit(_event(ts=_ts(9, day=3), type="feedback_updated", id="F1", status="resolved")) is None
    assert state.seq == before.seq + 3
    assert state.day == before.day and state.tickets.keys() == before.tickets.keys()
    assert {n: (c.status, c.since) for n, c in state.counters.items()} == {n: (c.status, c.since) for n, c in before.counters.items()}
    assert state.queues == before.queues
    assert state.feedback == {"F1": "resolved"}
    assert len(projection.model.days) == model_days and projection.model.today is not None and projection.model.today.day == DAY
    assert projection.activity is not None and list(projection.activity.days) == [DAY]
    assert projection.activity.days[DAY].last_at == before.now


def test_the_forecast_learns_nothing_from_feedback() -> None:
    # learn() would open a day record (an empty day of rhythm): the projection does not call it
    projection = day_projection()
    arrivals = copy.deepcopy(projection.model.today.arrivals)  # type: ignore[union-attr]
    projection.submit(recorded("F1"))
    assert projection.model.today.arrivals == arrivals  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("events", "kind", "field", "words"),
    [
        ([recorded("F1"), recorded("F1", hour=12)], "conflict", "id", "already recorded"),
        ([updated("F9", "closed")], "not_found", None, "no feedback F9"),
        ([recorded("F1", ticket="A999")], "not_found", "ticket", "was not issued on 2026-03-02"),
        ([recorded("F1", ticket="A001", ticket_day="2026-03-05")], "invalid", "ticket_day", "after the day"),
        ([recorded("F1", deadline=_ts(10))], "invalid", "deadline", "already past"),
        ([recorded("F1"), updated("F1", "in_progress"), updated("F1", "open", hour=13)], "conflict", "status", "cannot go to open"),
        ([recorded("F1"), updated("F1", "closed"), updated("F1", "resolved", hour=13)], "conflict", "status", "only be reopened"),
        ([recorded("F1"), updated("F1", "closed"), updated("F1", "open", hour=13)], "invalid", "note", "needs a note"),
        ([recorded("F1"), updated("F1", "open")], "invalid", "status", "must change"),
        ([recorded("F1", hour=12), updated("F1", "resolved", hour=11)], "conflict", None, "earlier than the last event"),
    ],
)
def test_feedback_the_state_refuses_says_why_and_changes_nothing(events: list[Event], kind: str, field: str | None, words: str) -> None:
    projection = day_projection()
    *accepted, last = events
    for event in accepted:
        assert projection.submit(event) is None
    before = copy.deepcopy(projection.state)
    items = copy.deepcopy(projection.feedback.items)  # type: ignore[union-attr]
    rejection = projection.submit(last)
    assert rejection is not None and rejection.kind == kind and words in rejection.message
    assert rejection.field == field or field is None
    assert projection.state.seq == before.seq and projection.state.feedback == before.feedback
    assert projection.feedback.items == items  # type: ignore[union-attr]


def test_a_closed_complaint_reopens_with_a_note() -> None:
    state = BranchState()
    for event in (recorded("F1"), updated("F1", "closed", satisfaction=2), updated("F1", "open", hour=13, note="customer came back")):
        assert validate(state, event) is None
        apply(state, event)
    assert state.feedback["F1"] == "open"


def test_an_old_log_replays_as_before() -> None:
    plain = Projection(activity=ActivityLog())
    with_feedback = Projection(activity=ActivityLog(), feedback=FeedbackLog())
    stored = [plain.accept(e)[0] for e in report_day_events()]
    assert [with_feedback.accept(e)[0] for e in report_day_events()] == stored
    assert with_feedback.state == plain.state and not with_feedback.feedback.items  # type: ignore[union-attr]


# the projection and the reports ----------------------------------------------------------
def scripted_feedback() -> Projection:
    projection = day_projection()
    for event in (
        recorded("F0001", ticket="A003", owner="Ms Lin", deadline=_ts(12)),  # broken promise: waited 17 of "5–15 min"
        recorded("F0002", ticket="A001", aspect="process", deadline=_ts(12)),  # kept: 1 min of "up to 2 min"
        recorded("F0003", category="empathy", aspect="result", channel="phone", text="rude"),
        recorded("F0004", kind="praise", category="empathy", channel="app", text="lovely teller"),
        updated("F0002", "in_progress", hour=11, owner="Mr Wu"),
        updated("F0002", "resolved", hour=11, note="apologised"),
    ):
        assert projection.submit(event) is None, event
    return projection


def test_the_projection_keeps_each_items_state_and_history() -> None:
    log = scripted_feedback().feedback
    assert log is not None
    item = log.items["F0002"]
    assert (item.status, item.owner, item.resolved_at is not None) == ("resolved", "Mr Wu", True)
    assert [(c.type, c.status, c.owner, c.note) for c in item.history] == [
        ("feedback_recorded", "open", None, None),
        ("feedback_updated", "in_progress", "Mr Wu", None),
        ("feedback_updated", "resolved", None, "apologised"),
    ]
    assert [c.seq for c in item.history] == [28, 31, 32]  # the log's seq: 26 events of the day first


def test_every_report_figure_of_the_scripted_day() -> None:
    projection = scripted_feedback()
    assert projection.feedback is not None
    now = datetime(2026, 3, 2, 13, 0, tzinfo=TZ).timestamp()
    tables = feedback_tables(projection.feedback, projection.activity, DAY, DAY, now)
    listed = {row[0]: dict(zip(tables["feedback"].columns, row, strict=True)) for row in tables["feedback"].rows}
    assert list(listed) == ["F0001", "F0002", "F0003", "F0004"]
    assert (listed["F0001"]["wait_min"], listed["F0001"]["told_high_min"], listed["F0001"]["broken_promise"]) == (17.0, 15.0, 1)
    assert (listed["F0002"]["wait_min"], listed["F0002"]["told_high_min"], listed["F0002"]["broken_promise"]) == (1.0, 2.0, 0)
    assert listed["F0001"]["overdue"] == 1 and listed["F0002"]["overdue"] == 0
    causes = {row[0]: row for row in tables["causes"].rows}
    assert tables["causes"].rows[0][0] == "waiting"
    assert causes["waiting"] == ("waiting", 2, 0.667, 0, 1, 1, 0)
    assert causes["empathy"] == ("empathy", 1, 0.333, 1, 0, 0, 1)
    assert tables["rates"].rows == [("2026-03-02", 5, 3, 600.0, 1, 200.0), ("total", 5, 3, 600.0, 1, 200.0)]
    assert tables["promises"].rows == [(2, 2, 1, 0.5)]
    (estimate,) = tables["estimate"].rows
    assert estimate[:4] == (2, COMPLAINING_SHARE, 40, 3) and "estimate" in str(estimate[4]) and "5%" in str(estimate[4])
    assert [(r[0], r[4], r[6]) for r in tables["overdue"].rows] == [("F0001", "Ms Lin", 1.0)]
    filtered = feedback_tables(projection.feedback, projection.activity, DAY, DAY, now, FeedbackFilters(category="empathy"))
    assert [r[0] for r in filtered["feedback"].rows] == ["F0003", "F0004"]
    assert filtered["rates"].rows == tables["rates"].rows  # the filters keep the list only
    assert feedback_tables(projection.feedback, projection.activity, DAY + timedelta(days=1), DAY + timedelta(days=1), now)["feedback"].rows == []


def test_a_linked_complaint_shows_its_tickets_story() -> None:
    projection = scripted_feedback()
    assert projection.feedback is not None
    detail = feedback_detail(projection.feedback.items["F0001"], projection.activity, datetime(2026, 3, 2, 13, tzinfo=TZ).timestamp())
    assert (detail["wait_s"], detail["told_high_s"], detail["broken_promise"]) == (1020.0, 900.0, True)
    story = detail["story"]
    assert story["ticket"] == "A003" and {"pause", "other_called", "called"} <= {e["kind"] for e in story["entries"]}
    assert feedback_detail(projection.feedback.items["F0003"], projection.activity, 0.0)["story"] is None


# the API ---------------------------------------------------------------------------------
BASE = "/api/v1/branches/main/feedback"


def _import_day(client: FlaskClient, tokens: Tokens) -> None:
    body = "".join(json.dumps(line) + "\n" for line in report_day_lines())
    response = client.post("/api/v1/branches/main/import", data=body, headers={**tokens.auth("admin"), "Content-Type": "application/x-ndjson"})
    assert response.status_code == 201, response.json


def _events(client: FlaskClient, tokens: Tokens) -> list[dict[str, Any]]:
    return [e["event"] for e in client.get("/api/v1/branches/main/events?limit=5000", headers=tokens.auth("manager")).json["events"]]


def test_the_complaint_workflow_through_the_api(client: FlaskClient, tokens: Tokens, clock: ManualClock) -> None:
    _import_day(client, tokens)
    clock.current = datetime(2026, 3, 2, 11, 0, tzinfo=TZ)
    manager = tokens.auth("manager")
    made = client.post(BASE, json={"kind": "complaint", "channel": "in_person", "ticket": "A003", "category": "waiting",
                                   "aspect": "process", "text": "17 minutes!", "owner": "Ms Lin", "deadline": _ts(17)}, headers=manager)  # fmt: skip
    assert made.status_code == 201, made.json
    assert made.json["event"]["id"] == "F0001" and made.json["event"]["ticket_day"] == "2026-03-02"
    for status, extra in (("in_progress", {"note": "called the customer"}), ("resolved", {"note": "apology and coffee"}), ("closed", {"satisfaction": 4})):
        clock.advance(600)
        answer = client.post(f"{BASE}/F0001", json={"status": status, **extra}, headers=manager)
        assert answer.status_code == 201, answer.json
    one = client.get(f"{BASE}/F0001", headers=manager).json
    assert (one["status"], one["satisfaction"], one["broken_promise"], one["wait_s"]) == ("closed", 4, True, 1020.0)
    assert [c["status"] for c in one["history"]] == ["open", "in_progress", "resolved", "closed"]
    assert one["history"][1]["note"] == "called the customer" and one["story"]["ticket"] == "A003"
    # every change names who made it (the manager token's name), stamped by the server
    assert [c["by"] for c in one["history"]] == ["mgr"] * 4
    listing = client.get(f"{BASE}?from=2026-03-02&to=2026-03-02&status=closed", headers=manager).json
    assert [i["id"] for i in listing["items"]] == ["F0001"]
    assert listing["tables"]["promises"]["rows"] == [[1, 1, 1, 1.0]]
    assert listing["tables"]["rates"]["rows"][-1] == ["total", 5, 1, 200.0, 0, 0.0]
    csv = client.get(f"{BASE}/report/causes.csv?from=2026-03-02&to=2026-03-02", headers=manager)
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert csv.get_data(as_text=True).splitlines() == ["category,complaints,share,result,process,unspecified,praise", "waiting,1,1.0,0,1,0,0"]
    assert client.get(f"{BASE}/report/nothing.csv", headers=manager).status_code == 404


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("", {"kind": "complaint", "channel": "fax", "category": "waiting", "text": "x"}, 422, "channel"),
        ("", {"kind": "complaint", "channel": "app", "category": "waiting"}, 422, "text"),
        ("", {"kind": "complaint", "channel": "app", "category": "waiting", "text": "x", "status": "closed"}, 422, "status"),
        ("", {"kind": "complaint", "channel": "app", "category": "waiting", "text": "x", "id": "F7"}, 422, "id"),
        ("", {"kind": "complaint", "channel": "app", "category": "waiting", "text": "x", "ticket": "A999"}, 404, "ticket"),
        ("", {"kind": "complaint", "channel": "app", "category": "waiting", "text": "x", "ticket": "A001", "ticket_day": "2026-03-09"}, 422, "ticket_day"),
        ("", {"kind": "complaint", "channel": "app", "category": "waiting", "text": "x", "deadline": "2026-03-01T10:00:00+08:00"}, 422, "deadline"),
        ("/F0404", {"status": "closed"}, 404, None),
        ("", {"kind": "complaint", "channel": "app", "category": "waiting", "text": "x", "by": "someone else"}, 422, "by"),
    ],
)
def test_bad_feedback_is_4xx_naming_the_field_and_stores_nothing(
    client: FlaskClient, tokens: Tokens, clock: ManualClock, path: str, body: dict[str, Any], status: int, field: str | None
) -> None:
    _import_day(client, tokens)
    clock.current = datetime(2026, 3, 2, 11, 0, tzinfo=TZ)
    before = len(_events(client, tokens))
    answer = client.post(BASE + path, json=body, headers=tokens.auth("manager"))
    assert answer.status_code == status, answer.json
    assert answer.json.get("field") == field
    assert len(_events(client, tokens)) == before


def test_a_bad_update_is_refused_and_filters_are_checked(client: FlaskClient, tokens: Tokens, clock: ManualClock) -> None:
    clock.current = datetime(2026, 3, 2, 11, 0, tzinfo=TZ)
    manager = tokens.auth("manager")
    assert client.post(BASE, json={"kind": "praise", "channel": "app", "category": "empathy", "text": "kind"}, headers=manager).status_code == 201
    assert client.post(f"{BASE}/F0001", json={"status": "closed"}, headers=manager).status_code == 201
    again = client.post(f"{BASE}/F0001", json={"status": "resolved"}, headers=manager)
    assert again.status_code == 409 and again.json["field"] == "status"
    assert client.post(f"{BASE}/F0001", json={"status": "closed", "colour": "red"}, headers=manager).json["field"] == "colour"
    assert client.get(f"{BASE}?status=finished", headers=manager).json["field"] == "status"
    assert client.get(f"{BASE}?from=soon", headers=manager).json["field"] == "from"
    assert client.get(f"{BASE}/F0999", headers=manager).status_code == 404


def test_a_ticket_of_an_earlier_day_is_checked_against_that_days_records(client: FlaskClient, tokens: Tokens, clock: ManualClock) -> None:
    _import_day(client, tokens)
    clock.current = datetime(2026, 3, 3, 9, 30, tzinfo=TZ)
    manager = tokens.auth("manager")
    assert client.post("/api/v1/branches/main/tickets", json={"service": "deposit"}, headers=tokens.auth("kiosk")).status_code == 201
    body = {"kind": "complaint", "channel": "written", "category": "waiting", "text": "yesterday", "ticket_day": "2026-03-02"}
    assert client.post(BASE, json={**body, "ticket": "A999"}, headers=manager).json["field"] == "ticket"
    made = client.post(BASE, json={**body, "ticket": "A003"}, headers=manager)
    assert made.status_code == 201, made.json
    assert client.get(f"{BASE}/F0001", headers=manager).json["broken_promise"] is True


def test_feedback_is_for_the_branchs_managers(client: FlaskClient, tokens: Tokens) -> None:
    body = {"kind": "praise", "channel": "app", "category": "empathy", "text": "kind"}
    for role in ("teller1", "kiosk", "display", "other_branch_manager"):
        assert client.post(BASE, json=body, headers=tokens.auth(role)).status_code in (401, 403), role
        assert client.get(BASE, headers=tokens.auth(role)).status_code in (401, 403), role
    assert client.get(BASE).status_code == 401
    assert client.get("/api/v1/branches/nowhere/feedback", headers=tokens.auth("admin")).status_code == 404


def test_a_restarted_server_and_an_export_import_keep_the_feedback(tmp_path: Path, clock: ManualClock) -> None:
    first = make_test_app(tmp_path, clock)
    store = first.extensions["queue_board"].store
    admin = {"Authorization": "Bearer " + store.create_token("root", "admin", None, None)}
    client = first.test_client()
    body = "".join(json.dumps(line) + "\n" for line in report_day_lines())
    assert client.post("/api/v1/branches/main/import", data=body, headers={**admin, "Content-Type": "application/x-ndjson"}).status_code == 201
    clock.current = datetime(2026, 3, 2, 11, 0, tzinfo=TZ)
    record = {"kind": "complaint", "channel": "phone", "ticket": "A003", "category": "waiting", "text": "slow", "deadline": _ts(12)}
    assert client.post(BASE, json=record, headers=admin).status_code == 201
    assert client.post(BASE, json={**record, "ticket": "A001"}, headers=admin).status_code == 201
    assert client.post(f"{BASE}/F0002", json={"status": "closed", "satisfaction": 3}, headers=admin).status_code == 201
    clock.current = datetime(2026, 3, 2, 13, 0, tzinfo=TZ)
    query = f"{BASE}?from=2026-03-02&to=2026-03-02"
    before = client.get(query, headers=admin).json
    assert before["tables"]["overdue"]["rows"][0][0] == "F0001"
    second = make_test_app(tmp_path, clock)
    assert second.test_client().get(query, headers=admin).json == before
    exported = client.get("/api/v1/branches/main/export", headers=admin).get_data(as_text=True)
    assert sum('"feedback_' in line for line in exported.splitlines()) == 3
    lines = [line for line in exported.splitlines() if '"branch_configured"' not in line]
    moved = client.post("/api/v1/branches/copy/import", data="\n".join(lines), headers={**admin, "Content-Type": "application/x-ndjson"})
    assert moved.status_code == 201, moved.json
    copied = client.get(query.replace("/main/", "/copy/"), headers=admin).json
    assert copied["tables"] == before["tables"]

    def unnumbered(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # the copy's log lacks the configuration event: its seq are one less
        return [{**i, "history": [{k: v for k, v in c.items() if k != "seq"} for c in i["history"]]} for i in items]

    assert unnumbered(copied["items"]) == unnumbered(before["items"])
    again = client.get("/api/v1/branches/copy/export", headers=admin).get_data(as_text=True)
    assert [line for line in again.splitlines() if "\"type\": \"feedback_" in line] == [line for line in lines if "\"type\": \"feedback_" in line]
