"""The complaint and praise page (/manage/<branch>/feedback, issue 11 item 5) in headless Chromium
against a live server with the scripted day of tests/report_day.py: a complaint linked to A003
recorded through the form shows in the list with its broken promise, moves to in progress,
resolved and closed with the customer's satisfaction, its history shown; a refusal of the API
shows at its field; the zh-Hant page is in Chinese; no page logs a script error. And the small
read the form picks its ticket from (GET …/feedback/tickets).

Needs Debian's /usr/bin/chromium, the playwright package (never ``playwright install``) and ``npm install``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
from conftest import TZ, LiveServer, ManualClock, Tokens, screen_context
from flask.testing import FlaskClient
from playwright import sync_api
from report_day import import_report_day, report_day_lines
from test_manage_pages import BRANCH, DAY, signed_in
from test_screens_live import TEST_OPTIONS

expect = sync_api.expect


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    with screen_context(browser, TEST_OPTIONS) as ctx:
        yield ctx


@pytest.fixture
def day_server(live_server: LiveServer) -> LiveServer:
    """The live server with the scripted day imported as branch ``day`` (through the API)."""
    import_report_day(live_server.url, live_server.tokens.auth("admin"), BRANCH)
    return live_server


def feedback_path(*parts: str, **query: str) -> str:
    path = "/".join((f"/manage/{BRANCH}/feedback", *parts))
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def tomorrow_input() -> str:
    """A deadline the browser's datetime-local input takes: tomorrow at 17:00, local."""
    return (datetime.now() + timedelta(days=1)).strftime("%Y-%m-%dT17:00")


# the page ------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_a_complaint_linked_to_a003_is_recorded_listed_and_moved_on_to_closed(day_server: LiveServer, context: Any) -> None:
    errors: list[str] = []
    page = signed_in(context, day_server, feedback_path(), errors)
    # the form's ticket picker holds the scripted day's tickets, A003 with its broken promise
    expect(page.locator("#record-ticket-day")).to_have_value(DAY)
    option = page.locator('#record-ticket option[value="A003"]')
    expect(option).to_have_count(1)
    assert "broken promise" in (option.text_content() or "")
    page.select_option("#record-kind", "complaint")
    page.select_option("#record-channel", "in_person")
    page.select_option("#record-category", "waiting")
    page.select_option("#record-aspect", "process")
    page.fill("#record-text", "17 minutes!")
    page.select_option("#record-ticket", "A003")
    page.fill("#record-owner", "Ms Lin")
    page.fill("#record-deadline", tomorrow_input())
    page.click("#record-submit")
    expect(page.locator("#record-done")).to_contain_text("F0001")

    row = page.locator('#feedback-table tr[data-key="F0001"]')
    expect(row).to_have_attribute("data-broken", "1")
    expect(row.locator('[data-column="ticket"]')).to_have_text("A003")
    expect(row.locator('[data-column="wait"]')).to_contain_text("17.0 min")
    expect(row.locator('[data-column="wait"]')).to_contain_text("Broken promise")
    expect(row.locator('[data-column="owner"]')).to_have_text("Ms Lin")
    expect(row.locator('[data-column="status"]')).to_have_text("Open case")
    expect(page.locator('#causes-table tr[data-key="waiting"] [data-column="process"]')).to_have_text("1")
    expect(page.locator("#tile-fb-broken .mg-tile-value")).to_have_text("1")
    expect(page.locator("#tile-fb-broken-share .mg-tile-value")).to_have_text("100.0 %")
    expect(page.locator("#estimate-assumption")).to_contain_text("An estimate, not a count")
    for table in ("feedback", "overdue", "causes", "rates", "promises", "estimate"):
        href = page.locator(f"#{table}-csv").get_attribute("href") or ""
        assert f"/api/v1/branches/{BRANCH}/feedback/report/{table}.csv?" in href, href
    for chart in ("causes", "rates"):
        expect(page.locator(f"#{chart}-chart canvas").first).to_be_attached()
    csv = page.request.get(day_server.url + (page.locator("#causes-csv").get_attribute("href") or ""))
    assert csv.ok and csv.text().splitlines()[1] == "waiting,1,1.0,0,1,0,0"

    # the item: its ticket's story, then the buttons move it on
    row.locator('[data-column="id"] a').click()
    expect(page.locator("body")).to_have_attribute("data-loaded", "1")
    expect(page.locator("#tile-item-status .mg-tile-value")).to_have_text("Open case")
    expect(page.locator("#tile-story-verdict .mg-tile-value")).to_have_text("Broken")
    expect(page.locator("#item-story-link")).to_have_attribute("href", f"/manage/{BRANCH}/tickets/{DAY}/A003")
    expect(page.locator("#item-text")).to_have_text("17 minutes!")
    page.fill("#update-note", "called the customer")
    page.click('#update-buttons [data-status="in_progress"]')
    expect(page.locator("#tile-item-status .mg-tile-value")).to_have_text("In progress")
    expect(page.locator('#update-buttons [data-status="open"]')).to_be_hidden()
    page.click('#update-buttons [data-status="resolved"]')
    expect(page.locator("#tile-item-status .mg-tile-value")).to_have_text("Resolved")
    page.select_option("#update-satisfaction", "4")
    page.click('#update-buttons [data-status="closed"]')
    expect(page.locator("#tile-item-status .mg-tile-value")).to_have_text("Case closed")
    expect(page.locator("#tile-item-satisfaction .mg-tile-value")).to_have_text("4 of 5")
    history = page.locator("#history-list > li")
    expect(history).to_have_count(4)
    expect(history.nth(0)).to_contain_text("Recorded")
    expect(history.nth(1)).to_contain_text("In progress")
    expect(history.nth(1)).to_contain_text("called the customer")
    expect(history.nth(3)).to_contain_text("satisfaction 4 of 5")
    # closed: only reopening, which needs a note (the server's refusal shows at the note)
    for status in ("in_progress", "resolved", "closed"):
        expect(page.locator(f'#update-buttons [data-status="{status}"]')).to_be_hidden()
    page.click('#update-buttons [data-status="open"]')
    expect(page.locator("#update-note-error")).to_contain_text("needs a note")
    expect(page.locator("#update-note")).to_have_attribute("aria-invalid", "true")
    page.fill("#update-note", "the customer wrote again")
    page.click('#update-buttons [data-status="open"]')
    expect(page.locator("#tile-item-status .mg-tile-value")).to_have_text("Open case")
    expect(history).to_have_count(5)
    expect(page.locator("#update-note-error")).to_be_hidden()
    assert [e for e in errors if "422" not in e] == []  # the browser logs the refused reopening, nothing else


