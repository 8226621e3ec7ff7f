"""Were the promises kept? The range each ticket was told at issue (``told`` in the log),
against the wait it then had (issue → first call).

- *MAE*: mean absolute difference between the wait and the told median, in minutes;
- *calibration*: the shares of waits below the told p10, inside p10–p90 (80 % if the ranges
  are honest) and above p90;
- *broken promise*: the wait went past the top of the range as the screens worded it
  (``shown_top_seconds``: "about 15–20 min" promises 20 min at most).

Only tickets that were told a range and were called count; a customer who gave up has no wait
to compare (their number is in the history's "cancelled").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from queue_board.core.activity import shown_bottom_seconds
from queue_board.reports.columns import DayColumns, FloatArray, IntArray, StrArray
from queue_board.reports.tables import Cell, Table, mean, minutes, ordered, share

#: how many broken promises the report lists, worst first
WORST_LIMIT = 20

QUALITY_COLUMNS = ("promised", "mae_min", "below_p10", "within_p10_p90", "above_p90", "broken", "broken_share", "mean_overshoot_min")


@dataclass(frozen=True, slots=True)
class _Promises:
    day: StrArray
    label: StrArray
    service: StrArray
    counter: StrArray
    hour: IntArray
    issued_at: FloatArray
    wait: FloatArray
    p10: FloatArray
    p50: FloatArray
    p90: FloatArray
    top: FloatArray


def _promises(days: Sequence[DayColumns], service: str | None, counter: str | None) -> _Promises:
    parts: dict[str, list[np.ndarray]] = {name: [] for name in _Promises.__slots__}
    for day in days:
        t = day.tickets
        keep = np.isfinite(t.wait) & np.isfinite(t.told_p90)
        if service is not None:
            keep &= t.service == service
        if counter is not None:
            keep &= t.counter == counter
        iso = day.day.isoformat()
        parts["day"].append(np.full(int(np.count_nonzero(keep)), iso, dtype=f"<U{len(iso)}"))
        for name, source in (
            ("label", t.label),
            ("service", t.service),
            ("counter", t.counter),
            ("hour", t.hour),
            ("issued_at", t.issued_at),
            ("wait", t.wait),
            ("p10", t.told_p10),
            ("p50", t.told_p50),
            ("p90", t.told_p90),
            ("top", t.shown_top),
        ):
            parts[name].append(source[keep])
    joined = {name: (np.concatenate(values) if values else np.array([])) for name, values in parts.items()}
    return _Promises(**joined)


def _row(p: _Promises, mask: np.ndarray) -> tuple[Cell, ...]:
    n = int(np.count_nonzero(mask))
    wait = p.wait[mask]
    broken = wait > p.top[mask]
    overshoot = (wait - p.top[mask])[broken]
    return (
        n,
        minutes(mean(np.abs(wait - p.p50[mask]))),
        share(int(np.count_nonzero(wait < p.p10[mask])), n),
        share(int(np.count_nonzero((wait >= p.p10[mask]) & (wait <= p.p90[mask]))), n),
        share(int(np.count_nonzero(wait > p.p90[mask])), n),
        int(np.count_nonzero(broken)),
        share(int(np.count_nonzero(broken)), n),
        minutes(mean(overshoot)),
    )


def quality(days: Sequence[DayColumns], *, service: str | None = None, counter: str | None = None, worst: int = WORST_LIMIT) -> dict[str, Table]:
    """The forecast-quality tables over ``days``: totals, by service, hour and counter, and
    the worst broken promises (each with its day and ticket, for its timeline)."""
    p = _promises(days, service, counter)
    every = np.ones(p.wait.size, dtype=bool)
    tables = {
        "quality_totals": Table("quality_totals", QUALITY_COLUMNS, [_row(p, every)]),
        "quality_by_service": Table("quality_by_service", ("service", *QUALITY_COLUMNS), [(s, *_row(p, p.service == s)) for s in ordered(p.service.tolist())]),
        "quality_by_hour": Table("quality_by_hour", ("hour", *QUALITY_COLUMNS), [(h, *_row(p, p.hour == h)) for h in sorted(set(p.hour.tolist()))]),
        "quality_by_counter": Table("quality_by_counter", ("counter", *QUALITY_COLUMNS), [(c, *_row(p, p.counter == c)) for c in ordered(p.counter.tolist())]),
    }
    over = p.wait - p.top
    order = [int(i) for i in np.argsort(-over, kind="stable") if over[i] > 0][:worst]
    tables["broken_promises"] = Table(
        "broken_promises",
        ("day", "ticket", "service", "counter", "issued_at", "told_low_min", "told_high_min", "waited_min", "over_by_min"),
        [
            (
                str(p.day[i]),
                str(p.label[i]),
                str(p.service[i]),
                str(p.counter[i]),
                float(p.issued_at[i]),
                minutes(shown_bottom_seconds((float(p.p10[i]), float(p.p50[i]), float(p.p90[i])))),
                minutes(float(p.top[i])),
                minutes(float(p.wait[i])),
                minutes(float(over[i])),
            )
            for i in order
        ],
    )
    return tables
