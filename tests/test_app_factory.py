"""What ``create_app`` builds: each app its own Socket.IO server and store, languages bound
once, no migration behind the operator's back, one way from a token to a grant, every URL
where it was."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import ManualClock, Tokens, create_tokens, make_test_app
from flask import Flask
from sqlalchemy import create_engine, inspect

from queue_board import create_app
from queue_board.cli import cli


def socketio_client(app: Flask, token: str, namespace: str | None = None, **auth: Any) -> Any:
    """A Flask-SocketIO test client of ``app``'s own Socket.IO server."""
    credentials = {"token": token, "branch": "main", **auth} if namespace is None else auth
    return app.extensions["socketio"].test_client(app, namespace=namespace, auth=credentials)


def pushed(client: Any, name: str, namespace: str | None = None) -> list[Any]:
    """What each ``name`` message the client received since the last call carried."""
    return [m["args"][0] for m in client.get_received(namespace) if m["name"] == name]


@pytest.fixture
def two_apps(tmp_path: Path, clock: ManualClock) -> tuple[tuple[Flask, Tokens], tuple[Flask, Tokens]]:
    """Two apps in one process, each with its own database and tokens."""
    first = make_test_app(tmp_path / "a", clock)
    second = make_test_app(tmp_path / "b", clock)
    return (first, create_tokens(first)), (second, create_tokens(second))


# live push ---------------------------------------------------------------------------------
def test_two_apps_push_only_to_their_own_boards(two_apps: Any) -> None:
    (first, first_tokens), (second, second_tokens) = two_apps
    first_board = socketio_client(first, first_tokens.display)
    second_board = socketio_client(second, second_tokens.display)
    assert first_board.is_connected() and second_board.is_connected()
    assert len(pushed(first_board, "snapshot")) == 1 and len(pushed(second_board, "snapshot")) == 1
    opened = first.test_client().post("/api/v1/branches/main/counters/1/open", headers=first_tokens.auth("teller1"))
    assert opened.status_code == 201
    assert [b["event"]["type"] for b in pushed(first_board, "board") if b["event"]] == ["counter_opened"]
    assert pushed(second_board, "board") == []


def test_a_second_app_leaves_the_first_apps_socketio_server_alone(tmp_path: Path, clock: ManualClock) -> None:
    first = make_test_app(tmp_path / "a", clock)
    server = first.extensions["socketio"].server
    second = make_test_app(tmp_path / "b", clock)
    assert first.extensions["socketio"].server is server
    assert second.extensions["socketio"] is not first.extensions["socketio"]


def test_ticket_pages_are_pushed_only_by_their_own_app(two_apps: Any) -> None:
    pages = []
    for app, tokens in (pair for pair in two_apps):
        http = app.test_client()
        label = http.post("/api/v1/branches/main/tickets", json={"service": "deposit"}, headers=tokens.auth("kiosk"))
        link = http.post("/t/links", json={"branch": "main", "ticket": label.json["ticket"]["ticket"]}, headers=tokens.auth("kiosk"))
        signed = link.json["path"].removeprefix("/t/")
        page = socketio_client(app, "", namespace="/ticket", ticket=signed)
        assert page.is_connected("/ticket")
        assert len(pushed(page, "ticket", "/ticket")) == 1
        pages.append(page)
    (first, first_tokens), _ = two_apps
    first.test_client().post("/api/v1/branches/main/counters/1/open", headers=first_tokens.auth("teller1"))
    assert pushed(pages[0], "ticket", "/ticket")
    assert pushed(pages[1], "ticket", "/ticket") == []


# languages ---------------------------------------------------------------------------------
def test_registering_the_screens_binds_no_extension() -> None:
    """Blueprints carry routes; the factory binds the extensions, once."""
    from queue_board.web.boards import boards_bp

    bare = Flask("bare")
    bare.register_blueprint(boards_bp)
    assert "babel" not in bare.extensions


