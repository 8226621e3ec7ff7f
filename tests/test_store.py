"""The event store on SQLite and PostgreSQL, and several server processes sharing one database."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import TZ, ManualClock
from sqlalchemy import text

from queue_board.core.branch_config import DEMO_CONFIG
from queue_board.core.events import parse_event
from queue_board.service.branch_service import BranchService
from queue_board.service.errors import ProblemError
from queue_board.store.event_store import EventStore


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    url: str = request.getfixturevalue("postgres_url")
    return url


def service_on(url: str, clock: ManualClock) -> BranchService:
    store = EventStore(url)
    store.upgrade()
    service = BranchService(store, clock=clock, scenarios=64, default_config=DEMO_CONFIG)
    return service


def test_events_survive_reopening_the_store(store_url: str, clock: ManualClock) -> None:
    first = service_on(store_url, clock)
    first.counter_action("main", "1", "open", {})
    first.issue_ticket("main", "deposit")
    first.store.close()
    second = service_on(store_url, clock)
    state = second.projection("main").state
    assert state.seq == 2
    assert state.queued("deposit") == ["A001"]
    second.store.close()


def test_upgrade_is_idempotent(store_url: str) -> None:
    store = EventStore(store_url)
    store.upgrade()
    store.upgrade()
    try:
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0003"
    finally:
        store.close()


def test_two_processes_sharing_a_database_agree(store_url: str, clock: ManualClock) -> None:
    """Two services over one database (as two server processes) see each other's writes."""
    left = service_on(store_url, clock)
    right = service_on(store_url, clock)
    left.counter_action("main", "1", "open", {})
    right.issue_ticket("main", "deposit")
    left.issue_ticket("main", "deposit")  # left catches up first: numbering continues
    assert left.projection("main").state.queued("deposit") == ["A001", "A002"]
    right.counter_action("main", "1", "call-next", {})
    with pytest.raises(ProblemError) as err:
        left.counter_action("main", "1", "call-next", {})  # the counter is already calling
    assert err.value.status == 409
    assert [s.seq for s in left.store.load("main")] == [1, 2, 3, 4]
    left.store.close()
    right.store.close()


def test_concurrent_writers_never_share_a_sequence_number(store_url: str, clock: ManualClock) -> None:
    services = [service_on(store_url, clock) for _ in range(3)]
    errors: list[BaseException] = []

    def issue(service: BranchService) -> None:
        try:
            for _ in range(15):
                service.issue_ticket("main", "deposit")
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=issue, args=(s,)) for s in services]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    stored = list(services[0].store.load("main"))
    assert [s.seq for s in stored] == list(range(1, 46))
    labels = [s.event.ticket for s in stored]
    assert len(set(labels)) == 45
    for service in services:
        service.store.close()


