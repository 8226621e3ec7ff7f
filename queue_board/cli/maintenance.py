"""The maintenance commands: ``token``, ``user``, ``db``, ``branch``, ``export``, ``import``.

They also run as ``flask --app queue_board …`` with that app's settings (the factory registers
them with :func:`register_app_commands`); as ``queue-board …`` they build an app from
``--database`` or ``QB_DATABASE_URL``. Every one but ``db upgrade`` refuses a database whose
schema is not at head, and says to run ``queue-board db upgrade``.
"""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import click
from flask import Flask, current_app, has_app_context
from flask.cli import ScriptInfo

from queue_board.cli.options import APP_FACTORY, database_option, fail, settings
from queue_board.core.branch_config import ConfigError
from queue_board.core.staff import (
    USER_ROLES,
    display_name_problem,
    normalise_username,
    parse_role,
    password_problem,
    staff_problem,
    unique_branches,
    username_problem,
)
from queue_board.service.config_files import load_config_file
from queue_board.service.errors import ProblemError
from queue_board.store.event_store import UserExists
from queue_board.web.auth import ROLES, validate_grant
from queue_board.web.database import current_store, database
from queue_board.web.service import current_service
from queue_board.web.sockets.revocation import cut_revoked_sockets

AppFactory = Callable[[Mapping[str, Any]], Flask]


def _loaded_app() -> Flask | None:
    """The app the command runs in already (``flask --app``, a test's CLI runner), if any."""
    if has_app_context():
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        return app
    context = click.get_current_context(silent=True)
    script_info = context.find_object(ScriptInfo) if context is not None else None
    return script_info.load_app() if script_info is not None else None


@contextmanager
def command_app(database_url: str | None, *, schema_at_head: bool = True) -> Iterator[Flask]:
    """The app a command works in, its context pushed: the loaded one, or one built for the
    command (closed afterwards). With ``schema_at_head``, refuse a schema that is behind."""
    loaded = _loaded_app()
    if loaded is not None and not database_url:
        with loaded.app_context():
            _check_schema(loaded, schema_at_head)
            yield loaded
        return
    context = click.get_current_context()
    factory: AppFactory | None = context.meta.get(APP_FACTORY) or (loaded.extensions.get(APP_FACTORY) if loaded else None)
    if factory is None:
        raise RuntimeError("no app factory: run through `queue-board` or `flask --app queue_board`")
    app = factory(settings(database_url, FORECAST_INLINE=True))
    try:
        with app.app_context():
            _check_schema(app, schema_at_head)
            yield app
    finally:
        database.store(app).close()


def _check_schema(app: Flask, required: bool) -> None:
    problem = database.schema_problem(app) if required else None
    if problem is not None:
        fail(problem)


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
def token_create(role: str, branch: str | None, counter: str | None, name: str | None, database_url: str | None) -> None:
    """Create a token and print it (it is stored hashed and cannot be shown again)."""
    problem = validate_grant(role, branch, counter)
    if problem:
        fail(problem)
    with command_app(database_url):
        try:
            value = current_store().create_token(name or f"{role}{'-' + counter if counter else ''}", role, branch, counter)
        except ValueError as exc:  # a name or binding that does not fit (event_store.token_problem)
            fail(str(exc))
    click.echo(value)


@token.command("list")
@database_option
def token_list(database_url: str | None) -> None:
    """List tokens (id, role, branch, counter, name; never the token)."""
    with command_app(database_url):
        for row in current_store().list_tokens():
            state = "revoked" if row["revoked_at"] else "live"
            click.echo(f"{row['id']}\t{row['role']}\t{row['branch'] or '*'}\t{row['counter'] or '-'}\t{row['name']}\t{state}")


@token.command("revoke")
@click.argument("token_id", type=int)
@database_option
def token_revoke(token_id: int, database_url: str | None) -> None:
    """Revoke a token by its id (see ``token list``)."""
    with command_app(database_url) as app:
        if not current_store().revoke_token(token_id):
            fail(f"no live token with id {token_id}")
        # a server in this process cuts the token's sockets now; every other process within
        # QB_TOKEN_RECHECK_SECONDS (queue_board.web.sockets.revocation)
        cut_revoked_sockets(app)
    click.echo(f"revoked token {token_id}")


# staff users --------------------------------------------------------------------------
ROLE_HELP = "admin, area_manager (or area-manager), manager (of one branch) or teller"
password_stdin_option = click.option(
    "--password-stdin", is_flag=True, help="read the password from the first line of standard input (scripts)"
)
generate_password_option = click.option(
    "--generate-password", is_flag=True, help="make up a strong password and print it (once)"
)


