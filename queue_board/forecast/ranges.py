"""Forecast ranges: the 10th, 50th and 90th percentiles, in seconds."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Range:
    """A forecast in seconds: the 10th, 50th and 90th percentiles."""

    p10: float
    p50: float
    p90: float

    def shifted(self, seconds: float) -> Range:
        """The same range, ``seconds`` later."""
        return Range(self.p10 + seconds, self.p50 + seconds, self.p90 + seconds)

    def scaled(self, factors: tuple[float, float, float]) -> Range:
        """Each percentile multiplied by its factor (kept in order)."""
        p10, p50, p90 = self.p10 * factors[0], self.p50 * factors[1], self.p90 * factors[2]
        p50 = max(p50, p10)
        return Range(p10, p50, max(p90, p50))

    def as_dict(self) -> dict[str, float]:
        """JSON-ready, rounded to 0.1 s."""
        return {"p10": round(self.p10, 1), "p50": round(self.p50, 1), "p90": round(self.p90, 1)}
