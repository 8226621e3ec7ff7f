"""The API's OpenAPI 3.1 description, served at ``GET /api/v1/openapi.json`` (docs/api.md
"Schemas and OpenAPI").

Generated, never hand-kept: the paths are the app's URL map (the rules of the ``api`` and
``health`` blueprints; a teller's ``<action>`` expanded into one operation per action of
:data:`~queue_board.core.teller_actions.ACTIONS`, each with its own body), the request bodies
are the models of :mod:`.schemas`, a summary is the first line of its view's docstring. What
the URL map cannot tell (the roles, the answer, the query) is :data:`OPERATIONS`, one row per
endpoint; an endpoint without a row is still described, generically, and the tests refuse it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify
from pydantic.json_schema import models_json_schema
from werkzeug.routing import Rule

from queue_board.core.events import MAX_WARNING_KEY
from queue_board.core.fields import MAX_NAME_LENGTH
from queue_board.core.teller_actions import ACTIONS
from queue_board.service.feedback import FILTER_WORDS
from queue_board.web.api.errors import HTTP_ERRORS
from queue_board.web.api.routes import KEY_CHARACTERS, MAX_KEY_LENGTH
from queue_board.web.api.schemas import (
    BODIES,
    AcknowledgeBody,
    Body,
    ConfigBody,
    EventBody,
    FeedbackRecordBody,
    FeedbackUpdateBody,
    NoBody,
    TicketBody,
    TicketLinkBody,
    action_body,
    label_schema,
)

#: the endpoint of the document itself
ENDPOINT = "api.openapi"
#: the blueprints whose rules the document describes: the API, the health check, and the
#: customers' ticket links (the kiosk asks for one; a phone reads its state and QR code)
BLUEPRINTS = ("api", "health", "tickets")
#: the API's version, as its URL prefix says
VERSION = "1"

JSON = "application/json"
#: every API error: ``{"error", "message", …}`` (docs/api.md "Errors")
PROBLEM_CODES = sorted({"bad_request", "invalid", "not_found", "conflict", "unauthorized", "forbidden", "too_many_requests",
                        *HTTP_ERRORS.values(), "http_error"})
ERROR_WHEN = {
    400: "the body is not a JSON object, not JSON, nested too deeply, not UTF-8",
    401: "no token, an unknown or a revoked token",
    403: "the token's role or branch/counter binding does not allow this",
    404: "no such branch (or ticket, service, feedback, table, warning, ticket link)",
    409: "the request does not fit the branch's state",
    413: "the body is over the endpoint's limit",
    422: "a field, a path label or a query argument is missing or wrong (`field` names it; an import: `line`)",
    429: "a rate limit is used up (`retry_after`, `Retry-After`)",
}


@dataclass(frozen=True, slots=True)
class Query:
    """A query argument: its name, JSON Schema and meaning."""

    name: str
    schema: dict[str, Any]
    description: str


@dataclass(frozen=True, slots=True)
class Operation:
    """What the URL map cannot say of an endpoint.

    ``roles`` are the roles that may call it (empty: no authentication); ``body`` the model of
    its JSON body (``None``: none); ``response`` the JSON Schema of its success answer (status
    ``status``, media type ``media``); ``writes``: it may store an event (so 409, 413, and an
    ``Idempotency-Key``)."""

    roles: tuple[str, ...]
    status: int = 200
    response: dict[str, Any] | None = None
    body: type[Body] | None = None
    body_required: bool = True
    body_media: str = JSON
    #: the schema of a body that is text, not JSON (an import's JSON Lines)
    body_text: dict[str, Any] | None = None
    media: str = JSON
    query: tuple[Query, ...] = ()
    writes: bool = False
    #: when it answers 503 (the health check: the database is unreachable), and with what
    #: (default: a problem)
    unavailable: str | None = None
    unavailable_body: dict[str, Any] | None = None
    #: statuses it may answer besides those its roles, path, input and writes imply
    errors: tuple[int, ...] = ()
    #: the media type and schema of its 404, when it is not a problem (an HTML page's)
    not_found_media: str | None = None


OBJECT: dict[str, Any] = {"type": "object"}
TEXT: dict[str, Any] = {"type": "string"}
ACCEPTED: dict[str, Any] = {
    "type": "object",
    "required": ["seq", "event"],
    "properties": {"seq": {"type": "integer", "minimum": 1}, "event": {"type": "object", "required": ["ts", "type"]}},
}
ISSUED: dict[str, Any] = {
    "type": "object",
    "required": ["seq", "event", "ticket"],
    "properties": {
        **ACCEPTED["properties"],
        "ticket": {
            "type": "object",
            "required": ["ticket", "service", "people_ahead", "wait"],
            "properties": {
                "ticket": {"type": "string"},
                "service": {"type": "string"},
                "people_ahead": {"type": "integer", "minimum": 0},
                "wait": {"anyOf": [{"$ref": "#/components/schemas/Range"}, {"type": "null"}]},
            },
        },
    },
}
SNAPSHOT: dict[str, Any] = {
    "type": "object",
    "required": ["branch", "seq", "services", "counters", "now_serving", "waiting"],
    "properties": {
        "branch": {"type": "string"},
        "seq": {"type": "integer", "minimum": 0},
        "services": {"type": "array", "items": OBJECT},
        "counters": {"type": "array", "items": {"type": "object", "required": ["name", "status", "ticket", "actions"]}},
        "now_serving": {"type": "array", "items": OBJECT},
        "waiting": {"type": "array", "items": {"type": "object", "required": ["ticket", "service", "position"]}},
    },
}
BRANCHES: dict[str, Any] = {
    "type": "object",
    "required": ["branches"],
    "properties": {
        "branches": {
            "type": "array",
            "items": {"type": "object", "required": ["id", "name"], "properties": {"id": TEXT, "name": TEXT}},
        }
    },
}
DATE: dict[str, Any] = {"type": "string", "format": "date"}
HTML = "text/html"
#: an import's body: JSON Lines, each line a LogLineBody (OpenAPI 3.1 has no schema for a line of
#: a sequential media type, hence the extension keyword)
IMPORT_LINES: dict[str, Any] = {
    "type": "string",
    "description": "JSON Lines (docs/event-log.md): one event a line, each a `LogLineBody`; blank lines are skipped. "
    "The first refused line is named (422 with `line`) and nothing is stored.",
    "x-line-schema": {"$ref": "#/components/schemas/LogLineBody"},
}
NULLABLE_TEXT: dict[str, Any] = {"type": ["string", "null"]}
TICKET_LINK: dict[str, Any] = {
    "type": "object",
    "required": ["ticket", "day", "url", "path", "qr"],
    "properties": {
        "ticket": TEXT,
        "day": DATE,
        "url": {"type": "string", "description": "the ticket page on QB_PUBLIC_URL (what the QR code holds)"},
        "path": {"type": "string", "description": "the same page's path on this server"},
        "qr": {"type": "string", "description": "the path of its QR code (SVG)"},
    },
}
TICKET_STATE: dict[str, Any] = {
    "type": "object",
    "required": ["ticket", "branch", "day", "seq", "status", "people_ahead", "wait", "counter", "wait_overdue", "repromise"],
    "properties": {
        "ticket": TEXT,
        "branch": TEXT,
        "day": TEXT,
        "seq": {"type": "integer", "minimum": 0},
        "status": {"type": "string", "enum": ["unknown", "expired", "waiting", "called", "serving", "done", "no_show", "cancelled"]},
        "service": NULLABLE_TEXT,
        "people_ahead": {"type": ["integer", "null"], "minimum": 0},
        "wait": {"anyOf": [{"$ref": "#/components/schemas/Range"}, {"type": "null"}]},
        "counter": NULLABLE_TEXT,
        "called_at": NULLABLE_TEXT,
        "issued_at": NULLABLE_TEXT,
        "now": NULLABLE_TEXT,
        "recalls": {"type": "integer", "minimum": 0},
        "wait_overdue": {"type": "boolean"},
        "repromise": {"type": ["object", "null"]},
    },
}
SIGNED: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "description": "a ticket link's signed part, as POST /t/links answers it (the link is the credential)",
}
PERIOD = (
    Query("from", DATE, "first day (default: 7 days before `to`)"),
    Query("to", DATE, "last day (default: the latest recorded day)"),
)
TARGET = Query("target", {"type": "number", "exclusiveMinimum": 0, "maximum": 240}, "service-level target, minutes")
FILTERS = (
    Query("service", {"type": "string", "maxLength": MAX_NAME_LENGTH}, "only this service"),
    Query("counter", {"type": "string", "maxLength": MAX_NAME_LENGTH}, "only this counter"),
)
FEEDBACK_FILTERS = tuple(Query(name, {"type": "string", "enum": list(words)}, f"only this {name}") for name, words in FILTER_WORDS.items())
MANAGERS = ("manager", "admin")
READERS = ("display", "kiosk", "teller", "manager", "admin")

#: one row per endpoint (``blueprint.view``); counter actions take their body from :func:`action_body`
OPERATIONS: dict[str, Operation] = {
    "health.healthz": Operation(
        (),
        response={"type": "object", "required": ["status", "database"], "properties": {"status": TEXT, "database": TEXT}},
        unavailable="the database is unreachable",
        unavailable_body={"type": "object", "required": ["status", "database"], "properties": {"status": TEXT, "database": TEXT}},
    ),
    ENDPOINT: Operation((), response={"type": "object", "required": ["openapi", "paths"]}),
    "api.list_branches": Operation(READERS, response=BRANCHES),
    "api.get_config": Operation(READERS, response={"$ref": "#/components/schemas/ConfigBody"}),
    "api.put_config": Operation(("admin",), response={"$ref": "#/components/schemas/ConfigBody"}, body=ConfigBody, writes=True),
    "api.snapshot": Operation(READERS, response=SNAPSHOT),
    "api.post_event": Operation(MANAGERS, status=201, response=ACCEPTED, body=EventBody, writes=True),
    "api.list_events": Operation(
        MANAGERS,
        response={"type": "object", "required": ["events"], "properties": {"events": {"type": "array", "items": OBJECT}}},
        query=(
            Query("after", {"type": "integer", "minimum": 0, "maximum": 2**62}, "events after this seq (default 0)"),
            Query("limit", {"type": "integer", "minimum": 1, "maximum": 5000}, "at most this many (default 500)"),
        ),
    ),
    "api.export_log": Operation(MANAGERS, response=TEXT, media="application/x-ndjson"),
    "api.import_log": Operation(
        ("admin",),
        status=201,
        response={"type": "object", "required": ["imported", "seq"], "properties": {"imported": {"type": "integer"}, "seq": {"type": "integer"}}},
        body_media="application/x-ndjson",
        body_text=IMPORT_LINES,
        writes=True,
    ),
    "api.take_ticket": Operation(("kiosk", "manager", "admin"), status=201, response=ISSUED, body=TicketBody, writes=True),
    "api.cancel_ticket": Operation(("kiosk", "manager", "admin"), status=201, response=ACCEPTED, writes=True),
    "api.counter_action": Operation(("teller", "manager", "admin"), status=201, response=ACCEPTED, body_required=False, writes=True),
    "api.dashboard": Operation(MANAGERS, response=OBJECT, query=(TARGET,)),
    "api.history": Operation(MANAGERS, response=OBJECT, query=(*PERIOD, TARGET, *FILTERS)),
    "api.history_csv": Operation(MANAGERS, response=TEXT, media="text/csv", query=(*PERIOD, TARGET, *FILTERS)),
    "api.ticket_story": Operation(MANAGERS, response=OBJECT),
    "api.express": Operation(
        MANAGERS,
        response=OBJECT,
        query=(
            *PERIOD,
            Query("minutes", {"type": "string"}, "the N of 'express <= N min' to weigh, e.g. 3,5,8"),
            Query("counters", {"type": "string"}, "counters for the what-if"),
        ),
    ),
    "api.overview": Operation(MANAGERS, response={"type": "object", "required": ["branches", "target_minutes"]}),
    "api.record": Operation(MANAGERS, status=201, response=ACCEPTED, body=FeedbackRecordBody, writes=True),
    "api.listing": Operation(MANAGERS, response={"type": "object", "required": ["items", "tables"]}, query=(*PERIOD, *FEEDBACK_FILTERS)),
    "api.table_csv": Operation(MANAGERS, response=TEXT, media="text/csv", query=(*PERIOD, *FEEDBACK_FILTERS)),
    "api.day_tickets": Operation(MANAGERS, response={"type": "object", "required": ["tickets", "days"]}, query=(Query("day", DATE, "default: the latest"),)),
    "api.update": Operation(MANAGERS, status=201, response=ACCEPTED, body=FeedbackUpdateBody, writes=True),
    "api.one": Operation(MANAGERS, response=OBJECT),
    "api.warnings": Operation(MANAGERS, response={"type": "object", "required": ["on", "today"]}),
    "api.acknowledge_warning": Operation(MANAGERS, status=201, response=ACCEPTED, body=AcknowledgeBody, body_required=False, writes=True),
    "tickets.ticket_link": Operation(
        ("kiosk", "manager", "admin"),
        status=201,
        response=TICKET_LINK,
        body=TicketLinkBody,
        errors=(404, 413),
        unavailable="QB_PUBLIC_URL is not set (outside the demo): a link needs the server's public address",
    ),
    "tickets.ticket_state_json": Operation((), response=TICKET_STATE, errors=(404,)),
    "tickets.ticket_qr": Operation((), response=TEXT, media="image/svg+xml", errors=(404,)),
    "tickets.ticket_page": Operation((), response=TEXT, media=HTML, errors=(404,), not_found_media=HTML),
}

#: the path parameters that are not labels, and their JSON Schema
PATH_SCHEMAS: dict[str, dict[str, Any]] = {
    "table": {"type": "string", "minLength": 1, "description": "a table's name (the JSON answer lists them)"},
    "day": {"type": "string", "format": "date"},
    "key": {"type": "string", "minLength": 1, "maxLength": MAX_WARNING_KEY, "description": "a warning's key (idle:3, promise:A012)"},
    "feedback_id": {"type": "string", "minLength": 1, "maxLength": MAX_NAME_LENGTH, "description": "F0001, F0002, …"},
    "signed": SIGNED,
}
LABELS = {"branch": "a branch id", "counter": "a counter name", "ticket": "a ticket label"}
IDEMPOTENCY_KEY: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "a retried write with the same key is stored once and answered the same (docs/api.md \"Idempotency\")",
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_KEY_LENGTH,
        "pattern": f"^[\\u{ord(min(KEY_CHARACTERS)):04X}-\\u{ord(max(KEY_CHARACTERS)):04X}]+$",
    },
}


def add_openapi_route(api_bp: Blueprint) -> None:
    """Serve the document at the blueprint's ``/openapi.json``, without authentication."""
    api_bp.add_url_rule("/openapi.json", ENDPOINT.split(".", 1)[1], view_func=openapi_json, methods=["GET"])


