"""Hostile and malformed requests (issue 12): each gets a clean 4xx with a JSON body naming the
problem, and changes nothing. One case per defect found on main; the PostgreSQL cases run on a
fresh database (the ``postgres_url`` fixture), where over-long or NUL-holding values used to reach
the driver and fail as 500s."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_LOG, ManualClock, Tokens, create_tokens, make_test_app
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from queue_board.core.events import EventFormatError, parse_event
from queue_board.core.fields import MAX_NAME_LENGTH, name_problem

API = "/api/v1/branches/main"


def count_events(client: FlaskClient, tokens: Tokens, branch: str = "main") -> int:
    """How many events the branch's log holds (0 for a branch that does not exist)."""
    response = client.get(f"/api/v1/branches/{branch}/events?limit=5000", headers=tokens.auth("admin"))
    if response.status_code == 404:
        return 0
    return len(response.json["events"])


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    """A JSON problem answer with ``status`` (and naming ``field``, when given)."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:300])
    assert response.mimetype == "application/json", response.get_data(as_text=True)[:300]
    body: dict[str, Any] = response.json
    assert body["error"] and body["message"]
    if field is not None:
        assert body.get("field") == field, body
    return body


def post_raw(client: FlaskClient, path: str, raw: str | bytes, headers: dict[str, str]) -> Any:
    """POST a body exactly as given, as JSON."""
    return client.post(path, data=raw, headers={**headers, "Content-Type": "application/json"})


# numbers too large for a float -------------------------------------------------------------
HUGE = "9" * 400


@pytest.mark.parametrize(
    ("path", "raw", "role"),
    [
        ("/counters/1/pause", '{"minutes": HUGE}'.replace("HUGE", HUGE), "teller1"),
        ("/counters/1/heads-up", '{"minutes": HUGE}'.replace("HUGE", HUGE), "teller1"),
        ("/events", '{"type": "counter_paused", "counter": "1", "minutes": HUGE}'.replace("HUGE", HUGE), "manager"),
        ("/events", '{"type": "transaction_extended", "ticket": "A001", "counter": "1", "minutes": HUGE}'.replace("HUGE", HUGE), "manager"),
        ("/events", '{"type": "counter_opened", "counter": "1", "services": [["deposit"]], "express_minutes": HUGE}'.replace("HUGE", HUGE), "manager"),
    ],
)
def test_a_400_digit_number_is_422_not_overflow(client: FlaskClient, tokens: Tokens, path: str, raw: str, role: str) -> None:
    assert client.post(f"{API}/counters/1/open", headers=tokens.auth("teller1")).status_code == 201
    before = count_events(client, tokens)
    assert_problem(post_raw(client, API + path, raw, tokens.auth(role)), 422)
    assert count_events(client, tokens) == before


def test_a_400_digit_threshold_in_a_config_is_422(client: FlaskClient, tokens: Tokens) -> None:
    config = client.get(f"{API}/config", headers=tokens.auth("admin")).json
    raw = json.dumps({**config, "warning_thresholds": {"paused_share": 0}}).replace('"paused_share": 0', f'"paused_share": {HUGE}')
    response = client.put(f"{API}/config", data=raw, headers={**tokens.auth("admin"), "Content-Type": "application/json"})
    assert_problem(response, 422)


def test_a_400_digit_number_in_an_import_names_its_line(client: FlaskClient, tokens: Tokens) -> None:
    line = '{"ts": "2026-03-02T08:00:00+08:00", "type": "counter_paused", "counter": "1", "minutes": HUGE}'.replace("HUGE", HUGE)
    body = assert_problem(client.post("/api/v1/branches/fresh/import", data=line + "\n", headers=tokens.auth("admin")), 422)
    assert body["line"] == 1


# JSON nested too deep ----------------------------------------------------------------------
#: 100k deep for an import (its limit is large); 30k deep fits under the 64 KiB of a button's body
DEEP = "[" * 100_000 + "]" * 100_000
DEEP_SMALL = "[" * 30_000 + "]" * 30_000


@pytest.mark.parametrize(("path", "role"), [("/tickets", "kiosk"), ("/events", "manager"), ("/counters/1/open", "teller1")])
def test_json_nested_deep_is_400(client: FlaskClient, tokens: Tokens, path: str, role: str) -> None:
    before = count_events(client, tokens)
    assert_problem(post_raw(client, API + path, DEEP_SMALL, tokens.auth(role)), 400)
    assert count_events(client, tokens) == before


def test_config_nested_deep_is_400(client: FlaskClient, tokens: Tokens) -> None:
    response = client.put(f"{API}/config", data=DEEP, headers={**tokens.auth("admin"), "Content-Type": "application/json"})
    assert_problem(response, 400)


def test_an_import_line_nested_100k_deep_is_422_naming_the_line(client: FlaskClient, tokens: Tokens) -> None:
    body = assert_problem(client.post("/api/v1/branches/fresh/import", data=DEEP + "\n", headers=tokens.auth("admin")), 422)
    assert body["line"] == 1


# HTML errors where the API answers JSON ----------------------------------------------------
@pytest.mark.parametrize(("method", "path"), [("DELETE", "/api/v1/branches"), ("PATCH", f"{API}/tickets"), ("GET", f"{API}/import")])
def test_a_wrong_method_under_the_api_is_json_405(client: FlaskClient, tokens: Tokens, method: str, path: str) -> None:
    response = client.open(path, method=method, headers=tokens.auth("admin"))
    assert_problem(response, 405)
    assert response.headers["Allow"]


@pytest.mark.parametrize("signed", ["not-a-ticket", "x" * 500, "%00"])
def test_an_unknown_ticket_link_state_is_json_404(client: FlaskClient, signed: str) -> None:
    assert_problem(client.get(f"/t/{signed}/state"), 404)


# labels and codes: charset and length ------------------------------------------------------
def test_a_65_character_counter_name_is_422_not_409(client: FlaskClient, tokens: Tokens) -> None:
    before = count_events(client, tokens)
    response = client.post(f"{API}/counters/{'c' * 65}/open", json={"services": [["deposit"]]}, headers=tokens.auth("manager"))
    assert_problem(response, 422, "counter")
    assert count_events(client, tokens) == before


@pytest.mark.parametrize(
    ("event", "status", "field"),
    [
        ({"type": "ticket_issued", "ticket": "Z001", "service": "gold-bars"}, 404, "service"),
        ({"type": "ticket_issued", "ticket": "<svg onload=alert(1)>", "service": "deposit"}, 422, "ticket"),
        ({"type": "ticket_issued", "ticket": "A/1", "service": "deposit"}, 422, "ticket"),
        ({"type": "ticket_issued", "ticket": "A\u00001", "service": "deposit"}, 422, "ticket"),
        ({"type": "ticket_issued", "ticket": "A\n1", "service": "deposit"}, 422, "ticket"),
        ({"type": "counter_opened", "counter": "<b>", "services": [["deposit"]]}, 422, "counter"),
        ({"type": "counter_opened", "counter": "9", "services": [["dep/osit"]]}, 422, "services"),
    ],
)
def test_events_refuse_what_the_dedicated_endpoints_refuse(
    client: FlaskClient, tokens: Tokens, event: dict[str, Any], status: int, field: str
) -> None:
    before = count_events(client, tokens)
    assert_problem(client.post(f"{API}/events", json=event, headers=tokens.auth("manager")), status, field)
    assert count_events(client, tokens) == before


def test_a_label_in_the_url_with_a_control_character_is_422(client: FlaskClient, tokens: Tokens) -> None:
    assert_problem(client.post(f"{API}/tickets/A%0A1/cancel", headers=tokens.auth("kiosk")), 422, "ticket")
    assert_problem(client.post(f"{API}/counters/%3Cb%3E/open", headers=tokens.auth("manager")), 422, "counter")


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda c: c["services"][0].update(code="<svg>"), "services[0].code"),
        (lambda c: c["counters"][0].update(name="1/2"), "counters[0].name"),
    ],
)
def test_a_config_with_a_dangerous_code_is_422(client: FlaskClient, tokens: Tokens, mutate: Any, field: str) -> None:
    config = client.get(f"{API}/config", headers=tokens.auth("admin")).json
    mutate(config)
    assert_problem(client.put(f"{API}/config", json=config, headers=tokens.auth("admin")), 422, field)


@pytest.mark.parametrize("branch", ["b" * 65, "a%3Cb%3E", "a%0Ab"])
def test_a_bad_branch_id_is_422_on_sqlite(client: FlaskClient, tokens: Tokens, branch: str) -> None:
    config = client.get(f"{API}/config", headers=tokens.auth("admin")).json
    assert_problem(client.put(f"/api/v1/branches/{branch}/config", json=config, headers=tokens.auth("admin")), 422, "branch")
    ids = [b["id"] for b in client.get("/api/v1/branches", headers=tokens.auth("admin")).json["branches"]]
    assert ids == ["main", "north"]


def test_a_bad_idempotency_key_is_422(client: FlaskClient, tokens: Tokens) -> None:
    before = count_events(client, tokens)
    for key in ("caf\u00e9", "a\tb", "k" * 201):
        headers = {**tokens.auth("kiosk"), "Idempotency-Key": key.encode("utf-8").decode("latin-1")}
        assert_problem(client.post(f"{API}/tickets", json={"service": "deposit"}, headers=headers), 422, "Idempotency-Key")
    assert count_events(client, tokens) == before


def test_a_token_name_or_binding_that_does_not_fit_is_refused(app: Flask) -> None:
    store = app.extensions["queue_board"].store
    for name, branch, counter in (("n" * 121, "main", None), ("kiosk", "b" * 65, None), ("t", "main", "c\u0000")):
        with pytest.raises(ValueError):
            store.create_token(name, "kiosk" if counter is None else "teller", branch, counter)


# PostgreSQL: nothing over-long or with NUL reaches the driver ------------------------------
@pytest.fixture
def pg_app(tmp_path: Path, clock: ManualClock, postgres_url: str) -> Iterator[Flask]:
    """The test app on a fresh PostgreSQL database."""
    app = make_test_app(tmp_path, clock, DATABASE_URL=postgres_url)
    yield app
    app.extensions["queue_board"].store.close()


def test_postgres_refuses_bad_ids_keys_and_names_and_writes_go_on(pg_app: Flask) -> None:
    client = pg_app.test_client()
    tokens = create_tokens(pg_app)
    config = client.get(f"{API}/config", headers=tokens.auth("admin")).json
    for branch in ("b" * 65, "a%00b"):
        assert_problem(client.put(f"/api/v1/branches/{branch}/config", json=config, headers=tokens.auth("admin")), 422, "branch")
        assert_problem(client.post(f"/api/v1/branches/{branch}/import", data="x", headers=tokens.auth("admin")), 422, "branch")
    headers = {**tokens.auth("kiosk"), "Idempotency-Key": "caf\u00e9".encode().decode("latin-1")}
    assert_problem(client.post(f"{API}/tickets", json={"service": "deposit"}, headers=headers), 422, "Idempotency-Key")
    store = pg_app.extensions["queue_board"].store
    with pytest.raises(ValueError):
        store.create_token("n" * 121, "kiosk", "main", None)
    # and every write afterwards still works
    assert client.post(f"{API}/tickets", json={"service": "deposit"}, headers=tokens.auth("kiosk")).status_code == 201
    assert store.branch_ids() == ["main", "north"]


# imports -----------------------------------------------------------------------------------
def test_a_failed_import_does_not_create_the_branch(client: FlaskClient, tokens: Tokens) -> None:
    bad = '{"ts": "2026-03-02T08:00:00+08:00", "type": "ticket_called", "ticket": "A1", "counter": "1"}\n'
    assert_problem(client.post("/api/v1/branches/newbranch/import", data=bad, headers=tokens.auth("admin")), 404)
    assert_problem(client.post("/api/v1/branches/newbranch2/import", data="not json\n", headers=tokens.auth("admin")), 422)
    ids = [b["id"] for b in client.get("/api/v1/branches", headers=tokens.auth("admin")).json["branches"]]
    assert "newbranch" not in ids and "newbranch2" not in ids


def test_an_import_dated_after_now_is_refused(client: FlaskClient, tokens: Tokens, clock: ManualClock) -> None:
    before = count_events(client, tokens)
    tomorrow = (clock.now() + timedelta(days=1)).isoformat()
    lines = [
        {"ts": tomorrow, "type": "counter_opened", "counter": "1", "services": [["deposit"]]},
        {"ts": tomorrow, "type": "ticket_issued", "ticket": "A001", "service": "deposit"},
    ]
    data = "".join(json.dumps(line) + "\n" for line in lines)
    body = assert_problem(client.post(f"{API}/import", data=data, headers=tokens.auth("admin")), 422)
    assert body["line"] == 1
    assert count_events(client, tokens) == before
    # so the kiosk numbers today's tickets as usual
    assert client.post(f"{API}/tickets", json={"service": "deposit"}, headers=tokens.auth("kiosk")).status_code == 201


def test_the_shared_logs_still_import(client: FlaskClient, tokens: Tokens) -> None:
    text = SAMPLE_LOG.read_text()
    response = client.post("/api/v1/branches/replayed/import", data=text, headers=tokens.auth("admin"))
    assert response.status_code == 201, response.json


# idempotent replays ------------------------------------------------------------------------
def test_an_idempotent_replay_answers_the_same_body(client: FlaskClient, tokens: Tokens) -> None:
    take = {"service": "deposit"}
    for _ in range(3):
        assert client.post(f"{API}/tickets", json=take, headers=tokens.auth("kiosk")).status_code == 201
    headers = {**tokens.auth("kiosk"), "Idempotency-Key": "tap-4"}
    first = client.post(f"{API}/tickets", json=take, headers=headers)
    assert first.json["ticket"]["people_ahead"] == 3
    # the queue moves on before the kiosk's retry arrives
    assert client.post(f"{API}/counters/1/open", headers=tokens.auth("teller1")).status_code == 201
    assert client.post(f"{API}/counters/1/call-next", headers=tokens.auth("teller1")).status_code == 201
    again = client.post(f"{API}/tickets", json=take, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json


# body limits -------------------------------------------------------------------------------
@pytest.mark.parametrize(("path", "role"), [("/tickets", "kiosk"), ("/events", "manager"), ("/counters/1/open", "teller1")])
def test_a_20_mb_body_is_413_on_the_small_endpoints(client: FlaskClient, tokens: Tokens, path: str, role: str) -> None:
    before = count_events(client, tokens)
    raw = '{"service": "deposit", "pad": "' + "x" * (20 * 1024 * 1024) + '"}'
    assert_problem(post_raw(client, API + path, raw, tokens.auth(role)), 413)
    assert count_events(client, tokens) == before


def test_the_import_still_takes_a_large_body(client: FlaskClient, tokens: Tokens) -> None:
    # blank lines are skipped: 2 MB of them around one event
    data = "\n" * (2 * 1024 * 1024) + '{"ts": "2026-03-02T08:00:00+08:00", "type": "counter_opened", "counter": "1", "services": [["deposit"]]}\n'
    assert client.post("/api/v1/branches/big/import", data=data, headers=tokens.auth("admin")).status_code == 201


# headers -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "role"),
    [("GET", f"{API}/snapshot", "display"), ("POST", f"{API}/tickets", "kiosk"), ("GET", "/api/v1/nowhere", "admin"), ("GET", "/t/x/state", None)],
)
def test_api_answers_are_nosniff_and_no_store(client: FlaskClient, tokens: Tokens, method: str, path: str, role: str | None) -> None:
    headers = tokens.auth(role) if role else {}
    response = client.open(path, method=method, json={"service": "deposit"} if method == "POST" else None, headers=headers)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


# ticket links and the Host header ----------------------------------------------------------
def _ticket_link(client: FlaskClient, tokens: Tokens, host: str) -> Any:
    label = client.post(f"{API}/tickets", json={"service": "deposit"}, headers=tokens.auth("kiosk")).json["ticket"]["ticket"]
    return client.post("/t/links", json={"branch": "main", "ticket": label}, headers={**tokens.auth("kiosk"), "Host": host})


@pytest.mark.app_settings(PUBLIC_URL="https://queue.example-bank.test")
def test_with_a_public_url_the_host_header_does_not_make_the_link(client: FlaskClient, tokens: Tokens) -> None:
    link = _ticket_link(client, tokens, "evil.example")
    assert link.status_code == 201
    assert link.json["url"].startswith("https://queue.example-bank.test/t/")


@pytest.mark.app_settings(TRUSTED_HOSTS=["localhost"])
def test_with_trusted_hosts_another_host_is_refused(client: FlaskClient, tokens: Tokens) -> None:
    assert _ticket_link(client, tokens, "evil.example").status_code == 400
    assert _ticket_link(client, tokens, "localhost").json["url"].startswith("http://localhost/t/")


# the label rule, as a property ---------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(label=st.text(min_size=1, max_size=MAX_NAME_LENGTH + 2).filter(str.strip))
def test_a_label_is_accepted_exactly_when_it_keeps_the_rule(label: str) -> None:
    obj = {"ts": "2026-03-02T09:00:00+08:00", "type": "ticket_cancelled", "ticket": label}
    problem = name_problem(label)
    if problem is None:
        assert parse_event(obj).ticket == label
    else:
        with pytest.raises(EventFormatError) as refused:
            parse_event(obj)
        assert refused.value.field == "ticket"
        # an event stored before the rule is still read back (length permitting)
        if len(label) <= MAX_NAME_LENGTH:
            assert parse_event(obj, strict=False).ticket == label
    assert (problem is None) == (
        len(label) <= MAX_NAME_LENGTH and not any(c in "/\\<>" or unicodedata.category(c) in {"Cc", "Cf", "Cs", "Zl", "Zp"} for c in label)
    )


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--role", "kiosk", "--branch", "main", "--name", "n" * 121], "1 to 120 characters"),
        (["--role", "kiosk", "--branch", "b" * 65], "branch must be at most 64"),
        (["--role", "teller", "--branch", "main", "--counter", "1/2"], "counter must not contain"),
    ],
)
def test_the_cli_refuses_a_token_that_does_not_fit(runner: FlaskCliRunner, app: Flask, args: list[str], needle: str) -> None:
    before = app.extensions["queue_board"].store.list_tokens()
    result = runner.invoke(args=["token", "create", *args])
    assert result.exit_code == 1 and needle in result.output, result.output
    assert app.extensions["queue_board"].store.list_tokens() == before


def test_a_20_mb_ticket_link_request_is_413(client: FlaskClient, tokens: Tokens) -> None:
    raw = '{"branch": "main", "ticket": "' + "x" * (20 * 1024 * 1024) + '"}'
    assert_problem(post_raw(client, "/t/links", raw, tokens.auth("kiosk")), 413)


def test_trusted_hosts_and_body_limits_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from queue_board.config import Config

    monkeypatch.setenv("QB_TRUSTED_HOSTS", " queue.example-bank.test, localhost ,")
    monkeypatch.setenv("QB_MAX_REQUEST_LENGTH", "1000")
    config = Config()
    assert config.TRUSTED_HOSTS == ["queue.example-bank.test", "localhost"]
    assert config.MAX_REQUEST_LENGTH == 1000
    monkeypatch.delenv("QB_TRUSTED_HOSTS")
    assert Config().TRUSTED_HOSTS is None
