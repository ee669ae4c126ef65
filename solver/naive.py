"""The naive CP-SAT model, for comparison at small sizes only.

One boolean per admissible (arrival, shelter) pair: the model of :mod:`solver.cpsat` built on
units that group nothing (every arrival its own unit; a household one unit), solved level by
level with no greedy hint and default presolve. Same rules and objective by construction, so
the two must reach the same values; the benchmarks compare how fast.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from placement.context import Context
from placement.models import Scenario
from solver.allocation import to_assignment
from solver.cpsat import StageResult, solve_lexicographic
from solver.linear import LinearModel
from solver.options import SolveOptions
from solver.units import build_units


@dataclass
class NaiveResult:
    assignment: dict[str, str]
    proven_optimal: bool
    stages: list[StageResult]
    build_seconds: float
    solve_seconds: float
    variables: int


def solve_naive(
    scenario: Scenario | Context, time_limit: float = 10.0, workers: int = 1, seed: int = 0
) -> NaiveResult:
    """Build the per-pair model and solve it level by level within ``time_limit``."""
    ctx = scenario if isinstance(scenario, Context) else Context(scenario)
    started = time.perf_counter()
    units = build_units(ctx, group=False)  # one unit per arrival (households: one per household)
    model = LinearModel(ctx, units)
    build_seconds = time.perf_counter() - started
    solving = time.perf_counter()
    options = SolveOptions(
        time_limit=max(0.01, time_limit - build_seconds),
        workers=workers,
        seed=seed,
        lp_fixing=False,
        light_presolve_above=10**12,
    )
    result = solve_lexicographic(model, options, start={})  # no greedy hint
    return NaiveResult(
        assignment=to_assignment(units, result.allocation),
        proven_optimal=result.proven_optimal,
        stages=result.stages,
        build_seconds=build_seconds,
        solve_seconds=time.perf_counter() - solving,
        variables=model.n_columns,
    )
