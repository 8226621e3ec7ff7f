"""What every command shares, kept free of the web stack: ``replay`` and ``evaluate`` import
only this and the core, so they start in a fraction of the second the maintenance commands'
imports (Flask, SQLAlchemy, Socket.IO) take."""

from __future__ import annotations

from typing import Any, NoReturn

import click

DATABASE_HELP = "SQLAlchemy URL of the event store (default: QB_DATABASE_URL or sqlite:///instance/queue_board.db)"
#: where a command finds the app factory: ``queue-board``'s group puts it in the click context,
#: an app built by it keeps it in its extensions (for ``flask --app queue_board … --database``)
APP_FACTORY = "queue_board.create_app"

database_option = click.option("--database", "database_url", default=None, help=DATABASE_HELP)


def settings(database_url: str | None, **extra: Any) -> dict[str, Any]:
    """App settings for a command: ``extra``, and the database if one was named."""
    out: dict[str, Any] = dict(extra)
    if database_url:
        out["DATABASE_URL"] = database_url
    return out


def fail(message: str) -> NoReturn:
    """Stop the command with ``message`` (exit status 1)."""
    raise click.ClickException(message)
