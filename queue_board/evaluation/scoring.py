"""Scoring predictions against what happened, as ``shared/spec/event-log.md`` defines it.

Uses the first row of each (day, ticket, quantity); reports the median's absolute error,
the pinball loss of the three percentiles, and the tails: the share of outcomes above p90
("broken promises") and below p10, counted among rows whose p50 is at least 60 s.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TextIO

import numpy as np

from queue_board.core.events import read_log

Key = tuple[date, str, str]  # (local day, ticket, quantity)
TAIL_MIN_P50 = 60.0


def outcomes(lines: Iterable[str]) -> dict[Key, float]:
    """Actual waits (issue → first call) and service durations (start → finish), in seconds."""
    issued: dict[tuple[date, str], float] = {}
    started: dict[tuple[date, str], float] = {}
    actual: dict[Key, float] = {}
    for _, event in read_log(lines):
        if event.ticket is None:
            continue
        key = (event.day, event.ticket)
        if event.type == "ticket_issued":
            issued[key] = event.at
        elif event.type == "ticket_called" and key in issued and (*key, "wait") not in actual:
            actual[(*key, "wait")] = event.at - issued[key]
        elif event.type == "service_started":
            started[key] = event.at
        elif event.type in ("service_finished", "ticket_transferred") and key in started:
            actual.setdefault((*key, "service"), event.at - started.pop(key))
    return actual


def first_predictions(rows: Iterable[dict[str, str]]) -> dict[Key, tuple[float, float, float]]:
    """The first (p10, p50, p90) of each (day, ticket, quantity) in a predictions CSV."""
    first: dict[Key, tuple[float, float, float]] = {}
    for row in rows:
        key = (datetime.fromisoformat(row["ts"]).date(), row["ticket"], row["quantity"])
        if key not in first:
            first[key] = (float(row["p10"]), float(row["p50"]), float(row["p90"]))
    return first


def read_predictions(handle: TextIO) -> dict[Key, tuple[float, float, float]]:
    """Read a predictions CSV (the spec's header) into first predictions."""
    return first_predictions(csv.DictReader(handle))


@dataclass(frozen=True, slots=True)
class Score:
    """Accuracy of one quantity's predictions."""

    n: int
    mae: float
    rmse: float
    pinball: float
    above_p90: float
    below_p10: float
    tail_n: int

    def as_dict(self) -> dict[str, float]:
        """For tables and JSON."""
        return {k: getattr(self, k) for k in ("n", "mae", "rmse", "pinball", "above_p90", "below_p10", "tail_n")}


def pinball(actual: np.ndarray, predicted: np.ndarray, q: float) -> np.ndarray:
    """Quantile (pinball) loss of predicting the ``q`` quantile."""
    diff = actual - predicted
    loss: np.ndarray = np.maximum(q * diff, (q - 1.0) * diff)
    return loss


def score(actual: dict[Key, float], predicted: dict[Key, tuple[float, float, float]], quantity: str) -> Score:
    """Score the predictions of ``quantity`` (``wait`` or ``service``) that have an outcome."""
    keys = [k for k in predicted if k[2] == quantity and k in actual]
    if not keys:
        return Score(0, float("nan"), float("nan"), float("nan"), float("nan"), float("nan"), 0)
    y = np.array([actual[k] for k in keys])
    p = np.array([predicted[k] for k in keys])
    err = y - p[:, 1]
    loss = (pinball(y, p[:, 0], 0.1) + pinball(y, p[:, 1], 0.5) + pinball(y, p[:, 2], 0.9)) / 3.0
    tail = p[:, 1] >= TAIL_MIN_P50
    return Score(
        n=len(keys),
        mae=float(np.mean(np.abs(err))),
        rmse=float(np.sqrt(np.mean(err**2))),
        pinball=float(np.mean(loss)),
        above_p90=float(np.mean(y[tail] > p[tail, 2])) if tail.any() else float("nan"),
        below_p10=float(np.mean(y[tail] < p[tail, 0])) if tail.any() else float("nan"),
        tail_n=int(tail.sum()),
    )
