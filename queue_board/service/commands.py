"""Writes: every change to a branch is one event appended to its log, through here.

A write takes the branch's lock, catches up with the store, builds the event from the caught-up
state (a teller's button is a pure function in ``core.teller_actions``), stamps it with the
server's clock, validates it, moves the projection (a new ticket is told its own forecast, stored
on its event), appends and commits it, and only then answers, pushes and refreshes. A write that
does not commit leaves no trace: the projection it moved is dropped and rebuilt from the log.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, cast

from queue_board.core.branch import BranchState, Rejection, apply, replay, validate
from queue_board.core.branch_config import BranchConfig, ConfigError, parse_config
from queue_board.core.events import (
    PROMISE_FIELDS,
    SERVER_FIELDS,
    Event,
    EventFormatError,
    LogFormatError,
    event_to_dict,
    parse_event,
    read_log,
)
from queue_board.core.fields import name_problem
from queue_board.core.projection import Projection
from queue_board.core.teller_actions import build_action, check_action
from queue_board.core.text import N_
from queue_board.core.tickets import next_label
from queue_board.service.clock import SystemClock
from queue_board.service.errors import ProblemError, conflict, invalid, not_found
from queue_board.service.projections import ProjectionRegistry
from queue_board.store.event_store import ConflictingSequence, StoredEvent

Fields = dict[str, Any]
FieldBuilder = Callable[[BranchState], Fields]


@dataclass(frozen=True, slots=True)
class Accepted:
    """An event the branch accepted (or, for a retried request, had already accepted)."""

    seq: int
    event: Event
    replayed: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The API's answer."""
        return {"seq": self.seq, "event": event_to_dict(self.event)}


def _fixed_offset(ts: datetime) -> datetime:
    """Pin a zone-aware time to its UTC offset, as it will read back from the log."""
    offset = ts.utcoffset()
    assert offset is not None
    return ts.astimezone(timezone(offset))


def check_branch_id(branch: str) -> None:
    """422 if ``branch`` cannot be a branch id (the charset and length of labels, docs/api.md
    "Limits"): checked before the id reaches the database, which would refuse NUL or 65 characters."""
    problem = name_problem(branch)
    if problem is not None:
        raise invalid(f"branch: {problem}", field="branch")


def _parse_log(lines: list[str]) -> list[tuple[int, Event]] | LogFormatError:
    """The log's events with their line numbers, or the first line's error (returned, not
    raised: this runs in another thread)."""
    try:
        return list(read_log(lines))
    except LogFormatError as exc:
        return exc


def _first_problem(state: BranchState, branch: str, parsed: list[tuple[int, Event]]) -> ProblemError | None:
    """The problem of the first line that does not follow from ``state`` and the lines before it."""
    trial = copy.deepcopy(state)
    for number, event in parsed:
        if event.branch is not None and event.branch != branch:
            return invalid(f"event names branch {event.branch!r}, not {branch!r}", line=number)
        rejection = validate(trial, event)
        if rejection is not None:
            problem = not_found if rejection.kind == "not_found" else conflict
            return problem(f"line {number}: {rejection.message}", line=number)
        apply(trial, event)
    return None


def _accept_all(projection: Projection, events: list[Event]) -> list[Event]:
    """Accept checked events in order; the events as they must be stored."""
    return [projection.accept(event)[0] for event in events]


