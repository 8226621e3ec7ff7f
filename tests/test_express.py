"""Express counters defined by duration (issue 11 item 4): the predicted transaction length on
``ticket_issued``, the "express ≤ N min" call rule in the core, the forecast, the simulator and
replay, the configuration, and the analysis in ``reports.express`` through the API and the CLI."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import date, datetime, timedelta, timezone
from typing import Any, cast

import numpy as np
import pytest
from conftest import Tokens
from flask.testing import FlaskClient, FlaskCliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from test_monte_carlo_call_order import Case, DegenerateModel, FixedService, cases, degenerate_model, reference_calls

from queue_board.core.activity import ActivityLog, DayActivity
from queue_board.core.branch import BranchState, CounterStatus, apply, replay
from queue_board.core.branch_config import DEMO_CONFIG, ConfigError, parse_config
from queue_board.core.call_rule import is_short, next_ticket, next_ticket_for
from queue_board.core.events import Event, EventFormatError, event_to_dict, parse_event, read_log
from queue_board.core.projection import Projection
from queue_board.core.teller_actions import build_action
from queue_board.evaluation.replay import replay as replay_log
from queue_board.forecast.durations import BranchModel
from queue_board.forecast.monte_carlo import forecast
from queue_board.reports.express import (
    DayTrace,
    TraceCustomer,
    check_minutes,
    express_what_if,
    prediction_shares,
    replay_trace,
    wait_summary,
)
from simulations.branch_sim import simulate
from simulations.scenarios import mixed_length_branch, with_express

TZ = timezone(timedelta(hours=8))
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
API = "/api/v1/branches/main"


def _line(at: float, kind: str, **fields: Any) -> dict[str, Any]:
    return {"ts": (T0 + timedelta(seconds=at)).isoformat(timespec="milliseconds"), "type": kind, **fields}


def _events(lines: list[dict[str, Any]]) -> list[Event]:
    return [parse_event(line) for line in lines]


def _state(lines: list[dict[str, Any]]) -> BranchState:
    return replay(_events(lines))


# ---------------------------------------------------------------- the call rule


def test_an_express_counter_calls_the_earliest_short_ticket() -> None:
    state = _state(
        [
            _line(0, "counter_opened", counter="1", services=[["deposit", "loan"]], express_minutes=5),
            _line(0, "counter_opened", counter="2", services=[["deposit", "loan"]]),
            _line(1, "ticket_issued", ticket="C001", service="loan", predicted_seconds=1200),
            _line(2, "ticket_issued", ticket="A002", service="deposit", predicted_seconds=360),
            _line(3, "ticket_issued", ticket="A003", service="deposit", predicted_seconds=300),
            _line(4, "ticket_issued", ticket="A004", service="deposit", predicted_seconds=90),
        ]
    )
    assert state.counters["1"].express_minutes == 5.0
    # 300 s is "≤ 5 min"; 360 s is not; among the short, the earliest
    assert next_ticket(state, state.counters["1"]).label == "A003"  # type: ignore[union-attr]
    # an ordinary counter keeps FIFO
    assert next_ticket(state, state.counters["2"]).label == "C001"  # type: ignore[union-attr]


def test_with_nobody_short_waiting_the_express_counter_serves_like_any_other() -> None:
    state = _state(
        [
            _line(0, "counter_opened", counter="1", services=[["deposit", "loan"]], express_minutes=3),
            # an old log's ticket: no prediction, so not short
            _line(1, "ticket_issued", ticket="A001", service="deposit"),
            _line(2, "ticket_issued", ticket="C002", service="loan", predicted_seconds=1200),
        ]
    )
    assert not is_short(state.tickets["A001"], 3.0)
    assert next_ticket(state, state.counters["1"]).label == "A001"  # type: ignore[union-attr]


def test_tiers_order_the_short_tickets_and_then_the_rest() -> None:
    state = _state(
        [
            _line(0, "counter_opened", counter="1", services=[["vip"], ["deposit"]], express_minutes=5),
            _line(1, "ticket_issued", ticket="A001", service="deposit", predicted_seconds=100),
            _line(2, "ticket_issued", ticket="V002", service="vip", predicted_seconds=200),
            _line(3, "ticket_issued", ticket="V003", service="vip", predicted_seconds=900),
        ]
    )
    profile = state.counters["1"].services
    # a short ticket of the higher tier first, then the short one of the lower tier, then the long
    assert next_ticket_for(state, profile, 5.0).label == "V002"  # type: ignore[union-attr]
    apply(state, parse_event(_line(4, "ticket_called", ticket="V002", counter="1")))
    apply(state, parse_event(_line(5, "ticket_no_show", ticket="V002", counter="1")))
    assert next_ticket(state, state.counters["1"]).label == "A001"  # type: ignore[union-attr]
    # without express the long vip ticket would come first
    assert next_ticket_for(state, profile).label == "V003"  # type: ignore[union-attr]


def test_a_transferred_ticket_loses_its_prediction() -> None:
    state = _state(
        [
            _line(0, "counter_opened", counter="1", services=[["deposit", "loan"]], express_minutes=5),
            _line(1, "ticket_issued", ticket="A001", service="deposit", predicted_seconds=100),
            _line(2, "ticket_called", ticket="A001", counter="1"),
            _line(3, "service_started", ticket="A001", counter="1"),
            _line(4, "ticket_transferred", ticket="A001", counter="1", service="loan"),
        ]
    )
    assert state.tickets["A001"].predicted_seconds is None


# ---------------------------------------------------------------- the log and the configuration


def test_the_new_fields_round_trip_and_bad_values_are_named() -> None:
    issued = parse_event(_line(0, "ticket_issued", ticket="A001", service="deposit", predicted_seconds=135.5))
    opened = parse_event(_line(0, "counter_opened", counter="1", services=[["deposit"]], express_minutes=5))
    assert issued.predicted_seconds == 135.5 and opened.express_minutes == 5.0
    for event in (issued, opened):
        assert parse_event(event_to_dict(event)) == event
    assert event_to_dict(opened)["express_minutes"] == 5
    plain = parse_event(_line(0, "counter_opened", counter="1", services=[["deposit"]]))
    assert "express_minutes" not in event_to_dict(plain)
    for bad in (0, -1, 121, "5", True, float("nan")):
        with pytest.raises(EventFormatError) as caught:
            parse_event(_line(0, "counter_opened", counter="1", services=[["deposit"]], express_minutes=bad))
        assert caught.value.field == "express_minutes"
    with pytest.raises(EventFormatError) as caught:
        parse_event(_line(0, "ticket_issued", ticket="A001", service="deposit", predicted_seconds=-3))
    assert caught.value.field == "predicted_seconds"


def test_a_counter_configured_as_express_opens_as_one() -> None:
    raw = DEMO_CONFIG.to_dict()
    raw["counters"][0]["express_minutes"] = 4
    config = parse_config(raw)
    assert config.counters[0].express_minutes == 4.0 and config.counters[1].express_minutes is None
    assert parse_config(config.to_dict()) == config
    assert "express_minutes" not in DEMO_CONFIG.to_dict()["counters"][0]
    state = BranchState()
    opened = build_action(state, config, "1", "open", {})
    assert opened == {"type": "counter_opened", "counter": "1", "services": [["deposit"]], "express_minutes": 4.0}
    # the teller may open it otherwise
    assert build_action(state, config, "1", "open", {"express_minutes": 8})["express_minutes"] == 8  # type: ignore[index]
    assert "express_minutes" not in build_action(state, config, "2", "open", {})  # type: ignore[operator]
    raw["counters"][0]["express_minutes"] = 0
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    assert caught.value.field == "counters[0].express_minutes"


def test_the_server_predicts_each_new_ticket_from_what_it_learned_before() -> None:
    projection = Projection()
    lines = [
        _line(0, "counter_opened", counter="1", services=[["deposit"]]),
        _line(1, "ticket_issued", ticket="A001", service="deposit"),
    ]
    recorded = [projection.accept(event)[0] for event in _events(lines)]
    # nothing learned yet: the prior median (5 minutes)
    assert recorded[1].predicted_seconds == pytest.approx(300.0)
    for at, kind in ((2, "ticket_called"), (3, "service_started"), (63, "service_finished")):
        projection.accept(parse_event(_line(at, kind, ticket="A001", counter="1")))
    learned = projection.accept(parse_event(_line(70, "ticket_issued", ticket="A002", service="deposit")))[0]
    assert learned.predicted_seconds is not None and learned.predicted_seconds < 300.0
    # a logged prediction is kept as it is
    kept = projection.accept(parse_event(_line(80, "ticket_issued", ticket="A003", service="deposit", predicted_seconds=42)))[0]
    assert kept.predicted_seconds == 42.0 and projection.state.tickets["A003"].predicted_seconds == 42.0


# ---------------------------------------------------------------- forecasts and replay


def _queue_behind_a_long_one(express: float | None) -> list[dict[str, Any]]:
    opened: dict[str, Any] = {"counter": "1", "services": [["deposit", "loan"]]}
    if express is not None:
        opened["express_minutes"] = express
    return [
        _line(0, "counter_opened", **opened),
        _line(1, "ticket_issued", ticket="X001", service="loan", predicted_seconds=1500),
        _line(2, "ticket_called", ticket="X001", counter="1"),
        _line(3, "service_started", ticket="X001", counter="1"),
        _line(4, "ticket_issued", ticket="C002", service="loan", predicted_seconds=1500),
        _line(5, "ticket_issued", ticket="A003", service="deposit", predicted_seconds=120),
    ]


def _told(lines: list[dict[str, Any]]) -> dict[str, tuple[float, float, float]]:
    out = io.StringIO()
    replay_log([json.dumps(line) for line in lines], out)
    rows = [row.split(",") for row in out.getvalue().splitlines()[1:]]
    return {row[1]: (float(row[3]), float(row[4]), float(row[5])) for row in rows if row[2] == "wait"}


def test_replay_tells_a_short_ticket_behind_a_long_one_the_express_counters_wait() -> None:
    plain = _told(_queue_behind_a_long_one(None))
    express = _told(_queue_behind_a_long_one(5))
    # at an express counter the short ticket goes before the long one that came first
    assert express["A003"][1] < plain["A003"][1] / 1.5
    assert express["C002"] == plain["C002"]  # told before the short ticket came


def test_old_logs_replay_to_the_same_forecasts_whether_or_not_tickets_carry_predictions() -> None:
    """Without an express counter a prediction changes nothing the boards show."""
    lines = [
        _line(0, "counter_opened", counter="1", services=[["deposit", "loan"]]),
        _line(0, "counter_opened", counter="2", services=[["loan"], ["deposit"]]),
        *[_line(10 + i, "ticket_issued", ticket=f"A{i:03d}", service="deposit" if i % 3 else "loan") for i in range(1, 9)],
        _line(30, "ticket_called", ticket="A001", counter="1"),
        _line(40, "service_started", ticket="A001", counter="1"),
        _line(50, "ticket_issued", ticket="A009", service="deposit"),
    ]
    predicted = [dict(line, predicted_seconds=60.0 * (index % 7)) if line["type"] == "ticket_issued" else line for index, line in enumerate(lines)]
    assert _told(lines) == _told(predicted)


@dataclasses.dataclass(frozen=True, slots=True)
class PredictedService(FixedService):
    """A fixed service whose learned median (what a new ticket is predicted) is ``median``."""

    median: float = 300.0

    def quantiles(self, probs: Any) -> np.ndarray:
        return np.full(len(probs), self.median)


@dataclasses.dataclass(slots=True)
class PredictingModel(DegenerateModel):
    """The degenerate model, predicting every service's new tickets at ``median``."""

    median: float = 300.0

    def service(self, code: str) -> PredictedService:
        fixed = self.by_service.get(code, FixedService(code, (), ()))
        return PredictedService(fixed.code, fixed.columns, fixed.remaining, self.median)


