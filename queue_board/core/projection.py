"""The pure core as one object: validate → learn → apply → forecast.

The live server keeps one :class:`Projection` per branch; ``replay`` and the simulator drive
the same class, so what a replay writes is what the boards would have shown. Everything a
projection knows comes from the events it was given: forecasting changes nothing.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from queue_board.core.activity import ActivityLog
from queue_board.core.branch import BranchState, Rejection, apply, validate
from queue_board.core.events import QUIET_TYPES, WARNING_TYPES, Event, round_percentiles
from queue_board.core.feedback import FeedbackLog
from queue_board.core.warning_log import WarningLog
from queue_board.forecast.durations import (
    BranchModel,
    Priors,
    learn,
    learn_after,
    learn_promise,
    predicted_seconds,
    ticket_segment,
    time_of_day,
)
from queue_board.forecast.monte_carlo import (
    Forecast,
    Forecaster,
    Range,
    calibrate,
    local_hour,
    sample_range,
)
from queue_board.forecast.pooling import BankPrior, adopt_bank_prior


@dataclass(frozen=True, slots=True)
class Promise:
    """What a ticket is told when it is issued: its own forecast, made right after it joined
    the queue. ``told`` is ``None`` when no counter that is or will be open serves it."""

    told: Range | None
    raw: Range | None


@dataclass(slots=True)
class Projection:
    """One branch's state and learned model, advanced one event at a time."""

    priors: Priors = field(default_factory=Priors)
    scenarios: int = 128
    seed: int = 20260302
    state: BranchState = field(default_factory=BranchState)
    #: the manager's records (counter time, tickets' stories); ``None`` where nobody reads them
    #: (replays, the simulator), which saves their memory
    activity: ActivityLog | None = None
    #: the complaint and praise log; ``None`` where nobody reads it (replays, the simulator)
    feedback: FeedbackLog | None = None
    #: the manager's warnings (raised, acknowledged, cleared); ``None`` where nobody reads them
    warnings: WarningLog | None = None
    model: BranchModel = field(init=False)
    forecaster: Forecaster = field(init=False)

    def __post_init__(self) -> None:
        self.model = BranchModel(priors=self.priors)
        self.forecaster = Forecaster(scenarios=self.scenarios, seed=self.seed)

    def check(self, event: Event) -> Rejection | None:
        """Why ``event`` would be rejected now, or ``None``; changes nothing."""
        return validate(self.state, event)

    def submit(self, event: Event) -> Rejection | None:
        """Validate and, if valid, learn from and apply ``event`` as the log has it; a rejection
        changes nothing."""
        return self.submit_recorded(event)[1]

    def submit_recorded(self, event: Event) -> tuple[Event, Rejection | None]:
        """:meth:`submit`, returning the event as it must be stored: a new ticket without a
        predicted transaction length gets it now, from what the model learned before it (a pure
        function of the log so far, so a log without predictions replays to the same ones)."""
        rejection = validate(self.state, event)
        if rejection is None and event.type == "ticket_issued" and event.predicted_seconds is None:
            assert event.service is not None
            hour = int(time_of_day(event) // 3600)
            event = dataclasses.replace(event, predicted_seconds=predicted_seconds(self.model, event.service, hour))
        if rejection is None:
            if event.type in QUIET_TYPES:
                # a complaint or a warning teaches the forecast nothing and is no counter's or
                # ticket's activity: the model and the activity records see the log as if it were
                # not there
                apply(self.state, event)
                if self.warnings is not None and event.type in WARNING_TYPES:
                    self.warnings.record(event)
            elif event.type == "bank_prior_adopted":
                # a starting point for the model, pinned in the log: no duration, no activity
                assert event.prior is not None
                adopt_bank_prior(self.model, BankPrior.from_record(event.prior))
                apply(self.state, event)
            elif event.type == "ticket_repromised":
                # what the customer was told again is the ticket's story, not a duration to learn
                apply(self.state, event)
                if self.activity is not None:
                    self.activity.record(event)
            else:
                learn(self.model, self.state, event)
                apply(self.state, event)
                learn_after(self.model, self.state, event)
                if self.activity is not None:
                    self.activity.record(event)
            if self.feedback is not None:
                self.feedback.record(event)
        return event, rejection

    def accept(self, event: Event) -> tuple[Event, Rejection | None]:
        """Submit ``event`` as the live server does and return it as it must be stored: a new
        ticket that does not carry its promise yet is told its own forecast now (see
        :meth:`promise`), and the calibration learns from that promise as from a logged one.

        The server, ``import`` and ``replay`` all go through here, so a log without promises
        replays to what the boards would have shown, and a log with them to what they showed.
        """
        event, rejection = self.submit_recorded(event)
        if rejection is not None or event.type != "ticket_issued" or event.told is not None:
            return event, rejection
        label = event.ticket
        assert label is not None
        promise = self.promise(label)
        event = dataclasses.replace(
            event,
            told=round_percentiles(_values(promise.told)) if promise.told is not None else None,
            told_raw=round_percentiles(_values(promise.raw)) if promise.raw is not None else None,
        )
        learn_promise(self.model, self.state, event)
        if self.activity is not None:
            self.activity.record_promise(label, event.told)
        return event, None

    def promise(self, label: str) -> Promise:
        """The wait range a ticket just issued is told, from the seconds it joined the queue:
        the calibrated forecast of its wait at the current ``seq`` (and the raw one before
        calibration). Changes nothing."""
        raw = self.forecaster.forecast(self.state, self.model, focus=label).waits[label]
        if not math.isfinite(raw.p90):
            return Promise(told=None, raw=None)
        elapsed = self.state.now - self.state.tickets[label].issued_at
        told = self.model.calibrator.adjust(raw, ticket_segment(self.state, label))
        return Promise(told=told.shifted(elapsed), raw=raw.shifted(elapsed))

    def forecast(self, services: Iterable[str] = (), *, focus: str | None = None) -> Forecast:
        """Forecast the branch as it stands (see :mod:`queue_board.forecast.monte_carlo`); with
        ``focus``, only that waiting ticket's wait. Changes nothing."""
        raw = self.forecaster.forecast(self.state, self.model, services, focus=focus)
        return calibrate(raw, self.model.calibrator, self.state)

    def service_range(self, service: str, counter: str | None = None) -> Range:
        """How long a transaction of ``service`` takes at ``counter`` now: the learned 10/50/90 % range."""
        factor = self.model.duration_factor(service, counter, local_hour(self.state))
        return sample_range(self.model.service(service), factor)


def _values(value: Range) -> tuple[float, float, float]:
    return (value.p10, value.p50, value.p90)
