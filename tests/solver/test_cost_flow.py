"""The min-cost flow's bound on the secondary cost is a true lower bound on the proven
cheapest plans, exact where nothing it relaxes binds, holds the plan's persons per level, and
reaches the plan of a solve whose cost stage has no bound of its own."""

from __future__ import annotations

from itertools import accumulate

import pytest

from placement.context import Context
from placement.costs import placement_cost
from placement.generate import generate_scenario
from placement.models import PRIORITIES, Scenario
from placement.plan import Plan
from solver.cost_flow import cheapest_flow
from solver.engine import solve_scenario
from solver.options import EngineOptions, SolveOptions
from solver.units import build_units
from tests.builders import arrival, scenario, shelter, solve


def at_or_above(plan: Plan) -> dict[int, int]:
    """The plan's persons at priority >= p, for each p."""
    per_level = [plan.placed_persons_by_priority[str(p)] for p in PRIORITIES]
    return dict(zip(PRIORITIES, accumulate(per_level), strict=True))


def bound_of(sc: Scenario, reached: dict[int, int]) -> int | None:
    ctx = Context(sc)
    flow = cheapest_flow(ctx, build_units(ctx), reached)
    return None if flow is None else flow.lower


@pytest.mark.parametrize(
    ("family", "seed"), [("standard", 1), ("standard", 4), ("hard", 1), ("hard", 2)]
)
@pytest.mark.slow
def test_no_plan_is_cheaper_than_the_bound(family: str, seed: int):
    # Solved to the proven optimum, the secondary cost included: the cheapest plan placing
    # as many persons per level costs at least the bound, and the bound says something.
    sc = generate_scenario(120, 300, seed=seed, family=family)
    plan = solve_scenario(sc, EngineOptions(solve=SolveOptions(time_limit=30), explain=False))
    assert plan.status == "optimal"
    bound = bound_of(sc, at_or_above(plan))
    assert bound is not None and 0 < bound <= plan.secondary_cost


def test_exact_when_nothing_it_relaxes_binds():
    # Same stay, no children, no household, no keep-apart: a transportation problem, whose
    # cheapest flow is the cheapest plan. Both speak English; only S1's staff does.
    sc = scenario(
        [shelter("S1", languages=["en"]), shelter("S2", languages=["fr"])],
        [arrival("A", priority=5), arrival("B", priority=1)],
    )
    plan = solve(sc, explain=False)
    assert len(plan.placements) == 2
    assert bound_of(sc, at_or_above(plan)) == plan.secondary_cost > 0


def test_the_persons_required_at_each_level_are_placed_however_dear():
    # One place; A (priority 5) needs an interpreter there, B (priority 1) does not.
    sc = scenario(
        [shelter("S1", languages=["en"])],
        [arrival("A", priority=5, languages=["ro"]), arrival("B", priority=1)],
    )
    ctx = Context(sc)
    a_cost = placement_cost(ctx, ctx.arrivals["A"], ctx.shelters["S1"]).total
    b_cost = placement_cost(ctx, ctx.arrivals["B"], ctx.shelters["S1"]).total
    assert a_cost > b_cost
    # A placed (one person at priority >= 5): A's cost; anyone placed: the cheaper, B's
    assert bound_of(sc, dict.fromkeys(PRIORITIES, 1)) == a_cost
    assert bound_of(sc, {5: 0, 4: 0, 3: 0, 2: 0, 1: 1}) == b_cost
    assert bound_of(sc, dict.fromkeys(PRIORITIES, 0)) == 0
    assert bound_of(sc, {5: 0, 4: 0, 3: 0, 2: 0, 1: 2}) is None  # two persons, one place


@pytest.mark.slow
def test_a_solve_without_a_converged_cost_lp_still_bounds_its_cost():
    # 1,000 x 3,000 standard, 6 s: the cost stage's LP does not converge in what the levels
    # leave it; the plan's cost is bounded by the flow, at least, and never above its cost.
    sc = generate_scenario(1000, 3000, seed=1)
    plan = solve_scenario(sc, EngineOptions(solve=SolveOptions(time_limit=6), explain=False))
    flow = bound_of(sc, at_or_above(plan))
    assert flow is not None
    assert plan.secondary_cost_lower_bound is not None
    assert flow <= plan.secondary_cost_lower_bound <= plan.secondary_cost


@pytest.mark.slow
def test_the_cost_stage_can_start_from_the_cheapest_flows_pairs():
    # The pairs the cheapest flow sends persons over are columns of the linear model, found
    # by (unit, shelter): the cost stage's LP starts from them (solver.cpsat.Heuristics).
    from solver.linear import LinearModel

    sc = generate_scenario(120, 300, seed=2, family="hard")
    plan = solve_scenario(sc, EngineOptions(solve=SolveOptions(time_limit=30), explain=False))
    ctx = Context(sc)
    units = build_units(ctx)
    flow = cheapest_flow(ctx, units, at_or_above(plan))
    assert flow is not None and len(flow.units) > 0
    model = LinearModel(ctx, units)
    columns = model.columns_at(flow.units, flow.shelters)
    pairs = model.col_unit[columns].tolist(), model.col_shelter[columns].tolist()
    assert set(zip(*pairs, strict=True)) == set(
        zip(flow.units.tolist(), flow.shelters.tolist(), strict=True)
    )
    assert flow.lower == bound_of(sc, at_or_above(plan))