@settings(max_examples=100, derandomize=True, deadline=None, database=None)
@given(case=cases(), data=st.data())
def test_the_kernel_calls_in_the_express_rules_order(case: Case, data: st.DataObject) -> None:
    """With some counters express and tickets predicted short, long or not at all, the forecast
    calls every waiting ticket when the core's express rule, step by step, does."""
    state = case.state
    for counter in state.counters.values():
        counter.express_minutes = data.draw(st.sampled_from((None, 5.0)))
    for ticket in state.waiting_tickets():
        ticket.predicted_seconds = data.draw(st.sampled_from((None, 120.0, 600.0)))
    expected = reference_calls(case)
    base = degenerate_model(state, case.lengths, case.remaining)
    model = PredictingModel(base.by_service)
    result = forecast(state, cast(BranchModel, model), np.random.default_rng(0), 3)
    got = {label: wait.p50 for label, wait in result.waits.items()}
    assert got == expected


def test_the_kernel_honours_an_express_counter_on_a_hand_checked_case() -> None:
    state = _state(
        [
            _line(0, "counter_opened", counter="1", services=[["A"]], express_minutes=5),
            _line(1, "ticket_issued", ticket="A001", service="A", predicted_seconds=600),
            _line(2, "ticket_issued", ticket="A002", service="A", predicted_seconds=100),
        ]
    )
    case = Case(state, {"A001": 100.0, "A002": 50.0}, {})
    expected = {"A002": 0.0, "A001": 50.0}
    assert reference_calls(case) == expected
    model = PredictingModel(degenerate_model(state, case.lengths, case.remaining).by_service)
    result = forecast(state, cast(BranchModel, model), np.random.default_rng(0), 3)
    assert {label: wait.p50 for label, wait in result.waits.items()} == expected
    state.counters["1"].express_minutes = None
    assert reference_calls(case) == {"A001": 0.0, "A002": 100.0}


