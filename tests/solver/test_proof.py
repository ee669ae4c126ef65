"""What a plan says is proven: the levels proven optimal, the best proven bound per level and
the secondary cost's lower bound, checked by hand and against an independent CP-SAT optimum;
the stage passes that go back to a stage not proven."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest
from ortools.sat.python import cp_model

from placement.context import Context
from placement.generate import generate_scenario
from placement.validation import validate_plan
from solver.allocation import Allocation
from solver.cpsat import (
    CostBound,
    Decided,
    Heuristics,
    LexResult,
    PlacementModel,
    Stage,
    StageResult,
    _Passes,
    _Step,
    configured_solver,
    is_feasible,
    solve_lexicographic,
)
from solver.engine import solve_scenario
from solver.flow_bound import flow_bound
from solver.linear import INF, LinearModel
from solver.lp import Pricing, lp_proof
from solver.options import EngineOptions, SolveOptions
from solver.packing import packing_allocation
from solver.units import build_units
from tests.solver.test_lp_stages import CASES, LEVELS, instance, reference


def _result(*stages: tuple[int | None, int, Decided, int | None]) -> LexResult:
    return LexResult(
        allocation={},
        proven_optimal=False,
        stages=[StageResult(Stage(p), v, d, "", b) for p, v, d, b in stages],
        levels=tuple(p for p, *_ in stages if p is not None),
    )


def test_a_level_is_proven_only_when_every_level_above_is():
    # level 5 proven (2 of at most 2), level 4 not (1, bound 3), level 3 proven by the LP:
    # level 3 is not proven, as a better level 4 could leave it fewer places
    result = _result(
        (5, 2, Decided.FLOW_BOUND, 2),
        (4, 1, Decided.CPSAT_FEASIBLE, 3),
        (3, 4, Decided.LP_BOUND, 4),
        (None, 100, Decided.CPSAT_OPTIMAL, -100),
    )
    assert result.proven_levels() == [5]
    flow = {5: 9, 4: 9, 3: 9, 2: 9, 1: 9}
    # ≥5: the stage's 2; ≥4: 2 placed at 5 (proven) + level 4's bound 3; below: the flow's
    assert result.bounds(flow) == {5: 2, 4: 5, 3: 9, 2: 9, 1: 9}
    assert result.cost_lower_bound is None  # the levels are not all proven
    # but the cost stage's bound holds for every plan placing at least as many per level
    placed = {5: 2, 4: 1, 3: 4, 2: 0, 1: 0}
    assert result.cost_lower_bound_for(placed) == 100
    assert result.cost_lower_bound_for({**placed, 4: 2}) == 100  # more at level 4: still
    assert result.cost_lower_bound_for({**placed, 3: 3}) is None  # fewer at level 3: not


def test_no_cost_bound_when_the_cost_stage_proved_only_that_costs_are_not_negative():
    # the cost stage had no time for its LP: its bound is the trivial 0, against a cost of 80
    result = _result((5, 2, Decided.FLOW_BOUND, 2), (None, 80, Decided.NOTHING_FOUND, 0))
    assert result.cost_lower_bound_for({5: 2}) is None


def test_no_cost_bound_without_the_cost_stage():
    # the time ran out after level 4: no stage bounds the cost
    result = _result((5, 2, Decided.FLOW_BOUND, 2), (4, 1, Decided.CPSAT_FEASIBLE, 3))
    assert result.cost_lower_bound_for({5: 2, 4: 1}) is None


def test_an_earlier_pass_cost_bound_is_kept_when_the_last_pass_ends_before_the_cost():
    # pass 1 proved cost >= 90 for plans placing >= 2 at 5 and >= 1 at 4, and cost >= 60
    # with >= 0 at 4; pass 2 raised level 4 to 2 and ran out of time before the cost stage
    result = replace(
        _result((5, 2, Decided.FLOW_BOUND, 2), (4, 2, Decided.CPSAT_FEASIBLE, 3)),
        earlier_cost_bounds=(CostBound({5: 2, 4: 1}, 90, 120), CostBound({5: 2, 4: 0}, 60, 130)),
    )
    assert result.cost_lower_bound_for({5: 2, 4: 2}) == 90  # the best that holds
    assert result.cost_lower_bound_for({5: 2, 4: 0}) == 60  # only the second holds
    assert result.cost_lower_bound_for({5: 1, 4: 2}) is None  # fewer at 5: neither
    # a trivial bound (0) under a plan that costs more says nothing
    zero = replace(result, earlier_cost_bounds=(CostBound({5: 2}, 0, 50),))
    assert zero.cost_lower_bound_for({5: 2, 4: 2}) is None


def test_levels_without_persons_are_proven_once_the_levels_above_are():
    # only levels 4 and 2 have persons; the cost stage proven with bound -70 (cost >= 70)
    result = _result(
        (4, 3, Decided.LP_BOUND, 3),
        (2, 1, Decided.CPSAT_OPTIMAL, 1),
        (None, 80, Decided.CPSAT_FEASIBLE, -70),
    )
    assert result.proven_levels() == [5, 4, 3, 2, 1]
    assert result.bounds({5: 1, 4: 5, 3: 5, 2: 9, 1: 9}) == {5: 0, 4: 3, 3: 3, 2: 4, 1: 4}
    assert result.cost_lower_bound == 70


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("seconds", [0.3, 20.0])
def test_what_is_proven_holds_against_the_optimum(case: str, seconds: float) -> None:
    # Whatever the time limit leaves proven, it must be true of the lexicographic optimum
    # that plain CP-SAT finds stage by stage (test_lp_stages.reference).
    ctx, units = instance(case)
    optimum, _ = reference(case)
    flow = flow_bound(ctx, units).cumulative
    result = solve_lexicographic(
        LinearModel(ctx, units),
        SolveOptions(time_limit=seconds),
        packing_allocation(ctx, units),
        heuristics=Heuristics(lambda alloc: packing_allocation(ctx, units, alloc)),
        bound=flow,
    )
    placed = {r.stage.priority: r.value for r in result.stages}
    best = {p: sum(optimum[: LEVELS.index(p) + 1]) for p in LEVELS}  # optimum at >= p
    for p, bound in result.bounds(flow).items():
        assert bound >= best[p], (p, bound, best[p])
    for p in result.proven_levels():
        assert placed.get(p, 0) == optimum[LEVELS.index(p)], p
    if result.cost_lower_bound is not None:
        assert result.cost_lower_bound <= optimum[-1]
    # the cost bound given the plan's persons per level holds for the plan itself
    lin = LinearModel(ctx, units)
    x = lin.to_columns(result.allocation)
    per_level = {p: int(lin.persons_at(p) @ x) for p in LEVELS}
    low = result.cost_lower_bound_for(per_level)
    if low is not None:
        assert low <= int(lin.col_cost @ x), (low, int(lin.col_cost @ x))
    if seconds == 20.0:  # time enough: everything proven, the bounds reached
        assert result.proven_levels() == list(LEVELS)
        assert result.bounds(flow) == best
        assert result.cost_lower_bound == optimum[-1]


@pytest.mark.parametrize("case", ["80x200-seed2-short", "80x250-seed6-scarce"])
def test_a_level_left_undecided_is_bounded_by_the_flow_less_the_levels_above(case: str) -> None:
    # Without the LP and with no CP-SAT (a column limit of 0), nothing bounds a level but
    # the flow bound: the persons at >= p of every plan, less those the rows keep above p.
    # The sum of every column at its upper bound (thousands here) is no bound to show.
    ctx, units = instance(case)
    flow = flow_bound(ctx, units).cumulative
    result = solve_lexicographic(
        LinearModel(ctx, units),
        SolveOptions(time_limit=20, lp_fixing=False, cpsat_max_columns=0),
        packing_allocation(ctx, units),
        bound=flow,
    )
    above, undecided = 0, 0
    for r in result.stages:
        if r.stage.priority is None:
            continue
        assert r.bound == flow[r.stage.priority] - above, (r.stage.name, r.bound)
        undecided += r.decided is Decided.TOO_MANY_COLUMNS
        above += r.value
    assert undecided  # some level was left to the flow bound


def test_plan_carries_proven_levels_bounds_and_cost_bound():
    sc = generate_scenario(60, 150, seed=1)
    options = EngineOptions(solve=SolveOptions(time_limit=20), explain=False)
    plan = solve_scenario(sc, options)
    assert validate_plan(sc, plan) == []
    assert plan.status == "optimal"
    assert plan.proven_levels == [5, 4, 3, 2, 1]
    assert plan.secondary_cost_lower_bound == plan.secondary_cost
    bound = plan.upper_bound_persons_at_or_above
    assert bound is not None
    placed = 0
    for p in "54321":  # proven: the best bound is what the plan places
        placed += plan.placed_persons_by_priority[p]
        assert bound[p] == placed


def test_rows_dropped_for_a_second_pass_leave_the_first_ones():
    ctx, units = instance("60x150-seed1")
    lin = LinearModel(ctx, units)
    rows = len(lin.row_lo)
    before = lin.matrix()[0].copy()
    lin.add_row(np.array([0, 1]), np.array([1, 1]), 1, INF, "stage")
    assert lin.matrix()[0].shape[0] == rows + 1
    lin.truncate_rows(rows)
    after, lo, hi = lin.matrix()
    assert after.shape == before.shape and (after != before).nnz == 0
    assert len(lo) == len(hi) == len(lin.row_kind) == rows


@pytest.mark.parametrize("case", ["80x200-seed2-short", "70x180-seed7-cap2"])
def test_highs_and_glop_give_the_same_lp_bound(case: str) -> None:
    ctx, units = instance(case)
    lin = LinearModel(ctx, units)
    x = lin.to_columns(packing_allocation(ctx, units))
    for c in (lin.persons_at(1) + lin.persons_at(2), -lin.col_cost):
        active = np.ones(lin.n_columns, dtype=bool)
        proofs = [
            lp_proof(lin, c, active, int(c @ x), 20, Pricing(max_rounds=30, backend=backend))
            for backend in ("glop", "highs")
        ]
        assert all(p is not None for p in proofs)
        glop, highs = (p.bound for p in proofs if p is not None)
        assert glop == pytest.approx(highs, rel=1e-6, abs=1e-6)
        assert glop >= int(c @ x) - 1e-6


@pytest.mark.parametrize("case", ["80x200-seed2-short", "70x180-seed7-cap2"])
def test_warm_highs_prices_columns_in_and_reaches_the_lp_optimum(case: str) -> None:
    # warm HiGHS adds the columns each round prices in to the LP it has solved: from each
    # unit's cheapest column and the incumbent's, it must reach the bound of the LP over
    # every column at once
    ctx, units = instance(case)
    lin = LinearModel(ctx, units)
    x = lin.to_columns(packing_allocation(ctx, units))
    start = lin.cheapest(1) | (x > 0)
    active = np.ones(lin.n_columns, dtype=bool)
    levels = lin.persons_at(1) + lin.persons_at(2)
    for c in (levels, -lin.col_cost):  # the cost with the levels' persons kept as a row
        whole = lp_proof(lin, c, active, int(c @ x), 20, Pricing(max_rounds=30))
        warm = lp_proof(lin, c, active, int(c @ x), 20, Pricing(start, 30, "highs-warm"))
        assert whole is not None and warm is not None
        assert warm.columns.sum() > start.sum()  # columns were priced in
        assert warm.bound == pytest.approx(whole.bound, rel=1e-6, abs=1e-6)
        lin.add_row(np.flatnonzero(levels), levels[levels > 0], int(levels @ x), INF, "stage")


@pytest.mark.parametrize(("size", "family"), [((60, 150), "hard"), ((100, 300), "standard")])
def test_cuts_tighten_the_cost_bound_and_keep_it_valid(size: tuple[int, int], family: str) -> None:
    # the cost stage's LP (warm HiGHS) with the clique cuts its solutions violate (hard:
    # households of two in shelters of two places; standard: mothers with children): a
    # higher lower bound on the cost than the LP alone, never above the best plan's cost
    ctx = Context(generate_scenario(*size, seed=1, family=family))
    units = build_units(ctx)
    lin = LinearModel(ctx, units)
    x = lin.to_columns(packing_allocation(ctx, units))
    for p in (5, 4, 3, 2, 1):  # plans placing at least the packing plan's persons per level
        c = lin.persons_at(p)
        cols = np.flatnonzero(c)
        lin.add_row(cols, c[cols], int(c @ x), INF, "stage")
    c = -lin.col_cost
    active = np.ones(lin.n_columns, dtype=bool)
    model = PlacementModel(lin)  # the cheapest plan under these rows, before any cut
    model.model.maximize(model.expression(c))
    solver = configured_solver(SolveOptions(time_limit=20), 20)
    assert solver.solve(model.model) == cp_model.OPTIMAL
    plain = lp_proof(lin, c, active, int(c @ x), 20, Pricing(max_rounds=30))
    rows = len(lin.row_lo)
    start = lin.cheapest(1) | (x > 0)
    cut = lp_proof(lin, c, active, int(c @ x), 20, Pricing(start, 30, "highs-warm", 200, 10))
    assert plain is not None and cut is not None
    assert "clique" in lin.row_kind[rows:]  # cuts were added
    assert plain.bound > cut.bound >= solver.objective_value - 1e-6


def test_a_row_left_without_columns_still_binds():
    # regression: the CP-SAT model built from the sparse rows once skipped rows with no kept
    # column, so "place this unit" with none of its shelters kept was feasible
    ctx, units = instance("60x150-seed1")
    ui = next(u.index for u in units.units if len(u.shelter_index))
    lin = LinearModel(ctx, units, must_place={ui: 1})
    model = PlacementModel(lin, active=np.zeros(lin.n_columns, dtype=bool))
    assert is_feasible(model, SolveOptions(time_limit=5)) is False
    assert is_feasible(PlacementModel(lin), SolveOptions(time_limit=5)) is True


class _Scripted:
    """Stands for the stages' search: every level proven but the last, which a first pass
    leaves one under its bound; the cost stage proves the plan's cost; the second pass
    (back at the last level) uses up the time before the cost stage."""

    def __init__(self, lin: LinearModel, last: int) -> None:
        self.lin, self.last = lin, last
        self.deadline = time.monotonic() + 60
        self.active = np.ones(lin.n_columns, dtype=bool)
        self.on_stage = None
        self.pricing_rounds = 0
        self.lp_too_slow = False  # every stage goes through stage()
        self.seen: list[int | None] = []

    def stage(
        self, stage: Stage, c: np.ndarray, relevant: np.ndarray, x: np.ndarray, *_: int | None
    ):
        self.seen.append(stage.priority)
        z = int(c @ x)
        if stage.priority is None:
            return _Step(x, z, Decided.LP_BOUND, "", z)  # -cost >= ... : cost proven
        if stage.priority != self.last:
            return _Step(x, z, Decided.LP_BOUND, "", z)
        if self.seen.count(self.last) == 2:
            self.deadline = time.monotonic() - 1  # the second pass: no time after this level
        return _Step(x, z, Decided.CPSAT_FEASIBLE, "", z + 1)


def test_a_pass_ending_before_the_cost_stage_keeps_the_earlier_pass_cost_bound() -> None:
    ctx, units = instance("60x150-seed1")
    lin = LinearModel(ctx, units)
    start = packing_allocation(ctx, units)
    levels = [p for p in LEVELS if lin.persons_at(p).any()]
    search = _Scripted(lin, levels[-1])
    passes = _Passes(lin, search, None, None)  # type: ignore[arg-type]
    passes.run(start)
    result = passes.result()
    assert search.seen == [*levels, None, levels[-1]]  # the second pass stopped at the level
    assert result.stages[-1].stage.priority == levels[-1]  # its stages: no cost stage
    x = lin.to_columns(start)
    per_level = {p: int(lin.persons_at(p) @ x) for p in LEVELS}
    assert result.cost_lower_bound_for(per_level) == int(lin.col_cost @ x)
    assert result.cost_lower_bound_for({**per_level, levels[0]: 0}) is None


class _Late(_Scripted):
    """The first level's stage ends past the deadline with a plan of its own level only
    (its model leaves the units below out), one copy moved: what the levels below keep
    depends on the filling after it."""

    def stage(
        self, stage: Stage, c: np.ndarray, relevant: np.ndarray, x: np.ndarray, *_: int | None
    ):
        self.seen.append(stage.priority)
        self.deadline = time.monotonic() - 1
        moved = x.copy()
        moved[int(np.flatnonzero(moved > 0)[0])] -= 1  # one copy out: the stage moved someone
        return _Step(moved, int(c @ moved), Decided.CPSAT_FEASIBLE, "", None)


def test_a_stage_ending_past_the_deadline_still_has_the_room_it_leaves_filled() -> None:
    # 3,000 x 6,000 hard, T = 10: priority 2's stage ended at the deadline with 6 more
    # persons there, its plan was kept without the levels below (the filling waited for time
    # left), and the plan placed 87 of 413 at priority 1. The filling now runs past the
    # deadline: the plan keeps the levels below.
    ctx, units = instance("60x150-seed1")
    lin = LinearModel(ctx, units)
    start = packing_allocation(ctx, units)
    filled: list[int] = []

    def complete(alloc: Allocation) -> Allocation:
        filled.append(1)
        return packing_allocation(ctx, units, alloc)

    passes = _Passes(lin, _Late(lin, 5), complete, None)  # type: ignore[arg-type]
    passes.run(start)
    result = passes.result()
    assert filled  # filled although the deadline had passed
    x, before = lin.to_columns(result.allocation), lin.to_columns(start)
    assert lin.satisfies(x)
    for p in LEVELS[1:]:  # the levels below the stage: as many as the first plan, give or take
        assert int(lin.persons_at(p) @ x) >= int(lin.persons_at(p) @ before) - 2, p
