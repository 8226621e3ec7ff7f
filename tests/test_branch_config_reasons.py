"""Pause reasons are codes from a per-branch list in the configuration, named in every language;
the board carries them so each screen names a code in its own language, and a logged reason that
is no code stays free text (issue 9, defect 8)."""

from __future__ import annotations

from typing import Any

import pytest

from queue_board.core.board_view import board_view
from queue_board.core.branch import BranchState, apply
from queue_board.core.branch_config import (
    DEFAULT_PAUSE_REASONS,
    DEMO_CONFIG,
    LANGUAGES,
    BranchConfig,
    ConfigError,
    parse_config,
)
from queue_board.core.events import event_to_dict, parse_event
from simulations.scenarios import busy_tiered_branch, demo_branch

TS = "2026-03-02T09:00:00.000+08:00"
REASONS = [
    {"code": "training", "names": {"en": "Training", "zh-Hant": "教育訓練", "zh-Hans": "业务培训"}},
    {"code": "lunch", "names": {"en": "Lunch", "zh-Hant": "午休", "zh-Hans": "午休"}},
]


def config_with(**extra: Any) -> dict[str, Any]:
    return {**DEMO_CONFIG.to_dict(), **extra}


def test_a_branch_that_configures_no_reasons_gets_the_defaults_named_in_every_language() -> None:
    assert DEMO_CONFIG.pause_reasons == ()
    assert DEMO_CONFIG.reasons == DEFAULT_PAUSE_REASONS
    codes = [r.code for r in DEFAULT_PAUSE_REASONS]
    assert len(set(codes)) == len(codes)
    # the simulated demo's own reasons are among them
    assert {"lunch", "authorisation"} <= set(codes)
    for reason in DEFAULT_PAUSE_REASONS:
        assert set(reason.names) == set(LANGUAGES), reason
    lunch = DEMO_CONFIG.pause_reason("lunch")
    assert lunch is not None and lunch.name("zh-Hant") == "午休" and lunch.name("zh-Hans") == "午休"
    assert lunch.name("en") == "Lunch"
    assert "pause_reasons" not in DEMO_CONFIG.to_dict(), "a configuration without reasons reads back as it was"


def test_configured_reasons_round_trip_and_replace_the_defaults() -> None:
    config = parse_config(config_with(pause_reasons=REASONS))
    assert [r.code for r in config.reasons] == ["training", "lunch"]
    assert config.to_dict()["pause_reasons"] == REASONS
    assert parse_config(config.to_dict()) == config
    assert config.pause_reason("authorisation") is None, "a default that the branch replaced is free text"


def test_the_configuration_event_keeps_the_reasons() -> None:
    raw = {"ts": TS, "type": "branch_configured", "config": config_with(pause_reasons=REASONS)}
    event = parse_event(raw)
    assert event.config is not None and [r.code for r in event.config.reasons] == ["training", "lunch"]
    assert event_to_dict(event)["config"]["pause_reasons"] == REASONS


def test_a_logged_reason_that_is_not_a_code_is_free_text_and_old_preset_names_still_resolve() -> None:
    assert DEMO_CONFIG.pause_reason("Waiting for the locksmith") is None
    assert DEMO_CONFIG.pause_reason(None) is None and DEMO_CONFIG.pause_reason("") is None
    # consoles before codes logged the English preset; the manual's example is lower-case
    for logged in ("Getting authorisation", "getting authorisation", "  Lunch "):
        found = DEMO_CONFIG.pause_reason(logged)
        assert found is not None, logged
    assert DEMO_CONFIG.pause_reason("午休") is not None and DEMO_CONFIG.pause_reason("午休").code == "lunch"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("reasons", "field", "words"),
    [
        ([], "pause_reasons", "non-empty"),
        ("lunch", "pause_reasons", "non-empty"),
        (["lunch"], "pause_reasons[0]", "object"),
        ([{"code": "Lunch", "names": REASONS[1]["names"]}], "pause_reasons[0].code", "lower-case"),
        ([{"code": "lunch break", "names": REASONS[1]["names"]}], "pause_reasons[0].code", "lower-case"),
        ([{"code": "x" * 33, "names": REASONS[1]["names"]}], "pause_reasons[0].code", "32"),
        ([{"names": REASONS[1]["names"]}], "pause_reasons[0].code", "lower-case"),
        ([REASONS[1], REASONS[1]], "pause_reasons[1].code", "twice"),
        ([{"code": "lunch", "names": {"en": "Lunch"}}], "pause_reasons[0].names", "every language"),
        ([{"code": "lunch"}], "pause_reasons[0].names", "every language"),
        (
            [{"code": "lunch", "names": {**REASONS[1]["names"], "fr": "Déjeuner"}}],
            "pause_reasons[0].names",
            "unknown language",
        ),
        ([{"code": "lunch", "names": {**REASONS[1]["names"], "en": " "}}], "pause_reasons[0].names.en", "non-empty"),
        ([{"code": "lunch", "names": {**REASONS[1]["names"], "en": "L" * 41}}], "pause_reasons[0].names.en", "40"),
        ([{"code": "lunch", "names": REASONS[1]["names"], "icon": "x"}], "pause_reasons[0]", "unknown keys"),
        ([{"code": f"r{i}", "names": REASONS[1]["names"]} for i in range(13)], "pause_reasons", "at most 12"),
    ],
)
def test_bad_reasons_are_rejected_naming_the_field(reasons: Any, field: str, words: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(config_with(pause_reasons=reasons))
    assert raised.value.field == field
    assert words in raised.value.message


def test_names_are_needed_only_in_the_branchs_own_languages() -> None:
    reasons = [{"code": "lunch", "names": {"zh-Hant": "午休", "en": "Lunch"}}]
    config = parse_config(config_with(languages=["zh-Hant", "en"], pause_reasons=reasons))
    assert config.reasons[0].name("zh-Hans") == "Lunch", "a language the branch does not show falls back to English"


def test_the_board_carries_the_branchs_reasons_for_every_screen() -> None:
    config = parse_config(config_with(pause_reasons=REASONS))
    state = BranchState()
    for raw in (
        {"ts": TS, "type": "counter_opened", "counter": "1", "services": [["deposit"]]},
        {"ts": TS, "type": "counter_paused", "counter": "1", "reason": "training", "minutes": 30},
    ):
        apply(state, parse_event(raw))
    board = board_view(state, config, None, branch="main")
    assert board["pause_reasons"] == REASONS
    assert board["counters"][0]["pause_reason"] == "training"
    default_board = board_view(state, BranchConfig(), None, branch="main")
    assert [r["code"] for r in default_board["pause_reasons"]] == [r.code for r in DEFAULT_PAUSE_REASONS]


def test_the_simulated_branches_pause_with_codes_of_their_configuration() -> None:
    for scenario in (demo_branch(), busy_tiered_branch()):
        for counter in scenario.counters:
            for pause in (*counter.pauses, *counter.random_pauses):
                reason = DEMO_CONFIG.pause_reason(pause.reason)
                assert reason is not None and reason.code == pause.reason, (scenario.name, counter.name, pause)
