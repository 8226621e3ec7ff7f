"""Command line: ``queue-board serve | demo | replay | evaluate | report | token | user | db | branch | export | import``.

``serve`` and ``demo`` bring the database's schema to head before they serve; the maintenance
commands (:mod:`.maintenance`) are also registered on the Flask app, so ``flask --app queue_board …``
runs them with the app's settings.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO, cast
from urllib.parse import urlsplit

import click

from queue_board.cli.options import APP_FACTORY, database_option, fail, settings
from queue_board.core.branch_config import ConfigError
from simulations.scenarios import SCENARIOS

#: commands imported only when run (or listed in --help): they need the web stack, which
#: ``replay`` and ``evaluate`` do not, and importing it costs about a second at every start
LAZY_COMMANDS = {
    "token": ("queue_board.cli.maintenance", "token"),
    "user": ("queue_board.cli.maintenance", "user"),
    "db": ("queue_board.cli.maintenance", "db"),
    "branch": ("queue_board.cli.maintenance", "branch"),
    "export": ("queue_board.cli.maintenance", "export_command"),
    "import": ("queue_board.cli.maintenance", "import_command"),
    "report": ("queue_board.cli.report", "report_command"),
}


class LazyGroup(click.Group):
    """A group whose :data:`LAZY_COMMANDS` are imported when first asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, the lazy ones included, sorted."""
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command ``cmd_name``, importing its module if it is a lazy one."""
        found = super().get_command(ctx, cmd_name)
        if found is not None or cmd_name not in LAZY_COMMANDS:
            return found
        module_name, attribute = LAZY_COMMANDS[cmd_name]
        command = cast(click.Command, getattr(importlib.import_module(module_name), attribute))
        self.add_command(command, cmd_name)
        return command


@click.group(cls=LazyGroup)
@click.version_option(package_name="queue-board")
@click.pass_context
def cli(context: click.Context) -> None:
    """queue_board: live queue boards with honest wait forecasts."""
    from queue_board import create_app

    # the maintenance commands build their app with it (they cannot import the factory, which imports them)
    context.meta[APP_FACTORY] = create_app


# serve / demo -------------------------------------------------------------------------
@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@database_option
@click.option("--branch-config", type=click.Path(exists=True, dir_okay=False), help="TOML/JSON branch configuration")
@click.option("--message-queue", default=None, help="redis://… to join several server processes")
@click.option("--public-url", default=None, help="the address ticket links and QR codes point at (default: QB_PUBLIC_URL; required)")
def serve(
    host: str, port: int, database_url: str | None, branch_config: str | None, message_queue: str | None, public_url: str | None
) -> None:
    """Bring the schema to head, then run the server (gevent; Socket.IO push)."""
    from queue_board import create_app
    from queue_board.web.database import database
    from queue_board.web.live import live

    overrides = settings(database_url, SOCKETIO_ASYNC_MODE=os.environ.get("QB_SOCKETIO_ASYNC_MODE", "gevent"))
    if branch_config:
        overrides["BRANCH_CONFIG_FILE"] = branch_config
    if message_queue:
        overrides["SOCKETIO_MESSAGE_QUEUE"] = message_queue
    if public_url:
        overrides["PUBLIC_URL"] = public_url
    try:
        app = create_app(overrides)
    except ConfigError as exc:
        fail(f"branch configuration: {exc}")
    problem = public_url_problem(app.config)
    if problem is not None:
        fail(problem)
    database.store(app).upgrade()
    click.echo(f"queue_board serving on http://{host}:{port}  (database: {app.config['DATABASE_URL']})")
    live.serve_forever(app, host, port)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--speed", default=20.0, show_default=True, type=click.FloatRange(1, 600), help="simulated seconds per real second")
@click.option("--seed", default=1, show_default=True, type=int)
@click.option(
    "--database",
    "database_url",
    default="sqlite:///instance/demo.db",
    show_default=True,
    help="recreated at every start; the screens' tokens and the day are kept beside it",
)
@click.option("--human-counter", "human_counters", multiple=True, help="leave this counter to you (repeatable; default: 1)")
@click.option("--simulate-all", is_flag=True, help="the simulation works every counter, none is left to you")
@click.option("--new-tokens", is_flag=True, help="forget the kept tokens, staff passwords and day: screens left open must be opened again, staff sign in anew")
def demo(
    host: str,
    port: int,
    speed: float,
    seed: int,
    database_url: str,
    human_counters: tuple[str, ...],
    simulate_all: bool,
    new_tokens: bool,
) -> None:
    """A simulated branch running live: open the printed links and watch the boards move.

    Counter 1 is left to you (its teller console is among the links) unless you name others with
    --human-counter or give every counter to the simulation with --simulate-all.
    """
    from queue_board.cli.demo import people_counters, run_demo
    from queue_board.core.branch_config import DEMO_CONFIG

    try:
        people = people_counters(human_counters, simulate_all=simulate_all, counters=[c.name for c in DEMO_CONFIG.counters])
    except ValueError as exc:
        fail(str(exc))
    run_demo(
        host=host,
        port=port,
        speed=speed,
        seed=seed,
        database_url=database_url,
        human_counters=people,
        new_tokens=new_tokens,
    )


