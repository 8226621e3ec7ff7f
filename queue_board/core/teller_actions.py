"""A teller's buttons as events: what each action means given the branch's state.

Pure: no Flask, no I/O. :func:`build_action` turns (state, configuration, counter, action,
request body) into the fields of one event without ``ts``, or a
:class:`~queue_board.core.branch.Rejection` saying why the button cannot be pressed now; the
service stamps the fields and :func:`~queue_board.core.branch.validate` has the last word.
:func:`available_actions` asks both about every action, so a console enables exactly the
buttons the server accepts: there is one rule, here, not a copy of it in each screen.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from queue_board.core.branch import FREE, BranchState, CounterStatus, Rejection, validate
from queue_board.core.branch_config import BranchConfig
from queue_board.core.call_rule import next_ticket
from queue_board.core.events import EventFormatError, parse_event
from queue_board.core.text import N_

Fields = dict[str, Any]
Builder = Callable[[BranchState, BranchConfig, str, Mapping[str, Any]], Fields | Rejection]

#: every teller action, in the order a console shows them
ACTIONS: tuple[str, ...] = (
    "open",
    "call-next",
    "call",
    "recall",
    "start",
    "no-show",
    "finish",
    "transfer",
    "heads-up",
    "pause",
    "resume",
    "close",
)

#: actions on the ticket the counter holds: the event type, and the verb a rejection names
HOLDING: dict[str, tuple[str, str]] = {
    "recall": ("ticket_recalled", "recall"),
    "start": ("service_started", "start"),
    "finish": ("service_finished", "finish"),
    "no-show": ("ticket_no_show", "mark as no-show"),
}

#: when nothing has happened yet, probes need some time; the state's day is still unknown then
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def check_action(config: BranchConfig, counter: str, action: str, body: Mapping[str, Any]) -> Rejection | None:
    """What is wrong with a request whatever the state: an unknown action, or opening a counter
    the branch does not configure without saying what it serves."""
    if action not in ACTIONS:
        return Rejection(
            "not_found",
            "unknown counter action %(action)r; expected one of %(expected)s",
            {"action": action, "expected": str(sorted(ACTIONS))},
        )
    if config.counters and config.counter(counter) is None and action == "open" and body.get("services") is None:
        return Rejection("not_found", "counter %(counter)r is not configured at this branch", {"counter": counter})
    return None


def _holding(state: BranchState, name: str, verb: str) -> Fields | Rejection:
    """The ticket the counter has called or is serving, for an action on it."""
    counter = state.counters.get(name)
    if counter is None or counter.ticket is None:
        status = counter.status.value if counter is not None else "closed"
        return Rejection(
            "conflict",
            N_("counter %(counter)s has no called ticket to %(action)s (it is %(status)s)"),
            {"counter": name, "action": verb, "status": status},
            words=("action", "status"),
        )
    return {"ticket": counter.ticket, "counter": name}


def _call_next(state: BranchState, config: BranchConfig, name: str, body: Mapping[str, Any]) -> Fields | Rejection:
    counter = state.counters.get(name)
    if counter is None or counter.status is CounterStatus.CLOSED:
        return Rejection("conflict", N_("counter %(counter)s is closed; open it first"), {"counter": name})
    if counter.status not in FREE:
        return Rejection(
            "conflict",
            N_("counter %(counter)s is %(status)s; finish or resume first"),
            {"counter": name, "status": counter.status.value},
            words=("status",),
        )
    ticket = next_ticket(state, counter)
    if ticket is None:
        return Rejection("conflict", N_("nobody is waiting for the services of counter %(counter)s"), {"counter": name})
    return {"type": "ticket_called", "ticket": ticket.label, "counter": name}


def _call(state: BranchState, config: BranchConfig, name: str, body: Mapping[str, Any]) -> Fields | Rejection:
    ticket = body.get("ticket")
    if not isinstance(ticket, str) or not ticket:
        return Rejection("invalid", "ticket: give the label of the ticket to call", field="ticket")
    # any waiting ticket, out of turn too: validate() checks that it waits and the counter is free
    return {"type": "ticket_called", "ticket": ticket, "counter": name}


def _open(state: BranchState, config: BranchConfig, name: str, body: Mapping[str, Any]) -> Fields | Rejection:
    services = body.get("services")
    if services is None:
        info = config.counter(name)
        known = state.counters.get(name)
        if info is not None:
            services = [list(t) for t in info.services]
        elif known is not None and known.services:
            services = [list(t) for t in known.services]
        else:
            return Rejection(
                "invalid",
                "services: counter %(counter)s has no configured work profile; give one",
                {"counter": name},
                field="services",
            )
    elif config.services and isinstance(services, list):
        # a malformed profile is left to parse_event, which names what is wrong with it
        unknown = [s for tier in services if isinstance(tier, list) for s in tier if config.service(s) is None]
        if unknown:
            return Rejection(
                "invalid", "services: unknown services %(unknown)s", {"unknown": str(unknown)}, field="services"
            )
    opened: Fields = {"type": "counter_opened", "counter": name, "services": services}
    # "express ≤ N min": as the teller asks, else as the branch configures the counter (parse_event checks N)
    info = config.counter(name)
    express = body.get("express_minutes", info.express_minutes if info is not None else None)
    if express is not None:
        opened["express_minutes"] = express
    return opened


def _transfer(state: BranchState, config: BranchConfig, name: str, body: Mapping[str, Any]) -> Fields | Rejection:
    service = body.get("service")
    if not isinstance(service, str) or not service:
        return Rejection("invalid", "service: name the service to transfer the customer to", field="service")
    if config.services and config.service(service) is None:
        return Rejection("not_found", "service %(service)r is not offered at this branch", {"service": service})
    held = _holding(state, name, "transfer")
    if isinstance(held, Rejection):
        return held
    return {"type": "ticket_transferred", "service": service, **held}


def _pause(state: BranchState, config: BranchConfig, name: str, body: Mapping[str, Any]) -> Fields | Rejection:
    fields: Fields = {"type": "counter_paused", "counter": name}
    for key in ("reason", "minutes"):
        if body.get(key) is not None:
            fields[key] = body[key]
    return fields


def _heads_up(state: BranchState, config: BranchConfig, name: str, body: Mapping[str, Any]) -> Fields | Rejection:
    """The teller's heads-up: ``{"reason": code}`` of the branch's heads-up reasons, declaring that
    reason's minutes unless ``minutes`` says otherwise (parse_event checks the number)."""
    code = body.get("reason")
    if not isinstance(code, str) or not code:
        return Rejection("invalid", "reason: give the code of one of the branch's heads-up reasons", field="reason")
    reason = config.heads_up_reason(code)
    if reason is None:
        return Rejection(
            "invalid",
            "reason: %(reason)r is not a heads-up reason of this branch; expected one of %(expected)s",
            {"reason": code, "expected": str([r.code for r in config.heads_ups])},
            field="reason",
        )
    counter = state.counters.get(name)
    if counter is None or counter.status is not CounterStatus.SERVING or counter.ticket is None:
        return Rejection(
            "conflict",
            N_("counter %(counter)s is serving nobody: a heads-up is for a transaction in progress (it is %(status)s)"),
            {"counter": name, "status": counter.status.value if counter is not None else "closed"},
            words=("status",),
        )
    minutes = body.get("minutes")
    return {
        "type": "transaction_extended",
        "counter": name,
        "ticket": counter.ticket,
        "minutes": reason.minutes if minutes is None else minutes,
        "reason": reason.code,
    }


