"""The baseline: what a coordinator does by telephone.

Take people by priority (most urgent first; then larger households, then id), and put each
in the nearest admissible shelter that still has room for the whole stay. No look-ahead, no
moving anyone once placed.
"""

from __future__ import annotations

import numpy as np

from placement.rules import Context
from solver.allocation import Allocation, Occupancy
from solver.units import Units


def greedy_allocation(
    ctx: Context,
    units: Units,
    fixed: Allocation | None = None,
    candidates: dict[int, np.ndarray] | None = None,
) -> Allocation:
    """Place copies one shelter at a time; ``fixed`` copies are placed first, as they are.
    ``candidates`` limits each unit to some of its shelters (positions in the scenario)."""
    occupancy = Occupancy(ctx, units)
    alloc: Allocation = {}
    for ui, where in (fixed or {}).items():
        unit = units.units[ui]
        for sid, copies in where.items():
            occupancy.place(unit, ctx.index(sid), copies)
            alloc.setdefault(ui, {})[sid] = copies
    ranks = ctx.id_ranks()
    order = sorted(units.units, key=lambda u: (-u.priority, -u.persons, u.arrival_ids[0]))
    for unit in order:
        placed = sum(alloc.get(unit.index, {}).values())
        if placed == unit.count or not len(unit.shelter_index):
            continue
        index, costs = unit.shelter_index, unit.costs
        if candidates is not None:
            keep = np.isin(index, candidates[unit.index])
            index, costs = index[keep], costs[keep]
        near = ctx.distances(unit.members[0])[index]
        nearest = index[np.lexsort((ranks[index], costs, near))]
        for si in nearest[occupancy.room(unit, nearest)].tolist():
            copies = min(unit.count - placed, occupancy.copies_fitting(unit, si))
            if copies <= 0:
                continue
            occupancy.place(unit, si, copies)
            sid = ctx.scenario.shelters[si].id
            where = alloc.setdefault(unit.index, {})
            where[sid] = where.get(sid, 0) + copies
            placed += copies
            if placed == unit.count:
                break
    return alloc
