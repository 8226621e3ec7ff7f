"""The branch as a projection of its event log.

``validate(state, event)`` says why an event cannot happen now (or ``None``);
``apply(state, event)`` changes the state and is the only place that does. The live
server, ``replay``, the simulator and the tests all go through these two functions, so
the state any of them sees is the state the log implies.
"""

from __future__ import annotations

import bisect
import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from enum import StrEnum

from queue_board.core.branch_config import BranchConfig
from queue_board.core.events import FEEDBACK_TYPES, WARNING_TYPES, Event, Percentiles, Profile
from queue_board.core.text import N_


class TicketStatus(StrEnum):
    """Where a ticket is in its life."""

    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    #: waiting again, for another service, after a teller transferred the customer
    TRANSFERRED = "transferred"


QUEUED = frozenset({TicketStatus.WAITING, TicketStatus.TRANSFERRED})


class CounterStatus(StrEnum):
    """What a counter is doing."""

    CLOSED = "closed"
    IDLE = "idle"
    CALLING = "calling"
    SERVING = "serving"
    #: free after a transaction; the teller finishes the paperwork before the next call
    WRAPPING_UP = "wrapping_up"
    PAUSED = "paused"


FREE = frozenset({CounterStatus.IDLE, CounterStatus.WRAPPING_UP})


@dataclass(slots=True)
class Ticket:
    """A customer's ticket for one local day."""

    label: str
    service: str
    issued_at: float
    #: FIFO key: the issue time, kept through a transfer so the customer keeps their place
    queued_at: float
    status: TicketStatus = TicketStatus.WAITING
    counter: str | None = None
    called_at: float | None = None
    started_at: float | None = None
    ended_at: float | None = None
    recalls: int = 0
    transfers: int = 0
    #: the transaction length predicted at issue (``ticket_issued.predicted_seconds``); ``None``
    #: when the log has none, and after a transfer (it was a prediction for the other service)
    predicted_seconds: float | None = None
    #: the range (seconds from issue) the customer was re-promised, once (``ticket_repromised``)
    repromised: Percentiles | None = None
    repromise_reason: str | None = None
    #: the counter the re-promise names, and its pause reason then (when it was paused)
    repromise_counter: str | None = None
    repromise_pause_reason: str | None = None


@dataclass(frozen=True, slots=True)
class HeadsUp:
    """A teller's heads-up during a transaction (``transaction_extended``): when, how many extra
    minutes were declared, and why (a code of the branch's heads-up reasons, free text, or none)."""

    at: float
    minutes: float
    reason: str | None = None


