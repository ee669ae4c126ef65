"""Clique cuts for the LP relaxation: sets of columns no integer plan uses two of.

Two columns of one copy each (``ub = 1``) conflict when a row with non-negative
coefficients and no lower bound cannot hold both: ``a_i + a_j > hi`` (a household of two
and another person in a shelter of two places on a night both stay; two people of one
network in a shelter that takes one more; a keep-apart pair). Every integer plan uses at
most one column of a set of pairwise conflicting columns, so ``sum x <= 1`` over such a set
is valid; the rows only say it of pairs, or with halves (``2 x_h + x_s <= 2``). The rows are
read from the linear model, so a cut holds whatever plan rule wrote them.

At 1,000 x 3,000 hard, priority 3, the LP bound is 157.00 and the optimum 156: with the
cliques its solutions violate added, round after round, the LP bound is 156.94 after 8
rounds (0.32-0.35 s, load 1-2.5), which proves 156 without CP-SAT (README, Performance).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from solver.linear import INF, LinearModel

#: a clique is violated when the LP solution sums to more than 1 + this over it
VIOLATION = 1e-4


def violated_cliques(lin: LinearModel, values: np.ndarray, most: int) -> list[np.ndarray]:
    """Sets of conflicting columns over which the LP solution ``values`` sums to more than
    one (at most ``most`` of them, the most violated first), each as sorted column indices.

    Greedy: from each fractional column of the solution, by value, the clique grows with
    the neighbours of largest value that conflict with all its columns."""
    support = np.flatnonzero((values > 1e-6) & (lin.col_ub == 1))
    fractional = support[np.abs(values[support] - np.round(values[support])) > 1e-6]
    if not len(fractional):
        return []  # an integral solution breaks no clique
    neighbours = _conflicts(lin, support)
    found: dict[tuple[int, ...], float] = {}
    for j in sorted(fractional.tolist(), key=lambda j: -values[j]):
        clique = [j]
        for k in sorted(neighbours.get(j, ()), key=lambda k: -values[k]):
            if all(k in neighbours[i] for i in clique):
                clique.append(k)
        weight = float(values[clique].sum())
        if weight > 1 + VIOLATION:
            found[tuple(sorted(clique))] = weight
    ranked = sorted(found, key=lambda key: -found[key])[:most]
    return [np.array(key, dtype=np.int64) for key in ranked]


def _conflicts(lin: LinearModel, columns: np.ndarray) -> dict[int, set[int]]:
    """The conflicts among ``columns`` (each of one copy), by column: the pairs some row
    (non-negative coefficients, no lower bound) cannot hold together."""
    matrix, row_lo, row_hi = lin.matrix()
    eligible = np.isfinite(row_hi) & (row_lo == -INF) & _nonnegative_rows(matrix)
    sub = sp.csr_matrix(matrix[:, columns])
    counts = np.diff(sub.indptr)
    neighbours: dict[int, set[int]] = {}
    for i in np.flatnonzero(eligible & (counts >= 2)).tolist():
        start, stop = sub.indptr[i], sub.indptr[i + 1]
        cols = columns[sub.indices[start:stop]].tolist()
        coefs = sub.data[start:stop].tolist()
        hi = row_hi[i]
        for a in range(len(cols)):
            for b in range(a + 1, len(cols)):
                if coefs[a] + coefs[b] > hi + 1e-9:
                    neighbours.setdefault(cols[a], set()).add(cols[b])
                    neighbours.setdefault(cols[b], set()).add(cols[a])
    return neighbours


def _nonnegative_rows(matrix: sp.csr_matrix) -> np.ndarray:
    """Rows without a negative coefficient."""
    negative = np.zeros(matrix.shape[0], dtype=np.int64)
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    np.add.at(negative, rows[matrix.data < 0], 1)
    result: np.ndarray = negative == 0
    return result


def add_cliques(lin: LinearModel, cliques: list[np.ndarray]) -> None:
    """The cliques as rows of the model: at most one of their columns."""
    for clique in cliques:
        lin.add_row(clique, np.ones(len(clique), dtype=np.int64), -INF, 1, "clique")
