"""A new branch starts from what its sister branches learned, pinned in its own log
(``bank_prior_adopted``; queue_board.service.sister_priors, queue_board.forecast.pooling): the
event's rules, what the model adopts, and the same prior after a restart, in replay and in the
CLI; with ``QB_SISTER_PRIORS`` a branch configured for the first time pins it by itself."""

from __future__ import annotations

import copy
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import ManualClock, Tokens, make_test_app
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from queue_board.core.board_view import board_view
from queue_board.core.branch import BranchState
from queue_board.core.branch import replay as project
from queue_board.core.branch_config import DEMO_CONFIG
from queue_board.core.events import EventFormatError, event_to_json, parse_event
from queue_board.core.projection import Projection
from queue_board.core.sister_prior import PATIENCE_BINS
from queue_board.evaluation.evaluate import simulated_lines
from queue_board.evaluation.replay import replay
from queue_board.forecast.durations import HAZARD_EDGES, BranchModel, DayRecord, Priors
from queue_board.forecast.monte_carlo import forecast
from queue_board.forecast.pooling import BankPrior, adopt_bank_prior, bank_prior

API = "/api/v1/branches"
TS = "2026-03-02T09:00:00+08:00"
POOLED = {"values": [100.0, 200.0, 300.0], "weight": 8.0, "branches": 2}
#: a sister's day as a prior pins it: counter 2 opens at 14:00 for deposits then loans, lunches at 12:00
SISTER_DAY = {
    "day": "2026-03-02",
    "opened": {"1": [[32400, ["deposit"]]], "2": [[50400, ["deposit", "loan"]]]},
    "closed": {"1": [61200]},
    "pauses": {"1": [[43200, 1800, "lunch"], [58000, None, None]]},
    "arrivals": {"deposit": [32500, 32600.5]},
}


def replay_state(events: list[dict[str, Any]]) -> BranchState:
    """The state after ``events``."""
    return project([parse_event(e) for e in events])


def prior_event(prior: dict[str, Any]) -> dict[str, Any]:
    return {"ts": TS, "type": "bank_prior_adopted", "prior": prior}


def service_of(app: Flask) -> Any:
    return app.extensions["queue_board"]


def with_sisters(app: Flask, seeds: tuple[int, ...] = (1, 2)) -> list[str]:
    """Sister branches ``s1``, ``s2``… that have each lived one simulated day of the demo branch."""
    service = service_of(app)
    names = []
    for seed in seeds:
        name = f"s{seed}"
        service.set_config(name, DEMO_CONFIG.to_dict())
        service.import_log(name, simulated_lines("demo", 1, seed))
        names.append(name)
    return names


# the event --------------------------------------------------------------------------------------------
def test_the_patience_record_has_the_forecasts_hazard_bins() -> None:
    assert len(HAZARD_EDGES) == PATIENCE_BINS


def test_a_prior_event_reads_back_as_written() -> None:
    raw = prior_event(
        {
            "sisters": ["s1", "s2"],
            "services": {"deposit": POOLED},
            "pause_overrun": {"values": [1.0, 1.2], "weight": 5, "branches": 2},
            "patience": {"events": [0.5] * PATIENCE_BINS, "exposure": [60.0] * PATIENCE_BINS},
            "days": [SISTER_DAY],
        }
    )
    event = parse_event(raw)
    assert event.prior is not None and event.prior.sisters == ("s1", "s2")
    assert event.prior.days[0].opened == (("1", ((32400.0, (("deposit",),)),)), ("2", ((50400.0, (("deposit",), ("loan",))),)))
    assert parse_event(json.loads(event_to_json(event))) == event
    # a prior pinned before sister days were carried reads as one without them
    older = parse_event(prior_event({"sisters": ["s1"], "services": {"deposit": POOLED}}))
    assert older.prior is not None and older.prior.days == ()


def test_a_new_branch_replays_its_sisters_latest_days_until_it_has_finished_one_of_its_own() -> None:
    sisters = []
    for opens_at in (50400.0, 50460.0):
        model = BranchModel()
        model.days.append(DayRecord(day=date(2026, 3, 2), opened={"2": [(opens_at, (("deposit",),))]}))
        sisters.append(model)
    pooled = bank_prior(sisters)
    # two sisters' days of the same date: each keeps its own (the forecast caches a day's replay by date and origin)
    assert [d.opened["2"][0][0] for d in pooled.days] == [50400.0, 50460.0]
    assert len({(d.day, d.origin) for d in pooled.days}) == 2
    record = parse_event(json.loads(json.dumps(prior_event(pooled.to_record(["s1", "s2"]).to_dict())))).prior
    assert record is not None and BankPrior.from_record(record) == pooled, "pinned in the log, read back the same"
    fresh = BranchModel()
    adopt_bank_prior(fresh, pooled)
    assert fresh.past_days() == list(pooled.days)
    own = DayRecord(day=date(2026, 3, 3), opened={"1": [(32400.0, (("deposit",),))]})
    fresh.days.append(own)
    assert fresh.past_days() == [own], "its own day replaces the sisters'"


