"""The OpenAPI description at ``/api/v1/openapi.json`` (docs/api.md "Schemas and OpenAPI"): a
valid OpenAPI 3.1 document, generated from the URL map (every API rule is in it, every endpoint
has its row), and the server keeps it: schemathesis sends every operation generated requests,
valid and invalid, as an admin, and no answer is a 5xx or breaks the declared status, media type
or schema."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from conftest import SHARED, Tokens
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from queue_board.core.events import EVENT_FIELDS
from queue_board.core.teller_actions import ACTIONS
from queue_board.service.errors import ProblemError
from queue_board.web.api.openapi import OPERATIONS, api_rules
from queue_board.web.api.openapi import document as openapi_document
from queue_board.web.api.schemas import ACTION_BODIES, BODIES, EventBody, parsed

# schemathesis's requests are many writes from one token and one kiosk: the limits would answer
# most of them with 429 (declared, but it would test little else); a small forecast keeps it quick
pytestmark = pytest.mark.app_settings(
    API_WRITE_LIMIT="100000 per minute", KIOSK_TICKET_LIMIT="100000 per minute", FORECAST_SCENARIOS=16
)

API = "/api/v1/branches/main"
#: examples per operation and mode: 30 valid and 30 invalid requests to each of the ~40 operations
EXAMPLES = 30
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def fetch(client: FlaskClient) -> dict[str, Any]:
    """The served document."""
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    document = response.json
    assert isinstance(document, dict)
    return document


def test_the_document_is_served_without_a_token_and_is_valid_openapi_3_1(client: FlaskClient) -> None:
    document = fetch(client)
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises on an invalid document
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "a token of `queue-board token create`"
    }


def test_every_api_rule_of_the_url_map_is_described_by_its_own_row(app: Flask, client: FlaskClient) -> None:
    paths = fetch(client)["paths"]
    rules = api_rules(app)
    assert len(rules) >= 25
    for rule in rules:
        path = rule.rule.replace("<path:key>", "{key}").replace("<", "{").replace(">", "}")
        expanded = [path.replace("{action}", action) for action in ACTIONS] if "{action}" in path else [path]
        for one in expanded:
            for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
                assert method.lower() in paths.get(one, {}), (one, method)
        # documented by a row of the table, not only generically
        assert rule.endpoint in OPERATIONS, rule.endpoint
    # and nothing described that the server does not route
    routed = {rule.rule.replace("<path:key>", "{key}").replace("<", "{").replace(">", "}") for rule in rules}
    for path in paths:
        assert path in routed or path.rsplit("/", 1)[0] + "/{action}" in routed, path


def test_each_teller_action_has_its_own_body_and_writes_name_their_roles(client: FlaskClient) -> None:
    paths = fetch(client)["paths"]
    pause = paths["/api/v1/branches/{branch}/counters/{counter}/pause"]["post"]
    assert pause["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/PauseBody"}
    assert "requestBody" not in paths["/api/v1/branches/{branch}/counters/{counter}/finish"]["post"]
    assert set(ACTION_BODIES) == set(ACTIONS)
    ticket = paths["/api/v1/branches/{branch}/tickets"]["post"]
    assert ticket["x-roles"] == ["kiosk", "manager", "admin"] and ticket["security"] == [{"bearerAuth": []}]
    assert {"401", "403", "409", "413", "422", "429", "201"} <= set(ticket["responses"])
    assert paths["/healthz"]["get"]["security"] == [] and "503" in paths["/healthz"]["get"]["responses"]


def test_path_labels_carry_the_charset_and_length_of_the_label_rule(client: FlaskClient) -> None:
    import re

    from queue_board.core.fields import MAX_NAME_LENGTH, name_problem

    operation = fetch(client)["paths"]["/api/v1/branches/{branch}/tickets/{ticket}/cancel"]["post"]
    schema = next(p["schema"] for p in operation["parameters"] if p["name"] == "ticket")
    assert schema["maxLength"] == MAX_NAME_LENGTH
    pattern = re.compile(schema["pattern"])
    for label in ("A001", "AA0201-34853", "MICHAL", "櫃檯 3", "A/1", "<b>", "A\n1", "A\u200b1", "a\\b", "\u2028"):
        # the pattern refuses what the rule refuses (within the BMP; blank-only is the description's)
        assert (pattern.match(label) is not None) == (name_problem(label) is None), label


def test_every_body_model_is_a_component(client: FlaskClient) -> None:
    components = fetch(client)["components"]["schemas"]
    for model in BODIES:
        assert model.__name__ in components
    event = components["EventBody"]
    # one variant per event type of the core's table, with the fields it requires
    assert {"properties": {"type": {"const": "ticket_called"}}, "required": ["type", "ticket", "counter"]} in event["oneOf"]
    assert len(event["oneOf"]) == len(EVENT_FIELDS) and "told" not in event["properties"]


def test_the_document_is_built_once_per_app(app: Flask, client: FlaskClient) -> None:
    assert fetch(client) == fetch(client)
    assert app.extensions["queue_board_openapi"]["document"] == openapi_document(app)


def test_a_refused_body_names_its_field_as_every_422_does(app: Flask) -> None:
    refused = {"type": "counter_paused", "counter": "1", "minutes": "soon"}
    with app.test_request_context(json=refused), pytest.raises(ProblemError) as problem:
        parsed(EventBody)
    assert problem.value.status == 422 and problem.value.details == {"field": "minutes"}
    assert problem.value.message == "must be a number"  # the core's own words
    with app.test_request_context(json={"type": "counter_closed", "counter": "1", "ignored": True}):
        body = parsed(EventBody)
    # accepted as the core accepts it, and handed on exactly as sent
    assert body.raw == {"type": "counter_closed", "counter": "1", "ignored": True} and body.counter == "1"


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        # the server's own fields are named before the shape of the rest, as the service always did
        ("/events", {"ts": "2026-03-02T09:00:00+08:00", "type": "nonsense"}, 422, "ts"),
        ("/events", {"type": "counter_closed", "counter": "1", "told_raw": {"p10": 1, "p50": 2, "p90": 3}}, 422, "told_raw"),
        # what depends on the state comes before what the built event would be refused for
        ("/counters/1/heads-up", {"reason": "printing", "minutes": "long"}, 409, None),
        ("/counters/1/transfer", {"service": "gold/bars"}, 404, None),
        ("/counters/1/call", {"ticket": ""}, 422, "ticket"),
        ("/counters/1/call", {"ticket": "A/1"}, 422, "ticket"),
        ("/counters/1/open", {"services": [["deposit"]], "express_minutes": 0}, 422, "express_minutes"),
        ("/counters/1/open", {"services": [["gold"]]}, 422, "services"),
        ("/counters/1/pause", {"minutes": -1}, 422, "minutes"),
        # what a button ignores stays ignored
        ("/counters/1/open", {"whatever": {"deep": [1, 2]}}, 201, None),
        ("/events", {"type": "counter_opened", "counter": "3", "services": ["loan"], "minutes": "not read"}, 201, None),
        ("/warnings/idle:1/acknowledge", {"note": 5}, 422, "note"),
        ("/warnings/idle:1/acknowledge", {"seen": True}, 422, "seen"),
        ("/feedback", {"kind": "complaint", "channel": "phone", "category": "waiting", "text": "  "}, 422, "text"),
        ("/feedback", {"kind": "complaint", "by": "me"}, 422, "by"),
        ("/feedback/F0001", {"status": "closed", "satisfaction": 9}, 422, "satisfaction"),
        ("/tickets", {"service": 5}, 422, "service"),
        ("/tickets", {"service": "gold"}, 404, "service"),
    ],
)
def test_a_body_is_judged_by_the_rule_and_in_the_order_it_always_was(
    client: FlaskClient, tokens: Tokens, path: str, body: dict[str, Any], status: int, field: str | None
) -> None:
    before = client.get(f"{API}/events?limit=5000", headers=tokens.auth("admin")).get_json()["events"]
    response = client.post(API + path, json=body, headers=tokens.auth("manager"))
    assert response.status_code == status, response.json
    if status != 201:
        assert response.get_json().get("field") == field, response.json
        assert client.get(f"{API}/events?limit=5000", headers=tokens.auth("admin")).get_json()["events"] == before


def test_the_ticket_links_are_described_with_the_credential_each_takes(client: FlaskClient) -> None:
    paths = fetch(client)["paths"]
    link = paths["/t/links"]["post"]
    assert link["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/TicketLinkBody"}
    assert link["x-roles"] == ["kiosk", "manager", "admin"]
    assert {"201", "404", "413", "422", "503"} <= set(link["responses"])
    state = paths["/t/{signed}/state"]["get"]
    # the signed link is the credential: no token
    assert state["security"] == [] and "x-roles" not in state
    assert state["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["status"]["enum"][0] == "unknown"
    assert "image/svg+xml" in paths["/t/{signed}/qr.svg"]["get"]["responses"]["200"]["content"]
    assert "text/html" in paths["/t/{signed}"]["get"]["responses"]["404"]["content"]


def test_an_unsigned_links_qr_code_is_a_json_404(client: FlaskClient) -> None:
    response = client.get("/t/forged.link/qr.svg")
    assert response.status_code == 404
    assert response.json == {"error": "not_found", "message": "no such ticket link"}


# schemathesis ---------------------------------------------------------------------------------
# an import is JSON Lines, sent as the text it is
schemathesis.serializer.alias("application/x-ndjson", "text/plain")


def _operation_ids() -> list[str]:
    """Every operation's id, from the table (a teller's action is one operation per action)."""
    ids: list[str] = []
    for endpoint in sorted(OPERATIONS):
        name = endpoint.split(".", 1)[1]
        ids.extend(f"{name}_{action.replace('-', '_')}" for action in ACTIONS) if name == "counter_action" else ids.append(name)
    return ids


def _seed(app: Flask, tokens: Tokens) -> None:
    """An open counter, people waiting and one called: the tellers' buttons meet a real state."""
    client = app.test_client()
    for path, body, role in (
        ("/counters/1/open", None, "teller1"),
        ("/counters/2/open", None, "teller2"),
        ("/tickets", {"service": "deposit"}, "kiosk"),
        ("/tickets", {"service": "deposit"}, "kiosk"),
        ("/tickets", {"service": "remittance"}, "kiosk"),
        ("/counters/1/call-next", None, "teller1"),
    ):
        assert client.post(API + path, json=body, headers=tokens.auth(role)).status_code == 201


