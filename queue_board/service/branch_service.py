"""The imperative shell around the core: store events, keep engines current, push boards.

One :class:`BranchService` per app. For each branch it keeps an :class:`~queue_board.core.projection.Projection`
rebuilt from the event log on first use and caught up from the database before every
write (so several processes sharing one database stay consistent). A write is:
take the branch's lock → catch up → build and stamp the event → validate → append and
commit → apply → push the board. Forecasts are refreshed afterwards, off the request
path, and pushed again when ready.
"""

from __future__ import annotations

import copy
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from queue_board.core.board_view import board_view
from queue_board.core.branch import FREE, BranchState, CounterStatus, Rejection, apply, validate
from queue_board.core.branch_config import BranchConfig, ConfigError, parse_config
from queue_board.core.call_rule import next_ticket
from queue_board.core.events import (
    Event,
    EventFormatError,
    LogFormatError,
    event_to_dict,
    event_to_json,
    parse_event,
    read_log,
)
from queue_board.core.projection import Projection
from queue_board.core.text import N_
from queue_board.forecast.durations import Priors
from queue_board.forecast.monte_carlo import Forecast, calibrate, forecast
from queue_board.service.clock import SystemClock
from queue_board.service.errors import ProblemError, conflict, invalid, not_found
from queue_board.store.event_store import EventStore

log = logging.getLogger(__name__)

Fields = dict[str, Any]
FieldBuilder = Callable[[BranchState], Fields]
Publisher = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class Accepted:
    """An event the branch accepted (or, for a retried request, had already accepted)."""

    seq: int
    event: Event
    replayed: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The API's answer."""
        return {"seq": self.seq, "event": event_to_dict(self.event)}


def _direct(task: Callable[..., Any], *args: Any) -> Any:
    return task(*args)


def _fixed_offset(ts: datetime) -> datetime:
    """Pin a zone-aware time to its UTC offset, as it will read back from the log."""
    offset = ts.utcoffset()
    assert offset is not None
    return ts.astimezone(timezone(offset))


