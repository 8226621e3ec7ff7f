"""The append-only event store (SQLAlchemy Core): SQLite by default, PostgreSQL by URL.

Every accepted event is one row with a per-branch sequence number. Appends run in a
transaction that first takes the branch's write lock (``BEGIN IMMEDIATE`` on SQLite, a
``FOR UPDATE`` row lock on PostgreSQL), so several server processes sharing one database
never give two events the same number. The schema is managed by Alembic
(``queue_board/store/migrations``); :meth:`EventStore.upgrade` brings a database to the head.

Beside the log it keeps the credentials: bearer tokens (SHA-256 hashes) and staff users
(argon2 password hashes, :class:`StaffUser`).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    create_engine,
    event,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError

from queue_board.core.events import Event, event_to_json, parse_event
from queue_board.core.fields import FORBIDDEN_NAME_CATEGORIES, name_problem
from queue_board.core.staff import normalise_username

#: Alembic's script directory: the schema's revisions
MIGRATIONS = Path(__file__).parent / "migrations"

metadata = MetaData()

branches = Table(
    "branches",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("created_at", String(40), nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("branch", String(64), ForeignKey("branches.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("ts", String(40), nullable=False),
    Column("at", Float, nullable=False),
    Column("type", String(32), nullable=False),
    Column("body", Text, nullable=False),
    Column("idempotency_key", String(200), nullable=True),
    Column("request_hash", String(64), nullable=True),
    Column("actor", String(120), nullable=True),
    Column("received_at", String(40), nullable=False),
    UniqueConstraint("branch", "seq", name="uq_events_branch_seq"),
    UniqueConstraint("branch", "idempotency_key", name="uq_events_branch_idempotency_key"),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(120), nullable=False),
    Column("role", String(16), nullable=False),
    Column("branch", String(64), nullable=True),
    Column("counter", String(64), nullable=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", String(40), nullable=False),
    Column("revoked_at", String(40), nullable=True),
)

staff_users = Table(
    "staff_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False),
    Column("display_name", String(120), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("branches", Text, nullable=False),
    Column("counter", String(64), nullable=True),
    Column("created_at", String(40), nullable=False),
    Column("password_changed_at", String(40), nullable=False),
    Column("last_sign_in_at", String(40), nullable=True),
    Column("disabled_at", String(40), nullable=True),
    UniqueConstraint("username", name="uq_staff_users_username"),
)

Index("ix_events_branch_at", events.c.branch, events.c.at)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as stored: its branch sequence number and who sent it."""

    seq: int
    event: Event
    idempotency_key: str | None = None
    request_hash: str | None = None
    actor: str | None = None


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """A bearer token's grant (the token itself is only ever stored hashed)."""

    id: int
    name: str
    role: str
    branch: str | None
    counter: str | None


@dataclass(frozen=True, slots=True)
class StaffUser:
    """A staff user as stored (the password only as its argon2 hash, kept out of ``repr``)."""

    id: int
    username: str
    display_name: str
    role: str
    branches: tuple[str, ...]
    counter: str | None
    created_at: str
    password_changed_at: str
    last_sign_in_at: str | None
    disabled_at: str | None
    password_hash: str = field(repr=False)

    @property
    def disabled(self) -> bool:
        """Whether the user was disabled (and so can no longer sign in)."""
        return self.disabled_at is not None


class UserExists(ValueError):
    """A user with that name exists already."""


def hash_token(token: str) -> str:
    """SHA-256 of a bearer token: what the database keeps."""
    return hashlib.sha256(token.encode()).hexdigest()