def generated_password() -> str:
    """A password for someone to be handed: 16 characters from a URL-safe alphabet (96 bits)."""
    return secrets.token_urlsafe(12)


def read_password(password_stdin: bool, generate: bool) -> tuple[str, bool]:
    """The new password, and whether it was generated (then the command prints it): from
    standard input, generated, or typed twice at a hidden prompt. Fails if it breaks the policy."""
    if password_stdin and generate:
        fail("give --password-stdin or --generate-password, not both")
    if generate:
        return generated_password(), True
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")
    problem = password_problem(password)
    if problem:
        fail(f"{problem}; nothing was changed")
    return password, False


@click.group()
def user() -> None:
    """Staff accounts: managers and tellers who sign in to the browser (devices use tokens)."""


@user.command("create")
@click.option("--username", prompt="User name", help="what they sign in with: a-z, 0-9, '.', '_', '-' (stored lower-cased); asked for when left out")
@click.option("--role", "role_name", required=True, help=ROLE_HELP)
@click.option("--branch", "branches", multiple=True, help="their branch; repeat for an area manager's branches; none for an admin")
@click.option("--counter", default=None, help="a teller's counter (else they pick one when they sign in)")
@click.option("--display-name", default=None, help="the name the pages greet them with (default: the user name)")
@password_stdin_option
@generate_password_option
@database_option
def user_create(
    username: str,
    role_name: str,
    branches: tuple[str, ...],
    counter: str | None,
    display_name: str | None,
    password_stdin: bool,
    generate_password: bool,
    database_url: str | None,
) -> None:
    """Create a staff user; asks for the password twice unless it comes from standard input or is generated."""
    role = parse_role(role_name)
    if role is None:
        fail(f"unknown role {role_name!r}; expected one of {', '.join(USER_ROLES)} (area-manager works too)")
    name = normalise_username(username)
    named = unique_branches(branches)
    problem = username_problem(name) or staff_problem(role, named, counter)
    if display_name is not None:
        problem = problem or display_name_problem(display_name)
    if problem:
        fail(f"{problem}; nothing was created")
    with command_app(database_url):
        store = current_store()
        if store.find_user(name) is not None:
            fail(f"there is a user {name!r} already; nothing was created")
        if counter is not None:
            configured = [c.name for c in current_service().config(named[0]).counters]
            if configured and counter not in configured:
                fail(f"branch {named[0]} has no counter {counter!r} (it has {', '.join(configured)}); nothing was created")
        password, generated = read_password(password_stdin, generate_password)
        try:
            created = store.create_user(name, password, role, named, counter, display_name)
        except UserExists as exc:
            fail(f"{exc}; nothing was created")
    where = f" at {', '.join(created.branches)}" if created.branches else " (every branch)"
    click.echo(f"created {created.role} {created.username}{where}{f', counter {counter}' if counter else ''}")
    if generated:
        click.echo(f"password: {password}  (shown only now)")


@user.command("list")
@database_option
def user_list(database_url: str | None) -> None:
    """List staff users (id, user name, role, branches, counter, name, state, last sign-in; never a password)."""
    with command_app(database_url):
        for row in current_store().list_users():
            state = "disabled" if row.disabled else "live"
            branches = ",".join(row.branches) or "*"
            click.echo(
                f"{row.id}\t{row.username}\t{row.role}\t{branches}\t{row.counter or '-'}\t{row.display_name}"
                f"\t{state}\t{row.last_sign_in_at or 'never signed in'}"
            )


@user.command("disable")
@click.argument("username")
@database_option
def user_disable(username: str, database_url: str | None) -> None:
    """Disable USERNAME: they can no longer sign in, and their open sessions end now."""
    name = normalise_username(username)
    with command_app(database_url):
        store = current_store()
        found = store.find_user(name)
        if found is None:
            fail(f"no user {name!r}")
        if found.disabled:
            fail(f"user {name!r} is disabled already")
        store.disable_user(name)
    click.echo(f"disabled {name}: signed out everywhere")


@user.command("set-password")
@click.argument("username")
@password_stdin_option
@generate_password_option
@database_option
def user_set_password(username: str, password_stdin: bool, generate_password: bool, database_url: str | None) -> None:
    """Give USERNAME a new password; it signs them out everywhere."""
    name = normalise_username(username)
    with command_app(database_url):
        store = current_store()
        if store.find_user(name) is None:
            fail(f"no user {name!r}")
        password, generated = read_password(password_stdin, generate_password)
        store.set_password(name, password)
    click.echo(f"new password set for {name}: their sessions have ended")
    if generated:
        click.echo(f"password: {password}  (shown only now)")


