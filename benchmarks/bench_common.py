"""What the report benchmarks (``report_speed.py``, ``overview_speed.py``) share: a clock that
stands still, the cache of stored logs under ``$TMPDIR/queue_board_bench/``, timing, the
min / median / max table and cProfile's top functions.

The scripts set ``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` themselves, before anything
imports numpy; import this module after that.
"""

from __future__ import annotations

import cProfile
import gc
import io
import os
import pstats
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from queue_board.service.clock import SystemClock

CACHE = Path(tempfile.gettempdir()) / "queue_board_bench"
T = TypeVar("T")


class FixedClock(SystemClock):
    """A clock that stands at one instant (``at``, which a benchmark may move)."""

    def __init__(self, at: datetime) -> None:
        super().__init__(at.tzinfo)
        self.at = at

    def now(self) -> datetime:
        return self.at


# the cache of stored logs -------------------------------------------------------------------
def cached_lines(path: Path) -> list[str] | None:
    """The lines of a cached log (each with its newline), or None when it is not cached yet."""
    return path.read_text(encoding="utf-8").splitlines(keepends=True) if path.exists() else None


def write_cached(path: Path, lines: Iterable[str]) -> None:
    """Cache ``lines`` at ``path``, whole or not at all (written beside it, then renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text("".join(lines), encoding="utf-8")
    partial.replace(path)


# measuring ---------------------------------------------------------------------------------
def print_preamble(script: str) -> None:
    """The first lines of a benchmark's output: its command line and the machine."""
    print(f"command: .venv/bin/python benchmarks/{script} {shlex.join(sys.argv[1:])}".rstrip())
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, numpy threads {os.environ['OMP_NUM_THREADS']}")


def timed(run: Callable[[], T]) -> tuple[float, T]:
    """(seconds, result) of one call of ``run``, after a garbage collection."""
    gc.collect()
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def fmt(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1000:.1f} ms"


def spread(values: Sequence[float]) -> str:
    """``values`` as "min 361 / mean 390 / max 408"."""
    return f"min {min(values)} / mean {statistics.fmean(values):.0f} / max {max(values)}"


def rate_range(events: int, seconds: Sequence[float]) -> str:
    """The slowest and fastest rate of runs over ``events`` events: "21,189–22,242 events/s"."""
    rates = [events / s for s in seconds]
    return f"{min(rates):,.0f}–{max(rates):,.0f} events/s"


@dataclass(frozen=True)
class Figures:
    """The figures' table: a row per measurement (its runs, min, median and max), the names
    padded to ``width``."""

    width: int

    def header(self) -> str:
        return f"  {'':<{self.width}} {'runs':>4} {'min':>10} {'median':>10} {'max':>10}"

    def row(self, name: str, seconds: Sequence[float], note: str = "") -> str:
        return (
            f"  {name:<{self.width}} {len(seconds):>4} {fmt(min(seconds)):>10} {fmt(statistics.median(seconds)):>10} {fmt(max(seconds)):>10}"
            f"  {note}".rstrip()
        )


def profile(title: str, run: Callable[[], object], lines: int, sort: str = "tottime") -> None:
    """Print cProfile's top ``lines`` functions of one call of ``run``, by ``sort``."""
    profiler = cProfile.Profile()
    profiler.enable()
    run()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(sort).print_stats(lines)
    body = out.getvalue()
    start = body.find("   ncalls")
    print(f"\nprofile: {title} (top {lines} by {sort})")
    print(body[start:].rstrip() if start >= 0 else body.rstrip())
