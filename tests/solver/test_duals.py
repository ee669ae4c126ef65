"""What the LP's duals say about integer plans, checked against the lexicographic optimum.

* the bound with each unit row's best dual (``_Duals.by_unit``) is never above ``B(y)``, is
  the lowest over that row's dual, and still bounds the optimum;
* the rows :meth:`PlacementModel.at_least` derives from the duals keep every plan that
  reaches the target (the optimal plan among them) and none beyond the optimum;
* CP-SAT from the LP's bound down (``_Lexicographic._cpsat``) finds the optimum from a
  worse plan, and proves an optimal incumbent.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from ortools.sat.python import cp_model

from solver.cpsat import (
    Decided,
    PlacementModel,
    _Lexicographic,
    configured_solver,
    solve_lexicographic,
)
from solver.linear import INF, LinearModel
from solver.lp import Pricing, _Duals, lp_proof
from solver.options import SolveOptions
from solver.packing import packing_allocation
from tests.solver.test_lp_stages import (
    CASES,
    instance,
    optimum_at,
    reference,
    stage_objectives,
    values,
)


def _solved(case: str) -> tuple[LinearModel, tuple[int, ...], np.ndarray, np.ndarray]:
    """The case's linear model, its lexicographic optimum and an optimal plan's columns, and
    every column (in play)."""
    ctx, units = instance(case)
    optimum, best = reference(case)
    lin = LinearModel(ctx, units)
    return lin, optimum, lin.to_columns(best), np.ones(lin.n_columns, dtype=bool)


def _keep(lin: LinearModel, c: np.ndarray, z: int) -> None:
    lin.add_row(np.flatnonzero(c), c[c != 0], z, INF, "stage")  # as solve_lexicographic


@pytest.mark.parametrize("case", list(CASES))
def test_each_unit_rows_best_dual_gives_the_lowest_bound_and_a_valid_one(case: str) -> None:
    ctx, units = instance(case)
    optimum, _ = reference(case)
    lin = LinearModel(ctx, units)
    rng = np.random.default_rng(1)
    lowered = 0
    for name, c in stage_objectives(lin):
        z = optimum_at(name, optimum)
        dual = _Duals(lin, c.astype(float), np.arange(lin.n_columns))
        rows = len(dual.row_lo)
        for _ in range(3):
            y = dual._sign(rng.exponential(0.5, rows) * rng.choice([-1.0, 1.0], rows))
            raw, d = dual._of(y)
            bound, best_y, reduced, _ = dual.bound(y)
            assert z - 1e-6 <= bound <= raw + 1e-9, name
            assert dual._of(best_y)[0] == pytest.approx(bound), name
            lowered += bound < raw - 1e-6
            tuned = dual.by_unit(y, d)
            lowest = dual._of(tuned)[0]
            for r in rng.choice(dual.unit_rows, size=min(8, len(dual.unit_rows)), replace=False):
                for delta in (-0.25, 0.25):
                    other = tuned.copy()
                    other[r] = max(0.0, other[r] + delta)
                    assert dual._of(other)[0] >= lowest - 1e-9, (name, r, delta)
        _keep(lin, c, z)
    assert lowered > 0


def _holds(model: PlacementModel, at_least: cp_model.CpModel, x: np.ndarray) -> bool:
    """Whether the column values ``x`` satisfy every row of ``at_least``."""
    lin = model.linear
    for (ui, sid), var in model.y.items():
        j = int(np.flatnonzero((lin.col_unit == ui) & (lin.col_shelter == lin.ctx.index(sid)))[0])
        at_least.add(at_least.get_int_var_from_proto_index(var.index) == int(x[j]))
    status = configured_solver(SolveOptions(time_limit=20), 20).solve(at_least)
    assert status in (cp_model.OPTIMAL, cp_model.FEASIBLE, cp_model.INFEASIBLE)
    return status != cp_model.INFEASIBLE


@pytest.mark.parametrize("case", list(CASES))
def test_the_rows_the_duals_imply_keep_the_plans_that_reach_the_target(case: str) -> None:
    lin, optimum, x_best, everything = _solved(case)
    used = x_best > 0
    for name, c in stage_objectives(lin):
        z = optimum_at(name, optimum)
        # converged duals, and those of one round from each unit's cheapest column
        for start, rounds in ((None, 8), (lin.cheapest(1) | used, 1)):
            proof = lp_proof(lin, c, everything, z, 10, Pricing(start, rounds))
            assert proof is not None
            model = PlacementModel(lin)
            model.model.maximize(model.expression(c))
            for target in (z - 1, z):
                assert _holds(model, model.at_least(c, target, proof), x_best), (name, target)
            beyond = model.at_least(c, z + 1, proof)
            status = configured_solver(SolveOptions(time_limit=20), 20).solve(beyond)
            assert status == cp_model.INFEASIBLE, (name, rounds)
        _keep(lin, c, z)


@pytest.mark.parametrize("case", list(CASES))
def test_cpsat_from_the_bound_down_finds_the_optimum_and_proves_it(case: str) -> None:
    lin, optimum, x_best, everything = _solved(case)
    x_pack = lin.to_columns(packing_allocation(*instance(case)))
    for name, c in stage_objectives(lin):
        z = optimum_at(name, optimum)
        search = _Lexicographic(lin, SolveOptions(time_limit=60), None)
        search.proof = lp_proof(lin, c, everything, z, 10, Pricing())
        proven = search._cpsat(everything, c, x_best, 20)
        assert proven is not None and proven.optimal and proven.bound == z, name
        assert (proven.x == x_best).all(), name
        if int(c @ x_pack) < z:
            found = search._cpsat(everything, c, x_pack, 20)
            assert found is not None and int(c @ found.x) == z and found.optimal, name
            assert lin.satisfies(found.x), name
        _keep(lin, c, z)


def test_a_stage_with_too_many_columns_is_searched_whole_from_its_bound() -> None:
    # With a column limit far under the stages' columns, the stages CP-SAT starts at their
    # bound (within target_steps of the incumbent) still get every column a better plan may
    # use, and prove what they find; with the search from the bound off (target_steps < 0:
    # never within), the same stages say there were too many columns.
    case = "60x150-seed1"  # priority 2 and the cost: CP-SAT proves them (measured)
    ctx, units = instance(case)
    optimum, _ = reference(case)
    start = packing_allocation(ctx, units)
    decided = {}
    for steps in (3, -1):
        options = SolveOptions(time_limit=30, cpsat_max_columns=10, target_steps=steps)
        result = solve_lexicographic(LinearModel(ctx, units), options, start)
        decided[steps] = {r.stage.name: r.decided for r in result.stages}
        if steps == 3:
            assert result.proven_optimal, result.stages
            assert values(LinearModel(ctx, units), result.allocation) == optimum
    whole = [name for name, d in decided[3].items() if d is Decided.CPSAT_OPTIMAL]
    assert whole, decided
    assert all(decided[-1][name] is Decided.TOO_MANY_COLUMNS for name in whole), decided


def test_a_cpsat_call_without_the_time_to_build_its_model_is_skipped() -> None:
    ctx, units = instance("60x150-seed1")
    lin = LinearModel(ctx, units)
    c = lin.persons_at(1)
    search = _Lexicographic(lin, SolveOptions(time_limit=10), None)
    everything = np.ones(lin.n_columns, dtype=bool)
    build = search.options.cpsat_seconds_per_column * lin.n_columns
    started = time.monotonic()
    assert search._cpsat(everything, c, np.zeros(lin.n_columns, dtype=np.int64), build) is None
    assert time.monotonic() - started < 0.05
    found = search._cpsat(everything, c, np.zeros(lin.n_columns, dtype=np.int64), 10)
    assert found is not None and found.optimal
