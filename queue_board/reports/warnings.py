"""Early warnings for the branch manager: pure rules over (state, records, forecast, config, now).

Issue 11 item 1. :func:`evaluate` returns every condition that holds *now* as a :class:`Warning`;
it keeps no memory, so a caller that wants "when it fired, how it ended" compares two
evaluations with :func:`diff_warnings` (each warning's ``key`` names the ongoing condition and
stays the same from one evaluation to the next while the condition lasts). Thresholds are a
:class:`WarningThresholds`; per-branch values in the configuration are not wired yet.

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
class WarningThresholds:
    """When each rule fires. The defaults suit a branch of a few counters and waits of minutes."""

    #: minutes a free counter may leave a customer it serves waiting before it is flagged; three
    #: minutes is longer than any honest wrap-up and short against a wait of ten
    idle_minutes: float = 3.0
    #: probability of waiting past the shown top above which a ticket is flagged; 0.5 = "more
    #: likely than not" (the forecast's own median says the promise breaks)
    break_likely: float = 0.5
    #: minutes of warning the manager needs to act; a ticket whose top is nearer than this (or
    #: passed) is an ``alert``
    lead_minutes: float = 5.0
    #: how far ahead promises are judged (minutes before the shown top): further out the forecast is
    #: too uncertain for a warning to be worth a manager's attention
    horizon_minutes: float = 15.0
    #: minutes past the declared pause length before a pause counts as overrun (a resume a few
    #: seconds late is not worth a warning)
    pause_grace_minutes: float = 1.0
    #: share of open counters that may be paused at once; above it the branch is flagged
    paused_share: float = 0.5
    #: the branch's target wait in minutes (a new ticket's p90 forecast above it is flagged)
    target_minutes: float = 10.0
    #: CUSUM allowance in units of the teller's spread: drifts smaller than about twice this are
    #: tolerated (0.5: aimed at a shift of one spread, about a 40–60 % slowdown)
    cusum_k: float = 0.5
    #: CUSUM decision limit in units of the teller's spread (5: on a steady teller about one false
    #: alarm per ~900 transactions, i.e. weeks of one counter)
    cusum_h: float = 5.0
    #: one transaction's standardised log-ratio is clipped at this (robustness to a single outlier)
    cusum_clip: float = 3.0
    #: past transactions of a counter for a service needed before it has a norm
    cusum_min_history: int = 10
    #: the norm is the latest this many past transactions of the counter for the service
    cusum_window: int = 200
    #: the least spread of log durations assumed (a teller with very regular durations would
    #: otherwise alarm at a few seconds' drift)
    cusum_min_spread: float = 0.15


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


def duration_drift(today: DayActivity | None, history: Sequence[DayActivity], thresholds: WarningThresholds) -> list[Warning]:
    """Counters whose transactions today drifted slower than their own norm (CUSUM alarm on)."""
    if today is None:
        return []
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
) -> list[Warning]:
    """Every warning that holds at ``now``, most urgent kinds first (alerts before warnings).

    ``today`` is the day's records (``ActivityLog.today``), ``history`` earlier days (the CUSUM's
    norms), ``forecast`` the projection's forecast at ``now`` (``None``: the forecast rules are
    skipped), ``config`` the branch's configuration (defaults to ``state.config``).
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
    found += duration_drift(today, history, limits)
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
