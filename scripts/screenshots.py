"""Screenshots of every screen, in every layout and language, for docs/screens/.

Starts the real app on a loopback port with the demo branch, plays a simulated morning
through the HTTP API (the server's clock is moved forward between events, so the forecasts
learn realistic durations), then drives headless Chromium and saves PNGs:

    .venv/bin/python scripts/screenshots.py                # -> docs/screens/*.png
    .venv/bin/python scripts/screenshots.py --only hall    # just the hall board

Screens: hall board, counter board (serving with a heads-up, paused, closed), teller console, kiosk
(choice and ticket), the customer's ticket page (waiting, called, re-promised), the printed ticket,
and the managers' pages (overview, dashboard with its early warnings, history, promises, a ticket's
story, the complaint log) over two simulated weeks of the branch and five more branches' mornings.
Layouts: 1920×1080 landscape, 1080×1920 portrait, 390×844 phone. Languages: en, zh-Hant, zh-Hans.
Needs ``npm install`` (the Socket.IO browser client) and Debian's /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import requests
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from queue_board import create_app  # noqa: E402
from queue_board.core.branch_config import DEMO_CONFIG  # noqa: E402
from queue_board.core.events import event_to_json  # noqa: E402
from queue_board.service.clock import SystemClock  # noqa: E402
from queue_board.web.database import database  # noqa: E402
from simulations.branch_sim import simulate  # noqa: E402
from simulations.scenarios import demo_branch  # noqa: E402

BRANCH = "main"
#: days of simulated history before the photographed morning (the manager's history and promises)
HISTORY_DAYS = 13
#: the other branches of the managers' overview, each with its own simulated morning
OTHER_BRANCHES = ("north", "harbour", "airport", "old-town", "market")
MANAGER = ("manager", "screenshots-manager-pass")
ZONE = timezone(timedelta(hours=8))
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
#: mean minutes between arrivals, and service minutes (low, high), per service
ARRIVALS = {"deposit": 2.6, "remittance": 6.0, "loan": 18.0}
SERVICE_MINUTES = {"deposit": (2.5, 7.0), "remittance": (4.0, 9.0), "loan": (9.0, 18.0)}


class ShiftedClock(SystemClock):
    """Wall-clock time moved to a chosen morning, which the script can jump forward."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start.tzinfo)
        self.offset = start - datetime.now(start.tzinfo)

    def now(self) -> datetime:
        return datetime.now(self.zone) + self.offset

    def jump_to(self, moment: datetime) -> None:
        """Move the clock forward to ``moment`` (never back)."""
        ahead = moment - self.now()
        if ahead > timedelta(0):
            self.offset += ahead


