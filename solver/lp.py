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
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from ortools.linear_solver.python import model_builder as mb

from solver.linear import LinearModel

log = logging.getLogger(__name__)

#: absolute slack per unit of |bound| when comparing float bounds with integer values
TOLERANCE = 1e-7


@dataclass(frozen=True)
class LpProof:
    bound: float  # upper bound on c . x over integer plans using only the active columns
    fixed: np.ndarray  # active columns proven useless for plans of value >= the incumbent
    seconds: float
    values: np.ndarray  # the LP solution, per column of the model (0 outside the active ones)

    def proves(self, incumbent: int) -> bool:
        """Whether no plan beats ``incumbent``: the incumbent is optimal for this stage."""
        return self.bound + TOLERANCE * max(1.0, abs(self.bound)) < incumbent + 1


def lp_proof(
    lin: LinearModel,
    c: np.ndarray,
    active: np.ndarray,
    incumbent: int,
    time_limit: float,
) -> LpProof | None:
    """Solve the LP relaxation of ``max c . x`` over the ``active`` columns (with GLOP) and
    return its bound and the columns it fixes. None when the LP gives nothing usable."""
    started = time.perf_counter()
    cols = np.flatnonzero(active)
    if not len(cols):
        return None
    new_index = np.full(lin.n_columns, -1, dtype=np.int64)
    new_index[cols] = np.arange(len(cols))
    indptr = [0]
    indices: list[np.ndarray] = []
    data: list[np.ndarray] = []
    lo: list[float] = []
    hi: list[float] = []
    for r_cols, r_coefs, r_lo, r_hi in zip(
        lin.row_cols, lin.row_coefs, lin.row_lo, lin.row_hi, strict=True
    ):
        mapped = new_index[r_cols]
        keep = mapped >= 0
        indices.append(mapped[keep])
        data.append(r_coefs[keep].astype(float))
        indptr.append(indptr[-1] + int(keep.sum()))
        lo.append(r_lo)
        hi.append(r_hi)
    n_rows = len(lo)
    matrix = sp.csr_matrix(
        (
            np.concatenate(data) if data else np.empty(0),
            np.concatenate(indices) if indices else np.empty(0, dtype=np.int64),
            np.asarray(indptr),
        ),
        shape=(n_rows, len(cols)),
    )
    ub = lin.col_ub[cols].astype(float)
    cost = c[cols].astype(float)
    row_lo, row_hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    model = mb.Model()
    model.helper.fill_model_from_sparse_data(
        np.zeros(len(cols)),  # type: ignore[arg-type]
        ub,  # type: ignore[arg-type]
        -cost,  # type: ignore[arg-type]
        row_lo,  # type: ignore[arg-type]
        row_hi,  # type: ignore[arg-type]
        matrix,
    )
    solver = mb.Solver("glop")
    solver.set_time_limit_in_seconds(max(0.05, time_limit))
    status = solver.solve(model)
    if status not in (mb.SolveStatus.OPTIMAL, mb.SolveStatus.FEASIBLE):
        log.info("LP relaxation: %s", status)
        return None
    duals = np.asarray(solver.dual_values(model.get_linear_constraints()), dtype=float)
    duals = np.nan_to_num(duals)
    best: tuple[float, np.ndarray] | None = None
    for y in (duals, -duals):  # whichever sign convention the solver uses
        y = np.where(np.isinf(row_hi) & (y > 0), 0.0, y)
        y = np.where(np.isinf(row_lo) & (y < 0), 0.0, y)
        d = cost - matrix.T @ y
        rows = np.where(y > 0, y * np.where(np.isinf(row_hi), 0, row_hi), 0.0) + np.where(
            y < 0, y * np.where(np.isinf(row_lo), 0, row_lo), 0.0
        )
        bound = float(rows.sum() + (np.maximum(d, 0.0) * ub).sum())
        if best is None or bound < best[0]:
            best = (bound, d)
    assert best is not None
    bound, d = best
    margin = TOLERANCE * max(1.0, abs(bound))
    useless = (d < 0) & (bound + d + margin < incumbent)
    fixed = np.zeros(lin.n_columns, dtype=bool)
    fixed[cols[useless]] = True
    values = np.zeros(lin.n_columns)
    values[cols] = np.asarray(solver.values(model.get_variables()), dtype=float)
    return LpProof(bound=bound, fixed=fixed, seconds=time.perf_counter() - started, values=values)
