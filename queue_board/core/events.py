"""Branch events: the vocabulary of ``shared/spec/event-log.md``, parsed and serialised.

Parsing checks the *shape* of one event (types, required fields); whether the event
makes sense in the branch's current state is the projection's job (``branch.validate``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from queue_board.core.branch_config import BranchConfig, ConfigError, parse_config

# re-exported: the vocabulary of the log is read from here
from queue_board.core.fields import MAX_NAME_LENGTH as MAX_NAME_LENGTH
from queue_board.core.fields import EventFormatError as EventFormatError
from queue_board.core.fields import Profile as Profile
from queue_board.core.fields import parse_profile as parse_profile

#: The ten types of the spec, with the fields each must carry besides ``ts`` and ``type``.
SPEC_FIELDS: dict[str, tuple[str, ...]] = {
    "counter_opened": ("counter", "services"),
    "counter_closed": ("counter",),
    "counter_paused": ("counter",),
    "counter_resumed": ("counter",),
    "ticket_issued": ("ticket", "service"),
    "ticket_called": ("ticket", "counter"),
    "service_started": ("ticket", "counter"),
    "service_finished": ("ticket", "counter"),
    "ticket_no_show": ("ticket", "counter"),
    "ticket_cancelled": ("ticket",),
}

#: Extensions the server stores and exports beside the spec's ten (the spec allows a server to
#: store more; docs/event-log.md): a recall re-announces a called ticket; a transfer ends the
#: transaction at one counter and puts the customer back in the queue for another service,
#: keeping their place; a configuration names the branch's services and counters from then on.
EXTENSION_FIELDS: dict[str, tuple[str, ...]] = {
    "ticket_recalled": ("ticket", "counter"),
    "ticket_transferred": ("ticket", "counter", "service"),
    "branch_configured": ("config",),
}

EVENT_FIELDS: dict[str, tuple[str, ...]] = {**SPEC_FIELDS, **EXTENSION_FIELDS}
EVENT_TYPES: frozenset[str] = frozenset(EVENT_FIELDS)

MAX_REASON_LENGTH = 200
MAX_PAUSE_MINUTES = 24 * 60

#: a wait range in seconds: (p10, p50, p90)
Percentiles = tuple[float, float, float]

#: fields of ``ticket_issued`` that the server records beside the spec's (see docs/event-log.md):
#: the wait range the ticket was told, and the uncalibrated forecast it came from
PROMISE_FIELDS = ("told", "told_raw")


@dataclass(frozen=True, slots=True)
class Event:
    """One line of the branch event log.

    ``at`` is ``ts`` as POSIX seconds, kept beside it because every duration the core
    measures is a difference of two of them.
    """

    ts: datetime
    type: str
    branch: str | None = None
    ticket: str | None = None
    service: str | None = None
    counter: str | None = None
    services: Profile | None = None
    reason: str | None = None
    minutes: float | None = None
    #: ``ticket_issued`` only: the wait range (seconds from issue) the customer was told
    told: Percentiles | None = None
    #: ``ticket_issued`` only: the Monte-Carlo range before calibration, the calibration's input
    told_raw: Percentiles | None = None
    #: ``branch_configured`` only: the branch's services and counters from this event on
    config: BranchConfig | None = None
    at: float = field(default=0.0, compare=False)

    @property
    def day(self) -> date:
        """The local calendar day of the event (ticket numbering restarts on each)."""
        return self.ts.date()


def parse_ts(value: Any) -> datetime:
    """Parse an ISO 8601 timestamp that carries a UTC offset."""
    if not isinstance(value, str):
        raise EventFormatError("ts", "must be an ISO 8601 string")
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        raise EventFormatError("ts", f"{value!r} is not an ISO 8601 timestamp") from None
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise EventFormatError("ts", f"{value!r} has no UTC offset")
    return ts


def parse_timezone(name: str | None) -> tzinfo | None:
    """An IANA zone name (``Asia/Taipei``) or a fixed offset (``+08:00``); ``None`` = the machine's."""
    if not name:
        return None
    if name[0] in "+-":
        try:
            return datetime.fromisoformat(f"2000-01-01T00:00:00{name}").tzinfo
        except ValueError:
            raise ValueError(f"bad UTC offset {name!r}; expected e.g. +08:00") from None
    return ZoneInfo(name)


def format_ts(ts: datetime) -> str:
    """Format a timestamp the way the spec shows it: milliseconds and the UTC offset."""
    return ts.isoformat(timespec="milliseconds")


