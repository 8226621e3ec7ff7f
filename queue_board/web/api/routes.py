"""The API's views, and the table of their URLs (:func:`add_routes`)."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, Response, jsonify, request, stream_with_context

from queue_board.service.branch_service import Accepted
from queue_board.service.errors import bad_request, invalid, not_found
from queue_board.web.api.schemas import ConfigBody, EventBody, TicketBody, action_body, parsed
from queue_board.web.auth import Grant, current_grant
from queue_board.web.database import current_store
from queue_board.web.rate_limits import spend_ticket
from queue_board.web.service import current_service

MAX_KEY_LENGTH = 200
#: an Idempotency-Key is visible ASCII (a UUID, a counter, a hash): no spaces, no control or
#: non-ASCII characters (a header carries only Latin-1, and the key is stored as it came)
KEY_CHARACTERS = frozenset(chr(code) for code in range(0x21, 0x7F))


def add_routes(api_bp: Blueprint, health_bp: Blueprint) -> None:
    """Every URL of the API (under the blueprint's ``/api/v1``) and ``/healthz``."""
    health_bp.add_url_rule("/healthz", view_func=healthz, methods=["GET"])
    for rule, view, method in (
        ("/branches", list_branches, "GET"),
        ("/branches/<branch>/config", get_config, "GET"),
        ("/branches/<branch>/config", put_config, "PUT"),
        ("/branches/<branch>/snapshot", snapshot, "GET"),
        ("/branches/<branch>/events", post_event, "POST"),
        ("/branches/<branch>/events", list_events, "GET"),
        ("/branches/<branch>/export", export_log, "GET"),
        ("/branches/<branch>/import", import_log, "POST"),
        ("/branches/<branch>/tickets", take_ticket, "POST"),
        ("/branches/<branch>/tickets/<ticket>/cancel", cancel_ticket, "POST"),
        ("/branches/<branch>/counters/<counter>/<action>", counter_action, "POST"),
    ):
        api_bp.add_url_rule(rule, view_func=view, methods=[method])


def healthz() -> tuple[Response, int]:
    """Liveness and database reachability, for load balancers (a schema behind head is 503 already)."""
    try:
        current_store().ping()
    except Exception as exc:  # any driver error means "not healthy", whatever its class
        return jsonify(status="error", database=str(exc.__class__.__name__)), 503
    return jsonify(status="ok", database="ok"), 200


# helpers -------------------------------------------------------------------------------
def require_branch(branch: str, *roles: str) -> Grant:
    """Authenticate, authorise for ``branch`` and ``roles``, and 404 if the branch does not exist."""
    caller = current_grant()
    if roles:
        caller.require_branch(branch, *roles)
    elif not caller.can_read(branch):
        caller.require_branch(branch, "display")
    if not current_service().branch_exists(branch):
        raise not_found(f"no branch {branch!r}")
    return caller


def write_meta(caller: Grant) -> dict[str, Any]:
    """Actor, idempotency key and request fingerprint for a write."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and (not key or len(key) > MAX_KEY_LENGTH or not set(key) <= KEY_CHARACTERS):
        raise invalid(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} visible ASCII characters (no spaces)", field="Idempotency-Key"
        )
    fingerprint = hashlib.sha256(f"{request.method} {request.path}\n".encode() + request.get_data()).hexdigest()
    return {"actor": caller.actor, "idempotency_key": key, "request_hash": fingerprint}


def accepted(result: Accepted, extra: dict[str, Any] | None = None) -> tuple[Response, int]:
    """201 with the stored event; a replayed request gets the same answer, flagged in a header."""
    response = jsonify({**result.to_dict(), **(extra or {})})
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response, 201


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


# branches and configuration ------------------------------------------------------------
def list_branches() -> Response:
    """The branches the caller may read (an admin: every one; an area manager: its own)."""
    caller = current_grant()
    ids = caller.visible_branches(current_store().branch_ids())
    return jsonify(branches=[{"id": b, "name": current_service().config(b).name} for b in ids])


def get_config(branch: str) -> Response:
    """The branch's services and counters."""
    require_branch(branch)
    return jsonify(current_service().config(branch).to_dict())


def put_config(branch: str) -> Response:
    """Replace the branch's configuration (admin); creates the branch."""
    current_grant().require_branch(branch, "admin")
    return jsonify(current_service().set_config(branch, parsed(ConfigBody).raw).to_dict())


def snapshot(branch: str) -> Response:
    """The full board state: counters, now serving, waiting tickets with forecasts."""
    require_branch(branch)
    return jsonify(current_service().snapshot(branch))


# events ------------------------------------------------------------------------------
def post_event(branch: str) -> tuple[Response, int]:
    """Append any event of the log's vocabulary; the server stamps ``ts``."""
    caller = require_branch(branch, "manager")
    return accepted(current_service().submit(branch, parsed(EventBody).raw, **write_meta(caller)))


def list_events(branch: str) -> Response:
    """Stored events after ``?after=SEQ`` (at most ``?limit=``, default 500, max 5000)."""
    require_branch(branch, "manager")
    after = _int_arg("after", 0, 0, 2**62)
    limit = _int_arg("limit", 500, 1, 5000)
    return jsonify(events=current_service().events_page(branch, after, limit))


def export_log(branch: str) -> Response:
    """The branch's whole log as JSON Lines in the spec's format."""
    require_branch(branch, "manager")
    lines = current_service().export_lines(branch)
    response = Response(stream_with_context(lines), mimetype="application/x-ndjson")
    response.headers["Content-Disposition"] = f'attachment; filename="{branch}.jsonl"'
    return response


def import_log(branch: str) -> tuple[Response, int]:
    """Append a JSON Lines log (admin); all lines are checked before any is stored."""
    caller = current_grant()
    caller.require_branch(branch, "admin")
    if not request.data:
        raise bad_request("send the log as the request body (JSON Lines)")
    try:
        text_body = request.get_data(as_text=False).decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("the log must be UTF-8 text") from None
    # the branch is created inside the import's own transaction: a refused log leaves none
    service = current_service()
    count = service.import_log(branch, text_body.splitlines(), actor=caller.actor)
    return jsonify(imported=count, seq=service.projection(branch).state.seq), 201


# kiosk -------------------------------------------------------------------------------
def take_ticket(branch: str) -> tuple[Response, int]:
    """Take a ticket for ``{"service": code}``: label, people ahead, expected wait."""
    caller = require_branch(branch, "kiosk", "manager")
    # a flood of tickets is refused before anything is stored
    spend_ticket(f"token:{caller.token_id}" if caller.token_id is not None else f"user:{caller.name}")
    service_code = parsed(TicketBody).service
    result, ticket = current_service().issue_ticket(branch, service_code, **write_meta(caller))
    return accepted(result, {"ticket": ticket})


def cancel_ticket(branch: str, ticket: str) -> tuple[Response, int]:
    """The customer left and said so."""
    caller = require_branch(branch, "kiosk", "manager")
    result = current_service().submit(branch, {"type": "ticket_cancelled", "ticket": ticket}, **write_meta(caller))
    return accepted(result)


# tellers -----------------------------------------------------------------------------
def counter_action(branch: str, counter: str, action: str) -> tuple[Response, int]:
    """A teller's button: call-next, call, recall, start, finish, no-show, transfer, pause, resume, open, close."""
    caller = current_grant()
    caller.require_counter(branch, counter)
    if not current_service().branch_exists(branch):
        raise not_found(f"no branch {branch!r}")
    service = current_service()
    body = parsed(action_body(action), required=False, counter=counter, action=action, config=lambda: service.config(branch))
    return accepted(service.counter_action(branch, counter, action, body.raw, **write_meta(caller)))
