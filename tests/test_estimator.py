"""The estimator's learned parts: censored survival, silent leaving, teller effects, the
branch's daily rhythm, calibration — each checked on data where the right answer is known."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest
from conftest import BANK_LOG
from timed_events import ev

from queue_board.core.events import read_log
from queue_board.core.projection import Projection
from queue_board.forecast.calibration import Calibrator, _bucket, weighted_quantile
from queue_board.forecast.durations import DayRecord, RecencySample, ShareByWait, Survival
from queue_board.forecast.monte_carlo import Range, routine_pauses

TZ = timezone(timedelta(hours=8))
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)


# --- survival with censoring -------------------------------------------------------------------
def test_survival_recovers_an_exponential_median_from_complete_episodes() -> None:
    rng = np.random.default_rng(1)
    survival = Survival(None, memory=1.0)
    for value in rng.exponential(120.0, 4000):
        survival.add(float(value), happened=True)
    assert survival.survival(120.0 * np.log(2)) == pytest.approx(0.5, abs=0.03)


def test_survival_is_not_fooled_by_censoring() -> None:
    """Patience 600 s on average, but most customers are called after 1–3 minutes: the
    called ones are censored, so a naive mean of the observed cancels (short) would be wrong."""
    rng = np.random.default_rng(2)
    survival = Survival(None, memory=1.0)
    for patience, call in zip(rng.exponential(600.0, 6000), rng.uniform(60, 180, 6000), strict=True):
        survival.add(float(min(patience, call)), happened=bool(patience < call))
    # P(patience > 120 s) for an exponential with mean 600 s
    assert survival.survival(120.0) == pytest.approx(np.exp(-120 / 600), abs=0.03)


def test_survival_draws_are_conditional_on_time_already_spent() -> None:
    survival = Survival(None, memory=1.0)
    for value in [5.0] * 500 + [300.0] * 500:
        survival.add(value, happened=True)
    rng = np.random.default_rng(3)
    fresh = survival.sample_remaining(0.0, rng, 4000)
    late = survival.sample_remaining(60.0, rng, 4000)
    assert np.median(fresh) < 30  # half end at once
    assert np.all(late > 0) and np.median(late) > 150  # past 60 s only the long ones are left


def test_survival_that_never_happened_never_happens() -> None:
    survival = Survival(None)
    survival.add(100.0, happened=False)
    assert np.isinf(survival.sample_remaining(np.array([0.0, 50.0]), np.random.default_rng(0), 10)).all()


# --- silent leaving -------------------------------------------------------------------------------
def test_share_of_silent_leavers_grows_with_the_wait_and_is_monotone() -> None:
    curve = ShareByWait(0.05, memory=1.0)
    rng = np.random.default_rng(4)
    for waited in rng.uniform(0, 3600, 5000):
        curve.add(float(waited), missed=bool(rng.random() < waited / 7200))
    shares = curve.shares()
    assert np.all(np.diff(shares) >= 0)
    assert curve.at(np.array([60.0]))[0] < 0.1 < curve.at(np.array([3000.0]))[0]


# --- durations on real data ------------------------------------------------------------------------
@pytest.mark.slow
def test_remaining_call_time_grows_with_elapsed_time_on_the_bank_log() -> None:
    """The issue's observation on the Anonymous Bank calls: ~170 s to go at 60 s, ~300 s at 600 s."""
    sample = RecencySample(300.0, half_life=1e9, capacity=20000, prior_weight=0)
    started: dict[tuple[Any, str], float] = {}
    with BANK_LOG.open() as handle:
        for _, event in read_log(handle):
            key = (event.day, event.ticket or "")
            if event.type == "service_started":
                started[key] = event.at
            elif event.type == "service_finished" and key in started:
                sample.add(event.at - started.pop(key))
    rng = np.random.default_rng(5)
    at_60 = float(np.mean(sample.sample_remaining(60.0, rng, 20000)))
    at_600 = float(np.mean(sample.sample_remaining(600.0, rng, 20000)))
    assert 140 < at_60 < 210
    assert 240 < at_600 < 380