def openapi_json() -> Response:
    """The API's OpenAPI 3.1 description, generated from the URL map and the body schemas."""
    cache = current_app.extensions.setdefault("queue_board_openapi", {})
    if "document" not in cache:
        cache["document"] = document(current_app)
    return jsonify(cache["document"])


def _path(rule: Rule) -> str:
    """A werkzeug rule as an OpenAPI path template (``<path:key>`` → ``{key}``)."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


def _parameters(arguments: list[str], query: tuple[Query, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name in arguments:
        schema = label_schema(LABELS[name]) if name in LABELS else PATH_SCHEMAS.get(name, {"type": "string", "minLength": 1})
        out.append({"name": name, "in": "path", "required": True, "schema": schema})
    out.extend({"name": q.name, "in": "query", "required": False, "description": q.description, "schema": q.schema} for q in query)
    return out


def _responses(operation: Operation, has_path_labels: bool, has_input: bool) -> dict[str, Any]:
    success: dict[str, Any] = {"description": "done" if operation.writes else "the answer"}
    if operation.response is not None:
        success["content"] = {operation.media: {"schema": operation.response}}
    out: dict[str, Any] = {str(operation.status): success}
    errors: set[int] = set()
    if operation.roles:
        errors |= {401, 403, 429}
    if has_path_labels:
        errors |= {404, 422}
    if has_input:
        errors |= {400, 422}
    if operation.writes:
        errors |= {400, 404, 409, 413, 422}
    errors |= set(operation.errors)
    if operation.unavailable is not None:
        body = operation.unavailable_body or {"$ref": "#/components/schemas/Problem"}
        out["503"] = {"description": operation.unavailable, "content": {JSON: {"schema": body}}}
    for status in sorted(errors):
        out[str(status)] = {"$ref": f"#/components/responses/E{status}"}
    if operation.not_found_media is not None:
        out["404"] = {"description": "no such ticket link (the page says so)", "content": {operation.not_found_media: {"schema": TEXT}}}
    return out


def _operation(app: Flask, rule: Rule, method: str, endpoint: str, action: str | None) -> dict[str, Any]:
    """One operation of the document."""
    operation = OPERATIONS.get(endpoint) or Operation(READERS)
    view = app.view_functions[rule.endpoint]
    summary = (view.__doc__ or endpoint).strip().splitlines()[0]
    arguments = [name for name in _arguments(rule) if name != "action"]
    body: type[Body] | None = action_body(action) if action is not None else operation.body
    out: dict[str, Any] = {
        "operationId": endpoint.split(".", 1)[1] + (f"_{action.replace('-', '_')}" if action else ""),
        "summary": f"{action}: {summary}" if action else summary,
        "tags": [_tag(rule)],
        "parameters": _parameters(arguments, operation.query),
        "security": [{"bearerAuth": []}] if operation.roles else [],
    }
    if operation.roles:
        out["description"] = "Roles: " + ", ".join(f"`{role}`" for role in operation.roles) + "."
        out["x-roles"] = list(operation.roles)
    if operation.writes:
        out["parameters"].append(IDEMPOTENCY_KEY)
    if body is not None and body is not NoBody:
        out["requestBody"] = {
            "required": operation.body_required,
            "content": {JSON: {"schema": {"$ref": f"#/components/schemas/{body.__name__}"}}},
        }
    elif operation.body_media != JSON:
        out["requestBody"] = {"required": True, "content": {operation.body_media: {"schema": operation.body_text or TEXT}}}
    has_input = "requestBody" in out or bool(operation.query)
    out["responses"] = _responses(operation, any(name in LABELS for name in arguments), has_input)
    return out


def _arguments(rule: Rule) -> list[str]:
    """The rule's variables in the order of the path."""
    return re.findall(r"<(?:[^:<>]+:)?([^<>]+)>", rule.rule)


