"""What the screens say must agree with itself and with the moment (issue 9): the ticket page's "your wait got
longer" notice, the hall board's highlighted call, the boards' clock when the connection drops, the "tap to
enable sound" prompt of a wall screen, and the ticket page's hints.

Headless Chromium against a live server, as in ``test_screens_live``. Some tests feed the ticket page a state
of their choosing through its own Socket.IO listener (as the server would push it) so that the ranges are exact.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
from conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer, screen_context
from test_screens_live import (
    FAKE_SPEECH,
    FAKE_VIBRATION,
    TEST_OPTIONS,
    act,
    expect,
    open_page,
    screen,
    take,
    ticket_link,
)

pytestmark = pytest.mark.browser

#: the device's own clock five hours behind the server's (a wall screen whose clock was never set)
DEVICE_CLOCK_BEHIND = """
(() => {
  const realNow = Date.now.bind(Date);
  Date.now = () => realNow() - 5 * 3600 * 1000;
})();
"""


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh profile, 1920×1080, short offline grace, fake speech and vibration (sound stays blocked until a tap)."""
    with screen_context(browser, TEST_OPTIONS + FAKE_SPEECH + FAKE_VIBRATION) as ctx:
        yield ctx


class TicketFeed:
    """Push ticket states of a test's choosing to an open ticket page, as its socket would receive them."""

    def __init__(self, page: Any, state_url: str) -> None:
        self.page = page
        self.base: dict[str, Any] = requests.get(state_url, timeout=10).json()
        self.seq = int(self.base["seq"]) + 100
        self.now = datetime.fromisoformat(self.base["now"])

    def push(self, *, minutes_later: float = 0, wait: tuple[float, float] | None = None, **fields: Any) -> None:
        self.seq += 1
        # as if the page had been open that long: the clock's rate is not learnt from a jump made up by the test
        self.page.evaluate("window.queueBoardLive.clock.base = null")
        now = self.now + timedelta(minutes=minutes_later)
        ticket = {**self.base, "seq": self.seq, "now": now.isoformat(timespec="milliseconds"), **fields}
        if wait is not None:
            low, high = wait
            ticket["wait"] = {"p10": low * 60, "p50": (low + high) * 30, "p90": high * 60}
        self.page.evaluate("t => window.queueBoardLive.socket.listeners('ticket').forEach(f => f(t))", ticket)
        expect(self.page.locator("body")).to_have_attribute("data-seq", str(self.seq))


def waiting_ticket_page(live: LiveServer, context: Any, query: str = "") -> tuple[Any, TicketFeed]:
    """A ticket with one person ahead and no counter open yet (so no forecast of its own), its page open."""
    take(live)
    url = ticket_link(live, take(live))
    page = open_page(context, url + query)
    expect(page.locator("#card")).to_have_attribute("data-status", "waiting")
    return page, TicketFeed(page, url.split("?")[0] + "/state")


# 1. the "your wait got longer" notice -----------------------------------------------------------
def test_the_notice_shows_the_range_the_page_shows_not_an_older_one(live_server: LiveServer, context: Any) -> None:
    page, feed = waiting_ticket_page(live_server, context, "?lang=zh-Hant")
    notice, text = page.locator("#notice"), page.locator("#notice-text")
    feed.push(wait=(5, 20))
    expect(page.locator("#range")).to_have_text("約 5–20 分鐘")
    expect(notice).to_be_hidden()
    feed.push(wait=(11, 47))
    expect(notice).to_be_visible()
    expect(text).to_contain_text("約 11–47 分鐘")
    expect(text).to_contain_text("比先前多約 27 分鐘")
    # the wait improves a little but is still longer than before: one range on the screen, the same in the notice
    feed.push(wait=(5, 27))
    expect(page.locator("#range")).to_have_text("約 5–27 分鐘")
    expect(text).to_contain_text("約 5–27 分鐘")
    expect(text).to_contain_text("比先前多約 7 分鐘")
    assert "47" not in text.inner_text()
    # back to what it was before: nothing is longer any more
    feed.push(wait=(4, 19))
    expect(notice).to_be_hidden()


