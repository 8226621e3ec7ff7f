"""Fixtures: an app with a temp database per test, its client and CLI runner, tokens, a
manual clock, and a live server on loopback for Socket.IO and browser tests."""

from __future__ import annotations

import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.serving import BaseWSGIServer, make_server

from queue_board import ROOT, create_app
from queue_board.core.branch_config import DEMO_CONFIG
from queue_board.service.branch_service import BranchService
from queue_board.service.clock import SystemClock
from queue_board.store.event_store import EventStore
from queue_board.web.database import database

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
SAMPLE_LOG = SHARED / "data" / "sample-branch.jsonl"
BANK_LOG = SHARED / "data" / "anonymous-bank-1999-02-01-to-14.jsonl"
TZ = timezone(timedelta(hours=8))


class ManualClock(SystemClock):
    """A clock that stands still until a test moves it."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start.tzinfo)
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> datetime:
        self.current += timedelta(seconds=seconds)
        return self.current

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 2, 9, 0, 0, tzinfo=TZ))


def make_test_app(tmp_path: Path, clock: SystemClock | None, **overrides: Any) -> Flask:
    settings: dict[str, Any] = {
        "TESTING": True,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'qb.db'}",
        "SOCKETIO_ASYNC_MODE": "threading",
        "FORECAST_INLINE": True,
        "FORECAST_SCENARIOS": 128,
        "SECRET_KEY": "test",
        # ticket links name the public address outside the demo (a live server names its own)
        "PUBLIC_URL": "http://localhost",
        # the tests of other features count the log's lines exactly; the warnings' own tests
        # (test_warning_log.py, test_repromise.py) turn them on
        "WARNINGS_ENABLED": False,
    }
    if clock is not None:
        settings["CLOCK"] = clock
    settings.update(overrides)
    app = create_app(settings)
    # the factory never migrates (`queue-board db upgrade` does): each test's database is brought to head here
    database.store(app).upgrade()
    app.extensions["queue_board"].set_config("main", DEMO_CONFIG.to_dict())
    return app


@pytest.fixture
def app(tmp_path: Path, clock: ManualClock, request: pytest.FixtureRequest) -> Iterator[Flask]:
    """The test app on a temp database and the manual clock; a module or test marked
    ``@pytest.mark.app_settings(NAME=value)`` gets those settings too."""
    marker = request.node.get_closest_marker("app_settings")
    app = make_test_app(tmp_path, clock, **(marker.kwargs if marker is not None else {}))
    yield app
    app.extensions["queue_board"].store.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@dataclass
class Tokens:
    admin: str
    manager: str
    teller1: str
    teller2: str
    kiosk: str
    display: str
    other_branch_manager: str

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self, role)}"}


def create_tokens(app: Flask) -> Tokens:
    store = app.extensions["queue_board"].store
    return Tokens(
        admin=store.create_token("root", "admin", None, None),
        manager=store.create_token("mgr", "manager", "main", None),
        teller1=store.create_token("t1", "teller", "main", "1"),
        teller2=store.create_token("t2", "teller", "main", "2"),
        kiosk=store.create_token("kiosk", "kiosk", "main", None),
        display=store.create_token("hall", "display", "main", None),
        other_branch_manager=store.create_token("mgr2", "manager", "north", None),
    )


@pytest.fixture
def tokens(app: Flask) -> Tokens:
    return create_tokens(app)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    app: Flask
    tokens: Tokens
    server: BaseWSGIServer
    thread: threading.Thread
    tmp_path: Path

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()

    def restart(self) -> None:
        """Stop and start again on the same port and database (a server restart)."""
        port = self.server.server_port
        self.stop()
        self.app.extensions["queue_board"].store.close()
        self.app = make_test_app(self.tmp_path, None, FORECAST_INLINE=False, PUBLIC_URL=self.url)
        self.server = make_server("127.0.0.1", port, self.app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """The real app on a loopback port, wall clock, forecasts refreshed in the background."""
    with serving(tmp_path) as live:
        yield live


@contextmanager
def serving(tmp_path: Path, **overrides: Any) -> Iterator[LiveServer]:
    """The real app with ``overrides`` on a loopback port in a thread (as :func:`live_server`),
    stopped and its store closed at the end."""
    app = make_test_app(tmp_path, None, FORECAST_INLINE=False, **overrides)
    tokens = create_tokens(app)
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    app.config["PUBLIC_URL"] = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    live = LiveServer(f"http://127.0.0.1:{server.server_port}", app, tokens, server, thread, tmp_path)
    try:
        yield live
    finally:
        live.stop()
        live.app.extensions["queue_board"].store.close()


POSTGRES_URL = os.environ.get("QB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip("QB_TEST_POSTGRES_URL is set empty: PostgreSQL tests disabled on purpose")
    name = f"qb_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def prepare_demo_branch(database: str) -> dict[str, str]:
    """Migrate ``database``, give branch ``main`` the demo configuration; tokens by role name
    (``display``, ``kiosk``, ``teller1``, ``teller2``) for a server started on it."""
    store = EventStore(database)
    try:
        store.upgrade()
        BranchService(store).set_config("main", DEMO_CONFIG.to_dict())
        return {
            "display": store.create_token("hall", "display", "main", None),
            "kiosk": store.create_token("kiosk", "kiosk", "main", None),
            "teller1": store.create_token("t1", "teller", "main", "1"),
            "teller2": store.create_token("t2", "teller", "main", "2"),
            "admin": store.create_token("admin", "admin", None, None),
        }
    finally:
        store.close()


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    """End a server subprocess: politely, then by force after 10 s."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass
class ServerProcess:
    """``queue-board serve`` (gevent, as in production) in a subprocess, restartable on the same
    port and database; ``env`` adds settings (``QB_…``)."""

    url: str
    port: int
    database: str
    tokens: dict[str, str]
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    #: run under gunicorn with deploy/gunicorn.conf.py (as docs/deployment.md says) instead of ``serve``
    gunicorn: bool = False

    def start(self) -> None:
        env = {
            **os.environ,
            "QB_SECRET_KEY": "test-server-secret",  # ticket links must survive a restart
            "QB_PUBLIC_URL": self.url,  # serve refuses to start without it
            "QB_FORECAST_SCENARIOS": "64",
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }
        env.pop("QB_SOCKETIO_ASYNC_MODE", None)  # the default: gevent, as in production
        command = [sys.executable, "-m", "queue_board", "serve", "--port", str(self.port), "--database", self.database]
        if self.gunicorn:
            env["QB_DATABASE_URL"] = self.database
            gunicorn = str(Path(sys.executable).parent / "gunicorn")
            command = [gunicorn, "-c", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}", "queue_board.wsgi:app"]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log.read_text()[-2000:]}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):
                pass  # not listening yet, or (gunicorn) listening while its worker still boots
            time.sleep(0.1)
        raise RuntimeError(f"the server did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None

    def act(self, role: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST an action of branch ``main`` (or a ticket page's ``/t/…``) as ``role``; expects 201."""
        return post_action(self.url, self.tokens[role], path, body)


def post_action(base: str, token: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST an action of branch ``main`` (or a ticket page's ``/t/…``) to the server at ``base``
    with a bearer token; expects 201 and returns its JSON."""
    response = requests.post(
        f"{base}{path}" if path.startswith("/t/") else f"{base}/api/v1/branches/main{path}",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=20,
    )
    assert response.status_code == 201, (path, response.status_code, response.text)
    data: dict[str, Any] = response.json()
    return data


class LiveBoard:
    """A board of branch ``main`` on a live server over Socket.IO, recording what it is pushed."""

    def __init__(self, url: str, token: str, transport: str = "websocket") -> None:
        import socketio

        self.pushes: queue.Queue[dict[str, Any]] = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("board", self.pushes.put)
        self.client.connect(url, auth={"token": token, "branch": "main"}, transports=[transport], wait_timeout=10)
        #: the transport in use once connected ("polling" or "websocket")
        self.transport: str = self.client.transport()

    def reaches(self, seq: int, timeout: float = 10.0) -> dict[str, Any]:
        """The first state pushed at or past ``seq`` (changes made during one forecast refresh
        come in one push, so a seq may never be pushed on its own)."""
        deadline = time.monotonic() + timeout
        while True:
            board = self.pushes.get(timeout=max(0.01, deadline - time.monotonic()))
            if board["seq"] >= seq:
                return board

    def push_of(self, event_type: str, ticket: str, timeout: float = 10.0) -> dict[str, Any]:
        """The first push caused by ``event_type`` of ``ticket`` (other pushes are skipped)."""
        while True:
            board = self.pushes.get(timeout=timeout)
            event = board.get("event") or {}
            if event.get("type") == event_type and event.get("ticket") == ticket:
                return board

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()


@contextmanager
def screen_context(browser: Any, init_script: str = "") -> Iterator[Any]:
    """A fresh browser profile (its own localStorage) at 1920×1080, with ``init_script`` run in every page."""
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    ctx.set_default_timeout(8000)
    if init_script:
        ctx.add_init_script(init_script)
    try:
        yield ctx
    finally:
        ctx.close()


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium (Debian's) per test module; each test opens its own context.

    A missing browser or npm install fails rather than skips: the setup installs both, and a
    skipped browser suite would hide a broken screen.
    """
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is not installed (./scripts/setup.sh --browser, or apt-get install chromium)")
    if not ROOT.joinpath("node_modules", "socket.io-client", "dist", "socket.io.min.js").is_file():
        pytest.fail(f"run `npm ci` in {ROOT}: the screens need socket.io-client")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# staff sign-in ------------------------------------------------------------------------------
STAFF_PASSWORD = "correct horse battery"
CSRF_INPUT = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def csrf_token_in(html: str) -> str:
    """The CSRF token of the first form (or of the console's ``data-csrf``) on a page."""
    found = CSRF_INPUT.search(html) or re.search(r'data-csrf="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(client: FlaskClient, username: str, password: str = STAFF_PASSWORD, query: str = "") -> Any:
    """Sign in through the form, as a browser does: GET the form (its CSRF token), POST it."""
    page = client.get(f"/login{query}")
    return client.post(
        f"/login{query}", data={"csrf_token": csrf_token_in(page.get_data(as_text=True)), "username": username, "password": password}
    )


def signed_in_session(url: str, username: str, password: str, console: str = "") -> tuple[requests.Session, str]:
    """A ``requests`` session signed in at the server ``url``, and the CSRF token for its writes
    (read from the page the sign-in lands on, or from the teller console path ``console``)."""
    http = requests.Session()
    form = http.get(f"{url}/login", timeout=10)
    answer = http.post(
        f"{url}/login",
        data={"csrf_token": csrf_token_in(form.text), "username": username, "password": password},
        timeout=10,
        allow_redirects=False,
    )
    assert answer.status_code == 303, (answer.status_code, answer.text[:500])
    landing = http.get(f"{url}{console or answer.headers['Location']}", timeout=10)
    return http, csrf_token_in(landing.text)


def sign_in_in_browser(context: Any, url: str, username: str, password: str, path: str = "/login") -> Any:
    """A new page of ``context`` that signs in through the form at ``url + path`` (a sign-in page,
    or a console's "sign in" link) and waits for where it lands."""
    page = context.new_page()
    page.goto(f"{url}{path}")
    return submit_sign_in(page, username, password)


def submit_sign_in(page: Any, username: str, password: str) -> Any:
    """Fill in and send the sign-in form ``page`` shows; the page once it has landed."""
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("#sign-in")
    return page