def _tag(rule: Rule) -> str:
    """The part of the API a rule belongs to: its blueprint outside the API (``health``,
    ``tickets``), else the word after the branch (``reports``, ``feedback``)."""
    blueprint = str(rule.endpoint).split(".", 1)[0]
    if blueprint != "api":
        return blueprint
    parts = [p for p in rule.rule.split("/") if p and not p.startswith("<")]
    return parts[3] if len(parts) > 3 and parts[2] == "branches" else parts[-1].split(".")[0]


def api_rules(app: Flask) -> list[Rule]:
    """The rules the document describes: those of the API's and the health check's blueprints."""
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint.split(".", 1)[0] in BLUEPRINTS), key=lambda r: r.rule)


def _component_schemas() -> dict[str, Any]:
    _, defs = models_json_schema([(model, "validation") for model in BODIES], ref_template="#/components/schemas/{model}")
    schemas: dict[str, Any] = _without_null_defaults(defs.get("$defs", {}))
    schemas["PooledPrior"] = {
        "type": "object",
        "required": ["values", "weight", "branches"],
        "properties": {
            "values": {"type": "array", "items": {"type": "number", "minimum": 0}, "minItems": 1, "maxItems": 64, "description": "ascending quantiles"},
            "weight": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000, "description": "pseudo-observations"},
            "branches": {"type": "integer", "minimum": 1, "description": "how many sisters it pools"},
        },
    }
    schemas["Range"] = {
        "type": "object",
        "required": ["p10", "p50", "p90"],
        "properties": {q: {"type": "number"} for q in ("p10", "p50", "p90")},
    }
    schemas["Problem"] = {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "enum": PROBLEM_CODES},
            "message": {"type": "string"},
            "field": {"type": "string", "description": "the offending field, header, path label or query argument"},
            "line": {"type": "integer", "description": "an import's offending line"},
            "retry_after": {"type": "integer", "description": "429: seconds to wait"},
        },
    }
    return schemas


