"""The placement problem as one linear model: columns, rows and bounds, in numpy arrays.

Column *j* is the number of copies of unit ``col_unit[j]`` placed in shelter
``col_shelter[j]`` (a position in ``scenario.shelters``), an integer in ``0..col_ub[j]``. Only
pairs every pair rule admits are columns (:mod:`solver.units`). Each row reads
``lo <= sum_j a_ij x_j <= hi``:

* ``unit``: copies of a unit placed anywhere <= its count (a household is one copy);
* ``capacity``, ``keep_apart``, ``network_cap``: written by the plan rules themselves
  (``add_rows`` of :class:`CapacityRule`, :class:`KeepApartRule`, :class:`NetworkCapRule` in
  :mod:`placement.rules`, next to their other encodings);
* ``must_place`` (re-solves that check a relaxation) and ``stage`` rows (a lexicographic
  level already reached) are added by the solvers.

Both back ends read this one model: CP-SAT builds its integer model from it
(:mod:`solver.cpsat`), and the LP relaxation proves which columns no optimal plan uses
(:mod:`solver.lp`).
"""

from __future__ import annotations

import weakref

import numpy as np
import scipy.sparse as sp

from placement.context import Context
from placement.rules import INF, PLAN_RULES
from solver.allocation import Allocation
from solver.units import Unit, Units

__all__ = ["INF", "LinearModel"]


