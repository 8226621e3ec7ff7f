"""What every screen shares: the page shell and its JSON errors.

The boards and the customer's ticket page are separate blueprints (``boards``, ``tickets``);
both render through :func:`render_page` and register :func:`problem_json`. Their security
headers are the app's, on every answer (:mod:`queue_board.web.security`).
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify, render_template

from queue_board.service.errors import ProblemError
from queue_board.web.i18n import LANGUAGES


def render_page(template: str, kind: str, **context: Any) -> str:
    """Render a screen with what every page's script needs on ``<body data-…>``."""
    return render_template(
        template,
        page_kind=kind,
        default_branch=current_app.config["DEFAULT_BRANCH"],
        languages=LANGUAGES,
        **context,
    )


def problem_json(exc: ProblemError) -> tuple[Response, int]:
    """A screen's JSON call that cannot be honoured (a token, a ticket link)."""
    return jsonify(exc.to_dict()), exc.status
