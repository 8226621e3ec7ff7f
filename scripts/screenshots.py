"""Screenshots of the screens for the docs: hall board, teller console, kiosk.

Starts the real app on a loopback port with the demo branch, plays a simulated morning
through the HTTP API (the server's clock is moved forward between events, so the forecasts
learn realistic durations), then drives headless Chromium and saves PNGs:

    .venv/bin/python scripts/screenshots.py            # -> docs/*.png

Needs ``npm install`` (the Socket.IO browser client) and Debian's /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
import threading
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
from queue_board.branch_config import DEMO_CONFIG  # noqa: E402
from queue_board.clock import SystemClock  # noqa: E402

BRANCH = "main"
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
def live_app(clock: ShiftedClock) -> Iterator[tuple[str, dict[str, str]]]:
    """The app on a free loopback port with the demo branch and one token per screen."""
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{Path(tmp) / 'screens.db'}",
                "SOCKETIO_ASYNC_MODE": "threading",
                "FORECAST_INLINE": False,
                "CLOCK": clock,
                "SECRET_KEY": "screenshots",
            }
        )
        service = app.extensions["queue_board"]
        service.set_config(BRANCH, DEMO_CONFIG.to_dict())
        store = service.store
        tokens = {
            "display": store.create_token("hall screen", "display", BRANCH, None),
            "kiosk": store.create_token("kiosk", "kiosk", BRANCH, None),
            **{
                f"teller{c.name}": store.create_token(f"t{c.name}", "teller", BRANCH, c.name)
                for c in DEMO_CONFIG.counters
            },
        }
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}", tokens
        finally:
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()
            store.close()


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
                        branch.act("3", "pause", {"reason": "Cash delivery to the vault", "minutes": 15})
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
                branch.act("3", "pause", {"reason": "Cash delivery to the vault", "minutes": 15})
    two, four = tellers["2"], tellers["4"]
    if two.phase == "free":
        branch.ticket("deposit")
        branch.act("2", "call-next")
        two.phase = "calling"
    if two.phase == "calling":
        branch.act("2", "start")
    if four.phase == "calling":
        branch.act("4", "start")
        four.phase = "serving"
    if four.phase == "serving":
        branch.act("4", "finish")
    branch.ticket("loan")
    branch.act("4", "call-next")
    for code in ("deposit", "deposit", "remittance"):
        branch.ticket(code)


def shoot(url: str, tokens: dict[str, str], out: Path) -> list[Path]:
    """Open each screen in Chromium and save its PNG."""
    from playwright.sync_api import sync_playwright

    saved: list[Path] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for name, path, token, size in (
                ("hall-board.png", "/board/hall", "display", (1920, 1080)),
                ("hall-board-portrait.png", "/board/hall", "display", (1080, 1920)),
                ("teller-console.png", "/teller/2", "teller2", (1366, 768)),
                ("kiosk.png", "/kiosk", "kiosk", (1920, 1080)),
            ):
                page = browser.new_page(viewport={"width": size[0], "height": size[1]})
                page.goto(f"{url}{path}?token={tokens[token]}")
                page.wait_for_selector("body[data-connection=live]")
                page.wait_for_function("document.body.dataset.seq !== undefined")
                if path == "/board/hall":
                    # ranges come with the first forecast refresh (a `board` push with event null)
                    page.wait_for_function(
                        "[...document.querySelectorAll('.svc-wait-range')].every(e => !e.textContent.includes('Estimating'))"
                    )
                page.wait_for_timeout(300)
                page.screenshot(path=str(out / name))
                saved.append(out / name)
                if path == "/kiosk":
                    page.click("button[data-service=remittance]")
                    page.wait_for_selector("#result:not([hidden])")
                    page.wait_for_timeout(200)
                    page.screenshot(path=str(out / "kiosk-ticket.png"))
                    saved.append(out / "kiosk-ticket.png")
                page.close()
        finally:
            browser.close()
    return saved


def main(argv: list[str] | None = None) -> int:
    """Build the scene, take the screenshots, print where they went."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for the PNGs (default: docs/)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the simulated morning")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    start = datetime.now(ZONE).replace(hour=9, minute=0, second=0, microsecond=0)
    clock = ShiftedClock(start)
    with live_app(clock) as (url, tokens):
        branch = Branch(url, tokens)
        simulate_morning(branch, clock, start, args.seed)
        for path in shoot(url, tokens, args.out):
            print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