def _holding_builder(action: str) -> Builder:
    kind, verb = HOLDING[action]

    def build(state: BranchState, config: BranchConfig, name: str, body: Mapping[str, Any]) -> Fields | Rejection:
        held = _holding(state, name, verb)
        return held if isinstance(held, Rejection) else {"type": kind, **held}

    return build


BUILDERS: dict[str, Builder] = {
    "call-next": _call_next,
    "call": _call,
    **{action: _holding_builder(action) for action in HOLDING},
    "transfer": _transfer,
    "heads-up": _heads_up,
    "pause": _pause,
    "resume": lambda state, config, name, body: {"type": "counter_resumed", "counter": name},
    "open": _open,
    "close": lambda state, config, name, body: {"type": "counter_closed", "counter": name},
}


def build_action(
    state: BranchState, config: BranchConfig, counter: str, action: str, body: Mapping[str, Any]
) -> Fields | Rejection:
    """The event (fields without ``ts``) that ``action`` at ``counter`` means in ``state``, or why
    it cannot be built. The event may still be refused by :func:`~queue_board.core.branch.validate`
    (e.g. a call of a ticket that is not waiting)."""
    rejection = check_action(config, counter, action, body)
    if rejection is not None:
        return rejection
    return BUILDERS[action](state, config, counter, body)


def _probe_body(state: BranchState, config: BranchConfig, name: str, action: str) -> dict[str, Any] | None:
    """A body a console could send for ``action`` now, or ``None`` if it has nothing to send."""
    if action == "call":
        # validate() accepts a call of any waiting ticket by a free counter: any one tells
        label = next((queue[0][2] for queue in state.queues.values() if queue), None)
        return None if label is None else {"ticket": label}
    if action == "transfer":
        counter = state.counters.get(name)
        held = state.tickets.get(counter.ticket) if counter is not None and counter.ticket else None
        # the services a console offers: the configured ones, else those of today's tickets
        codes = [s.code for s in config.services] or sorted({t.service for t in state.tickets.values()})
        target = next((code for code in codes if held is None or code != held.service), None)
        return None if target is None else {"service": target}
    if action == "heads-up":
        # every reason of the branch is offered at once: any one tells whether the button fits
        return {"reason": config.heads_ups[0].code}
    return {}


def available_actions(state: BranchState, config: BranchConfig, counter: str) -> list[str]:
    """The actions of :data:`ACTIONS` the core would accept from ``counter`` now, in that order:
    built by :func:`build_action` and accepted by :func:`~queue_board.core.branch.validate`
    ("call" needs a waiting ticket, "transfer" another service to send the customer to)."""
    # probes happen at the state's own time, so they judge the state the board shows
    ts = state.last_ts or _EPOCH
    out: list[str] = []
    for action in ACTIONS:
        body = _probe_body(state, config, counter, action)
        if body is None:
            continue
        built = build_action(state, config, counter, action, body)
        if isinstance(built, Rejection):
            continue
        try:
            event = parse_event(built, ts=ts)
        except EventFormatError:
            continue
        if validate(state, event) is None:
            out.append(action)
    return out


__all__ = ["ACTIONS", "Fields", "available_actions", "build_action", "check_action"]
