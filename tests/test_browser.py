"""The screens in headless Chromium against a live server: kiosk → teller → hall board, live.

Needs Debian's /usr/bin/chromium, the playwright package (never ``playwright install``) and
``npm install`` (the Socket.IO browser client).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from conftest import LiveServer, screen_context
from playwright import sync_api
from test_screens_live import act, open_page

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=alert(1)>"
TICKET = re.compile(r"[A-Z]{1,3}\d{3}")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")

expect = sync_api.expect




@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser profile (its own localStorage), 1920×1080."""
    with screen_context(browser) as ctx:
        yield ctx


def open_screen(context: Any, live: LiveServer, path: str, token: str, errors: list[str] | None = None) -> Any:
    """Open a screen with its token and wait until it shows live data (script errors go to ``errors``)."""
    return open_page(context, f"{live.url}{path}?token={token}", errors)


def test_call_next_in_the_teller_console_appears_on_the_hall_board_without_reload(
    live_server: LiveServer, context: Any
) -> None:
    tokens = live_server.tokens
    errors: list[str] = []
    # an open counter serves deposits, so the kiosk issues the ticket at once (it asks first otherwise)
    act(live_server, "teller1", "/counters/1/open")
    hall = open_screen(context, live_server, "/board/hall", tokens.display, errors)
    teller = open_screen(context, live_server, "/teller/1", tokens.teller1, errors)
    kiosk = open_screen(context, live_server, "/kiosk", tokens.kiosk, errors)
    # the token left the address bar (it is kept in the screen's HttpOnly cookie instead)
    assert "token=" not in hall.url
    hall.evaluate("window.__sameDocument = true")
    navigations: list[str] = []
    hall.on("framenavigated", lambda frame: navigations.append(frame.url))

    kiosk.click("button[data-service=deposit]")
    expect(kiosk.locator("#ticket-number")).to_have_text(TICKET)
    ticket = kiosk.locator("#ticket-number").inner_text()
    expect(kiosk.locator("#ticket-ahead")).to_have_text("You are next")
    expect(hall.locator('#services li[data-service="deposit"] .svc-count')).to_have_text("1")

    posts: list[dict[str, str]] = []
    teller.on("request", lambda request: posts.append(request.headers) if request.method == "POST" else None)
    open_button = teller.locator("button[data-action=open]")
    if open_button.is_enabled():
        open_button.click()
    call_next = teller.locator("button[data-action=call-next]")
    expect(call_next).to_be_enabled()
    expect(teller.locator(f'#queue li[data-ticket="{ticket}"]')).to_be_visible()
    call_next.click()
    expect(teller.locator("#current-ticket")).to_have_text(ticket)
    expect(teller.locator("button[data-action=start]")).to_be_enabled()
    expect(call_next).to_be_disabled()

    newest = hall.locator("#now-serving li.newest")
    expect(newest).to_have_attribute("data-ticket", ticket)
    expect(newest).to_have_attribute("data-counter", "1")
    expect(newest.locator(".ns-note")).to_have_text("please go to counter 1")
    card = hall.locator('#counters li[data-counter="1"]')
    expect(card).to_have_attribute("data-status", "calling")
    expect(card.locator(".cc-ticket")).to_have_text(ticket)
    expect(card.locator(".cc-detail")).to_have_text("Please go to counter 1")
    expect(hall.locator('#services li[data-service="deposit"] .svc-count')).to_have_text("0")

    # every click sent its own Idempotency-Key (a UUID), so a retried click is stored once
    keys = [headers.get("idempotency-key", "") for headers in posts]
    assert len(keys) >= 1
    assert all(UUID.fullmatch(key) for key in keys), keys
    assert len(set(keys)) == len(keys)

    assert hall.evaluate("window.__sameDocument") is True, "the hall board reloaded"
    assert navigations == []
    assert errors == []


def test_pause_reason_from_the_console_shows_as_text_on_the_hall_board(live_server: LiveServer, context: Any) -> None:
    act(live_server, "teller1", "/counters/1/open")
    hall = open_screen(context, live_server, "/board/hall", live_server.tokens.display)
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    hall.on("dialog", on_dialog)
    teller = open_screen(context, live_server, "/teller/1", live_server.tokens.teller1)
    expect(teller.locator("button[data-action=pause]")).to_be_enabled()

    teller.keyboard.press("p")
    dialog = teller.locator("#pause-dialog")
    expect(dialog).to_be_visible()
    dialog.locator('input[name="other"]').fill(XSS)
    dialog.locator('input[name="minutes"][value="5"]').check()
    dialog.locator("#pause-confirm").click()
    expect(dialog).to_be_hidden()

    card = hall.locator('#counters li[data-counter="1"]')
    expect(card).to_have_attribute("data-status", "paused")
    expect(card.locator(".cc-reason")).to_have_text(XSS)
    expect(card.locator(".cc-detail")).to_have_text(re.compile(r"^back in ~[45] min$"))
    assert card.locator("img").count() == 0
    expect(teller.locator("#current-state")).to_contain_text(XSS)
    assert teller.locator("#current-state img").count() == 0
    expect(teller.locator("button[data-action=resume]")).to_be_enabled()
    assert dialogs == []


