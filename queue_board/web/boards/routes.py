"""The screens' views, and the table of their URLs (:func:`add_routes`)."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    request,
    send_from_directory,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response as BaseResponse

from queue_board.config import ROOT
from queue_board.core.events import MAX_NAME_LENGTH
from queue_board.web.auth import (
    CONSOLE_KIND,
    SCREEN_COOKIE_PREFIX,
    current_grant,
    guessed_grant,
    screen_cookie_name,
    screen_token_problem,
    signed_in_user,
)
from queue_board.web.i18n import catalogue_module
from queue_board.web.pages import render_page
from queue_board.web.service import current_service
from queue_board.web.staff.guard import current_path, forbidden_page, signed_in_grant

#: where ``npm install`` puts the browser build of socket.io-client, relative to the repository root
VENDOR_DIR = ("node_modules", "socket.io-client", "dist")
VENDOR_FILE = "socket.io.min.js"
#: a screen's cookie lasts this long, renewed at each load (browsers keep none longer than 400 days)
SCREEN_COOKIE_SECONDS = 400 * 24 * 3600
#: the screens' cookies every browser may hold besides the counter boards' (cleared by ``/board/forget``)
SCREEN_KINDS = ("hall", "kiosk")


def add_routes(boards_bp: Blueprint) -> None:
    """Every URL of the screens."""
    for rule, view in (
        ("/", index),
        ("/board/hall", hall_board),
        ("/board/counter/<counter>", counter_board),
        ("/board/binding", token_binding),
        ("/board/forget", forget_screens),
        ("/i18n/catalogue.js", catalogue),
        ("/teller/<counter>", teller_console),
        ("/kiosk", kiosk),
        (f"/vendor/{VENDOR_FILE}", socketio_client),
    ):
        boards_bp.add_url_rule(rule, view_func=view, methods=["GET"])


def _screen_page(template: str, kind: str, counter: str | None = None, **context: Any) -> ResponseReturnValue:
    """A wall screen, kiosk or teller console. Opened with ``?token=``, the token is swapped for the
    screen's HttpOnly cookie (:func:`_exchange`); else the page names its cookie, if the browser
    holds one, on ``<body data-screen>`` for its script to name in its API calls and Socket.IO connect."""
    name = screen_cookie_name(kind, counter)
    if "token" in request.args:
        return _exchange(name, request.args.get("token", ""), kind, counter)
    held = request.cookies.get(name)
    if counter is not None:
        context["counter"] = counter
    response = make_response(render_page(template, kind, screen=name if held else "", **context))
    if held:
        # renewed at each load: a screen that is used never expires (its token can still be revoked)
        _set_screen_cookie(response, name, held)
    return response


def _exchange(name: str, token: str, kind: str, counter: str | None) -> ResponseReturnValue:
    """``303`` to this page without the token, setting the cookie ``name`` to it; a token this
    screen may not keep gets a page saying why (401 unknown or revoked, 403 a person's, or for a
    console another counter's or not a teller's) and no cookie."""
    # a screen's link is a token guess like any other: the same per-address limit
    grant = guessed_grant(token)
    if grant is None:
        reason = _("The token in this link is unknown or has been revoked. Ask for a new link (queue-board token create --role display, or --role kiosk for a kiosk).")
        return _screen_link_page(reason, 401)
    if kind == CONSOLE_KIND and screen_token_problem(grant, kind, counter) is not None:
        if grant.role == "teller":
            reason = _(
                "This link holds the teller token of counter %(theirs)s, not of counter %(counter)s. Open counter %(theirs)s's console with it, or ask for this counter's link.",
                theirs=grant.counter or "", counter=counter or "",
            )
        else:
            reason = _(
                "This link holds a %(role)s token: a teller console keeps a teller token of its counter (queue-board token create --role teller --counter …). Staff sign in at /login instead.",
                role=grant.role,
            )
        return _screen_link_page(reason, 403)
    if kind != CONSOLE_KIND and screen_token_problem(grant) is not None:
        reason = _(
            "This link holds a %(role)s token, which is a person's or a program's: a screen keeps a display or kiosk token. Staff sign in at /login instead.",
            role=grant.role,
        )
        return _screen_link_page(reason, 403)
    query = urlencode([(key, value) for key, value in request.args.items(multi=True) if key != "token"])
    response = redirect(f"{request.script_root}{request.path}{'?' + query if query else ''}", code=303)
    _set_screen_cookie(response, name, token.strip())
    return response


def _set_screen_cookie(response: BaseResponse, name: str, token: str) -> None:
    # HttpOnly: no script reads it; Strict: no other site's page or link sends it; path "/": the
    # screen's API calls and Socket.IO handshake carry it too (the script says which cookie is its)
    response.set_cookie(
        name, token, max_age=SCREEN_COOKIE_SECONDS, path="/", secure=request.is_secure, httponly=True, samesite="Strict"
    )
    # an answer carrying a screen's token is kept by no cache
    response.headers["Cache-Control"] = "no-store"


def _screen_link_page(reason: str, status: int) -> Response:
    response = make_response(render_page("screen_link.html", "screen-link", reason=reason, forgotten=False), status)
    response.headers["Cache-Control"] = "no-store"
    return response


def forget_screens() -> Response:
    """Clear every screen cookie of this browser (a screen moved, a device handed on)."""
    response = make_response(render_page("screen_link.html", "screen-link", reason="", forgotten=True))
    names = {screen_cookie_name(kind) for kind in SCREEN_KINDS}
    names.update(name for name in request.cookies if name.startswith(SCREEN_COOKIE_PREFIX))
    for name in sorted(names):
        response.delete_cookie(name, path="/", secure=request.is_secure, httponly=True, samesite="Strict")
    response.headers["Cache-Control"] = "no-store"
    return response


def _counter_page(template: str, kind: str, counter: str) -> ResponseReturnValue:
    """A screen of one counter; a name no event could carry is no counter (404)."""
    if not counter or len(counter) > MAX_NAME_LENGTH:
        abort(404)
    return _screen_page(template, kind, counter)


def index() -> str:
    """What the app is, links to the screens, and the demo's ready-made links."""
    # read on someone's own computer, not on a branch's screen: their browser's language first
    g.prefer_browser_language = True
    branch = current_app.config["DEFAULT_BRANCH"]
    counters = [c.name for c in current_service().config(branch).counters]
    demo = bool(current_app.config.get("DEMO"))
    demo_links = (current_app.config.get("DEMO_LINKS") or []) if demo else []
    # the demo's consoles left to the person reading this (the simulation works the others)
    demo_yours = [link for link in demo_links if link.get("yours")]
    simulates_all = demo and current_app.config.get("DEMO_HUMAN_COUNTERS") == []
    # the demo's staff accounts and their passwords (a demo's, on the machine running it)
    demo_accounts = (current_app.config.get("DEMO_ACCOUNTS") or []) if demo else []
    return render_page(
        "index.html",
        "index",
        counters=counters,
        demo_links=demo_links,
        demo_yours=demo_yours,
        demo_simulates_all=simulates_all,
        demo_accounts=demo_accounts,
    )


