"""The CP-SAT side: the integer model of a :class:`solver.linear.LinearModel`, and the
lexicographic solve.

Decision: ``y[u, s]`` = copies of unit *u* placed in shelter *s*, only for the pairs every
pair rule admits (see :mod:`solver.units`). A household is one copy, so all-or-none holds by
construction. The constraints are the rows of the linear model (one method per plan rule
there). The objective is solved in stages: maximise persons placed at priority 5, keep that,
then 4, ... then minimise the secondary cost. Before each stage the LP relaxation
(:mod:`solver.lp`) rules out the columns no optimal plan uses, or proves the incumbent
optimal outright; CP-SAT gets what is left of the time limit and starts from the incumbent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import partial
from typing import NamedTuple

import numpy as np
from ortools.sat.python import cp_model

from placement.models import PRIORITIES
from solver.allocation import Allocation
from solver.linear import INF, LinearModel
from solver.lp import Pricing, lp_proof
from solver.options import SolveOptions

log = logging.getLogger(__name__)


class Decided(Enum):
    """How a stage of the lexicographic solve was decided."""

    FLOW_BOUND = "the incumbent reaches the flow bound"
    LP_BOUND = "the LP bound proves the incumbent"
    CPSAT_OPTIMAL = "CP-SAT proved it optimal"
    CPSAT_FEASIBLE = "CP-SAT's best in its time, not proven"
    TOO_MANY_COLUMNS = "not proven: too many columns for CP-SAT"
    NOTHING_FOUND = "CP-SAT found nothing in its time"

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


@dataclass
class LexResult:
    allocation: Allocation
    proven_optimal: bool
    stages: list[StageResult]


class PlacementModel:
    """The CP-SAT model of a :class:`LinearModel`, on some of its columns."""

    def __init__(self, linear: LinearModel, active: np.ndarray | None = None):
        """``active`` keeps only some columns of ``linear`` (those the LP has not ruled out)."""
        self.linear = lin = linear
        self.active = np.ones(lin.n_columns, dtype=bool) if active is None else active
        self.model = cp_model.CpModel()
        self.y: dict[tuple[int, str], cp_model.IntVar] = {}
        self.columns = np.flatnonzero(self.active)
        variables: list[cp_model.IntVar | None] = [None] * lin.n_columns
        for j, ub in zip(self.columns.tolist(), lin.col_ub[self.columns].tolist(), strict=True):
            ui, sid = int(lin.col_unit[j]), lin.shelter_id(j)
            name = f"y_{ui}_{sid}"
            var = self.model.new_bool_var(name) if ub == 1 else self.model.new_int_var(0, ub, name)
            self.y[(ui, sid)] = var
            variables[j] = var
        self._variables = variables
        for i in range(len(lin.row_lo)):
            self._row(i)

    def _row(self, i: int) -> None:
        lin = self.linear
        cols, coefs = lin.row_cols[i], lin.row_coefs[i]
        keep = self.active[cols]
        cols, coefs = cols[keep], coefs[keep]
        lo, hi = lin.row_lo[i], lin.row_hi[i]
        ub = lin.col_ub[cols]
        most = int(np.maximum(coefs, 0) @ ub)
        least = int(np.minimum(coefs, 0) @ ub)
        if least >= lo and most <= hi:
            return  # cannot bind on these columns
        terms = [self._variables[j] for j in cols.tolist()]
        if hi == 1 and lo == -INF and (coefs == 1).all() and (ub == 1).all():
            self.model.add_at_most_one(terms)  # type: ignore[arg-type]
            return
        expr = cp_model.LinearExpr.weighted_sum(terms, coefs.tolist())  # type: ignore[arg-type]
        if lo != -INF:
            self.model.add(expr >= int(lo))
        if hi != INF:
            self.model.add(expr <= int(hi))

    def expression(self, c: np.ndarray) -> cp_model.LinearExprT:
        """``c . x`` over the columns in this model."""
        cols = self.columns[c[self.columns] != 0]
        terms = [self._variables[j] for j in cols.tolist()]
        return cp_model.LinearExpr.weighted_sum(terms, c[cols].tolist())  # type: ignore[arg-type]

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
        alloc = self._model.read(self.value)
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


def solve_lexicographic(
    lin: LinearModel,
    options: SolveOptions,
    start: Allocation,
    on_stage: Callable[[str, Allocation, bool], None] | None = None,
    complete: Callable[[Allocation], Allocation] | None = None,
    bound: dict[int, int] | None = None,
) -> LexResult:
    """Maximise persons placed per priority level in turn, then minimise secondary cost.

    ``start`` must be a valid allocation (the first plan, or ``{}``): the first incumbent.
    ``bound`` (persons placeable at priority >= p, :mod:`solver.flow_bound`) proves a level
    as soon as the incumbent reaches it. A stage CP-SAT cannot prove in its share of the time
    keeps the best value found, and the later stages still run: the plan is then feasible.
    ``complete`` fills what room an allocation leaves (greedily), to give each stage a good
    incumbent. Stage *p* only involves the units with persons at priority >= *p*: leaving
    the others out changes neither its optimum nor what it proves. Before each stage, the LP
    relaxation (:mod:`solver.lp`) bounds it and rules out columns no plan at least as good as
    the incumbent uses; when the bound equals the incumbent the stage is proven without
    CP-SAT, otherwise CP-SAT solves it on the columns left, from the incumbent. A stage's
    value is then kept as a row.
    """
    search = _Lexicographic(lin, options, on_stage)
    x_best = lin.to_columns(start)
    proven = True
    stages: list[StageResult] = []
    plan = stage_objectives(lin)
    reached = 0  # persons placed at the levels already decided
    for k, (stage, c, relevant) in enumerate(plan):
        if time.monotonic() >= search.deadline:
            proven = False
            break
        x_stage = np.where(relevant, x_best, 0)
        in_play = search.active & relevant
        level = stage.priority
        if (
            level is not None
            and bound is not None
            and reached + int(c @ x_stage) >= bound.get(level, -1)
        ):
            step = _Step(
                x_stage, int(c @ x_stage), Decided.FLOW_BOUND, "incumbent reaches the flow bound"
            )
        else:
            step = search.stage(stage, c, in_play, x_stage, len(plan) - k)
        proven = proven and step.decided.proven
        if (step.x != np.where(relevant, x_best, 0)).any():  # the stage moved someone
            # keep its plan, with the room it leaves filled for the levels below
            x_best = step.x
            if complete is not None and time.monotonic() < search.deadline:
                x_best = lin.to_columns(complete(lin.to_allocation(step.x)))
        stages.append(StageResult(stage, stage.shown(step.z), step.decided, step.log))
        _keep(lin, c, step.z)
        reached += max(step.z, 0) if level is not None else 0
        if on_stage is not None:
            on_stage(stage.name, lin.to_allocation(x_best), proven)
    return LexResult(allocation=lin.to_allocation(x_best), proven_optimal=proven, stages=stages)


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


class _Lexicographic:
    """What the stages share: the deadline, the columns not ruled out, where LPs start."""

    def __init__(
        self,
        lin: LinearModel,
        options: SolveOptions,
        on_stage: Callable[[str, Allocation, bool], None] | None,
    ) -> None:
        self.lin = lin
        self.options = options
        self.on_stage = on_stage
        self.deadline = time.monotonic() + options.time_limit
        self.active = np.ones(lin.n_columns, dtype=bool)
        self.cheapest = lin.cheapest(options.lp_start_columns)  # where each stage's LP starts
        self.support_before = np.zeros(lin.n_columns, dtype=bool)

    def stage(
        self, stage: Stage, c: np.ndarray, in_play: np.ndarray, x: np.ndarray, stages_left: int
    ) -> _Step:
        """Decide one stage: by the LP when it proves the incumbent, else by CP-SAT."""
        step = _Step(x, int(c @ x), Decided.NOTHING_FOUND, "")
        if self.options.lp_fixing:
            step, in_play = self._lp(c, in_play, step, stages_left)
            if step.decided is Decided.LP_BOUND:
                return step
        if in_play.sum() > self.options.cpsat_max_columns:
            step.log += f"not proven ({int(in_play.sum())} columns: too many for CP-SAT)"
            step.decided = Decided.TOO_MANY_COLUMNS
            return step
        # CP-SAT on the columns left, with a fair share of the time left.
        share = (self.deadline - time.monotonic()) / stages_left
        on_stage = self.on_stage
        callback = (
            partial(_StageProgress, stage=stage.name, on_stage=on_stage) if on_stage else None
        )
        found = self._cpsat(in_play, c, step.x, share, callback)
        if found is None:
            step.log += "CP-SAT found nothing in its time"
            step.decided = Decided.NOTHING_FOUND
            return step
        if int(c @ found[0]) >= step.z:
            step.x, step.z = found[0], int(c @ found[0])
        step.log += found[1]
        step.decided = Decided.CPSAT_OPTIMAL if found[2] else Decided.CPSAT_FEASIBLE
        return step

    def _lp(
        self, c: np.ndarray, in_play: np.ndarray, step: _Step, stages_left: int
    ) -> tuple[_Step, np.ndarray]:
        """The LP relaxation's bound and column fixing, and quick CP-SAT solves on the LP's
        columns; decided ``LP_BOUND`` when the bound proves the best plan found."""
        start_columns = (step.x > 0) | self.support_before | self.cheapest
        left = self.deadline - time.monotonic()
        proof = lp_proof(self.lin, c, in_play, step.z, left, Pricing(start_columns))
        if proof is None:
            return step, in_play

        self.active &= ~proof.fixed
        in_play = in_play & ~proof.fixed
        step.log = (
            f"LP {proof.seconds:.2f}s bound {proof.bound:.2f}, {int(in_play.sum())} columns left; "
        )
        # The LP solution is nearly integral: the best plan using only its columns and the
        # incumbent's is often optimal, and quick to find; if not, the best plan on all the
        # columns the LP was solved on.
        for small, support in ((True, proof.values > 1e-6), (False, proof.columns)):
            if proof.proves(step.z):
                break
            support = in_play & (support | (step.x > 0))
            seconds = (self.deadline - time.monotonic()) / stages_left  # a fair share
            if small:
                seconds = min(seconds, self.options.support_time_limit)
            found = self._cpsat(support, c, step.x, seconds)
            if found is not None and int(c @ found[0]) > step.z:
                step.x, step.z = found[0], int(c @ found[0])
                step.log += f"LP support {int(support.sum())} columns {found[1]}; "
                # a better incumbent lets the same duals rule out more columns
                more = proof.fixed_for(step.z)
                self.active &= ~more
                in_play = in_play & ~more
        self.support_before = proof.values > 1e-6
        if proof.proves(step.z):
            step.log += "incumbent proven by LP"
            step.decided = Decided.LP_BOUND
        else:
            step.log += f"{int(in_play.sum())} columns left; "
        return step, in_play

    def _cpsat(
        self,
        columns: np.ndarray,
        c: np.ndarray,
        hint: np.ndarray,
        seconds: float,
        callback: Callable[[PlacementModel], cp_model.CpSolverSolutionCallback] | None = None,
    ) -> tuple[np.ndarray, str, bool] | None:
        """Maximise ``c . x`` by CP-SAT on some columns: (values, status text, optimal) or
        None."""
        if seconds <= 0:
            return None
        lin = self.lin
        model = PlacementModel(lin, active=columns)
        model.model.maximize(model.expression(c))
        model.hint(lin.to_allocation(hint))
        solver = _solver(self.options, seconds, len(model.y))
        status = solver.solve(model.model, callback(model) if callback else None)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        text = f"{solver.status_name(status)} {solver.wall_time:.2f}s"
        return lin.to_columns(model.read(solver.value)), text, status == cp_model.OPTIMAL


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
    solver = _solver(options, options.time_limit)
    status = solver.solve(model.model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return True
    if status == cp_model.INFEASIBLE:
        return False
    return None
