"""The dashboard's early warnings in headless Chromium against a live server: a warning appears
when its condition starts (pushed, never polled), a manager acknowledges it with a note, and it
moves to the day's ended warnings with how it ended; in English and in Chinese."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from conftest import LiveServer, screen_context
from playwright import sync_api
from test_manage_pages import signed_in
from test_screens_live import TEST_OPTIONS

pytestmark = pytest.mark.browser
expect = sync_api.expect


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    with screen_context(browser, TEST_OPTIONS) as ctx:
        yield ctx


def write(live: LiveServer, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = requests.post(f"{live.url}/api/v1/branches/main{path}", json=body or {}, headers=live.tokens.auth("admin"), timeout=10)
    assert response.status_code == 201, (path, response.text)
    data: dict[str, Any] = response.json()
    return data


def test_a_warning_is_pushed_acknowledged_and_ends_on_the_dashboard(live_server: LiveServer, context: Any) -> None:
    live_server.app.extensions["queue_board"].warnings.enabled = True
    errors: list[str] = []
    write(live_server, "/counters/1/open")
    page = signed_in(context, live_server, "/manage/main", errors)
    expect(page.locator("#warnings-empty")).to_be_visible()
    # a loan customer, and no open counter serves loans: an alert at the next forecast
    write(live_server, "/tickets", {"service": "loan"})
    item = page.locator('.mg-warning[data-key="unserved:loan"]')
    expect(item).to_be_visible(timeout=15_000)
    expect(item).to_have_attribute("data-severity", "alert")
    expect(item.locator(".mg-warning-text")).to_have_text("No open counter serves Loans: 1 customer waits")
    item.locator(".mg-warning-note").fill("asked counter 4 to open")
    item.locator(".mg-warning-ack-button").click()
    expect(item.locator(".mg-warning-seen")).to_contain_text("Seen by boss at ", timeout=10_000)
    expect(item.locator(".mg-warning-seen")).to_contain_text(": asked counter 4 to open")
    write(live_server, "/counters/4/open")
    expect(item).to_have_count(0, timeout=15_000)
    expect(page.locator("#warnings-ended-summary")).to_have_text("1 warning ended today")
    page.locator("#warnings-ended-summary").click()
    row = page.locator("#warnings-ended-table tbody tr").first
    expect(row).to_contain_text("Service nobody serves")
    expect(row).to_contain_text("Loans")
    expect(row).to_contain_text("boss")
    expect(row).to_contain_text("a counter opened")
    listed = requests.get(f"{live_server.url}/api/v1/branches/main/warnings", headers=live_server.tokens.auth("manager"), timeout=10).json()
    ended = [w for w in listed["today"] if w["key"] == "unserved:loan"]
    assert [(w["acknowledged_by"], w["note"], w["outcome"]) for w in ended] == [("boss", "asked counter 4 to open", "counter_opened")]
    page.goto(f"{live_server.url}/manage/main?lang=zh-Hant")
    expect(page.locator("body")).to_have_attribute("data-loaded", "1")
    expect(page.locator("#warnings-title")).to_have_text("預警")
    expect(page.locator("#warnings-ended-summary")).to_have_text("今天已結束的警示：1 則")
    assert errors == []
