"""The pure core as one object: validate → learn → apply → forecast.

The live server keeps one :class:`Projection` per branch; ``replay`` and the simulator drive
the same class, so what a replay writes is what the boards would have shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from queue_board.core.branch import BranchState, Rejection, apply, validate
from queue_board.core.events import Event
from queue_board.forecast.durations import BranchModel, Priors, learn, learn_after
from queue_board.forecast.monte_carlo import Forecast, Forecaster, Range, calibrate, local_hour, sample_range


@dataclass(slots=True)
class Projection:
    """One branch's state and learned model, advanced one event at a time."""

    priors: Priors = field(default_factory=Priors)
    scenarios: int = 128
    seed: int = 20260302
    state: BranchState = field(default_factory=BranchState)
    model: BranchModel = field(init=False)
    forecaster: Forecaster = field(init=False)

    def __post_init__(self) -> None:
        self.model = BranchModel(priors=self.priors)
        self.forecaster = Forecaster(scenarios=self.scenarios, seed=self.seed)

    def check(self, event: Event) -> Rejection | None:
        """Why ``event`` would be rejected now, or ``None``; changes nothing."""
        return validate(self.state, event)

    def submit(self, event: Event) -> Rejection | None:
        """Validate and, if valid, learn from and apply ``event``; a rejection changes nothing."""
        rejection = validate(self.state, event)
        if rejection is None:
            learn(self.model, self.state, event)
            apply(self.state, event)
            learn_after(self.model, self.state, event)
        return rejection

    def forecast(self, services: Iterable[str] = (), *, focus: str | None = None) -> Forecast:
        """Forecast the branch as it stands (see :mod:`queue_board.forecast.monte_carlo`); with ``focus``,
        only that waiting ticket's wait."""
        raw = self.forecaster.forecast(self.state, self.model, services, focus=focus)
        return calibrate(raw, self.state, self.model.calibrator)

    def service_range(self, service: str, counter: str | None = None) -> Range:
        """How long a transaction of ``service`` takes at ``counter`` now: the learned 10/50/90 % range."""
        factor = self.model.duration_factor(service, counter, local_hour(self.state))
        return sample_range(self.model.service(service), factor)