@dataclass(slots=True)
class Counter:
    """A counter (a teller's window) and what it is doing."""

    name: str
    status: CounterStatus = CounterStatus.CLOSED
    services: Profile = ()
    since: float = 0.0
    ticket: str | None = None
    pause_reason: str | None = None
    pause_minutes: float | None = None
    #: when the counter last became free to call (open, resume, finish, no-show)
    free_since: float | None = None
    #: "express ≤ N min" since it opened (``counter_opened.express_minutes``): see core.call_rule
    express_minutes: float | None = None
    #: the heads-ups of the transaction in progress, oldest first (a tuple: forecast copies share it)
    heads_ups: tuple[HeadsUp, ...] = ()


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why an event or a teller's action cannot happen. ``kind`` is ``not_found``, ``conflict``
    (it does not fit the state) or ``invalid`` (a field of the request is missing or wrong;
    ``field`` names it); ``subject`` says what was not found (``counter`` or ``ticket``).

    ``template`` is an English sentence with ``%(name)s`` placeholders filled from ``params``;
    ``words`` names the params that are vocabulary (a status, an action) rather than names,
    so that a translation can translate them too.
    """

    kind: str
    template: str
    params: Mapping[str, str] = field(default_factory=dict)
    subject: str | None = None
    words: tuple[str, ...] = ()
    field: str | None = None

    @property
    def message(self) -> str:
        """The sentence in English."""
        return self.template % self.params


@dataclass(slots=True)
class BranchState:
    """Everything the log implies about a branch now."""

    branch: str | None = None
    day: date | None = None
    now: float = 0.0
    tz: timezone | None = None
    last_ts: datetime | None = None
    seq: int = 0
    tickets: dict[str, Ticket] = field(default_factory=dict)
    counters: dict[str, Counter] = field(default_factory=dict)
    #: per service, labels of queued tickets ordered by (queued_at, arrival order)
    queues: dict[str, list[tuple[float, int, str]]] = field(default_factory=dict)
    #: tie-breaker so that two tickets issued in the same millisecond keep log order
    arrivals: int = 0
    #: the branch's services and counters, from its latest ``branch_configured`` (None: never configured)
    config: BranchConfig | None = None
    #: the complaint and praise log: each recorded id's status (what ``validate`` needs of it;
    #: ``core.feedback`` keeps the rest). Complaints outlive the day: never cleared
    feedback: dict[str, str] = field(default_factory=dict)
    #: the manager's warnings still on: each key's state, ``open`` or ``acknowledged`` (what
    #: ``validate`` needs; ``core.warning_log`` keeps the rest). Not cleared at a new day: the
    #: server clears them with outcome ``day_ended`` (reports.warnings.plan_warning_events)
    warnings: dict[str, str] = field(default_factory=dict)

    def queued(self, service: str) -> list[str]:
        """Labels of the tickets waiting for ``service``, first in line first."""
        return [label for _, _, label in self.queues.get(service, ())]

    def ahead_in_queue(self) -> dict[str, int]:
        """Per waiting ticket, how many wait before it in its own service's queue (one pass over
        the queues, for views that show every waiting ticket's place)."""
        return {label: ahead for queue in self.queues.values() for ahead, (_, _, label) in enumerate(queue)}

    def waiting_tickets(self) -> list[Ticket]:
        """Every queued ticket of the branch, in the order they joined the queue."""
        entries = sorted(e for queue in self.queues.values() for e in queue)
        return [self.tickets[label] for _, _, label in entries]

    def copy_for_forecast(self) -> BranchState:
        """A copy of what a forecast reads (queued tickets, tickets at counters, counters),
        cheap whatever the length of the day: finished tickets are left out."""
        keep = {label for queue in self.queues.values() for _, _, label in queue}
        keep.update(c.ticket for c in self.counters.values() if c.ticket is not None)
        return BranchState(
            branch=self.branch,
            day=self.day,
            now=self.now,
            tz=self.tz,
            last_ts=self.last_ts,
            seq=self.seq,
            tickets={label: copy.copy(self.tickets[label]) for label in keep},
            counters={name: copy.copy(c) for name, c in self.counters.items()},
            queues={service: list(queue) for service, queue in self.queues.items()},
            arrivals=self.arrivals,
            config=self.config,
        )

    def waiting_count(self) -> int:
        """How many tickets are queued."""
        return sum(len(queue) for queue in self.queues.values())


def _queue_add(state: BranchState, ticket: Ticket) -> None:
    state.arrivals += 1
    bisect.insort(state.queues.setdefault(ticket.service, []), (ticket.queued_at, state.arrivals, ticket.label))


def _queue_remove(state: BranchState, ticket: Ticket) -> None:
    queue = state.queues[ticket.service]
    for index, entry in enumerate(queue):
        if entry[2] == ticket.label:
            del queue[index]
            break
    if not queue:
        del state.queues[ticket.service]


def _is_new_day(state: BranchState, event: Event) -> bool:
    return state.day is not None and event.day > state.day


#: the statuses a complaint or praise may go to from each status (docs/event-log.md "Feedback"):
#: forward, or back to work after a resolution that did not hold; a closed one only reopens
FEEDBACK_TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"open", "in_progress", "resolved", "closed"}),
    "in_progress": frozenset({"in_progress", "resolved", "closed"}),
    "resolved": frozenset({"open", "in_progress", "resolved", "closed"}),
    "closed": frozenset({"open"}),
}


