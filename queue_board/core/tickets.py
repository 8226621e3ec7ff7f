"""Ticket numbering: the service's prefix and the next number of the local day (``A001``, ``A002``, …).

One rule for everyone who issues tickets (the kiosk through the service, the simulator), so a
log mixing their tickets never repeats a label. Labels are unique within one branch and one
local day and numbering restarts every day (shared/spec/event-log.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from queue_board.core.branch import BranchState

LABEL_NUMBER = re.compile(r"^(?P<prefix>[A-Z]{1,3})(?P<number>\d+)$")


def _number(label: str, prefix: str) -> int:
    """The number of ``label`` if it is one of ``prefix``'s, else 0."""
    match = LABEL_NUMBER.match(label)
    return int(match["number"]) if match and match["prefix"] == prefix else 0


def next_label(state: BranchState, prefix: str, now: datetime, pending: Iterable[str] = ()) -> str:
    """The next ticket label for ``prefix`` today: ``A001``, ``A002``, … (numbering restarts daily).

    ``pending`` are labels already handed out today that ``state`` does not hold yet (a batch
    of events still to be applied), so that one batch never repeats a label.
    """
    # a state still showing an earlier day holds none of today's tickets
    today = state.tickets if state.day is not None and state.day == now.date() else ()
    highest = max((_number(label, prefix) for source in (today, pending) for label in source), default=0)
    return f"{prefix}{highest + 1:03d}"


__all__ = ["LABEL_NUMBER", "next_label"]
