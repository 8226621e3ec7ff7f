"""``/metrics``: Prometheus's text format, per-app registries, the scraper's token, and the
counters, histograms and gauge moving with real requests and a real Socket.IO board."""

from __future__ import annotations

import time

import pytest
import requests
import socketio
from conftest import LiveServer, Tokens, make_test_app
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

METRICS_TOKEN = "scrape-secret"


def scrape(client: FlaskClient, token: str = METRICS_TOKEN) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of ``/metrics``, by name and sorted labels."""
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.content_type.startswith("text/plain")
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(answer.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    """One sample's value; 0 when the series does not exist yet."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.app_settings(METRICS_TOKEN=METRICS_TOKEN)
def test_events_rejections_and_refreshes_are_counted(client: FlaskClient, tokens: Tokens) -> None:
    before = scrape(client)
    assert client.post("/api/v1/branches/main/counters/1/open", headers=tokens.auth("teller1")).status_code == 201
    taken = client.post("/api/v1/branches/main/tickets", json={"service": "deposit"}, headers=tokens.auth("kiosk"))
    assert taken.status_code == 201
    assert client.post("/api/v1/branches/main/counters/1/call-next", headers=tokens.auth("teller1")).status_code == 201
    # rejected: a service that is no code, opening an open counter, a teller at another's
    # counter, no token, no branch
    assert client.post("/api/v1/branches/main/tickets", json={"service": 5}, headers=tokens.auth("kiosk")).status_code == 422
    assert client.post("/api/v1/branches/main/counters/1/open", headers=tokens.auth("teller1")).status_code == 409
    assert client.post("/api/v1/branches/main/counters/2/open", headers=tokens.auth("teller1")).status_code == 403
    assert client.post("/api/v1/branches/main/tickets", json={"service": "deposit"}).status_code == 401
    assert client.get("/api/v1/branches/nowhere/snapshot", headers=tokens.auth("admin")).status_code == 404

    after = scrape(client)
    for kind in ("counter_opened", "ticket_issued", "ticket_called"):
        assert value(after, "queue_board_events_accepted_total", type=kind) == value(before, "queue_board_events_accepted_total", type=kind) + 1
    for status, reason in (("422", "invalid"), ("409", "conflict"), ("403", "forbidden"), ("401", "unauthorized"), ("404", "not_found")):
        assert value(after, "queue_board_requests_rejected_total", status=status, reason=reason) == 1, (status, reason)
    # inline forecasts: every write refreshed, and pushed one board once its forecast was made
    refreshes = value(after, "queue_board_forecast_refresh_seconds_count") - value(before, "queue_board_forecast_refresh_seconds_count")
    pushes = value(after, "queue_board_board_push_seconds_count") - value(before, "queue_board_board_push_seconds_count")
    assert refreshes == pushes == 3
    assert value(after, "queue_board_forecast_refresh_seconds_sum") > 0
    assert value(after, "queue_board_board_push_seconds_bucket", le="+Inf") == value(after, "queue_board_board_push_seconds_count")


@pytest.mark.app_settings(METRICS_TOKEN=METRICS_TOKEN)
def test_metrics_need_the_scrapers_token_or_an_admins(client: FlaskClient, tokens: Tokens) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    refused = client.get("/metrics", headers=tokens.auth("manager"))
    assert refused.status_code == 403 and refused.get_json()["error"] == "forbidden"
    assert client.get("/metrics", headers=tokens.auth("admin")).status_code == 200
    # the refusals are rejections like any other
    counted = scrape(client)
    assert value(counted, "queue_board_requests_rejected_total", status="401", reason="unauthorized") == 2
    assert value(counted, "queue_board_requests_rejected_total", status="403", reason="forbidden") == 1


def test_without_a_metrics_token_only_admins_scrape(client: FlaskClient, tokens: Tokens) -> None:
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 401
    assert client.get("/metrics", headers=tokens.auth("display")).status_code == 403
    assert "queue_board_events_accepted" in client.get("/metrics", headers=tokens.auth("admin")).get_data(as_text=True)


def test_two_apps_in_one_process_count_apart(app: Flask, tokens: Tokens, tmp_path_factory: pytest.TempPathFactory) -> None:
    other = make_test_app(tmp_path_factory.mktemp("other"), None, METRICS_TOKEN=METRICS_TOKEN)
    try:
        client = app.test_client()
        assert client.post("/api/v1/branches/main/counters/1/open", headers=tokens.auth("teller1")).status_code == 201
        assert value(scrape(client, tokens.admin), "queue_board_events_accepted_total", type="counter_opened") == 1
        assert value(scrape(other.test_client()), "queue_board_events_accepted_total", type="counter_opened") == 0
    finally:
        other.extensions["queue_board"].store.close()


def test_connected_boards_per_branch_follow_real_sockets(live_server: LiveServer) -> None:
    def boards_now() -> float:
        answer = requests.get(f"{live_server.url}/metrics", headers={"Authorization": f"Bearer {live_server.tokens.admin}"}, timeout=10)
        assert answer.status_code == 200
        for family in text_string_to_metric_families(answer.text):
            for sample in family.samples:
                if sample.name == "queue_board_connected_boards" and sample.labels == {"branch": "main"}:
                    return sample.value
        return 0.0

    def wait_for(expected: float) -> None:
        deadline = time.monotonic() + 10
        while boards_now() != expected:
            assert time.monotonic() < deadline, f"connected boards never became {expected}"
            time.sleep(0.05)

    assert boards_now() == 0
    clients = []
    try:
        for _ in range(2):
            board = socketio.Client(reconnection=False)
            board.connect(
                live_server.url, auth={"token": live_server.tokens.display, "branch": "main"}, transports=["websocket"], wait_timeout=10
            )
            clients.append(board)
        wait_for(2)
        clients.pop().disconnect()
        wait_for(1)
    finally:
        for board in clients:
            board.disconnect()
    wait_for(0)
