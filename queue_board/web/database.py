"""The event store as a Flask extension: one :class:`EventStore` per app, one way in.

The factory binds it with ``database.init_app(app)``; views reach it with :func:`current_store`.
Binding never migrates: the schema moves only by ``queue-board db upgrade`` (and at the start of
``serve`` and ``demo``). Until the database is at Alembic's head every request is answered 503
with what to run, instead of failing later with "no such table".
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, Response, current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError

from queue_board.store.event_store import EventStore

EXTENSION = "queue_board.store"
UPGRADE_HINT = "run queue-board db upgrade"


@dataclass(slots=True)
class _Binding:
    """An app's store, and whether its schema has been seen at head (it never moves back)."""

    store: EventStore
    at_head: bool = False


class Database:
    """Binds an event store to each app from its ``DATABASE_URL``."""

    def init_app(self, app: Flask) -> None:
        """Open ``app``'s store (no connection yet) and guard its requests until the schema is at head."""
        # a live token is trusted as long as a socket opened with it would be (QB_TOKEN_RECHECK_SECONDS)
        store = EventStore(app.config["DATABASE_URL"], token_cache_seconds=float(app.config["TOKEN_RECHECK_SECONDS"]))
        app.extensions[EXTENSION] = _Binding(store)
        app.before_request(_require_schema)

    def store(self, app: Flask) -> EventStore:
        """The event store of ``app``."""
        return _binding(app).store

    def schema_problem(self, app: Flask) -> str | None:
        """Why ``app``'s database cannot serve yet (its schema is not at head), or ``None``.

        A database that cannot be reached is not this check's business: the caller's own query
        (or ``/healthz``) reports it.
        """
        binding = _binding(app)
        if binding.at_head:
            return None
        try:
            current, head = binding.store.revisions()
        except SQLAlchemyError:
            return None
        if current == head:
            binding.at_head = True
            return None
        return f"the database schema is at revision {current or 'none'}, not at head {head}: {UPGRADE_HINT}"


def _binding(app: Flask) -> _Binding:
    binding: _Binding | None = app.extensions.get(EXTENSION)
    if binding is None:
        raise RuntimeError("no event store bound to this app: call database.init_app(app)")
    return binding


def _require_schema() -> tuple[Response, int] | None:
    problem = database.schema_problem(current_app)
    if problem is None:
        return None
    return jsonify(error="schema_not_at_head", status="error", message=problem), 503


def current_store() -> EventStore:
    """The event store of the current app."""
    return database.store(current_app)


#: the event store extension; bound per app by the factory
database = Database()
