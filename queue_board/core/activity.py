"""How each counter spent its day and what happened to each ticket: the projection of the log
that the manager's reports read (``queue_board/reports/``).

An :class:`ActivityLog` is fed every event a branch's :class:`~queue_board.core.projection.Projection`
accepts, right after the branch state applied it, so the live dashboard, the history, the CLI
report and a restarted server all read the same records, rebuilt the same way from the log.

The vocabulary (docs/reports.md defines each):

- a counter's time is cut into :class:`Segment` s of one :class:`Activity`: *serving* (from the
  call to the finish, the customer's walk to the window included), *wrap-up* (after a finish
  or a transfer, until the next call, pause or close, at most :data:`WRAP_UP_LIMIT_SECONDS`),
  *paused* (with the declared reason and minutes), *idle* (open, free, not wrapping up) and
  *closed* (after a close, until it opens again);
- each ticket has a :class:`TicketRecord`: when it was issued, the range it was told, its
  first call (its wait is issue → first call), and how it ended;
- each time a teller called a ticket is a :class:`Transaction`.

Records are kept per local day (:class:`DayActivity`), the day of the events' own timestamps.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from queue_board.core.branch import TicketStatus
from queue_board.core.events import Event, Percentiles


class Activity(StrEnum):
    """What a counter is doing, as a report counts it."""

    SERVING = "serving"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"
    IDLE = "idle"
    CLOSED = "closed"


#: a teller still "wrapping up" this long after a finish is taken to be idle: the console's state
#: stays "wrapping up" until the next call, and with nobody waiting that can last an hour
WRAP_UP_LIMIT_SECONDS = 180.0

#: activities in which a counter is open (the denominator of utilisation of open time)
OPEN_ACTIVITIES = frozenset({Activity.SERVING, Activity.WRAP_UP, Activity.PAUSED, Activity.IDLE})
#: activities in which a counter is open and staffed (pauses excluded)
STAFFED_ACTIVITIES = frozenset({Activity.SERVING, Activity.WRAP_UP, Activity.IDLE})
#: activities that count as busy (the numerator of utilisation)
BUSY_ACTIVITIES = frozenset({Activity.SERVING, Activity.WRAP_UP})


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of one counter's time in one activity; ``end`` is ``None`` while it lasts."""

    counter: str
    activity: Activity
    start: float
    end: float | None = None
    #: paused: the reason the teller gave, and the minutes they declared (``None``: not said)
    reason: str | None = None
    declared_minutes: float | None = None
    #: serving: the ticket at the counter
    ticket: str | None = None

    def length(self, now: float) -> float:
        """Seconds from start to end (to ``now`` while it lasts)."""
        return max(0.0, (self.end if self.end is not None else now) - self.start)

    def overrun(self, now: float) -> float:
        """Seconds a pause lasted beyond its declared minutes (0 if none declared or not paused)."""
        if self.activity is not Activity.PAUSED or self.declared_minutes is None:
            return 0.0
        return max(0.0, self.length(now) - self.declared_minutes * 60.0)


@dataclass(slots=True)
class TicketRecord:
    """One ticket of one day, as reports need it."""

    label: str
    #: the service the ticket was issued for (a transfer does not change it)
    service: str
    issued_at: float
    #: the wait range the customer was told at issue (seconds from issue), if the log has it
    told: Percentiles | None = None
    #: the first call: the end of the wait the customer was promised
    called_at: float | None = None
    counter: str | None = None
    ended_at: float | None = None
    #: as the branch state words it; ``transferred`` = waiting again for the other service
    outcome: TicketStatus = TicketStatus.WAITING
    transfers: int = 0
    recalls: int = 0
    #: the service it waits for or is served for now (another after a transfer)
    current_service: str = ""
    #: the transaction length predicted at issue (``ticket_issued.predicted_seconds``), if the log has it
    predicted_seconds: float | None = None
    #: the range (seconds from issue) it was re-promised, when, and why (``ticket_repromised``)
    repromised: Percentiles | None = None
    repromised_at: float | None = None
    repromise_reason: str | None = None

    def __post_init__(self) -> None:
        if not self.current_service:
            self.current_service = self.service

    @property
    def wait(self) -> float | None:
        """Seconds from issue to first call (``None`` until called)."""
        return None if self.called_at is None else self.called_at - self.issued_at

    def waited_until(self, now: float) -> float:
        """Seconds the customer has waited (or waited) by ``now``: to the first call, a
        cancellation, or ``now`` while still waiting."""
        if self.called_at is not None:
            return self.called_at - self.issued_at
        end = self.ended_at if self.ended_at is not None else now
        return max(0.0, end - self.issued_at)


