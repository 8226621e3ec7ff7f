"""The teller console and the counter board above it, in headless Chromium against a live server
(issue 9): a dialog confirmed after the counter moved says why (defect 3); pause reasons are the
branch's codes, named in each screen's language (defect 8); one vocabulary for the counter's
states and an honest wrap-up (defect 10).

Needs Debian's /usr/bin/chromium, the playwright package (never ``playwright install``) and ``npm install``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from conftest import LiveServer, screen_context
from playwright import sync_api
from test_screens_live import TEST_OPTIONS, act, open_page, take

pytestmark = pytest.mark.browser

expect = sync_api.expect

REASONS = [
    {"code": "training", "names": {"en": "Training", "zh-Hant": "教育訓練", "zh-Hans": "业务培训"}},
    {"code": "lunch", "names": {"en": "Lunch", "zh-Hant": "午休", "zh-Hans": "午休"}},
]


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    with screen_context(browser, TEST_OPTIONS) as ctx:
        yield ctx


def console(
    context: Any, live: LiveServer, counter: str = "1", lang: str = "en", errors: list[str] | None = None
) -> Any:
    token = getattr(live.tokens, f"teller{counter}")
    return open_page(context, f"{live.url}/teller/{counter}?token={token}&lang={lang}", errors)


def counter_board(context: Any, live: LiveServer, counter: str = "1", lang: str = "en") -> Any:
    return open_page(context, f"{live.url}/board/counter/{counter}?token={live.tokens.display}&lang={lang}")


def error_message(teller: Any) -> Any:
    message = teller.locator("#message")
    expect(message).to_be_visible()
    expect(message).to_have_attribute("data-tone", "error")
    return message.locator(".message-text")


def snapshot(live: LiveServer) -> dict[str, Any]:
    response = requests.get(f"{live.url}/api/v1/branches/main/snapshot", headers=live.tokens.auth("admin"), timeout=10)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def counter_entry(live: LiveServer, name: str) -> dict[str, Any]:
    return next(c for c in snapshot(live)["counters"] if c["name"] == name)


# defect 3: a dialog confirmed after the counter moved says why -------------------------------
def test_a_pause_confirmed_after_another_console_closed_the_counter_says_why_in_the_consoles_language(
    live_server: LiveServer, context: Any
) -> None:
    errors: list[str] = []
    act(live_server, "teller1", "/counters/1/open")
    teller = console(context, live_server, lang="zh-Hant", errors=errors)
    expect(teller.locator("button[data-action=pause]")).to_be_enabled()
    teller.keyboard.press("p")
    dialog = teller.locator("#pause-dialog")
    expect(dialog).to_be_visible()
    # while the teller picks a reason, the manager closes the counter from another screen
    act(live_server, "manager", "/counters/1/close")
    expect(teller.locator("body")).to_have_attribute("data-status", "closed")
    dialog.locator("#pause-confirm").click()
    expect(dialog).to_be_hidden()
    expect(error_message(teller)).to_have_text("1 號櫃檯目前已關閉，無法暫停")
    assert counter_entry(live_server, "1")["status"] == "closed"
    assert [e for e in errors if "409" not in e] == []


def test_a_pause_confirmed_after_a_customer_was_called_to_the_counter_says_why(
    live_server: LiveServer, context: Any
) -> None:
    act(live_server, "teller1", "/counters/1/open")
    label = take(live_server)
    teller = console(context, live_server)
    teller.keyboard.press("p")
    dialog = teller.locator("#pause-dialog")
    expect(dialog).to_be_visible()
    act(live_server, "manager", "/counters/1/call-next")
    expect(teller.locator("body")).to_have_attribute("data-status", "calling")
    teller.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(error_message(teller)).to_have_text(f"counter 1 must finish ticket {label} before it can pause")


def test_a_transfer_chosen_after_the_transaction_was_finished_elsewhere_says_why(
    live_server: LiveServer, context: Any
) -> None:
    act(live_server, "teller1", "/counters/1/open")
    take(live_server)
    act(live_server, "teller1", "/counters/1/call-next")
    act(live_server, "teller1", "/counters/1/start")
    teller = console(context, live_server, lang="zh-Hans")
    expect(teller.locator("button[data-action=transfer]")).to_be_enabled()
    teller.keyboard.press("t")
    dialog = teller.locator("#transfer-dialog")
    expect(dialog).to_be_visible()
    act(live_server, "manager", "/counters/1/finish")
    expect(teller.locator("body")).to_have_attribute("data-status", "wrapping_up")
    dialog.locator(".transfer-choice").first.click()
    expect(dialog).to_be_hidden()
    expect(error_message(teller)).to_have_text("1 号柜台没有已叫的号码可以转办（目前整理中）")


# defect 8: pause reasons are the branch's codes, named in every screen's language ------------
@pytest.mark.parametrize(
    ("lang", "lunch", "authorisation"),
    [("en", "Lunch", "Getting authorisation"), ("zh-Hant", "午休", "取得授權中"), ("zh-Hans", "午休", "授权审批中")],
)
def test_the_demos_lunch_and_authorisation_codes_are_named_in_each_screens_language(
    live_server: LiveServer, context: Any, lang: str, lunch: str, authorisation: str
) -> None:
    # the simulated demo pauses with the codes "lunch" and "authorisation"
    for counter in ("1", "2"):
        act(live_server, "admin", f"/counters/{counter}/open")
    act(live_server, "admin", "/counters/1/pause", {"reason": "lunch", "minutes": 30})
    act(live_server, "admin", "/counters/2/pause", {"reason": "authorisation", "minutes": 5})
    board = counter_board(context, live_server, "1", lang)
    expect(board.locator("#counter-board .cb-reason")).to_have_text(lunch)
    board2 = counter_board(context, live_server, "2", lang)
    expect(board2.locator("#counter-board .cb-reason")).to_have_text(authorisation)
    teller = console(context, live_server, "1", lang)
    expect(teller.locator("#counter-board-preview .cb-reason")).to_have_text(lunch)
    expect(teller.locator("#current-state")).to_contain_text(lunch)
    assert "lunch" not in teller.locator("#current-state").inner_text()
    # and the hall board names them the same way
    hall = open_page(context, f"{live_server.url}/board/hall?token={live_server.tokens.display}&lang={lang}&sound=off")
    expect(hall.locator('#counters li[data-counter="1"] .cc-reason')).to_have_text(lunch)
    expect(hall.locator('#counters li[data-counter="2"] .cc-reason')).to_have_text(authorisation)


def test_the_pause_dialog_offers_the_branchs_reasons_and_sends_their_codes(
    live_server: LiveServer, context: Any
) -> None:
    config = requests.get(
        f"{live_server.url}/api/v1/branches/main/config", headers=live_server.tokens.auth("admin"), timeout=10
    ).json()
    response = requests.put(
        f"{live_server.url}/api/v1/branches/main/config",
        json={**config, "pause_reasons": REASONS},
        headers=live_server.tokens.auth("admin"),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    act(live_server, "teller1", "/counters/1/open")
    board = counter_board(context, live_server, "1", "zh-Hans")
    teller = console(context, live_server, "1", "zh-Hant")
    teller.keyboard.press("p")
    dialog = teller.locator("#pause-dialog")
    expect(dialog).to_be_visible()
    radios = dialog.locator('input[name="reason"]')
    assert [radios.nth(i).get_attribute("value") for i in range(radios.count())] == ["training", "lunch", "__other__"]
    expect(dialog.locator(".reason-choice")).to_have_text(["教育訓練", "午休"])
    assert radios.first.is_checked()
    # the teller switches the console to English: the dialog follows
    dialog.locator("text=取消").click()
    teller.select_option("#language", "en")
    teller.locator("button[data-action=pause]").click()
    expect(dialog.locator(".reason-choice")).to_have_text(["Training", "Lunch"])
    dialog.locator('input[name="minutes"][value="10"]').check()
    dialog.locator("#pause-confirm").click()
    expect(board.locator("#counter-board .cb-reason")).to_have_text("业务培训")
    expect(teller.locator("#current-state")).to_contain_text("Paused (Training)")
    assert counter_entry(live_server, "1")["pause_reason"] == "training"

    # free text stays possible and is shown as typed, on every screen
    act(live_server, "teller1", "/counters/1/resume")
    expect(teller.locator("button[data-action=pause]")).to_be_enabled()
    teller.keyboard.press("p")
    dialog.locator('input[name="other"]').fill("Waiting for the locksmith")
    dialog.locator("#pause-confirm").click()
    expect(board.locator("#counter-board .cb-reason")).to_have_text("Waiting for the locksmith")
    assert counter_entry(live_server, "1")["pause_reason"] == "Waiting for the locksmith"


# defect 10: one vocabulary, an honest wrap-up ------------------------------------------------
def test_a_counter_wrapping_up_with_nobody_waiting_is_simply_free(live_server: LiveServer, context: Any) -> None:
    act(live_server, "teller1", "/counters/1/open")
    take(live_server)
    act(live_server, "teller1", "/counters/1/call-next")
    act(live_server, "teller1", "/counters/1/start")
    board = counter_board(context, live_server)
    teller = console(context, live_server)
    act(live_server, "teller1", "/counters/1/finish")
    assert counter_entry(live_server, "1")["status"] == "wrapping_up"
    for root in (board.locator("#counter-board"), teller.locator("#counter-board-preview")):
        expect(root).to_have_attribute("data-status", "idle")
        expect(root.locator(".cb-label")).to_have_text("Available")
        expect(root.locator(".cb-hero")).to_have_text("Available")
        expect(root.locator(".cb-primary")).to_have_text("Ready for the next customer")
        assert "previous transaction" not in root.inner_text()
    expect(teller.locator("#current-state")).to_have_text("Wrapping up the previous transaction. No one is waiting.")


@pytest.mark.parametrize(
    ("lang", "state_word", "primary", "start", "transfer"),
    [
        ("en", "Wrapping up", "Wrapping up the previous transaction", "Start", "Transfer…"),
        ("zh-Hant", "整理中", "上一筆交易整理中", "開始辦理", "轉介…"),
        ("zh-Hans", "整理中", "上一笔业务整理中", "开始办理", "转办…"),
    ],
)
def test_the_counter_board_and_the_console_word_the_same_state_the_same_way(
    live_server: LiveServer, context: Any, lang: str, state_word: str, primary: str, start: str, transfer: str
) -> None:
    act(live_server, "teller1", "/counters/1/open")
    take(live_server)
    take(live_server)
    act(live_server, "teller1", "/counters/1/call-next")
    act(live_server, "teller1", "/counters/1/start")
    board = counter_board(context, live_server, "1", lang)
    teller = console(context, live_server, "1", lang)
    expect(teller.locator("button[data-action=start] .action-label")).to_have_text(start)
    expect(teller.locator("button[data-action=transfer] .action-label")).to_have_text(transfer)
    # the teller's own words for start and transfer come back in the server's answers too
    headers = {**live_server.tokens.auth("teller1"), "Accept-Language": lang}
    finish = requests.post(f"{live_server.url}/api/v1/branches/main/counters/1/finish", headers=headers, timeout=10)
    assert finish.status_code == 201, finish.text
    refused = {
        action: requests.post(
            f"{live_server.url}/api/v1/branches/main/counters/1/{action}", json=body, headers=headers, timeout=10
        ).json()["message"]
        for action, body in (("start", None), ("transfer", {"service": "loan"}), ("resume", None))
    }
    if lang != "en":
        assert start in refused["start"], refused
        assert transfer.rstrip("…") in refused["transfer"], refused
        assert state_word in refused["resume"], refused
    for root in (board.locator("#counter-board"), teller.locator("#counter-board-preview")):
        expect(root).to_have_attribute("data-status", "wrapping_up")
        expect(root.locator(".cb-label")).to_have_text(state_word)
        expect(root.locator(".cb-primary")).to_have_text(primary)
    expect(teller.locator("#counter-status .chip-text")).to_have_text(state_word)
    expect(teller.locator("#current-state")).to_contain_text(primary)


#: a board whose counter 1 started wrapping up at 10:00:00 (people waiting unless ``queue`` is false)
WRAP_UP_BOARD = """const make = (remaining, forecastAt, queue = true) => ({
  branch: "main", seq: 9, now: forecastAt, forecast_at: forecastAt, utc_offset_minutes: 480,
  services: [{code: "deposit", names: {en: "Deposits"}, waiting: queue ? 2 : 0, counters: ["1"]}],
  counters: [{name: "1", status: "wrapping_up", since: "2026-03-02T10:00:00.000+08:00", services: [["deposit"]],
              ticket: null, remaining, queue_for_counter: queue, actions: ["call-next", "pause", "close"]}],
  now_serving: [], waiting: [], pause_reasons: [],
});"""


def test_the_wrap_up_estimate_ages_and_then_says_it_has_passed(live_server: LiveServer, context: Any) -> None:
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    texts = page.evaluate(
        "async () => {\n"
        + WRAP_UP_BOARD
        + """
            const { counterBoardView } = await import("/static/js/counter_view.js");
            const at = (s) => Date.parse("2026-03-02T10:00:00+08:00") + s * 1000;
            const iso = (s) => new Date(at(s)).toISOString();
            const view = (board, s) => {
                const v = counterBoardView(board, "1", at(s), Date.parse(board.now));
                return `${v.status} | ${v.hero} | ${v.primary} | ${v.secondary}`;
            };
            // the board pushed as the transaction finished still carries the forecast made before it
            const stale = make({p10: 0, p50: 0, p90: 0}, iso(-30));
            stale.now = iso(0);
            const first = make({p10: 5, p50: 20, p90: 50}, iso(1));
            // a later refresh knows the wrap-up has lasted 70 s and again says "under a minute"
            const refreshed = make({p10: 2, p50: 10, p90: 40}, iso(70));
            return {
                stale: view(stale, 0),
                fresh: view(first, 1),
                later: view(first, 30),
                passed: view(first, 60),
                refreshed: view(refreshed, 75),
                nobody: view(make({p10: 5, p50: 20, p90: 50}, iso(1), false), 2),
            };
        }"""
    )
    wrapping = "wrapping_up | One moment, please | Wrapping up the previous transaction"
    assert texts["stale"] == f"{wrapping} | Next customer shortly", texts
    assert texts["fresh"] == f"{wrapping} | Next customer in under 1 min", texts
    assert texts["later"] == f"{wrapping} | Next customer in under 1 min", texts
    assert texts["passed"] == f"{wrapping} | Taking longer than expected: next customer shortly", texts
    # a refresh does not start the estimate again: what the board said has passed
    assert texts["refreshed"] == f"{wrapping} | Taking longer than expected: next customer shortly", texts
    assert texts["nobody"] == "idle | Available | Ready for the next customer | ", texts


def test_the_hall_words_a_wrap_up_like_the_counter_board(live_server: LiveServer, context: Any) -> None:
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    views = page.evaluate(
        """async () => {
            const f = await import("/static/js/format.js");
            const now = Date.parse("2026-03-02T10:01:00+08:00");
            const counter = (queue, remaining) => ({name: "1", status: "wrapping_up", ticket: null, queue_for_counter: queue, remaining});
            const show = (v) => `${v.status} | ${v.label} | ${v.headline} | ${v.detail}`;
            return {
                busy: show(f.describeCounter(counter(true, {p10: 5, p50: 20, p90: 50}), now)),
                passed: show(f.describeCounter(counter(true, {p10: 5, p50: 20, p90: 50}), now, now - 60_000)),
                free: show(f.describeCounter(counter(false, {p10: 5, p50: 20, p90: 50}), now)),
                lunch: f.describeCounter({name: "2", status: "paused", pause_reason: "lunch"}, now, now,
                    [{code: "lunch", names: {en: "Lunch", "zh-Hant": "午休"}}]).reason,
                typed: f.pauseReason("Waiting for the locksmith", [{code: "lunch", names: {en: "Lunch"}}]),
                legacy: f.pauseReason("Getting authorisation"),
            };
        }"""
    )
    assert (
        views["busy"] == "wrapping_up | Wrapping up | Wrapping up the previous transaction | next call in under 1 min"
    )
    assert (
        views["passed"]
        == "wrapping_up | Wrapping up | Wrapping up the previous transaction | taking longer than expected"
    ), views
    assert views["free"] == "idle | Available | Available | Ready for the next customer"
    assert views["lunch"] == "Lunch"
    assert views["typed"] == "Waiting for the locksmith"
    assert views["legacy"] == "Getting authorisation"


def test_the_consoles_words_read_in_chinese_without_ascii_punctuation(live_server: LiveServer, context: Any) -> None:
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    words = page.evaluate(
        """async () => {
            const { _ } = await import("/static/js/i18n.js");
            const { sentence } = await import("/static/js/format.js");
            const out = {};
            for (const lang of ["zh-Hant", "zh-Hans"]) {
                out[lang] = {
                    started: _("Started serving %(ticket)s.", {ticket: "A001"}, lang),
                    transferred: _("%(ticket)s transferred to %(service)s.", {ticket: "A001", service: "X"}, lang),
                    sentence: sentence("目前有 1 個櫃檯辦理貸款", lang),
                };
            }
            out.en = { sentence: sentence("1 counter is serving Loans", "en") };
            return out;
        }"""
    )
    assert words["zh-Hant"] == {
        "started": "已開始辦理 A001。",
        "transferred": "A001 已轉介至X。",
        "sentence": "目前有 1 個櫃檯辦理貸款。",
    }
    assert words["zh-Hans"] == {
        "started": "已开始办理 A001。",
        "transferred": "A001 已转办至X。",
        "sentence": "目前有 1 個櫃檯辦理貸款。",
    }
    assert words["en"] == {"sentence": "1 counter is serving Loans."}
    for lang in ("zh-Hant", "zh-Hans"):
        for text in words[lang].values():
            assert not re.search(r"[\u4e00-\u9fff][.,;:]", text), text


def test_a_closed_counters_board_sends_nobody_to_a_paused_counter(live_server: LiveServer, context: Any) -> None:
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    texts = page.evaluate(
        """async () => {
            const { counterBoardView } = await import("/static/js/counter_view.js");
            const counter = (name, status) => ({name, status, since: "2026-03-02T10:00:00.000+08:00", services: [["deposit"]],
                                                ticket: null, remaining: null, queue_for_counter: false, actions: []});
            const board = (...counters) => ({
              branch: "main", seq: 9, now: "2026-03-02T12:00:00.000+08:00", forecast_at: "2026-03-02T12:00:00.000+08:00",
              utc_offset_minutes: 480, services: [{code: "deposit", names: {en: "Deposits"}, waiting: 3, counters: ["2", "3", "4"]}],
              counters, now_serving: [], waiting: [], pause_reasons: [],
            });
            const at = Date.parse("2026-03-02T12:00:00+08:00");
            const view = (b) => counterBoardView(b, "1", at, at).secondary;
            return {
                lunch: view(board(counter("1", "closed"), counter("2", "paused"), counter("3", "paused"), counter("4", "idle"))),
                all_paused: view(board(counter("1", "closed"), counter("2", "paused"))),
                alone: view(board(counter("1", "closed"))),
            };
        }"""
    )
    # the demo at lunch: counters 2 and 3 at lunch, the closed counter's board said "counters 2, 3, 4"
    assert texts["lunch"] == "Open now: counters 4", texts
    assert texts["all_paused"] == "Please wait for the next call on the hall board", texts
    assert texts["alone"] == "", texts
