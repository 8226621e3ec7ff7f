"""Branch configuration is part of the log: every process and every restart sees the same one."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from conftest import TZ, ManualClock
from sqlalchemy import create_engine, text

from queue_board.core.branch_config import DEMO_CONFIG
from queue_board.core.events import EventFormatError, parse_event
from queue_board.evaluation.replay import replay
from queue_board.service.branch_service import BranchService
from queue_board.service.errors import ProblemError
from queue_board.store.event_store import EventStore

MIGRATIONS = Path(__file__).resolve().parent.parent / "queue_board" / "store" / "migrations"


def _service(url: str, clock: ManualClock) -> BranchService:
    store = EventStore(url)
    store.upgrade()
    return BranchService(store, clock=clock, scenarios=16)


def test_a_configuration_written_by_one_process_is_read_by_another_at_once(tmp_path: Path, clock: ManualClock) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    writer, reader = _service(url, clock), _service(url, clock)
    writer.set_config("main", DEMO_CONFIG.to_dict())
    assert reader.snapshot_without_refresh("main")["name"] == "Demo Branch"
    writer.set_config("main", {**DEMO_CONFIG.to_dict(), "name": "Renamed"})
    # the reader cached nothing: its next look catches up with the log
    assert reader.config("main").name == "Renamed"
    assert reader.snapshot("main") == writer.snapshot("main")
    restarted = _service(url, clock)
    assert restarted.config("main").name == "Renamed"


def test_a_bad_configuration_names_its_field_and_stores_nothing(tmp_path: Path, clock: ManualClock) -> None:
    service = _service(f"sqlite:///{tmp_path / 'x.db'}", clock)
    with pytest.raises(ProblemError) as caught:
        service.set_config("main", {"services": [{"code": "deposit", "prefix": "a1"}]})
    assert caught.value.status == 422 and caught.value.details["field"] == "services[0].prefix"
    assert list(service.store.load("main")) == []


def test_configuration_is_an_event_of_the_exported_log(tmp_path: Path, clock: ManualClock) -> None:
    service = _service(f"sqlite:///{tmp_path / 'x.db'}", clock)
    service.set_config("main", DEMO_CONFIG.to_dict())
    service.counter_action("main", "2", "open", {})
    lines = list(service.export_lines("main"))
    first = json.loads(lines[0])
    assert first["type"] == "branch_configured" and first["config"] == DEMO_CONFIG.to_dict()
    # and a replay reads it like any other line (a log without one replays as before)
    stats = replay(lines, io.StringIO())
    assert stats.events == 2


def test_an_event_with_a_malformed_configuration_is_refused() -> None:
    with pytest.raises(EventFormatError) as caught:
        parse_event({"ts": "2026-03-02T09:00:00+08:00", "type": "branch_configured", "config": {"counters": "1"}})
    assert caught.value.field == "config.counters"


def test_upgrading_a_database_with_a_stored_configuration_moves_it_into_the_log(tmp_path: Path, clock: ManualClock) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    command.upgrade(cfg, "0001")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO branches (id, config, created_at) VALUES ('main', :c, '2026-03-01T00:00:00+00:00')"),
            {"c": json.dumps({**DEMO_CONFIG.to_dict(), "name": "Old Street"})},
        )
        body = json.dumps({"ts": "2026-03-02T09:00:00.000+08:00", "type": "counter_opened", "counter": "1", "services": [["deposit"]]})
        conn.execute(
            text(
                "INSERT INTO events (branch, seq, ts, at, type, body, received_at) "
                "VALUES ('main', 1, '2026-03-02T09:00:00.000+08:00', :at, 'counter_opened', :body, 'now')"
            ),
            {"at": datetime(2026, 3, 2, 9, tzinfo=TZ).timestamp(), "body": body},
        )
    engine.dispose()
    service = _service(url, clock)
    assert service.config("main").name == "Old Street"
    stored = list(service.store.load("main"))
    assert [s.event.type for s in stored] == ["counter_opened", "branch_configured"]
    assert stored[1].event.ts == stored[0].event.ts
