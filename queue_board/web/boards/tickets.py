"""The customer's ticket on a phone: a signed link per ticket, its QR code, a page and its live state.

The customer has no token. The kiosk asks for a link to the ticket it just issued; the link
carries ``(branch, day, label)`` signed with the app's ``SECRET_KEY`` (the QR code on the ticket).
Whoever holds it may read that one ticket's state — position, expected wait, status, counter,
and how many counters serve its service — and nothing about other customers.

Live: the page joins the Socket.IO namespace ``/ticket`` with the link as its credential. Every
board push of the branch sends a content-free ``changed`` there; the page answers with
``refresh`` and gets its own ``ticket`` state back (so it also works across server processes
joined by a message queue). Without Socket.IO the page polls ``/t/<link>/state``.
"""

from __future__ import annotations

import io
import weakref
from dataclasses import dataclass
from datetime import date
from typing import Any

import segno
from flask import Flask, Response, abort, current_app, g, jsonify, request, session, url_for
from flask_socketio import emit, join_room
from itsdangerous import BadSignature, URLSafeSerializer

from queue_board import current_service
from queue_board.service.branch_service import BranchService
from queue_board.service.errors import ProblemError, invalid, not_found
from queue_board.web.boards import _page, boards_bp
from queue_board.web.extensions import socketio

NAMESPACE = "/ticket"
SALT = "queue_board.ticket-link"
#: statuses a ticket page can show; ``expired`` is a link from another day, ``unknown`` a ticket the branch never issued
STATUSES = ("waiting", "called", "serving", "done", "no_show", "cancelled", "expired", "unknown")


@dataclass(frozen=True, slots=True)
class TicketRef:
    """Which ticket a link is for: labels are unique per branch and local day."""

    branch: str
    day: str
    label: str


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def sign(ref: TicketRef) -> str:
    """The link's credential for ``ref``."""
    token: str = _serializer().dumps([ref.branch, ref.day, ref.label])
    return token


def verify(token: Any) -> TicketRef | None:
    """The ticket a credential is for, or ``None`` if it is not one this server signed."""
    if not isinstance(token, str) or not token or len(token) > 400:
        return None
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not (isinstance(data, list) and len(data) == 3 and all(isinstance(part, str) for part in data)):
        return None
    return TicketRef(branch=data[0], day=data[1], label=data[2])


def tickets_room(branch: str) -> str:
    """The ``/ticket`` room of a branch's ticket pages."""
    return f"tickets:{branch}"


# the state of one ticket ----------------------------------------------------------------------
def ticket_view(board: dict[str, Any], ref: TicketRef, status_in_state: str | None) -> dict[str, Any]:
    """What one ticket's page shows, from the branch's board and the ticket's status in the state.

    Only this ticket's facts and counts about its service leave here, never another
    customer's ticket. ``status_in_state`` is ``None`` when the branch has no such ticket today.
    """
    services = {s["code"]: s for s in board.get("services", [])}
    counters = {c["name"]: c for c in board.get("counters", [])}
    out: dict[str, Any] = {
        "ticket": ref.label,
        "branch": ref.branch,
        "day": ref.day,
        "names": board.get("names") or {},
        "branch_name": board.get("name"),
        "languages": board.get("languages") or ["en"],
        "seq": board.get("seq", 0),
        "now": board.get("now"),
        "utc_offset_minutes": board.get("utc_offset_minutes", 0),
        "status": "unknown",
        "service": None,
        "service_names": None,
        "people_ahead": None,
        "wait": None,
        "counter": None,
        "called_at": None,
        "recalls": 0,
        "counters_serving": None,
        "counters_paused": None,
    }
    if board.get("day") is not None and board.get("day") != ref.day:
        out["status"] = "expired"
        return out
    if status_in_state is None:
        return out

    waiting = next((t for t in board.get("waiting", []) if t["ticket"] == ref.label), None)
    called = next((t for t in board.get("now_serving", []) if t["ticket"] == ref.label), None)
    at_counter = next((c for c in counters.values() if c.get("ticket") == ref.label), None)
    service_code: str | None = None
    if waiting is not None:
        out.update(status="waiting", people_ahead=waiting["ahead_in_service"], wait=waiting["wait"])
        service_code = waiting["service"]
    elif at_counter is not None:
        out.update(status="called" if at_counter["status"] == "calling" else "serving", counter=at_counter["name"])
        service_code = at_counter.get("service")
    elif called is not None:
        out.update(status=called["status"] if called["status"] in STATUSES else "done", counter=called["counter"])
        service_code = called["service"]
    else:
        out["status"] = {"transferred": "waiting"}.get(status_in_state, status_in_state)
        if out["status"] not in STATUSES:
            out["status"] = "unknown"
    if called is not None:
        out.update(
            called_at=called["called_at"], recalls=called["recalls"], counter=out["counter"] or called["counter"]
        )
    info = services.get(service_code) if service_code else None
    if info is not None:
        out["service"] = info["code"]
        out["service_names"] = info["names"]
        open_names = info.get("counters") or []
        paused = [n for n in open_names if counters.get(n, {}).get("status") == "paused"]
        out["counters_serving"] = len(open_names) - len(paused)
        out["counters_paused"] = len(paused)
    return out