def test_on_its_first_day_a_branch_says_when_a_closed_service_usually_opens_from_its_sisters_days() -> None:
    sister = BranchModel()
    for day in (2, 3):
        sister.days.append(DayRecord(day=date(2026, 3, day), opened={"2": [(50400.0, (("loan",),))]}))
    state = replay_state(
        [
            {"ts": "2026-03-04T09:00:00+08:00", "type": "counter_opened", "counter": "1", "services": [["deposit"]]},
            {"ts": "2026-03-04T09:05:00+08:00", "type": "ticket_issued", "ticket": "C001", "service": "loan"},
        ]
    )
    alone = BranchModel()
    helped = BranchModel(priors=Priors(bank=bank_prior([sister])))

    def loan_opens(model: BranchModel) -> Any:
        view = board_view(state, DEMO_CONFIG, None, branch="new", model=model)
        return next(s for s in view["services"] if s["code"] == "loan")["usually_opens_at"]

    assert loan_opens(alone) is None, "no day of its own: nothing to go by"
    assert loan_opens(helped) == "2026-03-04T14:00:00.000+08:00"


@pytest.mark.parametrize(
    ("prior", "field"),
    [
        (None, "prior"),
        ({"services": {}}, "prior.sisters"),
        ({"sisters": []}, "prior.sisters"),
        ({"sisters": ["a/b"]}, "prior.sisters"),
        ({"sisters": ["s1"], "services": {"A/1": POOLED}}, "prior.services"),
        ({"sisters": ["s1"], "services": {"deposit": {**POOLED, "values": [3, 2, 1]}}}, "prior.services.deposit.values"),
        ({"sisters": ["s1"], "services": {"deposit": {**POOLED, "values": [-1, 2]}}}, "prior.services.deposit.values"),
        ({"sisters": ["s1"], "services": {"deposit": {**POOLED, "values": []}}}, "prior.services.deposit.values"),
        ({"sisters": ["s1"], "services": {"deposit": {**POOLED, "weight": 0}}}, "prior.services.deposit.weight"),
        ({"sisters": ["s1"], "services": {"deposit": {**POOLED, "branches": True}}}, "prior.services.deposit.branches"),
        ({"sisters": ["s1"], "pause_overrun": [1, 2]}, "prior.pause_overrun"),
        ({"sisters": ["s1"], "patience": {"events": [1.0], "exposure": [1.0]}}, "prior.patience.events"),
        ({"sisters": ["s1"], "patience": {"events": [0.0] * PATIENCE_BINS, "exposure": ["x"] * PATIENCE_BINS}}, "prior.patience.exposure"),
        ({"sisters": ["s1"], "days": {"day": "2026-03-02"}}, "prior.days"),
        ({"sisters": ["s1"], "days": [{"day": "2026-03-02"}] * 32}, "prior.days"),
        ({"sisters": ["s1"], "days": [{"day": "Monday"}]}, "prior.days[0].day"),
        ({"sisters": ["s1"], "days": [{**SISTER_DAY, "closed": {"1": [90000]}}]}, "prior.days[0].closed.1"),
        ({"sisters": ["s1"], "days": [{**SISTER_DAY, "opened": {"1": [[32400, []]]}}]}, "prior.days[0].opened.1"),
        ({"sisters": ["s1"], "days": [{**SISTER_DAY, "opened": {"A/1": [[32400, ["deposit"]]]}}]}, "prior.days[0].opened"),
        ({"sisters": ["s1"], "days": [{**SISTER_DAY, "pauses": {"1": [[43200, 1800]]}}]}, "prior.days[0].pauses.1"),
        ({"sisters": ["s1"], "days": [{**SISTER_DAY, "pauses": {"1": [[43200, 1800, 7]]}}]}, "prior.days[0].pauses.1"),
        ({"sisters": ["s1"], "days": [{**SISTER_DAY, "arrivals": {"deposit": [32400] * 5001}}]}, "prior.days[0].arrivals.deposit"),
    ],
)
def test_a_malformed_prior_is_refused_naming_its_part(prior: Any, field: str) -> None:
    with pytest.raises(EventFormatError) as refused:
        parse_event(prior_event(prior))
    assert refused.value.field == field


