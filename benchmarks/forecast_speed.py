"""Time one forecast refresh of a busy branch: 60 waiting tickets, 8 counters, 3 tiers of services.

    .venv/bin/python benchmarks/forecast_speed.py [--waiting 60] [--counters 8] [--runs 300]

Prints p50/p95/max milliseconds of Projection.forecast() on one core (numpy single-threaded).
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import datetime, timedelta, timezone

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from queue_board.core.events import parse_event
from queue_board.core.projection import Projection

SERVICES = ["vip", "deposit", "remittance", "loan"]
PROFILES = [[["vip"], ["deposit", "remittance"]], [["deposit"]], [["remittance"], ["deposit"]], [["loan"], ["remittance"]]]


def busy_engine(waiting: int, counters: int, seed: int = 7) -> Projection:
    """An engine with learned history, `counters` counters mostly serving, `waiting` tickets queued."""
    rng = np.random.default_rng(seed)
    projection = Projection()
    t = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=8)))

    def submit(**fields: object) -> None:
        nonlocal t
        t += timedelta(seconds=float(rng.uniform(1, 20)))
        rejection = projection.submit(parse_event(fields, ts=t))
        assert rejection is None, rejection

    for c in range(counters):
        submit(type="counter_opened", counter=str(c + 1), services=PROFILES[c % len(PROFILES)])
    # history: about 300 transactions, all counters working side by side
    number = 0
    for _ in range(300 // counters):
        labels = []
        for c in range(counters):
            number += 1
            label = f"H{number:03d}"
            labels.append(label)
            submit(type="ticket_issued", ticket=label, service=PROFILES[c % len(PROFILES)][0][0])
            submit(type="ticket_called", ticket=label, counter=str(c + 1))
            submit(type="service_started", ticket=label, counter=str(c + 1))
        for c, label in enumerate(labels):
            t += timedelta(seconds=float(rng.lognormal(4.0, 0.6)))
            submit(type="service_finished", ticket=label, counter=str(c + 1))
    for c in range(counters - 1):  # all but one busy
        number += 1
        label = f"H{number:03d}"
        submit(type="ticket_issued", ticket=label, service=PROFILES[c % len(PROFILES)][0][0])
        submit(type="ticket_called", ticket=label, counter=str(c + 1))
        submit(type="service_started", ticket=label, counter=str(c + 1))
    submit(type="counter_paused", counter=str(counters), reason="authorisation", minutes=5)
    for i in range(waiting):
        submit(type="ticket_issued", ticket=f"W{i:03d}", service=SERVICES[int(rng.integers(0, len(SERVICES)))])
    return projection


def main() -> None:
    """Print the timing table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--waiting", type=int, default=60)
    parser.add_argument("--counters", type=int, default=8)
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    projection = busy_engine(args.waiting, args.counters)
    assert projection.state.waiting_count() == args.waiting
    projection.forecast()  # warm up
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        projection.forecast(SERVICES)
        times.append((time.perf_counter() - started) * 1000)
    p50, p95 = np.percentile(times, [50, 95])
    print(f"forecast refresh, {args.waiting} waiting, {args.counters} counters, {projection.scenarios} scenarios, {args.runs} runs:")
    print(f"  p50 {p50:.2f} ms   p95 {p95:.2f} ms   max {max(times):.2f} ms")


if __name__ == "__main__":
    main()
