"""The JSON API under ``/api/v1`` (see docs/api.md) and ``/healthz``.

Thin: each view authenticates, reads the request, calls the branch service, and turns
its answer or :class:`~queue_board.service.errors.ProblemError` into JSON.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, g, jsonify, request, stream_with_context
from sqlalchemy import text
from werkzeug.exceptions import HTTPException

from queue_board import current_service
from queue_board.service.branch_service import Accepted
from queue_board.service.errors import ProblemError, bad_request, invalid, not_found, unauthorized
from queue_board.web.auth import Grant
from queue_board.web.boards.i18n import reader_translations

api_bp = Blueprint("api", __name__)
health_bp = Blueprint("health", __name__)

F = TypeVar("F", bound=Callable[..., Any])
MAX_KEY_LENGTH = 200


@health_bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Liveness and database reachability, for load balancers."""
    service = current_service()
    try:
        with service.store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "not healthy", whatever its class
        return jsonify(status="error", database=str(exc.__class__.__name__)), 503
    return jsonify(status="ok", database="ok"), 200


@api_bp.errorhandler(ProblemError)
def _problem(exc: ProblemError) -> tuple[Response, int]:
    # the message in the language the client asked for (a teller's console sends its own)
    return jsonify(exc.to_dict(reader_translations())), exc.status


@api_bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> tuple[Response, int]:
    code = exc.code or 500
    names = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type"}
    return jsonify(error=names.get(code, "http_error"), message=exc.description), code


@api_bp.app_errorhandler(404)
def _not_found_anywhere(exc: HTTPException) -> tuple[Response, int] | HTTPException:
    if request.path.startswith("/api/"):
        return jsonify(error="not_found", message=f"no such endpoint {request.path}"), 404
    return exc


def grant() -> Grant:
    """The caller's grant from ``Authorization: Bearer …``; 401 if missing or unknown."""
    cached: Grant | None = g.get("grant")
    if cached is not None:
        return cached
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("send a token as 'Authorization: Bearer <token>' (create one with 'queue-board token create')")
    record = current_service().store.find_token(token.strip())
    if record is None:
        raise unauthorized("unknown or revoked token")
    found = Grant.from_record(record)
    g.grant = found
    return found


def require_branch(branch: str, *roles: str) -> Grant:
    """Authenticate, authorise for ``branch`` and ``roles``, and 404 if the branch does not exist."""
    caller = grant()
    if roles:
        caller.require_branch(branch, *roles)
    elif not caller.can_read(branch):
        caller.require_branch(branch, "display")
    if not current_service().branch_exists(branch):
        raise not_found(f"no branch {branch!r}")
    return caller


def json_body(*, required: bool = True) -> dict[str, Any]:
    """The request's JSON object body; 400 if it is not one."""
    if not request.data:
        if required:
            raise bad_request("send a JSON object body with Content-Type: application/json")
        return {}
    if not request.is_json:
        raise bad_request("Content-Type must be application/json")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON object")
    return body


def write_meta(caller: Grant) -> dict[str, Any]:
    """Actor, idempotency key and request fingerprint for a write."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and (not key.strip() or len(key) > MAX_KEY_LENGTH):
        raise invalid(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters", field="Idempotency-Key")
    fingerprint = hashlib.sha256(f"{request.method} {request.path}\n".encode() + request.get_data()).hexdigest()
    return {"actor": caller.actor, "idempotency_key": key, "request_hash": fingerprint}


def accepted(result: Accepted, extra: dict[str, Any] | None = None) -> tuple[Response, int]:
    """201 with the stored event; a replayed request gets the same answer, flagged in a header."""
    response = jsonify({**result.to_dict(), **(extra or {})})
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response, 201


# branches and configuration ------------------------------------------------------------
@api_bp.get("/branches")
def list_branches() -> Response:
    """Every branch (admin)."""
    caller = grant()
    service = current_service()
    ids = service.store.branch_ids()
    if caller.role != "admin":
        ids = [b for b in ids if b == caller.branch]
    return jsonify(branches=[{"id": b, "name": service.config(b).name} for b in ids])


@api_bp.get("/branches/<branch>/config")
def get_config(branch: str) -> Response:
    """The branch's services and counters."""
    require_branch(branch)
    return jsonify(current_service().config(branch).to_dict())