def test_closed_counter_shows_no_ticket_number(live_server: LiveServer, context: Any) -> None:
    act(live_server, "teller2", "/counters/2/open")
    label = act(live_server, "kiosk", "/tickets", {"service": "deposit"})["ticket"]["ticket"]
    act(live_server, "teller2", "/counters/2/call-next")
    hall = open_screen(context, live_server, "/board/hall", live_server.tokens.display)
    card = hall.locator('#counters li[data-counter="2"]')
    expect(card.locator(".cc-ticket")).to_have_text(label)

    for action in ("start", "finish", "close"):
        act(live_server, "teller2", f"/counters/2/{action}")
    expect(card).to_have_attribute("data-status", "closed")
    expect(card.locator(".cc-state")).to_have_text("Closed")
    expect(card.locator(".cc-ticket")).to_be_hidden()
    for closed in hall.locator('#counters li[data-status="closed"]').all():
        assert not TICKET.search(closed.inner_text()), closed.inner_text()


def test_lost_connection_resyncs_on_return_and_a_blip_raises_no_banner(live_server: LiveServer, context: Any) -> None:
    hall = open_screen(context, live_server, "/board/hall", live_server.tokens.display)
    banner = hall.locator("#connection-banner")
    expect(banner).to_be_hidden()
    hall.evaluate("window.queueBoardLive.socket.io.engine.close()")
    expect(hall.locator("body")).to_have_attribute("data-connection", "lost")
    expect(hall.locator("#live-state .live-text")).to_have_text("Reconnecting…")
    act(live_server, "teller1", "/counters/1/open")  # happens while the board is away
    expect(hall.locator("body")).to_have_attribute("data-connection", "live")
    expect(hall.locator('#counters li[data-counter="1"]')).to_have_attribute("data-status", "idle")
    # back within the 10 s grace: no "connection lost" banner (test_screens_live covers a longer outage)
    expect(banner).to_be_hidden()


def test_a_jump_in_seq_is_shown_without_a_resync(live_server: LiveServer, context: Any) -> None:
    """Every push is the whole state, and changes made during one forecast reach the boards in
    one push: a board that sees seq jump shows that push and asks for nothing more."""
    act(live_server, "teller1", "/counters/1/open")
    hall = open_screen(context, live_server, "/board/hall", live_server.tokens.display)
    expect(hall.locator("body")).to_have_attribute("data-seq", "2")
    hall.evaluate(
        """() => { const s = window.queueBoardLive.socket; window.__board = s.listeners('board'); s.off('board');
        window.__syncs = 0; const emit = s.emit.bind(s);
        s.emit = (name, ...args) => { if (name === 'sync') window.__syncs += 1; return emit(name, ...args); }; }"""
    )
    act(live_server, "admin", "/counters/2/open")
    act(live_server, "admin", "/counters/3/open")
    board = requests.get(
        f"{live_server.url}/api/v1/branches/main/snapshot", headers=live_server.tokens.auth("display"), timeout=10
    ).json()
    assert board["seq"] == 4
    # the push of seq 3 is missed; seq 4's arrives
    hall.evaluate("board => window.__board.forEach(f => f(board))", {**board, "event": None})
    expect(hall.locator("body")).to_have_attribute("data-seq", "4")
    expect(hall.locator('#counters li[data-counter="2"]')).to_have_attribute("data-status", "idle")
    expect(hall.locator('#counters li[data-counter="3"]')).to_have_attribute("data-status", "idle")
    assert hall.evaluate("window.__syncs") == 0


def test_without_the_socketio_client_the_board_polls_the_api(live_server: LiveServer, context: Any) -> None:
    act(live_server, "teller1", "/counters/1/open")
    hall = context.new_page()
    hall.route("**/vendor/socket.io.min.js", lambda route: route.fulfill(status=503, body="// npm install"))
    hall.goto(f"{live_server.url}/board/hall?token={live_server.tokens.display}")
    expect(hall.locator("#connection-banner")).to_contain_text("Live updates are unavailable")
    expect(hall.locator("body")).to_have_attribute("data-connection", "degraded")
    expect(hall.locator('#counters li[data-counter="1"]')).to_have_attribute("data-status", "idle")


