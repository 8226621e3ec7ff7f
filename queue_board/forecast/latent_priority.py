"""Customers the tellers call ahead of their turn: a priority class the log does not label.

Some banks serve favoured customers first without telling the queue why (issue 13, item 3: on
the Anonymous Bank log about a third of the PS customers who found someone of their service
waiting were called before that person). The log shows only the calls out of turn. The model
here reads them as a latent class: each customer of a service is, independently, a priority
customer with the service's share ``π``; a priority customer is called before every ordinary
customer of the service who waits, FIFO within each class (as a tier above the service's own).

What a call tells:

* a call that skips the earliest waiting customer of its service calls a priority customer,
  and the customers it skipped are ordinary;
* a customer who was waiting when a call of their service went to someone else is taken to be
  ordinary from then on (a priority customer is called first; two priority customers waiting at
  once are the exception the share absorbs).

So at each call with a choice (two or more of the service waiting, the counter's rule pointing
at the earliest of them) the probability that it goes out of turn is
``P(first is ordinary) × (1 − (1 − π)^u)``, ``u`` the others not yet known to be ordinary. The
share is the maximum of that likelihood over the recency-weighted calls, under a Beta(1, 10)
prior that keeps a log without out-of-turn calls at exactly 0 (so its forecasts are those of
the plain call rule). A forecast (``monte_carlo``) draws each waiting customer's class, those of
future arrivals and of a new ticket; nothing here reads a clock or a store.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from queue_board.core.branch import FREE, BranchState, Counter, Ticket, TicketStatus
from queue_board.core.call_rule import next_ticket

#: others waiting beyond the first, counted up to this (more changes ``(1 − π)^u`` little)
MAX_OTHERS = 8
#: the shares the likelihood is evaluated at
SHARE_GRID = np.linspace(0.0, 0.8, 81)
#: Beta(1, b) prior on the share: its mode is 0, and ten calls' worth of doubt
PRIOR_B = 10.0
#: a call that skips someone though the model says it cannot (everyone behind already passed
#: over): a teller's own reasons; keeps one such call from ruling out every share
STRAY = 0.01
#: weight kept by older calls at each new one (half-life ~700 calls: a busy service's day)
MEMORY = 0.999
#: below this share the forecast ignores the class (too rare to move a promise, and it costs columns)
MIN_SHARE = 0.02
#: the longest recent wait forgets this much at each call of its service
LONGEST_MEMORY = 0.995
#: priority arrivals are simulated over the longest recent wait, at least this long (s):
#: one who comes after everyone waiting now has been called overtakes nobody, and each costs
#: the forecast a column
MIN_WINDOW = 600.0
WINDOW_STEP = 300.0


def _out_of_turn_probability() -> np.ndarray:
    """P(a call goes out of turn) per (first known ordinary, others unknown, share on the grid)."""
    others = np.arange(MAX_OTHERS + 1)[:, None]
    some_priority_behind = 1.0 - (1.0 - SHARE_GRID[None, :]) ** others
    first_ordinary = np.stack([1.0 - SHARE_GRID, np.ones_like(SHARE_GRID)])  # unknown, known
    model = first_ordinary[:, None, :] * some_priority_behind[None, :, :]
    out: np.ndarray = STRAY + (1.0 - 2.0 * STRAY) * model
    return out


_P_OUT = _out_of_turn_probability()
_LOG_PRIOR = (PRIOR_B - 1.0) * np.log1p(-np.minimum(SHARE_GRID, 1.0 - 1e-9))


class LatentPriority:
    """What the branch's calls say about a hidden priority class, per service."""

    __slots__ = ("_shares", "calls", "last_call", "longest_wait")

    def __init__(self) -> None:
        #: per service: recency-weighted calls with a choice, by (first known ordinary, others
        #: unknown, went out of turn)
        self.calls: dict[str, np.ndarray] = {}
        #: per service: when it was last called (a customer queued before then was passed over)
        self.last_call: dict[str, float] = {}
        #: per service: the longest recent wait to a call (decaying), which bounds the window
        self.longest_wait: dict[str, float] = {}
        self._shares: dict[str, float] = {}

    def __deepcopy__(self, memo: dict[int, Any]) -> LatentPriority:
        copied = LatentPriority()
        memo[id(self)] = copied
        copied.calls = {k: v.copy() for k, v in self.calls.items()}
        copied.last_call = dict(self.last_call)
        copied.longest_wait = dict(self.longest_wait)
        copied._shares = dict(self._shares)
        return copied

    def known_ordinary(self, ticket: Ticket) -> bool:
        """Whether ``ticket`` (waiting) has been passed over by a call of its service."""
        last = self.last_call.get(ticket.service)
        return last is not None and ticket.queued_at <= last

    def observe_call(self, state: BranchState, ticket: Ticket, counter: Counter | None, now: float) -> None:
        """Learn from ``counter`` calling ``ticket`` at ``now``; ``state`` is before the call."""
        service = ticket.service
        queue = state.queues.get(service, [])
        waiting = ticket.status is TicketStatus.WAITING
        if waiting and counter is not None and counter.status in FREE and ticket.transfers == 0 and len(queue) >= 2:
            rule = next_ticket(state, counter)
            # only a choice the plain rule would have made among this service's own queue says
            # anything about it (not a higher tier, not an express counter's short-first pick)
            if rule is not None and rule.label == queue[0][2]:
                last = self.last_call.get(service)
                first_known = last is not None and queue[0][0] <= last
                unknown = sum(1 for entry in queue[1:] if last is None or entry[0] > last)
                counts = self.calls.get(service)
                if counts is None:
                    counts = self.calls[service] = np.zeros((2, MAX_OTHERS + 1, 2))
                counts *= MEMORY
                counts[int(first_known), min(unknown, MAX_OTHERS), int(ticket.label != queue[0][2])] += 1.0
                self._shares.pop(service, None)
        self.last_call[service] = now
        waited = max(0.0, now - ticket.issued_at)
        self.longest_wait[service] = max(waited, self.longest_wait.get(service, 0.0) * LONGEST_MEMORY)

    def window(self, service: str) -> float:
        """How far ahead (seconds) a forecast draws the priority arrivals of ``service``."""
        # in whole steps, so that the forecast's replays of past days (kept per window) are reused
        steps = math.ceil(self.longest_wait.get(service, 0.0) / WINDOW_STEP)
        return max(MIN_WINDOW, steps * WINDOW_STEP)

    def share(self, service: str) -> float:
        """The share ``π`` of ``service``'s customers who are called ahead of ordinary ones."""
        cached = self._shares.get(service)
        if cached is not None:
            return cached
        counts = self.calls.get(service)
        if counts is None or counts[:, :, 1].sum() <= 0:
            value = 0.0
        else:
            # log-likelihood on the grid: calls in turn and out of turn, per (first, others) cell
            loglik = (counts[:, :, 1, None] * np.log(_P_OUT) + counts[:, :, 0, None] * np.log1p(-_P_OUT)).sum(axis=(0, 1))
            value = float(SHARE_GRID[int(np.argmax(loglik + _LOG_PRIOR))])
        self._shares[service] = value
        return value

    def shares(self, services: list[str]) -> dict[str, float]:
        """The services among ``services`` whose share is large enough to forecast with."""
        out = {s: self.share(s) for s in services}
        return {s: v for s, v in out.items() if v >= MIN_SHARE}