def _name(obj: Mapping[str, Any], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise EventFormatError(key, "must be a non-empty string")
    if len(value) > MAX_NAME_LENGTH:
        raise EventFormatError(key, f"must be at most {MAX_NAME_LENGTH} characters")
    return value


def _percentiles(obj: Mapping[str, Any], key: str) -> Percentiles | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, Mapping) or set(value) != {"p10", "p50", "p90"}:
        raise EventFormatError(key, "must be an object with p10, p50 and p90 (seconds)")
    numbers = [value["p10"], value["p50"], value["p90"]]
    for number in numbers:
        if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number) or number < 0:
            raise EventFormatError(key, "p10, p50 and p90 must be non-negative numbers of seconds")
    if not numbers[0] <= numbers[1] <= numbers[2]:
        raise EventFormatError(key, "must have p10 <= p50 <= p90")
    return (float(numbers[0]), float(numbers[1]), float(numbers[2]))


def round_percentiles(values: Iterable[float]) -> Percentiles:
    """A range as the log records it: to 0.1 s."""
    p10, p50, p90 = (round(float(v), 1) for v in values)
    return (p10, p50, p90)


def parse_event(obj: Any, *, ts: datetime | None = None) -> Event:
    """Build an :class:`Event` from a decoded JSON object, or raise :class:`EventFormatError`.

    ``ts`` overrides (or supplies) the timestamp: the live server stamps events itself.
    """
    if not isinstance(obj, Mapping):
        raise EventFormatError("event", "must be a JSON object")
    kind = obj.get("type")
    if not isinstance(kind, str) or kind not in EVENT_FIELDS:
        raise EventFormatError("type", f"unknown event type {kind!r}; expected one of {sorted(EVENT_TYPES)}")
    stamp = ts if ts is not None else parse_ts(obj.get("ts"))
    values: dict[str, Any] = {}
    branch = obj.get("branch")
    if branch is not None:
        values["branch"] = _name(obj, "branch")
    for key in EVENT_FIELDS[kind]:
        if key == "services":
            values["services"] = parse_profile(obj.get("services"))
        elif key == "config":
            try:
                values["config"] = parse_config(obj.get("config"))
            except ConfigError as exc:
                raise EventFormatError(exc.field if exc.field.startswith("config") else f"config.{exc.field}", exc.message) from None
        else:
            values[key] = _name(obj, key)
    if kind == "counter_paused":
        reason = obj.get("reason")
        if reason is not None:
            if not isinstance(reason, str):
                raise EventFormatError("reason", "must be a string")
            if len(reason) > MAX_REASON_LENGTH:
                raise EventFormatError("reason", f"must be at most {MAX_REASON_LENGTH} characters")
            values["reason"] = reason.strip() or None
        minutes = obj.get("minutes")
        if minutes is not None:
            if isinstance(minutes, bool) or not isinstance(minutes, int | float) or not math.isfinite(minutes):
                raise EventFormatError("minutes", "must be a number")
            if not 0 <= minutes <= MAX_PAUSE_MINUTES:
                raise EventFormatError("minutes", f"must be between 0 and {MAX_PAUSE_MINUTES}")
            values["minutes"] = float(minutes)
    if kind == "ticket_issued":
        for key in PROMISE_FIELDS:
            values[key] = _percentiles(obj, key)
    return Event(ts=stamp, type=kind, at=stamp.timestamp(), **values)


def event_to_dict(event: Event) -> dict[str, Any]:
    """The JSON object of one log line, fields in the spec's order, absent ones left out."""
    out: dict[str, Any] = {"ts": format_ts(event.ts), "type": event.type}
    if event.branch is not None:
        out["branch"] = event.branch
    for key in ("ticket", "service", "counter"):
        value = getattr(event, key)
        if value is not None:
            out[key] = value
    if event.services is not None:
        out["services"] = [list(tier) for tier in event.services]
    if event.reason is not None:
        out["reason"] = event.reason
    if event.minutes is not None:
        out["minutes"] = int(event.minutes) if event.minutes.is_integer() else event.minutes
    for key in PROMISE_FIELDS:
        values = getattr(event, key)
        if values is not None:
            out[key] = dict(zip(("p10", "p50", "p90"), values, strict=True))
    if event.config is not None:
        out["config"] = event.config.to_dict()
    return out


def event_to_json(event: Event) -> str:
    """One JSON Lines line (without the newline)."""
    return json.dumps(event_to_dict(event), ensure_ascii=False)


class LogFormatError(ValueError):
    """A line of a JSON Lines log that cannot be read; names the line."""

    def __init__(self, line_number: int, message: str) -> None:
        super().__init__(f"line {line_number}: {message}")
        self.line_number = line_number
        self.message = message


def read_log(lines: Iterable[str]) -> Iterator[tuple[int, Event]]:
    """Parse a JSON Lines log, yielding ``(line_number, event)``; blank lines are skipped."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LogFormatError(number, f"not JSON ({exc.msg})") from None
        try:
            yield number, parse_event(obj)
        except EventFormatError as exc:
            raise LogFormatError(number, str(exc)) from None


def write_log(events: Iterable[Event], out: TextIO) -> int:
    """Write events as JSON Lines; returns how many were written."""
    count = 0
    for event in events:
        out.write(event_to_json(event))
        out.write("\n")
        count += 1
    return count
