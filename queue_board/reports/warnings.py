"""Early warnings for the branch manager: pure rules over (state, records, forecast, config, now).

Issue 11 item 1. :func:`evaluate` returns every condition that holds *now* as a :class:`Warning`;
it keeps no memory, so a caller that wants "when it fired, how it ended" compares two
evaluations with :func:`diff_warnings` (each warning's ``key`` names the ongoing condition and
stays the same from one evaluation to the next while the condition lasts). Thresholds are a
:class:`WarningThresholds`, per branch in its configuration (``warning_thresholds``).

The rules, exactly (``now`` in POSIX seconds, minutes below are thresholds' fields):

``promise_at_risk`` (key ``promise:<ticket>``, subject the ticket)
    For each waiting ticket whose record carries the range it was told: ``top`` is the top of
    that range as the boards showed it (:func:`~queue_board.core.activity.shown_top_seconds`),
    ``top_at = issued_at + top`` and ``slack = top_at - now`` (the customer has waited
    ``now - issued_at``). The forecast gives the rest of its wait ``R`` (from now to its first
    call) as p10/p50/p90; ``p_break = P(R > slack)`` by :func:`exceed_probability`. It fires when
    ``slack <= horizon_minutes`` and ``p_break > break_likely``: the promise is likely to break and
    the moment it breaks is near enough for the forecast to be trusted and for an action (open a
    counter, call out of turn, tell the customer) to still help. It stays on after the top has
    passed (``slack < 0``, ``p_break = 1``) until the ticket is called or leaves, with severity
    ``alert`` once ``slack < lead_minutes`` (the manager has less than the lead time to act).
    A ticket the forecast says nobody will serve (p90 infinite) has ``p_break = 1``.

``counter_idle_with_queue`` (key ``idle:<counter>``)
    A counter that is free (idle or wrapping up) has called nobody for ``idle_minutes`` while a
    ticket it serves (any tier of its profile) waited: ``since = max(free_since, the earliest
    moment a ticket now waiting for one of its services started waiting)``, fires when
    ``now - since >= idle_minutes``. Clears when it calls, pauses or closes, or the queue empties.

``pause_overrun`` (key ``pause:<counter>``)
    A paused counter that declared minutes, paused for longer than they plus
    ``pause_grace_minutes``; ``since`` = the declared end. Clears when it resumes or closes.

``many_paused`` (key ``many_paused``, subject the branch)
    More than ``paused_share`` of the open (not closed) counters are paused.

``service_unserved`` (key ``unserved:<service>``)
    Someone waits for a service that no open counter (paused ones count as open: they will be
    back) has in its profile.

``new_ticket_wait_high`` (key ``new_ticket:<service>``)
    The forecast p90 wait of a ticket taken now for the service is above ``target_minutes``
    while at least one counter that has that service in its profile (or any configured counter
    that never opened) is closed or paused: a counter that could help is not helping.

``duration_drift`` (key ``drift:<counter>``)
    A one-sided CUSUM for slowing down: for each of today's served transactions of the
    counter, in the order they ended, ``z = log(duration / m) / s`` where ``m`` is the median
    and ``s`` the robust spread (1.4826 × MAD of log durations, at least ``cusum_min_spread``)
    of the same counter's durations for the same service in the past records given (its norm,
    at least ``cusum_min_history`` of them, the latest ``cusum_window``); ``z`` is clipped at
    ``cusum_clip`` so that one extraordinary customer cannot sound the alarm alone.
    ``S = max(0, S + z - cusum_k)``; the alarm is on from the transaction that takes ``S`` above
    ``cusum_h`` until ``S`` comes back to 0 (a teller back at their norm). ``since`` is the start
    of the first transaction of the run that raised it (CUSUM's own estimate of the change).
    Thresholds are in units of the teller's own spread, so one ``k``/``h`` fits a quick and an
    erratic teller alike.

``feedback_overdue`` (key ``feedback:<id>``)
    :func:`feedback_overdue_warnings` is the hook: it words the complaints another part of the
    code found past their follow-up deadline; :func:`evaluate` passes through what it is given.

Nothing here reads a clock, a file or the web: the same inputs give the same warnings.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from queue_board.core.activity import DayActivity, Transaction, shown_top_seconds
from queue_board.core.branch import FREE, BranchState, CounterStatus, Ticket
from queue_board.core.branch_config import BranchConfig
from queue_board.core.call_rule import serves
from queue_board.core.feedback import FeedbackItem
from queue_board.core.warning_log import WarningRecord
from queue_board.core.warning_thresholds import WarningThresholds
from queue_board.forecast.monte_carlo import Forecast
from queue_board.forecast.ranges import Range

#: the standard normal quantile of 0.9: how many sigmas p90 lies above the median of a log-normal
Z90 = 1.2815515655446004


class Kind(StrEnum):
    """What a warning is about."""

    PROMISE_AT_RISK = "promise_at_risk"
    COUNTER_IDLE_WITH_QUEUE = "counter_idle_with_queue"
    PAUSE_OVERRUN = "pause_overrun"
    MANY_PAUSED = "many_paused"
    SERVICE_UNSERVED = "service_unserved"
    NEW_TICKET_WAIT_HIGH = "new_ticket_wait_high"
    DURATION_DRIFT = "duration_drift"
    FEEDBACK_OVERDUE = "feedback_overdue"


class Severity(StrEnum):
    """How urgently the manager should look: ``warning`` (soon) or ``alert`` (now)."""

    WARNING = "warning"
    ALERT = "alert"


@dataclass(frozen=True, slots=True)
class Warning:  # shadows the builtin on purpose: the dashboard's word; the builtin is not used here
    """One condition that holds now.

    ``key`` identifies the ongoing condition across evaluations (``idle:3``); ``subject`` is the
    counter, ticket, service, complaint id or ``None`` for the branch; ``since`` is when the
    condition began as far as the records say (``None`` when only a forecast says it, e.g. a
    promise at risk: the caller's first evaluation that raised it is then the start); ``facts``
    are the figures a sentence on the dashboard needs (seconds, counts, names).
    """

    kind: Kind
    key: str
    severity: Severity
    subject: str | None
    since: float | None
    facts: dict[str, object] = field(default_factory=dict, hash=False, compare=False)


# --- the probability of a broken promise ----------------------------------------------------
def _normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def exceed_probability(wait: Range, slack: float) -> float:
    """P(R > slack) for a remaining wait R known by its forecast p10/p50/p90 (seconds).

    Assumption: R is a *split log-normal* — above its median a log-normal through p50 and p90,
    below it one through p10 and p50 — so the three forecast quantiles are matched exactly and
    the tail beyond p90 decays as a log-normal's (waits are positive and right-skewed). Where a
    quantile is 0 (a ticket about to be called) the log-normal is undefined and the CDF is taken
    linear between the quantiles instead. ``slack < 0`` (the top already passed, the customer
    still waiting) gives 1; an infinite p90 (nobody may ever serve it) gives 1 above the median.
    """
    if slack < 0:
        return 1.0
    p10, p50, p90 = wait.p10, wait.p50, wait.p90
    if math.isinf(p50):
        return 1.0
    if slack >= p50:
        if math.isinf(p90):
            return 0.5  # half the scenarios never call it: at least that
        if p90 <= p50:
            return 0.0 if slack >= p90 else 0.5
        if p50 <= 0:
            # CDF linear from 0.5 at 0 to 0.9 at p90, then the log-normal tail cannot be fitted
            if slack <= p90:
                return 0.5 - 0.4 * slack / p90
            return 0.1 * p90 / slack  # a Pareto-like tail beyond p90: decays, never quite 0
        sigma = (math.log(p90) - math.log(p50)) / Z90
        return _normal_sf((math.log(slack) - math.log(p50)) / sigma) if slack > 0 else 1.0
    # below the median
    if p10 > 0 and p10 < p50:
        sigma = (math.log(p50) - math.log(p10)) / Z90
        return _normal_sf((math.log(slack) - math.log(p50)) / sigma) if slack > 0 else 1.0
    # p10 = 0 (or = p50): the CDF linear from its value at 0 (0.1) to 0.5 at the median
    low = 0.1 if p10 <= 0 else 0.0
    return 1.0 - (low + (0.5 - low) * slack / p50)


# --- helpers over the state and the records -------------------------------------------------
def _waiting_since(ticket: Ticket, today: DayActivity | None) -> float:
    """When the customer started waiting for the service they wait for now: the issue, or after
    a transfer the end of the transaction that sent them on (``queued_at`` keeps the issue time
    so the customer keeps their place, which is not when their current wait began)."""
    if ticket.transfers and today is not None:
        for transaction in reversed(today.transactions):
            if transaction.ticket == ticket.label and transaction.ended_at is not None:
                return transaction.ended_at
    return ticket.queued_at


def _waiting(state: BranchState) -> list[Ticket]:
    return state.waiting_tickets()


def _closed_or_paused_for(state: BranchState, config: BranchConfig | None, service: str) -> list[str]:
    """Counters that could serve ``service`` but do not now: closed or paused counters whose
    profile has it, and configured counters (whose default profile has it) that never opened."""
    names = [
        c.name
        for c in state.counters.values()
        if c.status in (CounterStatus.CLOSED, CounterStatus.PAUSED) and serves(c.services, service)
    ]
    if config is not None:
        names.extend(info.name for info in config.counters if info.name not in state.counters and serves(info.services, service))
    return sorted(names)


# --- the rules ------------------------------------------------------------------------------
def promise_at_risk(
    state: BranchState, today: DayActivity | None, forecast: Forecast, now: float, thresholds: WarningThresholds
) -> list[Warning]:
    """Waiting tickets likely to wait past the top of the range they were shown (module docstring)."""
    if today is None:
        return []
    out: list[Warning] = []
    horizon = thresholds.horizon_minutes * 60.0
    for ticket in _waiting(state):
        record = today.tickets.get(ticket.label)
        if record is None or record.told is None:
            continue  # no promise was made: none can be broken
        wait = forecast.waits.get(ticket.label)
        if wait is None:
            continue
        top = shown_top_seconds(record.told)
        top_at = record.issued_at + top
        slack = top_at - now
        if slack > horizon:
            continue
        p_break = exceed_probability(wait, slack)
        if p_break <= thresholds.break_likely:
            continue
        severity = Severity.ALERT if slack < thresholds.lead_minutes * 60.0 else Severity.WARNING
        out.append(
            Warning(
                kind=Kind.PROMISE_AT_RISK,
                key=f"promise:{ticket.label}",
                severity=severity,
                subject=ticket.label,
                since=None,
                facts={
                    "service": ticket.service,
                    "waited": now - record.issued_at,
                    "shown_top": top,
                    "top_at": top_at,
                    "slack": slack,
                    "p_break": p_break,
                    "broken": slack < 0,
                    "remaining": {"p10": wait.p10, "p50": wait.p50, "p90": wait.p90},
                },
            )
        )
    return out


def counter_idle_with_queue(
    state: BranchState, today: DayActivity | None, now: float, thresholds: WarningThresholds
) -> list[Warning]:
    """Free counters that called nobody for ``idle_minutes`` while someone they serve waited."""
    out: list[Warning] = []
    waiting = _waiting(state)
    for counter in state.counters.values():
        if counter.status not in FREE or counter.free_since is None:
            continue
        eligible = [t for t in waiting if serves(counter.services, t.service)]
        if not eligible:
            continue
        first = min(_waiting_since(t, today) for t in eligible)
        since = max(counter.free_since, first)
        idle = now - since
        if idle < thresholds.idle_minutes * 60.0:
            continue
        out.append(
            Warning(
                kind=Kind.COUNTER_IDLE_WITH_QUEUE,
                key=f"idle:{counter.name}",
                # twice the threshold: no longer a slow wrap-up, someone should walk over
                severity=Severity.ALERT if idle >= 2 * thresholds.idle_minutes * 60.0 else Severity.WARNING,
                subject=counter.name,
                since=since,
                facts={"status": counter.status.value, "idle": idle, "waiting": len(eligible), "first": eligible[0].label},
            )
        )
    return out


def pause_overrun(state: BranchState, now: float, thresholds: WarningThresholds) -> list[Warning]:
    """Paused counters past their declared minutes (plus the grace)."""
    out: list[Warning] = []
    for counter in state.counters.values():
        if counter.status is not CounterStatus.PAUSED or counter.pause_minutes is None:
            continue
        declared_end = counter.since + counter.pause_minutes * 60.0
        over = now - declared_end
        if over <= thresholds.pause_grace_minutes * 60.0:
            continue
        out.append(
            Warning(
                kind=Kind.PAUSE_OVERRUN,
                key=f"pause:{counter.name}",
                # an overrun as long as the pause itself (at least 5 min) is no longer "a bit late"
                severity=Severity.ALERT if over >= max(300.0, counter.pause_minutes * 60.0) else Severity.WARNING,
                subject=counter.name,
                since=declared_end,
                facts={"reason": counter.pause_reason, "declared_minutes": counter.pause_minutes, "over": over, "paused_at": counter.since},
            )
        )
    return out


def many_paused(state: BranchState, now: float, thresholds: WarningThresholds) -> list[Warning]:
    """More than ``paused_share`` of the open counters paused."""
    open_counters = [c for c in state.counters.values() if c.status is not CounterStatus.CLOSED]
    paused = sorted((c for c in open_counters if c.status is CounterStatus.PAUSED), key=lambda c: c.since)
    if not open_counters or len(paused) <= thresholds.paused_share * len(open_counters):
        return []
    # the pause that tipped the share over, with today's open counters (an approximation when
    # counters opened or closed meanwhile): the (m)-th pause, m the least count above the share
    tipping = math.floor(thresholds.paused_share * len(open_counters)) + 1
    since = paused[min(tipping, len(paused)) - 1].since
    return [
        Warning(
            kind=Kind.MANY_PAUSED,
            key="many_paused",
            severity=Severity.ALERT if len(paused) == len(open_counters) else Severity.WARNING,
            subject=None,
            since=since,
            facts={"paused": [c.name for c in paused], "open": len(open_counters), "lasted": now - since},
        )
    ]


def service_unserved(state: BranchState, today: DayActivity | None, now: float) -> list[Warning]:
    """Services someone waits for that no open counter serves."""
    out: list[Warning] = []
    by_service: dict[str, list[Ticket]] = {}
    for ticket in _waiting(state):
        by_service.setdefault(ticket.service, []).append(ticket)
    for service, tickets in sorted(by_service.items()):
        if any(c.status is not CounterStatus.CLOSED and serves(c.services, service) for c in state.counters.values()):
            continue
        # since the later of: the first of them started waiting, the last counter for it closed
        closes = [c.since for c in state.counters.values() if c.status is CounterStatus.CLOSED and serves(c.services, service)]
        since = max([min(_waiting_since(t, today) for t in tickets), *closes])
        out.append(
            Warning(
                kind=Kind.SERVICE_UNSERVED,
                key=f"unserved:{service}",
                severity=Severity.ALERT,
                subject=service,
                since=since,
                facts={"waiting": len(tickets), "tickets": [t.label for t in tickets], "lasted": now - since},
            )
        )
    return out


def new_ticket_wait_high(
    state: BranchState, config: BranchConfig | None, forecast: Forecast, thresholds: WarningThresholds
) -> list[Warning]:
    """Services whose new-ticket p90 forecast is above target while a counter for them is closed
    or paused. A service nobody will serve (``None``) is :func:`service_unserved`'s, not this."""
    out: list[Warning] = []
    target = thresholds.target_minutes * 60.0
    for service, wait in sorted(forecast.new_ticket.items()):
        if wait is None or wait.p90 <= target:
            continue
        idle_capacity = _closed_or_paused_for(state, config, service)
        if not idle_capacity:
            continue
        out.append(
            Warning(
                kind=Kind.NEW_TICKET_WAIT_HIGH,
                key=f"new_ticket:{service}",
                severity=Severity.ALERT if wait.p90 > 2 * target else Severity.WARNING,
                subject=service,
                since=None,
                facts={"p50": wait.p50, "p90": wait.p90, "target": target, "counters": idle_capacity},
            )
        )
    return out


# --- duration drift (CUSUM) -----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Norm:
    """A counter's usual duration for a service: median and robust spread of log durations."""

    median: float
    spread: float
    count: int


def _served(transactions: Iterable[Transaction]) -> list[Transaction]:
    """Transactions that were served to the end (finished or transferred), by end time."""
    done = [t for t in transactions if t.duration is not None and t.outcome in ("finished", "transferred") and t.duration > 0]
    return sorted(done, key=lambda t: (t.ended_at or 0.0))


def learn_norms(history: Sequence[DayActivity], thresholds: WarningThresholds) -> dict[tuple[str, str], Norm]:
    """Each (counter, service)'s norm from the past days given (oldest first): the latest
    ``cusum_window`` served durations, if at least ``cusum_min_history``."""
    durations: dict[tuple[str, str], list[float]] = {}
    for day in history:
        for t in _served(day.transactions):
            assert t.duration is not None
            durations.setdefault((t.counter, t.service), []).append(t.duration)
    norms: dict[tuple[str, str], Norm] = {}
    for key, values in durations.items():
        recent = values[-thresholds.cusum_window :]
        if len(recent) < thresholds.cusum_min_history:
            continue
        logs = [math.log(v) for v in recent]
        centre = statistics.median(logs)
        mad = statistics.median(abs(x - centre) for x in logs)
        norms[key] = Norm(median=math.exp(centre), spread=max(thresholds.cusum_min_spread, 1.4826 * mad), count=len(recent))
    return norms


@dataclass(frozen=True, slots=True)
class CusumRun:
    """Where one counter's CUSUM stands after today's transactions."""

    statistic: float
    #: whether the alarm is on (raised above h and not yet back to 0)
    alarm: bool
    #: the start of the first transaction of the run that raised the alarm (when the drift began)
    since: float | None
    #: transactions counted, and those since the run began
    counted: int
    in_run: int


def cusum(transactions: Sequence[Transaction], norms: dict[tuple[str, str], Norm], thresholds: WarningThresholds) -> CusumRun:
    """The one-sided (slow-down) CUSUM over one counter's transactions in the order they ended
    (module docstring); transactions of a service without a norm are skipped."""
    s = 0.0
    alarm = False
    run_start: float | None = None
    since: float | None = None
    counted = in_run = 0
    for t in _served(transactions):
        norm = norms.get((t.counter, t.service))
        if norm is None or t.duration is None:
            continue
        counted += 1
        z = min(thresholds.cusum_clip, math.log(t.duration / norm.median) / norm.spread)
        if s == 0.0:
            run_start = t.started_at if t.started_at is not None else t.called_at
            in_run = 0
        s = max(0.0, s + z - thresholds.cusum_k)
        in_run += 1
        if s == 0.0:
            alarm, since = False, None
        elif s > thresholds.cusum_h and not alarm:
            alarm, since = True, run_start
    return CusumRun(statistic=s, alarm=alarm, since=since, counted=counted, in_run=in_run if s > 0 else 0)


def duration_drift(
    today: DayActivity | None,
    history: Sequence[DayActivity],
    thresholds: WarningThresholds,
    norms: dict[tuple[str, str], Norm] | None = None,
) -> list[Warning]:
    """Counters whose transactions today drifted slower than their own norm (CUSUM alarm on);
    ``norms`` already learned from ``history`` (by :func:`learn_norms`) spare learning them again."""
    if today is None:
        return []
    if norms is None:
        norms = learn_norms(history, thresholds)
    by_counter: dict[str, list[Transaction]] = {}
    for t in today.transactions:
        by_counter.setdefault(t.counter, []).append(t)
    out: list[Warning] = []
    for counter, transactions in sorted(by_counter.items()):
        run = cusum(transactions, norms, thresholds)
        if not run.alarm:
            continue
        out.append(
            Warning(
                kind=Kind.DURATION_DRIFT,
                key=f"drift:{counter}",
                severity=Severity.WARNING,
                subject=counter,
                since=run.since,
                facts={"statistic": run.statistic, "h": thresholds.cusum_h, "transactions": run.in_run},
            )
        )
    return out


# --- complaints past their deadline (the hook) ----------------------------------------------
def feedback_overdue_warnings(overdue: Iterable[FeedbackItem], now: float) -> list[Warning]:
    """Word the complaints whose follow-up is past its deadline. Which ones are overdue is
    :meth:`FeedbackItem.overdue`'s to say (``queue_board/core/feedback.py``); items given here
    that are not (any more) overdue at ``now`` are left out."""
    out: list[Warning] = []
    for item in overdue:
        if not item.overdue(now) or item.deadline is None:
            continue
        deadline = item.deadline.timestamp()
        out.append(
            Warning(
                kind=Kind.FEEDBACK_OVERDUE,
                key=f"feedback:{item.id}",
                # a day late is no longer an oversight
                severity=Severity.ALERT if now - deadline >= 86400.0 else Severity.WARNING,
                subject=item.id,
                since=deadline,
                facts={"owner": item.owner, "status": item.status, "category": item.category, "over": now - deadline},
            )
        )
    return out


# --- all of them ----------------------------------------------------------------------------
def evaluate(
    state: BranchState,
    today: DayActivity | None,
    forecast: Forecast | None,
    now: float,
    *,
    config: BranchConfig | None = None,
    history: Sequence[DayActivity] = (),
    thresholds: WarningThresholds | None = None,
    overdue_feedback: Iterable[FeedbackItem] = (),
    norms: dict[tuple[str, str], Norm] | None = None,
) -> list[Warning]:
    """Every warning that holds at ``now``, most urgent kinds first (alerts before warnings).

    ``today`` is the day's records (``ActivityLog.today``), ``history`` earlier days (the CUSUM's
    norms), ``forecast`` the projection's forecast at ``now`` (``None``: the forecast rules are
    skipped), ``config`` the branch's configuration (defaults to ``state.config``), ``norms`` the
    drift rule's norms if the caller keeps them (they change once a day).
    """
    limits = thresholds if thresholds is not None else WarningThresholds()
    cfg = config if config is not None else state.config
    found: list[Warning] = []
    found += service_unserved(state, today, now)
    found += counter_idle_with_queue(state, today, now, limits)
    found += pause_overrun(state, now, limits)
    found += many_paused(state, now, limits)
    if forecast is not None:
        found += promise_at_risk(state, today, forecast, now, limits)
        found += new_ticket_wait_high(state, cfg, forecast, limits)
    found += duration_drift(today, history, limits, norms)
    found += feedback_overdue_warnings(overdue_feedback, now)
    # stable order: alerts first, then by rule order above (sorted is stable)
    return sorted(found, key=lambda w: w.severity is not Severity.ALERT)


def diff_warnings(
    previous_keys: Iterable[str], current: Sequence[Warning]
) -> tuple[list[Warning], list[Warning], list[str]]:
    """Compare an evaluation with the keys active at the previous one: ``(raised, still_active,
    cleared)`` — warnings new now, warnings that were already active, and the keys of the
    conditions that ended since. A caller stores "fired at" for ``raised`` and "ended at" for
    ``cleared``; ``cleared`` keeps the order of ``previous_keys``."""
    before = list(dict.fromkeys(previous_keys))
    known = set(before)
    now_keys = {w.key for w in current}
    raised = [w for w in current if w.key not in known]
    still = [w for w in current if w.key in known]
    cleared = [key for key in before if key not in now_keys]
    return raised, still, cleared


# --- the warnings' lifecycle: what the server records ---------------------------------------
#: kinds whose subject is a ticket, a counter or a service of one day: a new day ends them
DAY_KINDS = frozenset(k.value for k in Kind) - {Kind.FEEDBACK_OVERDUE.value}


def thresholds_for(config: BranchConfig | None, target_minutes: float | None = None) -> WarningThresholds:
    """The branch's thresholds: the defaults, the deployment's target wait, then what its
    configuration sets (``warning_thresholds``), in that order of precedence."""
    limits = WarningThresholds()
    if target_minutes is not None:
        limits = limits.changed({"target_minutes": target_minutes})
    if config is not None and config.warning_thresholds:
        limits = limits.changed(config.warning_thresholds)
    return limits


def outcome_of(record: WarningRecord, state: BranchState, today: DayActivity | None) -> str:
    """How a warning that no longer holds ended, from the state and the day's records (one of
    ``core.events.WARNING_OUTCOMES``; docs/event-log.md "Warnings" says what each means)."""
    if record.kind in DAY_KINDS and record.day != state.day:
        return "day_ended"
    subject = record.subject or ""
    counter = state.counters.get(subject)
    if record.kind == Kind.PROMISE_AT_RISK:
        ticket = today.tickets.get(subject) if today is not None else None
        if ticket is None:
            return "ended"
        if ticket.called_at is not None:
            top = ticket.issued_at + shown_top_seconds(ticket.told) if ticket.told is not None else math.inf
            return "promise_kept" if ticket.called_at <= top else "promise_broken"
        live = state.tickets.get(subject)
        if live is None or live.status.value in ("cancelled", "no_show", "done"):
            return "customer_left"
        return "risk_passed"
    if record.kind == Kind.COUNTER_IDLE_WITH_QUEUE:
        if counter is None:
            return "ended"
        if counter.status in (CounterStatus.CALLING, CounterStatus.SERVING):
            return "called"
        if counter.status is CounterStatus.PAUSED:
            return "paused"
        if counter.status is CounterStatus.CLOSED:
            return "closed"
        return "queue_empty"
    if record.kind == Kind.PAUSE_OVERRUN:
        return "closed" if counter is not None and counter.status is CounterStatus.CLOSED else "resumed"
    if record.kind == Kind.MANY_PAUSED:
        return "resumed"
    if record.kind == Kind.SERVICE_UNSERVED:
        served = any(c.status is not CounterStatus.CLOSED and serves(c.services, subject) for c in state.counters.values())
        return "counter_opened" if served else "queue_empty"
    if record.kind == Kind.NEW_TICKET_WAIT_HIGH:
        named = record.facts.get("counters")
        helping = [
            c
            for c in state.counters.values()
            if isinstance(named, list) and c.name in named and c.status not in (CounterStatus.CLOSED, CounterStatus.PAUSED)
        ]
        return "counter_opened" if helping else "wait_fell"
    if record.kind == Kind.DURATION_DRIFT:
        return "back_to_norm"
    if record.kind == Kind.FEEDBACK_OVERDUE:
        return "followed_up"
    return "ended"


def _facts_for_log(facts: dict[str, object]) -> dict[str, object]:
    """A warning's facts as a log line can hold them: floats to 0.1, infinities left out."""
    out: dict[str, object] = {}
    for name, value in facts.items():
        if isinstance(value, float):
            if math.isfinite(value):
                out[name] = round(value, 1)
        elif isinstance(value, dict):
            out[name] = _facts_for_log(value)
        elif isinstance(value, list | tuple):
            out[name] = list(value)[:20]  # a long list of tickets says no more than its first twenty
        else:
            out[name] = value
    return out


#: the rules that need a forecast: an evaluation without one does not judge them
FORECAST_KINDS = frozenset({Kind.PROMISE_AT_RISK.value, Kind.NEW_TICKET_WAIT_HIGH.value})


def plan_warning_events(
    on_now: Sequence[WarningRecord],
    found: Sequence[Warning],
    state: BranchState,
    today: DayActivity | None,
    *,
    unjudged: frozenset[str] = frozenset(),
) -> list[dict[str, object]]:
    """The events that bring the log's warnings in line with an evaluation: first a
    ``warning_cleared`` for each warning on that no longer holds (or belongs to an earlier day),
    then a ``warning_raised`` for each condition that is new. Warnings of the kinds in
    ``unjudged`` (rules the evaluation could not run, e.g. :data:`FORECAST_KINDS` before this
    process has a forecast) stay as they are. Fields without ``ts``."""
    events: list[dict[str, object]] = []
    still_on: set[str] = set()
    holding = {w.key for w in found}
    for record in on_now:
        stale_day = record.kind in DAY_KINDS and record.day != state.day
        if (record.key in holding or record.kind in unjudged) and not stale_day:
            still_on.add(record.key)
            continue
        events.append({"type": "warning_cleared", "key": record.key, "outcome": outcome_of(record, state, today)})
    for warning in found:
        if warning.key in still_on:
            continue
        fields: dict[str, object] = {
            "type": "warning_raised",
            "key": warning.key,
            "kind": warning.kind.value,
            "severity": warning.severity.value,
            "facts": _facts_for_log({**warning.facts, "since": warning.since} if warning.since is not None else dict(warning.facts)),
        }
        if warning.subject is not None:
            fields["subject"] = warning.subject
        events.append(fields)
    return events


def warnings_panel(records: Sequence[WarningRecord], latest: Sequence[Warning], on_now: Sequence[WarningRecord], now: float) -> dict[str, object]:
    """The dashboard's warnings: those on now (with the latest evaluation's severity and figures
    where it has them: an idle counter's minutes grow, a warning may have become an alert) and
    the day's ``records``, with counts by kind and by how they ended."""
    live = {w.key: w for w in latest}
    on: list[dict[str, object]] = []
    for record in on_now:
        item = record.as_dict()
        found = live.get(record.key)
        if found is not None:
            item["facts_now"] = _facts_for_log(dict(found.facts))
            if found.severity is Severity.ALERT:
                item["severity"] = "alert"
        item["on_for_s"] = round(now - record.raised_at, 1)
        on.append(item)
    on.sort(key=lambda item: (item["severity"] != "alert", float(str(item["raised_at"]))))
    ended = [r for r in records if not r.on]
    by_outcome: dict[str, int] = {}
    for record in ended:
        by_outcome[record.outcome or "ended"] = by_outcome.get(record.outcome or "ended", 0) + 1
    by_kind: dict[str, int] = {}
    for record in records:
        by_kind[record.kind] = by_kind.get(record.kind, 0) + 1
    acknowledged = [r for r in records if r.acknowledged_at is not None]
    to_ack = sorted(r.acknowledged_at - r.raised_at for r in acknowledged if r.acknowledged_at is not None)
    return {
        "on": on,
        "ended": [r.as_dict() for r in reversed(ended)],
        "raised_today": len(records),
        "acknowledged_today": len(acknowledged),
        "median_to_acknowledge_s": round(statistics.median(to_ack), 1) if to_ack else None,
        "by_kind": by_kind,
        "by_outcome": by_outcome,
    }
