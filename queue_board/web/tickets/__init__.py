"""The customer's ticket on a phone: a signed link per ticket, its QR code, a page and its live state.

The customer has no token. The kiosk asks for a link to the ticket it just issued; the link
carries ``(branch, day, label)`` signed with the app's ``SECRET_KEY`` (the QR code on the ticket).
Whoever holds it may read that one ticket's state — position, expected wait, status, counter,
and how many counters serve its service — and nothing about other customers.

Live: the page joins the Socket.IO namespace ``/ticket`` with the link as its credential (see
:mod:`queue_board.web.sockets.tickets`). Every board push of the branch sends a content-free
``changed`` there; the page answers with ``refresh`` and gets its own ``ticket`` state back (so
it also works across server processes joined by a message queue). Without Socket.IO the page
polls ``/t/<link>/state``.

:mod:`.links` signs and reads links, :mod:`.state` says what a ticket's page shows, :mod:`.routes`
has the views.
"""

from __future__ import annotations

from flask import Blueprint

from queue_board.service.errors import ProblemError
from queue_board.web.pages import problem_json
from queue_board.web.tickets import routes

tickets_bp = Blueprint("tickets", __name__)
tickets_bp.register_error_handler(ProblemError, problem_json)
routes.add_routes(tickets_bp)