class BranchService:
    """Branches' engines over one event store."""

    def __init__(
        self,
        store: EventStore,
        *,
        clock: SystemClock | None = None,
        priors: Priors | None = None,
        scenarios: int = 128,
        default_config: BranchConfig | None = None,
        publish: Publisher | None = None,
        start_task: Callable[..., Any] = _direct,
        offload: Callable[..., Any] = _direct,
    ) -> None:
        self.store = store
        self.clock = clock or SystemClock()
        self.priors = priors or Priors()
        self.scenarios = scenarios
        self.default_config = default_config or BranchConfig()
        self.publish = publish
        self.start_task = start_task
        self.offload = offload
        self._projections: dict[str, Projection] = {}
        self._locks: dict[str, threading.RLock] = {}
        self._configs: dict[str, BranchConfig] = {}
        self._forecasts: dict[str, tuple[int, Forecast]] = {}
        self._refresh_guard = threading.Lock()
        self._refreshing: set[str] = set()
        self._dirty: set[str] = set()
        self._registry_lock = threading.Lock()
        self._known_branches: set[str] = set()
        self._listeners: list[Publisher] = []

    # engines ----------------------------------------------------------------------
    def lock(self, branch: str) -> threading.RLock:
        """The in-process lock serialising writes to ``branch``."""
        with self._registry_lock:
            return self._locks.setdefault(branch, threading.RLock())

    def projection(self, branch: str) -> Projection:
        """The branch's projection, rebuilt from the log on first use and caught up with it."""
        with self.lock(branch):
            projection = self._projections.get(branch)
            if projection is None:
                projection = self._projections[branch] = Projection(priors=self.priors, scenarios=self.scenarios)
            self._catch_up(branch, projection)
            return projection

    def _catch_up(self, branch: str, projection: Projection, conn: Any = None) -> None:
        for stored in self.store.load(branch, after_seq=projection.state.seq, conn=conn):
            rejection = projection.submit(stored.event)
            if rejection is not None or projection.state.seq != stored.seq:
                # the log is the source of truth; a stored event the core rejects is a bug to surface
                raise RuntimeError(f"stored event {branch}#{stored.seq} does not replay: {rejection}")

    def branch_exists(self, branch: str) -> bool:
        """Whether the branch has a row (configuration, tokens or events); branches are never deleted."""
        if branch in self._known_branches:
            return True
        if branch in self.store.branch_ids():
            self._known_branches.add(branch)
            return True
        return False

    # configuration ----------------------------------------------------------------
    def config(self, branch: str) -> BranchConfig:
        """The branch's configuration: stored, else the server's default."""
        cached = self._configs.get(branch)
        if cached is None:
            raw = self.store.get_config(branch)
            cached = parse_config(raw) if raw is not None else self.default_config
            self._configs[branch] = cached
        return cached

    def set_config(self, branch: str, raw: Any) -> BranchConfig:
        """Validate and store a configuration object (422 naming the field if invalid)."""
        try:
            parsed = parse_config(raw)
        except ConfigError as exc:
            raise invalid(exc.message, field=exc.field) from None
        self.store.set_config(branch, parsed.to_dict())
        self._configs[branch] = parsed
        self._push(branch, None)
        return parsed

    # writing ----------------------------------------------------------------------
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
        with self.lock(branch):
            projection = self._projections.get(branch) or self.projection(branch)
            with self.store.writing(branch) as conn:
                if idempotency_key is not None:
                    earlier = self.store.find_by_key(conn, branch, idempotency_key)
                    if earlier is not None:
                        if earlier.request_hash != request_hash:
                            raise invalid(
                                "this Idempotency-Key was already used for a different request",
                                field="Idempotency-Key",
                            )
                        return Accepted(earlier.seq, earlier.event, replayed=True)
                self._catch_up(branch, projection, conn)
                built = fields(projection.state) if callable(fields) else fields
                event = self._stamp(projection, built)
                if event.branch is not None and event.branch != branch:
                    raise invalid(f"event names branch {event.branch!r} but was posted to {branch!r}", field="branch")
                rejection = projection.check(event)
                if rejection is not None:
                    raise self._problem(branch, event, rejection)
                seq = projection.state.seq + 1
                self.store.append(
                    conn, branch, seq, event, idempotency_key=idempotency_key, request_hash=request_hash, actor=actor
                )
            # committed: only now may the projection move
            projection.submit(event)
        self._push(branch, event)
        self.schedule_refresh(branch)
        return Accepted(seq, event)

    def _problem(self, branch: str, event: Event, rejection: Rejection) -> ProblemError:
        """404 for what does not exist, 409 for what does not fit the state."""
        if rejection.kind != "not_found":
            return conflict(rejection.template, params=rejection.params, words=rejection.words)
        if rejection.subject == "counter" and event.counter and self.config(branch).counter(event.counter):
            # a configured counter exists even before its first opening: it is closed
            return conflict(N_("counter %(counter)s is closed; open it first"), params={"counter": event.counter})
        return not_found(rejection.template, params=rejection.params, words=rejection.words)

    def _stamp(self, projection: Projection, fields: Fields) -> Event:
        if "ts" in fields:
            raise invalid("ts is stamped by the server; to load a historical log use the import endpoint", field="ts")
        ts = _fixed_offset(self.clock.now())
        last = projection.state.last_ts
        if last is not None and ts < last:
            ts = last  # never stamp earlier than the log's last event, even if the wall clock stepped back
        try:
            return parse_event(fields, ts=ts)
        except EventFormatError as exc:
            raise invalid(exc.message, field=exc.field) from None

    def counter_action(self, branch: str, counter: str, action: str, body: dict[str, Any], **meta: Any) -> Accepted:
        """A teller's button: build the event from the counter's state and submit it."""
        builder = self._action_builder(branch, counter, action, body)
        return self.submit(branch, builder, **meta)

    def _action_builder(self, branch: str, name: str, action: str, body: dict[str, Any]) -> FieldBuilder:
        config = self.config(branch)

        def current(state: BranchState, verb: str) -> Fields:
            counter = state.counters.get(name)
            if counter is None or counter.ticket is None:
                status = counter.status.value if counter is not None else "closed"
                raise conflict(
                    N_("counter %(counter)s has no called ticket to %(action)s (it is %(status)s)"),
                    params={"counter": name, "action": verb, "status": status},
                    words=("action", "status"),
                )
            return {"ticket": counter.ticket, "counter": name}

        def call_next(state: BranchState) -> Fields:
            counter = state.counters.get(name)
            if counter is None or counter.status is CounterStatus.CLOSED:
                raise conflict(N_("counter %(counter)s is closed; open it first"), params={"counter": name})
            if counter.status not in FREE:
                raise conflict(
                    N_("counter %(counter)s is %(status)s; finish or resume first"),
                    params={"counter": name, "status": counter.status.value},
                    words=("status",),
                )
            ticket = next_ticket(state, counter)
            if ticket is None:
                raise conflict(N_("nobody is waiting for the services of counter %(counter)s"), params={"counter": name})
            return {"type": "ticket_called", "ticket": ticket.label, "counter": name}

        def call_one(state: BranchState) -> Fields:
            ticket = body.get("ticket")
            if not isinstance(ticket, str) or not ticket:
                raise invalid("ticket: give the label of the ticket to call", field="ticket")
            return {"type": "ticket_called", "ticket": ticket, "counter": name}

        def open_counter(state: BranchState) -> Fields:
            services = body.get("services")
            if services is None:
                info = config.counter(name)
                known = state.counters.get(name)
                if info is not None:
                    services = [list(t) for t in info.services]
                elif known is not None and known.services:
                    services = [list(t) for t in known.services]
                else:
                    raise invalid(f"services: counter {name} has no configured work profile; give one", field="services")
            elif config.services:
                unknown = [s for tier in services if isinstance(tier, list) for s in tier if config.service(s) is None]
                if unknown:
                    raise invalid(f"services: unknown services {unknown}", field="services")
            return {"type": "counter_opened", "counter": name, "services": services}

        def with_type(kind: str, verb: str) -> FieldBuilder:
            return lambda state: {"type": kind, **current(state, verb)}

        def transfer(state: BranchState) -> Fields:
            service = body.get("service")
            if not isinstance(service, str) or not service:
                raise invalid("service: name the service to transfer the customer to", field="service")
            if config.services and config.service(service) is None:
                raise not_found(f"service {service!r} is not offered at this branch")
            return {"type": "ticket_transferred", "service": service, **current(state, "transfer")}

        def pause(state: BranchState) -> Fields:
            fields: Fields = {"type": "counter_paused", "counter": name}
            for key in ("reason", "minutes"):
                if body.get(key) is not None:
                    fields[key] = body[key]
            return fields

        builders: dict[str, FieldBuilder] = {
            "call-next": call_next,
            "call": call_one,
            "recall": with_type("ticket_recalled", "recall"),
            "start": with_type("service_started", "start"),
            "finish": with_type("service_finished", "finish"),
            "no-show": with_type("ticket_no_show", "mark as no-show"),
            "transfer": transfer,
            "pause": pause,
            "resume": lambda state: {"type": "counter_resumed", "counter": name},
            "open": open_counter,
            "close": lambda state: {"type": "counter_closed", "counter": name},
        }
        builder = builders.get(action)
        if builder is None:
            raise not_found(f"unknown counter action {action!r}; expected one of {sorted(builders)}")
        if config.counters and config.counter(name) is None and action == "open" and body.get("services") is None:
            raise not_found(f"counter {name!r} is not configured at this branch")
        return builder

    def issue_ticket(self, branch: str, service: str, **meta: Any) -> tuple[Accepted, dict[str, Any]]:
        """Take a ticket for ``service`` (the kiosk); returns the event and what to print on it."""
        config = self.config(branch)
        info = config.service(service)
        if info is None:
            raise not_found(f"service {service!r} is not offered at this branch", field="service")

        def build(state: BranchState) -> Fields:
            return {"type": "ticket_issued", "ticket": next_label(state, info.prefix, self.clock.now()), "service": service}

        accepted = self.submit(branch, build, **meta)
        label = accepted.event.ticket
        projection = self.projection(branch)
        with self.lock(branch):
            state = projection.state
            queue = state.queued(service)
            ahead = queue.index(label) if label in queue else 0
            latest = self._forecasts.get(branch)
        wait = None
        if latest is not None:
            _seq, fc = latest
            known = fc.waits.get(label) if label else None
            guess = known if known is not None else fc.new_ticket.get(service)
            if guess is not None and guess.p90 != float("inf"):
                wait = guess.as_dict()
        return accepted, {"ticket": label, "service": service, "people_ahead": ahead, "wait": wait}

    def import_log(self, branch: str, lines: Iterable[str], *, actor: str | None = None) -> int:
        """Append a JSON Lines log after the branch's current events, all or nothing.

        Every line is parsed and validated in order against the branch's state before any
        is stored; the first bad line is named in the error.
        """
        try:
            parsed = list(read_log(lines))
        except LogFormatError as exc:
            raise invalid(str(exc), line=exc.line_number) from None
        if not parsed:
            raise invalid("the log holds no events")
        with self.lock(branch):
            projection = self._projections.get(branch) or self.projection(branch)
            with self.store.writing(branch) as conn:
                self._catch_up(branch, projection, conn)
                trial: BranchState = copy.deepcopy(projection.state)
                for number, event in parsed:
                    if event.branch is not None and event.branch != branch:
                        raise invalid(f"event names branch {event.branch!r}, not {branch!r}", line=number)
                    rejection = validate(trial, event)
                    if rejection is not None:
                        problem = not_found if rejection.kind == "not_found" else conflict
                        raise problem(f"line {number}: {rejection.message}", line=number)
                    apply(trial, event)
                self.store.append_many(conn, branch, projection.state.seq + 1, [e for _, e in parsed], actor)
            for _, event in parsed:
                projection.submit(event)
        self._push(branch, None)
        self.schedule_refresh(branch)
        return len(parsed)

    # reading ----------------------------------------------------------------------
    def export_lines(self, branch: str) -> Iterator[str]:
        """The branch's log as JSON Lines, the spec's format."""
        for stored in self.store.load(branch):
            yield event_to_json(stored.event) + "\n"

    def events_page(self, branch: str, after: int, limit: int) -> list[dict[str, Any]]:
        """Stored events after ``after``, with their sequence numbers and actors."""
        return [
            {"seq": s.seq, "actor": s.actor, "event": event_to_dict(s.event)}
            for s in self.store.load(branch, after_seq=after, limit=limit)
        ]

    def snapshot(self, branch: str) -> dict[str, Any]:
        """The full board state of ``branch``; a stale forecast is refreshed first (in the
        background when the server runs one, so the view may carry the previous forecast)."""
        self.refresh_if_stale(branch)
        return self.snapshot_without_refresh(branch)

    def refresh_if_stale(self, branch: str) -> None:
        """Schedule a forecast refresh if the latest forecast is older than the state."""
        projection = self.projection(branch)
        latest = self._forecasts.get(branch)
        if latest is None or latest[0] < projection.state.seq:
            self.schedule_refresh(branch)

    # forecasts --------------------------------------------------------------------
    def schedule_refresh(self, branch: str) -> None:
        """Ask for a forecast refresh; refreshes of one branch coalesce, never pile up."""
        with self._refresh_guard:
            if branch in self._refreshing:
                self._dirty.add(branch)
                return
            self._refreshing.add(branch)
        self.start_task(self._refresh_loop, branch)

    def _refresh_loop(self, branch: str) -> None:
        try:
            while True:
                self.refresh(branch)
                with self._refresh_guard:
                    if branch in self._dirty:
                        self._dirty.discard(branch)
                        continue
                    self._refreshing.discard(branch)
                    return
        except Exception:
            with self._refresh_guard:
                self._refreshing.discard(branch)
                self._dirty.discard(branch)
            log.exception("forecast refresh of branch %s failed", branch)

    def refresh(self, branch: str) -> Forecast:
        """Recompute the branch's forecast now (off the lock) and push the board."""
        projection = self.projection(branch)
        with self.lock(branch):
            state = projection.state.copy_for_forecast()
            model = projection.model.copy_for_forecast()
            services = [s.code for s in self.config(branch).services]
            rng = projection.forecaster.rng_for(state)
        # the CPU-heavy part runs where it cannot stall the event loop (see extensions.offload)
        raw: Forecast = self.offload(forecast, state, model, rng, self.scenarios, services)
        with self.lock(branch):
            # calibration reads and records into the live model (it learns from outcomes)
            result = calibrate(raw, state, projection.model.calibrator)
            latest = self._forecasts.get(branch)
            if latest is None or latest[0] <= state.seq:
                self._forecasts[branch] = (state.seq, result)
        self._push(branch, None)
        return result

    def subscribe(self, listener: Publisher) -> None:
        """Also call ``listener(branch, board)`` after every push (e.g. to nudge ticket pages)."""
        self._listeners.append(listener)

    def _push(self, branch: str, event: Event | None) -> None:
        if self.publish is None and not self._listeners:
            return
        payload = self.snapshot_without_refresh(branch)
        payload["event"] = event_to_dict(event) if event is not None else None
        if self.publish is not None:
            self.publish(branch, payload)
        for listener in self._listeners:
            listener(branch, payload)

    def snapshot_without_refresh(self, branch: str) -> dict[str, Any]:
        """Board state without scheduling a refresh (used while pushing)."""
        projection = self._projections.get(branch) or self.projection(branch)
        with self.lock(branch):
            latest = self._forecasts.get(branch)
            return board_view(
                projection.state,
                self.config(branch),
                latest[1] if latest else None,
                branch=branch,
                now=max(projection.state.now, self.clock.now().timestamp()) if projection.state.seq else None,
            )


LABEL_NUMBER = re.compile(r"^(?P<prefix>[A-Z]{1,3})(?P<number>\d+)$")


def next_label(state: BranchState, prefix: str, now: datetime) -> str:
    """The next ticket label for ``prefix`` today: ``A001``, ``A002``, … (numbering restarts daily)."""
    highest = 0
    if state.day is not None and state.day == now.date():
        for label in state.tickets:
            match = LABEL_NUMBER.match(label)
            if match and match["prefix"] == prefix:
                highest = max(highest, int(match["number"]))
    return f"{prefix}{highest + 1:03d}"


__all__ = ["Accepted", "BranchService", "ProblemError", "next_label"]
