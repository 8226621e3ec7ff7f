"""A server process trusts a token it found live for ``QB_TOKEN_RECHECK_SECONDS`` (the lookup was a
tenth of its CPU per write): a revocation through its own store is refused at once, one by another
process (the command line) within that time, and a token never seen live is always read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Tokens
from flask import Flask
from flask.testing import FlaskClient

from queue_board.store import event_store
from queue_board.store.event_store import EventStore


class FakeMonotonic:
    """The store's clock for remembered tokens, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def monotonic(monkeypatch: pytest.MonkeyPatch) -> FakeMonotonic:
    fake = FakeMonotonic()
    monkeypatch.setattr(event_store, "_token_clock", fake)
    return fake


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[EventStore, EventStore]]:
    """A server's store that trusts live tokens for 2 s, and another process's (the CLI's) on the same file."""
    url = f"sqlite:///{tmp_path / 'tokens.db'}"
    server = EventStore(url, token_cache_seconds=2.0)
    server.upgrade()
    other = EventStore(url)
    yield server, other
    server.close()
    other.close()


def token_id(store: EventStore, name: str) -> int:
    found: int = next(row["id"] for row in store.list_tokens() if row["name"] == name)
    return found


def test_another_process_s_revocation_is_seen_within_the_interval(
    stores: tuple[EventStore, EventStore], monotonic: FakeMonotonic
) -> None:
    server, other = stores
    token = other.create_token("hall", "display", "main", None)
    assert server.find_token(token) is not None
    assert other.revoke_token(token_id(other, "hall"))
    monotonic.now += 1.9
    assert server.find_token(token) is not None, "within the interval the grant read 1.9 s ago stands"
    monotonic.now += 0.2
    assert server.find_token(token) is None
    # and a revoked token stays refused: nothing of it is remembered
    monotonic.now += 10
    assert server.find_token(token) is None


def test_a_revocation_through_the_same_store_is_refused_at_once(stores: tuple[EventStore, EventStore]) -> None:
    server, _other = stores
    token = server.create_token("kiosk", "kiosk", "main", None)
    assert server.find_token(token) is not None
    assert server.revoke_token(token_id(server, "kiosk"))
    assert server.find_token(token) is None


def test_the_socket_re_check_forgets_what_it_finds_revoked(stores: tuple[EventStore, EventStore]) -> None:
    server, other = stores
    token = other.create_token("hall", "display", "main", None)
    hall = token_id(other, "hall")
    assert server.find_token(token) is not None
    other.revoke_token(hall)
    # the re-check of the open sockets (web.sockets.revocation) asks which are dead
    assert server.dead_token_ids([hall]) == {hall}
    assert server.find_token(token) is None, "a token whose sockets were just cut must not reconnect"


def test_a_token_not_found_is_read_again_every_time(stores: tuple[EventStore, EventStore]) -> None:
    server, other = stores
    assert server.find_token("not-yet-a-token") is None
    # a token made after a miss works at once: misses are never remembered
    token = other.create_token("new kiosk", "kiosk", "main", None)
    assert server.find_token(token) is not None


def test_a_store_without_the_interval_reads_every_time(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tokens.db'}"
    server, other = EventStore(url), EventStore(url)
    try:
        server.upgrade()
        token = other.create_token("hall", "display", "main", None)
        assert server.find_token(token) is not None
        other.revoke_token(token_id(other, "hall"))
        assert server.find_token(token) is None
    finally:
        server.close()
        other.close()


def test_the_server_trusts_a_live_token_for_its_recheck_interval(
    app: Flask, client: FlaskClient, tokens: Tokens, monotonic: FakeMonotonic
) -> None:
    """Over HTTP: the app's store takes its interval from ``TOKEN_RECHECK_SECONDS``."""
    headers = tokens.auth("kiosk")
    assert client.post("/api/v1/branches/main/tickets", json={"service": "deposit"}, headers=headers).status_code == 201
    cli = EventStore(str(app.config["DATABASE_URL"]))
    try:
        cli.revoke_token(token_id(cli, "kiosk"))
    finally:
        cli.close()
    interval = float(app.config["TOKEN_RECHECK_SECONDS"])
    monotonic.now += interval - 0.5
    # the documented window: the grant read half a second before the interval ends still stands
    assert client.post("/api/v1/branches/main/tickets", json={"service": "deposit"}, headers=headers).status_code == 201
    monotonic.now += 0.6
    refused = client.post("/api/v1/branches/main/tickets", json={"service": "deposit"}, headers=headers)
    assert refused.status_code == 401
    assert "revoked" in refused.get_json()["message"]