# ---------------------------------------------------------------- the simulator


def test_the_simulator_opens_an_express_counter_and_its_tickets_carry_predictions() -> None:
    log = simulate(with_express(mixed_length_branch(), "1", 5), 1, date(2026, 3, 2), 3)
    opened = [e for e in log if e.type == "counter_opened"]
    assert {e.counter: e.express_minutes for e in opened} == {"1": 5.0, "2": None, "3": None, "4": None}
    # the log has the agent's own fields; a server sent it predicts each new ticket as it goes
    lines = [json.dumps(event_to_dict(e)) for e in log]
    assert [e for _, e in read_log(lines)] == log
    projection = Projection()
    recorded = [projection.submit_recorded(event) for event in log]
    assert all(rejection is None for _, rejection in recorded)
    issued = [e for e, _ in recorded if e.type == "ticket_issued"]
    assert issued and all(e.predicted_seconds is not None for e in issued)
    state = projection.state
    assert state.counters["1"].express_minutes == 5.0 and state.counters["1"].status is CounterStatus.CLOSED


# ---------------------------------------------------------------- the analysis


def _day() -> DayActivity:
    """A hand-made day at one counter: a long, two short and a cancelled ticket."""
    lines = [
        _line(0, "counter_opened", counter="1", services=[["deposit", "loan"]]),
        _line(0, "ticket_issued", ticket="C001", service="loan", predicted_seconds=900),
        _line(10, "ticket_issued", ticket="A002", service="deposit", predicted_seconds=120),
        _line(20, "ticket_issued", ticket="A003", service="deposit", predicted_seconds=120),
        _line(30, "ticket_issued", ticket="A004", service="deposit"),
        _line(60, "ticket_called", ticket="C001", counter="1"),
        _line(60, "service_started", ticket="C001", counter="1"),
        _line(660, "service_finished", ticket="C001", counter="1"),  # 10 min: really long
        _line(660, "ticket_called", ticket="A002", counter="1"),
        _line(660, "service_started", ticket="A002", counter="1"),
        _line(900, "service_finished", ticket="A002", counter="1"),  # 4 min: short at 5, not at 3
        _line(900, "ticket_called", ticket="A003", counter="1"),
        _line(900, "service_started", ticket="A003", counter="1"),
        _line(960, "service_finished", ticket="A003", counter="1"),  # 1 min
        _line(990, "ticket_cancelled", ticket="A004"),
    ]
    log = ActivityLog()
    for event in _events(lines):
        log.record(event)
    return log.days[T0.date()]