# schemathesis's pytest loader (``from_fixture``) reads a node attribute pytest 9 no longer has:
# each operation is driven here with its hypothesis strategy instead, through the same WSGI call
#: the operations that take nothing a request could get wrong (no path, query, body or token)
NO_INPUT = {endpoint.split(".", 1)[1] for endpoint, operation in OPERATIONS.items() if not operation.roles}


@pytest.mark.parametrize(
    ("mode", "operation_id"),
    [
        pytest.param(mode, operation_id, id=f"{mode.value}-{operation_id}")
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        for operation_id in _operation_ids()
        if mode is GenerationMode.POSITIVE or operation_id not in NO_INPUT
    ],
)
def test_no_operation_answers_5xx_or_breaks_its_schema(app: Flask, tokens: Tokens, mode: GenerationMode, operation_id: str) -> None:
    _seed(app, tokens)
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app).find_operation_by_id(operation_id)
    admin = tokens.auth("admin")

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    def run(case: Any) -> None:
        # most generated branch ids name no branch (a 404): one example in two goes to the demo
        # branch and its counter 1 instead, so that the views behind the 404 are reached too
        parameters = case.path_parameters or {}
        if "branch" in parameters and len(str(parameters["branch"])) % 2 == 0:
            parameters["branch"] = "main"
            if "counter" in parameters:
                parameters["counter"] = "1"
        case.call_and_validate(headers=admin, checks=CHECKS)

    run()