def press_in_console(teller: Any, url: str, action: str, key: str) -> Any:
    """Open a teller console at ``url``, press ``key`` once ``action`` is enabled; the message box."""
    teller.goto(url)
    expect(teller.locator(f"button[data-action={action}]")).to_be_enabled()
    teller.keyboard.press(key)
    message = teller.locator("#message")
    expect(message).to_have_attribute("data-tone", "error")
    return message


def test_a_token_an_older_console_kept_in_local_storage_moves_into_its_cookie(live_server: LiveServer, context: Any) -> None:
    """A console set up before tokens lived in cookies hands its kept token to the server once:
    the token then lives only in the HttpOnly cookie, and the console works as before."""
    context.add_init_script(
        "if (!sessionStorage.getItem('seeded')) { sessionStorage.setItem('seeded', '1');"
        f" localStorage.setItem('queue_board.token.teller.1', '{live_server.tokens.teller1}'); }}"
    )
    teller = context.new_page()
    teller.goto(f"{live_server.url}/teller/1")
    expect(teller.locator("button[data-action=open]")).to_be_enabled()
    assert "token=" not in teller.url
    assert teller.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('queue_board.token'))") == []
    assert teller.evaluate("document.body.dataset.screen") == "qb_screen_teller_1"
    assert teller.evaluate("document.cookie") == "", "HttpOnly: no script reads the token"


def test_another_counters_teller_token_gets_a_page_saying_so(live_server: LiveServer, context: Any) -> None:
    """A teller token for counter 1 cannot become counter 2's console: the page says whose it is."""
    page = context.new_page()
    page.goto(f"{live_server.url}/teller/2?token={live_server.tokens.teller1}&lang=en")
    expect(page.locator("#screen-link-reason")).to_contain_text("teller token of counter 1, not of counter 2")


def test_the_teller_reads_an_api_error_in_the_consoles_language(live_server: LiveServer, context: Any) -> None:
    """The console asks for its own language (not the browser's) and shows the server's sentence in it."""
    act(live_server, "teller1", "/counters/1/open")
    label = act(live_server, "kiosk", "/tickets", {"service": "deposit"})["ticket"]["ticket"]
    teller = context.new_page()
    teller.goto(f"{live_server.url}/teller/1?token={live_server.tokens.teller1}")
    asked: list[str | None] = []

    def customer_leaves_first(route: Any) -> None:
        # the customer cancels at the kiosk a moment before the teller's click reaches the server
        asked.append(route.request.headers.get("accept-language"))
        act(live_server, "kiosk", f"/tickets/{label}/cancel")
        route.continue_()

    teller.route("**/counters/1/call-next", customer_leaves_first)
    message = press_in_console(teller, f"{live_server.url}/teller/1?lang=zh-Hant", "call-next", "n")
    expect(message).to_contain_text("目前沒有人在等候 1 號櫃檯辦理的業務")
    assert asked == ["zh-Hant"]


def test_one_format_module_words_ranges_honestly(live_server: LiveServer, context: Any) -> None:
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    results = page.evaluate(
        """async () => {
            const f = await import("/static/js/format.js");
            const now = Date.parse("2026-03-02T10:00:00+08:00");
            return {
                range: f.formatRange({p10: 900, p50: 1000, p90: 1200}),
                under: f.formatRange({p10: 0, p50: 20, p90: 59}),
                equal: f.formatRange({p10: 290, p50: 300, p90: 320}),
                fromZero: f.formatRange({p10: 10, p50: 60, p90: 180}),
                none: f.formatRange(null),
                backIn: f.formatBackIn(now + 90_000, now),
                overdue: f.formatBackIn(now - 600_000, now),
                closed: f.describeCounter({name: "3", status: "closed", ticket: "A001"}, now).ticket,
                serving: f.describeCounter(
                    {name: "3", status: "serving", ticket: "A017", remaining: {p10: 900, p50: 1000, p90: 1200}}, now
                ).detail,
                clock: f.formatClock(now, 480),
            };
        }"""
    )
    assert results == {
        "range": "about 15–20 min",
        "under": "under 1 min",
        "equal": "about 5 min",
        "fromZero": "up to about 3 min",
        "none": None,
        "backIn": "back in ~2 min",
        "overdue": "back shortly",
        "closed": None,
        "serving": "about 15–20 min left",
        "clock": "10:00",
    }