# --- teller effects ---------------------------------------------------------------------------------
def test_a_slow_teller_gets_longer_forecasts_after_enough_history() -> None:
    projection = Projection()
    t = MONDAY
    for counter in ("1", "2"):
        projection.submit(ev("counter_opened", t, counter=counter, services=[["A"]]))
    for i in range(80):
        for counter in ("1", "2"):
            label = f"{counter}{i:03d}"
            t += timedelta(seconds=1)
            for kind in ("ticket_issued", "ticket_called", "service_started"):
                fields = {"service": "A"} if kind == "ticket_issued" else {"counter": counter}
                assert projection.submit(ev(kind, t, ticket=label, **fields)) is None
        for counter, seconds in (("1", 100.0), ("2", 300.0)):
            assert projection.submit(ev("service_finished", t + timedelta(seconds=seconds), ticket=f"{counter}{i:03d}", counter=counter)) is None
        t += timedelta(seconds=301)
    fast, slow = projection.service_range("A", "1"), projection.service_range("A", "2")
    assert slow.p50 > 2.0 * fast.p50
    # a teller never seen is assumed average
    assert fast.p50 < projection.service_range("A", "9").p50 < slow.p50


# --- the branch's rhythm ------------------------------------------------------------------------------
def day_with_lunch(projection: Projection, day: datetime, lunch: bool, late_minutes: int = 0) -> None:
    """A one-counter day: opens 09:00, lunch 12:00–13:00 (if any; ``late_minutes`` later, as when
    a transaction ran past noon), closes 17:00."""
    projection.submit(ev("counter_opened", day.replace(hour=9), counter="1", services=[["A"]]))
    if lunch:
        start = day.replace(hour=12) + timedelta(minutes=late_minutes)
        projection.submit(ev("counter_paused", start, counter="1", reason="lunch", minutes=60))
        projection.submit(ev("counter_resumed", start + timedelta(hours=1), counter="1"))
    projection.submit(ev("counter_closed", day.replace(hour=17), counter="1"))


def test_a_learned_lunch_break_lengthens_waits_just_before_it() -> None:
    with_lunch, without = Projection(), Projection()
    for projection, lunch in ((with_lunch, True), (without, False)):
        for d in range(5):
            day_with_lunch(projection, MONDAY + timedelta(days=d), lunch)
        today = MONDAY + timedelta(days=7)
        projection.submit(ev("counter_opened", today.replace(hour=9), counter="1", services=[["A"]]))
        t = today.replace(hour=11, minute=50)
        for i in range(3):
            projection.submit(ev("ticket_issued", t + timedelta(seconds=i), ticket=f"A{i:03d}", service="A"))
    last_with = with_lunch.forecast().waits["A002"]
    last_without = without.forecast().waits["A002"]
    # three transactions of ~5 min from 11:50 run into the learned 12:00 lunch hour
    assert last_with.p50 > last_without.p50 + 1800


def test_a_lunch_not_taken_yet_is_still_expected_after_the_time_it_usually_began() -> None:
    """Past days lunched at 12:00; at 12:10 today the teller has not gone yet: the lunch is due
    as soon as the counter is free, not forgotten until tomorrow (issue 13: the rhythm replayed
    only what a past day did after now, so between its lunch time and today's, no lunch)."""

    def waits_at(minute: int, lunch_taken: bool) -> Range:
        projection = Projection()
        for d in range(3):
            day_with_lunch(projection, MONDAY + timedelta(days=d), lunch=True)
        today = MONDAY + timedelta(days=7)
        projection.submit(ev("counter_opened", today.replace(hour=9), counter="1", services=[["A"]]))
        if lunch_taken:
            projection.submit(ev("counter_paused", today.replace(hour=11), counter="1", reason="lunch", minutes=30))
            projection.submit(ev("counter_resumed", today.replace(hour=11, minute=30), counter="1"))
        t = today.replace(hour=12) + timedelta(minutes=minute)
        for i in range(2):
            projection.submit(ev("ticket_issued", t + timedelta(seconds=i), ticket=f"A{i:03d}", service="A"))
        return projection.forecast().waits["A001"]

    due = waits_at(10, lunch_taken=False)
    taken = waits_at(10, lunch_taken=True)
    # the hour-long lunch comes before the second customer (or the first) is called
    assert due.p50 > taken.p50 + 1800
    # three hours after the usual time it is no longer expected today
    assert waits_at(180, lunch_taken=False).p50 < taken.p50 + 600