def test_babel_is_bound_once_per_app(tmp_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    import flask_babel

    calls: list[Flask] = []
    original = flask_babel.Babel.init_app

    def counting(self: flask_babel.Babel, app: Flask, *args: Any, **kwargs: Any) -> None:
        calls.append(app)
        original(self, app, *args, **kwargs)

    monkeypatch.setattr(flask_babel.Babel, "init_app", counting)
    app = make_test_app(tmp_path, clock)
    assert calls == [app]


# migrations --------------------------------------------------------------------------------
def fresh_app(tmp_path: Path) -> tuple[Flask, str]:
    url = f"sqlite:///{tmp_path / 'never-upgraded.db'}"
    return create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test", "FORECAST_INLINE": True}), url


def test_the_factory_does_not_migrate(tmp_path: Path) -> None:
    _app, url = fresh_app(tmp_path)
    engine = create_engine(url)
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_healthz_says_the_schema_is_not_at_head_until_db_upgrade(tmp_path: Path) -> None:
    app, _url = fresh_app(tmp_path)
    client = app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "error"
    assert "not at head" in response.json["message"] and "queue-board db upgrade" in response.json["message"]
    upgraded = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert client.get("/healthz").json == {"status": "ok", "database": "ok"}


@pytest.mark.parametrize("path", ["/api/v1/branches/main/snapshot", "/board/hall", "/t/not-a-link/state"])
def test_a_request_on_a_never_upgraded_database_fails_clearly(tmp_path: Path, path: str) -> None:
    app, _url = fresh_app(tmp_path)
    response = app.test_client().get(path)
    assert response.status_code == 503
    assert response.json["error"] == "schema_not_at_head"


def test_a_socket_on_a_never_upgraded_database_is_refused(tmp_path: Path) -> None:
    app, _url = fresh_app(tmp_path)
    assert not socketio_client(app, "some token").is_connected()


@pytest.mark.parametrize("args", [["token", "list"], ["branch", "show-config", "main"], ["export", "main"]])
def test_cli_commands_ask_for_db_upgrade_first(tmp_path: Path, args: list[str]) -> None:
    database = f"sqlite:///{tmp_path / 'never-upgraded.db'}"
    refused = CliRunner().invoke(cli, [*args, "--database", database])
    assert refused.exit_code != 0
    assert "run queue-board db upgrade" in refused.output
    upgraded = CliRunner().invoke(cli, ["db", "upgrade", "--database", database])
    assert upgraded.exit_code == 0, upgraded.output
    assert CliRunner().invoke(cli, ["token", "list", "--database", database]).exit_code == 0


# tokens ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["live", "padded", "revoked", "unknown"])
def test_http_and_socketio_accept_the_same_tokens(app: Flask, tokens: Tokens, kind: str) -> None:
    store = app.extensions["queue_board"].store
    token = {
        "live": tokens.display,
        "padded": f" {tokens.display} ",
        "revoked": store.create_token("old", "display", "main", None),
        "unknown": "no-such-token",
    }[kind]
    if kind == "revoked":
        store.revoke_token(store.find_token(token).id)
    http = app.test_client().get("/board/binding", headers={"Authorization": f"Bearer {token}"})
    socket = socketio_client(app, token)
    assert (http.status_code == 200) == socket.is_connected() == (kind in ("live", "padded"))


# URLs --------------------------------------------------------------------------------------
URLS = {
    ("/", "GET"),
    ("/api/v1/branches", "GET"),
    ("/api/v1/overview", "GET"),
    ("/api/v1/openapi.json", "GET"),
    ("/api/v1/branches/<branch>/config", "GET"),
    ("/api/v1/branches/<branch>/config", "PUT"),
    ("/api/v1/branches/<branch>/counters/<counter>/<action>", "POST"),
    ("/api/v1/branches/<branch>/events", "GET"),
    ("/api/v1/branches/<branch>/events", "POST"),
    ("/api/v1/branches/<branch>/export", "GET"),
    ("/api/v1/branches/<branch>/feedback", "GET"),
    ("/api/v1/branches/<branch>/feedback", "POST"),
    ("/api/v1/branches/<branch>/feedback/<feedback_id>", "GET"),
    ("/api/v1/branches/<branch>/feedback/<feedback_id>", "POST"),
    ("/api/v1/branches/<branch>/feedback/report/<table>.csv", "GET"),
    ("/api/v1/branches/<branch>/feedback/tickets", "GET"),
    ("/api/v1/branches/<branch>/import", "POST"),
    ("/api/v1/branches/<branch>/reports/dashboard", "GET"),
    ("/api/v1/branches/<branch>/reports/express", "GET"),
    ("/api/v1/branches/<branch>/warnings", "GET"),
    ("/api/v1/branches/<branch>/warnings/<path:key>/acknowledge", "POST"),
    ("/api/v1/branches/<branch>/reports/history", "GET"),
    ("/api/v1/branches/<branch>/reports/history/<table>.csv", "GET"),
    ("/api/v1/branches/<branch>/reports/tickets/<day>/<ticket>", "GET"),
    ("/api/v1/branches/<branch>/snapshot", "GET"),
    ("/api/v1/branches/<branch>/tickets", "POST"),
    ("/api/v1/branches/<branch>/tickets/<ticket>/cancel", "POST"),
    ("/board/binding", "GET"),
    ("/board/counter/<counter>", "GET"),
    ("/board/forget", "GET"),
    ("/board/hall", "GET"),
    ("/healthz", "GET"),
    ("/metrics", "GET"),
    ("/i18n/catalogue.js", "GET"),
    ("/kiosk", "GET"),
    ("/login", "GET"),
    ("/login", "POST"),
    ("/logout", "POST"),
    ("/manage", "GET"),
    ("/manage/<branch>", "GET"),
    ("/manage/<branch>/history", "GET"),
    ("/manage/<branch>/promises", "GET"),
    ("/manage/<branch>/tickets/<day>/<ticket>", "GET"),
    ("/manage/<branch>/feedback", "GET"),
    ("/manage/<branch>/feedback/<feedback_id>", "GET"),
    ("/sign-in/counter", "GET"),
    ("/sign-in/counter", "POST"),
    ("/static/<path:filename>", "GET"),
    ("/t/<signed>", "GET"),
    ("/t/<signed>/qr.svg", "GET"),
    ("/t/<signed>/state", "GET"),
    ("/t/links", "POST"),
    ("/teller/<counter>", "GET"),
    ("/vendor/echarts.min.js", "GET"),
    ("/vendor/socket.io.min.js", "GET"),
}


def test_every_url_keeps_its_path_and_methods(app: Flask) -> None:
    found = {(rule.rule, method) for rule in app.url_map.iter_rules() for method in rule.methods or () if method not in ("HEAD", "OPTIONS")}
    assert found == URLS


def test_flask_cli_with_another_database_asks_for_db_upgrade_too(app: Flask, tmp_path: Path) -> None:
    """``flask --app queue_board … --database``: the command builds its app with the loaded app's factory."""
    database = f"sqlite:///{tmp_path / 'never-upgraded.db'}"
    refused = app.test_cli_runner().invoke(args=["token", "list", "--database", database])
    assert refused.exit_code != 0 and "run queue-board db upgrade" in refused.output
