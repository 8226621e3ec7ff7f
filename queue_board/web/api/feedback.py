"""The complaint and praise log as JSON and CSV (docs/api.md "Complaints and praise"): record,
update, list with the report tables, one with its history and its ticket's story.

Managers of the branch (a manager token, or a signed-in manager's session, whose writes carry
``X-CSRFToken``); each write is one event of the branch's log (docs/event-log.md "Feedback").
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, jsonify, request

from queue_board.core.activity import shown_top_seconds
from queue_board.reports.tables import minutes
from queue_board.service.errors import invalid, not_found
from queue_board.service.feedback import FILTER_WORDS, parse_filters
from queue_board.service.reports import Period, names_config, parse_period
from queue_board.web.api.routes import accepted, require_branch, write_meta
from queue_board.web.api.schemas import FeedbackRecordBody, FeedbackUpdateBody, parsed
from queue_board.web.service import current_service

#: the roles that keep the log (an area manager acts as manager of each of its branches)
KEEPERS = ("manager",)


def add_feedback_routes(api_bp: Blueprint) -> None:
    """The log's URLs under ``/api/v1``."""
    for rule, view, method in (
        ("/branches/<branch>/feedback", record, "POST"),
        ("/branches/<branch>/feedback", listing, "GET"),
        ("/branches/<branch>/feedback/report/<table>.csv", table_csv, "GET"),
        ("/branches/<branch>/feedback/tickets", day_tickets, "GET"),
        ("/branches/<branch>/feedback/<feedback_id>", update, "POST"),
        ("/branches/<branch>/feedback/<feedback_id>", one, "GET"),
    ):
        api_bp.add_url_rule(rule, view_func=view, methods=[method])


def _period(branch: str) -> Period:
    return parse_period(request.args.get("from"), request.args.get("to"), latest=current_service().feedback.latest_day(branch))


def _filters() -> dict[str, str | None]:
    return {name: request.args.get(name) for name in FILTER_WORDS}


def record(branch: str) -> tuple[Response, int]:
    """Record a complaint or praise: ``kind``, ``channel``, ``category``, ``text`` and optionally
    ``aspect``, ``ticket`` + ``ticket_day``, ``owner``, ``deadline``."""
    caller = require_branch(branch, *KEEPERS)
    body = parsed(FeedbackRecordBody, by=caller.name).raw
    return accepted(current_service().feedback.record(branch, body, by=caller.name, **write_meta(caller)))


def update(branch: str, feedback_id: str) -> tuple[Response, int]:
    """Change its ``status`` (with ``owner``, ``deadline``, ``note``, ``satisfaction`` on closing)."""
    caller = require_branch(branch, *KEEPERS)
    body = parsed(FeedbackUpdateBody, id=feedback_id, by=caller.name).raw
    return accepted(current_service().feedback.update(branch, feedback_id, body, by=caller.name, **write_meta(caller)))


def listing(branch: str) -> Response:
    """The feedback of a period (``from``, ``to``; filters ``status``, ``category``, ``channel``,
    ``kind``) and every report table."""
    require_branch(branch, *KEEPERS)
    filters = parse_filters(_filters())
    return jsonify(current_service().feedback.listing(branch, _period(branch), filters))


def one(branch: str, feedback_id: str) -> Response:
    """One complaint or praise with its history and, linked to a ticket, that ticket's story."""
    require_branch(branch, *KEEPERS)
    return jsonify(current_service().feedback.one(branch, feedback_id))


def table_csv(branch: str, table: str) -> Response:
    """One report table of a period as CSV, to download."""
    require_branch(branch, *KEEPERS)
    period = _period(branch)
    tables = current_service().feedback.tables(branch, period, parse_filters(_filters()))
    found = tables.get(table)
    if found is None:
        raise not_found(f"no feedback table {table!r}; expected one of {sorted(tables)}")
    name = f"{branch}-feedback-{table}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    return Response(found.to_csv(), mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})


def day_tickets(branch: str) -> Response:
    """The tickets of one recorded day (``day``, default the latest), for the form that links a
    complaint to its ticket: each with its service, issue time, outcome, wait and the top of the
    range it was told; and every recorded day (to pick another)."""
    require_branch(branch, *KEEPERS)
    service = current_service()
    projections = service.projections
    projection = projections.get(branch)
    asked = request.args.get("day") or None
    wanted: date | None = None
    if asked is not None:
        try:
            wanted = date.fromisoformat(asked)
        except ValueError:
            raise invalid(f"'day' must be a date as YYYY-MM-DD, not {asked!r}", field="day") from None
    with projections.lock(branch):
        activity = projection.activity
        days = sorted(activity.days) if activity is not None else []
        if wanted is None and days:
            wanted = days[-1]
        record = activity.days.get(wanted) if activity is not None and wanted is not None else None
        now = max(projection.state.now, service.clock.now().timestamp())
        tickets: list[dict[str, Any]] = []
        if record is not None:
            until = now if not record.closed else record.last_at
            for label, ticket in sorted(record.tickets.items(), key=lambda item: (item[1].issued_at, item[0])):
                wait = ticket.waited_until(until)
                top = shown_top_seconds(ticket.told) if ticket.told is not None else None
                tickets.append(
                    {
                        "ticket": label,
                        "service": ticket.service,
                        "issued_at": ticket.issued_at,
                        "outcome": str(ticket.outcome),
                        "wait_min": minutes(wait),
                        "told_high_min": minutes(top) if top is not None else None,
                        "broken_promise": None if top is None else wait > top,
                    }
                )
        config = names_config(projections.config_of(projection.state))
    return jsonify(
        {
            "branch": branch,
            "day": wanted.isoformat() if wanted is not None else None,
            "utc_offset": record.utc_offset if record is not None else None,
            "days": [d.isoformat() for d in days],
            "tickets": tickets,
            "config": config,
        }
    )
