"""The honest re-promise: once, before the top of the told range passes, with the reason the log
knows; on the ticket page (JSON and headless Chromium), in the log, and never twice."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import LiveServer, ManualClock, Tokens, screen_context
from flask import Flask
from flask.testing import FlaskClient

from queue_board.core.activity import ActivityLog, shown_top_seconds
from queue_board.core.events import parse_event
from queue_board.core.projection import Projection
from queue_board.forecast.monte_carlo import Forecast
from queue_board.forecast.ranges import Range
from queue_board.reports.repromise import RepromiseRule, repromises_due
from queue_board.service.branch_service import BranchService

API = "/api/v1/branches/main"


#: the warnings and re-promises are judged and recorded (the other tests' apps leave them off)
pytestmark = pytest.mark.app_settings(WARNINGS_ENABLED=True)


def service_of(app: Flask) -> BranchService:
    service: BranchService = app.extensions["queue_board"]
    return service


def post(client: FlaskClient, tokens: Tokens, role: str, path: str, body: dict[str, Any] | None = None) -> Any:
    response = client.post(f"{API}{path}", json=body, headers=tokens.auth(role))
    assert response.status_code == 201, response.json
    return response.json


def events_of(client: FlaskClient, tokens: Tokens, kind: str) -> list[dict[str, Any]]:
    events = client.get(f"{API}/events?limit=1000", headers=tokens.auth("manager")).json["events"]
    return [e["event"] for e in events if e["event"]["type"] == kind]


def a_customer_whose_counter_pauses(client: FlaskClient, tokens: Tokens, clock: ManualClock) -> tuple[str, dict[str, Any]]:
    """Counter 1 (deposits) open and free: A001 is told "under a few minutes"; then counter 1
    pauses for an authorisation of 15 minutes and nobody else serves deposits."""
    post(client, tokens, "manager", "/counters/1/open")
    clock.advance(2)
    issued = post(client, tokens, "kiosk", "/tickets", {"service": "deposit"})
    label = issued["ticket"]["ticket"]
    clock.advance(1)
    post(client, tokens, "manager", "/counters/1/pause", {"reason": "authorisation", "minutes": 15})
    return label, issued


def told_top(client: FlaskClient, tokens: Tokens, label: str) -> float:
    issued = next(e for e in events_of(client, tokens, "ticket_issued") if e["ticket"] == label)
    told = issued["told"]
    return shown_top_seconds((told["p10"], told["p50"], told["p90"]))


def test_a_customer_is_re_promised_once_with_the_pause_that_broke_the_range(
    app: Flask, client: FlaskClient, tokens: Tokens, clock: ManualClock
) -> None:
    service = service_of(app)
    post(client, tokens, "manager", "/counters/1/open")
    clock.advance(2)
    label = post(client, tokens, "kiosk", "/tickets", {"service": "deposit"})["ticket"]["ticket"]
    top = told_top(client, tokens, label)
    assert top <= 5 * 60, "a free counter: the customer was told a short range"
    service.warnings.check("main")
    assert events_of(client, tokens, "ticket_repromised") == [], "the counter is free: the range holds"
    clock.advance(1)
    # a 15-minute pause breaks a range of a few minutes for certain: the server says so at once,
    # after the forecast that follows the pause, without waiting for the customer to ask
    post(client, tokens, "manager", "/counters/1/pause", {"reason": "authorisation", "minutes": 15})
    repromised = events_of(client, tokens, "ticket_repromised")
    assert len(repromised) == 1
    event = repromised[0]
    assert event["ticket"] == label and event["reason"] == "counter_paused" and event["counter"] == "1"
    assert event["told"]["p90"] > top, "the new range lies beyond the broken one"
    assert event["told"]["p10"] >= 12 * 60, "and it knows the pause declared 15 minutes"
    # said once: a later check, and a later forecast, never re-promise it again
    clock.advance(120)
    service.refresh("main")
    service.warnings.check("main")
    assert len(events_of(client, tokens, "ticket_repromised")) == 1

    link = client.post("/t/links", json={"branch": "main", "ticket": label}, headers=tokens.auth("kiosk")).json
    page = client.get(f"{link['path']}/state").get_json()
    assert page["repromise"]["reason"] == "counter_paused"
    assert page["repromise"]["pause_reason"]["en"] == "Getting authorisation"
    assert page["repromise"]["told"] == event["told"]
    # the manager's story of the ticket shows the re-promise beside the range it broke
    story = client.get(f"{API}/reports/tickets/2026-03-02/{label}", headers=tokens.auth("manager")).json
    again = [e for e in story["entries"] if e["kind"] == "repromised"]
    assert len(again) == 1 and again[0]["reason"] == "counter_paused"
    assert again[0]["told"] == [event["told"]["p10"], event["told"]["p50"], event["told"]["p90"]]
    assert page["repromise"]["remaining"]["p90"] == pytest.approx(event["told"]["p90"] - (clock.now().timestamp() - page_issued(client, tokens, label)), abs=1.0)


def page_issued(client: FlaskClient, tokens: Tokens, label: str) -> float:
    issued = next(e for e in events_of(client, tokens, "ticket_issued") if e["ticket"] == label)
    return parse_event(issued).at


def test_a_called_customer_is_not_re_promised_and_the_api_refuses_a_second(
    app: Flask, client: FlaskClient, tokens: Tokens, clock: ManualClock
) -> None:
    label, _ = a_customer_whose_counter_pauses(client, tokens, clock)
    assert len(events_of(client, tokens, "ticket_repromised")) == 1  # the server's own
    again = client.post(f"{API}/events", json={"type": "ticket_repromised", "ticket": label, "told": {"p10": 600, "p50": 900, "p90": 1200}}, headers=tokens.auth("admin"))
    assert again.status_code == 409
    bad = client.post(f"{API}/events", json={"type": "ticket_repromised", "ticket": label, "told": {"p10": 9, "p50": 1}}, headers=tokens.auth("admin"))
    assert bad.status_code == 422 and bad.json["field"] == "told"
    reason = client.post(f"{API}/events", json={"type": "ticket_repromised", "ticket": label, "told": {"p10": 1, "p50": 2, "p90": 3}, "reason": "weather"}, headers=tokens.auth("admin"))
    assert reason.status_code == 422 and reason.json["field"] == "reason"
    post(client, tokens, "manager", "/counters/1/resume")
    post(client, tokens, "manager", "/counters/1/call-next")
    late = client.post(f"{API}/events", json={"type": "ticket_repromised", "ticket": "A001", "told": {"p10": 1, "p50": 2, "p90": 3}}, headers=tokens.auth("admin"))
    assert late.status_code == 409
    assert len(events_of(client, tokens, "ticket_repromised")) == 1, "nothing stored by the refusals"


def _projection_with(lines: list[dict[str, Any]]) -> Projection:
    projection = Projection(activity=ActivityLog())
    for line in lines:
        _, rejection = projection.accept(parse_event(line))
        assert rejection is None, rejection
    return projection


BASE = "2026-03-02T09:0{m}:00.000+08:00"


def test_the_rule_waits_for_a_likely_break_and_gives_no_range_it_cannot_keep() -> None:
    projection = _projection_with(
        [
            {"ts": BASE.format(m=0), "type": "counter_opened", "counter": "1", "services": [["deposit"]]},
            {"ts": BASE.format(m=1), "type": "ticket_issued", "ticket": "A001", "service": "deposit", "told": {"p10": 0, "p50": 120, "p90": 300}},
        ]
    )
    state = projection.state
    today = projection.activity.today if projection.activity is not None else None
    issued = state.tickets["A001"].issued_at
    top = issued + 300
    rule = RepromiseRule()
    # three minutes before the top, the forecast says 50 % more than the slack: not likely enough
    at = top - 170
    unsure = Forecast(at=at, waits={"A001": Range(60, 170, 400)})
    assert repromises_due(state, today, unsure, at, rule=rule) == []
    likely = Forecast(at=at, waits={"A001": Range(300, 600, 900)})
    due = repromises_due(state, today, likely, at, rule=rule)
    assert len(due) == 1 and due[0]["ticket"] == "A001"
    told = due[0]["told"]
    assert isinstance(told, dict) and told["p90"] == pytest.approx(at - issued + 900, abs=0.2)
    # ten minutes before the top: not yet, however likely
    early = top - 600
    assert repromises_due(state, today, Forecast(at=early, waits={"A001": Range(900, 1200, 1500)}), early, rule=rule) == []
    # the top passed: due whatever the probability, but never with a range about to break
    late = top + 30
    assert repromises_due(state, today, Forecast(at=late, waits={"A001": Range(0, 10, 40)}), late, rule=rule) == []
    assert len(repromises_due(state, today, Forecast(at=late, waits={"A001": Range(60, 240, 420)}), late, rule=rule)) == 1
    # nobody will serve it: no honest range
    assert repromises_due(state, today, Forecast(at=late, waits={"A001": Range(60, float("inf"), float("inf"))}), late, rule=rule) == []


def test_a_log_with_a_re_promise_replays_and_keeps_it(app: Flask, client: FlaskClient, tokens: Tokens, clock: ManualClock) -> None:
    label, _ = a_customer_whose_counter_pauses(client, tokens, clock)
    told = events_of(client, tokens, "ticket_repromised")[0]["told"]
    expected = (told["p10"], told["p50"], told["p90"])
    lines = client.get(f"{API}/export", headers=tokens.auth("manager")).get_data(as_text=True).splitlines()
    projection = Projection(activity=ActivityLog())
    for line in lines:
        assert projection.submit(parse_event(json.loads(line))) is None
    ticket = projection.state.tickets[label]
    assert ticket.repromised == expected
    assert ticket.repromise_reason == "counter_paused" and ticket.repromise_pause_reason == "authorisation"
    assert projection.activity is not None and projection.activity.today is not None
    assert projection.activity.today.tickets[label].repromised == expected


def test_the_ticket_page_says_it_once_in_the_customers_language(live_server: LiveServer, browser: Any) -> None:
    import requests

    auth = live_server.tokens.auth
    api = f"{live_server.url}/api/v1/branches/main"
    assert requests.post(f"{api}/counters/1/open", headers=auth("manager"), timeout=10).status_code == 201
    label = requests.post(f"{api}/tickets", json={"service": "deposit"}, headers=auth("kiosk"), timeout=10).json()["ticket"]["ticket"]
    assert requests.post(f"{api}/counters/1/pause", json={"reason": "authorisation", "minutes": 20}, headers=auth("manager"), timeout=10).status_code == 201
    told = {"p10": 1200, "p50": 1500, "p90": 1800}
    event = {"type": "ticket_repromised", "ticket": label, "told": told, "reason": "counter_paused", "counter": "1"}
    assert requests.post(f"{api}/events", json=event, headers=auth("admin"), timeout=10).status_code == 201
    link = requests.post(f"{live_server.url}/t/links", json={"branch": "main", "ticket": label}, headers=auth("kiosk"), timeout=10).json()
    with screen_context(browser) as ctx:
        page = ctx.new_page()
        page.goto(f"{live_server.url}{link['path']}?lang=en")
        box = page.locator("#repromise")
        box.wait_for(state="visible")
        text = page.locator("#repromise-text").inner_text()
        # the same range as the page's own figure: the page never says two things
        page.wait_for_function("document.querySelector('#range') && !document.querySelector('#range').hidden")
        assert text == f"Now {page.locator('#range').inner_text()}. Sorry.", text
        assert text.startswith("Now about ") and text.endswith("min. Sorry."), text
        assert page.locator("#repromise-why").inner_text() == "A counter that serves you is paused (Getting authorisation)."
        assert page.locator("#notice").is_hidden(), "no second notice about the same growth"
        page.locator("#repromise-ok").click()
        assert box.is_hidden()
        page.reload()
        page.locator("#headline").wait_for()
        page.wait_for_function("document.querySelector('#range') && !document.querySelector('#range').hidden")
        assert box.is_hidden(), "said once: not again after OK"
    with screen_context(browser) as ctx:
        page = ctx.new_page()
        page.goto(f"{live_server.url}{link['path']}?lang=zh-Hant")
        page.locator("#repromise").wait_for(state="visible")
        title = page.locator("#repromise .tp-notice-title").inner_text()
        assert "比預估" in title or "久" in title, title
        assert "授權" in page.locator("#repromise-why").inner_text()