def test_failed_commit_leaves_the_projection_unchanged(tmp_path: Path, clock: ManualClock) -> None:
    service = service_on(sqlite_url(tmp_path), clock)
    service.counter_action("main", "1", "open", {})
    append = service.store.append

    def broken_append(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk full")

    service.store.append = broken_append  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        # a new ticket's promise is forecast before the commit, so the projection had moved
        service.issue_ticket("main", "deposit")
    projection = service.projection("main")
    assert projection.state.seq == 1 and projection.state.waiting_count() == 0
    service.store.append = append  # type: ignore[method-assign]
    accepted, printed = service.issue_ticket("main", "deposit")
    assert (accepted.seq, printed["ticket"], printed["people_ahead"]) == (2, "A001", 0)
    service.store.close()


def test_stored_rows_carry_actor_and_key(tmp_path: Path, clock: ManualClock) -> None:
    service = service_on(sqlite_url(tmp_path), clock)
    service.submit("main", {"type": "counter_opened", "counter": "1", "services": ["deposit"]}, actor="teller:t1", idempotency_key="abc", request_hash="h")
    stored = next(iter(service.store.load("main")))
    assert (stored.actor, stored.idempotency_key, stored.request_hash) == ("teller:t1", "abc", "h")
    assert stored.event == parse_event({"type": "counter_opened", "counter": "1", "services": ["deposit"]}, ts=datetime(2026, 3, 2, 9, tzinfo=TZ))
    service.store.close()


def test_a_slow_reader_holds_up_no_writer(tmp_path: Path, clock: ManualClock) -> None:
    """An export read slowly (a client on a slow line) keeps its read open; a write on another
    branch still commits at once, and the reader never saw it (issue 12: reads took the write
    lock, and the write waited 10 s and failed with "database is locked")."""
    service = service_on(sqlite_url(tmp_path), clock)
    for _ in range(3):
        service.issue_ticket("main", "deposit")
    stored_before = service.projection("main").state.seq
    export = service.export_lines("main")
    first_line = next(export)  # the read's transaction is open from here until the export ends
    assert '"ticket_issued"' in first_line or '"config' in first_line
    started = time.monotonic()
    service.issue_ticket("other", "deposit")
    service.counter_action("main", "1", "open", {})  # the reader's own branch too
    assert time.monotonic() - started < 2.0
    rest = list(export)
    # the reader's snapshot predates the write on its branch
    assert 1 + len(rest) == stored_before < service.projection("main").state.seq
    service.store.close()


def test_a_read_never_writes(tmp_path: Path) -> None:
    """The readers' connections are query-only: a write slipped into a read fails loudly."""
    store = EventStore(sqlite_url(tmp_path))
    store.upgrade()
    try:
        with store.reader.connect() as conn, pytest.raises(Exception, match="readonly"):
            conn.execute(text("DELETE FROM events"))
    finally:
        store.close()


def test_an_import_holds_the_write_lock_only_to_insert(tmp_path: Path, clock: ManualClock) -> None:
    """While an import is checked and its tickets are told their forecasts (seconds for a long
    log), other branches' writes go through (issue 12: a 60k-event import held the database's
    write lock, and with it every branch, for 9 s)."""
    url = sqlite_url(tmp_path)
    other_process = service_on(url, clock)
    waited: list[float] = []

    def offload(task: Any, *args: Any) -> Any:
        if getattr(task, "__name__", "") == "_accept_all":
            started = time.monotonic()
            other_process.issue_ticket("elsewhere", "deposit")  # as another server process would
            waited.append(time.monotonic() - started)
        return task(*args)

    importer = BranchService(EventStore(url), clock=clock, scenarios=32, default_config=DEMO_CONFIG, offload=offload)
    log = [
        '{"type": "counter_opened", "ts": "2026-03-02T08:30:00+08:00", "counter": "1", "services": [["deposit"]]}',
        '{"type": "ticket_issued", "ts": "2026-03-02T08:31:00+08:00", "ticket": "A001", "service": "deposit"}',
    ]
    assert importer.import_log("imported", log) == 2
    assert waited and waited[0] < 2.0
    assert importer.projection("imported").state.queued("deposit") == ["A001"]
    assert other_process.projection("elsewhere").state.seq >= 1
    importer.store.close()
    other_process.store.close()


def test_a_write_that_loses_its_seq_to_another_process_is_written_again(store_url: str, clock: ManualClock) -> None:
    """The ticket's forecast runs before the write lock is taken; another process that writes
    meanwhile takes the seq first. The write is refused by the unique seq, caught up, and
    written again under the lock: both events stored once, in order, the second on the new state."""
    other_process = service_on(store_url, clock)
    interfered: list[int] = []

    def offload(task: Any, *args: Any) -> Any:
        result = task(*args)
        if not interfered and getattr(task, "__name__", "") == "accept":
            interfered.append(other_process.counter_action("main", "1", "open", {}).seq)
        return result

    store = EventStore(store_url)
    writer = BranchService(store, clock=clock, scenarios=32, default_config=DEMO_CONFIG, offload=offload)
    accepted, ticket = writer.issue_ticket("main", "deposit")
    assert interfered == [1]
    assert accepted.seq == 2 and ticket["ticket"] == "A001"
    stored = [(s.seq, s.event.type) for s in store.load("main")]
    assert stored == [(1, "counter_opened"), (2, "ticket_issued")]
    # the writer's state is the log's: the other process's opening is in it
    assert writer.projection("main").state.counters["1"].status.value == "idle"
    store.close()
    other_process.store.close()


def test_a_caught_up_write_reads_once_and_inserts_once(store_url: str, clock: ManualClock) -> None:
    """Issue 12's "one or two statements per write": the catch-up read, then the insert; on
    PostgreSQL the branch row's lock too, which the retry of a write that lost its seq relies
    on (without it on every insert, a writer that caught up under the lock could lose its seq
    again to one that did not: tried, and the concurrent-writers test above failed)."""
    from sqlalchemy import event as sql_events

    service = service_on(store_url, clock)
    service.counter_action("main", "1", "open", {})
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(" ".join(str(args[2]).split()))

    engines = {service.store.engine, service.store.reader}
    for engine in engines:
        sql_events.listen(engine, "before_cursor_execute", record)
    try:
        service.counter_action("main", "1", "pause", {"reason": "break", "minutes": 5})
    finally:
        for engine in engines:
            sql_events.remove(engine, "before_cursor_execute", record)
    statements = [s for s in seen if not s.startswith("BEGIN")]
    expected = ["SELECT", "INSERT"] if service.store.is_sqlite else ["SELECT", "SELECT … FOR NO KEY UPDATE", "INSERT"]
    assert [s.split()[0] + (" … FOR NO KEY UPDATE" if "FOR NO KEY UPDATE" in s else "") for s in statements] == expected, statements
    service.store.close()
