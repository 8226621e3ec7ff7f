"""Security headers on every kind of answer (queue_board.web.security), HSTS only over HTTPS,
and templates a strict Content-Security-Policy does not break."""

from __future__ import annotations

import re

import pytest
from conftest import Tokens
from flask import Flask
from flask.testing import FlaskClient

from queue_board import ROOT
from queue_board.web.security import content_security_policy

API = "/api/v1/branches/main"
#: one request of each kind the app answers: pages, JSON, errors, static files, scripts, images, redirects
ANSWERS = [
    ("/", None),
    ("/board/hall", None),
    ("/board/counter/1", None),
    ("/kiosk", None),
    ("/teller/1", None),
    ("/login", None),
    ("/manage", None),  # a redirect to the sign-in page
    ("/board/forget", None),
    (f"{API}/snapshot", "display"),
    (f"{API}/snapshot", None),  # 401 JSON
    ("/api/v1/nowhere", "admin"),  # 404 JSON
    ("/nowhere", None),  # 404 HTML
    ("/healthz", None),
    ("/static/js/live.js", None),
    ("/static/css/common.css", None),
    ("/i18n/catalogue.js", None),
    ("/vendor/socket.io.min.js", None),
    ("/t/not-a-link", None),
    ("/t/not-a-link/state", None),
]


def header_map(client: FlaskClient, path: str, headers: dict[str, str] | None = None, **kwargs: object) -> dict[str, str]:
    response = client.get(path, headers=headers or {}, **kwargs)
    response.close()  # a static file's answer holds the file open
    return dict(response.headers)


@pytest.mark.parametrize(("path", "role"), ANSWERS)
def test_every_kind_of_answer_carries_the_security_headers(client: FlaskClient, tokens: Tokens, path: str, role: str | None) -> None:
    headers = header_map(client, path, tokens.auth(role) if role else {})
    assert headers["Content-Security-Policy"] == content_security_policy(False, "localhost")
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    for feature in ("camera", "microphone", "geolocation"):
        assert f"{feature}=()" in headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in headers, "HSTS over plain HTTP"


def test_the_ticket_pages_and_qr_code_carry_them_too(client: FlaskClient, tokens: Tokens) -> None:
    label = client.post(f"{API}/tickets", json={"service": "deposit"}, headers=tokens.auth("kiosk")).json["ticket"]["ticket"]  # type: ignore[index]
    link = client.post("/t/links", json={"branch": "main", "ticket": label}, headers=tokens.auth("kiosk")).json
    assert link is not None
    for path in (link["path"], link["qr"], link["path"] + "/state"):
        headers = header_map(client, path)
        assert headers["Referrer-Policy"] == "no-referrer", path  # the link is the customer's credential
        assert headers["X-Frame-Options"] == "DENY", path
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path
    # a ticket's state moves with every call: neither it nor an unsigned link's 404 is ever stored
    for path in (link["path"] + "/state", "/t/not-a-link/state"):
        assert header_map(client, path)["Cache-Control"] == "no-store", path


def directives(policy: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def test_the_policy_allows_only_this_origin_and_no_inline_code(client: FlaskClient) -> None:
    policy = directives(header_map(client, "/board/hall")["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    # Socket.IO: this host's websocket, no other host's
    assert policy["connect-src"] == ["'self'", "ws://localhost"]
    assert not any("unsafe" in value for values in policy.values() for value in values)


def test_hsts_and_a_wss_socket_only_over_https(client: FlaskClient) -> None:
    headers = header_map(client, "/board/hall", base_url="https://localhost")
    assert headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "connect-src 'self' wss://localhost;" in headers["Content-Security-Policy"]


def test_a_forwarded_proto_is_not_believed_without_a_trusted_proxy(client: FlaskClient) -> None:
    headers = header_map(client, "/board/hall", {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"})
    assert "Strict-Transport-Security" not in headers
    assert "evil.example" not in headers["Content-Security-Policy"]


@pytest.mark.app_settings(PROXY_HOPS=1)
def test_behind_a_trusted_proxy_its_forwarded_proto_counts(client: FlaskClient, tokens: Tokens) -> None:
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "queue.bank.example", "X-Forwarded-For": "203.0.113.9"}
    headers = header_map(client, "/board/hall", forwarded)
    assert headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "wss://queue.bank.example" in headers["Content-Security-Policy"]
    # and a screen's cookie is sent over HTTPS only
    exchange = client.get(f"/board/hall?token={tokens.display}", headers=forwarded)
    assert "; Secure" in exchange.headers["Set-Cookie"]
    assert "Strict-Transport-Security" not in header_map(client, "/board/hall"), "a plain request through the same proxy"


def test_a_negative_proxy_count_stops_the_app(app: Flask) -> None:
    from queue_board.web.security import SecurityHeaders

    other = Flask("other")
    other.config["PROXY_HOPS"] = -1
    with pytest.raises(ValueError, match="PROXY_HOPS"):
        SecurityHeaders().init_app(other)


# templates a strict policy would break ------------------------------------------------------------
INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"<style\b", re.I), "a <style> element"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an inline event handler"),
    (re.compile(r"\sstyle\s*=", re.I), "a style= attribute"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]


@pytest.mark.parametrize("template", sorted(p.name for p in (ROOT / "templates").glob("*.html")))
def test_no_template_holds_what_the_policy_refuses(template: str) -> None:
    text = (ROOT / "templates" / template).read_text()
    for pattern, what in INLINE:
        assert not pattern.search(text), f"{template} has {what}, which the Content-Security-Policy blocks"


def test_no_script_writes_style_attributes_or_evaluates_strings() -> None:
    for path in sorted((ROOT / "static" / "js").glob("*.js")):
        text = path.read_text()
        assert 'setAttribute("style"' not in text and "setAttribute('style'" not in text, path.name
        assert not re.search(r"\beval\(|new Function\(", text), path.name


@pytest.mark.app_settings(TRUSTED_HOSTS=["localhost"])
def test_a_refused_host_gets_the_headers_and_names_no_websocket(client: FlaskClient) -> None:
    response = client.get("/board/hall", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "connect-src 'self';" in response.headers["Content-Security-Policy"]


def test_a_host_that_is_no_host_name_is_not_written_into_the_policy() -> None:
    assert "connect-src 'self';" in content_security_policy(False, "x; script-src *")
    assert "ws://[::1]:5000" in content_security_policy(False, "[::1]:5000")
