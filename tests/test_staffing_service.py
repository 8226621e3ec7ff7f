"""Staffing advice on the manager's dashboard (docs/reports.md "Staffing advice"): the advice and
the what-if in the dashboard payload of a branch with a few simulated days imported, the what-if
changing nothing in the real projection and giving shorter waits with one more counter, and the
learned inputs, plans and what-if kept between pushes."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from conftest import TZ, ManualClock, Tokens
from flask import Flask
from flask.testing import FlaskClient

from queue_board.core.branch import CounterStatus
from queue_board.core.events import Event, event_to_json
from queue_board.core.projection import Projection
from queue_board.reports.what_if import hypothetical, profiles_of, what_if
from simulations.branch_sim import simulate
from simulations.scenarios import demo_branch

START = date(2026, 3, 2)  # a Monday
DAYS = 4
BRANCH = "sim"


@pytest.fixture
def clock() -> ManualClock:
    """The server's clock at the last simulated day's midnight: the imports are of that day and the
    days before it (a log dated after the server's today is refused), and every view's "now" is
    still the log's last event."""
    return ManualClock(datetime.combine(START + timedelta(days=DAYS - 1), datetime.min.time(), tzinfo=TZ))


@functools.cache
def simulated() -> tuple[Event, ...]:
    return tuple(simulate(demo_branch(), DAYS, START, seed=7, tz="+08:00"))


def until(hour: int, minute: int = 0) -> list[Event]:
    """The simulated log up to ``hour:minute`` of its last day (three closed days before it)."""
    end = datetime.combine(START + timedelta(days=DAYS - 1), datetime.min.time(), tzinfo=TZ).replace(hour=hour, minute=minute)
    return [e for e in simulated() if e.ts <= end]


def imported(app: Flask, hour: int = 11, minute: int = 30) -> None:
    app.extensions["queue_board"].import_log(BRANCH, [event_to_json(e) + "\n" for e in until(hour, minute)])


def test_the_dashboard_carries_the_staffing_advice(app: Flask, client: FlaskClient, tokens: Tokens) -> None:
    imported(app)
    response = client.get(f"/api/v1/branches/{BRANCH}/reports/dashboard", headers=tokens.auth("admin"))
    assert response.status_code == 200, response.json
    staffing = response.json["staffing"]
    assert staffing["available"] and staffing["days_learned"] == DAYS - 1
    assert staffing["model"] in ("erlang_a", "erlang_c") and staffing["target_minutes"] == 10.0
    assert staffing["max_counters"] == 4 and 0 <= staffing["open_now"] <= 4
    today, tomorrow = staffing["today"], staffing["tomorrow"]
    assert today["day"] == "2026-03-05" and tomorrow["day"] == "2026-03-06" and tomorrow["weekday"] == 4
    # today: the hours from now on, each with the counters open now as the plan
    assert today["hours"][0]["hour"] == 11 and all(h["planned"] == staffing["open_now"] for h in today["hours"])
    assert all(h["hour"] >= 11 for h in today["hours"])
    for change in today["changes"]:
        assert change["action"] in ("open", "close") and change["count"] >= 0 and change["service"]
        assert change["from"] < change["to"] or change["to"] == "00:00"
        assert change["p90_after_min"] is None or change["p90_after_min"] >= 0
    if today["changes"]:
        assert today["changes"][0]["from"].startswith("1")
    # tomorrow: a plan for the branch's hours, never more counters than it has
    hours = tomorrow["hours"]
    assert hours and all(0 <= h["counters"] <= 4 and h["counters"] <= h["needed"] for h in hours)
    assert tomorrow["peak"] == max(h["counters"] for h in hours) and tomorrow["counter_hours"] == sum(h["counters"] for h in hours)
    assert all(sum(h["by_service"].values()) == h["needed"] for h in hours)
    busy = [h for h in hours if h["arrivals"] > 0 and h["counters"] == h["needed"]]
    assert busy and all(h["p90_min"] is not None and h["p90_min"] <= 10.0 for h in busy)
    # the what-if of everyone waiting now
    waits = staffing["what_if"]["now"]
    assert waits["waiting"] == response.json["waiting_total"]


def test_a_branch_without_closed_days_has_no_advice_yet(app: Flask, client: FlaskClient, tokens: Tokens) -> None:
    first_day = [e for e in simulated() if e.day == START and e.ts.hour < 11]
    app.extensions["queue_board"].import_log(BRANCH, [event_to_json(e) + "\n" for e in first_day])
    staffing = client.get(f"/api/v1/branches/{BRANCH}/reports/dashboard", headers=tokens.auth("admin")).json["staffing"]
    assert not staffing["available"] and staffing["today"] is None and staffing["tomorrow"] is None
    assert "what_if" in staffing


def _projection() -> Projection:
    projection = Projection()
    for event in until(11, 30):
        _, rejection = projection.accept(event)
        assert rejection is None
    return projection


def test_the_what_if_changes_nothing_and_one_more_counter_shortens_the_waits() -> None:
    projection = _projection()
    state = projection.state
    profiles = profiles_of(state.config.counters if state.config is not None else ())
    # with two counters closed (on a copy), one more is there to open and the waits are long
    open_names = sorted(n for n, c in state.counters.items() if c.status is not CounterStatus.CLOSED)
    # and a crowd of customers just walked in (also on the copy)
    crowd = [{"type": "ticket_issued", "ticket": f"Z{900 + i}", "service": "deposit" if i % 3 else "remittance"} for i in range(12)]
    base = hypothetical(state, crowd)
    assert base is not None and base.waiting_count() >= 12
    for name in open_names[:2]:
        counter = base.counters[name]
        events: list[dict[str, object]] = []
        if counter.ticket is not None and counter.status is CounterStatus.CALLING:
            events.append({"type": "service_started", "counter": name, "ticket": counter.ticket})
        if counter.ticket is not None:
            events.append({"type": "service_finished", "counter": name, "ticket": counter.ticket})
        trial = hypothetical(base, [*events, {"type": "counter_closed", "counter": name}])
        assert trial is not None
        base = trial
    before_state = copy.deepcopy(state)
    before_forecast = projection.forecast()
    before_cache = dict(projection.model.rhythm_cache)

    result = what_if(base, projection.model, projection.forecaster, profiles)

    # nothing real moved: the state, the model's caches, the forecast the boards show
    assert projection.state == before_state
    assert projection.model.rhythm_cache.keys() == before_cache.keys()
    assert projection.forecast().waits == before_forecast.waits
    assert base.counters[open_names[0]].status is CounterStatus.CLOSED  # the copy it was given neither
    assert result.one_more is not None and result.one_more.action == "open"
    assert base.counters[result.one_more.counter].status is CounterStatus.CLOSED
    now, more = result.now, result.one_more.waits
    assert now.waiting == more.waiting == base.waiting_count()
    assert now.max_p50_s is not None and more.max_p50_s is not None and now.mean_p50_s is not None and more.mean_p50_s is not None
    assert more.max_p50_s < now.max_p50_s and more.mean_p50_s < now.mean_p50_s
    assert more.mean_p90_s is not None and now.mean_p90_s is not None and more.mean_p90_s < now.mean_p90_s
    if result.one_fewer is not None:
        fewer = result.one_fewer.waits
        assert fewer.mean_p50_s is None or fewer.mean_p50_s >= now.mean_p50_s
    # the what-if as the dashboard carries it
    payload = result.as_dict()
    assert set(payload) == {"now", "one_more", "one_fewer"}
    assert {"mean_p50_min", "max_p50_min", "mean_p90_min", "max_p90_min", "waiting", "never"} <= set(payload["one_more"])


def test_the_learned_inputs_plans_and_what_if_are_kept(app: Flask, client: FlaskClient, tokens: Tokens) -> None:
    imported(app)
    reports = app.extensions["queue_board"].reports
    first = reports.dashboard(BRANCH)["staffing"]
    plans = dict(reports._plans[BRANCH])
    second = reports.dashboard(BRANCH)["staffing"]
    assert second == first
    assert reports.learned_count[BRANCH] == 1 and reports.what_if_count[BRANCH] == 1
    assert reports._plans[BRANCH] == plans  # no plan worked out again
    assert reports.staffing(BRANCH) == first
    # the rest of the same day closes no day: the inputs are kept, the what-if is made again
    rest = simulated()[len(until(11, 30)) :]
    app.extensions["queue_board"].import_log(BRANCH, [event_to_json(e) + "\n" for e in rest])
    later = reports.dashboard(BRANCH)["staffing"]
    assert later["days_learned"] == first["days_learned"] and reports.learned_count[BRANCH] == 1
    assert reports.what_if_count[BRANCH] == 2


def test_before_opening_the_advice_is_to_open_counters(app: Flask, clock: ManualClock) -> None:
    imported(app, 8, 0)  # nothing yet on the last day: its morning, every counter closed
    clock.advance((datetime.combine(START + timedelta(days=DAYS - 1), datetime.min.time(), tzinfo=TZ).replace(hour=8) - clock.now()).total_seconds())
    staffing = app.extensions["queue_board"].reports.staffing(BRANCH)
    assert staffing["open_now"] == 0 and staffing["days_learned"] == DAYS - 2  # the day before is not closed yet
    today = staffing["today"]
    assert today is not None and today["day"] == "2026-03-05" and today["hours"][0]["hour"] >= 8
    opening = today["changes"][0]
    assert opening["action"] == "open" and opening["count"] >= 1 and opening["p90_before_min"] is None  # no counter: no bound


# the page ----------------------------------------------------------------------------------------
@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    from conftest import screen_context
    from test_screens_live import TEST_OPTIONS

    with screen_context(browser, TEST_OPTIONS) as ctx:
        yield ctx


@pytest.mark.browser
def test_the_dashboard_shows_the_staffing_card_in_english_and_chinese(live_server: Any, context: Any) -> None:
    from playwright.sync_api import expect
    from test_manage_pages import signed_in

    live_server.app.extensions["queue_board"].import_log(BRANCH, [event_to_json(e) + "\n" for e in until(11, 30)])
    errors: list[str] = []
    page = signed_in(context, live_server, f"/manage/{BRANCH}", errors)
    expect(page.locator("body")).to_have_attribute("data-connection", "live")
    card = page.locator("#staffing")
    expect(card.locator("#staffing-title")).to_have_text("Staffing")
    expect(card.locator("#staffing-basis")).to_contain_text("closed days")
    expect(card.locator("#staffing-today li").first).to_be_visible()
    expect(card.locator("#staffing-what-if li").first).to_be_visible()
    expect(card.locator("#staffing-tomorrow")).to_contain_text("counter-hours")
    expect(card.locator("#staffing-chart canvas").first).to_be_attached()
    expect(card.locator('#staffing-table thead [data-column="counters"]')).to_have_text("Counters needed")
    assert card.locator("#staffing-table tbody tr").count() > 3
    page.select_option("#language", "zh-Hant")
    expect(card.locator("#staffing-title")).to_have_text("人力配置")
    expect(card.locator("#staffing-basis")).to_contain_text("已結束營業日")
    expect(card.locator("#staffing-tomorrow")).to_contain_text("櫃台小時")
    expect(card.locator('#staffing-table thead [data-column="counters"]')).to_have_text("所需櫃台")
    assert errors == []


def test_a_kept_what_if_is_made_again_when_the_queue_changes(app: Flask) -> None:
    """Within the minute a what-if is kept, a customer starts a queue for a service nobody waited
    for: the card must not show the hypotheses chosen for the queues before them."""
    imported(app)
    reports = app.extensions["queue_board"].reports
    before = reports.dashboard(BRANCH)
    made = reports.what_if_count[BRANCH]
    queued = {w["service"] for w in before["waiting"]}
    fresh = next(s for s in ("loan", "remittance", "deposit") if s not in queued)
    last = until(11, 30)[-1]
    moment = last.ts + timedelta(seconds=1)
    arrival = {"ts": moment.isoformat(timespec="milliseconds"), "type": "ticket_issued", "ticket": "Z901", "service": fresh}
    app.extensions["queue_board"].import_log(BRANCH, [json.dumps(arrival) + "\n"])
    after = reports.dashboard(BRANCH)
    assert reports.what_if_count[BRANCH] == made + 1
    assert after["staffing"]["what_if"]["now"]["waiting"] == after["waiting_total"] == before["waiting_total"] + 1
    # one more customer in a queue that is there already: the kept one stands (a minute at most)
    again = {**arrival, "ts": (moment + timedelta(seconds=1)).isoformat(timespec="milliseconds"), "ticket": "Z902"}
    app.extensions["queue_board"].import_log(BRANCH, [json.dumps(again) + "\n"])
    reports.dashboard(BRANCH)
    assert reports.what_if_count[BRANCH] == made + 1
