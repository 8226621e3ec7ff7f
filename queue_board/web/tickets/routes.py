"""The ticket pages' views, and the table of their URLs (:func:`add_routes`)."""

from __future__ import annotations

import io
from datetime import date

import segno
from flask import Blueprint, Response, current_app, g, jsonify, request, url_for
from werkzeug.exceptions import HTTPException

from queue_board.service.errors import ProblemError, not_found
from queue_board.web.api.schemas import TicketLinkBody, parsed
from queue_board.web.auth import current_grant
from queue_board.web.pages import render_page
from queue_board.web.service import current_service
from queue_board.web.tickets.links import TicketRef, sign, verify
from queue_board.web.tickets.state import ticket_state


def add_routes(tickets_bp: Blueprint) -> None:
    """Every URL of the ticket pages, and the small body limit of the kiosk's link request."""
    tickets_bp.before_request(_limit_body)
    tickets_bp.register_error_handler(413, _too_large)
    tickets_bp.add_url_rule("/t/links", view_func=ticket_link, methods=["POST"])
    for rule, view in (
        ("/t/<signed>", ticket_page),
        ("/t/<signed>/state", ticket_state_json),
        ("/t/<signed>/qr.svg", ticket_qr),
    ):
        tickets_bp.add_url_rule(rule, view_func=view, methods=["GET"])


def _limit_body() -> None:
    # a link request is two labels: the API's small limit (docs/api.md "Limits"), not the import's
    request.max_content_length = int(current_app.config["MAX_REQUEST_LENGTH"])


def _too_large(exc: HTTPException) -> tuple[Response, int]:
    return jsonify(error="too_large", message=exc.description), 413


def _link_urls(signed: str) -> dict[str, str]:
    """The ticket page's address on ``PUBLIC_URL``. Only the demo, run on someone's own machine,
    takes the host from the request: elsewhere the ``Host`` header would let whoever sends it
    choose where a printed QR code points; without ``PUBLIC_URL`` there is no link (503)."""
    path = url_for("tickets.ticket_page", signed=signed)
    public = str(current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    if public:
        url = public + path[len(request.script_root) :]
    elif current_app.config.get("DEMO"):
        url = url_for("tickets.ticket_page", signed=signed, _external=True)
    else:
        raise ProblemError(
            503,
            "public_url_missing",
            "QB_PUBLIC_URL is not set: a ticket's link and QR code need the server's public address",
        )
    return {"url": url, "path": path, "qr": url_for("tickets.ticket_qr", signed=signed)}


def ticket_link() -> tuple[Response, int]:
    """The signed link (and QR code) of a ticket issued today, for the kiosk to print."""
    body = parsed(TicketLinkBody)
    branch, label = body.branch, body.ticket
    current_grant().require_branch(branch, "kiosk", "manager")
    service = current_service()
    if not service.branch_exists(branch):
        raise not_found(f"no branch {branch!r}")
    projection = service.projection(branch)
    with service.lock(branch):
        day = projection.state.day
        known = label in projection.state.tickets
    if day is None or not known:
        raise not_found(f"ticket {label} was not issued today", field="ticket")
    signed = sign(TicketRef(branch, day.isoformat(), label))
    return jsonify(ticket=label, day=day.isoformat(), **_link_urls(signed)), 201


def ticket_page(signed: str) -> tuple[str, int] | str:
    """The customer's ticket on their phone: position, expected wait, their call."""
    ref = verify(signed)
    g.prefer_browser_language = True
    if ref is None:
        return render_page("ticket.html", "ticket", ref=None, signed=""), 404
    g.page_branch = ref.branch
    return render_page("ticket.html", "ticket", ref=ref, signed=signed, day=_day_or_none(ref.day))


def _day_or_none(day: str) -> date | None:
    try:
        return date.fromisoformat(day)
    except ValueError:
        return None


def _uncached(response: Response, status: int) -> tuple[Response, int]:
    """``response`` marked never to be stored: a ticket's state moves with every call, and a
    shared cache must not keep one phone's ticket for another (the app's security hook adds
    the other headers to every answer)."""
    response.headers["Cache-Control"] = "no-store"
    return response, status


def _no_such_link() -> tuple[Response, int]:
    """The JSON 404 of a link this server did not sign (the page's script reads it)."""
    return _uncached(jsonify(error="not_found", message="no such ticket link"), 404)


def ticket_state_json(signed: str) -> tuple[Response, int]:
    """One ticket's state (read-only; the link is the credential)."""
    ref = verify(signed)
    if ref is None:
        return _no_such_link()
    return _uncached(jsonify(ticket_state(ref)), 200)


def ticket_qr(signed: str) -> Response | tuple[Response, int]:
    """The QR code of the ticket's link, as SVG (dark on white, for screens and thermal printers)."""
    if verify(signed) is None:
        return _no_such_link()
    buffer = io.BytesIO()
    segno.make(_link_urls(signed)["url"], error="m").save(
        buffer, kind="svg", scale=4, border=4, xmldecl=False, dark="#000", light="#fff", title="QR code"
    )
    response = Response(buffer.getvalue(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response
