"""Solve a scenario end to end, in this process: units, first plan, flow bound, LP and CP-SAT
stages, explanations.

Callers that must be able to stop a solve (the command line, the service) go through
:func:`solver.process.solve`, which runs :func:`plan_assignment` and :func:`finish_plan` in a
child process; :func:`solve_scenario` is the same in this process (tests, benchmarks).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from itertools import accumulate

import numpy as np

from placement.context import Context, persons_by_priority
from placement.explain import Explainer, Verification
from placement.models import PRIORITIES, Scenario
from placement.plan import Plan, Unplaced
from placement.report import Solved, build_plan
from solver.allocation import Allocation, to_assignment
from solver.cost_flow import SECONDS_PER_PAIR as cost_flow_seconds_per_pair
from solver.cost_flow import CheapestFlow, cheapest_flow
from solver.cpsat import Heuristics, LexResult, StageResult, solve_lexicographic
from solver.flow_bound import flow_bound
from solver.greedy import greedy_allocation
from solver.linear import LinearModel
from solver.lns import LnsLimits, cost_moves, lns_moves
from solver.options import EngineOptions
from solver.packing import augment, cheaper_moves, packing_allocation
from solver.progress import (
    CHEAPER_STAGE,
    FLOW_NOTE,
    MAKE_ROOM_STAGE,
    NEIGHBOURHOODS_STAGE,
    NO_MODEL_NOTE,
    REQUESTED_NOTE,
    STAGE_NOTE,
    UNBOUNDED_STAGE_NOTE,
    Bound,
    Progress,
    ProgressEvent,
    Start,
    note,
)
from solver.relaxations import feasibility_check
from solver.units import Units, build_units

log = logging.getLogger(__name__)


class _Reporter:
    """Turns the engine's steps into :class:`ProgressEvent` (with the bound once known)."""

    def __init__(self, ctx: Context, progress: Progress | None) -> None:
        self.ctx = ctx
        self.progress = progress
        self.bound: Bound | None = None

    def __call__(self, stage: str, assignment: dict[str, str], proven: bool = False) -> None:
        if self.progress is not None:
            self.progress(ProgressEvent.of(self.ctx, stage, assignment, proven, self.bound))


def plan_assignment(
    ctx: Context,
    options: EngineOptions,
    progress: Progress | None = None,
    start: Start | None = None,
) -> Solved:
    """Who goes where, and what is proven about it (:class:`Solved`).

    ``options.solve.time_limit`` covers everything here, model building included: CP-SAT
    gets what is left of it. ``start``: the units and first plan of ``ctx`` when the caller
    has already built (and reported) them, see :func:`solver.process.solve`; else they are
    built and reported here. The greedy baseline uses its units only.
    """
    started = time.perf_counter()
    deadline = time.monotonic() + options.solve.time_limit
    if options.solver == "greedy":
        units = build_units(ctx) if start is None else start.units
        assignment = to_assignment(units, greedy_allocation(ctx, units))
        return Solved(assignment, "feasible", time.perf_counter() - started)
    if start is None:
        start = Start.build(ctx, progress)
    report = _Reporter(ctx, progress)
    placed = accumulate(_lexicographic(ctx, start.units, start.seed))
    reached = dict(zip(PRIORITIES, placed, strict=True))
    relaxation = flow_bound(ctx, start.units, deadline, reached)
    report.bound = flow = relaxation.cumulative
    flow_note = FLOW_NOTE if relaxation.built else REQUESTED_NOTE
    report(note(flow_note, bounds="/".join(str(flow[p]) for p in PRIORITIES)), {})
    pairs = start.units.pair_count()
    building = pairs * options.solve.model_seconds_per_pair
    if building > (deadline - time.monotonic()) / 2:
        log.warning("%d admissible pairs: plan from the packing heuristic only", pairs)
        report(note(NO_MODEL_NOTE, pairs=pairs), {})
        best = _heuristic_only(start, options, deadline, report)
        return _solved(start, best, None, flow, started)
    # the cheapest flows (the cost stage's LP starts from one, the plan's cost bound is one's):
    # their time is kept from the stages
    cost_flow = pairs * cost_flow_seconds_per_pair
    keep = cost_flow if cost_flow <= options.solve.cost_flow_share * options.solve.time_limit else 0
    flows = _CheapestFlows(start) if keep else None
    best, result = _lexicographic_solve(start, options, deadline - keep, report, flows)
    return _solved(start, best, result, flow, started, flows)