def test_no_notice_when_the_shown_range_shrank(live_server: LiveServer, context: Any) -> None:
    page, feed = waiting_ticket_page(live_server, context)
    notice = page.locator("#notice")
    feed.push(wait=(10, 42))
    expect(page.locator("#range")).to_have_text("about 10–42 min")
    # 17 minutes later the range is smaller: the call may come a few minutes later than first thought, but the
    # page never showed a longer wait, so it must not say "longer than before"
    feed.push(minutes_later=17, wait=(8, 31))
    expect(page.locator("#range")).to_have_text("about 8–31 min")
    page.wait_for_timeout(300)
    expect(notice).to_be_hidden()
    # a small rise is not news either; a real one (more than 5 minutes above the lowest shown) is
    feed.push(minutes_later=17, wait=(8, 35))
    page.wait_for_timeout(300)
    expect(notice).to_be_hidden()
    feed.push(minutes_later=17, wait=(9, 38))
    expect(notice).to_be_visible()
    expect(page.locator("#notice-text")).to_contain_text("The expected wait is now about 9–38 min, about 7 minutes")


def test_the_notice_goes_once_the_ticket_is_called(live_server: LiveServer, context: Any) -> None:
    page, feed = waiting_ticket_page(live_server, context)
    notice = page.locator("#notice")
    feed.push(wait=(2, 10))
    feed.push(wait=(12, 40))
    expect(notice).to_be_visible()
    feed.push(status="called", counter="4", wait=None, people_ahead=None)
    expect(page.locator("#headline")).to_have_text("Your turn: counter 4")
    expect(notice).to_be_hidden()
    feed.push(status="serving", counter="4")
    expect(page.locator("#headline")).to_have_text("You are being served at counter 4")
    expect(notice).to_be_hidden()


def test_the_notice_of_a_real_pause_goes_when_the_customer_is_called(live_server: LiveServer, context: Any) -> None:
    act(live_server, "teller1", "/counters/1/open")
    take(live_server)
    act(live_server, "teller1", "/counters/1/call-next")
    act(live_server, "teller1", "/counters/1/start")
    page = open_page(context, ticket_link(live_server, take(live_server)))
    expect(page.locator("#range")).to_have_text(re.compile(r"min$"))
    notice = page.locator("#notice")
    act(live_server, "teller1", "/counters/1/finish")
    act(live_server, "teller1", "/counters/1/pause", {"reason": "Lunch", "minutes": 45})
    expect(notice).to_be_visible(timeout=10000)
    # the notice quotes the range the page shows, word for word
    assert page.locator("#range").inner_text() in page.locator("#notice-text").inner_text()
    act(live_server, "teller1", "/counters/1/resume")
    act(live_server, "teller1", "/counters/1/call-next")
    expect(page.locator("#headline")).to_have_text("Your turn: counter 1")
    expect(notice).to_be_hidden()
    for action in ("start", "finish"):
        act(live_server, "teller1", f"/counters/1/{action}")
    expect(page.locator("#headline")).to_have_text("Thank you for your visit")
    expect(notice).to_be_hidden()


# 12a. the "keep this page open" hint ---------------------------------------------------------------
def test_the_keep_open_hint_shows_only_while_the_customer_waits_for_the_call(
    live_server: LiveServer, context: Any
) -> None:
    act(live_server, "teller1", "/counters/1/open")
    page = open_page(context, ticket_link(live_server, take(live_server)))
    hint = page.locator(".tp-foot")
    expect(page.locator("#card")).to_have_attribute("data-status", "waiting")
    expect(hint).to_be_visible()
    act(live_server, "teller1", "/counters/1/call-next")
    expect(page.locator("#card")).to_have_attribute("data-status", "called")
    expect(hint).to_be_visible()
    act(live_server, "teller1", "/counters/1/start")
    expect(page.locator("#card")).to_have_attribute("data-status", "serving")
    expect(hint).to_be_hidden()
    act(live_server, "teller1", "/counters/1/finish")
    expect(page.locator("#headline")).to_have_text("Thank you for your visit")
    expect(hint).to_be_hidden()


def test_a_cancelled_ticket_shows_no_hint_and_no_alert_button(live_server: LiveServer, context: Any) -> None:
    page, _feed = waiting_ticket_page(live_server, context)
    label = page.locator(".tp-number").inner_text()
    act(live_server, "kiosk", f"/tickets/{label}/cancel")
    expect(page.locator("#headline")).to_have_text("This ticket was cancelled")
    expect(page.locator(".tp-foot")).to_be_hidden()
    expect(page.locator("#alerts")).to_be_hidden()


