"""Branch events: the vocabulary of ``shared/spec/event-log.md``, parsed and serialised.

Parsing checks the *shape* of one event (types, required fields); whether the event
makes sense in the branch's current state is the projection's job (``branch.validate``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from queue_board.core.branch_config import MAX_EXPRESS_MINUTES, BranchConfig, ConfigError, parse_config
from queue_board.core.branch_config import MAX_HEADS_UP_MINUTES as MAX_HEADS_UP_MINUTES

# re-exported: the vocabulary of the log is read from here
from queue_board.core.fields import MAX_NAME_LENGTH as MAX_NAME_LENGTH
from queue_board.core.fields import EventFormatError as EventFormatError
from queue_board.core.fields import Profile as Profile
from queue_board.core.fields import finite_number, name_problem
from queue_board.core.fields import parse_profile as parse_profile
from queue_board.core.sister_prior import SisterPrior, parse_sister_prior

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
    # the complaint and praise log (docs/event-log.md "Feedback"): events of the branch's log that
    # move no ticket and no counter; ``core.feedback`` projects them
    "feedback_recorded": ("id", "kind", "channel", "category", "text"),
    "feedback_updated": ("id", "status"),
    # early warnings for the manager (docs/event-log.md "Warnings"): what the server warned of,
    # who acknowledged it and how it ended; they move no ticket and no counter either
    "warning_raised": ("key", "kind", "severity"),
    "warning_acknowledged": ("key",),
    "warning_cleared": ("key", "outcome"),
    # the honest re-promise (docs/event-log.md "Re-promises"): a waiting customer is told, once,
    # a new range because the one they were told is going to break
    "ticket_repromised": ("ticket", "told"),
    # the teller's heads-up (docs/event-log.md "Heads-ups"): a long step of the transaction in
    # progress ("+5 min: entering your details"); ``minutes`` and ``reason`` are parsed below
    "transaction_extended": ("ticket", "counter"),
    # a bank-wide prior pinned in the log (docs/event-log.md "Sister-branch priors"): what this
    # branch starts from where it has learned nothing yet; it moves no ticket and no counter
    "bank_prior_adopted": ("prior",),
}

EVENT_FIELDS: dict[str, tuple[str, ...]] = {**SPEC_FIELDS, **EXTENSION_FIELDS}
EVENT_TYPES: frozenset[str] = frozenset(EVENT_FIELDS)

MAX_REASON_LENGTH = 200
MAX_PAUSE_MINUTES = 24 * 60

#: the complaint and praise log's event types, and the words of its fields
FEEDBACK_TYPES: frozenset[str] = frozenset({"feedback_recorded", "feedback_updated"})
FEEDBACK_KINDS = ("complaint", "praise")
FEEDBACK_CHANNELS = ("in_person", "phone", "written", "app")
#: waiting, and the five service-quality dimensions (SERVQUAL)
FEEDBACK_CATEGORIES = ("waiting", "tangibles", "reliability", "responsiveness", "assurance", "empathy")
#: what the customer is unhappy (or happy) with: the result of the visit, or how it went
FEEDBACK_ASPECTS = ("result", "process")
FEEDBACK_STATUSES = ("open", "in_progress", "resolved", "closed")
MAX_FEEDBACK_TEXT = 4000
MAX_FEEDBACK_NOTE = 2000
#: the customer's satisfaction when a complaint is closed: 1 (very unhappy) to 5 (very happy)
SATISFACTION_RANGE = (1, 5)

#: the warning events, and the words of their fields (the rules are ``queue_board.reports.warnings``)
WARNING_TYPES: frozenset[str] = frozenset({"warning_raised", "warning_acknowledged", "warning_cleared"})
WARNING_KINDS = (
    "promise_at_risk",
    "counter_idle_with_queue",
    "pause_overrun",
    "many_paused",
    "service_unserved",
    "new_ticket_wait_high",
    "duration_drift",
    "feedback_overdue",
)
WARNING_SEVERITIES = ("warning", "alert")
#: how a warning ended (docs/event-log.md "Warnings")
WARNING_OUTCOMES = (
    "promise_kept",
    "promise_broken",
    "customer_left",
    "risk_passed",
    "called",
    "paused",
    "closed",
    "resumed",
    "queue_empty",
    "counter_opened",
    "wait_fell",
    "back_to_norm",
    "followed_up",
    "day_ended",
    "ended",
)
MAX_WARNING_KEY = 120
MAX_WARNING_NOTE = 500
#: a raised warning's figures (seconds, counts, names) are kept as given, within this many characters of JSON
MAX_WARNING_FACTS = 2000
#: events that move no ticket and no counter and start no day: the forecast and the activity
#: records see the log as if they were not there
QUIET_TYPES: frozenset[str] = FEEDBACK_TYPES | WARNING_TYPES
#: why a customer's range was re-promised, as far as the log knows (``None``: it does not say)
REPROMISE_REASONS = ("counter_paused", "counter_closed", "long_transaction", "served_out_of_turn")

#: a wait range in seconds: (p10, p50, p90)
Percentiles = tuple[float, float, float]

#: fields of ``ticket_issued`` that the server records beside the spec's (see docs/event-log.md):
#: the wait range the ticket was told, and the uncalibrated forecast it came from
PROMISE_FIELDS = ("told", "told_raw")

#: fields of ``ticket_issued`` the server computes itself (a client cannot post them): the
#: promise, and the transaction length predicted at issue that an express counter's call rule reads
SERVER_FIELDS = (*PROMISE_FIELDS, "predicted_seconds")
#: the longest transaction a ``ticket_issued.predicted_seconds`` may predict: a day
MAX_PREDICTED_SECONDS = 24 * 3600.0



@dataclass(frozen=True, slots=True)
class Feedback:
    """The fields of a ``feedback_recorded`` or ``feedback_updated`` event (docs/event-log.md).

    A recorded complaint or praise carries ``kind``, ``channel``, ``category`` and ``text``
    (``aspect``, the linked ``ticket`` of ``ticket_day``, ``owner`` and ``deadline`` are
    optional); an update carries ``status`` and optionally ``owner``, ``deadline``, ``note``
    and, when it closes, the customer's ``satisfaction``.
    """

    id: str
    kind: str | None = None
    channel: str | None = None
    ticket: str | None = None
    ticket_day: date | None = None
    category: str | None = None
    aspect: str | None = None
    text: str | None = None
    status: str | None = None
    owner: str | None = None
    deadline: datetime | None = None
    note: str | None = None
    satisfaction: int | None = None
    #: who recorded or changed it (the signed-in user's name, or the token's), stamped by the server
    by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The event's feedback fields as the log writes them, absent ones left out."""
        out: dict[str, Any] = {"id": self.id}
        _put_present(out, self, ("kind", "channel", "ticket"))
        if self.ticket_day is not None:
            out["ticket_day"] = self.ticket_day.isoformat()
        _put_present(out, self, ("category", "aspect", "text", "status", "owner"))
        if self.deadline is not None:
            out["deadline"] = format_ts(self.deadline)
        _put_present(out, self, ("note", "satisfaction", "by"))
        return out