def test_a_malformed_prior_posted_to_events_is_422_and_stores_nothing(client: FlaskClient, tokens: Tokens) -> None:
    before = client.get(f"{API}/main/events", headers=tokens.auth("manager")).json["events"]  # type: ignore[index]
    bad = {"type": "bank_prior_adopted", "prior": {"sisters": ["s1"], "services": {"deposit": {**POOLED, "values": [3, 2, 1]}}}}
    response = client.post(f"{API}/main/events", json=bad, headers=tokens.auth("manager"))
    assert response.status_code == 422
    assert response.json["field"] == "prior.services.deposit.values"  # type: ignore[index]
    assert client.get(f"{API}/main/events", headers=tokens.auth("manager")).json["events"] == before  # type: ignore[index]


# what the model adopts ------------------------------------------------------------------------------------
def test_only_what_the_branch_has_not_learned_takes_the_prior() -> None:
    model = BranchModel()
    own = model.service("deposit")
    for value in (50.0, 55.0, 60.0):
        own.add(value)
    record = parse_event(prior_event({"sisters": ["s1"], "services": {"deposit": POOLED, "loan": POOLED}})).prior
    assert record is not None
    adopt_bank_prior(model, BankPrior.from_record(record))
    assert model.services["deposit"] is own, "deposit has its own transactions: they stay"
    assert np.median(model.service("loan").quantiles([0.5])) == pytest.approx(200.0)
    # a service first seen later starts from the bank too
    assert model.priors.bank is not None and "loan" in model.priors.bank.services


# in the service ---------------------------------------------------------------------------------------------
def test_a_new_branch_adopts_its_sisters_prior_and_keeps_it_after_a_restart(tmp_path: Path, clock: ManualClock) -> None:
    app = make_test_app(tmp_path, clock)
    sisters = with_sisters(app)
    service = service_of(app)
    service.set_config("new", DEMO_CONFIG.to_dict())
    fresh = copy.deepcopy(service.projection("new").model.service("deposit").quantiles([0.1, 0.5, 0.9]))
    accepted, prior = service.adopt_bank_prior("new")
    assert accepted.event.type == "bank_prior_adopted"
    assert accepted.event.prior.sisters == ("main", *sisters), "every other branch of the store, by default"
    assert {"deposit", "remittance"} <= set(prior.services)
    adopted = service.projection("new").model.service("deposit").quantiles([0.1, 0.5, 0.9])
    sister = service.projection("s1").model.service("deposit").quantiles([0.5])
    assert not np.allclose(adopted, fresh), "the fixed prior is replaced"
    assert abs(float(adopted[1]) - float(sister[0])) < abs(float(fresh[1]) - float(sister[0]))
    service.counter_action("new", "1", "open", {})
    told = [service.issue_ticket("new", "deposit")[1]["wait"] for _ in range(3)][-1]
    assert told is not None and told["p50"] > 0
    app.extensions["queue_board"].store.close()

    # a restart rebuilds the same model from the log, whatever the sisters did meanwhile
    again = make_test_app(tmp_path, clock)
    rebuilt = service_of(again).projection("new")
    assert np.allclose(rebuilt.model.service("deposit").quantiles([0.1, 0.5, 0.9]), adopted)
    # and a replay of the exported log tells its ticket what the server told it
    out = io.StringIO()
    replay(list(service_of(again).export_lines("new")), out, projection_factory=Projection)
    rows = [line.split(",") for line in out.getvalue().splitlines()[1:] if ",wait," in line]
    assert rows, out.getvalue()[:300]
    told_again = [float(v) for v in rows[2][-3:]]
    assert told_again == pytest.approx([told["p10"], told["p50"], told["p90"]], abs=0.5)
    service_of(again).store.close()


def test_refusals_name_the_problem_and_store_nothing(app: Flask) -> None:
    service = service_of(app)
    seq = service.projection("main").state.seq
    with pytest.raises(Exception) as nobody:
        service.adopt_bank_prior("main")  # the store holds no other branch
    assert getattr(nobody.value, "status", None) == 409
    with pytest.raises(Exception) as itself:
        service.adopt_bank_prior("main", ["main"])
    assert getattr(itself.value, "status", None) == 422
    with pytest.raises(Exception) as unknown:
        service.adopt_bank_prior("main", ["nowhere"])
    assert getattr(unknown.value, "status", None) == 404
    service.set_config("empty", DEMO_CONFIG.to_dict())
    with pytest.raises(Exception) as unlearned:
        service.adopt_bank_prior("main", ["empty"])
    assert getattr(unlearned.value, "status", None) == 409
    assert service.projection("main").state.seq == seq


