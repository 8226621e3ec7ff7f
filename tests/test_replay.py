"""Replay: the predictions CSV of shared/spec/event-log.md, written from a log through the live projection."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import BANK_LOG, SAMPLE_LOG

from queue_board.evaluation.replay import ReplayError, ReplayStats, replay

HEADER = "ts,ticket,quantity,p10,p50,p90"


@dataclass
class Replayed:
    lines: list[str]
    csv: str
    rows: list[dict[str, str]]
    stats: ReplayStats


def run_replay(lines: Iterable[str], *, all_updates: bool = False) -> Replayed:
    lines = list(lines)
    out = io.StringIO()
    stats = replay(lines, out, all_updates=all_updates)
    text = out.getvalue()
    return Replayed(lines, text, list(csv.DictReader(io.StringIO(text))), stats)


def expected_rows(lines: Iterable[str]) -> list[tuple[str, str, str]]:
    """(ts, ticket, quantity) of the rows the spec requires, in log order."""
    quantity = {"ticket_issued": "wait", "service_started": "service"}
    out = []
    for line in lines:
        obj = json.loads(line)
        if obj["type"] in quantity:
            out.append((obj["ts"], obj["ticket"], quantity[obj["type"]]))
    return out


def assert_numbers_sane(rows: list[dict[str, str]]) -> None:
    for row in rows:
        p10, p50, p90 = (float(row[k]) for k in ("p10", "p50", "p90"))
        assert all(math.isfinite(x) for x in (p10, p50, p90)), row
        assert 0 <= p10 <= p50 <= p90, row


@pytest.fixture(scope="module")
def sample() -> Replayed:
    return run_replay(SAMPLE_LOG.read_text(encoding="utf-8").splitlines())


@pytest.fixture(scope="module")
def first_morning() -> list[str]:
    """The first 300 lines of the sample log: a morning with queues."""
    return SAMPLE_LOG.read_text(encoding="utf-8").splitlines()[:300]


@pytest.fixture(scope="module")
def every_update(first_morning: list[str]) -> Replayed:
    return run_replay(first_morning, all_updates=True)


def test_header_is_exactly_the_specs(sample: Replayed) -> None:
    assert sample.csv.splitlines()[0] == HEADER


def test_one_wait_row_per_ticket_issued_and_one_service_row_per_service_started(sample: Replayed) -> None:
    quantities = [row["quantity"] for row in sample.rows]
    assert quantities.count("wait") == sample.stats.wait_rows == 973
    assert quantities.count("service") == sample.stats.service_rows == 905
    assert sample.stats.update_rows == 0
    assert sample.stats.events == 3914


def test_rows_follow_the_log_with_ts_copied_from_the_event(sample: Replayed) -> None:
    assert [(r["ts"], r["ticket"], r["quantity"]) for r in sample.rows] == expected_rows(sample.lines)


def test_numbers_are_finite_ordered_seconds(sample: Replayed) -> None:
    assert_numbers_sane(sample.rows)
    for line in sample.csv.splitlines()[1:]:
        for number in line.split(",")[3:]:
            assert number == f"{float(number):.1f}"


def test_replaying_the_same_log_twice_gives_the_same_csv(sample: Replayed) -> None:
    assert run_replay(sample.lines).csv == sample.csv


def test_the_csv_does_not_depend_on_pythons_string_hashing(tmp_path: Path) -> None:
    """A forecast is a pure function of the log: two processes with different hash seeds (so
    sets of strings iterate differently) write the same bytes."""
    log = tmp_path / "busy-morning.jsonl"
    log.write_text("\n".join(SAMPLE_LOG.read_text(encoding="utf-8").splitlines()[:1500]) + "\n", encoding="utf-8")
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"predictions-{seed}.csv"
        subprocess.run(
            [sys.executable, "-m", "queue_board", "replay", str(log), "--out", str(out)],
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=True,
            capture_output=True,
        )
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def test_all_adds_update_rows_for_tickets_already_waiting(first_morning: list[str], every_update: Replayed) -> None:
    plain = run_replay(first_morning)
    assert every_update.stats.update_rows > 0
    assert len(every_update.rows) > len(plain.rows)
    assert every_update.stats.wait_rows == plain.stats.wait_rows
    assert_numbers_sane(every_update.rows)
    # the first wait row of each ticket is still the one told at issue, at the ts
    first: dict[str, str] = {}
    for row in every_update.rows:
        if row["quantity"] == "wait":
            first.setdefault(row["ticket"], row["ts"])
    assert first == {row["ticket"]: row["ts"] for row in plain.rows if row["quantity"] == "wait"}


def test_all_update_rows_are_dated_at_the_event_they_follow(first_morning: list[str], every_update: Replayed) -> None:
    event_ts = {json.loads(line)["ts"] for line in first_morning}
    assert {row["ts"] for row in every_update.rows} <= event_ts


def test_all_still_writes_a_service_row_for_every_service_started(
    first_morning: list[str], every_update: Replayed
) -> None:
    services = [(r["ts"], r["ticket"]) for r in every_update.rows if r["quantity"] == "service"]
    assert services == [(ts, ticket) for ts, ticket, q in expected_rows(first_morning) if q == "service"]
    assert every_update.stats.service_rows == len(services) > 50


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        pytest.param(
            '{"ts": "2026-02-02T09:10:00.000+08:00", "type": "service_finished", "ticket": "Z999", "counter": "1"}',
            "Z999",
            id="ticket-never-issued",
        ),
        pytest.param(
            '{"ts": "2026-02-02T09:00:01.000+08:00", "type": "ticket_issued", "ticket": "Z001", "service": "deposit"}',
            "earlier",
            id="out-of-order",
        ),
        pytest.param(
            '{"ts": "2026-02-02T09:10:00.000+08:00", "type": "counter_opened", "counter": "1", "services": [["x"]]}',
            "already open",
            id="counter-opened-twice",
        ),
        pytest.param('{"ts": "2026-02-02T09:05:00.000+08:00", "type": "ticket_issued"', "not JSON", id="not-json"),
        pytest.param('{"ts": "2026-02-02T09:05:00", "type": "counter_closed", "counter": "1"}', "ts", id="no-offset"),
    ],
)
def test_bad_line_stops_the_replay_naming_the_line(first_morning: list[str], bad: str, words: str) -> None:
    lines = [*first_morning[:20], bad, *first_morning[20:30]]
    with pytest.raises(ReplayError) as caught:
        run_replay(lines)
    assert caught.value.line_number == 21
    assert str(caught.value).startswith("line 21:")
    assert words in str(caught.value)


def test_each_branch_of_a_log_is_replayed_on_its_own() -> None:
    def line(branch: str, second: int, kind: str, **fields: object) -> str:
        ts = f"2026-03-02T09:00:{second:02}.000+08:00"
        return json.dumps({"ts": ts, "type": kind, "branch": branch, **fields})

    lines = [
        line("north", 0, "counter_opened", counter="1", services=[["A"]]),
        line("south", 0, "counter_opened", counter="1", services=[["A"]]),
        line("north", 1, "ticket_issued", ticket="A001", service="A"),
        line("south", 2, "ticket_issued", ticket="A001", service="A"),  # same label, other branch
        line("north", 3, "ticket_called", ticket="A001", counter="1"),
        line("south", 4, "ticket_called", ticket="A001", counter="1"),
    ]
    result = run_replay(lines)
    assert result.stats.branches == {"north", "south"}
    assert result.stats.wait_rows == 2


@pytest.mark.parametrize(
    "opening",
    [
        pytest.param([], id="before-any-counter-opens"),
        pytest.param(['{"ts": "2026-03-02T09:00:00.000+08:00", "type": "counter_opened", "counter": "1", '
                      '"services": [["A"]]}'], id="no-counter-serves-it"),
    ],
)
def test_ticket_no_counter_can_call_still_gets_a_finite_wait_row(opening: list[str]) -> None:
    issued = [
        '{"ts": "2026-03-02T09:00:01.000+08:00", "type": "ticket_issued", "ticket": "L001", "service": "loan"}',
        '{"ts": "2026-03-02T09:00:02.000+08:00", "type": "ticket_issued", "ticket": "L002", "service": "loan"}',
    ]
    result = run_replay([*opening, *issued])
    assert [row["ticket"] for row in result.rows] == ["L001", "L002"]
    assert_numbers_sane(result.rows)
    assert float(result.rows[0]["p50"]) < float(result.rows[1]["p50"])


@pytest.mark.slow
def test_first_day_of_the_real_bank_replays_with_a_row_for_every_ticket_and_service() -> None:
    with BANK_LOG.open(encoding="utf-8") as log:
        lines = [line for line in log if line.startswith('{"ts": "1999-02-01T')]
    result = run_replay(lines)
    assert result.stats.events == len(lines) > 5000
    assert [(r["ts"], r["ticket"], r["quantity"]) for r in result.rows] == expected_rows(lines)
    assert_numbers_sane(result.rows)
