"""The manager's reports through the API, the CLI and the ``/manage`` Socket.IO namespace: the
scripted day's hand-worked figures, who may read them, bad input, live pushes, and the same
numbers after a restart."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import ManualClock, Tokens, make_test_app
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from report_day import report_day_lines

from queue_board.web.live import live

DAY = "2026-03-02"
HISTORY = f"/api/v1/branches/day/reports/history?from={DAY}&to={DAY}"


def _import_day(client: FlaskClient, tokens: Tokens, branch: str = "day") -> None:
    body = "".join(json.dumps(line) + "\n" for line in report_day_lines())
    response = client.post(f"/api/v1/branches/{branch}/import", data=body, headers={**tokens.auth("admin"), "Content-Type": "application/x-ndjson"})
    assert response.status_code == 201, response.json


def _rows(payload: dict[str, Any], table: str) -> dict[Any, dict[str, Any]]:
    found = payload["tables"][table]
    return {row[0]: dict(zip(found["columns"], row, strict=True)) for row in found["rows"]}


@pytest.fixture
def day_client(client: FlaskClient, tokens: Tokens) -> FlaskClient:
    _import_day(client, tokens)
    return client


def test_history_api_gives_the_hand_worked_figures(day_client: FlaskClient, tokens: Tokens) -> None:
    response = day_client.get(HISTORY, headers=tokens.auth("admin"))
    assert response.status_code == 200, response.json
    payload = response.json
    assert payload["period"] == {"from": DAY, "to": DAY} and payload["recorded_days"] == [DAY]
    counters = _rows(payload, "by_counter")
    assert (counters["1"]["utilisation_open"], counters["2"]["utilisation_open"], counters["2"]["utilisation_staffed"]) == (0.585, 0.167, 0.222)
    totals = payload["tables"]["totals"]["rows"][0]
    assert dict(zip(payload["tables"]["totals"]["columns"], totals, strict=True))["service_level"] == 0.6
    assert payload["tables"]["pauses"]["rows"] == [["break", 1, 15.0, 10.0, 1, 5.0, 5.0, 15.0]]
    broken = payload["tables"]["broken_promises"]["rows"]
    assert [row[1] for row in broken] == ["A003", "B001"]


def test_every_table_downloads_as_csv(day_client: FlaskClient, tokens: Tokens) -> None:
    response = day_client.get(f"/api/v1/branches/day/reports/history/by_counter.csv?from={DAY}&to={DAY}", headers=tokens.auth("admin"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert f'filename="day-by_counter-{DAY}-{DAY}.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.data.decode())))
    assert [(r["counter"], r["utilisation_open"], r["utilisation_staffed"]) for r in rows] == [("1", "0.585", "0.585"), ("2", "0.167", "0.222")]
    missing = day_client.get(f"/api/v1/branches/day/reports/history/nope.csv?from={DAY}", headers=tokens.auth("admin"))
    assert missing.status_code == 404 and "by_counter" in missing.json["message"]


@pytest.mark.parametrize(
    ("query", "field"),
    [("from=2026-13-01", "from"), ("to=yesterday", "to"), ("from=2026-03-05&to=2026-03-01", "from"), ("target=0", "target"), ("target=ten", "target"), ("from=2024-01-01&to=2026-03-02", "from")],
)
def test_bad_report_parameters_are_422_naming_the_field(day_client: FlaskClient, tokens: Tokens, query: str, field: str) -> None:
    response = day_client.get(f"/api/v1/branches/day/reports/history?{query}", headers=tokens.auth("admin"))
    assert response.status_code == 422, response.json
    assert response.json["field"] == field


def test_reports_are_for_the_branchs_managers_only(client: FlaskClient, tokens: Tokens) -> None:
    path = "/api/v1/branches/main/reports/history"
    assert client.get(path).status_code == 401
    assert client.get(path, headers=tokens.auth("manager")).status_code == 200
    for role in ("other_branch_manager", "teller1", "kiosk", "display"):
        response = client.get(path, headers=tokens.auth(role))
        assert response.status_code == 403, role
        assert response.json["message"]
    assert client.get("/api/v1/branches/nowhere/reports/dashboard", headers=tokens.auth("admin")).status_code == 404


def test_ticket_story_through_the_api(day_client: FlaskClient, tokens: Tokens) -> None:
    story = day_client.get(f"/api/v1/branches/day/reports/tickets/{DAY}/A003", headers=tokens.auth("admin")).json
    assert [e["kind"] for e in story["entries"]] == ["pause", "issued", "other_called", "called", "started", "finished"]
    assert day_client.get(f"/api/v1/branches/day/reports/tickets/{DAY}/Z999", headers=tokens.auth("admin")).status_code == 404
    assert day_client.get("/api/v1/branches/day/reports/tickets/March/A003", headers=tokens.auth("admin")).status_code == 422


def test_cli_report_writes_the_same_csv(day_client: FlaskClient, tokens: Tokens, runner: FlaskCliRunner, tmp_path: Path) -> None:
    api = day_client.get(f"/api/v1/branches/day/reports/history/by_counter.csv?from={DAY}&to={DAY}", headers=tokens.auth("admin")).data.decode()
    result = runner.invoke(args=["report", "day", "--from", DAY, "--to", DAY, "--table", "by_counter"])
    assert result.exit_code == 0, result.output
    assert result.output == api
    result = runner.invoke(args=["report", "day", "--to", DAY, "--out-dir", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / f"day-pauses-2026-02-24-{DAY}.csv").read_text().startswith("reason,pauses,")
    bad = runner.invoke(args=["report", "day", "--table", "nope"])
    assert bad.exit_code != 0 and "by_service" in bad.output
    bad = runner.invoke(args=["report", "day", "--from", "soon"])
    assert bad.exit_code != 0 and "'from' must be a date" in bad.output
    assert runner.invoke(args=["report", "nowhere"]).exit_code != 0


def test_a_restarted_server_reports_the_same_numbers(tmp_path: Path, clock: ManualClock) -> None:
    first = make_test_app(tmp_path, clock)
    admin = {"Authorization": "Bearer " + first.extensions["queue_board"].store.create_token("root", "admin", None, None)}
    client = first.test_client()
    body = "".join(json.dumps(line) + "\n" for line in report_day_lines())
    assert client.post("/api/v1/branches/day/import", data=body, headers={**admin, "Content-Type": "application/x-ndjson"}).status_code == 201
    before = client.get(HISTORY, headers=admin).json
    second = make_test_app(tmp_path, clock)
    after = second.test_client().get(HISTORY, headers=admin).json
    assert after == before


def _manage_client(app: Flask, token: str, **auth: Any) -> Any:
    return live.server(app).test_client(app, namespace="/manage", auth={"token": token, **auth})


def _received(client: Any, name: str) -> list[dict[str, Any]]:
    return [message["args"][0] for message in client.get_received("/manage") if message["name"] == name]


def test_a_tellers_pause_reaches_the_dashboard_without_a_reload(app: Flask, client: FlaskClient, tokens: Tokens, clock: ManualClock) -> None:
    post = lambda path, role, body=None: client.post(f"/api/v1/branches/main{path}", json=body or {}, headers=tokens.auth(role))  # noqa: E731
    assert post("/counters/1/open", "teller1").status_code in (200, 201)
    manager = _manage_client(app, tokens.manager, branch="main")
    assert manager.is_connected("/manage")
    first = _received(manager, "dashboard")
    assert first and {c["counter"]: c["activity"] for c in first[-1]["counters"]}["1"] == "idle"
    clock.advance(60)
    response = post("/counters/1/pause", "teller1", {"reason": "break", "minutes": 5})
    assert response.status_code in (200, 201), response.json
    pushed = _received(manager, "dashboard")
    assert pushed, "no dashboard pushed after the pause"
    view = pushed[-1]
    assert {c["counter"]: c["activity"] for c in view["counters"]}["1"] == "paused"
    assert view["timeline"]["1"][-1][2:] == ["paused", "break"]


def test_the_dashboard_namespace_refuses_who_does_not_manage_the_branch(app: Flask, tokens: Tokens) -> None:
    for token in (tokens.other_branch_manager, tokens.teller1, tokens.display, "nonsense"):
        refused = _manage_client(app, token, branch="main")
        assert not refused.is_connected("/manage"), token


def test_the_overview_reorders_when_a_branchs_queue_grows(app: Flask, client: FlaskClient, tokens: Tokens, clock: ManualClock) -> None:
    service = app.extensions["queue_board"]
    service.set_config("north", service.config("main").to_dict())
    for branch in ("main", "north"):
        assert client.post(f"/api/v1/branches/{branch}/counters/1/open", json={}, headers=tokens.auth("admin")).status_code in (200, 201)
    overview = _manage_client(app, tokens.admin, overview=True)
    first = _received(overview, "overview")[-1]["branches"]
    assert sorted(row["branch"] for row in first) == ["main", "north"]
    # north's counter pauses and its queue grows past the target: it goes to the top
    assert client.post("/api/v1/branches/north/counters/1/pause", json={"reason": "break", "minutes": 1}, headers=tokens.auth("admin")).status_code in (200, 201)
    service_code = service.config("north").services[0].code
    for _ in range(3):
        taken = client.post("/api/v1/branches/north/tickets", json={"service": service_code}, headers=tokens.auth("admin"))
        assert taken.status_code == 201, taken.json
    clock.advance(20 * 60)
    assert client.post("/api/v1/branches/main/tickets", json={"service": service_code}, headers=tokens.auth("admin")).status_code == 201
    rows = [row["branch"] for row in client.get("/api/v1/overview", headers=tokens.auth("admin")).json["branches"]]
    assert rows[0] == "north"
    pushed = _received(overview, "branch_row")
    assert any(row["branch"] == "north" and row["waiting"] == 3 for row in pushed)
    # a manager of one branch sees only that one
    mine = client.get("/api/v1/overview", headers=tokens.auth("manager")).json["branches"]
    assert [row["branch"] for row in mine] == ["main"]
    assert client.get("/api/v1/overview", headers=tokens.auth("teller1")).status_code == 403


def test_a_dashboard_is_built_after_a_write_only_while_someone_watches(app: Flask, client: FlaskClient, tokens: Tokens) -> None:
    """Building a busy branch's dashboard costs milliseconds a write; with no manager's dashboard
    or overview open on the branch (and no message queue, behind which another process's
    managers might watch) nothing is built, and a manager who opens one gets it built then."""
    reports = app.extensions["queue_board"].reports
    built: list[str] = []
    original = reports.dashboard

    def counting(branch: str, *args: Any, **kwargs: Any) -> Any:
        built.append(branch)
        return original(branch, *args, **kwargs)

    reports.dashboard = counting
    post = lambda path, role, body=None: client.post(f"/api/v1/branches/main{path}", json=body or {}, headers=tokens.auth(role))  # noqa: E731
    assert post("/counters/1/open", "teller1").status_code == 201
    assert post("/tickets", "kiosk", {"service": "deposit"}).status_code == 201
    assert built == []
    manager = _manage_client(app, tokens.manager, branch="main")
    assert built == ["main"]  # the one the manager was sent on connecting
    assert post("/counters/1/call-next", "teller1").status_code == 201
    assert built == ["main", "main"] and _received(manager, "dashboard")
    manager.disconnect("/manage")
    assert post("/counters/1/start", "teller1").status_code == 201
    assert built == ["main", "main"]