def test_a_lunch_that_began_late_one_day_is_expected_at_its_usual_time() -> None:
    """The teller lunches at noon, or when the transaction running at noon ends: yesterday at
    12:25. At 12:10 today, with the teller not gone yet, every scenario expects the lunch as soon
    as the counter is free; replaying yesterday's 12:25 would delay it twice, by yesterday's
    transaction and by today's (issue 13: the "mixed" branch's staggered lunches)."""
    projection = Projection()
    for d, late in enumerate((0, 0, 0, 25)):
        day_with_lunch(projection, MONDAY + timedelta(days=d), lunch=True, late_minutes=late)
    today = MONDAY + timedelta(days=7)
    projection.submit(ev("counter_opened", today.replace(hour=9), counter="1", services=[["A"]]))
    projection.submit(ev("ticket_issued", today.replace(hour=12, minute=10), ticket="A000", service="A"))
    wait = projection.forecast().waits["A000"]
    # the most recent day is a third of the scenarios: replayed at 12:25, its customer is called first
    assert wait.p10 > 3000


def test_an_occasional_pause_is_not_a_routine() -> None:
    days = [
        DayRecord(
            day=(MONDAY + timedelta(days=d)).date(),
            pauses={"1": [[43200.0 + 300 * d, 1800.0, "lunch"], [a, 300.0, "auth"]]},
        )
        for d, a in enumerate((36000.0, 50400.0, 57600.0))
    ]
    days.append(DayRecord(day=(MONDAY + timedelta(days=3)).date(), pauses={"2": [[40000.0, 600.0, "errand"]]}))
    # lunch on three days of four at 12:00–12:10; the authorisations spread over the day; an
    # errand on one day of four
    # each with its earliest start: the planned time, which busy days delay
    assert routine_pauses(days) == {"1": {"lunch": 43200.0}}


def test_a_counter_that_usually_opens_later_is_expected() -> None:
    projection = Projection()
    for d in range(5):
        day = MONDAY + timedelta(days=d)
        projection.submit(ev("counter_opened", day.replace(hour=10), counter="1", services=[["A"]]))
        projection.submit(ev("counter_closed", day.replace(hour=17), counter="1"))
    early = (MONDAY + timedelta(days=7)).replace(hour=9, minute=30)
    projection.submit(ev("ticket_issued", early, ticket="A001", service="A"))
    wait = projection.forecast().waits["A001"]
    # counter 1 opens around 10:00 on every day seen: about 30 minutes
    assert 1500 < wait.p50 < 2400


def test_future_vip_arrivals_overtake_a_waiting_regular_customer() -> None:
    def branch(vip_history: bool) -> Range:
        projection = Projection()
        for d in range(5):
            day = MONDAY + timedelta(days=d)
            projection.submit(ev("counter_opened", day.replace(hour=9), counter="1", services=[["vip"], ["A"]]))
            if vip_history:
                for i in range(20):  # a VIP every 3 minutes between 10:00 and 11:00
                    at = day.replace(hour=10) + timedelta(minutes=3 * i)
                    projection.submit(ev("ticket_issued", at, ticket=f"V{i:03d}", service="vip"))
                    projection.submit(ev("ticket_called", at, ticket=f"V{i:03d}", counter="1"))
                    projection.submit(ev("service_started", at, ticket=f"V{i:03d}", counter="1"))
                    projection.submit(ev("service_finished", at + timedelta(seconds=170), ticket=f"V{i:03d}", counter="1"))
            projection.submit(ev("counter_closed", day.replace(hour=17), counter="1"))
        today = (MONDAY + timedelta(days=7)).replace(hour=9)
        projection.submit(ev("counter_opened", today, counter="1", services=[["vip"], ["A"]]))
        projection.submit(ev("ticket_issued", today.replace(hour=9, minute=59), ticket="A001", service="A"))
        projection.submit(ev("ticket_issued", today.replace(hour=9, minute=59, second=1), ticket="A002", service="A"))
        return projection.forecast().waits["A002"]

    assert branch(vip_history=True).p50 > branch(vip_history=False).p50 + 600


# --- calibration -------------------------------------------------------------------------------------
def test_weighted_quantile_is_the_optimal_multiplier_for_the_pinball_loss() -> None:
    rng = np.random.default_rng(6)
    predicted = rng.uniform(60, 600, 500)
    actual = predicted * rng.lognormal(0.3, 0.4, 500)
    best = weighted_quantile(actual / predicted, predicted, 0.9)

    def loss(r: float) -> float:
        diff = actual - r * predicted
        return float(np.mean(np.maximum(0.9 * diff, -0.1 * diff)))

    assert loss(best) <= min(loss(best * 0.97), loss(best * 1.03))


