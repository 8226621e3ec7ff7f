"""The managers' pages. Each renders a shell with the branch and the signed-in user; the data
come from the reports API and the ``/manage`` namespace, so a page never shows a figure the
API would not."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, g, redirect, send_from_directory, url_for
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response as BaseResponse

from queue_board.config import ROOT
from queue_board.core.events import MAX_NAME_LENGTH
from queue_board.core.staff import MANAGER_ROLES
from queue_board.web.auth import signed_in_user
from queue_board.web.pages import render_page
from queue_board.web.service import current_service
from queue_board.web.staff.guard import signed_in_grant, staff_page

#: the charting library, from npm (package.json): served from node_modules, never from a CDN
ECHARTS_DIR = ("node_modules", "echarts", "dist")
ECHARTS_FILE = "echarts.min.js"


def add_routes(manage_bp: Blueprint) -> None:
    """Every URL of the managers' pages."""
    for rule, view in (
        ("/manage", overview),
        ("/manage/<branch>", branch_dashboard),
        ("/manage/<branch>/history", branch_history),
        ("/manage/<branch>/promises", branch_promises),
        ("/manage/<branch>/tickets/<day>/<ticket>", ticket_story),
        ("/manage/<branch>/feedback", branch_feedback),
        ("/manage/<branch>/feedback/<feedback_id>", feedback_item),
        (f"/vendor/{ECHARTS_FILE}", echarts),
    ):
        manage_bp.add_url_rule(rule, view_func=view, methods=["GET"])


def _page(template: str, kind: str, branch: str | None = None, **context: object) -> str:
    if branch is not None and (len(branch) > MAX_NAME_LENGTH or not current_service().branch_exists(branch)):
        abort(404)
    # read on a manager's own computer or phone, not a branch's screen: their browser's language first
    g.prefer_browser_language = True
    grant = signed_in_grant()
    managed = [b for b in sorted(current_service().store.branch_ids()) if grant is not None and grant.manages(b)]
    return render_page(template, kind, branch=branch, user=signed_in_user(), managed_branches=managed, **context)


@staff_page(*MANAGER_ROLES)
def overview() -> BaseResponse | str:
    """Every branch the manager runs, side by side; a manager of one branch goes to its dashboard."""
    grant = signed_in_grant()
    if grant is not None and grant.role == "manager" and grant.branch:
        return redirect(url_for("manage.branch_dashboard", branch=grant.branch))
    return _page("manage_overview.html", "manage-overview")


@staff_page(*MANAGER_ROLES)
def branch_dashboard(branch: str) -> str:
    """Today at ``branch``, live."""
    return _page("manage_dashboard.html", "manage-dashboard", branch, csrf=generate_csrf())


@staff_page(*MANAGER_ROLES)
def branch_history(branch: str) -> str:
    """A date range at ``branch``: arrivals, waits, service level, transactions, pauses, utilisation."""
    return _page("manage_history.html", "manage-history", branch)


@staff_page(*MANAGER_ROLES)
def branch_promises(branch: str) -> str:
    """Were the promises kept: the ranges customers were told against their waits."""
    return _page("manage_promises.html", "manage-promises", branch)


@staff_page(*MANAGER_ROLES)
def ticket_story(branch: str, day: str, ticket: str) -> str:
    """One ticket's timeline (from a broken promise)."""
    try:
        date.fromisoformat(day)
    except ValueError:
        abort(404)
    if len(ticket) > MAX_NAME_LENGTH:
        abort(404)
    return _page("manage_ticket.html", "manage-ticket", branch, day=day, ticket=ticket)


@staff_page(*MANAGER_ROLES)
def branch_feedback(branch: str) -> str:
    """The complaint and praise log of a period: the list with its filters, the report tables, the form to record one."""
    return _page("manage_feedback.html", "manage-feedback", branch, feedback_id=None, csrf=generate_csrf())


@staff_page(*MANAGER_ROLES)
def feedback_item(branch: str, feedback_id: str) -> str:
    """One complaint or praise: its history, its ticket's story, the buttons that move it on."""
    if len(feedback_id) > MAX_NAME_LENGTH:
        abort(404)
    return _page("manage_feedback.html", "manage-feedback-item", branch, feedback_id=feedback_id, csrf=generate_csrf())


def echarts() -> Response:
    """ECharts from ``node_modules`` (installed by ``npm ci`` at set-up)."""
    directory = ROOT.joinpath(*ECHARTS_DIR)
    if not (directory / ECHARTS_FILE).is_file():
        message = (
            f"// echarts is not installed: run `npm ci` in {ROOT} (package.json lists it).\n"
            "console.error('queue_board: echarts missing; run npm ci on the server');\n"
        )
        return Response(message, status=503, mimetype="text/javascript")
    return send_from_directory(directory, ECHARTS_FILE, mimetype="text/javascript", max_age=3600)
