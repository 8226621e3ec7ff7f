"""The API's errors as JSON: ``{"error", "message", …}`` with the status of the problem."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from queue_board.service.errors import ProblemError
from queue_board.web.i18n import reader_translations
from queue_board.web.rate_limits import TooManyRequests

HTTP_ERRORS = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type"}


def add_error_handlers(api_bp: Blueprint) -> None:
    """Answer the API's errors in JSON, and unknown ``/api/…`` paths too."""
    api_bp.register_error_handler(ProblemError, problem)
    # a used-up limit is answered with Retry-After, in the API and wherever else a token is checked
    api_bp.register_error_handler(TooManyRequests, too_many_requests)
    api_bp.app_errorhandler(TooManyRequests)(too_many_requests)
    api_bp.register_error_handler(HTTPException, http_error)
    # a path no route matches (or none with this method) belongs to no blueprint: only an
    # app-wide handler sees it
    api_bp.app_errorhandler(404)(not_found_anywhere)
    api_bp.app_errorhandler(405)(wrong_method_anywhere)


def problem(exc: ProblemError) -> tuple[Response, int]:
    """A request the service refused, in the language the client asked for (a console sends its own)."""
    return jsonify(exc.to_dict(reader_translations())), exc.status


def http_error(exc: HTTPException) -> tuple[Response, int]:
    """Werkzeug's errors (wrong method, body too large, …) in the API's shape."""
    code = exc.code or 500
    return jsonify(error=HTTP_ERRORS.get(code, "http_error"), message=exc.description), code


def not_found_anywhere(exc: HTTPException) -> tuple[Response, int] | HTTPException:
    """JSON for an unknown path under ``/api/``; other paths keep Flask's page."""
    if request.path.startswith("/api/"):
        return jsonify(error="not_found", message=f"no such endpoint {request.path}"), 404
    return exc


def wrong_method_anywhere(exc: HTTPException) -> tuple[Response, int] | HTTPException:
    """JSON for a method an ``/api/…`` path does not take (with its ``Allow`` header); other
    paths keep Flask's page."""
    if not request.path.startswith("/api/"):
        return exc
    response = jsonify(error="method_not_allowed", message=f"{request.method} is not allowed on {request.path}")
    allowed = getattr(exc, "valid_methods", None)
    if allowed:
        response.headers["Allow"] = ", ".join(allowed)
    return response, 405


def too_many_requests(exc: TooManyRequests) -> tuple[Response, int]:
    """429 with ``retry_after`` in the body and the ``Retry-After`` header (seconds)."""
    response = jsonify(exc.to_dict())
    response.headers["Retry-After"] = str(exc.retry_after)
    return response, 429
