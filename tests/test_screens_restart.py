"""A real server restart: ``queue-board serve`` (gevent) in a subprocess is killed and started again on the
same port and database while a hall board, a counter board and a ticket page stay open. They say since
when they are offline, then resume without a reload.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import free_port
from test_screens_live import TEST_OPTIONS, expect, open_page

from queue_board import ROOT
from queue_board.branch_config import DEMO_CONFIG
from queue_board.store import EventStore

pytestmark = pytest.mark.browser


@dataclass
class Served:
    """``queue-board serve`` in a subprocess, restartable on the same port and database."""

    url: str
    port: int
    database: str
    tokens: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "QB_SECRET_KEY": "restart-test-secret",  # ticket links must survive the restart
            "QB_FORECAST_SCENARIOS": "64",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("QB_SOCKETIO_ASYNC_MODE", None)  # the default: gevent, as in production
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "queue_board", "serve", "--port", str(self.port), "--database", self.database],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log.read_text()[-2000:]}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def act(self, role: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = requests.post(
            f"{self.url}{path}" if path.startswith("/t/") else f"{self.url}/api/v1/branches/main{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.tokens[role]}"},
            timeout=10,
        )
        assert response.status_code == 201, (path, response.status_code, response.text)
        data: dict[str, Any] = response.json()
        return data


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """The demo branch's configuration and tokens in a fresh SQLite file, served by a subprocess."""
    database = f"sqlite:///{tmp_path / 'served.db'}"
    store = EventStore(database)
    store.upgrade()
    store.set_config("main", DEMO_CONFIG.to_dict())
    tokens = {
        "display": store.create_token("hall", "display", "main", None),
        "kiosk": store.create_token("kiosk", "kiosk", "main", None),
        "teller1": store.create_token("t1", "teller", "main", "1"),
    }
    store.close()
    port = free_port()
    server = Served(f"http://127.0.0.1:{port}", port, database, tokens, tmp_path / "server.log")
    server.start()
    yield server
    server.stop()




def test_screens_survive_a_server_restart_without_a_reload(served: Served, browser: Any) -> None:
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
