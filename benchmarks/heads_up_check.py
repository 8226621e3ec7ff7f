"""What does a teller's heads-up do to the forecast of the transaction in progress? Scripted.

    .venv/bin/python benchmarks/heads_up_check.py [--transactions 300] [--share 0.5] [--realised 1.5] [--then 0] [--seed 1]

One counter serves deposits one after the other (lengths log-normal, median 5 min). In a share of
the transactions (``--share``) the teller gives a heads-up 0.5 to 3 minutes in ("+3 min" or "+5 min");
the step then really lasts the declared minutes × ``--realised`` × a log-normal spread (σ 0.25),
and the transaction ends when it does, or (``--then M``) about M minutes later (log-normal, σ 0.5):
the step was one of several. Each transaction is followed by the next at once, so the
engine keeps learning from every one, online.

At each heads-up the counter's forecast range of the time still to go (the counter board's
"this transaction") is scored against what really followed: the share of transactions that
ended inside its 10–90 % range (aim: 80 %), and the median's absolute error. Two logs are scored:

* ``ignored``: the same transactions, each heads-up replaced by an event that tells nothing (the
  configuration again, at the same moment), so both forecasts are made at the same time;
* ``heads-up``: the log with the ``transaction_extended`` events, the engine learning how long
  this branch's heads-ups really run (printed at the end against ``--realised``).

Pure and seeded: the same arguments print the same figures.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from queue_board.core.branch_config import DEMO_CONFIG
from queue_board.core.events import Event, format_ts, parse_event
from queue_board.core.projection import Projection

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=8)))


@dataclass(frozen=True, slots=True)
class Scripted:
    """One transaction: when the heads-up comes (seconds in, or None), its declared minutes, and
    how long the transaction lasts in all."""

    heads_up_at: float | None
    declared: float
    length: float


def script(count: int, share: float, realised: float, seed: int, then: float = 0.0) -> list[Scripted]:
    """The transactions of the run."""
    rng = np.random.default_rng(seed)
    out: list[Scripted] = []
    for _ in range(count):
        usual = float(rng.lognormal(np.log(300.0), 0.5))
        if rng.random() < share:
            at = float(rng.uniform(30.0, 180.0))
            declared = float(rng.choice([3.0, 5.0]))
            step = declared * 60.0 * realised * float(rng.lognormal(0.0, 0.25))
            rest = then * 60.0 * float(rng.lognormal(0.0, 0.5)) if then > 0 else 0.0
            out.append(Scripted(at, declared, at + step + rest))
        else:
            out.append(Scripted(None, 0.0, usual))
    return out


def events_of(transactions: list[Scripted], *, with_heads_ups: bool) -> list[tuple[Event, bool]]:
    """The log of the run, each event flagged when it is a heads-up moment to score."""
    def ev(at: float, kind: str, **fields: object) -> Event:
        return parse_event({"ts": format_ts(T0 + timedelta(seconds=at)), "type": kind, **fields})

    out: list[tuple[Event, bool]] = [
        (ev(0.0, "branch_configured", config=DEMO_CONFIG.to_dict()), False),
        (ev(0.0, "counter_opened", counter="1", services=[["deposit"]]), False),
    ]
    now = 1.0
    for index, transaction in enumerate(transactions, start=1):
        # a new day every 60 transactions keeps the labels within a day's numbering
        label = f"A{(index - 1) % 60 + 1:03d}"
        if index > 1 and (index - 1) % 60 == 0:
            # the next day from 09:00 (60 transactions of about 6 min end well before midnight); the
            # counter stays open overnight
            now = (index - 1) // 60 * 86400.0 + 1.0
        out.append((ev(now, "ticket_issued", ticket=label, service="deposit"), False))
        out.append((ev(now + 1.0, "ticket_called", ticket=label, counter="1"), False))
        start = now + 20.0
        out.append((ev(start, "service_started", ticket=label, counter="1"), False))
        if transaction.heads_up_at is not None:
            at = start + transaction.heads_up_at
            if with_heads_ups:
                heads_up = ev(at, "transaction_extended", ticket=label, counter="1", minutes=transaction.declared, reason="entering_details")
                out.append((heads_up, True))
            else:
                out.append((ev(at, "branch_configured", config=DEMO_CONFIG.to_dict()), True))
        end = start + transaction.length
        out.append((ev(end, "service_finished", ticket=label, counter="1"), False))
        now = end + 1.0
    return out


def score(transactions: list[Scripted], *, with_heads_ups: bool) -> tuple[float, float, Projection]:
    """Coverage of the 10–90 % range and median absolute error (s) at the heads-up moments."""
    projection = Projection(scenarios=128)
    lengths = iter(t for t in transactions if t.heads_up_at is not None)
    inside, errors = [], []
    for event, scored in events_of(transactions, with_heads_ups=with_heads_ups):
        rejection = projection.submit(event)
        assert rejection is None, (event, rejection.message)
        if scored:
            transaction = next(lengths)
            assert transaction.heads_up_at is not None
            actual = transaction.length - transaction.heads_up_at
            predicted = projection.forecast().counters["1"]
            inside.append(predicted.p10 <= actual <= predicted.p90)
            errors.append(abs(predicted.p50 - actual))
    return float(np.mean(inside)), float(np.median(errors)), projection


def main() -> None:
    """Print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transactions", type=int, default=300)
    parser.add_argument("--share", type=float, default=0.5)
    parser.add_argument("--realised", type=float, default=1.5, help="how much longer than declared the steps really run")
    parser.add_argument("--then", type=float, default=0.0, help="median minutes the transaction goes on after the step (0: it ends)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    transactions = script(args.transactions, args.share, args.realised, args.seed, args.then)
    scored = sum(t.heads_up_at is not None for t in transactions)
    then = f", then about {args.then:g} min more" if args.then > 0 else ""
    print(f"{args.transactions} transactions, {scored} with a heads-up; steps really run {args.realised:g} × declared{then}")
    print(f"{'forecast at the heads-up':<28} {'in 10–90 % range':>17} {'median |p50 − actual|':>22}")
    for name, flag in (("ignored", False), ("heads-up", True)):
        coverage, error, projection = score(transactions, with_heads_ups=flag)
        print(f"{name:<28} {coverage:>16.0%} {error / 60:>19.1f} min")
    learned = projection.model.heads_up_realised.quantiles([0.1, 0.5, 0.9])
    print(f"learned realisation of the declared minutes: p10 {learned[0]:.2f}, p50 {learned[1]:.2f}, p90 {learned[2]:.2f}")


if __name__ == "__main__":
    main()