def test_every_line_of_the_shared_logs_keeps_the_import_line_schema(client: FlaskClient, tokens: Tokens) -> None:
    """The import's body is described line by line (``LogLineBody``); the real and simulated logs
    keep that description, and a line it refuses is refused by the import too."""
    import json

    from jsonschema import Draft202012Validator

    document = fetch(client)
    body = document["paths"]["/api/v1/branches/{branch}/import"]["post"]["requestBody"]["content"]["application/x-ndjson"]["schema"]
    assert body["x-line-schema"] == {"$ref": "#/components/schemas/LogLineBody"}
    line_schema = {"$ref": "#/components/schemas/LogLineBody", "components": document["components"]}
    validator = Draft202012Validator(line_schema)
    seen: set[str] = set()
    for log in sorted((SHARED / "data").glob("*.jsonl")):
        with log.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                event = json.loads(line)
                # every type and the first 2,000 lines of each log: the whole bank month is slow to check
                if number > 2000 and event["type"] in seen:
                    continue
                seen.add(event["type"])
                errors = [error.message for error in validator.iter_errors(event)]
                assert not errors, (log.name, number, errors[:3])
    assert {"ticket_issued", "service_started", "service_finished", "counter_paused"} <= seen
    refused = {"ts": "2026-03-02T09:00:00+08:00", "type": "ticket_issued", "ticket": "A/1", "service": "deposit"}
    assert list(validator.iter_errors(refused)), "a label with / breaks the line schema"
    imported = client.post(
        "/api/v1/branches/other/import",
        data=json.dumps(refused) + "\n",
        headers={**tokens.auth("admin"), "Content-Type": "application/x-ndjson"},
    )
    assert imported.status_code == 422 and imported.json["line"] == 1  # type: ignore[index]
