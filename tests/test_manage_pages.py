"""The branch managers' pages in headless Chromium against a live server: the history of the
scripted day (tests/report_day.py) shows its hand-worked figures and downloads its tables as
CSV, the promises page lists its broken promises with a working link to each ticket's story,
the dashboard and the overview follow the ``/manage`` namespace live (never polling), the zh
pages are in Chinese, and no page logs a script error.

Needs Debian's /usr/bin/chromium, the playwright package (never ``playwright install``) and ``npm install``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import LiveServer, ServerProcess, free_port, prepare_demo_branch, screen_context
from playwright import sync_api
from report_day import import_report_day
from test_screens_live import TEST_OPTIONS, act, take

from queue_board.store.event_store import EventStore

pytestmark = pytest.mark.browser

expect = sync_api.expect

DAY = "2026-03-02"
BRANCH = "day"
PASSWORD = "manager-password-1"


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    with screen_context(browser, TEST_OPTIONS) as ctx:
        yield ctx


@pytest.fixture
def day_server(live_server: LiveServer) -> LiveServer:
    """The live server with the scripted day imported as branch ``day`` (through the API) and an admin who signs in."""
    import_report_day(live_server.url, live_server.tokens.auth("admin"), BRANCH)
    return live_server


def post(live: LiveServer, branch: str, path: str, body: dict[str, Any] | None = None) -> None:
    """A write at ``branch`` as the admin, as another screen would make it."""
    response = requests.post(
        f"{live.url}/api/v1/branches/{branch}{path}", json=body or {}, headers=live.tokens.auth("admin"), timeout=10
    )
    assert response.status_code == 201, (path, response.text)


def add_user(live: LiveServer, name: str, role: str, branches: tuple[str, ...] = ()) -> None:
    live.app.extensions["queue_board"].store.create_user(name, PASSWORD, role, list(branches), None, name.title())


def signed_in(
    context: Any,
    live: LiveServer,
    path: str,
    errors: list[str],
    user: str = "boss",
    role: str = "admin",
    branches: tuple[str, ...] = (),
) -> Any:
    """Sign ``user`` in (creating them), then open ``path``; script errors and failed loads go to ``errors``."""
    add_user(live, user, role, branches)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.goto(f"{live.url}/login?next={requests.utils.quote(path, safe='')}")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    expect(page.locator("body")).to_have_attribute("data-loaded", "1")
    return page


def cell(page: Any, table: str, key: str, column: str) -> Any:
    """The cell of ``column`` in the row whose first column is ``key`` (as the report has it) of ``#<table>-table``."""
    return page.locator(f'#{table}-table tr[data-key="{key}"] [data-column="{column}"]')


def history_path(branch: str = BRANCH, page: str = "history", **query: str) -> str:
    query = {"from": DAY, "to": DAY, **query}
    return f"/manage/{branch}/{page}?" + "&".join(f"{k}={v}" for k, v in query.items())


# history -------------------------------------------------------------------------------------------
def test_the_history_page_shows_the_hand_worked_figures_of_the_scripted_day(
    day_server: LiveServer, context: Any
) -> None:
    errors: list[str] = []
    page = signed_in(context, day_server, history_path(), errors)
    expect(page.locator("#tile-service-level .mg-tile-value")).to_have_text("60.0 %")
    expect(page.locator("#tile-util-open .mg-tile-value")).to_have_text("33.7 %")
    expect(cell(page, "by_counter", "1", "utilisation_open")).to_have_text("58.5 %")
    expect(cell(page, "by_counter", "1", "utilisation_staffed")).to_have_text("58.5 %")
    expect(cell(page, "by_counter", "2", "utilisation_open")).to_have_text("16.7 %")
    expect(cell(page, "by_counter", "2", "utilisation_staffed")).to_have_text("22.2 %")
    # the pause "break" (named from the default reasons) ran 5 min past its declared 10
    expect(cell(page, "pauses", "break", "reason")).to_have_text("Break")
    expect(cell(page, "pauses", "break", "overrun_min")).to_have_text("5.0")
    expect(cell(page, "pauses", "break", "declared_min")).to_have_text("10.0")
    expect(cell(page, "by_day", DAY, "service_level")).to_have_text("60.0 %")
    # every chart drew (ECharts on canvas), and the period is in the address for sharing
    for chart in ("by_day", "by_hour", "by_service", "by_counter", "pauses", "heatmap"):
        expect(page.locator(f"#{chart}-chart canvas").first).to_be_attached()
        expect(page.locator(f"#{chart}-csv")).to_be_visible()
    assert f"from={DAY}" in page.url and f"to={DAY}" in page.url
    assert errors == []


