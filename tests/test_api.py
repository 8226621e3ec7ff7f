"""The JSON API as tellers, kiosks, displays and managers use it, including every error path."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from conftest import SAMPLE_LOG, ManualClock, Tokens
from flask import Flask
from flask.testing import FlaskClient

from queue_board.evaluation.replay import replay

API = "/api/v1/branches/main"


def act(client: FlaskClient, tokens: Tokens, counter: str, action: str, body: dict[str, Any] | None = None, role: str | None = None) -> Any:
    role = role or ("teller1" if counter == "1" else "manager")
    return client.post(f"{API}/counters/{counter}/{action}", json=body, headers=tokens.auth(role))


def take(client: FlaskClient, tokens: Tokens, service: str = "deposit", **headers: str) -> Any:
    return client.post(f"{API}/tickets", json={"service": service}, headers={**tokens.auth("kiosk"), **headers})


def snapshot(client: FlaskClient, tokens: Tokens) -> dict[str, Any]:
    response = client.get(f"{API}/snapshot", headers=tokens.auth("display"))
    assert response.status_code == 200
    return response.json  # type: ignore[no-any-return]


def count_events(client: FlaskClient, tokens: Tokens) -> int:
    """Events stored besides the configuration every test branch starts with (its first event)."""
    events = client.get(f"{API}/events", headers=tokens.auth("manager")).json["events"]
    assert events[0]["event"]["type"] == "branch_configured"
    return len(events) - 1


def test_healthz_reports_database(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_teller_serves_a_customer_end_to_end(client: FlaskClient, tokens: Tokens, clock: ManualClock) -> None:
    assert act(client, tokens, "1", "open").status_code == 201
    clock.advance(10)
    ticket = take(client, tokens)
    assert ticket.status_code == 201
    assert ticket.json["ticket"]["ticket"] == "A001"
    assert ticket.json["ticket"]["people_ahead"] == 0
    clock.advance(20)
    called = act(client, tokens, "1", "call-next")
    assert called.status_code == 201
    assert called.json["event"] == {"ts": "2026-03-02T09:00:30.000+08:00", "type": "ticket_called", "ticket": "A001", "counter": "1"}
    board = snapshot(client, tokens)
    counter = board["counters"][0]
    assert (counter["name"], counter["status"], counter["ticket"]) == ("1", "calling", "A001")
    assert board["now_serving"][0]["ticket"] == "A001"
    for action in ("recall", "start", "finish"):
        clock.advance(60)
        assert act(client, tokens, "1", action).status_code == 201, action
    assert snapshot(client, tokens)["counters"][0]["status"] == "wrapping_up"
    assert count_events(client, tokens) == 6


def test_call_next_follows_tiers_then_fifo(client: FlaskClient, tokens: Tokens, clock: ManualClock) -> None:
    # counter 3 serves remittance first, deposit second
    act(client, tokens, "3", "open")
    take(client, tokens, "deposit")
    clock.advance(5)
    take(client, tokens, "remittance")
    clock.advance(5)
    called = act(client, tokens, "3", "call-next")
    assert called.json["event"]["ticket"] == "B001"


def test_ticket_numbers_restart_each_day(client: FlaskClient, tokens: Tokens, clock: ManualClock) -> None:
    assert take(client, tokens).json["ticket"]["ticket"] == "A001"
    assert take(client, tokens).json["ticket"]["ticket"] == "A002"
    clock.advance(24 * 3600)
    assert take(client, tokens).json["ticket"]["ticket"] == "A001"


def test_retried_post_is_stored_once_and_answered_the_same(client: FlaskClient, tokens: Tokens) -> None:
    first = take(client, tokens, **{"Idempotency-Key": "tap-1"})
    again = take(client, tokens, **{"Idempotency-Key": "tap-1"})
    assert first.status_code == again.status_code == 201
    assert first.json["event"] == again.json["event"]
    assert first.json["seq"] == again.json["seq"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count_events(client, tokens) == 1


def test_idempotency_key_reused_for_another_request_is_rejected(client: FlaskClient, tokens: Tokens) -> None:
    take(client, tokens, "deposit", **{"Idempotency-Key": "k"})
    response = take(client, tokens, "loan", **{"Idempotency-Key": "k"})
    assert response.status_code == 422
    assert response.json["field"] == "Idempotency-Key"
    assert count_events(client, tokens) == 1


def test_pause_shows_reason_and_return_time(client: FlaskClient, tokens: Tokens) -> None:
    act(client, tokens, "1", "open")
    response = act(client, tokens, "1", "pause", {"reason": "getting authorisation", "minutes": 5})
    assert response.status_code == 201
    counter = snapshot(client, tokens)["counters"][0]
    assert counter["status"] == "paused"
    assert counter["pause_reason"] == "getting authorisation"
    assert counter["back_at"] == "2026-03-02T09:05:00.000+08:00"
    assert act(client, tokens, "1", "resume").status_code == 201


def test_closed_counter_shows_no_ticket(client: FlaskClient, tokens: Tokens, clock: ManualClock) -> None:
    act(client, tokens, "1", "open")
    take(client, tokens)
    act(client, tokens, "1", "call-next")
    act(client, tokens, "1", "start")
    act(client, tokens, "1", "finish")
    assert act(client, tokens, "1", "close").status_code == 201
    counter = snapshot(client, tokens)["counters"][0]
    assert counter["status"] == "closed"
    assert counter["ticket"] is None


def test_transfer_puts_customer_back_in_queue_for_other_service(client: FlaskClient, tokens: Tokens, clock: ManualClock) -> None:
    act(client, tokens, "1", "open")
    take(client, tokens)
    act(client, tokens, "1", "call-next")
    act(client, tokens, "1", "start")
    clock.advance(60)
    response = act(client, tokens, "1", "transfer", {"service": "loan"})
    assert response.status_code == 201
    waiting = snapshot(client, tokens)["waiting"]
    assert [(w["ticket"], w["service"], w["status"]) for w in waiting] == [("A001", "loan", "transferred")]


def test_forecasts_appear_in_snapshot(client: FlaskClient, tokens: Tokens, clock: ManualClock) -> None:
    act(client, tokens, "1", "open")
    for _ in range(4):
        take(client, tokens)
        clock.advance(5)
    board = snapshot(client, tokens)
    waits = [w["wait"] for w in board["waiting"]]
    assert all(w is not None and w["p10"] <= w["p50"] <= w["p90"] for w in waits)
    medians = [w["p50"] for w in waits]
    assert medians == sorted(medians) and medians[-1] > medians[0]
    deposit = next(s for s in board["services"] if s["code"] == "deposit")
    assert deposit["waiting"] == 4 and deposit["new_ticket_wait"]["p50"] > medians[-1] - 1
    loan = next(s for s in board["services"] if s["code"] == "loan")
    assert loan["new_ticket_wait"] is None  # no open counter serves loans


def test_post_raw_event_is_stamped_by_server(client: FlaskClient, tokens: Tokens) -> None:
    response = client.post(f"{API}/events", json={"type": "counter_opened", "counter": "9", "services": ["deposit"]}, headers=tokens.auth("manager"))
    assert response.status_code == 201
    assert response.json["event"]["ts"] == "2026-03-02T09:00:00.000+08:00"
    assert response.json["event"]["services"] == [["deposit"]]


BAD_EVENTS = [
    (None, 400, "bad_request"),
    ("not json", 400, "bad_request"),
    ([1, 2], 400, "bad_request"),
    ({"type": "teleported", "ticket": "A1"}, 422, "invalid"),
    ({"type": "ticket_issued", "ticket": "A1"}, 422, "invalid"),
    ({"type": "ticket_issued", "ticket": "", "service": "deposit"}, 422, "invalid"),
    ({"type": "counter_paused", "counter": "1", "minutes": -3}, 422, "invalid"),
    ({"type": "counter_paused", "counter": "1", "minutes": "five"}, 422, "invalid"),
    ({"type": "counter_opened", "counter": "1", "services": []}, 422, "invalid"),
    ({"type": "ticket_issued", "ticket": "A1", "service": "deposit", "ts": "2026-03-02T09:00:00+08:00"}, 422, "invalid"),
    ({"type": "ticket_called", "ticket": "Z999", "counter": "1"}, 404, "not_found"),
    ({"type": "counter_closed", "counter": "nowhere"}, 404, "not_found"),
    ({"type": "counter_resumed", "counter": "1"}, 409, "conflict"),
    ({"type": "ticket_issued", "ticket": "A1", "service": "deposit", "branch": "north"}, 422, "invalid"),
]


@pytest.mark.parametrize(("body", "status", "code"), BAD_EVENTS)
def test_bad_events_are_rejected_and_change_nothing(client: FlaskClient, tokens: Tokens, body: Any, status: int, code: str) -> None:
    act(client, tokens, "1", "open")
    before = count_events(client, tokens)
    headers = tokens.auth("manager")
    if body is None:
        response = client.post(f"{API}/events", headers=headers)
    elif isinstance(body, str):
        response = client.post(f"{API}/events", data=body, headers={**headers, "Content-Type": "application/json"})
    else:
        response = client.post(f"{API}/events", json=body, headers=headers)
    assert response.status_code == status
    assert response.json["error"] == code
    assert response.json["message"]
    assert count_events(client, tokens) == before


@pytest.mark.parametrize(
    ("counter", "action", "body", "status"),
    [
        ("1", "call-next", None, 409),  # closed
        ("1", "start", None, 409),  # nothing called
        ("1", "finish", None, 409),
        ("1", "resume", None, 409),
        ("1", "fly", None, 404),
        ("1", "pause", {"minutes": 99999}, 422),
        ("1", "transfer", {}, 422),  # no target service
        ("1", "transfer", {"service": "loan"}, 409),  # nobody at the counter
        ("7", "open", None, 404),  # not a configured counter
        ("1", "open", {"services": [["mortgage"]]}, 422),
    ],
)
def test_teller_error_paths(client: FlaskClient, tokens: Tokens, counter: str, action: str, body: Any, status: int) -> None:
    response = act(client, tokens, counter, action, body)
    assert response.status_code == status, response.json
    assert response.json["message"]
    assert count_events(client, tokens) == 0


def test_call_next_with_nobody_waiting_is_a_conflict(client: FlaskClient, tokens: Tokens) -> None:
    act(client, tokens, "1", "open")
    response = act(client, tokens, "1", "call-next")
    assert response.status_code == 409
    assert "nobody is waiting" in response.json["message"]


def test_errors_come_in_the_language_the_client_asks_for(client: FlaskClient, tokens: Tokens) -> None:
    act(client, tokens, "1", "open")
    take(client, tokens)
    act(client, tokens, "1", "call-next")

    def pause(language: str | None) -> Any:
        headers = {**tokens.auth("teller1"), **({"Accept-Language": language} if language else {})}
        return client.post(f"{API}/counters/1/pause", json={"minutes": 5}, headers=headers)

    # a program that asks for nothing gets English, whatever the branch's languages
    english = pause(None)
    assert english.status_code == 409
    assert english.json == {"error": "conflict", "message": "counter 1 must finish ticket A001 before it can pause"}
    traditional = pause("zh-TW,zh;q=0.9,en;q=0.5")
    assert traditional.json == {"error": "conflict", "message": "1 號櫃檯須先完成 A001 號才能暫停"}
    assert pause("zh-Hans").json["message"] == "1 号柜台须先完成 A001 号才能暂停"
    assert pause("fr-FR").json == english.json
    # a status inside the sentence is translated as a status ("waiting" alone means "people waiting")
    act(client, tokens, "1", "start")
    label = take(client, tokens).json["ticket"]["ticket"]
    cancelled = client.post(f"{API}/tickets/{label}/cancel", headers=tokens.auth("kiosk"))
    assert cancelled.status_code == 201
    again = client.post(f"{API}/tickets/{label}/cancel", headers={**tokens.auth("kiosk"), "Accept-Language": "zh-Hant"})
    assert again.status_code == 409
    assert again.json["message"] == f"{label} 號目前已取消；只有等候中的號碼可以取消"
    assert count_events(client, tokens) == 6


def test_every_sentence_and_word_of_an_answer_is_translated() -> None:
    """Each template the core or the service can answer with, and each word put into one,
    has a translation in every language of the screens."""
    import re
    from pathlib import Path

    from babel.support import Translations

    from queue_board import ROOT
    from queue_board.service.errors import VOCABULARY, WORD
    from queue_board.web.i18n import BABEL_LOCALES

    sources = sorted((ROOT / "queue_board").rglob("*.py"))
    templates = {m for path in sources for m in re.findall(r'N_\(\s*"([^"]+)"\s*\)', Path(path).read_text(encoding="utf-8"))}
    templates.discard("template")
    assert len(templates) >= 19
    from queue_board.core.branch import CounterStatus, TicketStatus

    # every status a sentence can name is a word with a translation
    assert {s.value for s in CounterStatus} | {s.value for s in TicketStatus} <= set(VOCABULARY)
    for locale in BABEL_LOCALES.values():
        if locale == "en":
            continue
        catalogue = Translations.load(str(ROOT / "translations"), [locale])
        missing = [t for t in templates if catalogue.gettext(t) == t]
        missing += [w for w in VOCABULARY if catalogue.pgettext(WORD, w) == w]
        assert not missing, (locale, missing)


def test_unknown_service_at_kiosk_is_not_found(client: FlaskClient, tokens: Tokens) -> None:
    response = take(client, tokens, "mortgage")
    assert response.status_code == 404
    assert response.json["field"] == "service"
    assert count_events(client, tokens) == 0


@pytest.mark.parametrize(
    ("method", "path", "role", "status"),
    [
        ("get", "/snapshot", None, 401),
        ("get", "/snapshot", "bogus", 401),
        ("post", "/counters/2/call-next", "teller1", 403),
        ("post", "/events", "teller1", 403),
        ("post", "/events", "display", 403),
        ("post", "/tickets", "display", 403),
        ("get", "/snapshot", "other_branch_manager", 403),
        ("put", "/config", "manager", 403),
        ("post", "/import", "manager", 403),
        ("get", "/export", "kiosk", 403),
    ],
)
def test_roles_are_enforced(client: FlaskClient, tokens: Tokens, method: str, path: str, role: str | None, status: int) -> None:
    headers = {} if role is None else {"Authorization": "Bearer nope"} if role == "bogus" else tokens.auth(role)
    response = getattr(client, method)(f"{API}{path}", json={"service": "deposit"}, headers=headers)
    assert response.status_code == status
    assert response.json["error"] in ("unauthorized", "forbidden")
    assert count_events(client, tokens) == 0


def test_unknown_branch_is_not_found(client: FlaskClient, tokens: Tokens) -> None:
    response = client.get("/api/v1/branches/nowhere/snapshot", headers=tokens.auth("admin"))
    assert response.status_code == 404
    assert response.json["error"] == "not_found"


def test_unknown_endpoint_answers_json(client: FlaskClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json["error"] == "not_found"


def test_export_speaks_the_spec(client: FlaskClient, tokens: Tokens, clock: ManualClock) -> None:
    act(client, tokens, "1", "open")
    act(client, tokens, "1", "pause", {"reason": "lunch", "minutes": 30})
    take(client, tokens)
    response = client.get(f"{API}/export", headers=tokens.auth("manager"))
    assert response.status_code == 200
    assert response.mimetype == "application/x-ndjson"
    lines = [json.loads(line) for line in response.data.decode().splitlines()]
    # the branch's configuration is an event of its log (docs/event-log.md), the first here
    configured = lines.pop(0)
    assert configured["type"] == "branch_configured" and configured["config"]["name"] == "Demo Branch"
    # the server records the promise a new ticket was told (docs/event-log.md); the counter
    # serving it is paused for 30 min, so it was told about that long
    told, told_raw = lines[2].pop("told"), lines[2].pop("told_raw")
    assert 0 < told["p10"] <= told["p50"] <= told["p90"] and told["p50"] > 20 * 60
    assert set(told_raw) == {"p10", "p50", "p90"}
    assert lines == [
        {"ts": "2026-03-02T09:00:00.000+08:00", "type": "counter_opened", "counter": "1", "services": [["deposit"]]},
        {"ts": "2026-03-02T09:00:00.000+08:00", "type": "counter_paused", "counter": "1", "reason": "lunch", "minutes": 30},
        # and the transaction length it predicted (nothing learned yet: the prior's 5 minutes)
        {"ts": "2026-03-02T09:00:00.000+08:00", "type": "ticket_issued", "ticket": "A001", "service": "deposit", "predicted_seconds": 300},
    ]


def test_import_then_export_round_trips_the_sample_log(client: FlaskClient, tokens: Tokens) -> None:
    text = SAMPLE_LOG.read_text()
    response = client.post("/api/v1/branches/replayed/import", data=text, headers={**tokens.auth("admin"), "Content-Type": "application/x-ndjson"})
    assert response.status_code == 201, response.json
    assert response.json["imported"] == len(text.splitlines())
    exported = [json.loads(x) for x in client.get("/api/v1/branches/replayed/export", headers=tokens.auth("admin")).data.decode().splitlines()]
    original = [json.loads(x) for x in text.splitlines()]
    # the import records on each new ticket what the engine would have told it, exactly the
    # range replay writes for it; otherwise the log comes back as it went in
    out = io.StringIO()
    replay(text.splitlines(), out)
    told = {(row["ts"], row["ticket"]): row for row in csv.DictReader(io.StringIO(out.getvalue())) if row["quantity"] == "wait"}
    for line in exported:
        if line["type"] == "ticket_issued":
            row = told[(line["ts"], line["ticket"])]
            assert line["told"] == {q: float(row[q]) for q in ("p10", "p50", "p90")}
            # and the transaction length it predicted for it (what an express counter reads)
            assert isinstance(line["predicted_seconds"], int | float)
            del line["told"], line["told_raw"], line["predicted_seconds"]
    assert exported == original


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ('{"ts": "2026-03-02T09:00:00+08:00", "type": "ticket_issued", "ticket": "A1", "service": "x"}\nnot json\n', 422, "line 2"),
        ('{"ts": "2026-03-02T09:00:00+08:00", "type": "ticket_called", "ticket": "A1", "counter": "1"}\n', 404, "line 1"),
        (
            '{"ts": "2026-03-02T09:00:00+08:00", "type": "ticket_issued", "ticket": "A1", "service": "x"}\n'
            '{"ts": "2026-03-02T08:00:00+08:00", "type": "ticket_cancelled", "ticket": "A1"}\n',
            409,
            "line 2",
        ),
        ("", 400, "body"),
    ],
)
def test_bad_import_names_the_line_and_stores_nothing(client: FlaskClient, tokens: Tokens, body: str, status: int, needle: str) -> None:
    response = client.post(f"{API}/import", data=body, headers=tokens.auth("admin"))
    assert response.status_code == status
    assert needle in response.json["message"]
    assert count_events(client, tokens) == 0


def test_config_can_be_read_and_replaced(client: FlaskClient, tokens: Tokens) -> None:
    config = client.get(f"{API}/config", headers=tokens.auth("display")).json
    assert [s["code"] for s in config["services"]] == ["deposit", "remittance", "loan"]
    config["services"].append({"code": "fx", "prefix": "D", "names": {"en": "Foreign exchange", "zh-Hant": "外匯", "zh-Hans": "外汇"}})
    response = client.put(f"{API}/config", json=config, headers=tokens.auth("admin"))
    assert response.status_code == 200
    assert take(client, tokens, "fx").json["ticket"]["ticket"] == "D001"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda c: c["services"][0].update(prefix="a1"), "services[0].prefix"),
        (lambda c: c["services"][1].update(prefix="A"), "services[1].prefix"),
        (lambda c: c["counters"][0].update(services=[["mortgage"]]), "counters[0].services"),
        (lambda c: c.update(languages=["fr"]), "languages"),
        (lambda c: c["services"][0]["names"].update(fr="Dépôt"), "services[0].names"),
    ],
)
def test_bad_config_is_rejected_and_nothing_changes(client: FlaskClient, tokens: Tokens, mutate: Any, field: str) -> None:
    config = client.get(f"{API}/config", headers=tokens.auth("admin")).json
    mutate(config)
    response = client.put(f"{API}/config", json=config, headers=tokens.auth("admin"))
    assert response.status_code == 422
    assert response.json["field"] == field
    assert client.get(f"{API}/config", headers=tokens.auth("admin")).json["services"][0]["prefix"] == "A"


def test_state_is_rebuilt_from_the_log_on_start(app: Flask, client: FlaskClient, tokens: Tokens, tmp_path: Any, clock: ManualClock) -> None:
    from conftest import make_test_app

    act(client, tokens, "1", "open")
    take(client, tokens)
    take(client, tokens)
    act(client, tokens, "1", "call-next")
    before = snapshot(client, tokens)
    app.extensions["queue_board"].store.close()
    again = make_test_app(tmp_path, clock).test_client()
    after = again.get(f"{API}/snapshot", headers=tokens.auth("display")).json
    for key in ("seq", "counters", "now_serving"):
        assert after[key] == before[key]
    assert [w["ticket"] for w in after["waiting"]] == ["A002"]


def test_back_to_back_tickets_are_each_told_their_own_forecast(client: FlaskClient, tokens: Tokens, clock: ManualClock) -> None:
    """Issue 9, defect 9: a printed range is the ticket's own forecast (the one stored on its
    event and scored by replay), not a range computed before the ticket existed."""
    act(client, tokens, "1", "open")
    printed = []
    for _ in range(4):
        clock.advance(1)
        answer = take(client, tokens).json
        printed.append((answer["ticket"]["ticket"], answer["ticket"]["wait"]))
    p50s = [wait["p50"] for _, wait in printed]
    # each new customer has one more person ahead of them at the one open counter
    assert p50s == sorted(p50s) and len(set(p50s)) == len(p50s), printed
    exported = [json.loads(x) for x in client.get(f"{API}/export", headers=tokens.auth("manager")).data.decode().splitlines()]
    told = {line["ticket"]: line["told"] for line in exported if line["type"] == "ticket_issued"}
    assert all(told[label] == wait for label, wait in printed)
    out = io.StringIO()
    replay([json.dumps(line) for line in exported], out)
    rows = {row["ticket"]: {q: float(row[q]) for q in ("p10", "p50", "p90")} for row in csv.DictReader(io.StringIO(out.getvalue())) if row["quantity"] == "wait"}
    assert rows == told
