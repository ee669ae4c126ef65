"""The CP-SAT model: variables, constraints (one method per plan rule), lexicographic objective.

Decision: ``y[u, s]`` = copies of unit *u* placed in shelter *s*, only for the pairs every
pair rule admits (see :mod:`solver.units`). A household is one copy, so all-or-none holds by
construction. The objective is solved in stages: maximise persons placed at priority 5, fix
that, then 4, ... then minimise the secondary cost. Each stage gets what is left of the time
limit and starts from the previous stage's solution as a hint.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from placement.rules import CapacityRule, Context, NetworkCapRule
from solver.allocation import Allocation
from solver.greedy import id_ranks
from solver.units import Units, places_matrix

log = logging.getLogger(__name__)

PRIORITIES = (5, 4, 3, 2, 1)


@dataclass(frozen=True)
class SolveOptions:
    """Explicit solver settings: every solve has a time limit and a worker count."""

    time_limit: float = 10.0
    workers: int = 1
    seed: int = 0
    # Measured (benchmarks/bench_params.py): on this 2-core machine 1 worker with
    # linearization level 2 closes the bound where the default portfolio of 2 stalls.
    linearization_level: int = 2
    #: solve all priority levels in one weighted stage when the weights fit exactly
    weighted_priorities: bool = True
    #: above this many admissible (unit, shelter) pairs, each unit keeps only its cheapest
    #: shelters (and the greedy one) in the model; the plan is then never called optimal
    max_pairs: int | None = 15_000
    #: above this many decision variables, presolve is kept light (probing off, one pass):
    #: at 1,000 x 3,000 (127k variables) the default presolve used the whole time limit
    light_presolve_above: int = 50_000


@dataclass
class LexResult:
    allocation: Allocation
    proven_optimal: bool
    stages: list[tuple[str, int, str]]  # (stage, value, CP-SAT status)


class PlacementModel:
    """The CP-SAT model of one scenario's units."""

    def __init__(
        self,
        ctx: Context,
        units: Units,
        must_place: dict[int, int] | None = None,
        candidates: dict[int, np.ndarray] | None = None,
    ):
        """``candidates`` restricts each unit to some of its admissible shelters (at scale);
        without it every admissible shelter gets a variable."""
        self.ctx = ctx
        self.units = units
        self.candidates = candidates
        self.model = cp_model.CpModel()
        self.y: dict[tuple[int, str], cp_model.IntVar] = {}
        self.cost: dict[tuple[int, str], int] = {}  # secondary cost per copy of each pair
        self.of_unit: dict[int, list[cp_model.IntVar]] = {}
        self.sids_of: dict[int, list[str]] = defaultdict(list)
        self.by_shelter: dict[str, list[int]] = defaultdict(list)
        self._variables()
        for add_constraints in (self._capacity, self._keep_apart, self._network_cap):
            add_constraints()
        self._must_place(must_place or {})

    # --- variables --------------------------------------------------------------------
    def _variables(self) -> None:
        places = places_matrix(self.ctx)
        ids = [s.id for s in self.ctx.scenario.shelters]
        for unit in self.units.units:
            if self.candidates is None:
                chosen, costs = unit.shelter_index, unit.costs
            else:
                keep = np.isin(unit.shelter_index, self.candidates[unit.index])
                chosen, costs = unit.shelter_index[keep], unit.costs[keep]
            if unit.usage and len(chosen):
                nights = np.fromiter(unit.usage, dtype=np.int64)
                need = np.fromiter(unit.usage.values(), dtype=np.int64)
                fit = (places[np.ix_(chosen, nights)] // np.maximum(need, 1)).min(axis=1)
                bounds = np.minimum(unit.count, fit).tolist()
            else:
                bounds = [unit.count] * len(chosen)
            mine = []
            for si, ub, cost in zip(chosen.tolist(), bounds, costs.tolist(), strict=True):
                if ub <= 0:
                    continue
                sid = ids[si]
                name = f"y_{unit.index}_{sid}"
                var = (
                    self.model.new_bool_var(name)
                    if ub == 1
                    else self.model.new_int_var(0, ub, name)
                )
                self.y[(unit.index, sid)] = var
                self.cost[(unit.index, sid)] = cost
                self.by_shelter[sid].append(unit.index)
                mine.append(var)
                self.sids_of[unit.index].append(sid)
            self.of_unit[unit.index] = mine
            if unit.count > 1 and len(mine) > 1:
                self.model.add(sum(mine) <= unit.count)
            elif unit.count == 1 and len(mine) > 1:
                self.model.add_at_most_one(mine)

    def placed(self, ui: int) -> cp_model.LinearExprT:
        """Copies of unit ``ui`` placed anywhere."""
        return sum(self.of_unit.get(ui, []), start=cp_model.LinearExpr.constant(0))

    # --- constraints: one per plan rule -------------------------------------------------
    def _capacity(self) -> None:
        for sid, unit_ids in self.by_shelter.items():
            shelter = self.ctx.shelters[sid]
            places = self.ctx.nightly_places(shelter)
            units = [self.units.units[u] for u in unit_ids]
            members = [m for u in units for m in u.members]
            critical = set(CapacityRule.critical_nights(self.ctx, shelter, members))
            terms: dict[int, list[tuple[int, int, cp_model.IntVar]]] = defaultdict(list)
            for u in units:
                var = self.y[(u.index, sid)]
                for n in critical:
                    need = u.usage.get(n)
                    if need:
                        terms[n].append((need, u.count, var))
            for n in sorted(terms):
                if sum(need * count for need, count, _ in terms[n]) <= places[n]:
                    continue  # cannot bind
                needs = [need for need, _, _ in terms[n]]
                variables = [v for _, _, v in terms[n]]
                self.model.add(cp_model.LinearExpr.weighted_sum(variables, needs) <= places[n])

    def _keep_apart(self) -> None:
        for x, y in self.units.keep_apart_unit_pairs(self.ctx):
            for sid in self.sids_of.get(x, []):
                if (y, sid) in self.y:
                    self.model.add_at_most_one(self.y[(x, sid)], self.y[(y, sid)])

    def _network_cap(self) -> None:
        cap = NetworkCapRule.cap(self.ctx)
        if cap is None:
            return
        for sid, unit_ids in self.by_shelter.items():
            per_network: dict[str, list[tuple[int, cp_model.IntVar, int]]] = defaultdict(list)
            for ui in unit_ids:
                unit = self.units.units[ui]
                for net, k in unit.networks.items():
                    per_network[net].append((k, self.y[(ui, sid)], unit.count))
            for terms in per_network.values():
                if sum(k * count for k, _, count in terms) > cap:
                    self.model.add(sum(k * v for k, v, _ in terms) <= cap)

    def _must_place(self, must_place: dict[int, int]) -> None:
        for ui, copies in must_place.items():
            self.model.add(self.placed(ui) >= copies)

    # --- objective terms ----------------------------------------------------------------
    def persons_at(self, priority: int) -> cp_model.LinearExprT:
        terms = [
            (var, self.units.units[ui].persons_by_priority.get(priority, 0))
            for (ui, _), var in self.y.items()
        ]
        return cp_model.LinearExpr.weighted_sum(
            [v for v, k in terms if k], [k for _, k in terms if k]
        )

    def secondary_cost(self) -> cp_model.LinearExprT:
        pairs = [(var, self.cost[key]) for key, var in self.y.items() if self.cost[key]]
        return cp_model.LinearExpr.weighted_sum([v for v, _ in pairs], [c for _, c in pairs])

    # --- solving ------------------------------------------------------------------------
    def hint(self, allocation: Allocation) -> None:
        self.model.clear_hints()
        for (ui, sid), var in self.y.items():
            self.model.add_hint(var, allocation.get(ui, {}).get(sid, 0))

    def read(self, solver: cp_model.CpSolver) -> Allocation:
        alloc: Allocation = {}
        for (ui, sid), var in self.y.items():
            v = solver.value(var)
            if v:
                alloc.setdefault(ui, {})[sid] = int(v)
        return alloc


class _StageProgress(cp_model.CpSolverSolutionCallback):
    """Reports improving plans during a stage: the first at once, then at most once a second."""

    INTERVAL = 1.0

    def __init__(
        self,
        model: PlacementModel,
        stage: str,
        on_stage: Callable[[str, Allocation, bool], None],
    ) -> None:
        super().__init__()
        self._model = model
        self._stage = stage
        self._on_stage = on_stage
        self._last = -self.INTERVAL

    def on_solution_callback(self) -> None:
        now = time.monotonic()
        if now - self._last < self.INTERVAL:
            return
        self._last = now
        alloc: Allocation = {}
        for (ui, sid), var in self._model.y.items():
            v = self.value(var)
            if v:
                alloc.setdefault(ui, {})[sid] = int(v)
        gap = abs(self.best_objective_bound - self.objective_value)
        label = f"{self._stage} improving (objective {self.objective_value:.0f}, gap {gap:.0f})"
        self._on_stage(label, alloc, False)


def _solver(options: SolveOptions, seconds: float, variables: int = 0) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.max_time_in_seconds = max(0.01, seconds)
    p.num_workers = options.workers
    p.random_seed = options.seed
    p.linearization_level = options.linearization_level
    if variables > options.light_presolve_above:
        p.cp_model_probing_level = 0
        p.max_presolve_iterations = 1
    return solver


def restrict_candidates(
    ctx: Context, units: Units, seed: Allocation, max_pairs: int
) -> dict[int, np.ndarray]:
    """Each unit's cheapest admissible shelters (positions in scenario.shelters), about
    ``max_pairs`` in all, plus any shelter the seed plan uses (so it stays a valid hint)."""
    per_unit = max(5, max_pairs // max(1, len(units.units)))
    ranks = id_ranks(ctx)
    out = {}
    for unit in units.units:
        order = np.lexsort((ranks[unit.shelter_index], unit.costs))[:per_unit]
        used = [ctx.index(sid) for sid in seed.get(unit.index, {})]
        out[unit.index] = np.union1d(unit.shelter_index[order], np.asarray(used, dtype=np.int64))
    return out


def lexicographic_weights(model: PlacementModel, present: list[int]) -> dict[int, int] | None:
    """Weights making a weighted sum of persons per level lexicographic, or None if too big.

    w_p = prod over lower levels q of (persons at q + 1). Kept below 2**50 so that CP-SAT's
    floating-point objective stays exact.
    """
    weights: dict[int, int] = {}
    w = 1
    for p in sorted(present):
        weights[p] = w
        w *= 1 + sum(u.persons_by_priority.get(p, 0) * u.count for u in model.units.units)
    return weights if w < 2**50 else None


def solve_lexicographic(
    model: PlacementModel,
    options: SolveOptions,
    start: Allocation,
    on_stage: Callable[[str, Allocation, bool], None] | None = None,
) -> LexResult:
    """Maximise persons placed per priority level in turn, then minimise secondary cost.

    ``start`` must be a valid allocation (the greedy plan): it is the hint and the fallback.
    """
    deadline = time.monotonic() + options.time_limit
    best = start
    proven = True
    stages: list[tuple[str, int, str]] = []
    present = [
        p for p in PRIORITIES if any(u.persons_by_priority.get(p) for u in model.units.units)
    ]
    levels = {p: model.persons_at(p) for p in present}
    weights = lexicographic_weights(model, present)
    plan: list[tuple[str, cp_model.LinearExprT, bool]]
    if options.weighted_priorities and weights is not None:
        # One stage for all levels: weight w_p exceeds all persons of lower levels together,
        # so the weighted optimum is the lexicographic one (measured faster: one LP bound).
        weighted = sum((weights[p] * levels[p] for p in present), cp_model.LinearExpr.constant(0))
        plan = [("priorities", weighted, True)]
    else:
        plan = [(f"priority_{p}", levels[p], True) for p in present]
    plan.append(("secondary_cost", model.secondary_cost(), False))
    for name, expr, maximise in plan:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            proven = False
            break
        if maximise:
            model.model.maximize(expr)
        else:
            model.model.minimize(expr)
        model.hint(best)
        solver = _solver(options, remaining, len(model.y))
        callback = _StageProgress(model, name, on_stage) if on_stage is not None else None
        status = solver.solve(model.model, callback)
        status_name = solver.status_name(status)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            proven = False
            stages.append((name, -1, status_name))
            break
        value = int(round(solver.objective_value))
        best = model.read(solver)
        stages.append((name, value, f"{status_name} {solver.wall_time:.2f}s"))
        log.debug("stage %s: %s %s in %.3fs", name, status_name, value, solver.wall_time)
        if status != cp_model.OPTIMAL:
            proven = False
        # Keep what this stage reached while optimising the next ones.
        model.model.add(expr >= value if maximise else expr <= value)
        if on_stage is not None:
            on_stage(name, best, proven)
        if not proven:
            break
    return LexResult(allocation=best, proven_optimal=proven, stages=stages)


def is_feasible(
    model: PlacementModel, options: SolveOptions, hint: Allocation | None = None
) -> bool | None:
    """True/False when CP-SAT decides the model within the limit, None when it cannot tell."""
    if hint is not None:
        model.hint(hint)
    model.model.clear_objective()
    solver = _solver(options, options.time_limit)
    status = solver.solve(model.model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return True
    if status == cp_model.INFEASIBLE:
        return False
    return None
