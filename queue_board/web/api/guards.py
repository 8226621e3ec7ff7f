"""What the API checks before any view runs, and adds to every answer (docs/api.md "Limits").

- the body limit of the endpoint: small for the kiosk's, the tellers' and the events' writes,
  larger for a branch configuration, the app's ``MAX_CONTENT_LENGTH`` only for an import;
- the labels and codes in the path (branch id, counter name, ticket label): the charset and
  length of :func:`~queue_board.core.fields.name_problem`, so that nothing over-long or holding
  NUL reaches the database (PostgreSQL refuses both) and nothing dangerous reaches the log;
- ``X-Content-Type-Options: nosniff`` and ``Cache-Control: no-store`` on every API answer
  (an answer names tickets and queues: no browser or proxy may keep it).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from queue_board.core.fields import name_problem
from queue_board.service.errors import invalid

#: the path parameters that are labels or codes, checked before the view runs
PATH_NAMES = ("branch", "counter", "ticket")
#: the endpoints that take a branch configuration (a larger body than a button's)
CONFIG_ENDPOINTS = frozenset({"api.put_config"})
#: the one endpoint that takes a whole log
IMPORT_ENDPOINTS = frozenset({"api.import_log"})


def add_guards(api_bp: Blueprint) -> None:
    """Register the checks and headers on the API's blueprint (and, for paths no route
    matches, on the app: their answers must carry the headers too)."""
    api_bp.url_value_preprocessor(check_path_names)
    api_bp.before_request(limit_body)
    api_bp.after_app_request(api_headers)


def check_path_names(endpoint: str | None, values: dict[str, object] | None) -> None:
    """422 naming the path parameter whose label or code breaks the charset or length rule."""
    for key in PATH_NAMES:
        value = (values or {}).get(key)
        if value is None:
            continue
        problem = name_problem(value)
        if problem is not None:
            raise invalid(f"{key}: {problem}", field=key)


def body_limit(endpoint: str | None) -> int:
    """The largest body ``endpoint`` accepts, in bytes."""
    if endpoint in IMPORT_ENDPOINTS:
        return int(current_app.config["MAX_CONTENT_LENGTH"])
    if endpoint in CONFIG_ENDPOINTS:
        return int(current_app.config["MAX_CONFIG_LENGTH"])
    return int(current_app.config["MAX_REQUEST_LENGTH"])


def limit_body() -> None:
    """Set the endpoint's body limit; reading a longer body is then a 413 (JSON, errors.py)."""
    request.max_content_length = body_limit(request.endpoint)


def api_headers(response: Response) -> Response:
    """``nosniff`` and ``no-store`` on every answer under ``/api/`` (matched or not)."""
    if request.path.startswith("/api/"):
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
    return response
