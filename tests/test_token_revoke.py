"""Revoking a token cuts its live sockets (issue 12), in this process and in the others.

A socket is authenticated once, when it connects; ``queue-board token revoke`` runs in a process
of its own and only writes the database. Each server process re-checks the tokens of its sockets
every ``TOKEN_RECHECK_SECONDS`` (:mod:`queue_board.web.sockets.revocation`), and a ``sync``
re-checks at once. Revocations here go through the CLI, in a subprocess, as an admin does it.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
from conftest import (
    LiveServer,
    ServerProcess,
    screen_context,
    serving,
)
from playwright.sync_api import expect
from test_scale_out import two_processes  # noqa: F401  (a fixture: two processes joined by Redis)

from queue_board import ROOT
from queue_board.store.event_store import EventStore

#: the default re-check interval (config.py): a revoked token's socket is cut within it, plus slack
RECHECK_SECONDS = 2.0


class Screen:
    """A python-socketio client that records its pushes and when (and why) it was disconnected."""

    def __init__(self, url: str, token: str, namespace: str = "/", auth: dict[str, Any] | None = None) -> None:
        self.namespace = namespace
        self.pushes: list[dict[str, Any]] = []
        self.gone = threading.Event()
        self.client = socketio.Client(reconnection=False)
        self.client.on("board", self.pushes.append, namespace=namespace)
        self.client.on("dashboard", self.pushes.append, namespace=namespace)
        self.client.on("snapshot", lambda data: None, namespace=namespace)
        self.client.on("disconnect", lambda *reason: self.gone.set(), namespace=namespace)
        self.client.connect(
            url,
            auth={"token": token, "branch": "main", **(auth or {})},
            namespaces=[namespace],
            transports=["websocket"],
            wait_timeout=10,
        )

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()


def refused(url: str, token: str, namespace: str = "/") -> str:
    """The reason a fresh connection with ``token`` is refused (fails the test if it is let in)."""
    client = socketio.Client(reconnection=False)
    reasons: list[str] = []
    client.on("connect_error", lambda data: reasons.append(str(data)), namespace=namespace)
    try:
        client.connect(url, auth={"token": token, "branch": "main"}, namespaces=[namespace], transports=["websocket"], wait_timeout=10)
    except socketio.exceptions.ConnectionError:
        return " ".join(reasons)
    client.disconnect()
    raise AssertionError("a revoked token was let in again")


def revoke_with_cli(database_url: str, token_id: int) -> None:
    """``queue-board token revoke ID``, in a process of its own, as an admin runs it."""
    result = subprocess.run(
        [sys.executable, "-m", "queue_board", "token", "revoke", str(token_id), "--database", database_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"revoked token {token_id}" in result.stdout


def token_id(store: Any, name: str) -> int:
    found: int = next(row["id"] for row in store.list_tokens() if row["name"] == name)
    return found


def database_of(live: LiveServer) -> str:
    return str(live.app.config["DATABASE_URL"])


def test_revoking_a_display_token_disconnects_its_socket_and_it_cannot_reconnect(live_server: LiveServer) -> None:
    store = live_server.app.extensions["queue_board"].store
    other_display = store.create_token("hall by the door", "display", "main", None)
    revoked = Screen(live_server.url, live_server.tokens.display)
    kept = Screen(live_server.url, other_display)
    manager = Screen(live_server.url, live_server.tokens.manager, "/manage")
    try:
        revoke_with_cli(database_of(live_server), token_id(store, "hall"))
        started = time.monotonic()
        assert revoked.gone.wait(RECHECK_SECONDS + 3), "the revoked token's socket is still connected"
        assert time.monotonic() - started < RECHECK_SECONDS + 3
        assert "unknown or revoked token" in refused(live_server.url, live_server.tokens.display)
        # the branch goes on: the other tokens' sockets stay, and still get every push
        time.sleep(RECHECK_SECONDS + 0.5)
        assert kept.client.connected and manager.client.connected
        before = len(kept.pushes)
        response = requests.post(
            f"{live_server.url}/api/v1/branches/main/tickets", json={"service": "deposit"}, headers=live_server.tokens.auth("kiosk"), timeout=10
        )
        assert response.status_code == 201
        deadline = time.monotonic() + 10
        while len(kept.pushes) == before:
            assert time.monotonic() < deadline, "the socket of a live token stopped getting pushes"
            time.sleep(0.05)
        assert not revoked.client.connected
    finally:
        for screen in (revoked, kept, manager):
            screen.close()


def test_revoking_a_manager_token_cuts_its_dashboard_socket(live_server: LiveServer) -> None:
    store = live_server.app.extensions["queue_board"].store
    dashboard = Screen(live_server.url, live_server.tokens.manager, "/manage")
    board = Screen(live_server.url, live_server.tokens.display)
    try:
        revoke_with_cli(database_of(live_server), token_id(store, "mgr"))
        assert dashboard.gone.wait(RECHECK_SECONDS + 3), "the revoked manager token still watches the dashboard"
        assert "sign in as a manager" in refused(live_server.url, live_server.tokens.manager, "/manage")
        assert board.client.connected
    finally:
        dashboard.close()
        board.close()


@pytest.fixture
def server_without_recheck(tmp_path: Path) -> Iterator[LiveServer]:
    """A live server whose processes never re-check tokens on their own (only a ``sync`` does)."""
    with serving(tmp_path, TOKEN_RECHECK_SECONDS=0.0) as live:
        yield live


def test_a_sync_re_checks_the_token_at_once(server_without_recheck: LiveServer) -> None:
    live = server_without_recheck
    store = live.app.extensions["queue_board"].store
    screen = Screen(live.url, live.tokens.display)
    try:
        revoke_with_cli(database_of(live), token_id(store, "hall"))
        time.sleep(0.5)
        assert screen.client.connected, "no re-check was configured: only the sync may cut it"
        screen.client.emit("sync")
        assert screen.gone.wait(3), "a sync with a revoked token was answered"
    finally:
        screen.close()


def test_a_revocation_cuts_the_token_s_sockets_on_every_process(
    two_processes: tuple[ServerProcess, ServerProcess],  # noqa: F811  (the fixture imported above)
) -> None:
    left, right = two_processes
    on_left, on_right = Screen(left.url, left.tokens["display"]), Screen(right.url, right.tokens["display"])
    kiosk_board = Screen(right.url, right.tokens["admin"])
    try:
        store = EventStore(left.database)
        try:
            hall = token_id(store, "hall")
        finally:
            store.close()
        revoke_with_cli(left.database, hall)
        assert on_left.gone.wait(RECHECK_SECONDS + 5), "the left process kept the revoked token's socket"
        assert on_right.gone.wait(RECHECK_SECONDS + 5), "the right process kept the revoked token's socket"
        for server in (left, right):
            assert "unknown or revoked token" in refused(server.url, server.tokens["display"])
        assert kiosk_board.client.connected
    finally:
        for screen in (on_left, on_right, kiosk_board):
            screen.close()


@pytest.mark.browser
def test_a_board_whose_token_is_revoked_says_it_was_refused_and_stops(live_server: LiveServer, browser: Any) -> None:
    store = live_server.app.extensions["queue_board"].store
    with screen_context(browser) as context:
        page = context.new_page()
        page.goto(f"{live_server.url}/board/hall?token={live_server.tokens.display}&sound=off&lang=en")
        expect(page.locator("body")).to_have_attribute("data-connection", "live")
        revoke_with_cli(database_of(live_server), token_id(store, "hall"))
        expect(page.locator("body")).to_have_attribute("data-connection", "refused", timeout=RECHECK_SECONDS * 1000 + 5000)
        expect(page.locator("#connection-banner")).to_contain_text("unknown or revoked token")
        seq = page.evaluate("document.body.dataset.seq")
        requests.post(
            f"{live_server.url}/api/v1/branches/main/tickets", json={"service": "deposit"}, headers=live_server.tokens.auth("kiosk"), timeout=10
        )
        page.wait_for_timeout(1000)
        assert page.evaluate("document.body.dataset.seq") == seq, "a refused board still got a push"


def test_a_revocation_in_the_server_s_own_process_cuts_the_socket_at_once(server_without_recheck: LiveServer) -> None:
    live = server_without_recheck
    store = live.app.extensions["queue_board"].store
    screen = Screen(live.url, live.tokens.display)
    try:
        # the CLI run inside the server's app (as `flask --app … token revoke` would): no re-check needed
        result = live.app.test_cli_runner().invoke(args=["token", "revoke", str(token_id(store, "hall"))])
        assert result.exit_code == 0, result.output
        assert screen.gone.wait(1), "the socket outlived a revocation in its own process"
    finally:
        screen.close()