@pytest.mark.browser
def test_a_refusal_of_the_api_shows_at_its_field_and_records_nothing(day_server: LiveServer, context: Any) -> None:
    errors: list[str] = []
    page = signed_in(context, day_server, feedback_path(), errors)
    expect(page.locator('#record-ticket option[value="A003"]')).to_have_count(1)
    page.fill("#record-text", "   ")
    page.click("#record-submit")
    error = page.locator("#record-text-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("non-empty")
    expect(page.locator("#record-text")).to_have_attribute("aria-invalid", "true")
    # a deadline already past: 422 at the deadline, and the text's mark cleared
    page.fill("#record-text", "rude")
    page.fill("#record-deadline", "2026-03-01T10:00")
    page.click("#record-submit")
    expect(page.locator("#record-deadline-error")).to_contain_text("already past")
    expect(error).to_be_hidden()
    expect(page.locator("#feedback-table .mg-empty")).to_be_visible()
    listing = requests.get(f"{day_server.url}/api/v1/branches/{BRANCH}/feedback", headers=day_server.tokens.auth("admin"), timeout=10)
    assert listing.json()["items"] == []
    assert [e for e in errors if "422" not in e] == []  # the browser logs the refused requests, nothing else


@pytest.mark.browser
def test_the_zh_hant_page_is_in_chinese(day_server: LiveServer, context: Any) -> None:
    errors: list[str] = []
    requests.post(
        f"{day_server.url}/api/v1/branches/{BRANCH}/feedback",
        json={"kind": "praise", "channel": "app", "category": "empathy", "text": "kind staff", "ticket": "A001", "ticket_day": DAY},
        headers=day_server.tokens.auth("admin"),
        timeout=10,
    ).raise_for_status()
    page = signed_in(context, day_server, feedback_path(lang="zh-Hant"), errors)
    expect(page.locator("h1")).to_have_text("投訴與讚揚")
    expect(page.locator('.mg-nav a[aria-current="page"]')).to_have_text("意見")
    expect(page.locator("#record-title")).to_have_text("記錄投訴或讚揚")
    row = page.locator('#feedback-table tr[data-key="F0001"]')
    expect(row.locator('[data-column="kind"]')).to_have_text("讚揚")
    expect(row.locator('[data-column="status"]')).to_have_text("待處理")
    expect(page.locator('#feedback-table th[data-column="wait"]')).to_have_text("實際等候與告知")
    expect(page.locator("#estimate-assumption")).to_contain_text("估計值")
    row.locator('[data-column="id"] a').click()
    expect(page.locator("#tile-item-kind .mg-tile-value")).to_have_text("讚揚 · 關懷與用心")
    expect(page.locator('#update-buttons [data-status="in_progress"]')).to_have_text("開始處理")
    assert "lang=zh-Hant" in page.url
    assert errors == []


# the read of a day's tickets -----------------------------------------------------------------------
BASE = "/api/v1/branches/main/feedback"


def _import_day(client: FlaskClient, tokens: Tokens) -> None:
    body = "".join(json.dumps(line) + "\n" for line in report_day_lines())
    response = client.post("/api/v1/branches/main/import", data=body, headers={**tokens.auth("admin"), "Content-Type": "application/x-ndjson"})
    assert response.status_code == 201, response.json


def test_the_tickets_of_a_day_for_the_form(client: FlaskClient, tokens: Tokens, clock: ManualClock) -> None:
    _import_day(client, tokens)
    clock.current = datetime(2026, 3, 2, 13, 0, tzinfo=TZ)
    manager = tokens.auth("manager")
    latest = client.get(f"{BASE}/tickets", headers=manager)
    assert latest.status_code == 200, latest.json
    assert latest.json["day"] == DAY and latest.json["days"] == [DAY]
    tickets = {t["ticket"]: t for t in latest.json["tickets"]}
    issued = [t["issued_at"] for t in latest.json["tickets"]]
    assert issued == sorted(issued) and {"A001", "A003", "B001"} <= set(tickets)
    a003 = tickets["A003"]
    assert (a003["wait_min"], a003["broken_promise"]) == (17.0, True)
    assert a003["told_high_min"] is not None and a003["told_high_min"] < 17.0
    assert {"service", "issued_at", "outcome"} <= set(a003)
    assert [s["code"] for s in latest.json["config"]["services"]]
    assert client.get(f"{BASE}/tickets?day={DAY}", headers=manager).json == latest.json
    other = client.get(f"{BASE}/tickets?day=2026-02-01", headers=manager).json
    assert (other["day"], other["tickets"]) == ("2026-02-01", [])
    bad = client.get(f"{BASE}/tickets?day=soon", headers=manager)
    assert bad.status_code == 422 and bad.json["field"] == "day"
    for role in ("teller1", "kiosk", "display", "other_branch_manager"):
        assert client.get(f"{BASE}/tickets", headers=tokens.auth(role)).status_code in (401, 403), role
    assert client.get("/api/v1/branches/nowhere/feedback/tickets", headers=tokens.auth("admin")).status_code == 404


def test_a_refusal_of_feedback_answers_in_chinese(client: FlaskClient, tokens: Tokens, clock: ManualClock) -> None:
    _import_day(client, tokens)
    clock.current = datetime(2026, 3, 2, 11, 0, tzinfo=TZ)
    manager = {**tokens.auth("manager"), "Accept-Language": "zh-TW"}
    body = {"kind": "complaint", "channel": "app", "category": "waiting", "text": "x"}
    assert client.post(BASE, json=body, headers=manager).status_code == 201
    assert client.post(f"{BASE}/F0001", json={"status": "in_progress"}, headers=manager).status_code == 201
    back = client.post(f"{BASE}/F0001", json={"status": "open"}, headers=manager)
    assert back.status_code == 409 and back.json["message"] == "意見 F0001 目前為「處理中」，不能改為「待處理」"
    missing = client.post(BASE, json={**body, "ticket": "A999"}, headers=manager)
    assert missing.status_code == 404 and missing.json["message"] == "2026-03-02 沒有發出號碼 A999"