# 2. the hall board's highlighted call ------------------------------------------------------------
def test_the_hall_highlights_only_a_call_the_customer_must_act_on(live_server: LiveServer, context: Any) -> None:
    for counter in ("1", "2"):
        act(live_server, "admin", f"/counters/{counter}/open")
    first, second = take(live_server), take(live_server)
    hall = screen(context, live_server, "/board/hall", "display")
    highlighted = hall.locator("#now-serving li.newest")

    act(live_server, "teller1", "/counters/1/call-next")
    expect(highlighted).to_have_count(1)
    expect(highlighted).to_have_attribute("data-ticket", first)
    expect(highlighted.locator(".ns-note")).to_have_text("please go to counter 1")

    # a newer call that is already being served does not take the highlight from one still waiting for its customer
    act(live_server, "teller2", "/counters/2/call-next")
    expect(highlighted).to_have_attribute("data-ticket", second)
    act(live_server, "teller2", "/counters/2/start")
    expect(hall.locator(f'#now-serving li[data-ticket="{second}"]')).to_have_class(re.compile(r"status-serving"))
    expect(highlighted).to_have_count(1)
    expect(highlighted).to_have_attribute("data-ticket", first)
    expect(highlighted).to_have_attribute("data-counter", "1")

    # finished: the call leaves the highlight (it stays in the list, not highlighted)
    act(live_server, "teller1", "/counters/1/start")
    act(live_server, "teller1", "/counters/1/finish")
    done = hall.locator(f'#now-serving li[data-ticket="{first}"]')
    expect(done).to_have_class(re.compile(r"status-done"))
    expect(done).not_to_have_class(re.compile(r"\bnewest\b"))
    expect(highlighted).to_have_count(0)
    for row in hall.locator("#now-serving li").all():
        assert "newest" not in (row.get_attribute("class") or ""), row.inner_text()


# 5. the board's clock when the connection drops -----------------------------------------------------
def test_a_board_keeps_the_server_clock_when_the_connection_drops(live_server: LiveServer, browser: Any) -> None:
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    ctx.set_default_timeout(8000)
    ctx.add_init_script(TEST_OPTIONS + FAKE_SPEECH + DEVICE_CLOCK_BEHIND)
    try:
        act(live_server, "teller1", "/counters/1/open")
        act(live_server, "teller1", "/counters/1/pause", {"reason": "Lunch", "minutes": 30})
        hall = screen(ctx, live_server, "/board/hall", "display")
        card = hall.locator('#counters li[data-counter="1"]')
        expect(card.locator(".cc-detail")).to_have_text(re.compile(r"^back in ~(29|30) min$"))
        server_clock = hall.locator("#clock").inner_text()
        assert re.fullmatch(r"\d\d:\d\d", server_clock)

        hall.route("**/socket.io/**", lambda route: route.abort())
        hall.evaluate("window.queueBoardLive.socket.io.engine.close()")
        expect(hall.locator("body")).to_have_attribute("data-connection", "lost")
        expect(hall.locator("#connection-banner")).to_contain_text(
            f"Connection lost since {server_clock}", timeout=5000
        )
        hall.wait_for_timeout(1500)  # the board ticks every second
        expect(card.locator(".cc-detail")).to_have_text(re.compile(r"^back in ~(29|30) min$"))
        shown = hall.locator("#clock").inner_text()
        minutes = lambda hhmm: int(hhmm[:2]) * 60 + int(hhmm[3:])  # noqa: E731
        assert abs(minutes(shown) - minutes(server_clock)) % (24 * 60) <= 1, (shown, server_clock)
    finally:
        ctx.close()


def test_the_ticket_page_keeps_the_server_clock_when_the_connection_drops(
    live_server: LiveServer, browser: Any
) -> None:
    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    ctx.set_default_timeout(8000)
    ctx.add_init_script(TEST_OPTIONS + FAKE_VIBRATION + DEVICE_CLOCK_BEHIND)
    try:
        page, feed = waiting_ticket_page(live_server, ctx)
        feed.push(wait=(30, 60))
        detail = page.locator("#detail")
        expect(detail).to_contain_text("We expect to call you between")
        window = re.findall(r"\d\d:\d\d", detail.inner_text())
        assert len(window) == 2, detail.inner_text()

        page.route("**/socket.io/**", lambda route: route.abort())
        page.evaluate("window.queueBoardLive.socket.io.engine.close()")
        expect(page.locator("body")).to_have_attribute("data-connection", "lost")
        page.click('#language-switch button[data-lang="zh-Hant"]')  # renders again, offline
        expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
        assert re.findall(r"\d\d:\d\d", detail.inner_text()) == window, detail.inner_text()
    finally:
        ctx.close()