def _rows(table: Any) -> dict[tuple[Any, Any], dict[str, Any]]:
    return {(row[0], row[1]): dict(zip(table.columns, row, strict=True)) for row in table.rows}


def test_prediction_shares_on_a_hand_made_day() -> None:
    rows = _rows(prediction_shares([_day()], (3.0, 5.0)))
    deposit = rows[(3.0, "deposit")]
    # three deposits, two of them predicted (2 min each): both short at 3 min
    assert (deposit["tickets"], deposit["predicted"], deposit["predicted_short"], deposit["short_share"]) == (3, 2, 2, 1.0)
    # served: A002 took 4 min (not really ≤ 3), A003 1 min
    assert (deposit["short_served"], deposit["short_really_short"]) == (2, 0.5)
    assert rows[(5.0, "deposit")]["short_really_short"] == 1.0
    everything = rows[(3.0, "all")]
    assert (everything["tickets"], everything["predicted_short"], everything["short_share"]) == (4, 2, round(2 / 3, 3))
    assert (everything["long_served"], everything["long_really_long"]) == (1, 1.0)


def test_wait_summary_on_a_hand_made_day() -> None:
    summary = wait_summary([_day()], 3.0)
    # short: A002 waited 650 s, A003 880 s; long: C001 60 s and the cancelled A004 960 s (no prediction)
    assert sorted(summary.short) == [650.0, 880.0]
    assert sorted(summary.long) == [60.0, 960.0]
    row = summary.row()
    assert row[:3] == (2, round(765 / 60, 1), round((650 + 0.9 * 230) / 60, 1))


