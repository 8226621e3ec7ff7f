"""Issue 9, defects 4, 6 and 7.

4. ``queue-board demo`` leaves counter 1 to the person (and says so, in the console and on the
   index page); the rest of the simulated branch runs fine without it.
6. Restarting the demo keeps its tokens (and its day): screens left open reconnect and keep working;
   people at consoles sign in again, with the passwords they had.
7. The kiosk says plainly that no open counter serves a service (and when one usually opens, if
   the log knows), lets the customer choose, and keeps its buttons on screen in every layout.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
from conftest import (
    TZ,
    LiveServer,
    ManualClock,
    Tokens,
    create_tokens,
    free_port,
    make_test_app,
    sign_in_in_browser,
    signed_in_session,
    stop_process,
    submit_sign_in,
)
from test_screens_live import TEST_OPTIONS, act, expect, open_page, screen
from werkzeug.serving import make_server

from queue_board import ROOT
from queue_board.core.board_view import board_view
from queue_board.core.branch_config import DEMO_CONFIG
from queue_board.core.events import format_ts, parse_event
from queue_board.core.projection import Projection
from simulations.branch_sim import BranchAgent, run_agent
from simulations.scenarios import demo_branch

browser_test = pytest.mark.browser
LAYOUTS = ((1920, 1080), (1080, 1920), (390, 844))


# 4. the demo leaves a counter to the person ---------------------------------------------------
@dataclass
class DemoProcess:
    """``queue-board demo`` in a subprocess on a temporary database, restartable with the same options."""

    port: int
    database: Path
    log: Path
    speed: float = 60.0
    args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None
    output: str = ""
    links: dict[str, str] = field(default_factory=dict)
    #: the printed staff accounts: user name → password
    accounts: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "QB_SECRET_KEY": "demo-test-secret", "QB_FORECAST_SCENARIOS": "64", "PYTHONUNBUFFERED": "1"}
        env.pop("QB_SOCKETIO_ASYNC_MODE", None)
        offset = self.log.stat().st_size if self.log.exists() else 0
        command = [sys.executable, "-m", "queue_board", "demo", "--port", str(self.port), "--speed", f"{self.speed:g}"]
        command += ["--database", f"sqlite:///{self.database}", *self.args]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            self.output = self.log.read_bytes()[offset:].decode(errors="replace")
            if self.process.poll() is not None:
                raise RuntimeError(f"the demo exited: {self.output[-3000:]}")
            if "Ctrl-C stops the demo." in self.output:
                try:
                    if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                        break
                except requests.ConnectionError:
                    pass
            time.sleep(0.1)
        else:
            raise RuntimeError(f"the demo did not start: {self.output[-3000:]}")
        self.links = {
            m.group(1).strip(): m.group(2)
            for m in re.finditer(r"^ {2}(\S.*?) {2,}(http://\S+)$", self.output, flags=re.MULTILINE)
        }
        manager = re.search(r"manager API token: (\S+)", self.output)
        assert manager, self.output
        self.links["manager"] = manager.group(1)
        self.accounts = dict(re.findall(r"Manager sign-in: \S+ {2}user (\S+) {2}password (\S+)", self.output))
        self.accounts.update(re.findall(r"as (teller\S+) / password ([^\s,]+)", self.output))

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None

    def snapshot(self) -> dict[str, Any]:
        response = requests.get(
            f"{self.url}/api/v1/branches/main/snapshot",
            headers={"Authorization": f"Bearer {self.links['manager']}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoProcess]:
    process = DemoProcess(free_port(), tmp_path / "demo.db", tmp_path / "demo.log")
    yield process
    process.stop()


def statuses(board: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["status"] for c in board["counters"]}


def wait_for(condition: Any, timeout: float = 20.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.2)


def test_the_demo_leaves_counter_1_to_the_person_and_says_so(demo: DemoProcess) -> None:
    demo.speed = 600  # 08:55 -> 09:00 in half a second
    demo.start()
    teller = demo.links["Teller console, counter 1"]
    # the person's console needs no token: they sign in as the teller of counter 1
    assert teller == f"{demo.url}/teller/1"
    assert f"You play counter 1: sign in at {demo.url}/login as teller1 / password {demo.accounts['teller1']}" in demo.output
    assert f"Manager sign-in: {demo.url}/login  user manager  password {demo.accounts['manager']}" in demo.output
    assert not any("token=" in url for name, url in demo.links.items() if name.startswith("Teller console"))
    # the simulation opens the other counters at 09:00, never counter 1
    board = wait_for(lambda: (b := demo.snapshot()) and statuses(b)["4"] != "closed" and b, what="counters to open")
    time.sleep(1.0)
    board = demo.snapshot()
    assert statuses(board)["1"] == "closed", statuses(board)
    assert all(statuses(board)[name] != "closed" for name in ("2", "3", "4")), statuses(board)
    index = requests.get(f"{demo.url}/?lang=en", timeout=10).text
    assert "You play counter 1" in index
    assert 'class="yours"' in index and teller in index
    assert f"<code>teller1</code> / <code>{demo.accounts['teller1']}</code>" in index
    zh = requests.get(f"{demo.url}/?lang=zh-Hant", timeout=10).text
    assert "您負責 1 號櫃檯" in zh
    # the person's console works: sign in as teller1 and open counter 1
    http, csrf = signed_in_session(demo.url, "teller1", demo.accounts["teller1"])
    api = f"{demo.url}/api/v1/branches/main/counters/1"
    assert http.post(f"{api}/open", headers={"X-CSRFToken": csrf}, timeout=10).status_code == 201
    assert statuses(demo.snapshot())["1"] == "idle"
    # the teller of counter 1 acts for counter 1 only
    assert http.post(f"{api.removesuffix('/1')}/2/close", headers={"X-CSRFToken": csrf}, timeout=10).status_code == 403


def test_the_demo_at_speed_20_fills_the_managers_dashboard_within_a_minute(demo: DemoProcess) -> None:
    """The printed manager sign-in opens the branch's dashboard, and the simulated morning fills
    it (counters open and serving, tickets issued and served, a timeline) within a minute."""
    demo.speed = 20
    demo.start()
    started = time.monotonic()
    http, _ = signed_in_session(demo.url, "manager", demo.accounts["manager"])
    assert http.get(f"{demo.url}/manage/main", timeout=10).status_code == 200

    def filled() -> dict[str, Any] | None:
        view: dict[str, Any] = http.get(f"{demo.url}/api/v1/branches/main/reports/dashboard", timeout=10).json()
        busy = [c for c in view["counters"] if c["activity"] == "serving"]
        return view if view["today"].get("served", 0) >= 1 and busy and view["today"]["arrivals"] >= 3 else None

    view = wait_for(filled, timeout=60.0 - (time.monotonic() - started), what="the dashboard to fill")
    assert any(segments for segments in view["timeline"].values())
    assert view["utilisation"]["open"] is not None


def test_the_other_counters_run_the_simulated_day_without_counter_1() -> None:
    """Counter 1 serves deposits only; counters 2 and 3 serve them too: every customer is served or
    leaves, nobody is left waiting at the end of the day, and counter 1 is never touched."""
    start = datetime(2026, 3, 2, 8, 55, tzinfo=TZ)
    for seed in (1, 2):
        agent = BranchAgent(demo_branch(), np.random.default_rng(seed), manage_counters=["2", "3", "4"])
        projection = Projection()
        log = run_agent(agent, projection, start, start + timedelta(hours=15))
        assert all(e.counter != "1" for e in log), "the simulation acted at counter 1"
        issued = {e.ticket: e.at for e in log if e.type == "ticket_issued"}
        called = {e.ticket: (e.at, e.counter) for e in log if e.type == "ticket_called"}
        assert len(issued) > 150
        assert not projection.state.waiting_tickets(), "customers left waiting at the end of the day"
        deposits = [at - issued[label] for label, (at, _) in called.items() if label.startswith("A")]
        assert {c for label, (_, c) in called.items() if label.startswith("A")} == {"2", "3"}
        assert statistics.median(deposits) < 10 * 60


def test_the_demo_command_chooses_who_plays_which_counter() -> None:
    from queue_board.cli.demo import people_counters

    names = [c.name for c in DEMO_CONFIG.counters]
    assert people_counters((), simulate_all=False, counters=names) == ("1",)
    assert people_counters(("3", "2"), simulate_all=False, counters=names) == ("2", "3")
    assert people_counters((), simulate_all=True, counters=names) == ()
    with pytest.raises(ValueError, match="9"):
        people_counters(("9",), simulate_all=False, counters=names)
    with pytest.raises(ValueError):
        people_counters(("2",), simulate_all=True, counters=names)


# 6. a restarted demo keeps its tokens and its day ---------------------------------------------
@browser_test
def test_screens_left_open_keep_working_across_a_demo_restart(demo: DemoProcess, browser: Any) -> None:
    demo.start()
    before = dict(demo.links)
    accounts = dict(demo.accounts)
    day = demo.snapshot()["day"]
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.set_default_timeout(10000)
    context.add_init_script(TEST_OPTIONS)
    try:
        hall = open_page(context, before["Hall board"])
        teller = sign_in_in_browser(context, demo.url, "teller1", accounts["teller1"])
        expect(teller.locator("body")).to_have_attribute("data-connection", "live")
        kiosk = open_page(context, before["Kiosk"])
        board = open_page(context, before["Board above counter 1"])
        screens = (hall, kiosk, board)
        for page in (*screens, teller):
            page.evaluate("window.__sameDocument = true")

        demo.stop()
        for page in (*screens, teller):
            expect(page.locator("#connection-banner")).to_contain_text("Connection lost since", timeout=15000)
        demo.start()
        assert demo.links == before, "the restarted demo printed other links"
        assert demo.accounts == accounts, "the restarted demo printed other passwords"

        for page in screens:
            expect(page.locator("body")).to_have_attribute("data-connection", "live", timeout=30000)
            expect(page.locator("#connection-banner")).to_be_hidden()
        assert demo.snapshot()["day"] == day
        # the teller's session ended with the old server: the console says so and offers to sign
        # in again, with the same password, and comes back to the same console
        expect(teller.locator("#sign-in-offer")).to_be_visible(timeout=30000)
        expect(teller.locator("body")).to_have_attribute("data-connection", "refused")
        with teller.expect_navigation():
            teller.locator("#sign-in-link").click()
        submit_sign_in(teller, "teller1", accounts["teller1"])
        assert teller.url == f"{demo.url}/teller/1?branch=main"
        expect(teller.locator("body")).to_have_attribute("data-connection", "live")
        # the person's console acts again: open counter 1, and every open screen sees it
        open_button = teller.locator("button[data-action=open]")
        expect(open_button).to_be_enabled()
        open_button.click()
        wait_for(lambda: statuses(demo.snapshot())["1"] == "idle", what="counter 1 to open")
        expect(hall.locator('#counters li[data-counter="1"]')).to_have_attribute("data-status", "idle")
        expect(board.locator("#counter-board")).to_have_attribute("data-status", "idle")
        expect(kiosk.locator("button[data-service=deposit]")).to_be_visible()
        for page in screens:
            assert page.evaluate("window.__sameDocument") is True, "a screen reloaded"
    finally:
        context.close()


# 7. the kiosk and a service no open counter serves --------------------------------------------
def ev(kind: str, at: datetime, **fields: Any) -> Any:
    return parse_event({"ts": format_ts(at), "type": kind, **fields})


def test_the_board_says_which_services_are_open_and_when_a_counter_usually_opens() -> None:
    day1 = datetime(2026, 3, 2, 0, 0, tzinfo=TZ)
    day2 = day1 + timedelta(days=1)
    projection = Projection()
    for event in (
        ev("counter_opened", day1.replace(hour=9), counter="2", services=[["deposit", "remittance"]]),
        ev("counter_opened", day1.replace(hour=13, minute=30), counter="4", services=[["loan"], ["remittance"]]),
        ev("counter_closed", day1.replace(hour=16), counter="4"),
        ev("counter_closed", day1.replace(hour=17), counter="2"),
        ev("counter_opened", day2.replace(hour=9), counter="2", services=[["deposit", "remittance"]]),
    ):
        assert projection.submit(event) is None
    noon = day2.replace(hour=12).timestamp()
    view = board_view(projection.state, DEMO_CONFIG, None, branch="main", now=noon, model=projection.model)
    services = {s["code"]: s for s in view["services"]}
    assert services["deposit"]["open_now"] is True and services["remittance"]["open_now"] is True
    assert services["loan"]["open_now"] is False
    assert services["loan"]["usually_opens_at"] == "2026-03-03T13:30:00.000+08:00"
    assert services["deposit"]["usually_opens_at"] is None  # open now
    # without the model (or before any day is finished) nothing is guessed
    bare = board_view(projection.state, DEMO_CONFIG, None, branch="main", now=noon)
    assert {s["code"]: s["usually_opens_at"] for s in bare["services"]} == {"deposit": None, "remittance": None, "loan": None}
    # after the usual opening time has passed, the log knows no later one
    late = board_view(projection.state, DEMO_CONFIG, None, branch="main", now=noon + 3 * 3600, model=projection.model)
    assert {s["code"]: s["usually_opens_at"] for s in late["services"]}["loan"] is None


def visible_in_viewport(page: Any, selector: str) -> bool:
    return bool(
        page.evaluate(
            """(sel) => { const e = document.querySelector(sel); if (!e || !e.offsetParent) return false;
                 const r = e.getBoundingClientRect();
                 return r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth; }""",
            selector,
        )
    )


def waiting_count(live: LiveServer | Any) -> int:
    response = requests.get(f"{live.url}/api/v1/branches/main/snapshot", headers=live.tokens.auth("display"), timeout=10)
    return len(response.json()["waiting"])


@browser_test
def test_the_kiosk_asks_before_a_ticket_no_open_counter_serves(live_server: LiveServer, browser: Any) -> None:
    act(live_server, "teller1", "/counters/1/open")  # deposits are served; loans are not
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    context.set_default_timeout(8000)
    context.add_init_script(TEST_OPTIONS)
    try:
        kiosk = screen(context, live_server, "/kiosk", "kiosk")
        loan = kiosk.locator("button[data-service=loan]")
        expect(loan.locator(".sb-wait")).to_have_text("No counter open for this service now")
        loan.click()
        confirm = kiosk.locator("#confirm")
        expect(confirm).to_be_visible()
        expect(kiosk.locator("#confirm-title")).to_have_text("No counter serves Loans right now.")
        expect(kiosk.locator("#confirm-when")).to_have_text("We cannot say yet when one opens: please ask a member of staff.")
        assert waiting_count(live_server) == 0, "a ticket was issued before the customer chose"
        for selector in ("#take-anyway", "#not-now"):
            assert visible_in_viewport(kiosk, selector), selector
        kiosk.click("#not-now")
        expect(kiosk.locator("#choose")).to_be_visible()
        assert waiting_count(live_server) == 0

        loan.click()
        kiosk.click("#take-anyway")
        expect(kiosk.locator("#ticket-number")).to_have_text(re.compile(r"^C\d{3}$"))
        assert waiting_count(live_server) == 1
        expect(kiosk.locator("#ticket-ahead")).to_have_text("You are first in line")
        expect(kiosk.locator("#ticket-wait")).to_have_text("No counter serves it right now: please watch the hall board")
        for language in ("en", "zh-Hant"):
            kiosk.click(f'#language-switch button[data-lang="{language}"]')
            for width, height in LAYOUTS:
                kiosk.set_viewport_size({"width": width, "height": height})
                kiosk.wait_for_timeout(150)
                for selector in ("#print", "#done"):
                    assert visible_in_viewport(kiosk, selector), f"{selector} off screen at {width}×{height} in {language}"
        expect(kiosk.locator("#ticket-wait")).to_have_text("目前沒有櫃檯辦理此項服務，請留意大廳看板")

        # a service an open counter serves takes its ticket at once, as before
        kiosk.click("#done")
        kiosk.click('#language-switch button[data-lang="en"]')
        kiosk.click("button[data-service=deposit]")
        expect(kiosk.locator("#ticket-number")).to_have_text(re.compile(r"^A\d{3}$"))
        expect(kiosk.locator("#confirm")).to_be_hidden()
        for width, height in LAYOUTS:
            kiosk.set_viewport_size({"width": width, "height": height})
            kiosk.wait_for_timeout(150)
            for selector in ("#print", "#done"):
                assert visible_in_viewport(kiosk, selector), f"{selector} off screen at {width}×{height}"
    finally:
        context.close()


@dataclass
class ClockedServer:
    url: str
    tokens: Tokens
    clock: ManualClock


@pytest.fixture
def clocked_server(tmp_path: Path) -> Iterator[ClockedServer]:
    """A live server on a manual clock (its forecasts made inline), so a test can make yesterday."""
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=TZ))
    app = make_test_app(tmp_path, clock)
    tokens = create_tokens(app)
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield ClockedServer(f"http://127.0.0.1:{server.server_port}", tokens, clock)
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    app.extensions["queue_board"].store.close()


@browser_test
def test_the_kiosk_says_when_a_counter_usually_opens(clocked_server: ClockedServer, browser: Any) -> None:
    server = clocked_server

    def post(path: str, body: dict[str, Any] | None = None) -> None:
        response = requests.post(
            f"{server.url}/api/v1/branches/main{path}", json=body, headers=server.tokens.auth("admin"), timeout=10
        )
        assert response.status_code == 201, response.text

    post("/counters/1/open")
    server.clock.current = datetime(2026, 3, 2, 13, 30, tzinfo=TZ)
    post("/counters/4/open")
    server.clock.current = datetime(2026, 3, 2, 16, 0, tzinfo=TZ)
    post("/counters/4/close")
    server.clock.current = datetime(2026, 3, 2, 17, 0, tzinfo=TZ)
    post("/counters/1/close")
    server.clock.current = datetime(2026, 3, 3, 9, 0, tzinfo=TZ)
    post("/counters/1/open")
    server.clock.current = datetime(2026, 3, 3, 11, 0, tzinfo=TZ)
    context = browser.new_context(viewport={"width": 1080, "height": 1920})
    context.set_default_timeout(8000)
    context.add_init_script(TEST_OPTIONS)
    try:
        kiosk = open_page(context, f"{server.url}/kiosk?token={server.tokens.kiosk}&lang=zh-Hant")
        loan = kiosk.locator("button[data-service=loan]")
        expect(loan.locator(".sb-wait")).to_contain_text("13:30")
        loan.click()
        expect(kiosk.locator("#confirm-title")).to_have_text("目前沒有櫃檯辦理「貸款」。")
        expect(kiosk.locator("#confirm-when")).to_have_text("辦理此項服務的櫃檯通常在 13:30 左右開放。")
        kiosk.click('#language-switch button[data-lang="en"]')
        expect(kiosk.locator("#confirm-when")).to_have_text("A counter for it usually opens around 13:30.")
        kiosk.click("#take-anyway")
        expect(kiosk.locator("#ticket-wait")).to_have_text("A counter for it usually opens around 13:30")
        for selector in ("#print", "#done"):
            assert visible_in_viewport(kiosk, selector), selector
    finally:
        context.close()