# 11. wall screens and sound ---------------------------------------------------------------------
def test_the_hall_board_asks_for_a_tap_until_sound_is_unlocked(live_server: LiveServer, context: Any) -> None:
    # headless Chromium keeps audio suspended until a gesture, as a wall screen without the autoplay flag does
    hall = screen(context, live_server, "/board/hall", "display")
    prompt = hall.locator("#sound-prompt")
    expect(prompt).to_be_visible()
    expect(prompt).to_contain_text("Tap the screen to turn on sound")
    expect(hall.locator("body")).to_have_attribute("data-sound", "blocked")
    hall.mouse.click(960, 540)
    expect(hall.locator("body")).to_have_attribute("data-sound", "on")
    expect(prompt).to_be_hidden()

    # the same board in Chinese, and a board deliberately silent never asks
    zh = screen(context, live_server, "/board/hall", "display", query="lang=zh-Hant")
    expect(zh.locator("#sound-prompt")).to_be_visible()
    assert not re.search(r"[A-Za-z]{2,}", zh.locator("#sound-prompt").inner_text())
    silent = screen(context, live_server, "/board/hall", "display", query="sound=off")
    expect(silent.locator("body")).to_have_attribute("data-sound", "off")
    expect(silent.locator("#sound-prompt")).to_be_hidden()


def test_a_wall_screen_started_with_the_autoplay_flag_needs_no_tap(live_server: LiveServer, browser: Any) -> None:
    """The flag docs/displays.md tells a branch to start its wall screens with."""
    chromium = browser.browser_type.launch(
        executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"]
    )
    try:
        ctx = chromium.new_context(viewport={"width": 1920, "height": 1080})
        ctx.add_init_script(TEST_OPTIONS + FAKE_SPEECH)
        hall = screen(ctx, live_server, "/board/hall", "display")
        expect(hall.locator("body")).to_have_attribute("data-sound", "on")
        expect(hall.locator("#sound-prompt")).to_be_hidden()
    finally:
        chromium.close()


def test_the_ticket_page_offers_sound_until_the_customer_taps(live_server: LiveServer, context: Any) -> None:
    page, _feed = waiting_ticket_page(live_server, context)
    expect(page.locator("#alerts")).to_be_visible()
    expect(page.locator("#alerts-on")).to_be_hidden()
    page.click("#alerts")
    expect(page.locator("#alerts-on")).to_be_visible()
    expect(page.locator("#alerts")).to_be_hidden()


def test_a_call_still_waiting_for_its_customer_stays_on_the_hall_board(live_server: LiveServer, context: Any) -> None:
    """Counter 1 calls and waits; counter 2 serves four more and calls again: the first call is not pushed off."""
    for counter in ("1", "2"):
        act(live_server, "admin", f"/counters/{counter}/open")
    waiting = take(live_server)
    for _ in range(5):
        take(live_server)
    act(live_server, "teller1", "/counters/1/call-next")
    for _ in range(4):
        for action in ("call-next", "start", "finish"):
            act(live_server, "teller2", f"/counters/2/{action}")
    act(live_server, "teller2", "/counters/2/call-next")
    hall = screen(context, live_server, "/board/hall", "display", query="lang=zh-Hant")
    rows = hall.locator("#now-serving li:not([hidden])")
    expect(rows.nth(0)).to_have_class(re.compile(r"\bnewest\b"))
    expect(rows.nth(0)).to_have_attribute("data-counter", "2")
    expect(rows.nth(1)).to_have_attribute("data-ticket", waiting)
    expect(rows.nth(1)).to_have_class(re.compile(r"status-called"))
    for width, height in ((1920, 1080), (1080, 1920), (390, 844)):
        hall.set_viewport_size({"width": width, "height": height})
        expect(hall.locator(f'#now-serving li[data-ticket="{waiting}"]')).to_be_visible()


def test_the_counter_board_asks_for_a_tap_until_sound_is_unlocked(live_server: LiveServer, context: Any) -> None:
    """The board above a counter is a wall screen too: it asks like the hall does."""
    board = screen(context, live_server, "/board/counter/1", "display")
    prompt = board.locator("#sound-prompt")
    expect(prompt).to_be_visible()
    expect(prompt).to_contain_text("Tap the screen to turn on sound")
    board.mouse.click(960, 540)
    expect(prompt).to_be_hidden()