def _put_present(out: dict[str, Any], fields: object, names: tuple[str, ...]) -> None:
    """Copy the attributes ``names`` of ``fields`` that are not ``None`` into ``out``, in order."""
    for name in names:
        value = getattr(fields, name)
        if value is not None:
            out[name] = value


@dataclass(frozen=True, slots=True)
class WarningFields:
    """The fields of a ``warning_raised``, ``warning_acknowledged`` or ``warning_cleared`` event.

    ``key`` names the ongoing condition (``idle:3``, ``promise:A012``); a raise carries its
    ``kind``, ``severity``, ``subject`` and ``facts`` (the figures the dashboard words), an
    acknowledgement who (``by``) and why (``note``), a clearing its ``outcome``.
    """

    key: str
    kind: str | None = None
    severity: str | None = None
    subject: str | None = None
    facts: Mapping[str, Any] | None = None
    by: str | None = None
    note: str | None = None
    outcome: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The event's warning fields as the log writes them, absent ones left out."""
        out: dict[str, Any] = {"key": self.key}
        _put_present(out, self, ("kind", "severity", "subject"))
        if self.facts is not None:
            out["facts"] = dict(self.facts)
        _put_present(out, self, ("by", "note", "outcome"))
        return out


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
    #: ``ticket_issued`` only: the transaction length (seconds, the learned median for the
    #: service at that hour) predicted when the ticket was issued; what an express counter reads
    predicted_seconds: float | None = None
    #: ``counter_opened`` only: the counter is "express ≤ N min" for this N (docs/event-log.md)
    express_minutes: float | None = None
    #: ``branch_configured`` only: the branch's services and counters from this event on
    config: BranchConfig | None = None
    #: ``feedback_recorded`` / ``feedback_updated`` only (the linked ticket is ``feedback.ticket``:
    #: ``ticket`` stays ``None``, the event moves no ticket)
    feedback: Feedback | None = None
    #: ``warning_*`` only
    warning: WarningFields | None = None
    #: ``bank_prior_adopted`` only: what the branch adopted from its sisters
    prior: SisterPrior | None = None
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


