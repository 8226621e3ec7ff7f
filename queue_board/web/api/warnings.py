"""The manager's early warnings as JSON (docs/api.md "Early warnings"): the ones on now and the
day's, and acknowledging one (an event of the branch's log, docs/event-log.md "Warnings").

Managers of the branch (a manager token, or a signed-in manager's session, whose writes carry
``X-CSRFToken``).
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from queue_board.service.errors import invalid
from queue_board.web.api.routes import accepted, require_branch, write_meta
from queue_board.web.request_json import json_body
from queue_board.web.service import current_service

#: what an acknowledgement may carry
ACKNOWLEDGE_FIELDS = frozenset({"note"})


def add_warning_routes(api_bp: Blueprint) -> None:
    """The warnings' URLs under ``/api/v1``."""
    api_bp.add_url_rule("/branches/<branch>/warnings", "warnings", view_func=listing, methods=["GET"])
    api_bp.add_url_rule(
        "/branches/<branch>/warnings/<path:key>/acknowledge", "acknowledge_warning", view_func=acknowledge, methods=["POST"]
    )


def listing(branch: str) -> Response:
    """The warnings on now (alerts first) and every warning of the branch's day with how it ended."""
    require_branch(branch, "manager")
    return jsonify(current_service().warnings.listing(branch))


def acknowledge(branch: str, key: str) -> tuple[Response, int]:
    """A manager has seen warning ``key``; an optional ``note`` says what they did about it."""
    caller = require_branch(branch, "manager")
    body = json_body(required=False)
    unknown = sorted(set(body) - ACKNOWLEDGE_FIELDS)
    if unknown:
        raise invalid(f"{unknown[0]!r} is not a field here; expected some of {sorted(ACKNOWLEDGE_FIELDS)}", field=unknown[0])
    note = body.get("note")
    if note is not None and not isinstance(note, str):
        raise invalid("note must be a string", field="note")
    # a signed-in manager by their user name; a token by its name
    by = caller.name
    result = current_service().warnings.acknowledge(branch, key, by=by, note=(note or "").strip() or None, **write_meta(caller))
    return accepted(result)