def test_calibration_widens_ranges_that_proved_too_narrow() -> None:
    calibrator = Calibrator()
    rng = np.random.default_rng(7)
    for i in range(400):
        key = ("day", f"T{i}")
        calibrator.remember(key, Range(250.0, 300.0, 350.0))  # far too confident
        calibrator.resolve(key, float(300.0 * rng.lognormal(0.0, 0.5)))
    adjusted = calibrator.adjust(Range(250.0, 300.0, 350.0))
    assert adjusted.p10 < 200 and adjusted.p90 > 450
    assert 250 < adjusted.p50 < 350


def test_calibration_corrects_a_median_that_is_systematically_short() -> None:
    calibrator = Calibrator()
    rng = np.random.default_rng(8)
    for i in range(400):
        key = ("day", f"T{i}")
        calibrator.remember(key, Range(150.0, 300.0, 600.0))
        calibrator.resolve(key, float(600.0 * rng.lognormal(0.0, 0.3)))  # twice as long, always
    assert 520 < calibrator.adjust(Range(150.0, 300.0, 600.0)).p50 < 680


def test_calibration_stops_correcting_the_median_once_the_correction_no_longer_pays() -> None:
    """Transactions were twice as long for a while, then the model is right again: the fitted
    factor still remembers the long spell, but the median it corrects errs more than the raw
    one on the outcomes since, so the raw median is shown again (the tails stay corrected)."""
    calibrator = Calibrator()
    rng = np.random.default_rng(9)
    for i in range(450):
        key = ("day", f"T{i}")
        calibrator.remember(key, Range(150.0, 300.0, 600.0))
        truth = 600.0 if i < 300 else 300.0
        calibrator.resolve(key, float(truth * rng.lognormal(0.0, 0.1)))
    fitted = calibrator.corrections_only()._factors[_bucket(300.0)]
    assert fitted is not None and fitted[1] > 1.5  # the window still holds the long spell
    assert calibrator.adjust(Range(150.0, 300.0, 600.0)).p50 == pytest.approx(300.0)


def test_calibration_widens_the_tails_of_the_one_service_whose_waits_outrun_them() -> None:
    """Overall the ranges hold; prospects' waits run past them. Their p90 widens, deposits'
    stays, and neither median moves (issue 13: per-service and per-hour promises)."""
    calibrator = Calibrator()
    rng = np.random.default_rng(10)
    for i in range(1200):
        key = ("day", f"T{i}")
        service = "NW" if i % 4 == 0 else "deposit"
        calibrator.remember(key, Range(100.0, 300.0, 800.0), (service, 10))
        spread = 1.0 if service == "deposit" else 2.5
        calibrator.resolve(key, float(300.0 * rng.lognormal(0.0, 0.75 * spread)))
    deposit = calibrator.adjust(Range(100.0, 300.0, 800.0), ("deposit", 10))
    prospect = calibrator.adjust(Range(100.0, 300.0, 800.0), ("NW", 10))
    assert prospect.p50 == deposit.p50
    assert prospect.p90 > 1.5 * deposit.p90 and prospect.p10 < 0.7 * deposit.p10
    # about a tenth of each service's waits now lie above the p90 it is shown
    for service, told in (("deposit", deposit), ("NW", prospect)):
        spread = 1.0 if service == "deposit" else 2.5
        waits = 300.0 * rng.lognormal(0.0, 0.75 * spread, 4000)
        assert 0.05 < float(np.mean(waits > told.p90)) < 0.16, service
    # a service never seen, at an hour never seen, gets the overall correction only
    assert calibrator.adjust(Range(100.0, 300.0, 800.0), ("loan", 15)) == calibrator.adjust(Range(100.0, 300.0, 800.0))


def test_calibration_leaves_forecasts_alone_without_outcomes() -> None:
    assert Calibrator().adjust(Range(10.0, 20.0, 30.0)) == Range(10.0, 20.0, 30.0)


def test_cancelled_tickets_teach_calibration_nothing() -> None:
    calibrator = Calibrator()
    calibrator.remember(("d", "A1"), Range(1.0, 2.0, 3.0))
    calibrator.forget(("d", "A1"))
    calibrator.resolve(("d", "A1"), 100.0)
    assert all(len(bucket) == 0 for bucket in calibrator.outcomes)