def _validate_feedback(state: BranchState, event: Event) -> Rejection | None:
    """Why a complaint or praise cannot be recorded or updated now (the sentences are in the
    catalogue; the statuses they name are words of ``service.errors.VOCABULARY``)."""
    item = event.feedback
    assert item is not None
    if item.deadline is not None and item.deadline.timestamp() < event.at:
        return Rejection(
            "invalid", N_("the deadline %(deadline)s is already past"), {"deadline": item.deadline.isoformat()}, field="deadline"
        )
    current = state.feedback.get(item.id)
    if event.type == "feedback_recorded":
        if current is not None:
            return Rejection("conflict", N_("feedback %(id)s was already recorded"), {"id": item.id}, field="id")
        if item.ticket is not None and item.ticket_day is not None:
            if item.ticket_day > event.day:
                return Rejection(
                    "invalid",
                    N_("ticket day %(day)s is after the day the feedback is recorded"),
                    {"day": item.ticket_day.isoformat()},
                    field="ticket_day",
                )
            # the state holds its current day's tickets only (an earlier day's are the service's to check)
            held = item.ticket_day == state.day and item.ticket in state.tickets
            if (item.ticket_day in (state.day, event.day)) and not held:
                return Rejection(
                    "not_found",
                    N_("ticket %(ticket)s was not issued on %(day)s"),
                    {"ticket": item.ticket, "day": item.ticket_day.isoformat()},
                    "ticket",
                    field="ticket",
                )
        return None
    if current is None:
        return Rejection("not_found", N_("no feedback %(id)s was recorded"), {"id": item.id}, "feedback")
    assert item.status is not None
    if item.status not in FEEDBACK_TRANSITIONS[current]:
        if current == "closed":
            return Rejection(
                "conflict", N_("feedback %(id)s is closed; it can only be reopened (status open)"), {"id": item.id}, field="status"
            )
        return Rejection(
            "conflict",
            N_("feedback %(id)s is %(status)s; it cannot go to %(needed)s"),
            {"id": item.id, "status": current, "needed": item.status},
            words=("status", "needed"),
            field="status",
        )
    if current == "closed" and item.note is None:
        return Rejection("invalid", N_("reopening closed feedback needs a note saying why"), field="note")
    if item.status == current and item.owner is None and item.deadline is None and item.note is None:
        return Rejection(
            "invalid", N_("an update must change the status or give an owner, a deadline or a note"), field="status"
        )
    return None


def _validate_warning(state: BranchState, event: Event) -> Rejection | None:
    """A warning is raised while not on, acknowledged once while on, cleared while on."""
    note = event.warning
    assert note is not None
    current = state.warnings.get(note.key)
    if event.type == "warning_raised":
        if current is not None:
            return Rejection("conflict", N_("warning %(key)s is already on"), {"key": note.key}, field="key")
        return None
    if current is None:
        return Rejection("not_found", N_("no warning %(key)s is on"), {"key": note.key}, "warning", field="key")
    if event.type == "warning_acknowledged" and current == "acknowledged":
        return Rejection("conflict", N_("warning %(key)s was already acknowledged"), {"key": note.key}, field="key")
    return None


