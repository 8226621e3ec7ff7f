"""Replay: feed a log through the live server's engine and write what the boards would have shown.

Learning is online (no peeking ahead): each prediction uses only the events before it.
Writes the predictions CSV of ``shared/spec/event-log.md``.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TextIO

from queue_board.core.events import Event, LogFormatError, format_ts, read_log
from queue_board.core.projection import Projection
from queue_board.forecast.durations import BranchModel
from queue_board.forecast.monte_carlo import Range

CSV_HEADER = ("ts", "ticket", "quantity", "p10", "p50", "p90")


class ReplayError(ValueError):
    """A log line that cannot be replayed; names the line."""

    def __init__(self, line_number: int, message: str) -> None:
        super().__init__(f"line {line_number}: {message}")
        self.line_number = line_number


@dataclass(slots=True)
class ReplayStats:
    """What a replay did."""

    events: int = 0
    wait_rows: int = 0
    service_rows: int = 0
    update_rows: int = 0
    branches: set[str] = field(default_factory=set)


def replay(
    lines: Iterable[str],
    out: TextIO,
    *,
    all_updates: bool = False,
    projection_factory: Callable[[], Projection] = Projection,
    on_event: Callable[[Event], None] | None = None,
) -> ReplayStats:
    """Replay a JSON Lines log into the predictions CSV written to ``out``.

    One engine per branch (a file without ``branch`` is one branch). Raises
    :class:`ReplayError` naming the first line that is unreadable or impossible.
    """
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    projections: dict[str | None, Projection] = {}
    stats = ReplayStats()
    try:
        for number, event in read_log(lines):
            projection = projections.get(event.branch)
            if projection is None:
                projection = projections[event.branch] = projection_factory()
            recorded, rejection = projection.accept(event)
            if rejection is not None:
                raise ReplayError(number, rejection.message)
            stats.events += 1
            if event.branch is not None:
                stats.branches.add(event.branch)
            if event.type == "service_started":
                assert event.ticket is not None
                service = projection.state.tickets[event.ticket].service
                duration = projection.service_range(service, event.counter)
                writer.writerow((format_ts(event.ts), event.ticket, "service", _s(duration.p10), _s(duration.p50), _s(duration.p90)))
                stats.service_rows += 1
            ts = format_ts(event.ts)
            if event.type == "ticket_issued":
                assert event.ticket is not None
                # the range the ticket was told, the one the kiosk printed
                told = Range(*recorded.told) if recorded.told is not None else _no_counter_fallback(projection, event.ticket)
                writer.writerow((ts, event.ticket, "wait", _s(told.p10), _s(told.p50), _s(told.p90)))
                stats.wait_rows += 1
            if all_updates and projection.state.waiting_count():
                result = projection.forecast()
                for ticket in projection.state.waiting_tickets():
                    if ticket.label == event.ticket and event.type == "ticket_issued":
                        continue
                    wait = result.waits[ticket.label]
                    if wait.p90 == float("inf"):
                        wait = _no_counter_fallback(projection, ticket.label)
                    wait = wait.shifted(event.at - ticket.issued_at)
                    writer.writerow((ts, ticket.label, "wait", _s(wait.p10), _s(wait.p50), _s(wait.p90)))
                    stats.update_rows += 1
            if on_event is not None:
                on_event(event)
    except LogFormatError as exc:
        raise ReplayError(exc.line_number, exc.message) from None
    return stats


def learn_sisters(logs: Iterable[tuple[str, Iterable[str]]]) -> list[BranchModel]:
    """The learned models of every branch of the sister logs ``(name, lines)``, each event
    learned as a replay would (without forecasting: only what they learned is wanted), for
    :func:`queue_board.forecast.pooling.bank_prior`. Raises :class:`ReplayError` naming the log
    and line of the first event that is unreadable or impossible."""
    models: list[BranchModel] = []
    for name, lines in logs:
        projections: dict[str | None, Projection] = {}
        try:
            for number, event in read_log(lines):
                projection = projections.get(event.branch)
                if projection is None:
                    projection = projections[event.branch] = Projection()
                rejection = projection.submit(event)
                if rejection is not None:
                    raise ReplayError(number, f"{name}: {rejection.message}")
        except LogFormatError as exc:
            raise ReplayError(exc.line_number, f"{name}: {exc.message}") from None
        models.extend(projection.model for projection in projections.values())
    return models


def _no_counter_fallback(projection: Projection, label: str) -> Range:
    """No counter has ever served the ticket's service, so it was told no range; the CSV
    needs numbers to score, so it gets one counter working through the queue ahead."""
    service = projection.state.tickets[label].service
    queue = projection.state.queued(service)
    ahead = queue.index(label) if label in queue else 0
    one = projection.service_range(service)
    return Range(one.p10 * ahead, one.p50 * (ahead + 0.5), one.p90 * (ahead + 1))


def _s(seconds: float) -> str:
    return f"{seconds:.1f}"
