"""HiGHS's MIP on some columns (solver.mip) and the cost stage's search with it after its LP
(solver.cpsat._Lexicographic._restricted_mip): the plans keep every rule and every level,
start from the incumbent, and on every column reach the cost CP-SAT proves optimal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import solver.cpsat
from placement.context import Context, persons_by_priority
from placement.generate import generate_scenario
from placement.report import Solved, build_plan
from placement.validation import plan_violations
from solver.allocation import Allocation, to_allocation, to_assignment
from solver.cpsat import PlacementModel, _keep, configured_solver, stage_objectives
from solver.engine import plan_assignment
from solver.linear import LinearModel
from solver.mip import MipFound, mip_on_columns
from solver.options import EngineOptions, SolveOptions
from solver.packing import packing_allocation
from solver.units import Units, build_units

OPTIONS = SolveOptions(time_limit=10, workers=1)


def _levels_kept(seed: int, family: str, size: tuple[int, int]) -> tuple[LinearModel, Allocation]:
    """A generated instance's model with every level kept at what the packing plan places
    (the cost stage's rows), and that plan."""
    ctx = Context(generate_scenario(*size, seed=seed, family=family))
    units = build_units(ctx)
    start = packing_allocation(ctx, units)
    lin = LinearModel(ctx, units)
    x = lin.to_columns(start)
    for _, c, relevant in stage_objectives(lin)[:-1]:
        _keep(lin, c, int(c @ np.where(relevant, x, 0)))
    return lin, start


def _levels(ctx: Context, units: Units, alloc: Allocation) -> list[int]:
    placed = persons_by_priority(ctx, list(to_assignment(units, alloc)))
    return [sum(placed[str(q)] for q in range(p, 6)) for p in (5, 4, 3, 2, 1)]


@pytest.mark.parametrize(("seed", "family"), [(1, "standard"), (2, "hard")])
def test_on_every_column_the_mip_reaches_the_cost_cpsat_proves_optimal(
    seed: int, family: str
) -> None:
    lin, start = _levels_kept(seed, family, (30, 60))
    c = -lin.col_cost
    every = np.ones(lin.n_columns, dtype=bool)
    hint = lin.to_columns(start)
    found = mip_on_columns(lin, c, every, hint, 10.0)
    assert found is not None and found.optimal
    model = PlacementModel(lin)
    model.model.maximize(model.expression(c))
    cpsat = configured_solver(OPTIONS, 10.0, len(model.columns))
    assert cpsat.solve(model.model) == solver.cpsat.cp_model.OPTIMAL
    assert int(c @ found.x) == round(cpsat.objective_value)
    assert int(c @ found.x) > int(c @ hint)  # the packing plan is not the cheapest here
    ctx, units = lin.ctx, lin.units
    plan = lin.to_allocation(found.x)
    assert plan_violations(ctx, to_assignment(units, plan)) == []
    assert _levels(ctx, units, plan) == _levels(ctx, units, start)


def test_the_mip_keeps_to_its_columns_and_starts_from_its_hint() -> None:
    lin, start = _levels_kept(3, "hard", (40, 90))
    c = -lin.col_cost
    hint = lin.to_columns(start)
    # the plan's own columns and each unit's cheapest: a plan no dearer than the hint
    columns = (hint > 0) | lin.cheapest(1)
    found = mip_on_columns(lin, c, columns, hint, 5.0)
    assert found is not None
    assert not (found.x[~columns] > 0).any()
    assert int(c @ found.x) >= int(c @ hint)
    assert lin.satisfies(found.x)
    # no time: nothing, and nothing is lost
    assert mip_on_columns(lin, c, columns, hint, 0.0) is None


def test_each_units_best_columns() -> None:
    lin, _ = _levels_kept(1, "standard", (30, 60))
    rng = np.random.default_rng(0)
    score = rng.normal(size=lin.n_columns)
    among = rng.random(lin.n_columns) < 0.6
    for k in (1, 2, 3):
        chosen = lin.best(k, score, among)
        assert not (chosen & ~among).any()
        for ui in range(len(lin.unit_list)):
            cols = lin.columns_of(ui)
            allowed = cols[among[cols]]
            picked = cols[chosen[cols]]
            assert len(picked) == min(k, len(allowed))
            if len(picked) < len(allowed):  # the k best of those allowed
                left = np.setdiff1d(allowed, picked)
                assert score[picked].min() >= score[left].max()
    assert (lin.best(1, -lin.col_cost) == lin.cheapest(1)).all()


@pytest.mark.slow
def test_the_cost_stage_keeps_the_plan_its_mip_finds(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every call of the MIP recorded: the cost stage calls it after its LP, and its plan
    # costs no more than the cheapest the MIP found, every rule and level kept.
    ctx = Context(generate_scenario(150, 400, seed=1, family="standard"))
    found: list[MipFound] = []
    real: Callable[..., MipFound | None] = mip_on_columns

    def recorded(*args: Any) -> MipFound | None:
        result = real(*args)
        if result is not None:
            found.append(result)
        return result

    monkeypatch.setattr(solver.cpsat, "mip_on_columns", recorded)
    solved = plan_assignment(ctx, EngineOptions(solve=SolveOptions(time_limit=6), explain=False))
    assert found, "the cost stage never ran its MIP"
    units = build_units(ctx)
    alloc = to_allocation(units, solved.assignment)
    plan = build_plan(ctx, Solved(solved.assignment, solved.status, 0.0), "cpsat", [])
    lin = LinearModel(ctx, units)
    cheapest_found = min(int(lin.col_cost @ f.x) for f in found)
    assert plan.secondary_cost is not None and plan.secondary_cost <= cheapest_found
    assert plan_violations(ctx, solved.assignment) == []
    assert _levels(ctx, units, alloc) == [solved.bound[p] for p in (5, 4, 3, 2, 1)]
