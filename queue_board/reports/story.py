"""One ticket's story, for a broken promise: when it was issued and what it was told, every
call and pause at the branch while it waited, and how its own visit went."""

from __future__ import annotations

from typing import Any

from queue_board.core.activity import Activity, DayActivity, shown_bottom_seconds, shown_top_seconds


def ticket_story(day: DayActivity, label: str, now: float | None = None) -> dict[str, Any] | None:
    """The ticket's timeline as JSON-ready entries in time order, or ``None`` if the day has no
    such ticket. ``now`` ends a wait that is still going."""
    record = day.tickets.get(label)
    if record is None:
        return None
    until = now if now is not None and not day.closed else day.last_at
    wait_end = record.called_at if record.called_at is not None else (record.ended_at if record.ended_at is not None else until)
    entries: list[dict[str, Any]] = [
        {
            "at": record.issued_at,
            "kind": "issued",
            "service": record.service,
            "told_low_s": shown_bottom_seconds(record.told) if record.told else None,
            "told_high_s": shown_top_seconds(record.told) if record.told else None,
        }
    ]
    served_ahead = 0
    for transaction in day.transactions:
        own = transaction.ticket == label
        if own:
            entries.append({"at": transaction.called_at, "kind": "called", "counter": transaction.counter, "service": transaction.service})
            if transaction.started_at is not None:
                entries.append({"at": transaction.started_at, "kind": "started", "counter": transaction.counter})
            if transaction.ended_at is not None:
                entries.append({"at": transaction.ended_at, "kind": transaction.outcome, "counter": transaction.counter})
        elif record.issued_at < transaction.called_at < wait_end:
            served_ahead += 1
            entries.append(
                {"at": transaction.called_at, "kind": "other_called", "counter": transaction.counter, "ticket": transaction.ticket, "service": transaction.service}
            )
    for segment in day.all_segments(until):
        if segment.activity is not Activity.PAUSED or segment.end is None:
            continue
        if segment.start < wait_end and segment.end > record.issued_at:
            entries.append(
                {
                    "at": segment.start,
                    "kind": "pause",
                    "counter": segment.counter,
                    "reason": segment.reason,
                    "declared_minutes": segment.declared_minutes,
                    "until": segment.end,
                    "overrun_s": round(segment.overrun(until), 1),
                }
            )
    if record.repromised is not None and record.repromised_at is not None:
        # what the customer was told again, and why: beside the broken range, the apology
        entries.append(
            {
                "at": record.repromised_at,
                "kind": "repromised",
                "told": list(record.repromised),
                "told_low_s": shown_bottom_seconds(record.repromised),
                "told_high_s": shown_top_seconds(record.repromised),
                "reason": record.repromise_reason,
            }
        )
    if record.called_at is None and record.ended_at is not None:
        entries.append({"at": record.ended_at, "kind": "cancelled"})
    entries.sort(key=lambda e: (e["at"], e["kind"] != "issued"))
    return {
        "day": day.day.isoformat(),
        "utc_offset": day.utc_offset,
        "ticket": label,
        "service": record.service,
        "outcome": str(record.outcome),
        "issued_at": record.issued_at,
        "wait_s": round(record.waited_until(until), 1),
        "told": list(record.told) if record.told else None,
        "told_high_s": shown_top_seconds(record.told) if record.told else None,
        "served_ahead": served_ahead,
        "entries": entries,
    }