@dataclass
class Branch:
    """The API as the kiosk and the tellers use it."""

    url: str
    tokens: dict[str, str]
    session: requests.Session = field(default_factory=requests.Session)

    def post(self, role: str, path: str, body: dict[str, Any] | None = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        return self.session.post(f"{self.url}/api/v1/branches/{BRANCH}{path}", json=body, headers=headers, timeout=10)

    def act(
        self, counter: str, action: str, body: dict[str, Any] | None = None, *, check: bool = True
    ) -> requests.Response:
        response = self.post(f"teller{counter}", f"/counters/{counter}/{action}", body)
        if check and response.status_code != 201:
            raise RuntimeError(f"counter {counter} {action}: {response.status_code} {response.text}")
        return response

    def ticket(self, service: str) -> str:
        response = self.post("kiosk", "/tickets", {"service": service})
        if response.status_code != 201:
            raise RuntimeError(f"ticket {service}: {response.status_code} {response.text}")
        label: str = response.json()["ticket"]["ticket"]
        return label


@dataclass
class Teller:
    """A simulated teller: what their counter is doing and until when."""

    counter: str
    phase: str = "free"  # free | calling | serving | done
    until: float = 0.0
    service: str | None = None


@contextmanager
def live_app(clock: ShiftedClock) -> Iterator[tuple[str, dict[str, str], Any]]:
    """The app on a free loopback port with the demo branch (and its past two weeks), one token
    per screen, a manager's account; yields the URL, the tokens and the branch service."""
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{Path(tmp) / 'screens.db'}",
                "SOCKETIO_ASYNC_MODE": "threading",
                "FORECAST_INLINE": False,
                "CLOCK": clock,
                "SECRET_KEY": "screenshots",
                # a whole morning is played in seconds: far above any real kiosk's rate
                "KIOSK_TICKET_LIMIT": "100000 per minute",
                "API_WRITE_LIMIT": "100000 per minute",
            }
        )
        database.store(app).upgrade()
        service = app.extensions["queue_board"]
        store = service.store
        # the past two weeks first: a configuration is an event at the clock's time, and a log
        # only moves forward
        first_day = clock.now().date() - timedelta(days=HISTORY_DAYS)
        history = simulate(demo_branch(), HISTORY_DAYS, first_day, seed=11)
        store.ensure_branch(BRANCH)
        service.import_log(BRANCH, [event_to_json(e) + "\n" for e in history], actor="screenshots:history")
        service.set_config(BRANCH, DEMO_CONFIG.to_dict())
        store.create_user(MANAGER[0], MANAGER[1], "admin", display_name="Branch operations")
        tokens = {
            "manager": store.create_token("screens manager", "manager", BRANCH, None),
            "display": store.create_token("hall screen", "display", BRANCH, None),
            "kiosk": store.create_token("kiosk", "kiosk", BRANCH, None),
            **{
                f"teller{c.name}": store.create_token(f"t{c.name}", "teller", BRANCH, c.name)
                for c in DEMO_CONFIG.counters
            },
        }
        server = make_server("127.0.0.1", 0, app, threaded=True)
        # the kiosk's QR codes point at this server (no link falls back to the request's host)
        app.config["PUBLIC_URL"] = f"http://127.0.0.1:{server.server_port}"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}", tokens, service
        finally:
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()
            store.close()


def other_branches(url: str, clock: ShiftedClock, admin_service: Any) -> None:
    """Five more branches for the overview: each a simulated morning up to the clock's now."""
    today = clock.now().date()
    for seed, name in enumerate(OTHER_BRANCHES, start=21):
        day = [e for e in simulate(demo_branch(), 1, today, seed=seed) if e.ts <= clock.now()]
        admin_service.store.ensure_branch(name)
        admin_service.import_log(name, [event_to_json(e) + "\n" for e in day], actor="screenshots:overview")
        admin_service.set_config(name, DEMO_CONFIG.to_dict())


def simulate_morning(branch: Branch, clock: ShiftedClock, start: datetime, seed: int) -> None:
    """A morning from 09:00 to about 10:40: arrivals, calls, service; then the final arrangement:
    counter 1 closed, counter 2 serving, counter 3 paused with a reason, counter 4 calling."""
    rng = random.Random(seed)
    tellers = {c.name: Teller(c.name) for c in DEMO_CONFIG.counters}
    for name in tellers:
        branch.act(name, "open")
    next_arrival = {code: rng.expovariate(1 / mean) for code, mean in ARRIVALS.items()}
    step, end = 0.25, 100.0
    minute = 0.0
    while minute < end:
        minute += step
        clock.jump_to(start + timedelta(minutes=minute))
        for code in ARRIVALS:
            while next_arrival[code] <= minute:
                branch.ticket(code)
                next_arrival[code] += rng.expovariate(1 / ARRIVALS[code])
        for teller in tellers.values():
            if teller.phase == "done" or teller.until > minute:
                continue
            winding_down = (teller.counter == "1" and minute > 80) or (teller.counter == "3" and minute > 94)
            if teller.phase == "free":
                if winding_down:
                    if teller.counter == "1":
                        branch.act("1", "close")
                    else:
                        branch.act("3", "pause", {"reason": "Cash delivery", "minutes": 15})
                    teller.phase = "done"
                    continue
                response = branch.act(teller.counter, "call-next", check=False)
                if response.status_code == 201:
                    teller.phase, teller.until = "calling", minute + rng.uniform(0.25, 1.0)
                    teller.service = service_of(response.json()["event"]["ticket"])
            elif teller.phase == "calling":
                branch.act(teller.counter, "start")
                low, high = SERVICE_MINUTES[teller.service or "deposit"]
                teller.phase, teller.until = "serving", minute + rng.uniform(low, high)
            elif teller.phase == "serving":
                branch.act(teller.counter, "finish")
                teller.phase, teller.until = "free", minute + rng.uniform(0.25, 1.0)
    settle_final_state(branch, tellers)


