"""The manager's reports against the scripted day of tests/report_day.py, worked out by hand there."""

from __future__ import annotations

from datetime import date

import pytest
from report_day import at, report_day_events

from queue_board.core.activity import ActivityLog, shown_bottom_seconds, shown_top_seconds
from queue_board.core.projection import Projection
from queue_board.reports.columns import day_columns
from queue_board.reports.dashboard import Waiting, branch_summary, dashboard, sort_by_attention, today_figures
from queue_board.reports.history import Filters, history
from queue_board.reports.quality import quality
from queue_board.reports.story import ticket_story
from queue_board.reports.tables import Table
from simulations.branch_sim import simulate
from simulations.scenarios import demo_branch


def _projection(until: str | None = None) -> Projection:
    projection = Projection(activity=ActivityLog())
    for event in report_day_events():
        if until is not None and event.at > at(until):
            break
        assert projection.submit(event) is None
    return projection


def _row(table: Table, key: object = None) -> dict[str, object]:
    rows = table.rows if key is None else [r for r in table.rows if r[0] == key]
    assert len(rows) == 1, rows
    return dict(zip(table.columns, rows[0], strict=True))


@pytest.fixture
def report() -> dict[str, Table]:
    projection = _projection()
    assert projection.activity is not None and projection.activity.today is not None
    return history([day_columns(projection.activity.today)])


def test_counter_time_is_cut_into_the_activities_worked_out_by_hand() -> None:
    day = _projection().activity.today  # type: ignore[union-attr]
    assert day is not None
    spans = [(s.counter, str(s.activity), s.start - at("09:00:00"), s.end - at("09:00:00")) for s in day.all_segments()]  # type: ignore[operator]
    assert [s for s in spans if s[0] == "1"] == [
        ("1", "idle", 0, 120),
        ("1", "serving", 120, 480),
        ("1", "wrap_up", 480, 630),
        ("1", "serving", 630, 900),
        ("1", "wrap_up", 900, 1080),  # 3 minutes of wrap-up after the transfer ...
        ("1", "idle", 1080, 1980),  # ... then idle until the next call
        ("1", "serving", 1980, 2400),
        ("1", "wrap_up", 2400, 2460),
        ("1", "closed", 2460, 3600),
    ]
    assert [s for s in spans if s[0] == "2"] == [
        ("2", "idle", 0, 180),
        ("2", "serving", 180, 300),
        ("2", "idle", 300, 600),
        ("2", "paused", 600, 1500),
        ("2", "serving", 1500, 1800),
        ("2", "wrap_up", 1800, 1980),
        ("2", "idle", 1980, 3600),
        ("2", "closed", 3600, 3600),  # closed by the day's last event: its state now, 0 s so far
    ]


def test_utilisation_of_open_and_of_staffed_time(report: dict[str, Table]) -> None:
    one, two = _row(report["by_counter"], "1"), _row(report["by_counter"], "2")
    assert (one["serving_min"], one["wrap_up_min"], one["idle_min"], one["paused_min"], one["open_min"]) == (17.5, 6.5, 17.0, 0.0, 41.0)
    assert (one["utilisation_open"], one["utilisation_staffed"]) == (0.585, 0.585)  # 1440 / 2460
    assert (two["serving_min"], two["wrap_up_min"], two["idle_min"], two["paused_min"], two["open_min"]) == (7.0, 3.0, 35.0, 15.0, 60.0)
    assert (two["utilisation_open"], two["utilisation_staffed"]) == (0.167, 0.222)  # 600 / 3600, 600 / 2700
    totals = _row(report["totals"])
    assert (totals["utilisation_open"], totals["utilisation_staffed"]) == (0.337, 0.395)  # 2040 / 6060, 2040 / 5160


def test_arrivals_waits_service_level_no_shows_and_cancellations(report: dict[str, Table]) -> None:
    totals = _row(report["totals"])
    assert (totals["arrivals"], totals["served"], totals["no_shows"], totals["cancelled"]) == (5, 3, 1, 1)
    # waits 60, 60, 90, 1020 s: median 75 s, p90 741 s (linear), max 17 min
    assert totals["wait_p50_min"] == 1.2
    assert totals["wait_p90_min"] == pytest.approx(741 / 60, abs=0.06)
    assert totals["wait_max_min"] == 17.0
    # within 10 min: A001, A002, B001 of 4 called + 1 gave up
    assert totals["service_level"] == 0.6
    a, b = _row(report["by_service"], "A"), _row(report["by_service"], "B")
    assert (a["arrivals"], a["served"], a["no_shows"], a["cancelled"], a["service_level"]) == (4, 3, 1, 1, 0.5)
    # B001 was transferred to A: its B transaction ended in a transfer, not a service
    assert (b["arrivals"], b["served"], b["service_level"], b["transactions"]) == (1, 0, 1.0, 1)


