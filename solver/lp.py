"""The LP relaxation of a :class:`solver.linear.LinearModel`, and what it proves.

For one stage of the lexicographic objective (maximise ``c . x``), the LP relaxation over the
columns still in play gives dual values ``y``. For *any* ``y`` (after forcing the signs that
infinite row bounds require) and every integer plan ``x``:

    c . x <= B(y) + sum over columns with d_j < 0 of d_j x_j,     d = c - A'y,
    B(y) = sum_i (max(y_i, 0) hi_i + min(y_i, 0) lo_i) + sum_j max(d_j, 0) ub_j

(``y'Ax`` is at most the first sum because each row activity lies in ``[lo_i, hi_i]``, and
``d_j x_j <= max(d_j, 0) ub_j`` for ``0 <= x_j <= ub_j``.) So ``B(y)`` bounds the stage, and a
column with ``B(y) + d_j < z`` for some plan of value ``z`` cannot be used by any plan as good
as that one: it is fixed to 0. The bound is computed here from the duals the LP solver
returns, in float64, with a safety margin; a dual vector of the wrong sign or an inaccurate
LP only makes it weaker, never wrong. Nothing here trusts the LP solver's own objective.

Each unit row's dual is then set to the value that minimises ``B`` given the others (a
closed form, ``_Duals.by_unit``): while column generation still prices columns in, the
restricted LP's duals count a unit once per attractive column, this at most once per copy.
At 1,000 x 3,000 the bound after the first round fell from 21,536 to 1,065 (standard,
priority 1) and the cost stage's after three rounds from -17,162 to -43,351 (as maximised);
converged, the two are the same.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp

from solver.cuts import add_cliques, violated_cliques
from solver.linear import LinearModel

log = logging.getLogger(__name__)

#: absolute slack per unit of |bound| when comparing float bounds with integer values
TOLERANCE = 1e-7


@dataclass(frozen=True)
class LpProof:
    bound: float  # upper bound on c . x over integer plans using only the active columns
    duals: np.ndarray  # the row duals y of the bound, B(y) (module docstring)
    incumbent: int  # the value of the plan the columns were fixed against
    seconds: float
    values: np.ndarray  # the LP solution, per column of the model (0 outside the active ones)
    columns: np.ndarray  # the columns the last LP was solved on
    reduced: np.ndarray  # d_j per column, from the duals behind ``bound``
    active: np.ndarray  # the columns the bound is over
    #: pricing stopped for want of time (the time limit, or less of it left than one more
    #: round would take), with columns left to price in
    timed_out: bool = False

    @property
    def fixed(self) -> np.ndarray:
        """Active columns proven useless for plans of value >= the incumbent."""
        return self.fixed_for(self.incumbent)

    def fixed_for(self, incumbent: int) -> np.ndarray:
        """The columns fixed against a better incumbent (same duals, so no new LP)."""
        margin = TOLERANCE * max(1.0, abs(self.bound))
        fixed: np.ndarray = self.active & (self.reduced < 0)
        return fixed & (self.bound + self.reduced + margin < incumbent)

    @property
    def integer_bound(self) -> int:
        """The bound on integer plans (``c`` is integral): the float bound rounded down,
        after the same safety margin as :meth:`proves`."""
        return math.floor(self.bound + TOLERANCE * max(1.0, abs(self.bound)))

    def proves(self, incumbent: int) -> bool:
        """Whether no plan beats ``incumbent``: the incumbent is optimal for this stage."""
        return self.bound + TOLERANCE * max(1.0, abs(self.bound)) < incumbent + 1


@dataclass(frozen=True)
class Pricing:
    """Column generation: the columns the first LP is solved on (None: every active column)
    and how many rounds of pricing follow at most."""

    start: np.ndarray | None = None
    #: the rounds stop earlier when the time is up or the bound meets the LP value; 8 was too
    #: few at 1,000 x 3,000 standard: level 1's duals keep pricing in 20-40 columns a round
    #: (bound 355, 371, 352, 376, 356, 356) and converge at round 9 (335, 1.8-3.2 s)
    max_rounds: int = 40
    backend: str = "glop"
    #: once pricing finds nothing, add up to ``cliques`` violated clique cuts
    #: (:mod:`solver.cuts`) and solve again, while the bound does not prove the incumbent,
    #: ``cut_rounds`` times at most (0: no cuts)
    cliques: int = 0
    cut_rounds: int = 0


def lp_proof(
    lin: LinearModel,
    c: np.ndarray,
    active: np.ndarray,
    incumbent: int,
    time_limit: float,
    pricing: Pricing = Pricing(),
) -> LpProof | None:
    """Bound ``max c . x`` over the ``active`` columns by the LP relaxation, and return the
    columns it fixes; None when the LP gives nothing usable.

    Column generation (``pricing``): the LP is solved (``pricing.backend``: GLOP from
    scratch each round, or HiGHS kept warm from round to round) on the ``start`` columns
    only, then every active column is priced with the duals (``d_j``, vectorised over all of
    them); columns with ``d_j > 0`` are added and the LP solved again, until none is left or
    the rounds run out; then, with ``pricing.cliques``, the clique cuts the solution
    violates are added to the model (:mod:`solver.cuts`) and the LP solved again.
    The bound formula holds for any duals, so the result is valid at every round; it equals
    the LP optimum over all active columns once pricing finds nothing.
    """
    started = time.perf_counter()
    deadline = time.monotonic() + time_limit
    if not active.any():
        return None
    matrix, row_lo, row_hi = lin.matrix()
    act = np.flatnonzero(active)
    ub_all = lin.col_ub.astype(float)
    cost_all = c.astype(float)
    start = pricing.start
    subset = active.copy() if start is None else (active & start)
    dual = _Duals(lin, cost_all, act)
    best: tuple[float, np.ndarray, np.ndarray, np.ndarray] | None = None
    last_round = 0.0  # seconds the last round took: the next one is likely longer
    cut_rounds = pricing.cut_rounds
    solve = LP_BACKENDS[pricing.backend]()
    timed_out = False
    for round_ in range(pricing.max_rounds):
        left = deadline - time.monotonic()
        if left <= 0 or (round_ and left < 1.5 * last_round):
            timed_out = True
            break
        round_started = time.monotonic()
        cols = np.flatnonzero(subset)
        solved = solve(_Lp(matrix, row_lo, row_hi, ub_all, cost_all), cols, left)
        if solved is None:
            timed_out = time.monotonic() >= deadline - 0.01
            break
        duals, primal = solved
        value = float(cost_all[cols] @ primal)
        y = dual.signed(duals, cols, value)
        bound, y, reduced, d = dual.bound(y)
        if best is None or bound < best[0]:
            values = np.zeros(lin.n_columns)
            values[cols] = primal
            best = (bound, y, reduced, values)
        attractive = np.flatnonzero(active & ~subset & (d > 1e-9))
        last_round = time.monotonic() - round_started
        log.debug(
            "LP round %d: %d columns, %.2fs, value %.1f, bound %.1f (best %.1f), %d attractive",
            round_, len(cols), last_round, value, bound, best[0], len(attractive),
        )  # fmt: skip
        if not len(attractive) or best[0] <= value + TOLERANCE * max(1.0, abs(value)):
            solution = np.zeros(lin.n_columns)
            solution[cols] = primal
            if cut_rounds <= 0 or not _cut(lin, solution, pricing.cliques, best[0], incumbent):
                break
            cut_rounds -= 1
            matrix, row_lo, row_hi = lin.matrix()
            dual = _Duals(lin, cost_all, act)
            continue
        most = max(1000, len(cols) // 2)
        subset[attractive[np.argsort(-d[attractive])[:most]]] = True
    if best is None:
        return None
    bound, y, d, values = best
    return LpProof(
        bound=bound,
        duals=y,
        incumbent=incumbent,
        seconds=time.perf_counter() - started,
        values=values,
        columns=subset,
        reduced=d,
        active=active.copy(),
        timed_out=timed_out,
    )


def _cut(lin: LinearModel, solution: np.ndarray, most: int, bound: float, incumbent: int) -> bool:
    """Add the clique cuts ``solution`` violates (up to ``most``) to the model, unless the
    bound already proves the incumbent; whether any was added."""
    if not most or bound + TOLERANCE * max(1.0, abs(bound)) < incumbent + 1:
        return False
    cliques = violated_cliques(lin, solution, most)
    add_cliques(lin, cliques)
    log.debug("LP: %d clique cuts added", len(cliques))
    return bool(cliques)


class _Duals:
    """The bound :math:`B(y)` of the module docstring and the reduced costs, for duals of
    the LP over some columns."""

    def __init__(self, lin: LinearModel, cost: np.ndarray, active: np.ndarray) -> None:
        """The model's rows as they are now; ``active``: the columns' indices."""
        self.matrix, self.row_lo, self.row_hi = lin.matrix()
        self.ub, self.cost, self.active = lin.col_ub.astype(float), cost, active
        self.finite_lo = np.where(np.isinf(self.row_lo), 0.0, self.row_lo)
        self.finite_hi = np.where(np.isinf(self.row_hi), 0.0, self.row_hi)
        self.unit_row = unit_row = lin.unit_row
        self.unit_rows = np.unique(unit_row[unit_row >= 0])
        self.in_units = active[unit_row[active] >= 0]  # the active columns with a unit row

    def _sign(self, y: np.ndarray) -> np.ndarray:
        """Duals with the signs an infinite row bound requires (else the bound is infinite)."""
        y = np.where(np.isinf(self.row_hi) & (y > 0), 0.0, y)
        return np.where(np.isinf(self.row_lo) & (y < 0), 0.0, y)

    def _rows(self, y: np.ndarray) -> float:
        return float(
            (
                np.where(y > 0, y * self.finite_hi, 0.0) + np.where(y < 0, y * self.finite_lo, 0.0)
            ).sum()
        )

    def _of(self, y: np.ndarray) -> tuple[float, np.ndarray]:
        """``B(y)`` over the active columns, and the reduced costs of every column."""
        d = self.cost - self.matrix.T @ y
        act = self.active
        return self._rows(y) + float((np.maximum(d[act], 0.0) * self.ub[act]).sum()), d

    def bound(self, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
        """The lower of ``B(y)`` and ``B`` of ``y`` with the unit rows' duals at their best
        (:meth:`by_unit`), those duals and their reduced costs; and the reduced costs under
        ``y`` (the pricing's)."""
        raw, d = self._of(y)
        by_unit = self.by_unit(y, d)
        tight, d_unit = self._of(by_unit)
        if tight < raw:
            return tight, by_unit, d_unit, d
        return raw, y, d, d

    def by_unit(self, y: np.ndarray, d: np.ndarray) -> np.ndarray:
        """``y`` with each unit row's dual (``d``: the reduced costs under ``y``) replaced by
        the one that minimises ``B`` given the other rows' duals: for a unit of ``n``
        copies, ``B`` counts ``t n + sum max(e_j - t, 0) ub_j`` over its columns (``e``: the
        reduced costs without its row), least at the ``e_j`` where the columns above it
        first hold ``n`` copies (0 when they never do). Column generation's Lagrangian
        bound: while pricing still finds columns, ``B(y)`` counts each unit once per
        attractive column; this counts it ``n`` times at most."""
        y = y.copy()
        cols = self.in_units
        rows = self.unit_row[cols]
        own = d[cols] + y[rows]
        y[self.unit_rows] = 0.0
        if not len(cols):
            return y
        order = np.lexsort((-own, rows))
        rows, own, ub = rows[order], own[order], self.ub[cols][order]
        first = np.concatenate([[True], rows[1:] != rows[:-1]])
        held = np.cumsum(ub)
        group = np.cumsum(first) - 1
        held -= (held - ub)[first][group]  # copies held by the unit's columns down to this one
        full = held >= self.finite_hi[rows] - 1e-9
        at = full & (first | ~np.concatenate([[False], full[:-1]]))  # the first to hold n
        y[rows[at]] = np.maximum(own[at], 0.0)
        return y

    def signed(self, duals: np.ndarray, cols: np.ndarray, value: float) -> np.ndarray:
        """The LP solver's duals with the sign convention under which the bound over the
        columns solved equals the LP value found (the solvers differ)."""
        candidates = []
        for y in (duals, -duals):
            y = self._sign(y)
            d = self.cost[cols] - self.matrix[:, cols].T @ y
            on_cols = self._rows(y) + float((np.maximum(d, 0.0) * self.ub[cols]).sum())
            candidates.append((abs(on_cols - value), y))
        return min(candidates, key=lambda t: t[0])[1]


def _solve_lp_highs(
    matrix: sp.csr_matrix,
    row_lo: np.ndarray,
    row_hi: np.ndarray,
    ub: np.ndarray,
    cost: np.ndarray,
    seconds: float,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Maximise ``cost . x`` with HiGHS (through scipy): (row duals, primal values), or None.

    Each row becomes ``A x <= hi`` and/or ``-A x <= -lo``; its dual is the sum of the two
    parts' (the caller checks the sign against the LP value, see :func:`lp_proof`)."""
    from scipy.optimize import linprog

    upper = np.flatnonzero(np.isfinite(row_hi))
    lower = np.flatnonzero(np.isfinite(row_lo))
    a_ub = sp.vstack([matrix[upper], -matrix[lower]]).tocsr()
    b_ub = np.concatenate([row_hi[upper], -row_lo[lower]])
    result = linprog(
        -cost,
        A_ub=a_ub,
        b_ub=b_ub,
        bounds=np.column_stack([np.zeros(len(ub)), ub]),
        method="highs-ds",
        options={"time_limit": max(0.05, seconds), "presolve": False},
    )
    if result.status != 0 or result.x is None:
        log.info("LP relaxation (HiGHS): %s", result.message)
        return None
    marginals = np.asarray(result.ineqlin.marginals, dtype=float)
    duals = np.zeros(len(row_lo))
    np.add.at(duals, upper, -marginals[: len(upper)])
    np.add.at(duals, lower, marginals[len(upper) :])
    return duals, np.asarray(result.x, dtype=float)


def _solve_lp(
    matrix: sp.csr_matrix,
    row_lo: np.ndarray,
    row_hi: np.ndarray,
    ub: np.ndarray,
    cost: np.ndarray,
    seconds: float,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Maximise ``cost . x`` with GLOP: (row duals, primal values), or None.

    Through OR-Tools' model builder helpers, which take and give numpy arrays (the
    ``model_builder`` wrapper reads duals one constraint at a time, through pandas: 3 s of
    the 5 s of LPs of a stage at 1,000 x 3,000)."""
    from ortools.linear_solver.python import model_builder_helper as mbh

    model = mbh.ModelBuilderHelper()
    model.fill_model_from_sparse_data(
        np.zeros(len(cost)),  # type: ignore[arg-type]
        ub,  # type: ignore[arg-type]
        -cost,  # type: ignore[arg-type]
        row_lo,  # type: ignore[arg-type]
        row_hi,  # type: ignore[arg-type]
        sp.csr_matrix(matrix),
    )
    solver = mbh.ModelSolverHelper("glop")
    solver.set_time_limit_in_seconds(max(0.05, seconds))
    solver.solve(model)
    status = solver.status()
    if status not in (mbh.SolveStatus.OPTIMAL, mbh.SolveStatus.FEASIBLE):
        log.info("LP relaxation: %s", status)
        return None
    duals = np.nan_to_num(np.asarray(solver.dual_values(), dtype=float))
    primal = np.nan_to_num(np.asarray(solver.variable_values(), dtype=float))
    return duals, primal


class _Lp(NamedTuple):
    """The whole LP as the model has it now: rows (with their bounds) over every column,
    and every column's upper bound and objective."""

    matrix: sp.csr_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    ub: np.ndarray
    cost: np.ndarray


Solution = tuple[np.ndarray, np.ndarray]  # row duals, primal values on the columns solved


class _Cold:
    """An LP solver that solves each round's LP from scratch, on its columns."""

    def __init__(self, solve: Callable[..., Solution | None]) -> None:
        self.solve = solve

    def __call__(self, lp: _Lp, cols: np.ndarray, seconds: float) -> Solution | None:
        return self.solve(
            lp.matrix[:, cols], lp.row_lo, lp.row_hi, lp.ub[cols], lp.cost[cols], seconds
        )


def highs_core() -> Any:
    """HiGHS's Python binding as scipy vendors it (``scipy.optimize._highspy._core``, the
    same classes as the ``highspy`` package), or None without it. The ``highspy`` package
    itself cannot share a process with OR-Tools, which bundles another HiGHS: their symbols
    clash at import."""
    try:
        from scipy.optimize._highspy import _core
    except ImportError:  # pragma: no cover - scipy before 1.15, or a scipy that moved it
        return None
    return _core


def _warm() -> Callable[[_Lp, np.ndarray, float], Solution | None]:
    """Warm HiGHS, or GLOP from scratch where scipy does not bring HiGHS's binding."""
    if highs_core() is None:  # pragma: no cover - see highs_core
        log.warning("scipy without HiGHS's binding: the cost LP by GLOP")
        return _Cold(_solve_lp)
    return _WarmHighs()


class _WarmHighs:
    """HiGHS kept from one round of column generation to the next: the columns priced in
    (and the cut rows) are added to the LP it has solved, and each solve starts from the
    last basis, so a round costs the few pivots the new columns need."""

    def __init__(self) -> None:
        self.highs: Any = None
        self.cols = np.empty(0, dtype=np.int64)  # model columns, in HiGHS's order
        self.rows = 0

    def __call__(self, lp: _Lp, cols: np.ndarray, seconds: float) -> Solution | None:
        highspy = highs_core()
        if self.highs is None:
            self.highs = highspy._Highs()
            for option, value in (("output_flag", False), ("presolve", "off")):
                self.highs.setOptionValue(option, value)
            self.highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
        highs = self.highs
        rows_added = self._rows(lp)
        new = np.setdiff1d(cols, self.cols)
        if len(new):
            block = sp.csc_matrix(lp.matrix[:, new])
            highs.addCols(
                len(new), lp.cost[new], np.zeros(len(new)), lp.ub[new], block.nnz,
                block.indptr.astype(np.int32), block.indices.astype(np.int32), block.data,
            )  # fmt: skip
            self.cols = np.concatenate([self.cols, new])
        # new columns keep the basis primal feasible (primal simplex goes on from it); new
        # rows keep it dual feasible (dual simplex)
        highs.setOptionValue("simplex_strategy", 1 if rows_added else 4)
        # HiGHS's time limit counts every run of this instance (measured: a second run with
        # the same limit stops at once)
        highs.setOptionValue("time_limit", highs.getRunTime() + max(0.05, seconds))
        highs.run()
        if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            log.info("LP relaxation (HiGHS, warm): %s", highs.getModelStatus())
            return None
        solution = highs.getSolution()
        primal = np.asarray(solution.col_value, dtype=float)
        where = np.argsort(self.cols)
        ordered = primal[where][np.searchsorted(self.cols[where], cols)]
        return np.asarray(solution.row_dual, dtype=float), ordered

    def _rows(self, lp: _Lp) -> bool:
        """Add the model's rows HiGHS does not have yet (all of them at first; the cut rows
        later), over the columns it has; whether any was added."""
        count = lp.matrix.shape[0]
        if count == self.rows:
            return False
        block = sp.csr_matrix(lp.matrix[self.rows :][:, self.cols])
        self.highs.addRows(
            count - self.rows, lp.row_lo[self.rows :], lp.row_hi[self.rows :], block.nnz,
            block.indptr.astype(np.int32), block.indices.astype(np.int32), block.data,
        )  # fmt: skip
        self.rows = count
        return True


#: the LP solvers :func:`lp_proof` can use, by name (:attr:`SolveOptions.lp_solver`): each
#: call gives a solver for one column generation
LP_BACKENDS: dict[str, Callable[[], Callable[[_Lp, np.ndarray, float], Solution | None]]] = {
    "glop": lambda: _Cold(_solve_lp),
    "highs": lambda: _Cold(_solve_lp_highs),
    "highs-warm": _warm,
}
