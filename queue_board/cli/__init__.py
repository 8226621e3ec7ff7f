"""Command line: ``queue-board serve | demo | replay | token | db | branch | export | import``.

The maintenance groups (``token``, ``db``, ``branch``, ``export``, ``import``) are also
registered on the Flask app, so ``flask --app queue_board …`` runs them with the app's
settings; run standalone they build the app from ``--database`` or ``QB_DATABASE_URL``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO, cast

import click
from flask import Flask, current_app, has_app_context
from flask.cli import ScriptInfo

from queue_board.core.branch_config import ConfigError, load_config_file
from queue_board.service.branch_service import BranchService
from queue_board.service.errors import ProblemError
from queue_board.web.auth import ROLES, validate_grant
from simulations.scenarios import SCENARIOS

DATABASE_HELP = "SQLAlchemy URL of the event store (default: QB_DATABASE_URL or sqlite:///instance/queue_board.db)"


def _settings(database: str | None, **extra: Any) -> dict[str, Any]:
    settings: dict[str, Any] = dict(extra)
    if database:
        settings["DATABASE_URL"] = database
    return settings


@contextmanager
def _service(database: str | None) -> Iterator[BranchService]:
    """The branch service of the current app, or of an app built for this command."""
    if has_app_context() and not database:
        yield current_app.extensions["queue_board"]
        return
    context = click.get_current_context(silent=True)
    script_info = context.find_object(ScriptInfo) if context is not None else None
    if script_info is not None and not database:
        # run as ``flask --app queue_board …``: use that app and its settings
        flask_app = script_info.load_app()
        with flask_app.app_context():
            yield flask_app.extensions["queue_board"]
        return
    from queue_board import create_app

    app = create_app(_settings(database, FORECAST_INLINE=True))
    try:
        with app.app_context():
            yield app.extensions["queue_board"]
    finally:
        app.extensions["queue_board"].store.close()


def _fail(message: str) -> None:
    raise click.ClickException(message)


database_option = click.option("--database", "database", default=None, help=DATABASE_HELP)


@click.group()
@click.version_option(package_name="queue-board")
def cli() -> None:
    """queue_board: live queue boards with honest wait forecasts."""


# serve / demo -------------------------------------------------------------------------
@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@database_option
@click.option("--branch-config", type=click.Path(exists=True, dir_okay=False), help="TOML/JSON branch configuration")
@click.option("--message-queue", default=None, help="redis://… to join several server processes")
def serve(host: str, port: int, database: str | None, branch_config: str | None, message_queue: str | None) -> None:
    """Run the server (gevent; Socket.IO push)."""
    from queue_board import create_app
    from queue_board.web.extensions import serve_forever

    settings = _settings(database, SOCKETIO_ASYNC_MODE=os.environ.get("QB_SOCKETIO_ASYNC_MODE", "gevent"))
    if branch_config:
        settings["BRANCH_CONFIG_FILE"] = branch_config
    if message_queue:
        settings["SOCKETIO_MESSAGE_QUEUE"] = message_queue
    try:
        app = create_app(settings)
    except ConfigError as exc:
        _fail(f"branch configuration: {exc}")
    click.echo(f"queue_board serving on http://{host}:{port}  (database: {app.config['DATABASE_URL']})")
    serve_forever(app, host, port)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--speed", default=20.0, show_default=True, type=click.FloatRange(1, 600), help="simulated seconds per real second")
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--database", default="sqlite:///instance/demo.db", show_default=True, help="recreated at every start")
@click.option("--human-counter", "human_counters", multiple=True, help="leave this counter to you (repeatable)")
def demo(host: str, port: int, speed: float, seed: int, database: str, human_counters: tuple[str, ...]) -> None:
    """A simulated branch running live: open the printed links and watch the boards move."""
    from queue_board.cli.demo import run_demo

    run_demo(host=host, port=port, speed=speed, seed=seed, database=database, human_counters=human_counters)


# replay -------------------------------------------------------------------------------
@cli.command()
@click.argument("events", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, writable=True, allow_dash=True))
@click.option("--all", "all_updates", is_flag=True, help="also write updated waits of every waiting ticket after each event")
@click.option("--scenarios", default=128, show_default=True, type=click.IntRange(16, 10000))
@click.option("--seed", default=20260302, show_default=True, type=int)
def replay(events: str, out_path: str, all_updates: bool, scenarios: int, seed: int) -> None:
    """Replay EVENTS (JSON Lines) through the server's engine; write the predictions CSV."""
    from tqdm import tqdm

    from queue_board.core.projection import Projection
    from queue_board.evaluation.replay import ReplayError
    from queue_board.evaluation.replay import replay as run_replay

    with click.open_file(events, encoding="utf-8") as src:
        lines = src.readlines()
    progress = tqdm(total=len(lines), unit="ev", desc="replay", disable=None, file=sys.stderr)
    try:
        with click.open_file(out_path, "w", encoding="utf-8") as out:
            stats = run_replay(
                lines,
                cast(TextIO, out),
                all_updates=all_updates,
                projection_factory=lambda: Projection(scenarios=scenarios, seed=seed),
                on_event=lambda _event: _advance(progress),
            )
    except ReplayError as exc:
        progress.close()
        if out_path != "-":
            Path(out_path).unlink(missing_ok=True)
        _fail(f"{events}: {exc}")
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
        _fail("name at least one LOG.jsonl or --simulate SCENARIO DAYS SEED")
    try:
        click.echo(run_evaluate(list(logs), plots_dir, list(simulate), markdown=markdown), nl=False)
    except ReplayError as exc:
        _fail(str(exc))


