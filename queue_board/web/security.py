"""Security headers on every answer, and which proxy the server believes about HTTPS.

Every response Flask makes (pages, API, static files, errors) gets:

- ``Content-Security-Policy``: scripts, styles and connections from this origin only (Socket.IO's
  websocket to this host included), images from this origin (and the ``data:`` favicon
  placeholder), no plugins, no ``<base>``, forms posting here only, no framing;
- ``X-Frame-Options: DENY`` (browsers older than ``frame-ancestors``);
- ``Referrer-Policy: no-referrer``: a ticket page's address is the customer's credential;
- ``X-Content-Type-Options: nosniff``;
- ``Permissions-Policy``: no camera, microphone, geolocation, payment or USB (kiosk and boards need none);
- ``Strict-Transport-Security`` only on a request that came over HTTPS.

Whether a request came over HTTPS is the WSGI scheme, which a reverse proxy's
``X-Forwarded-Proto`` changes only when ``PROXY_HOPS`` says how many proxies stand in front
(Werkzeug's ``ProxyFix``, which then also fixes the client's address and host). Without it anyone
could send that header over plain HTTP.

Not Flask-Talisman: it sends HSTS whenever a request carries ``X-Forwarded-Proto: https``,
whoever sent it, and rewrites the session cookie's settings at each request (this app's
configuration owns them); what is left is the few headers below.
"""

from __future__ import annotations

import re

from flask import Flask, Response, request
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix

#: a year: the usual HSTS lifetime (no ``includeSubDomains``: the bank's other hosts are not ours to pin)
HSTS = "max-age=31536000"
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
REFERRER_POLICY = "no-referrer"
#: what a host may look like to be named in the policy (a name or address, and a port)
_HOST = re.compile(r"[A-Za-z0-9.\-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")


def content_security_policy(secure: bool, host: str) -> str:
    """The policy of every answer: this origin only, and its own Socket.IO websocket.

    ``'self'`` covers ``ws:``/``wss:`` to the same host in CSP 3, older engines need the host named.
    """
    socket = f"{'wss' if secure else 'ws'}://{host}" if _HOST.fullmatch(host) else ""
    connect = f"'self' {socket}".strip()
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src {connect}; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )


def add_security_headers(response: Response) -> Response:
    """Put the security headers on ``response`` (after every view and blueprint hook)."""
    headers = response.headers
    # one policy for the whole app: a blueprint's own (pages.py) is replaced, not added to
    try:
        host = request.host
    except SecurityError:
        host = ""  # a Host not in TRUSTED_HOSTS: its 400 names no websocket
    headers["Content-Security-Policy"] = content_security_policy(request.is_secure, host)
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = REFERRER_POLICY
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Permissions-Policy"] = PERMISSIONS_POLICY
    if request.is_secure:
        headers["Strict-Transport-Security"] = HSTS
    return response


class SecurityHeaders:
    """The extension: ``init_app`` trusts ``PROXY_HOPS`` proxies and adds the headers."""

    def init_app(self, app: Flask) -> None:
        """Wrap ``app``'s WSGI app in ProxyFix when proxies are trusted, and add the headers.

        Call after Socket.IO is bound: ProxyFix then sits outside Engine.IO too, so the sockets
        see the client's real address (their rate limits) and scheme.
        """
        hops = int(app.config.get("PROXY_HOPS") or 0)
        if hops < 0:
            raise ValueError(f"PROXY_HOPS must be 0 or more, not {hops}")
        if hops:
            app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)  # type: ignore[method-assign]
        app.after_request(add_security_headers)


#: bound per app by the factory
security = SecurityHeaders()