#: argon2id with the library's recommended costs (about 50 ms and 64 MiB per hash)
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """The argon2 hash of a password: what the database keeps."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` is the one ``password_hash`` was made from."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _decoy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def spend_a_verification() -> None:
    """Take as long as checking a password does, for a user who does not exist: a sign-in
    for an unknown name must not answer faster than one with a wrong password."""
    verify_password(_decoy_hash(), "not the password")


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _prepare_sqlite(engine: Engine, *, writes: bool) -> None:
    """WAL for concurrent readers, FULL sync so a commit survives a power cut before the 2xx.

    The writers' engine starts every transaction with ``BEGIN IMMEDIATE`` (the write lock), so
    catch-up reads and the append see one state. The readers' engine (``writes=False``) starts
    them with a deferred ``BEGIN`` on a ``query_only`` connection: under WAL a reader then never
    takes or waits for the write lock, so a slow reader (an export streamed to a slow client)
    cannot hold up any writer, and a writer cannot hold up a reader.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # let SQLAlchemy's BEGIN below, not the driver, decide when transactions start
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # SQLite's own wait blocks the thread, and under gevent the whole event loop with it (the
        # writer holding the lock could then never finish): the writers' wait is _on_begin's,
        # which yields; a reader under WAL waits only through a checkpoint's instant
        cursor.execute(f"PRAGMA busy_timeout={0 if writes else SQLITE_BUSY_SLICE_MS}")
        if not writes:
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if writes:
            _begin_immediate(conn)
        else:
            conn.exec_driver_sql("BEGIN")


#: events an import inserts per statement (the event loop serves the other clients between them)
IMPORT_CHUNK = 2000
#: how long SQLite itself waits for a lock inside one call (milliseconds)
SQLITE_BUSY_SLICE_MS = 20
#: how long a transaction waits in all for the write lock before "database is locked"
SQLITE_LOCK_WAIT_SECONDS = 10.0


def _begin_immediate(conn: Connection) -> None:
    """``BEGIN IMMEDIATE``, waiting up to ``SQLITE_LOCK_WAIT_SECONDS`` for the write lock in
    short slices with a ``time.sleep`` between them.

    Under gevent (``serve``, ``demo``) a writer holds the lock while its forecast runs in an OS
    thread and its greenlet waits; a reader blocked inside SQLite's own busy wait would hold the
    event loop, so the writer could never finish and both would wait the whole timeout. The
    sleep, patched by gevent, lets the writer finish first; under threads it is a plain sleep.
    """
    deadline = time.monotonic() + SQLITE_LOCK_WAIT_SECONDS
    pause = 0.002
    while True:
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except OperationalError as exc:
            if "locked" not in str(exc.orig) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


@cache
def _head_revision() -> str | None:
    # the revision files only change with the code: read them once per process
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


#: the ``tokens.name`` column's width: who or what holds a token ("kiosk by the door")
MAX_TOKEN_NAME_LENGTH = 120


def token_problem(name: str, branch: str | None, counter: str | None) -> str | None:
    """Why a token with this name and binding cannot be stored (it would not fit its columns or
    holds characters no label may), or ``None``: checked before the insert, which PostgreSQL
    would refuse."""
    if not name.strip() or len(name) > MAX_TOKEN_NAME_LENGTH:
        return f"a token's name must be 1 to {MAX_TOKEN_NAME_LENGTH} characters"
    if any(unicodedata.category(char) in FORBIDDEN_NAME_CATEGORIES for char in name):
        return "a token's name must not contain control characters"
    for key, value in (("branch", branch), ("counter", counter)):
        problem = name_problem(value) if value is not None else None
        if problem is not None:
            return f"{key} {problem}"
    return None


# The statements of every write and every catch-up, built once: composing a statement per call
# cost more of the server's CPU than running it (issue 12's ingest profile)
_STORED_COLUMNS = (events.c.seq, events.c.body, events.c.idempotency_key, events.c.request_hash, events.c.actor)
_LOAD_AFTER = (
    select(*_STORED_COLUMNS)
    .where(events.c.branch == bindparam("branch"), events.c.seq > bindparam("after_seq"))
    .order_by(events.c.seq)
)
_FIND_BY_KEY = select(*_STORED_COLUMNS).where(
    events.c.branch == bindparam("branch"), events.c.idempotency_key == bindparam("key")
)
_INSERT_EVENT = insert(events)
_LOCK_BRANCH_ROW = select(branches.c.id).where(branches.c.id == bindparam("branch")).with_for_update(key_share=True)
_FIND_LIVE_TOKEN = select(tokens.c.id, tokens.c.name, tokens.c.role, tokens.c.branch, tokens.c.counter).where(
    tokens.c.token_hash == bindparam("token_hash"), tokens.c.revoked_at.is_(None)
)


