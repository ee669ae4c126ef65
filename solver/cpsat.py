"""The CP-SAT side: the integer model of a :class:`solver.linear.LinearModel`, and the
lexicographic solve.

Decision: ``y[u, s]`` = copies of unit *u* placed in shelter *s*, only for the pairs every
pair rule admits (see :mod:`solver.units`). A household is one copy, so all-or-none holds by
construction. The constraints are the rows of the linear model (one method per plan rule
there). The objective is solved in stages: maximise persons placed at priority 5, keep that,
then 4, ... then minimise the secondary cost. Before each stage the LP relaxation
(:mod:`solver.lp`) rules out the columns no optimal plan uses, or proves the incumbent
optimal outright; CP-SAT gets what is left of the time limit, starts from the incumbent, and
looks only for better plans, under the rows the LP's duals imply for them
(:meth:`PlacementModel.at_least`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import partial
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp
from ortools.sat.python import cp_model

from placement.i18n import N_
from placement.models import PRIORITIES
from solver.allocation import Allocation, Enough
from solver.linear import INF, LinearModel
from solver.lp import TOLERANCE, LpProof, Pricing, lp_proof
from solver.mip import mip_on_columns
from solver.options import SolveOptions
from solver.progress import improving_stage

log = logging.getLogger(__name__)


class Decided(Enum):
    """How a stage of the lexicographic solve was decided (its value: the English text of a
    catalogue message, shown in a stage's note, see ``solver.progress.STAGE_NOTE``)."""

    FLOW_BOUND = N_("the incumbent reaches the flow bound")
    LP_BOUND = N_("the LP bound proves the incumbent")
    CPSAT_OPTIMAL = N_("CP-SAT proved it optimal")
    CPSAT_FEASIBLE = N_("CP-SAT's best in its time, not proven")
    TOO_MANY_COLUMNS = N_("not proven: too many columns for CP-SAT")
    LP_TOO_SLOW = N_("not proven: its LP did not converge in its time")
    NEIGHBOURHOODS = N_("not proven: CP-SAT on neighbourhoods of the unplaced, no LP")
    NO_TIME_FOR_LP = N_("not proven: cheaper plans searched, no time left for its LP")
    NOTHING_FOUND = N_("CP-SAT found nothing in its time")

    @property
    def proven(self) -> bool:
        return self in (Decided.FLOW_BOUND, Decided.LP_BOUND, Decided.CPSAT_OPTIMAL)


@dataclass(frozen=True)
class Stage:
    """One level of the lexicographic objective: persons placed at one priority (maximised),
    or, last, the secondary cost (minimised)."""

    priority: int | None = None  # None: the secondary cost

    @property
    def name(self) -> str:
        return "secondary_cost" if self.priority is None else f"priority_{self.priority}"

    def shown(self, value: int) -> int:
        """The stage's value as reported: every stage maximises, so the cost is negated."""
        return -value if self.priority is None else value


class StageResult(NamedTuple):
    stage: Stage
    value: int  # as shown: persons placed at the level, or the secondary cost
    decided: Decided
    log: str  # what was done, for the logs
    #: proven bound on the stage's objective as maximised (persons at the level, or minus
    #: the cost), given the stages before it; None when nothing bounds it
    bound: int | None = None
    seconds: float = 0.0


def _reached(stages: list[StageResult]) -> dict[int, int]:
    """Each level's value among ``stages``, by priority (the cost stage left out)."""
    return {r.stage.priority: r.value for r in stages if r.stage.priority is not None}


class CostBound(NamedTuple):
    """What a cost stage proved: every plan that places at least ``reached[p]`` persons at
    each priority p (the rows the stages before it kept) costs at least ``lower``."""

    reached: dict[int, int]
    lower: int
    cost: int  # the cost of that pass's plan

    @classmethod
    def of(cls, stages: list[StageResult]) -> CostBound | None:
        """The bound of a pass's stages when they end with the cost stage and it has one."""
        last = stages[-1] if stages else None
        if last is None or last.stage.priority is not None or last.bound is None:
            return None
        return cls(_reached(stages[:-1]), -last.bound, last.value)

    def holds_for(self, placed: dict[int, int]) -> bool:
        """Whether it bounds plans placing ``placed[p]`` at each level, and says something
        (costs are never negative: a bound of 0 under a plan that costs more proves nothing)."""
        if any(placed.get(p, 0) < value for p, value in self.reached.items()):
            return False
        return not self.lower <= 0 < self.cost


@dataclass
class LexResult:
    allocation: Allocation
    proven_optimal: bool
    stages: list[StageResult]
    #: passes over the stages (a second one goes back to the first stage not proven)
    passes: int = 1
    #: the priority levels with persons (each has a stage)
    levels: tuple[int, ...] = ()
    #: the cost stages' bounds of the passes before the last (a later pass that does not
    #: reach the cost stage does not take back what an earlier one proved)
    earlier_cost_bounds: tuple[CostBound, ...] = ()

    def proven_levels(self) -> list[int]:
        """The priority levels proven at their lexicographic optimum, from 5 down: a level
        is proven only when every level above it is (a level without persons is at its
        optimum, 0, once the levels above are)."""
        proven: list[int] = []
        decided = {r.stage.priority: r.decided.proven for r in self.stages}
        for p in PRIORITIES:
            if not decided.get(p, p not in self.levels):
                break
            proven.append(p)
        return proven

    def bounds(self, flow: dict[int, int]) -> dict[int, int]:
        """For each priority p, the best proven bound on the persons the lexicographically
        best plan places at priority >= p: the flow relaxation's ``flow[p]``, or, where
        every level above p is proven, the persons placed above plus the stage's own bound
        (LP or CP-SAT), whichever is lower."""
        proven = set(self.proven_levels())
        stage_bound = {r.stage.priority: r.bound for r in self.stages}
        placed = _reached(self.stages)
        out: dict[int, int] = {}
        above = 0  # persons placed at the levels above p, all proven
        for p in PRIORITIES:
            best = flow[p]
            own = 0 if p not in self.levels else stage_bound.get(p)
            if own is not None and all(q in proven for q in PRIORITIES if q > p):
                best = min(best, above + own)
            out[p] = best
            above += placed.get(p, 0)
        return out

    @property
    def cost_lower_bound(self) -> int | None:
        """A proven lower bound on the secondary cost of the lexicographically best plan:
        only when every priority level is proven (else the cost stage's rows hold values
        that a better plan need not keep)."""
        if len(self.proven_levels()) < len(PRIORITIES):
            return None
        return self.cost_lower_bound_for(_reached(self.stages))

    def cost_lower_bound_for(self, placed: dict[int, int]) -> int | None:
        """A proven lower bound on the secondary cost of every plan that places at least
        ``placed[p]`` persons at each priority p, or None: a cost stage's bound holds for
        every plan that keeps its rows (each level's value reached), so for these plans when
        ``placed`` reaches every level's value; the best of the last pass's cost stage and
        the earlier passes' (:class:`CostBound`). With every level proven, it bounds the
        cost of the lexicographically best plans (:attr:`cost_lower_bound`)."""
        bounds = (*self.earlier_cost_bounds, CostBound.of(self.stages))
        held = [b.lower for b in bounds if b is not None and b.holds_for(placed)]
        return max(held, default=None)


class PlacementModel:
    """The CP-SAT model of a :class:`LinearModel`, on some of its columns."""

    def __init__(self, linear: LinearModel, active: np.ndarray | None = None):
        """``active`` keeps only some columns of ``linear`` (those the LP has not ruled out)."""
        self.linear = lin = linear
        self.active = np.ones(lin.n_columns, dtype=bool) if active is None else active
        self.model = cp_model.CpModel()
        self.y: dict[tuple[int, str], cp_model.IntVar] = {}
        self.columns = np.flatnonzero(self.active)
        #: the variable of each column kept, in the order of ``columns``
        self.variables: list[cp_model.IntVar] = []
        for j, ub in zip(self.columns.tolist(), lin.col_ub[self.columns].tolist(), strict=True):
            ui, sid = int(lin.col_unit[j]), lin.shelter_id(j)
            name = f"y_{ui}_{sid}"
            var = self.model.new_bool_var(name) if ub == 1 else self.model.new_int_var(0, ub, name)
            self.y[(ui, sid)] = var
            self.variables.append(var)
        #: the linear model's rows (and bounds) restricted to the columns kept
        matrix, row_lo, row_hi = lin.matrix()
        self.rows = (sp.csr_matrix(matrix[:, self.columns]), row_lo, row_hi)
        self._rows()

    def _rows(self) -> None:
        """The rows that can bind on the columns kept, from the sparse matrix restricted to
        them (a row without a kept column binds only when 0 is outside its bounds: then it
        makes the model infeasible, as it must)."""
        sub, row_lo, row_hi = self.rows
        ub = self.linear.col_ub[self.columns].astype(float)
        most = sub.maximum(0) @ ub
        least = sub.minimum(0) @ ub
        binding = (least < row_lo) | (most > row_hi)
        rows = np.flatnonzero(binding)
        variables = self.variables
        for i in rows.tolist():
            start, stop = sub.indptr[i], sub.indptr[i + 1]
            terms = [variables[k] for k in sub.indices[start:stop].tolist()]
            coefs = sub.data[start:stop].astype(np.int64)
            self._row(terms, coefs, float(row_lo[i]), float(row_hi[i]), ub[sub.indices[start:stop]])

    def _row(
        self, terms: list[Any], coefs: np.ndarray, lo: float, hi: float, ub: np.ndarray
    ) -> None:
        if hi == 1 and lo == -INF and (coefs == 1).all() and (ub == 1).all():
            self.model.add_at_most_one(terms)
            return
        expr = cp_model.LinearExpr.weighted_sum(terms, coefs.tolist())
        if lo != -INF:
            self.model.add(expr >= int(lo))
        if hi != INF:
            self.model.add(expr <= int(hi))

    def expression(
        self, c: np.ndarray, variables: list[cp_model.IntVar] | None = None
    ) -> cp_model.LinearExprT:
        """``c . x`` over the columns in this model (``variables``: theirs in a copy of it)."""
        variables = self.variables if variables is None else variables
        nonzero = np.flatnonzero(c[self.columns])
        terms = [variables[k] for k in nonzero.tolist()]
        coefs = c[self.columns[nonzero]].tolist()
        return cp_model.LinearExpr.weighted_sum(terms, coefs)  # type: ignore[arg-type]

    def at_least(self, c: np.ndarray, target: int, proof: LpProof) -> cp_model.CpModel:
        """This model (objective and hints included) kept to plans with ``c . x >= target``,
        with the rows the LP's duals imply for them.

        For every plan, ``c . x = B(y) - sum_i |y_i| s_i - sum_j |d_j| t_j`` (:mod:`solver.lp`):
        ``s_i`` is row *i*'s slack on the side its dual presses (to ``hi`` when ``y_i > 0``,
        to ``lo`` when ``y_i < 0``), ``t_j`` column *j*'s (to ``ub`` when ``d_j > 0``, to 0
        when ``d_j < 0``), all integers. So a plan reaching ``target`` has weighted slacks
        of at most ``B(y) - target``: a row or column weighing more is at its bound, the
        others within that budget. CP-SAT sees none of this from the rows alone; with it,
        the search is among the plans near the LP's optimum (a target at the LP's bound: a
        budget under 1, every row the duals press is tight)."""
        model = self.model.clone()
        kept = [model.get_int_var_from_proto_index(v.index) for v in self.variables]
        model.add(self.expression(c, kept) >= target)
        budget = proof.bound + 2 * TOLERANCE * max(1.0, abs(proof.bound)) - target
        if budget < 0:
            return model  # no such plan: CP-SAT finds the model infeasible
        sub, row_lo, row_hi = self.rows
        y = np.zeros(len(row_lo))
        y[: len(proof.duals)] = proof.duals  # rows added since (cuts): dual 0
        for i in np.flatnonzero(np.abs(y) > 1e-9).tolist():
            start, stop = sub.indptr[i], sub.indptr[i + 1]
            if start == stop:
                continue
            slack = math.floor(budget / abs(y[i]) + 1e-9)
            expr = cp_model.LinearExpr.weighted_sum(
                [kept[k] for k in sub.indices[start:stop].tolist()],
                sub.data[start:stop].astype(np.int64).tolist(),
            )
            if y[i] > 0 and row_hi[i] != INF:
                model.add(expr >= int(row_hi[i]) - slack)
            elif y[i] < 0 and row_lo[i] != -INF:
                model.add(expr <= int(row_lo[i]) + slack)
        d = proof.reduced[self.columns]
        ub = self.linear.col_ub[self.columns]
        for k in np.flatnonzero(np.abs(d) > budget).tolist():
            slack = math.floor(budget / abs(d[k]) + 1e-9)
            if d[k] > 0:
                model.add(kept[k] >= int(ub[k]) - slack)
            else:
                model.add(kept[k] <= slack)
        return model

    # --- solving ------------------------------------------------------------------------
    def hint(self, allocation: Allocation) -> None:
        self.model.clear_hints()
        for (ui, sid), var in self.y.items():
            self.model.add_hint(var, allocation.get(ui, {}).get(sid, 0))

    def read(self, value: Callable[[cp_model.IntVar], int]) -> Allocation:
        """The allocation in a solution (``value``: a solver's or a callback's)."""
        alloc: Allocation = {}
        for (ui, sid), var in self.y.items():
            v = value(var)
            if v:
                alloc.setdefault(ui, {})[sid] = int(v)
        return alloc


class _StageProgress(cp_model.CpSolverSolutionCallback):
    """Reports improving plans during a stage: the first at once, then at most once a second.

    A stage's model holds only the units with persons at its level or above: its plan is
    reported completed (``complete``, the room it leaves filled as after the stage), never
    without the others, whom a plan stopped at that moment would otherwise leave out. The
    gap is to the tighter of CP-SAT's bound and the stage's (``bound``, the LP's): CP-SAT's
    own is far above it at first (a gap of 9,746 persons shown at priority 3 with an LP
    bound of 158, 1,000 x 3,000 hard). The cost stage's objective is shown as the cost."""

    INTERVAL = 1.0

    def __init__(
        self,
        model: PlacementModel,
        stage: Stage,
        on_stage: Callable[[str, Allocation, bool], None],
        complete: Callable[[Allocation], Allocation] | None = None,
        bound: int | None = None,
    ) -> None:
        super().__init__()
        self._model = model
        self._stage = stage
        self._on_stage = on_stage
        self._complete = complete
        self._bound = bound
        self._last = -self.INTERVAL

    def on_solution_callback(self) -> None:
        now = time.monotonic()
        if now - self._last < self.INTERVAL:
            return
        self._last = now
        alloc = self._model.read(self.value)
        if self._complete is not None:
            alloc = self._complete(alloc)
        bound = self.best_objective_bound
        if self._bound is not None:
            bound = min(bound, self._bound)
        gap = max(0.0, bound - self.objective_value)
        shown = self._stage.shown(round(self.objective_value))  # the cost as a cost
        self._on_stage(improving_stage(self._stage.name, shown, gap), alloc, False)


def configured_solver(
    options: SolveOptions, seconds: float, variables: int = 0
) -> cp_model.CpSolver:
    """A CP-SAT solver with the explicit limits and the measured parameters of ``options``
    (every CP-SAT call goes through here: the stages, feasibility and relaxation checks)."""
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


class Heuristics(NamedTuple):
    """What the stages get from outside the model (:mod:`solver.packing`, :mod:`solver.lns`)
    to find good plans; neither is needed for what they prove."""

    #: fills what room an allocation leaves (greedily): each stage's plan, the LP's rounded
    complete: Callable[[Allocation], Allocation] | None = None
    #: an allocation, a ``time.monotonic()`` deadline, and when to stop sooner (None: at
    #: the deadline): places more persons, no level losing one (a level the LP leaves far
    #: from its bound, :meth:`_Lexicographic._unplaced`)
    improve: Callable[[Allocation, float, Enough | None], Allocation] | None = None
    #: the columns the cost stage's LP also starts from, given its incumbent (the pairs of
    #: the cheapest flow placing as many per level, :mod:`solver.cost_flow`): at 1,000 x
    #: 3,000 its LP then converged in 2.3, 1.7 and 5.2 s instead of 4.4, 2.7 and 9.4 s
    cost_start: Callable[[Allocation], np.ndarray | None] | None = None
    #: an allocation, a ``time.monotonic()`` deadline and the shelters a cheap plan or
    #: relaxation puts each unit in (unit index -> shelter positions: the cheapest flow's,
    #: an LP solution's): lowers the secondary cost, no level losing a person (CP-SAT on
    #: neighbourhoods of the dearest placements, :func:`solver.lns.cost_moves`); the cost
    #: stage's search before its LP, and after it when it did not converge
    cheapen: Callable[[Allocation, float, dict[int, np.ndarray]], Allocation] | None = None


def solve_lexicographic(
    lin: LinearModel,
    options: SolveOptions,
    start: Allocation,
    on_stage: Callable[[str, Allocation, bool], None] | None = None,
    heuristics: Heuristics | None = None,
    bound: dict[int, int] | None = None,
) -> LexResult:
    """Maximise persons placed per priority level in turn, then minimise secondary cost.

    ``start`` must be a valid allocation (the first plan, or ``{}``): the first incumbent.
    ``bound`` (persons placeable at priority >= p, :mod:`solver.flow_bound`) proves a level
    as soon as the incumbent reaches it. A stage CP-SAT cannot prove in its share of the time
    keeps the best value found, and the later stages still run: the plan is then feasible.
    ``heuristics`` (:class:`Heuristics`) give each stage a good incumbent. Stage *p* only
    involves the units with persons at priority >= *p*: leaving the others out changes
    neither its optimum nor what it proves. Before each stage, the LP
    relaxation (:mod:`solver.lp`) bounds it and rules out columns no plan at least as good as
    the incumbent uses; when the bound equals the incumbent the stage is proven without
    CP-SAT, otherwise CP-SAT solves it on the columns left, from the incumbent. A stage's
    value is then kept as a row.

    When every stage has run and time is left, the solve goes back to the first stage not
    proven (its row and the later ones dropped, the columns they fixed restored) and runs
    the stages again from the best plan, with more LP pricing rounds and a larger share of
    the time; it stops when every stage is proven, the time is up, or a pass changes
    nothing.
    """
    heuristics = heuristics or Heuristics()
    search = _Lexicographic(lin, options, on_stage, heuristics)
    passes = _Passes(lin, search, heuristics.complete, bound)
    passes.run(start)
    return passes.result()


class _Passes:
    """The passes over the stages, what each stage reached and proved."""

    MAX_PASSES = 4

    def __init__(
        self,
        lin: LinearModel,
        search: _Lexicographic,
        complete: Callable[[Allocation], Allocation] | None,
        bound: dict[int, int] | None,
    ) -> None:
        self.lin = lin
        self.search = search
        self.complete = complete
        self.flow = bound
        self.plan = stage_objectives(lin)
        self.results: list[StageResult] = []
        #: before each stage: the rows of the model and the columns not ruled out
        self.rows_before: list[int] = []
        self.active_before: list[np.ndarray] = []
        self.passes = 0
        self.x = np.zeros(lin.n_columns, dtype=np.int64)
        self.earlier_cost_bounds: list[CostBound] = []

    def run(self, start: Allocation) -> None:
        self.x = self.lin.to_columns(start)
        first = 0
        while first < len(self.plan) and self.passes < self.MAX_PASSES:
            before = (self._signature(), self.x.copy())
            self._pass(first)
            self.passes += 1
            first = self._first_unproven()
            if time.monotonic() >= self.search.deadline - 0.05 or first >= len(self.plan):
                return
            if self.passes > 1 and before[0] == self._signature() and (before[1] == self.x).all():
                return  # nothing moved: more of the same would not either
            self._rewind(first)

    def _signature(self) -> list[tuple[int, Decided, int | None]]:
        return [(r.value, r.decided, r.bound) for r in self.results]

    def _first_unproven(self) -> int:
        for k, r in enumerate(self.results):
            if not r.decided.proven:
                return k
        return len(self.results)

    def _rewind(self, k: int) -> None:
        """Back to before stage ``k``: its row and the later ones dropped."""
        self.lin.truncate_rows(self.rows_before[k])
        self.search.active = self.active_before[k].copy()
        del self.rows_before[k:], self.active_before[k:]

    def _pass(self, first: int) -> None:
        search, lin = self.search, self.lin
        search.pricing_rounds = Pricing.max_rounds * (1 + self.passes)
        previous = self.results
        earlier = CostBound.of(previous)
        if earlier is not None:
            self.earlier_cost_bounds.append(earlier)
        self.results = previous[:first]
        for k in range(first, len(self.plan)):
            if time.monotonic() >= search.deadline:
                return
            stage, c, relevant = self.plan[k]
            self.rows_before.append(len(lin.row_lo))
            self.active_before.append(search.active.copy())
            started = time.monotonic()
            step = self._stage(k, stage, c, relevant)
            if (step.x != np.where(relevant, self.x, 0)).any():  # the stage moved someone
                # keep its plan, with the room it leaves filled for the levels below, even
                # past the deadline: the stage's model leaves them out, and a plan without
                # them is no plan (3,000 x 6,000 hard, T = 10: priority 2's stage ended at
                # the deadline, +6 there, and the plan kept 87 of 413 at priority 1; the
                # filling takes 0.1-0.3 s there, 2 s at 10,000 x 20,000)
                self.x = step.x
                if self.complete is not None:
                    self.x = lin.to_columns(self.complete(lin.to_allocation(step.x)))
            if k == first and k < len(previous):
                # the same rows before it: the earlier pass's bound still holds
                step.bound = _lowest(step.bound, previous[k].bound)
            self.results.append(
                StageResult(stage, stage.shown(step.z), step.decided, step.log,
                            step.bound, time.monotonic() - started)
            )  # fmt: skip
            _keep(lin, c, step.z)
            log.debug("%s: %s", stage.name, step.log)
            if search.on_stage is not None:
                proven = all(r.decided.proven for r in self.results)
                search.on_stage(stage.name, lin.to_allocation(self.x), proven)

    def _stage(self, k: int, stage: Stage, c: np.ndarray, relevant: np.ndarray) -> _Step:
        x_stage = np.where(relevant, self.x, 0)
        z = int(c @ x_stage)
        level = stage.priority
        reached = sum(max(r.value, 0) for r in self.results if r.stage.priority is not None)
        # the flow bound less the persons the rows keep above this level bounds the level
        known = None
        if level is not None and self.flow is not None and level in self.flow:
            known = self.flow[level] - reached
        if known is not None and z >= known:
            return _Step(x_stage, z, Decided.FLOW_BOUND, "incumbent reaches the flow bound", z)
        search = self.search.without_lp if self.search.lp_too_slow else self.search.stage
        return search(stage, c, relevant, x_stage, self._shares(k), known)

    def _shares(self, k: int) -> int:
        """Into how many shares the time left is divided for stage ``k``: for a level, one
        per level left but at most two (a level gets at least half the time left; 1 only
        at the last level, which gets it all), the cost stage not counted while levels are
        left (it gets what they leave). The levels come first in the objective, each before
        the ones below it: at 1,000 x 3,000 hard, T = 10, the cost stage's share (1.3 s)
        gave no cost bound while priority 3 lacked 0.1-0.7 s of the 2.8-3.4 s CP-SAT takes
        to prove it (load 2-3); with a share per level left, hard seeds 2 and 4-8 (T = 8.8,
        the CLI's solve at T = 10) each placed one person fewer at priority 3 than with half
        the time left, and seeds 1 and 3 the same (README, "Performance")."""
        left = len(self.plan) - k
        if self.plan[k][0].priority is not None:
            return min(left - 1, 2)
        return left

    @property
    def proven(self) -> bool:
        return len(self.results) == len(self.plan) and all(r.decided.proven for r in self.results)

    def result(self) -> LexResult:
        return LexResult(
            allocation=self.lin.to_allocation(self.x),
            proven_optimal=self.proven,
            stages=self.results,
            passes=self.passes,
            levels=tuple(s.priority for s, _, _ in self.plan if s.priority is not None),
            earlier_cost_bounds=tuple(self.earlier_cost_bounds),
        )


def stage_objectives(lin: LinearModel) -> list[tuple[Stage, np.ndarray, np.ndarray]]:
    """Each stage with its objective over the columns (maximised) and the columns it
    involves: the priority levels present, most urgent first, then the secondary cost."""
    plan: list[tuple[Stage, np.ndarray, np.ndarray]] = []
    reach = np.zeros(lin.n_columns, dtype=np.int64)
    for p in PRIORITIES:
        persons = lin.persons_at(p)
        if persons.any():
            reach = reach + persons
            plan.append((Stage(p), persons, reach > 0))
    # every stage maximises; the last one involves everybody
    plan.append((Stage(None), -lin.col_cost, np.ones(lin.n_columns, dtype=bool)))
    return plan


@dataclass
class _Step:
    """A stage's outcome: its best column values, their objective, how it was decided."""

    x: np.ndarray
    z: int
    decided: Decided
    log: str
    bound: int | None = None  # proven bound on c . x given the rows before (None: none)


class _Lexicographic:
    """What the stages share: the deadline, the columns not ruled out, where LPs start."""

    def __init__(
        self,
        lin: LinearModel,
        options: SolveOptions,
        on_stage: Callable[[str, Allocation, bool], None] | None,
        heuristics: Heuristics | None = None,
    ) -> None:
        self.lin = lin
        self.options = options
        self.on_stage = on_stage
        self.complete, self.improve, self.cost_start, self.cheapen = heuristics or Heuristics()
        self.deadline = time.monotonic() + options.time_limit
        self.active = np.ones(lin.n_columns, dtype=bool)
        self.cheapest = lin.cheapest(options.lp_start_columns)  # where each stage's LP starts
        self.support_before = np.zeros(lin.n_columns, dtype=bool)
        self.proof: LpProof | None = None  # the last stage's LP proof
        #: a model this large is beyond CP-SAT's searches on a level's LP columns and on
        #: neighbourhoods of the incumbent (see :meth:`_lp`)
        self.large = lin.n_columns > options.neighbourhoods_first_above
        #: a level's LP has stopped before converging, in a large model: the stages after it
        #: (in a later pass, every stage) get no LP (see :meth:`_lp`)
        self.lp_too_slow = False
        self.pricing_rounds = Pricing.max_rounds

    def stage(
        self,
        stage: Stage,
        c: np.ndarray,
        relevant: np.ndarray,
        x: np.ndarray,
        stages_left: int,
        known: int | None = None,
    ) -> _Step:
        """Decide one stage (``relevant``: the columns it involves): by the LP when it
        proves the incumbent, else by CP-SAT on the columns a better plan may use.
        ``known``: a bound on it known before (a level's, from the flow bound)."""
        in_play = self.active & relevant
        step = self._first_step(c, in_play, x, known)
        step, in_play = self._cheaper_first(stage, c, in_play, step)
        if step.decided is Decided.NO_TIME_FOR_LP:
            return step
        if self.options.lp_fixing:
            step, in_play = self._lp(stage, c, relevant, step, stages_left)
            if step.decided in (Decided.LP_BOUND, Decided.CPSAT_OPTIMAL, Decided.LP_TOO_SLOW):
                return step  # CP-SAT may have proved it on the LP's columns
        if not self._whole_fits(in_play, step) and self.proof is not None:
            # too many columns for CP-SAT on all of them (unless it starts at the bound, once
            # these have stopped): a better plan near the LP's may meet its bound
            until = time.monotonic() + (self.deadline - time.monotonic()) / stages_left
            step, in_play = self._neighbourhoods(c, in_play, step, until)
            if step.decided is Decided.LP_BOUND:
                return step
        columns = self._for_better(in_play, step)
        beyond = bool(columns.sum() > self.options.cpsat_max_columns)
        if beyond and self._from_bound(step.z, step.bound) is None:
            step.log += f"not proven ({int(columns.sum())} columns: too many for CP-SAT)"
            step.decided = Decided.TOO_MANY_COLUMNS
            return step
        return self._on_columns(stage, c, columns, step, stages_left + beyond)

    def _on_columns(
        self, stage: Stage, c: np.ndarray, columns: np.ndarray, step: _Step, shares: int
    ) -> _Step:
        """CP-SAT on the columns a better plan may use, for a share of the time left (one
        of ``shares``)."""
        on_stage = self.on_stage
        callback = None
        if on_stage is not None:
            callback = partial(
                _StageProgress,
                stage=stage,
                on_stage=on_stage,
                complete=self.complete,
                bound=step.bound,
            )
        step.log += f"{int(columns.sum())} columns for a better plan; "
        # beyond the column limit (CP-SAT started at the bound): a share more, so that the
        # stages after it keep theirs. Hard seed 5, T = 58: priority 1 (117, LP bound 119,
        # 39,716 columns) with the last level's whole share ruled out 119 in 23 s and left
        # the cost stage 1 s (47,079 against a bound of 4,489); with half, 118 was not ruled
        # out, and the cost was 36,900 >= 36,700
        share = (self.deadline - time.monotonic()) / shares
        found = self._cpsat(columns, c, step.x, share, callback, step.bound)
        if found is None:
            step.log += N_("CP-SAT found nothing in its time")
            step.decided = Decided.NOTHING_FOUND
            return step
        if int(c @ found.x) >= step.z:
            step.x, step.z = found.x, int(c @ found.x)
        step.log += found.text
        # its bound holds for every plan: those better than the incumbent use only these
        # columns, and the incumbent is among them
        step.bound = _lowest(step.bound, found.bound)
        step.decided = Decided.CPSAT_OPTIMAL if found.optimal else Decided.CPSAT_FEASIBLE
        if step.bound is not None and step.bound <= step.z:
            step.decided = Decided.CPSAT_OPTIMAL  # its bound and the LP's meet
        return step

    def _for_better(self, in_play: np.ndarray, step: _Step) -> np.ndarray:
        """The columns in play a plan better than the incumbent may use (with the last LP's
        duals: those not fixed against the incumbent plus one; the columns fixed against the
        incumbent itself, ruled out for the later stages too, are already out of play), and
        the incumbent's own, so that CP-SAT starts from it."""
        if self.proof is None:
            return in_play
        better: np.ndarray = in_play & (~self.proof.fixed_for(step.z + 1) | (step.x > 0))
        return better

    def _from_bound(self, z: int, top: int | None) -> int | None:
        """The bound CP-SAT's search for a plan better than ``z`` starts at (:meth:`_cpsat`):
        the best known (``top``, or the stage's LP's) when within ``target_steps`` of ``z``
        (or not above it: nothing better); None without the LP, or further (it then looks
        for one more than ``z``).

        A stage whose search starts at its bound gets every column a better plan may use,
        however many, once the neighbourhoods have stopped. Measured at 1,000 x 3,000 hard,
        T = 58 (load 1): at seed 2, priority 1 (147 against an LP bound of 148, 44,969
        columns) CP-SAT proved that no plan places 148 in 2.4 s, and every level was proven;
        at seed 5 (117 against 119, 39,716 columns) it ruled out 119 in 23 s and 118 was not
        decided."""
        if self.proof is None:
            return None
        best = self.proof.integer_bound if top is None else min(top, self.proof.integer_bound)
        return best if best <= z or best - z <= self.options.target_steps else None

    def _whole_fits(self, in_play: np.ndarray, step: _Step) -> bool:
        """Whether CP-SAT may take every column a better plan may use."""
        return bool(self._for_better(in_play, step).sum() <= self.options.cpsat_max_columns)

    def _lp(
        self, stage: Stage, c: np.ndarray, relevant: np.ndarray, step: _Step, stages_left: int
    ) -> tuple[_Step, np.ndarray]:
        """The LP relaxation's bound and column fixing, the LP solution rounded, and quick
        CP-SAT solves on the LP's columns; decided ``LP_BOUND`` when the bound proves the
        best plan found.

        The LP's time: a level's fair share of the time left (the LP is what proves a
        level); ``cost_lp_share`` of it for the cost stage, whose search for cheaper plans
        needs the rest."""
        cost = stage.priority is None
        left = self.deadline - time.monotonic()
        lp_seconds = left * self.options.cost_lp_share if cost else left / stages_left
        in_play = self.active & relevant
        options = self.options
        start_columns = (step.x > 0) | self.support_before | self.cheapest
        if cost and self.cost_start is not None:
            cheap = self.cost_start(self.lin.to_allocation(step.x))
            start_columns = start_columns if cheap is None else start_columns | cheap
        # the cost stage's LP: with the cliques its solution violates once pricing converged
        backend = options.cost_lp_solver if cost else options.lp_solver
        cuts = (options.lp_cliques, options.lp_cut_rounds) if cost else (0, 0)
        pricing = Pricing(start_columns, self.pricing_rounds, backend, *cuts)
        proof = lp_proof(self.lin, c, in_play, step.z, lp_seconds, pricing)
        if proof is None:
            return step, in_play
        self.proof = proof
        step.bound = _lowest(step.bound, proof.integer_bound)

        self.active &= ~proof.fixed
        in_play = in_play & ~proof.fixed
        step.log = (
            f"LP {proof.seconds:.2f}s bound {proof.bound:.2f}, {int(in_play.sum())} columns left; "
        )
        rounded = None if proof.proves(step.z) else self._rounded(proof.values, relevant)
        if rounded is not None and int(c @ rounded) > step.z:
            in_play = self._adopt(step, rounded, int(c @ rounded), in_play)
            step.log += f"LP solution rounded and filled: {step.z}; "
        # a level's LP out of time, unproven, in a model this large: only the quick CP-SAT
        # solve on its solution's columns and a first neighbourhood of the incumbent, then
        # the neighbourhoods of the unplaced when far from the bound; no CP-SAT on all its
        # columns nor on larger neighbourhoods, and the levels below, with more columns, get
        # no LP (10,000 x 20,000 hard, T = 60: priority 3's LP had time for one round,
        # 5.2-7.5 s, then 11-15 s of CP-SAT on its 20,886 columns and on neighbourhoods of
        # 4,000-16,000 found nothing, where at seed 2 the quick solve and the first
        # neighbourhood placed 7 more at priority 2 in 2.6 s; priority 2's LP, 7.9 s,
        # bounded it by 3,035 where the flow's bound is 2,050; README, "Performance")
        slow = self.large and not cost and proof.timed_out and not proof.proves(step.z)
        if not slow:
            step, in_play = self._searches(stage, c, in_play, step, stages_left)
        else:
            support = (proof.values > 1e-6) | (step.x > 0)
            step, in_play = self._support(c, support, in_play, step, self._quick(stages_left))
            step, in_play = self._first_neighbourhood(c, in_play, step, stages_left)
            if not self._close(step):
                step, in_play = self._unplaced(c, in_play, step, stages_left)
        if not proof.proves(step.z) and self._cuts_may_prove(step, cost, stages_left):
            step, in_play = self._tighten(c, in_play, step, stages_left)
            proof = self.proof
            assert proof is not None
        self.support_before = proof.values > 1e-6
        if proof.proves(step.z):
            step.log += "incumbent proven by LP"
            step.decided = Decided.LP_BOUND
        elif step.bound is not None and step.bound <= step.z:
            step.log += "incumbent proven by CP-SAT on every column in play"
            step.decided = Decided.CPSAT_OPTIMAL
        elif slow:
            self.lp_too_slow = True
            step.decided = Decided.LP_TOO_SLOW
        else:
            step.log += f"{int(in_play.sum())} columns left; "
        return step, in_play

    def _searches(
        self, stage: Stage, c: np.ndarray, in_play: np.ndarray, step: _Step, stages_left: int
    ) -> tuple[_Step, np.ndarray]:
        """Quick CP-SAT solves for a better plan near the LP's, after the LP."""
        cost = stage.priority is None
        proof = self.proof
        assert proof is not None
        # The LP solution is nearly integral: the best plan using only its columns and the
        # incumbent's is often optimal, and quick to find; if not, a level first tries a
        # neighbourhood of the incumbent, then the best plan on all the columns the LP was
        # solved on. When CP-SAT on every column a better plan may use follows (see stage),
        # that search runs only at a level close to its bound, for half the level's share:
        # under the rows of the LP's duals (see _cpsat) it finds the plan at the bound in
        # 0.05-1 s where CP-SAT on every column took 1.3-3.4 s (1,000 x 3,000 hard, priority 3
        # and 2: seeds 2, 4 and 8 proved priority 3 in 0.25-0.48 s instead of 2.3-4.3 s).
        # covered: the LP solution's and the incumbent's columns hold no better plan
        step, in_play, covered = self._restricted_mip(stage, c, in_play, step)
        for small, support in ((True, proof.values > 1e-6), (False, proof.columns)):
            if small and covered:
                continue
            close = not cost and self._close(step)
            whole = not small and self._whole_fits(in_play, step)
            if proof.proves(step.z) or (whole and not close):
                break
            if not small and cost and proof.timed_out and self.cheapen is not None:
                # its LP did not converge: neighbourhoods it guides, where CP-SAT on its
                # columns found nothing (1,000 x 3,000, T = 10)
                step, in_play = self._cheapen(c, in_play, step, proof.values > 1e-6, self.deadline)
                break
            if not small and close and stages_left == 1:
                step, in_play = self._first_neighbourhood(c, in_play, step, stages_left)
            if not small and not cost and not close:
                # above the last level, only until close: CP-SAT on the LP's columns follows
                step, in_play = self._unplaced(c, in_play, step, stages_left, stages_left > 1)
                # close now: CP-SAT on the LP's columns gets the whole share (standard seed 2,
                # T = 10: priority 2 from 343 to its bound 346 in 3 paired runs of 3, where
                # with half it reached 346 in 1 of 4)
                close = self._close(step)
            if not small and proof.proves(step.z):
                break
            left = self.deadline - time.monotonic()
            if small:
                seconds = self._quick(stages_left)
            else:
                # close: the whole share, it may prove the level; else half, neighbourhoods
                # follow (see stage); the cost stage: all that is left, it counts for a
                # share of its own (with half, the cost at 1,000 x 3,000 standard, T = 60,
                # was 62,566 against 55,249)
                seconds = left / (stages_left + (not cost and not close))
                if whole:
                    seconds = left / (2 * stages_left)
            step, in_play = self._support(c, support | (step.x > 0), in_play, step, seconds)
        return step, in_play

    def _restricted_mip(
        self, stage: Stage, c: np.ndarray, in_play: np.ndarray, step: _Step
    ) -> tuple[_Step, np.ndarray, bool]:
        """The cost stage after its LP: HiGHS's MIP (:mod:`solver.mip`) on the incumbent's
        columns, the LP solution's and each unit's ``cost_mip_columns`` columns of best
        reduced cost (the LP's duals), from the incumbent, within ``cost_mip_share`` of the
        time left; one more column per unit while it proves its plan optimal on them, that
        plan saves at least ``cost_mip_gain`` of the cost, and ``cost_mip_growth`` times
        its time is left (a MIP stopped by its time limit has mostly found nothing). Also
        whether the last MIP proved its plan optimal on its columns: they hold the LP
        solution's and the incumbent's, so CP-SAT on those would find nothing better. Each
        cheaper plan is reported as the stage's improving plan, as CP-SAT's are. Nothing at
        a level: there HiGHS's MIP was no faster than CP-SAT (0.37 s against 0.25 s on the
        levels' smaller models at 1,000 x 3,000 hard) and found nothing in 6 s on level 1's
        8,132 LP columns (hard, T = 10)."""
        proof = self.proof
        assert proof is not None
        if stage.priority is not None:
            return step, in_play, False
        options = self.options
        lin = self.lin
        until = time.monotonic() + options.cost_mip_share * (self.deadline - time.monotonic())
        k, covered = options.cost_mip_columns, False
        while not proof.proves(step.z):
            best = lin.best(k, proof.reduced, in_play)
            columns = in_play & (best | (proof.values > 1e-6) | (step.x > 0))
            found = mip_on_columns(lin, c, columns, step.x, until - time.monotonic())
            before, covered = step.z, False
            if found is not None and int(c @ found.x) > step.z:
                in_play = self._adopt(step, found.x, int(c @ found.x), in_play)
                self._improving(stage, step)
            text = "nothing" if found is None else f"{found.seconds:.2f}s"
            step.log += f"MIP on {int(columns.sum())} columns ({k} a unit) {text}: {step.z}; "
            if found is None or not found.optimal:
                break
            covered = True
            saved_enough = step.z - before >= options.cost_mip_gain * abs(before)
            time_enough = until - time.monotonic() >= options.cost_mip_growth * found.seconds
            if not (saved_enough and time_enough):
                break
            k += 1
        return step, in_play, covered

    def _improving(self, stage: Stage, step: _Step) -> None:
        """Report the stage's incumbent as an improving plan (completed, as
        :class:`_StageProgress` reports CP-SAT's), its gap to the stage's bound."""
        if self.on_stage is None:
            return
        alloc = self.lin.to_allocation(step.x)
        if self.complete is not None:
            alloc = self.complete(alloc)
        proof = self.proof
        assert proof is not None
        bound = proof.integer_bound if step.bound is None else min(step.bound, proof.integer_bound)
        gap = max(0, bound - step.z)
        self.on_stage(improving_stage(stage.name, stage.shown(step.z), gap), alloc, False)

    def _cheaper_first(
        self, stage: Stage, c: np.ndarray, in_play: np.ndarray, step: _Step
    ) -> tuple[_Step, np.ndarray]:
        """The cost stage before its LP (nothing for a level, or for an LP expected to take
        under ``cost_search_from_seconds``), for ``cost_search_share`` of the time left and
        at most ``cost_search_seconds`` (all of it when the LP would then get less than it
        is expected to need: the stage is then decided ``NO_TIME_FOR_LP``): ``cheapen``
        guided by the cheapest flow placing as many per level (``cost_start``) for
        ``cost_neighbourhoods_share`` of it, then CP-SAT on the incumbent's columns and the
        flow's (with ``cost_cpsat_seconds_per_column``), then ``cheapen`` again.

        The plans the levels leave are dear (the packing heuristic places by pressure, not
        cost), and the cost LP needs 2-9 s to converge at 1,000 x 3,000. Measured there
        after the levels, 4 s each (the cost stage's time at T = 10), standard and hard seed
        1: 68,087 and 44,764 from 100,816 and 59,039, where the neighbourhoods alone gave
        72,865 and 49,136, and CP-SAT on those columns first 66,762 and 45,885 (it needs
        2-2.6 s from the levels' plan as hint; given 1.3 s it found no better plan)."""
        options = self.options
        lp_needs = options.cost_lp_seconds_per_column * int(in_play.sum())
        if stage.priority is not None or lp_needs < options.cost_search_from_seconds:
            return step, in_play
        now = time.monotonic()
        left = self.deadline - now
        budget = min(left * options.cost_search_share, options.cost_search_seconds)
        lp_too_short = (left - budget) * options.cost_lp_share < lp_needs
        if lp_too_short:
            budget = left  # its LP would not converge in what is left: the search gets it all
        until = now + budget
        cheap = None if self.cost_start is None else self.cost_start(self.lin.to_allocation(step.x))
        step, in_play = self._cheapen(
            c, in_play, step, cheap, now + budget * options.cost_neighbourhoods_share
        )
        if cheap is not None:
            columns = in_play & (cheap | (step.x > 0))
            seconds = until - time.monotonic()
            enough = seconds >= options.cost_cpsat_seconds_per_column * int(columns.sum())
            found = self._cpsat(columns, c, step.x, seconds) if enough else None
            if found is not None and int(c @ found.x) > step.z:
                in_play = self._adopt(step, found.x, int(c @ found.x), in_play)
                step.log += f"CP-SAT on the cheapest flow's columns {found.text}: {step.z}; "
        step, in_play = self._cheapen(c, in_play, step, cheap, until)
        if lp_too_short:
            step.decided = Decided.NO_TIME_FOR_LP
        return step, in_play

    def _cheapen(
        self,
        c: np.ndarray,
        in_play: np.ndarray,
        step: _Step,
        guide_columns: np.ndarray | None,
        until: float,
    ) -> tuple[_Step, np.ndarray]:
        """The cost stage's incumbent made cheaper by ``cheapen`` until ``until``, guided by
        the shelters some columns give each unit (a cheapest flow's, an LP solution's);
        kept when it costs less and keeps every row."""
        if self.cheapen is None or time.monotonic() >= until - 0.1:
            return step, in_play
        lin = self.lin
        guide: dict[int, np.ndarray] = {}
        if guide_columns is not None:
            used = np.flatnonzero(guide_columns)
            units, shelters = lin.col_unit[used], lin.col_shelter[used]
            cut = np.flatnonzero(np.diff(units)) + 1  # columns are sorted by unit
            for ui, where in zip(np.split(units, cut), np.split(shelters, cut), strict=True):
                if len(ui):
                    guide[int(ui[0])] = np.sort(where).astype(np.int64)
        found = lin.to_columns(self.cheapen(lin.to_allocation(step.x), until, guide))
        found = np.where(in_play, found, 0)  # only what the stage may use (rows checked)
        if int(c @ found) > step.z and lin.satisfies(found):
            in_play = self._adopt(step, found, int(c @ found), in_play)
        step.log += f"neighbourhoods of the dearest: {step.z}; "
        return step, in_play

    def _quick(self, stages_left: int) -> float:
        """Seconds for the quick CP-SAT solve on the LP solution's columns: the stage's
        share of the time left, at most ``support_time_limit``."""
        return min(
            (self.deadline - time.monotonic()) / stages_left, self.options.support_time_limit
        )

    def _close(self, step: _Step) -> bool:
        """Whether a level's incumbent is within ``close_gap`` of its bound after the LP:
        then CP-SAT on the LP's columns gets the level's whole share (it may prove the
        level), after a first neighbourhood of the incumbent at the last level (nothing
        waits for its time there). Measured at 1,000 x 3,000, T = 10: standard, level 1
        (333-334 against 335), a neighbourhood of 4,000 columns finds 335 where CP-SAT on
        the LP's 9,086 columns ended at 334 in 5.7-6.6 s; hard, level 1 (176 against 180),
        CP-SAT on the LP's 8,104 columns needs 3.3-4.6 s to find 180 (with half the share it
        stayed at 177). Further (hard, seed 2, level 1: 132 against 147), half the share,
        neighbourhoods in the rest, as before; a first neighbourhood at seed 2's level 2
        (191 against 193) took 0.6 s that level 1 then lacked."""
        if step.bound is None:
            return False
        return step.z >= self._close_from(step.bound)

    def _close_from(self, bound: int) -> float:
        """The least value of a level within ``close_gap`` of ``bound`` (:meth:`_close`)."""
        return bound - self.options.close_gap * abs(bound)

    def _cuts_may_prove(self, step: _Step, cost: bool, stages_left: int) -> bool:
        """Whether the LP again with clique cuts (:meth:`_tighten`) is worth its time: its
        bound one above the incumbent, or at the last level (no level after it for the cut
        rows to slow down) within ``close_gap`` of it. At 1,000 x 3,000 hard, seed 3,
        priority 1 (161 against the LP's 163), the cuts bring the bound to 161.60, which
        proves 161; at every level within ``close_gap``, priority 1 ended at 145 in 60 s."""
        if step.bound is None or step.bound <= step.z:
            return False
        last_level = not cost and stages_left == 1
        return step.bound == step.z + 1 or (last_level and self._close(step))

    def _tighten(
        self, c: np.ndarray, in_play: np.ndarray, step: _Step, stages_left: int
    ) -> tuple[_Step, np.ndarray]:
        """The LP again with clique cuts (:mod:`solver.cuts`), from the columns the last one
        was solved on, when its bound is one above the incumbent: a bound below that proves
        the incumbent without CP-SAT. At 1,000 x 3,000 hard, priority 3: 157.00 without
        cuts, 156.94 after 8 rounds of them (0.35 s, load 2.5), where CP-SAT needed 2.1 s
        to prove 156."""
        proof = self.proof
        assert proof is not None
        options = self.options
        pricing = Pricing(
            proof.columns | (step.x > 0),
            self.pricing_rounds,
            options.lp_solver,
            options.lp_cliques,
            options.lp_cut_rounds,
        )
        seconds = (self.deadline - time.monotonic()) / stages_left
        tighter = lp_proof(self.lin, c, in_play, step.z, seconds, pricing)
        if tighter is None or tighter.bound >= proof.bound:
            return step, in_play
        self.proof = tighter
        step.bound = _lowest(step.bound, tighter.integer_bound)
        self.active &= ~tighter.fixed
        in_play = in_play & ~tighter.fixed
        step.log += f"LP with cliques {tighter.seconds:.2f}s bound {tighter.bound:.2f}; "
        return step, in_play

    def _first_neighbourhood(
        self, c: np.ndarray, in_play: np.ndarray, step: _Step, stages_left: int
    ) -> tuple[_Step, np.ndarray]:
        """A level's first neighbourhood of the incumbent (:meth:`_neighbourhoods`), for at
        most ``support_time_limit`` and half the level's share (see :meth:`_close`)."""
        left = self.deadline - time.monotonic()
        until = time.monotonic() + min(left / (stages_left + 1), self.options.support_time_limit)
        return self._neighbourhoods(c, in_play, step, until, once=True)

    def _first_step(
        self, c: np.ndarray, in_play: np.ndarray, x: np.ndarray, known: int | None
    ) -> _Step:
        """A stage before its search: the incumbent, and the best bound known (``known``,
        or the trivial one)."""
        self.proof = None
        # c . x <= sum of max(c_j, 0) ub_j: with c <= 0 (the cost stage) the bound is 0
        trivial = int(np.maximum(c[in_play], 0) @ self.lin.col_ub[in_play])
        return _Step(x, int(c @ x), Decided.NOTHING_FOUND, "", _lowest(trivial, known))

    def without_lp(
        self,
        stage: Stage,
        c: np.ndarray,
        relevant: np.ndarray,
        x: np.ndarray,
        stages_left: int,
        known: int | None = None,
    ) -> _Step:
        """A stage below a level whose LP did not converge in a large model (see :meth:`_lp`):
        its own LP, over more columns, would not either. A level gets the neighbourhoods of
        the unplaced (:meth:`_unplaced`) for its share; the cost stage nothing (its LP over
        5.4 M columns took the process from 3.8 to 4.9 GB at 10,000 x 20,000 hard): the
        moves to cheaper places follow (:func:`solver.engine._lexicographic_solve`)."""
        in_play = self.active & relevant
        step = self._first_step(c, in_play, x, known)
        if stage.priority is None:
            step.decided = Decided.TOO_MANY_COLUMNS
            return step
        step, _ = self._unplaced(c, in_play, step, stages_left)
        step.decided = Decided.NEIGHBOURHOODS
        return step

    def _unplaced(
        self,
        c: np.ndarray,
        in_play: np.ndarray,
        step: _Step,
        stages_left: int,
        until_close: bool = False,
    ) -> tuple[_Step, np.ndarray]:
        """A level far from its LP bound (or with no LP, :meth:`without_lp`): the incumbent
        improved by ``improve`` (CP-SAT on neighbourhoods of the unplaced, :mod:`solver.lns`),
        for ``unplaced_share`` of the level's share of the time (it stops sooner when it
        stalls, and ``until_close``, once the level is close to its bound, see
        :meth:`_close`); kept when it places more at this level and keeps every row (those
        of the stages before included).
        Measured at 1,000 x 3,000 hard, T = 10, priority 1 (the LP's bound 148 and 163):
        seed 2 from 135 to 144, seed 3 from 149 to 157, where CP-SAT on the LP's columns
        and the neighbourhoods its duals rank found nothing better. At seed 4's priority 2
        (bound 182) they ran their whole 2.7 s to reach 180 where CP-SAT on the LP's
        columns then found 182 in 1.4 s: stopped once close, the level was proven in 2.6 s
        instead of 5.7 s, and priority 1 placed about 3 more (8 paired runs, T = 8.3-8.8; the
        other hard seeds and standard seeds 1-3 the same within their run-to-run spread)."""
        if self.improve is None:
            return step, in_play
        left = self.deadline - time.monotonic()
        until = time.monotonic() + self.options.unplaced_share * left / stages_left
        enough: Enough | None = None
        if until_close and step.bound is not None:
            close = self._close_from(step.bound)

            def enough(alloc: Allocation) -> bool:
                return bool(c @ np.where(in_play, self.lin.to_columns(alloc), 0) >= close)

        found = self.lin.to_columns(self.improve(self.lin.to_allocation(step.x), until, enough))
        found = np.where(in_play, found, 0)  # only what the stage may use (rows checked)
        if int(c @ found) > step.z and self.lin.satisfies(found):
            in_play = self._adopt(step, found, int(c @ found), in_play)
        step.log += f"neighbourhoods of the unplaced: {step.z}; "
        return step, in_play

    def _support(
        self, c: np.ndarray, support: np.ndarray, in_play: np.ndarray, step: _Step, seconds: float
    ) -> tuple[_Step, np.ndarray]:
        """CP-SAT on some columns in play (the LP's and the incumbent's) for ``seconds``:
        a better plan becomes the incumbent; a bound holds when they are all in play."""
        support = in_play & support
        found = self._cpsat(support, c, step.x, seconds, top=step.bound)
        if found is not None and (support == in_play).all():
            step.bound = _lowest(step.bound, found.bound)  # it saw every column in play
        if found is not None and int(c @ found.x) > step.z:
            in_play = self._adopt(step, found.x, int(c @ found.x), in_play)
            step.log += f"LP support {int(support.sum())} columns {found.text}; "
        return step, in_play

    def _adopt(self, step: _Step, x: np.ndarray, z: int, in_play: np.ndarray) -> np.ndarray:
        """Make ``x`` (of value ``z``, better than the incumbent) the stage's incumbent: the
        last LP's duals then rule out more columns, for this stage and the later ones; the
        columns still in play."""
        proof = self.proof
        step.x, step.z = x, z
        if proof is None:  # no LP at this stage (see without_lp)
            return in_play
        more = proof.fixed_for(z)
        self.active &= ~more
        return in_play & ~more

    def _neighbourhoods(
        self, c: np.ndarray, in_play: np.ndarray, step: _Step, until: float, once: bool = False
    ) -> tuple[_Step, np.ndarray]:
        """Search for a better plan with CP-SAT on neighbourhoods of the incumbent until
        ``until``: its columns, the LP solution's, and those the LP's duals price best
        (least negative reduced cost), ``neighbourhood_columns`` of them, twice as many
        each time CP-SAT finds nothing better on one (``once``: the first only). Decided
        ``LP_BOUND`` when a plan meets the LP bound (the columns it fixes against a better
        plan are dropped)."""
        proof = self.proof
        assert proof is not None
        size, tries = self.options.neighbourhood_columns, 0
        ranked = np.flatnonzero(in_play)
        ranked = ranked[np.argsort(-proof.reduced[ranked], kind="stable")]
        while time.monotonic() < until - 0.05 and not proof.proves(step.z):
            if once and tries:
                break
            chosen = in_play & ((step.x > 0) | (proof.values > 1e-6))
            more = ranked[in_play[ranked] & ~chosen[ranked]]
            chosen[more[: max(0, size - int(chosen.sum()))]] = True
            seconds = min(until - time.monotonic(), self.options.support_time_limit)
            found = self._cpsat(chosen, c, step.x, seconds, top=step.bound)
            tries += 1
            if found is not None and int(c @ found.x) > step.z:
                in_play = self._adopt(step, found.x, int(c @ found.x), in_play)
            elif found is None or not found.optimal or (chosen == in_play).all():
                break  # nothing better in its time, or on every column: larger will not do
            else:
                size *= 2
        step.log += f"{tries} neighbourhoods (up to {size} columns): {step.z}; "
        if proof.proves(step.z) and not once:  # once: the LP stage says it
            step.log += "incumbent proven by LP"
            step.decided = Decided.LP_BOUND
        return step, in_play

    def _rounded(self, values: np.ndarray, relevant: np.ndarray) -> np.ndarray | None:
        """The LP solution rounded down, its room filled (``complete``), on the stage's
        columns; None when it breaks a row (a stage row the rounding undid)."""
        x = np.floor(values + 1e-6).astype(np.int64)
        if self.complete is not None and time.monotonic() < self.deadline:
            x = self.lin.to_columns(self.complete(self.lin.to_allocation(x)))
        x = np.where(relevant, x, 0)
        return x if self.lin.satisfies(x) else None

    def _cpsat(
        self,
        columns: np.ndarray,
        c: np.ndarray,
        hint: np.ndarray,
        seconds: float,
        callback: Callable[[PlacementModel], cp_model.CpSolverSolutionCallback] | None = None,
        top: int | None = None,
    ) -> _Found | None:
        """Maximise ``c . x`` by CP-SAT on some columns, from ``hint`` (the incumbent), or
        None when it found nothing.

        With the stage's LP, CP-SAT looks only for plans better than the incumbent, under
        the rows the LP's duals imply for them (:meth:`PlacementModel.at_least`). Within
        ``target_steps`` of the best bound known (``top``, else the LP's), it first looks
        for a plan at that bound, then one below it, ... down to one more than the
        incumbent: each target it finds no plan for lowers the bound by one (on these
        columns), and when none is left the incumbent is returned as proven on them.
        Measured at 1,000 x 3,000 hard, load 0.4-1.0: priority 3 (one person under the
        LP's bound, 18k-25k columns) 1.3-3.4 s to the optimum where CP-SAT took 3.0-5.5 s
        without the rows; priority 1 at seed 1 (177 under 180, 8,364 columns): 3.2 s with
        the bound as first target, 7.2 s with one more than the incumbent, 5.2 s without
        the rows; the cost stage (one more than the incumbent): 2.1-5.4 s against 7.9-13.3 s."""
        if seconds <= self.options.cpsat_seconds_per_column * columns.sum():
            return None  # not even the time to build the model
        z = int(c @ hint)
        start = self._from_bound(z, top)
        if start is not None and start <= z:
            return _Found(hint, "the incumbent meets the bound", True, z)
        until = time.monotonic() + seconds  # building the model counts
        lin = self.lin
        model = PlacementModel(lin, active=columns)
        model.model.maximize(model.expression(c))
        model.hint(lin.to_allocation(hint))
        proof = self.proof
        targets: list[int | None] = [None]
        if proof is not None:
            targets = [z + 1] if start is None else list(range(start, z, -1))
        texts: list[str] = []
        bound = None  # the bound the targets found out of reach prove
        for target in targets:
            cp = model.model
            if target is not None and proof is not None:
                cp = model.at_least(c, target, proof)
            solver = configured_solver(self.options, until - time.monotonic(), len(model.y))
            status = solver.solve(cp, callback(model) if callback else None)
            texts.append(f"{solver.status_name(status)} {solver.wall_time:.2f}s")
            if status == cp_model.INFEASIBLE and target is not None:
                bound = target - 1  # no plan reaches the target on these columns
                if time.monotonic() < until - 0.01:
                    continue
                break
            if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                x = lin.to_columns(model.read(solver.value))
                found = math.floor(solver.best_objective_bound + 1e-6)
                return _Found(x, ", ".join(texts), status == cp_model.OPTIMAL, found)
            break
        if bound is None:
            return None
        return _Found(hint, ", ".join(texts), bound <= z, bound)


class _Found(NamedTuple):
    """What one CP-SAT solve found: column values, a status text, whether it proved them
    optimal, and its bound on ``c . x`` over the columns it was given."""

    x: np.ndarray
    text: str
    optimal: bool
    bound: int


def _lowest(a: int | None, b: int | None) -> int | None:
    """The tighter of two upper bounds (None: no bound)."""
    return b if a is None else a if b is None else min(a, b)


def _keep(lin: LinearModel, c: np.ndarray, value: int) -> None:
    """Later stages keep what this one reached: ``c . x >= value``."""
    cols = np.flatnonzero(c)
    lin.add_row(cols, c[cols], value, INF, "stage")


def is_feasible(
    model: PlacementModel, options: SolveOptions, hint: Allocation | None = None
) -> bool | None:
    """True/False when CP-SAT decides the model within the limit, None when it cannot tell."""
    if hint is not None:
        model.hint(hint)
    model.model.clear_objective()
    solver = configured_solver(options, options.time_limit)
    status = solver.solve(model.model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return True
    if status == cp_model.INFEASIBLE:
        return False
    return None
