"""Allocations (copies of each unit per shelter) and the bookkeeping both solvers share."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

import numpy as np

from placement.context import Assignment, Context
from placement.rules import NetworkCapRule
from solver.units import Unit, Units

Allocation = dict[int, dict[str, int]]  # unit index -> shelter id -> copies placed there


def to_assignment(units: Units, allocation: Allocation) -> dict[str, str]:
    """Name who goes where: a group's copies are handed out to its people in id order."""
    out: dict[str, str] = {}
    for unit in units.units:
        where = allocation.get(unit.index, {})
        if unit.is_household or unit.count == 1:
            for sid, copies in where.items():
                if copies:
                    out.update({i: sid for i in unit.arrival_ids})
            continue
        people = iter(unit.arrival_ids)
        for sid in sorted(where):
            for _ in range(where[sid]):
                out[next(people)] = sid
    return out


def to_allocation(units: Units, assignment: Assignment) -> Allocation:
    """The allocation an assignment corresponds to (households counted once)."""
    alloc: Allocation = defaultdict(dict)
    for unit in units.units:
        if unit.is_household:
            sid = assignment.get(unit.arrival_ids[0])
            if sid is not None and all(assignment.get(i) == sid for i in unit.arrival_ids):
                alloc[unit.index][sid] = 1
            continue
        for i in unit.arrival_ids:
            sid = assignment.get(i)
            if sid is not None:
                alloc[unit.index][sid] = alloc[unit.index].get(sid, 0) + 1
    return dict(alloc)


class Occupancy:
    """Places left per shelter and night, people per network and shelter, and who is where.

    Used by the greedy solver to place copies without breaking a plan rule. Shelters are
    positions in ``scenario.shelters``; places left are one numpy matrix (shelters x nights).
    """

    def __init__(self, ctx: Context, units: Units) -> None:
        self.ctx = ctx
        self.units = units
        self.left = ctx.places_matrix().copy()
        self.network_count: dict[tuple[str, int], int] = defaultdict(int)
        self.network_cap = NetworkCapRule.cap(ctx)
        self.units_in: dict[int, set[int]] = defaultdict(set)
        self.apart: dict[int, set[int]] = defaultdict(set)
        for x, y in units.keep_apart_unit_pairs(ctx):
            self.apart[x].add(y)
            self.apart[y].add(x)

    def room(self, unit: Unit, shelters: np.ndarray) -> np.ndarray:
        """Which of ``shelters`` have places for one more copy on every night of the stay."""
        if not unit.usage:
            return np.ones(len(shelters), dtype=bool)
        nights = np.fromiter(unit.usage, dtype=np.int64)
        need = np.fromiter(unit.usage.values(), dtype=np.int64)
        fits: np.ndarray = (self.left[np.ix_(shelters, nights)] >= need).all(axis=1)
        return fits

    def copies_fitting(self, unit: Unit, si: int) -> int:
        """How many more copies of ``unit`` shelter ``si`` can take (every plan rule)."""
        if self.apart[unit.index] & self.units_in[si]:
            return 0
        most = unit.count
        left = self.left[si]
        for n, need in unit.usage.items():
            if need:
                most = min(most, int(left[n]) // need)
        cap = self.network_cap
        if cap is not None:
            for net, k in unit.networks.items():
                most = min(most, (cap - self.network_count[(net, si)]) // k)
        return max(0, most)

    def place(self, unit: Unit, si: int, copies: int = 1) -> None:
        left = self.left[si]
        for n, need in unit.usage.items():
            left[n] -= need * copies
        for net, k in unit.networks.items():
            self.network_count[(net, si)] += k * copies
        self.units_in[si].add(unit.index)


def place_in_order(
    ctx: Context,
    units: Units,
    order: Iterable[Unit],
    ranked: Callable[[Unit], np.ndarray],
    fixed: Allocation | None = None,
) -> Allocation:
    """Place the units one after another, each in its shelters in the order ``ranked(unit)``
    gives (positions in the scenario), as many copies as fit without breaking a plan rule.
    ``fixed`` copies are placed first, as they are. What the heuristics share."""
    occupancy = Occupancy(ctx, units)
    alloc: Allocation = {}
    for ui, where in (fixed or {}).items():
        for sid, copies in where.items():
            occupancy.place(units.units[ui], ctx.index(sid), copies)
            alloc.setdefault(ui, {})[sid] = copies
    ids = [s.id for s in ctx.scenario.shelters]
    for unit in order:
        placed = sum(alloc.get(unit.index, {}).values())
        if placed == unit.count or not len(unit.shelter_index):
            continue
        shelters = ranked(unit)
        for si in shelters[occupancy.room(unit, shelters)].tolist():
            copies = min(unit.count - placed, occupancy.copies_fitting(unit, si))
            if copies <= 0:
                continue
            occupancy.place(unit, si, copies)
            where = alloc.setdefault(unit.index, {})
            where[ids[si]] = where.get(ids[si], 0) + copies
            placed += copies
            if placed == unit.count:
                break
    return alloc