def test_a_csv_link_downloads_its_table_with_the_pages_period(
    day_server: LiveServer, context: Any, tmp_path: Path
) -> None:
    errors: list[str] = []
    page = signed_in(context, day_server, history_path(target="20"), errors)
    expect(page.locator("#tile-service-level .mg-tile-value")).to_have_text("80.0 %")  # A003's 17 min counts within 20
    link = page.locator("#by_counter-csv")
    assert "target=20" in (link.get_attribute("href") or "")
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == f"{BRANCH}-by_counter-{DAY}-{DAY}.csv"
    saved = tmp_path / "by_counter.csv"
    download.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text())))
    assert [(r["counter"], r["utilisation_open"], r["utilisation_staffed"]) for r in rows] == [
        ("1", "0.585", "0.585"),
        ("2", "0.167", "0.222"),
    ]
    assert errors == []


def test_a_bad_period_says_what_the_server_said_and_marks_the_field(day_server: LiveServer, context: Any) -> None:
    errors: list[str] = []
    page = signed_in(context, day_server, history_path(**{"from": "2026-03-05", "to": "2026-03-01"}), errors)
    message = page.locator("#report-error")
    expect(message).to_be_visible()
    expect(message).to_contain_text("'from' (2026-03-05) is after 'to' (2026-03-01)")
    expect(page.locator("#period-from")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#by_counter")).to_be_hidden()
    # mending the period brings the report back
    page.fill("#period-from", DAY)
    page.fill("#period-to", DAY)
    page.click("#period-form button[type=submit]")
    expect(message).to_be_hidden()
    expect(cell(page, "by_counter", "2", "utilisation_open")).to_have_text("16.7 %")
    assert [e for e in errors if "422" not in e] == []


def test_the_history_page_is_in_chinese_and_fits_a_phone(day_server: LiveServer, browser: Any) -> None:
    errors: list[str] = []
    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    ctx.set_default_timeout(8000)
    try:
        page = signed_in(ctx, day_server, history_path(lang="zh-Hant"), errors)
        expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
        expect(page.locator("#by_counter-title")).to_have_text("按櫃檯")
        expect(cell(page, "by_counter", "1", "counter")).to_have_text("1 號櫃檯")
        expect(cell(page, "by_counter", "1", "utilisation_open")).to_have_text("58.5 %")
        expect(cell(page, "pauses", "break", "reason")).to_have_text("休息")
        expect(cell(page, "pauses", "break", "overrun_min")).to_have_text("5.0")
        expect(page.locator('#by_counter-table th[data-column="utilisation_staffed"]')).to_have_text("在席時間利用率")
        # wide tables scroll inside their box; the page itself does not scroll sideways
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.select_option("#language", "zh-Hans")
        expect(page.locator("#by_counter-title")).to_have_text("按柜台")
        expect(cell(page, "by_counter", "2", "counter")).to_have_text("2 号柜台")
        expect(cell(page, "by_counter", "2", "utilisation_staffed")).to_have_text("22.2 %")
        assert "lang=zh-Hans" in page.url
    finally:
        ctx.close()
    assert errors == []


# promises and a ticket's story ------------------------------------------------------------------------
def test_the_promises_page_lists_the_broken_promises_and_opens_a_tickets_story(
    day_server: LiveServer, context: Any
) -> None:
    errors: list[str] = []
    page = signed_in(context, day_server, history_path(page="promises"), errors)
    rows = page.locator("#broken_promises-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.locator('[data-column="ticket"]')).to_have_text(["A003", "B001"])
    expect(cell(page, "broken_promises", "A003", "told")).to_have_text("about 5–15 min")
    expect(cell(page, "broken_promises", "A003", "over_by_min")).to_have_text("2.0")
    expect(cell(page, "broken_promises", "B001", "told")).to_have_text("under 1 min")
    expect(cell(page, "broken_promises", "A003", "issued_at")).to_have_text("09:16")
    expect(page.locator("#tile-broken .mg-tile-value")).to_have_text("50.0 %")
    expect(page.locator("#quality_by_service-chart canvas").first).to_be_attached()
    page.locator("#broken_promises-table a", has_text="A003").click()
    expect(page).to_have_url(re.compile(rf"/manage/{BRANCH}/tickets/{DAY}/A003"))
    expect(page.locator("body")).to_have_attribute("data-loaded", "1")
    expect(page.locator("#tile-verdict .mg-tile-value")).to_have_text("Broken")
    expect(page.locator("#tile-told .mg-tile-value")).to_have_text("about 5–15 min")
    entries = page.locator("#story-list .mg-story-entry")
    expect(entries.locator(".mg-story-text")).to_have_text(
        [
            "Counter 2 paused: Break",
            "Issued for A",
            "Counter 2 called B001 (A)",
            "The promise ran out: about 5–15 min",
            "Called to Counter 1",
            "Transaction started at Counter 1",
            "Finished at Counter 1",
        ]
    )
    expect(entries.locator(".mg-story-time")).to_have_text(
        ["09:10:00", "09:16:00", "09:25:00", "09:31:00", "09:33:00", "09:33:30", "09:40:00"]
    )
    expect(entries.first.locator(".mg-story-detail")).to_contain_text(
        "declared 10 min, back at 09:25:00: 5.0 min past it"
    )
    assert errors == []


# the live dashboard ----------------------------------------------------------------------------------
def test_the_dashboard_follows_the_branch_live_without_polling(live_server: LiveServer, context: Any) -> None:
    errors: list[str] = []
    reads: list[str] = []
    act(live_server, "teller1", "/counters/1/open")
    page = signed_in(context, live_server, "/manage/main", errors, user="mia", role="manager", branches=("main",))
    page.on("request", lambda r: reads.append(r.url) if "/reports/" in r.url else None)
    expect(page.locator("body")).to_have_attribute("data-connection", "live")
    card = page.locator('#counter-cards [data-counter="1"]')
    expect(card).to_have_attribute("data-activity", "idle")
    expect(card.locator(".mg-state-word")).to_have_text("Idle")
    expect(page.locator('#counter-cards [data-counter="2"]')).to_have_attribute("data-activity", "closed")
    expect(page.locator("#tile-waiting .mg-tile-value")).to_have_text("0")
    # no closed day yet: the staffing card says so, and shows no empty plan for tomorrow that
    # would read as "nobody comes"
    expect(page.locator("#staffing-tomorrow")).to_have_text("Staffing advice needs at least one closed day of history.")
    expect(page.locator("#staffing-tomorrow-plan")).to_be_hidden()

    # a teller pauses and a customer takes a ticket: the dashboard follows, pushed over Socket.IO
    act(live_server, "teller1", "/counters/1/pause", {"reason": "break", "minutes": 5})
    expect(card).to_have_attribute("data-activity", "paused")
    expect(card.locator(".mg-state-word")).to_have_text("Paused (Break)")
    expect(card.locator(".mg-counter-since")).to_have_text(re.compile(r"^for 0:\d\d$"))
    label = take(live_server)
    expect(page.locator("#tile-waiting .mg-tile-value")).to_have_text("1")
    expect(page.locator('#waiting-table tbody [data-column="waiting"]')).to_have_text(["1"])
    expect(page.locator('#waiting-table tbody [data-column="service"]')).to_have_text(["Deposits & withdrawals"])
    act(live_server, "teller1", "/counters/1/resume")
    act(live_server, "teller1", "/counters/1/call-next")
    act(live_server, "teller1", "/counters/1/start")
    expect(card).to_have_attribute("data-activity", "serving")
    expect(card.locator(".mg-counter-ticket .ticket-label")).to_have_text(label)
    expect(card.locator(".mg-counter-expected")).to_contain_text("expected")
    expect(page.locator("#timeline-chart canvas").first).to_be_attached()
    expect(page.locator('#timeline-table tbody [data-column="activity"]').first).to_have_text("Serving")
    page.wait_for_timeout(300)
    assert reads == [], "the dashboard must never poll the API"
    assert errors == []


def test_the_dashboard_in_chinese_names_states_reasons_and_services(live_server: LiveServer, context: Any) -> None:
    errors: list[str] = []
    for counter in ("1", "2"):
        act(live_server, "admin", f"/counters/{counter}/open")
    act(live_server, "admin", "/counters/2/pause", {"reason": "lunch", "minutes": 30})
    take(live_server, "remittance")
    page = signed_in(context, live_server, "/manage/main?lang=zh-Hant", errors)
    expect(page.locator("body")).to_have_attribute("data-connection", "live")
    expect(page.locator("#tile-waiting .mg-tile-label")).to_have_text("目前等候")
    expect(page.locator('#counter-cards [data-counter="2"] .mg-state-word')).to_have_text("暫停服務（午休）")
    expect(page.locator('#counter-cards [data-counter="1"] .mg-counter-name')).to_have_text("1 號櫃檯")
    expect(page.locator('#waiting-table tbody [data-column="service"]')).to_have_text(["匯款"])
    expect(page.locator("#branch-name")).to_have_text("示範分行")
    page.select_option("#language", "zh-Hans")
    expect(page.locator('#counter-cards [data-counter="2"] .mg-state-word')).to_have_text("暂停服务（午休）")
    expect(page.locator('#waiting-table tbody [data-column="service"]')).to_have_text(["汇款"])
    assert errors == []


# the overview ------------------------------------------------------------------------------------------
def test_the_overview_moves_a_branch_that_needs_attention_to_the_top(live_server: LiveServer, context: Any) -> None:
    errors: list[str] = []
    service = live_server.app.extensions["queue_board"]
    service.set_config("north", service.config("main").to_dict())
    for branch in ("main", "north"):
        post(live_server, branch, "/counters/1/open")
    page = signed_in(
        context, live_server, "/manage", errors, user="area", role="area_manager", branches=("main", "north")
    )
    expect(page.locator("body")).to_have_attribute("data-connection", "live")
    rows = page.locator("#overview-rows tr")
    expect(rows.locator("th")).to_have_text(["main", "north"])
    expect(page.locator('#overview-rows tr[data-branch="north"] .mg-chip-ok')).to_have_text("all well")
    # north's only counter pauses while a customer waits: north goes to the top, flagged
    post(live_server, "north", "/counters/1/pause", {"reason": "break", "minutes": 5})
    post(live_server, "north", "/tickets", {"service": "deposit"})
    expect(rows.locator("th")).to_have_text(["north", "main"])
    north = page.locator('#overview-rows tr[data-branch="north"]')
    expect(north.locator(".mg-chip")).to_contain_text(["Queue, no staffed counter"])
    expect(north.locator("td").nth(2)).to_have_text("1")  # waiting
    expect(page.locator("#tile-attention .mg-tile-value")).to_have_text("1")
    # the branch's name opens its dashboard
    north.locator("a.mg-branch-link").click()
    expect(page).to_have_url(re.compile(r"/manage/north$"))
    expect(page.locator("body")).to_have_attribute("data-connection", "live")
    expect(page.locator('#counter-cards [data-counter="1"]')).to_have_attribute("data-activity", "paused")
    assert errors == []


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServerProcess]:
    """``queue-board serve`` in a subprocess (restartable), with the demo branch and a manager who signs in."""
    database = f"sqlite:///{tmp_path / 'served.db'}"
    tokens = prepare_demo_branch(database)
    store = EventStore(database)
    try:
        store.create_user("mia", PASSWORD, "manager", ["main"], None, "Mia")
    finally:
        store.close()
    port = free_port()
    server = ServerProcess(f"http://127.0.0.1:{port}", port, database, tokens, tmp_path / "server.log")
    server.start()
    yield server
    server.stop()


def test_the_dashboard_says_when_it_lost_the_server_and_recovers_by_itself(served: ServerProcess, context: Any) -> None:
    errors: list[str] = []
    served.act("teller1", "/counters/1/open")
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    page.goto(f"{served.url}/login?next=/manage/main")
    page.fill("#username", "mia")
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    expect(page.locator("body")).to_have_attribute("data-connection", "live")
    card = page.locator('#counter-cards [data-counter="1"]')
    expect(card).to_have_attribute("data-activity", "idle")
    banner = page.locator("#connection-banner")
    expect(banner).to_be_hidden()
    served.stop()
    expect(banner).to_contain_text("Connection lost since", timeout=15_000)
    expect(banner).to_contain_text("The figures may be out of date.")
    served.start()
    served.act("teller1", "/counters/1/pause", {"reason": "lunch", "minutes": 30})
    expect(page.locator("body")).to_have_attribute("data-connection", "live", timeout=30_000)
    expect(banner).to_be_hidden()
    expect(card).to_have_attribute("data-activity", "paused")
    expect(card.locator(".mg-state-word")).to_have_text("Paused (Lunch)")
    assert errors == []


# who may open them ---------------------------------------------------------------------------------


def test_a_teller_and_another_branchs_manager_see_not_allowed_in_the_browser(day_server: LiveServer, browser: Any) -> None:
    """Signed in through the form: a teller opening the dashboard, a manager of ``main`` opening
    branch ``day``'s history, each gets the 403 page naming why, not the figures."""
    day_server.app.extensions["queue_board"].store.create_user("tess", PASSWORD, "teller", ["main"], "1", "Tess")
    add_user(day_server, "mona", "manager", ("main",))
    for user, path, says in (("tess", "/manage/main", "teller"), ("mona", history_path(), BRANCH)):
        with screen_context(browser, TEST_OPTIONS) as own:  # each with their own cookies
            page = own.new_page()
            page.goto(f"{day_server.url}/login")
            page.fill("#username", user)
            page.fill("#password", PASSWORD)
            with page.expect_navigation():
                page.click("#sign-in")
            answer = page.goto(f"{day_server.url}{path}")
            assert answer is not None and answer.status == 403, path
            expect(page.locator("#forbidden-reason")).to_contain_text(says)
            assert page.locator(".mg-tile").count() == 0