def test_transaction_durations(report: dict[str, Table]) -> None:
    totals = _row(report["totals"])
    # 300, 240 (ended in the transfer), 240, 390 s; the no-show has none
    assert (totals["transactions"], totals["duration_p50_min"], totals["duration_mean_min"]) == (4, 4.5, 4.9)
    a = _row(report["by_service"], "A")
    assert (a["transactions"], a["duration_p50_min"]) == (3, 5.0)  # 300, 240, 390


def test_pauses_by_reason_with_their_overrun(report: dict[str, Table]) -> None:
    assert report["pauses"].rows == [("break", 1, 15.0, 10.0, 1, 5.0, 5.0, 15.0)]


def test_a_counter_filter_keeps_its_time_tickets_and_pauses() -> None:
    columns = day_columns(_projection().activity.today)  # type: ignore[union-attr,arg-type]
    two = history([columns], filters=Filters(counter="2"))
    assert _row(two["totals"])["utilisation_open"] == 0.167
    assert _row(two["totals"])["arrivals"] == 1  # A002 was first called there
    assert two["pauses"].rows[0][0] == "break"
    assert history([columns], filters=Filters(counter="1"))["pauses"].rows == []


def test_a_longer_service_level_target_counts_the_17_minute_wait_in_time(report: dict[str, Table]) -> None:
    columns = day_columns(_projection().activity.today)  # type: ignore[union-attr,arg-type]
    assert _row(history([columns], target_minutes=20)["totals"])["service_level"] == 0.8


def test_promises_kept_and_broken() -> None:
    columns = day_columns(_projection().activity.today)  # type: ignore[union-attr,arg-type]
    tables = quality([columns])
    totals = _row(tables["quality_totals"])
    # A001 60 s in 0–2 min, A002 60 s in 1–10 min, B001 90 s past "under 1 min", A003 17 min past 15;
    # A004 had no promise; |wait - p50| = 0, 240, 60, 420 s
    assert (totals["promised"], totals["mae_min"], totals["within_p10_p90"], totals["above_p90"]) == (4, 3.0, 0.5, 0.5)
    assert (totals["broken"], totals["broken_share"], totals["mean_overshoot_min"]) == (2, 0.5, 1.2)
    worst = tables["broken_promises"]
    assert [(r[0], r[1], r[5], r[6], r[7], r[8]) for r in worst.rows] == [
        ("2026-03-02", "A003", 5.0, 15.0, 17.0, 2.0),
        ("2026-03-02", "B001", 0.0, 1.0, 1.5, 0.5),
    ]
    assert _row(tables["quality_by_counter"], "2")["broken"] == 0


@pytest.mark.parametrize(
    ("told", "bottom", "top"),
    [((0, 30, 50), 0, 60), ((0, 60, 120), 0, 120), ((300, 600, 900), 300, 900), ((290, 600, 930), 300, 960), ((89, 100, 149), 60, 120)],
)
def test_the_shown_range_is_rounded_as_the_screens_word_it(told: tuple[float, float, float], bottom: float, top: float) -> None:
    assert (shown_bottom_seconds(told), shown_top_seconds(told)) == (bottom, top)


def test_ticket_story_of_a_broken_promise() -> None:
    day = _projection().activity.today  # type: ignore[union-attr]
    assert day is not None
    story = ticket_story(day, "A003")
    assert story is not None
    kinds = [(e["kind"], e.get("counter")) for e in story["entries"]]
    assert kinds == [
        ("pause", "2"),  # counter 2 was on its break when A003 was issued
        ("issued", None),
        ("other_called", "2"),  # B001 (transferred, older) went first
        ("called", "1"),
        ("started", "1"),
        ("finished", "1"),
    ]
    assert story["served_ahead"] == 1 and story["wait_s"] == 1020 and story["told_high_s"] == 900
    pause = story["entries"][0]
    assert (pause["reason"], pause["declared_minutes"], pause["overrun_s"]) == ("break", 10, 300)
    assert ticket_story(day, "Z999") is None


def _dashboard(until: str, expected: tuple[float, float, float] = (60, 120, 200)) -> dict[str, object]:
    projection = _projection(until)
    state = projection.state
    waiting = [Waiting(t.label, t.service, t.issued_at) for t in state.waiting_tickets()]
    return dashboard(projection.activity.today if projection.activity else None, now=at(until), counters=["1", "2"], waiting=waiting, expected=lambda s, c: expected)