def test_the_what_if_replays_the_core_rule_on_a_hand_made_trace() -> None:
    customers = (
        TraceCustomer("C001", "loan", 0.0, 600.0, 900.0),
        TraceCustomer("A002", "deposit", 10.0, 60.0, 60.0),
        TraceCustomer("A003", "deposit", 20.0, 60.0, 60.0),
    )
    trace = DayTrace(customers, {"1": ((-float("inf"), 5.0),)})
    # plain: C001 at 5 s (the counter opens then), A002 at 605, A003 at 665
    assert replay_trace(trace, None) == {"C001": 5.0, "A002": 595.0, "A003": 645.0}
    # the same with the counter always there, and then express: nothing short waits at 0 s yet
    assert replay_trace(trace, 3.0, counters=1) == {"C001": 0.0, "A002": 590.0, "A003": 640.0}
    late = DayTrace(customers, {"1": ((-float("inf"), 30.0),)})
    # opening at 30 s with all three waiting: the express counter takes the short ones first
    assert replay_trace(late, 3.0) == {"A002": 20.0, "A003": 70.0, "C001": 150.0}
    assert replay_trace(late, None) == {"C001": 30.0, "A002": 620.0, "A003": 670.0}


def test_the_what_if_table_on_a_hand_made_day() -> None:
    rows = _rows(express_what_if([_day()], (3.0,)))
    fifo, express = rows[(3.0, "fifo")], rows[(3.0, "express")]
    # the day's counter opened at 0 s; served customers occupy call → finish
    assert (fifo["short_tickets"], fifo["long_tickets"]) == (2, 1)
    assert express["short_mean_min"] is not None and fifo["short_mean_min"] is not None
    assert express["short_mean_min"] <= fifo["short_mean_min"]


@pytest.mark.parametrize("bad", [[], [0.0], [121.0], [1, 2, 3, 4, 5, 6, 7], [float("inf")]])
def test_bad_minutes_are_refused(bad: list[float]) -> None:
    with pytest.raises(ValueError):
        check_minutes(bad)


# ---------------------------------------------------------------- the API and the CLI


def _json(response: Any) -> dict[str, Any]:
    payload = response.get_json()
    assert isinstance(payload, dict), response.data
    return payload


def _import_day(client: FlaskClient, tokens: Tokens) -> None:
    lines = [
        _line(0, "counter_opened", counter="1", services=[["deposit", "loan"]]),
        _line(1, "ticket_issued", ticket="C001", service="loan"),
        _line(2, "ticket_issued", ticket="A002", service="deposit"),
        _line(60, "ticket_called", ticket="C001", counter="1"),
        _line(60, "service_started", ticket="C001", counter="1"),
        _line(660, "service_finished", ticket="C001", counter="1"),
        _line(670, "ticket_called", ticket="A002", counter="1"),
        _line(670, "service_started", ticket="A002", counter="1"),
        _line(730, "service_finished", ticket="A002", counter="1"),
    ]
    body = "".join(json.dumps(line) + "\n" for line in lines)
    response = client.post(f"{API}/import", data=body, headers={**tokens.auth("admin"), "Content-Type": "application/x-ndjson"})
    assert response.status_code == 201, response.json


def test_the_api_reports_the_express_analysis(client: FlaskClient, tokens: Tokens) -> None:
    _import_day(client, tokens)
    response = client.get(f"{API}/reports/express?from=2026-03-02&to=2026-03-02&minutes=5,3", headers=tokens.auth("manager"))
    assert response.status_code == 200, response.json
    payload = _json(response)
    assert payload["period"] == {"from": "2026-03-02", "to": "2026-03-02"}
    shares = payload["tables"]["express_shares"]
    everything = [dict(zip(shares["columns"], row, strict=True)) for row in shares["rows"] if row[1] == "all"]
    # the import predicted both tickets at the prior's 5 minutes: short at 5, long at 3
    assert [(row["minutes"], row["predicted"], row["short_share"]) for row in everything] == [(3.0, 2, 0.0), (5.0, 2, 1.0)]
    what_if = payload["tables"]["express_what_if"]
    assert [tuple(row[:2]) for row in what_if["rows"]] == [(3.0, "fifo"), (3.0, "express"), (5.0, "fifo"), (5.0, "express")]


