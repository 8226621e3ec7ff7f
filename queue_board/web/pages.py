"""What every screen shares: the page shell, its security headers, and its JSON errors.

The boards and the customer's ticket page are separate blueprints (``boards``, ``tickets``);
both render through :func:`render_page` and register :func:`page_headers` and :func:`problem_json`.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify, render_template

from queue_board.service.errors import ProblemError
from queue_board.web.i18n import LANGUAGES

#: pages only load this origin's scripts and styles; data reach them via textContent only
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def render_page(template: str, kind: str, **context: Any) -> str:
    """Render a screen with what every page's script needs on ``<body data-…>``."""
    return render_template(
        template,
        page_kind=kind,
        default_branch=current_app.config["DEFAULT_BRANCH"],
        languages=LANGUAGES,
        **context,
    )


def page_headers(response: Response) -> Response:
    """Lock the screens down: no inline script, no framing, no sniffing."""
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def problem_json(exc: ProblemError) -> tuple[Response, int]:
    """A screen's JSON call that cannot be honoured (a token, a ticket link)."""
    return jsonify(exc.to_dict()), exc.status
