"""``queue-board demo``: the real server plus a simulated branch feeding it in accelerated time.

The simulated customers and tellers (``simulations.branch_sim.BranchAgent``) act through
the same :class:`~queue_board.service.branch_service.BranchService` as the HTTP API, against the
live state, so a person clicking in a teller console simply becomes one more actor. Counter 1 is
left to that person by default (``--human-counter`` names others, ``--simulate-all`` none); the
simulation works the others, which serve its customers too.

The database is recreated at every start, but the screens' tokens and the demo's day are kept
beside it (:class:`DemoKeeper`), so screens left open reconnect to a restarted demo. People sign
in: a branch manager ``manager`` and, for each counter left to a person, a teller ``teller<n>``
assigned to it, with passwords made up once and kept there too.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import click
import numpy as np
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from queue_board.config import ROOT
from queue_board.core.branch_config import DEMO_CONFIG
from queue_board.core.staff import MIN_PASSWORD_LENGTH
from queue_board.service.branch_service import BranchService
from queue_board.service.clock import AcceleratedClock, SystemClock
from queue_board.service.errors import ProblemError
from queue_board.store.event_store import EventStore, hash_token, verify_password
from queue_board.store.event_store import tokens as token_table

log = logging.getLogger(__name__)

DEMO_BRANCH = "main"
#: real seconds between two looks of the simulated branch at the live state
TICK = 0.1
MAX_BATCHES_PER_LOOK = 20
#: the counter a person plays unless they name others (``--human-counter``)
DEFAULT_HUMAN_COUNTER = "1"
#: a restart this soon after the last start keeps the demo's day (its tokens are kept regardless)
KEEP_DAY_FOR = timedelta(hours=12)
#: the demo's branch manager (a teller per counter left to a person is ``teller<counter>``)
DEMO_MANAGER = "manager"
#: listening on every address: the demo's own address is whichever one a browser used
WILDCARD_HOSTS = ("0.0.0.0", "::", "")


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


def people_counters(human_counters: tuple[str, ...], *, simulate_all: bool, counters: list[str]) -> tuple[str, ...]:
    """The counters left to people, in the configuration's order: those named, else counter 1
    (``DEFAULT_HUMAN_COUNTER``); none with ``simulate_all``. A ``ValueError`` names what is wrong."""
    if simulate_all and human_counters:
        raise ValueError("--simulate-all leaves no counter to you: drop --human-counter, or --simulate-all")
    if simulate_all:
        return ()
    chosen = set(human_counters or (DEFAULT_HUMAN_COUNTER,))
    unknown = sorted(chosen - set(counters))
    if unknown:
        raise ValueError(f"no counter {', '.join(unknown)} in the demo branch (it has {', '.join(counters)})")
    return tuple(name for name in counters if name in chosen)


@dataclass
class DemoKeeper:
    """What a restarted demo keeps, in a JSON file: its tokens, so that screens left open
    reconnect, its staff users' passwords, so that the ones printed last time still work, and its
    day, so that a restart later the same day resumes the same date.

    The database itself is recreated at every start; the tokens and users are written into the
    new one with the values they had (only their hashes are stored there).
    """

    path: Path
    tokens: dict[str, str] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)
    day: date | None = None

    @classmethod
    def load(cls, path: Path, *, now: datetime, forget: bool = False) -> DemoKeeper:
        """The kept file, or a new keeper if there is none (or it is unreadable, or ``forget``).

        The day is kept only if the demo last started within ``KEEP_DAY_FOR``: a newcomer who comes
        back next week gets that week's date, someone who restarts it at 00:10 the date they had.
        """
        keeper = cls(path)
        if forget or not path.is_file():
            return keeper
        try:
            kept = json.loads(path.read_text(encoding="utf-8"))
            tokens = kept.get("tokens", {})
            if isinstance(tokens, dict):
                keeper.tokens = {str(k): str(v) for k, v in tokens.items() if isinstance(v, str) and len(v) >= 24}
            passwords = kept.get("passwords", {})
            if isinstance(passwords, dict):
                keeper.passwords = {
                    str(k): v for k, v in passwords.items() if isinstance(v, str) and len(v) >= MIN_PASSWORD_LENGTH
                }
            started = datetime.fromisoformat(kept["started_at"])
            if timedelta(0) <= now - started <= KEEP_DAY_FOR:
                keeper.day = date.fromisoformat(kept["day"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            log.warning("demo: %s is unreadable; starting with new tokens", path)
        return keeper

    def token(self, store: EventStore, key: str, name: str, role: str, counter: str | None) -> str:
        """The kept token ``key`` of the demo branch, written into ``store`` (a new one the first time)."""
        value = self.tokens.get(key)
        if value is None:
            value = self.tokens[key] = store.create_token(name, role, DEMO_BRANCH, counter)
        elif store.find_token(value) is None:
            _restore_token(store, value, name, role, counter)
        return value

    def user(
        self, store: EventStore, username: str, role: str, counter: str | None = None, display_name: str | None = None
    ) -> str:
        """The kept password of demo user ``username`` (made up the first time), the user written
        into ``store`` with it (or given it, if the database was not recreated)."""
        password = self.passwords.get(username)
        if password is None:
            # letters and digits only: easy to read off the console and type
            password = self.passwords[username] = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(12))
        existing = store.find_user(username)
        if existing is None:
            store.create_user(username, password, role, [DEMO_BRANCH], counter, display_name)
        elif not verify_password(existing.password_hash, password):
            store.set_password(username, password)
        return password

    def save(self, started_at: datetime) -> None:
        """Write the file (readable by its owner only: the tokens and passwords are credentials)."""
        assert self.day is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = {
            "day": self.day.isoformat(),
            "started_at": started_at.isoformat(),
            "tokens": self.tokens,
            "passwords": self.passwords,
        }
        partial = self.path.with_name(self.path.name + ".tmp")
        partial.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
        partial.chmod(0o600)
        partial.replace(self.path)


#: the demo's passwords: no look-alikes (0/O, 1/l/I)
PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _restore_token(store: EventStore, value: str, name: str, role: str, counter: str | None) -> None:
    """Store a token the demo handed out before, under the same value (the store keeps its hash)."""
    store.ensure_branch(DEMO_BRANCH)
    with store.engine.begin() as conn:
        conn.execute(
            insert(token_table).values(
                name=name,
                role=role,
                branch=DEMO_BRANCH,
                counter=counter,
                token_hash=hash_token(value),
                created_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
            )
        )


def keeper_path(database_url: str) -> Path:
    """Where the demo keeps its tokens: beside its SQLite file, else in the instance folder."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        database = Path(url.database)
        return database.with_name(f"{database.stem}-screens.json")
    return ROOT / "instance" / "demo-screens.json"