def test_the_cli_pins_the_prior_and_says_what_it_holds(app: Flask, runner: FlaskCliRunner) -> None:
    with_sisters(app, (1,))
    result = runner.invoke(args=["branch", "adopt-prior", "main", "--from", "s1", "--database", app.config["DATABASE_URL"]])
    assert result.exit_code == 0, result.output
    assert "adopted a prior from 1 sister branches" in result.output and "deposit" in result.output
    last = list(service_of(app).export_lines("main"))[-1]
    assert json.loads(last)["type"] == "bank_prior_adopted"
    refused = runner.invoke(args=["branch", "adopt-prior", "main", "--from", "nowhere", "--database", app.config["DATABASE_URL"]])
    assert refused.exit_code != 0
    assert "no branch 'nowhere'" in refused.output


def test_with_sister_priors_on_a_branch_configured_for_the_first_time_pins_one(tmp_path: Path, clock: ManualClock) -> None:
    app = make_test_app(tmp_path, clock, SISTER_PRIORS=True)
    with_sisters(app, (1,))
    service = service_of(app)
    service.set_config("new", DEMO_CONFIG.to_dict())
    types = [json.loads(line)["type"] for line in service.export_lines("new")]
    assert types == ["branch_configured", "bank_prior_adopted"]
    # configured again: nothing more
    service.set_config("new", {**DEMO_CONFIG.to_dict(), "name": "Renamed"})
    assert [json.loads(line)["type"] for line in service.export_lines("new")].count("bank_prior_adopted") == 1
    service.store.close()


def test_without_the_setting_a_new_branch_starts_from_the_fixed_priors(app: Flask) -> None:
    with_sisters(app, (1,))
    service_of(app).set_config("new", DEMO_CONFIG.to_dict())
    assert [json.loads(line)["type"] for line in service_of(app).export_lines("new")] == ["branch_configured"]


def test_on_its_first_day_a_branch_expects_the_counters_its_sisters_open_later() -> None:
    """Counter 2 has never opened here yet; on the sisters' days it opens for loans at 14:00."""
    sister = BranchModel()
    sister.days.append(DayRecord(day=date(2026, 3, 3), opened={"2": [(50400.0, (("loan",),))]}))
    state = replay_state(
        [
            {"ts": "2026-03-04T13:00:00+08:00", "type": "counter_opened", "counter": "1", "services": [["deposit"]]},
            {"ts": "2026-03-04T13:05:00+08:00", "type": "ticket_issued", "ticket": "C001", "service": "loan"},
        ]
    )
    rng = np.random.default_rng(1)
    alone = forecast(state, BranchModel(), rng, 64).waits["C001"]
    helped = forecast(state, BranchModel(priors=Priors(bank=bank_prior([sister]))), rng, 64).waits["C001"]
    assert alone.p90 == float("inf"), "nothing says anyone will ever serve a loan today"
    # called soon after 14:00, 55 minutes from the ticket
    assert 55 * 60 <= helped.p10 <= helped.p90 < 70 * 60


def test_a_sisters_day_that_disagrees_with_what_the_branch_did_today_is_not_replayed() -> None:
    def day(openings: dict[str, float]) -> DayRecord:
        return DayRecord(day=date(2026, 3, 3), opened={name: [(at, (("deposit",),))] for name, at in openings.items()})

    like_us = day({"1": 32400.0, "5": 32460.0, "3": 50400.0})
    four_at_nine = day({"1": 32400.0, "2": 32400.0, "3": 32400.0, "4": 32400.0})
    late_opener = day({"1": 39600.0, "5": 32400.0})
    sisters = []
    for record in (like_us, four_at_nine, late_opener):
        model = BranchModel()
        model.days.append(record)
        sisters.append(model)
    branch = BranchModel(priors=Priors(bank=bank_prior(sisters)))
    assert len(branch.past_days()) == 3, "before its first event a branch has nothing to compare with"
    branch.today = DayRecord(day=date(2026, 3, 4), opened={"1": [(32500.0, (("deposit",),))], "5": [(32500.0, (("deposit",),))]})
    branch.today.arrivals["deposit"] = [34200.0]  # 09:30: the sisters' 09:00 openings are long past
    assert [d.opened for d in branch.past_days()] == [like_us.opened]