def service_of(label: str) -> str:
    """The demo service of a ticket label, from its prefix (``B012`` is a remittance)."""
    prefix = label.rstrip("0123456789")
    return next(s.code for s in DEMO_CONFIG.services if s.prefix == prefix)


def settle_final_state(branch: Branch, tellers: dict[str, Teller]) -> None:
    """Counter 2 serving someone, counter 4 calling the newest ticket, counters 1 and 3 done."""
    for name in ("1", "3"):
        teller = tellers[name]
        if teller.phase == "calling":
            branch.act(name, "start")
            teller.phase = "serving"
        if teller.phase == "serving":
            branch.act(name, "finish")
        if teller.phase != "done":
            if name == "1":
                branch.act("1", "close")
            else:
                branch.act("3", "pause", {"reason": "Cash delivery", "minutes": 15})
    two, four = tellers["2"], tellers["4"]
    if two.phase == "free":
        branch.ticket("deposit")
        branch.act("2", "call-next")
        two.phase = "calling"
    if two.phase == "calling":
        branch.act("2", "start")
    # the teller warns the customer of a long step: the counter board says so
    branch.act("2", "heads-up", {"reason": "entering_details"})
    if four.phase == "calling":
        branch.act("4", "start")
        four.phase = "serving"
    if four.phase == "serving":
        branch.act("4", "finish")
    branch.ticket("loan")
    branch.act("4", "call-next")
    for code in ("deposit", "deposit", "remittance"):
        branch.ticket(code)


LANGUAGES = ("en", "zh-Hant", "zh-Hans")
LAYOUTS = {"landscape": (1920, 1080), "portrait": (1080, 1920), "phone": (390, 844)}
#: the managers' pages are read on a laptop or a phone, not on a branch's screen
MANAGER_LAYOUTS = {"laptop": (1366, 768), "phone": (390, 844)}
#: quiet, quick screens for pictures: no sound, no offline grace period to wait out
PAGE_OPTIONS = "window.queueBoardOptions = { chimeMs: 0 };"


@dataclass
class Shot:
    """One picture: a screen in a state, the layouts and languages it is taken in."""

    name: str
    path: str
    token: str | None
    layouts: tuple[str, ...] = tuple(LAYOUTS)
    languages: tuple[str, ...] = LANGUAGES
    ready: str | None = None
    init: str = ""


def record_feedback(branch: Branch, clock: ShiftedClock) -> None:
    """Today's complaint and praise log: a complaint about a wait (linked to the longest-waiting
    ticket, followed up), one about a teller, and a praise."""
    waiting = board(branch.url, branch.tokens)["waiting"]
    linked = waiting[0]["ticket"] if waiting else None
    deadline = (clock.now() + timedelta(hours=4)).isoformat()
    items = [
        {"kind": "complaint", "channel": "in_person", "category": "waiting", "aspect": "process",
         "text": "Waited much longer than the kiosk said, and nobody told me why.", "owner": "Ms Lin", "deadline": deadline,
         **({"ticket": linked} if linked else {})},
        {"kind": "complaint", "channel": "phone", "category": "empathy", "aspect": "process",
         "text": "The teller did not explain why my transfer needed a second form.", "owner": "Mr Chen", "deadline": deadline},
        {"kind": "praise", "channel": "written", "category": "assurance", "text": "Thank you to counter 2 for sorting out my account so patiently."},
    ]  # fmt: skip
    for body in items:
        response = branch.post("manager", "/feedback", body)
        if response.status_code != 201:
            raise RuntimeError(f"feedback: {response.status_code} {response.text}")
    response = branch.post("manager", "/feedback/F0001", {"status": "in_progress", "note": "Called the customer back; apologised."})
    if response.status_code != 201:
        raise RuntimeError(f"feedback update: {response.status_code} {response.text}")