class _CheapestFlows:
    """The cheapest flows of :mod:`solver.cost_flow` in one solve, the last one kept: the
    cost stage's LP starts from its pairs, and the plan's cost bound is its bound (for the
    same persons per level, not computed again)."""

    def __init__(self, start: Start) -> None:
        self.start = start
        self.last: tuple[dict[int, int], CheapestFlow | None] | None = None

    def __call__(self, placed: tuple[int, ...]) -> CheapestFlow | None:
        """The cheapest flow placing at least ``placed`` (persons at priority 5, ..., 1)."""
        reached = dict(zip(PRIORITIES, accumulate(placed), strict=True))
        if self.last is None or self.last[0] != reached:
            self.last = (reached, cheapest_flow(self.start.ctx, self.start.units, reached))
        return self.last[1]

    def start_columns(self, model: LinearModel, alloc: Allocation) -> np.ndarray | None:
        """The columns of the cheapest flow placing as many per level as ``alloc``."""
        found = self(_lexicographic(self.start.ctx, self.start.units, alloc))
        return None if found is None else model.columns_at(found.units, found.shelters)

    def bound(self, placed: tuple[int, ...], lower: int | None) -> int | None:
        """The higher of ``lower`` and the cheapest flow's bound on the cost of the plans
        placing at least ``placed`` (persons at priority 5, ..., 1) at each level. Computed
        even when the stages ran past the deadline its time was kept from: they may end a
        little after their own (at 1,000 x 3,000, T = 10, 0.15-0.37 s), which skipped the
        bound in some runs, and its own time is bounded (``cost_flow_share``); the command's
        reserve for the output and its stop at the time limit keep that limit."""
        found = self(placed)
        return lower if found is None else max(found.lower, lower or 0)


def _solved(
    start: Start,
    best: Allocation,
    result: LexResult | None,
    flow: Bound,
    started: float,
    flows: _CheapestFlows | None = None,
) -> Solved:
    """The plan with what is proven: the best bounds, the levels proven, and a lower bound
    on the secondary cost of every plan placing at least as many persons at each level (with
    every level proven: of the lexicographically best plans): the cost stage's, or the
    min-cost flow's of :mod:`solver.cost_flow` (with the solve's ``flows``), whichever is
    higher."""
    ctx, units = start.ctx, start.units
    bound = flow if result is None else result.bounds(flow)
    placed = _lexicographic(ctx, units, best)  # persons at priority 5, 4, ..., 1
    per_level = dict(zip(PRIORITIES, placed, strict=True))
    proven = _at_bound(placed, bound)
    optimal = result is not None and result.proven_optimal
    lower = None if result is None else result.cost_lower_bound_for(per_level)
    if flows is not None and not optimal:
        lower = flows.bound(placed, lower)
    return Solved(
        to_assignment(units, best),
        "optimal" if optimal else "feasible",
        time.perf_counter() - started,
        bound,
        tuple(proven),
        lower,
    )


def _heuristic_only(
    start: Start, options: EngineOptions, deadline: float, report: _Reporter
) -> Allocation:
    """The plan of the packing heuristic and its moves, then CP-SAT on neighbourhoods of
    the unplaced (:mod:`solver.lns`, a share of the time left), then moves to cheaper places;
    no LP or CP-SAT on the whole.

    With the flow bound to say how far it can be from the best (README, "Performance").
    """
    better = _neighbourhoods(start, options, deadline, report, LnsLimits().share)
    best = cheaper_moves(start.ctx, start.units, better, deadline=deadline)
    report(CHEAPER_STAGE, to_assignment(start.units, best))
    return best


def _at_bound(placed: tuple[int, ...], bound: Bound) -> list[int]:
    """The levels, from 5 down, at which persons ``placed`` (at priority 5, 4, ..., 1)
    reach ``bound`` (persons at priority >= p), every level above included."""
    proven: list[int] = []
    reached = 0
    for p, persons in zip(PRIORITIES, placed, strict=True):
        reached += persons
        if reached < bound[p]:
            break
        proven.append(p)
    return proven


def _under_bound(start: Start, bound: Bound | None) -> bool:
    """Whether the first plan places fewer persons than the flow bound at some level."""
    if bound is None:
        return True
    placed = _lexicographic(start.ctx, start.units, start.seed)
    return len(_at_bound(placed, bound)) < len(PRIORITIES)


def _neighbourhoods(
    start: Start, options: EngineOptions, deadline: float, report: _Reporter, share: float
) -> Allocation:
    """The first plan improved by the moves that make room, then by CP-SAT on
    neighbourhoods of the unplaced (:mod:`solver.lns`) for ``share`` of the time left: the
    heuristic path's plan before its moves to cheaper places, and the exact path's start
    where its model is too large for CP-SAT's searches to improve a level much (see
    :attr:`SolveOptions.neighbourhoods_first_above`)."""
    ctx, units = start.ctx, start.units
    better = augment(ctx, units, start.seed, deadline=deadline)
    report(MAKE_ROOM_STAGE, to_assignment(units, better))
    until = time.monotonic() + share * (deadline - time.monotonic())
    better = lns_moves(ctx, units, better, until, options.solve)
    report(NEIGHBOURHOODS_STAGE, to_assignment(units, better))
    return better


