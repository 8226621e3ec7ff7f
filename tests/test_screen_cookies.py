"""A screen's token is exchanged once for an HttpOnly cookie (queue_board.web.boards.routes), which
then authenticates the screen's API calls and Socket.IO connect (queue_board.web.auth) until its
token is revoked or the browser forgets it; writes with it come from this server's pages only."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import STAFF_PASSWORD, Tokens, sign_in
from flask import Flask
from flask.testing import FlaskClient

from queue_board.web.auth import SCREEN_HEADER, screen_cookie_name

API = "/api/v1/branches/main"
HALL = "qb_screen_hall"
KIOSK = "qb_screen_kiosk"
SAME_ORIGIN = {"Origin": "http://localhost"}


def store_of(app: Flask) -> Any:
    return app.extensions["queue_board"].store


def exchange(client: FlaskClient, path: str, token: str, query: str = "") -> Any:
    return client.get(f"{path}?token={token}{'&' + query if query else ''}")


def cookie_of(response: Any, name: str) -> str:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            return str(header)
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers.getlist('Set-Cookie')}")


def as_screen(name: str, **extra: str) -> dict[str, str]:
    return {SCREEN_HEADER: name, **extra}


def socket_of(app: Flask, client: FlaskClient, headers: dict[str, str] | None = None, **auth: Any) -> Any:
    return app.extensions["socketio"].test_client(app, flask_test_client=client, auth={"branch": "main", **auth}, headers=headers)


def token_id(app: Flask, name: str) -> int:
    return next(int(row["id"]) for row in store_of(app).list_tokens() if row["name"] == name)


# the exchange ----------------------------------------------------------------------------------------
def test_a_screen_link_is_answered_with_303_to_itself_without_the_token(client: FlaskClient, tokens: Tokens) -> None:
    response = exchange(client, "/board/hall", tokens.display, "lang=zh-Hant&rotate=10")
    assert response.status_code == 303
    location = response.headers["Location"]
    assert tokens.display not in location and "token" not in location
    assert urlsplit(location).path == "/board/hall"
    assert parse_qs(urlsplit(location).query) == {"lang": ["zh-Hant"], "rotate": ["10"]}
    cookie = cookie_of(response, HALL)
    assert cookie.startswith(f"{HALL}={tokens.display};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie, "plain HTTP: a Secure cookie would never come back"
    assert response.headers["Cache-Control"] == "no-store"


def test_over_https_the_cookie_is_secure(client: FlaskClient, tokens: Tokens) -> None:
    response = client.get(f"/kiosk?token={tokens.kiosk}", base_url="https://localhost")
    assert response.status_code == 303
    assert "; Secure" in cookie_of(response, KIOSK)


def test_the_page_then_names_its_cookie_but_never_holds_the_token(client: FlaskClient, tokens: Tokens) -> None:
    exchange(client, "/board/hall", tokens.display)
    html = client.get("/board/hall").get_data(as_text=True)
    assert f'data-screen="{HALL}"' in html
    assert tokens.display not in html
    # without a cookie the page says it holds none (its script then asks for a link with a token)
    assert 'data-screen=""' in client.get("/kiosk").get_data(as_text=True)


def test_each_screen_kind_and_counter_board_has_its_own_cookie(client: FlaskClient, tokens: Tokens, app: Flask) -> None:
    bound = store_of(app).create_token("above 1", "display", "main", "1")
    names = {
        cookie_of(exchange(client, "/board/hall", tokens.display), HALL).split("=")[0],
        cookie_of(exchange(client, "/kiosk", tokens.kiosk), KIOSK).split("=")[0],
        cookie_of(exchange(client, "/board/counter/1", bound), "qb_screen_counter_1").split("=")[0],
        cookie_of(exchange(client, "/board/counter/2", tokens.display), "qb_screen_counter_2").split("=")[0],
    }
    assert len(names) == 4
    # one browser, four screens: each keeps its own token
    assert client.get("/board/binding", headers=as_screen("qb_screen_counter_1")).json == {"role": "display", "branch": "main", "counter": "1"}
    assert client.get("/board/binding", headers=as_screen(KIOSK)).json["role"] == "kiosk"  # type: ignore[index]
    assert client.get("/board/binding", headers=as_screen(HALL)).json["counter"] is None  # type: ignore[index]


def test_a_counter_name_outside_the_cookie_charset_gets_a_hashed_cookie_name() -> None:
    assert screen_cookie_name("counter", "7") == "qb_screen_counter_7"
    odd = {screen_cookie_name("counter", name) for name in ("Ä 1", "A", "a", "窗口 2")}
    assert len(odd) == 4
    assert all(name.isascii() and " " not in name for name in odd)


@pytest.mark.parametrize("token", ["wrong", "", "%20"])
def test_a_wrong_token_in_the_link_gets_a_page_saying_so_and_no_cookie(client: FlaskClient, token: str) -> None:
    response = client.get(f"/board/hall?token={token}")
    assert response.status_code == 401
    assert "Set-Cookie" not in response.headers
    html = response.get_data(as_text=True)
    assert "unknown or has been revoked" in html
    assert 'id="screen-link-reason"' in html


def test_a_revoked_token_in_the_link_is_refused_like_an_unknown_one(client: FlaskClient, tokens: Tokens, app: Flask) -> None:
    store_of(app).revoke_token(token_id(app, "hall"))
    response = exchange(client, "/board/hall", tokens.display)
    assert response.status_code == 401
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("role", ["manager", "teller1", "admin"])
def test_a_persons_token_is_no_screens_and_sets_no_cookie(client: FlaskClient, tokens: Tokens, role: str) -> None:
    response = exchange(client, "/board/hall", getattr(tokens, role))
    assert response.status_code == 403
    assert "Set-Cookie" not in response.headers
    assert "display or kiosk token" in response.get_data(as_text=True)


# the cookie authenticates the screen ------------------------------------------------------------------
def test_the_cookie_authenticates_the_pages_snapshot_call(client: FlaskClient, tokens: Tokens) -> None:
    exchange(client, "/board/hall", tokens.display)
    snapshot = client.get(f"{API}/snapshot", headers=as_screen(HALL))
    assert snapshot.status_code == 200
    assert snapshot.json["branch"] == "main"  # type: ignore[index]


def test_the_cookie_alone_is_not_a_credential(client: FlaskClient, tokens: Tokens) -> None:
    """Only a script that names its cookie uses it: a request without X-QB-Screen (a link,
    a form, an image of another site) is not authenticated by it."""
    exchange(client, "/board/hall", tokens.display)
    assert client.get(f"{API}/snapshot").status_code == 401


@pytest.mark.parametrize("name", ["session", "qb_screen_", "qb_screen_HALL", "qb_screen_kiosk"])
def test_naming_no_held_screen_cookie_is_401(client: FlaskClient, tokens: Tokens, name: str) -> None:
    exchange(client, "/board/hall", tokens.display)
    response = client.get(f"{API}/snapshot", headers=as_screen(name))
    assert response.status_code == 401
    assert response.json["error"] == "unauthorized"  # type: ignore[index]


def test_a_bearer_token_still_wins_over_the_cookie(client: FlaskClient, tokens: Tokens) -> None:
    exchange(client, "/board/hall", tokens.display)
    headers = {**as_screen(HALL), "Authorization": "Bearer wrong"}
    assert client.get(f"{API}/snapshot", headers=headers).status_code == 401
    assert client.get(f"{API}/snapshot", headers=tokens.auth("display")).status_code == 200


def test_a_cookie_holding_a_persons_token_is_refused(client: FlaskClient, tokens: Tokens) -> None:
    # set by hand (no exchange would): the cookie is still only a screen's credential
    client.set_cookie(HALL, tokens.manager)
    response = client.get(f"{API}/snapshot", headers=as_screen(HALL))
    assert response.status_code == 403


def test_the_cookie_connects_the_screens_socket(app: Flask, client: FlaskClient, tokens: Tokens) -> None:
    exchange(client, "/board/hall", tokens.display)
    board = socket_of(app, client, screen=HALL)
    assert board.is_connected()
    assert [m["name"] for m in board.get_received()] == ["snapshot"]
    board.disconnect()


def test_a_socket_without_the_cookie_or_from_another_origin_is_refused(app: Flask, client: FlaskClient, tokens: Tokens) -> None:
    assert not socket_of(app, client, screen=HALL).is_connected()
    exchange(client, "/board/hall", tokens.display)
    assert not socket_of(app, client, {"Origin": "https://evil.example"}, screen=HALL).is_connected()
    assert socket_of(app, client, SAME_ORIGIN, screen=HALL).is_connected()


def test_a_socket_token_in_the_handshake_still_works_for_programs(app: Flask, tokens: Tokens) -> None:
    program = app.extensions["socketio"].test_client(app, auth={"token": tokens.display, "branch": "main"})
    assert program.is_connected()
    program.disconnect()


def test_a_revoked_tokens_cookie_stops_working_at_once(app: Flask, client: FlaskClient, tokens: Tokens) -> None:
    exchange(client, "/kiosk", tokens.kiosk)
    assert client.get(f"{API}/snapshot", headers=as_screen(KIOSK)).status_code == 200
    store_of(app).revoke_token(token_id(app, "kiosk"))
    refused = client.get(f"{API}/snapshot", headers=as_screen(KIOSK))
    assert refused.status_code == 401
    assert "revoked" in refused.json["message"]  # type: ignore[index]
    assert not socket_of(app, client, screen=KIOSK).is_connected()
    ticket = client.post(f"{API}/tickets", json={"service": "deposit"}, headers=as_screen(KIOSK, **SAME_ORIGIN))
    assert ticket.status_code == 401


def test_a_socket_opened_with_the_cookie_is_cut_when_its_token_is_revoked(app: Flask, client: FlaskClient, tokens: Tokens) -> None:
    exchange(client, "/board/hall", tokens.display)
    board = socket_of(app, client, screen=HALL)
    assert board.is_connected()
    board.get_received()
    store_of(app).revoke_token(token_id(app, "hall"))
    board.emit("sync")
    assert not board.is_connected(), "a sync re-checks the socket's token, whichever way it came"


# writes: from this server's pages only ---------------------------------------------------------------------
def waiting(client: FlaskClient, tokens: Tokens) -> int:
    return len(client.get(f"{API}/snapshot", headers=tokens.auth("display")).json["waiting"])  # type: ignore[index]


def test_the_kiosk_takes_a_ticket_and_its_link_with_its_cookie(client: FlaskClient, tokens: Tokens) -> None:
    exchange(client, "/kiosk", tokens.kiosk)
    ticket = client.post(f"{API}/tickets", json={"service": "deposit"}, headers=as_screen(KIOSK, **SAME_ORIGIN))
    assert ticket.status_code == 201, ticket.json
    label = ticket.json["ticket"]["ticket"]  # type: ignore[index]
    link = client.post("/t/links", json={"branch": "main", "ticket": label}, headers=as_screen(KIOSK, **SAME_ORIGIN))
    assert link.status_code == 201, link.json
    # a page that blanked its Origin still names itself in the Referer
    referred = client.post(f"{API}/tickets", json={"service": "deposit"}, headers=as_screen(KIOSK, Origin="null", Referer="http://localhost/kiosk"))
    assert referred.status_code == 201, referred.json


@pytest.mark.parametrize(
    "origin",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "http://localhost.evil.example"},
        {"Origin": "https://localhost"},  # another scheme is another origin
        {"Referer": "https://evil.example/kiosk"},
        {"Referer": "http://[localhost/kiosk"},
        {"Origin": "null"},
        {},
    ],
)
def test_a_write_with_the_cookie_from_another_origin_is_403_and_stores_nothing(
    client: FlaskClient, tokens: Tokens, origin: dict[str, str]
) -> None:
    exchange(client, "/kiosk", tokens.kiosk)
    before = waiting(client, tokens)
    response = client.post(f"{API}/tickets", json={"service": "deposit"}, headers=as_screen(KIOSK, **origin))
    assert response.status_code == 403
    assert response.is_json
    assert response.json["error"] == "csrf_failed"  # type: ignore[index]
    assert waiting(client, tokens) == before


@pytest.mark.app_settings(PUBLIC_URL="https://queue.bank.example")
def test_a_write_from_the_public_address_is_this_servers(client: FlaskClient, tokens: Tokens) -> None:
    exchange(client, "/kiosk", tokens.kiosk)
    response = client.post(f"{API}/tickets", json={"service": "deposit"}, headers=as_screen(KIOSK, Origin="https://queue.bank.example"))
    assert response.status_code == 201


def test_a_display_cookie_cannot_take_tickets(client: FlaskClient, tokens: Tokens) -> None:
    exchange(client, "/board/hall", tokens.display)
    response = client.post(f"{API}/tickets", json={"service": "deposit"}, headers=as_screen(HALL, **SAME_ORIGIN))
    assert response.status_code == 403
    assert response.json["error"] == "forbidden"  # type: ignore[index]


# forgetting ---------------------------------------------------------------------------------------------------
def test_forget_clears_every_screen_cookie_of_the_browser(client: FlaskClient, tokens: Tokens) -> None:
    exchange(client, "/board/hall", tokens.display)
    exchange(client, "/kiosk", tokens.kiosk)
    exchange(client, "/board/counter/3", tokens.display)
    page = client.get("/board/forget")
    assert page.status_code == 200
    assert "forgotten" in page.get_data(as_text=True)
    cleared = {header.split("=")[0] for header in page.headers.getlist("Set-Cookie") if "Max-Age=0" in header or "Expires=Thu, 01 Jan 1970" in header}
    assert {HALL, KIOSK, "qb_screen_counter_3"} <= cleared
    for name in (HALL, KIOSK, "qb_screen_counter_3"):
        assert client.get(f"{API}/snapshot", headers=as_screen(name)).status_code == 401
    assert 'data-screen=""' in client.get("/board/hall").get_data(as_text=True)


# the teller console: a counter's own device keeps its teller token the same way ----------------------------
TELLER1 = "qb_screen_teller_1"


def test_a_teller_console_link_swaps_its_token_for_the_counters_cookie(client: FlaskClient, tokens: Tokens) -> None:
    response = exchange(client, "/teller/1", tokens.teller1, "lang=en")
    assert response.status_code == 303
    location = response.headers["Location"]
    assert "token" not in location and tokens.teller1 not in location
    assert urlsplit(location).path == "/teller/1"
    cookie = cookie_of(response, TELLER1)
    assert cookie.startswith(f"{TELLER1}={tokens.teller1};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    html = client.get("/teller/1").get_data(as_text=True)
    assert f'data-screen="{TELLER1}"' in html
    assert tokens.teller1 not in html
    # without a cookie the console says it holds none, and offers to sign in
    fresh = client.application.test_client()
    assert 'data-screen=""' in fresh.get("/teller/1").get_data(as_text=True)


def test_the_console_acts_and_connects_with_its_cookie_from_this_servers_page_only(
    app: Flask, client: FlaskClient, tokens: Tokens
) -> None:
    exchange(client, "/teller/1", tokens.teller1)
    opened = client.post(f"{API}/counters/1/open", headers=as_screen(TELLER1, **SAME_ORIGIN))
    assert opened.status_code == 201, opened.json
    before = client.get(f"{API}/snapshot", headers=tokens.auth("display")).json["seq"]  # type: ignore[index]
    forged = client.post(f"{API}/counters/1/close", headers=as_screen(TELLER1, Origin="https://evil.example"))
    assert forged.status_code == 403 and forged.json["error"] == "csrf_failed"  # type: ignore[index]
    # the cookie is counter 1's: counter 2 is not its to work
    other = client.post(f"{API}/counters/2/open", headers=as_screen(TELLER1, **SAME_ORIGIN))
    assert other.status_code == 403
    assert client.get(f"{API}/snapshot", headers=tokens.auth("display")).json["seq"] == before  # type: ignore[index]
    console = socket_of(app, client, SAME_ORIGIN, screen=TELLER1)
    assert console.is_connected()
    console.disconnect()


@pytest.mark.parametrize(
    ("role", "status", "words"),
    [
        ("teller2", 403, "counter 2"),  # another counter's token
        ("display", 403, "teller token"),
        ("kiosk", 403, "teller token"),
        ("manager", 403, "teller token"),
        ("admin", 403, "teller token"),
    ],
)
def test_a_console_link_keeps_only_its_own_counters_teller_token(
    client: FlaskClient, tokens: Tokens, role: str, status: int, words: str
) -> None:
    response = exchange(client, "/teller/1", getattr(tokens, role))
    assert response.status_code == status
    assert "Set-Cookie" not in response.headers
    assert words in response.get_data(as_text=True)


def test_a_wrong_token_in_a_console_link_is_401_and_no_cookie(client: FlaskClient) -> None:
    response = client.get("/teller/1?token=wrong")
    assert response.status_code == 401
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize(("name", "role"), [(TELLER1, "display"), (TELLER1, "teller2"), (HALL, "teller1"), ("qb_screen_counter_1", "teller1")])
def test_a_cookie_holding_a_token_of_another_kind_is_refused(client: FlaskClient, tokens: Tokens, name: str, role: str) -> None:
    # set by hand (no exchange would): a console's cookie holds its counter's teller token, a board's a display's
    client.set_cookie(name, getattr(tokens, role))
    response = client.get(f"{API}/snapshot", headers=as_screen(name))
    assert response.status_code == 403, response.json


def test_a_signed_in_teller_works_through_the_session_whatever_cookie_the_browser_holds(app: Flask, client: FlaskClient, tokens: Tokens) -> None:
    exchange(client, "/teller/1", tokens.teller1)
    store_of(app).create_user("ann", STAFF_PASSWORD, "teller", ("main",), "1")
    assert sign_in(client, "ann").status_code == 303
    html = client.get("/teller/1").get_data(as_text=True)
    assert 'data-session="1"' in html
    assert "data-screen" not in html, "a signed-in console acts as its user, never as the counter's token"


def test_forget_clears_the_consoles_cookie_too(client: FlaskClient, tokens: Tokens) -> None:
    exchange(client, "/teller/1", tokens.teller1)
    page = client.get("/board/forget")
    cleared = {header.split("=")[0] for header in page.headers.getlist("Set-Cookie") if "Max-Age=0" in header or "Expires=Thu, 01 Jan 1970" in header}
    assert TELLER1 in cleared
    assert client.get(f"{API}/snapshot", headers=as_screen(TELLER1)).status_code == 401
