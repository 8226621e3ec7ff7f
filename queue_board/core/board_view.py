"""What every screen shows, as one JSON-ready dict built from state + forecast + configuration.

Pure: no Flask, no I/O. The API's snapshot, the Socket.IO pushes and the tests all use
:func:`board_view`, so a board never shows something the state does not imply.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from queue_board.core.branch import BranchState, Counter, CounterStatus, TicketStatus
from queue_board.core.branch_config import BranchConfig
from queue_board.core.call_rule import has_eligible_waiting, serves
from queue_board.core.events import format_ts
from queue_board.core.teller_actions import available_actions
from queue_board.forecast.durations import BranchModel, DayRecord
from queue_board.forecast.monte_carlo import Forecast, Range

#: how many recent calls the "now serving" list keeps
NOW_SERVING_LENGTH = 8


def local_time(at: float | None, zone: tzinfo | None) -> str | None:
    """A POSIX time as the log writes it, in the branch's zone (``None`` stays ``None``)."""
    if at is None:
        return None
    return format_ts(datetime.fromtimestamp(at, zone or UTC))


def _range(value: Range | None) -> dict[str, float] | None:
    if value is None or value.p90 == float("inf"):
        return None
    return value.as_dict()


def aged_range(value: Range | None, age: float) -> dict[str, float] | None:
    """A range forecast ``age`` seconds ago, as it stands now (never below zero); ``None`` for
    no forecast or one that no counter will ever end."""
    if value is None:
        return None
    shifted = value.shifted(-age)
    return _range(Range(max(0.0, shifted.p10), max(0.0, shifted.p50), max(0.0, shifted.p90)))


#: a counter for a service "usually" opens later in the day if one did on at least this share of past days
USUAL_SHARE = 0.5