class LinearModel:
    """Columns and rows of one scenario's units."""

    def __init__(
        self,
        ctx: Context,
        units: Units,
        must_place: dict[int, int] | None = None,
    ) -> None:
        self.ctx = ctx
        self.units = units
        self._columns()
        self.row_lo: list[float] = []
        self.row_hi: list[float] = []
        self.row_kind: list[str] = []
        #: the rows' terms (:class:`_Terms`) and their matrix, then the blocks added since
        #: (in order), then the single rows added since the last block (columns,
        #: coefficients)
        self._terms = _Terms(self.n_columns)
        self._matrix: sp.csr_matrix = self._terms.matrix()
        self._blocks: list[sp.csr_matrix] = []
        self._single: list[tuple[np.ndarray, np.ndarray]] = []
        self._unit_rows()
        for rule in PLAN_RULES:
            rule.add_rows(self)
        for ui, copies in (must_place or {}).items():
            cols = self.columns_of(ui)
            self.add_row(cols, np.ones(len(cols)), copies, INF, "must_place")

    # --- columns ----------------------------------------------------------------------
    def _columns(self) -> None:
        empty = np.empty(0, dtype=np.int64)
        all_units = self.units.units
        self.col_unit, self.col_shelter = self.units.pairs()
        self.col_cost = np.concatenate([u.costs for u in all_units] or [empty]).astype(np.int64)
        self.col_ub = np.concatenate([u.most for u in all_units] or [empty]).astype(np.int64)
        self._unit_start = np.searchsorted(self.col_unit, np.arange(len(all_units) + 1))

    @property
    def unit_list(self) -> list[Unit]:
        return self.units.units

    @property
    def unit_of(self) -> dict[str, int]:
        return self.units.unit_of

    @property
    def n_columns(self) -> int:
        return len(self.col_unit)

    def columns_of(self, ui: int) -> np.ndarray:
        return np.arange(self._unit_start[ui], self._unit_start[ui + 1])

    def cheapest(self, k: int) -> np.ndarray:
        """Mask of each unit's ``k`` cheapest columns."""
        return self.best(k, -self.col_cost)

    def best(self, k: int, score: np.ndarray, among: np.ndarray | None = None) -> np.ndarray:
        """Mask of each unit's ``k`` columns of highest ``score`` (ties: the first), among
        some columns (a mask; None: all)."""
        order = np.lexsort((-score, self.col_unit))
        if among is not None:
            order = order[among[order]]
        units = self.col_unit[order]
        first = np.flatnonzero(np.r_[True, units[1:] != units[:-1]])  # each unit's first
        rank = np.arange(len(order)) - np.repeat(first, np.diff(np.r_[first, len(order)]))
        mask = np.zeros(self.n_columns, dtype=bool)
        mask[order[rank < k]] = True
        return mask

    def columns_at(self, units: np.ndarray, shelters: np.ndarray) -> np.ndarray:
        """The columns of the (unit index, shelter position) pairs given, as a mask (each
        pair must be a column: columns are sorted by unit, then shelter)."""
        width = len(self.ctx.scenario.shelters) + 1
        keys = self.col_unit.astype(np.int64) * width + self.col_shelter
        mask = np.zeros(self.n_columns, dtype=bool)
        mask[np.searchsorted(keys, units.astype(np.int64) * width + shelters)] = True
        return mask

    def persons_at(self, priority: int) -> np.ndarray:
        """Persons of ``priority`` per copy, for every column."""
        per_unit = np.array(
            [u.persons_by_priority.get(priority, 0) for u in self.units.units], dtype=np.int64
        )
        result: np.ndarray = per_unit[self.col_unit] if len(per_unit) else self.col_unit * 0
        return result

    def shelter_id(self, j: int) -> str:
        return self.ctx.scenario.shelters[int(self.col_shelter[j])].id

    def to_columns(self, allocation: Allocation) -> np.ndarray:
        """The column values of an allocation (which must only use columns of this model)."""
        x = np.zeros(self.n_columns, dtype=np.int64)
        index = self.ctx.index
        for ui, where in allocation.items():
            start, stop = self._unit_start[ui], self._unit_start[ui + 1]
            shelters = np.fromiter((index(sid) for sid in where), dtype=np.int64)
            at = start + np.searchsorted(self.col_shelter[start:stop], shelters)
            if (at >= stop).any() or (self.col_shelter[np.minimum(at, stop - 1)] != shelters).any():
                raise KeyError(f"unit {ui}: a shelter without a column in {sorted(where)}")
            x[at] = list(where.values())
        return x

    def to_allocation(self, x: np.ndarray) -> Allocation:
        alloc: Allocation = {}
        for j in np.flatnonzero(x).tolist():
            alloc.setdefault(int(self.col_unit[j]), {})[self.shelter_id(j)] = int(x[j])
        return alloc

    # --- rows: one method per plan rule -----------------------------------------------
    def add_row(self, cols: np.ndarray, coefs: np.ndarray, lo: float, hi: float, kind: str) -> None:
        """One row, its terms in the order given."""
        self._single.append((np.asarray(cols, dtype=np.int64), np.asarray(coefs, dtype=np.int64)))
        self.row_lo.append(lo)
        self.row_hi.append(hi)
        self.row_kind.append(kind)

    def add_rows(self, block: sp.spmatrix, lo: np.ndarray, hi: np.ndarray, kind: str) -> None:
        """Rows in bulk: row *i* of ``block`` (sparse, rows x columns) reads
        ``lo[i] <= block[i] . x <= hi[i]``."""
        self._flush_single()
        block = sp.csr_matrix(block, dtype=float)
        block.sort_indices()  # each row's terms by column
        self._blocks.append(block)
        self.row_lo += np.asarray(lo, dtype=float).tolist()
        self.row_hi += np.asarray(hi, dtype=float).tolist()
        self.row_kind += [kind] * len(lo)

    def _flush_single(self) -> None:
        if not self._single:
            return
        cols = [c for c, _ in self._single]
        lengths = [len(c) for c in cols]
        self._blocks.append(
            sp.csr_matrix(
                (
                    np.concatenate([k for _, k in self._single]).astype(float),
                    np.concatenate(cols),
                    np.concatenate([[0], np.cumsum(lengths)]),
                ),
                shape=(len(cols), self.n_columns),
            )
        )
        self._single = []

    def truncate_rows(self, count: int) -> None:
        """Drop every row after the first ``count`` (stage rows of a lexicographic pass that
        is run again)."""
        matrix = self.matrix()[0]
        for rows in (self.row_lo, self.row_hi, self.row_kind):
            del rows[count:]
        if matrix.shape[0] > count:
            self._terms.truncate(count)
            self._matrix = self._terms.matrix()

    def _unit_rows(self) -> None:
        """Copies of a unit placed anywhere <= its count (units with one column: its bound)."""
        counts = np.diff(self._unit_start)
        several = np.flatnonzero(counts > 1)
        #: each column's unit row (-1: a unit with one column, bounded by its column's bound)
        self.unit_row = np.full(self.n_columns, -1, dtype=np.int64)
        if not len(several):
            return
        cols = np.concatenate([self.columns_of(int(u)) for u in several])
        rows = np.repeat(np.arange(len(several)), counts[several])
        self.unit_row[cols] = len(self.row_lo) + rows
        hi = np.array([self.units.units[int(u)].count for u in several], dtype=float)
        block = sp.coo_matrix((np.ones(len(cols)), (rows, cols)), shape=(len(hi), self.n_columns))
        self.add_rows(block, np.full(len(several), -INF), hi, "unit")

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Row ``i``'s columns and integer coefficients."""
        matrix = self.matrix()[0]
        start, stop = matrix.indptr[i], matrix.indptr[i + 1]
        return matrix.indices[start:stop].astype(np.int64), matrix.data[start:stop].astype(np.int64)

    def matrix(self) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        """All rows as a sparse matrix (rows x columns) with their bounds; cached, and
        extended when rows are added."""
        self._flush_single()
        if self._blocks:
            blocks, self._blocks = self._blocks, []
            self._terms.append(blocks)  # it takes them over
            self._matrix = self._terms.matrix()
        return (
            self._matrix,
            np.asarray(self.row_lo, dtype=float),
            np.asarray(self.row_hi, dtype=float),
        )

    # --- checks -----------------------------------------------------------------------
    def satisfies(self, x: np.ndarray) -> bool:
        """Whether integer column values respect every row and bound."""
        if (x < 0).any() or (x > self.col_ub).any():
            return False
        matrix, lo, hi = self.matrix()
        activity = matrix @ x.astype(float)
        return bool(((activity >= lo) & (activity <= hi)).all())