def run_demo(
    *,
    host: str,
    port: int,
    speed: float,
    seed: int,
    database_url: str,
    human_counters: tuple[str, ...],
    new_tokens: bool = False,
) -> None:
    """Start a fresh demo database at head with the kept tokens, passwords and day, print the
    screens' links and how to sign in, run server and simulation; ``human_counters`` are left to people."""
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
    keeper = DemoKeeper.load(keeper_path(database_url), now=wall, forget=new_tokens)
    keeper.day = keeper.day or wall.date()
    clock = AcceleratedClock(demo_start(datetime.combine(keeper.day, time(), tzinfo=wall.tzinfo)), speed)
    # ticket links are signed with a key of this start: the new database numbers its tickets from
    # A001 again, so a customer's page from before a restart must not show another customer's ticket
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SOCKETIO_ASYNC_MODE": "gevent",
            "DEMO": True,
            "CLOCK": clock,
            "SECRET_KEY": secrets.token_hex(32),
        }
    )
    store = database.store(app)
    store.upgrade()
    service = service_of(app)
    service.set_config(DEMO_BRANCH, DEMO_CONFIG.to_dict())
    base = f"http://{host}:{port}"
    if not app.config["PUBLIC_URL"] and host not in WILDCARD_HOSTS:
        # the printed tickets' QR codes point at the demo's own address (QB_PUBLIC_URL wins, e.g. a
        # laptop's address on the LAN); on a wildcard address the demo takes each request's host
        app.config["PUBLIC_URL"] = base
    display = keeper.token(store, "display", "hall board", "display", None)
    kiosk = keeper.token(store, "kiosk", "kiosk", "kiosk", None)
    manager = keeper.token(store, "manager", "manager", "manager", None)
    # people sign in: the branch manager, and a teller assigned to each counter left to a person
    accounts: list[dict[str, Any]] = [
        {"username": DEMO_MANAGER, "password": keeper.user(store, DEMO_MANAGER, "manager", None, "Demo manager"), "counter": ""}
    ]
    for counter_name in human_counters:
        username = f"teller{counter_name}"
        password = keeper.user(store, username, "teller", counter_name, f"Teller at counter {counter_name}")
        accounts.append({"username": username, "password": password, "counter": counter_name})
    # "label" is for the console; the index page words each link in its reader's language from "screen"
    links: list[dict[str, Any]] = [
        {"screen": "hall", "counter": "", "label": "Hall board", "url": f"{base}/board/hall?token={display}"},
        {"screen": "kiosk", "counter": "", "label": "Kiosk", "url": f"{base}/kiosk?token={kiosk}"},
    ]
    # per counter: its teller console (no token: a teller signs in), then the board above it
    # (a display token bound to it: a wall screen does not sign in)
    for counter in DEMO_CONFIG.counters:
        links.append(
            {
                "screen": "teller",
                "counter": counter.name,
                "label": f"Teller console, counter {counter.name}",
                "url": f"{base}/teller/{counter.name}",
                "yours": counter.name in human_counters,
            }
        )
    for counter in DEMO_CONFIG.counters:
        token = keeper.token(store, f"counter {counter.name}", f"board above counter {counter.name}", "display", counter.name)
        links.append(
            {
                "screen": "counter",
                "counter": counter.name,
                "label": f"Board above counter {counter.name}",
                "url": f"{base}/board/counter/{counter.name}?token={token}",
                "yours": False,
            }
        )
    keeper.save(wall)
    app.config["DEMO_LINKS"] = links
    app.config["DEMO_ACCOUNTS"] = accounts
    app.config["DEMO_HUMAN_COUNTERS"] = list(human_counters)

    managed = [c.name for c in DEMO_CONFIG.counters if c.name not in human_counters]
    agent = BranchAgent(demo_branch(), np.random.default_rng(seed), manage_counters=managed)
    socketio = live.server(app)
    socketio.start_background_task(drive, service, agent, clock, DEMO_BRANCH, socketio.sleep)

    click.echo(
        f"queue_board demo: a simulated branch at {speed:g}x speed ({keeper.day.isoformat()}: the day starts 08:55, opens 09:00)"
    )
    click.echo(f"  open {base}/  — or directly:")
    for link in links:
        click.echo(f"  {link['label']:<28} {link['url']}")
    click.echo(f"  manager API token: {manager}")
    login = f"{base}/login"
    click.echo(f"  Manager sign-in: {login}  user {DEMO_MANAGER}  password {accounts[0]['password']}")
    tellers = [account for account in accounts if account["counter"]]
    if len(tellers) == 1:
        (mine,) = tellers
        click.echo(
            f"You play counter {mine['counter']}: sign in at {login} as {mine['username']} / password {mine['password']}"
            " (that opens its teller console) and call the next customer;"
            " the simulation works the other counters and plays the customers."
        )
    elif tellers:
        click.echo(
            f"You play counters {', '.join(t['counter'] for t in tellers)}: sign in at {login} as "
            + ", ".join(f"{t['username']} / password {t['password']}" for t in tellers)
            + " (one browser profile each); the simulation works the others."
        )
    else:
        click.echo("The simulation works every counter (--simulate-all); --human-counter 1 leaves one to you.")
    click.echo(
        f"  Screens left open reconnect after a restart: the tokens and passwords are kept in {keeper.path}"
        " (--new-tokens for new ones); people sign in again after a restart."
    )
    click.echo("  Ctrl-C stops the demo.")
    live.serve_forever(app, host, port)