def _label(obj: Mapping[str, Any], key: str, *, strict: bool) -> str:
    """A ticket label, counter name, service code or branch id: :func:`name_problem`'s charset
    and length; ``strict=False`` (events already stored) only the old rule of :func:`_name`."""
    if not strict:
        return _name(obj, key)
    value = obj.get(key)
    problem = name_problem(value)
    if problem is not None:
        raise EventFormatError(key, problem)
    assert isinstance(value, str)
    return value


def _percentiles(obj: Mapping[str, Any], key: str) -> Percentiles | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, Mapping) or set(value) != {"p10", "p50", "p90"}:
        raise EventFormatError(key, "must be an object with p10, p50 and p90 (seconds)")
    numbers = [finite_number(value[q]) for q in ("p10", "p50", "p90")]
    checked = [number for number in numbers if number is not None and number >= 0]
    if len(checked) != 3:
        raise EventFormatError(key, "p10, p50 and p90 must be non-negative numbers of seconds")
    if not checked[0] <= checked[1] <= checked[2]:
        raise EventFormatError(key, "must have p10 <= p50 <= p90")
    return (checked[0], checked[1], checked[2])


def _word(obj: Mapping[str, Any], key: str, words: tuple[str, ...], *, required: bool) -> str | None:
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or value not in words:
        raise EventFormatError(key, f"must be one of {', '.join(words)}")
    return value


def _text(obj: Mapping[str, Any], key: str, limit: int, *, required: bool) -> str | None:
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise EventFormatError(key, "must be a non-empty string")
    if len(value) > limit:
        raise EventFormatError(key, f"must be at most {limit} characters")
    return value.strip()