def validate(state: BranchState, event: Event) -> Rejection | None:
    """Why ``event`` cannot happen in ``state``, or ``None`` if it can."""
    if state.last_ts is not None and event.at < state.now:
        return Rejection(
            "conflict",
            N_("event at %(ts)s is earlier than the last event (%(last)s)"),
            {"ts": event.ts.isoformat(), "last": state.last_ts.isoformat()},
        )
    if state.branch is not None and event.branch is not None and event.branch != state.branch:
        return Rejection(
            "conflict",
            N_("event is for branch %(branch)r, not %(current)r"),
            {"branch": event.branch, "current": state.branch},
        )
    if event.type in FEEDBACK_TYPES:
        return _validate_feedback(state, event)
    if event.type in WARNING_TYPES:
        return _validate_warning(state, event)
    if _is_new_day(state, event):
        # judge the event against the morning state, as apply() will
        state = copy.deepcopy(state)
        state.now = event.at
        _roll_over(state)
    kind = event.type

    if kind in ("branch_configured", "bank_prior_adopted"):
        # any configuration or prior that parsed is valid: it names things, it moves nobody
        return None
    if kind == "ticket_issued":
        assert event.ticket is not None
        if event.ticket in state.tickets:
            return Rejection("conflict", N_("ticket %(ticket)s was already issued today"), {"ticket": event.ticket})
        return None

    counter: Counter | None = None
    if event.counter is not None:
        counter = state.counters.get(event.counter)
        if counter is None and kind != "counter_opened":
            return Rejection(
                "not_found", N_("counter %(counter)s has never been opened"), {"counter": event.counter}, "counter"
            )

    ticket: Ticket | None = None
    if event.ticket is not None:
        ticket = state.tickets.get(event.ticket)
        if ticket is None:
            return Rejection(
                "not_found", N_("ticket %(ticket)s was not issued today"), {"ticket": event.ticket}, "ticket"
            )

    if kind == "counter_opened":
        if counter is not None and counter.status is not CounterStatus.CLOSED:
            return Rejection("conflict", N_("counter %(counter)s is already open"), {"counter": counter.name})
        return None
    if kind == "ticket_repromised":
        assert ticket is not None
        if ticket.status not in QUEUED:
            return Rejection(
                "conflict",
                N_("ticket %(ticket)s is %(status)s; only a waiting ticket can be re-promised"),
                {"ticket": ticket.label, "status": ticket.status.value},
                words=("status",),
            )
        if ticket.repromised is not None:
            return Rejection("conflict", N_("ticket %(ticket)s was already re-promised"), {"ticket": ticket.label})
        return None
    assert counter is not None or kind == "ticket_cancelled"

    if kind in ("counter_closed", "counter_paused"):
        assert counter is not None
        verb = "close" if kind == "counter_closed" else "pause"
        allowed = FREE | ({CounterStatus.PAUSED} if kind == "counter_closed" else frozenset())
        if counter.status not in allowed:
            if counter.status in (CounterStatus.CALLING, CounterStatus.SERVING):
                return Rejection(
                    "conflict",
                    N_("counter %(counter)s must finish ticket %(ticket)s before it can %(action)s"),
                    {"counter": counter.name, "ticket": counter.ticket or "", "action": verb},
                    words=("action",),
                )
            return Rejection(
                "conflict",
                N_("counter %(counter)s is %(status)s; it cannot %(action)s"),
                {"counter": counter.name, "status": counter.status.value, "action": verb},
                words=("status", "action"),
            )
        return None
    if kind == "counter_resumed":
        assert counter is not None
        if counter.status is not CounterStatus.PAUSED:
            return Rejection(
                "conflict",
                N_("counter %(counter)s is %(status)s, not paused"),
                {"counter": counter.name, "status": counter.status.value},
                words=("status",),
            )
        return None

    assert ticket is not None
    if kind == "ticket_cancelled":
        if ticket.status not in QUEUED:
            return Rejection(
                "conflict",
                N_("ticket %(ticket)s is %(status)s; only a waiting ticket can be cancelled"),
                {"ticket": ticket.label, "status": ticket.status.value},
                words=("status",),
            )
        return None

    assert counter is not None
    if kind == "ticket_called":
        if ticket.status not in QUEUED:
            return Rejection(
                "conflict",
                N_("ticket %(ticket)s is %(status)s, not waiting"),
                {"ticket": ticket.label, "status": ticket.status.value},
                words=("status",),
            )
        if counter.status not in FREE:
            return Rejection(
                "conflict",
                N_("counter %(counter)s is %(status)s; only a free open counter calls"),
                {"counter": counter.name, "status": counter.status.value},
                words=("status",),
            )
        return None

    if ticket.counter != counter.name or counter.ticket != ticket.label:
        return Rejection(
            "conflict",
            N_("ticket %(ticket)s is not at counter %(counter)s"),
            {"ticket": ticket.label, "counter": counter.name},
        )
    needed = {
        "ticket_recalled": TicketStatus.CALLED,
        "service_started": TicketStatus.CALLED,
        "ticket_no_show": TicketStatus.CALLED,
        "service_finished": TicketStatus.SERVING,
        "ticket_transferred": TicketStatus.SERVING,
        # a heads-up is about the transaction in progress: that counter serving that ticket
        "transaction_extended": TicketStatus.SERVING,
    }[kind]
    if ticket.status is not needed:
        return Rejection(
            "conflict",
            N_("ticket %(ticket)s is %(status)s, not %(needed)s"),
            {"ticket": ticket.label, "status": ticket.status.value, "needed": needed.value},
            words=("status", "needed"),
        )
    if kind == "ticket_transferred" and event.service == ticket.service:
        return Rejection(
            "conflict",
            N_("ticket %(ticket)s is already for service %(service)s"),
            {"ticket": ticket.label, "service": ticket.service},
        )
    return None


