"""Cuts for the LP relaxation: clique cuts (sets of columns no integer plan uses two of) and
cover cuts (sets of columns whose places together exceed a row's bound).

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

A **cover** of a row with non-negative coefficients and no lower bound (a shelter's places
on a night) is a set ``C`` of one-copy columns whose coefficients sum to more than the row's
bound: at most ``|C| - 1`` of them fit together. The cover is extended with every other
one-copy column of the row whose coefficient is at least the largest in ``C`` (any ``|C|``
of the extended set weigh at least as much as ``C``): ``sum x <= |C| - 1``. Covers of three
and more columns are what cliques miss: a mother with two children (3 places), another
with one (2) and a woman alone (1) in a shelter of 5 places, at 2/3 each. At 1,000 x 3,000
standard, 208 of the cost LP's 304 fractional columns are units of 2-5 persons.
"""

from __future__ import annotations

from typing import NamedTuple

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


class Cover(NamedTuple):
    """An extended cover: at most ``most`` of ``columns`` (sorted) in any integer plan."""

    columns: np.ndarray
    most: int


def violated_covers(lin: LinearModel, values: np.ndarray, most: int) -> list[Cover]:
    """Extended covers of three columns or more that the LP solution ``values`` violates
    (at most ``most`` of them, the most violated first), from the rows (non-negative
    coefficients, no lower bound) with a fractional one-copy column.

    Per row, the cover is grown greedily from the columns of the solution closest to 1 per
    place, then pruned to a minimal one (dropping a column at value ``v`` lowers the right
    side by 1 and the left by ``v``)."""
    binary = lin.col_ub == 1
    fractional = binary & (np.abs(values - np.round(values)) > 1e-6)
    if not fractional.any():
        return []
    matrix, row_lo, row_hi = lin.matrix()
    eligible = np.isfinite(row_hi) & (row_lo == -INF) & _nonnegative_rows(matrix)
    touched = np.flatnonzero(eligible & (matrix @ fractional.astype(float) > 0))
    found: dict[tuple[int, ...], tuple[int, float]] = {}
    for i in touched.tolist():
        start, stop = matrix.indptr[i], matrix.indptr[i + 1]
        cols, coefs = matrix.indices[start:stop], matrix.data[start:stop]
        keep = binary[cols]
        cover = _cover(cols[keep], coefs[keep], values, float(row_hi[i]))
        if cover is None:
            continue
        biggest = max(coefs[keep][np.isin(cols[keep], cover)])
        extended = np.union1d(cover, cols[keep][coefs[keep] >= biggest])
        excess = float(values[extended].sum()) - (len(cover) - 1)
        if excess > VIOLATION:
            found[tuple(extended.tolist())] = (len(cover) - 1, excess)
    ranked = sorted(found, key=lambda key: -found[key][1])[:most]
    return [Cover(np.array(key, dtype=np.int64), found[key][0]) for key in ranked]


def _cover(cols: np.ndarray, coefs: np.ndarray, values: np.ndarray, hi: float) -> np.ndarray | None:
    """A minimal cover of three columns or more among the solution's ``cols`` (their places
    ``coefs`` sum to more than ``hi``) that the solution violates, or None."""
    v = values[cols]
    support = v > 1e-6
    if support.sum() < 3:
        return None
    cols, coefs, v = cols[support], coefs[support], v[support]
    order = np.argsort((1 - v) / coefs, kind="stable")
    total = np.cumsum(coefs[order])
    k = int(np.searchsorted(total, hi + 1e-9, side="right"))  # first prefix above hi
    if k >= len(order):
        return None  # they all fit together
    chosen = order[: k + 1].tolist()
    weight = float(total[k])
    for j in sorted(chosen, key=lambda j: v[j]):  # prune: least valued first
        if weight - coefs[j] > hi + 1e-9:
            chosen.remove(j)
            weight -= coefs[j]
    if len(chosen) < 3 or v[chosen].sum() <= len(chosen) - 1 + VIOLATION:
        return None
    return np.sort(cols[chosen])


def add_covers(lin: LinearModel, covers: list[Cover]) -> None:
    """The covers as rows of the model."""
    for cover in covers:
        ones = np.ones(len(cover.columns), dtype=np.int64)
        lin.add_row(cover.columns, ones, -INF, cover.most, "cover")