def public_url_problem(config: Mapping[str, Any]) -> str | None:
    """Why a server with ``config`` may not serve: outside the demo (and tests) ticket links need
    ``PUBLIC_URL``, never the host a request names; ``None`` if it may."""
    url = str(config.get("PUBLIC_URL") or "")
    if not url:
        if config.get("DEMO") or config.get("TESTING"):
            return None
        return (
            "QB_PUBLIC_URL is not set: ticket links and their QR codes need the address customers' phones open, "
            "e.g. QB_PUBLIC_URL=https://queue.bank.example (or --public-url); `queue-board demo` sets its own"
        )
    try:
        parts = urlsplit(url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.query and not parts.fragment
    except ValueError:
        valid = False
    return None if valid else f"QB_PUBLIC_URL {url!r} is not an http(s) address such as https://queue.bank.example"


# replay -------------------------------------------------------------------------------
@cli.command()
@click.argument("events", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, writable=True, allow_dash=True))
@click.option("--all", "all_updates", is_flag=True, help="also write updated waits of every waiting ticket after each event")
@click.option("--scenarios", default=128, show_default=True, type=click.IntRange(16, 10000))
@click.option("--seed", default=20260302, show_default=True, type=int)
@click.option(
    "--prior-from",
    "prior_from",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    metavar="LOG",
    help="a sister branch's log (repeatable): EVENTS' branches start from what these learned "
    "(per-service lengths, pause overrun, patience) instead of fixed priors",
)
def replay(events: str, out_path: str, all_updates: bool, scenarios: int, seed: int, prior_from: tuple[str, ...]) -> None:
    """Replay EVENTS (JSON Lines) through the server's engine; write the predictions CSV."""
    from tqdm import tqdm

    from queue_board.core.projection import Projection
    from queue_board.evaluation.replay import ReplayError, learn_sisters
    from queue_board.evaluation.replay import replay as run_replay
    from queue_board.forecast.durations import Priors
    from queue_board.forecast.pooling import bank_prior

    with click.open_file(events, encoding="utf-8") as src:
        lines = src.readlines()
    priors = Priors()
    if prior_from:
        try:
            sisters = learn_sisters((path, Path(path).read_text(encoding="utf-8").splitlines()) for path in prior_from)
        except ReplayError as exc:
            fail(f"--prior-from: {exc}")
        if not sisters:
            fail(f"--prior-from: {', '.join(prior_from)} hold no events to learn from")
        priors = Priors(bank=bank_prior(sisters))
    progress = tqdm(total=len(lines), unit="ev", desc="replay", disable=None, file=sys.stderr)
    try:
        with click.open_file(out_path, "w", encoding="utf-8") as out:
            stats = run_replay(
                lines,
                cast(TextIO, out),
                all_updates=all_updates,
                projection_factory=lambda: Projection(priors=priors, scenarios=scenarios, seed=seed),
                on_event=lambda _event: _advance(progress),
            )
    except ReplayError as exc:
        progress.close()
        if out_path != "-":
            Path(out_path).unlink(missing_ok=True)
        fail(f"{events}: {exc}")
    progress.close()
    click.echo(
        f"replayed {stats.events} events: {stats.wait_rows} wait rows, {stats.service_rows} service rows"
        + (f", {stats.update_rows} updates" if all_updates else "")
        + f" -> {out_path}",
        err=out_path == "-",
    )


def _advance(progress: Any) -> None:
    progress.update()


@cli.command()
@click.argument("logs", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("--plots", "plots_dir", default=None, type=click.Path(file_okay=False), help="write scatter and calibration plots here")
@click.option(
    "--simulate",
    nargs=3,
    multiple=True,
    type=(click.Choice(sorted(SCENARIOS)), click.IntRange(1, 365), int),
    metavar="SCENARIO DAYS SEED",
    help="also evaluate a simulated log (repeatable), e.g. --simulate demo 10 1",
)
@click.option("--markdown", is_flag=True, help="print Markdown tables (for the README)")
def evaluate(logs: tuple[str, ...], plots_dir: str | None, simulate: tuple[tuple[str, int, int], ...], markdown: bool) -> None:
    """Replay LOGS and score the engine against the classic predictors (and the oracle on simulations)."""
    from queue_board.evaluation.evaluate import run_evaluate
    from queue_board.evaluation.replay import ReplayError

    if not logs and not simulate:
        fail("name at least one LOG.jsonl or --simulate SCENARIO DAYS SEED")
    try:
        click.echo(run_evaluate(list(logs), plots_dir, list(simulate), markdown=markdown), nl=False)
    except ReplayError as exc:
        fail(str(exc))
