"""A placement heuristic that looks at competition: scarce places go to who needs them.

The telephone baseline (:mod:`solver.greedy`) sends everyone to the nearest shelter with
room, and so fills versatile places with people who had other options. Here units are taken
by priority, then fewest admissible shelters first (the hardest to place), and each goes to
the admissible shelter with room under the least pressure: the place-nights all units could
ask of it, each unit's demand spread over its options, per place-night offered. Cost breaks
ties. It is the seed of the exact path and the plan for levels no proof reaches.
"""

from __future__ import annotations

import numpy as np

from placement.rules import Context
from solver.allocation import Allocation, Occupancy
from solver.units import Units


def shelter_pressure(ctx: Context, units: Units) -> np.ndarray:
    """Place-nights requested of each shelter (spread over each unit's options) per
    place-night it offers."""
    n = len(ctx.scenario.shelters)
    demand = np.zeros(n)
    for unit in units.units:
        options = len(unit.shelter_index)
        if options:
            asked = unit.count * sum(unit.usage.values()) / options
            demand[unit.shelter_index] += asked
    offered = ctx.places_matrix().sum(axis=1)
    pressure: np.ndarray = demand / np.maximum(offered, 1)
    return pressure


def packing_allocation(
    ctx: Context,
    units: Units,
    fixed: Allocation | None = None,
    candidates: dict[int, np.ndarray] | None = None,
) -> Allocation:
    """Place units hardest first, each in the least pressed shelter with room."""
    occupancy = Occupancy(ctx, units)
    alloc: Allocation = {}
    for ui, where in (fixed or {}).items():
        for sid, copies in where.items():
            occupancy.place(units.units[ui], ctx.index(sid), copies)
            alloc.setdefault(ui, {})[sid] = copies
    pressure = shelter_pressure(ctx, units)
    ids = [s.id for s in ctx.scenario.shelters]
    order = sorted(
        units.units,
        key=lambda u: (-u.priority, len(u.shelter_index), -u.persons, u.arrival_ids[0]),
    )
    for unit in order:
        placed = sum(alloc.get(unit.index, {}).values())
        index, costs = unit.shelter_index, unit.costs
        if candidates is not None:
            keep = np.isin(index, candidates[unit.index])
            index, costs = index[keep], costs[keep]
        if placed == unit.count or not len(index):
            continue
        ranked = index[np.lexsort((costs, pressure[index]))]
        for si in ranked[occupancy.room(unit, ranked)].tolist():
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


def first_plan(ctx: Context, units: Units) -> Allocation:
    """The plan shown first, and the incumbent the exact path starts from."""
    return packing_allocation(ctx, units)
