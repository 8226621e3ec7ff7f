"""A teller signs in in headless Chromium, picks a counter, and calls the next customer: the
console works through the session (no token anywhere), and says when it needs a sign-in.

Needs Debian's /usr/bin/chromium, the playwright package (never ``playwright install``) and ``npm install``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from conftest import STAFF_PASSWORD, LiveServer, screen_context, submit_sign_in
from playwright import sync_api
from test_screens_live import TEST_OPTIONS, take

pytestmark = pytest.mark.browser

expect = sync_api.expect


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    with screen_context(browser, TEST_OPTIONS) as ctx:
        yield ctx


def snapshot(live: LiveServer) -> dict[str, Any]:
    response = requests.get(f"{live.url}/api/v1/branches/main/snapshot", headers=live.tokens.auth("admin"), timeout=10)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def test_a_teller_signs_in_picks_a_counter_and_calls_the_next_customer(live_server: LiveServer, context: Any) -> None:
    store = live_server.app.extensions["queue_board"].store
    store.create_user("dana", STAFF_PASSWORD, "teller", ["main"], None, "Dana Lee")
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))

    # a console opened with neither a token nor a session offers to sign in
    page.goto(f"{live_server.url}/teller/1?lang=en")
    expect(page.locator("body")).to_have_attribute("data-connection", "refused")
    expect(page.locator("#sign-in-offer")).to_be_visible()
    expect(page.locator("#connection-banner")).to_contain_text("Sign in to use this screen")
    with page.expect_navigation():
        page.locator("#sign-in-link").click()
    assert page.url.startswith(f"{live_server.url}/login?next=")

    # a wrong password first: the same form again, with the reason
    submit_sign_in(page, "dana", "not her password")
    expect(page.locator("#login-error")).to_contain_text("Wrong user name or password.")
    submit_sign_in(page, "Dana", STAFF_PASSWORD)
    assert page.url == f"{live_server.url}/sign-in/counter"
    expect(page.locator(".staff-who")).to_have_text("Signed in as Dana Lee")
    page.locator('input[name="counter"][value="1"]').check()
    with page.expect_navigation():
        page.locator("#pick-counter").click()
    assert page.url == f"{live_server.url}/teller/1?branch=main"

    body = page.locator("body")
    expect(body).to_have_attribute("data-session", "1")
    expect(body).to_have_attribute("data-connection", "live")
    expect(page.locator("#sign-in-offer")).to_be_hidden()
    expect(page.locator(".teller-staff-bar .staff-who")).to_have_text("Signed in as Dana Lee")

    # the teller opens the counter and calls the next customer, with buttons and shortcuts
    open_button = page.locator("button[data-action=open]")
    expect(open_button).to_be_enabled()
    open_button.click()
    expect(body).to_have_attribute("data-status", "idle")
    label = take(live_server)
    expect(page.locator("button[data-action=call-next]")).to_be_enabled()
    page.keyboard.press("n")
    expect(page.locator("#current-ticket")).to_have_text(label)
    expect(body).to_have_attribute("data-status", "calling")
    counter = next(c for c in snapshot(live_server)["counters"] if c["name"] == "1")
    assert (counter["status"], counter["ticket"]) == ("calling", label)
    actors = [e.actor for e in store.load("main") if e.event.type in ("counter_opened", "ticket_called")]
    assert actors == ["teller:dana", "teller:dana"]
    # no token was ever used or kept: the session did it all
    assert page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('queue_board.token'))") == []

    # another counter's console is not hers
    other = context.new_page()
    response = other.goto(f"{live_server.url}/teller/2?branch=main")
    assert response is not None and response.status == 403
    expect(other.locator("#forbidden-reason")).to_contain_text("signed in for counter 1")
    other.close()

    # signing out ends it: the console asks for a sign-in again
    with page.expect_navigation():
        page.locator(".teller-staff-bar button[type=submit]").click()
    assert page.url == f"{live_server.url}/login?signed_out=1"
    expect(page.locator(".staff-notice")).to_have_text("You have signed out.")
    page.goto(f"{live_server.url}/teller/1?branch=main")
    expect(page.locator("#sign-in-offer")).to_be_visible()
    assert page.locator("body").get_attribute("data-session") is None
    assert errors == []