def _event_row(
    branch: str,
    seq: int,
    evt: Event,
    actor: str | None,
    received_at: str,
    *,
    idempotency_key: str | None = None,
    request_hash: str | None = None,
) -> dict[str, Any]:
    """One event as a row of the events table (one write's, or one of an import's)."""
    return {
        "branch": branch,
        "seq": seq,
        "ts": evt.ts.isoformat(timespec="milliseconds"),
        "at": evt.at,
        "type": evt.type,
        "body": event_to_json(evt),
        "idempotency_key": idempotency_key,
        "request_hash": request_hash,
        "actor": actor,
        "received_at": received_at,
    }


def _token_clock() -> float:
    """When a token was read, for :meth:`EventStore.find_token` (the tests move it by hand)."""
    return time.monotonic()


#: live tokens remembered at most (a bank's screens and programs number in the thousands)
MAX_CACHED_TOKENS = 100_000


class ConflictingSequence(RuntimeError):
    """The seq (or the idempotency key) a write took was taken first by another process: the
    writer's view of the branch was behind. Nothing was stored; catch up and try again."""


class EventStore:
    """Append-only event log plus branches, bearer tokens and staff users."""

    def __init__(self, url: str, *, token_cache_seconds: float = 0.0) -> None:
        self.url = url
        #: how long a token found live is trusted without another look (0: every lookup reads);
        #: see :meth:`find_token`
        self.token_cache_seconds = token_cache_seconds
        #: token hash -> (its grant, when it was read, monotonic)
        self._live_tokens: dict[str, tuple[TokenRecord, float]] = {}
        self._token_cache_lock = threading.Lock()
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(url, pool_pre_ping=not self.is_sqlite)
        self._seen_branches: set[str] = set()
        #: SQLite has one write lock per database: this process's writers queue for it here
        self._write_mutex: AbstractContextManager[Any] = threading.Lock() if self.is_sqlite else nullcontext()
        #: the engine of reads that need no write lock; on PostgreSQL (MVCC, no such lock) the same
        self.reader = self.engine
        if self.is_sqlite:
            _prepare_sqlite(self.engine, writes=True)
            if parsed.database and parsed.database != ":memory:":
                # a second pool of the same file (":memory:" would be another database)
                self.reader = create_engine(url)
                _prepare_sqlite(self.reader, writes=False)

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()
        self.reader.dispose()

    # schema -----------------------------------------------------------------------
    def upgrade(self) -> None:
        """Create or migrate the schema to Alembic's head revision."""
        from alembic import command
        from alembic.config import Config as AlembicConfig

        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def revisions(self) -> tuple[str | None, str | None]:
        """The database's Alembic revision (``None`` if never upgraded) and the head; reads only."""
        from alembic.runtime.migration import MigrationContext

        with self.reader.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
        return current, _head_revision()

    def ping(self) -> None:
        """Raise the driver's error if the database cannot be reached."""
        with self.reader.connect() as conn:
            conn.execute(text("SELECT 1"))

    # branches ---------------------------------------------------------------------
    def ensure_branch(self, branch: str) -> None:
        """Create the branch row if it does not exist yet."""
        with self.engine.begin() as conn:
            self._ensure_branch(conn, branch)

    def _ensure_branch(self, conn: Connection, branch: str) -> None:
        # branches are never deleted: one this process has seen needs no look at the table
        if branch in self._seen_branches:
            return
        if conn.execute(select(branches.c.id).where(branches.c.id == branch)).first() is None:
            try:
                with conn.begin_nested():
                    conn.execute(insert(branches).values(id=branch, created_at=_utc_now()))
            except IntegrityError:
                pass  # another process created it meanwhile
        # remembered once the transaction commits (a refused import must leave no branch)
        event.listen(conn, "commit", lambda _conn: self._seen_branches.add(branch), once=True)

    def branch_ids(self) -> list[str]:
        """Every branch that has a row."""
        with self.reader.connect() as conn:
            return [row[0] for row in conn.execute(select(branches.c.id).order_by(branches.c.id))]

    # events -----------------------------------------------------------------------
    @contextmanager
    def writing(self, branch: str) -> Iterator[Connection]:
        """A write transaction holding the branch's write lock; commits on normal exit.

        On SQLite the lock is the database's (``BEGIN IMMEDIATE``), taken by one writer of this
        process at a time: the others wait on an in-process lock, which under gevent lets the
        loop run, instead of polling SQLite. On PostgreSQL it is the branch row's
        (``FOR NO KEY UPDATE``).
        """
        with self._write_mutex, self.engine.begin() as conn:
            self._ensure_branch(conn, branch)
            if not self.is_sqlite:
                # NO KEY UPDATE: it does not wait for the key-share lock every insert's foreign key
                # takes on the row (FOR UPDATE did, and deadlocked with writers that take no lock)
                conn.execute(_LOCK_BRANCH_ROW, {"branch": branch})
            yield conn

    def append(
        self,
        conn: Connection,
        branch: str,
        seq: int,
        evt: Event,
        *,
        idempotency_key: str | None = None,
        request_hash: str | None = None,
        actor: str | None = None,
    ) -> None:
        """Insert one event inside a :meth:`writing` transaction; :class:`ConflictingSequence`
        if another process stored that seq (or that idempotency key) first."""
        row = _event_row(branch, seq, evt, actor, _utc_now(), idempotency_key=idempotency_key, request_hash=request_hash)
        try:
            conn.execute(_INSERT_EVENT, row)
        except IntegrityError as exc:
            raise ConflictingSequence(f"branch {branch!r}: seq {seq} or its idempotency key is taken") from exc

    def append_many(self, conn: Connection, branch: str, first_seq: int, evts: list[Event], actor: str | None) -> None:
        """Insert a batch of events (an import) inside a :meth:`writing` transaction."""
        now = _utc_now()
        rows = [_event_row(branch, first_seq + i, e, actor, now) for i, e in enumerate(evts)]
        try:
            for start in range(0, len(rows), IMPORT_CHUNK):
                conn.execute(insert(events), rows[start : start + IMPORT_CHUNK])
                time.sleep(0)  # under gevent: the other greenlets run between chunks
        except IntegrityError as exc:
            raise ConflictingSequence(f"branch {branch!r}: seqs from {first_seq} were taken meanwhile") from exc

    def load(self, branch: str, after_seq: int = 0, conn: Connection | None = None, limit: int | None = None) -> Iterator[StoredEvent]:
        """Events of ``branch`` with ``seq > after_seq``, in order."""
        query = _LOAD_AFTER if limit is None else _LOAD_AFTER.limit(limit)
        params = {"branch": branch, "after_seq": after_seq}
        if conn is not None:
            yield from self._rows(conn, query, params)
            return
        with self.reader.connect() as own:
            yield from self._rows(own, query, params)

    @staticmethod
    def _rows(conn: Connection, query: Any, params: dict[str, Any]) -> Iterator[StoredEvent]:
        for seq, body, key, request_hash, actor in conn.execute(query, params):
            # stored events were accepted, perhaps before labels were held to a charset: read them as stored
            event = parse_event(json.loads(body), strict=False)
            yield StoredEvent(seq=seq, event=event, idempotency_key=key, request_hash=request_hash, actor=actor)

    def find_by_key(self, conn: Connection | None, branch: str, key: str) -> StoredEvent | None:
        """The event stored under an idempotency key, if any (read through ``conn``, else the
        readers' connection)."""
        params = {"branch": branch, "key": key}
        if conn is not None:
            return next(self._rows(conn, _FIND_BY_KEY, params), None)
        with self.reader.connect() as own:
            return next(self._rows(own, _FIND_BY_KEY, params), None)

    # tokens -----------------------------------------------------------------------
    def create_token(self, name: str, role: str, branch: str | None, counter: str | None) -> str:
        """Create a bearer token and return it; only its hash is stored. ``ValueError`` if the
        name or binding does not fit (:func:`token_problem`)."""
        problem = token_problem(name, branch, counter)
        if problem is not None:
            raise ValueError(problem)
        token = secrets.token_urlsafe(24)
        with self.engine.begin() as conn:
            if branch is not None:
                self._ensure_branch(conn, branch)
            conn.execute(
                insert(tokens).values(
                    name=name, role=role, branch=branch, counter=counter, token_hash=hash_token(token), created_at=_utc_now()
                )
            )
        return token

    def find_token(self, token: str) -> TokenRecord | None:
        """The live grant of a bearer token, or ``None`` if unknown or revoked.

        A token found live is trusted for ``token_cache_seconds`` without another read: looking
        it up was a tenth of the server's CPU per write (issue 12's ingest profile). A revocation
        through this store (or noticed by :meth:`dead_token_ids`) forgets it at once; one by
        another process (the command line) is seen within that time, as the sockets' re-check
        sees it. Unknown tokens are never remembered: a guess is always read, and a new token
        works at once.
        """
        token_hash = hash_token(token)
        if self.token_cache_seconds > 0:
            with self._token_cache_lock:
                kept = self._live_tokens.get(token_hash)
            if kept is not None and _token_clock() - kept[1] < self.token_cache_seconds:
                return kept[0]
        with self.reader.connect() as conn:
            row = conn.execute(_FIND_LIVE_TOKEN, {"token_hash": token_hash}).first()
        if row is None:
            self._forget_token_hash(token_hash)
            return None
        record = TokenRecord(*row)
        if self.token_cache_seconds > 0:
            with self._token_cache_lock:
                if len(self._live_tokens) >= MAX_CACHED_TOKENS:
                    self._live_tokens.clear()  # only live tokens get here: a bound, never reached in practice
                self._live_tokens[token_hash] = (record, _token_clock())
        return record

    def _forget_token_hash(self, token_hash: str) -> None:
        with self._token_cache_lock:
            self._live_tokens.pop(token_hash, None)

    def forget_tokens(self, token_ids: Iterable[int]) -> None:
        """Drop these tokens' remembered grants (they were revoked): their next use reads."""
        gone = set(token_ids)
        if not gone:
            return
        with self._token_cache_lock:
            for token_hash in [h for h, (record, _at) in self._live_tokens.items() if record.id in gone]:
                del self._live_tokens[token_hash]

    def list_tokens(self) -> list[dict[str, Any]]:
        """Every token's grant (never the token)."""
        with self.reader.connect() as conn:
            rows = conn.execute(select(tokens).order_by(tokens.c.id)).mappings().all()
        return [{k: v for k, v in row.items() if k != "token_hash"} for row in rows]

    def dead_token_ids(self, token_ids: Iterable[int]) -> set[int]:
        """Those of ``token_ids`` that are no longer live tokens (revoked, or gone)."""
        wanted = set(token_ids)
        if not wanted:
            return set()
        with self.reader.connect() as conn:
            live = conn.execute(select(tokens.c.id).where(tokens.c.id.in_(wanted), tokens.c.revoked_at.is_(None))).scalars()
            dead = wanted - set(live)
        # whoever revoked them, this process's next lookup of them must read
        self.forget_tokens(dead)
        return dead

    def revoke_token(self, token_id: int) -> bool:
        """Revoke a token by id; ``False`` if there is no live token with that id."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(tokens).where(tokens.c.id == token_id, tokens.c.revoked_at.is_(None)).values(revoked_at=_utc_now())
            )
        self.forget_tokens([token_id])
        return bool(result.rowcount)

    # staff users ------------------------------------------------------------------
    def create_user(
        self,
        username: str,
        password: str,
        role: str,
        branches: tuple[str, ...] | list[str] = (),
        counter: str | None = None,
        display_name: str | None = None,
    ) -> StaffUser:
        """Create a staff user (name normalised, password hashed); :class:`UserExists` if taken.

        The caller checks role, branches, counter and password first
        (:mod:`queue_board.core.staff`): the store keeps what it is given.
        """
        name = normalise_username(username)
        now = _utc_now()
        try:
            with self.engine.begin() as conn:
                for branch in branches:
                    self._ensure_branch(conn, branch)
                result = conn.execute(
                    insert(staff_users).values(
                        username=name,
                        display_name=(display_name or "").strip() or name,
                        password_hash=hash_password(password),
                        role=role,
                        branches=json.dumps(list(branches)),
                        counter=counter,
                        created_at=now,
                        password_changed_at=now,
                    )
                )
        except IntegrityError:
            raise UserExists(f"there is a user {name!r} already") from None
        key = result.inserted_primary_key
        user = self.get_user(int(key[0])) if key else self.find_user(name)
        assert user is not None
        return user

    def find_user(self, username: str) -> StaffUser | None:
        """The user of that name (however it is capitalised or padded), disabled ones too."""
        return self._user(staff_users.c.username == normalise_username(username))

    def get_user(self, user_id: int) -> StaffUser | None:
        """The user with that id, disabled ones too."""
        return self._user(staff_users.c.id == user_id)

    def _user(self, condition: Any) -> StaffUser | None:
        with self.reader.connect() as conn:
            row = conn.execute(select(staff_users).where(condition)).mappings().first()
        return _staff_user(row) if row is not None else None

    def list_users(self) -> list[StaffUser]:
        """Every user, in the order they were created."""
        with self.reader.connect() as conn:
            rows = conn.execute(select(staff_users).order_by(staff_users.c.id)).mappings().all()
        return [_staff_user(row) for row in rows]

    def set_password(self, username: str, password: str) -> bool:
        """Give the user a new password; this also ends every session they have (the sessions'
        id holds ``password_changed_at``). ``False`` if there is no such user."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(staff_users)
                .where(staff_users.c.username == normalise_username(username))
                .values(password_hash=hash_password(password), password_changed_at=_utc_now())
            )
        return bool(result.rowcount)

    def disable_user(self, username: str) -> bool:
        """Disable a user for good: no sign-in, and every session of theirs ends at its next
        request. ``False`` if there is no such user, or they were disabled already."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(staff_users)
                .where(staff_users.c.username == normalise_username(username), staff_users.c.disabled_at.is_(None))
                .values(disabled_at=_utc_now())
            )
        return bool(result.rowcount)

    def record_sign_in(self, user_id: int) -> None:
        """Note when the user last signed in (shown by ``queue-board user list``)."""
        with self.engine.begin() as conn:
            conn.execute(update(staff_users).where(staff_users.c.id == user_id).values(last_sign_in_at=_utc_now()))


def _staff_user(row: Any) -> StaffUser:
    branches = json.loads(row["branches"] or "[]")
    return StaffUser(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        role=row["role"],
        branches=tuple(str(b) for b in branches) if isinstance(branches, list) else (),
        counter=row["counter"],
        created_at=row["created_at"],
        password_changed_at=row["password_changed_at"],
        last_sign_in_at=row["last_sign_in_at"],
        disabled_at=row["disabled_at"],
        password_hash=row["password_hash"],
    )