#: room kept after the rows' terms for rows added later (stage rows, cuts), as a share of
#: the terms, and at least this many: memory the system gives only once written (at
#: 10,000 x 20,000 hard, 2 % was outgrown by the cost stage's cliques, 2.2 s to copy)
SPARE_SHARE = 0.25
SPARE_TERMS = 1 << 16


class _Terms:
    """The terms of a model's rows (CSR arrays) in buffers with room after them.

    Rows are appended without copying those before: at 10,000 x 20,000 hard the rules'
    rows have 85 M terms, and stacking them again with a stage row took 2.0-2.7 s and 1 GB
    more at once (the solve's peak, 4.1 GB). A matrix handed out is a view of the buffers'
    first terms, which later rows do not overwrite; after rows are dropped
    (:meth:`truncate`), their terms are written over only when no matrix handed out that
    holds them is left (else the rows go to new buffers).
    """

    def __init__(self, n_columns: int) -> None:
        self.n_columns = n_columns
        self.data = np.empty(0, dtype=float)
        self.indices = np.empty(0, dtype=np.int32)
        self.indptr = np.zeros(1, dtype=np.int32)
        self.nnz = 0
        self._handed: list[weakref.ref[sp.csr_matrix]] = []  # the matrices handed out

    def matrix(self) -> sp.csr_matrix:
        n, rows = self.nnz, len(self.indptr) - 1
        matrix = sp.csr_matrix(
            (self.data[:n], self.indices[:n], self.indptr), shape=(rows, self.n_columns)
        )
        self._handed.append(weakref.ref(matrix))
        return matrix

    def truncate(self, rows: int) -> None:
        self.indptr = self.indptr[: rows + 1].copy()
        self.nnz = int(self.indptr[-1])

    def _read_after(self) -> bool:
        """Whether a matrix handed out and still held reads terms after ``nnz`` (rows
        since dropped): then they must not be written over."""
        alive = [(r, r()) for r in self._handed]
        self._handed = [r for r, m in alive if m is not None]
        return any(m is not None and m.nnz > self.nnz for _, m in alive)

    def append(self, blocks: list[sp.csr_matrix]) -> None:
        """Rows of ``blocks`` (CSR, float, this model's columns) after those so far. The
        blocks are taken over: each one's arrays are let go once copied, so that the
        blocks and new buffers are never all held at once (the first rows of a model)."""
        sizes = [b.nnz for b in blocks]
        total = self.nnz + sum(sizes)
        index_type = np.int32 if max(total, self.n_columns) < 2**31 - SPARE_TERMS else np.int64
        new = total > len(self.data) or self.indices.dtype != index_type or self._read_after()
        size = total + max(SPARE_TERMS, int(SPARE_SHARE * total))
        for name, dtype in (("data", float), ("indices", index_type)):
            if new:  # the terms so far in a new buffer; a matrix handed out keeps the old
                buffer = np.empty(size, dtype=dtype)
                buffer[: self.nnz] = getattr(self, name)[: self.nnz]
                setattr(self, name, buffer)
            buffer, at = getattr(self, name), self.nnz
            for block, n in zip(blocks, sizes, strict=True):
                buffer[at : at + n] = getattr(block, name)
                setattr(block, name, None)  # let it go
                at += n
        pointers = [self.indptr.astype(index_type)]
        at = self.nnz
        for block, n in zip(blocks, sizes, strict=True):
            pointers.append((block.indptr[1:] + at).astype(index_type))
            at += n
        self.indptr = np.concatenate(pointers)
        self.nnz = total
