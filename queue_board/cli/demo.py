"""``queue-board demo``: the real server plus a simulated branch feeding it in accelerated time.

The simulated customers and tellers (``simulations.branch_sim.BranchAgent``) act through
the same :class:`~queue_board.service.branch_service.BranchService` as the HTTP API, against the
live state, so a person clicking in a teller console simply becomes one more actor.
"""

from __future__ import annotations

import logging
from datetime import datetime, time
from pathlib import Path
from typing import Any

import click
import numpy as np
from sqlalchemy.engine import make_url

from queue_board.core.branch_config import DEMO_CONFIG
from queue_board.service.branch_service import BranchService
from queue_board.service.clock import AcceleratedClock, SystemClock
from queue_board.service.errors import ProblemError

log = logging.getLogger(__name__)

DEMO_BRANCH = "main"
#: real seconds between two looks of the simulated branch at the live state
TICK = 0.1
MAX_BATCHES_PER_LOOK = 20


def demo_start(now: datetime) -> datetime:
    """Where the demo clock starts: today, five minutes before the branch opens at 09:00."""
    return datetime.combine(now.date(), time(8, 55), tzinfo=now.tzinfo)


def drive(service: BranchService, agent: Any, clock: SystemClock, branch: str, sleep: Any, *, max_ticks: int | None = None) -> None:
    """Let the agent act on the live branch forever (or ``max_ticks`` looks)."""
    ticks = 0
    while max_ticks is None or ticks < max_ticks:
        ticks += 1
        try:
            now = clock.now()
            # the agent returns one batch at a time; everything due now may take several
            for _ in range(MAX_BATCHES_PER_LOOK):
                batch = agent.actions(now, service.projection(branch).state)
                if not batch:
                    break
                for fields in batch:
                    try:
                        service.submit(branch, fields, actor="demo:simulation")
                    except ProblemError as exc:
                        # a person at a console got there first; the agent re-plans on its next look
                        log.info("simulation action %s not applied: %s", fields.get("type"), exc.message)
        except Exception:  # keep the demo alive whatever one look does; the log says what broke
            log.exception("demo simulation step failed")
        sleep(TICK)


def run_demo(*, host: str, port: int, speed: float, seed: int, database_url: str, human_counters: tuple[str, ...]) -> None:
    """Start a fresh demo database at head, print the screens' links, run server and simulation."""
    from queue_board import create_app
    from queue_board.web.database import database
    from queue_board.web.live import live
    from queue_board.web.service import service_of
    from simulations.branch_sim import BranchAgent
    from simulations.scenarios import demo_branch

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        for suffix in ("", "-wal", "-shm"):
            Path(url.database + suffix).unlink(missing_ok=True)

    wall = datetime.now().astimezone()
    clock = AcceleratedClock(demo_start(wall), speed)
    app = create_app(
        {"DATABASE_URL": database_url, "SOCKETIO_ASYNC_MODE": "gevent", "DEMO": True, "CLOCK": clock}
    )
    store = database.store(app)
    store.upgrade()
    service = service_of(app)
    service.set_config(DEMO_BRANCH, DEMO_CONFIG.to_dict())
    base = f"http://{host}:{port}"
    display = store.create_token("hall board", "display", DEMO_BRANCH, None)
    kiosk = store.create_token("kiosk", "kiosk", DEMO_BRANCH, None)
    manager = store.create_token("manager", "manager", DEMO_BRANCH, None)
    # "label" is for the console; the index page words each link in its reader's language from "screen"
    links = [
        {"screen": "hall", "counter": "", "label": "Hall board", "url": f"{base}/board/hall?token={display}"},
        {"screen": "kiosk", "counter": "", "label": "Kiosk", "url": f"{base}/kiosk?token={kiosk}"},
    ]
    # per counter: its teller console, then the board above it (a display token bound to it)
    for screen, role, path, token_name, label in (
        ("teller", "teller", "teller", "teller {}", "Teller console, counter {}"),
        ("counter", "display", "board/counter", "board above counter {}", "Board above counter {}"),
    ):
        for counter in DEMO_CONFIG.counters:
            token = store.create_token(token_name.format(counter.name), role, DEMO_BRANCH, counter.name)
            links.append(
                {
                    "screen": screen,
                    "counter": counter.name,
                    "label": label.format(counter.name),
                    "url": f"{base}/{path}/{counter.name}?token={token}",
                }
            )
    app.config["DEMO_LINKS"] = links

    managed = [c.name for c in DEMO_CONFIG.counters if c.name not in human_counters]
    agent = BranchAgent(demo_branch(), np.random.default_rng(seed), manage_counters=managed)
    socketio = live.server(app)
    socketio.start_background_task(drive, service, agent, clock, DEMO_BRANCH, socketio.sleep)

    click.echo(f"queue_board demo: a simulated branch at {speed:g}x speed (day starts 08:55, opens 09:00)")
    click.echo(f"  open {base}/  — or directly:")
    for link in links:
        click.echo(f"  {link['label']:<28} {link['url']}")
    click.echo(f"  manager API token: {manager}")
    click.echo("  Ctrl-C stops the demo.")
    live.serve_forever(app, host, port)
