"""The manager's early warnings as JSON (docs/api.md "Early warnings"): the ones on now and the
day's, and acknowledging one (an event of the branch's log, docs/event-log.md "Warnings").

Managers of the branch (a manager token, or a signed-in manager's session, whose writes carry
``X-CSRFToken``).
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from queue_board.web.api.routes import accepted, require_branch, write_meta
from queue_board.web.api.schemas import AcknowledgeBody, parsed
from queue_board.web.service import current_service


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
    # a signed-in manager by their user name; a token by its name
    by = caller.name
    body = parsed(AcknowledgeBody, required=False, key=key, by=by)
    result = current_service().warnings.acknowledge(branch, key, by=by, note=body.note_text, **write_meta(caller))
    return accepted(result)
