"""A real server restart: ``queue-board serve`` (gevent) in a subprocess is killed and started again on the
same port and database while a hall board, a counter board and a ticket page stay open. They say since
when they are offline, then resume without a reload.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ServerProcess, free_port, prepare_demo_branch
from test_screens_live import TEST_OPTIONS, expect, open_page

pytestmark = pytest.mark.browser


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServerProcess]:
    """The demo branch's configuration and tokens in a fresh SQLite file, served by a subprocess."""
    database = f"sqlite:///{tmp_path / 'served.db'}"
    tokens = prepare_demo_branch(database)
    port = free_port()
    server = ServerProcess(f"http://127.0.0.1:{port}", port, database, tokens, tmp_path / "server.log")
    server.start()
    yield server
    server.stop()




def test_screens_survive_a_server_restart_without_a_reload(served: ServerProcess, browser: Any) -> None:
    served.act("teller1", "/counters/1/open")
    served.act("kiosk", "/tickets", {"service": "deposit"})
    mine = served.act("kiosk", "/tickets", {"service": "deposit"})["ticket"]["ticket"]
    link = served.act("kiosk", "/t/links", {"branch": "main", "ticket": mine})["url"]
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.set_default_timeout(10000)
    context.add_init_script(TEST_OPTIONS)
    try:
        token = served.tokens["display"]
        hall = open_page(context, f"{served.url}/board/hall?token={token}")
        board = open_page(context, f"{served.url}/board/counter/1?token={token}")
        ticket = open_page(context, link)
        pages = (hall, board, ticket)
        for page in pages:
            page.evaluate("window.__sameDocument = true")
        expect(ticket.locator("#headline")).to_have_text("1 person ahead of you")

        served.stop()
        for page in pages:
            expect(page.locator("#connection-banner")).to_contain_text("Connection lost since", timeout=15000)
        served.start()
        served.act("teller1", "/counters/1/call-next")

        for page in pages:
            expect(page.locator("body")).to_have_attribute("data-connection", "live", timeout=30000)
            expect(page.locator("#connection-banner")).to_be_hidden()
        expect(hall.locator('#counters li[data-counter="1"]')).to_have_attribute("data-status", "calling")
        expect(board.locator("#counter-board .cb-primary")).to_have_text("Please come to counter 1")
        expect(ticket.locator("#headline")).to_have_text("You are next")
        # and live pushes flow again over the new connection
        served.act("teller1", "/counters/1/start")
        expect(hall.locator('#counters li[data-counter="1"]')).to_have_attribute("data-status", "serving")
        expect(board.locator("#counter-board")).to_have_attribute("data-status", "serving")
        for page in pages:
            assert page.evaluate("window.__sameDocument") is True, "a screen reloaded"
    finally:
        context.close()