def test_live_dashboard_mid_morning() -> None:
    view = _dashboard("09:22:00")
    counters = {c["counter"]: c for c in view["counters"]}  # type: ignore[attr-defined]
    # counter 1 finished its transfer at 09:15: wrap-up for 3 minutes, idle since 09:18
    assert (counters["1"]["activity"], counters["1"]["since"]) == ("idle", at("09:18:00"))
    # counter 2's 10-minute break from 09:10 is 2 minutes over
    assert (counters["2"]["activity"], counters["2"]["over_by_s"]) == ("paused", 120)
    assert view["alerts"]["paused_over"][0]["counter"] == "2"  # type: ignore[index]
    # B001 (transferred to A, issued 09:09) and A003 (09:16) wait for A: the longest is 13 min
    assert view["waiting"] == [{"service": "A", "waiting": 2, "longest_wait_s": 780.0, "longest_ticket": "B001"}]
    timeline = view["timeline"]["2"]  # type: ignore[index]
    assert timeline[-1] == [at("09:10:00"), at("09:22:00"), "paused", "break"]


def test_live_dashboard_flags_a_transaction_far_past_its_range() -> None:
    # A003 started 09:33:30; expected p90 200 s, "far past" at 1.5 × 200 = 300 s
    calm = _dashboard("09:38:00")
    assert calm["alerts"]["running_long"] == []  # type: ignore[index]
    late = _dashboard("09:38:40")
    assert late["alerts"]["running_long"][0]["ticket"] == "A003"  # type: ignore[index]
    counters = {c["counter"]: c for c in late["counters"]}  # type: ignore[attr-defined]
    assert counters["1"]["running_long"] and counters["1"]["service"] == "A"


def _summary(branch: str, until: str) -> dict[str, object]:
    projection = _projection(until)
    waiting = [Waiting(t.label, t.service, t.issued_at) for t in projection.state.waiting_tickets()]
    day = projection.activity.today if projection.activity else None
    return branch_summary(branch, day, now=at(until), counters=["1", "2"], waiting=waiting, expected=lambda s, c: (60, 120, 200))


def test_overview_row_and_attention_order() -> None:
    quiet = _summary("quiet", "09:04:00")
    busy = _summary("busy", "09:22:00")
    assert (busy["open_counters"], busy["staffed_counters"], busy["waiting"]) == (2, 1, 2)
    assert "pause_overrun" in busy["attention"] and "wait_over_target" in busy["attention"]
    assert [row["branch"] for row in sort_by_attention([quiet, busy])] == ["busy", "quiet"]


@pytest.mark.parametrize("until", ["09:04:00", "09:22:00", "09:38:40", "10:00:00"])
def test_the_overview_row_has_the_dashboards_figures(until: str) -> None:
    view, row = _dashboard(until), _summary("day", until)
    today, promises, util = view["today"], view["promises"], view["utilisation"]
    assert (row["arrivals"], row["service_level"], row["broken_share"]) == (today["arrivals"], today["service_level"], promises["broken_share"])  # type: ignore[index]
    assert (row["utilisation_open"], row["utilisation_staffed"]) == (util["open"], util["staffed"])  # type: ignore[index]
    assert (row["waiting"], row["longest_wait_s"]) == (view["waiting_total"], view["longest_wait_s"])


def test_the_overview_row_agrees_with_the_history_on_a_simulated_day() -> None:
    projection = Projection(activity=ActivityLog())
    for event in simulate(demo_branch(), 1, date(2026, 3, 2), seed=5):
        assert projection.submit(event) is None
        if event.type == "ticket_issued":
            # a promise as the live server would record it (the simulator does not)
            projection.activity.record_promise(event.ticket, (60.0, 300.0, 600.0))  # type: ignore[union-attr,arg-type]
    day = projection.activity.today  # type: ignore[union-attr]
    assert day is not None and len(day.tickets) > 100
    for now in (day.first_at + 3 * 3600, day.last_at):
        figures = today_figures(day, now=now)
        report = history([day_columns(day, now)])
        totals = _row(report["totals"])
        assert figures["service_level"] == totals["service_level"]
        assert figures["utilisation_open"] == totals["utilisation_open"]
        assert figures["utilisation_staffed"] == totals["utilisation_staffed"]
        assert figures["broken_share"] == _row(quality([day_columns(day, now)])["quality_totals"])["broken_share"]