class BranchCommands:
    """The write side of the branches of one store."""

    def __init__(
        self,
        projections: ProjectionRegistry,
        *,
        clock: SystemClock,
        offload: Callable[..., Any],
        after_write: Callable[[str, Event | None], None],
    ) -> None:
        self.projections = projections
        self.clock = clock
        self.offload = offload
        self.after_write = after_write

    def submit(
        self,
        branch: str,
        fields: Fields | FieldBuilder,
        *,
        actor: str | None = None,
        idempotency_key: str | None = None,
        request_hash: str | None = None,
    ) -> Accepted:
        """Stamp, validate, store and apply one event; raise :class:`ProblemError` if it cannot be.

        ``fields`` is the event without ``ts``, or a function that builds it from the
        current state (for "call next", which depends on who is waiting). A request
        retried with the same idempotency key is answered with the event stored the first
        time; reusing a key for a different request is an error.
        """
        check_branch_id(branch)
        try:
            return self._write(branch, fields, actor, idempotency_key, request_hash, under_lock=False)
        except ConflictingSequence:
            # another process wrote to the branch since it was caught up: nothing was stored and
            # the projection was dropped. Again, this time caught up and accepted under the
            # database's lock, so that however busy the others are, this write gets through
            return self._write(branch, fields, actor, idempotency_key, request_hash, under_lock=True)

    def _write(
        self,
        branch: str,
        fields: Fields | FieldBuilder,
        actor: str | None,
        idempotency_key: str | None,
        request_hash: str | None,
        *,
        under_lock: bool,
    ) -> Accepted:
        """One try of :meth:`submit`. Without ``under_lock``, the event is built, checked and (a
        new ticket) told its forecast before the write transaction, which then holds the branch's
        write lock for one insert only (:class:`ConflictingSequence` if another process took the
        seq meanwhile); with it, all of that happens inside the transaction, under the lock, so
        no other writer can take the seq first."""
        with self.projections.lock(branch):
            projection = self.projections.current(branch) if under_lock else self.projections.get(branch)
            moved = False
            try:
                with ExitStack() as transaction:
                    conn = transaction.enter_context(self.projections.store.writing(branch)) if under_lock else None
                    if under_lock:
                        self.projections.catch_up(branch, projection, conn)
                    if idempotency_key is not None:
                        earlier = self.projections.store.find_by_key(conn, branch, idempotency_key)
                        if earlier is not None:
                            return self._replayed(earlier, request_hash)
                    built = fields(projection.state) if callable(fields) else fields
                    event = self._stamp(projection, built)
                    if event.branch is not None and event.branch != branch:
                        raise invalid(f"event names branch {event.branch!r} but was posted to {branch!r}", field="branch")
                    self._check_service_offered(projection.state, event)
                    rejection = projection.check(event)
                    if rejection is not None:
                        raise self._problem(branch, event, rejection)
                    seq = projection.state.seq + 1
                    # the projection moves before the commit because a new ticket's promise is its
                    # own forecast, stored on its event
                    moved = True
                    event = self._accept(projection, event)
                    if conn is None:
                        conn = transaction.enter_context(self.projections.store.writing(branch))
                    # the unique (branch, seq) and (branch, key) keep two processes from both
                    # taking one seq, or both storing one request
                    self.projections.store.append(
                        conn, branch, seq, event, idempotency_key=idempotency_key, request_hash=request_hash, actor=actor
                    )
            except BaseException:
                if moved:
                    # not committed: drop the projection, the next use rebuilds it from the log
                    self.projections.drop(branch)
                raise
        self.after_write(branch, event)
        return Accepted(seq, event)

    def _replayed(self, earlier: StoredEvent, request_hash: str | None) -> Accepted:
        """The answer to a request retried with an Idempotency-Key already stored."""
        if earlier.request_hash != request_hash:
            raise invalid("this Idempotency-Key was already used for a different request", field="Idempotency-Key")
        return Accepted(earlier.seq, earlier.event, replayed=True)

    def _check_service_offered(self, state: BranchState, event: Event) -> None:
        """404 for a live ticket (posted to ``/events`` or transferred) for a service the branch's
        configuration does not offer, as the kiosk refuses one. Live writes to a configured
        branch only: a stored or imported log keeps the services it names, and a branch that was
        never configured (fed from another system's log) names its services as it goes."""
        if event.type not in ("ticket_issued", "ticket_transferred") or event.service is None:
            return
        config = state.config
        if config is not None and config.services and config.service(event.service) is None:
            raise not_found(f"service {event.service!r} is not offered at this branch", field="service")

    def _problem(self, branch: str, event: Event | None, rejection: Rejection) -> ProblemError:
        """The answer to a rejection of ``event`` (or of a teller's action, before any event):
        422 naming the field for what is missing or wrong, 404 for what does not exist, 409 for
        what does not fit the state."""
        # without params the sentence is a plain message, not a template (as it always was sent)
        params = rejection.params or None
        details = {"field": rejection.field} if rejection.field is not None else {}
        if rejection.kind == "invalid":
            return invalid(rejection.template, params=params, words=rejection.words, **details)
        if rejection.kind != "not_found":
            return conflict(rejection.template, params=params, words=rejection.words, **details)
        # called inside the write transaction: the caught-up projection's configuration, no new read
        config = self.projections.config_of(self.projections.current(branch).state)
        if rejection.subject == "counter" and event is not None and event.counter and config.counter(event.counter):
            # a configured counter exists even before its first opening: it is closed
            return conflict(N_("counter %(counter)s is closed; open it first"), params={"counter": event.counter})
        return not_found(rejection.template, params=params, words=rejection.words, **details)

    def _accept(self, projection: Projection, event: Event) -> Event:
        """Move the projection by a checked event; a new ticket's forecast runs where it cannot
        stall the event loop."""
        if event.type == "ticket_issued":
            recorded, _ = self.offload(projection.accept, event)
        else:
            recorded, _ = projection.accept(event)
        return cast(Event, recorded)

    def _stamp(self, projection: Projection, fields: Fields) -> Event:
        if "ts" in fields:
            raise invalid("ts is stamped by the server; to load a historical log use the import endpoint", field="ts")
        # a re-promise carries its new range in ``told``; everywhere else ``told`` is the server's
        for key in PROMISE_FIELDS if fields.get("type") != "ticket_repromised" else ("told_raw",):
            if key in fields:
                raise invalid(f"{key} is the forecast the server tells a new ticket; it cannot be posted", field=key)
        for key in SERVER_FIELDS:
            if key in fields and key not in PROMISE_FIELDS:
                raise invalid(f"{key} is the transaction length the server predicts for a new ticket; it cannot be posted", field=key)
        ts = _fixed_offset(self.clock.now())
        last = projection.state.last_ts
        if last is not None and ts < last:
            ts = last  # never stamp earlier than the log's last event, even if the wall clock stepped back
        try:
            return parse_event(fields, ts=ts)
        except EventFormatError as exc:
            raise invalid(exc.message, field=exc.field) from None

    def counter_action(self, branch: str, counter: str, action: str, body: dict[str, Any], **meta: Any) -> Accepted:
        """A teller's button: build the event from the counter's state (core.teller_actions) and submit it."""
        # what no state can fix is refused before the write starts, idempotency key or not
        rejection = check_action(self._known_config(branch), counter, action, body)
        if rejection is not None:
            # this process's copy of the configuration may be behind another process's: look again before refusing
            rejection = check_action(self.projections.config(branch), counter, action, body)
        if rejection is not None:
            raise self._problem(branch, None, rejection)

        def build(state: BranchState) -> Fields:
            # built from the state caught up under the branch's lock (who waits, what the counter
            # holds), and checked again against its configuration, which may be newer
            config = self.projections.config_of(state)
            again = check_action(config, counter, action, body)
            if again is not None:
                raise self._problem(branch, None, again)
            built = build_action(state, config, counter, action, body)
            if isinstance(built, Rejection):
                raise self._problem(branch, None, built)
            return built

        return self.submit(branch, build, **meta)

    def _known_config(self, branch: str) -> BranchConfig:
        """The branch's configuration as this process holds it, without a look at the store (read
        from the log first if this process has not loaded the branch yet). For checks that a
        refusal confirms against the store, and that the write repeats under its lock."""
        projection = self.projections.current(branch)
        if projection.state.seq == 0:
            projection = self.projections.get(branch)
        return self.projections.config_of(projection.state)

    def issue_ticket(self, branch: str, service: str, **meta: Any) -> tuple[Accepted, dict[str, Any]]:
        """Take a ticket for ``service`` (the kiosk); returns the event and what to print on it."""
        # this process's copy of the configuration may be behind another process's: look again before refusing
        if self._known_config(branch).service(service) is None and self.projections.config(branch).service(service) is None:
            raise not_found(f"service {service!r} is not offered at this branch", field="service")

        def build(state: BranchState) -> Fields:
            # the configuration of the state caught up under the lock: the prefix as it is now
            info = self.projections.config_of(state).service(service)
            if info is None:
                raise not_found(f"service {service!r} is not offered at this branch", field="service")
            return {"type": "ticket_issued", "ticket": next_label(state, info.prefix, self.clock.now()), "service": service}

        accepted = self.submit(branch, build, **meta)
        label = accepted.event.ticket
        assert label is not None
        ahead = self._people_ahead(branch, accepted, service, label)
        # what is printed is the promise stored on the event: the ticket's own forecast, the
        # range replay scores and calibration learns from
        told = accepted.event.told
        wait = dict(zip(("p10", "p50", "p90"), told, strict=True)) if told is not None else None
        return accepted, {"ticket": label, "service": service, "people_ahead": ahead, "wait": wait}

    def _people_ahead(self, branch: str, accepted: Accepted, service: str, label: str) -> int:
        """How many were ahead of a new ticket in its queue, as printed on it.

        A retried request (``replayed``) is answered what the first one was: the queue right
        after the ticket's event, replayed from the log up to it, not the queue now (it moved).
        """
        if accepted.replayed:
            events = [stored.event for stored in self.projections.store.load(branch, limit=accepted.seq)]
            queue = replay(events).queued(service)
        else:
            # the write just caught up: no second look at the store
            projection = self.projections.current(branch)
            with self.projections.lock(branch):
                queue = projection.state.queued(service)
        return queue.index(label) if label in queue else 0

    def import_log(self, branch: str, lines: Iterable[str], *, actor: str | None = None) -> int:
        """Append a JSON Lines log after the branch's current events, all or nothing.

        Every line is parsed and validated in order against the branch's state before any
        is stored; the first bad line is named in the error. A line dated on a later day than
        the server's today is refused: the kiosk numbers today's tickets after the log's last day.

        Parsing, checking and telling each ticket its forecast run where they cannot stall the
        event loop (``offload``), before the database's write lock is taken: a 60,000-event log
        held that lock, and so every branch's writes, for 9 s (issue 12). The lock is held only
        for the inserts, in chunks that let the loop serve the other clients between them.
        """
        check_branch_id(branch)
        parsed_or_error: list[tuple[int, Event]] | LogFormatError = self.offload(_parse_log, list(lines))
        if isinstance(parsed_or_error, LogFormatError):
            raise invalid(str(parsed_or_error), line=parsed_or_error.line_number)
        parsed = parsed_or_error
        if not parsed:
            raise invalid("the log holds no events")
        now = self.clock.now()
        for number, event in parsed:
            if max(event.day, event.ts.astimezone(now.tzinfo).date()) > now.date():
                raise invalid(
                    f"line {number}: dated {event.day.isoformat()}, after the server's today ({now.date().isoformat()})",
                    line=number,
                )
        with self.projections.lock(branch):
            projection = self.projections.get(branch)
            problem = self.offload(_first_problem, projection.state, branch, parsed)
            if problem is not None:
                raise problem
            first_seq = projection.state.seq + 1
            try:
                # each new ticket is told what the engine would have told it, as in replay
                recorded = self.offload(_accept_all, projection, [e for _, e in parsed])
                with self.projections.store.writing(branch) as conn:
                    # the unique (branch, seq) refuses the log if another process wrote meanwhile
                    self.projections.store.append_many(conn, branch, first_seq, recorded, actor)
            except ConflictingSequence:
                self.projections.drop(branch)
                raise conflict("another server process wrote to this branch while the log was stored: send it again") from None
            except BaseException:
                # the projection moved past the log: rebuilt from it on next use
                self.projections.drop(branch)
                raise
        self.after_write(branch, None)
        return len(parsed)

    def set_config(self, branch: str, raw: Any, *, actor: str | None = None) -> BranchConfig:
        """Validate a configuration object (422 naming the field if invalid) and append it to the
        branch's log as a ``branch_configured`` event; creates the branch."""
        try:
            parsed = parse_config(raw)
        except ConfigError as exc:
            raise invalid(exc.message, field=exc.field) from None
        if self.projections.get(branch).state.config == parsed:
            return parsed  # the same again (a restart loading its file): nothing to record
        accepted = self.submit(branch, {"type": "branch_configured", "config": parsed.to_dict()}, actor=actor)
        assert accepted.event.config is not None
        return accepted.event.config
