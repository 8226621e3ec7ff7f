"""The JSON API under ``/api/v1`` (see docs/api.md) and ``/healthz``.

Thin: each view authenticates, reads the request, calls the branch service, and turns
its answer or :class:`~queue_board.service.errors.ProblemError` into JSON. The views are in
:mod:`.routes` (the manager's reports in :mod:`.reports`, the complaint and praise log in :mod:`.feedback`, the early warnings in :mod:`.warnings`), the error answers in :mod:`.errors`; both are added to the blueprints here.
"""

from __future__ import annotations

from flask import Blueprint

from queue_board.web.api import errors, feedback, guards, openapi, reports, routes, warnings
from queue_board.web.rate_limits import check_limit_settings

api_bp = Blueprint("api", __name__)
health_bp = Blueprint("health", __name__)

routes.add_routes(api_bp, health_bp)
reports.add_report_routes(api_bp)
feedback.add_feedback_routes(api_bp)
warnings.add_warning_routes(api_bp)
openapi.add_openapi_route(api_bp)
errors.add_error_handlers(api_bp)
guards.add_guards(api_bp)
# a limit that is not one rate stops the app when it starts, not at the first request
api_bp.record_once(lambda state: check_limit_settings(state.app))