def _parse_feedback(obj: Mapping[str, Any], kind: str, stamp: datetime) -> Feedback:
    """The feedback fields of an event (shape only; ``branch.validate`` judges them in the state)."""
    values: dict[str, Any] = {"id": _name(obj, "id")}
    if kind == "feedback_recorded":
        values["kind"] = _word(obj, "kind", FEEDBACK_KINDS, required=True)
        values["channel"] = _word(obj, "channel", FEEDBACK_CHANNELS, required=True)
        values["category"] = _word(obj, "category", FEEDBACK_CATEGORIES, required=True)
        values["aspect"] = _word(obj, "aspect", FEEDBACK_ASPECTS, required=False)
        values["text"] = _text(obj, "text", MAX_FEEDBACK_TEXT, required=True)
        if obj.get("ticket") is not None:
            values["ticket"] = _name(obj, "ticket")
        day = obj.get("ticket_day")
        if day is not None:
            if values.get("ticket") is None:
                raise EventFormatError("ticket_day", "is the day of the linked ticket: give the ticket too")
            if not isinstance(day, str):
                raise EventFormatError("ticket_day", "must be a date as YYYY-MM-DD")
            try:
                values["ticket_day"] = date.fromisoformat(day)
            except ValueError:
                raise EventFormatError("ticket_day", f"{day!r} is not a date as YYYY-MM-DD") from None
        elif values.get("ticket") is not None:
            values["ticket_day"] = stamp.date()  # a ticket of the day the complaint is recorded
    else:
        values["status"] = _word(obj, "status", FEEDBACK_STATUSES, required=True)
        values["note"] = _text(obj, "note", MAX_FEEDBACK_NOTE, required=False)
        satisfaction = obj.get("satisfaction")
        if satisfaction is not None:
            low, high = SATISFACTION_RANGE
            if isinstance(satisfaction, bool) or not isinstance(satisfaction, int) or not low <= satisfaction <= high:
                raise EventFormatError("satisfaction", f"must be a whole number from {low} to {high}")
            if values["status"] != "closed":
                raise EventFormatError("satisfaction", "is the customer's verdict when a complaint is closed: only with status closed")
            values["satisfaction"] = satisfaction
    if obj.get("owner") is not None:
        values["owner"] = _name(obj, "owner").strip()
    if obj.get("by") is not None:
        values["by"] = _name(obj, "by").strip()
    deadline = obj.get("deadline")
    if deadline is not None:
        try:
            parsed = parse_ts(deadline)
        except EventFormatError as exc:
            raise EventFormatError("deadline", exc.message.replace("ts", "deadline")) from None
        # to the millisecond, as the log writes it
        values["deadline"] = parsed.replace(microsecond=parsed.microsecond // 1000 * 1000)
    return Feedback(**values)


def _optional_number(obj: Mapping[str, Any], key: str, low: float, high: float, *, low_open: bool) -> float | None:
    """An optional number within bounds (``low`` excluded when ``low_open``)."""
    raw = obj.get(key)
    if raw is None:
        return None
    value = finite_number(raw)
    if value is None:
        raise EventFormatError(key, "must be a number")
    if value > high or value < low or (low_open and value == low):
        bound = "more than" if low_open else "at least"
        raise EventFormatError(key, f"must be {bound} {low:g} and at most {high:g}")
    return float(value)


def _parse_warning(obj: Mapping[str, Any], kind: str) -> WarningFields:
    """The warning fields of an event (shape only; ``branch.validate`` judges them in the state)."""
    key = _text(obj, "key", MAX_WARNING_KEY, required=True)
    assert key is not None
    values: dict[str, Any] = {"key": key}
    if kind == "warning_raised":
        values["kind"] = _word(obj, "kind", WARNING_KINDS, required=True)
        values["severity"] = _word(obj, "severity", WARNING_SEVERITIES, required=True)
        if obj.get("subject") is not None:
            values["subject"] = _name(obj, "subject")
        facts = obj.get("facts")
        if facts is not None:
            if not isinstance(facts, Mapping):
                raise EventFormatError("facts", "must be a JSON object")
            try:
                encoded = json.dumps(facts, allow_nan=False)
            except (TypeError, ValueError):
                raise EventFormatError("facts", "must hold only finite numbers, strings, lists and objects") from None
            if len(encoded) > MAX_WARNING_FACTS:
                raise EventFormatError("facts", f"must be at most {MAX_WARNING_FACTS} characters of JSON")
            values["facts"] = json.loads(encoded)
    elif kind == "warning_acknowledged":
        if obj.get("by") is not None:
            values["by"] = _name(obj, "by")
        values["note"] = _text(obj, "note", MAX_WARNING_NOTE, required=False)
    else:
        values["outcome"] = _word(obj, "outcome", WARNING_OUTCOMES, required=True)
    return WarningFields(**values)


def round_percentiles(values: Iterable[float]) -> Percentiles:
    """A range as the log records it: to 0.1 s."""
    p10, p50, p90 = (round(float(v), 1) for v in values)
    return (p10, p50, p90)


def _heads_up_fields(obj: Mapping[str, Any]) -> dict[str, Any]:
    """``minutes`` (required: the extra minutes the teller declared, above 0 and at most
    :data:`MAX_HEADS_UP_MINUTES`) and ``reason`` (optional: a code of the branch's heads-up reasons,
    or free text as long as a pause reason's) of a ``transaction_extended``."""
    values: dict[str, Any] = {}
    minutes = finite_number(obj.get("minutes"))
    if minutes is None:
        raise EventFormatError("minutes", "must be a number: the extra minutes the teller declared")
    if not 0 < minutes <= MAX_HEADS_UP_MINUTES:
        raise EventFormatError("minutes", f"must be more than 0 and at most {MAX_HEADS_UP_MINUTES}")
    values["minutes"] = float(minutes)
    reason = obj.get("reason")
    if reason is not None:
        if not isinstance(reason, str):
            raise EventFormatError("reason", "must be a string")
        if len(reason) > MAX_REASON_LENGTH:
            raise EventFormatError("reason", f"must be at most {MAX_REASON_LENGTH} characters")
        values["reason"] = reason.strip() or None
    return values


def parse_event(obj: Any, *, ts: datetime | None = None, strict: bool = True) -> Event:
    """Build an :class:`Event` from a decoded JSON object, or raise :class:`EventFormatError`.

    ``ts`` overrides (or supplies) the timestamp: the live server stamps events itself.
    Labels and codes are held to :func:`~queue_board.core.fields.name_problem`'s charset;
    ``strict=False`` reads an event the store accepted before that rule (length only).
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
        values["branch"] = _label(obj, "branch", strict=strict)
    if kind in FEEDBACK_TYPES:
        values["feedback"] = _parse_feedback(obj, kind, stamp)
        return Event(ts=stamp, type=kind, at=stamp.timestamp(), **values)
    if kind in WARNING_TYPES:
        values["warning"] = _parse_warning(obj, kind)
        return Event(ts=stamp, type=kind, at=stamp.timestamp(), **values)
    if kind == "bank_prior_adopted":
        values["prior"] = parse_sister_prior(obj.get("prior"))
        return Event(ts=stamp, type=kind, at=stamp.timestamp(), **values)
    if kind == "ticket_repromised":
        values["ticket"] = _label(obj, "ticket", strict=strict)
        values["told"] = _percentiles(obj, "told")
        if values["told"] is None:
            raise EventFormatError("told", "must be an object with p10, p50 and p90 (seconds)")
        values["reason"] = _word(obj, "reason", REPROMISE_REASONS, required=False)
        if obj.get("counter") is not None:
            values["counter"] = _label(obj, "counter", strict=strict)
        return Event(ts=stamp, type=kind, at=stamp.timestamp(), **values)
    for key in EVENT_FIELDS[kind]:
        if key == "services":
            values["services"] = parse_profile(obj.get("services"), strict=strict)
        elif key == "config":
            try:
                values["config"] = parse_config(obj.get("config"), strict=strict)
            except ConfigError as exc:
                raise EventFormatError(exc.field if exc.field.startswith("config") else f"config.{exc.field}", exc.message) from None
        else:
            values[key] = _label(obj, key, strict=strict)
    if kind == "counter_paused":
        reason = obj.get("reason")
        if reason is not None:
            if not isinstance(reason, str):
                raise EventFormatError("reason", "must be a string")
            if len(reason) > MAX_REASON_LENGTH:
                raise EventFormatError("reason", f"must be at most {MAX_REASON_LENGTH} characters")
            values["reason"] = reason.strip() or None
        raw_minutes = obj.get("minutes")
        if raw_minutes is not None:
            minutes = finite_number(raw_minutes)
            if minutes is None:
                raise EventFormatError("minutes", "must be a number")
            if not 0 <= minutes <= MAX_PAUSE_MINUTES:
                raise EventFormatError("minutes", f"must be between 0 and {MAX_PAUSE_MINUTES}")
            values["minutes"] = float(minutes)
    if kind == "transaction_extended":
        values.update(_heads_up_fields(obj))
    if kind == "ticket_issued":
        for key in PROMISE_FIELDS:
            values[key] = _percentiles(obj, key)
        values["predicted_seconds"] = _optional_number(obj, "predicted_seconds", 0.0, MAX_PREDICTED_SECONDS, low_open=False)
    if kind == "counter_opened":
        values["express_minutes"] = _optional_number(obj, "express_minutes", 0.0, MAX_EXPRESS_MINUTES, low_open=True)
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
    for key in ("predicted_seconds", "express_minutes"):
        number = getattr(event, key)
        if number is not None:
            out[key] = int(number) if number.is_integer() else number
    if event.config is not None:
        out["config"] = event.config.to_dict()
    if event.feedback is not None:
        out.update(event.feedback.to_dict())
    if event.warning is not None:
        out.update(event.warning.to_dict())
    if event.prior is not None:
        out["prior"] = event.prior.to_dict()
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
        except RecursionError:
            raise LogFormatError(number, "not an event: nested too deeply") from None
        except ValueError as exc:  # an integer of more digits than Python converts
            raise LogFormatError(number, f"not JSON ({exc})") from None
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