def usually_opens_at(days: Sequence[DayRecord], service: str, now: float, zone: tzinfo | None) -> str | None:
    """When a counter serving ``service`` usually opens later today, from the log's finished days.

    For each day, the first opening after this time of day of a counter serving it; the (lower)
    median of those, at today's date. ``None`` when that happened on fewer than half of the days,
    or no day is finished yet: the screens then say they do not know rather than guess.
    """
    if not days:
        return None
    local = datetime.fromtimestamp(now, zone or UTC)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    after = (local - midnight).total_seconds()
    firsts = sorted(
        min(times)
        for day in days
        if (times := [at for opened in day.opened.values() for at, profile in opened if at > after and serves(profile, service)])
    )
    if not firsts or len(firsts) < USUAL_SHARE * len(days):
        return None
    return local_time((midnight + timedelta(seconds=firsts[(len(firsts) - 1) // 2])).timestamp(), zone)


def heads_up_view(counter: Counter, zone: tzinfo | None) -> dict[str, Any]:
    """The latest heads-up of a counter's transaction, as the boards carry it: its reason (a code,
    named by each screen in its language, or free text), the minutes declared, when, and how many
    heads-ups this transaction has had and the minutes they declared together."""
    latest = counter.heads_ups[-1]
    total = sum(h.minutes for h in counter.heads_ups)
    return {
        "reason": latest.reason,
        "minutes": int(latest.minutes) if latest.minutes.is_integer() else latest.minutes,
        "at": local_time(latest.at, zone),
        "count": len(counter.heads_ups),
        "total_minutes": int(total) if float(total).is_integer() else total,
    }


def board_view(
    state: BranchState,
    config: BranchConfig,
    forecast: Forecast | None,
    *,
    branch: str,
    now: float | None = None,
    model: BranchModel | None = None,
) -> dict[str, Any]:
    """The board state of one branch (see docs/api.md, "Board state").

    ``forecast`` may be older than ``state`` (it is refreshed off the request path):
    its ranges are shifted by the time since it was made, and tickets it does not know yet
    show no range rather than a guess. ``model`` (the branch's learned model) tells when a
    counter usually opens for a service no open counter serves.
    """
    zone = state.tz
    now = state.now if now is None else max(now, state.now)
    age = now - forecast.at if forecast is not None else 0.0

    def aged(value: Range | None) -> dict[str, float] | None:
        return aged_range(value, age)

    services: list[dict[str, Any]] = []
    codes = [s.code for s in config.services]
    codes += sorted({t.service for t in state.tickets.values()} - set(codes))
    for code in codes:
        info = config.service(code)
        open_counters = [
            c.name for c in state.counters.values() if c.status is not CounterStatus.CLOSED and serves(c.services, code)
        ]
        new_wait = forecast.new_ticket.get(code) if forecast is not None else None
        services.append(
            {
                "code": code,
                "prefix": info.prefix if info else None,
                "names": dict(info.names) if info else {"en": code},
                "waiting": len(state.queues.get(code, ())),
                "counters": open_counters,
                "new_ticket_wait": _range(new_wait) if open_counters else None,
                # no open counter serves it: the kiosk asks first, and says when one usually opens
                "open_now": bool(open_counters),
                "usually_opens_at": (
                    usually_opens_at(model.past_days(), code, now, zone) if model is not None and not open_counters else None
                ),
            }
        )

    counters: list[dict[str, Any]] = []
    names = [c.name for c in config.counters]
    names += sorted(set(state.counters) - set(names), key=lambda n: (len(n), n))
    for name in names:
        counter = state.counters.get(name)
        counter_info = config.counter(name)
        status = counter.status if counter is not None else CounterStatus.CLOSED
        ticket = state.tickets.get(counter.ticket) if counter is not None and counter.ticket else None
        entry: dict[str, Any] = {
            "name": name,
            "status": status.value,
            "since": local_time(counter.since, zone) if counter is not None and counter.since else None,
            "services": [list(t) for t in (counter.services if counter is not None and counter.services else (counter_info.services if counter_info else ()))],
            # a closed counter never shows a ticket number, so a customer is not left waiting at it
            "ticket": ticket.label if ticket is not None and status is not CounterStatus.CLOSED else None,
            "service": ticket.service if ticket is not None and status is not CounterStatus.CLOSED else None,
            "remaining": None,
            "pause_reason": None,
            "pause_minutes": None,
            "back_at": None,
            # the teller's latest heads-up on the transaction in progress ("+5 min: entering your details")
            "heads_up": None,
            "queue_for_counter": False,
            # the teller's buttons: decided here, by the rules the server applies, not by each screen
            "actions": available_actions(state, config, name),
        }
        if counter is not None and status is CounterStatus.PAUSED:
            entry["pause_reason"] = counter.pause_reason
            entry["pause_minutes"] = counter.pause_minutes
            if counter.pause_minutes is not None:
                entry["back_at"] = local_time(counter.since + counter.pause_minutes * 60.0, zone)
        if counter is not None and status is CounterStatus.SERVING and counter.heads_ups:
            entry["heads_up"] = heads_up_view(counter, zone)
        if counter is not None and status is not CounterStatus.CLOSED:
            entry["queue_for_counter"] = has_eligible_waiting(state, counter.services)
            if forecast is not None and status in (
                CounterStatus.SERVING,
                CounterStatus.CALLING,
                CounterStatus.WRAPPING_UP,
                CounterStatus.PAUSED,
            ):
                entry["remaining"] = aged(forecast.counters.get(name))
        counters.append(entry)

    called = [
        t
        for t in state.tickets.values()
        if t.called_at is not None and t.status in (TicketStatus.CALLED, TicketStatus.SERVING, TicketStatus.DONE)
    ]
    called.sort(key=lambda t: t.called_at or 0.0, reverse=True)
    now_serving = [
        {
            "ticket": t.label,
            "counter": t.counter,
            "service": t.service,
            "status": t.status.value,
            "called_at": local_time(t.called_at, zone),
            "recalls": t.recalls,
        }
        for t in called[:NOW_SERVING_LENGTH]
    ]

    ahead_in_service = state.ahead_in_queue()
    waiting: list[dict[str, Any]] = []
    for position, ticket in enumerate(state.waiting_tickets(), start=1):
        wait = forecast.waits.get(ticket.label) if forecast is not None else None
        shown = aged(wait)
        # a range the wait has already passed is not shown: the screens say it is taking longer
        overdue = shown is not None and shown["p90"] <= 0
        waiting.append(
            {
                "ticket": ticket.label,
                "service": ticket.service,
                "status": ticket.status.value,
                "issued_at": local_time(ticket.issued_at, zone),
                "position": position,
                "ahead_in_service": ahead_in_service[ticket.label],
                "wait": None if overdue else shown,
                "wait_overdue": overdue,
                "repromised": dict(zip(("p10", "p50", "p90"), ticket.repromised, strict=True)) if ticket.repromised else None,
            }
        )

    offset = zone.utcoffset(None) if zone is not None else None
    return {
        "branch": branch,
        "name": config.name,
        "names": dict(config.names),
        "languages": list(config.languages),
        # what a counter's pause_reason may name: a code here (shown in each screen's language), else free text
        "pause_reasons": [reason.to_dict() for reason in config.reasons],
        # the console's heads-up buttons, and what a counter's heads_up.reason may name (a code, else free text)
        "heads_up_reasons": [reason.to_dict() for reason in config.heads_ups],
        "seq": state.seq,
        "day": state.day.isoformat() if state.day else None,
        "now": local_time(now, zone) if state.seq else None,
        "last_event_at": format_ts(state.last_ts) if state.last_ts else None,
        "utc_offset_minutes": int(offset.total_seconds() // 60) if offset is not None else 0,
        "forecast_at": local_time(forecast.at, zone) if forecast is not None else None,
        "services": services,
        "counters": counters,
        "now_serving": now_serving,
        "waiting": waiting,
    }