@pytest.mark.parametrize(
    ("query", "field"),
    [("minutes=0", "minutes"), ("minutes=500", "minutes"), ("minutes=abc", "minutes"), ("minutes=3,,5", "minutes"), ("counters=0", "counters"), ("counters=two", "counters"), ("from=soon", "from")],
)
def test_the_api_names_bad_input(client: FlaskClient, tokens: Tokens, query: str, field: str) -> None:
    _import_day(client, tokens)
    response = client.get(f"{API}/reports/express?{query}", headers=tokens.auth("manager"))
    assert response.status_code == 422, response.json
    assert _json(response)["field"] == field


def test_only_managers_read_the_express_analysis(client: FlaskClient, tokens: Tokens) -> None:
    _import_day(client, tokens)
    assert client.get(f"{API}/reports/express", headers=tokens.auth("teller1")).status_code == 403
    assert client.get(f"{API}/reports/express", headers=tokens.auth("other_branch_manager")).status_code == 403
    assert client.get(f"{API}/reports/express").status_code == 401
    assert client.get("/api/v1/branches/nowhere/reports/express", headers=tokens.auth("admin")).status_code == 404


def test_the_cli_writes_the_same_tables(client: FlaskClient, tokens: Tokens, runner: FlaskCliRunner) -> None:
    _import_day(client, tokens)
    result = runner.invoke(args=["report", "main", "--from", "2026-03-02", "--to", "2026-03-02", "--express", "3,5"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("minutes,service,tickets,predicted,predicted_short,")
    assert "\nminutes,rule,short_tickets," in result.output
    bad = runner.invoke(args=["report", "main", "--express", "0"])
    assert bad.exit_code != 0 and "minutes must be more than 0" in bad.output


def test_a_client_cannot_post_the_prediction(client: FlaskClient, tokens: Tokens) -> None:
    body = {"type": "ticket_issued", "ticket": "A001", "service": "deposit", "predicted_seconds": 10}
    response = client.post(f"{API}/events", json=body, headers=tokens.auth("admin"))
    assert response.status_code == 422 and _json(response)["field"] == "predicted_seconds"
    assert client.get(f"{API}/export", headers=tokens.auth("admin")).data.decode().count("ticket_issued") == 0


def test_a_configured_express_counter_opens_and_calls_next_by_duration(client: FlaskClient, tokens: Tokens) -> None:
    config = _json(client.get(f"{API}/config", headers=tokens.auth("display")))
    config["counters"][1]["express_minutes"] = 5
    assert client.put(f"{API}/config", json=config, headers=tokens.auth("admin")).status_code == 200
    assert _json(client.get(f"{API}/config", headers=tokens.auth("display")))["counters"][1]["express_minutes"] == 5
    # tickets with logged predictions: a long remittance first, then a short deposit
    lines = [
        _line(1, "ticket_issued", ticket="B001", service="remittance", predicted_seconds=900),
        _line(2, "ticket_issued", ticket="A002", service="deposit", predicted_seconds=120),
    ]
    body = "".join(json.dumps(line) + "\n" for line in lines)
    response = client.post(f"{API}/import", data=body, headers={**tokens.auth("admin"), "Content-Type": "application/x-ndjson"})
    assert response.status_code == 201, response.json
    opened = client.post(f"{API}/counters/2/open", json={}, headers=tokens.auth("teller2"))
    assert opened.status_code == 201, opened.json
    assert _json(opened)["event"]["express_minutes"] == 5
    called = client.post(f"{API}/counters/2/call-next", json={}, headers=tokens.auth("teller2"))
    assert called.status_code == 201, called.json
    assert _json(called)["event"]["ticket"] == "A002"
    bad = client.post(f"{API}/counters/1/open", json={"express_minutes": 0}, headers=tokens.auth("teller1"))
    assert bad.status_code == 422 and _json(bad)["field"] == "express_minutes"
