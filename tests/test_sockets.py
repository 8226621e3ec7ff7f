"""Live push over a real Socket.IO connection to a server on loopback."""

from __future__ import annotations

import queue
from typing import Any

import pytest
import requests
import socketio
from conftest import LiveServer


class Board:
    """A python-socketio client that records what the server pushes."""

    def __init__(self, live: LiveServer, token: str, branch: str = "main") -> None:
        self.messages: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("snapshot", lambda data: self.messages.put(("snapshot", data)))
        self.client.on("board", lambda data: self.messages.put(("board", data)))
        self.client.connect(live.url, auth={"token": token, "branch": branch}, transports=["websocket"], wait_timeout=10)

    def next(self, kind: str | None = None, timeout: float = 10.0) -> tuple[str, dict[str, Any]]:
        while True:
            got = self.messages.get(timeout=timeout)
            if kind is None or got[0] == kind:
                return got

    def next_with_event(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next push caused by an event (forecast refreshes carry ``event: null``)."""
        while True:
            kind, data = self.next(timeout=timeout)
            if kind == "board" and data["event"] is not None:
                return data

    def close(self) -> None:
        self.client.disconnect()


def post(live: LiveServer, path: str, role: str, body: dict[str, Any] | None = None) -> requests.Response:
    return requests.post(f"{live.url}/api/v1/branches/main{path}", json=body, headers={"Authorization": f"Bearer {getattr(live.tokens, role)}"}, timeout=10)


def test_connect_gets_snapshot_then_each_event_pushes_the_next_seq(live_server: LiveServer) -> None:
    board = Board(live_server, live_server.tokens.display)
    try:
        kind, first = board.next()
        assert kind == "snapshot"
        # seq 1 is the branch's configuration (an event of its log)
        assert first["seq"] == 1 and first["name"] == "Demo Branch"
        assert post(live_server, "/counters/1/open", "teller1").status_code == 201
        pushed = board.next_with_event()
        assert pushed["seq"] == 2
        assert pushed["event"]["type"] == "counter_opened"
        assert pushed["counters"][0]["status"] == "idle"
        ticket = post(live_server, "/tickets", "kiosk", {"service": "deposit"}).json()["ticket"]["ticket"]
        assert board.next_with_event()["seq"] == 3
        post(live_server, "/counters/1/call-next", "teller1")
        called = board.next_with_event()
        assert called["seq"] == 4
        assert called["now_serving"][0] == {**called["now_serving"][0], "ticket": ticket, "counter": "1"}
    finally:
        board.close()


def test_each_change_is_pushed_once_with_its_forecast(live_server: LiveServer) -> None:
    """One push per change, carrying its event and the forecast made after it (issue 12: a
    push without the new forecast, then a second with it, doubled every board's traffic)."""
    board = Board(live_server, live_server.tokens.display)
    try:
        board.next("snapshot")
        post(live_server, "/counters/1/open", "teller1")
        post(live_server, "/tickets", "kiosk", {"service": "deposit"})
        post(live_server, "/tickets", "kiosk", {"service": "deposit"})
        pushes: list[dict[str, Any]] = []
        while not pushes or pushes[-1]["seq"] < 4:
            kind, data = board.next()
            assert kind == "board"
            pushes.append(data)
        last = pushes[-1]
        assert last["seq"] == 4
        assert last["event"]["type"] == "ticket_issued" and last["event"]["ticket"] == "A002"
        # the push of the second ticket already carries waits for both, the second the longer
        assert [w["ticket"] for w in last["waiting"]] == ["A001", "A002"]
        assert all(w["wait"] for w in last["waiting"])
        assert last["waiting"][1]["wait"]["p50"] > last["waiting"][0]["wait"]["p50"]
        seqs = [push["seq"] for push in pushes]
        assert seqs == sorted(set(seqs)), f"a seq was pushed twice: {seqs}"
        with pytest.raises(queue.Empty):
            board.next(timeout=1.0)  # and nothing follows: no second push for the forecast
    finally:
        board.close()


def test_reconnecting_client_gets_a_full_snapshot(live_server: LiveServer) -> None:
    board = Board(live_server, live_server.tokens.display)
    board.next("snapshot")
    board.close()
    post(live_server, "/counters/1/open", "teller1")
    post(live_server, "/tickets", "kiosk", {"service": "deposit"})
    again = Board(live_server, live_server.tokens.display)
    try:
        kind, data = again.next()
        assert kind == "snapshot"
        assert data["seq"] == 3  # configuration, open, ticket
        assert [w["ticket"] for w in data["waiting"]] == ["A001"]
    finally:
        again.close()


def test_sync_after_a_gap_returns_a_snapshot(live_server: LiveServer) -> None:
    board = Board(live_server, live_server.tokens.display)
    try:
        board.next("snapshot")
        post(live_server, "/counters/1/open", "teller1")
        board.client.emit("sync")
        _kind, data = board.next("snapshot")
        assert data["seq"] == 2  # configuration, open
    finally:
        board.close()


@pytest.mark.parametrize(("token_role", "branch"), [(None, "main"), ("display", "north"), ("other_branch_manager", "main")])
def test_connection_without_a_valid_token_for_the_branch_is_refused(live_server: LiveServer, token_role: str | None, branch: str) -> None:
    token = "wrong" if token_role is None else getattr(live_server.tokens, token_role)
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(live_server.url, auth={"token": token, "branch": branch}, transports=["websocket"], wait_timeout=5)
    client.disconnect()


def test_display_bound_to_a_counter_shows_only_that_counter(live_server: LiveServer) -> None:
    token = live_server.app.extensions["queue_board"].store.create_token("above 2", "display", "main", "2")
    refused = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        refused.connect(live_server.url, auth={"token": token, "branch": "main", "counter": "1"}, transports=["websocket"], wait_timeout=5)
    refused.disconnect()
    accepted = socketio.Client(reconnection=False)
    accepted.connect(live_server.url, auth={"token": token, "branch": "main", "counter": "2"}, transports=["websocket"], wait_timeout=5)
    assert accepted.connected
    accepted.disconnect()
