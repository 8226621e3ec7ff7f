"""The early-warning rules (queue_board/reports/warnings.py) on scripted event sequences.

Each rule is checked three ways: it fires once its threshold is passed, it does not fire just
below the threshold, and it clears when the condition ends (the counter calls, the pause
resumes…). Events go through a ``Projection`` with activity records, as the live server feeds
them, and the forecast rules read ``projection.forecast()``.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest

from queue_board.core.activity import ActivityLog, DayActivity, Transaction
from queue_board.core.events import format_ts, parse_event
from queue_board.core.feedback import FeedbackItem
from queue_board.core.projection import Projection
from queue_board.forecast.ranges import Range
from queue_board.reports.warnings import (
    Kind,
    Norm,
    Severity,
    Warning,
    WarningThresholds,
    cusum,
    diff_warnings,
    evaluate,
    exceed_probability,
    feedback_overdue_warnings,
    learn_norms,
)

TZ = timezone(timedelta(hours=8))
DAY = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
LIMITS = WarningThresholds()


class Script:
    """A branch fed one event at a time, with a clock in seconds after 09:00 of ``day``."""

    def __init__(self, day: datetime = DAY) -> None:
        self.projection = Projection(activity=ActivityLog(), scenarios=64)
        self.day = day

    def at(self, seconds: float, day: datetime | None = None) -> float:
        return ((day or self.day) + timedelta(seconds=seconds)).timestamp()

    def __call__(self, seconds: float, kind: str, day: datetime | None = None, **fields: Any) -> None:
        ts = (day or self.day) + timedelta(seconds=seconds)
        event = parse_event({"ts": format_ts(ts), "type": kind, **fields})
        rejection = self.projection.submit(event)
        assert rejection is None, rejection.message

    def warnings(self, seconds: float, *, forecast: bool = False, limits: WarningThresholds = LIMITS, **kw: Any) -> list[Warning]:
        activity = self.projection.activity
        assert activity is not None
        past = [d for d in activity.days.values() if d is not activity.today]
        return evaluate(
            self.projection.state,
            activity.today,
            self.projection.forecast() if forecast else None,
            self.at(seconds),
            history=past,
            thresholds=limits,
            **kw,
        )


def keys(warnings: list[Warning], kind: Kind) -> list[str]:
    return [w.key for w in warnings if w.kind is kind]


# --- counter_idle_with_queue ----------------------------------------------------------------
def test_idle_counter_with_queue_fires_after_idle_minutes_and_clears_when_it_calls() -> None:
    s = Script()
    s(0, "counter_opened", counter="1", services=["A"])
    s(60, "ticket_issued", ticket="A001", service="A")
    # free since 09:00 but A001 only waits since 09:01: 2 min 59 s of idling with a queue
    assert keys(s.warnings(60 + 179), Kind.COUNTER_IDLE_WITH_QUEUE) == []
    fired = [w for w in s.warnings(60 + 180) if w.kind is Kind.COUNTER_IDLE_WITH_QUEUE]
    assert [w.key for w in fired] == ["idle:1"]
    assert fired[0].since == s.at(60) and fired[0].facts["waiting"] == 1
    s(250, "ticket_called", ticket="A001", counter="1")
    assert keys(s.warnings(400), Kind.COUNTER_IDLE_WITH_QUEUE) == []


def test_wrap_up_counts_as_free_and_a_counter_for_other_services_is_not_flagged() -> None:
    s = Script()
    s(0, "counter_opened", counter="1", services=["A"])
    s(0, "counter_opened", counter="2", services=["B"])
    s(10, "ticket_issued", ticket="A001", service="A")
    s(20, "ticket_called", ticket="A001", counter="1")
    s(30, "service_started", ticket="A001", counter="1")
    s(100, "ticket_issued", ticket="A002", service="A")
    s(200, "service_finished", ticket="A001", counter="1")  # wrapping up from 200 s
    assert keys(s.warnings(200 + 179), Kind.COUNTER_IDLE_WITH_QUEUE) == []
    assert keys(s.warnings(200 + 180), Kind.COUNTER_IDLE_WITH_QUEUE) == ["idle:1"]  # not counter 2 (B only)
    s(400, "counter_paused", counter="1", reason="break", minutes=5)
    assert keys(s.warnings(500), Kind.COUNTER_IDLE_WITH_QUEUE) == []


# --- pause_overrun --------------------------------------------------------------------------
def test_pause_overrun_fires_past_declared_minutes_and_grace_and_clears_on_resume() -> None:
    s = Script()
    s(0, "counter_opened", counter="1", services=["A"])
    s(600, "counter_paused", counter="1", reason="break", minutes=10)
    declared_end = 600 + 600
    grace = LIMITS.pause_grace_minutes * 60
    assert keys(s.warnings(declared_end + grace), Kind.PAUSE_OVERRUN) == []
    fired = [w for w in s.warnings(declared_end + grace + 1) if w.kind is Kind.PAUSE_OVERRUN]
    assert [w.key for w in fired] == ["pause:1"]
    assert fired[0].since == s.at(declared_end) and fired[0].facts["reason"] == "break"
    assert fired[0].severity is Severity.WARNING
    # as long again as it was declared: an alert
    assert [w.severity for w in s.warnings(declared_end + 600) if w.kind is Kind.PAUSE_OVERRUN] == [Severity.ALERT]
    s(declared_end + 700, "counter_resumed", counter="1")
    assert keys(s.warnings(declared_end + 701), Kind.PAUSE_OVERRUN) == []


def test_a_pause_without_declared_minutes_never_overruns() -> None:
    s = Script()
    s(0, "counter_opened", counter="1", services=["A"])
    s(60, "counter_paused", counter="1")
    assert keys(s.warnings(5 * 3600), Kind.PAUSE_OVERRUN) == []


# --- many_paused ----------------------------------------------------------------------------
def test_many_paused_fires_above_the_share_and_clears_on_resume() -> None:
    s = Script()
    for name in "1234":
        s(0, "counter_opened", counter=name, services=["A"])
    s(60, "counter_paused", counter="1", reason="lunch", minutes=30)
    s(120, "counter_paused", counter="2", reason="lunch", minutes=30)
    assert keys(s.warnings(130), Kind.MANY_PAUSED) == []  # 2 of 4: half, not more than half
    s(180, "counter_paused", counter="3", reason="authorisation", minutes=5)
    fired = [w for w in s.warnings(190) if w.kind is Kind.MANY_PAUSED]
    assert [w.key for w in fired] == ["many_paused"]
    assert fired[0].since == s.at(180) and fired[0].facts["paused"] == ["1", "2", "3"]
    s(300, "counter_resumed", counter="3")
    assert keys(s.warnings(301), Kind.MANY_PAUSED) == []


def test_many_paused_counts_open_counters_only() -> None:
    s = Script()
    for name in "123":
        s(0, "counter_opened", counter=name, services=["A"])
    s(60, "counter_paused", counter="1", minutes=5)
    assert keys(s.warnings(61), Kind.MANY_PAUSED) == []  # 1 of 3
    s(70, "counter_closed", counter="3")
    assert keys(s.warnings(71), Kind.MANY_PAUSED) == []  # 1 of 2
    s(80, "counter_closed", counter="2")
    assert keys(s.warnings(81), Kind.MANY_PAUSED) == ["many_paused"]  # 1 of 1


# --- service_unserved -----------------------------------------------------------------------
def test_service_unserved_fires_while_no_open_counter_has_it_and_clears_when_one_opens() -> None:
    s = Script()
    s(0, "counter_opened", counter="1", services=["A"])
    s(0, "counter_opened", counter="2", services=["B"])
    s(30, "counter_paused", counter="2", reason="lunch", minutes=30)
    s(60, "ticket_issued", ticket="B001", service="B")
    # paused is open: it will be back
    assert keys(s.warnings(90), Kind.SERVICE_UNSERVED) == []
    s(100, "counter_closed", counter="2")
    fired = [w for w in s.warnings(110) if w.kind is Kind.SERVICE_UNSERVED]
    assert [w.key for w in fired] == ["unserved:B"]
    assert fired[0].since == s.at(100) and fired[0].facts["tickets"] == ["B001"]
    s(200, "counter_opened", counter="3", services=[["A"], ["B"]])
    assert keys(s.warnings(201), Kind.SERVICE_UNSERVED) == []


# --- new_ticket_wait_high -------------------------------------------------------------------
def _queue_at_one_counter(s: Script, waiting: int) -> None:
    s(0, "counter_opened", counter="1", services=["A"])
    s(0, "counter_opened", counter="2", services=["A"])
    s(5, "counter_closed", counter="2")
    for i in range(1, waiting + 1):
        s(10 + i, "ticket_issued", ticket=f"A{i:03d}", service="A")


def test_new_ticket_wait_high_fires_above_target_while_a_counter_is_closed() -> None:
    s = Script()
    _queue_at_one_counter(s, 8)
    p90 = s.projection.forecast().new_ticket["A"]
    assert p90 is not None
    just_below = dataclasses.replace(LIMITS, target_minutes=p90.p90 / 60 - 0.01)
    just_above = dataclasses.replace(LIMITS, target_minutes=p90.p90 / 60 + 0.01)
    fired = [w for w in s.warnings(20, forecast=True, limits=just_below) if w.kind is Kind.NEW_TICKET_WAIT_HIGH]
    assert [w.key for w in fired] == ["new_ticket:A"] and fired[0].facts["counters"] == ["2"]
    assert keys(s.warnings(20, forecast=True, limits=just_above), Kind.NEW_TICKET_WAIT_HIGH) == []
    # counter 2 opens: nothing is left closed or paused, so the wait is the staffing's, not a warning
    s(30, "counter_opened", counter="2", services=["A"])
    assert keys(s.warnings(31, forecast=True, limits=just_below), Kind.NEW_TICKET_WAIT_HIGH) == []


def test_new_ticket_wait_high_counts_configured_counters_that_never_opened() -> None:
    from queue_board.core.branch_config import parse_config

    s = Script()
    s(0, "counter_opened", counter="1", services=["A"])
    for i in range(1, 9):
        s(10 + i, "ticket_issued", ticket=f"A{i:03d}", service="A")
    low = dataclasses.replace(LIMITS, target_minutes=1)
    assert keys(s.warnings(20, forecast=True, limits=low), Kind.NEW_TICKET_WAIT_HIGH) == []
    config = parse_config(
        {"services": [{"code": "A", "prefix": "A"}], "counters": [{"name": "1", "services": ["A"]}, {"name": "9", "services": ["A"]}]}
    )
    assert keys(s.warnings(20, forecast=True, limits=low, config=config), Kind.NEW_TICKET_WAIT_HIGH) == ["new_ticket:A"]


# --- promise_at_risk ------------------------------------------------------------------------
def _promise_script() -> Script:
    s = Script()
    s(0, "counter_opened", counter="1", services=["A"])
    s(10, "ticket_issued", ticket="A001", service="A")
    s(20, "ticket_called", ticket="A001", counter="1")
    s(40, "service_started", ticket="A001", counter="1")
    # told "up to about 2 min" while a transaction has just started and others wait before it
    for i in range(2, 5):
        s(40 + i, "ticket_issued", ticket=f"A{i:03d}", service="A")
    s(60, "ticket_issued", ticket="A005", service="A", told={"p10": 0, "p50": 60, "p90": 120})
    # told "about 30–50 min": its top is beyond the horizon
    s(61, "ticket_issued", ticket="A006", service="A", told={"p10": 1800, "p50": 2400, "p90": 3000})
    return s


def test_promise_at_risk_fires_above_break_likely_and_not_just_below() -> None:
    s = _promise_script()
    forecast = s.projection.forecast()
    now = s.at(61)
    slack = s.at(60) + 120 - now
    p_break = exceed_probability(forecast.waits["A005"], slack)
    assert 0.5 < p_break < 1.0
    fired = [w for w in s.warnings(61, forecast=True) if w.kind is Kind.PROMISE_AT_RISK]
    assert [w.key for w in fired] == ["promise:A005"]  # A006 is beyond the horizon; A002–A004 were told nothing
    facts = fired[0].facts
    assert facts["shown_top"] == 120 and facts["slack"] == pytest.approx(slack) and facts["p_break"] == pytest.approx(p_break)
    assert fired[0].severity is Severity.ALERT  # less than lead_minutes to act
    just_above = dataclasses.replace(LIMITS, break_likely=p_break + 1e-6)
    assert keys(s.warnings(61, forecast=True, limits=just_above), Kind.PROMISE_AT_RISK) == []
    just_below = dataclasses.replace(LIMITS, break_likely=p_break - 1e-6)
    assert keys(s.warnings(61, forecast=True, limits=just_below), Kind.PROMISE_AT_RISK) == ["promise:A005"]


def test_promise_at_risk_respects_the_horizon_and_clears_when_called() -> None:
    s = _promise_script()
    far = dataclasses.replace(LIMITS, horizon_minutes=60, break_likely=0.0)
    assert "promise:A006" in keys(s.warnings(61, forecast=True, limits=far), Kind.PROMISE_AT_RISK)
    # the top passes and A005 still waits: still on, marked broken
    late = [w for w in s.warnings(61 + 300, forecast=True) if w.key == "promise:A005"]
    assert late and late[0].facts["broken"] is True and late[0].facts["p_break"] == 1.0
    s(500, "service_finished", ticket="A001", counter="1")
    s(501, "ticket_called", ticket="A005", counter="1")  # called out of turn
    assert keys(s.warnings(502, forecast=True), Kind.PROMISE_AT_RISK) == []


def test_exceed_probability_matches_the_quantiles_and_decays() -> None:
    wait = Range(60.0, 300.0, 900.0)
    assert exceed_probability(wait, 60.0) == pytest.approx(0.9)
    assert exceed_probability(wait, 300.0) == pytest.approx(0.5)
    assert exceed_probability(wait, 900.0) == pytest.approx(0.1)
    assert exceed_probability(wait, 3000.0) < 0.01
    assert exceed_probability(wait, -1.0) == 1.0
    assert exceed_probability(Range(math.inf, math.inf, math.inf), 600.0) == 1.0
    about_now = Range(0.0, 0.0, 30.0)
    assert exceed_probability(about_now, 15.0) == pytest.approx(0.3)
    values = [exceed_probability(wait, s) for s in np.linspace(0, 4000, 200)]
    assert all(a >= b for a, b in itertools.pairwise(values))


# --- duration_drift -------------------------------------------------------------------------
def _transactions(counter: str, durations: list[float], start: float = 0.0, service: str = "A") -> list[Transaction]:
    out: list[Transaction] = []
    t = start
    for i, d in enumerate(durations):
        out.append(Transaction(f"{service}{i:03d}", service, counter, called_at=t, started_at=t + 10, ended_at=t + 10 + d, outcome="finished"))
        t += 10 + d + 20
    return out


def _norms(rng: np.random.Generator, sigma: float) -> dict[tuple[str, str], Norm]:
    day = DayActivity(day=DAY.date(), utc_offset=8 * 3600, first_at=0, last_at=0)
    day.transactions = _transactions("1", list(180 * np.exp(rng.normal(0, sigma, 200))))
    return learn_norms([day], LIMITS)


@pytest.mark.parametrize("seed", range(8))
def test_cusum_stays_quiet_on_a_steady_teller(seed: int) -> None:
    rng = np.random.default_rng(seed)
    norms = _norms(rng, 0.45)
    today = _transactions("1", list(180 * np.exp(rng.normal(0, 0.45, 80))))
    assert not cusum(today, norms, LIMITS).alarm


def _alarm_delay(seed: int, sigma: float) -> int | None:
    """Transactions after a 50 % slowdown (after 30 steady ones) until the alarm, or None."""
    rng = np.random.default_rng(100 + seed)
    norms = _norms(rng, sigma)
    steady = list(180 * np.exp(rng.normal(0, sigma, 30)))
    slow = list(1.5 * 180 * np.exp(rng.normal(0, sigma, 60)))
    transactions = _transactions("1", steady + slow)
    assert not cusum(transactions[:30], norms, LIMITS).alarm
    return next((n - 30 for n in range(31, 91) if cusum(transactions[:n], norms, LIMITS).alarm), None)


def test_cusum_alarms_within_a_few_transactions_of_a_half_slower_teller() -> None:
    # a teller with a log-spread of 0.3: 50 % slower is 1.35 spreads, k = 0.5, h = 5 expect ~7
    delays = [_alarm_delay(seed, 0.3) for seed in range(8)]
    assert all(d is not None and d <= 20 for d in delays), delays
    assert float(np.median([d for d in delays if d is not None])) <= 10, delays
    # an erratic teller (0.45, as the simulated branches): 0.9 spreads, expect ~13; one seed
    # whose norm came out high by chance takes longer
    erratic = [_alarm_delay(seed, 0.45) for seed in range(8)]
    assert all(d is not None for d in erratic), erratic
    assert float(np.median([d for d in erratic if d is not None])) <= 15, erratic


def test_one_extraordinary_transaction_does_not_alarm_alone() -> None:
    rng = np.random.default_rng(7)
    norms = _norms(rng, 0.3)
    durations = [180.0] * 10 + [180.0 * 20] + [180.0] * 10
    assert not cusum(_transactions("1", durations), norms, LIMITS).alarm


def _serve(s: Script, day: datetime, first: int, durations: Sequence[float], counter: str = "1") -> float:
    """Issue, call, start and finish one ticket per duration, back to back; returns the end (s)."""
    t = 0.0
    s(t, "counter_opened", day=day, counter=counter, services=["A"])
    for i, d in enumerate(durations):
        label = f"A{first + i:03d}"
        s(t + 1, "ticket_issued", day=day, ticket=label, service="A")
        s(t + 2, "ticket_called", day=day, ticket=label, counter=counter)
        s(t + 10, "service_started", day=day, ticket=label, counter=counter)
        s(t + 10 + d, "service_finished", day=day, ticket=label, counter=counter)
        t += 10 + d + 5
    return t


def test_duration_drift_fires_on_a_slow_day_and_clears_when_the_teller_is_back() -> None:
    rng = np.random.default_rng(3)
    s = Script()
    yesterday_end = _serve(s, DAY, 1, [round(float(x)) for x in 180 * np.exp(rng.normal(0, 0.3, 40))])
    s(yesterday_end, "counter_closed", counter="1")
    tomorrow = DAY + timedelta(days=1)
    steady = [round(float(x)) for x in 180 * np.exp(rng.normal(0, 0.3, 15))]
    slow = [round(float(x)) for x in 300 * np.exp(rng.normal(0, 0.3, 12))]
    end = _serve(s, tomorrow, 1, steady)
    assert keys(_at(s, tomorrow, end), Kind.DURATION_DRIFT) == []
    t = end
    fired_after = None
    for i, d in enumerate(slow):
        label = f"A{100 + i:03d}"
        s(t + 1, "ticket_issued", day=tomorrow, ticket=label, service="A")
        s(t + 2, "ticket_called", day=tomorrow, ticket=label, counter="1")
        s(t + 10, "service_started", day=tomorrow, ticket=label, counter="1")
        s(t + 10 + d, "service_finished", day=tomorrow, ticket=label, counter="1")
        t += 10 + d + 5
        if fired_after is None and keys(_at(s, tomorrow, t), Kind.DURATION_DRIFT):
            fired_after = i + 1
    assert fired_after is not None and fired_after <= 8
    drift = next(w for w in _at(s, tomorrow, t) if w.kind is Kind.DURATION_DRIFT)
    assert drift.key == "drift:1" and drift.since is not None and s.at(0, tomorrow) <= drift.since <= s.at(t, tomorrow)
    # back to the norm, quicker than usual for a while: the statistic returns to 0 and the alarm clears
    for i in range(40):
        label = f"A{200 + i:03d}"
        s(t + 1, "ticket_issued", day=tomorrow, ticket=label, service="A")
        s(t + 2, "ticket_called", day=tomorrow, ticket=label, counter="1")
        s(t + 10, "service_started", day=tomorrow, ticket=label, counter="1")
        s(t + 10 + 150, "service_finished", day=tomorrow, ticket=label, counter="1")
        t += 165
        if not keys(_at(s, tomorrow, t), Kind.DURATION_DRIFT):
            break
    else:
        raise AssertionError("the drift alarm did not clear")


def _at(s: Script, day: datetime, seconds: float) -> list[Warning]:
    activity = s.projection.activity
    assert activity is not None
    past = [d for d in activity.days.values() if d is not activity.today]
    return evaluate(s.projection.state, activity.today, None, s.at(seconds, day), history=past)


# --- feedback_overdue (the hook) ------------------------------------------------------------
def test_feedback_overdue_hook_words_overdue_complaints_only() -> None:
    recorded = DAY
    item = FeedbackItem(
        id="F1", kind="complaint", channel="phone", category="waiting", text="too long",
        recorded_at=recorded.timestamp(), recorded_ts=recorded, owner="amy", deadline=recorded + timedelta(hours=2),
    )
    assert feedback_overdue_warnings([item], (recorded + timedelta(hours=1)).timestamp()) == []
    fired = feedback_overdue_warnings([item], (recorded + timedelta(hours=3)).timestamp())
    assert [(w.key, w.since) for w in fired] == [("feedback:F1", (recorded + timedelta(hours=2)).timestamp())]
    item.status = "resolved"
    assert feedback_overdue_warnings([item], (recorded + timedelta(hours=3)).timestamp()) == []


# --- diff_warnings --------------------------------------------------------------------------
def test_diff_warnings_splits_raised_still_active_and_cleared() -> None:
    def w(key: str) -> Warning:
        return Warning(Kind.PAUSE_OVERRUN, key, Severity.WARNING, key, None)

    raised, still, cleared = diff_warnings(["pause:1", "idle:2", "many_paused"], [w("pause:1"), w("pause:3")])
    assert [x.key for x in raised] == ["pause:3"]
    assert [x.key for x in still] == ["pause:1"]
    assert cleared == ["idle:2", "many_paused"]
    assert diff_warnings([], []) == ([], [], [])


def test_keys_stay_the_same_while_a_condition_lasts() -> None:
    s = Script()
    s(0, "counter_opened", counter="1", services=["A"])
    s(0, "ticket_issued", ticket="A001", service="A")
    first = s.warnings(200)
    later = s.warnings(900)
    raised, still, cleared = diff_warnings([x.key for x in first], later)
    assert raised == [] and cleared == [] and [x.key for x in still] == ["idle:1"]
    assert first[0].since == later[0].since
