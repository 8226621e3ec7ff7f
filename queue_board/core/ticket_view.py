"""What one customer's ticket page shows: a pure function of the branch's state, configuration
and latest forecast, about that ticket alone.

Only this ticket's facts and counts about its service leave here, never another customer's
ticket. The status is the ticket's own status in the state (not read back from a board).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from queue_board.core.board_view import aged_range, local_time
from queue_board.core.branch import QUEUED, BranchState, CounterStatus, TicketStatus
from queue_board.core.branch_config import BranchConfig
from queue_board.core.call_rule import serves
from queue_board.forecast.monte_carlo import Forecast

#: statuses a ticket page can show; ``expired`` is a link from another day, ``unknown`` a ticket the branch never issued
STATUSES = ("waiting", "called", "serving", "done", "no_show", "cancelled", "expired", "unknown")

_PAGE_STATUS = {
    TicketStatus.WAITING: "waiting",
    TicketStatus.TRANSFERRED: "waiting",
    TicketStatus.CALLED: "called",
    TicketStatus.SERVING: "serving",
    TicketStatus.DONE: "done",
    TicketStatus.NO_SHOW: "no_show",
    TicketStatus.CANCELLED: "cancelled",
}


def ticket_view(
    state: BranchState | None,
    config: BranchConfig,
    forecast: Forecast | None,
    *,
    branch: str,
    day: str,
    label: str,
    now: float | None = None,
) -> dict[str, Any]:
    """The page of ticket ``label`` of ``branch`` issued on ``day`` (``state`` ``None``: no such branch)."""
    return ticket_views(state, config, forecast, branch=branch, tickets=[(day, label)], now=now)[0]


def ticket_views(
    state: BranchState | None,
    config: BranchConfig,
    forecast: Forecast | None,
    *,
    branch: str,
    tickets: Sequence[tuple[str, str]],
    now: float | None = None,
) -> list[dict[str, Any]]:
    """The page of each ``(day, label)`` of ``tickets``, in their order: :func:`ticket_view` of
    each, with what they share (the queues' order, the counters serving each service) worked
    out once, since a branch's 150 pages are built after every change."""
    zone = state.tz if state is not None else None
    offset = zone.utcoffset(None) if zone is not None else None
    if state is not None:
        now = state.now if now is None else max(now, state.now)
    shown_now = local_time(now, zone) if state is not None and state.seq and now is not None else None
    ahead_in_queue: dict[str, int] | None = None
    serving: dict[str, tuple[int, int]] = {}
    views = []
    for day, label in tickets:
        out: dict[str, Any] = {
            "ticket": label,
            "branch": branch,
            "day": day,
            "names": dict(config.names),
            "branch_name": config.name,
            "languages": list(config.languages),
            "seq": state.seq if state is not None else 0,
            "now": None,
            "utc_offset_minutes": int(offset.total_seconds() // 60) if offset is not None else 0,
            "status": "unknown",
            "service": None,
            "service_names": None,
            "people_ahead": None,
            "wait": None,
            "counter": None,
            "called_at": None,
            "recalls": 0,
            "counters_serving": None,
            "counters_paused": None,
            "issued_at": None,
            "wait_overdue": False,
            "repromise": None,
        }
        views.append(out)
        if state is None:
            # no such branch: nothing about it to show, not even the server's default name
            out.update(names={}, branch_name=None, languages=["en"])
            continue
        assert now is not None
        out["now"] = shown_now
        if state.day is not None and state.day != _day(day):
            out["status"] = "expired"
            continue
        ticket = state.tickets.get(label)
        if ticket is None:
            continue
        out["status"] = _PAGE_STATUS[ticket.status]
        out["issued_at"] = local_time(ticket.issued_at, zone)
        if ticket.status in QUEUED:
            if ahead_in_queue is None:
                ahead_in_queue = state.ahead_in_queue()
            wait = forecast.waits.get(label) if forecast is not None else None
            out["people_ahead"] = ahead_in_queue[label]
            out["wait"] = aged_range(wait, now - forecast.at) if forecast is not None else None
            if out["wait"] is not None and out["wait"]["p90"] <= 0:
                # the forecast's whole range is behind us and the customer still waits: no range
                # that the elapsed wait has passed is shown ("taking longer than expected" instead)
                out["wait"] = None
                out["wait_overdue"] = True
            if ticket.repromised is not None:
                out["repromise"] = _repromise(ticket.repromised, ticket.issued_at, now) | {
                    "reason": ticket.repromise_reason,
                    "counter": ticket.repromise_counter,
                    "pause_reason": _reason_names(config, ticket.repromise_pause_reason),
                }
        else:
            out["counter"] = ticket.counter
        if ticket.called_at is not None:
            out["called_at"] = local_time(ticket.called_at, zone)
            out["recalls"] = ticket.recalls
        info = config.service(ticket.service)
        out["service"] = ticket.service
        out["service_names"] = dict(info.names) if info is not None else {"en": ticket.service}
        if ticket.service not in serving:
            open_counters = [
                c for c in state.counters.values() if c.status is not CounterStatus.CLOSED and serves(c.services, ticket.service)
            ]
            paused = sum(1 for c in open_counters if c.status is CounterStatus.PAUSED)
            serving[ticket.service] = (len(open_counters) - paused, paused)
        out["counters_serving"], out["counters_paused"] = serving[ticket.service]
    return views


def _repromise(told: tuple[float, float, float], issued_at: float, now: float) -> dict[str, Any]:
    """The re-promise as the page words it: the new range from issue and what is left of it now."""
    waited = now - issued_at
    left = {"p10": max(0.0, told[0] - waited), "p50": max(0.0, told[1] - waited), "p90": max(0.0, told[2] - waited)}
    return {
        "told": {"p10": told[0], "p50": told[1], "p90": told[2]},
        "remaining": left if left["p90"] > 0 else None,
    }


def _reason_names(config: BranchConfig, logged: str | None) -> dict[str, str] | None:
    """A pause reason in each language (a configured code), or as the teller typed it."""
    if logged is None:
        return None
    reason = config.pause_reason(logged)
    return dict(reason.names) if reason is not None else {"en": logged}


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
