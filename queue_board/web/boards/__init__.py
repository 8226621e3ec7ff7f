"""Screens: hall board, counter board, teller console, kiosk, and the customer's ticket page.

The pages are shells: each reads its token from ``?token=`` (then keeps it in the browser),
its branch from ``?branch=`` and its language from ``?lang=``, fetches nothing server-side, and
renders what the Socket.IO ``snapshot``/``board`` pushes carry (see :mod:`queue_board.core.board_view`).
The ticket page is the exception: a signed link is its credential (see :mod:`.tickets`).
"""

from __future__ import annotations

import hashlib
from typing import Any, cast

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    render_template,
    request,
    send_from_directory,
)
from flask.blueprints import BlueprintSetupState

from queue_board.core.events import MAX_NAME_LENGTH

boards_bp = Blueprint("boards", __name__)

#: where ``npm install`` puts the browser build of socket.io-client, relative to the repository root
VENDOR_DIR = ("node_modules", "socket.io-client", "dist")
VENDOR_FILE = "socket.io.min.js"

#: pages only load this origin's scripts and styles; data reach them via textContent only
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


@boards_bp.after_request
def _page_headers(response: Response) -> Response:
    """Lock the screens down: no inline script, no framing, no sniffing."""
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


@boards_bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    """Languages and the ticket pages' live updates come with the screens."""
    from queue_board.web.boards.i18n import init_babel
    from queue_board.web.boards.tickets import init_tickets

    app = cast(Flask, state.app)
    init_babel(app)
    init_tickets(app)


def _page(template: str, kind: str, **context: Any) -> str:
    """Render a screen with what every page's script needs on ``<body data-…>``."""
    from queue_board.web.boards.i18n import LANGUAGES

    return render_template(
        template,
        page_kind=kind,
        default_branch=current_app.config["DEFAULT_BRANCH"],
        languages=LANGUAGES,
        **context,
    )


def _counter_page(template: str, kind: str, counter: str) -> str:
    """A screen of one counter; a name no event could carry is no counter (404)."""
    if not counter or len(counter) > MAX_NAME_LENGTH:
        abort(404)
    return _page(template, kind, counter=counter)


@boards_bp.get("/")
def index() -> str:
    """What the app is, links to the screens, and the demo's ready-made links."""
    from queue_board import current_service

    # read on someone's own computer, not on a branch's screen: their browser's language first
    g.prefer_browser_language = True
    branch = current_app.config["DEFAULT_BRANCH"]
    counters = [c.name for c in current_service().config(branch).counters]
    demo_links = (current_app.config.get("DEMO_LINKS") or []) if current_app.config.get("DEMO") else []
    return _page("index.html", "index", counters=counters, demo_links=demo_links)


@boards_bp.get("/board/hall")
def hall_board() -> str:
    """The hall board: now serving, every counter's state, waiting and expected waits."""
    return _page("hall.html", "hall")


@boards_bp.get("/board/counter/<counter>")
def counter_board(counter: str) -> str:
    """The screen above one counter's window: who is served and for how long, pauses, closing."""
    return _counter_page("counter.html", "counter", counter)


@boards_bp.get("/board/binding")
def token_binding() -> Response:
    """What the page's token is bound to (role, branch, counter), so a board can refuse the wrong screen."""
    from queue_board.web.api import grant

    caller = grant()
    return jsonify(role=caller.role, branch=caller.branch, counter=caller.counter)


@boards_bp.get("/i18n/catalogue.js")
def catalogue() -> Response:
    """The screens' translations for the browser (one ES module, every language)."""
    from queue_board.web.boards.i18n import catalogue_module

    body = catalogue_module()
    response = Response(body, mimetype="text/javascript")
    response.set_etag(hashlib.sha256(body.encode()).hexdigest()[:32])
    response.headers["Cache-Control"] = "no-cache"
    response.make_conditional(request)
    return response


@boards_bp.get("/teller/<counter>")
def teller_console(counter: str) -> str:
    """A teller's console, bound to one counter."""
    return _counter_page("teller.html", "teller", counter)


@boards_bp.get("/kiosk")
def kiosk() -> str:
    """The ticket kiosk: pick a service, get a ticket with people ahead and the expected wait."""
    return _page("kiosk.html", "kiosk")


@boards_bp.get(f"/vendor/{VENDOR_FILE}")
def socketio_client() -> Response:
    """The Socket.IO browser client from ``node_modules`` (installed by ``npm install``)."""
    from queue_board import ROOT

    directory = ROOT.joinpath(*VENDOR_DIR)
    if not (directory / VENDOR_FILE).is_file():
        message = (
            f"// socket.io-client is not installed: run `npm install` in {ROOT} "
            "(package.json lists it); the screens cannot get live updates without it.\n"
            "console.error('queue_board: socket.io-client missing; run npm install on the server');\n"
        )
        return Response(message, status=503, mimetype="text/javascript")
    return send_from_directory(directory, VENDOR_FILE, mimetype="text/javascript", max_age=3600)


from queue_board.web.boards import tickets  # noqa: E402,F401  (the ticket page's routes live on this blueprint)