def _lexicographic_solve(
    start: Start,
    options: EngineOptions,
    deadline: float,
    report: _Reporter,
    flows: _CheapestFlows | None = None,
) -> tuple[Allocation, LexResult | None]:
    """The LP and CP-SAT stages from the first plan; never less than the first plan. With
    ``flows``, the cost stage's LP starts from the cheapest flow's pairs too."""
    ctx, units, seed = start.ctx, start.units, start.seed
    model = LinearModel(ctx, units)

    def on_stage(stage: str, alloc: Allocation, proven: bool) -> None:
        report(stage, to_assignment(units, alloc), proven)

    left = deadline - time.monotonic()
    if left <= 0:
        log.warning("time limit spent building the model: returning the first plan")
        return seed, None
    if model.n_columns > options.solve.neighbourhoods_first_above and _under_bound(
        start, report.bound
    ):
        share = options.solve.neighbourhoods_first_share
        seed = _neighbourhoods(start, options, deadline, report, share)
        left = deadline - time.monotonic()
    result = solve_lexicographic(
        model,
        replace(options.solve, time_limit=left),
        seed,
        on_stage,
        Heuristics(
            complete=lambda alloc: packing_allocation(ctx, units, alloc),
            improve=lambda alloc, until, enough: lns_moves(
                ctx, units, alloc, until, options.solve, LnsLimits(enough=enough)
            ),
            cost_start=None if flows is None else partial(flows.start_columns, model),
            cheapen=lambda alloc, until, guide: cost_moves(
                ctx, units, alloc, until, options.solve, guide
            ),
        ),
        report.bound,
    )
    for r in result.stages:
        report(stage_note(r), {})
    best = result.allocation
    if result.proven_optimal:
        return best, result
    # Each stage's plan is filled for the levels below it (solver.cpsat._Passes, past the
    # deadline too); fill what room is left while time allows (2 s at 10,000 x 20,000, the
    # reasons' time), never return less than the first plan.
    if time.monotonic() < deadline:
        best = packing_allocation(ctx, units, fixed=best)
    best = max(best, seed, key=lambda alloc: _lexicographic(ctx, units, alloc))
    if time.monotonic() < deadline:  # same people, cheaper places, while time is left
        best = cheaper_moves(ctx, units, best, deadline=deadline)
    return best, result


def stage_note(r: StageResult) -> str:
    """``priority_2: 294 (bound 294), the LP bound proves the incumbent, 1.20 s``"""
    params = {"stage": r.stage.name, "value": r.value, "decided": r.decided.value}
    seconds = f"{r.seconds:.2f}"
    if r.bound is None:
        return note(UNBOUNDED_STAGE_NOTE, seconds=seconds, **params)
    return note(STAGE_NOTE, bound=r.stage.shown(r.bound), seconds=seconds, **params)


def _lexicographic(ctx: Context, units: Units, allocation: Allocation) -> tuple[int, ...]:
    """Persons placed at priority 5, 4, ..., 1, to compare plans lexicographically."""
    return tuple(persons_by_priority(ctx, list(to_assignment(units, allocation))).values())


def solve_scenario(
    scenario: Scenario,
    options: EngineOptions = EngineOptions(),
    progress: Progress | None = None,
) -> Plan:
    """Plan a scenario: place as many people as possible, most urgent first; explain the rest."""
    started = time.perf_counter()
    ctx = Context(scenario)
    solved = plan_assignment(ctx, options, progress)
    solved = replace(solved, seconds=time.perf_counter() - started)
    return finish_plan(ctx, solved, options)


def finish_plan(
    ctx: Context,
    solved: Solved,
    options: EngineOptions,
    explain: bool | None = None,
    until: float | None = None,
    earlier: Sequence[Unplaced] = (),
) -> Plan:
    """Explain the unplaced and build the plan. ``explain=False``: reasons only, no
    re-solves (default: ``options.explain``); ``until``: the ``time.monotonic()`` after which
    the people not yet explained keep their ``earlier`` reasons (the same plan's, without
    relaxations), else are only told that the time limit came first."""
    verification = None
    if options.explain if explain is None else explain:
        check = feasibility_check(replace(options.solve, time_limit=options.relaxation_time_limit))
        verification = Verification(check, time_budget=options.explain_time_budget)
    unplaced = Explainer(
        ctx, solved.assignment, verification, proven=solved.status == "optimal"
    ).explain_all(until, earlier)
    return build_plan(ctx, solved, options.solver, unplaced)
