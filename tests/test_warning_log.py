"""Early warnings kept in the log: raised, acknowledged and cleared by scripted days, through the
service, the API, the dashboard, a restart and the configuration's per-branch thresholds."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import ManualClock, Tokens, create_tokens, make_test_app
from flask import Flask
from flask.testing import FlaskClient

from queue_board.core.branch_config import DEMO_CONFIG, ConfigError, parse_config
from queue_board.core.events import EventFormatError, parse_event
from queue_board.service.branch_service import BranchService

API = "/api/v1/branches/main"


#: the warnings and re-promises are judged and recorded (the other tests' apps leave them off)
pytestmark = pytest.mark.app_settings(WARNINGS_ENABLED=True)


def service_of(app: Flask) -> BranchService:
    service: BranchService = app.extensions["queue_board"]
    return service


def act(client: FlaskClient, tokens: Tokens, counter: str, action: str, body: dict[str, Any] | None = None) -> Any:
    response = client.post(f"{API}/counters/{counter}/{action}", json=body, headers=tokens.auth("manager"))
    assert response.status_code == 201, response.json
    return response


def take(client: FlaskClient, tokens: Tokens, service: str = "deposit") -> str:
    response = client.post(f"{API}/tickets", json={"service": service}, headers=tokens.auth("kiosk"))
    assert response.status_code == 201, response.json
    return str(response.json["ticket"]["ticket"])


def warning_events(client: FlaskClient, tokens: Tokens) -> list[dict[str, Any]]:
    events = client.get(f"{API}/events?limit=1000", headers=tokens.auth("manager")).json["events"]
    return [e["event"] for e in events if e["event"]["type"].startswith("warning_")]


def listing(client: FlaskClient, tokens: Tokens) -> dict[str, Any]:
    response = client.get(f"{API}/warnings", headers=tokens.auth("manager"))
    assert response.status_code == 200, response.json
    return response.json  # type: ignore[no-any-return]


def idle_counter_with_a_queue(client: FlaskClient, tokens: Tokens, clock: ManualClock) -> None:
    """Counter 1 open and free, a deposit customer waiting: 'idle with a queue' after 3 minutes."""
    act(client, tokens, "1", "open")
    clock.advance(5)
    take(client, tokens)


def test_an_idle_counter_is_warned_after_its_minutes_acknowledged_once_and_cleared_by_its_call(
    app: Flask, client: FlaskClient, tokens: Tokens, clock: ManualClock
) -> None:
    service = service_of(app)
    idle_counter_with_a_queue(client, tokens, clock)
    clock.advance(150)  # 2.5 min: not yet
    service.warnings.check("main")
    assert [e for e in warning_events(client, tokens) if e["key"] == "idle:1"] == []
    clock.advance(40)  # past 3 min
    service.warnings.check("main")
    raised = [e for e in warning_events(client, tokens) if e["key"] == "idle:1"]
    assert [(e["type"], e["kind"], e["subject"]) for e in raised] == [("warning_raised", "counter_idle_with_queue", "1")]
    assert raised[0]["facts"]["waiting"] == 1
    # checking again changes nothing: the condition is already on
    service.warnings.check("main")
    assert len([e for e in warning_events(client, tokens) if e["key"] == "idle:1"]) == 1
    on = listing(client, tokens)["on"]
    assert [w["key"] for w in on if w["kind"] == "counter_idle_with_queue"] == ["idle:1"]

    ack = client.post(f"{API}/warnings/idle:1/acknowledge", json={"note": "asked Mr Lee to call"}, headers=tokens.auth("manager"))
    assert ack.status_code == 201, ack.json
    assert ack.json["event"]["by"] == "mgr" and ack.json["event"]["note"] == "asked Mr Lee to call"
    again = client.post(f"{API}/warnings/idle:1/acknowledge", json={}, headers=tokens.auth("manager"))
    assert again.status_code == 409 and again.json["field"] == "key"

    clock.advance(30)
    act(client, tokens, "1", "call-next")
    service.warnings.check("main")
    ended = [w for w in listing(client, tokens)["today"] if w["key"] == "idle:1"]
    assert len(ended) == 1
    assert ended[0]["outcome"] == "called"
    assert ended[0]["acknowledged_by"] == "mgr" and ended[0]["note"] == "asked Mr Lee to call"
    assert ended[0]["cleared_at"] - ended[0]["raised_at"] == pytest.approx(30.0, abs=1.0)
    assert "idle:1" not in [w["key"] for w in listing(client, tokens)["on"]]


def test_a_pause_past_its_minutes_is_warned_and_ends_when_it_resumes(
    app: Flask, client: FlaskClient, tokens: Tokens, clock: ManualClock
) -> None:
    service = service_of(app)
    act(client, tokens, "1", "open")
    act(client, tokens, "1", "pause", {"reason": "authorisation", "minutes": 5})
    clock.advance(5.5 * 60)  # inside the minute's grace
    service.warnings.check("main")
    assert not [e for e in warning_events(client, tokens) if e["key"] == "pause:1"]
    clock.advance(2 * 60)
    service.warnings.check("main")
    raised = [e for e in warning_events(client, tokens) if e["key"] == "pause:1"]
    assert raised and raised[0]["facts"]["reason"] == "authorisation" and raised[0]["facts"]["declared_minutes"] == 5
    act(client, tokens, "1", "resume")
    service.warnings.check("main")
    cleared = [e for e in warning_events(client, tokens) if e["key"] == "pause:1" and e["type"] == "warning_cleared"]
    assert [e["outcome"] for e in cleared] == ["resumed"]


def test_the_dashboard_carries_the_warnings_on_and_a_restarted_server_lists_the_same(
    app: Flask, client: FlaskClient, tokens: Tokens, clock: ManualClock, tmp_path: Path
) -> None:
    service = service_of(app)
    idle_counter_with_a_queue(client, tokens, clock)
    clock.advance(7 * 60)  # over twice the minutes: an alert
    service.warnings.check("main")
    board = client.get(f"{API}/reports/dashboard", headers=tokens.auth("manager")).json
    keys = {w["key"]: w for w in board["warnings"]["on"]}
    assert "idle:1" in keys and keys["idle:1"]["severity"] == "alert"
    assert keys["idle:1"]["on_for_s"] == pytest.approx(0.0, abs=1.0)
    before = listing(client, tokens)
    service.store.close()
    restarted = make_test_app(tmp_path, clock, WARNINGS_ENABLED=True)
    again = restarted.test_client().get(f"{API}/warnings", headers=create_tokens(restarted).auth("manager")).json
    assert again["on"] == before["on"] and again["today"] == before["today"]
    service_of(restarted).store.close()


def test_per_branch_thresholds_come_from_the_configuration(app: Flask, client: FlaskClient, tokens: Tokens, clock: ManualClock) -> None:
    config = DEMO_CONFIG.to_dict() | {"warning_thresholds": {"idle_minutes": 10}}
    assert client.put(f"{API}/config", json=config, headers=tokens.auth("admin")).status_code == 200
    service = service_of(app)
    idle_counter_with_a_queue(client, tokens, clock)
    clock.advance(5 * 60)
    service.warnings.check("main")
    assert not [e for e in warning_events(client, tokens) if e["key"] == "idle:1"]
    clock.advance(6 * 60)
    service.warnings.check("main")
    assert [e["type"] for e in warning_events(client, tokens) if e["key"] == "idle:1"] == ["warning_raised"]


@pytest.mark.parametrize(
    ("thresholds", "says"),
    [
        ({"idle": 3}, "not a warning threshold"),
        ({"idle_minutes": -1}, "positive"),
        ({"paused_share": 1.5}, "between 0 and 1"),
        ({"cusum_window": 20.5}, "whole number"),
        ([1, 2], "object"),
    ],
)
def test_bad_thresholds_are_refused_with_their_name(thresholds: Any, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(DEMO_CONFIG.to_dict() | {"warning_thresholds": thresholds})
    assert caught.value.field == "warning_thresholds" and says in caught.value.message


def test_bad_configuration_thresholds_through_the_api_change_nothing(client: FlaskClient, tokens: Tokens) -> None:
    before = client.get(f"{API}/config", headers=tokens.auth("admin")).json
    response = client.put(f"{API}/config", json=DEMO_CONFIG.to_dict() | {"warning_thresholds": {"idle_minutes": "ten"}}, headers=tokens.auth("admin"))
    assert response.status_code == 422 and "warning_thresholds" in response.json["field"]
    assert client.get(f"{API}/config", headers=tokens.auth("admin")).json == before


def test_a_new_day_ends_yesterdays_warnings(app: Flask, client: FlaskClient, tokens: Tokens, clock: ManualClock) -> None:
    service = service_of(app)
    idle_counter_with_a_queue(client, tokens, clock)
    clock.advance(4 * 60)
    service.warnings.check("main")
    assert "idle:1" in [w["key"] for w in listing(client, tokens)["on"]]
    clock.advance(timedelta(days=1).total_seconds())
    act(client, tokens, "2", "open")  # the next morning
    service.warnings.check("main")
    cleared = [e for e in warning_events(client, tokens) if e["type"] == "warning_cleared" and e["key"] == "idle:1"]
    assert [e["outcome"] for e in cleared] == ["day_ended"]
    assert listing(client, tokens)["on"] == []


def test_acknowledging_refuses_what_it_cannot_do_and_records_nothing(
    app: Flask, client: FlaskClient, tokens: Tokens, clock: ManualClock
) -> None:
    service = service_of(app)
    idle_counter_with_a_queue(client, tokens, clock)
    clock.advance(4 * 60)
    service.warnings.check("main")
    count = len(warning_events(client, tokens))
    unknown = client.post(f"{API}/warnings/idle:9/acknowledge", json={}, headers=tokens.auth("manager"))
    assert unknown.status_code == 404 and unknown.json["field"] == "key"
    field = client.post(f"{API}/warnings/idle:1/acknowledge", json={"by": "someone else"}, headers=tokens.auth("manager"))
    assert field.status_code == 422 and field.json["field"] == "by"
    note = client.post(f"{API}/warnings/idle:1/acknowledge", json={"note": 5}, headers=tokens.auth("manager"))
    assert note.status_code == 422 and note.json["field"] == "note"
    long = client.post(f"{API}/warnings/idle:1/acknowledge", json={"note": "x" * 501}, headers=tokens.auth("manager"))
    assert long.status_code == 422 and long.json["field"] == "note"
    teller = client.post(f"{API}/warnings/idle:1/acknowledge", json={}, headers=tokens.auth("teller1"))
    assert teller.status_code == 403
    display = client.get(f"{API}/warnings", headers=tokens.auth("display"))
    assert display.status_code == 403
    other = client.post(f"{API}/warnings/idle:1/acknowledge", json={}, headers=tokens.auth("other_branch_manager"))
    assert other.status_code == 403
    assert len(warning_events(client, tokens)) == count


def test_a_complaint_past_its_follow_up_deadline_is_warned_until_it_is_followed_up(
    app: Flask, client: FlaskClient, tokens: Tokens, clock: ManualClock
) -> None:
    service = service_of(app)
    deadline = (clock.now() + timedelta(hours=1)).isoformat()
    recorded = client.post(
        f"{API}/feedback",
        json={"kind": "complaint", "channel": "phone", "category": "waiting", "text": "waited long", "owner": "Ms Chan", "deadline": deadline},
        headers=tokens.auth("manager"),
    )
    assert recorded.status_code == 201, recorded.json
    service.warnings.check("main")
    assert not warning_events(client, tokens)
    clock.advance(2 * 3600)
    service.warnings.check("main")
    raised = warning_events(client, tokens)
    assert [(e["type"], e["kind"], e["subject"]) for e in raised] == [("warning_raised", "feedback_overdue", "F0001")]
    assert raised[0]["facts"]["owner"] == "Ms Chan"
    moved = client.post(f"{API}/feedback/F0001", json={"status": "resolved", "note": "called back"}, headers=tokens.auth("manager"))
    assert moved.status_code == 201, moved.json
    service.warnings.check("main")
    assert [e.get("outcome") for e in warning_events(client, tokens)] == [None, "followed_up"]


def test_a_warning_from_another_process_is_not_recorded_twice(app: Flask, client: FlaskClient, tokens: Tokens, clock: ManualClock) -> None:
    service = service_of(app)
    idle_counter_with_a_queue(client, tokens, clock)
    clock.advance(4 * 60)
    # a second process over the same store, deciding at the same moment
    other = BranchService(service.store, clock=clock, scenarios=32, default_config=DEMO_CONFIG, warnings_enabled=True)
    # (the rules over the state agree; the forecast rules wait for each process's own forecast)
    assert "idle:1" in [e["key"] for e in service.warnings.planned("main")]
    assert "idle:1" in [e["key"] for e in other.warnings.planned("main")]
    service.warnings.check("main")
    assert other.warnings.check("main") == 0  # rejected after catching up: already on
    assert len([e for e in warning_events(client, tokens) if e["key"] == "idle:1"]) == 1


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"type": "warning_raised", "key": "x", "kind": "nonsense", "severity": "warning"}, "kind"),
        ({"type": "warning_raised", "key": "x", "kind": "many_paused", "severity": "loud"}, "severity"),
        ({"type": "warning_raised", "key": "x", "kind": "many_paused", "severity": "alert", "facts": [1]}, "facts"),
        ({"type": "warning_raised", "key": "x", "kind": "many_paused", "severity": "alert", "facts": {"a": "x" * 3000}}, "facts"),
        ({"type": "warning_raised", "key": "", "kind": "many_paused", "severity": "alert"}, "key"),
        ({"type": "warning_cleared", "key": "x", "outcome": "vanished"}, "outcome"),
        ({"type": "warning_acknowledged", "key": "x", "note": "n" * 501}, "note"),
    ],
)
def test_warning_events_of_the_wrong_shape_name_their_field(line: dict[str, Any], field: str) -> None:
    with pytest.raises(EventFormatError) as caught:
        parse_event({"ts": "2026-03-02T09:00:00.000+08:00", **line})
    assert caught.value.field == field


def test_a_log_with_warnings_replays_and_its_forecasts_do_not_see_them(app: Flask, client: FlaskClient, tokens: Tokens, clock: ManualClock) -> None:
    from queue_board.core.events import parse_event as parse
    from queue_board.core.projection import Projection

    service = service_of(app)
    idle_counter_with_a_queue(client, tokens, clock)
    clock.advance(4 * 60)
    service.warnings.check("main")
    lines = client.get(f"{API}/export", headers=tokens.auth("manager")).get_data(as_text=True).splitlines()
    import json

    events = [parse(json.loads(line)) for line in lines]
    assert any(e.type == "warning_raised" for e in events)
    with_them, without = Projection(), Projection()
    for event in events:
        assert with_them.submit(event) is None
        if not event.type.startswith("warning_"):
            assert without.submit(event) is None
    # the model learned the same; the queue is the same
    assert with_them.model.service("deposit").quantiles([0.5]).tolist() == without.model.service("deposit").quantiles([0.5]).tolist()
    assert [t.label for t in with_them.state.waiting_tickets()] == [t.label for t in without.state.waiting_tickets()]
    assert with_them.state.warnings["idle:1"] == "open" and without.state.warnings == {}


def test_an_alert_nobody_has_seen_puts_the_branch_first_in_the_overview(
    app: Flask, client: FlaskClient, tokens: Tokens, clock: ManualClock
) -> None:
    service = service_of(app)
    act(client, tokens, "1", "open")
    take(client, tokens, "loan")  # nobody open serves loans: an alert at once
    service.warnings.check("main")
    row = next(r for r in client.get("/api/v1/overview", headers=tokens.auth("admin")).json["branches"] if r["branch"] == "main")
    assert "alert_unseen" in row["attention"] and row["alerts_on"] >= 1
    score = row["attention_score"]
    ack = client.post(f"{API}/warnings/unserved:loan/acknowledge", json={}, headers=tokens.auth("manager"))
    assert ack.status_code == 201
    row = next(r for r in client.get("/api/v1/overview", headers=tokens.auth("admin")).json["branches"] if r["branch"] == "main")
    assert "alert_unseen" not in row["attention"] and row["attention_score"] == pytest.approx(score - 20.0, abs=0.5)


def _day_projection(lines: list[dict[str, Any]]) -> Any:
    from queue_board.core.activity import ActivityLog
    from queue_board.core.projection import Projection

    projection = Projection(activity=ActivityLog())
    for line in lines:
        assert projection.submit(parse_event(line)) is None, line
    return projection


def _at(minute: int) -> str:
    return f"2026-03-02T09:{minute:02d}:00.000+08:00"


def _record(kind: str, subject: str | None, **facts: Any) -> Any:
    from datetime import date

    from queue_board.core.warning_log import WarningRecord

    return WarningRecord(key=f"{kind}:{subject}", kind=kind, severity="warning", subject=subject, facts=facts, raised_at=0.0, day=date(2026, 3, 2))


OPEN = {"ts": _at(0), "type": "counter_opened", "counter": "1", "services": [["deposit"]]}
ISSUE = {"ts": _at(1), "type": "ticket_issued", "ticket": "A001", "service": "deposit", "told": {"p10": 0, "p50": 60, "p90": 240}}


@pytest.mark.parametrize(
    ("lines", "kind", "subject", "facts", "outcome"),
    [
        # a promise at risk: called within the shown top (4 min) / after it / the customer left
        ([OPEN, ISSUE, {"ts": _at(4), "type": "ticket_called", "ticket": "A001", "counter": "1"}], "promise_at_risk", "A001", {}, "promise_kept"),
        ([OPEN, ISSUE, {"ts": _at(9), "type": "ticket_called", "ticket": "A001", "counter": "1"}], "promise_at_risk", "A001", {}, "promise_broken"),
        ([OPEN, ISSUE, {"ts": _at(3), "type": "ticket_cancelled", "ticket": "A001"}], "promise_at_risk", "A001", {}, "customer_left"),
        ([OPEN, ISSUE], "promise_at_risk", "A001", {}, "risk_passed"),
        # an idle counter: it called / paused / closed / the queue emptied
        ([OPEN, ISSUE, {"ts": _at(5), "type": "ticket_called", "ticket": "A001", "counter": "1"}], "counter_idle_with_queue", "1", {}, "called"),
        ([OPEN, ISSUE, {"ts": _at(5), "type": "counter_paused", "counter": "1"}], "counter_idle_with_queue", "1", {}, "paused"),
        ([OPEN, ISSUE, {"ts": _at(5), "type": "counter_closed", "counter": "1"}], "counter_idle_with_queue", "1", {}, "closed"),
        ([OPEN, ISSUE, {"ts": _at(5), "type": "ticket_cancelled", "ticket": "A001"}], "counter_idle_with_queue", "1", {}, "queue_empty"),
        # a pause past its minutes: resumed or closed
        ([OPEN, {"ts": _at(2), "type": "counter_paused", "counter": "1", "minutes": 1}, {"ts": _at(9), "type": "counter_resumed", "counter": "1"}], "pause_overrun", "1", {}, "resumed"),
        ([OPEN, {"ts": _at(2), "type": "counter_paused", "counter": "1", "minutes": 1}, {"ts": _at(9), "type": "counter_closed", "counter": "1"}], "pause_overrun", "1", {}, "closed"),
        ([OPEN], "many_paused", None, {}, "resumed"),
        # a service nobody served: a counter for it opened / nobody waits any more
        ([ISSUE, {**OPEN, "ts": _at(2)}], "service_unserved", "deposit", {}, "counter_opened"),
        ([ISSUE, {"ts": _at(2), "type": "ticket_cancelled", "ticket": "A001"}], "service_unserved", "deposit", {}, "queue_empty"),
        # new tickets waiting too long: one of the counters named opened, or the wait fell
        ([OPEN], "new_ticket_wait_high", "deposit", {"counters": ["1"]}, "counter_opened"),
        ([OPEN], "new_ticket_wait_high", "deposit", {"counters": ["2"]}, "wait_fell"),
        ([OPEN], "duration_drift", "1", {}, "back_to_norm"),
        ([OPEN], "feedback_overdue", "F0001", {}, "followed_up"),
    ],
)
def test_each_warning_ends_with_what_the_log_shows(lines: list[dict[str, Any]], kind: str, subject: str | None, facts: dict[str, Any], outcome: str) -> None:
    from queue_board.reports.warnings import outcome_of

    projection = _day_projection(lines)
    today = projection.activity.today
    assert outcome_of(_record(kind, subject, **facts), projection.state, today) == outcome


def test_a_warning_of_an_earlier_day_ends_with_the_day() -> None:
    from datetime import date

    from queue_board.reports.warnings import outcome_of

    projection = _day_projection([OPEN, {"ts": "2026-03-03T09:00:00.000+08:00", "type": "counter_closed", "counter": "1"}])
    record = _record("counter_idle_with_queue", "1")
    assert record.day == date(2026, 3, 2) and projection.state.day == date(2026, 3, 3)
    assert outcome_of(record, projection.state, projection.activity.today) == "day_ended"
    # a complaint's warning outlives the day
    assert outcome_of(_record("feedback_overdue", "F0001"), projection.state, projection.activity.today) == "followed_up"