def _roll_over(state: BranchState) -> None:
    """Start a new local day: ticket numbering restarts, yesterday's queue is gone."""
    state.tickets.clear()
    state.queues.clear()
    for counter in state.counters.values():
        if counter.status in (CounterStatus.CALLING, CounterStatus.SERVING):
            counter.status = CounterStatus.IDLE
            counter.ticket = None
            counter.free_since = state.now
            counter.heads_ups = ()


def apply(state: BranchState, event: Event) -> None:
    """Change ``state`` by one event that :func:`validate` accepted."""
    if event.type in FEEDBACK_TYPES:
        _apply_feedback(state, event)
        return
    if event.type in WARNING_TYPES:
        _apply_warning(state, event)
        return
    if state.day is None or event.day > state.day:
        if state.day is not None:
            state.now = event.at
            _roll_over(state)
        state.day = event.day
    _advance_log(state, event)
    now = event.at
    kind = event.type

    if kind == "branch_configured":
        state.config = event.config
        return
    if kind == "bank_prior_adopted":
        return  # the forecast's starting point (forecast.pooling.adopt_bank_prior), nobody's state
    if kind == "ticket_issued":
        assert event.ticket is not None and event.service is not None
        ticket = Ticket(
            label=event.ticket, service=event.service, issued_at=now, queued_at=now, predicted_seconds=event.predicted_seconds
        )
        state.tickets[ticket.label] = ticket
        _queue_add(state, ticket)
        return
    if kind == "ticket_repromised":
        ticket = state.tickets[event.ticket]  # type: ignore[index]
        ticket.repromised = event.told
        ticket.repromise_reason = event.reason
        ticket.repromise_counter = event.counter
        named = state.counters.get(event.counter or "")
        if named is not None and named.status is CounterStatus.PAUSED:
            ticket.repromise_pause_reason = named.pause_reason
        return
    if kind == "ticket_cancelled":
        ticket = state.tickets[event.ticket]  # type: ignore[index]
        _queue_remove(state, ticket)
        ticket.status = TicketStatus.CANCELLED
        ticket.ended_at = now
        return

    assert event.counter is not None
    if kind == "counter_opened":
        counter = state.counters.setdefault(event.counter, Counter(name=event.counter))
        assert event.services is not None
        counter.services = event.services
        counter.express_minutes = event.express_minutes
        _set_free(counter, CounterStatus.IDLE, now)
        return
    counter = state.counters[event.counter]
    if kind == "counter_closed":
        counter.status = CounterStatus.CLOSED
        counter.since = now
        counter.ticket = None
        counter.pause_reason = counter.pause_minutes = None
        counter.free_since = None
        counter.heads_ups = ()
        return
    if kind == "counter_paused":
        counter.status = CounterStatus.PAUSED
        counter.since = now
        counter.pause_reason = event.reason
        counter.pause_minutes = event.minutes
        return
    if kind == "counter_resumed":
        counter.pause_reason = counter.pause_minutes = None
        _set_free(counter, CounterStatus.IDLE, now)
        return

    ticket = state.tickets[event.ticket]  # type: ignore[index]
    if kind == "ticket_called":
        _queue_remove(state, ticket)
        ticket.status = TicketStatus.CALLED
        ticket.counter = counter.name
        ticket.called_at = now
        counter.status = CounterStatus.CALLING
        counter.ticket = ticket.label
        counter.since = now
        counter.heads_ups = ()
    elif kind == "transaction_extended":
        assert event.minutes is not None
        counter.heads_ups = (*counter.heads_ups, HeadsUp(at=now, minutes=event.minutes, reason=event.reason))
    elif kind == "ticket_recalled":
        ticket.recalls += 1
    elif kind == "service_started":
        ticket.status = TicketStatus.SERVING
        ticket.started_at = now
        counter.status = CounterStatus.SERVING
        counter.since = now
    elif kind == "service_finished":
        ticket.status = TicketStatus.DONE
        ticket.ended_at = now
        _set_free(counter, CounterStatus.WRAPPING_UP, now)
    elif kind == "ticket_no_show":
        ticket.status = TicketStatus.NO_SHOW
        ticket.ended_at = now
        _set_free(counter, CounterStatus.IDLE, now)
    elif kind == "ticket_transferred":
        assert event.service is not None
        ticket.status = TicketStatus.TRANSFERRED
        ticket.service = event.service
        ticket.transfers += 1
        ticket.predicted_seconds = None
        ticket.counter = None
        ticket.called_at = ticket.started_at = None
        _queue_add(state, ticket)
        _set_free(counter, CounterStatus.WRAPPING_UP, now)


