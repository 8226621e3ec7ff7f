"""A simulated branch: scenarios (the truth) and an agent that plays them against the core."""

from __future__ import annotations

from simulations.branch_sim import BranchAgent, Customer, SimulationError, run_agent, simulate
from simulations.scenarios import (
    SCENARIOS,
    Scenario,
    busy_tiered_branch,
    demo_branch,
    single_service_mm_c,
    split_shift_branch,
)

__all__ = [
    "SCENARIOS",
    "BranchAgent",
    "Customer",
    "Scenario",
    "SimulationError",
    "busy_tiered_branch",
    "demo_branch",
    "run_agent",
    "simulate",
    "single_service_mm_c",
    "split_shift_branch",
]
