"""The honest re-promise: which waiting customers must be told, now, that their range will break.

Issue 11 item 2. A customer was told a range at issue (``ticket_issued.told``). When the wait is
going to pass the top of that range, their ticket page should say so before they have to ask
("taking longer than we said: now about 20–25 min. Sorry."), once, with the reason where the log
knows it. :func:`repromises_due` decides it from (state, the day's records, the forecast, now);
the server records each decision as a ``ticket_repromised`` event (docs/event-log.md
"Re-promises"), so the page, the hall board and every report read the same thing after a
restart and in every process. Pure: no clock, no I/O.

The rule, for each waiting ticket that was told a range and was not re-promised yet, with ``top``
the top of the told range as the boards showed it (minutes, rounded as shown), ``slack`` the
time left until the wait passes it and ``R`` the forecast of the rest of its wait:

- due when ``slack <= lead`` (the top is near, or passed) and ``P(R > slack) > likely``; a top
  already passed is always due (the promise is broken: say so, do not leave the old range);
- the new range is ``waited + R`` (p10/p50/p90, seconds from issue, as ``told`` is), and only
  if its top lies above the old one and at least a minute ahead (a new promise about to
  break in turn would be no promise);
- nobody who no counter will serve is re-promised (no honest range exists): the page says the
  service is not available instead.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass

from queue_board.core.activity import DayActivity, shown_top_seconds
from queue_board.core.branch import BranchState, CounterStatus, Ticket
from queue_board.core.call_rule import serves
from queue_board.forecast.monte_carlo import Forecast
from queue_board.forecast.ranges import Range
from queue_board.reports.warnings import exceed_probability


@dataclass(frozen=True, slots=True)
class RepromiseRule:
    """When a re-promise is due: the top near enough (``lead_minutes``) and the break likely enough."""

    #: a re-promise is considered once the told top is this near (minutes)
    lead_minutes: float = 3.0
    #: and the forecast gives the break at least this probability: a re-promise is said once and
    #: cannot be taken back, so it waits until the break is clearly more likely than not
    likely: float = 0.7


def _reason(ticket: Ticket, state: BranchState, today: DayActivity | None, running_long: Collection[str]) -> tuple[str | None, str | None]:
    """Why the wait grew, as far as the log knows: ``(reason, counter)``."""
    mine = [c for c in state.counters.values() if serves(c.services, ticket.service)]
    paused = sorted((c for c in mine if c.status is CounterStatus.PAUSED), key=lambda c: c.since)
    if paused:
        return "counter_paused", paused[0].name
    closed = sorted((c for c in mine if c.status is CounterStatus.CLOSED and c.since > ticket.issued_at), key=lambda c: c.since)
    if closed:
        return "counter_closed", closed[-1].name
    long = sorted(name for name in running_long if name in {c.name for c in mine})
    if long:
        return "long_transaction", long[0]
    if today is not None:
        names = {c.name for c in mine}
        for transaction in today.transactions:
            if transaction.counter not in names or transaction.called_at <= ticket.issued_at:
                continue
            other = today.tickets.get(transaction.ticket)
            if other is not None and other.issued_at > ticket.issued_at:
                return "served_out_of_turn", None
    return None, None


def repromises_due(
    state: BranchState,
    today: DayActivity | None,
    forecast: Forecast,
    now: float,
    *,
    rule: RepromiseRule | None = None,
    running_long: Collection[str] = (),
) -> list[dict[str, object]]:
    """The ``ticket_repromised`` events due at ``now`` (fields without ``ts``), first in line first.

    ``forecast`` may be older than ``now``: its ranges are aged to ``now``. ``running_long`` names
    the counters whose transaction runs well past its usual length (a reason the log implies).
    """
    if today is None:
        return []
    limits = rule if rule is not None else RepromiseRule()
    age = max(0.0, now - forecast.at)
    out: list[dict[str, object]] = []
    for ticket in state.waiting_tickets():
        if ticket.repromised is not None:
            continue
        record = today.tickets.get(ticket.label)
        if record is None or record.told is None:
            continue
        wait = forecast.waits.get(ticket.label)
        if wait is None or not math.isfinite(wait.p90):
            continue
        remaining = Range(max(0.0, wait.p10 - age), max(0.0, wait.p50 - age), max(0.0, wait.p90 - age))
        waited = now - record.issued_at
        slack = record.issued_at + shown_top_seconds(record.told) - now
        if slack > limits.lead_minutes * 60.0:
            continue
        if slack >= 0 and exceed_probability(remaining, slack) <= limits.likely:
            continue
        told = (waited + remaining.p10, waited + remaining.p50, waited + remaining.p90)
        if told[2] <= shown_top_seconds(record.told) or remaining.p90 < 60.0:
            continue
        reason, counter = _reason(ticket, state, today, running_long)
        fields: dict[str, object] = {
            "type": "ticket_repromised",
            "ticket": ticket.label,
            "told": {"p10": round(told[0], 1), "p50": round(told[1], 1), "p90": round(told[2], 1)},
        }
        if reason is not None:
            fields["reason"] = reason
        if counter is not None:
            fields["counter"] = counter
        out.append(fields)
    return out
