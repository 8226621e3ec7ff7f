"""The manager's reports as JSON and CSV (docs/api.md "Reports"): today's dashboard, the history
and forecast quality of a date range, one ticket's story, and the overview of every branch.

Managers of the branch read them (a manager token, or a signed-in manager's session); area
managers and admins read every branch they cover. The figures are defined in docs/reports.md.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from queue_board.core.events import MAX_NAME_LENGTH
from queue_board.core.staff import MANAGER_ROLES
from queue_board.reports.history import Filters
from queue_board.service.errors import forbidden, invalid, not_found
from queue_board.service.reports import PeriodReport, parse_target
from queue_board.web.api.routes import require_branch
from queue_board.web.auth import current_grant
from queue_board.web.database import current_store
from queue_board.web.service import current_service

#: the roles that read reports (an area manager acts as manager of each of its branches)
READERS = ("manager",)


def add_report_routes(api_bp: Blueprint) -> None:
    """The reports' URLs under ``/api/v1``."""
    for rule, view in (
        ("/branches/<branch>/reports/dashboard", dashboard),
        ("/branches/<branch>/reports/history", history),
        ("/branches/<branch>/reports/history/<table>.csv", history_csv),
        ("/branches/<branch>/reports/tickets/<day>/<ticket>", ticket_story),
        ("/branches/<branch>/reports/express", express),
        ("/overview", overview),
    ):
        api_bp.add_url_rule(rule, view_func=view, methods=["GET"])


def _name_arg(name: str) -> str | None:
    value = request.args.get(name) or None
    if value is not None and len(value) > MAX_NAME_LENGTH:
        raise invalid(f"{name!r} must be at most {MAX_NAME_LENGTH} characters", field=name)
    return value


def _period_report(branch: str) -> PeriodReport:
    """The report of the period the query asks for (``from``, ``to``, ``target``, ``service``, ``counter``)."""
    return current_service().reports.period_report(
        branch,
        request.args.get("from"),
        request.args.get("to"),
        target=request.args.get("target"),
        filters=Filters(service=_name_arg("service"), counter=_name_arg("counter")),
    )


def dashboard(branch: str) -> Response:
    """Today's live dashboard (the same payload the ``/manage`` Socket.IO namespace pushes)."""
    require_branch(branch, *READERS)
    reports = current_service().reports
    return jsonify(reports.dashboard(branch, target_minutes=parse_target(request.args.get("target"), reports.target_minutes)))


def history(branch: str) -> Response:
    """Every history and forecast-quality table of a period (``from``, ``to``, ``target``,
    ``service``, ``counter``)."""
    require_branch(branch, *READERS)
    report = _period_report(branch)
    payload: dict[str, Any] = {
        "branch": branch,
        "period": report.period.as_dict(),
        "target_minutes": report.target_minutes,
        "filters": {"service": report.filters.service, "counter": report.filters.counter},
        "recorded_days": report.recorded_days,
        "config": report.config,
        "utc_offsets": report.utc_offsets,
        "tables": {name: table.as_dict() for name, table in report.tables.items()},
    }
    return jsonify(payload)


def history_csv(branch: str, table: str) -> Response:
    """One table of the history as CSV, to download."""
    require_branch(branch, *READERS)
    report = _period_report(branch)
    found = report.tables.get(table)
    if found is None:
        raise not_found(f"no report table {table!r}; expected one of {sorted(report.tables)}")
    name = f"{branch}-{table}-{report.period.start.isoformat()}-{report.period.end.isoformat()}.csv"
    return Response(found.to_csv(), mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})


def express(branch: str) -> Response:
    """The express-counter analysis of a period (``from``, ``to``, ``minutes`` = N list such as
    ``3,5,8``, ``counters`` for the what-if): docs/express-counter.md."""
    require_branch(branch, *READERS)
    period, tables = current_service().reports.express(
        branch,
        request.args.get("from"),
        request.args.get("to"),
        minutes=request.args.get("minutes"),
        counters=request.args.get("counters"),
    )
    return jsonify({"branch": branch, "period": period.as_dict(), "tables": {name: table.as_dict() for name, table in tables.items()}})


def ticket_story(branch: str, day: str, ticket: str) -> Response:
    """One ticket's timeline: issued and told, every call and pause while it waited, its visit."""
    require_branch(branch, *READERS)
    return jsonify(current_service().reports.story(branch, day, ticket))


def overview(*_: Any) -> Response:
    """One row per branch the caller manages, the ones needing attention first."""
    grant = current_grant()
    if grant.role not in MANAGER_ROLES:
        raise forbidden(f"role {grant.role!r} may not read the overview; needs a manager")
    branches = [b for b in sorted(current_store().branch_ids()) if grant.manages(b)]
    rows = current_service().reports.overview(branches)
    return jsonify({"branches": rows, "target_minutes": current_service().reports.target_minutes})