def ticket_path(url: str, tokens: dict[str, str], label: str) -> str:
    """The customer's ticket page for ``label``, as the kiosk's QR code has it."""
    response = requests.post(
        f"{url}/t/links",
        json={"branch": BRANCH, "ticket": label},
        headers={"Authorization": f"Bearer {tokens['kiosk']}"},
        timeout=10,
    )
    response.raise_for_status()
    path: str = response.json()["path"]
    return path


def board(url: str, tokens: dict[str, str]) -> dict[str, Any]:
    response = requests.get(
        f"{url}/api/v1/branches/{BRANCH}/snapshot", headers={"Authorization": f"Bearer {tokens['display']}"}, timeout=10
    )
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


def shots(url: str, tokens: dict[str, str], clock: ShiftedClock) -> list[Shot]:
    """What to photograph, from the branch's final arrangement."""
    state = board(url, tokens)
    waiting = [t["ticket"] for t in state["waiting"] if t["service"] == "deposit"]
    calling = next(c["ticket"] for c in state["counters"] if c["status"] == "calling")
    mine = waiting[-2]
    repromised = [t["ticket"] for t in state["waiting"] if t.get("repromised")]
    estimated = "[...document.querySelectorAll('.svc-wait-range')].every(e => !e.classList.contains('is-note') || !/Estimating|估算/.test(e.textContent))"
    return [
        Shot("hall", "/board/hall", tokens["display"], ready=estimated),
        Shot("counter-serving", "/board/counter/2", tokens["display"]),
        Shot("counter-paused", "/board/counter/3", tokens["display"]),
        Shot("counter-closed", "/board/counter/1", tokens["display"], layouts=("landscape", "portrait")),
        Shot("teller", "/teller/2", tokens["teller2"]),
        Shot("kiosk", "/kiosk", tokens["kiosk"]),
        Shot("ticket-waiting", ticket_path(url, tokens, mine), None, ready="!document.getElementById('range').hidden"),
        Shot("ticket-called", ticket_path(url, tokens, calling), None, layouts=("phone", "landscape")),
        *(
            [Shot("ticket-repromised", ticket_path(url, tokens, repromised[0]), None, layouts=("phone",), ready="!document.getElementById('repromise').hidden")]
            if repromised
            else []
        ),
    ]


def save(page: Any, path: Path, *, quantize: bool, element: str | None = None, full_page: bool = False) -> None:
    """Screenshot the page (or one element) to ``path``, as a palette PNG unless told otherwise."""
    if element:
        page.locator(element).screenshot(path=str(path))
    else:
        page.screenshot(path=str(path), full_page=full_page)
    if quantize:
        from PIL import Image

        with Image.open(path) as image:
            image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
                path, optimize=True
            )


