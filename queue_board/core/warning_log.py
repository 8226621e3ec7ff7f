"""The manager's warnings as the log tells them: raised, acknowledged, cleared (a projection).

The rules that decide a warning are ``queue_board.reports.warnings``; the server records each
decision as an event (``warning_raised`` when a condition starts, ``warning_acknowledged`` when a
manager says they have seen it, ``warning_cleared`` with how it ended), so the warnings a
dashboard lists, and every figure about them, are rebuilt from the log alone: after a restart,
in another process, and by ``queue-board report``. docs/event-log.md "Warnings".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from queue_board.core.events import Event


@dataclass(slots=True)
class WarningRecord:
    """One warning from the moment it was raised to the moment it was cleared."""

    key: str
    kind: str
    severity: str
    subject: str | None
    facts: dict[str, Any]
    raised_at: float
    #: the local day it was raised on (warnings about tickets and counters are about that day)
    day: date
    acknowledged_at: float | None = None
    acknowledged_by: str | None = None
    note: str | None = None
    cleared_at: float | None = None
    outcome: str | None = None

    @property
    def on(self) -> bool:
        """Whether the condition still holds as far as the log says."""
        return self.cleared_at is None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (times as POSIX seconds; the web layer words them)."""
        return {
            "key": self.key,
            "kind": self.kind,
            "severity": self.severity,
            "subject": self.subject,
            "facts": dict(self.facts),
            "raised_at": self.raised_at,
            "day": self.day.isoformat(),
            "acknowledged_at": self.acknowledged_at,
            "acknowledged_by": self.acknowledged_by,
            "note": self.note,
            "cleared_at": self.cleared_at,
            "outcome": self.outcome,
        }


@dataclass(slots=True)
class WarningLog:
    """Every warning of a branch, and the ones on now (by key)."""

    records: list[WarningRecord] = field(default_factory=list)
    current: dict[str, WarningRecord] = field(default_factory=dict)

    def record(self, event: Event) -> None:
        """Take one ``warning_*`` event the branch state accepted (others are ignored)."""
        note = event.warning
        if note is None:
            return
        if event.type == "warning_raised":
            record = WarningRecord(
                key=note.key,
                kind=note.kind or "",
                severity=note.severity or "warning",
                subject=note.subject,
                facts=dict(note.facts or {}),
                raised_at=event.at,
                day=event.day,
            )
            self.records.append(record)
            self.current[note.key] = record
            return
        found = self.current.get(note.key)
        if found is None:
            return
        if event.type == "warning_acknowledged":
            found.acknowledged_at = event.at
            found.acknowledged_by = note.by
            found.note = note.note
        elif event.type == "warning_cleared":
            found.cleared_at = event.at
            found.outcome = note.outcome
            del self.current[note.key]

    def on_now(self) -> list[WarningRecord]:
        """The warnings still on, alerts first, then the oldest first."""
        return sorted(self.current.values(), key=lambda r: (r.severity != "alert", r.raised_at))

    def between(self, start: date, end: date) -> list[WarningRecord]:
        """Every warning raised on a day from ``start`` to ``end`` (inclusive), in order."""
        return [r for r in self.records if start <= r.day <= end]
