"""Staff accounts and browser sign-in (issue 10): users from the command line, the sign-in form,
the failed sign-in limit, session expiry, CSRF on session writes, the page guards, the teller
console and Socket.IO through the session, area managers, and the store's migration."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import STAFF_PASSWORD, ManualClock, Tokens, csrf_token_in, make_test_app, sign_in
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from itsdangerous import TimestampSigner

from queue_board.core.branch_config import DEMO_CONFIG
from queue_board.core.staff import password_problem, staff_problem, username_problem
from queue_board.store.event_store import EventStore, StaffUser
from queue_board.web.auth import Grant
from queue_board.web.staff.guard import signed_in_grant, staff_json, staff_page
from queue_board.web.staff.sessions import SIGNED_IN_AT

WRONG = "Wrong user name or password."


def store_of(app: Flask) -> EventStore:
    store: EventStore = app.extensions["queue_board"].store
    return store


def add_user(app: Flask, username: str, role: str, branches: tuple[str, ...] = ("main",), counter: str | None = None) -> StaffUser:
    return store_of(app).create_user(username, STAFF_PASSWORD, role, branches, counter, None)


def console_csrf(client: FlaskClient, path: str = "/teller/1") -> str:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    return csrf_token_in(response.get_data(as_text=True))


def open_counter(client: FlaskClient, counter: str = "1", csrf: str | None = None, branch: str = "main") -> Any:
    headers = {"X-CSRFToken": csrf} if csrf is not None else {}
    return client.post(f"/api/v1/branches/{branch}/counters/{counter}/open", headers=headers)


# the rules, pure ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "branches", "counter", "problem"),
    [
        ("admin", (), None, None),
        ("admin", ("main",), None, "every branch"),
        ("manager", ("main",), None, None),
        ("manager", ("main", "north"), None, "exactly one branch"),
        ("manager", (), None, "exactly one branch"),
        ("manager", ("main",), "1", "only a teller"),
        ("teller", ("main",), None, None),
        ("teller", ("main",), "1", None),
        ("teller", ("main", "north"), "1", "exactly one branch"),
        ("area_manager", ("main", "north"), None, None),
        ("area_manager", ("main", "main"), None, None),
        ("area_manager", (), None, "at least one"),
        ("wizard", ("main",), None, "unknown role"),
    ],
)
def test_a_users_role_decides_its_branches_and_counter(
    role: str, branches: tuple[str, ...], counter: str | None, problem: str | None
) -> None:
    found = staff_problem(role, branches, counter)
    assert (found is None) if problem is None else (found is not None and problem in found), found


def test_user_names_and_passwords_follow_the_policy() -> None:
    assert username_problem("alice.w-2_b") is None
    assert username_problem("") is not None
    assert "a-z" in (username_problem("alice smith") or "")
    assert "at most 64" in (username_problem("a" * 65) or "")
    assert "at least 10" in (password_problem("short") or "")
    assert password_problem("ten chars!") is None
    assert password_problem(" " * 12) is not None


# the command line -----------------------------------------------------------------------------
def test_a_user_created_on_the_command_line_can_sign_in(app: Flask, runner: FlaskCliRunner, client: FlaskClient) -> None:
    created = runner.invoke(
        args=["user", "create", "--role", "manager", "--branch", "main", "--username", " Alice ", "--display-name", "Alice W.", "--password-stdin"],
        input=f"{STAFF_PASSWORD}\n",
    )
    assert created.exit_code == 0, created.output
    assert "created manager alice at main" in created.output and STAFF_PASSWORD not in created.output
    user = store_of(app).find_user("alice")
    assert user is not None and user.display_name == "Alice W." and user.password_hash.startswith("$argon2")
    listed = runner.invoke(args=["user", "list"]).output
    assert "alice\tmanager\tmain\t-\tAlice W.\tlive\tnever signed in" in listed
    assert "$argon2" not in listed
    answer = sign_in(client, "ALICE", query="?next=/board/hall%3Flang%3Den")
    assert answer.status_code == 303 and answer.headers["Location"] == "/board/hall?lang=en"
    assert "never signed in" not in runner.invoke(args=["user", "list"]).output


def test_the_command_line_asks_for_the_password_twice_by_default(app: Flask, runner: FlaskCliRunner) -> None:
    mismatch = runner.invoke(
        args=["user", "create", "--role", "teller", "--branch", "main", "--username", "bob"],
        input="first password\nsecond password\n",
    )
    assert mismatch.exit_code != 0 and store_of(app).find_user("bob") is None
    created = runner.invoke(
        args=["user", "create", "--role", "teller", "--branch", "main", "--username", "bob", "--counter", "2"],
        input=f"{STAFF_PASSWORD}\n{STAFF_PASSWORD}\n",
    )
    assert created.exit_code == 0, created.output
    assert "Repeat the password" in created.output and STAFF_PASSWORD not in created.output
    user = store_of(app).find_user("bob")
    assert user is not None and user.counter == "2"


def test_the_issues_own_command_asks_for_the_user_name_too(app: Flask, runner: FlaskCliRunner) -> None:
    """``queue-board user create --role manager --branch main``, as issue 10 writes it."""
    created = runner.invoke(args=["user", "create", "--role", "manager", "--branch", "main"], input=f"carol\n{STAFF_PASSWORD}\n{STAFF_PASSWORD}\n")
    assert created.exit_code == 0, created.output
    assert "User name" in created.output
    user = store_of(app).find_user("carol")
    assert user is not None and user.role == "manager" and user.branches == ("main",)


def test_a_generated_password_is_printed_once_and_works(app: Flask, runner: FlaskCliRunner, client: FlaskClient) -> None:
    created = runner.invoke(
        args=["user", "create", "--role", "area-manager", "--branch", "main", "--branch", "north", "--username", "ann", "--generate-password"]
    )
    assert created.exit_code == 0, created.output
    password = re.search(r"password: (\S+)", created.output)
    assert password, created.output
    user = store_of(app).find_user("ann")
    assert user is not None and user.role == "area_manager" and user.branches == ("main", "north")
    assert sign_in(client, "ann", password.group(1)).status_code == 303


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--role", "wizard", "--branch", "main", "--username", "x"], STAFF_PASSWORD, "unknown role 'wizard'"),
        (["--role", "manager", "--branch", "main", "--branch", "north", "--username", "x"], STAFF_PASSWORD, "exactly one branch"),
        (["--role", "admin", "--branch", "main", "--username", "x"], STAFF_PASSWORD, "give no branch"),
        (["--role", "area_manager", "--username", "x"], STAFF_PASSWORD, "at least one"),
        (["--role", "manager", "--branch", "main", "--counter", "1", "--username", "x"], STAFF_PASSWORD, "only a teller"),
        (["--role", "teller", "--branch", "main", "--counter", "9", "--username", "x"], STAFF_PASSWORD, "has no counter '9'"),
        (["--role", "teller", "--branch", "main", "--username", "Bad Name"], STAFF_PASSWORD, "may only use"),
        (["--role", "teller", "--branch", "main", "--username", "x"], "short", "at least 10 characters"),
        (["--role", "teller", "--branch", "main", "--username", "taken"], STAFF_PASSWORD, "there is a user 'taken' already"),
        (["--role", "teller", "--branch", "main", "--username", "x", "--generate-password"], STAFF_PASSWORD, "not both"),
    ],
)
def test_user_create_refuses_bad_input_and_changes_nothing(
    app: Flask, runner: FlaskCliRunner, args: list[str], stdin: str, message: str
) -> None:
    add_user(app, "taken", "teller")
    before = store_of(app).list_users()
    result = runner.invoke(args=["user", "create", *args, "--password-stdin"], input=f"{stdin}\n")
    assert result.exit_code != 0
    assert message in result.output, result.output
    assert store_of(app).list_users() == before


def test_disable_and_set_password_name_missing_users(app: Flask, runner: FlaskCliRunner) -> None:
    for command in (["user", "disable", "nobody"], ["user", "set-password", "nobody", "--generate-password"]):
        result = runner.invoke(args=command)
        assert result.exit_code != 0 and "no user 'nobody'" in result.output
    add_user(app, "bob", "teller")
    assert runner.invoke(args=["user", "disable", "bob"]).exit_code == 0
    again = runner.invoke(args=["user", "disable", "BOB"])
    assert again.exit_code != 0 and "disabled already" in again.output
    weak = runner.invoke(args=["user", "set-password", "bob", "--password-stdin"], input="weak\n")
    assert weak.exit_code != 0 and "nothing was changed" in weak.output


# signing in -----------------------------------------------------------------------------------
def test_a_manager_signs_in_and_lands_on_the_manager_pages(app: Flask, client: FlaskClient) -> None:
    add_user(app, "alice", "manager")
    page = client.get("/login")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="csrf_token"' in html and 'autocomplete="current-password"' in html
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]
    answer = sign_in(client, "alice")
    assert answer.status_code == 303 and answer.headers["Location"] == "/manage"
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    # signed in, the form sends you on
    assert client.get("/login?next=/board/hall").headers["Location"] == "/board/hall"
    user = store_of(app).find_user("alice")
    assert user is not None and user.last_sign_in_at is not None


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "manage"])
def test_next_only_leads_to_this_site(app: Flask, client: FlaskClient, target: str) -> None:
    add_user(app, "alice", "manager")
    from urllib.parse import quote

    answer = sign_in(client, "alice", query=f"?next={quote(target, safe='')}")
    assert answer.status_code == 303 and answer.headers["Location"] == "/manage"


def test_a_teller_signs_in_to_their_counters_console(app: Flask, client: FlaskClient) -> None:
    add_user(app, "bob", "teller", counter="2")
    answer = sign_in(client, "bob", query="?next=/manage")
    assert answer.status_code == 303 and answer.headers["Location"] == "/teller/2?branch=main"
    html = client.get("/teller/2?branch=main").get_data(as_text=True)
    assert 'data-session="1"' in html and 'data-csrf="' in html
    assert "Signed in as bob" in html and 'action="/logout"' in html
    assert 'id="sign-in-offer"' in html  # hidden; shown if the session is refused later


@pytest.mark.parametrize("username", ["alice", "nobody"])
def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(app: Flask, client: FlaskClient, username: str) -> None:
    add_user(app, "alice", "manager")
    answer = sign_in(client, username, "not the password")
    assert answer.status_code == 401
    html = answer.get_data(as_text=True)
    assert WRONG in html and "not the password" not in html
    assert f'value="{username}"' in html  # the name stays in the form, the password does not
    assert client.get("/api/v1/branches/main/snapshot").status_code == 401


def test_a_login_form_without_its_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    add_user(app, "alice", "manager")
    answer = client.post("/login", data={"username": "alice", "password": STAFF_PASSWORD})
    assert answer.status_code == 400
    assert "expired" in answer.get_data(as_text=True)
    forged = client.post("/login", data={"username": "alice", "password": STAFF_PASSWORD, "csrf_token": "forged"})
    assert forged.status_code == 400
    assert client.get("/api/v1/branches/main/snapshot").status_code == 401


def test_sign_in_locks_after_five_failures_even_for_the_right_password(app: Flask, client: FlaskClient) -> None:
    add_user(app, "alice", "manager")
    add_user(app, "carol", "manager")
    for attempt in range(5):
        # however the name is typed, it is one account
        name = ("alice", "ALICE", " Alice ", "alice", "Alice")[attempt]
        assert sign_in(client, name, f"guess {attempt}").status_code == 401
    locked = sign_in(client, "alice")
    assert locked.status_code == 429
    html = locked.get_data(as_text=True)
    assert "Sign-in is locked after too many failed attempts. Try again in 15 min." in html
    assert 'data-locked="15"' in html
    assert client.get("/api/v1/branches/main/snapshot").status_code == 401
    # another account is not locked, and signing in does not count
    for _ in range(6):
        assert sign_in(app.test_client(), "carol").status_code == 303


def test_a_form_refused_for_its_csrf_token_is_not_a_failed_guess(tmp_path: Path, clock: ManualClock) -> None:
    app = make_test_app(tmp_path, clock, LOGIN_FAILURE_LIMIT="2 per 1 hour")
    add_user(app, "alice", "manager")
    client = app.test_client()
    for _ in range(5):
        assert client.post("/login", data={"username": "alice", "password": "guess"}).status_code == 400
    assert sign_in(client, "alice", "guess").status_code == 401
    assert sign_in(client, "alice").status_code == 303


def test_one_address_trying_many_accounts_is_locked_too(tmp_path: Path, clock: ManualClock) -> None:
    app = make_test_app(tmp_path, clock, LOGIN_FAILURE_LIMIT="1 per 1 hour")
    add_user(app, "alice", "manager")
    client = app.test_client()
    # four times the per-user limit from one address, each name failing once
    for name in ("a1", "a2", "a3", "a4"):
        assert sign_in(client, name, "guess").status_code == 401
    locked = sign_in(client, "alice")
    assert locked.status_code == 429 and "Try again in 60 min." in locked.get_data(as_text=True)
    # another address may still sign in as alice
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.0.0.7"
    assert sign_in(other, "alice").status_code == 303


def test_a_bad_failure_limit_stops_the_app_at_start(tmp_path: Path, clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="LOGIN_FAILURE_LIMIT"):
        make_test_app(tmp_path, clock, LOGIN_FAILURE_LIMIT="five a minute")


def test_a_disabled_user_cannot_sign_in_and_is_signed_out(app: Flask, client: FlaskClient, runner: FlaskCliRunner) -> None:
    add_user(app, "bob", "teller", counter="1")
    assert sign_in(client, "bob").status_code == 303
    csrf = console_csrf(client)
    assert open_counter(client, csrf=csrf).status_code == 201
    assert runner.invoke(args=["user", "disable", "bob"]).exit_code == 0
    assert open_counter(client, "1", csrf).status_code == 401
    refused = sign_in(client, "bob")
    assert refused.status_code == 401 and WRONG in refused.get_data(as_text=True)


# sessions -------------------------------------------------------------------------------------
def test_a_session_ends_after_the_idle_limit(tmp_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_test_app(tmp_path, clock, STAFF_IDLE_MINUTES=30)
    add_user(app, "alice", "manager")
    client = app.test_client()
    assert sign_in(client, "alice").status_code == 303
    real = TimestampSigner.get_timestamp
    # 29 minutes later the session is still there, and the request pushes the limit forward
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) + 29 * 60)
    assert client.get("/api/v1/branches/main/snapshot").status_code == 200
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) + 58 * 60)
    assert client.get("/api/v1/branches/main/snapshot").status_code == 200
    # then 31 minutes without a request
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) + 89 * 60)
    assert client.get("/api/v1/branches/main/snapshot").status_code == 401
    html = client.get("/teller/1").get_data(as_text=True)
    assert 'data-session="1"' not in html and 'href="/login?next=/teller/1"' in html


def test_a_session_ends_after_the_absolute_limit_however_busy(app: Flask, client: FlaskClient) -> None:
    add_user(app, "alice", "manager")
    assert sign_in(client, "alice").status_code == 303
    with client.session_transaction() as session:
        session[SIGNED_IN_AT] = time.time() - 11.9 * 3600
    assert client.get("/api/v1/branches/main/snapshot").status_code == 200
    with client.session_transaction() as session:
        session[SIGNED_IN_AT] = time.time() - 12.1 * 3600
    answer = client.get("/api/v1/branches/main/snapshot")
    assert answer.status_code == 401 and "sign in" in answer.json["message"]


def test_a_session_moved_to_another_browser_is_refused(app: Flask, client: FlaskClient) -> None:
    add_user(app, "alice", "manager")
    assert sign_in(client, "alice").status_code == 303
    assert client.get("/api/v1/branches/main/snapshot").status_code == 200
    # strong session protection: the same cookie from another user agent is nobody's
    answer = client.get("/api/v1/branches/main/snapshot", headers={"User-Agent": "curl/8"})
    assert answer.status_code == 401


def test_sign_out_ends_the_session(app: Flask, client: FlaskClient) -> None:
    add_user(app, "bob", "teller", counter="1")
    assert sign_in(client, "bob").status_code == 303
    csrf = console_csrf(client)
    assert client.get("/logout").status_code == 405
    # without the form's token, nobody signs you out (nor does another site)
    assert client.post("/logout").status_code == 400
    assert client.get("/api/v1/branches/main/snapshot").status_code == 200
    out = client.post("/logout", data={"csrf_token": csrf})
    assert out.status_code == 303 and out.headers["Location"] == "/login?signed_out=1"
    assert "You have signed out." in client.get(out.headers["Location"]).get_data(as_text=True)
    assert client.get("/api/v1/branches/main/snapshot").status_code == 401
    assert open_counter(client, csrf=csrf).status_code == 401


def test_a_new_password_signs_the_user_out_everywhere(app: Flask, runner: FlaskCliRunner) -> None:
    add_user(app, "alice", "manager")
    first, second = app.test_client(), app.test_client()
    for client in (first, second):
        assert sign_in(client, "alice").status_code == 303
        assert client.get("/api/v1/branches/main/snapshot").status_code == 200
    changed = runner.invoke(args=["user", "set-password", "alice", "--password-stdin"], input="a brand new password\n")
    assert changed.exit_code == 0, changed.output
    for client in (first, second):
        assert client.get("/api/v1/branches/main/snapshot").status_code == 401
    assert sign_in(first, "alice").status_code == 401
    assert sign_in(first, "alice", "a brand new password").status_code == 303


# CSRF on the API, tokens unchanged ---------------------------------------------------------------
def test_a_session_write_needs_the_csrf_header_a_token_write_does_not(app: Flask, client: FlaskClient, tokens: Tokens) -> None:
    add_user(app, "alice", "manager")
    assert sign_in(client, "alice").status_code == 303
    refused = open_counter(client)
    assert refused.status_code == 403
    assert refused.json["error"] == "csrf_failed" and "X-CSRFToken" in refused.json["message"]
    assert open_counter(client, csrf="not-the-token").status_code == 403
    csrf = console_csrf(client)
    assert open_counter(client, "1", csrf).status_code == 201
    # a bearer token needs no CSRF token, with or without a session cookie beside it
    opened = client.post("/api/v1/branches/main/counters/2/open", headers=tokens.auth("teller2"))
    assert opened.status_code == 201 and opened.json["event"]["counter"] == "2"
    assert app.test_client().post("/api/v1/branches/main/counters/3/open", headers=tokens.auth("admin")).status_code == 201
    # and a wrong token is refused, whatever the session says
    assert client.post("/api/v1/branches/main/counters/4/open", headers={"Authorization": "Bearer nope"}).status_code == 401
    events = store_of(app).load("main")
    assert [e.actor for e in events if e.event.type == "counter_opened"] == ["manager:alice", "teller:t2", "admin:root"]


def test_a_signed_in_teller_acts_only_for_their_counter(app: Flask, client: FlaskClient) -> None:
    add_user(app, "bob", "teller", counter="1")
    assert sign_in(client, "bob").status_code == 303
    csrf = console_csrf(client)
    refused = open_counter(client, "2", csrf)
    assert refused.status_code == 403 and "signed in for counter 1, not counter 2" in refused.json["message"]
    assert client.get("/api/v1/branches/north/snapshot").status_code == 403
    assert open_counter(client, "1", csrf).status_code == 201


def test_a_teller_without_a_counter_picks_one_at_sign_in(app: Flask, client: FlaskClient) -> None:
    add_user(app, "carol", "teller")
    answer = sign_in(client, "carol")
    assert answer.status_code == 303 and answer.headers["Location"] == "/sign-in/counter"
    # no console before picking
    assert client.get("/teller/3?branch=main").headers["Location"] == "/sign-in/counter"
    page = client.get("/sign-in/counter")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert [m for m in re.findall(r'name="counter" value="([^"]+)"', html)] == [c.name for c in DEMO_CONFIG.counters]
    csrf = csrf_token_in(html)
    bad = client.post("/sign-in/counter", data={"csrf_token": csrf, "counter": "9"})
    assert bad.status_code == 400 and "Pick one of your branch" in bad.get_data(as_text=True)
    assert client.post("/sign-in/counter", data={"counter": "3"}).status_code == 400
    picked = client.post("/sign-in/counter", data={"csrf_token": csrf, "counter": "3"})
    assert picked.status_code == 303 and picked.headers["Location"] == "/teller/3?branch=main"
    console = console_csrf(client, "/teller/3?branch=main")
    assert open_counter(client, "3", console).status_code == 201
    assert open_counter(client, "2", console).status_code == 403
    assert client.get("/teller/2?branch=main").status_code == 403
    # a teller with a counter of their own never picks
    add_user(app, "bob", "teller", counter="1")
    other = app.test_client()
    sign_in(other, "bob")
    assert other.get("/sign-in/counter").headers["Location"] == "/teller/1?branch=main"


def test_the_counter_pick_is_for_tellers_only(app: Flask, client: FlaskClient) -> None:
    assert client.get("/sign-in/counter").headers["Location"] == "/login?next=/sign-in/counter"
    add_user(app, "alice", "manager")
    sign_in(client, "alice")
    refused = client.get("/sign-in/counter")
    assert refused.status_code == 403 and "cannot open this page" in refused.get_data(as_text=True)


# the teller console -----------------------------------------------------------------------------
def test_the_console_without_token_or_session_offers_to_sign_in(client: FlaskClient) -> None:
    html = client.get("/teller/2?lang=en").get_data(as_text=True)
    assert 'data-session="1"' not in html and "data-csrf" not in html
    assert '<p id="sign-in-offer" class="sign-in-offer" hidden>' in html
    assert 'href="/login?next=/teller/2?lang%3Den"' in html


def test_who_may_open_which_console(app: Flask) -> None:
    add_user(app, "bob", "teller", counter="1")
    add_user(app, "mina", "manager", ("north",))
    add_user(app, "alice", "manager")
    add_user(app, "root", "admin", ())
    expected = {
        ("bob", "/teller/1"): 200,
        ("bob", "/teller/2"): 403,
        ("bob", "/teller/1?branch=north"): 403,
        ("mina", "/teller/1"): 403,
        ("mina", "/teller/1?branch=north"): 200,
        ("alice", "/teller/3"): 200,
        ("root", "/teller/4?branch=north"): 200,
    }
    for (name, path), status in expected.items():
        client = app.test_client()
        assert sign_in(client, name).status_code == 303
        response = client.get(path)
        assert response.status_code == status, (name, path, response.status_code)
        if status == 403:
            html = response.get_data(as_text=True)
            assert 'id="forbidden-reason"' in html and "Signed in as" in html


# the guards for other blueprints --------------------------------------------------------------------
@pytest.fixture
def guarded(app: Flask) -> Flask:
    """The app with test-only views behind the guards (added before its first request)."""

    @staff_page("admin", "area_manager", "manager")
    def manager_page() -> str:
        grant = signed_in_grant()
        assert grant is not None
        return f"manager page for {grant.name}"

    @staff_page("admin", "area_manager", "manager")
    def branch_page(branch: str) -> str:
        return f"branch page {branch}"

    @staff_page()
    def anyone_page() -> str:
        return "any staff"

    @staff_json("admin", "area_manager", "manager")
    def branch_json(branch: str) -> dict[str, str]:
        return {"branch": branch}

    app.add_url_rule("/test/manager", view_func=manager_page)
    app.add_url_rule("/test/branch/<branch>", view_func=branch_page)
    app.add_url_rule("/test/anyone", view_func=anyone_page)
    app.add_url_rule("/test/json/<branch>", view_func=branch_json, methods=["GET", "POST"])
    return app


def test_a_guarded_page_sends_strangers_to_sign_in_and_back(guarded: Flask) -> None:
    client = guarded.test_client()
    answer = client.get("/test/branch/main?tab=today")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/login?next=/test/branch/main?tab%3Dtoday"
    add_user(guarded, "alice", "manager")
    back = sign_in(client, "alice", query="?next=/test/branch/main?tab%3Dtoday")
    assert back.headers["Location"] == "/test/branch/main?tab=today"
    assert client.get(back.headers["Location"]).get_data(as_text=True) == "branch page main"
    # a bearer token does not open a staff page
    assert guarded.test_client().get("/test/manager", headers={"Authorization": "Bearer x"}).status_code == 302


def test_a_branch_manager_cannot_open_another_branchs_page(guarded: Flask) -> None:
    add_user(guarded, "alice", "manager")
    client = guarded.test_client()
    sign_in(client, "alice")
    assert client.get("/test/branch/main").status_code == 200
    refused = client.get("/test/branch/north")
    assert refused.status_code == 403
    html = refused.get_data(as_text=True)
    assert "Your account does not cover branch north." in html and "unsafe-inline" not in refused.headers["Content-Security-Policy"]
    assert client.get("/test/manager").get_data(as_text=True) == "manager page for alice"


def test_a_teller_cannot_open_a_manager_page(guarded: Flask) -> None:
    add_user(guarded, "bob", "teller", counter="1")
    client = guarded.test_client()
    sign_in(client, "bob")
    refused = client.get("/test/manager")
    assert refused.status_code == 403
    assert "Your account (teller) cannot open this page." in refused.get_data(as_text=True)
    assert client.get("/test/anyone").get_data(as_text=True) == "any staff"
    assert client.get("/test/json/main").status_code == 403


def test_the_json_guard_answers_in_json_and_wants_csrf_on_writes(guarded: Flask) -> None:
    client = guarded.test_client()
    stranger = client.get("/test/json/main")
    assert stranger.status_code == 401 and stranger.json["error"] == "unauthorized"
    add_user(guarded, "alice", "manager")
    sign_in(client, "alice")
    assert client.get("/test/json/main").json == {"branch": "main"}
    other = client.get("/test/json/north")
    assert other.status_code == 403 and other.json == {"error": "forbidden", "message": "Your account does not cover branch north."}
    write = client.post("/test/json/main")
    assert write.status_code == 403 and write.json["error"] == "csrf_failed"
    csrf = console_csrf(client)
    assert client.post("/test/json/main", headers={"X-CSRFToken": csrf}).json == {"branch": "main"}


def test_a_guard_with_a_misspelt_role_fails_at_once() -> None:
    with pytest.raises(ValueError, match="branch_manager"):
        staff_page("branch_manager")


# area managers ----------------------------------------------------------------------------------
def test_an_area_manager_acts_as_manager_on_each_of_its_branches(guarded: Flask) -> None:
    guarded.extensions["queue_board"].set_config("north", DEMO_CONFIG.to_dict())
    guarded.extensions["queue_board"].set_config("south", DEMO_CONFIG.to_dict())
    add_user(guarded, "ann", "area_manager", ("main", "north"))
    client = guarded.test_client()
    assert sign_in(client, "ann").headers["Location"] == "/manage"
    for branch in ("main", "north"):
        assert client.get(f"/test/branch/{branch}").status_code == 200
        assert client.get(f"/api/v1/branches/{branch}/snapshot").status_code == 200
    assert client.get("/test/branch/south").status_code == 403
    assert client.get("/api/v1/branches/south/snapshot").status_code == 403
    csrf = console_csrf(client, "/teller/2?branch=north")
    assert open_counter(client, "2", csrf, branch="north").status_code == 201
    refused = open_counter(client, "2", csrf, branch="south")
    assert refused.status_code == 403 and "you may not act for branch south" in refused.json["message"]
    # a manager's powers, not an admin's: no configuration
    config = client.get("/api/v1/branches/north/config").json
    assert client.put("/api/v1/branches/north/config", json=config, headers={"X-CSRFToken": csrf}).status_code == 403


def test_what_a_grant_manages_and_sees() -> None:
    area = Grant("ann", "area_manager", None, None, frozenset({"main", "north"}), user=True)
    manager = Grant("alice", "manager", "main", None, user=True)
    teller = Grant("bob", "teller", "main", "1", user=True)
    admin = Grant("root", "admin", None, None)
    everything = ["east", "main", "north"]
    assert [area.manages(b) for b in everything] == [False, True, True]
    assert [manager.manages(b) for b in everything] == [False, True, False]
    assert [teller.manages(b) for b in everything] == [False, False, False]
    assert all(admin.manages(b) for b in everything)
    assert area.visible_branches(everything) == ["main", "north"]
    assert manager.visible_branches(everything) == teller.visible_branches(everything) == ["main"]
    assert admin.visible_branches(everything) == everything
    area.require_counter("north", "3")
    with pytest.raises(Exception, match="not act for branch"):
        area.require_branch("east", "manager")


# Socket.IO ------------------------------------------------------------------------------------
def socket_of(app: Flask, client: FlaskClient, **auth: Any) -> Any:
    return app.extensions["socketio"].test_client(app, flask_test_client=client, auth={"branch": "main", **auth})


def test_a_signed_in_console_connects_to_socketio_without_a_token(app: Flask, client: FlaskClient, tokens: Tokens) -> None:
    assert not socket_of(app, client).is_connected()
    add_user(app, "bob", "teller", counter="1")
    sign_in(client, "bob")
    board = socket_of(app, client)
    assert board.is_connected()
    assert [m["name"] for m in board.get_received()] == ["snapshot"]
    csrf = console_csrf(client)
    assert open_counter(client, "1", csrf).status_code == 201
    assert any(m["name"] == "board" and m["args"][0]["event"] for m in board.get_received())
    # another branch is not the teller's; a wrong token never falls back to the session
    assert not socket_of(app, client, branch="north").is_connected()
    assert not socket_of(app, client, token="wrong").is_connected()
    assert socket_of(app, client, token=tokens.display).is_connected()
    client.post("/logout", data={"csrf_token": csrf})
    assert not socket_of(app, client).is_connected()


# the schema -----------------------------------------------------------------------------------
def test_a_database_at_the_previous_revision_is_upgraded_to_staff_users(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config as AlembicConfig

    from queue_board.store.event_store import MIGRATIONS

    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = EventStore(url)
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
    token = store.create_token("kiosk", "kiosk", "main", None)
    assert store.revisions() == ("0002", "0003")
    store.upgrade()
    assert store.revisions() == ("0003", "0003")
    assert store.find_token(token) is not None
    created = store.create_user("alice", STAFF_PASSWORD, "manager", ["main"])
    assert store.find_user("ALICE") == created
    store.close()



# the real manager pages and reports, not a test view ------------------------------------------------


def test_a_branch_manager_of_main_is_refused_norths_dashboard_and_reports(app: Flask, client: FlaskClient) -> None:
    app.extensions["queue_board"].set_config("north", app.extensions["queue_board"].config("main").to_dict())
    add_user(app, "alice", "manager")
    assert sign_in(client, "alice").status_code == 303
    assert client.get("/manage/main").status_code == 200
    for path in ("/manage/north", "/manage/north/history", "/manage/north/promises", "/manage/north/feedback"):
        refused = client.get(path)
        assert refused.status_code == 403, path
        assert "north" in refused.get_data(as_text=True)
    assert client.get("/api/v1/branches/main/reports/dashboard").status_code == 200
    api = client.get("/api/v1/branches/north/reports/history")
    assert api.status_code == 403 and api.json["message"]
    assert [row["branch"] for row in client.get("/api/v1/overview").json["branches"]] == ["main"]


def test_a_teller_is_refused_the_manager_pages_and_reports(app: Flask, client: FlaskClient) -> None:
    add_user(app, "tom", "teller", counter="1")
    assert sign_in(client, "tom").status_code == 303
    for path in ("/manage", "/manage/main", "/manage/main/history", "/manage/main/promises"):
        assert client.get(path).status_code == 403, path
    assert client.get("/api/v1/branches/main/reports/dashboard").status_code == 403
    assert client.get("/api/v1/overview").status_code == 403


def test_the_manager_pages_send_strangers_to_sign_in(client: FlaskClient) -> None:
    answer = client.get("/manage/main/history?from=2026-03-02")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login?next=")
    assert client.get("/api/v1/branches/main/reports/dashboard").status_code == 401