def wait_until(page: Any, expression: str, timeout: float = 15.0) -> None:
    """Poll a JS expression (the pages' CSP forbids the eval that wait_for_function needs)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {expression}")
        page.wait_for_timeout(100)


def shoot(
    url: str, tokens: dict[str, str], clock: ShiftedClock, out: Path, only: set[str], quantize: bool, service: Any = None
) -> list[Path]:
    """Open each screen in Chromium, in each layout and language, and save its PNG."""
    from playwright.sync_api import sync_playwright

    saved: list[Path] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for shot in shots(url, tokens, clock):
                if only and not any(shot.name.startswith(o) for o in only):
                    continue
                for language in shot.languages:
                    for layout in shot.layouts:
                        width, height = LAYOUTS[layout]
                        phone = layout == "phone"
                        context = browser.new_context(
                            viewport={"width": width, "height": height},
                            device_scale_factor=2 if phone else 1,
                            is_mobile=phone,
                            has_touch=phone,
                        )
                        context.add_init_script(PAGE_OPTIONS + shot.init)
                        page = context.new_page()
                        query = f"lang={language}" + (f"&token={shot.token}" if shot.token else "") + "&sound=off"
                        page.goto(f"{url}{shot.path}?{query}")
                        page.wait_for_selector("body[data-connection=live]")
                        wait_until(page, "document.body.dataset.seq !== undefined")
                        if shot.ready:
                            wait_until(page, shot.ready)
                        page.wait_for_timeout(400)
                        path = out / f"{shot.name}-{layout}-{language}.png"
                        save(page, path, quantize=quantize, full_page=phone)  # a phone scrolls
                        saved.append(path)
                        context.close()
            if not only or "kiosk" in only:
                saved += shoot_kiosk_tickets(browser, url, tokens, out, quantize)
            if service is not None and (not only or any(o.startswith("manage") for o in only)):
                saved += shoot_manager(browser, url, service, out, quantize)
        finally:
            browser.close()
    return saved


def shoot_kiosk_tickets(browser: Any, url: str, tokens: dict[str, str], out: Path, quantize: bool) -> list[Path]:
    """The kiosk after a tap (each picture takes a real ticket, so these come last) and the printed ticket."""
    saved: list[Path] = []
    for language in LANGUAGES:
        for layout in (*LAYOUTS, "printed"):
            width, height = LAYOUTS.get(layout, LAYOUTS["landscape"])
            # a phone at its pixel density; the small printed ticket at printer-like resolution
            scale = {"phone": 2, "printed": 3}.get(layout, 1)
            context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=scale)
            context.add_init_script(PAGE_OPTIONS)
            page = context.new_page()
            page.goto(f"{url}/kiosk?lang={language}&token={tokens['kiosk']}")
            page.wait_for_selector("body[data-connection=live]")
            page.click("button[data-service=remittance]")
            page.wait_for_selector("#result:not([hidden])")
            wait_until(page, "document.getElementById('ticket-qr-image').naturalWidth > 0")
            page.wait_for_timeout(300)
            if layout == "printed":
                page.emulate_media(media="print")
                page.wait_for_timeout(200)
                path = out / f"kiosk-printed-{language}.png"
                save(page, path, quantize=quantize, element="#print-ticket")
            else:
                path = out / f"kiosk-ticket-{layout}-{language}.png"
                save(page, path, quantize=quantize, full_page=layout == "phone")
            saved.append(path)
            context.close()
    return saved


def manager_pages(service: Any) -> list[tuple[str, str]]:
    """The managers' pages to photograph: (name, path); the ticket is the worst broken promise
    of the branch's last week."""
    from queue_board.service.reports import parse_period

    reports = service.reports
    period = parse_period(None, None, latest=reports.latest_day(BRANCH))
    worst = reports.history(BRANCH, period)["broken_promises"].rows
    pages = [
        ("manage-overview", "/manage"),
        ("manage-dashboard", f"/manage/{BRANCH}"),
        ("manage-history", f"/manage/{BRANCH}/history"),
        ("manage-promises", f"/manage/{BRANCH}/promises"),
        ("manage-feedback", f"/manage/{BRANCH}/feedback"),
    ]
    if worst:
        pages.append(("manage-ticket", f"/manage/{BRANCH}/tickets/{worst[0][0]}/{worst[0][1]}"))
    return pages