@dataclass(slots=True)
class Transaction:
    """One call of a ticket at a counter and what came of it."""

    ticket: str
    service: str
    counter: str
    called_at: float
    started_at: float | None = None
    ended_at: float | None = None
    #: ``running`` until it ends ``finished``, ``transferred`` or ``no_show``
    outcome: str = "running"

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish of a transaction that was served (``None`` otherwise)."""
        if self.started_at is None or self.ended_at is None or self.outcome == "no_show":
            return None
        return self.ended_at - self.started_at


@dataclass(slots=True)
class DayActivity:
    """Everything the reports need of one branch's local day."""

    day: date
    #: the day's UTC offset in seconds (from its first event): local hours are counted with it
    utc_offset: float
    first_at: float
    last_at: float
    tickets: dict[str, TicketRecord] = field(default_factory=dict)
    transactions: list[Transaction] = field(default_factory=list)
    #: segments that ended, in the order they ended
    segments: list[Segment] = field(default_factory=list)
    #: the segment each counter is in now
    current: dict[str, Segment] = field(default_factory=dict)
    #: counters in the order they first appeared that day
    counters: list[str] = field(default_factory=list)
    #: whether a later day has started (nothing more will be recorded here)
    closed: bool = False
    #: what reports worked out of a closed day, kept so that a 90-day report adds up days
    #: instead of recounting them (``queue_board.reports.columns``); empty while the day runs
    memo: dict[str, object] = field(default_factory=dict)

    def all_segments(self, now: float | None = None) -> list[Segment]:
        """Every segment of the day, the running ones cut at ``now`` (or at the day's last
        event once the day is over), a long wrap-up split into wrap-up and idle."""
        until = self.last_at if now is None or self.closed else max(now, self.last_at)
        result: list[Segment] = []
        for segment in self.segments:
            if segment.activity is Activity.WRAP_UP:
                result.extend(split_wrap_up(segment))
            else:
                result.append(segment)
        for segment in self.current.values():
            # a segment that began this instant is still the counter's state: kept, 0 s long
            result.extend(split_wrap_up(dataclasses.replace(segment, end=max(until, segment.start))))
        result.sort(key=lambda s: (s.start, s.counter))
        return result

    def local_hour(self, at: float) -> int:
        """The hour of the day (0–23) of ``at`` in the day's offset."""
        return int(((at + self.utc_offset) % 86400) // 3600)


def split_wrap_up(segment: Segment, limit: float = WRAP_UP_LIMIT_SECONDS) -> list[Segment]:
    """A wrap-up longer than ``limit`` is wrap-up for ``limit`` seconds and idle after."""
    if segment.activity is not Activity.WRAP_UP or segment.end is None or segment.end - segment.start <= limit:
        return [segment]
    cut = segment.start + limit
    return [
        Segment(counter=segment.counter, activity=Activity.WRAP_UP, start=segment.start, end=cut),
        Segment(counter=segment.counter, activity=Activity.IDLE, start=cut, end=segment.end),
    ]


#: the activity a counter is in after each event that moves it
_AFTER: dict[str, Activity] = {
    "counter_opened": Activity.IDLE,
    "counter_closed": Activity.CLOSED,
    "counter_paused": Activity.PAUSED,
    "counter_resumed": Activity.IDLE,
    "ticket_called": Activity.SERVING,
    "service_finished": Activity.WRAP_UP,
    "ticket_transferred": Activity.WRAP_UP,
    "ticket_no_show": Activity.IDLE,
}


@dataclass(slots=True)
class ActivityLog:
    """The per-day records of one branch, fed one accepted event at a time."""

    days: dict[date, DayActivity] = field(default_factory=dict)
    today: DayActivity | None = None

    def record(self, event: Event) -> None:
        """Take one event the branch state has just applied (it must have passed ``validate``)."""
        day = self._day_of(event)
        day.last_at = max(day.last_at, event.at)
        kind = event.type
        now = event.at
        if kind == "ticket_issued":
            assert event.ticket is not None and event.service is not None
            day.tickets[event.ticket] = TicketRecord(
                label=event.ticket, service=event.service, issued_at=now, told=event.told, predicted_seconds=event.predicted_seconds
            )
            return
        if kind == "ticket_cancelled":
            record = day.tickets.get(event.ticket or "")
            if record is not None:
                record.outcome = TicketStatus.CANCELLED
                record.ended_at = now
            return
        if kind == "ticket_repromised":
            record = day.tickets.get(event.ticket or "")
            if record is not None:
                record.repromised = event.told
                record.repromised_at = now
                record.repromise_reason = event.reason
            return
        if event.counter is None:
            return  # branch_configured
        counter = event.counter
        if counter not in day.counters:
            day.counters.append(counter)
        record = day.tickets.get(event.ticket or "") if event.ticket is not None else None
        if kind == "ticket_called" and record is not None:
            if record.called_at is None:
                record.called_at = now
                record.counter = counter
            record.outcome = TicketStatus.CALLED
            day.transactions.append(Transaction(ticket=record.label, service=record.current_service, counter=counter, called_at=now))
        elif kind == "ticket_recalled" and record is not None:
            record.recalls += 1
        elif kind == "service_started" and record is not None:
            record.outcome = TicketStatus.SERVING
            self._end_transaction(day, counter, record.label, started=now)
        elif kind in ("service_finished", "ticket_no_show", "ticket_transferred") and record is not None:
            outcome = {"service_finished": "finished", "ticket_no_show": "no_show", "ticket_transferred": "transferred"}[kind]
            self._end_transaction(day, counter, record.label, ended=now, outcome=outcome)
            if kind == "ticket_transferred":
                assert event.service is not None
                record.transfers += 1
                record.current_service = event.service
                record.outcome = TicketStatus.TRANSFERRED
            else:
                record.outcome = TicketStatus.DONE if kind == "service_finished" else TicketStatus.NO_SHOW
                record.ended_at = now
        after = _AFTER.get(kind)
        if after is not None:
            self._move(
                day,
                Segment(
                    counter=counter,
                    activity=after,
                    start=now,
                    reason=event.reason if after is Activity.PAUSED else None,
                    declared_minutes=event.minutes if after is Activity.PAUSED else None,
                    ticket=event.ticket if after is Activity.SERVING else None,
                ),
            )

    def record_promise(self, label: str, told: Percentiles | None) -> None:
        """The range a ticket just issued was told (the live server works it out after the
        event was applied; a stored event carries it already)."""
        if self.today is not None and label in self.today.tickets:
            self.today.tickets[label].told = told

    def in_range(self, start: date, end: date) -> list[DayActivity]:
        """The recorded days from ``start`` to ``end`` inclusive, oldest first."""
        return [self.days[d] for d in sorted(self.days) if start <= d <= end]

    # internals -------------------------------------------------------------------------
    def _day_of(self, event: Event) -> DayActivity:
        day = event.day
        if self.today is not None and self.today.day == day:
            return self.today
        if self.today is not None and day < self.today.day:
            # an event of an earlier day than the current one does not pass validate; keep it safe
            return self.today
        offset = event.ts.utcoffset()
        fresh = DayActivity(
            day=day,
            utc_offset=offset.total_seconds() if offset is not None else 0.0,
            first_at=event.at,
            last_at=event.at,
        )
        previous = self.today
        if previous is not None:
            self._close_day(previous, fresh)
        self.days[day] = fresh
        self.today = fresh
        return fresh

    @staticmethod
    def _close_day(previous: DayActivity, fresh: DayActivity) -> None:
        """End the old day at its last event; a counter left open (or paused) over night carries
        on from the new day's first event, as the branch state has it (a call is gone, so
        serving and wrap-up become idle)."""
        for counter, segment in list(previous.current.items()):
            previous.segments.append(_ended(segment, previous.last_at))
            if segment.activity is Activity.CLOSED:
                continue
            carried = segment.activity if segment.activity is Activity.PAUSED else Activity.IDLE
            fresh.current[counter] = Segment(
                counter=counter,
                activity=carried,
                start=fresh.first_at,
                reason=segment.reason if carried is Activity.PAUSED else None,
                declared_minutes=segment.declared_minutes if carried is Activity.PAUSED else None,
            )
            fresh.counters.append(counter)
        previous.current.clear()
        for transaction in previous.transactions:
            if transaction.outcome == "running":
                transaction.outcome = "unfinished"
        previous.closed = True

    @staticmethod
    def _move(day: DayActivity, segment: Segment) -> None:
        running = day.current.get(segment.counter)
        if running is not None and running.start < segment.start:
            day.segments.append(_ended(running, segment.start))
        day.current[segment.counter] = segment

    @staticmethod
    def _end_transaction(
        day: DayActivity, counter: str, label: str, *, started: float | None = None, ended: float | None = None, outcome: str | None = None
    ) -> None:
        for transaction in reversed(day.transactions):
            if transaction.counter == counter and transaction.ticket == label and transaction.outcome == "running":
                if started is not None:
                    transaction.started_at = started
                if ended is not None:
                    transaction.ended_at = ended
                if outcome is not None:
                    transaction.outcome = outcome
                return


def _ended(segment: Segment, end: float) -> Segment:
    return dataclasses.replace(segment, end=end)


def shown_top_seconds(told: Percentiles) -> float:
    """The top of the range a board showed for ``told``, in seconds, rounded the way the
    screens word it (static/js/format.js ``formatRange``): "under 1 min" is 60 s, else the p90
    rounded to the nearest whole minute (halves up)."""
    p90 = told[2]
    if p90 < 60:
        return 60.0
    return math.floor(p90 / 60 + 0.5) * 60.0


def shown_bottom_seconds(told: Percentiles) -> float:
    """The bottom of the range a board showed for ``told`` (0 for "under 1 min" and "up to")."""
    if told[2] < 60:
        return 0.0
    return math.floor(max(0.0, told[0]) / 60 + 0.5) * 60.0