# database and branches ------------------------------------------------------------------
@click.group()
def db() -> None:
    """The event store's schema."""


@db.command("upgrade")
@database_option
def db_upgrade(database_url: str | None) -> None:
    """Create or migrate the schema to the newest revision (Alembic)."""
    with command_app(database_url, schema_at_head=False):
        store = current_store()
        store.upgrade()
        click.echo(f"schema up to date: {store.url}")


@click.group()
def branch() -> None:
    """Branch configuration."""


@branch.command("load-config")
@click.argument("branch_id")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@database_option
def branch_load_config(branch_id: str, path: str, database_url: str | None) -> None:
    """Set BRANCH_ID's services and counters from a TOML or JSON file."""
    try:
        parsed = load_config_file(path)
    except ConfigError as exc:
        fail(f"{path}: {exc}")
    with command_app(database_url):
        current_service().set_config(branch_id, parsed.to_dict())
    click.echo(f"branch {branch_id}: {len(parsed.services)} services, {len(parsed.counters)} counters")


@branch.command("show-config")
@click.argument("branch_id")
@database_option
def branch_show_config(branch_id: str, database_url: str | None) -> None:
    """Print BRANCH_ID's configuration as JSON."""
    with command_app(database_url):
        click.echo(json.dumps(current_service().config(branch_id).to_dict(), ensure_ascii=False, indent=2))


@branch.command("adopt-prior")
@click.argument("branch_id")
@click.option(
    "--from", "sisters", multiple=True, metavar="SISTER",
    help="a sister branch to learn from (repeatable; default: every other branch in the store)",
)
@database_option
def branch_adopt_prior(branch_id: str, sisters: tuple[str, ...], database_url: str | None) -> None:
    """Start BRANCH_ID's forecast from what its sister branches learned, pinned in its log.

    Per-service transaction lengths, pause overrun and patience are pooled from the sisters
    (partial pooling) and stored as one bank_prior_adopted event: every server process, restart
    and replay of the branch's log then starts from the same prior. Only what the branch has not
    learned yet takes it.
    """
    with command_app(database_url):
        try:
            accepted, prior = current_service().adopt_bank_prior(branch_id, list(sisters) or None, actor="cli:adopt-prior")
        except ProblemError as exc:
            fail(f"branch {branch_id}: {exc.message}")
    record = accepted.event.prior
    assert record is not None
    parts = [f"{len(prior.services)} services ({', '.join(sorted(prior.services)) or 'none'})"]
    if prior.pause_overrun is not None:
        parts.append("pause overrun")
    if prior.patience is not None:
        parts.append("patience")
    click.echo(f"branch {branch_id}: adopted a prior from {len(record.sisters)} sister branches, seq {accepted.seq}: " + ", ".join(parts))


@click.command("export")
@click.argument("branch_id")
@click.option("--out", "out_path", default="-", type=click.Path(dir_okay=False, writable=True, allow_dash=True))
@database_option
def export_command(branch_id: str, out_path: str, database_url: str | None) -> None:
    """Write BRANCH_ID's event log as JSON Lines (the spec's format)."""
    with command_app(database_url):
        service = current_service()
        if not service.branch_exists(branch_id):
            fail(f"no branch {branch_id!r}")
        with click.open_file(out_path, "w", encoding="utf-8") as out:
            for line in service.export_lines(branch_id):
                out.write(line)


@click.command("import")
@click.argument("branch_id")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@database_option
def import_command(branch_id: str, path: str, database_url: str | None) -> None:
    """Append a JSON Lines log to BRANCH_ID (all lines checked before any is stored)."""
    with click.open_file(path, encoding="utf-8") as src:
        lines = src.readlines()
    with command_app(database_url):
        try:
            # the import creates the branch in its own transaction: a refused log leaves none
            count = current_service().import_log(branch_id, lines, actor="cli:import")
        except ProblemError as exc:
            fail(f"{path}: {exc.message}; nothing was imported")
    click.echo(f"imported {count} events into branch {branch_id}")


MAINTENANCE = (token, user, db, branch, export_command, import_command)


def register_app_commands(app: Flask, factory: AppFactory) -> None:
    """Make the maintenance commands available as ``flask --app queue_board …``; ``factory``
    builds the app of a command given ``--database``."""
    app.extensions[APP_FACTORY] = factory
    for command in MAINTENANCE:
        app.cli.add_command(command)