def _without_null_defaults(value: Any) -> Any:
    """pydantic writes ``"default": null`` for an optional field whose schema has no null: the
    field is simply optional, so the default is left out."""
    if isinstance(value, dict):
        return {k: _without_null_defaults(v) for k, v in value.items() if not (k == "default" and v is None)}
    if isinstance(value, list):
        return [_without_null_defaults(v) for v in value]
    return value


def document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``app``'s API."""
    paths: dict[str, dict[str, Any]] = {}
    for rule in api_rules(app):
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if "<action>" in rule.rule:
                for action in ACTIONS:
                    path = _path(rule).replace("{action}", action)
                    paths.setdefault(path, {})[method.lower()] = _operation(app, rule, method, rule.endpoint, action)
            else:
                paths.setdefault(_path(rule), {})[method.lower()] = _operation(app, rule, method, rule.endpoint, None)
    problem = {JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "queue_board API",
            "version": VERSION,
            "description": "A bank branch's queue: kiosks, tellers, boards and managers (docs/api.md). "
            "Generated from the server's URL map and request schemas.",
        },
        "paths": paths,
        "components": {
            "schemas": _component_schemas(),
            "responses": {f"E{status}": {"description": text, "content": problem} for status, text in ERROR_WHEN.items()},
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "description": "a token of `queue-board token create`"}
            },
        },
    }
