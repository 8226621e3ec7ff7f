"""The JSON object a request sends, for the API and the kiosk's ticket links."""

from __future__ import annotations

from typing import Any

from flask import request

from queue_board.service.errors import bad_request


def json_body(*, required: bool = True) -> dict[str, Any]:
    """The request's JSON object body; 400 if it is not one."""
    if not request.data:
        if required:
            raise bad_request("send a JSON object body with Content-Type: application/json")
        return {}
    if not request.is_json:
        raise bad_request("Content-Type must be application/json")
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        # nested deeper than the parser's recursion allows: not a body any endpoint takes
        raise bad_request("the body is nested too deeply") from None
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON object")
    return body
