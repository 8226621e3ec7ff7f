"""When each early-warning rule fires: the thresholds, with defaults, and their per-branch values.

A branch's configuration may set any of them (``warning_thresholds`` in ``branch_configured``,
docs/event-log.md); the rules are ``queue_board.reports.warnings``. Plain data, no imports of
the rest of the core, so the configuration can check the names.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from queue_board.core.fields import finite_number


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

    def changed(self, overrides: Mapping[str, float]) -> WarningThresholds:
        """These thresholds with ``overrides`` (names of fields, already checked) applied."""
        changes: dict[str, Any] = dict(overrides)
        return dataclasses.replace(self, **changes)


#: every threshold's name, and whether it is a whole number
THRESHOLD_NAMES: dict[str, bool] = {f.name: f.type in (int, "int") for f in dataclasses.fields(WarningThresholds)}
#: fields that are shares or probabilities: between 0 and 1
SHARE_NAMES = frozenset({"break_likely", "paused_share"})


def check_thresholds(value: Any) -> dict[str, float]:
    """Per-branch thresholds as a configuration gives them: an object of known names to positive
    numbers (shares between 0 and 1, counts whole). Raises ``ValueError`` naming the first wrong one."""
    if not isinstance(value, Mapping):
        raise ValueError("must be an object of threshold names to numbers")
    out: dict[str, float] = {}
    for name, number in value.items():
        if name not in THRESHOLD_NAMES:
            raise ValueError(f"{name!r} is not a warning threshold; expected some of {sorted(THRESHOLD_NAMES)}")
        # an integer too large for a float (400 digits) is not a number here, not an OverflowError
        if finite_number(number) is None or number <= 0:
            raise ValueError(f"{name} must be a positive number")
        if name in SHARE_NAMES and number >= 1:
            raise ValueError(f"{name} is a share: it must be between 0 and 1")
        if THRESHOLD_NAMES[name]:
            if int(number) != number:
                raise ValueError(f"{name} must be a whole number")
            out[name] = int(number)
        elif number > 10_000:
            raise ValueError(f"{name} must be at most 10000")
        else:
            out[name] = float(number)
    return out