def _advance_log(state: BranchState, event: Event) -> None:
    """What every event does to the state: its clock, zone and branch, and one more ``seq``."""
    state.now = event.at
    state.last_ts = event.ts
    state.tz = event.ts.tzinfo  # type: ignore[assignment]
    if state.branch is None and event.branch is not None:
        state.branch = event.branch
    state.seq += 1


def _apply_feedback(state: BranchState, event: Event) -> None:
    """A complaint or praise moves the log on (``seq``, the clock) and nothing of the queue: it does
    not start a new day either. The day starts at its first queue event, as in a log without
    feedback, so a complaint written up in the evening or on a Sunday changes no day's records,
    no learned rhythm and no overnight pause (docs/event-log.md "Feedback")."""
    _advance_log(state, event)
    item = event.feedback
    assert item is not None
    state.feedback[item.id] = item.status or "open"


def _apply_warning(state: BranchState, event: Event) -> None:
    """A warning moves the log on and nothing of the queue, like feedback (no new day either)."""
    _advance_log(state, event)
    note = event.warning
    assert note is not None
    if event.type == "warning_raised":
        state.warnings[note.key] = "open"
    elif event.type == "warning_acknowledged":
        state.warnings[note.key] = "acknowledged"
    else:
        del state.warnings[note.key]


def _set_free(counter: Counter, status: CounterStatus, now: float) -> None:
    counter.status = status
    counter.since = now
    counter.ticket = None
    counter.free_since = now
    counter.heads_ups = ()


def replay(events: list[Event] | tuple[Event, ...], state: BranchState | None = None) -> BranchState:
    """Project a list of events that must all be valid; raises ``ValueError`` on the first that is not."""
    state = state if state is not None else BranchState()
    for event in events:
        rejection = validate(state, event)
        if rejection is not None:
            raise ValueError(rejection.message)
        apply(state, event)
    return state
