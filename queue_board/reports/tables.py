"""A report's table: named columns and rows of plain values, as JSON for a page and as CSV."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

Cell = str | int | float | None


@dataclass(frozen=True, slots=True)
class Table:
    """Rows under named columns; column names are stable keys (pages translate their headers)."""

    name: str
    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"name": self.name, "columns": list(self.columns), "rows": [list(row) for row in self.rows]}

    def to_csv(self) -> str:
        """The table as CSV with a header line (empty cells for missing values)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow(["" if cell is None else cell for cell in row])
        return out.getvalue()

    def column(self, name: str) -> list[Cell]:
        """One column's values, top to bottom."""
        index = self.columns.index(name)
        return [row[index] for row in self.rows]


def minutes(seconds: float | None) -> float | None:
    """Seconds as minutes to 0.1 (``None`` stays ``None``)."""
    if seconds is None or not math.isfinite(seconds):
        return None
    return round(seconds / 60.0, 1)


def share(part: float, whole: float) -> float | None:
    """``part / whole`` to 0.001, ``None`` when there is no whole."""
    if whole <= 0:
        return None
    return round(part / whole, 3)


def percentile(values: npt.NDArray[np.float64], q: float) -> float | None:
    """The ``q``-th percentile of the finite values (linear interpolation), ``None`` if none."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    return float(np.percentile(finite, q))


def maximum(values: npt.NDArray[np.float64]) -> float | None:
    """The largest finite value, ``None`` if none."""
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else None


def mean(values: npt.NDArray[np.float64]) -> float | None:
    """The mean of the finite values, ``None`` if none."""
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else None


def ordered(keys: Sequence[str]) -> list[str]:
    """Distinct keys in a natural order: counters "2" before "10", then by name."""
    return sorted(set(keys), key=lambda k: (0, int(k), k) if k.isdigit() else (1, 0, k))