# tokens -------------------------------------------------------------------------------
@click.group()
def token() -> None:
    """Bearer tokens for tellers, kiosks, displays, managers and admins."""


@token.command("create")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--branch", default=None, help="the branch the token is for (all but admin)")
@click.option("--counter", default=None, help="the counter a teller (or counter display) is bound to")
@click.option("--name", default=None, help="who or what holds it, e.g. 'kiosk by the door'")
@database_option
def token_create(role: str, branch: str | None, counter: str | None, name: str | None, database: str | None) -> None:
    """Create a token and print it (it is stored hashed and cannot be shown again)."""
    problem = validate_grant(role, branch, counter)
    if problem:
        _fail(problem)
    with _service(database) as service:
        value = service.store.create_token(name or f"{role}{'-' + counter if counter else ''}", role, branch, counter)
    click.echo(value)


@token.command("list")
@database_option
def token_list(database: str | None) -> None:
    """List tokens (id, role, branch, counter, name; never the token)."""
    with _service(database) as service:
        for row in service.store.list_tokens():
            state = "revoked" if row["revoked_at"] else "live"
            click.echo(f"{row['id']}\t{row['role']}\t{row['branch'] or '*'}\t{row['counter'] or '-'}\t{row['name']}\t{state}")


@token.command("revoke")
@click.argument("token_id", type=int)
@database_option
def token_revoke(token_id: int, database: str | None) -> None:
    """Revoke a token by its id (see ``token list``)."""
    with _service(database) as service:
        if not service.store.revoke_token(token_id):
            _fail(f"no live token with id {token_id}")
    click.echo(f"revoked token {token_id}")


# database and branches ------------------------------------------------------------------
@click.group()
def db() -> None:
    """The event store's schema."""


@db.command("upgrade")
@database_option
def db_upgrade(database: str | None) -> None:
    """Create or migrate the schema to the newest revision (Alembic)."""
    with _service(database) as service:
        service.store.upgrade()
        click.echo(f"schema up to date: {service.store.url}")


@click.group()
def branch() -> None:
    """Branch configuration."""


@branch.command("load-config")
@click.argument("branch_id")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@database_option
def branch_load_config(branch_id: str, path: str, database: str | None) -> None:
    """Set BRANCH_ID's services and counters from a TOML or JSON file."""
    try:
        parsed = load_config_file(path)
    except ConfigError as exc:
        _fail(f"{path}: {exc}")
    with _service(database) as service:
        service.set_config(branch_id, parsed.to_dict())
    click.echo(f"branch {branch_id}: {len(parsed.services)} services, {len(parsed.counters)} counters")


@branch.command("show-config")
@click.argument("branch_id")
@database_option
def branch_show_config(branch_id: str, database: str | None) -> None:
    """Print BRANCH_ID's configuration as JSON."""
    with _service(database) as service:
        click.echo(json.dumps(service.config(branch_id).to_dict(), ensure_ascii=False, indent=2))


@click.command("export")
@click.argument("branch_id")
@click.option("--out", "out_path", default="-", type=click.Path(dir_okay=False, writable=True, allow_dash=True))
@database_option
def export_command(branch_id: str, out_path: str, database: str | None) -> None:
    """Write BRANCH_ID's event log as JSON Lines (the spec's format)."""
    with _service(database) as service:
        if not service.branch_exists(branch_id):
            _fail(f"no branch {branch_id!r}")
        with click.open_file(out_path, "w", encoding="utf-8") as out:
            for line in service.export_lines(branch_id):
                out.write(line)


@click.command("import")
@click.argument("branch_id")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@database_option
def import_command(branch_id: str, path: str, database: str | None) -> None:
    """Append a JSON Lines log to BRANCH_ID (all lines checked before any is stored)."""
    with click.open_file(path, encoding="utf-8") as src:
        lines = src.readlines()
    with _service(database) as service:
        service.store.ensure_branch(branch_id)
        try:
            count = service.import_log(branch_id, lines, actor="cli:import")
        except ProblemError as exc:
            _fail(f"{path}: {exc.message}; nothing was imported")
    click.echo(f"imported {count} events into branch {branch_id}")


MAINTENANCE = (token, db, branch, export_command, import_command)
for _command in MAINTENANCE:
    cli.add_command(_command)


def register_app_commands(app: Flask) -> None:
    """Make the maintenance commands available as ``flask --app queue_board …``."""
    for command in MAINTENANCE:
        app.cli.add_command(command)

