"""The teller's heads-up in headless Chromium against a live server (issue 11, item 6): one click on
the console during a transaction ("+5 min: Entering your details") updates the board above the
counter ("This transaction: about … — Entering your details"), in each screen's language.

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


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    with screen_context(browser, TEST_OPTIONS) as ctx:
        yield ctx


def counter_one(live: LiveServer) -> dict[str, Any]:
    response = requests.get(f"{live.url}/api/v1/branches/main/snapshot", headers=live.tokens.auth("admin"), timeout=10)
    assert response.status_code == 200, response.text
    return next(c for c in response.json()["counters"] if c["name"] == "1")


def test_one_click_on_the_console_updates_the_counter_board(live_server: LiveServer, context: Any) -> None:
    errors: list[str] = []
    act(live_server, "teller1", "/counters/1/open")
    take(live_server)
    take(live_server)
    act(live_server, "teller1", "/counters/1/call-next")
    act(live_server, "teller1", "/counters/1/start")
    teller = open_page(context, f"{live_server.url}/teller/1?token={live_server.tokens.teller1}&lang=en", errors)
    board = open_page(context, f"{live_server.url}/board/counter/1?token={live_server.tokens.display}&lang=en", errors)
    board_zh = open_page(context, f"{live_server.url}/board/counter/1?token={live_server.tokens.display}&lang=zh-Hant", errors)
    expect(board.locator(".cb-primary")).not_to_contain_text("Entering your details")

    group = teller.locator("#heads-up")
    expect(group).to_be_visible()
    button = group.locator("button[data-reason=entering_details]")
    expect(button).to_have_text("+5 min: Entering your details")
    expect(button).to_be_enabled()
    button.click()

    expect(teller.locator("#message .message-text")).to_contain_text("A001")
    expect(board.locator(".cb-primary")).to_have_text(re.compile(r"^This transaction: .+ — Entering your details$"))
    # the board above the counter in Traditional Chinese names the reason in its own language
    expect(board_zh.locator(".cb-primary")).to_contain_text("正在輸入您的資料")
    # the console's preview of its counter board says the same
    expect(teller.locator("#counter-board-preview .cb-primary")).to_contain_text("Entering your details")
    counter = counter_one(live_server)
    assert counter["heads_up"]["reason"] == "entering_details" and counter["heads_up"]["count"] == 1

    # once the transaction is over the heads-up buttons go away, and the board forgets the heads-up
    teller.locator("button[data-action=finish]").click()
    expect(group).to_be_hidden()
    expect(board.locator(".cb-primary")).not_to_contain_text("Entering your details")
    assert not errors, errors
