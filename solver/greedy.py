"""The baseline: what a coordinator does by telephone.

Take people by priority (most urgent first; then larger households, then id), and put each
in the nearest admissible shelter that still has room for the whole stay. No look-ahead, no
moving anyone once placed.
"""

from __future__ import annotations

from placement.rules import Context
from solver.allocation import Allocation, Occupancy
from solver.units import Units


def greedy_allocation(ctx: Context, units: Units, fixed: Allocation | None = None) -> Allocation:
    """Place copies one at a time; ``fixed`` copies are placed first, as they are."""
    occupancy = Occupancy(ctx, units)
    alloc: Allocation = {}
    for ui, where in (fixed or {}).items():
        unit = units.units[ui]
        for sid, copies in where.items():
            for _ in range(copies):
                occupancy.place(unit, sid)
            alloc.setdefault(ui, {})[sid] = copies
    order = sorted(units.units, key=lambda u: (-u.priority, -u.persons, u.arrival_ids[0]))
    for unit in order:
        rep = unit.members[0]
        nearest = sorted(
            unit.shelters,
            key=lambda sid: (ctx.distance_km(rep, ctx.shelters[sid]), unit.cost[sid], sid),
        )
        placed = sum(alloc.get(unit.index, {}).values())
        for sid in nearest:
            while placed < unit.count and occupancy.fits(unit, sid):
                occupancy.place(unit, sid)
                where = alloc.setdefault(unit.index, {})
                where[sid] = where.get(sid, 0) + 1
                placed += 1
            if placed == unit.count:
                break
    return alloc
