"""Limits against floods: token guessing, kiosk floods, API writes, Socket.IO floods and sizes."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
from conftest import LiveServer, Tokens, make_test_app, serving
from flask.testing import FlaskClient

from queue_board.web.sockets.flood import admit_message

SNAPSHOT = "/api/v1/branches/main/snapshot"
TICKETS = "/api/v1/branches/main/tickets"
ATTACKER = {"REMOTE_ADDR": "10.0.0.9"}
NEIGHBOUR = {"REMOTE_ADDR": "10.0.0.10"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ticket_events(client: FlaskClient, tokens: Tokens) -> int:
    events = client.get("/api/v1/branches/main/events", headers=tokens.auth("manager")).get_json()["events"]
    return sum(1 for stored in events if stored["event"]["type"] == "ticket_issued")


def assert_too_many(response: Any, window_seconds: int) -> None:
    assert response.status_code == 429
    body = response.get_json()
    assert body["error"] == "too_many_requests" and body["message"]
    assert 1 <= body["retry_after"] <= window_seconds
    assert response.headers["Retry-After"] == str(body["retry_after"])


# HTTP ------------------------------------------------------------------------------------
@pytest.mark.app_settings(TOKEN_FAILURE_LIMIT="3 per minute")
def test_token_guessing_is_refused_after_the_limit_and_other_addresses_are_not(
    client: FlaskClient, tokens: Tokens
) -> None:
    # right tokens never count
    for _ in range(5):
        assert client.get(SNAPSHOT, headers=tokens.auth("display"), environ_base=ATTACKER).status_code == 200
    for guess in range(3):
        assert client.get(SNAPSHOT, headers=bearer(f"guess-{guess}"), environ_base=ATTACKER).status_code == 401
    assert_too_many(client.get(SNAPSHOT, headers=bearer("guess-4"), environ_base=ATTACKER), 60)
    # once over the limit, the address learns nothing more: the right token is refused too
    assert_too_many(client.get(SNAPSHOT, headers=tokens.auth("display"), environ_base=ATTACKER), 60)
    # another address is judged on its own
    assert client.get(SNAPSHOT, headers=tokens.auth("display"), environ_base=NEIGHBOUR).status_code == 200
    assert client.get(SNAPSHOT, headers=bearer("typo"), environ_base=NEIGHBOUR).status_code == 401


@pytest.mark.app_settings(KIOSK_TICKET_LIMIT="3 per minute")
def test_a_kiosk_flood_gets_429_and_stores_nothing_beyond_the_limit(client: FlaskClient, tokens: Tokens) -> None:
    answers = [client.post(TICKETS, json={"service": "deposit"}, headers=tokens.auth("kiosk")) for _ in range(6)]
    assert [a.status_code for a in answers[:3]] == [201, 201, 201]
    for refused in answers[3:]:
        assert_too_many(refused, 60)
    assert ticket_events(client, tokens) == 3
    # the limit is the kiosk token's: a manager's ticket still goes through
    assert client.post(TICKETS, json={"service": "deposit"}, headers=tokens.auth("manager")).status_code == 201
    assert ticket_events(client, tokens) == 4


@pytest.mark.app_settings(API_WRITE_LIMIT="2 per minute")
def test_api_writes_are_limited_per_token(client: FlaskClient, tokens: Tokens) -> None:
    path = "/api/v1/branches/main/counters/{}/{}"
    assert client.post(path.format(1, "open"), headers=tokens.auth("teller1")).status_code == 201
    assert client.post(path.format(1, "close"), headers=tokens.auth("teller1")).status_code == 201
    assert_too_many(client.post(path.format(1, "open"), headers=tokens.auth("teller1")), 60)
    # reads are not writes, and another token has its own count
    assert client.get(SNAPSHOT, headers=tokens.auth("teller1")).status_code == 200
    assert client.post(path.format(2, "open"), headers=tokens.auth("teller2")).status_code == 201
    counters = client.get(SNAPSHOT, headers=tokens.auth("manager")).get_json()["counters"]
    assert [c["status"] for c in counters[:2]] == ["closed", "idle"]


def test_a_limit_that_is_not_one_rate_stops_the_app(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="KIOSK_TICKET_LIMIT"):
        make_test_app(tmp_path, None, KIOSK_TICKET_LIMIT="lots")


def test_message_admission_handles_then_ignores_then_disconnects() -> None:
    recent: list[float] = []
    verdicts = []
    for at in range(10):
        recent, verdict = admit_message(float(at) / 10, recent, amount=5, window=10.0)
        verdicts.append(verdict)
    assert verdicts == ["handle"] * 5 + ["ignore"] * 4 + ["disconnect"]
    # messages older than the window no longer count
    kept, verdict = admit_message(20.0, recent, amount=5, window=10.0)
    assert (kept, verdict) == ([20.0], "handle")


# Socket.IO -------------------------------------------------------------------------------
class Board:
    """A board's client that records what the server sends and whether it was cut."""

    def __init__(self, url: str, token: str) -> None:
        self.messages: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self.gone = threading.Event()
        self.client = socketio.Client(reconnection=False)
        self.client.on("snapshot", lambda data: self.messages.put(("snapshot", data)))
        self.client.on("board", lambda data: self.messages.put(("board", data)))
        self.client.on("disconnect", lambda *_: self.gone.set())
        self.client.connect(url, auth={"token": token, "branch": "main"}, transports=["websocket"], wait_timeout=10)
        self.next("snapshot")

    def next(self, kind: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            got_kind, data = self.messages.get(timeout=max(0.01, deadline - time.monotonic()))
            if got_kind == kind:
                return data

    def count(self, kind: str, seconds: float) -> int:
        """How many ``kind`` messages arrive within ``seconds``."""
        found = 0
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                got_kind, _ = self.messages.get(timeout=left)
            except queue.Empty:
                break
            found += got_kind == kind
        return found

    def pushed_event(self, timeout: float = 10.0) -> dict[str, Any]:
        while True:
            data = self.next("board", timeout)
            if data["event"] is not None:
                return data

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()
        # a connection the server cut leaves the client's websocket open: close it
        websocket = getattr(self.client.eio, "ws", None)
        if websocket is not None:
            websocket.shutdown()


def issue_ticket(live: LiveServer) -> None:
    answer = requests.post(
        f"{live.url}{TICKETS}", json={"service": "deposit"}, headers=bearer(live.tokens.kiosk), timeout=10
    )
    assert answer.status_code == 201


def test_a_board_flooding_sync_is_throttled_then_cut_while_others_get_pushes(live_server: LiveServer) -> None:
    flooder = Board(live_server.url, live_server.tokens.display)
    other = Board(live_server.url, live_server.tokens.display)
    try:
        for _ in range(8):
            flooder.client.emit("sync")
        # the default limit is 5 per 10 s: three of the eight are ignored
        assert flooder.count("snapshot", 2.0) == 5
        assert flooder.client.connected and not flooder.gone.is_set()
        issue_ticket(live_server)
        assert other.pushed_event()["event"]["type"] == "ticket_issued"
        # still flooding: the tenth message within the window cuts the socket
        flooder.client.emit("sync")
        flooder.client.emit("sync")
        assert flooder.gone.wait(5)
        issue_ticket(live_server)
        assert other.pushed_event()["event"]["type"] == "ticket_issued"
        # an answer to a sync is what other boards still get
        other.client.emit("sync")
        assert other.next("snapshot")["seq"] >= 3
    finally:
        flooder.close()
        other.close()


def test_unknown_events_count_against_the_limit_too(live_server: LiveServer) -> None:
    board = Board(live_server.url, live_server.tokens.display)
    try:
        for _ in range(10):
            board.client.emit("whatever", {"x": 1})
        assert board.gone.wait(5)
    finally:
        board.close()


def test_an_oversized_socket_message_closes_the_connection(live_server: LiveServer) -> None:
    board = Board(live_server.url, live_server.tokens.display)
    small = Board(live_server.url, live_server.tokens.display)
    try:
        board.client.emit("sync", {"padding": "x" * (64 * 1024 + 1)})
        assert board.gone.wait(5)
        assert board.count("snapshot", 0.5) == 0
        # a message under the limit is answered as before
        small.client.emit("sync", {"padding": "x" * 1000})
        assert small.next("snapshot")["seq"] >= 1
    finally:
        board.close()
        small.close()


@pytest.fixture
def guarded_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A live server whose address may fail 3 token authentications a minute."""
    with serving(tmp_path, TOKEN_FAILURE_LIMIT="3 per minute") as live:
        yield live


def connect_error(url: str, token: str) -> str:
    """Why the server refused a board's connection ("" if it accepted it)."""
    reasons: list[str] = []
    client = socketio.Client(reconnection=False)
    client.on(
        "connect_error", lambda data: reasons.append(str(data.get("message") if isinstance(data, dict) else data))
    )
    try:
        client.connect(url, auth={"token": token, "branch": "main"}, transports=["websocket"], wait_timeout=10)
    except socketio.exceptions.ConnectionError:
        assert reasons
    client.disconnect()
    return reasons[0] if reasons else ""


def test_token_guessing_over_socketio_counts_with_http(guarded_server: LiveServer) -> None:
    url = guarded_server.url
    assert requests.get(f"{url}{SNAPSHOT}", headers=bearer("guess-http"), timeout=10).status_code == 401
    assert "unauthorized" in connect_error(url, "guess-1")
    assert "unauthorized" in connect_error(url, "guess-2")
    refused = connect_error(url, guarded_server.tokens.display)
    assert refused.startswith("too many requests") and "retry after" in refused
    assert (
        requests.get(f"{url}{SNAPSHOT}", headers=bearer(guarded_server.tokens.display), timeout=10).status_code == 429
    )


@pytest.mark.app_settings(SOCKET_TICKET_MESSAGE_LIMIT="3 per minute")
def test_a_ticket_page_refreshing_in_a_loop_is_throttled_at_its_own_limit(
    client: FlaskClient, tokens: Tokens, app: Any
) -> None:
    label = client.post(TICKETS, json={"service": "deposit"}, headers=tokens.auth("kiosk")).get_json()["ticket"][
        "ticket"
    ]
    link = client.post("/t/links", json={"branch": "main", "ticket": label}, headers=tokens.auth("kiosk")).get_json()
    page = app.extensions["socketio"].test_client(
        app, namespace="/ticket", auth={"ticket": link["path"].removeprefix("/t/")}
    )
    assert [m["name"] for m in page.get_received("/ticket")] == ["ticket"]
    for _ in range(4):
        page.emit("refresh", namespace="/ticket")
    assert [m["name"] for m in page.get_received("/ticket")] == ["ticket"] * 3
    assert page.is_connected("/ticket")
    page.emit("refresh", namespace="/ticket")
    page.emit("refresh", namespace="/ticket")
    assert not page.is_connected("/ticket")