def ticket_state(ref: TicketRef) -> dict[str, Any]:
    """The live state of the ticket ``ref`` names."""
    service = current_service()
    if not service.branch_exists(ref.branch):
        return ticket_view({"day": None}, ref, None)
    board = service.snapshot(ref.branch)
    projection = service.projection(ref.branch)
    with service.lock(ref.branch):
        state = projection.state
        same_day = state.day is not None and state.day.isoformat() == ref.day
        ticket = state.tickets.get(ref.label) if same_day else None
        status = ticket.status.value if ticket is not None else None
    return ticket_view(board, ref, status)


# HTTP -----------------------------------------------------------------------------------------
@boards_bp.errorhandler(ProblemError)
def _problem(exc: ProblemError) -> tuple[Response, int]:
    return jsonify(exc.to_dict()), exc.status


def _link_urls(signed: str) -> dict[str, str]:
    path = url_for("boards.ticket_page", signed=signed)
    public = str(current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    if public:
        url = public + path[len(request.script_root) :]
    else:
        url = url_for("boards.ticket_page", signed=signed, _external=True)
    return {"url": url, "path": path, "qr": url_for("boards.ticket_qr", signed=signed)}


@boards_bp.post("/t/links")
def ticket_link() -> tuple[Response, int]:
    """The signed link (and QR code) of a ticket issued today, for the kiosk to print."""
    from queue_board.web.api import grant, json_body

    body = json_body()
    branch, label = body.get("branch"), body.get("ticket")
    if not isinstance(branch, str) or not branch:
        raise invalid("branch: give the branch id", field="branch")
    if not isinstance(label, str) or not label:
        raise invalid("ticket: give the ticket label", field="ticket")
    grant().require_branch(branch, "kiosk", "manager")
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


def _ref_or_404(signed: str) -> TicketRef:
    ref = verify(signed)
    if ref is None:
        abort(404)
    return ref


@boards_bp.get("/t/<signed>")
def ticket_page(signed: str) -> tuple[str, int] | str:
    """The customer's ticket on their phone: position, expected wait, their call."""
    ref = verify(signed)
    g.prefer_browser_language = True
    if ref is None:
        return _page("ticket.html", "ticket", ref=None, signed=""), 404
    g.page_branch = ref.branch
    return _page("ticket.html", "ticket", ref=ref, signed=signed, day=_day_or_none(ref.day))


def _day_or_none(day: str) -> date | None:
    try:
        return date.fromisoformat(day)
    except ValueError:
        return None


@boards_bp.get("/t/<signed>/state")
def ticket_state_json(signed: str) -> Response:
    """One ticket's state (read-only; the link is the credential)."""
    response = jsonify(ticket_state(_ref_or_404(signed)))
    response.headers["Cache-Control"] = "no-store"
    return response


@boards_bp.get("/t/<signed>/qr.svg")
def ticket_qr(signed: str) -> Response:
    """The QR code of the ticket's link, as SVG (dark on white, for screens and thermal printers)."""
    _ref_or_404(signed)
    buffer = io.BytesIO()
    segno.make(_link_urls(signed)["url"], error="m").save(
        buffer, kind="svg", scale=4, border=4, xmldecl=False, dark="#000", light="#fff", title="QR code"
    )
    response = Response(buffer.getvalue(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


# Socket.IO ------------------------------------------------------------------------------------
def _on_connect(auth: dict[str, Any] | None = None) -> None:
    """A ticket page connects with ``{"ticket": <link credential>}`` and gets its state."""
    auth = auth if isinstance(auth, dict) else {}
    ref = verify(auth.get("ticket"))
    if ref is None:
        raise ConnectionRefusedError("unauthorized: not a ticket link of this server")
    session["ticket"] = [ref.branch, ref.day, ref.label]
    join_room(tickets_room(ref.branch))
    emit("ticket", ticket_state(ref))


def _on_refresh(_data: Any = None) -> None:
    """The page heard ``changed``: send its ticket's state again."""
    saved = session.get("ticket")
    if isinstance(saved, list) and len(saved) == 3:
        emit("ticket", ticket_state(TicketRef(*saved)))


_hooked: weakref.WeakSet[BranchService] = weakref.WeakSet()


def _tell_ticket_pages(service: BranchService) -> None:
    """After each board push, nudge the branch's ticket pages to ask for their own state."""
    if service in _hooked:
        return
    _hooked.add(service)

    def nudge(branch: str, payload: dict[str, Any]) -> None:
        socketio.emit("changed", {"seq": payload.get("seq")}, to=tickets_room(branch), namespace=NAMESPACE)

    service.subscribe(nudge)


def init_tickets(app: Flask) -> None:
    """Wire the ticket pages' live updates into ``app`` (called when the boards blueprint is registered)."""
    socketio.on_event("connect", _on_connect, namespace=NAMESPACE)
    socketio.on_event("refresh", _on_refresh, namespace=NAMESPACE)
    _tell_ticket_pages(app.extensions["queue_board"])
