"""A new branch's forecast starts from what its sister branches learned (issue 13, item 2).

The prior is pooled from the sisters' models as this process holds them, caught up with the
store (``queue_board.forecast.pooling.bank_prior``), and pinned in the new branch's own log as
one ``bank_prior_adopted`` event carrying the numbers. From then on it is history like any other:
every process, every restart and every replay of that log adopts the same prior, whatever the
sisters learn afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence

from queue_board.core.fields import name_problem
from queue_board.forecast.pooling import BankPrior, bank_prior
from queue_board.service.commands import Accepted, BranchCommands
from queue_board.service.errors import conflict, invalid, not_found
from queue_board.service.projections import ProjectionRegistry


class SisterPriors:
    """Pins bank-wide priors in branches' logs."""

    def __init__(self, projections: ProjectionRegistry, commands: BranchCommands) -> None:
        self.projections = projections
        self.commands = commands

    def sisters_of(self, branch: str) -> list[str]:
        """Every other branch of the store, in id order."""
        return [other for other in self.projections.store.branch_ids() if other != branch]

    def pooled(self, branch: str, sisters: Sequence[str] | None = None) -> tuple[list[str], BankPrior]:
        """The sisters asked for (every other branch by default) and the prior they teach;
        422 for a branch named twice, or ``branch`` itself, 404 for one that does not exist, 409
        when none has learned anything yet."""
        names = list(sisters) if sisters else self.sisters_of(branch)
        for name in names:
            problem = name_problem(name)
            if problem is not None:
                raise invalid(f"sister branch id {problem}", field="sisters")
        if len(set(names)) != len(names):
            raise invalid("a sister branch is named twice", field="sisters")
        if branch in names:
            raise invalid(f"branch {branch!r} cannot be its own sister", field="sisters")
        if not names:
            raise conflict("there is no other branch in the store to learn a prior from")
        for name in names:
            if not self.projections.exists(name):
                raise not_found(f"no branch {name!r}", field="sisters")
        models = []
        for name in names:
            projection = self.projections.get(name)  # caught up with what other processes wrote
            with self.projections.lock(name):
                # a copy: the sister keeps learning while the prior is pooled
                models.append(projection.model.copy_for_forecast())
        prior = bank_prior(models)
        if not prior.services and prior.pause_overrun is None and prior.patience is None:
            raise conflict("the sister branches have learned nothing yet (no finished transaction, pause or wait)")
        return names, prior

    def adopt(self, branch: str, sisters: Sequence[str] | None = None, *, actor: str | None = None) -> tuple[Accepted, BankPrior]:
        """Pin in ``branch``'s log the prior its sisters teach; the stored event and the prior.

        It starts only what the branch has not learned yet (a service, pause overrun or
        patience without any observation of its own); the branch must exist (configure it
        first: its services are what the prior is for)."""
        if not self.projections.exists(branch):
            raise not_found(f"no branch {branch!r}: configure it first")
        names, prior = self.pooled(branch, sisters)
        record = prior.to_record(names)
        accepted = self.commands.submit(branch, {"type": "bank_prior_adopted", "prior": record.to_dict()}, actor=actor)
        return accepted, prior