def hall_board() -> ResponseReturnValue:
    """The hall board: now serving, every counter's state, waiting and expected waits."""
    return _screen_page("hall.html", "hall")


def counter_board(counter: str) -> ResponseReturnValue:
    """The screen above one counter's window: who is served and for how long, pauses, closing."""
    return _counter_page("counter.html", "counter", counter)


def token_binding() -> Response:
    """What the page's token is bound to (role, branch, counter), so a board can refuse the wrong screen."""
    caller = current_grant()
    return jsonify(role=caller.role, branch=caller.branch, counter=caller.counter)


def catalogue() -> Response:
    """The screens' translations for the browser (one ES module, every language)."""
    body = catalogue_module()
    response = Response(body, mimetype="text/javascript")
    response.set_etag(hashlib.sha256(body.encode()).hexdigest()[:32])
    response.headers["Cache-Control"] = "no-cache"
    response.make_conditional(request)
    return response


def teller_console(counter: str) -> ResponseReturnValue:
    """A teller's console, bound to one counter.

    The counter's own device is opened once with its teller token (``?token=``), which is swapped
    for the console's HttpOnly cookie like a screen's, so no script or address bar holds it. A
    signed-in staff user works through the session instead (``data-session``, and the CSRF
    token its writes send), whatever cookie the browser holds: a teller opens only their own
    counter, someone who manages the branch any counter of it. With neither, the page offers to
    sign in.
    """
    if not counter or len(counter) > MAX_NAME_LENGTH:
        abort(404)
    # offered when the page has no token, or when the server refuses the session (it ended)
    sign_in_url = url_for("staff.login", next=current_path())
    grant = signed_in_grant()
    if grant is None or "token" in request.args:
        return _screen_page("teller.html", CONSOLE_KIND, counter, sign_in_url=sign_in_url)
    branch = request.args.get("branch") or current_app.config["DEFAULT_BRANCH"]
    if grant.role == "teller":
        if grant.branch != branch:
            return forbidden_page(_("Your account does not cover branch %(branch)s.", branch=branch))
        if grant.counter is None:
            # signed in, but no counter picked yet
            return redirect(url_for("staff.pick_counter"))
        if grant.counter != counter:
            return forbidden_page(
                _("You are signed in for counter %(mine)s of branch %(branch)s; this console is another counter's.",
                  mine=grant.counter, branch=branch)
            )
    elif not grant.manages(branch):
        return forbidden_page(_("Your account does not cover branch %(branch)s.", branch=branch))
    return render_page(
        "teller.html", "teller", counter=counter, sign_in_url=sign_in_url, staff_user=signed_in_user(), csrf=generate_csrf()
    )


def kiosk() -> ResponseReturnValue:
    """The ticket kiosk: pick a service, get a ticket with people ahead and the expected wait."""
    return _screen_page("kiosk.html", "kiosk")


def socketio_client() -> Response:
    """The Socket.IO browser client from ``node_modules`` (installed by ``npm install``)."""
    directory = ROOT.joinpath(*VENDOR_DIR)
    if not (directory / VENDOR_FILE).is_file():
        message = (
            f"// socket.io-client is not installed: run `npm install` in {ROOT} "
            "(package.json lists it); the screens cannot get live updates without it.\n"
            "console.error('queue_board: socket.io-client missing; run npm install on the server');\n"
        )
        return Response(message, status=503, mimetype="text/javascript")
    return send_from_directory(directory, VENDOR_FILE, mimetype="text/javascript", max_age=3600)