def shoot_manager(browser: Any, url: str, service: Any, out: Path, quantize: bool) -> list[Path]:
    """The managers' pages, signed in as a manager, on a laptop and a phone, in each language."""
    saved: list[Path] = []
    pages = manager_pages(service)
    for language in LANGUAGES:
        for layout, (width, height) in MANAGER_LAYOUTS.items():
            phone = layout == "phone"
            context = browser.new_context(
                viewport={"width": width, "height": height}, device_scale_factor=2 if phone else 1, is_mobile=phone, has_touch=phone
            )
            page = context.new_page()
            page.goto(f"{url}/login?lang={language}")
            page.fill("#username", MANAGER[0])
            page.fill("#password", MANAGER[1])
            with page.expect_navigation():
                page.click("#sign-in")
            for name, path in pages:
                page.goto(f"{url}{path}?lang={language}")
                wait_until(page, "document.body.dataset.loaded === '1'", timeout=30)
                if name == "manage-dashboard":
                    page.wait_for_selector("body[data-connection=live]")
                page.wait_for_timeout(1500)  # the charts' entry animation
                file = out / f"{name}-{layout}-{language}.png"
                save(page, file, quantize=quantize, full_page=True)
                saved.append(file)
            context.close()
    return saved


SCREEN_TITLES = {
    "hall": "Hall board",
    "counter-serving": "Counter board — serving",
    "counter-paused": "Counter board — paused",
    "counter-closed": "Counter board — closed",
    "teller": "Teller console (with the counter board preview)",
    "kiosk": "Kiosk — choose a service",
    "kiosk-ticket": "Kiosk — the ticket, with its QR code",
    "kiosk-printed": "Printed ticket (80 mm roll)",
    "ticket-waiting": "Customer's ticket page — waiting",
    "ticket-longer-wait": "Customer's ticket page — the wait got longer",
    "ticket-called": "Customer's ticket page — your turn",
    "ticket-repromised": "Customer's ticket page — re-promised, with the reason",
    "manage-overview": "Manager — every branch side by side",
    "manage-dashboard": "Manager — a branch's live dashboard",
    "manage-history": "Manager — history of the last week",
    "manage-promises": "Manager — promises kept and broken",
    "manage-ticket": "Manager — the story of a broken promise",
    "manage-feedback": "Manager — the complaint and praise log",
}


def write_index(out: Path) -> Path:
    """docs/screens/README.md: every picture, one table per screen, layouts down, languages across."""
    lines = [
        "# Screens",
        "",
        "Generated by `scripts/screenshots.py` from a simulated morning at the demo branch; do not edit by hand.",
        "Layouts: 1920×1080 landscape, 1080×1920 portrait, 390×844 phone (phones scroll: full page);",
        "the managers' pages at 1366×768 laptop and 390×844 phone (full page), signed in as a manager.",
        "",
    ]
    for name, title in SCREEN_TITLES.items():
        rows = []
        for layout in (*LAYOUTS, *MANAGER_LAYOUTS, ""):
            files = [f"{name}-{layout}-{lang}.png" if layout else f"{name}-{lang}.png" for lang in LANGUAGES]
            if all((out / f).is_file() for f in files):
                cells = " | ".join(
                    f"[![{name} {layout} {lang}]({f})]({f})" for f, lang in zip(files, LANGUAGES, strict=True)
                )
                rows.append(f"| {layout or 'print'} | {cells} |")
        if rows:
            lines += [f"## {title}", "", "| layout | en | zh-Hant | zh-Hans |", "|---|---|---|---|", *rows, ""]
    path = out / "README.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    """Build the scene, take the screenshots, print where they went."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--out", type=Path, default=ROOT / "docs" / "screens", help="folder for the PNGs (default: docs/screens/)"
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the simulated morning")
    parser.add_argument(
        "--only", action="append", default=[], help="only screens whose name starts with this (repeatable)"
    )
    parser.add_argument("--no-quantize", action="store_true", help="keep full-colour PNGs (larger files)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    start = datetime.now(ZONE).replace(hour=9, minute=0, second=0, microsecond=0)
    clock = ShiftedClock(start)
    with live_app(clock) as (url, tokens, service):
        branch = Branch(url, tokens)
        simulate_morning(branch, clock, start, args.seed)
        record_feedback(branch, clock)
        other_branches(url, clock, service)
        # the warnings as a manager arriving now finds them (the server's sweep does this every 30 s)
        service.warnings.check(BRANCH)
        saved = shoot(url, tokens, clock, args.out, set(args.only), not args.no_quantize, service)
    for path in [*saved, write_index(args.out)]:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