@api_bp.put("/branches/<branch>/config")
def put_config(branch: str) -> Response:
    """Replace the branch's configuration (admin); creates the branch."""
    caller = grant()
    caller.require_branch(branch, "admin")
    return jsonify(current_service().set_config(branch, json_body()).to_dict())


@api_bp.get("/branches/<branch>/snapshot")
def snapshot(branch: str) -> Response:
    """The full board state: counters, now serving, waiting tickets with forecasts."""
    require_branch(branch)
    return jsonify(current_service().snapshot(branch))


# events ------------------------------------------------------------------------------
@api_bp.post("/branches/<branch>/events")
def post_event(branch: str) -> tuple[Response, int]:
    """Append any event of the log's vocabulary; the server stamps ``ts``."""
    caller = require_branch(branch, "manager")
    return accepted(current_service().submit(branch, json_body(), **write_meta(caller)))


@api_bp.get("/branches/<branch>/events")
def list_events(branch: str) -> Response:
    """Stored events after ``?after=SEQ`` (at most ``?limit=``, default 500, max 5000)."""
    require_branch(branch, "manager")
    after = _int_arg("after", 0, 0, 2**62)
    limit = _int_arg("limit", 500, 1, 5000)
    return jsonify(events=current_service().events_page(branch, after, limit))


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(f"{name} must be a whole number", field=name) from None
    if not low <= value <= high:
        raise invalid(f"{name} must be between {low} and {high}", field=name)
    return value


@api_bp.get("/branches/<branch>/export")
def export_log(branch: str) -> Response:
    """The branch's whole log as JSON Lines in the spec's format."""
    require_branch(branch, "manager")
    lines = current_service().export_lines(branch)
    response = Response(stream_with_context(lines), mimetype="application/x-ndjson")
    response.headers["Content-Disposition"] = f'attachment; filename="{branch}.jsonl"'
    return response


@api_bp.post("/branches/<branch>/import")
def import_log(branch: str) -> tuple[Response, int]:
    """Append a JSON Lines log (admin); all lines are checked before any is stored."""
    caller = grant()
    caller.require_branch(branch, "admin")
    if not request.data:
        raise bad_request("send the log as the request body (JSON Lines)")
    try:
        text_body = request.get_data(as_text=False).decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("the log must be UTF-8 text") from None
    current_service().store.ensure_branch(branch)
    count = current_service().import_log(branch, text_body.splitlines(), actor=caller.actor)
    return jsonify(imported=count, seq=current_service().projection(branch).state.seq), 201


# kiosk -------------------------------------------------------------------------------
@api_bp.post("/branches/<branch>/tickets")
def take_ticket(branch: str) -> tuple[Response, int]:
    """Take a ticket for ``{"service": code}``: label, people ahead, expected wait."""
    caller = require_branch(branch, "kiosk", "manager")
    body = json_body()
    service_code = body.get("service")
    if not isinstance(service_code, str) or not service_code:
        raise invalid("service: give the code of a service", field="service")
    result, ticket = current_service().issue_ticket(branch, service_code, **write_meta(caller))
    return accepted(result, {"ticket": ticket})


@api_bp.post("/branches/<branch>/tickets/<ticket>/cancel")
def cancel_ticket(branch: str, ticket: str) -> tuple[Response, int]:
    """The customer left and said so."""
    caller = require_branch(branch, "kiosk", "manager")
    result = current_service().submit(branch, {"type": "ticket_cancelled", "ticket": ticket}, **write_meta(caller))
    return accepted(result)


# tellers -----------------------------------------------------------------------------
@api_bp.post("/branches/<branch>/counters/<counter>/<action>")
def counter_action(branch: str, counter: str, action: str) -> tuple[Response, int]:
    """A teller's button: call-next, call, recall, start, finish, no-show, transfer, pause, resume, open, close."""
    caller = grant()
    caller.require_counter(branch, counter)
    if not current_service().branch_exists(branch):
        raise not_found(f"no branch {branch!r}")
    body = json_body(required=False)
    return accepted(current_service().counter_action(branch, counter, action, body, **write_meta(caller)))
